/**
 * The code that runs INSIDE the script realm. `sandboxBootstrap` is not
 * called from here: engine.ts compiles its source text into the one vm
 * context of the host process, once, where it locks the realm down (removes
 * what has no place in a script, deep-freezes every intrinsic, pins every
 * global binding) and returns the small API the host drives each run with.
 *
 * It must never reference anything outside its own body (only its text is
 * used), never hand a host object or a host error to a script, and pass only
 * strings and booleans to the two host functions it is given.
 */

/** Sends one bridge call (JSON text of a BridgeCall); answers 'v' + JSON text or 'e' + message. */
export type HostCall = (request: string) => string;
/** Appends one log line; false once the run's log budget is spent. */
export type HostLog = (line: string) => boolean;

/** What the host drives a run with. Every method is a sandbox-realm function. */
export interface SandboxApi {
  /** Runs a compiled script with its args (JSON text); never throws. */
  start(script: unknown, args: string): void;
  /** Ends the run: JSON text of {ok:true, result} or {ok:false, type, message, line?}. */
  finish(): string;
  /** An error of the sandbox realm, for throwing into scripts from host callbacks. */
  makeError(type: string, message: string): unknown;
}

/** Stack frames from scripts carry this file-name prefix; all other frames are hidden. */
export const SCRIPT_FILE_PREFIX = 'script:';

