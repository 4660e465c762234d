/**
 * The lockdown of the script realm, run INSIDE the vm context once per host
 * process, before any script: removes what has no place in a script,
 * deep-freezes every intrinsic, pins every global binding and hides host
 * frames from stack traces. engine.ts compiles `lockdownRealm` from its
 * source text, so it must never reference anything outside its own body,
 * and nothing it leaves behind may be writable by a script.
 */

/** What the lockdown leaves to realm-api.ts (sandbox-realm objects, never handed to scripts). */
export interface Lockdown {
  /** Per error, the first line of a script frame (1-based), recorded by the realm's stack formatter. */
  readonly lines: WeakMap<object, number>;
  /** Seeds Math.random afresh (four 32-bit words); called at the start of every run. */
  readonly reseed: (a: number, b: number, c: number, d: number) => void;
}

/** Locks the current realm down. */
export function lockdownRealm(scriptPrefix: string): Lockdown {
  'use strict';
  const G = globalThis as unknown as Record<PropertyKey, unknown>;
  const { freeze, getPrototypeOf, getOwnPropertyDescriptor, defineProperty, create } = Object;
  const ownKeys = Reflect.ownKeys;
  const errorToString = Error.prototype.toString;
  const STACK_LIMIT = 20;

  // 1. Remove what a script has no use for and what escapes the heap limit
  //    or the run: binary buffers live outside V8's heap (a memory bomb that
  //    --max-old-space-size cannot stop), Atomics.wait blocks, wasm compiles
  //    code, finalizers run after the run, V8's console talks to the inspector.
  for (const name of [
    'console',
    'WebAssembly',
    'SharedArrayBuffer',
    'Atomics',
    'FinalizationRegistry',
    'ArrayBuffer',
    'DataView',
    'Int8Array',
    'Uint8Array',
    'Uint8ClampedArray',
    'Int16Array',
    'Uint16Array',
    'Int32Array',
    'Uint32Array',
    'Float32Array',
    'Float64Array',
    'BigInt64Array',
    'BigUint64Array',
  ]) {
    delete G[name];
  }
  // RegExp.$1, lastMatch, … are realm-wide state: they would show one run's matches to the next.
  for (const key of ownKeys(RegExp)) {
    if (
      typeof key === 'string' &&
      (key.startsWith('$') || ['input', 'lastMatch', 'lastParen', 'leftContext', 'rightContext'].includes(key))
    ) {
      delete (RegExp as unknown as Record<string, unknown>)[key];
    }
  }

  // Math.random is realm-wide state: V8's generator cannot be reseeded, so
  // one run's numbers would predict the next run's. It becomes xoshiro128**
  // over state only this closure holds, seeded by the host before each run.
  let s0 = 1,
    s1 = 2,
    s2 = 3,
    s3 = 4;
  const next32 = (): number => {
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  };
  const reseed = (a: number, b: number, c: number, d: number): void => {
    s0 = a | 0;
    s1 = b | 0;
    s2 = c | 0;
    s3 = d | 0;
    if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point
  };
  const random = {
    random(): number {
      return ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
    },
  }.random;
  (Math as unknown as { random: () => number }).random = random;

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
      if (
        typeof line === 'number' &&
        ((typeof error === 'object' && error !== null) || typeof error === 'function') &&
        !lines.has(error)
      ) {
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
      get: function () {
        return value;
      },
      set: function (this: unknown, next: unknown) {
        if (this === proto) throw new TypeError(`Cannot assign to read only property '${key}' of a shared prototype`);
        defineProperty(this, key, { value: next, writable: true, enumerable: true, configurable: true });
      },
      enumerable: desc.enumerable === true,
      configurable: false,
    });
  };
  for (const key of [
    'constructor',
    'toString',
    'toLocaleString',
    'valueOf',
    'hasOwnProperty',
    'isPrototypeOf',
    'propertyIsEnumerable',
  ]) {
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
    function* () {
      /* generator */
    },
    async function () {
      /* async */
    },
    async function* () {
      /* async generator */
    },
    [][Symbol.iterator](),
    ''[Symbol.iterator](),
    new Map()[Symbol.iterator](),
    new Set()[Symbol.iterator](),
    /x/[Symbol.matchAll](''),
    (function () {
      // eslint-disable-next-line prefer-rest-params -- the arguments object is the sample
      return arguments;
    })(),
    new Intl.Segmenter().segment(''),
    new Intl.Segmenter().segment('')[Symbol.iterator](),
  ];
  for (const key of ownKeys(G)) {
    const desc = getOwnPropertyDescriptor(G, key);
    if (desc !== undefined) {
      visit(desc.value);
      visit(desc.get);
      visit(desc.set);
    }
  }
  for (const sample of samples) visit(sample);
  while (todo.length > 0) {
    const value = todo.pop() as object;
    freeze(value);
    visit(getPrototypeOf(value));
    for (const key of ownKeys(value)) {
      const desc = getOwnPropertyDescriptor(value, key);
      if (desc !== undefined) {
        visit(desc.value);
        visit(desc.get);
        visit(desc.set);
      }
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
    defineProperty(G, key, {
      value: key === 'globalThis' ? view : desc.value,
      writable: false,
      enumerable: desc.enumerable === true,
      configurable: false,
    });
  }

  return freeze({ lines, reseed });
}
