// Canned responses (issue 23): made on their settings page (a bad shortcut gets its field error),
// then inserted in a conversation by typing "/" in the reply box: the list filters as the agent
// types, arrow keys choose, Enter inserts the text with its placeholders filled (still editable),
// Enter again sends it and the visitor reads it.
import { allowBadInput, BASE, expect, listedRows, newRow, signIn, test, visitorWrites } from './support';

test('a canned response is inserted with / and sent with its placeholders filled', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test', { viewport: { width: 1280, height: 800 } });
  await ann.goto(`${BASE()}/settings/canned`);
  await expect(ann.locator('.topbar[data-hydrated="true"]')).toBeVisible();
  const form = ann.locator('form.new-canned');
  allowBadInput(); // refused on purpose below: a 400 with a field error

  // A bad shortcut: its field says why, nothing is made.
  await form.getByLabel('Title').fill('Thanks for waiting');
  await form.getByLabel('Shortcut').fill('thanks for waiting');
  await form.getByLabel('Text').fill('Thanks for waiting, {visitor_name}! {agent_name} here.');
  await form.getByRole('button', { name: 'Create canned response' }).click();
  await expect(form.locator('.field-error[data-field="shortcut"]')).toContainText('lower-case letters, digits or hyphens');
  await form.getByLabel('Shortcut').fill('thanks');
  await form.getByRole('button', { name: 'Create canned response' }).click();
  await expect(form).toContainText('Canned response /thanks created.');
  await form.getByLabel('Title').fill('Thanks, talk later');
  await form.getByLabel('Shortcut').fill('thanks-later');
  await form.getByLabel('Text').fill('Talk to you later!');
  await form.getByRole('button', { name: 'Create canned response' }).click();
  await expect(ann.locator('.canned-row')).toHaveCount(2);

  // A visitor writes; Ann takes the chat and types "/tha".
  await ann.goto(`${BASE()}/conversations`);
  await expect(ann.locator('.conn')).toHaveText('live');
  const before = await listedRows(ann);
  const { widget } = await visitorWrites(browser, 'Is anyone there?');
  await (await newRow(ann, before)).click();
  const visitorName = (await ann.locator('.conv-head h2').textContent())!.trim();
  await ann.getByRole('button', { name: 'Continue chat yourself' }).click();
  const reply = ann.getByLabel('Reply');
  await reply.fill('/tha');
  const options = ann.getByRole('listbox', { name: 'Canned responses' }).getByRole('option');
  await expect(options).toHaveCount(2);
  await expect(options.first()).toContainText('/thanks');
  await expect(options.first()).toHaveAttribute('aria-selected', 'true');
  await reply.press('ArrowDown');
  await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
  await reply.press('ArrowUp');
  await expect(options.first()).toHaveAttribute('aria-selected', 'true');
  await ann.screenshot({ path: 'screenshots/canned-menu.png' });
  await reply.press('Enter');
  const filled = `Thanks for waiting, ${visitorName}! Ann Agent here.`;
  await expect(reply).toHaveValue(filled);
  await expect(options).toHaveCount(0);
  // Still editable, and Escape closes a list without inserting.
  await reply.press('End');
  await reply.pressSequentially(' /lat');
  await expect(options).toHaveCount(1);
  await reply.press('Escape');
  await expect(options).toHaveCount(0);
  await reply.fill(`${filled} One moment.`);
  await reply.press('Enter');
  await expect(widget.locator('.msg', { hasText: `Thanks for waiting, ${visitorName}! Ann Agent here. One moment.` })).toBeVisible();
  await expect(reply).toHaveValue('');

  // The settings page on a phone.
  await ann.setViewportSize({ width: 390, height: 844 });
  await ann.goto(`${BASE()}/settings/canned`);
  await expect(ann.locator('.canned-row')).toHaveCount(2);
  await ann.screenshot({ path: 'screenshots/canned-phone.png', fullPage: true });
});
