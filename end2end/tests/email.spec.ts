// The "send email" fallback: nobody answers a request in time, so the widget offers the e-mail
// form; the visitor sends a question with files; an agent reads it (text as text, files as
// downloads) and answers by e-mail, with the delivery status in the thread. The test server
// sends mail to the suite's mail server stand-in (global-setup.ts), so a reply ends up "sent".
import { type Browser } from '@playwright/test';
import * as fs from 'node:fs';
import { allowConsole, BASE, expect, live, openWidget, signIn, test } from './support';

const QUESTION = 'My order <img src=x onerror="window.__xss=1"> never arrived.\nSecond line: <b>bold?</b>';
const NOTES = Buffer.from('order 1234\nparcel size 42\n');
// A 1×1 pixel PNG.
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

// The organization's handoff settings card, as Ann (who has the settings permission).
async function handoffSettings(browser: Browser) {
  const ann = await signIn(browser, 'ann@demo.test');
  await ann.goto(`${BASE()}/settings/ai`);
  // Typing into the server-rendered form before it is live would be lost: the save would send
  // the value the page was rendered with (and the offer would wait for the old timeout).
  await live(ann);
  const card = ann.locator('.handoff-settings');
  const timeout = card.getByLabel('Offer the e-mail form after (seconds)');
  await expect(timeout).not.toHaveValue('');
  const save = async () => {
    await card.getByRole('button', { name: 'Save handoff settings' }).click();
    await expect(card.locator('.form-ok')).toHaveText('Saved.');
  };
  return { ann, card, timeout, save };
}

// The organization-wide timeout this file changes, put back for the other tests.
let originalTimeout: string | undefined;
test.afterAll(async ({ browser }) => {
  if (originalTimeout === undefined) return;
  const { timeout, save } = await handoffSettings(browser);
  await timeout.fill(originalTimeout);
  await save();
});

test('handoff settings: field errors, and read-only without the settings permission', async ({ browser }) => {
  const { card, timeout, save } = await handoffSettings(browser);
  const before = await timeout.inputValue();
  allowConsole(/the server responded with a status of 400 \(Bad Request\) \(http:\/\/[^)]*\/api\/org\/save_settings\)/); // the field errors' answers
  await timeout.fill('5');
  await card.getByRole('button', { name: 'Save handoff settings' }).click();
  await expect(card.locator('.field-error[data-field="handoff_timeout_secs"]')).toContainText('between 10 and 86400');
  await timeout.fill(before);
  const replyTo = card.getByLabel('Reply-to address');
  await replyTo.fill('support at example');
  await card.getByRole('button', { name: 'Save handoff settings' }).click();
  await expect(card.locator('.field-error[data-field="reply_to"]')).toContainText('valid e-mail address');
  await replyTo.fill('');
  await save();

  const bob = await signIn(browser, 'bob@demo.test');
  await bob.goto(`${BASE()}/settings/ai`);
  const bobCard = bob.locator('.handoff-settings');
  await expect(bobCard.getByLabel('Offer the e-mail form after (seconds)')).toHaveValue(before);
  await expect(bobCard).toContainText('Changing them needs the settings permission');
  await expect(bobCard.getByLabel('Offer the e-mail form after (seconds)')).toBeDisabled();
  await expect(bobCard.getByRole('button', { name: 'Save handoff settings' })).toBeDisabled();
});

