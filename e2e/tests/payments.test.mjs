// 公金 (四街道市) in chromium. The treasurer lists the charges, makes one
// (a mistake first: the error is announced and linked) and opens it, at
// 375 px with axe. A resident then pays it by keyboard alone at 375 px:
// the payment page behind the 納付番号 and 確認コード, "pay online", the
// simulator's page (labelled SIMULATOR), paying there sends the signed
// webhook, and the result page says paid — checked against the charge on
// the treasurer's page. Without JavaScript a second charge is paid with
// the notification held back: the result page says it is not confirmed.
// axe finds nothing on any page and nothing scrolls sideways.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, expectNoAxeViolations, staffSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
let browser;
/** The charges the staff test made: { id, number, code, payPath }. */
const made = [];

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function tabTo(page, check, what, max = 300) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(check)) return;
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

const focused = (js) => `(() => { const e = document.activeElement; return !!e && (${js}); })()`;

function inDays(days) {
  const d = new Date(Date.now() + 9 * 3600_000 + days * 86400_000);
  return d.toISOString().slice(0, 10);
}

async function submit(page) {
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.click('main form[method=post] button[type=submit]'),
  ]);
  return response;
}

test('treasurer: charges list, a new charge (with a mistake first), its page at 375 px; axe', async () => {
  const { page } = await newPage(browser, { viewport: { width: 375, height: 800 } });
  await staffSignIn(page, T, 'treasurer');
  assert.equal(new URL(page.url()).pathname, `/t/${T}/staff/payments`, 'the treasurer lands on the charges');
  assert.ok(await page.locator('tr[data-charge]').count() >= 4, 'the demo charges are listed');
  await expectNoAxeViolations(assert, page, 'charges list');
  for (const amount of ['4,800', '3,200']) {
    let response = await page.goto(url(`/t/${T}/staff/payments/charges/new`));
    assert.equal(response.status(), 200);
    await expectNoAxeViolations(assert, page, 'new charge');
    await page.fill('#field-payer_name', '四街道 e2e');
    await page.fill('#field-payer_ref', '000777');
    await page.selectOption('#field-subject', 'fee');
    await page.fill('#field-period', '令和8年度 証明手数料');
    await page.fill('#field-amount', '0');
    await page.fill('#field-due_date', inDays(14));
    response = await submit(page);
    assert.equal(response.status(), 422);
    assert.ok((await page.textContent('.error-summary')).includes('金額を1円以上'));
    assert.equal(await page.getAttribute('.error-summary a', 'href'), '#field-amount');
    await expectNoAxeViolations(assert, page, 'new charge with an error');
    await page.fill('#field-amount', amount);
    response = await submit(page);
    assert.equal(response.status(), 200);
    assert.equal(await page.getAttribute('[data-status]', 'data-status'), 'unpaid');
    assert.ok((await page.textContent('[data-payer]')).includes('四街道 e2e'));
    await expectNoAxeViolations(assert, page, 'a charge');
    const payPath = await page.getAttribute('dd a[href*="/pay/"]', 'href');
    const [, number, code] = payPath.match(/\/pay\/(\d{11})\/([0-9A-F]{12})$/);
    made.push({ id: new URL(page.url()).pathname.split('/').pop(), number, code, payPath, amount });
  }
});

test('resident: pay online through the simulator by keyboard at 375 px; axe', async () => {
  const charge = made[0];
  assert.ok(charge, 'the staff test made a charge');
  const { page } = await newPage(browser, { viewport: { width: 375, height: 800 } });
  let response = await page.goto(url(`/t/${T}/pay`));
  assert.equal(response.status(), 200);
  await expectNoAxeViolations(assert, page, 'find a charge');
  await tabTo(page, focused(`e.id === 'field-number'`), 'the number field');
  await page.keyboard.type(charge.number);
  await tabTo(page, focused(`e.id === 'field-code'`), 'the code field');
  await page.keyboard.type(charge.code.toLowerCase().replace(/(.{4})(?=.)/g, '$1-'));
  await tabTo(page, focused(`e.tagName === 'BUTTON' && e.type === 'submit' && e.closest('main')`), 'the show button');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.equal(new URL(page.url()).pathname, charge.payPath);
  assert.ok((await page.textContent('[data-owed]')).includes(`${charge.amount}円`));
  assert.ok((await page.textContent('main')).includes('SIMULATOR'), 'the simulator is said');
  await expectNoAxeViolations(assert, page, 'what is owed');

  await tabTo(page, focused(`e.tagName === 'BUTTON' && e.textContent.includes('オンラインで支払う')`), 'the pay button');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.match(new URL(page.url()).pathname, new RegExp(`^/t/${T}/payments/simulator/sim_`));
  assert.ok((await page.textContent('h1')).includes('SIMULATOR'));
  assert.ok((await page.textContent('main')).includes(`${charge.amount}円`));
  await expectNoAxeViolations(assert, page, 'simulator');

  await tabTo(page, focused(`e.tagName === 'BUTTON' && e.value === 'pay'`), 'the simulator pay button');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.ok(new URL(page.url()).pathname.startsWith(`${charge.payPath}/result/`));
  assert.equal(await page.getAttribute('[data-result]', 'data-result'), 'succeeded');
  assert.ok((await page.textContent('[data-result]')).includes(`${charge.amount}円のお支払いを確認しました`));
  assert.ok((await page.textContent('main')).includes('SIMULATOR'));
  await expectNoAxeViolations(assert, page, 'paid');

  // The treasurer sees it paid, by the online channel.
  const staff = await newPage(browser, { viewport: { width: 375, height: 800 } });
  await staffSignIn(staff.page, T, 'treasurer');
  response = await staff.page.goto(url(`/t/${T}/staff/payments/charges/${charge.id}`));
  assert.equal(await staff.page.getAttribute('[data-status]', 'data-status'), 'paid');
  assert.ok((await staff.page.textContent('tr[data-receipt]')).includes('オンライン決済'));
  await expectNoAxeViolations(assert, staff.page, 'a paid charge');
});

test('without JavaScript: paid without the notification, the result says not confirmed', async () => {
  const charge = made[1];
  assert.ok(charge, 'the staff test made a second charge');
  const { page } = await newPage(browser, { javaScriptEnabled: false });
  let response = await page.goto(url(charge.payPath));
  assert.equal(response.status(), 200);
  response = await submit(page);
  assert.equal(response.status(), 200);
  assert.ok((await page.textContent('h1')).includes('SIMULATOR'));
  const [r] = await Promise.all([
    page.waitForNavigation(),
    page.click('button[value=pay_silently]'),
  ]);
  assert.equal(r.status(), 200);
  assert.equal(await page.getAttribute('[data-result]', 'data-result'), 'created');
  assert.ok((await page.textContent('[data-result]')).includes('お支払いは確認できていません'));
  const resultPath = new URL(page.url()).pathname;
  response = await page.goto(url(charge.payPath));
  assert.equal(await page.getAttribute('[data-status]', 'data-status'), 'unpaid');
  // axe needs JavaScript: the same result page, checked in a page with it.
  const js = await newPage(browser, { viewport: { width: 375, height: 800 } });
  response = await js.page.goto(url(resultPath));
  assert.equal(response.status(), 200);
  assert.equal(await js.page.getAttribute('[data-result]', 'data-result'), 'created');
  await expectNoAxeViolations(assert, js.page, 'not confirmed');
});
