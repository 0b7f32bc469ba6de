// What a customer's page downloads for the chat, measured in the browser on the wire (bodies as
// served, i.e. brotli-compressed where the browser accepts it): before the chat is opened (the
// launcher) and after (the widget in its iframe). The launcher must stay within issue #9's 15 KB.
// The widget's target there is 100 KB, which a Leptos widget cannot meet (BENCHMARKS.md §5 says why);
// WIDGET_BUDGET holds today's size with a little room, so that growth fails here instead of
// going unnoticed. Also checks that bundles with content-hashed names are cached for a year.
import { type Page, type Request } from '@playwright/test';
import { BASE, CUSTOMER, expect, signInOn, test } from './support';

const KB = 1000;
const LAUNCHER_BUDGET = 15 * KB;
const WIDGET_BUDGET = 191 * KB; // 180 KB until issue 23's typing and notes, 183 KB until its "Seen", 186 KB until its files (BENCHMARKS.md §5)
const IMMUTABLE = 'public, max-age=31536000, immutable';

type Fetched = { url: string; bytes: number };

// Records every finished request to Handoff's origin with its body size on the wire.
function recorder(page: Page) {
  const origin = new URL(BASE()).origin;
  const seen: Fetched[] = [];
  const pending: Promise<void>[] = [];
  page.on('requestfinished', (req: Request) => {
    if (!req.url().startsWith(origin)) return;
    pending.push(req.sizes().then((s) => { seen.push({ url: req.url(), bytes: s.responseBodySize }); }));
  });
  return {
    async take(): Promise<Fetched[]> {
      await Promise.all(pending.splice(0));
      return seen.splice(0);
    },
  };
}

const total = (list: Fetched[]) => list.reduce((n, f) => n + f.bytes, 0);
const show = (list: Fetched[]) => list.map((f) => `  ${new URL(f.url).pathname}: ${f.bytes} B`).join('\n');

test('the launcher and the widget stay within their size budgets', async ({ page, request }) => {
  const wire = recorder(page);
  await page.goto(CUSTOMER());
  await expect(page.locator('#handoff-launcher')).toBeVisible();
  await page.waitForLoadState('networkidle');
  const launcher = await wire.take();
  expect(launcher.map((f) => new URL(f.url).pathname)).toEqual(['/widget.js']);

  await page.locator('#handoff-launcher').click();
  const widget = page.frameLocator('#handoff-frame');
  await expect(widget.locator('.msg[data-author="ai"]').first()).toContainText("Hi! I'm Ada");
  await page.waitForLoadState('networkidle');
  const chat = (await wire.take()).filter((f) => !f.url.includes('/ws/'));
  const paths = chat.map((f) => new URL(f.url).pathname);
  const wasm = chat.find((f) => f.url.endsWith('.wasm'));
  expect(wasm, `the widget's WASM was loaded:\n${show(chat)}`).toBeTruthy();
  // The widget's own bundle, not the dashboard's.
  expect(paths.some((p) => p.startsWith('/pkg/')), show(chat)).toBe(false);

  // Raw sizes, for the record.
  const raw: string[] = [];
  for (const f of chat) {
    const res = await request.get(f.url, { headers: { 'accept-encoding': 'identity' } });
    raw.push(`  ${new URL(f.url).pathname}: ${(await res.body()).length} B raw, ${f.bytes} B on the wire`);
  }
  console.log(`launcher (before the chat opens): ${total(launcher)} B\n${show(launcher)}`);
  console.log(`widget (after opening): ${total(chat)} B on the wire\n${raw.join('\n')}`);
  expect(total(launcher)).toBeLessThanOrEqual(LAUNCHER_BUDGET);
  expect(total(chat)).toBeLessThanOrEqual(WIDGET_BUDGET);

  // The widget's stylesheet is its own part of style/main.css, without the dashboard's rules.
  const css = chat.find((f) => f.url.endsWith('.css'));
  const sheet = await (await request.get(css!.url)).text();
  expect(sheet).toContain('.widget-head');
  for (const dashboardOnly of ['.conv-item', '.bell-panel', '.toasts', '.users-table', '.login-card']) {
    expect(sheet, `the widget's stylesheet carries ${dashboardOnly}`).not.toContain(dashboardOnly);
  }

  const asset = await request.get(wasm!.url, { headers: { 'accept-encoding': 'br' } });
  expect(asset.headers()['cache-control']).toBe(IMMUTABLE);
  expect(asset.headers()['content-encoding']).toBe('br');
});

test("the dashboard's bundle has hashed names and is cached for a year", async ({ page }) => {
  const bundle: { url: string; cache: string; encoding: string }[] = [];
  page.on('response', (res) => {
    if (new URL(res.url()).pathname.startsWith('/pkg/')) {
      bundle.push({ url: res.url(), cache: res.headers()['cache-control'] ?? '', encoding: res.headers()['content-encoding'] ?? '' });
    }
  });
  // Signing in proves the bundle hydrated the page (the dashboard marks itself live).
  await signInOn(page, 'ann@demo.test', 'handoff-demo', /\/conversations$/);
  const names = [...new Set(bundle.map((b) => new URL(b.url).pathname))].sort();
  expect(names, names.join('\n')).toHaveLength(3);
  for (const name of names) expect(name).toMatch(/^\/pkg\/handoff\.[A-Za-z0-9_-]{6,}\.(js|wasm|css)$/);
  for (const b of bundle) expect(b.cache, b.url).toBe(IMMUTABLE);
  expect(bundle.find((b) => b.url.endsWith('.wasm'))!.encoding).toMatch(/br|gzip/);
});
