// Private notes (issue 23): an agent writes a note in the open conversation ("Private note" tab,
// whether or not they hold the chat); it shows at once, marked, after the message it followed; a
// colleague with the conversation open sees it arrive live; the visitor's page and socket never
// carry it. Phone width: the tabs and the note fit.
import { CUSTOMER, expect, expectContrast, listedRows, newRow, openWidget, signIn, test } from './support';

const NOTE = 'VIP customer <b>refund</b> approved by Carla';

test('a private note reaches a colleague live and never the visitor', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test', { viewport: { width: 1280, height: 800 } });
  const bob = await signIn(browser, 'bob@demo.test', { viewport: { width: 390, height: 844 } });
  const before = await listedRows(ann);

  // The visitor's page records every frame its sockets receive (the widget's iframe included).
  const visitor = await (await browser.newContext()).newPage();
  const received: string[] = [];
  visitor.on('websocket', (ws) => ws.on('framereceived', (f) => received.push(String(f.payload))));
  const widget = await openWidget(visitor);
  await widget.getByLabel('Message').fill('Where is my refund?');
  await widget.getByLabel('Message').press('Enter');
  await expect(widget.locator('.msg[data-author="ai"]')).toHaveCount(2);

  const row = await newRow(ann, before);
  const href = (await row.getAttribute('href'))!;
  await row.click();
  await bob.goto(href.startsWith('http') ? href : new URL(href, bob.url()).toString());
  await expect(bob.locator('.msg[data-author="visitor"]')).toContainText('Where is my refund?');

  // Ann does not hold the chat: the reply tab says so, the note tab writes.
  await expect(ann.locator('.composer-hint')).toContainText('Private notes can be added without it');
  await ann.getByRole('tab', { name: 'Private note' }).click();
  await ann.getByLabel('Private note').fill(NOTE);
  await ann.getByLabel('Private note').press('Enter');
  const annNote = ann.getByTestId('note');
  await expect(annNote).toHaveCount(1);
  await expect(annNote).toContainText('Private note · Ann Agent');
  await expect(annNote).toContainText(NOTE); // markup stays text
  await expect(annNote.locator('b')).toHaveCount(0);
  await expect(ann.getByLabel('Private note')).toHaveValue('');
  // After the AI's answer it followed.
  await expect(ann.locator('.transcript > li').last()).toHaveAttribute('data-testid', 'note');

  // Bob, on his phone, sees it arrive without reloading.
  const bobNote = bob.getByTestId('note');
  await expect(bobNote).toContainText(NOTE);
  await expect(bobNote).toContainText('Ann Agent');
  await expect(bob.getByRole('tab', { name: 'Private note' })).toBeVisible();
  await bob.screenshot({ path: 'screenshots/note-phone.png' });

  // The chat goes on: Ann takes over and answers; the visitor sees her answer, never the note.
  await ann.getByRole('button', { name: 'Continue chat yourself' }).click();
  await ann.getByRole('tab', { name: 'Reply' }).click();
  await ann.getByLabel('Reply').fill('Let me check that for you.');
  await ann.getByLabel('Reply').press('Enter');
  await expect(widget.locator('.msg', { hasText: 'Let me check that for you.' })).toBeVisible();
  await expect(widget.locator('body')).not.toContainText('VIP customer');
  expect(received.length).toBeGreaterThan(0);
  expect(received.filter((f) => f.includes('VIP customer') || f.includes('notes_changed'))).toEqual([]);

  // A reload of the visitor's page reads the conversation again: still no note.
  await visitor.goto(CUSTOMER());
  const again = visitor.frameLocator('#handoff-frame');
  await expect(again.locator('.msg', { hasText: 'Let me check that for you.' })).toBeVisible();
  await expect(again.locator('body')).not.toContainText('VIP customer');
  expect(received.filter((f) => f.includes('VIP customer'))).toEqual([]);

  // The note survives a reload of the dashboard, where it was.
  await ann.reload();
  await expect(ann.getByTestId('note')).toContainText(NOTE);
  await expectContrast(ann, 'dashboard with a private note');
  await ann.screenshot({ path: 'screenshots/note-desktop.png' });
});
