// 翻訳の状況 (四街道市), by keyboard alone at 375 px: a department or system
// administrator opens the overview from the staff menu, filters it to the
// English translations written with machine assistance, marks the one of
// 住民票の写しの交付請求 reviewed, finds it under 確認済み with their own name
// as 確認者, and undoes it; axe finds nothing on any of these pages and
// nothing scrolls sideways. Without JavaScript the filter and the review
// work the same.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, expectNoHorizontalScroll, staffSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
const TITLE = '住民票の写しの交付請求';
let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function tabTo(page, test, what, max = 400) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(test)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${what}`);
}

/** Focuses a select by Tab and moves to `value` with the arrow keys. */
async function chooseByKeyboard(page, selector, value) {
  await tabTo(page, `document.activeElement?.matches(${JSON.stringify(selector)})`, selector);
  for (let i = 0; i < 10 && (await page.inputValue(selector)) !== value; i++) {
    await page.keyboard.press('ArrowDown');
  }
  assert.equal(await page.inputValue(selector), value, `${selector} = ${value}`);
}

async function pressEnter(page) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.keyboard.press('Enter'),
  ]);
  return response;
}

/** The button of the row of TITLE (its hidden text names the entry). */
function rowButton(label) {
  return `(() => { const b = document.activeElement; return !!b && b.tagName === 'BUTTON'
    && b.textContent.includes(${JSON.stringify(label)}) && b.textContent.includes(${JSON.stringify(TITLE)})
    && b.textContent.includes('English'); })()`;
}

test('translation status by keyboard at 375 px, axe', async () => {
  const { page } = await newPage(browser, { viewport: { width: 375, height: 800 } });
  await staffSignIn(page, T, 'dx-admin');
  await page.goto(url(`/t/${T}/staff/account`));
  // From the staff menu.
  await tabTo(page, `document.activeElement?.getAttribute('href') === '/t/${T}/staff/translations'`, 'the menu link');
  let response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.equal(await page.textContent('h1'), '翻訳の状況');
  await expectNoAxeViolations(assert, page, 'translation status');
  await expectNoHorizontalScroll(page, 'translation status at 375 px');

  await chooseByKeyboard(page, '#field-language', 'en');
  await chooseByKeyboard(page, '#field-state', 'machine_assisted');
  await tabTo(page, `document.activeElement?.matches('form.form button[type="submit"]')`, 'the filter button');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.match(page.url(), /language=en&state=machine_assisted/);
  const states = await page.locator('tbody tr[data-state]').evaluateAll((rows) => rows.map((r) => r.dataset.state));
  assert.ok(states.length > 0 && states.every((s) => s === 'machine_assisted'), 'only machine-assisted rows');
  await expectNoAxeViolations(assert, page, 'translation status, filtered');
  await expectNoHorizontalScroll(page, 'filtered at 375 px');

  // Mark it reviewed: back to the same filter, where it is no longer.
  await tabTo(page, rowButton('確認済みにする'), 'the review button');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.match(page.url(), /language=en&state=machine_assisted/);
  assert.equal(await page.locator(`tbody tr:has-text("${TITLE}")`).count(), 0);

  await page.goto(url(`/t/${T}/staff/translations?language=en&state=reviewed`));
  const row = page.locator(`tbody tr:has-text("${TITLE}")`);
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), /確認済み（確認者：デジタル推進 管理者、/);
  await expectNoAxeViolations(assert, page, 'translation status, reviewed');

  // And undo it.
  await page.keyboard.press('Tab');
  await tabTo(page, rowButton('確認済みを取り消す'), 'the undo button');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.equal(await page.locator(`tbody tr:has-text("${TITLE}")`).count(), 0);
  await page.goto(url(`/t/${T}/staff/catalogue/juminhyo-copy`));
  assert.match(await page.textContent('.translation-review li[data-lang="en"]'), /機械支援翻訳・未確認/);
  await expectNoAxeViolations(assert, page, 'procedure editor with its translation review');
  await expectNoHorizontalScroll(page, 'procedure editor at 375 px');
});

test('translation status without JavaScript', async () => {
  const { page } = await newPage(browser, { javaScriptEnabled: false });
  await staffSignIn(page, T, 'dx-admin');
  await page.goto(url(`/t/${T}/staff/translations`));
  await page.selectOption('#field-language', 'en');
  await page.selectOption('#field-state', 'machine_assisted');
  let response = await submitVia(page, 'form.form button[type="submit"]');
  assert.equal(response.status(), 200);
  const row = page.locator(`tbody tr:has-text("${TITLE}")`);
  response = await submitVia(page, `tbody tr:has-text("${TITLE}") button`);
  assert.equal(response.status(), 200);
  assert.equal(await row.count(), 0);
  await page.goto(url(`/t/${T}/staff/translations?language=en&state=reviewed`));
  response = await submitVia(page, `tbody tr:has-text("${TITLE}") button`);
  assert.equal(response.status(), 200);
  assert.equal(await page.locator(`tbody tr:has-text("${TITLE}")`).count(), 0, 'undone');
});
