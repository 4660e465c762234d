// Views of the data: the overview (buckets with key counts, scripts with their
// statistics), a bucket's keys (prefix search, paging, live changes) and one key's value.
import { api, stream } from './api.js';
import { enc, h, link, message, ms, pretty, table, when } from './dom.js';

export async function overview() {
  const o = await api('GET', 'overview');
  const buckets = table(
    [
      { title: 'Bucket', cell: (b) => link(`#/bucket/${enc(b.name)}`, b.name) },
      { title: 'Keys', num: true, cell: (b) => (b.capped ? `${b.keys}+` : b.keys) },
    ],
    o.buckets,
    { id: 'buckets' },
  );
  const scripts = table(
    [
      { title: 'Script', cell: (s) => link(`#/script/${enc(s.name)}`, s.name) },
      { title: 'Engine', cell: (s) => s.engine },
      { title: 'Calls', num: true, cell: (s) => (s.stats ? s.stats.calls : 0) },
      { title: 'Errors', num: true, cell: (s) => (s.stats ? s.stats.calls - s.stats.ok : 0) },
      { title: 'p50', num: true, cell: (s) => (s.stats ? ms(s.stats.p50_ms) : '–') },
      { title: 'p99', num: true, cell: (s) => (s.stats ? ms(s.stats.p99_ms) : '–') },
      { title: 'Last run', cell: (s) => (s.stats ? when(s.stats.last_run_unix_ms) : 'never') },
    ],
    o.scripts,
    { id: 'scripts' },
  );
  return [
    h('h1', {}, 'Overview'),
    h(
      'div',
      { class: 'cards' },
      h(
        'section',
        { class: 'card' },
        h('h2', {}, `Buckets (${o.buckets.length})`),
        o.buckets.length ? buckets : h('p', { class: 'muted' }, 'No buckets yet.'),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, `Scripts (${o.scripts.length})`),
        o.scripts.length ? scripts : h('p', { class: 'muted' }, 'No scripts yet.'),
      ),
    ),
    h('p', { class: 'muted' }, 'Key counts are refreshed at most every 30 seconds and stop at 100000 per bucket.'),
  ];
}

/** A bucket's keys: prefix search, pages of 50, and a live view of its changes. */
export async function bucket(name, query, cleanup) {
  const prefix = query.get('prefix') || '';
  const after = query.get('after') || '';
  const page = await api(
    'GET',
    `buckets/${enc(name)}/keys?keys_only=true&limit=50&prefix=${enc(prefix)}&start_after=${enc(after)}`,
  );
  const search = h('input', { type: 'search', id: 'prefix', placeholder: 'key prefix', value: prefix });
  const go = (p, a) => (location.hash = `#/bucket/${enc(name)}?prefix=${enc(p)}${a ? `&after=${enc(a)}` : ''}`);
  const items = page.items || [];
  const last = items[items.length - 1];
  const events = h('div', { class: 'events', id: 'events', hidden: true });
  let stop;
  const watchButton = h(
    'button',
    {
      id: 'watch',
      type: 'button',
      onclick: () => {
        if (stop) {
          stop();
          stop = undefined;
          watchButton.textContent = 'Watch changes live';
          return;
        }
        events.hidden = false;
        events.prepend(h('div', { class: 'muted' }, `watching ${name}${prefix ? ` (prefix ${prefix})` : ''}…`));
        stop = stream(
          `buckets/${enc(name)}/watch?prefix=${enc(prefix)}`,
          (type, data) => {
            if (type === 'change')
              events.prepend(
                h(
                  'div',
                  {},
                  `r${data.revision} ${data.type} `,
                  link(`#/key/${enc(name)}/${enc(data.key)}`, data.key),
                  data.type === 'PUT' ? ` ${data.value.slice(0, 120)}` : '',
                ),
              );
            else if (type === 'error') events.prepend(h('div', { class: 'bad' }, `${data.code}: ${data.message}`));
          },
          (err) =>
            events.prepend(
              h('div', { class: err ? 'bad' : 'muted' }, err ? `watch ended: ${err.message}` : 'watch ended'),
            ),
        );
        watchButton.textContent = 'Stop watching';
      },
    },
    'Watch changes live',
  );
  cleanup(() => stop && stop());
  return [
    h('h1', {}, link('#/', 'Buckets'), ' / ', name),
    h(
      'form',
      { class: 'row', onsubmit: (e) => (e.preventDefault(), go(search.value, '')) },
      search,
      h('button', { type: 'submit', id: 'search' }, 'Search'),
      watchButton,
    ),
    items.length === 0
      ? h('p', { class: 'muted' }, 'No keys here.')
      : table(
          [
            { title: 'Key', cell: (i) => link(`#/key/${enc(name)}/${enc(i.key)}`, i.key, { 'data-key': i.key }) },
            { title: 'Revision', num: true, cell: (i) => i.mod_revision },
            { title: 'Created', num: true, cell: (i) => i.create_revision },
          ],
          items,
          { id: 'keys' },
        ),
    h(
      'div',
      { class: 'row' },
      after ? h('button', { onclick: () => history.back() }, '← Previous') : null,
      page.next_page_token && last
        ? h('button', { id: 'next-page', onclick: () => go(prefix, last.key) }, 'Next →')
        : null,
    ),
    events,
  ];
}

/** One key: its value in an editor, checked as a JSON object before it is sent. */
export async function key(bucketName, keyName) {
  const got = await api('GET', `buckets/${enc(bucketName)}/keys/${enc(keyName)}`);
  let revision = got.mod_revision;
  const editor = h('textarea', { id: 'value', rows: 16, spellcheck: 'false', value: pretty(got.value) });
  const status = h('div', { id: 'value-status' });
  const meta = h(
    'p',
    { class: 'muted', id: 'key-meta' },
    `created at revision ${got.create_revision}, last changed at revision ${revision}`,
  );
  const show = (kind, text) => status.replaceChildren(message(kind, text));
  const save = async () => {
    let parsed;
    try {
      parsed = JSON.parse(editor.value);
    } catch (err) {
      return show('error', `Not valid JSON: ${err.message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return show('error', 'A value must be a JSON object ({…}).');
    try {
      const put = await api('PUT', `buckets/${enc(bucketName)}/keys/${enc(keyName)}`, {
        value: JSON.stringify(parsed),
        if_revision: revision,
      });
      revision = put.revision;
      meta.textContent = `created at revision ${got.create_revision}, last changed at revision ${revision}`;
      show('ok', `Saved at revision ${put.revision}.`);
    } catch (err) {
      show(
        'error',
        err.code === 'CONDITION_FAILED'
          ? 'Someone changed this key since you loaded it; reload to see their version.'
          : `${err.code}: ${err.message}`,
      );
    }
  };
  const remove = async () => {
    if (!confirm(`Delete ${keyName}?`)) return;
    try {
      await api('DELETE', `buckets/${enc(bucketName)}/keys/${enc(keyName)}?if_revision=${revision}`);
      location.hash = `#/bucket/${enc(bucketName)}`;
    } catch (err) {
      show('error', `${err.code}: ${err.message}`);
    }
  };
  return [
    h('h1', {}, link('#/', 'Buckets'), ' / ', link(`#/bucket/${enc(bucketName)}`, bucketName), ' / ', keyName),
    meta,
    h('div', { class: 'editor' }, editor),
    h(
      'div',
      { class: 'row' },
      h('button', { class: 'primary', id: 'save-value', onclick: save }, 'Save'),
      h('button', { id: 'delete-value', onclick: remove }, 'Delete'),
    ),
    status,
  ];
}