test('the visitor can open the e-mail form at any time, also while waiting, and close it again', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test'); // an agent is online: no automatic offer
  const widget = await openWidget(await (await browser.newContext()).newPage());
  // Offered before asking for anyone, in the header's menu; while waiting, in the flow.
  await widget.getByRole('button', { name: 'More options' }).click();
  await expect(widget.getByRole('menuitem', { name: 'Send us an email' })).toBeVisible();
  await widget.getByRole('button', { name: 'More options' }).click();
  await expect(widget.getByRole('menuitem', { name: 'Send us an email' })).toHaveCount(0);
  await widget.getByRole('button', { name: 'Talk to a human' }).click();
  await expect(widget.locator('.widget-status')).toHaveText('Waiting for a human…');
  const link = widget.getByRole('button', { name: 'Send an email instead' });
  await link.click();
  const form = widget.locator('.email-form');
  await expect(form).toBeVisible();
  await expect(link).toHaveCount(0);
  await form.getByRole('button', { name: 'Close the e-mail form' }).click();
  await expect(form).toHaveCount(0);
  await expect(link).toBeVisible();

  // Leave nothing waiting for the other tests.
  await ann.locator('.conv-item[data-state="requested"]').first().click();
  await ann.getByRole('button', { name: 'Handle chat' }).click();
  await ann.getByRole('button', { name: 'Close' }).click();
  await expect(widget.locator('.widget-ended')).toBeVisible();
});

