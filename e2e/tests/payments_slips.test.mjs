// 納付書の設定 (四街道市), by keyboard alone at 375 px: the system
// administrator (who holds the Treasurer role) enters a wrong 請求書発行企業
// コード and gets 422 with the field named in Japanese, then saves good
// settings; axe finds nothing and nothing scrolls sideways. Without
// JavaScript the form works the same.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, expectNoHorizontalScroll, staffSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
const SETTINGS = `/t/${T}/staff/payments/slips/settings`;
let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function tabTo(page, test, what, max = 200) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(test)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${what}`);
}

async function pressEnter(page) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.keyboard.press('Enter'),
  ]);
  return response;
}

const focused = (id) => `document.activeElement?.id === ${JSON.stringify(id)}`;

async function typeInto(page, id, text) {
  await tabTo(page, focused(id), id);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(text);
}

test('slip settings by keyboard at 375 px: refused, then saved; axe', async () => {
  const { page, context } = await newPage(browser, { viewport: { width: 375, height: 800 } });
  await staffSignIn(page, T, 'dx-admin');
  let response = await page.goto(url(SETTINGS));
  assert.equal(response.status(), 200);
  assert.equal(await page.textContent('h1'), '納付書の設定');
  await expectNoAxeViolations(assert, page, 'slip settings');
  await expectNoHorizontalScroll(page, 'slip settings at 375 px');

  await typeInto(page, 'field-biller_code', '12345');
  await typeInto(page, 'field-collector_number', '01234');
  await typeInto(page, 'field-classes', 'kokuho,001');
  await tabTo(page, `document.activeElement?.tagName === 'BUTTON' && document.activeElement.type === 'submit'
    && document.activeElement.closest('form')?.action.endsWith('/slips/settings')`, 'the save button');
  response = await pressEnter(page);
  assert.equal(response.status(), 422);
  assert.match(await page.textContent('.error-summary'), /請求書発行企業コードは半角数字6桁で入力してください。/);
  assert.equal(await page.getAttribute('#field-biller_code', 'aria-invalid'), 'true');
  assert.equal(await page.inputValue('#field-classes'), 'kokuho,001', 'what was typed is kept');
  await expectNoAxeViolations(assert, page, 'slip settings refused');
  await expectNoHorizontalScroll(page, 'slip settings refused at 375 px');

  await typeInto(page, 'field-biller_code', '912345');
  await tabTo(page, `document.activeElement?.tagName === 'BUTTON' && document.activeElement.type === 'submit'
    && document.activeElement.closest('form')?.action.endsWith('/slips/settings')`, 'the save button');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.equal((await page.textContent('[role="status"]')).trim(), '納付書の設定を保存しました。');
  assert.equal(await page.inputValue('#field-biller_code'), '912345');
  await expectNoAxeViolations(assert, page, 'slip settings saved');
  await context.close();
});

test('slip settings without JavaScript', async () => {
  const { page, context } = await newPage(browser, { javaScriptEnabled: false });
  await staffSignIn(page, T, 'dx-admin');
  let response = await page.goto(url(SETTINGS));
  assert.equal(response.status(), 200);
  await page.fill('#field-biller_code', '912345');
  await page.fill('#field-collector_number', '0123');
  await page.fill('#field-classes', 'kokuho,001');
  response = await submitVia(page, `form[action="${SETTINGS}"] button[type="submit"]`);
  assert.equal(response.status(), 422);
  assert.match(await page.textContent('.error-summary'), /収納機関番号は半角数字5桁で入力してください。/);
  await page.fill('#field-collector_number', '01234');
  response = await submitVia(page, `form[action="${SETTINGS}"] button[type="submit"]`);
  assert.equal(response.status(), 200);
  assert.match(await page.textContent('[role="status"]'), /保存しました/);
  await context.close();
});
