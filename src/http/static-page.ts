/**
 * The admin page's static files (src/http/page/), read once at start and
 * served from memory: a fixed list, so no request path ever reaches the
 * file system. The page loads only from this origin (Content-Security-Policy).
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../paths';

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/api.js': { file: 'api.js', type: 'text/javascript; charset=utf-8' },
  '/dom.js': { file: 'dom.js', type: 'text/javascript; charset=utf-8' },
  '/views-data.js': { file: 'views-data.js', type: 'text/javascript; charset=utf-8' },
  '/views-scripts.js': { file: 'views-scripts.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The page's files stay in src/http/page (tsc does not copy them to dist/). */
export const PAGE_DIR = join(PACKAGE_ROOT, 'src/http/page');

export class StaticPage {
  private readonly contents = new Map<string, { body: Buffer; type: string }>();

  constructor(dir = PAGE_DIR) {
    for (const [path, { file, type }] of Object.entries(FILES))
      this.contents.set(path, { body: readFileSync(join(dir, file)), type });
  }

  /** Serves `path` if it is one of the page's files; false otherwise. */
  serve(path: string, res: ServerResponse): boolean {
    const found = this.contents.get(path);
    if (found === undefined) return false;
    res.writeHead(200, {
      'content-type': found.type,
      'content-length': found.body.length,
      'cache-control': 'no-cache',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
    res.end(found.body);
    return true;
  }
}
