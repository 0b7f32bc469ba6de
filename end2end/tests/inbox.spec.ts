// The agent's inbox (issue 22): filters with live counts, requests on top, older conversations
// read on scrolling, closed conversations open read-only, a filtered list rendered without
// JavaScript.
import { type Browser, type Page } from '@playwright/test';
import { BASE, allowConsole, expect, expectContrast, listedRows, live, newRow, noWaitingRequests, openWidget, signIn, signInAs, test, visitorWrites } from './support';

/** A new visitor writes `text` and asks for a human: the row that appears on `agent`'s list,
 * waiting, and the visitor's widget. */
async function visitorAsksForHuman(browser: Browser, agent: Page, text: string) {
  const before = await listedRows(agent);
  const { widget } = await visitorWrites(browser, text);
  await widget.getByRole('button', { name: 'Talk to a human' }).click();
  const row = await newRow(agent, before);
  await expect(row).toHaveAttribute('data-state', 'requested');
  return { row, widget };
}

const count = (agent: Page, filter: string) => agent.locator(`.filter[data-filter="${filter}"] .count`);
const counted = async (agent: Page, filter: string) => Number(await count(agent, filter).textContent());

test('filters list their conversations with live counts; a request stays on top', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test');
  await noWaitingRequests(ann);
  await expect(count(ann, 'requests')).toHaveText('0');
  const [all, withAi, mine, closed] = [await counted(ann, 'all'), await counted(ann, 'with_ai'),
    await counted(ann, 'mine'), await counted(ann, 'closed')];

  // A new conversation with the AI: All and With AI count it, live.
  const before = await listedRows(ann);
  const { widget } = await visitorWrites(browser, 'Which filter am I in?');
  const row = await newRow(ann, before);
  const href = (await row.getAttribute('href'))!;
  await expect(count(ann, 'all')).toHaveText(String(all + 1));
  await expect(count(ann, 'with_ai')).toHaveText(String(withAi + 1));

  // The visitor asks for a human: one request, marked, on top of All and of Requests.
  await widget.getByRole('button', { name: 'Talk to a human' }).click();
  await expect(count(ann, 'requests')).toHaveText('1');
  await expect(count(ann, 'requests')).toHaveClass(/\bhot\b/);
  await expect(count(ann, 'with_ai')).toHaveText(String(withAi));
  await expect(ann.locator('.conv-item').first()).toHaveAttribute('href', href);
  await ann.screenshot({ path: 'screenshots/inbox-filters.png' });

  // Mine does not hold it; Requests does, on top.
  await ann.locator('.filter[data-filter="mine"]').click();
  await expect(ann).toHaveURL(/\/conversations\?filter=mine$/);
  await expect(ann.locator('.filter[data-filter="mine"]')).toHaveAttribute('aria-current', 'page');
  await expect(ann.locator(`.conv-item[href^="${href}"]`)).toHaveCount(0);
  await ann.locator('.filter[data-filter="requests"]').click();
  await expect(ann).toHaveURL(/\?filter=requests$/);
  await expect(ann.locator('.conv-item')).toHaveCount(1);
  await expect(ann.locator('.conv-item').first()).toHaveAttribute('href', `${href}?filter=requests`);

  // Opened from the filter (which it keeps), handled: it moves from Requests to Mine.
  await ann.locator('.conv-item').first().click();
  await expect(ann).toHaveURL(new RegExp(`${href}\\?filter=requests$`));
  await ann.getByRole('button', { name: 'Handle chat' }).click();
  await expect(count(ann, 'requests')).toHaveText('0');
  await expect(count(ann, 'mine')).toHaveText(String(mine + 1));
  await expect(ann.locator('.conv-item')).toHaveCount(0);
  await expect(ann.locator('.conv-list')).toContainText('No conversations in Requests.');
  await ann.locator('.filter[data-filter="mine"]').click();
  await expect(ann.locator(`.conv-item[href="${href}?filter=mine"]`)).toBeVisible();

  // Closed: counted, listed under Closed, opened read-only with its whole transcript.
  await ann.locator('.conv-head .actions').getByRole('button', { name: 'Close' }).click();
  await expect(count(ann, 'closed')).toHaveText(String(closed + 1));
  await expect(count(ann, 'mine')).toHaveText(String(mine));
  await ann.locator('.filter[data-filter="closed"]').click();
  const closedRow = ann.locator(`.conv-item[href="${href}?filter=closed"]`);
  await expect(closedRow).toBeVisible();
  await closedRow.click();
  await expect(ann.locator('.conv-view .msg', { hasText: 'Which filter am I in?' })).toBeVisible();
  await expect(ann.locator('.conv-view .composer')).toHaveCount(0);
  await expect(ann.locator('.composer-hint')).toHaveText('This conversation is closed: read-only. Private notes can still be added.');

  // Without JavaScript a filtered address renders that list on the server.
  allowConsole(/\/pkg\/handoff\.[^ ]*\.js: csp$/);
  const noJs = await browser.newContext({ javaScriptEnabled: false, storageState: await ann.context().storageState() });
  const page = await noJs.newPage();
  await page.goto(`${BASE()}/conversations?filter=closed`);
  await expect(page.locator(`.conv-item[href="${href}?filter=closed"]`)).toBeVisible();
  await expect(page.locator('.filter[data-filter="closed"]')).toHaveAttribute('aria-current', 'page');
  await expect(page.locator('.conv-item[data-state="ai"]')).toHaveCount(0);
  await noJs.close();
});

