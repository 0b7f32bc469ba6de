// Files in the chat (issue 23), both ways: the visitor's picture shows inline in the widget and
// in Ann's dashboard, Ann's picture and PDF reach the visitor (the picture inline, the PDF a
// download the widget fetches with the visitor's token), an executable renamed .png is refused
// with a clear error, nothing sent, and a screenshot pasted into either message box is sent. (Every rule on both databases: the server tests'
// `chat_files::*`.)
import { deflateSync } from 'node:zlib';
import type { Locator } from '@playwright/test';
import { allowConsole, annHoldsANewChat, expect, test } from './support';

/** A real PNG of `width`×`height` in one colour (so that the browser decodes it and it has a size). */
function png(width: number, height: number, [r, g, b]: number[]): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [r, g, b]).flat())]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

test('files go both ways, pictures inline; an executable renamed .png is refused', async ({ browser }) => {
  // The refused upload's 400 answer, logged by the browser.
  allowConsole(/status of 400 \(Bad Request\) \(http:\/\/[^)]*\/api\/widget\/file\)/);
  const { ann, page, widget } = await annHoldsANewChat(browser, 'My parcel arrived broken');
  await expect(ann.getByLabel('Reply')).toBeVisible();

  // The visitor sends a picture: it shows inline, decoded, in the widget and in the dashboard.
  await widget.getByLabel('Send a file').setInputFiles({ name: 'parcel.png', mimeType: 'image/png', buffer: png(96, 64, [220, 80, 40]) });
  const theirs = widget.locator('.msg[data-kind="file"][data-author="visitor"] img.chat-image');
  await expect.poll(() => theirs.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(96);
  await expect(widget.locator('.msg[data-kind="file"]')).toContainText('parcel.png');
  const atAnn = ann.locator('.msg[data-kind="file"][data-author="visitor"] img.chat-image');
  await expect.poll(() => atAnn.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(96);
  await expect(widget.locator('.uploads')).toHaveCount(0); // sent: the upload left the list

  // Ann sends a picture and a PDF: the picture inline for the visitor, the PDF a download.
  await ann.getByLabel('Send a file').setInputFiles([
    { name: 'label.png', mimeType: 'image/png', buffer: png(48, 48, [40, 120, 220]) },
    { name: 'return-form.pdf', mimeType: 'application/pdf', buffer: PDF },
  ]);
  const fromAnn = widget.locator('.msg[data-kind="file"][data-author="agent"] img.chat-image');
  await expect.poll(() => fromAnn.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(48);
  const pdf = widget.locator('a.chat-file', { hasText: 'return-form.pdf' });
  await expect(pdf).toBeVisible();
  const download = page.waitForEvent('download');
  await pdf.click();
  expect((await download).suggestedFilename()).toBe('return-form.pdf');
  await expect(ann.locator('.msg[data-kind="file"][data-author="agent"]')).toHaveCount(2);

  // An executable renamed .png: refused by its content, the reason shown, nothing sent.
  await widget.getByLabel('Send a file').setInputFiles({ name: 'invoice.png', mimeType: 'image/png', buffer: Buffer.from('MZ\x90\0\x03\0\0\0\x04\0\0\0', 'latin1') });
  const refusal = widget.locator('.upload-item [role="alert"]');
  await expect(refusal).toContainText('Not sent: invoice.png: this type of file is not accepted');
  // (The refusal is the server's answer: nothing of it can reach Ann later.)
  await expect(ann.locator('.msg[data-kind="file"]')).toHaveCount(3);
  await expect(ann.locator('.transcript')).not.toContainText('invoice.png');

  // A screenshot pasted into either message box is sent like a picked file.
  const paste = (box: Locator, bytes: number[], name: string) => box.evaluate((el, [bytes, name]) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes as number[])], name as string, { type: 'image/png' }));
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, [bytes, name]);
  await paste(ann.getByLabel('Reply'), [...png(30, 20, [20, 160, 60])], 'pasted-by-ann.png');
  const pastedByAnn = widget.locator('.msg[data-kind="file"]', { hasText: 'pasted-by-ann.png' }).locator('img');
  await expect.poll(() => pastedByAnn.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(30);
  await paste(widget.getByLabel('Message'), [...png(40, 20, [160, 20, 160])], 'pasted-by-visitor.png');
  const pastedByVisitor = ann.locator('.msg[data-kind="file"]', { hasText: 'pasted-by-visitor.png' }).locator('img');
  await expect.poll(() => pastedByVisitor.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(40);
  await expect(ann.getByLabel('Reply')).toHaveValue('');

  await ann.screenshot({ path: 'screenshots/files-dashboard.png' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: 'screenshots/files-widget-phone.png' });
  await ann.setViewportSize({ width: 390, height: 844 });
  await ann.screenshot({ path: 'screenshots/files-dashboard-phone.png' });
  await widget.locator('.upload-item .file-remove').click();
  await expect(widget.locator('.uploads')).toHaveCount(0);
  await page.close();
});
