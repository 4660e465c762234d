/**
 * Key-value commands: get, put, del, ls, buckets, count. Values are printed
 * from the server's exact text (numbers never pass through a double).
 */
import type { KeyValue } from '../../clients/typescript';
import { type Command, intOption, UsageError } from '../command';
import { json, printRows, printValue } from '../output';

const at = (list: readonly string[], i: number): string => list[i] as string;

export const get: Command = {
  name: 'get',
  args: 'BUCKET KEY',
  summary: 'print the value of a key as JSON',
  details: ['Exits 1 with NOT_FOUND when the key does not exist.'],
  options: { revisions: { type: 'boolean', short: 'r' } },
  help: { revisions: 'print {"value", "create_revision", "mod_revision"} instead of the value' },
  minArgs: 2,
  maxArgs: 2,
  async run({ client, output, positionals, values }) {
    const entry = await client().getEntry(at(positionals, 0), at(positionals, 1));
    if (entry === undefined) {
      output.err(
        `lucien: NOT_FOUND: key ${JSON.stringify(at(positionals, 1))} not found in bucket "${at(positionals, 0)}"`,
      );
      return 1;
    }
    const text =
      values.revisions === true
        ? `{"value":${entry.text},"create_revision":${entry.createRevision},"mod_revision":${entry.modRevision}}`
        : entry.text;
    output.out(json(output, text));
  },
};

export const put: Command = {
  name: 'put',
  args: 'BUCKET KEY JSON|-',
  summary: 'write a JSON object (- reads it from stdin); prints the revision',
  options: { 'if-revision': { type: 'string' } },
  help: { 'if-revision': "write only if the key's mod_revision is N (0: only if absent)" },
  minArgs: 3,
  maxArgs: 3,
  async run({ client, output, positionals, values, stdin }) {
    const raw = at(positionals, 2) === '-' ? (await stdin()).trim() : at(positionals, 2);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      throw new UsageError(`the value is not JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new UsageError('the value must be a JSON object, e.g. \'{"title": "Hello"}\'');
    // The text goes as typed, so its numbers stay exact.
    const revision = await client().put(at(positionals, 0), at(positionals, 1), raw, {
      ifRevision: intOption(values, 'if-revision'),
    });
    printValue(output, { revision });
  },
};

export const del: Command = {
  name: 'del',
  args: 'BUCKET KEY',
  summary: 'delete a key (a missing key is not an error); prints {"revision", "deleted"}',
  options: { 'if-revision': { type: 'string' } },
  help: { 'if-revision': "delete only if the key's mod_revision is N" },
  minArgs: 2,
  maxArgs: 2,
  async run({ client, output, positionals, values }) {
    printValue(
      output,
      await client().delete(at(positionals, 0), at(positionals, 1), { ifRevision: intOption(values, 'if-revision') }),
    );
  },
};

export const ls: Command = {
  name: 'ls',
  args: 'BUCKET',
  summary: 'list keys in order: a table on a terminal, JSON lines otherwise',
  options: {
    prefix: { type: 'string', short: 'p' },
    limit: { type: 'string', short: 'n' },
    'start-after': { type: 'string' },
    'keys-only': { type: 'boolean', short: 'k' },
  },
  help: {
    prefix: 'only keys starting with P',
    limit: 'at most N keys (default: all)',
    'start-after': 'only keys after K',
    'keys-only': 'leave the values out',
  },
  minArgs: 1,
  maxArgs: 1,
  async run({ client, output, positionals, values }) {
    const bucket = at(positionals, 0);
    const limit = intOption(values, 'limit', 1);
    const keysOnly = values['keys-only'] === true;
    async function* rows(): AsyncGenerator<KeyValue> {
      let n = 0;
      for await (const kv of client().scan(bucket, {
        prefix: values.prefix as string | undefined,
        startAfter: values['start-after'] as string | undefined,
        keysOnly,
        limit: limit === undefined ? 1000 : Math.min(limit, 1000),
      })) {
        if (limit !== undefined && n++ >= limit) return;
        yield kv;
      }
    }
    const columns = [
      { title: 'KEY', cell: (kv: KeyValue) => kv.key },
      { title: 'REVISION', cell: (kv: KeyValue) => String(kv.modRevision) },
      ...(keysOnly ? [] : [{ title: 'VALUE', cell: (kv: KeyValue) => kv.text, flexible: true }]),
    ];
    const line = (kv: KeyValue) =>
      keysOnly
        ? `{"key":${JSON.stringify(kv.key)},"revision":${kv.modRevision}}`
        : `{"key":${JSON.stringify(kv.key)},"value":${json({ ...output, pretty: false }, kv.text)},"revision":${kv.modRevision}}`;
    const n = await printRows(output, rows(), columns, line);
    if (output.pretty) output.err(`(${n} key${n === 1 ? '' : 's'})`);
  },
};

export const buckets: Command = {
  name: 'buckets',
  args: '',
  summary: 'list the buckets that hold keys',
  options: { all: { type: 'boolean', short: 'a' } },
  help: { all: 'include the reserved _ buckets (_scripts)' },
  minArgs: 0,
  maxArgs: 0,
  async run({ client, output, values }) {
    const names = (await client().buckets()).filter((b) => values.all === true || !b.startsWith('_'));
    await printRows(output, names, [{ title: 'BUCKET', cell: (b: string) => b }], (b) => JSON.stringify({ bucket: b }));
  },
};

export const count: Command = {
  name: 'count',
  args: 'BUCKET',
  summary: 'print the number of keys in a bucket',
  options: { prefix: { type: 'string', short: 'p' } },
  help: { prefix: 'count only keys starting with P' },
  minArgs: 1,
  maxArgs: 1,
  async run({ client, output, positionals, values }) {
    output.out(String(await client().count(at(positionals, 0), { prefix: values.prefix as string | undefined })));
  },
};