test('older conversations are read as the agent scrolls to the end of the list', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test');
  // More conversations than one page (50) holds.
  for (let i = 0; i < 60; i++) {
    const r = await ann.request.post(`${BASE()}/api/widget/session`, { form: { widget_id: 'demo' } });
    expect(r.ok(), await r.text()).toBe(true);
  }
  await ann.reload();
  await expect(ann.locator('.conn')).toHaveText('live');
  const total = await counted(ann, 'all');
  expect(total).toBeGreaterThan(60);
  const first = await ann.locator('.conv-item').count();
  expect(first).toBeLessThan(total);
  await expect(ann.getByRole('button', { name: 'Show older conversations' })).toBeVisible();
  // Scrolling to the end reads the next pages, until every conversation is listed.
  await expect.poll(async () => {
    await ann.locator('.conv-list').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    return ann.locator('.conv-item').count();
  }, { message: 'every conversation listed after scrolling', timeout: 30_000 }).toBe(total);
  await expect(ann.getByRole('button', { name: 'Show older conversations' })).toHaveCount(0);
  const rows = await listedRows(ann);
  expect(new Set(rows).size, 'no conversation listed twice').toBe(rows.length);
});

test('search finds a message in an old closed conversation and opens it at that message', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test');
  const before = await listedRows(ann);
  const { widget } = await visitorWrites(browser, 'Do you deliver pineapples to Reykjavik?');
  const href = (await (await newRow(ann, before)).getAttribute('href'))!;
  // Many later messages, so the match is far from the bottom of the transcript; then closed.
  for (let i = 1; i <= 12; i++) {
    await widget.getByLabel('Message').fill(`Later message number ${i}`);
    await widget.getByLabel('Message').press('Enter');
  }
  await ann.goto(`${BASE()}${href}`);
  await live(ann);
  await ann.getByRole('button', { name: 'Continue chat yourself' }).click();
  await ann.locator('.conv-head .actions').getByRole('button', { name: 'Close' }).click();
  await expect(ann.locator('.conv-head')).toContainText('Closed');

  await ann.goto(`${BASE()}/conversations`);
  await expect(ann.locator('.conn')).toHaveText('live');
  await ann.getByLabel('Search conversations').fill('reykjavik PINEAPPLES');
  await ann.getByLabel('Search conversations').press('Enter');
  await expect(ann).toHaveURL(/\/conversations\?q=reykjavik\+PINEAPPLES$/);
  const hit = ann.locator('.hit-item');
  await expect(hit).toHaveCount(1);
  await expect(hit.locator('mark')).toHaveText(['pineapples', 'Reykjavik']);
  await expect(hit.locator('.badge')).toHaveText('Closed');
  await expect(ann.locator('.filters')).toHaveCount(0);
  await ann.screenshot({ path: 'screenshots/inbox-search.png' });

  await hit.click();
  await expect(ann).toHaveURL(new RegExp(`${href}\\?q=reykjavik%20PINEAPPLES&at=\\d+$`));
  const found = ann.locator('.conv-view .msg[data-hit]');
  await expect(found).toContainText('Do you deliver pineapples to Reykjavik?');
  await expect(found).toBeInViewport();
  // Who wrote each message, by name (the names arrive after the messages).
  await expect(found.locator('.msg-who')).toHaveText(/^Visitor [0-9A-F]{4}$/);
  await expect(ann.locator('.conv-view .msg[data-author="ai"] .msg-who').first()).toHaveText('Ada (AI)');
  await expect(ann.locator('.composer-hint')).toHaveText('This conversation is closed: read-only. Private notes can still be added.');

  // Text that looks like markup or query syntax is only searched for, and shown as text.
  await ann.getByLabel('Search conversations').fill('<img src=x onerror=alert(1)> "NEAR(*');
  await ann.getByLabel('Search conversations').press('Enter');
  await expect(ann.locator('.conv-list [role="status"]')).toHaveText('Nothing found for “<img src=x onerror=alert(1)> "NEAR(*”.');
  await expect(ann.locator('.conv-list img')).toHaveCount(0);
  await ann.getByRole('link', { name: 'Clear' }).click();
  await expect(ann.locator('.filters')).toBeVisible();
  await expect(ann.getByLabel('Search conversations')).toHaveValue('');
});

