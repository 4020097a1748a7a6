// 配信 (四街道市): a department administrator (kodomo) opens the newsletters
// from the staff menu by keyboard at 375 px, writes a message in 日本語 and
// やさしい日本語 with Markdown (and a <script> that must stay text),
// scheduled for later, sees the preview (HTML and text, each language),
// submits it: with 101 subscribers above the threshold of 100 it waits
// for a second person, and the author is offered no approve button. The
// system administrator (dx-admin), another person, approves it. axe finds
// nothing on any of these pages and nothing scrolls sideways. Without
// JavaScript the approval works the same. The category and the
// subscribers are put in the server's database directly (E2E_DATABASE,
// from scripts/e2e.sh): sign-up is another page's; the subscribers are
// only counted here (the message is scheduled for 2099, never sent).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, expectNoHorizontalScroll, staffSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
const CAT = 'e2e-bousai';
let browser;

function seed() {
  const db = process.env.E2E_DATABASE;
  assert.ok(db, 'E2E_DATABASE is set by scripts/e2e.sh');
  execFileSync('sqlite3', ['-cmd', '.timeout 10000', db, `
    INSERT OR IGNORE INTO mail_categories (tenant, code, name, names, position, active, created_at, updated_at)
      VALUES ('${T}', '${CAT}', 'E2E 防災・防犯', '{}', 99, 1, 0, 0);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 101)
      INSERT OR IGNORE INTO mail_subscribers (tenant, id, address, address_hash, lang, state, consent_at, consent_source, created_at)
      SELECT '${T}', 'e2e' || i, 'counted-only', 'e2e-hash-' || i, 'ja', 'active', 0, 'import', 0 FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 101)
      INSERT OR IGNORE INTO mail_subscriptions (tenant, subscriber, category, created_at)
      SELECT '${T}', 'e2e' || i, '${CAT}', 0 FROM n;`]);
}

before(async () => {
  seed();
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

async function pressEnter(page) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.keyboard.press('Enter'),
  ]);
  return response;
}

/** Tabs to the field `id` and types `text` into it. */
async function typeInto(page, id, text) {
  await tabTo(page, `document.activeElement?.id === ${JSON.stringify(id)}`, id);
  await page.keyboard.type(text);
}

const BODY = '# 避難所のお知らせ\n\n**大切**なお知らせです。<script>window.__x = 1</script>\n\n[市のサイト](https://www.city.yotsukaido.chiba.jp/)';

