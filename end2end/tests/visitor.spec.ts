// The visitor context panel (issue 22): beside the open conversation, the page the visitor is on
// (updated live when they move on the customer's site, by a single-page address change or by
// loading another page, where the chat stays open), the pages before it, where they came from,
// their browser, language and local time. Page addresses are links that open without an opener
// or referrer; page titles are text. On a phone the panel is a row under the labels that opens.
import { CUSTOMER, expect, expectContrast, listedRows, newRow, signIn, test } from './support';

test('the visitor panel shows where the visitor is, live', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test', { viewport: { width: 1280, height: 800 } });
  const before = await listedRows(ann);

  // A visitor from a search engine, with a German browser in Berlin.
  const visitor = await (await browser.newContext({ locale: 'de-DE', timezoneId: 'Europe/Berlin' })).newPage();
  await visitor.goto(`${CUSTOMER()}/?utm=ad`, { referer: 'https://search.example/?q=acme+shoes' });
  await visitor.locator('#handoff-launcher').click();
  const widget = visitor.frameLocator('#handoff-frame');
  await expect(widget.locator('.msg[data-author="ai"]').first()).toContainText("Hi! I'm Ada");
  await widget.getByLabel('Message').fill('Do you ship to Austria?');
  await widget.getByLabel('Message').press('Enter');
  await expect(widget.locator('.msg[data-author="ai"]')).toHaveCount(2);

  const row = await newRow(ann, before);
  await row.click();
  const panel = ann.getByRole('complementary', { name: 'Visitor details' });
  const now = panel.getByTestId('current-page');
  await expect(now.getByRole('link', { name: 'Acme Store' })).toHaveAttribute('href', `${CUSTOMER()}/?utm=ad`);
  await expect(now.getByRole('link')).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(now.getByRole('link')).toHaveAttribute('target', '_blank');
  const facts = panel.locator('.vp-facts');
  await expect(facts).toContainText('Came from');
  await expect(facts).toContainText('https://search.example/?q=acme+shoes');
  await expect(facts).toContainText(/Chrome \d+ on Linux/);
  await expect(facts).toContainText('de-DE');
  await expect(facts).toContainText(/\d\d:\d\d \(Europe\/Berlin, UTC\+[12]\)/);

  // The customer's single-page app moves on; its title is text, never markup.
  await visitor.evaluate(() => {
    history.pushState({}, '', '/shoes?size=42');
    document.title = '<b>Shoes</b> & boots';
  });
  await expect(now).toContainText('<b>Shoes</b> & boots');
  await expect(now.locator('b')).toHaveCount(0);
  await expect(now.getByRole('link')).toHaveAttribute('href', `${CUSTOMER()}/shoes?size=42`);
  const pages = panel.locator('.vp-pages li');
  await expect(pages).toHaveCount(2);
  await expect(pages.first()).toContainText('<b>Shoes</b> & boots'); // newest first
  await expect(pages.last()).toContainText('Acme Store');

  // Another page of the site is loaded (from another site, say): the chat is open again there,
  // and the panel follows.
  await visitor.goto(`${CUSTOMER()}/pricing`, { referer: 'https://other.example/' });
  await expect(visitor.locator('#handoff-launcher')).toHaveAttribute('aria-expanded', 'true');
  await expect(visitor.frameLocator('#handoff-frame').locator('.msg', { hasText: 'Do you ship to Austria?' })).toBeVisible();
  await expect(now.getByRole('link', { name: 'Pricing · Acme Store' })).toBeVisible();
  await expect(pages).toHaveCount(3);
  // The first referrer stays: where the visitor came from, not the site's previous page.
  await expect(facts).toContainText('https://search.example/?q=acme+shoes');
  await expectContrast(ann, 'dashboard with the visitor panel');
  await ann.screenshot({ path: 'screenshots/visitor-panel.png' });

  // An address of 6,000 characters and a title of 1,000: cut (the server keeps 2 KB), and the
  // chat goes on working. A #fragment (it may hold a token) is never told.
  await visitor.evaluate(() => {
    history.pushState({}, '', `/search?q=${'x'.repeat(6000)}#access_token=secret`);
    document.title = 'T'.repeat(1000);
  });
  await expect(now.locator('.vp-url')).toHaveText(`${CUSTOMER()}/search?q=`.padEnd(2048, 'x'));
  await expect(now.getByRole('link')).toHaveText('T'.repeat(200));
  await expect(panel).not.toContainText('access_token');
  const chat = visitor.frameLocator('#handoff-frame');
  await chat.getByLabel('Message').fill('What are your opening hours?');
  await chat.getByLabel('Message').press('Enter');
  await expect(chat.locator('.msg[data-author="ai"]')).toHaveCount(3);
  await visitor.evaluate(() => { history.back(); document.title = 'Pricing · Acme Store'; });
  await expect(now.getByRole('link', { name: 'Pricing · Acme Store' })).toBeVisible();

  // A phone: the panel is a row naming the page; tapped, it opens.
  const phone = await signIn(browser, 'ann@demo.test', { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  await phone.goto(ann.url());
  const toggle = phone.getByRole('button', { name: /Visitor details/ });
  await expect(toggle).toContainText('Pricing · Acme Store');
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  expect((await toggle.boundingBox())!.height).toBeGreaterThanOrEqual(44);
  await expect(phone.getByTestId('current-page')).toBeHidden();
  // Under the conversation's head and labels, above its transcript.
  const top = async (selector: string) => (await phone.locator(selector).boundingBox())!.y;
  expect(await top('.visitor-panel')).toBeGreaterThan(await top('.conv-head'));
  expect(await top('.visitor-panel')).toBeLessThan(await top('.conv-scroll'));
  await toggle.tap();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await expect(phone.getByTestId('current-page')).toBeVisible();
  await expect(phone.locator('.vp-facts')).toContainText('de-DE');
  await phone.screenshot({ path: 'screenshots/visitor-panel-phone.png' });
  // The transcript and the composer's hint stay on the screen under the open panel.
  expect(await top('.visitor-panel')).toBeLessThan(await top('.conv-scroll'));
  await expect(phone.locator('.conv-scroll')).toBeInViewport();
  await expect(phone.locator('.composer-hint')).toBeInViewport();
});

test('the visitor panel is readable in dark mode', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test', { colorScheme: 'dark', viewport: { width: 1280, height: 800 } });
  const before = await listedRows(ann);
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(`${CUSTOMER()}/pricing`, { referer: 'https://news.example/' });
  await visitor.locator('#handoff-launcher').click();
  const widget = visitor.frameLocator('#handoff-frame');
  await widget.getByLabel('Message').fill('How much is the big plan?');
  await widget.getByLabel('Message').press('Enter');
  await expect(widget.locator('.msg[data-author="ai"]')).toHaveCount(2);
  await (await newRow(ann, before)).click();
  await expect(ann.getByTestId('current-page')).toContainText('Pricing · Acme Store');
  await expectContrast(ann, 'dark dashboard with the visitor panel');
  await ann.screenshot({ path: 'screenshots/visitor-panel-dark.png' });
});