test('keyboard: from a waiting request to Handle chat, a reply and back to the AI without the mouse', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test');
  await noWaitingRequests(ann);
  const { row, widget } = await visitorAsksForHuman(browser, ann, 'Do you sell mechanical keyboards?');
  const href = (await row.getAttribute('href'))!;

  await ann.keyboard.press('?');
  const help = ann.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(help).toContainText('Handle chat, or Continue chat yourself');
  await ann.keyboard.press('Escape');
  await expect(help).toHaveCount(0);

  await ann.keyboard.press('j'); // the request is on top
  await expect(row).toBeFocused();
  await ann.keyboard.press('Enter');
  await expect(ann).toHaveURL(new RegExp(`${href}$`));
  await expect(ann.getByRole('button', { name: 'Handle chat' })).toBeVisible(); // as the agent sees it
  await ann.keyboard.press('h');
  await expect(ann.locator('.conv-head')).toContainText('Ann Agent holds this chat');
  await ann.keyboard.press('r');
  await expect(ann.getByLabel('Reply')).toBeFocused();
  // Typing in the reply box fires no shortcut (the text has h, p, r, j and /).
  await ann.keyboard.type('Happy to help: type j/k or press p?');
  await ann.keyboard.press('Enter');
  await expect(widget.locator('.msg', { hasText: 'Happy to help: type j/k or press p?' })).toBeVisible();
  await expect(ann.locator('.conv-head [data-action="pass"]')).toBeVisible();
  await expect(ann.getByRole('dialog', { name: 'Keyboard shortcuts' })).toHaveCount(0);

  await ann.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await ann.keyboard.press('p');
  await expect(ann.locator('.conv-head')).toContainText('is answering');
  await expect(widget.locator('.msg[data-author="system"]').last()).toContainText('passed the chat back');
  await ann.keyboard.press('/');
  await expect(ann.getByLabel('Search conversations')).toBeFocused();
});

