// Deciding a case in the browser: the case page's one workflow form (one
// message box, rejection apart from approval), the confirmation page before
// approval and rejection (axe, its cancel link changes nothing), and
// separation of duties (whoever started the review is told why they cannot
// decide). The flow is plain forms and links (the HTTP tests post them
// without any script: case_workflow.rs).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, applyJuminhyo, submitVia, staffSignIn, openStaffCase,
  staffAction, expectNoAxeViolations, YOTSUKAIDO,
} from '../lib.mjs';

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function staffStatus(page) {
  return (await page.textContent('main .summary-list .status')).trim();
}

test('approval is confirmed on a page of its own; cancel changes nothing', async () => {
  const resident = await newPage(browser);
  const reviewer = await newPage(browser);
  const approver = await newPage(browser);
  try {
    const { receipt } = await applyJuminhyo(resident.page, YOTSUKAIDO);
    await staffSignIn(reviewer.page, YOTSUKAIDO, 'reviewer');
    await openStaffCase(reviewer.page, YOTSUKAIDO, receipt);
    await staffAction(reviewer.page, 'start_review');
    assert.equal(await staffStatus(reviewer.page), '審査中');

    await staffSignIn(approver.page, YOTSUKAIDO, 'approver');
    await openStaffCase(approver.page, YOTSUKAIDO, receipt);
    const page = approver.page;
    assert.equal(await page.locator('main textarea[name="message"]').count(), 1, 'one message box');
    assert.equal(await page.locator('main button.button--danger[value="reject"]').count(), 1);
    await expectNoAxeViolations(assert, page, 'staff case page with decisions');

    // Reject: the confirmation page, then cancel.
    await page.fill('#field-message', '添付書類が不足しています。');
    await submitVia(page, 'main button[name="action"][value="reject"]');
    assert.equal((await page.textContent('main h1')).trim(), '却下の確認');
    await expectNoAxeViolations(assert, page, 'rejection confirmation page');
    await submitVia(page, 'main a:text-is("やめて申請に戻る")');
    assert.equal(await staffStatus(page), '審査中', 'cancel changed nothing');

    // Approve: confirm.
    await submitVia(page, 'main button[name="action"][value="approve"]');
    assert.equal((await page.textContent('main h1')).trim(), '承認の確認');
    await expectNoAxeViolations(assert, page, 'approval confirmation page');
    await submitVia(page, 'main form:has(input[name="confirmed"]) button[type="submit"]');
    assert.equal(await staffStatus(page), '承認');
    const history = await page.textContent('main .timeline');
    assert.ok(history.includes('承認しました') && history.includes('審査中 → 承認'), history);
  } finally {
    await resident.context.close();
    await reviewer.context.close();
    await approver.context.close();
  }
});

test('whoever started the review is told why they cannot decide', async () => {
  const resident = await newPage(browser);
  const approver = await newPage(browser);
  try {
    const { receipt } = await applyJuminhyo(resident.page, YOTSUKAIDO);
    await staffSignIn(approver.page, YOTSUKAIDO, 'approver');
    await openStaffCase(approver.page, YOTSUKAIDO, receipt);
    await staffAction(approver.page, 'start_review');
    const page = approver.page;
    assert.equal(await page.locator('main button[value="approve"], main button[value="reject"]').count(), 0);
    assert.ok((await page.textContent('main [data-separation]')).includes('職務分掌'));
    await expectNoAxeViolations(assert, page, 'staff case page, separation of duties');
  } finally {
    await resident.context.close();
    await approver.context.close();
  }
});
