// DOM helpers: every element is built with textContent (never innerHTML), so
// no key, value, log line or script source can inject markup.

/** h('a', {href: '#/'}, 'text', child, ...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function ms(v) {
  if (!v) return '0';
  return v >= 100 ? `${Math.round(v)} ms` : `${v.toFixed(v >= 10 ? 1 : 2)} ms`;
}

export function when(unixMs) {
  if (!unixMs) return 'never';
  return new Date(Number(unixMs)).toLocaleTimeString();
}

export function pretty(jsonText) {
  try {
    return JSON.stringify(JSON.parse(jsonText), null, 2);
  } catch {
    return jsonText;
  }
}

export function message(kind, text, attrs = {}) {
  return h('div', { class: `message ${kind}`, ...attrs }, text);
}

/** A table from rows; columns: [{title, cell(row), num}] */
export function table(columns, rows, attrs = {}) {
  return h(
    'table',
    attrs,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', { class: c.num ? 'num' : undefined }, c.title)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          {},
          columns.map((c) => h('td', { class: c.num ? 'num' : undefined }, c.cell(row))),
        ),
      ),
    ),
  );
}

export const link = (href, text, attrs = {}) => h('a', { href, ...attrs }, text);
export const enc = encodeURIComponent;
