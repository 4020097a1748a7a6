// The address from the postal code (四街道市's 転入届):
//
// - With JavaScript: typing a postal code Japan Post knows fills the empty
//   address field (prefecture, city, town) and a polite live region says
//   so; a code Japan Post lacks says it was not found; an address the
//   resident typed is never overwritten. axe finds nothing on the form.
// - Without JavaScript: the form sent with an empty address comes back
//   (422) with the address filled from the code and a message asking the
//   resident to add the 番地 and check it; sent again, it goes on to the
//   check page. axe finds nothing on that page (checked in a page with
//   JavaScript, where axe runs, reached the same way).
//
// The dates are today's in Japan: moved in two days ago, visiting on the
// first day the server accepts (an open day within 14 days).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, residentSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
const FORM = `/t/${T}/procedures/tennyu/apply`;
const DAY = 86_400_000;

/** A date in Japan, `days` from today, as 2026-04-01. */
function jstDate(days) {
  return new Date(Date.now() + 9 * 3_600_000 + days * DAY).toISOString().slice(0, 10);
}

const answers = (visit) => ({
  applicant: { name: '四街道 花子', kana: 'よつかいどう はなこ' },
  moved_in_date: jstDate(-2),
  previous_address: '東京都千代田区千代田1番1号',
  new_postal_code: '284-0001',
  new_address: '千葉県四街道市大日1番地',
  members: 1,
  visit_date: visit,
});

/** The first visit day the server accepts (the office calendar is the server's). */
async function firstOpenVisit() {
  for (let i = 0; i < 12; i += 1) {
    const visit = jstDate(i);
    const r = await fetch(url(`/api/v1/t/${T}/procedures/tennyu/validate`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ answers: answers(visit) }),
    });
    if (r.status === 200) { return visit; }
  }
  throw new Error('no open visit day within 12 days');
}

/** Fills every field but the address (and the postal code, when told). */
async function fillMovingIn(page, visit, { postal } = {}) {
  await page.fill('#field-applicant_kana', 'よつかいどう はなこ');
  await page.fill('#field-moved_in_date', jstDate(-2));
  await page.fill('#field-previous_address', '東京都千代田区千代田1番1号');
  await page.fill('#field-members', '1');
  await page.fill('#field-visit_date', visit);
  if (postal !== undefined) { await page.fill('#field-new_postal_code', postal); }
}

let browser;
let visit;

before(async () => {
  browser = await launch();
  visit = await firstOpenVisit();
});

after(async () => {
  await browser?.close();
});

describe('postal code fills the address, with JavaScript', () => {
  test('typing a known code fills the empty address; axe finds nothing', async () => {
    const { context, page } = await newPage(browser);
    await residentSignIn(page, T, { returnTo: FORM });
    assert.equal(new URL(page.url()).pathname, FORM);
    await page.fill('#field-new_address', '');
    await page.fill('#field-new_postal_code', '２８４－０００１');
    await page.waitForFunction(() => document.querySelector('#field-new_address').value !== '');
    assert.equal(await page.inputValue('#field-new_address'), '千葉県四街道市大日');
    assert.equal(await page.textContent('#field-new_postal_code-address'),
      '郵便番号から住所を入れました。番地・建物名を続けて入力してください。');
    assert.equal(await page.getAttribute('#field-new_postal_code-address', 'aria-live'), 'polite');
    await expectNoAxeViolations(assert, page, 'tennyu form, address filled by script');

    // Another code while the address is still as filled: it follows.
    await page.fill('#field-new_postal_code', '2840003');
    await page.waitForFunction(() => document.querySelector('#field-new_address').value === '千葉県四街道市鹿渡');

    // A code Japan Post lacks: said so, the address left as it was.
    await page.fill('#field-new_postal_code', '9999999');
    await page.waitForFunction(() => document.querySelector('#field-new_postal_code-address').textContent.includes('見つかりませんでした'));
    assert.equal(await page.inputValue('#field-new_address'), '千葉県四街道市鹿渡');

    // What the resident typed is theirs: never overwritten.
    await page.fill('#field-new_address', '千葉県四街道市大日2番地');
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/postal-codes/2840001')),
      page.fill('#field-new_postal_code', '2840001'),
    ]);
    await page.waitForTimeout(200);
    assert.equal(await page.inputValue('#field-new_address'), '千葉県四街道市大日2番地');

    // And the form goes on to the check page.
    await fillMovingIn(page, visit);
    const response = await submitVia(page, 'button[name="_action"][value="review"]');
    assert.equal(response.status(), 200);
    assert.equal(new URL(page.url()).pathname, `${FORM}/check`);
    await context.close();
  });

  test('the page the server sends back with the address filled: axe finds nothing', async () => {
    const { context, page } = await newPage(browser);
    await residentSignIn(page, T, { returnTo: FORM });
    await fillMovingIn(page, visit);
    await page.fill('#field-new_address', '');
    // Set without an input event, as a browser without script would send it.
    await page.$eval('#field-new_postal_code', (el) => { el.value = '2840001'; });
    const response = await submitVia(page, 'button[name="_action"][value="review"]');
    assert.equal(response.status(), 422);
    assert.equal(await page.inputValue('#field-new_address'), '千葉県四街道市大日');
    await expectNoAxeViolations(assert, page, 'tennyu form, address filled by the server');
    await context.close();
  });
});

describe('postal code fills the address, without JavaScript', () => {
  test('an empty address is filled on submit for the resident to check', async () => {
    const { context, page } = await newPage(browser, { javaScriptEnabled: false });
    await residentSignIn(page, T, { returnTo: FORM });
    assert.equal(new URL(page.url()).pathname, FORM);
    await fillMovingIn(page, visit, { postal: '284-0001' });
    await page.fill('#field-new_address', '');
    let response = await submitVia(page, 'button[name="_action"][value="review"]');
    assert.equal(response.status(), 422);
    assert.equal(await page.inputValue('#field-new_address'), '千葉県四街道市大日');
    const message = '「新住所（四街道市内）」に「郵便番号」から「千葉県四街道市大日」を入れました。番地・建物名を続けて入力し、確かめてください。';
    assert.ok((await page.textContent('#field-new_address-error')).includes(message));
    const links = await page.$$eval('.error-summary a', (as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, ['#field-new_address']);
    // The resident adds the 番地 and sends it again.
    await page.fill('#field-new_address', '千葉県四街道市大日1番地');
    response = await submitVia(page, 'button[name="_action"][value="review"]');
    assert.equal(response.status(), 200);
    assert.equal(new URL(page.url()).pathname, `${FORM}/check`);
    assert.ok((await page.textContent('main')).includes('千葉県四街道市大日1番地'));
    await context.close();
  });
});