test('dark mode follows the system: dashboard, settings and widget readable in each state', async ({ browser }) => {
  const dark = { colorScheme: 'dark' as const };
  const ann = await signIn(browser, 'ann@demo.test', dark);
  await noWaitingRequests(ann);
  const before = await listedRows(ann); // (the conversation starts when the widget opens)
  const visitor = await (await browser.newContext(dark)).newPage();
  const widget = await openWidget(visitor);
  const frame = () => visitor.frame({ url: /\/widget\// })!;
  await expect(ann.locator('html')).toHaveCSS('background-color', 'rgb(15, 20, 27)');
  await expectContrast(frame(), 'the widget with the AI, dark');

  await widget.getByLabel('Message').fill('Reading in the dark');
  await widget.getByLabel('Message').press('Enter');
  await widget.getByRole('button', { name: 'Talk to a human' }).click();
  const row = await newRow(ann, before);
  await row.click();
  await expectContrast(ann, 'the dashboard with a request, dark');
  await ann.screenshot({ path: 'screenshots/dark-request.png' });
  await ann.getByRole('button', { name: 'Handle chat' }).click();
  await expect(ann.locator('.conv-head')).toContainText('Ann Agent holds this chat');
  await ann.getByLabel('Reply').fill('Hello from the dark side');
  await ann.getByLabel('Reply').press('Enter');
  await expect(widget.locator('.msg', { hasText: 'Hello from the dark side' })).toBeVisible();
  await expectContrast(ann, 'the dashboard, chat held, dark');
  await expectContrast(frame(), 'the widget in a human chat, dark');
  await ann.screenshot({ path: 'screenshots/dark-held.png' });
  await visitor.screenshot({ path: 'screenshots/dark-widget.png' });
  await ann.getByLabel('Search conversations').fill('dark side');
  await ann.getByLabel('Search conversations').press('Enter');
  await expect(ann.locator('.hit-item mark').first()).toBeVisible();
  await expectContrast(ann, 'search hits, dark');

  const admin = await signInAs(browser, 'admin@demo.test', 'handoff-demo', /\/admin$/, dark);
  await expectContrast(admin, 'the admin page, dark');
  for (const path of ['/settings/ai', '/settings/widgets', '/settings/users']) {
    await admin.goto(`${BASE()}${path}`);
    await expect(admin.locator('.topbar[data-hydrated="true"]')).toBeVisible();
    await expectContrast(admin, `${path}, dark`);
  }
  await admin.screenshot({ path: 'screenshots/dark-settings.png', fullPage: true });
});

test('a phone (390×844) works through a whole handoff: list, conversation with a way back, tap targets', async ({ browser }) => {
  const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
  const ann = await signIn(browser, 'ann@demo.test', phone);
  await noWaitingRequests(ann);
  const { row, widget } = await visitorAsksForHuman(browser, ann, 'Writing to someone on a phone');
  await expect(ann.locator('.conv-view')).toBeHidden();
  const pageWidth = () => ann.evaluate(() => document.documentElement.scrollWidth);
  expect(await pageWidth(), 'nothing wider than the phone').toBeLessThanOrEqual(390);
  // The request's toast sits in a band under the top bar: over neither the navigation nor the list.
  const toast = ann.locator('.toast').first();
  await expect(toast).toBeVisible();
  const [t, bar, list] = await Promise.all([toast.boundingBox(), ann.locator('.topbar').boundingBox(), ann.locator('.conv-list').boundingBox()]);
  expect(t!.y, 'the toast is below the top bar and its navigation').toBeGreaterThanOrEqual(bar!.y + bar!.height - 1);
  expect(t!.y + t!.height, 'the toast is above the list').toBeLessThanOrEqual(list!.y + 1);
  await ann.screenshot({ path: 'screenshots/phone-list.png' });

  await row.tap();
  await expect(ann.locator('.conv-list')).toBeHidden();
  await expect(ann.locator('.conv-view')).toBeVisible();
  await ann.getByRole('button', { name: 'Handle chat' }).tap();
  await expect(ann.locator('.conv-head')).toContainText('Ann Agent holds this chat');
  await ann.getByLabel('Reply').fill('Answered from a phone');
  await ann.getByRole('button', { name: 'Send', exact: true }).tap();
  await expect(widget.locator('.msg', { hasText: 'Answered from a phone' })).toBeVisible();
  // Every control the agent taps is at least 44 px tall, and the reply box is in view.
  for (const control of [ann.getByRole('button', { name: 'Pass chat to AI' }), ann.getByRole('button', { name: 'Send', exact: true }),
    ann.getByLabel('Reply'), ann.locator('.back-link'), ann.locator('.composer .attach-btn')]) {
    expect((await control.boundingBox())!.height).toBeGreaterThanOrEqual(44);
  }
  await expect(ann.getByLabel('Reply')).toBeInViewport();
  expect(await pageWidth(), 'nothing wider than the phone').toBeLessThanOrEqual(390);
  await ann.screenshot({ path: 'screenshots/phone-conversation.png' });
  await ann.getByRole('button', { name: 'Pass chat to AI' }).tap();
  await expect(ann.locator('.conv-head')).toContainText('is answering');

  await ann.locator('.back-link').tap();
  await expect(ann.locator('.conv-list')).toBeVisible();
  await expect(ann.locator('.conv-view')).toBeHidden();
  for (const filter of await ann.locator('.filter').all()) {
    expect((await filter.boundingBox())!.height).toBeGreaterThanOrEqual(44);
  }
  // A push notification's link (/conversations/{id}, as the server sends it) opens the
  // conversation view directly, rendered with the page: its transcript, not the list.
  const link = await row.getAttribute('href');
  await ann.goto(`${BASE()}${link}`);
  await expect(ann.locator('.topbar[data-hydrated="true"]')).toBeVisible();
  await expect(ann.locator('.conv-view .msg', { hasText: 'Answered from a phone' })).toBeVisible();
  await expect(ann.locator('.conv-list')).toBeHidden();
  await expect(ann.locator('.back-link')).toBeVisible();
});
