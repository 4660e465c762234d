// The admin page's entry: hash routes to views, shows who is signed in, and
// turns any failure into a message instead of a blank page.
import { api, setToken, token } from './api.js';
import { h, message } from './dom.js';
import { bucket, key, overview } from './views-data.js';
import { script, scripts, slowRuns } from './views-scripts.js';

const view = document.getElementById('view');
let cleanups = [];

const ROUTES = [
  [/^#?\/?$/, 'overview', () => overview()],
  [/^#\/bucket\/([^/?]+)$/, 'overview', (m, q) => bucket(decodeURIComponent(m[1]), q, (f) => cleanups.push(f))],
  [/^#\/key\/([^/?]+)\/(.+)$/, 'overview', (m) => key(decodeURIComponent(m[1]), decodeURIComponent(m[2]))],
  [/^#\/scripts$/, 'scripts', () => scripts()],
  [/^#\/script\/([^/?]+)$/, 'scripts', (m) => script(decodeURIComponent(m[1]))],
  [/^#\/slow$/, 'slow', () => slowRuns()],
];

async function who() {
  const el = document.getElementById('who');
  try {
    const me = await api('GET', 'whoami');
    el.replaceChildren(
      me.auth ? `signed in as ${me.name} (${me.role})` : 'no auth (loopback)',
      me.auth ? h('button', { id: 'sign-out', onclick: () => (setToken(''), location.reload()) }, 'Sign out') : '',
    );
  } catch {
    el.textContent = token() ? 'token refused' : '';
  }
}

async function render() {
  for (const f of cleanups) f();
  cleanups = [];
  const [path, search] = location.hash.split('?');
  const query = new URLSearchParams(search || '');
  const route = ROUTES.find(([re]) => re.test(path || ''));
  for (const a of document.querySelectorAll('[data-nav]'))
    a.classList.toggle('active', route !== undefined && a.dataset.nav === route[1]);
  if (route === undefined) {
    view.replaceChildren(message('error', `No page at ${location.hash}`));
    return;
  }
  const shown = location.hash;
  try {
    const nodes = await route[2](route[0].exec(path || ''), query);
    if (location.hash !== shown) return;
    view.replaceChildren(...[nodes].flat());
    view.dataset.view = route[1];
    view.dataset.ready = shown;
  } catch (err) {
    view.replaceChildren(message('error', `${err.code || 'ERROR'}: ${err.message}`, { id: 'view-error' }));
    view.dataset.ready = shown;
  }
  void who();
}

window.addEventListener('hashchange', render);
void render();
