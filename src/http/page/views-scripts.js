// Views of scripts: the list (with a form for a new one), one script's editor
// (syntax errors marked at their line), its run panel and statistics, and the
// slow-run log.
import { api } from './api.js';
import { enc, h, link, message, ms, pretty, table, when } from './dom.js';

export async function scripts() {
  const [{ scripts: list = [] }, { scripts: stats = [] }] = await Promise.all([
    api('GET', 'scripts'),
    api('GET', 'stats'),
  ]);
  const byName = new Map(stats.map((s) => [s.name, s]));
  const name = h('input', {
    type: 'text',
    id: 'new-script-name',
    placeholder: 'new script name',
    pattern: '[A-Za-z0-9_.:-]{1,128}',
    required: true,
  });
  return [
    h('h1', {}, 'Scripts'),
    h(
      'form',
      { class: 'row', onsubmit: (e) => (e.preventDefault(), (location.hash = `#/script/${enc(name.value)}`)) },
      name,
      h('button', { type: 'submit', id: 'new-script' }, 'New script'),
    ),
    list.length === 0
      ? h('p', { class: 'muted' }, 'No scripts yet.')
      : table(
          [
            { title: 'Script', cell: (s) => link(`#/script/${enc(s.name)}`, s.name) },
            { title: 'Engine', cell: (s) => s.engine },
            { title: 'Description', cell: (s) => s.description },
            { title: 'Calls', num: true, cell: (s) => byName.get(s.name)?.calls ?? 0 },
            { title: 'p50', num: true, cell: (s) => ms(byName.get(s.name)?.p50_ms ?? 0) },
            { title: 'p99', num: true, cell: (s) => ms(byName.get(s.name)?.p99_ms ?? 0) },
          ],
          list,
          { id: 'script-list' },
        ),
  ];
}

function statsPanel(s) {
  if (!s) return h('p', { class: 'muted', id: 'stats' }, 'Not run since the server started.');
  const failed = s.calls - s.ok;
  const stat = (label, value, id) => h('div', { class: 'stat' }, h('b', { id }, value), h('span', {}, label));
  return h(
    'div',
    { id: 'stats' },
    h(
      'div',
      { class: 'stats' },
      stat('calls', s.calls, 'stat-calls'),
      stat('ok', s.ok, 'stat-ok'),
      stat('failed', failed, 'stat-failed'),
      stat('p50', ms(s.p50_ms)),
      stat('p99', ms(s.p99_ms)),
      stat('max', ms(s.max_ms)),
    ),
    h(
      'p',
      { class: 'muted' },
      `errors ${s.errors} · timeouts ${s.timeouts} · memory ${s.memory} · limits ${s.limits} · conflicts ${s.conflicts} · cancelled ${s.cancelled} · attempts ${s.attempts} · bucket calls ${s.bridge_calls} · mean ${ms(s.mean_ms)} · last run ${when(s.last_run_unix_ms)}`,
    ),
    s.last_error
      ? h(
          'p',
          { class: 'bad', id: 'last-error' },
          `Last error (${when(s.last_error_unix_ms)}${s.last_error_line ? `, line ${s.last_error_line}` : ''}): ${s.last_error}`,
        )
      : null,
  );
}

/** A textarea with line numbers; mark(line) highlights one line number. */
function codeEditor(source) {
  const gutter = h('div', { class: 'gutter code', id: 'gutter' });
  const area = h('textarea', { id: 'source', spellcheck: 'false', value: source });
  let marked = 0;
  const draw = () => {
    const lines = area.value.split('\n').length;
    area.rows = Math.max(12, lines + 1);
    gutter.replaceChildren(
      ...Array.from({ length: lines }, (_, i) =>
        h('span', { class: i + 1 === marked ? 'error-line' : undefined, 'data-line': i + 1 }, i + 1),
      ),
    );
  };
  area.addEventListener('input', () => {
    marked = 0;
    draw();
  });
  draw();
  return {
    element: h('div', { class: 'editor' }, gutter, area),
    area,
    mark(line) {
      marked = line || 0;
      draw();
      if (line) {
        const starts = area.value
          .split('\n')
          .slice(0, line - 1)
          .reduce((n, l) => n + l.length + 1, 0);
        area.focus();
        area.setSelectionRange(starts, starts + (area.value.split('\n')[line - 1] || '').length);
      }
    },
  };
}

