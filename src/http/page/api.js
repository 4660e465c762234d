// The page's only door to the server: fetch() against /api/ with the token (if any)
// from sessionStorage. A 401 asks for a token and retries once it is given.
const TOKEN_KEY = 'lucien-token';

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || String(status);
    this.line = e.line;
    this.logs = e.logs;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra) {
  const h = { ...extra };
  if (token()) h.authorization = `Bearer ${token()}`;
  return h;
}

let asking;
/** Shows the token dialog; resolves once a token was entered. */
export function askToken(reason) {
  if (asking) return asking;
  const dialog = document.getElementById('token-dialog');
  document.getElementById('token-reason').textContent = reason;
  const input = document.getElementById('token-input');
  input.value = '';
  asking = new Promise((resolve) => {
    dialog.addEventListener('close', function onClose() {
      dialog.removeEventListener('close', onClose);
      asking = undefined;
      setToken(input.value.trim());
      resolve();
    });
  });
  dialog.showModal();
  return asking;
}

/** JSON in, JSON out; throws ApiError. Asks for a token on 401 and tries again. */
export async function api(method, path, body) {
  for (;;) {
    const init = { method, headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }) };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(`/api/${path}`, init);
    const text = await res.text();
    let parsed;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { error: { message: text } };
    }
    if (res.status === 401) {
      await askToken(
        token()
          ? 'That token was refused. Paste another token from the auth file.'
          : 'This server has authentication on. Paste a token from its auth file.',
      );
      continue;
    }
    if (!res.ok) throw new ApiError(res.status, parsed);
    return parsed;
  }
}

/**
 * Server-sent events read through fetch (EventSource cannot send an
 * authorization header). Calls onEvent(type, data) per event; returns a stop function.
 */
export function stream(path, onEvent, onEnd) {
  const controller = new AbortController();
  (async () => {
    try {
      const res = await fetch(`/api/${path}`, {
        headers: headers({ accept: 'text/event-stream' }),
        signal: controller.signal,
      });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        throw new ApiError(res.status, body);
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let at;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          let type = 'message';
          const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) onEvent(type, JSON.parse(data.join('\n')));
        }
      }
      onEnd(undefined);
    } catch (err) {
      if (err.name !== 'AbortError') onEnd(err);
    }
  })();
  return () => controller.abort();
}