export function sandboxBootstrap(hostCall: HostCall, hostLog: HostLog, scriptPrefix: string): SandboxApi {
  'use strict';
  const G = globalThis as unknown as Record<PropertyKey, unknown>;
  const { freeze, getPrototypeOf, getOwnPropertyDescriptor, defineProperty, create } = Object;
  const ownKeys = Reflect.ownKeys;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const isArray = Array.isArray;
  const isSafeInteger = Number.isSafeInteger;
  const errorToString = Error.prototype.toString;
  const ErrorTypes: Record<string, new (message: string) => Error> = {
    Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
  };
  const STACK_LIMIT = 20;
  const MAX_MESSAGE = 4000;

  // 1. Remove what a script has no use for and what escapes the heap limit
  //    or the run: binary buffers live outside V8's heap (a memory bomb that
  //    --max-old-space-size cannot stop), Atomics.wait blocks, wasm compiles
  //    code, finalizers run after the run, V8's console talks to the inspector.
  for (const name of [
    'console', 'WebAssembly', 'SharedArrayBuffer', 'Atomics', 'FinalizationRegistry', 'ArrayBuffer', 'DataView',
    'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
    'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
  ]) {
    delete G[name];
  }
  // RegExp.$1, lastMatch, … are realm-wide state: they would show one run's matches to the next.
  for (const key of ownKeys(RegExp)) {
    if (typeof key === 'string' && (key.startsWith('$') || ['input', 'lastMatch', 'lastParen', 'leftContext', 'rightContext'].includes(key))) {
      delete (RegExp as unknown as Record<string, unknown>)[key];
    }
  }

  // 2. Stack traces show script frames only (no host paths), and remember the
  //    first script line of each error for the failure report.
  const lines = new WeakMap<object, number>();
  const Err = Error as unknown as Record<string, unknown>;
  Err.stackTraceLimit = STACK_LIMIT;
  Err.prepareStackTrace = function prepareStackTrace(error: unknown, sites: ArrayLike<NodeJS.CallSite>): string {
    let text: string;
    try {
      text = String(errorToString.call(error));
    } catch {
      text = 'Error';
    }
    for (let i = 0; i < sites.length; i++) {
      const site = sites[i] as NodeJS.CallSite;
      const file = site.getFileName();
      if (typeof file !== 'string' || !file.startsWith(scriptPrefix)) continue;
      const line = site.getLineNumber();
      const fn = site.getFunctionName();
      const where = `${file}:${line}:${site.getColumnNumber()}`;
      text += fn ? `\n    at ${fn} (${where})` : `\n    at ${where}`;
      if (typeof line === 'number' && ((typeof error === 'object' && error !== null) || typeof error === 'function') && !lines.has(error)) {
        lines.set(error, line);
      }
    }
    return text;
  };

  // 3. Freezing prototypes breaks `obj.toString = …` and `this.name = …` in
  //    subclasses (the "override mistake"); these accessors keep them working
  //    by defining an own property on the instance instead.
  const tame = (proto: object, key: string): void => {
    const desc = getOwnPropertyDescriptor(proto, key);
    if (desc === undefined || !('value' in desc) || !desc.configurable) return;
    const value: unknown = desc.value;
    defineProperty(proto, key, {
      get: function () { return value; },
      set: function (this: unknown, next: unknown) {
        if (this === proto) throw new TypeError(`Cannot assign to read only property '${key}' of a shared prototype`);
        defineProperty(this, key, { value: next, writable: true, enumerable: true, configurable: true });
      },
      enumerable: desc.enumerable === true,
      configurable: false,
    });
  };
  for (const key of ['constructor', 'toString', 'toLocaleString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable']) {
    tame(Object.prototype, key);
  }
  for (const E of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError]) {
    for (const key of ['constructor', 'name', 'message', 'toString']) tame(E.prototype, key);
  }
  for (const key of ['constructor', 'toString']) {
    tame(Function.prototype, key);
    tame(Array.prototype, key);
  }
  tame(Promise.prototype, 'constructor');

  // 4. Deep-freeze everything reachable from the globals and from the
  //    intrinsics no global names (iterator and generator prototypes, …).
  const seen = new WeakSet<object>([G]); // the global itself cannot be frozen: see step 5
  const todo: object[] = [];
  const visit = (value: unknown): void => {
    if (((typeof value === 'object' && value !== null) || typeof value === 'function') && !seen.has(value as object)) {
      seen.add(value as object);
      todo.push(value as object);
    }
  };
  const samples: unknown[] = [
    function* () { /* generator */ },
    async function () { /* async */ },
    async function* () { /* async generator */ },
    [][Symbol.iterator](),
    ''[Symbol.iterator](),
    new Map()[Symbol.iterator](),
    new Set()[Symbol.iterator](),
    /x/[Symbol.matchAll](''),
    (function () { return arguments; })(),
    new Intl.Segmenter().segment(''),
    new Intl.Segmenter().segment('')[Symbol.iterator](),
  ];
  for (const key of ownKeys(G)) {
    const desc = getOwnPropertyDescriptor(G, key);
    if (desc !== undefined) { visit(desc.value); visit(desc.get); visit(desc.set); }
  }
  for (const sample of samples) visit(sample);
  while (todo.length > 0) {
    const value = todo.pop() as object;
    freeze(value);
    visit(getPrototypeOf(value));
    for (const key of ownKeys(value)) {
      const desc = getOwnPropertyDescriptor(value, key);
      if (desc !== undefined) { visit(desc.value); visit(desc.get); visit(desc.set); }
    }
  }

  // 5. The global object of a Node 20 vm context cannot be frozen or made
  //    non-extensible (its interceptors refuse), so scripts never get it:
  //    `globalThis` becomes a frozen copy of the globals, and every real
  //    global binding becomes read-only and non-configurable.
  const view = create(Object.prototype) as Record<PropertyKey, unknown>;
  for (const key of ownKeys(G)) if (key !== 'globalThis') view[key] = G[key];
  freeze(view);
  for (const key of ownKeys(G)) {
    const desc = getOwnPropertyDescriptor(G, key);
    if (desc === undefined || !('value' in desc)) continue;
    defineProperty(G, key, { value: key === 'globalThis' ? view : desc.value, writable: false, enumerable: desc.enumerable === true, configurable: false });
  }

  // ---- per run -------------------------------------------------------------

  const makeError = (type: string, message: string): Error => new (ErrorTypes[type] ?? Error)(message);

  const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}…` : text);

  const stackGuard = (depth: number): number => (depth > 0 ? stackGuard(depth - 1) + 1 : 0);

  /** One bridge round trip. A host function only throws at the stack's edge. */
  const bridge = (call: object): unknown => {
    stackGuard(64); // leave room for the host's I/O, so an overflow happens here, in this realm
    let reply: string;
    try {
      reply = hostCall(stringify(call));
    } catch {
      throw new RangeError('Maximum call stack size exceeded');
    }
    if (typeof reply !== 'string' || reply.length === 0) throw new Error('bucket bridge failed');
    if (reply[0] === 'v') return parse(reply.slice(1));
    throw new Error(reply.slice(1));
  };

  const checkKey = (key: unknown): string => {
    if (typeof key !== 'string') throw new TypeError('key must be a string');
    return key;
  };

  const objectJson = (value: unknown): string => {
    if (typeof value !== 'object' || value === null || isArray(value)) throw new TypeError('value must be a plain object');
    const proto = getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw new TypeError('value must be a plain object');
    const text = stringify(value);
    if (typeof text !== 'string' || text[0] !== '{') throw new TypeError('value must be a plain object');
    return text;
  };

  const makeBucket = (bucket: string): object =>
    freeze({
      get(key: unknown) {
        return bridge({ op: 'get', bucket, key: checkKey(key) });
      },
      getMany(keys: unknown) {
        if (!isArray(keys)) throw new TypeError('getMany expects an array of keys');
        const list: string[] = [];
        for (let i = 0; i < keys.length; i++) list.push(checkKey(keys[i]));
        return bridge({ op: 'getMany', bucket, keys: list });
      },
      put(key: unknown, value: unknown) {
        const k = checkKey(key);
        bridge({ op: 'put', bucket, key: k, value: objectJson(value) });
      },
      delete(key: unknown) {
        bridge({ op: 'delete', bucket, key: checkKey(key) });
      },
      list(options?: unknown) {
        const o = (options ?? {}) as { prefix?: unknown; limit?: unknown; startAfter?: unknown };
        if (typeof o !== 'object') throw new TypeError('list expects an options object');
        const prefix = o.prefix ?? '';
        const limit = o.limit ?? 100;
        const startAfter = o.startAfter ?? null;
        if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
        if (typeof limit !== 'number' || !isSafeInteger(limit) || limit < 1) throw new TypeError('limit must be a positive integer');
        if (startAfter !== null && typeof startAfter !== 'string') throw new TypeError('startAfter must be a string');
        return bridge({ op: 'list', bucket, prefix, limit, startAfter });
      },
    });

  /** Objects shared by every run are frozen with their methods, so no run can hang state on them. */
  const hardened = <T extends object>(value: T): T => {
    for (const key of ownKeys(value)) freeze((value as Record<PropertyKey, object>)[key]);
    return freeze(value);
  };

  const buckets = hardened({
    getBucket(name: unknown) {
      if (typeof name !== 'string') throw new TypeError('bucket name must be a string');
      return makeBucket(name);
    },
  });

  /** Node-like rendering: strings raw, numbers as numbers, objects as JSON. */
  const show = (value: unknown): string => {
    switch (typeof value) {
      case 'string': return value;
      case 'number': return Object.is(value, -0) ? '-0' : String(value);
      case 'bigint': return `${value}n`;
      case 'symbol': return value.toString();
      case 'function': return `[Function: ${(value as { name?: unknown }).name || '(anonymous)'}]`;
      case 'object': {
        if (value === null) return 'null';
        if (value instanceof Error) return String((value as { stack?: unknown }).stack ?? value);
        try {
          return stringify(value) ?? String(value);
        } catch {
          return '[Unserializable]';
        }
      }
      default: return String(value);
    }
  };
  const substitute = (spec: string, value: unknown): string => {
    if (spec === 'j') { try { return String(stringify(value)); } catch { return '[Unserializable]'; } }
    if (spec === 'd' || spec === 'i' || spec === 'f') {
      if (typeof value === 'bigint') return spec === 'f' ? String(Number(value)) : `${value}n`;
      if (typeof value === 'symbol') return 'NaN';
      return spec === 'd' ? show(Number(value)) : String(spec === 'i' ? parseInt(value as string, 10) : parseFloat(value as string));
    }
    return show(value);
  };
  const format = (items: unknown[]): string => {
    const parts: string[] = [];
    let i = 0;
    const first = items[0];
    if (typeof first === 'string') {
      i = 1;
      let text = '';
      for (let p = 0; p < first.length; p++) {
        const c = first[p] as string;
        const spec = first[p + 1];
        if (c === '%' && spec === '%') { text += '%'; p++; continue; }
        if (c === '%' && spec !== undefined && 'sdifjoOc'.includes(spec) && i < items.length) {
          const value = items[i++];
          if (spec !== 'c') text += substitute(spec, value);
          p++;
          continue;
        }
        text += c;
      }
      parts.push(text);
    }
    for (; i < items.length; i++) parts.push(show(items[i]));
    return parts.join(' ');
  };
  const emit = (...items: unknown[]): void => {
    const line = format(items);
    let accepted: boolean;
    try {
      accepted = hostLog(line);
    } catch {
      throw new RangeError('Maximum call stack size exceeded');
    }
    if (accepted !== true) throw new Error('log limit exceeded');
  };
  const console = hardened({ log: emit, info: emit, warn: emit, error: emit, debug: emit });

  const describe = (thrown: unknown): { ok: false; type: string; message: string; line?: number } => {
    let type = 'Error';
    let message = '';
    let line: number | undefined;
    try {
      if ((typeof thrown === 'object' && thrown !== null) || typeof thrown === 'function') {
        const t = thrown as { name?: unknown; message?: unknown; stack?: unknown };
        if (typeof t.name === 'string' && t.name !== '') type = t.name;
        message = typeof t.message === 'string' ? t.message : String(thrown);
        void t.stack; // formats the stack once, which records the line
        line = lines.get(thrown);
      } else {
        message = String(thrown);
      }
    } catch {
      message = message || 'unprintable exception';
    }
    return line === undefined ? { ok: false, type: clip(type, 200), message: clip(message, MAX_MESSAGE) } : { ok: false, type: clip(type, 200), message: clip(message, MAX_MESSAGE), line };
  };

  type RunState = { read: (() => unknown) | undefined; threw: boolean; thrown: unknown; failure?: string };
  let state: RunState | undefined;

  const start = (script: unknown, argsText: string): void => {
    const run: RunState = { read: undefined, threw: false, thrown: undefined };
    state = run;
    let args: unknown;
    try {
      args = parse(argsText);
    } catch {
      args = undefined;
    }
    if (!isArray(args) || typeof script !== 'function') {
      run.failure = stringify({ ok: false, type: 'TypeError', message: 'args must be a JSON array' });
      return;
    }
    const register = (read: unknown): void => {
      if (typeof read === 'function') run.read = read as () => unknown;
    };
    try {
      (script as (...a: unknown[]) => unknown)(buckets, args, console, register);
    } catch (err) {
      run.threw = true;
      run.thrown = err;
    }
  };

  const finish = (): string => {
    const run = state;
    state = undefined;
    if (run === undefined) return stringify({ ok: false, type: 'HostError', message: 'no run in progress' });
    if (run.failure !== undefined) return run.failure;
    if (run.threw) return stringify(describe(run.thrown));
    try {
      const text = stringify(run.read === undefined ? undefined : run.read());
      return stringify({ ok: true, result: text === undefined ? 'null' : text });
    } catch (err) {
      return stringify(describe(err));
    }
  };

  return freeze({ start, finish, makeError });
}
