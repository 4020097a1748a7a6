// よめーる (四街道市), by keyboard alone at 375 px: a resident signs up
// for mail (address, two categories, language), opens the confirmation
// link (read from the outbox row in the server's database, E2E_DATABASE
// from scripts/e2e.sh: no mail server is involved), confirms, changes the
// categories on the preferences page, looks at the unsubscribe page and
// unsubscribes from everything. axe finds nothing on any of these pages
// and nothing scrolls sideways. Without JavaScript the same forms work.
// The system administrator's pages (categories, the audited subscriber
// list, one subscriber, the import with a dry run) pass axe at 375 px too.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  launch, newPage, url, expectNoAxeViolations, staffSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

/** One value from the server's database. */
function sql(query) {
  const db = process.env.E2E_DATABASE;
  assert.ok(db, 'E2E_DATABASE is set by scripts/e2e.sh');
  return execFileSync('sqlite3', ['-cmd', '.timeout 10000', db, query]).toString().trim();
}

/** The confirmation link queued for `address` (its path). */
function confirmLink(address) {
  const body = sql(`SELECT body FROM outbox WHERE tenant = '${T}' AND kind = 'subscription.confirm'
    AND recipient = '${address}' ORDER BY created_at DESC LIMIT 1`);
  const m = body.match(new RegExp(`/t/${T}/mail/confirm/[0-9a-f]+`));
  assert.ok(m, `a confirmation link in: ${body}`);
  return m[0];
}

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

test('sign-up, confirm, preferences, unsubscribe by keyboard at 375 px; axe', async () => {
  const address = `e2e-${Date.now()}@example.jp`;
  const { page } = await newPage(browser, { viewport: { width: 375, height: 800 } });
  let response = await page.goto(url(`/t/${T}/mail`));
  assert.equal(response.status(), 200);
  await expectNoAxeViolations(assert, page, 'sign-up');

  // A mistake first: no category. The error is announced and linked.
  await tabTo(page, focused(`e.id === 'field-address'`), 'the address field');
  await page.keyboard.type(address);
  await tabTo(page, focused(`e.tagName === 'BUTTON' && e.type === 'submit' && e.closest('main')`), 'the submit button');
  response = await pressEnter(page);
  assert.equal(response.status(), 422);
  assert.ok((await page.textContent('.error-summary')).includes('1つ以上選んでください'));
  await expectNoAxeViolations(assert, page, 'sign-up with an error');

  await tabTo(page, focused(`e.id === 'category-bosai'`), 'the 防災・防犯 box');
  await page.keyboard.press('Space');
  await tabTo(page, focused(`e.id === 'category-event'`), 'the イベント box');
  await page.keyboard.press('Space');
  await tabTo(page, focused(`e.tagName === 'BUTTON' && e.type === 'submit' && e.closest('main')`), 'the submit button');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.equal(await page.textContent('h1'), '確認のメールを送りました');
  await expectNoAxeViolations(assert, page, 'mail sent');

  // The link from the mail: a button, then done.
  response = await page.goto(url(confirmLink(address)));
  assert.equal(response.status(), 200);
  await expectNoAxeViolations(assert, page, 'confirm');
  await tabTo(page, focused(`e.tagName === 'BUTTON' && e.textContent.includes('登録を完了する')`), 'the confirm button');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.equal(await page.textContent('h1'), '登録が完了しました');
  await expectNoAxeViolations(assert, page, 'confirmed');
  assert.equal(sql(`SELECT state FROM mail_subscribers WHERE tenant = '${T}' AND consent_source = 'web'
    AND id = (SELECT subscriber FROM outbox WHERE recipient = '${address}')`), 'active');

  // Preferences: add 健康, drop イベント.
  await tabTo(page, focused(`e.tagName === 'A' && e.getAttribute('href')?.includes('/mail/preferences/')`), 'the preferences link');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  const prefs = page.url();
  await expectNoAxeViolations(assert, page, 'preferences');
  assert.equal(await page.isChecked('#category-bosai'), true);
  assert.equal(await page.isChecked('#category-event'), true);
  await tabTo(page, focused(`e.id === 'category-event'`), 'the イベント box');
  await page.keyboard.press('Space');
  await tabTo(page, focused(`e.id === 'category-kenko'`), 'the 健康 box');
  await page.keyboard.press('Space');
  await tabTo(page, focused(`e.tagName === 'BUTTON' && e.textContent.includes('設定を保存する')`), 'the save button');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.ok((await page.textContent('[role=status]')).includes('設定を保存しました'));
  assert.equal(await page.isChecked('#category-event'), false);
  assert.equal(await page.isChecked('#category-kenko'), true);
  await expectNoAxeViolations(assert, page, 'preferences saved');

  // The page List-Unsubscribe points at asks first.
  response = await page.goto(prefs.replace('/mail/preferences/', '/mail/unsubscribe/'));
  assert.equal(response.status(), 200);
  await expectNoAxeViolations(assert, page, 'unsubscribe');
  await tabTo(page, focused(`e.tagName === 'BUTTON' && e.textContent.includes('配信を停止する')`), 'the unsubscribe button');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.equal(await page.textContent('h1'), '配信を停止しました');
  await expectNoAxeViolations(assert, page, 'unsubscribed');
  assert.equal(sql(`SELECT state FROM mail_subscribers WHERE id = (SELECT subscriber FROM outbox WHERE recipient = '${address}')`), 'unsubscribed');
});

