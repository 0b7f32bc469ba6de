// Retention and a visitor's data on request (issue 27), in the browser: Ann (settings
// permission) chooses how long closed conversations are kept — a bad number of days is a field
// error, nothing saved —; Bob sees the setting read-only and no audit log. From a conversation's
// visitor panel Ann downloads everything about the visitor (a zip with visitor.json and what
// they wrote), is told to close an open conversation before erasing, then erases it after a
// second click; the list forgets it, the audit log says what was done without naming anyone, and
// the visitor's browser starts afresh. Desktop and phone screenshots.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, expect, BASE, allowBadInput, expectContrast, listedRows, live, newRow, signIn, visitorWrites } from './support';

test('retention is chosen on the settings page; bad days are refused', async ({ browser }) => {
  allowBadInput();
  const ann = await signIn(browser, 'ann@demo.test');
  await ann.goto(`${BASE()}/settings/ai`);
  await live(ann);
  const card = ann.locator('.retention-settings');
  await expect(card.getByTestId('retention-now')).toHaveText('Conversations are kept forever.');
  const days = card.getByLabel('Keep ended conversations for (days)');
  await expect(days).toBeDisabled();
  await card.getByLabel('Delete ended conversations automatically').check();
  await days.fill('0');
  await card.getByRole('button', { name: 'Save retention' }).click();
  await expect(card.locator('.field-error[data-field="closed_days"]')).toHaveText('must be between 1 and 3650 days');
  await expect(card.getByTestId('retention-now')).toHaveText('Conversations are kept forever.');
  await days.fill('30');
  await card.getByRole('button', { name: 'Save retention' }).click();
  await expect(card.locator('.form-ok')).toHaveText('Saved.');
  await expect(card.getByTestId('retention-now')).toContainText('deleted 30 days after their last message');
  await expectContrast(ann, 'settings with data retention');
  await ann.screenshot({ path: 'screenshots/retention.png', fullPage: true });

  // Read back after a reload; then off again (the rest of the suite keeps its conversations).
  await ann.reload();
  await live(ann);
  await expect(card.getByLabel('Delete ended conversations automatically')).toBeChecked();
  await expect(days).toHaveValue('30');
  await card.getByLabel('Delete ended conversations automatically').uncheck();
  await card.getByRole('button', { name: 'Save retention' }).click();
  await expect(card.getByTestId('retention-now')).toHaveText('Conversations are kept forever.');

  // Bob (no settings permission): read-only, and no audit log.
  const bob = await signIn(browser, 'bob@demo.test', { viewport: { width: 390, height: 844 } });
  await bob.goto(`${BASE()}/settings/ai`);
  await live(bob);
  await expect(bob.locator('.retention-settings').getByRole('button', { name: 'Save retention' })).toBeDisabled();
  await expect(bob.locator('.audit-log')).toHaveCount(0);
  await bob.locator('.retention-settings').scrollIntoViewIfNeeded();
  await bob.screenshot({ path: 'screenshots/retention-phone.png' });
});

test('a visitor\'s data is exported, then erased after a second click', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test', { viewport: { width: 1280, height: 800 } });
  const before = await listedRows(ann);
  const { page: visitorPage } = await visitorWrites(browser, 'Please forget me after this: my order 4711 never came');
  const row = await newRow(ann, before);
  const href = (await row.getAttribute('href'))!;
  const id = href.split('/').pop()!;
  await row.click();
  const panel = ann.getByRole('complementary', { name: 'Visitor details' });
  const privacy = panel.getByRole('region', { name: "Visitor's data" });

  // The export: a zip holding what the visitor wrote.
  const [download] = await Promise.all([ann.waitForEvent('download'), privacy.getByRole('link', { name: 'Export data' }).click()]);
  expect(download.suggestedFilename()).toBe(`visitor-${id}.zip`);
  const zip = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-export-')), 'export.zip');
  await download.saveAs(zip);
  const json = JSON.parse(execFileSync('unzip', ['-p', zip, 'visitor.json']).toString('utf8'));
  expect(json.conversations.map((c: { summary: { id: string } }) => c.summary.id)).toEqual([id]);
  expect(JSON.stringify(json)).toContain('my order 4711 never came');

  // Still open: the erasure waits.
  await privacy.getByRole('button', { name: 'Erase data…' }).click();
  await expect(privacy.getByRole('alert')).toContainText('not closed yet');
  const closed = await ann.request.post(`${BASE()}/api/handoff/close`, { form: { id } });
  expect(closed.ok()).toBe(true);
  await privacy.getByRole('button', { name: 'Erase data…' }).click();
  const confirm = privacy.getByRole('alertdialog', { name: "Erase the visitor's data" });
  await expect(confirm).toContainText('This deletes 1 conversation,');
  await expectContrast(ann, 'the erasure confirmation');
  await ann.screenshot({ path: 'screenshots/erase-confirm.png' });
  await confirm.getByRole('button', { name: 'Erase for good' }).click();
  await expect(ann).toHaveURL(/\/conversations$/);
  await live(ann);
  await expect(ann.locator(`.conv-item[href="${href}"]`)).toHaveCount(0);
  expect((await ann.request.post(`${BASE()}/api/conversations/get`, { form: { id } })).status()).toBe(404);

  // The audit log: both, by Ann, naming no one.
  await ann.goto(`${BASE()}/settings/ai`);
  await live(ann);
  const log = ann.locator('.audit-log');
  await expect(log.locator('li').first()).toContainText("Erased a visitor's data: 1 conversation,");
  await expect(log.locator('li').first()).toContainText('Ann Agent');
  await expect(log).toContainText("Exported a visitor's data: 1 conversation,");
  await expect(log).not.toContainText('4711');

  // The visitor's browser is a stranger now: a new chat, nothing of before.
  await visitorPage.reload();
  const again = visitorPage.frameLocator('#handoff-frame');
  await expect(again.locator('.msg[data-author="ai"]').first()).toContainText("Hi! I'm Ada");
  await expect(again.locator('.msg', { hasText: '4711' })).toHaveCount(0);
});

test('the privacy buttons fit a phone', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test', { viewport: { width: 390, height: 844 } });
  const before = await listedRows(ann);
  await visitorWrites(browser, 'Hello from a phone test');
  await (await newRow(ann, before)).click();
  await ann.getByRole('button', { name: /Visitor details/ }).click();
  const privacy = ann.getByRole('region', { name: "Visitor's data" });
  await privacy.scrollIntoViewIfNeeded();
  for (const name of ['Export data', 'Erase data…']) {
    const box = (await privacy.getByText(name, { exact: true }).boundingBox())!;
    expect(box.height, name).toBeGreaterThanOrEqual(44);
    expect(box.x + box.width, name).toBeLessThanOrEqual(390);
  }
  await ann.screenshot({ path: 'screenshots/privacy-phone.png' });
});
