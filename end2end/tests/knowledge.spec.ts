// The AI agent's knowledge base, edited in the dashboard and answered from in the widget.
import { agentSettings, allowConsole, BASE, expect, openWidget, signIn, test } from './support';

test('an agent adds and imports knowledge, tries it, and the widget answers from it', async ({ browser }) => {
  const ann = await signIn(browser, 'ann@demo.test');
  await ann.getByRole('link', { name: 'AI agent' }).click();
  await expect(ann).toHaveURL(/\/settings\/ai$/);
  const kb = ann.locator('.knowledge');
  await expect(kb.locator('.kb-title', { hasText: 'How much does shipping cost?' })).toBeVisible();

  // Bad input: a clear error next to the field, nothing added. (The 400 answer is logged.)
  allowConsole(/the server responded with a status of 400 \(Bad Request\) \(http:\/\/[^)]*\/api\/knowledge\/save\)/);
  const before = await kb.locator('.kb-entry').count();
  await kb.getByRole('button', { name: 'Add entry' }).click();
  await expect(kb.locator('.field-error[data-field="title"]')).toHaveText('must not be empty');
  await expect(kb.locator('.kb-entry')).toHaveCount(before);

  // A question and its answer.
  await kb.locator('input[name="title"]').fill('Do you ship to Switzerland?');
  await kb.locator('textarea[name="body"]').fill('Yes, we ship to Switzerland within 3 to 5 working days.');
  await kb.getByRole('button', { name: 'Add entry' }).click();
  await expect(kb.locator('.kb-title', { hasText: 'Do you ship to Switzerland?' })).toBeVisible();
  await expect(kb.locator('.kb-entry')).toHaveCount(before + 1);

  // A Markdown file becomes an article.
  await kb.locator('input[type="file"]').setInputFiles({
    name: 'gift-cards.md',
    mimeType: 'text/markdown',
    buffer: Buffer.from('# Gift cards\nGift cards are valid for three years and can be used online.\n'),
  });
  await expect(kb.locator('.kb-import .form-ok')).toHaveText('Imported 1 entry.');
  await expect(kb.locator('.kb-title', { hasText: 'Gift cards' })).toBeVisible();

  // Try it, without a visitor.
  await kb.getByPlaceholder('Ask what a visitor would ask…').fill('how long are gift cards valid?');
  await kb.getByRole('button', { name: 'Ask' }).click();
  await expect(kb.locator('.kb-answer')).toContainText('three years');
  await expect(kb.locator('.kb-answer')).toContainText('(Source: Gift cards)');

  // The widget answers from the new entry.
  const widget = await openWidget(await (await browser.newContext()).newPage());
  const composer = widget.getByLabel('Message');
  await composer.fill('Can you ship to Switzerland?');
  await composer.press('Enter');
  await expect(widget.locator('.msg[data-author="ai"]').last()).toContainText('3 to 5 working days');

  // Settings: a wrong field is named, nothing saved.
  allowConsole(/the server responded with a status of 400 \(Bad Request\) \(http:\/\/[^)]*\/api\/agents\/update\)/);
  const settings = ann.locator('.agent-settings');
  await settings.getByLabel('A language model').check();
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expect(settings.locator('.field-error[data-field="base_url"]')).toContainText('http');
  await settings.getByLabel('The knowledge base below').check();
  await settings.getByLabel('When it does not know the answer').fill('Hmm, I do not know that yet.');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expect(settings.locator('.form-ok')).toHaveText('Saved.');
  await composer.fill('What is the airspeed of an unladen swallow?');
  await composer.press('Enter');
  await expect(widget.locator('.msg[data-author="ai"]').last()).toContainText('Hmm, I do not know that yet.');

  await ann.screenshot({ path: 'screenshots/ai-agent.png', fullPage: true });

  // A client without the settings permission sees the settings read-only.
  const bob = await signIn(browser, 'bob@demo.test');
  await bob.goto(`${BASE()}/settings/ai`);
  await expect(bob.locator('.agent-settings .notice')).toContainText('needs the settings permission');
  await expect(bob.getByRole('button', { name: 'Save settings' })).toBeDisabled();
  await expect(bob.getByRole('button', { name: 'Add entry' })).toHaveCount(0);
});

test('handoff popup settings: off hides the human button, fixed pins it', async ({ browser }) => {
  const { settings, save } = await agentSettings(browser);
  const newVisitor = async () => openWidget(await (await browser.newContext()).newPage());

  await settings.getByLabel('Enable handoff popup').uncheck();
  await save();
  const off = await newVisitor();
  await expect(off.locator('.widget-status')).toContainText('AI assistant');
  await expect(off.getByRole('button', { name: 'Talk to a human' })).toHaveCount(0);

  await settings.getByLabel('Enable handoff popup').check();
  await settings.getByLabel('Fixed handoff popup').check();
  await save();
  const pinned = await newVisitor();
  await expect(pinned.locator('.handoff-pinned').getByRole('button', { name: 'Talk to a human' })).toBeVisible();

  await settings.getByLabel('Fixed handoff popup').uncheck();
  await save();
  const normal = await newVisitor();
  await expect(normal.locator('.widget-head').getByRole('button', { name: 'Talk to a human' })).toBeVisible();
  await expect(normal.locator('.handoff-pinned')).toHaveCount(0);
});
