/**
 * The bench run drawn as one SVG (written next to its JSON): for each
 * workload, Lucien's p50 at concurrency 1 and its throughput at concurrency
 * 16, beside the peer that does the same job (etcd for key-value rpcs, Redis
 * EVALSHA for the render). Plain SVG text, no dependencies; medians over the
 * repetitions. Must never read files or measure anything itself.
 */
import type { CellResult } from './report';
import { spread } from './stats';

interface Row {
  readonly label: string;
  /** [cell at c=1, cell at c=16] for Lucien and for the peer. */
  readonly lucien: readonly [string, string];
  readonly peer?: { readonly name: 'etcd' | 'Redis'; readonly cells: readonly [string, string] };
}

const ROWS: readonly Row[] = [
  { label: 'Get (1 key)', lucien: ['get@1', 'get@16'], peer: { name: 'etcd', cells: ['etcd-get@1', 'etcd-get@16'] } },
  { label: 'Put', lucien: ['put@1', 'put@16'], peer: { name: 'etcd', cells: ['etcd-put@1', 'etcd-put@16'] } },
  {
    label: 'List (100 keys)',
    lucien: ['list@1', 'list@16'],
    peer: { name: 'etcd', cells: ['etcd-list@1', 'etcd-list@16'] },
  },
  { label: 'Run `result = 1` (JavaScript)', lucien: ['s1-trivial-js', ''] },
  { label: 'Run `result = 1` (Python)', lucien: ['s1-trivial-py', ''] },
  {
    label: 'render_post, 21 reads (JavaScript)',
    lucien: ['s1-render-js', 's16-render-js'],
    peer: { name: 'Redis', cells: ['s1-redis', 's16-redis'] },
  },
  {
    label: 'render_post, 21 reads (Python)',
    lucien: ['s1-render-py', 's16-render-py'],
    peer: { name: 'Redis', cells: ['s1-redis', 's16-redis'] },
  },
];

const COLORS = { Lucien: '#3b6ea5', etcd: '#6a9a3a', Redis: '#c0504d' } as const;
const BAR = 14;
const GAP = 10;
const LABEL_W = 230;
const PANEL_W = 380;
const TOP = 70;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function median(results: ReadonlyMap<string, CellResult>, id: string, metric: 'p50' | 'rps'): number | undefined {
  const cell = results.get(id);
  if (cell === undefined) return undefined;
  const s = spread(cell.samples.map((x) => (metric === 'p50' ? x.p50us : x.rps)));
  return s.n === 0 ? undefined : s.median;
}

/** The SVG text; rows whose cells were not measured are left out. */
export function chartSvg(results: ReadonlyMap<string, CellResult>, title: string): string {
  type Bar = { system: keyof typeof COLORS; p50?: number; rps?: number | null };
  const rows = ROWS.map((row) => {
    const bars: Bar[] = [
      {
        system: 'Lucien',
        p50: median(results, row.lucien[0], 'p50'),
        rps: row.lucien[1] === '' ? null : median(results, row.lucien[1], 'rps'),
      },
    ];
    if (row.peer !== undefined) {
      const p50 = median(results, row.peer.cells[0], 'p50');
      const rps = median(results, row.peer.cells[1], 'rps');
      if (p50 !== undefined || rps !== undefined) bars.push({ system: row.peer.name, p50, rps });
    }
    return { label: row.label, bars };
  }).filter((row) => row.bars.some((b) => b.p50 !== undefined || (b.rps !== undefined && b.rps !== null)));
  const maxP50 = Math.max(1, ...rows.flatMap((r) => r.bars.map((b) => b.p50 ?? 0)));
  const maxRps = Math.max(1, ...rows.flatMap((r) => r.bars.map((b) => b.rps ?? 0)));
  const width = LABEL_W + 2 * PANEL_W + 60;
  let y = TOP;
  const parts: string[] = [];
  const panel = (
    x0: number,
    value: number | undefined | null,
    max: number,
    color: string,
    text: (v: number) => string,
  ): string => {
    // null: no such cell in the bench (left blank); undefined: a cell this run did not measure.
    if (value === null) return '';
    if (value === undefined) return `<text x="${x0 + 4}" y="${y + BAR - 3}" class="v">not measured</text>`;
    const w = Math.max(1, (value / max) * (PANEL_W - 70));
    return `<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" fill="${color}"/><text x="${(x0 + w + 4).toFixed(1)}" y="${y + BAR - 3}" class="v">${text(value)}</text>`;
  };
  for (const row of rows) {
    parts.push(`<text x="${LABEL_W - 8}" y="${y + BAR - 3}" class="l" text-anchor="end">${esc(row.label)}</text>`);
    for (const bar of row.bars) {
      const color = COLORS[bar.system];
      parts.push(panel(LABEL_W, bar.p50, maxP50, color, (v) => `${Math.round(v)} µs`));
      parts.push(panel(LABEL_W + PANEL_W + 30, bar.rps, maxRps, color, (v) => `${Math.round(v)}/s`));
      y += BAR + 2;
    }
    y += GAP;
  }
  const legend = (['Lucien', 'etcd', 'Redis'] as const)
    .map(
      (s, i) =>
        `<rect x="${LABEL_W + i * 110}" y="${y + 6}" width="12" height="12" fill="${COLORS[s]}"/><text x="${LABEL_W + i * 110 + 18}" y="${y + 16}" class="v">${s === 'Redis' ? 'Redis (EVALSHA)' : s}</text>`,
    )
    .join('');
  const height = y + 34;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    '<style>.l{font-size:12px;fill:#222}.v{font-size:11px;fill:#444}.h{font-size:13px;font-weight:bold;fill:#222}.t{font-size:14px;font-weight:bold}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="22" class="t">${esc(title)}</text>`,
    `<text x="${LABEL_W}" y="${TOP - 12}" class="h">p50 at concurrency 1 (µs, lower is better)</text>`,
    `<text x="${LABEL_W + PANEL_W + 30}" y="${TOP - 12}" class="h">req/s at concurrency 16 (higher is better)</text>`,
    ...parts,
    legend,
    '</svg>',
    '',
  ].join('\n');
}