export async function script(name) {
  let found;
  try {
    found = await api('GET', `scripts/${enc(name)}`);
  } catch (err) {
    if (err.code !== 'NOT_FOUND') throw err;
  }
  const isNew = found === undefined;
  const s = found?.script ?? {
    name,
    engine: 'python',
    source: '# args: the list of arguments\nresult = {"hello": args}\n',
    description: '',
    revision: 0,
  };
  const editor = codeEditor(s.source);
  const engine = h(
    'select',
    { id: 'engine' },
    ['python', 'javascript'].map((e) => h('option', { value: e, selected: e === s.engine }, e)),
  );
  engine.value = s.engine;
  const description = h('input', {
    type: 'text',
    id: 'description',
    placeholder: 'description',
    value: s.description,
    size: 50,
  });
  const saveStatus = h('div', { id: 'save-status' });
  const revisionNote = h('span', { class: 'muted' }, isNew ? ' (new)' : ` (revision ${s.revision})`);
  const stats = h('div', {}, statsPanel(found?.stats));
  const save = async () => {
    try {
      const put = await api('PUT', `scripts/${enc(name)}`, {
        engine: engine.value,
        source: editor.area.value,
        description: description.value,
      });
      editor.mark(0);
      saveStatus.replaceChildren(message('ok', `Saved at revision ${put.revision}.`, { id: 'script-saved' }));
      revisionNote.textContent = ` (revision ${put.revision})`;
      runButton.disabled = false;
    } catch (err) {
      if (err.line) editor.mark(err.line);
      saveStatus.replaceChildren(
        message('error', `${err.line ? `Line ${err.line}: ` : ''}${err.message}`, {
          id: 'script-error',
          'data-line': err.line || '',
        }),
      );
    }
  };

  const args = h('input', { type: 'text', id: 'args', value: '[]', size: 50, class: 'code' });
  const dry = h('input', { type: 'checkbox', id: 'dry-run' });
  const output = h('div', { id: 'run-output' });
  const refreshStats = async () => {
    const { scripts: list = [] } = await api('GET', `stats?name=${enc(name)}`);
    stats.replaceChildren(statsPanel(list[0]));
  };
  const run = async () => {
    let parsed;
    try {
      parsed = JSON.parse(args.value || '[]');
    } catch (err) {
      return output.replaceChildren(message('error', `Arguments are not valid JSON: ${err.message}`));
    }
    if (!Array.isArray(parsed))
      return output.replaceChildren(message('error', 'Arguments must be a JSON array, e.g. ["post_1"].'));
    output.replaceChildren(h('p', { class: 'muted' }, 'Running…'));
    try {
      const out = await api('POST', `scripts/${enc(name)}/run`, { args: JSON.stringify(parsed), dry_run: dry.checked });
      output.replaceChildren(
        message(
          'ok',
          `${dry.checked ? 'Dry run' : 'Run'} finished: revision ${out.revision}, ${out.attempts} attempt(s).`,
          { id: 'run-ok' },
        ),
        h('h2', {}, 'Result'),
        h('pre', { id: 'run-result' }, pretty(out.result)),
        h('h2', {}, 'Logs'),
        h('pre', { id: 'run-logs' }, (out.logs || []).join('\n') || '(none)'),
        h('h2', {}, dry.checked ? 'Writes it would make' : 'Writes'),
        (out.writes || []).length === 0
          ? h('p', { class: 'muted', id: 'run-writes' }, 'No writes.')
          : table(
              [
                { title: 'Bucket', cell: (w) => w.bucket },
                { title: 'Key', cell: (w) => link(`#/key/${enc(w.bucket)}/${enc(w.key)}`, w.key) },
                { title: 'Value', cell: (w) => (w.deleted ? h('i', {}, 'deleted') : w.value.slice(0, 200)) },
              ],
              out.writes,
              { id: 'run-writes' },
            ),
      );
    } catch (err) {
      output.replaceChildren(message('error', `${err.code}: ${err.message}`, { id: 'run-error' }));
      if (err.logs && err.logs.length)
        output.append(h('h2', {}, 'Logs'), h('pre', { id: 'run-logs' }, err.logs.join('\n')));
    }
    await refreshStats();
  };
  const runButton = h('button', { class: 'primary', id: 'run', onclick: run, disabled: isNew }, 'Run');

  return [
    h('h1', {}, link('#/scripts', 'Scripts'), ' / ', name, revisionNote),
    h('div', { class: 'row' }, engine, description),
    editor.element,
    h(
      'div',
      { class: 'row' },
      h('button', { class: 'primary', id: 'save-script', onclick: save }, 'Save'),
      isNew
        ? null
        : h(
            'button',
            {
              id: 'delete-script',
              onclick: async () =>
                confirm(`Delete script ${name}?`) &&
                (await api('DELETE', `scripts/${enc(name)}`), (location.hash = '#/scripts')),
            },
            'Delete',
          ),
    ),
    saveStatus,
    h('h2', {}, 'Run'),
    h(
      'div',
      { class: 'row' },
      h('label', {}, 'args ', args),
      h('label', {}, dry, ' dry run (commit nothing)'),
      runButton,
    ),
    output,
    h('h2', {}, 'Statistics'),
    stats,
  ];
}

export async function slowRuns() {
  const log = await api('GET', 'slow-runs');
  return [
    h('h1', {}, 'Slow runs'),
    h(
      'p',
      { class: 'muted' },
      `Runs of at least ${log.threshold_ms} ms (LUCIEN_SLOW_RUN_MS), newest first; the last ${log.capacity} are kept.`,
    ),
    (log.runs || []).length === 0
      ? h('p', { class: 'muted', id: 'slow-runs' }, 'No slow runs.')
      : table(
          [
            { title: 'When', cell: (r) => when(r.unix_ms) },
            { title: 'Script', cell: (r) => link(`#/script/${enc(r.script)}`, r.script) },
            { title: 'Duration', num: true, cell: (r) => ms(r.duration_ms) },
            {
              title: 'Outcome',
              cell: (r) =>
                h('span', { class: r.outcome === 'ok' ? 'good' : 'bad' }, r.outcome + (r.dry_run ? ' (dry)' : '')),
            },
            { title: 'Attempts', num: true, cell: (r) => r.attempts },
            { title: 'Bucket calls', num: true, cell: (r) => r.bridge_calls },
            { title: 'Args', cell: (r) => h('code', {}, r.args) },
            { title: 'First log lines', cell: (r) => h('pre', {}, (r.logs || []).join('\n')) },
          ],
          log.runs,
          { id: 'slow-runs' },
        ),
  ];
}
