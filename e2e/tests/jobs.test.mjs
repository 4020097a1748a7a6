// ジョブ (四街道市), by keyboard alone at 375 px: the system administrator
// opens the job queue from the staff menu, sees a failed job with its
// error, retries it (it moves to 待機中) and cancels it; axe finds nothing
// on these pages and nothing scrolls sideways. Without JavaScript the
// retry and cancel forms work the same. The failed jobs are put in the
// server's database directly (E2E_DATABASE, from scripts/e2e.sh): no page
// makes a job of a municipality fail on purpose, and their kind is one no
// worker runs, so they stay where the test puts them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, expectNoHorizontalScroll, staffSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
const ERROR = '帳票サーバーに接続できません（e2e）';
let browser;

/** A failed job of T in the server's database; returns its id. */
function failedJob(kind) {
  const db = process.env.E2E_DATABASE;
  assert.ok(db, 'E2E_DATABASE is set by scripts/e2e.sh');
  const id = `e2e${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`;
  const now = Date.now();
  execFileSync('sqlite3', ['-cmd', '.timeout 10000', db,
    `INSERT INTO jobs (tenant, id, kind, payload, state, attempts, max_attempts, run_at, last_error, created_at, finished_at)
     VALUES ('${T}', '${id}', '${kind}', '{}', 'failed', 5, 5, ${now}, '${ERROR}', ${now}, ${now})`]);
  return id;
}

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

async function pressEnter(page) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.keyboard.press('Enter'),
  ]);
  return response;
}

/** The focused element is the button `label` of job `id`. */
function jobButton(label, id) {
  return `(() => { const b = document.activeElement; return !!b && b.tagName === 'BUTTON'
    && b.textContent.includes(${JSON.stringify(label)}) && b.textContent.includes(${JSON.stringify(id)}); })()`;
}

test('job queue by keyboard at 375 px: retry, cancel, axe', async () => {
  const id = failedJob('e2e.report');
  const { page } = await newPage(browser, { viewport: { width: 375, height: 800 } });
  await staffSignIn(page, T, 'dx-admin');
  await page.goto(url(`/t/${T}/staff/account`));
  await tabTo(page, `document.activeElement?.getAttribute('href') === '/t/${T}/staff/jobs'`, 'the menu link');
  let response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.equal(await page.textContent('h1'), 'ジョブ');
  const row = page.locator('tr', { hasText: id });
  assert.equal(await row.count(), 1, 'the failed job is listed once');
  assert.ok((await row.textContent()).includes(ERROR), 'with its error');
  await expectNoAxeViolations(assert, page, 'jobs');
  await expectNoHorizontalScroll(page, 'jobs at 375 px');

  await tabTo(page, jobButton('再実行', id), 'the retry button');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.equal((await page.textContent('[role="status"]')).trim(), `ジョブ e2e.report（${id}）を再実行の待機に戻しました。`);
  await expectNoAxeViolations(assert, page, 'jobs after retry');
  await expectNoHorizontalScroll(page, 'jobs after retry at 375 px');

  await tabTo(page, jobButton('取消', id), 'the cancel button');
  response = await pressEnter(page);
  assert.equal(response.status(), 200);
  assert.equal((await page.textContent('[role="status"]')).trim(), `ジョブ e2e.report（${id}）を取り消しました。`);
  assert.equal(await page.locator(`form[action*="/staff/jobs/${id}/"]`).count(), 0, 'no action left for the cancelled job');
  await page.context().close();
});

test('job queue without JavaScript: retry and cancel', async () => {
  const id = failedJob('e2e.export');
  const { page, context } = await newPage(browser, { javaScriptEnabled: false });
  await staffSignIn(page, T, 'dx-admin');
  let response = await page.goto(url(`/t/${T}/staff/jobs`));
  assert.equal(response.status(), 200);
  response = await submitVia(page, `form[action="/t/${T}/staff/jobs/${id}/retry"] button`);
  assert.equal(response.status(), 200);
  assert.match(await page.textContent('[role="status"]'), /再実行の待機に戻しました/);
  response = await submitVia(page, `form[action="/t/${T}/staff/jobs/${id}/cancel"] button`);
  assert.equal(response.status(), 200);
  assert.match(await page.textContent('[role="status"]'), /取り消しました/);
  await context.close();
});
