// Typing both ways (issue 23): the agent sees "<visitor> is typing…" — with the organization's
// "live preview" setting on, also the unsent text — and the visitor sees "Ann Agent is typing…"
// while the agent holding the chat writes; each disappears when the message arrives.
import { type Browser, type Page } from '@playwright/test';
import { BASE, expect, listedRows, newRow, signIn, test, visitorWrites } from './support';

test('typing shows both ways and is gone after sending', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test', { viewport: { width: 1280, height: 800 } });
  // The organization turns the live preview on.
  await ann.goto(`${BASE()}/settings/ai`);
  await expect(ann.locator('.topbar[data-hydrated="true"]')).toBeVisible();
  const settings = ann.locator('form.handoff-settings');
  await settings.getByLabel('Show agents what visitors type before they send it').check();
  await settings.getByRole('button', { name: 'Save handoff settings' }).click();
  await expect(settings).toContainText('Saved.');

  try {
    await typingBothWays(browser, ann);
  } finally {
    // The preview setting back off (the suite shares one server).
    await ann.goto(`${BASE()}/settings/ai`);
    await ann.locator('form.handoff-settings').getByLabel('Show agents what visitors type before they send it').uncheck();
    await ann.locator('form.handoff-settings').getByRole('button', { name: 'Save handoff settings' }).click();
    await expect(ann.locator('form.handoff-settings')).toContainText('Saved.');
  }
});

async function typingBothWays(browser: Browser, ann: Page) {
  await ann.goto(`${BASE()}/conversations`);
  await expect(ann.locator('.conn')).toHaveText('live');
  const before = await listedRows(ann);
  const { widget } = await visitorWrites(browser, 'Hello?');
  await (await newRow(ann, before)).click();
  const visitorName = (await ann.locator('.conv-head h2').textContent())!.trim();
  await ann.getByRole('button', { name: 'Continue chat yourself' }).click();

  // The visitor types without sending: Ann sees it, with the text so far.
  const composer = widget.getByLabel('Message');
  await composer.pressSequentially('Where is my parcel', { delay: 30 });
  const visitorTyping = ann.getByTestId('visitor-typing');
  await expect(visitorTyping).toContainText(`${visitorName} is typing…`);
  await expect(visitorTyping).toContainText('Where is my parcel');
  await ann.screenshot({ path: 'screenshots/typing-agent.png' });
  await composer.press('Enter');
  await expect(ann.locator('.msg[data-author="visitor"]', { hasText: 'Where is my parcel' })).toBeVisible();
  await expect(visitorTyping).toHaveCount(0);

  // Ann types: the visitor sees her name.
  const reply = ann.getByLabel('Reply');
  await reply.pressSequentially('It left today', { delay: 30 });
  const agentTyping = widget.locator('.typing');
  await expect(agentTyping).toHaveText('Ann Agent is typing…');
  await reply.press('Enter');
  await expect(widget.locator('.msg', { hasText: 'It left today' })).toBeVisible();
  await expect(agentTyping).toHaveCount(0);
}
