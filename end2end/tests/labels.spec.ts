// Conversation labels (issue 22): made under Settings › Labels, put on a conversation from its
// label bar (a colleague's list shows it live), the list filtered by label (a link, rendered
// without JavaScript too), taken off again, deleted.
import { BASE, allowBadInput, allowConsole, expect, expectContrast, listedRows, live, newRow, signIn, test, visitorWrites } from './support';

test('labels are made, added to a conversation, filter the list and are removed', async ({ browser }) => {
  allowBadInput(); // the taken name below is refused with a field error (400)
  const ann = await signIn(browser, 'ann@demo.test');
  await ann.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Labels' }).click();
  await expect(ann).toHaveURL(/\/settings\/labels$/);
  const form = ann.locator('form.new-label');
  const name = `Billing ${Date.now() % 100000}`;
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Colour').selectOption('red');
  await form.getByRole('button', { name: 'Create label' }).click();
  await expect(form.locator('.form-ok')).toContainText(`Label “${name}” created.`);
  const row = ann.locator(`.label-row[data-label-name="${name}"]`);
  await expect(row.locator('.label-chip')).toHaveAttribute('data-color', 'red');
  await expect(row).toContainText('0 conversations');
  // The same name in other letters is the same label.
  await form.getByLabel('Name').fill(name.toUpperCase());
  await form.getByRole('button', { name: 'Create label' }).click();
  await expect(form.locator('.field-error[data-field="name"]')).toHaveText('a label with this name exists');
  await expectContrast(ann, 'labels settings');
  await ann.screenshot({ path: 'screenshots/labels-settings.png', fullPage: true });

  // Two conversations; Ann labels one; Bob's list shows the chip live.
  const bob = await signIn(browser, 'bob@demo.test');
  await ann.goto(`${BASE()}/conversations`);
  await expect(ann.locator('.conn')).toHaveText('live');
  let before = await listedRows(ann);
  await visitorWrites(browser, 'My invoice is wrong');
  const labelled = await newRow(ann, before);
  const href = (await labelled.getAttribute('href'))!;
  before = await listedRows(ann);
  await visitorWrites(browser, 'Just saying hello');
  const other = await newRow(ann, before);
  const otherHref = (await other.getAttribute('href'))!;
  await labelled.click();
  const bar = ann.getByRole('group', { name: 'Labels' });
  await bar.getByLabel('Add a label').selectOption({ label: name });
  await expect(bar.locator('.label-chip', { hasText: name })).toBeVisible();
  await expect(ann.locator(`.conv-item[href^="${href}"] .label-chip`)).toHaveText(name);
  await expect(bob.locator(`.conv-item[href^="${href}"] .label-chip`)).toHaveText(name);
  await expectContrast(ann, 'dashboard with a label');
  await ann.screenshot({ path: 'screenshots/labels-dashboard.png' });

  // Filtered by the label: only the labelled conversation; the filter is in the address.
  await ann.getByLabel('Filter by label').selectOption({ label: name });
  await expect(ann).toHaveURL(/[?&]label=/);
  await expect(ann.locator(`.conv-item[href^="${href}"]`)).toBeVisible();
  await expect(ann.locator(`.conv-item[href^="${otherHref}"]`)).toHaveCount(0);
  const filtered = ann.url();
  // The same address renders the filtered list without JavaScript.
  allowConsole(/\/pkg\/handoff\.[^ ]*\.js: csp$/);
  const noJs = await browser.newContext({ javaScriptEnabled: false, storageState: await ann.context().storageState() });
  const page = await noJs.newPage();
  await page.goto(filtered);
  await expect(page.locator(`.conv-item[href^="${href}"] .label-chip`)).toHaveText(name);
  await expect(page.locator(`.conv-item[href^="${otherHref}"]`)).toHaveCount(0);
  await expect(page.locator('.label-filter select option:checked')).toHaveText(name);
  await noJs.close();

  // On a phone: the chip in the list and the bar in the conversation.
  const phone = await signIn(browser, 'bob@demo.test', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await phone.goto(`${BASE()}${href}`);
  const phoneBar = phone.getByRole('group', { name: 'Labels' });
  await expect(phoneBar.locator('.label-chip')).toHaveText(new RegExp(name));
  // Fingers: the chip's remove button and the list's label filter are at least 44 px tall.
  expect((await phoneBar.getByRole('button', { name: `Remove label ${name}` }).boundingBox())!.height).toBeGreaterThanOrEqual(44);
  await phone.screenshot({ path: 'screenshots/labels-phone.png' });
  await phone.goto(`${BASE()}/conversations`);
  expect((await phone.getByLabel('Filter by label').boundingBox())!.height).toBeGreaterThanOrEqual(44);
  await phone.screenshot({ path: 'screenshots/labels-phone-list.png' });

  // Dark mode: the chips, the bar and the settings page stay readable.
  const dark = await signIn(browser, 'bob@demo.test', { colorScheme: 'dark' });
  await dark.goto(`${BASE()}${href}`);
  await expect(dark.getByRole('group', { name: 'Labels' }).locator('.label-chip')).toHaveText(new RegExp(name));
  await expectContrast(dark, 'dark dashboard with a label');
  await dark.screenshot({ path: 'screenshots/labels-dark.png' });
  await dark.goto(`${BASE()}/settings/labels`);
  await expect(dark.locator(`.label-row[data-label-name="${name}"]`)).toBeVisible();
  await expectContrast(dark, 'dark labels settings');
  await dark.screenshot({ path: 'screenshots/labels-settings-dark.png' });
  const darkPhone = await signIn(browser, 'bob@demo.test', { colorScheme: 'dark', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await darkPhone.goto(`${BASE()}${href}`);
  await expect(darkPhone.getByRole('group', { name: 'Labels' }).locator('.label-chip')).toHaveText(new RegExp(name));
  await darkPhone.screenshot({ path: 'screenshots/labels-phone-dark.png' });

  // Renamed under Settings › Labels (in another tab): Bob's chip follows, live; and back.
  const settings = await ann.context().newPage();
  await settings.goto(`${BASE()}/settings/labels`);
  await live(settings);
  const rename = async (from: string, to: string) => {
    const edit = settings.locator(`.label-row[data-label-name="${from}"]`);
    await edit.getByLabel('Name', { exact: true }).fill(to);
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect(bob.locator(`.conv-item[href^="${href}"] .label-chip`)).toHaveText(to);
  };
  await rename(name, `${name} (renamed)`);
  await rename(`${name} (renamed)`, name);
  await settings.close();

  // Taken off: it leaves the filtered list, live, and Bob's chip goes.
  await bar.getByRole('button', { name: `Remove label ${name}` }).click();
  await expect(bar.locator('.label-chip')).toHaveCount(0);
  await expect(ann.locator(`.conv-item[href^="${href}"]`)).toHaveCount(0);
  await expect(ann.locator('.conv-list')).toContainText('No conversations with this label.');
  await expect(bob.locator(`.conv-item[href^="${href}"] .label-chip`)).toHaveCount(0);

  // Deleted under Settings › Labels (after a confirmation).
  await ann.goto(`${BASE()}/settings/labels`);
  await live(ann);
  await row.getByRole('button', { name: 'Delete' }).click();
  await row.getByRole('button', { name: 'Delete label' }).click();
  await expect(row).toHaveCount(0);
});
