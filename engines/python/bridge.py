"""The Python end of the bridge (python-engine.ts runs this file in the
sandbox's own namespace, after sandbox.py, so it shares its private
builtins). `_lucien_bridge(bridge, inbox_bytes)` returns the generator that
holds the bridge's JsProxy, whose send() is all scripts get of it, and what
the sandbox needs around a run: report() (prefetched requests the script
took), unpack() (a run's prefetched answers), received() (a string the host
handed over through the inbox) and the inbox itself.

Must never let a script reach the JsProxy, the prefetched answers or the
inbox: all of them live only in this function's closures and the
generator's frame, which the audit hook keeps out of reach.
"""


def _lucien_bridge(bridge, INBOX_BYTES):
    # This run's prefetched answers (engines/python/prefetch.ts): request text
    # -> the answer the bridge would give; and the requests the script took
    # from it, not yet reported. Only bridge_loop and run_script touch them;
    # both are emptied at the end of every run.
    prefetched = {}
    taken = []
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
        the host to record as reads (in order, before anything that follows);
        the rest of the prefetch goes: a call that crosses may write."""
        text = '\0'.join(taken)
        taken.clear()
        prefetched.clear()
        return text

    def bridge_loop():
        """Strings in, strings out. Holds the JsProxy in its frame, catches
        everything (a JavaScript error would carry host objects), and cannot
        be closed or thrown into for good: it answers and waits again. A
        request the host prefetched is answered here, without crossing; any
        other call first reports what was taken, then crosses."""
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
                hit = prefetched.get(text)
                if hit is not None:
                    taken.append(text)
                    answer = hit
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
        """Fills `prefetched` from the host's framing: request, answer,
        request, answer... separated by NUL (which neither holds)."""
        parts = text.split('\0')
        if len(parts) % 2 == 0:
            prefetched.update(zip(parts[0::2], parts[1::2]))

    return pump, report, unpack, received, inbox
