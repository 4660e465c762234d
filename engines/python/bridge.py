"""The Python end of the bridge (python-engine.ts runs this file in the
sandbox's own namespace, after sandbox.py, so it shares its private
builtins). `_lucien_bridge(bridge, inbox_bytes, scan, loads)`, given the
sandbox's private decoder, returns the generator that
holds the bridge's JsProxy, whose send() is all scripts get of it, and what
the sandbox needs around a run: report() (prefetched requests the script
took), unpack() (a run's prefetched answers), received() (a string the host
handed over through the inbox) and the inbox itself.

A prefetched answer is handed over as its value, parsed here: a fresh
object that nothing else holds. When a run has many, they are parsed all at
once as it starts (one scan of them as one JSON array: a scan call costs
about 0.5 us here besides its text), and the first request for each takes
that value; any other request parses its answer's text afresh, so no two
reads ever share an object.

Must never let a script reach the JsProxy, the prefetched answers or the
inbox: all of them live only in this function's closures and the
generator's frame, which the audit hook keeps out of reach.
"""


def _lucien_bridge(bridge, INBOX_BYTES, scan, loads):
    # scan and loads: the sandbox's private decoder (sandbox.py), the C
    # scanner and json.loads without its regex passes.
    # Fewer answers than this are parsed when taken: one scan of all saves
    # less than building the array costs.
    BULK_MIN = 8
    # This run's prefetched answers (engines/python/prefetch.ts): request text
    # -> its index in `answers` (the JSON text of each value) and `values`
    # (each value parsed, until the script takes it: then USED); and the
    # indices the script took, not yet reported. Only bridge_loop and
    # run_script touch them; all are emptied at the end of every run.
    prefetched = {}
    answers = []
    values = []
    taken = []
    USED = object()
    # The inbox (engines/python/inbox.ts): the host writes a longer string
    # here as UTF-8 and hands over its byte count instead.
    inbox = bytearray(INBOX_BYTES)
    inbox_view = memoryview(inbox)

    def received(text):
        if type(text) is int:
            return str(inbox_view[:text], 'utf-8')
        return text

    def report():
        """The prefetched requests the script took since the last report, for
        the host to record as reads (in order, before anything that follows),
        each as the character whose code is its index (prefetch.ts keeps them
        below 128); the rest of the prefetch goes: a call that crosses may
        write."""
        text = ''.join(map(chr, taken))
        taken.clear()
        prefetched.clear()
        answers.clear()
        values.clear()
        return text

    def bridge_loop():
        """Strings in, strings out. Holds the JsProxy in its frame, catches
        everything (a JavaScript error would carry host objects), and cannot
        be closed or thrown into for good: it answers and waits again. A
        request the host prefetched is answered here, without crossing; any
        other call first reports what was taken, then crosses. A prefetched
        answer is the value itself; one that fails to parse is handed over as
        text, for the script's own call to parse and fail on."""
        answer = ''
        while True:
            try:
                text = yield answer
            except BaseException:
                answer = 'ebridge: not a call'
                continue
            if type(text) is not str:
                answer = 'ebridge: expected JSON text'
                continue
            if prefetched:
                at = prefetched.get(text)
                if at is not None:
                    taken.append(at)
                    answer = values[at] if values else USED
                    if answer is not USED:
                        values[at] = USED
                        continue
                    try:
                        answer = loads(answers[at])
                    except BaseException:
                        answer = 'v' + answers[at]
                    continue
            try:
                answer = received(bridge(text, report()))
            except BaseException:
                answer = 'ebucket bridge failed'
            if type(answer) is not str:
                answer = 'ebucket bridge failed'
    pump = bridge_loop()
    next(pump)

    def unpack(text):
        """Fills `prefetched` from the host's framing: request, value's JSON
        text, request, value's JSON text... separated by NUL (which neither
        holds), and parses the values when there are many. If any of them
        fails to parse (a number too long for int(), say), none is parsed
        here: each request then parses its own text, and fails as a read
        would."""
        parts = text.split('\0')
        if len(parts) % 2 != 0:
            return
        answers.extend(parts[1::2])
        prefetched.update(zip(parts[0::2], range(len(answers))))
        if len(answers) < BULK_MIN:
            return
        bulk = '[' + ','.join(answers) + ']'
        try:
            parsed, end = scan(bulk, 0)
        except Exception:
            return
        if end == len(bulk) and len(parsed) == len(answers):
            values.extend(parsed)

    return pump, report, unpack, received, inbox
