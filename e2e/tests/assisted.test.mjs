// 書かない窓口 (四街道市): a clerk finds the resident in the register and
// fills in 住民票の写し for her; the resident checks it on the second
// screen, reads her My Number card there and signs with the pointer on the
// signature pad; the clerk files it with the identity document checked.
//
// - axe-core (WCAG 2.0/2.1 A and AA) finds nothing, in Japanese and in
//   English, on the clerk's start page with search results, the entry page
//   (with errors and complete), and the resident's second screen while the
//   clerk types, with the signature pad, with an error and once signed.
// - The second screen works by keyboard up to the signature, and without
//   JavaScript it says to sign the printed application instead.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, staffSignIn, submitDevSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;

let browser;
let clerk;

before(async () => {
  browser = await launch();
  clerk = await newPage(browser);
  await staffSignIn(clerk.page, T, 'clerk');
});

after(async () => {
  await browser?.close();
});

/** The clerk opens an entry of juminhyo-copy for 四街道 花子 from the register; returns its path. */
async function openEntryForHanako(lang) {
  const { page } = clerk;
  await page.goto(url(`/t/${T}/staff/assist?lang=${lang}`));
  await page.selectOption('#field-procedure', 'juminhyo-copy');
  await page.fill('#q-kana', 'よつかいどう はなこ');
  await submitVia(page, `form[action^="/t/${T}/staff/assist"][method="get"] button[type="submit"]`);
  assert.ok((await page.textContent('main')).includes('四街道 花子'), 'the register finds her');
  await expectNoAxeViolations(assert, page, `start page with results (${lang})`);
  await submitVia(page, 'main table form button[type="submit"]');
  const path = new URL(page.url()).pathname;
  assert.match(path, new RegExp(`^/t/${T}/staff/assist/[0-9a-f]+$`));
  assert.equal(await page.inputValue('#field-applicant'), '四街道 花子', 'pre-filled from the register');
  return path;
}

/** The second screen's link as the clerk's page shows it. */
async function secondScreenPath() {
  const href = await clerk.page.getAttribute('.ticket-qr a', 'href');
  return new URL(href).pathname;
}

