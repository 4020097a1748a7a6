// 手続ナビ (四街道市): the list of life events, the questions, an error
// and the personalised list pass axe-core in every language; the
// navigator is completed by keyboard alone; without JavaScript it works
// the same (plain GET forms).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, url, submitVia, expectNoAxeViolations, YOTSUKAIDO, LANGS } from '../lib.mjs';

const T = YOTSUKAIDO;
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const lang of LANGS) {
  test(`navigator pages, axe, ${lang}`, async () => {
    const { page, context } = await newPage(browser);
    await page.goto(url(`/t/${T}/navi?lang=${lang}`));
    await expectNoAxeViolations(assert, page, `navigator index (${lang})`);
    await page.goto(url(`/t/${T}/navi/moving-in`));
    await expectNoAxeViolations(assert, page, `moving-in questions (${lang})`);
    // Submitted with nothing answered: every question is named.
    await submitVia(page, 'main form button[type="submit"]');
    assert.ok(await page.locator('.error-summary li').count() >= 5, 'each question named');
    await expectNoAxeViolations(assert, page, `moving-in questions with errors (${lang})`);
    for (const radio of await page.locator('input[type="radio"][value="yes"]').all()) { await radio.check(); }
    await submitVia(page, 'main form button[type="submit"]');
    assert.match(new URL(page.url()).pathname, /\/navi\/moving-in\/result$/);
    assert.ok(await page.locator('.navi-step').count() >= 4, 'a list of procedures');
    await expectNoAxeViolations(assert, page, `moving-in result (${lang})`);
    await context.close();
  });
}

test('navigator by keyboard alone, and without JavaScript', async () => {
  const { page, context } = await newPage(browser);
  await page.goto(url(`/t/${T}/navi/birth?lang=ja`));
  // Focus the first question's 「はい」 and choose it with Space; Tab moves
  // to the next question (a radio group is one stop); Enter sends.
  await page.locator('#field-parent_nhi').focus();
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  const active = await page.evaluate(() => document.activeElement?.getAttribute('name'));
  assert.equal(active, 'public_servant', 'Tab reaches the next question');
  await page.keyboard.press('Space');
  // Each following question the same way (Tab to it, Space for 「はい」),
  // then on to the button.
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.tagName === 'BUTTON')) break;
    if (await page.evaluate(() => document.activeElement?.getAttribute('type') === 'radio')) {
      await page.keyboard.press('Space');
    }
  }
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.match(new URL(page.url()).pathname, /\/navi\/birth\/result$/);
  assert.ok(await page.locator('.navi-step').count() >= 1);
  await context.close();

  const nojs = await newPage(browser, { javaScriptEnabled: false });
  await nojs.page.goto(url(`/t/${T}/navi/death?lang=ja`));
  for (const radio of await nojs.page.locator('input[type="radio"][value="no"]').all()) { await radio.check(); }
  await submitVia(nojs.page, 'main form button[type="submit"]');
  assert.ok((await nojs.page.textContent('main')).includes('死亡届'), 'the list without JavaScript');
  await nojs.context.close();
});