test('nobody answers in time: the visitor e-mails the question with files, an agent answers by e-mail', async ({ browser }) => {
  // Offer the form after 10 seconds (the shortest allowed).
  const { ann, timeout, save } = await handoffSettings(browser);
  originalTimeout ??= await timeout.inputValue();
  await timeout.fill('10');
  await save();
  await expect(timeout).toHaveValue('10');
  await ann.goto(`${BASE()}/conversations`);
  await expect(ann.locator('.conn')).toHaveText('live');

  const visitorPage = await (await browser.newContext()).newPage();
  const widget = await openWidget(visitorPage);
  const marker = `e-mail ${Date.now()}`;
  await widget.getByLabel('Message').fill(marker);
  await widget.getByLabel('Message').press('Enter');
  await widget.getByRole('button', { name: 'Talk to a human' }).click();
  await expect(widget.locator('.widget-status')).toHaveText('Waiting for a human…');

  // Nobody handles it: the offer and the form appear.
  await expect(widget.locator('.msg[data-kind="email_offer"]')).toContainText('Send us an e-mail', { timeout: 30_000 });
  const form = widget.locator('.email-form');
  await expect(form).toBeVisible();
  const address = form.getByLabel('Your e-mail address');
  const question = form.getByLabel('Your question');
  const files = form.getByLabel('Attach files');
  const send = form.getByRole('button', { name: 'Send e-mail', exact: true });

  // A wrong address: an error next to the field, the question is kept.
  allowConsole(/the server responded with a status of 400 \(Bad Request\) \(http:\/\/[^)]*\/api\/widget\/email\)/);
  await address.fill('visitor@example');
  await question.fill(QUESTION);
  await send.click();
  await expect(form.locator('.field-error[data-field="email"]')).toContainText('enter a valid e-mail address');
  await expect(question).toHaveValue(QUESTION);
  await address.fill('visitor@example.com');
  await expect(form.locator('.field-error[data-field="email"]')).toHaveCount(0);

  // A type the server does not take is refused before uploading.
  await files.setInputFiles({ name: 'tool.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ') });
  await expect(form.locator('.field-error[data-field="files"]')).toContainText('tool.exe: this type of file is not accepted');
  await form.getByRole('button', { name: 'Remove tool.exe' }).click();
  await expect(form.locator('.field-error[data-field="files"]')).toHaveCount(0);

  // A file whose content is not what its name says is refused by the server; nothing is lost.
  await files.setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('not a picture') });
  await send.click();
  await expect(form.locator('.field-error[data-field="files"]')).toContainText('fake.png: the file\'s content does not match its name');
  await expect(question).toHaveValue(QUESTION);
  await expect(address).toHaveValue('visitor@example.com');
  await form.getByRole('button', { name: 'Remove fake.png' }).click();

  // Two good files.
  await files.setInputFiles([
    { name: 'notes.txt', mimeType: 'text/plain', buffer: NOTES },
    { name: 'pixel.png', mimeType: 'image/png', buffer: PIXEL },
  ]);
  await expect(form.locator('.file')).toHaveCount(2);
  await expect(form.locator('.file').first()).toContainText(`notes.txt${NOTES.length} bytes`);
  await visitorPage.screenshot({ path: 'screenshots/widget-email-form.png' });
  await send.click();
  await expect(widget.locator('.email-sent')).toHaveText("We got your message — we'll answer by e-mail at visitor@example.com.");
  await expect(form).toHaveCount(0);
  const sentCard = widget.locator('.msg[data-kind="email_form"]');
  await expect(sentCard.locator('.msg-text')).toHaveText(QUESTION);
  await expect(sentCard.locator('.attachment-name')).toHaveText(['notes.txt', 'pixel.png']);
  await visitorPage.screenshot({ path: 'screenshots/widget-email.png' });

  // The agent: a corner toast announces the e-mail form (it leaves once the entry is read).
  const mailToast = ann.locator('.toast-mail');
  await expect(mailToast).toHaveCount(1);
  await expect(mailToast).toContainText('sent an e-mail (2 files)');
  await expect(mailToast.locator('.since')).toHaveText('a few seconds ago');
  // And a bell entry for it opens the conversation.
  const badge = ann.locator('.bell-badge');
  await expect(badge).toBeVisible();
  await ann.getByRole('button', { name: 'Notifications' }).click();
  const item = ann.locator('.bell-item.unread[data-kind="email_form"]').first();
  await expect(item).toContainText('sent an e-mail (2 files)');
  await expect(item.locator('.bell-icon svg')).toHaveCount(1);
  await expect(item.locator('.bell-icon')).toHaveAttribute('title', /e-mail/i);
  await item.click();
  await expect(ann).toHaveURL(/\/conversations\/[0-9a-f]+$/);
  await expect(ann.locator('.conv-view .msg[data-author="visitor"]').first()).toContainText(marker);
  await expect(mailToast).toHaveCount(0);

  // The card: the address, the text as typed (nothing of it run or rendered), the files.
  const card = ann.locator('.conv-view .msg[data-kind="email_form"]');
  await expect(card.locator('.email-title')).toHaveText(/^\s*Email from visitor@example\.com$/);
  await expect(card.locator('.email-title svg')).toHaveCount(1); // the envelope, an inline SVG
  expect(await card.locator('.msg-text').evaluate((el) => el.textContent)).toBe(QUESTION);
  await expect(ann.locator('.conv-view img')).toHaveCount(0);
  expect(await ann.evaluate(() => (window as any).__xss)).toBeUndefined();
  const links = card.locator('a.attachment-name');
  await expect(links).toHaveText(['notes.txt', 'pixel.png']);
  await expect(links.first()).toHaveAttribute('href', /^\/attachments\/[0-9a-f]+$/);
  const [download] = await Promise.all([ann.waitForEvent('download'), links.first().click()]);
  expect(download.suggestedFilename()).toBe('notes.txt');
  expect(fs.readFileSync(await download.path())).toEqual(NOTES);

  // The answer goes out by e-mail and shows in the thread with its delivery status.
  const answer = 'Thanks for writing! Your parcel left our warehouse today.';
  await ann.getByLabel('E-mail answer').fill(answer);
  await ann.getByRole('button', { name: 'Send by e-mail' }).click();
  const reply = ann.locator('.conv-view .msg[data-kind="email_reply"]');
  await expect(reply).toHaveCount(1);
  await expect(reply.locator('.msg-text')).toHaveText(answer);
  await expect(reply).toContainText('Sent by e-mail to visitor@example.com');
  await expect(reply.locator('.delivery')).toHaveText('sent');
  await expect(ann.getByLabel('E-mail answer')).toHaveValue('');
  await ann.screenshot({ path: 'screenshots/dashboard-email.png', fullPage: true });
  // The visitor sees the answer in the chat too, with its status.
  const visitorReply = widget.locator('.msg[data-kind="email_reply"]');
  await expect(visitorReply.locator('.msg-text')).toHaveText(answer);
  await expect(visitorReply.locator('.delivery')).toHaveText('sent');

  // Leave nothing waiting for the other tests.
  await ann.getByRole('button', { name: 'Handle chat' }).click();
  await ann.getByRole('button', { name: 'Close' }).click();
  await expect(widget.locator('.widget-ended')).toBeVisible();
});
