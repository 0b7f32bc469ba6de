// "Seen" both ways (issue 23): the visitor sees "Seen" under their newest message the agent
// holding the chat has read (on the agent's screen), the agent under their newest message the
// visitor has read — not while the visitor's chat is closed, as soon as it opens.
import { annHoldsANewChat, expect, test } from './support';

test('seen shows both ways, and only once the chat is on screen', async ({ browser }) => {
  const { ann, page, widget } = await annHoldsANewChat(browser, 'Hello?');

  // Ann holds the chat and has it open: the visitor's message is seen.
  const visitorMark = widget.getByTestId('seen');
  await expect(widget.locator('.msg[data-author="visitor"]', { hasText: 'Hello?' }).getByTestId('seen')).toBeVisible();
  const composer = widget.getByLabel('Message');
  await composer.fill('Where is my parcel?');
  await composer.press('Enter');
  const parcel = widget.locator('.msg[data-author="visitor"]', { hasText: 'Where is my parcel?' });
  await expect(parcel.getByTestId('seen')).toHaveText('Seen');
  await expect(visitorMark).toHaveCount(1);

  // Ann answers; the visitor's open chat shows it: seen.
  const reply = ann.getByLabel('Reply');
  await reply.fill('It left today.');
  await reply.press('Enter');
  const answer = ann.locator('.msg[data-author="agent"]', { hasText: 'It left today.' });
  await expect(answer.getByTestId('seen')).toHaveText('Seen');
  await ann.screenshot({ path: 'screenshots/seen-agent.png' });
  await page.screenshot({ path: 'screenshots/seen-visitor.png' });

  // The visitor closes the chat: Ann's next message is not seen until it opens again.
  await page.locator('#handoff-launcher').click();
  await expect(page.locator('#handoff-frame')).toBeHidden();
  await reply.fill('Tracking number: 42.');
  await reply.press('Enter');
  const tracking = ann.locator('.msg[data-author="agent"]', { hasText: 'Tracking number: 42.' });
  await expect(tracking).toBeVisible();
  await page.waitForTimeout(2500);
  await expect(tracking.getByTestId('seen')).toHaveCount(0);
  await expect(answer.getByTestId('seen')).toBeVisible();
  await page.locator('#handoff-launcher').click();
  await expect(tracking.getByTestId('seen')).toBeVisible();
  await expect(ann.getByTestId('seen')).toHaveCount(1);

  // On a phone: the mark fits under the message.
  await page.setViewportSize({ width: 390, height: 740 });
  await page.screenshot({ path: 'screenshots/seen-visitor-phone.png' });
});
