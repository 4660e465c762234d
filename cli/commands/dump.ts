/**
 * export and import. An export is JSON lines: a header naming the snapshot
 * revision, one record per key ({"bucket","key","value","revision"}, the
 * value's text as stored), one line per script, and a trailer with the
 * counts, all from ONE server snapshot (the Export rpc). Import loads such a
 * file in batches of at most 1,000 keys: it reads each batch's keys first and
 * writes only those that differ, so running it twice changes nothing the
 * second time, and a file cut short is reported (the trailer is missing).
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { LucienClient } from '../../clients/typescript';
import { type Command, intOption, UsageError } from '../command';
import { objectMembers, oneLine } from '../json-text';
import { counted, Progress, rate } from '../progress';

export const EXPORT_FORMAT = 1;
const MAX_BATCH = 1000;

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export const exportCommand: Command = {
  name: 'export',
  args: '',
  summary: 'write every key and script as JSON lines, from one snapshot at one revision',
  details: [
    'Lines: a header {"lucien_export":1,"revision":N,…}, records {"bucket","key","value","revision"}, scripts {"script","engine","source","description","revision"}, a trailer {"end":true,"records":N,"scripts":M}.',
  ],
  options: {
    bucket: { type: 'string', short: 'b', multiple: true },
    output: { type: 'string', short: 'o' },
    'no-scripts': { type: 'boolean' },
  },
  help: {
    bucket: 'export only this bucket (repeatable; default: all)',
    output: 'write to FILE instead of stdout',
    'no-scripts': 'leave the scripts out',
  },
  minArgs: 0,
  maxArgs: 0,
  async run({ client, output, values }) {
    const buckets = (values.bucket as string[] | undefined) ?? [];
    const file = values.output as string | undefined;
    const out: Writable = file === undefined ? process.stdout : createWriteStream(file);
    const progress = new Progress(output, 'exported keys');
    let records = 0;
    let scripts = 0;
    let revision = 0;
    for await (const chunk of client().export({ buckets, excludeScripts: values['no-scripts'] === true })) {
      if (revision === 0) {
        revision = chunk.revision;
        await write(
          out,
          JSON.stringify({
            lucien_export: EXPORT_FORMAT,
            revision,
            buckets: buckets.length > 0 ? buckets : 'all',
            scripts: values['no-scripts'] !== true,
            time: new Date().toISOString(),
          }) + '\n',
        );
      }
      let text = '';
      for (const r of chunk.records)
        text += `{"bucket":${JSON.stringify(r.bucket)},"key":${JSON.stringify(r.key)},"value":${oneLine(r.text)},"revision":${r.modRevision}}\n`;
      for (const s of chunk.scripts)
        text +=
          JSON.stringify({
            script: s.name,
            engine: s.engine,
            source: s.source,
            description: s.description,
            revision: s.revision,
          }) + '\n';
      records += chunk.records.length;
      scripts += chunk.scripts.length;
      if (text !== '') await write(out, text);
      progress.update(records);
    }
    await write(out, JSON.stringify({ end: true, records, scripts }) + '\n');
    if (file !== undefined) {
      out.end();
      await once(out, 'finish');
    }
    const seconds = progress.finish();
    output.err(
      `exported ${counted(records, 'key')} and ${counted(scripts, 'script')} at revision ${revision} in ${seconds.toFixed(2)} s (${rate(records, seconds)} keys/s)`,
    );
  },
};

interface Pending {
  readonly bucket: string;
  readonly key: string;
  readonly value: string;
}

const field = (members: Map<string, string>, name: string, line: number): string => {
  const raw = members.get(name);
  if (raw === undefined) throw new UsageError(`line ${line}: a record needs "${name}"`);
  return raw;
};

export const importCommand: Command = {
  name: 'import',
  args: '[FILE|-]',
  summary: 'load an export (keys and scripts) in batches; writes only what differs, so it can be re-run',
  options: { 'batch-size': { type: 'string' }, 'no-scripts': { type: 'boolean' } },
  help: {
    'batch-size': `keys per batch, at most ${MAX_BATCH} (the server's limit; default ${MAX_BATCH})`,
    'no-scripts': 'skip the scripts in the file',
  },
  minArgs: 0,
  maxArgs: 1,
  async run({ client, output, positionals, values }) {
    const batchSize = intOption(values, 'batch-size', 1, MAX_BATCH) ?? MAX_BATCH;
    const path = positionals[0] ?? '-';
    const input = path === '-' ? process.stdin : createReadStream(path);
    const size = path === '-' ? undefined : statSync(path).size;
    const progress = new Progress(output, 'imported keys', () => size);
    let bytes = 0;
    const stats = { records: 0, written: 0, unchanged: 0, scripts: 0, scriptsWritten: 0 };
    let batch: Pending[] = [];
    let seen = new Set<string>();
    const flush = async () => {
      if (batch.length === 0) return;
      const current = batch;
      batch = [];
      seen = new Set();
      const written = await importBatch(client(), current);
      stats.written += written;
      stats.unchanged += current.length - written;
      progress.update(stats.records, bytes);
    };
    let header = false;
    let trailer: { records: number; scripts: number } | undefined;
    let n = 0;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      n++;
      bytes += Buffer.byteLength(line) + 1;
      if (line.trim() === '') continue;
      if (trailer !== undefined) throw new UsageError(`line ${n}: data after the trailer`);
      let members: Map<string, string>;
      try {
        members = objectMembers(line);
      } catch (err) {
        throw new UsageError(`line ${n}: not a JSON object (${(err as Error).message})`);
      }
      if (!header) {
        const version = members.get('lucien_export');
        if (version === undefined) throw new UsageError(`line 1: not a Lucien export (no {"lucien_export": …} header)`);
        if (version !== String(EXPORT_FORMAT))
          throw new UsageError(
            `line 1: export format ${version} is not supported (this lucien reads ${EXPORT_FORMAT})`,
          );
        header = true;
        continue;
      }
      if (members.has('end')) {
        await flush();
        trailer = JSON.parse(line) as { records: number; scripts: number };
        continue;
      }
      if (members.has('script')) {
        await flush();
        stats.scripts++;
        if (values['no-scripts'] !== true)
          stats.scriptsWritten += await importScript(client(), JSON.parse(line) as Record<string, unknown>, n);
        continue;
      }
      const record = {
        bucket: JSON.parse(field(members, 'bucket', n)) as string,
        key: JSON.parse(field(members, 'key', n)) as string,
        value: field(members, 'value', n),
      };
      const id = `${record.bucket}/${record.key}`;
      if (seen.has(id)) await flush();
      seen.add(id);
      batch.push(record);
      stats.records++;
      if (batch.length >= batchSize) await flush();
    }
    await flush();
    const seconds = progress.finish();
    output.err(
      `imported ${counted(stats.records, 'key')} (${stats.written.toLocaleString('en-US')} written, ${stats.unchanged.toLocaleString('en-US')} unchanged) and ${counted(stats.scripts, 'script')} (${stats.scriptsWritten} written) in ${seconds.toFixed(2)} s (${rate(stats.records, seconds)} keys/s)`,
    );
    if (!header) throw new UsageError('the input is empty: not a Lucien export');
    if (trailer === undefined) {
      output.err(
        'lucien: the export ends without its trailer line: it was cut short; what it held was imported, and importing a complete export again is safe',
      );
      return 1;
    }
    if (trailer.records !== stats.records || trailer.scripts !== stats.scripts) {
      output.err(
        `lucien: the trailer counts ${trailer.records} keys and ${trailer.scripts} scripts, but the file held ${stats.records} and ${stats.scripts}`,
      );
      return 1;
    }
  },
};

/** Writes the records whose stored text differs (one BatchGet, one Batch); returns how many were written. */
async function importBatch(client: LucienClient, records: readonly Pending[]): Promise<number> {
  const { entries } = await client.batchGet(records);
  const changed = records.filter((r, i) => entries[i]?.text !== r.value);
  if (changed.length > 0)
    await client.batch(changed.map((r) => ({ type: 'put' as const, bucket: r.bucket, key: r.key, value: r.value })));
  return changed.length;
}

async function importScript(client: LucienClient, s: Record<string, unknown>, line: number): Promise<number> {
  const { script: name, engine, source, description } = s;
  if (typeof name !== 'string' || typeof engine !== 'string' || typeof source !== 'string')
    throw new UsageError(`line ${line}: a script needs "script", "engine" and "source" strings`);
  const desc = typeof description === 'string' ? description : '';
  const existing = await client.getScript(name);
  if (
    existing !== undefined &&
    existing.engine === engine &&
    existing.source === source &&
    existing.description === desc
  )
    return 0;
  await client.putScript(name, source, { engine, description: desc });
  return 1;
}
