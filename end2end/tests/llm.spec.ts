// An agent switched to an OpenAI-compatible model (a local stand-in started by global-setup.ts):
// the visitor watches the answer grow, then gets it as a normal message.
import { agentSettings, expect, openWidget, test } from './support';

test('answers from an OpenAI-compatible model stream into the widget', async ({ browser }) => {
  const { settings, save } = await agentSettings(browser);
  await settings.getByLabel('A language model').check();
  await settings.getByLabel('Base URL').fill(process.env.LLM_URL!);
  await settings.getByLabel('Model', { exact: true }).fill('stand-in');
  await settings.getByLabel('API key').fill('sk-e2e');
  await save();
  await expect(settings.getByLabel('API key')).toHaveValue(''); // never shown again
  await expect(settings.getByLabel('API key')).toHaveAttribute('placeholder', /a key is stored/);

  const widget = await openWidget(await (await browser.newContext()).newPage());
  await widget.getByLabel('Message').fill('Do you offer gift wrapping?');
  await widget.getByLabel('Message').press('Enter');
  const draft = widget.locator('.msg.streaming');
  await expect(draft).toContainText('Our gift');
  await expect(draft).not.toContainText('every order');
  await expect(widget.locator('.msg[data-author="ai"]:not(.streaming)').last()).toContainText(
    'Our gift wrapping costs 3 EUR per parcel and is available for every order.',
  );
  await expect(draft).toHaveCount(0);

  // Back to the built-in knowledge base for the other tests.
  await settings.getByLabel('The knowledge base below').check();
  await save();
});
