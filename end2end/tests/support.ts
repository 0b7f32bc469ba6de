// Shared steps of the browser suite: signing in to the dashboard and opening the widget on the
// "customer site" (another origin, started by global-setup.ts).
import { expect, type Browser, type BrowserContextOptions, type Page } from '@playwright/test';

export const BASE = () => process.env.BASE_URL!;
export const CUSTOMER = () => process.env.CUSTOMER_URL!;

export async function signIn(browser: Browser, email: string, options: BrowserContextOptions = {}): Promise<Page> {
  const page = await signInAs(browser, email, 'handoff-demo', /\/conversations$/, options);
  await expect(page.locator('.conn')).toHaveText('live');
  return page;
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

export async function openWidget(page: Page) {
  await page.goto(CUSTOMER());
  await page.locator('#handoff-launcher').click();
  const widget = page.frameLocator('#handoff-frame');
  await expect(widget.locator('.msg[data-author="ai"]').first()).toContainText("Hi! I'm Ada");
  return widget;
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
