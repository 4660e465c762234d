/**
 * The hand-written response encoders (src/server/wire-encoders.ts): for many
 * messages, their bytes decode with protobufjs (the proto-loader definition
 * the clients use) to the message protobufjs itself would have sent, and a
 * message outside their shapes falls back to protobufjs unchanged.
 */
import fc from 'fast-check';
import { lucienService } from '../../src/server/proto';
import { withWireEncoders } from '../../src/server/wire-encoders';

const fast = withWireEncoders(lucienService);

/** What the client sees: the message decoded as the clients decode it. */
function roundTrip(method: 'Get' | 'Put' | 'List' | 'BatchGet', message: unknown): { hand: unknown; lib: unknown } {
  const def = lucienService[method];
  const hand = def.responseDeserialize(fast[method]?.responseSerialize(message) as Buffer);
  const lib = def.responseDeserialize(def.responseSerialize(message as never));
  return { hand, lib };
}

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', 'é', '😀', '\u0000', '{"a":"ü"}', 'x'.repeat(300)),
);
const revision = fc.oneof(
  fc.constantFrom(0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1),
  fc.nat(),
  fc.maxSafeNat(),
);
const item = fc.record({ key: text, value: text, create_revision: revision, mod_revision: revision });

describe('hand-written response encoders', () => {
  it('GetResponse decodes to what protobufjs sends, for any value and revisions', () => {
    fc.assert(
      fc.property(fc.record({ value: text, create_revision: revision, mod_revision: revision }), (m) => {
        const { hand, lib } = roundTrip('Get', m);
        expect(hand).toEqual(lib);
        expect(hand).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it('PutResponse decodes to what protobufjs sends, big revisions included', () => {
    fc.assert(
      fc.property(revision, (r) => {
        const { hand, lib } = roundTrip('Put', { revision: r });
        expect(hand).toEqual(lib);
        expect(hand).toEqual({ revision: r });
      }),
      { numRuns: 500 },
    );
  });

  it('ListResponse decodes to what protobufjs sends: empty, unicode, page tokens, many items', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 40 }), text, (items, token) => {
        const m = { items, next_page_token: token };
        const { hand, lib } = roundTrip('List', m);
        expect(hand).toEqual(lib);
        expect(hand).toEqual(m);
      }),
      { numRuns: 300 },
    );
  });

  it('a ListResponse of frozen items (a cached range) encodes once per token and decodes as protobufjs sends', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 20 }), text, text, (raw, token, other) => {
        const items = Object.freeze(raw.map((i) => Object.freeze({ ...i })));
        const serialize = fast.List?.responseSerialize as (m: unknown) => Buffer;
        const first = serialize({ items, next_page_token: token });
        expect(serialize({ items, next_page_token: token })).toBe(first);
        for (const t of [token, other, token]) {
          const { hand, lib } = roundTrip('List', { items, next_page_token: t });
          expect(hand).toEqual(lib);
          expect(hand).toEqual({ items: raw, next_page_token: t });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('BatchGetResponse decodes to what protobufjs sends, found and missing entries', () => {
    const entry = fc.record({
      bucket: text,
      key: text,
      found: fc.boolean(),
      value: text,
      mod_revision: revision,
      create_revision: revision,
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 30 }), revision, (entries, r) => {
        const m = { entries, revision: r };
        const { hand, lib } = roundTrip('BatchGet', m);
        expect(hand).toEqual(lib);
        expect(hand).toEqual(m);
      }),
      { numRuns: 300 },
    );
  });

  it('a huge value (4 MiB, multi-byte) and a 1000-item page encode exactly', () => {
    const huge = 'ü😀x'.repeat(600_000);
    expect(roundTrip('Get', { value: huge, create_revision: 1, mod_revision: 2 ** 40 }).hand).toEqual({
      value: huge,
      create_revision: 1,
      mod_revision: 2 ** 40,
    });
    const items = Array.from({ length: 1000 }, (_, i) => ({
      key: `k${i}`,
      value: JSON.stringify({ i, s: 'é'.repeat(i % 7) }),
      create_revision: i + 1,
      mod_revision: i * 1000,
    }));
    const { hand, lib } = roundTrip('List', { items, next_page_token: 'dG9rZW4' });
    expect(hand).toEqual(lib);
    expect((hand as { items: unknown[] }).items).toHaveLength(1000);
  });

  it('messages outside the handled shapes go to protobufjs, which sends what it always did', () => {
    const odd: [method: 'Get' | 'Put' | 'List' | 'BatchGet', message: unknown][] = [
      ['Put', { revision: -5 }],
      ['Put', { revision: 2 ** 60 }],
      ['Put', { revision: '42' }],
      ['Get', { value: 'v', create_revision: 1.5, mod_revision: 2 }],
      ['List', { items: [{ key: 'a', value: 'b', create_revision: '7', mod_revision: 8 }], next_page_token: '' }],
      ['BatchGet', { entries: [{ bucket: 'b', key: 'k', found: 1, value: '', mod_revision: 0, create_revision: 0 }] }],
    ];
    for (const [method, message] of odd) {
      const bytes = fast[method]?.responseSerialize(message) as Buffer;
      expect(bytes.equals(lucienService[method].responseSerialize(message as never))).toBe(true);
    }
  });
});
