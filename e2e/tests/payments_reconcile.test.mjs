// 消込 (四街道市): the system administrator (who holds the treasurer's role)
// opens the reconciliation page at 375 px, chooses a generated 全銀
// 振込入金通知 (one transfer carrying a seeded charge's 納付番号, one
// without a number), previews it (nothing applied), imports it, opens the
// exception queue and sets the unknown transfer aside with a reason, by
// keyboard. axe finds nothing on any of these pages and nothing scrolls
// sideways. The charge is put in the server's database directly
// (E2E_DATABASE, from scripts/e2e.sh): charges are another page's.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  launch, newPage, url, expectNoAxeViolations, expectNoHorizontalScroll, staffSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
let browser;
let dir;

// Damm check digit (as kernel::ids::damm).
const DAMM = [
  [0, 3, 1, 7, 5, 9, 8, 6, 4, 2], [7, 0, 9, 2, 1, 5, 4, 8, 6, 3], [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
  [1, 7, 5, 0, 9, 8, 3, 4, 2, 6], [6, 1, 2, 3, 0, 4, 5, 9, 7, 8], [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
  [5, 8, 6, 9, 7, 2, 0, 1, 3, 4], [8, 9, 4, 5, 3, 6, 2, 0, 1, 7], [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
  [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];
const damm = (s) => [...s].reduce((i, c) => DAMM[i][Number(c)], 0);
const NUMBER = (() => { const base = '2698765432'; return base + damm(base); })();

const pad = (s, n) => (s + ' '.repeat(n)).slice(0, n);
const num = (v, n) => String(v).padStart(n, '0');

function notice() {
  const d = '080721'; // 令和8年7月21日
  const header = pad(`1010${d}${d}${d}0001${pad('MIDORI BANK', 15)}001${pad('HONTEN', 15)}10123456${pad('YOTSUKAIDO CITY', 40)}`, 200);
  const data = (n, amount, name) => pad(`2${num(n, 6)}${d}${d}${num(amount, 10)}${num(0, 10)}${num(0, 10)}${pad(name, 48)}${pad('SAKURA', 15)}${pad('YOTSUKAIDO', 15)} ${pad('', 20)}`, 200);
  const records = [
    header,
    data(1, 1200, `${NUMBER} YOTSUKAIDO HANAKO`),
    data(2, 900, 'NO NUMBER TARO'),
    pad(`8${num(2, 6)}${num(2100, 12)}${num(0, 6)}${num(0, 12)}`, 200),
    pad('9', 200),
  ];
  return records.join('\r\n') + '\r\n';
}

function seed() {
  const db = process.env.E2E_DATABASE;
  assert.ok(db, 'E2E_DATABASE is set by scripts/e2e.sh');
  execFileSync('sqlite3', ['-cmd', '.timeout 10000', db, `
    INSERT OR IGNORE INTO payment_charges (tenant, id, payment_number, subject, subject_label, period_label, fiscal_year, payer_ref, payer_sealed, amount, paid_amount, refunded_amount, due_date, status, created_by, created_at, updated_at)
      VALUES ('${T}', 'e2e-charge', '${NUMBER}', 'fee', '手数料', '令和8年度', 2026, 'e2e', 'e2e', 1200, 0, 0, '2026-07-31', 'unpaid', 'e2e', 0, 0);`]);
}

before(async () => {
  seed();
  dir = mkdtempSync(join(tmpdir(), 'mdg-reconcile-'));
  writeFileSync(join(dir, 'nyukin.txt'), notice(), 'latin1');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
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

test('preview, import and resolve an exception, by keyboard at 375 px, axe', async () => {
  const { page } = await newPage(browser, { viewport: { width: 375, height: 800 } });
  await staffSignIn(page, T, 'dx-admin');
  let response = await page.goto(url(`/t/${T}/staff/payments/reconcile`));
  assert.equal(response.status(), 200);
  assert.equal(await page.textContent('h1'), '消込（入金ファイルの取り込み）');
  await expectNoAxeViolations(assert, page, 'reconcile');
  await expectNoHorizontalScroll(page, 'reconcile at 375 px');

  // A preview first (the box is ticked): nothing applied.
  await page.setInputFiles('#field-file', join(dir, 'nyukin.txt'));
  await tabTo(page, `document.activeElement?.matches('form.form button[type="submit"]')`, 'import');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.match(await page.textContent('#outcome-summary'), /消込 1件（1,200円）、例外 1件.*まだ何も反映していません/);
  await expectNoAxeViolations(assert, page, 'preview');
  await expectNoHorizontalScroll(page, 'preview at 375 px');

  // Then the import: the box unticked by keyboard.
  await page.setInputFiles('#field-file', join(dir, 'nyukin.txt'));
  await tabTo(page, `document.activeElement?.id === 'field-dry-run'`, 'preview box');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#field-dry-run'), false);
  await page.keyboard.press('Tab');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.match(await page.textContent('#outcome-summary'), /2件 2,100円を取り込みました：消込 1件（1,200円）、例外 1件/);
  assert.match(await page.textContent('#outcome-exceptions'), /番号不明/);
  await expectNoAxeViolations(assert, page, 'result');
  await expectNoHorizontalScroll(page, 'result at 375 px');

  // The queue, and the unknown transfer set aside with a reason.
  await tabTo(page, `document.activeElement?.getAttribute('href') === '/t/${T}/staff/payments/reconcile/exceptions'`, 'the queue');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.match(await page.textContent('#exception-queue'), /NO NUMBER TARO/);
  await expectNoAxeViolations(assert, page, 'exceptions');
  await expectNoHorizontalScroll(page, 'exceptions at 375 px');
  await tabTo(page, `document.activeElement?.closest('#exception-queue') && document.activeElement.tagName === 'A'`, 'the exception');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  await expectNoAxeViolations(assert, page, 'exception');
  await expectNoHorizontalScroll(page, 'exception at 375 px');

  // Without a reason: refused, named.
  await tabTo(page, `document.activeElement?.id === 'action-apply'`, 'the actions');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.isChecked('#action-ignore'), true);
  await tabTo(page, `document.activeElement?.matches('form.form button[type="submit"]')`, 'resolve');
  response = await pressEnter(page);
  assert.equal(response.status(), 422);
  assert.match(await page.textContent('.error-summary'), /「処理の理由」を入力してください。/);
  await expectNoAxeViolations(assert, page, 'exception with an error');
  await tabTo(page, `document.activeElement?.id === 'field-reason'`, 'reason');
  await page.keyboard.type('依頼人不明。銀行に照会済み');
  await tabTo(page, `document.activeElement?.matches('form.form button[type="submit"]')`, 'resolve');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.equal(new URL(page.url()).pathname, `/t/${T}/staff/payments/reconcile/exceptions`);
  assert.ok(await page.isVisible('#no-exceptions'));
});
