/**
 * A progress line on stderr for long commands (export, import): drawn only
 * when stderr is a terminal, redrawn at most every 100 ms, erased at the end
 * so the summary line stands alone. Never writes to stdout.
 */
import type { Output } from './output';

export class Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly started = Date.now();
  private drawn = false;

  constructor(
    private readonly output: Output,
    private readonly label: string,
    /** Total for a percentage (e.g. bytes of the input file); undefined: counts only. */
    private readonly total?: () => number | undefined,
  ) {}

  /** `count` items done so far; `position` toward total (defaults to count). */
  update(count: number, position?: number): void {
    this.done = count;
    if (!this.output.stderrTty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const rate = Math.round(count / Math.max((now - this.started) / 1000, 0.001));
    const total = this.total?.();
    let bar = '';
    if (total !== undefined && total > 0) {
      const fraction = Math.min(1, (position ?? count) / total);
      const width = 30;
      const filled = Math.round(fraction * width);
      bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% `;
    }
    process.stderr.write(
      `\r${bar}${this.label} ${count.toLocaleString('en-US')} (${rate.toLocaleString('en-US')}/s)\x1b[K`,
    );
    this.drawn = true;
  }

  /** Erases the line; returns seconds elapsed. */
  finish(): number {
    if (this.drawn) process.stderr.write('\r\x1b[K');
    return (Date.now() - this.started) / 1000;
  }

  get count(): number {
    return this.done;
  }
}

export function rate(count: number, seconds: number): string {
  return Math.round(count / Math.max(seconds, 0.001)).toLocaleString('en-US');
}

/** "1 key", "20,000 keys". */
export function counted(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}
