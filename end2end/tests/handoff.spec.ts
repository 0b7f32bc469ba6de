// A visitor on a customer's website and an agent in the dashboard, two browser contexts,
// clicking the real (hydrated, release-build) UI.
import { BASE, allowConsole, dashboardWithClock, expect, expectContrast, listedRows, live, newRow, noWaitingRequests, openWidget, signIn, signInAs, test, visitorWrites } from './support';

const XSS = '<img src=x onerror="window.__xss=1"><b>bold?</b>';

test('visitor asks the AI, requests a human, agent handles, chats, passes back', async ({ browser }) => {
  // Ann's dashboard, with no request of earlier tests waiting: the title counts this one only.
  const agent = await signIn(browser, 'ann@demo.test');
  await noWaitingRequests(agent);
  const visitorPage = await (await browser.newContext()).newPage();
  const widget = await openWidget(visitorPage);
  const composer = widget.getByLabel('Message');

  // The AI answers from the knowledge base.
  await composer.fill('What are your opening hours?');
  await composer.press('Enter');
  await expect(widget.locator('.msg[data-author="ai"]').last()).toContainText('Monday to Friday');

  await composer.fill(XSS);
  await widget.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(widget.locator('.msg[data-author="visitor"] .msg-text').last()).toHaveText(XSS);

  // The visitor asks for a human.
  await widget.getByRole('button', { name: 'Talk to a human' }).click();
  await expect(widget.locator('.widget-status')).toHaveText('Waiting for a human…');

  // The agent sees the request on top of the list, and the visitor chatting now: "!" and a red
  // relative time. The preview is what the visitor wrote, not the notice the widget showed.
  const item = agent.locator('.conv-item[data-state="requested"]').first();
  await expect(agent.locator('.conv-item').first()).toHaveAttribute('data-state', 'requested');
  await expect(item.locator('.attention')).toHaveText('!');
  await expect(item.locator('.since')).toHaveText('a few seconds ago');
  await expect(item.locator('.asked')).toHaveText('asked for a human a few seconds ago');
  await expect(item.locator('.preview')).toHaveText(XSS);
  await expect(agent).toHaveTitle('(1) Handoff');
  await expectContrast(agent, 'the dashboard with a request');
  await expectContrast(visitorPage.frame({ url: /\/widget\// })!, 'the widget while waiting');
  await item.click();
  await expect(agent.locator('.conv-view .msg[data-author="visitor"] .msg-text').last()).toHaveText(XSS);

  await agent.getByRole('button', { name: 'Handle chat' }).click();
  await expect(widget.locator('.msg[data-author="system"] .msg-text').last()).toHaveText('Ann Agent joined the chat.');
  // The header names who answers now, and that it is a person.
  await expect(widget.locator('.widget-title strong')).toHaveText('Ann Agent');
  await expect(widget.locator('.widget-status')).toHaveText('A person from our team');
  await expectContrast(agent, 'the dashboard, chat held');
  await expectContrast(visitorPage.frame({ url: /\/widget\// })!, 'the widget in a human chat');

  // Messages flow both ways, live.
  const reply = agent.getByLabel('Reply');
  await reply.fill("Hi, I'm Ann. How can I help?");
  await reply.press('Enter');
  await expect(widget.locator('.msg[data-author="agent"] .msg-text').last()).toHaveText(/Hi, I'm Ann\. How can I help\?/);
  await composer.fill('Thanks Ann, just checking.');
  await composer.press('Enter');
  await expect(agent.locator('.conv-view .msg[data-author="visitor"]').last()).toContainText('Thanks Ann, just checking.');

  // The visitor's HTML is shown as text, never run.
  expect(await agent.evaluate(() => (window as any).__xss)).toBeUndefined();
  expect(await agent.locator('.conv-view img').count()).toBe(0);

  await agent.screenshot({ path: 'screenshots/dashboard.png', fullPage: true });

  // Pass chat to AI: announced to the visitor, and the AI answers again.
  await agent.getByRole('button', { name: 'Pass chat to AI' }).click();
  await expect(widget.locator('.msg[data-author="system"] .msg-text').last()).toHaveText('Ann Agent passed the chat back to the AI assistant.');
  await composer.fill('How much does shipping cost?');
  await composer.press('Enter');
  await expect(widget.locator('.msg[data-author="ai"]').last()).toContainText('Shipping is free');
  // The chat follows the conversation: the newest message is in view.
  await expect(widget.locator('.msg[data-author="ai"]').last()).toBeInViewport();
  await visitorPage.screenshot({ path: 'screenshots/widget.png', fullPage: true });

  // A reload brings the history back, nothing duplicated.
  const again = await openWidget(visitorPage);
  await expect(again.locator('.msg', { hasText: 'Thanks Ann, just checking.' })).toHaveCount(1);
  await expect(again.locator('.msg[data-author="ai"]').last()).toContainText('Shipping is free');
});

test('Continue chat yourself on an AI conversation silences the AI', async ({ browser }) => {
  const visitorPage = await (await browser.newContext()).newPage();
  const widget = await openWidget(visitorPage);
  const composer = widget.getByLabel('Message');
  await composer.fill('Which payment methods do you accept?');
  await composer.press('Enter');
  await expect(widget.locator('.msg[data-author="ai"]').last()).toContainText('PayPal');

  // A visitor chatting with the AI right now is marked active: that is how an agent spots a
  // conversation to take over.
  const agent = await signIn(browser, 'bob@demo.test');
  const item = agent.locator('.conv-item[data-state="ai"]').first();
  await expect(item.locator('.preview')).toContainText('PayPal');
  await expect(item.locator('.attention')).toHaveText('!');
  await expect(item.locator('.since')).toHaveText('a few seconds ago');
  await item.click();
  await agent.getByRole('button', { name: 'Continue chat yourself' }).click();
  await expect(widget.locator('.msg[data-author="system"] .msg-text').last()).toHaveText('Bob Agent joined the chat.');

  const aiBefore = await widget.locator('.msg[data-author="ai"]').count();
  await composer.fill('What are your opening hours?');
  await composer.press('Enter');
  await expect(agent.locator('.conv-view .msg[data-author="visitor"]').last()).toContainText('opening hours');
  await visitorPage.waitForTimeout(1500); // longer than the AI's typing delay
  await expect(widget.locator('.msg[data-author="ai"]')).toHaveCount(aiBefore);
  await expect(agent.getByRole('button', { name: 'Pass chat to AI' })).toBeVisible();

  // Closing ends it for the visitor, who can start afresh.
  await agent.getByRole('button', { name: 'Close' }).click();
  await expect(widget.locator('.msg[data-author="system"] .msg-text').last()).toHaveText('This conversation was closed.');
  await widget.getByRole('button', { name: 'Start a new conversation' }).click();
  await expect(widget.locator('.msg')).toHaveCount(1); // a new conversation: just the greeting
  await expect(widget.locator('.msg[data-author="ai"]').first()).toContainText("Hi! I'm Ada");
  await expect(widget.getByLabel('Message')).toBeVisible();
});

test('a handoff request rings and shows a toast that opens the conversation', async ({ browser }) => {
  // A fresh tab nobody has clicked in yet: the browser blocks sound there, the hint says so,
  // and a click unlocks it.
  const agent = await dashboardWithClock(browser, 'ann@demo.test');
  await noWaitingRequests(agent);
  const hint = agent.getByRole('button', { name: /Enable sound alerts/ });
  await expect(hint).toBeVisible();
  await hint.click();
  await expect(hint).toBeHidden();

  const visitorPage = await (await browser.newContext()).newPage();
  const widget = await openWidget(visitorPage);
  await widget.getByRole('button', { name: 'Talk to a human' }).click();

  const toast = agent.locator('.toast');
  await expect(toast).toHaveCount(1);
  await expect(toast).toContainText('is asking for a human');
  await expect(toast.locator('.since')).toHaveText('a few seconds ago');
  await expect.poll(() => agent.evaluate(() => Number(document.body.dataset.rings || 0))).toBeGreaterThan(0);
  await agent.screenshot({ path: 'screenshots/toast.png' });

  // The red relative time keeps updating while the visitor waits.
  await agent.clock.fastForward('02:30');
  await expect(toast.locator('.since')).toHaveText(/^\d+ minutes ago$/);
  // This visitor only clicked the button (wrote nothing): waiting, not chatting.
  const waiting = agent.locator('.conv-item[data-state="requested"]').first();
  await expect(waiting.locator('.asked')).toHaveText(/^asked for a human \d+ minutes ago$/);
  await expect(waiting.locator('.attention')).toHaveText('');

  await toast.locator('.toast-open').click();
  await expect(agent).toHaveURL(/\/conversations\/[0-9a-f]{32}$/);
  await agent.getByRole('button', { name: 'Handle chat' }).click();
  // Handled: the toast goes and the ringing stops.
  await expect(toast).toHaveCount(0);
  const rings = await agent.evaluate(() => Number(document.body.dataset.rings || 0));
  await agent.waitForTimeout(4500);
  expect(await agent.evaluate(() => Number(document.body.dataset.rings || 0))).toBe(rings);
});

test("a platform admin handles a request from the AI agent's conversations tab", async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test');
  await noWaitingRequests(ann);
  await ann.context().close();
  // From /admin, the AI agent's conversations tab: the same live list, marks and toasts.
  const admin = await signInAs(browser, 'admin@demo.test', 'handoff-demo', /\/admin$/);
  // No organization dashboard for an admin of no organization: /conversations leads to /admin.
  await expect(admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Conversations' })).toHaveCount(0);
  await admin.goto(`${BASE()}/conversations`);
  await expect(admin).toHaveURL(/\/admin$/);
  await live(admin);
  await admin.getByRole('link', { name: 'Conversations of Ada' }).click();
  await expect(admin).toHaveURL(/\/admin\/agents\/[^/]+\/conversations$/);
  await live(admin);
  await expect(admin.locator('.conn')).toHaveText('live');
  await expect(admin.locator('.tab-scope')).toContainText('Ada');
  const before = await listedRows(admin);

  const { widget } = await visitorWrites(browser, 'My order has not arrived');
  await widget.getByRole('button', { name: 'Talk to a human' }).click();
  await expect(widget.locator('.widget-status')).toHaveText('Waiting for a human…');

  const item = await newRow(admin, before);
  await expect(item).toHaveAttribute('data-state', 'requested');
  await expect(item.locator('.attention')).toHaveText('!');
  await expect(admin.locator('.conv-item').first()).toHaveAttribute('data-state', 'requested');
  await expect(admin.locator('.toast').first()).toContainText('is asking for a human');
  await admin.screenshot({ path: 'screenshots/admin-tab.png' });
  await item.click();
  await expect(admin).toHaveURL(/\/admin\/agents\/[^/]+\/conversations\/[0-9a-f]{32}$/);

  // Handled in the admin's name: the visitor sees who joined.
  await admin.getByRole('button', { name: 'Handle chat' }).click();
  await expect(widget.locator('.msg[data-author="system"] .msg-text').last()).toHaveText('Demo Admin joined the chat.');
  await expect(widget.locator('.widget-title strong')).toHaveText('Demo Admin');
  await expect(item).toHaveAttribute('data-state', 'human');
  await admin.getByLabel('Reply').fill('Hello from the platform team.');
  await admin.getByLabel('Reply').press('Enter');
  await expect(widget.locator('.msg[data-author="agent"] .msg-text').last()).toHaveText('Hello from the platform team.');
  await expectContrast(admin, "the admin's conversations tab");
  await admin.getByRole('button', { name: 'Pass chat to AI' }).click();
  await expect(widget.locator('.widget-status')).toHaveText('AI assistant');
  await expect(widget.locator('.widget-title strong')).toHaveText('Ada');
});

test('two agents click Handle chat at once: one wins, the other sees who took it', async ({ browser }) => {
  const agents = [await signIn(browser, 'ann@demo.test'), await signIn(browser, 'bob@demo.test')];
  await noWaitingRequests(agents[0]);
  const visitorPage = await (await browser.newContext()).newPage();
  const widget = await openWidget(visitorPage);
  const marker = `race ${Date.now()}`;
  await widget.getByLabel('Message').fill(marker);
  await widget.getByLabel('Message').press('Enter');
  await widget.getByRole('button', { name: 'Talk to a human' }).click();
  await expect(widget.locator('.widget-status')).toHaveText('Waiting for a human…');

  for (const a of agents) {
    await a.locator('.conv-item[data-state="requested"]').first().click(); // the only one waiting
    await expect(a.locator('.conv-view .msg[data-author="visitor"]').last()).toContainText(marker);
  }
  // The loser's click is answered 409 (the browser logs it): they are told who took it.
  allowConsole(/status of 409 \(Conflict\) \(http:\/\/[^)]*\/api\/handoff\/handle\)/);
  // Both clicks leave at once: Playwright's click() waits for a stable button, and the loser's
  // button may disappear (live state change) while it waits.
  const buttons = await Promise.all(agents.map((a) => a.getByRole('button', { name: 'Handle chat' }).elementHandle()));
  await Promise.all(buttons.map((b) => b!.evaluate((el) => (el as HTMLButtonElement).click())));

  await expect(widget.locator('.widget-title strong')).toHaveText(/(Ann|Bob) Agent/);
  const winnerName = (await widget.locator('.widget-title strong').textContent())!;
  const [winner, loser] = winnerName.startsWith('Ann') ? agents : [agents[1], agents[0]];
  await expect(loser.locator('.conv-view .notice')).toContainText(`already taken by ${winnerName}`);
  await expect(winner.getByLabel('Reply')).toBeVisible();
  await expect(loser.getByLabel('Reply')).toHaveCount(0);
});

test('keyboard: opening the chat focuses the message box; Tab stays inside; Escape closes it and returns to the bubble', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  const widget = await openWidget(page);
  await expect(widget.getByLabel('Message')).toBeFocused();
  // Nothing in the header is cut off at 360 px.
  const title = widget.locator('.widget-title strong');
  await expect(title).toHaveText("Ada");
  expect(await title.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
  await page.screenshot({ path: 'screenshots/widget-phone.png' });
  // Focus stays inside the open chat: Tab from the last control comes back round to the first,
  // Shift+Tab from the first goes to the last; it never falls out into the page behind.
  const focusedLabel = () => widget.locator(':focus').evaluate((el) => el.getAttribute('aria-label') ?? el.textContent ?? '');
  const seen: string[] = [];
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id), 'focus left the chat').toBe('handoff-frame');
    seen.push(await focusedLabel());
  }
  expect(seen.filter((l) => l === 'Message').length, `Tab order: ${seen.join(' | ')}`).toBeGreaterThan(1);
  await widget.getByLabel('Message').focus();
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.id), 'focus left the chat').toBe('handoff-frame');
  }
  await widget.getByLabel('Message').focus();
  await widget.getByLabel('Message').press('Escape');
  await expect(page.locator('#handoff-frame')).toBeHidden();
  await expect(page.locator('#handoff-launcher')).toBeFocused();
  await expect(page.locator('#handoff-launcher')).toHaveAttribute('aria-label', 'Open chat');
  // Open again: straight back into the message box.
  await page.keyboard.press('Enter');
  await expect(page.locator('#handoff-frame')).toBeVisible();
  await expect(widget.getByLabel('Message')).toBeFocused();
});

