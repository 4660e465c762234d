/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The admin page in a real browser (Debian's chromium driven by
 * puppeteer-core): browse to a key and edit it, register a script with a
 * syntax error and see its line marked, fix it, run it, watch its statistics
 * move; and with auth on, the page asks for a token before it shows anything.
 * Takes the screenshots the README shows; they are written to docs/ only
 * with LUCIEN_UPDATE_SCREENSHOTS=1 (a test run leaves the tree as it found it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { connect, type TestClient } from '../helpers/client';
import { freePort } from '../../scripts/lib/free-port';
import { request } from '../helpers/http';
import { ROOT, type RunningServer, startServer } from '../helpers/server';

jest.setTimeout(120_000);

/** Where a screenshot goes: docs/ when asked to update them, else a temp file. */
const shots =
  process.env.LUCIEN_UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs') : mkdtempSync(join(tmpdir(), 'lucien-shots-'));

let browser: Browser;
let profile: string;

beforeAll(async () => {
  profile = mkdtempSync(join(tmpdir(), 'lucien-chromium-'));
  browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${profile}`,
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
});

/** Waits until the view for `hash` has been drawn (app.js sets data-ready). */
async function visit(page: Page, base: string, hash: string): Promise<void> {
  await page.goto(`${base}/${hash}`);
  await page.waitForFunction((h) => document.getElementById('view')?.dataset.ready === (h === '' ? '' : h), {}, hash);
}

const text = (page: Page, selector: string) => page.$eval(selector, (el) => el.textContent ?? '');

async function setField(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(
    selector,
    (el, v) => {
      (el as HTMLTextAreaElement).value = v as string;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    },
    value,
  );
}

describe('without auth', () => {
  let server: RunningServer;
  let client: TestClient;
  let base: string;
  let page: Page;

  beforeAll(async () => {
    const httpPort = await freePort();
    server = await startServer({ args: ['--http-port', String(httpPort), '--slow-run-ms', '0'] });
    base = `http://127.0.0.1:${httpPort}`;
    client = connect(server.address);
    for (let i = 1; i <= 3; i++)
      await client.call('Put', { bucket: 'posts', key: `post_${i}`, value: JSON.stringify({ title: `Post ${i}` }) });
    await client.call('Put', { bucket: 'users', key: 'ada', value: '{"name":"Ada"}' });
    const many = Array.from({ length: 60 }, (_, i) => ({
      put: { bucket: 'many', key: `k${String(i).padStart(2, '0')}`, value: '{}' },
    }));
    await client.call('Batch', { ops: many });
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
  });

  afterAll(async () => {
    await page?.close();
    client?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('the first view lists buckets with key counts', async () => {
    await visit(page, base, '');
    const rows = await page.$$eval('#buckets tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    expect(rows).toEqual([
      ['many', '60'],
      ['posts', '3'],
      ['users', '1'],
    ]);
  });

  test('a bucket is shown in pages of 50', async () => {
    await visit(page, base, '#/bucket/many');
    const keys = () => page.$$eval('#keys a[data-key]', (as) => as.map((a) => a.textContent));
    const first = await keys();
    expect([first.length, first[0], first[49]]).toEqual([50, 'k00', 'k49']);
    await page.click('#next-page');
    await page.waitForFunction(() => document.getElementById('view')?.dataset.ready?.includes('after=k49'));
    expect(await keys()).toEqual(['k50', 'k51', 'k52', 'k53', 'k54', 'k55', 'k56', 'k57', 'k58', 'k59']);
    expect(await page.$('#next-page')).toBeNull();
  });

  test('browse to a key by prefix, refuse invalid JSON, save an edit', async () => {
    await visit(page, base, '#/bucket/posts');
    await setField(page, '#prefix', 'post_2');
    await page.click('#search');
    await page.waitForFunction(() => document.getElementById('view')?.dataset.ready?.includes('prefix=post_2'));
    expect(await page.$$eval('#keys a[data-key]', (as) => as.map((a) => a.textContent))).toEqual(['post_2']);
    await page.click('#keys a[data-key="post_2"]');
    await page.waitForFunction(() => document.getElementById('view')?.dataset.ready === '#/key/posts/post_2');
    expect(JSON.parse(await page.$eval('#value', (el) => (el as HTMLTextAreaElement).value))).toEqual({
      title: 'Post 2',
    });

    await setField(page, '#value', '{"title": "Edited",}');
    await page.click('#save-value');
    await page.waitForSelector('#value-status .error');
    expect(await text(page, '#value-status')).toMatch(/Not valid JSON/);
    await setField(page, '#value', '["not", "an", "object"]');
    await page.click('#save-value');
    await page.waitForFunction(() =>
      /must be a JSON object/.test(document.getElementById('value-status')?.textContent ?? ''),
    );
    expect(JSON.parse((await client.call<{ value: string }>('Get', { bucket: 'posts', key: 'post_2' })).value)).toEqual(
      { title: 'Post 2' },
    );

    await setField(page, '#value', '{"title": "Edited in the browser"}');
    await page.click('#save-value');
    await page.waitForSelector('#value-status .ok');
    expect(JSON.parse((await client.call<{ value: string }>('Get', { bucket: 'posts', key: 'post_2' })).value)).toEqual(
      { title: 'Edited in the browser' },
    );
  });

  test('a script with a syntax error shows its line; fixed, it runs and its statistics move', async () => {
    await visit(page, base, '#/script/greet');
    await page.select('#engine', 'python');
    await setField(page, '#source', 'name = args[0]\nprint("hello", name)\nresult = {"greeting": "hello " + name\n');
    await page.click('#save-script');
    await page.waitForSelector('#script-error');
    expect(await page.$eval('#script-error', (el) => el.getAttribute('data-line'))).toBe('3');
    expect(await page.$$eval('#gutter .error-line', (els) => els.map((e) => e.textContent))).toEqual(['3']);
    expect(await text(page, '#script-error')).toMatch(/^Line 3: /);

    await setField(
      page,
      '#source',
      'name = args[0]\nprint("hello", name)\nbuckets.getBucket("greetings").put(name, {"n": 1})\nresult = {"greeting": "hello " + name}\n',
    );
    expect(await page.$$('#gutter .error-line')).toHaveLength(0);
    await page.click('#save-script');
    await page.waitForSelector('#script-saved');

    await setField(page, '#args', '["ada"]');
    await page.click('#dry-run');
    await page.click('#run');
    await page.waitForSelector('#run-ok');
    expect(JSON.parse(await text(page, '#run-result'))).toEqual({ greeting: 'hello ada' });
    expect(await text(page, '#run-logs')).toBe('hello ada');
    expect(await text(page, '#run-writes')).toContain('greetings');
    await page.waitForFunction(() => document.getElementById('stat-calls')?.textContent === '1');
    await expect(client.call('Get', { bucket: 'greetings', key: 'ada' })).rejects.toMatchObject({ code: 5 });

    await page.click('#dry-run');
    await page.click('#run');
    await page.waitForFunction(() => document.getElementById('stat-calls')?.textContent === '2');
    expect(
      JSON.parse((await client.call<{ value: string }>('Get', { bucket: 'greetings', key: 'ada' })).value),
    ).toEqual({ n: 1 });

    await setField(page, '#args', '[]');
    await page.click('#run');
    await page.waitForSelector('#run-error');
    expect(await text(page, '#run-error')).toMatch(/SCRIPT_ERROR: .*IndexError.*line 1/);
    await page.waitForFunction(() => document.getElementById('stat-failed')?.textContent === '1');
    expect(await text(page, '#stat-calls')).toBe('3');
    expect(await text(page, '#last-error')).toMatch(/line 1/);
    await page.screenshot({ path: join(shots, 'admin-script.png'), fullPage: true });
  });

  test('the overview shows scripts with their statistics (screenshot for the README)', async () => {
    await visit(page, base, '');
    const row = await page.$$eval('#scripts tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    expect(row[0]?.slice(0, 4)).toEqual(['greet', 'python', '3', '1']);
    await page.screenshot({ path: join(shots, 'admin-page.png') });
  });

  test('the slow-run log lists the runs, newest first', async () => {
    await visit(page, base, '#/slow');
    const rows = await page.$$eval('#slow-runs tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    expect(rows.map((r) => [r[1], r[3]])).toEqual([
      ['greet', 'error'],
      ['greet', 'ok'],
      ['greet', 'ok (dry)'],
    ]);
    expect(rows[1]?.[6]).toBe('["ada"]');
    expect(rows[1]?.[7]).toBe('hello ada');
  });

  test('watching a bucket shows changes live', async () => {
    await visit(page, base, '#/bucket/users');
    await page.click('#watch');
    await page.waitForFunction(() => /watching users/.test(document.getElementById('events')?.textContent ?? ''));
    // The stream is open once the server counts it; then a write shows up.
    const deadline = Date.now() + 20_000;
    while (!/^lucien_watch_streams 1$/m.test((await request(`${base}/metrics`)).text)) {
      if (Date.now() > deadline) throw new Error(`the watch never opened: ${await text(page, '#events')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await client.call('Put', { bucket: 'users', key: 'grace', value: '{"name":"Grace"}' });
    await page
      .waitForFunction(() => /PUT grace/.test(document.getElementById('events')?.textContent ?? ''), {
        timeout: 20_000,
      })
      .catch(async (err: Error) => {
        throw new Error(`${err.message}; events: ${await text(page, '#events')}`);
      });
    await page.click('#watch');
  });
});

describe('with auth on', () => {
  const TOKEN = 'browser-read-token-0123456789';
  let server: RunningServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lucien-auth-page-'));
    const file = join(dir, 'auth.json');
    writeFileSync(file, JSON.stringify({ tokens: [{ name: 'viewer', token: TOKEN, role: 'read' }] }));
    const httpPort = await freePort();
    server = await startServer({ args: ['--backend', 'memory', '--auth-file', file, '--http-port', String(httpPort)] });
    (server as { httpBase?: string }).httpBase = `http://127.0.0.1:${httpPort}`;
  });

  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the page asks for a token, then shows the store', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${(server as { httpBase?: string }).httpBase}/`);
      await page.waitForSelector('#token-dialog[open]');
      await page.type('#token-input', TOKEN);
      await page.click('#token-save');
      await page.waitForFunction(() => document.getElementById('view')?.dataset.ready === '');
      expect(await page.$('#view-error')).toBeNull();
      await page.waitForFunction(() =>
        /signed in as viewer \(read\)/.test(document.getElementById('who')?.textContent ?? ''),
      );
    } finally {
      await page.close();
    }
  });
});
