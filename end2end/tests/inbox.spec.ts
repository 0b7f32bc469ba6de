// The agent's inbox (issue 22): filters with live counts, requests on top, older conversations
// read on scrolling, closed conversations open read-only, a filtered list rendered without
// JavaScript.
import { type Page } from '@playwright/test';
import { BASE, allowConsole, expect, listedRows, newRow, noWaitingRequests, signIn, test, visitorWrites } from './support';

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
  await expect(ann.locator('.composer-hint')).toHaveText('This conversation is closed: read-only.');

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
