// The console guard (support.ts) must itself be able to fail: each test here provokes one kind of
// problem and is marked `test.fail()`, so it passes only if the guard failed it. If the guard
// stopped watching frames, pages or exceptions, these would "unexpectedly pass" and fail the run.
import { openWidget, signIn, test } from './support';

test('a console error in the dashboard fails the test', async ({ browser }) => {
  test.fail();
  const ann = await signIn(browser, 'ann@demo.test');
  await ann.evaluate(() => console.error('provoked by console-guard.spec'));
});

test("an uncaught exception in the widget's frame fails the test", async ({ page }) => {
  test.fail();
  await openWidget(page);
  const frame = page.frames().find((f) => f.url().includes('/widget/'))!;
  await frame.evaluate(() => setTimeout(() => { throw new Error('provoked by console-guard.spec'); }, 0));
  await page.waitForTimeout(200);
});
