/**
 * The per-run API of the script realm, built INSIDE the vm context once per
 * host process, after lockdown.ts: the `buckets` and `console` globals, the
 * bridge round trip, and start/finish of a run. engine.ts compiles
 * `sandboxBootstrap` from its source text, so it must never reference
 * anything outside its own body. It must never hand a host object or a host
 * error to a script, and passes only strings to the two host functions.
 */
import type { Lockdown } from './lockdown';

/** Sends one bridge call (JSON text of a BridgeCall); answers 'v' + JSON text, 'e' + message, or 'd' + message (PermissionDenied). */
export type HostCall = (request: string) => string;
/** Appends one log line; false once the run's log budget is spent. */
export type HostLog = (line: string) => boolean;

/** What the host drives a run with. Every method is a sandbox-realm function. */
export interface SandboxApi {
  /** Runs a compiled script with its args (JSON text) and a fresh Math.random seed; never throws. */
  start(script: unknown, args: string, s0: number, s1: number, s2: number, s3: number): void;
  /** Ends the run: 'r' + the result's JSON text, or 'f' + JSON text of {ok:false, type, message, line?}. */
  finish(): string;
  /** An error of the sandbox realm, for throwing into scripts from host callbacks. */
  makeError(type: string, message: string): unknown;
}

/** Stack frames from scripts carry this file-name prefix; all other frames are hidden. */
export const SCRIPT_FILE_PREFIX = 'script:';

/** `lockdown` is lockdownRealm's answer (error lines, the Math.random seed). */
export function sandboxBootstrap(hostCall: HostCall, hostLog: HostLog, lockdown: Lockdown): SandboxApi {
  'use strict';
  const { lines, reseed } = lockdown;
  const { freeze, getPrototypeOf } = Object;
  const ownKeys = Reflect.ownKeys;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const isArray = Array.isArray;
  const isSafeInteger = Number.isSafeInteger;
  const ErrorTypes: Record<string, new (message: string) => Error> = {
    Error,
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    EvalError,
    URIError,
  };
  const MAX_MESSAGE = 4000;

  const makeError = (type: string, message: string): Error => new (ErrorTypes[type] ?? Error)(message);

  /** What a bucket call outside the caller's rights throws (invoker rights): an Error named PermissionDenied. */
  const permissionDenied = (message: string): Error => {
    const err = new Error(message);
    Object.defineProperty(err, 'name', { value: 'PermissionDenied', writable: true, configurable: true });
    return err;
  };

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
    if (reply[0] === 'd') throw permissionDenied(reply.slice(1));
    throw new Error(reply.slice(1));
  };

  const checkKey = (key: unknown): string => {
    if (typeof key !== 'string') throw new TypeError('key must be a string');
    return key;
  };

  const objectJson = (value: unknown): string => {
    if (typeof value !== 'object' || value === null || isArray(value))
      throw new TypeError('value must be a plain object');
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
        if (typeof limit !== 'number' || !isSafeInteger(limit) || limit < 1)
          throw new TypeError('limit must be a positive integer');
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
      case 'string':
        return value;
      case 'number':
        return Object.is(value, -0) ? '-0' : String(value);
      case 'bigint':
        return `${value}n`;
      case 'symbol':
        return value.toString();
      case 'function':
        return `[Function: ${(value as { name?: unknown }).name || '(anonymous)'}]`;
      case 'object': {
        if (value === null) return 'null';
        if (value instanceof Error) return String((value as { stack?: unknown }).stack ?? value);
        try {
          return stringify(value) ?? String(value);
        } catch {
          return '[Unserializable]';
        }
      }
      default:
        return String(value);
    }
  };
  const substitute = (spec: string, value: unknown): string => {
    if (spec === 'j') {
      try {
        return String(stringify(value));
      } catch {
        return '[Unserializable]';
      }
    }
    if (spec === 'd' || spec === 'i' || spec === 'f') {
      if (typeof value === 'bigint') return spec === 'f' ? String(Number(value)) : `${value}n`;
      if (typeof value === 'symbol') return 'NaN';
      return spec === 'd'
        ? show(Number(value))
        : String(spec === 'i' ? parseInt(value as string, 10) : parseFloat(value as string));
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
        if (c === '%' && spec === '%') {
          text += '%';
          p++;
          continue;
        }
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
    return line === undefined
      ? { ok: false, type: clip(type, 200), message: clip(message, MAX_MESSAGE) }
      : { ok: false, type: clip(type, 200), message: clip(message, MAX_MESSAGE), line };
  };

  const failed = (failure: object): string => `f${stringify(failure)}`;

  type RunState = { read: (() => unknown) | undefined; threw: boolean; thrown: unknown; failure?: string };
  let state: RunState | undefined;

  const start = (script: unknown, argsText: string, s0: number, s1: number, s2: number, s3: number): void => {
    reseed(s0, s1, s2, s3);
    const run: RunState = { read: undefined, threw: false, thrown: undefined };
    state = run;
    let args: unknown;
    try {
      args = parse(argsText);
    } catch {
      args = undefined;
    }
    if (!isArray(args) || typeof script !== 'function') {
      run.failure = failed({ ok: false, type: 'TypeError', message: 'args must be a JSON array' });
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
    if (run === undefined) return failed({ ok: false, type: 'HostError', message: 'no run in progress' });
    if (run.failure !== undefined) return run.failure;
    if (run.threw) return failed(describe(run.thrown));
    try {
      const text = stringify(run.read === undefined ? undefined : run.read());
      return `r${text === undefined ? 'null' : text}`;
    } catch (err) {
      return failed(describe(err));
    }
  };

  return freeze({ start, finish, makeError });
}
