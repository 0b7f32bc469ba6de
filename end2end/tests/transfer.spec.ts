// Transfer (issue 23): Ann, holding a chat, passes it to Bob (online: his dashboard is open) with
// a note; Bob's dashboard rings and shows a toast that opens the chat, where the note waits as a
// private note; the visitor is told Bob took over. (Refusals — an offline, deactivated or
// foreign colleague — are the server tests' `transfer::*`.)
import { annHoldsANewChat, BASE, expect, signIn, test } from './support';

test('a transfer rings the colleague, who finds the note; the visitor is told', async ({ browser }) => {
  const bob = await signIn(browser, 'bob@demo.test', { viewport: { width: 1280, height: 800 } });
  await bob.goto(`${BASE()}/conversations`);
  await expect(bob.locator('.conn')).toHaveText('live');
  await bob.locator('body').click(); // a click unlocks sound in this tab
  const { ann, page, widget } = await annHoldsANewChat(browser, 'I need a refund');

  // Ann opens the transfer panel: Bob is online and chosen; she adds a note and transfers.
  await ann.getByRole('button', { name: 'Transfer' }).click();
  const panel = ann.getByRole('form', { name: 'Transfer this chat' });
  await expect(panel.getByLabel('Colleague', { exact: true })).toHaveValue(/\S/);
  await expect(panel.locator('option:checked')).toHaveText('Bob Agent');
  await panel.getByLabel(/Note for your colleague/).fill('Refund approved up to 50 EUR');
  await ann.screenshot({ path: 'screenshots/transfer-panel.png' });
  await ann.setViewportSize({ width: 390, height: 740 });
  await ann.screenshot({ path: 'screenshots/transfer-panel-phone.png' });
  await ann.setViewportSize({ width: 1280, height: 800 });
  const rings = await bob.evaluate(() => Number(document.body.dataset.rings || 0));
  await panel.getByRole('button', { name: 'Transfer' }).click();
  await expect(panel).toHaveCount(0);
  await expect(ann.locator('.conv-head')).toContainText('Bob Agent holds this chat');
  await expect(ann.getByLabel('Reply')).toHaveCount(0);

  // The visitor is told who took over.
  await expect(widget.locator('.msg[data-author="system"]', { hasText: 'Bob Agent took over the chat from Ann Agent.' })).toBeVisible();
  await expect(widget.locator('.widget-title strong')).toHaveText('Bob Agent');
  await expect(widget.locator('body')).not.toContainText('Refund approved');

  // Bob: a ring and a toast; the toast opens the chat, which he now holds, with Ann's note.
  const toast = bob.locator('.toast-transfer');
  await expect(toast).toContainText('Ann Agent passed you the chat with');
  await expect.poll(() => bob.evaluate(() => Number(document.body.dataset.rings || 0))).toBeGreaterThan(rings);
  await bob.screenshot({ path: 'screenshots/transfer-toast.png' });
  await toast.locator('.toast-open').click();
  await expect(bob).toHaveURL(/\/conversations\/[0-9a-f]{32}$/);
  await expect(bob.getByTestId('note')).toContainText('Refund approved up to 50 EUR');
  const reply = bob.getByLabel('Reply');
  await reply.fill('Your refund is on its way.');
  await reply.press('Enter');
  await expect(widget.locator('.msg', { hasText: 'Your refund is on its way.' })).toBeVisible();
  await page.close();
});
