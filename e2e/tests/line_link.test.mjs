// The LINE linking page (四街道市): a resident who followed the city's LINE
// account opens the one-time link the bot sent, chooses the kinds of news
// by keyboard alone at 375 px and confirms; the link is then used up. The
// same without JavaScript, with the mistake of choosing nothing first.
// axe finds nothing on these pages and nothing scrolls sideways. The
// pending LINE users (with the SHA-256 of their link token, as the webhook
// stores it) and two categories are put in the server's database directly
// (E2E_DATABASE, from scripts/e2e.sh): LINE itself is not reachable here.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, expectNoHorizontalScroll, staffSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
let browser;

function sql(statement) {
  const db = process.env.E2E_DATABASE;
  assert.ok(db, 'E2E_DATABASE is set by scripts/e2e.sh');
  return execFileSync('sqlite3', ['-cmd', '.timeout 10000', db, statement]).toString().trim();
}

/** A pending LINE user of T with a fresh link; returns [userId, path]. */
function pendingUser() {
  const token = randomBytes(32).toString('hex');
  const user = `U${randomBytes(16).toString('hex')}`;
  const hash = createHash('sha256').update(token).digest('hex');
  const now = Date.now();
  sql(`INSERT INTO line_users (tenant, user_id, state, lang, link_token_hash, link_expires_at, followed_at)
       VALUES ('${T}', '${user}', 'pending', 'ja', '${hash}', ${now + 3_600_000}, ${now})`);
  return [user, `/t/${T}/line/link/${token}`];
}

function state(user) {
  return sql(`SELECT state || ':' || COALESCE((SELECT group_concat(category, ',') FROM
    (SELECT category FROM line_subscriptions WHERE tenant = '${T}' AND user_id = '${user}' ORDER BY category)), '')
    FROM line_users WHERE tenant = '${T}' AND user_id = '${user}'`);
}

before(async () => {
  browser = await launch();
  const now = Date.now();
  sql(`INSERT OR IGNORE INTO mail_categories (tenant, code, name, names, position, active, created_at, updated_at) VALUES
       ('${T}', 'e2e-line-bousai', '防災・防犯（LINEのテスト）', '{}', 901, 1, ${now}, ${now}),
       ('${T}', 'e2e-line-event', 'イベント（LINEのテスト）', '{}', 902, 1, ${now}, ${now})`);
});

after(async () => {
  await browser?.close();
});

async function tabTo(page, check, what, max = 200) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(check)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${what}`);
}

test('LINE link by keyboard at 375 px: choose, confirm, link used up; axe', async () => {
  const [user, path] = pendingUser();
  const { page, context } = await newPage(browser, { viewport: { width: 375, height: 800 } });
  let response = await page.goto(url(path));
  assert.equal(response.status(), 200);
  assert.equal(await page.textContent('h1'), 'LINEで受け取るお知らせの設定');
  await expectNoAxeViolations(assert, page, 'line link');
  await expectNoHorizontalScroll(page, 'line link at 375 px');

  await tabTo(page, `document.activeElement?.id === 'category-e2e-line-event'`, 'the イベント checkbox');
  await page.keyboard.press('Space');
  assert.ok(await page.isChecked('#category-e2e-line-event'));
  await tabTo(page, `document.activeElement?.tagName === 'BUTTON' && document.activeElement.type === 'submit'`, 'the confirm button');
  [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.keyboard.press('Enter'),
  ]);
  assert.equal(response.status(), 200);
  assert.match(await page.textContent('[role="status"]'), /設定しました。/);
  assert.ok((await page.textContent('main')).includes('イベント（LINEのテスト）'));
  await expectNoAxeViolations(assert, page, 'line linked');
  assert.equal(state(user), 'linked:e2e-line-event');

  // The link is used up.
  response = await page.goto(url(path));
  assert.equal(response.status(), 404);
  assert.match(await page.textContent('main'), /このリンクは使えません/);
  await expectNoAxeViolations(assert, page, 'line link used');
  await context.close();
});

test('LINE link without JavaScript: nothing chosen is refused, then confirmed', async () => {
  const [user, path] = pendingUser();
  const { page, context } = await newPage(browser, { javaScriptEnabled: false, viewport: { width: 375, height: 800 } });
  let response = await page.goto(url(path));
  assert.equal(response.status(), 200);
  response = await submitVia(page, `form[action="${path}"] button[type="submit"]`);
  assert.equal(response.status(), 422);
  assert.match(await page.textContent('.error-summary'), /受け取るお知らせの分類：1つ以上選んでください。/);
  assert.equal(state(user), 'pending:');
  await page.check('#category-e2e-line-bousai');
  await page.check('#category-e2e-line-event');
  response = await submitVia(page, `form[action="${path}"] button[type="submit"]`);
  assert.equal(response.status(), 200);
  assert.match(await page.textContent('[role="status"]'), /設定しました。/);
  assert.equal(state(user), 'linked:e2e-line-bousai,e2e-line-event');
  await context.close();
});

test('LINE link page with its mistake passes axe', async () => {
  const [, path] = pendingUser();
  const { page, context } = await newPage(browser);
  await page.goto(url(path));
  const response = await submitVia(page, `form[action="${path}"] button[type="submit"]`);
  assert.equal(response.status(), 422);
  await expectNoAxeViolations(assert, page, 'line link with an error');
  await context.close();
});

test('the administrator LINE page at 375 px: a mistake named, axe', async () => {
  const { page, context } = await newPage(browser, { viewport: { width: 375, height: 800 } });
  await staffSignIn(page, T, 'dx-admin');
  let response = await page.goto(url(`/t/${T}/staff/line`));
  assert.equal(response.status(), 200);
  assert.equal(await page.textContent('h1'), 'LINE公式アカウント');
  await expectNoAxeViolations(assert, page, 'staff line');
  await page.fill('#field-channel_secret', 'short');
  response = await submitVia(page, `form[action="/t/${T}/staff/line"] button[type="submit"]`);
  assert.equal(response.status(), 422);
  assert.match(await page.textContent('.error-summary'), /チャネルシークレット：/);
  await expectNoAxeViolations(assert, page, 'staff line with mistakes');
  await expectNoHorizontalScroll(page, 'staff line at 375 px');
  await context.close();
});