test('without JavaScript: sign-up and confirmation work', async () => {
  const address = `e2e-nojs-${Date.now()}@example.jp`;
  const { page } = await newPage(browser, { javaScriptEnabled: false });
  await page.goto(url(`/t/${T}/mail`));
  await page.fill('#field-address', address);
  await page.check('#category-kosodate');
  await page.selectOption('#field-language', 'en');
  let [response] = await Promise.all([
    page.waitForNavigation(),
    page.click('main button[type=submit]'),
  ]);
  assert.equal(response.status(), 200);
  assert.equal(sql(`SELECT lang FROM outbox WHERE recipient = '${address}'`), 'en');
  await page.goto(url(confirmLink(address)));
  [response] = await Promise.all([
    page.waitForNavigation(),
    page.click('main button[type=submit]'),
  ]);
  assert.equal(response.status(), 200);
  assert.equal(await page.textContent('h1'), '登録が完了しました');
});

test('staff: categories, subscribers and import at 375 px; axe', async () => {
  const { page } = await newPage(browser, { viewport: { width: 375, height: 800 } });
  await staffSignIn(page, T, 'dx-admin');
  let response = await page.goto(url(`/t/${T}/staff/mail/categories`));
  assert.equal(response.status(), 200);
  assert.ok((await page.textContent('main')).includes('防災・防犯'));
  await expectNoAxeViolations(assert, page, 'staff categories');
  response = await page.goto(url(`/t/${T}/staff/mail/categories/bosai`));
  assert.equal(response.status(), 200);
  await expectNoAxeViolations(assert, page, 'staff category names');
  response = await page.goto(url(`/t/${T}/staff/mail/subscribers`));
  assert.equal(response.status(), 200);
  await expectNoAxeViolations(assert, page, 'staff subscribers');
  // The residents of the tests above are listed, masked.
  const first = page.locator('tr[data-subscriber] a').first();
  assert.ok(await first.count() > 0, 'subscribers listed');
  assert.ok((await first.textContent()).includes('•••@example.jp'));
  const [opened] = await Promise.all([page.waitForNavigation(), first.click()]);
  assert.equal(opened.status(), 200);
  assert.ok((await page.textContent('[data-address]')).includes('@example.jp'));
  await expectNoAxeViolations(assert, page, 'staff subscriber');
  response = await page.goto(url(`/t/${T}/staff/mail/subscribers/import`));
  assert.equal(response.status(), 200);
  await page.fill('#field-csv', 'address,categories,language,consent_date\nnot-an-address,bosai,ja,2020-01-01\n');
  const [r] = await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
  assert.equal(r.status(), 422);
  assert.ok((await page.textContent('[data-problems]')).includes('2行目'));
  await expectNoAxeViolations(assert, page, 'staff import with mistakes');
});