for (const lang of ['ja', 'en']) {
  describe(`assisted entry (${lang})`, () => {
    test('register → form → second screen → card → signature → filed', async () => {
      const { page } = clerk;
      const entry = await openEntryForHanako(lang);
      // Saved incomplete: errors, accessible.
      await submitVia(page, 'main form.form button[type="submit"]');
      assert.ok(await page.locator('.error-summary').count() > 0, 'errors are listed');
      await expectNoAxeViolations(assert, page, `entry with errors (${lang})`);

      // The resident's screen while the clerk types.
      const resident = await newPage(browser, { viewport: { width: 1024, height: 768 } });
      const screen = await secondScreenPath();
      await resident.page.goto(url(`${screen}?lang=${lang}`));
      await expectNoAxeViolations(assert, resident.page, `second screen while typing (${lang})`);
      // She reads her card there (development provider) and uses it.
      await submitVia(resident.page, `form[action="${screen}/read-card"] button[type="submit"]`);
      await submitDevSignIn(resident.page);
      assert.equal(new URL(resident.page.url()).pathname, screen, 'back on the second screen');
      await submitVia(resident.page, `form[action="${screen}/card"] button[type="submit"]`);

      // The clerk completes the form (the name now comes from the card).
      await page.goto(url(`${entry}?lang=${lang}`));
      assert.equal(await page.getAttribute('#field-applicant', 'readonly'), '', 'the card verified the name');
      await page.fill('#field-applicant_kana', 'ヨツカイドウ ハナコ');
      await page.check('input[name="scope"][value="individual"]');
      await page.fill('#field-copies', '1');
      await page.check('input[name="purpose"][value="employment"]');
      await page.check('input[name="delivery"][value="counter"]');
      await submitVia(page, 'main form.form button[type="submit"]');
      assert.ok((await page.textContent('main')).includes(lang === 'ja' ? 'お客様の確認待ち' : 'Waiting for the resident'));
      await expectNoAxeViolations(assert, page, `entry waiting for the resident (${lang})`);

      // The resident checks; without a signature the page says so.
      await resident.page.goto(url(`${screen}?lang=${lang}`));
      await resident.page.check('#field-agree');
      await submitVia(resident.page, `form[action="${screen}/sign"] button[type="submit"]`);
      assert.ok(await resident.page.locator('#field-signature-error').count() === 1, 'signature missing');
      await expectNoAxeViolations(assert, resident.page, `second screen with an error (${lang})`);
      // Signs with the pointer.
      await resident.page.check('#field-agree');
      const box = await resident.page.locator('.signature-pad canvas').boundingBox();
      await resident.page.mouse.move(box.x + 20, box.y + box.height * 0.7);
      await resident.page.mouse.down();
      for (const [fx, fy] of [[0.2, 0.2], [0.35, 0.8], [0.5, 0.3], [0.7, 0.6]]) {
        await resident.page.mouse.move(box.x + box.width * fx, box.y + box.height * fy, { steps: 5 });
      }
      await resident.page.mouse.up();
      assert.ok((await resident.page.inputValue('#field-signature-data')).includes(','), 'strokes kept');
      await expectNoAxeViolations(assert, resident.page, `second screen with the signature pad (${lang})`);
      await submitVia(resident.page, `form[action="${screen}/sign"] button[type="submit"]`);
      assert.ok(await resident.page.locator('.notice--success').count() === 1, 'signed');
      await expectNoAxeViolations(assert, resident.page, `second screen signed (${lang})`);

      // The clerk files it, with the identity document checked (none is
      // chosen beforehand: without one, 422).
      await page.goto(url(`${entry}?lang=${lang}`));
      assert.equal(await page.locator('input[name="identity_document"]:checked').count(), 0);
      const refused = await submitVia(page, `form[action$="/submit"] button[type="submit"]`);
      assert.equal(refused.status(), 422);
      await expectNoAxeViolations(assert, page, `entry filed without the identity document (${lang})`);
      await page.check('input[name="identity_document"][value="my_number_card"]');
      await submitVia(page, `form[action$="/submit"] button[type="submit"]`);
      const text = await page.textContent('main');
      assert.match(text, /\d{4}-\d{4}-\d{4}/, 'a receipt number');
      await expectNoAxeViolations(assert, page, `entry filed (${lang})`);
      await resident.context.close();
    });
  });
}

test('second screen: keyboard to the signature pad, and a no-JavaScript fallback', async () => {
  const entry = await openEntryForHanako('ja');
  const { page } = clerk;
  await page.check('input[name="scope"][value="individual"]');
  await page.fill('#field-copies', '1');
  await page.check('input[name="purpose"][value="employment"]');
  await page.check('input[name="delivery"][value="counter"]');
  await submitVia(page, 'main form.form button[type="submit"]');
  const screen = await secondScreenPath();

  const kb = await newPage(browser);
  await kb.page.goto(url(screen));
  // Tab reaches the agreement checkbox; Space ticks it.
  let focused = '';
  for (let i = 0; i < 40 && focused !== 'field-agree'; i++) {
    await kb.page.keyboard.press('Tab');
    focused = await kb.page.evaluate(() => document.activeElement?.id || '');
  }
  assert.equal(focused, 'field-agree', 'the checkbox is reachable by keyboard');
  await kb.page.keyboard.press('Space');
  assert.equal(await kb.page.isChecked('#field-agree'), true);
  await kb.context.close();

  const nojs = await newPage(browser, { javaScriptEnabled: false });
  await nojs.page.goto(url(screen));
  const text = await nojs.page.textContent('main');
  assert.ok(text.includes('印刷した申請書に署名'), 'without JavaScript it points to the paper signature');
  await nojs.context.close();
  // The clerk takes the paper route: prints the application (a PDF), the
  // resident signs it, the clerk confirms that printed version.
  await page.goto(url(entry));
  const pdfHref = await page.getAttribute('a[href$="/application.pdf"]', 'href');
  const pdf = await page.context().request.get(url(pdfHref));
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  await page.goto(url(entry));
  await submitVia(page, `form[action$="/paper"] button[type="submit"]`);
  await page.check('input[name="identity_document"][value="drivers_license"]');
  await submitVia(page, `form[action$="/submit"] button[type="submit"]`);
  assert.match(await page.textContent('main'), /\d{4}-\d{4}-\d{4}/);
});
