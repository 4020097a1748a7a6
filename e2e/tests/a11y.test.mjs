// axe-core (WCAG 2.0 and 2.1, levels A and AA) finds nothing on any page a
// resident sees, in Japanese and in English: static pages, and every state
// of an application (empty form, errors, draft saved, check, confirmation,
// case page, correction requested, correction form).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, axeViolations, expectNoAxeViolations, fillJuminhyoForm, submitVia,
  staffSignIn, openStaffCase, staffAction, RECEIPT_RE, YOTSUKAIDO, YOKKAICHI,
} from '../lib.mjs';

/** Pages reachable by a plain GET: [label, path, expected HTTP status]. */
const STATIC_PAGES = [
  ['portal', '/', 200],
  ['四街道市 home', `/t/${YOTSUKAIDO}`, 200],
  ['四日市市 home', `/t/${YOKKAICHI}`, 200],
  ['procedure list', `/t/${YOTSUKAIDO}/procedures`, 200],
  ['procedure list, keyword', `/t/${YOTSUKAIDO}/procedures?q=${encodeURIComponent('住民票')}`, 200],
  ['procedure list, keyword with no match', `/t/${YOTSUKAIDO}/procedures?q=zzzzzz`, 200],
  ['procedure list, life event', `/t/${YOTSUKAIDO}/procedures?event=moving`, 200],
  ['procedure list, department + online', `/t/${YOKKAICHI}/procedures?department=digital&online=1`, 200],
  ['detail: juminhyo-copy (online and counter)', `/t/${YOTSUKAIDO}/procedures/juminhyo-copy`, 200],
  ['detail: tenkyo (counter only)', `/t/${YOTSUKAIDO}/procedures/tenkyo`, 200],
  ['detail: shisetsu-yoyaku (online only)', `/t/${YOTSUKAIDO}/procedures/shisetsu-yoyaku`, 200],
  ['detail: sodai-gomi (四日市市)', `/t/${YOKKAICHI}/procedures/sodai-gomi`, 200],
  ['apply form: juminhyo-copy', `/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply`, 200],
  ['apply form: sodai-gomi (postal code, phone, date)', `/t/${YOKKAICHI}/procedures/sodai-gomi/apply`, 200],
  ['apply form: smartphone-class (radio groups)', `/t/${YOTSUKAIDO}/procedures/smartphone-class/apply`, 200],
  ['staff sign-in', `/t/${YOTSUKAIDO}/staff/sign-in`, 200],
  ['404: unknown procedure', `/t/${YOTSUKAIDO}/procedures/no-such-procedure`, 404],
  ['404: unknown page', '/no-such-page', 404],
];

test('axe itself: finds known faults in a broken page', async () => {
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await page.setContent(
      '<html><head><title>broken</title></head><body><main><img src="data:,">' +
      '<input type="text"><p style="color:#bbb;background:#fff">faint</p></main></body></html>');
    const ids = (await axeViolations(page)).map((v) => v.id).sort();
    assert.deepEqual(ids, ['color-contrast', 'html-has-lang', 'image-alt', 'label']);
  } finally {
    await browser.close();
  }
});

