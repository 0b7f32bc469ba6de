// Transcripts by e-mail (issue 23): Ann closes a chat; the visitor ticks "Email me the
// transcript", gives an address and sends; the e-mail arrives at the suite's mail server with the
// whole conversation and without Ann's private note.
import { BASE, expect, listedRows, mailsTo, newRow, signIn, test, visitorWrites } from './support';

test('a visitor gets the transcript of an ended chat by e-mail', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test', { viewport: { width: 1280, height: 800 } });
  await ann.goto(`${BASE()}/conversations`);
  await expect(ann.locator('.conn')).toHaveText('live');
  const before = await listedRows(ann);
  const marker = `parcel ${Date.now()}`;
  const { page, widget } = await visitorWrites(browser, `Where is my ${marker}?`);
  await (await newRow(ann, before)).click();
  await ann.getByRole('button', { name: 'Continue chat yourself' }).click();
  const reply = ann.getByLabel('Reply');
  await reply.fill('It left today.');
  await reply.press('Enter');
  await ann.getByRole('tab', { name: 'Private note' }).click();
  const note = ann.getByLabel('Private note');
  await note.fill('VIP since 2019');
  await note.press('Enter');
  await expect(ann.getByTestId('note')).toContainText('VIP since 2019');
  await ann.getByRole('button', { name: 'Close' }).click();

  // The visitor's ended chat offers the transcript.
  await expect(widget.locator('.widget-ended')).toContainText('This conversation has ended.');
  await widget.getByLabel('Email me the transcript').check();
  const address = `transcript-${Date.now()}@example.com`;
  await widget.getByLabel('Your e-mail address').fill(address);
  await page.screenshot({ path: 'screenshots/transcript-offer.png' });
  await widget.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(widget.locator('.transcript-offer [role="status"]')).toHaveText(`The transcript is on its way to ${address}.`);
  await page.setViewportSize({ width: 390, height: 740 });
  await page.screenshot({ path: 'screenshots/transcript-offer-phone.png' });

  await expect.poll(() => mailsTo(address).length, { timeout: 15_000 }).toBe(1);
  const [mail] = mailsTo(address);
  expect(mail.subject).toBe('Your conversation with Demo Org');
  expect(mail.body).toContain(`You:\nWhere is my ${marker}?`);
  expect(mail.body).toContain('Ann Agent:\nIt left today.');
  expect(mail.body).toContain('This conversation was closed.');
  expect(mail.body).not.toContain('VIP since');
});
