// Issue #10: an XSS corpus everywhere user-controlled text appears — organization, AI agent,
// widget and user names, the agent's greeting and fallback text, visitor messages, an agent's
// reply, the e-mail form's text and its attachments' file names, the bell and the toasts — is
// shown as text, in the dashboard and in the widget (embedded on a customer page), both when
// it arrives live and when a page is rendered on the server and hydrated.
//
// Each page fails the test on any dialog, and is checked for: the `__xss` flag every payload
// would set, elements a payload would create (`<img src=x>`, `<svg onload>`, `<iframe srcdoc>`,
// `javascript:` links, inline handlers, scripts), and Content-Security-Policy violations (the
// page policy would block an injected script or handler: a violation means HTML got in).
import { type Browser, type Frame, type Page } from '@playwright/test';
import { BASE, CUSTOMER, expect, live, openChat, signInOn, test } from './support';

const CORPUS = [
  '<script>window.__xss=1</script>',
  '<img src=x onerror="window.__xss=1">',
  '<svg onload="window.__xss=1">',
  'javascript:window.__xss=1',
  '[click](javascript:window.__xss=1)',
  '"><iframe srcdoc="<script>parent.__xss=1</script>">',
  "{{constructor.constructor('window.__xss=1')()}}",
  '<a href="javascript:window.__xss=1">x</a>',
];
const ORG = `XSS Org ${CORPUS[0]}`;
const AGENT = `${CORPUS[1]} Bot`;
const WIDGET = `${CORPUS[5]} shop`;
const USER = { email: 'xss-sam@xss.test', name: `Sam ${CORPUS[2]}`, password: 'violet-harbor-sails-58' };
const GREETING = `Hi! ${CORPUS[6]} ${CORPUS[4]}`;
const FALLBACK = `Sorry: ${CORPUS[7]} ${CORPUS[3]}`;
const REPLY = `Hello from a human ${CORPUS[0]} ${CORPUS[7]} ${CORPUS[4]}`;
const EMAIL_TEXT = CORPUS.join('\n');
const FILES = ['<img src=x onerror=window.__xss=1>.txt', "{{constructor.constructor('window.__xss=1')()}}.txt"];
// What the server keeps of a file name (domain::email::clean_file_name, for these names).
const cleanName = (n: string) => n.replace(/["'<>:*?|;]/g, '_');

// Anything a payload would have created, had it been parsed as HTML.
const INJECTED = [
  'img[src="x"]', 'svg[onload]', 'iframe[srcdoc]', 'a[href^="javascript:" i]', '[onerror]', '[onload]', '[onclick]',
].join(', ');

const problems: string[] = [];

// A page in a fresh context that reports dialogs and hydration warnings, and records CSP
// violations (in every frame).
async function newPage(browser: Browser, label: string): Promise<Page> {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    const w = window as any;
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`), true);
  });
  const page = await context.newPage();
  // Markup where the server rendered text would also make hydration trip.
  page.on('console', (m) => { if (/hydrat/i.test(m.text())) problems.push(`${label}: ${m.text()}`); });
  page.on('dialog', (d) => {
    problems.push(`${label}: ${d.type()} dialog "${d.message()}"`);
    d.dismiss().catch(() => {});
  });
  return page;
}

// The customer site (another origin) with the embed snippet of widget `id`. Its page embeds
// the demo widget: the snippet is swapped for this one. (A page fulfilled by the test itself
// would count as a public address, which Chromium bars from loading anything from loopback.)
async function embedWidget(page: Page, id: string) {
  await page.goto(CUSTOMER());
  await expect(page.locator('#handoff-launcher')).toBeAttached();
  await page.evaluate(([base, widget]) => {
    document.getElementById('handoff-launcher')!.remove();
    document.getElementById('handoff-frame')?.remove(); // a tab that chatted before restores its chat
    document.querySelector('script[data-widget="demo"]')!.remove();
    const s = document.createElement('script');
    s.src = `${base}/widget.js`;
    s.dataset.widget = widget;
    s.async = true;
    document.body.appendChild(s);
  }, [BASE(), id]);
}

// No payload ran (flag, CSP) and none became markup.
async function assertClean(target: Page | Frame, where: string) {
  const seen = await target.evaluate(() => {
    const w = window as any;
    return {
      flag: w.__xss,
      // A payload's own script; the page's scripts carry the nonce or come from a file.
      scripts: [...document.scripts]
        .filter((s) => /^\s*(window|parent)\.__xss=1\s*$/.test(s.text) || (!s.src && !s.nonce))
        .map((s) => s.outerHTML.slice(0, 120)),
      csp: (w.__csp ?? []) as string[],
    };
  });
  expect(seen.flag, `${where}: window.__xss`).toBeUndefined();
  expect(seen.scripts, `${where}: scripts from payloads`).toEqual([]);
  expect(seen.csp, `${where}: CSP violations`).toEqual([]);
  await expect(target.locator(INJECTED), `${where}: elements from payloads`).toHaveCount(0);
  expect(problems).toEqual([]);
}

const byAttr = (attr: string, value: string) => `[${attr}=${JSON.stringify(value)}]`;

test('the XSS corpus is shown as text in the dashboard and the widget', async ({ browser }) => {
  // ---- The platform admin: organization, AI agent, widget, user, all named with payloads.
  const admin = await newPage(browser, 'admin');
  await signInOn(admin, 'admin@demo.test', 'handoff-demo', /\/admin$/);

  const orgForm = admin.locator('form.new-org');
  await orgForm.getByLabel('Name').fill(ORG);
  await orgForm.getByRole('button', { name: 'Create organization' }).click();
  const orgRow = admin.locator(`tr${byAttr('data-org-name', ORG)}`);
  await expect(orgRow).toContainText(ORG);

  const agentForm = admin.locator('form.new-agent');
  await agentForm.getByLabel('Name').fill(AGENT);
  await agentForm.getByLabel('Organization').selectOption({ label: ORG });
  await agentForm.getByRole('button', { name: 'Create AI agent' }).click();
  const agentRow = admin.locator(`tr${byAttr('data-agent-name', AGENT)}`);
  await expect(agentRow).toContainText(AGENT);
  await expect(agentRow.locator('select option:checked')).toHaveText(ORG);
  const agentId = await agentRow.getAttribute('data-agent-id');
  await assertClean(admin, '/admin (live)');
  await admin.reload(); // rendered on the server this time, then hydrated
  await live(admin);
  await expect(admin.locator(`tr${byAttr('data-org-name', ORG)}`)).toContainText(ORG);
  await expect(admin.locator(`tr${byAttr('data-agent-name', AGENT)}`)).toContainText(AGENT);
  await assertClean(admin, '/admin (server-rendered)');

  // The agent's texts, and handoff on (the "Talk to a human" button in the widget's header).
  await admin.goto(`${BASE()}/settings/ai`);
  await live(admin);
  const settings = admin.locator(`#agent-${agentId} .agent-settings`);
  await expect(settings.locator('input[name="name"]')).toHaveValue(AGENT);
  await settings.getByLabel('Greeting').fill(GREETING);
  await settings.getByLabel('When it does not know the answer').fill(FALLBACK);
  await settings.getByLabel('Enable handoff popup').check();
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expect(settings.locator('.form-ok')).toHaveText('Saved.');
  await assertClean(admin, '/settings/ai');

  await admin.goto(`${BASE()}/settings/widgets`);
  await live(admin);
  const widgetForm = admin.locator('form.new-widget');
  await widgetForm.getByLabel('Name').fill(WIDGET);
  await widgetForm.getByLabel('Organization').selectOption({ label: ORG });
  await expect(widgetForm.getByLabel('AI agent').locator('option:checked')).toHaveText(AGENT);
  await widgetForm.getByLabel('Allowed sites').fill(CUSTOMER());
  await widgetForm.getByRole('button', { name: 'Create widget' }).click();
  const card = admin.locator(`.widget-card${byAttr('data-widget-name', WIDGET)}`);
  await expect(card.locator('h2')).toHaveText(WIDGET);
  await expect(card.getByLabel(`Embed snippet of ${WIDGET}`)).toHaveValue(/data-widget=/);
  const widgetId = await card.getAttribute('data-widget');
  await assertClean(admin, '/settings/widgets (live)');
  await admin.reload();
  await live(admin);
  await expect(admin.locator(`.widget-card${byAttr('data-widget-name', WIDGET)} h2`)).toHaveText(WIDGET);
  await assertClean(admin, '/settings/widgets (server-rendered)');

  await admin.goto(`${BASE()}/settings/users`);
  await live(admin);
  const userForm = admin.locator('form.new-user');
  await userForm.getByLabel('E-mail').fill(USER.email);
  await userForm.getByLabel('Name').fill(USER.name);
  await userForm.getByLabel('Password').fill(USER.password);
  await userForm.getByLabel('Organization').selectOption({ label: ORG });
  await userForm.getByRole('button', { name: 'Create user' }).click();
  await expect(userForm.locator('.form-ok')).toHaveText(`Created ${USER.email}.`);
  await expect(admin.locator(`tr${byAttr('data-user-email', USER.email)}`).getByLabel('Name')).toHaveValue(USER.name);
  await assertClean(admin, '/settings/users (live)');
  await admin.reload();
  await live(admin);
  await expect(admin.locator(`tr${byAttr('data-user-email', USER.email)}`)).toContainText(ORG);
  await assertClean(admin, '/settings/users (server-rendered)');

  // ---- The client user: the organization's name in the top bar; the bell on "All messages".
  const sam = await newPage(browser, 'dashboard');
  await signInOn(sam, USER.email, USER.password, /\/conversations$/);
  await expect(sam.locator('.topbar .org')).toHaveText(ORG);
  await expect(sam.locator('.topbar .user')).toHaveText(USER.name);
  await expect(sam.locator('.conn')).toHaveText('live');
  const bell = sam.getByRole('button', { name: 'Notifications' });
  await bell.click();
  await sam.getByRole('button', { name: 'Notification settings' }).click();
  await sam.getByLabel('All messages').check();
  await sam.locator('.bell-prefs').getByRole('button', { name: 'Save' }).click();
  await expect(sam.locator('.bell-prefs [role="status"]')).toHaveText('Saved.');
  await bell.click(); // close
  await assertClean(sam, '/conversations');

  // ---- The visitor, on the customer site (another origin) embedding this widget.
  const visitor = await newPage(browser, 'widget');
  await embedWidget(visitor, widgetId!);
  await visitor.locator('#handoff-launcher').click();
  const widget = visitor.frameLocator('#handoff-frame');
  const widgetFrame = () => visitor.frame({ url: /\/widget\// })!;
  await expect(widget.locator('.widget-title strong')).toHaveText(AGENT);
  await expect(widget.locator('.widget-status')).toHaveText('AI assistant');
  const greeting = widget.locator('.msg[data-author="ai"]').first();
  await expect(greeting.locator('.msg-text')).toHaveText(GREETING);
  await expect(greeting.locator('.msg-who')).toHaveText(`${AGENT} (AI)`);

  const composer = widget.getByLabel('Message');
  for (const payload of CORPUS) {
    await composer.fill(payload);
    await composer.press('Enter');
  }
  const visitorTexts = widget.locator('ol.transcript:not(.pending) .msg[data-author="visitor"] .msg-text');
  await expect(visitorTexts).toHaveText(CORPUS);
  // The AI does not know: its fallback text, a payload too.
  await expect(widget.locator('.msg[data-author="ai"] .msg-text').nth(1)).toHaveText(FALLBACK);
  await assertClean(widgetFrame(), 'widget (messages)');

  // The dashboard's list previews the newest message (the visitor's, or the AI's fallback).
  await expect(sam.locator('.conv-item .preview')).toContainText('__xss');
  await assertClean(sam, 'dashboard (list)');

  await widget.getByRole('button', { name: 'Talk to a human' }).click();
  await expect(widget.locator('.widget-status')).toHaveText('Waiting for a human…');

  // ---- The dashboard: the request's toast, the bell, then the conversation.
  const toast = sam.locator('.toast:not(.toast-mail)');
  await expect(toast).toContainText('is asking for a human');
  const item = sam.locator('.conv-item[data-state="requested"]');
  await expect(item).toHaveCount(1);
  await bell.click();
  await expect(sam.locator('.bell-item[data-kind="request"]')).toContainText('asked for a human');
  await expect(sam.locator('.bell-item[data-kind="message"] .bell-text')).toContainText(`: ${CORPUS.at(-1)}`);
  await assertClean(sam, 'dashboard (toast, bell)');
  await bell.click(); // close
  await toast.locator('.toast-open').click();
  await expect(sam).toHaveURL(/\/conversations\/[0-9a-f]+$/);
  await expect(sam.locator('.conv-view .msg[data-author="visitor"] .msg-text')).toHaveText(CORPUS);
  await expect(sam.locator('.conv-view .msg[data-author="ai"] .msg-text').first()).toHaveText(GREETING);
  await expect(sam.locator('.conv-view .msg[data-author="ai"] .msg-text').nth(1)).toHaveText(FALLBACK);

  await sam.getByRole('button', { name: 'Handle chat' }).click();
  await expect(widget.locator('.msg[data-author="system"] .msg-text').last()).toHaveText(`${USER.name} joined the chat.`);
  await expect(widget.locator('.widget-title strong')).toHaveText(USER.name);
  await expect(widget.locator('.widget-status')).toHaveText('A person from our team');
  await sam.getByLabel('Reply').fill(REPLY);
  await sam.getByLabel('Reply').press('Enter');
  const agentMsg = widget.locator('.msg[data-author="agent"]').last();
  await expect(agentMsg.locator('.msg-text')).toHaveText(REPLY);
  await expect(agentMsg.locator('.msg-who')).toHaveText(USER.name);
  await expect(sam.locator('.conv-view .msg[data-author="agent"] .msg-who').last()).toHaveText(USER.name);
  await assertClean(widgetFrame(), 'widget (human joined)');
  await assertClean(sam, 'dashboard (conversation)');

  // ---- The e-mail form: payloads in the text and in the file names.
  // During a human chat the e-mail form is in the menu, not a header button.
  await expect(widget.getByRole('button', { name: 'Send an email instead' })).toHaveCount(0);
  await widget.getByRole('button', { name: 'More options' }).click();
  await widget.getByRole('menuitem', { name: 'Send us an email' }).click();
  const form = widget.locator('.email-form');
  await form.getByLabel('Your e-mail address').fill('visitor@example.com');
  await form.getByLabel('Your question').fill(EMAIL_TEXT);
  await form.getByLabel('Attach files').setInputFiles(FILES.map((name, i) => ({
    name, mimeType: 'text/plain', buffer: Buffer.from(`notes ${i}\n`),
  })));
  await expect(form.locator('.file .file-name')).toHaveText(FILES);
  await assertClean(widgetFrame(), 'widget (e-mail form)');
  await form.getByRole('button', { name: 'Send e-mail', exact: true }).click();
  await expect(widget.locator('.email-sent')).toBeVisible();
  const sent = widget.locator('.msg[data-kind="email_form"]');
  expect(await sent.locator('.msg-text').evaluate((el) => el.textContent)).toBe(EMAIL_TEXT);
  await expect(sent.locator('.attachment-name')).toHaveText(FILES.map(cleanName));

  const mailToast = sam.locator('.toast-mail .toast-text');
  await expect(mailToast).toContainText(`sent an e-mail (2 files): ${CORPUS[0]}`);
  await bell.click();
  await expect(sam.locator('.bell-item[data-kind="email_form"] .bell-text')).toContainText(`(2 files): ${CORPUS[0]}`);
  await assertClean(sam, 'dashboard (e-mail toast, bell)');
  await bell.click(); // close
  const mailCard = sam.locator('.conv-view .msg[data-kind="email_form"]');
  expect(await mailCard.locator('.msg-text').evaluate((el) => el.textContent)).toBe(EMAIL_TEXT);
  const links = mailCard.locator('a.attachment-name');
  await expect(links).toHaveText(FILES.map(cleanName));
  await expect(links.first()).toHaveAttribute('download', cleanName(FILES[0]));
  await expect(links.first()).toHaveAttribute('href', /^\/attachments\/[0-9a-f]+$/);
  await assertClean(sam, 'dashboard (e-mail card)');

  // ---- Everything once more, rendered on the server and hydrated (dashboard), or read back
  // from the server (widget).
  await sam.reload();
  await live(sam);
  await expect(sam.locator('.conn')).toHaveText('live');
  await expect(sam.locator('.topbar .org')).toHaveText(ORG);
  await expect(sam.locator('.conv-view .msg[data-author="visitor"][data-kind="chat"] .msg-text')).toHaveText(CORPUS);
  await expect(sam.locator('.conv-view .msg[data-author="agent"] .msg-text').last()).toHaveText(REPLY);
  await expect(sam.locator('.conv-view .msg[data-kind="email_form"] a.attachment-name')).toHaveText(FILES.map(cleanName));
  await expect(sam.getByText(CORPUS[0], { exact: false }).first()).toBeVisible();
  await assertClean(sam, 'dashboard (server-rendered)');
  await sam.screenshot({ path: 'screenshots/xss-dashboard.png', fullPage: true });

  await embedWidget(visitor, widgetId!);
  await openChat(visitor);
  // Still held by the human: the header names who answers.
  await expect(widget.locator('.widget-title strong')).toHaveText(USER.name);
  await expect(widget.locator('ol.transcript:not(.pending) .msg[data-author="visitor"][data-kind="chat"] .msg-text')).toHaveText(CORPUS);
  await expect(widget.locator('.msg[data-author="agent"] .msg-text').last()).toHaveText(REPLY);
  await expect(widget.locator('.msg[data-kind="email_form"] .attachment-name')).toHaveText(FILES.map(cleanName));
  await expect(widget.getByText(CORPUS[5], { exact: false }).first()).toBeVisible();
  await assertClean(widgetFrame(), 'widget (reloaded)');
  await assertClean(visitor, 'customer page');
  await visitor.screenshot({ path: 'screenshots/xss-widget.png', fullPage: true });

  // Leave nothing open.
  await sam.getByRole('button', { name: 'Close' }).click();
  await expect(widget.locator('.widget-ended')).toBeVisible();
  expect(problems).toEqual([]);
});
