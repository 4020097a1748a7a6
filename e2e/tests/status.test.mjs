// 申請状況の確認 (四街道市): from the home page to a case by its receipt
// number and a phone number, by keyboard alone; without JavaScript, a
// lookup that matches nothing, then the right one; axe on the form, the
// error states and the result in Japanese and English (axe needs
// JavaScript in the page); 申請の一覧 of a signed-in resident.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  launch, newPage, url, expectNoAxeViolations, submitVia, residentSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
let browser;
let filed;

/** A phone number of this run, so reruns against one demo do not mix. */
const PHONE = `090-${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}-${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;

/** Files スマホ教室 (no sign-in needed) through the API. */
async function fileClass(phone) {
  const r = await fetch(url(`/api/v1/t/${T}/procedures/smartphone-class/applications`), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({
      answers: {
        applicant: { name: '鹿渡 次郎', kana: 'しかわたり じろう' },
        phone, age_group: '60s', course: 'basics', venue: 'city_hall', device: 'android',
      },
    }),
  });
  assert.equal(r.status, 201);
  const b = await r.json();
  return { receipt: b.receipt_number, path: new URL(b.case_url).pathname };
}

before(async () => {
  browser = await launch();
  filed = await fileClass(PHONE);
});
after(async () => { await browser?.close(); });

/** Tabs until `check` holds for the focused element (at most 80 times). */
async function tabTo(page, check, what) {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(check)) return;
  }
  assert.fail(`${what} is not reachable by Tab`);
}

test('from the home page to the case by keyboard alone', async () => {
  const { page, context } = await newPage(browser);
  await page.goto(url(`/t/${T}?lang=ja`));
  await tabTo(page, () => document.activeElement?.getAttribute('href')?.endsWith('/status'), 'the 申請状況の確認 link');
  assert.equal((await page.evaluate(() => document.activeElement.textContent)).trim(), '申請状況の確認');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.equal(new URL(page.url()).pathname, `/t/${T}/status`);
  await tabTo(page, () => document.activeElement?.id === 'field-receipt_number', 'the receipt number');
  // Typed without hyphens; the phone with full-width digits.
  await page.keyboard.type(filed.receipt.replaceAll('-', ''));
  await tabTo(page, () => document.activeElement?.id === 'field-phone', 'the phone number');
  await page.keyboard.type(PHONE.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))));
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.equal(new URL(page.url()).pathname, filed.path);
  assert.ok((await page.textContent('main')).includes(filed.receipt));
  await context.close();
});

/** Looks up on the page open: the form's fields, then its button. */
async function lookUp(page, receipt, phone) {
  await page.fill('#field-receipt_number', receipt);
  await page.fill('#field-phone', phone);
  return submitVia(page, 'main form button[type="submit"]');
}

test('without JavaScript: a lookup that matches nothing, then the case', async () => {
  const { page, context } = await newPage(browser, { javaScriptEnabled: false });
  await page.goto(url(`/t/${T}/status?lang=ja`));
  let response = await lookUp(page, filed.receipt, '03-0000-0000');
  assert.equal(response.status(), 422);
  assert.equal(await page.locator('.error-summary li').count(), 1);
  assert.equal(await page.locator('.error-summary a').getAttribute('href'), '#field-receipt_number');
  assert.equal(await page.locator('#field-receipt_number').getAttribute('aria-invalid'), 'true');
  assert.ok((await page.textContent('.error-summary')).includes('受付番号と確認のための情報の組み合わせが見つかりません'));
  response = await lookUp(page, filed.receipt, PHONE);
  assert.equal(response.status(), 200);
  assert.equal(new URL(page.url()).pathname, filed.path);
  assert.ok((await page.textContent('main')).includes(filed.receipt));
  await context.close();
});

for (const lang of ['ja', 'en']) {
  test(`axe (${lang}): the form, its errors, no match and the case found`, async () => {
    const { page, context } = await newPage(browser);
    await page.goto(url(`/t/${T}/status?lang=${lang}`));
    assert.equal(await page.locator('html').getAttribute('lang'), lang);
    await expectNoAxeViolations(assert, page, `status form ${lang}`);
    // Nothing typed: each field named.
    let response = await submitVia(page, 'main form button[type="submit"]');
    assert.equal(response.status(), 422);
    assert.equal(await page.locator('.error-summary li').count(), 2);
    await expectNoAxeViolations(assert, page, `status form, empty ${lang}`);
    response = await lookUp(page, filed.receipt, '03-0000-0000');
    assert.equal(response.status(), 422);
    await expectNoAxeViolations(assert, page, `status form, no match ${lang}`);
    response = await lookUp(page, filed.receipt, PHONE);
    assert.equal(new URL(page.url()).pathname, filed.path);
    assert.equal(await page.locator('html').getAttribute('lang'), lang);
    await expectNoAxeViolations(assert, page, `the case found ${lang}`);
    await context.close();
  });
}

test('申請の一覧 of a signed-in resident, from the account page', async () => {
  const { page, context } = await newPage(browser);
  await residentSignIn(page, T, { returnTo: `/t/${T}/account`, name: `一覧 ${randomUUID().slice(0, 6)}` });
  await submitVia(page, `main a[href="/t/${T}/my"]`);
  assert.equal(new URL(page.url()).pathname, `/t/${T}/my`);
  assert.equal(await page.locator('main .card').count(), 0);
  await expectNoAxeViolations(assert, page, 'my applications, none yet');
  // Apply while signed in (スマホ教室), then the list has it.
  await page.goto(url(`/t/${T}/procedures/smartphone-class/apply`));
  await page.fill('#field-applicant', '一覧 太郎');
  await page.fill('#field-applicant_kana', 'いちらん たろう');
  await page.fill('#field-phone', '043-421-2111');
  for (const [name, value] of [['age_group', '60s'], ['course', 'basics'], ['venue', 'city_hall'], ['device', 'android']]) {
    await page.check(`input[name="${name}"][value="${value}"]`);
  }
  await submitVia(page, 'button[name="_action"][value="review"]');
  await submitVia(page, 'main form button[type="submit"]');
  const receipt = (await page.textContent('.panel__ref'))?.trim();
  await page.goto(url(`/t/${T}/my`));
  assert.equal(await page.locator('main .card').count(), 1);
  assert.ok((await page.textContent('main .card')).includes(receipt));
  await expectNoAxeViolations(assert, page, 'my applications');
  await submitVia(page, 'main .card a');
  assert.ok((await page.textContent('main')).includes(receipt));
  await context.close();
});
