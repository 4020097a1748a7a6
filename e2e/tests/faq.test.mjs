// よくある質問 (四街道市): the list and an entry pass axe-core in Japanese
// and English; "was this helpful" works by keyboard alone and without
// JavaScript; the pages fit a 375px-wide phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, expectNoHorizontalScroll, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The path of the first entry linked from the FAQ list. */
async function firstEntry(page) {
  await page.goto(url(`/t/${T}/faq?lang=ja`));
  return page.locator('main .link-list a').first().getAttribute('href');
}

for (const lang of ['ja', 'en']) {
  test(`FAQ pages, axe, ${lang}`, async () => {
    const { page, context } = await newPage(browser);
    const entry = await firstEntry(page);
    await page.goto(url(`/t/${T}/faq?lang=${lang}`));
    assert.ok(await page.locator('main h2').count() >= 5, 'questions by category');
    await expectNoAxeViolations(assert, page, `FAQ list (${lang})`);
    await page.goto(url(`${entry}?lang=${lang}`));
    await expectNoAxeViolations(assert, page, `FAQ entry (${lang})`);
    // After a vote: the thanks notice, still clean.
    await submitVia(page, '#feedback button[value="yes"]');
    assert.ok((await page.locator('#feedback [role="status"]').count()) === 1, 'thanks shown');
    await expectNoAxeViolations(assert, page, `FAQ entry after feedback (${lang})`);
    await context.close();
  });

  test(`FAQ pages at 375px, ${lang}`, async () => {
    const { page, context } = await newPage(browser, { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const entry = await firstEntry(page);
    await page.goto(url(`/t/${T}/faq?lang=${lang}`));
    await expectNoHorizontalScroll(page, `FAQ list (${lang})`);
    await page.goto(url(`${entry}?lang=${lang}`));
    await expectNoHorizontalScroll(page, `FAQ entry (${lang})`);
    await context.close();
  });
}

test('feedback by keyboard alone, and without JavaScript', async () => {
  const { page, context } = await newPage(browser);
  const entry = await firstEntry(page);
  await page.goto(url(entry));
  // Tab from the page top until the 「いいえ」 button has focus; Enter sends.
  let reached = false;
  for (let i = 0; i < 80 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.getAttribute('value') === 'no'
      && document.activeElement?.getAttribute('name') === 'helpful');
  }
  assert.ok(reached, 'the feedback buttons are reachable by Tab');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.ok(page.url().includes('voted=1'), 'the vote was sent');
  await context.close();

  const nojs = await newPage(browser, { javaScriptEnabled: false });
  await nojs.page.goto(url(entry));
  await submitVia(nojs.page, '#feedback button[value="yes"]');
  assert.ok((await nojs.page.textContent('#feedback')).includes('ありがとうございました'), 'thanks without JavaScript');
  await nojs.context.close();
});
