// The staff procedure editor's form JSON (四街道市), by keyboard alone at
// 375 px, and without JavaScript: a form with an unknown field type and a
// missing Japanese label is typed into the box and saved with Enter; the
// page comes back 422 with each mistake in Japanese, naming its place and
// what is allowed, as a list the box is described by; axe finds nothing,
// nothing scrolls sideways, and the procedure is unchanged.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, expectNoHorizontalScroll, staffSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function tabTo(page, selector, max = 300) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${selector}`);
}

const BAD = '{"fields": [{"name": "a", "type": "text", "label": {"ja": "あ"}},'
  + ' {"name": "b", "type": "banana", "label": {"en": "B"}}]}';
const MESSAGES = [
  '「申請フォーム（JSON）」のfields[1].label: 日本語（ja）の文言が必要です。',
  '「申請フォーム（JSON）」のfields[1].type: "banana" は使えません。使える種類: text, textarea, number, choice, checkbox, date, email, file, person_name, postal_code, phone, my_number, corporate_number, local_gov_code, fiscal_year, yen',
];
const EDIT = () => url(`/t/${T}/staff/catalogue/juminhyo-copy`);

test('form JSON mistakes in Japanese, keyboard only, 375 px, axe', async () => {
  const { page } = await newPage(browser, { viewport: { width: 375, height: 800 } });
  await staffSignIn(page, T, 'dx-admin');
  await page.goto(EDIT());
  const original = await page.inputValue('#field-form_json');
  assert.ok(original.includes('"person_name"'), 'the form as it is');
  await expectNoAxeViolations(assert, page, 'procedure editor');
  await expectNoHorizontalScroll(page, 'procedure editor at 375 px');

  await tabTo(page, '#field-form_json');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(BAD);
  await tabTo(page, 'form.form button[type="submit"]');
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.keyboard.press('Enter'),
  ]);
  assert.equal(response.status(), 422);
  assert.deepEqual(await page.locator('#field-form_json-error li').allTextContents(), MESSAGES);
  assert.equal(
    await page.getAttribute('#field-form_json', 'aria-describedby'),
    'field-form_json-hint field-form_json-error',
  );
  assert.ok((await page.inputValue('#field-form_json')).includes('banana'), 'what was typed is kept');
  assert.equal(await page.locator('.error-summary a[href="#field-form_json"]').count(), 2);
  await expectNoAxeViolations(assert, page, 'procedure editor with form JSON mistakes');
  await expectNoHorizontalScroll(page, 'procedure editor with mistakes at 375 px');

  await page.goto(EDIT());
  assert.equal(await page.inputValue('#field-form_json'), original, 'nothing saved');
});

test('form JSON mistakes without JavaScript', async () => {
  const { page } = await newPage(browser, { javaScriptEnabled: false });
  await staffSignIn(page, T, 'dx-admin');
  await page.goto(EDIT());
  await page.fill('#field-form_json', BAD);
  const response = await submitVia(page, 'form.form button[type="submit"]');
  assert.equal(response.status(), 422);
  assert.deepEqual(await page.locator('#field-form_json-error li').allTextContents(), MESSAGES);
});