test('compose, preview and approval by another person, by keyboard at 375 px, axe', async () => {
  const { page } = await newPage(browser, { viewport: { width: 375, height: 800 } });
  await staffSignIn(page, T, 'kodomo');
  await page.goto(url(`/t/${T}/staff/account`));
  await tabTo(page, `document.activeElement?.getAttribute('href') === '/t/${T}/staff/mail/messages'`, 'the menu link');
  let response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.equal(await page.textContent('h1'), '配信（メールマガジン）');
  await expectNoAxeViolations(assert, page, 'newsletters');

  await tabTo(page, `document.activeElement?.getAttribute('href') === '/t/${T}/staff/mail/messages/new'`, 'new message');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  await expectNoAxeViolations(assert, page, 'compose');

  // Saved with no Japanese text: every mistake named, focus-able summary.
  await tabTo(page, `document.activeElement?.matches('form.form button[type="submit"]')`, 'save');
  response = await pressEnter(page);
  assert.equal(response.status(), 422);
  assert.match(await page.textContent('.error-summary'), /配信する分類を選んでください。/);
  assert.match(await page.textContent('.error-summary'), /日本語の件名を入力してください。/);
  await expectNoAxeViolations(assert, page, 'compose with errors');

  await tabTo(page, `document.activeElement?.id === 'field-category'`, 'category');
  for (let i = 0; i < 20 && (await page.inputValue('#field-category')) !== CAT; i++) {
    await page.keyboard.press('ArrowDown');
  }
  assert.equal(await page.inputValue('#field-category'), CAT);
  await typeInto(page, 'field-subject_ja', '避難所を開設しました（e2e）');
  await typeInto(page, 'field-body_ja', BODY);
  await typeInto(page, 'field-subject_easy', 'ひなんじょを あけました');
  await typeInto(page, 'field-body_easy', 'たいふうが きます。');
  await tabTo(page, `document.activeElement?.id === 'field-scheduled_at'`, 'schedule');
  await page.fill('#field-scheduled_at', '2099-01-01T09:00');
  await tabTo(page, `document.activeElement?.matches('form.form button[type="submit"]')`, 'save');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  const messageUrl = new URL(page.url()).pathname;
  assert.match(messageUrl, new RegExp(`^/t/${T}/staff/mail/messages/[^/]+$`));
  assert.equal(await page.getAttribute('#field-state', 'data-state'), 'draft');

  // The preview: Markdown as HTML, the script as text, both languages.
  const previews = page.locator('[data-preview="html"]');
  assert.equal(await previews.count(), 2);
  assert.equal(await previews.first().locator('strong').textContent(), '大切');
  assert.equal(await previews.first().locator('a').first().getAttribute('href'), 'https://www.city.yotsukaido.chiba.jp/');
  assert.match(await previews.first().locator('a').last().getAttribute('href'), new RegExp(`/t/${T}/mail$`), 'the footer link');
  assert.equal(await page.locator('.mail-preview script').count(), 0);
  assert.match(await previews.first().textContent(), /<script>window.__x = 1<\/script>/);
  assert.equal(await page.evaluate('window.__x'), undefined);
  assert.match(await page.locator('[data-preview="text"]').first().textContent(), /\*\*大切\*\*/);
  assert.equal(await page.textContent('#recipients'), '101');
  await expectNoAxeViolations(assert, page, 'message with preview');

  await tabTo(page, `document.activeElement?.matches('form[action$="/submit"] button')`, 'submit');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.equal(await page.getAttribute('#field-state', 'data-state'), 'awaiting_approval');
  assert.equal(await page.locator('form[action$="/approve"]').count(), 0, 'no approve button for the author');
  await expectNoAxeViolations(assert, page, 'awaiting approval');
  await expectNoHorizontalScroll(page, 'awaiting approval at 375 px');

  // Another person approves, by keyboard.
  const { page: admin } = await newPage(browser, { viewport: { width: 375, height: 800 } });
  await staffSignIn(admin, T, 'dx-admin');
  await admin.goto(url(messageUrl));
  await expectNoAxeViolations(assert, admin, 'message for the approver');
  await tabTo(admin, `document.activeElement?.matches('form[action$="/approve"] button')`, 'approve');
  response = await pressEnter(admin);
  assert.equal(response.status(), 200);
  assert.equal(await admin.getAttribute('#field-state', 'data-state'), 'approved');
  assert.match(await admin.textContent('.summary-list'), /承認者\s*dx-admin/);
  await expectNoAxeViolations(assert, admin, 'approved');
});

test('without JavaScript: compose, submit and approve', async () => {
  const { page } = await newPage(browser, { javaScriptEnabled: false });
  await staffSignIn(page, T, 'kodomo');
  await page.goto(url(`/t/${T}/staff/mail/messages/new`));
  await page.selectOption('#field-category', CAT);
  await page.fill('#field-subject_ja', 'JavaScriptなしの配信（e2e）');
  await page.fill('#field-body_ja', '本文です。');
  await page.fill('#field-scheduled_at', '2099-01-02T09:00');
  let response = await submitVia(page, 'form.form button[type="submit"]');
  assert.equal(response.status(), 200);
  const messageUrl = new URL(page.url()).pathname;
  response = await submitVia(page, 'form[action$="/submit"] button');
  assert.equal(response.status(), 200);
  assert.equal(await page.getAttribute('#field-state', 'data-state'), 'awaiting_approval');

  const { page: admin } = await newPage(browser, { javaScriptEnabled: false });
  await staffSignIn(admin, T, 'dx-admin');
  await admin.goto(url(messageUrl));
  response = await submitVia(admin, 'form[action$="/approve"] button');
  assert.equal(response.status(), 200);
  assert.equal(await admin.getAttribute('#field-state', 'data-state'), 'approved');
});