test('a tab keeps the chat across the site\'s pages once the visitor wrote, without taking the focus', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test', { viewport: { width: 1280, height: 800 } });
  const before = await listedRows(ann);
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(CUSTOMER());
  const launcher = visitor.locator('#handoff-launcher');
  await launcher.click();
  const chat = visitor.frameLocator('#handoff-frame');
  await expect(chat.locator('.msg[data-author="ai"]').first()).toContainText("Hi! I'm Ada");
  // Only opened: the next page does not load the chat.
  await visitor.goto(`${CUSTOMER()}/pricing`);
  await expect(launcher).toHaveAttribute('aria-expanded', 'false');
  await expect(visitor.locator('#handoff-frame')).toHaveCount(0);

  await launcher.click();
  await chat.getByLabel('Message').fill('Where is my parcel?');
  await chat.getByLabel('Message').press('Enter');
  await expect(chat.locator('.msg[data-author="ai"]')).toHaveCount(2);
  await launcher.click(); // closed again
  // Now the next page loads it hidden: it tells the conversation the page, the focus stays put.
  await visitor.goto(CUSTOMER());
  await expect(visitor.locator('#handoff-frame')).toBeAttached();
  await expect(visitor.locator('#handoff-frame')).toBeHidden();
  await expect(launcher).toHaveAttribute('aria-expanded', 'false');
  await (await newRow(ann, before)).click();
  await expect(ann.getByTestId('current-page').getByRole('link', { name: 'Acme Store' })).toBeVisible();
  expect(await visitor.evaluate(() => document.activeElement?.tagName)).toBe('BODY');
  await expect(ann.locator('.vp-pages li')).toHaveCount(3); // home, pricing (opened there), home
});
