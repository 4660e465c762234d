/**
 * watch: one JSON line per change of a bucket, resuming from the last
 * revision after a disconnect (the client does that; we only say so on
 * stderr). Ends on Ctrl-C, or after --count events.
 */
import { type Command, intOption } from '../command';
import { oneLine } from '../json-text';

export const watch: Command = {
  name: 'watch',
  args: 'BUCKET',
  summary: 'print one JSON line per change, resuming after disconnects',
  options: { prefix: { type: 'string', short: 'p' }, from: { type: 'string' }, count: { type: 'string', short: 'c' } },
  help: {
    prefix: 'only keys starting with P',
    from: 'start at revision REV (default: changes from now on)',
    count: 'exit after N events',
  },
  minArgs: 1,
  maxArgs: 1,
  async run({ client, output, positionals, values }) {
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const limit = intOption(values, 'count', 1);
    const from = intOption(values, 'from', 1);
    let n = 0;
    try {
      const events = client().watch(positionals[0] as string, {
        prefix: values.prefix as string | undefined,
        fromRevision: from,
        signal: controller.signal,
        onReconnect: (err, next) =>
          output.err(`lucien: watch interrupted (${(err as Error).message}); resuming from revision ${next}`),
      });
      for await (const e of events) {
        const value = e.type === 'DELETE' ? 'null' : oneLine(e.text);
        output.out(
          `{"type":"${e.type}","bucket":${JSON.stringify(e.bucket)},"key":${JSON.stringify(e.key)},"value":${value},"revision":${e.revision}}`,
        );
        if (limit !== undefined && ++n >= limit) break;
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