test('the conversation list is rendered on the server: it shows without JavaScript', async ({ browser }) => {
  allowConsole(/\/pkg\/handoff\.[^ ]*\.js: csp$/); // JavaScript is off: the browser refuses the bundle
  // Two conversations at least (this test may run first).
  for (const text of ['Hello, a question about opening hours', 'Hello, a question about prices']) {
    const { page } = await visitorWrites(browser, text);
    await page.close();
  }
  const ann = await signIn(browser, 'ann@demo.test');
  await expect(ann.locator('.conv-item').nth(1)).toBeVisible();
  const noJs = await browser.newContext({ javaScriptEnabled: false, storageState: await ann.context().storageState() });
  const page = await noJs.newPage();
  await page.goto(`${BASE()}/conversations`);
  await expect(page.locator('.conv-item').first()).toBeVisible();
  await expect(page.locator('.conv-list')).not.toContainText('Loading');
  const href = await page.locator('.conv-item').first().getAttribute('href');
  await page.goto(`${BASE()}${href}`);
  await expect(page.locator('.conv-view .msg').first()).toBeVisible();
  await noJs.close();
  // With JavaScript: the conversation read with the page hydrates as rendered (the console guard
  // fails the test on a hydration panic); opened again after another one, it is read again.
  await ann.goto(`${BASE()}${href}`);
  await expect(ann.locator('.topbar[data-hydrated="true"]')).toBeVisible();
  await expect(ann.locator('.conv-view .msg').first()).toBeVisible();
  const other = ann.locator(`.conv-item:not([href="${href}"])`).first();
  await other.click();
  await expect(ann).not.toHaveURL(new RegExp(`${href}$`));
  await expect(ann.locator('.conv-view .msg').first()).toBeVisible();
  await ann.locator(`.conv-item[href="${href}"]`).click();
  await expect(ann).toHaveURL(new RegExp(`${href}$`));
  await expect(ann.locator('.conv-view .msg').first()).toBeVisible();
});

test('leaving the dashboard while its bell is still being read leaves the console clean', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test');
  // The bell's list answers only once the agent has left the dashboard for another page.
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  await ann.route('**/api/notifications/list', async (route) => { await held; await route.continue(); });
  await ann.reload();
  await expect(ann.locator('.topbar[data-hydrated="true"]')).toBeVisible();
  await ann.getByRole('link', { name: 'Account' }).click();
  await expect(ann).toHaveURL(/\/settings\/account$/);
  await expect(ann.locator('.topbar[data-hydrated="true"]')).toBeVisible();
  const answered = ann.waitForResponse('**/api/notifications/list');
  release();
  await answered;
  // The console guard then finds no "already been disposed" panic from the bell that is gone.
});
