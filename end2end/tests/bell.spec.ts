// The bell: a request shows up with a badge, clicking it opens the conversation and reads it;
// the gear's "All messages" brings visitor messages in too.
import { expect, openWidget, signIn, test } from './support';

test('the bell lists a request, opens its conversation, and follows the chosen events', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test');
  const bellButton = ann.getByRole('button', { name: 'Notifications' });
  const badge = ann.locator('.bell-badge');
  await bellButton.click();
  await ann.getByRole('button', { name: 'Mark all read' }).click();
  await expect(badge).toHaveCount(0);
  await bellButton.click(); // close

  const widget = await openWidget(await (await browser.newContext()).newPage());
  const marker = `bell ${Date.now()}`;
  await widget.getByLabel('Message').fill(marker);
  await widget.getByLabel('Message').press('Enter');
  await widget.getByRole('button', { name: 'Talk to a human' }).click();

  await expect(badge).toHaveText('1');
  await bellButton.click();
  const item = ann.locator('.bell-item.unread[data-kind="request"]').first();
  await expect(item).toContainText('asked for a human');
  await expect(item.locator('.bell-time')).toHaveText('a few seconds ago');
  await item.click();
  await expect(ann).toHaveURL(/\/conversations\/[0-9a-f]+$/);
  await expect(ann.locator('.conv-view .msg[data-author="visitor"]').last()).toContainText(marker);
  await expect(badge).toHaveCount(0);

  // The gear: all messages.
  await bellButton.click();
  await ann.getByRole('button', { name: 'Notification settings' }).click();
  await ann.getByLabel('All messages').check();
  await ann.locator('.bell-prefs').getByRole('button', { name: 'Save' }).click();
  await expect(ann.locator('.bell-prefs [role="status"]')).toHaveText('Saved.');
  await bellButton.click(); // close

  await widget.getByLabel('Message').fill(`${marker} again`);
  await widget.getByLabel('Message').press('Enter');
  await expect(badge).toHaveText('1');
  await bellButton.click();
  await expect(ann.locator('.bell-item.unread[data-kind="message"]').first()).toContainText(`${marker} again`);
  await ann.getByRole('button', { name: 'Notification settings' }).click();
  await ann.getByLabel('Requests only').check();
  await ann.locator('.bell-prefs').getByRole('button', { name: 'Save' }).click();
  await expect(ann.locator('.bell-prefs [role="status"]')).toHaveText('Saved.');

  // Leave nothing waiting for the other tests.
  await ann.getByRole('button', { name: 'Notifications' }).click();
  await ann.getByRole('button', { name: 'Handle chat' }).click();
  await ann.getByRole('button', { name: 'Close' }).click();
  await expect(widget.locator('.widget-ended')).toBeVisible();
});

test('browser push: saving it on registers the service worker and subscribes, or says why not', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test', { permissions: ['notifications'] });
  await ann.getByRole('button', { name: 'Notifications' }).click();
  await ann.getByRole('button', { name: 'Notification settings' }).click();
  const push = ann.getByLabel('Browser push');
  await push.check();
  await ann.locator('.bell-prefs').getByRole('button', { name: 'Save' }).click();
  const status = ann.locator('.bell-prefs [role="status"]');
  // This machine has no way to the browser's push service (offline): the gear says so. Where
  // the service answers, the browser is subscribed instead.
  await expect(status).toHaveText(
    /^(Saved\. This browser will get push notifications\.|Saved, but push could not be turned on in this browser: .+)$/,
    { timeout: 30_000 },
  );
  const worker = await ann.evaluate(async () => (await navigator.serviceWorker.getRegistration('/'))?.active?.scriptURL ?? null);
  expect(worker).toMatch(/\/sw\.js$/);
  // The choice is kept on the server.
  await ann.reload();
  await ann.getByRole('button', { name: 'Notifications' }).click();
  await ann.getByRole('button', { name: 'Notification settings' }).click();
  await expect(ann.getByLabel('Browser push')).toBeChecked();
  await ann.getByLabel('Browser push').uncheck();
  await ann.locator('.bell-prefs').getByRole('button', { name: 'Save' }).click();
  await expect(status).toHaveText('Saved.');
});
