// What the dashboard's list and toasts say, and the widget's header in every handoff state
// (issue 29). Other tests of the suite leave conversations behind (some still waiting), so these
// find their own conversations as the rows that appear (`newRow`).
import { dashboardWithClock, expect, listedRows, newRow, noWaitingRequests, openWidget, signIn, test, visitorWrites } from './support';

test('a conversation with the AI is marked active while its visitor writes, and quiet again after', async ({ browser }) => {
  const agent = await dashboardWithClock(browser, 'ann@demo.test');
  const before = await listedRows(agent);

  await visitorWrites(browser, 'Do you ship to Iceland?');
  // Answered by the AI, and the visitor is chatting now: "!" and the red relative time.
  const item = await newRow(agent, before);
  await expect(item).toHaveAttribute('data-state', 'ai');
  await expect(item.locator('.badge')).toHaveText('AI');
  await expect(item.locator('.attention')).toHaveText('!');
  await expect(item.locator('.since')).toHaveText('a few seconds ago');
  await expect(item).toHaveClass(/\bactive\b/);
  // The preview is the AI's answer, the last message a person or the AI wrote.
  await expect(item.locator('.preview')).not.toHaveText('');

  // Six quiet minutes later it is no longer active: no mark, no red time.
  await agent.clock.fastForward('06:00');
  await expect(item.locator('.attention')).toHaveText('');
  await expect(item.locator('.since')).toHaveCount(0);
  await expect(item).not.toHaveClass(/\bactive\b/);
});

test('four waiting requests collapse into one toast that opens the oldest; dismissing clears them', async ({ browser }) => {
  const agent = await signIn(browser, 'bob@demo.test');
  await noWaitingRequests(agent);
  const rows: string[] = [];
  for (let i = 1; i <= 4; i++) {
    const before = await listedRows(agent);
    const { widget } = await visitorWrites(browser, `Question number ${i}`);
    await widget.getByRole('button', { name: 'Talk to a human' }).click();
    await expect(widget.locator('.widget-status')).toHaveText('Waiting for a human…');
    rows.push((await (await newRow(agent, before)).getAttribute('href'))!);
  }
  // All four on top of the list, waiting, the longest waiting first.
  const waiting = agent.locator('.conv-item[data-state="requested"]');
  await expect(waiting).toHaveCount(4);
  expect(await listedRows(agent).then((l) => l.slice(0, 4)), 'requests on top, oldest first').toEqual(rows);

  // Beyond three, one toast: "N requests waiting"; no single-request toasts.
  const summary = agent.locator('.toast-summary');
  await expect(summary).toBeVisible();
  await expect(summary.locator('strong')).toHaveText(/^\d+ requests waiting$/);
  await expect(summary.locator('strong')).toHaveText('4 requests waiting');
  await expect(agent.locator('.toast:not(.toast-summary):not(.toast-mail)')).toHaveCount(0);
  // It stays clear of the reply box: bottom left, over the list.
  const box = (await summary.boundingBox())!;
  const list = (await agent.locator('.conv-list').boundingBox())!;
  expect(box.x + box.width).toBeLessThanOrEqual(list.x + list.width + 1);
  await agent.screenshot({ path: 'screenshots/toasts-collapsed.png' });

  // It opens the longest-waiting request.
  await summary.locator('.toast-open').click();
  await expect(agent).toHaveURL(/\/conversations\/[0-9a-f]{32}$/);
  await expect(agent).toHaveURL(new RegExp(`${rows[0]}$`));
  await expect(agent.locator('.conv-item').first()).toHaveClass(/\bselected\b/);

  // Dismissed on this screen: the toast goes, the requests stay in the list.
  await summary.locator('.toast-close').click();
  await expect(summary).toHaveCount(0);
  await expect(agent.locator('.toast:not(.toast-mail)')).toHaveCount(0);
  await expect(waiting.first()).toBeVisible();
  // Handle them all, so that later tests start without these requests.
  for (const href of rows) {
    await agent.locator(`.conv-item[href="${href}"]`).click();
    await agent.getByRole('button', { name: 'Handle chat' }).click();
    await expect(agent.locator(`.conv-item[href="${href}"]`)).toHaveAttribute('data-state', 'human');
  }
});

test('at 360 px the widget header says who answers in every state, never cut off', async ({ browser }) => {
  const agent = await signIn(browser, 'bob@demo.test');
  const before = await listedRows(agent);
  const page = await (await browser.newContext({ viewport: { width: 360, height: 740 } })).newPage();
  const widget = await openWidget(page);
  const title = widget.locator('.widget-title strong');
  const status = widget.locator('.widget-status');
  const uncut = async (state: string) => {
    for (const el of [title, status]) {
      const fits = await el.evaluate((e) => e.scrollWidth <= e.clientWidth + 1);
      expect(fits, `${state}: "${await el.textContent()}" is cut off`).toBe(true);
    }
    await page.screenshot({ path: `screenshots/widget-phone-${state}.png` });
  };

  await expect(title).toHaveText('Ada');
  await expect(status).toHaveText('AI assistant');
  await uncut('ai');

  const composer = widget.getByLabel('Message');
  await composer.fill('Is my size in stock?');
  await composer.press('Enter');
  await widget.getByRole('button', { name: 'Talk to a human' }).click();
  await expect(title).toHaveText('Ada');
  await expect(status).toHaveText('Waiting for a human…');
  await uncut('requested');

  await (await newRow(agent, before)).click();
  await agent.getByRole('button', { name: 'Handle chat' }).click();
  await expect(title).toHaveText('Bob Agent');
  await expect(status).toHaveText('A person from our team');
  await uncut('human');

  await agent.getByRole('button', { name: 'Pass chat to AI' }).click();
  await expect(title).toHaveText('Ada');
  await expect(status).toHaveText('AI assistant');
  await uncut('back-to-ai');
});
