/**
 * An in-memory stand-in for the server's bucket bridge, for engine-host
 * tests in both languages: buckets as a Map of "bucket/key" to JSON text,
 * every call and write recorded, reserved buckets refused, call shapes checked
 * by the server's parseCall. It checks nothing else; the real bridge (src/procedures/run-transaction.ts) has its own tests.
 */
import type { BridgeCall, BridgeReply } from '../../engines/protocol';
import { formatRead } from '../../engines/host/read-answer';
import { parseCall } from '../../src/procedures/bridge-call';

/** Buckets as a Map of "bucket/key" to JSON text; writes and calls are recorded. */
export class FakeBridge {
  readonly data = new Map<string, string>();
  readonly calls: BridgeCall[] = [];
  readonly writes: { bucket: string; key: string; value: string | null }[] = [];

  constructor(seed: Record<string, Record<string, unknown>> = {}) {
    for (const [bucket, entries] of Object.entries(seed)) {
      for (const [key, value] of Object.entries(entries)) this.data.set(`${bucket}/${key}`, JSON.stringify(value));
    }
  }

  /** Stores raw JSON text (for values JS numbers cannot hold exactly). */
  setRaw(bucket: string, key: string, json: string): void {
    this.data.set(`${bucket}/${key}`, json);
  }

  readonly onCall = async (request: string): Promise<BridgeReply> => {
    let call: BridgeCall;
    try {
      call = parseCall(request); // the server's own shape check
    } catch (err) {
      return { error: (err as Error).message };
    }
    this.calls.push(call);
    // Reserved like the real bridge: `_` buckets, and `forbidden` for tests that want a plain name refused.
    if (call.bucket.startsWith('_') || call.bucket === 'forbidden')
      return { error: `bucket ${call.bucket} is reserved` };
    const at = (key: string): string => this.data.get(`${call.bucket}/${key}`) ?? 'null';
    switch (call.op) {
      case 'get':
        return { value: at(call.key) };
      case 'getMany':
        return { value: `[${call.keys.map(at).join(',')}]` };
      case 'read':
        // A host's cache miss: revision 1 for a present key, 0 for an absent one.
        return {
          value: formatRead(call.keys.map((k) => [this.data.has(`${call.bucket}/${k}`) ? 1 : 0, at(k)] as const)),
        };
      case 'put':
        this.data.set(`${call.bucket}/${call.key}`, call.value);
        this.writes.push({ bucket: call.bucket, key: call.key, value: call.value });
        return { value: 'null' };
      case 'delete':
        this.data.delete(`${call.bucket}/${call.key}`);
        this.writes.push({ bucket: call.bucket, key: call.key, value: null });
        return { value: 'null' };
      case 'list': {
        const head = `${call.bucket}/`;
        const keys = [...this.data.keys()]
          .filter((k) => k.startsWith(head + call.prefix))
          .map((k) => k.slice(head.length))
          .filter((k) => call.startAfter === null || k > call.startAfter)
          .sort()
          .slice(0, call.limit);
        return { value: `[${keys.map((k) => `[${JSON.stringify(k)},${at(k)}]`).join(',')}]` };
      }
    }
  };
}