for (const lang of ['ja', 'en']) {
  describe(`axe, ${lang}`, () => {
    let browser;
    let page;

    before(async () => {
      browser = await launch();
      ({ page } = await newPage(browser));
      // ?lang= sets the language cookie for the rest of this context.
      await page.goto(url(`/?lang=${lang}`));
    });

    after(async () => {
      await browser?.close();
    });

    async function visit(path, status = 200) {
      const response = await page.goto(url(path));
      assert.equal(response.status(), status, `HTTP status of ${path}`);
      assert.equal(await page.getAttribute('html', 'lang'), lang, `html lang of ${path}`);
    }

    for (const [label, path, status] of STATIC_PAGES) {
      test(label, async () => {
        await visit(path, status);
        await expectNoAxeViolations(assert, page, `${lang} ${label} (${path})`);
      });
    }

    // One application, step by step; the later steps use what the earlier found.
    const applyPath = `/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply`;
    let caseUrl;
    let receipt;

    test('apply form submitted empty: 422 with error summary', async () => {
      await visit(applyPath);
      const response = await submitVia(page, 'button[name="_action"][value="review"]');
      assert.equal(response.status(), 422);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      const links = await page.$$eval('.error-summary a', (as) => as.map((a) => a.getAttribute('href')));
      assert.ok(links.length >= 4, `error summary lists the missing answers: ${links}`);
      for (const href of links) {
        assert.match(href, /^#field-/);
        assert.equal(await page.locator(href).count(), 1, `error link ${href} points at a field`);
      }
      await expectNoAxeViolations(assert, page, `${lang} apply form with errors`);
    });

    test('draft saved page, and the form resumed from it', async () => {
      await visit(applyPath);
      await page.fill('#field-applicant', '四街道 一時');
      await submitVia(page, 'button[name="_action"][value="save"]');
      await expectNoAxeViolations(assert, page, `${lang} draft saved`);
      const resume = page.locator('main a[href*="/drafts/"]');
      assert.equal(await resume.count(), 1, 'draft saved page has a resume link');
      await submitVia(page, 'main a[href*="/drafts/"]');
      assert.equal(await page.inputValue('#field-applicant'), '四街道 一時');
      await expectNoAxeViolations(assert, page, `${lang} resumed draft form`);
    });

    test('check page and confirmation page', async () => {
      await visit(applyPath);
      await fillJuminhyoForm(page);
      await submitVia(page, 'button[name="_action"][value="review"]');
      assert.match(new URL(page.url()).pathname, /\/apply\/check$/);
      await expectNoAxeViolations(assert, page, `${lang} check page`);

      await submitVia(page, 'main form button[type="submit"]');
      assert.match(page.url(), /\/my\/[^/]+\/[^/?]+\?new=1$/);
      receipt = (await page.textContent('.panel__ref')).trim();
      assert.match(receipt, RECEIPT_RE);
      await expectNoAxeViolations(assert, page, `${lang} confirmation page`);
      caseUrl = page.url().replace(/\?.*$/, '');
    });

    test('resident case page', async () => {
      assert.ok(caseUrl, 'needs the application from the previous test');
      await visit(new URL(caseUrl).pathname);
      await expectNoAxeViolations(assert, page, `${lang} case page`);
    });

    test('case page with a correction request, and the correction form', async () => {
      assert.ok(caseUrl && receipt, 'needs the application from the previous test');
      const staff = await newPage(browser);
      try {
        await staffSignIn(staff.page, YOTSUKAIDO, 'dx-admin');
        await openStaffCase(staff.page, YOTSUKAIDO, receipt);
        await staffAction(staff.page, 'start_review');
        await staffAction(staff.page, 'request_correction', '請求者氏名のふりがなを確認してください。');
      } finally {
        await staff.context.close();
      }

      await visit(new URL(caseUrl).pathname);
      await expectNoAxeViolations(assert, page, `${lang} case page, correction requested`);

      const correct = page.locator('main a[href$="/correct"]');
      assert.equal(await correct.count(), 1, 'case page links to the correction form');
      await submitVia(page, 'main a[href$="/correct"]');
      assert.match(new URL(page.url()).pathname, /\/correct$/);
      await expectNoAxeViolations(assert, page, `${lang} correction form`);

      // The correction form with an error in it.
      await page.fill('#field-applicant', '');
      const response = await submitVia(page, 'button[name="_action"][value="resubmit"]');
      assert.equal(response.status(), 422);
      assert.equal(await page.locator('.error-summary a[href="#field-applicant"]').count(), 1);
      await expectNoAxeViolations(assert, page, `${lang} correction form with errors`);
    });

    test('staff sign-in with a wrong password', async () => {
      await visit(`/t/${YOTSUKAIDO}/staff/sign-in`);
      await page.fill('#field-id', 'dx-admin');
      await page.fill('#field-password', 'wrong-password');
      await submitVia(page, 'main form button[type="submit"]');
      assert.match(new URL(page.url()).pathname, /\/staff\/sign-in$/);
      await expectNoAxeViolations(assert, page, `${lang} staff sign-in failed`);
    });
  });
}
