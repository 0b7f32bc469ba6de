// Shared steps of the browser suite: signing in to the dashboard and opening the widget on the
// "customer site" (another origin, started by global-setup.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test as base, expect, type Browser, type BrowserContext, type BrowserContextOptions, type Frame, type FrameLocator, type Page } from '@playwright/test';

// ---- The console guard -------------------------------------------------------------------------
// Every spec imports `test` from here, not from @playwright/test: it fails any test during which a
// page or frame (dashboard, customer page, widget iframe) logged a console error, threw an uncaught
// exception (a WASM panic is both), or had a request fail — unless the test declared that message
// with `allowConsole`. Pages created by earlier tests of a serial file report to the running test.

let problems: string[] = [];
let allowed: RegExp[] = [];
const watched = new WeakSet<BrowserContext>();

/** Declares console errors the running test provokes on purpose (e.g. a 401 for a bad password). */
export function allowConsole(...patterns: RegExp[]) {
  allowed.push(...patterns);
}

/** For a test that submits bad input on purpose: the browser logs each field error's 400 answer
 * of a server function. */
export function allowBadInput() {
  allowConsole(/the server responded with a status of 400 \(Bad Request\) \(http:\/\/[^)]*\/api\//);
}

function report(kind: string, page: Page, text: string) {
  if (allowed.some((p) => p.test(text))) return;
  problems.push(`${kind} on ${page.url()}: ${text}`);
}

function watchPage(page: Page) {
  page.on('console', (m) => {
    if (m.type() === 'error') report('console error', page, `${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => report('uncaught exception', page, `${e.name}: ${e.message}`));
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText ?? '';
    // A navigation or a closed page aborts what is in flight: not a failure of the app.
    if (why.includes('ERR_ABORTED')) return;
    report('failed request', page, `${r.method()} ${r.url()}: ${why}`);
  });
}

function watchContext(context: BrowserContext) {
  if (watched.has(context)) return;
  watched.add(context);
  context.pages().forEach(watchPage);
  context.on('page', watchPage);
}

export const test = base.extend<{ consoleGuard: void }>({
  consoleGuard: [async ({ browser, context }, use) => {
    problems = [];
    allowed = [];
    browser.contexts().forEach(watchContext);
    watchContext(context);
    const newContext = browser.newContext.bind(browser);
    const newPage = browser.newPage.bind(browser);
    browser.newContext = async (options?: BrowserContextOptions) => {
      const c = await newContext(options);
      watchContext(c);
      return c;
    };
    browser.newPage = async (options?: BrowserContextOptions) => {
      const p = await newPage(options);
      watchContext(p.context());
      watchPage(p);
      return p;
    };
    await use();
    browser.newContext = newContext;
    browser.newPage = newPage;
    // Let what is already on its way arrive.
    await new Promise((r) => setTimeout(r, 300));
    expect(problems, 'the browser console of every page and frame must stay clean').toEqual([]);
  }, { auto: true }],
});
export { expect };

export const BASE = () => process.env.BASE_URL!;
export const CUSTOMER = () => process.env.CUSTOMER_URL!;

// ---- Mail --------------------------------------------------------------------------------------
// What the suite's mail server stand-in (global-setup.ts) received: one e-mail per file.
export type Mail = { to: string; subject: string; body: string };

function parseMail(raw: string): Mail {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const headers = head.replace(/\r\n[ \t]/g, ' ').split('\r\n');
  const header = (name: string) =>
    headers.find((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim() ?? '';
  let body = rest.join('\r\n\r\n');
  const encoding = header('Content-Transfer-Encoding').toLowerCase();
  if (encoding === 'base64') body = Buffer.from(body.replace(/\s/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    body = Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  }
  return { to: header('To'), subject: header('Subject'), body: body.replace(/\r\n/g, '\n') };
}

/** The e-mails sent to `to` so far, oldest first. */
export function mailsTo(to: string): Mail[] {
  const dir = process.env.SMTP_DIR!;
  return fs.readdirSync(dir).sort().map((f) => parseMail(fs.readFileSync(path.join(dir, f), 'utf8'))).filter((m) => m.to.includes(to));
}

export async function signIn(browser: Browser, email: string, options: BrowserContextOptions = {}): Promise<Page> {
  const page = await signInAs(browser, email, 'handoff-demo', /\/conversations$/, options);
  await expect(page.locator('.conn')).toHaveText('live');
  return page;
}

// ---- Finding a test's own conversation ---------------------------------------------------------
// The suite shares one server, and tests leave conversations behind (some still waiting for a
// human); a list row's preview is the last message a person or the AI wrote. So a test notes the
// rows its dashboard shows, makes its conversation, and takes the row that is new.

/** The `href`s of the rows a dashboard lists now. */
export async function listedRows(agent: Page): Promise<string[]> {
  return agent.locator('.conv-item').evaluateAll((els) => els.map((e) => e.getAttribute('href') ?? ''));
}

/** The one row that appeared since `before` (see `listedRows`). */
export async function newRow(agent: Page, before: string[]) {
  const fresh = async () => (await listedRows(agent)).filter((h) => !before.includes(h));
  await expect.poll(async () => (await fresh()).length, { message: 'a new conversation in the list' }).toBe(1);
  const [href] = await fresh();
  return agent.locator(`.conv-item[href="${href}"]`);
}

/** Closes every conversation of the organization that still waits for a human (through the
 * server functions, as the signed-in `agent`): for tests that count requests or toasts. */
export async function noWaitingRequests(agent: Page) {
  const list = await agent.request.post(`${BASE()}/api/conversations/list`, { form: {} });
  expect(list.ok(), await list.text()).toBe(true);
  for (const c of await list.json()) {
    if (c.state.kind !== 'requested') continue;
    const closed = await agent.request.post(`${BASE()}/api/handoff/close`, { form: { id: c.id } });
    expect(closed.ok(), await closed.text()).toBe(true);
  }
  await expect(agent.locator('.conv-item[data-state="requested"]')).toHaveCount(0);
}

// A dashboard in a new tab of a signed-in agent, with Playwright's clock installed (real time
// flows, and the test can jump ahead). Nobody has clicked in this tab yet: the browser blocks
// sound there. (After clicking "Sign in" the sign-in tab may already play sound.)
export async function dashboardWithClock(browser: Browser, email: string): Promise<Page> {
  const signedIn = await signIn(browser, email);
  const agent = await signedIn.context().newPage();
  await signedIn.close();
  await agent.clock.install();
  await agent.goto(`${BASE()}/conversations`);
  await expect(agent.locator('.conn')).toHaveText('live');
  return agent;
}

// Signs in with any account and waits for the page the sign-in sends it to (platform admins
// without an organization start at /admin).
export async function signInAs(browser: Browser, email: string, password: string, landing: RegExp,
  options: BrowserContextOptions = {}): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage();
  await signInOn(page, email, password, landing);
  return page;
}

// Signs in on a page the caller prepared (e.g. with listeners) and waits until it is live.
export async function signInOn(page: Page, email: string, password: string, landing: RegExp) {
  await page.goto(`${BASE()}/login`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(landing);
  await live(page);
}

// Waits until a dashboard page is live (hydrated): clicks before that would reach no handler.
export async function live(page: Page) {
  await expect(page.locator('.topbar[data-hydrated="true"]')).toBeVisible();
}

/** Opens the chat on the customer page; a tab that chatted before has it open again already. */
export async function openChat(page: Page) {
  const launcher = page.locator('#handoff-launcher');
  await expect(launcher).toBeVisible();
  if ((await launcher.getAttribute('aria-expanded')) !== 'true') await launcher.click();
}

export async function openWidget(page: Page) {
  await page.goto(CUSTOMER());
  await openChat(page);
  const widget = page.frameLocator('#handoff-frame');
  await expect(widget.locator('.msg[data-author="ai"]').first()).toContainText("Hi! I'm Ada");
  return widget;
}

/** A new visitor (own browser context) opens the widget, writes `text` and gets the AI's answer. */
export async function visitorWrites(browser: Browser, text: string): Promise<{ page: Page; widget: FrameLocator }> {
  const page = await (await browser.newContext()).newPage();
  const widget = await openWidget(page);
  const composer = widget.getByLabel('Message');
  await composer.fill(text);
  await composer.press('Enter');
  await expect(widget.locator('.msg[data-author="ai"]')).toHaveCount(2);
  return { page, widget };
}

/** Ann's live dashboard (desktop size); a new visitor writes `text` and gets the AI's answer; Ann
 * opens that chat and takes it over ("Continue chat yourself"). */
export async function annHoldsANewChat(browser: Browser, text: string): Promise<{ ann: Page; page: Page; widget: FrameLocator }> {
  const ann = await signIn(browser, 'ann@demo.test', { viewport: { width: 1280, height: 800 } });
  await ann.goto(`${BASE()}/conversations`);
  await expect(ann.locator('.conn')).toHaveText('live');
  const before = await listedRows(ann);
  const { page, widget } = await visitorWrites(browser, text);
  await (await newRow(ann, before)).click();
  await ann.getByRole('button', { name: 'Continue chat yourself' }).click();
  return { ann, page, widget };
}

// Ann's AI agent settings form, and a save that waits for the server's "Saved.".
export async function agentSettings(browser: Browser) {
  const ann = await signIn(browser, 'ann@demo.test');
  await ann.goto(`${BASE()}/settings/ai`);
  await live(ann);
  const settings = ann.locator('.agent-settings');
  const save = async () => {
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await expect(settings.locator('.form-ok')).toHaveText('Saved.');
  };
  return { settings, save };
}

// ---- Contrast ----------------------------------------------------------------------------------
// WCAG AA for text: every visible text node of the page (or frame) must reach 4.5:1 against the
// background it is drawn on (3:1 when large: ≥ 24 px, or ≥ 18.66 px bold). The background is the
// nearest ancestor's opaque background colour, with translucent ones blended over it.
type Low = { text: string; ratio: number; color: string; background: string };
export async function lowContrast(target: Page | Frame): Promise<Low[]> {
  return target.evaluate(() => {
    const parse = (c: string): number[] => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return [0, 0, 0, 0];
      const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    };
    const blend = (top: number[], under: number[]) => {
      const a = top[3];
      return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1);
    };
    const lum = (c: number[]) => {
      const f = (v: number) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
      return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
    };
    const background = (el: Element | null): number[] => {
      const layers: number[][] = [];
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
      }
      let bg = [255, 255, 255, 1];
      for (const l of layers.reverse()) bg = blend(l, bg);
      return bg;
    };
    const low: { text: string; ratio: number; color: string; background: string }[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set<Element>();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || seen.has(el) || !(n.textContent ?? '').trim()) continue;
      seen.add(el);
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || style.visibility === 'hidden' || el.closest('[aria-hidden="true"], .sr-only')) continue;
      if (Number(style.opacity) === 0) continue;
      const bg = background(el);
      const fg = blend(parse(style.color), bg);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const disabled = (el.closest('button, input, textarea, select') as HTMLButtonElement | null)?.disabled;
      if (!disabled && ratio < (large ? 3 : 4.5)) {
        low.push({ text: (n.textContent ?? '').trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100, color: style.color, background: `rgb(${bg.slice(0, 3).map(Math.round).join(', ')})` });
      }
    }
    return low;
  });
}

export async function expectContrast(target: Page | Frame, where: string) {
  expect(await lowContrast(target), `text below WCAG AA contrast in ${where}`).toEqual([]);
}
