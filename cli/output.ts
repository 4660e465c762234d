/**
 * How the CLI prints: values as JSON (pretty on a TTY, one line otherwise,
 * with numbers copied verbatim from the server's text), listings as tables on
 * a TTY and JSON lines otherwise. Everything goes through an Output, so tests
 * and commands never touch process.stdout directly.
 */
import { formatJson, oneLine } from './json-text';

export interface Output {
  /** stdout is a terminal (and --json was not given). */
  readonly pretty: boolean;
  /** stderr is a terminal (progress bars). */
  readonly stderrTty: boolean;
  out(text: string): void;
  err(text: string): void;
}

export function processOutput(forceJson: boolean): Output {
  return {
    pretty: !forceJson && process.stdout.isTTY === true,
    stderrTty: process.stderr.isTTY === true,
    out: (text) => void process.stdout.write(text + '\n'),
    err: (text) => void process.stderr.write(text + '\n'),
  };
}

/** A JSON text as the output wants it. */
export function json(output: Output, text: string): string {
  return output.pretty ? formatJson(text, 2) : oneLine(text);
}

/** Prints a JS value (built by the CLI itself, so no precision is at stake). */
export function printValue(output: Output, value: unknown): void {
  output.out(json(output, JSON.stringify(value)));
}

export interface Column<R> {
  readonly title: string;
  readonly cell: (row: R) => string;
  /** Cut to the terminal's width (the last column usually). */
  readonly flexible?: boolean;
}

/**
 * Rows as a table (TTY) or as JSON lines built by `line` (otherwise). Rows
 * arrive as an iterable so long listings stream in JSON mode; a table needs
 * the widths, so it is printed in blocks of `block` rows.
 */
export async function printRows<R>(
  output: Output,
  rows: AsyncIterable<R> | Iterable<R>,
  columns: readonly Column<R>[],
  line: (row: R) => string,
  block = 1000,
): Promise<number> {
  let n = 0;
  if (!output.pretty) {
    for await (const row of rows) {
      output.out(line(row));
      n++;
    }
    return n;
  }
  let pending: string[][] = [];
  let header = true;
  const flush = () => {
    if (pending.length === 0 && !header) return;
    const cells = header ? [columns.map((c) => c.title), ...pending] : pending;
    const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] as string).length)));
    const total = process.stdout.columns || 120;
    for (const row of cells) {
      let text = row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] as number))).join('  ');
      if (columns[columns.length - 1]?.flexible === true && text.length > total)
        text = text.slice(0, Math.max(total - 1, 20)) + '…';
      output.out(text);
    }
    header = false;
    pending = [];
  };
  for await (const row of rows) {
    pending.push(columns.map((c) => c.cell(row).replace(/\s+/g, ' ')));
    n++;
    if (pending.length >= block) flush();
  }
  if (n > 0) flush();
  return n;
}
