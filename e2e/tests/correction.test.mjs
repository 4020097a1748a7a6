// The correction loop (補正) through the browser: a resident applies; staff
// (dx-admin) start the review and ask for a correction with a message; the
// resident sees the message, corrects and resubmits; the case is 審査中 again.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, applyJuminhyo, submitVia, staffSignIn, openStaffCase,
  staffAction, RECEIPT_RE, YOTSUKAIDO,
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

test('correction loop: apply, request correction, correct, back under review', async () => {
  const message = `ふりがなが住民登録と異なります。確認してください。(${Date.now()})`;
  const resident = await newPage(browser);
  const staff = await newPage(browser);
  try {
    // 1. The resident applies.
    const { receipt, caseUrl } = await applyJuminhyo(resident.page, YOTSUKAIDO);
    assert.match(receipt, RECEIPT_RE);

    // 2. Staff open the case and start the review.
    await staffSignIn(staff.page, YOTSUKAIDO, 'dx-admin');
    await openStaffCase(staff.page, YOTSUKAIDO, receipt);
    assert.equal(await staffStatus(staff.page), '受付');
    await staffAction(staff.page, 'start_review');
    assert.equal(await staffStatus(staff.page), '審査中');

    // 3. Staff ask for a correction, with a message.
    await staffAction(staff.page, 'request_correction', message);
    assert.equal(await staffStatus(staff.page), '補正依頼');

    // 4. The resident's page shows the message and links to the correction form.
    await resident.page.goto(caseUrl + '?lang=ja');
    assert.ok((await resident.page.textContent('main')).includes(message), 'case page shows the message');
    assert.equal((await resident.page.textContent('main .status')).trim(), '補正依頼');
    await submitVia(resident.page, 'main a[href$="/correct"]');
    assert.match(new URL(resident.page.url()).pathname, /\/correct$/);
    assert.ok((await resident.page.textContent('main')).includes(message), 'correction form shows the message');
    // The form comes back filled in with the earlier answers.
    assert.match(await resident.page.inputValue('#field-applicant'), /四街道\s花子/);

    // 5. The resident corrects the reading and resubmits.
    await resident.page.fill('#field-applicant_kana', 'ヨツカイドウ ハナ');
    const resubmitted = await submitVia(resident.page, 'button[name="_action"][value="resubmit"]');
    assert.equal(resubmitted.status(), 200);
    assert.ok(new URL(resident.page.url()).pathname.startsWith(new URL(caseUrl).pathname),
      `after resubmitting: ${resident.page.url()}`);
    assert.equal((await resident.page.textContent('main .status')).trim(), '審査中');
    assert.equal(await resident.page.locator('main a[href$="/correct"]').count(), 0,
      'no correction link once resubmitted');

    // 6. Staff see the case under review again, with the corrected answer.
    await staff.page.reload();
    assert.equal(await staffStatus(staff.page), '審査中');
    const answers = (await staff.page.textContent('main')).replace(/\s+/g, ' ');
    assert.ok(answers.includes('ヨツカイドウ ハナ）') || answers.includes('ヨツカイドウ ハナ'),
      'staff see the corrected reading');
  } finally {
    await resident.context.close();
    await staff.context.close();
  }
});
