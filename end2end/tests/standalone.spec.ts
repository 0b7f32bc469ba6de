// The self-contained binary (issue 27): the whole suite runs against `target/release/handoff`
// copied alone into an empty directory (global-setup.ts). This file checks what that means
// explicitly — every file a page loads comes from the binary, under content-hashed names cached
// for a year — and starts a second lone copy on PostgreSQL (in yet another empty directory),
// where a visitor chats in the widget and an agent signs in and sees it.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, expect, BASE, live, openChat } from './support';

/** The addresses of the scripts, styles and WebAssembly a page's HTML names. */
function assetsOf(html: string): string[] {
  const found = [...html.matchAll(/(?:href|src)="(\/(?:pkg|widget-pkg)\/[^"]+)"/g)].map((m) => m[1]);
  // The hydration script names the dashboard's bundle inside a module script.
  found.push(...[...html.matchAll(/["'](\/pkg\/[^"']+\.(?:js|wasm))["']/g)].map((m) => m[1]));
  return [...new Set(found)];
}

test('the lone binary serves the dashboard, its bundle and the widget from itself', async ({ request }) => {
  const bin = process.env.HANDOFF_LONE_BIN!;
  expect(fs.readdirSync(path.dirname(bin)), 'nothing but the binary beside it').toEqual(['handoff']);
  const log = fs.readFileSync(path.join(__dirname, '..', 'test-results', 'server.log'), 'utf8');
  expect(log).toMatch(/assets: +in this binary/);

  const login = await request.get(`${BASE()}/login`);
  expect(login.status()).toBe(200);
  const pkg = assetsOf(await login.text()).filter((a) => a.startsWith('/pkg/'));
  expect(pkg.map((a) => a.replace(/^\/pkg\/handoff\.[0-9a-f]{16}/, 'NAME')).sort()).toEqual(['NAME.css', 'NAME.js', 'NAME.wasm']);
  const types: Record<string, string> = { css: 'text/css', js: 'text/javascript', wasm: 'application/wasm' };
  for (const a of pkg) {
    const res = await request.get(`${BASE()}${a}`);
    expect(res.status(), a).toBe(200);
    expect(res.headers()['content-type'], a).toContain(types[a.split('.').pop()!]);
    expect(res.headers()['cache-control'], a).toContain('immutable');
    expect((await res.body()).length, a).toBeGreaterThan(1000);
  }
  const icon = await request.get(`${BASE()}/favicon.svg`);
  expect(icon.status()).toBe(200);
  expect(icon.headers()['content-type']).toContain('image/svg+xml');
  expect((await request.get(`${BASE()}/pkg/handoff.0000000000000000.js`)).status()).toBe(404);

  const widget = await request.get(`${BASE()}/widget/demo`);
  expect(widget.status()).toBe(200);
  const files = assetsOf(await widget.text()).filter((a) => a.startsWith('/widget-pkg/'));
  expect(files.length).toBe(3);
  for (const a of files) {
    const res = await request.get(`${BASE()}${a}`);
    expect(res.status(), a).toBe(200);
    expect(res.headers()['cache-control'], a).toContain('immutable');
  }
});

/** A fresh schema in the test database, or null when PostgreSQL is not there (then the test is
 * skipped, unless CI=true, where it must be). */
function freshSchema(): string | null {
  const schema = `e2e_${process.pid}_${Date.now()}`;
  try {
    execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-c', `CREATE SCHEMA ${schema}`], { stdio: 'pipe' });
    return schema;
  } catch (e) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL is required (CI=true): ${e}`);
    return null;
  }
}

test('a lone copy on PostgreSQL serves the widget and the dashboard', async ({ browser }) => {
  const schema = freshSchema();
  test.skip(schema === null, 'PostgreSQL is not reachable on 127.0.0.1:5432');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-lone-pg-'));
  const bin = path.join(dir, 'handoff');
  fs.copyFileSync(process.env.HANDOFF_LONE_BIN!, bin);
  fs.chmodSync(bin, 0o755);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D${schema}`,
    HANDOFF_DATA_DIR: path.join(dir, 'data'),
    HANDOFF_SEED_DEMO: 'true',
    HANDOFF_DEMO_PASSWORD: 'lone-pg-demo',
    LEPTOS_SITE_ADDR: '127.0.0.1:0',
  };
  let server: ChildProcess | null = null;
  try {
    server = spawn(bin, [], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the PostgreSQL copy did not start: ${out}`)), 60_000);
      server!.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      server!.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code}: ${out}`)); });
    });
    // The banner's lines after "listening" may still be on their way.
    await expect.poll(() => out).toMatch(/storage: +PostgreSQL/);
    expect(out).toMatch(/assets: +in this binary/);

    // A visitor chats in the widget on the lone copy's sample customer page.
    const visitor = await (await browser.newContext()).newPage();
    await visitor.goto(`${base}/demo`);
    await openChat(visitor);
    const widget = visitor.frameLocator('#handoff-frame');
    await expect(widget.locator('.msg[data-author="ai"]').first()).toContainText("Hi! I'm Ada");
    await widget.getByLabel('Message').fill('Do you ship to Iceland?');
    await widget.getByLabel('Message').press('Enter');
    await expect(widget.locator('.msg[data-author="ai"]')).toHaveCount(2);

    // Ann signs in there and sees that conversation.
    const ann = await (await browser.newContext()).newPage();
    await ann.goto(`${base}/login`);
    await ann.getByLabel('E-mail').fill('ann@demo.test');
    await ann.getByLabel('Password').fill('lone-pg-demo');
    await ann.getByRole('button', { name: 'Sign in' }).click();
    await expect(ann).toHaveURL(/\/conversations$/);
    await live(ann);
    await expect(ann.locator('.conn')).toHaveText('live');
    // Newest first: the visitor's chat (a row shows the AI's last answer; the transcript the rest).
    await ann.locator('.conv-item').first().click();
    await expect(ann.locator('.msg[data-author="visitor"]')).toContainText('Do you ship to Iceland?');
    await visitor.context().close();
    await ann.context().close();
  } finally {
    server?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    fs.rmSync(dir, { recursive: true, force: true }); // the data and its key (data.key) inside
    try {
      execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-c', `DROP SCHEMA ${schema} CASCADE`], { stdio: 'pipe' });
    } catch { /* left for the next run's machine to drop */ }
  }
});
