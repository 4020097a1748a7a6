// axe-core (WCAG 2.0 and 2.1, levels A and AA) finds nothing on any page a
// resident sees, in every one of the seven languages: static pages, the resident
// sign-in (development identity provider) and account pages, and every
// state of an application (empty form, errors, draft saved, check,
// confirmation, case page, correction requested, correction form); and on
// the staff sign-in pages: second factor (also with a wrong code),
// enrolment of a new account with its recovery codes, the account page
// (also with a wrong password) and the administration page (staff pages,
// and the correction a member of staff asks for, in Japanese and English).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, axeViolations, expectNoAxeViolations, fillJuminhyoForm, submitVia,
  staffSignIn, staffPasswordStep, staffSecondFactor, openStaffCase, staffAction,
  residentSignIn, submitDevSignIn, totpCode, totpStep, wrongTotpCode, DEMO_TOTP_SECRET,
  DEV_RESIDENT, RECEIPT_RE, YOTSUKAIDO, YOKKAICHI, LANGS, htmlLang,
} from '../lib.mjs';

/**
 * Pages reachable by a plain GET: [label, path, expected HTTP status, the
 * tenant a resident must be signed in to first (procedures that need a
 * sign-in or the My Number card send others to the sign-in page), and
 * whether it is one more variant of a page already in the list (variants
 * are checked in Japanese and English only, to keep the run short; every
 * page itself is checked in every language)].
 */
const STATIC_PAGES = [
  ['portal', '/', 200],
  ['四街道市 home', `/t/${YOTSUKAIDO}`, 200],
  ['四日市市 home', `/t/${YOKKAICHI}`, 200, undefined, true],
  ['procedure list', `/t/${YOTSUKAIDO}/procedures`, 200],
  ['procedure list, keyword', `/t/${YOTSUKAIDO}/procedures?q=${encodeURIComponent('住民票')}`, 200, undefined, true],
  ['procedure list, keyword with no match', `/t/${YOTSUKAIDO}/procedures?q=zzzzzz`, 200],
  ['procedure list, life event', `/t/${YOTSUKAIDO}/procedures?event=moving`, 200, undefined, true],
  ['procedure list, department + online', `/t/${YOKKAICHI}/procedures?department=digital&online=1`, 200, undefined, true],
  ['detail: juminhyo-copy (online and counter)', `/t/${YOTSUKAIDO}/procedures/juminhyo-copy`, 200],
  ['detail: tenkyo (counter only)', `/t/${YOTSUKAIDO}/procedures/tenkyo`, 200, undefined, true],
  ['detail: shisetsu-yoyaku (online only)', `/t/${YOTSUKAIDO}/procedures/shisetsu-yoyaku`, 200, undefined, true],
  ['detail: sodai-gomi (四日市市)', `/t/${YOKKAICHI}/procedures/sodai-gomi`, 200, undefined, true],
  ['search', `/t/${YOTSUKAIDO}/search`, 200],
  ['search results (by reading)', `/t/${YOTSUKAIDO}/search?q=${encodeURIComponent('じゅうみんひょう')}`, 200],
  ['search, nothing found', `/t/${YOTSUKAIDO}/search?q=zzzzqqq`, 200],
  ['search, nothing typed (422)', `/t/${YOTSUKAIDO}/search?q=+`, 422],
  ['FAQ', `/t/${YOTSUKAIDO}/faq`, 200],
  ['FAQ entry', `/t/${YOTSUKAIDO}/faq/1`, 200],
  ['chat', `/t/${YOTSUKAIDO}/chat`, 200],
  ['search, filtered by department', `/t/${YOKKAICHI}/search?q=${encodeURIComponent('届')}&department=shimin`, 200, undefined, true],
  ['resident sign-in', `/t/${YOTSUKAIDO}/sign-in`, 200],
  ['resident sign-in, sent there by a procedure that needs the card',
    `/t/${YOTSUKAIDO}/sign-in?need=my_number_card&return_to=${encodeURIComponent(`/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply`)}`, 200],
  ['apply form: juminhyo-copy (My Number card, verified name read-only)', `/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply`, 200, YOTSUKAIDO],
  ['apply form: sodai-gomi (signed in; postal code, phone, date)', `/t/${YOKKAICHI}/procedures/sodai-gomi/apply`, 200, YOKKAICHI, true],
  ['apply form: smartphone-class (radio groups)', `/t/${YOTSUKAIDO}/procedures/smartphone-class/apply`, 200],
  ['resident account', `/t/${YOTSUKAIDO}/account`, 200, YOTSUKAIDO],
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

for (const lang of LANGS) {
  // Staff pages and the staff side of a correction: Japanese and English.
  const withStaff = lang === 'ja' || lang === 'en';
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
      assert.equal(await page.getAttribute('html', 'lang'), htmlLang(lang), `html lang of ${path}`);
    }

    // The resident's session is for one municipality at a time.
    let residentTenant = null;
    async function residentOf(tenant) {
      if (residentTenant !== tenant) {
        await residentSignIn(page, tenant);
        residentTenant = tenant;
      }
    }

    for (const [label, path, status, signedInAt, variant] of STATIC_PAGES) {
      if (!withStaff && (variant || path.includes('/staff'))) continue;
      test(label, async () => {
        if (signedInAt) await residentOf(signedInAt);
        await visit(path, status);
        if (signedInAt) {
          assert.equal(new URL(page.url()).pathname, new URL(url(path)).pathname,
            `signed in, ${path} is shown (not the sign-in page)`);
        }
        await expectNoAxeViolations(assert, page, `${lang} ${label} (${path})`);
      });
    }

    test('apply form of a My Number card procedure: verified fields are read-only with a note', async () => {
      await residentOf(YOTSUKAIDO);
      await visit(`/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply`);
      const name = page.locator('#field-applicant');
      assert.equal(await name.evaluate((el) => el.readOnly), true, 'the verified name is read-only');
      assert.equal((await name.inputValue()).replace(/\s+/g, ' '), DEV_RESIDENT.name);
      const described = (await name.getAttribute('aria-describedby')) || '';
      const notes = await Promise.all(described.split(/\s+/).filter(Boolean)
        .map((id) => page.locator(`[id="${id}"]`).textContent()));
      if (withStaff) {
        assert.match(notes.join(' '), lang === 'ja' ? /マイナンバーカードで確認済み/ : /My Number card/,
          `the name field is described by the verified note: ${notes}`);
      } else {
        assert.ok(notes.join('').trim().length > 0, `the name field is described by the verified note: ${notes}`);
      }
      assert.equal(await page.locator('#field-applicant_kana').evaluate((el) => el.readOnly), false,
        'the reading (not part of the verified identity) can be typed');
      await expectNoAxeViolations(assert, page, `${lang} apply form with verified fields`);
    });

    test('resident dev sign-in submitted empty: 422 with error summary', async () => {
      const resident = await newPage(browser);
      try {
        await resident.page.goto(url(`/t/${YOTSUKAIDO}/sign-in?lang=${lang}`));
        for (const field of ['#field-name', '#field-address', '#field-birthdate']) {
          await resident.page.fill(field, '');
        }
        const response = await submitVia(resident.page, 'form[action$="/sign-in/dev"] button[type="submit"]');
        assert.equal(response.status(), 422);
        assert.equal(await resident.page.getAttribute('html', 'lang'), htmlLang(lang));
        const links = await resident.page.$$eval('.error-summary a', (as) => as.map((a) => a.getAttribute('href')));
        assert.deepEqual(links.sort(), ['#field-address', '#field-birthdate', '#field-name'],
          'error summary lists name, address and birthdate');
        await expectNoAxeViolations(assert, resident.page, `${lang} resident dev sign-in with errors`);

        // Filled in, it signs the resident in and goes to the account page.
        await submitDevSignIn(resident.page);
        assert.equal(new URL(resident.page.url()).pathname, `/t/${YOTSUKAIDO}`);
        await resident.page.goto(url(`/t/${YOTSUKAIDO}/account`));
        assert.equal(new URL(resident.page.url()).pathname, `/t/${YOTSUKAIDO}/account`);
        await expectNoAxeViolations(assert, resident.page, `${lang} resident account after sign-in`);
      } finally {
        await resident.context.close();
      }
    });

    // One signed-in system administrator (dx-admin) per language, shared by
    // the tests below: each sign-in uses up a TOTP step.
    let adminPage;
    async function admin() {
      if (!adminPage) {
        const staff = await newPage(browser);
        await staff.page.goto(url(`/?lang=${lang}`));
        await staffSignIn(staff.page, YOTSUKAIDO, 'dx-admin');
        adminPage = staff.page;
      }
      return adminPage;
    }

    // One application, step by step; the later steps use what the earlier found.
    const applyPath = `/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply`;
    let caseUrl;
    let receipt;

    test('apply form submitted empty: 422 with error summary', async () => {
      await residentOf(YOTSUKAIDO);
      await visit(applyPath);
      // Everything the resident types is left empty (the name comes from the card).
      await page.fill('#field-applicant_kana', '');
      const response = await submitVia(page, 'button[name="_action"][value="review"]');
      assert.equal(response.status(), 422);
      assert.equal(await page.getAttribute('html', 'lang'), htmlLang(lang));
      const links = await page.$$eval('.error-summary a', (as) => as.map((a) => a.getAttribute('href')));
      assert.ok(links.length >= 4, `error summary lists the missing answers: ${links}`);
      assert.ok(!links.includes('#field-applicant'), 'the verified name is not missing');
      for (const href of links) {
        assert.match(href, /^#field-/);
        assert.equal(await page.locator(href).count(), 1, `error link ${href} points at a field`);
      }
      await expectNoAxeViolations(assert, page, `${lang} apply form with errors`);
    });

    test('draft saved page, and the form resumed from it', async () => {
      await residentOf(YOTSUKAIDO);
      await visit(applyPath);
      await page.fill('#field-applicant_kana', 'ヨツカイドウ イチジ');
      await submitVia(page, 'button[name="_action"][value="save"]');
      await expectNoAxeViolations(assert, page, `${lang} draft saved`);
      const resume = page.locator('main a[href*="/drafts/"]');
      assert.equal(await resume.count(), 1, 'draft saved page has a resume link');
      await submitVia(page, 'main a[href*="/drafts/"]');
      assert.equal(await page.inputValue('#field-applicant_kana'), 'ヨツカイドウ イチジ');
      await expectNoAxeViolations(assert, page, `${lang} resumed draft form`);
    });

    test('check page and confirmation page', async () => {
      await residentOf(YOTSUKAIDO);
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

    if (withStaff) {
      test('case page with a correction request, and the correction form', async () => {
        assert.ok(caseUrl && receipt, 'needs the application from the previous test');
        const staff = await admin();
        await openStaffCase(staff, YOTSUKAIDO, receipt);
        await staffAction(staff, 'start_review');
        await staffAction(staff, 'request_correction', '請求者氏名のふりがなを確認してください。');

        await visit(new URL(caseUrl).pathname);
        await expectNoAxeViolations(assert, page, `${lang} case page, correction requested`);

        const correct = page.locator('main a[href$="/correct"]');
        assert.equal(await correct.count(), 1, 'case page links to the correction form');
        await submitVia(page, 'main a[href$="/correct"]');
        assert.match(new URL(page.url()).pathname, /\/correct$/);
        await expectNoAxeViolations(assert, page, `${lang} correction form`);

        // The correction form with an error in it.
        await page.fill('#field-copies', '');
        const response = await submitVia(page, 'button[name="_action"][value="resubmit"]');
        assert.equal(response.status(), 422);
        assert.equal(await page.locator('.error-summary a[href="#field-copies"]').count(), 1);
        await expectNoAxeViolations(assert, page, `${lang} correction form with errors`);
      });

      test('staff sign-in with a wrong password', async () => {
        // Not dx-admin: failures count towards locking the account.
        await visit(`/t/${YOTSUKAIDO}/staff/sign-in`);
        await page.fill('#field-id', 'clerk');
        await page.fill('#field-password', 'wrong-password');
        await submitVia(page, 'main form button[type="submit"]');
        assert.match(new URL(page.url()).pathname, /\/staff\/sign-in$/);
        await expectNoAxeViolations(assert, page, `${lang} staff sign-in failed`);
      });

      test('staff second factor: the code page, a wrong code (422), then the right one', async () => {
        const staff = await newPage(browser);
        try {
          await staff.page.goto(url(`/?lang=${lang}`));
          await staffPasswordStep(staff.page, YOTSUKAIDO, 'reviewer');
          assert.equal(new URL(staff.page.url()).pathname, `/t/${YOTSUKAIDO}/staff/sign-in/verify`);
          assert.equal(await staff.page.getAttribute('html', 'lang'), lang);
          assert.equal(await staff.page.getAttribute('#field-code', 'autocomplete'), 'one-time-code');
          await expectNoAxeViolations(assert, staff.page, `${lang} staff second factor`);

          await staff.page.fill('#field-code', wrongTotpCode(DEMO_TOTP_SECRET));
          const wrong = await submitVia(staff.page, 'main form:has(#field-code) button[type="submit"]');
          assert.equal(wrong.status(), 422);
          assert.equal(new URL(staff.page.url()).pathname, `/t/${YOTSUKAIDO}/staff/sign-in/verify`);
          assert.equal(await staff.page.locator('.error-summary a[href="#field-code"]').count(), 1,
            'error summary links to the code field');
          assert.equal(await staff.page.getAttribute('#field-code', 'aria-invalid'), 'true');
          await expectNoAxeViolations(assert, staff.page, `${lang} staff second factor, wrong code`);

          await staffSecondFactor(staff.page, YOTSUKAIDO, 'reviewer');
          assert.equal(new URL(staff.page.url()).pathname, `/t/${YOTSUKAIDO}/staff/cases`);
        } finally {
          await staff.context.close();
        }
      });

      test('staff administration page, and creating an account with errors (422)', async () => {
        const staff = await admin();
        const response = await staff.goto(url(`/t/${YOTSUKAIDO}/staff/admin`));
        assert.equal(response.status(), 200);
        assert.equal(await staff.getAttribute('html', 'lang'), lang);
        await expectNoAxeViolations(assert, staff, `${lang} staff administration`);

        // Nothing filled in, no role ticked.
        await staff.fill('#field-id', '');
        await staff.fill('#field-name', '');
        for (const box of await staff.locator('input[name="roles"]:checked').all()) await box.uncheck();
        const invalid = await submitVia(staff, 'form[action$="/staff/admin"] button[type="submit"]');
        assert.equal(invalid.status(), 422);
        const links = await staff.$$eval('.error-summary a', (as) => as.map((a) => a.getAttribute('href')));
        for (const href of ['#field-id', '#field-name', '#field-password']) {
          assert.ok(links.includes(href), `error summary links to ${href}: ${links}`);
        }
        for (const href of links) {
          assert.equal(await staff.locator(href).count(), 1, `error link ${href} points at something`);
        }
        await expectNoAxeViolations(assert, staff, `${lang} staff administration with errors`);
      });

      test('a new staff account: enrolment (QR code, key, wrong code), recovery codes, account page', async () => {
        // dx-admin registers the account…
        const id = `e2e-${lang}-${Date.now().toString(36)}`;
        const password = 'kinmokusei-no-kaori-2026';
        const staff = await admin();
        await staff.goto(url(`/t/${YOTSUKAIDO}/staff/admin`));
        await staff.fill('#field-id', id);
        await staff.fill('#field-name', `試験 職員 ${lang}`);
        await staff.locator('#field-department').selectOption({ index: 0 });
        await staff.check('input[name="roles"][value="clerk"]');
        await staff.fill('#field-password', password);
        const created = await submitVia(staff, 'form[action$="/staff/admin"] button[type="submit"]');
        assert.equal(created.status(), 200, `creating ${id}`);
        assert.equal(await staff.locator(`table th[scope="row"]:text-is("${id}")`).count(), 1,
          `${id} is in the staff list`);

        // …who signs in and is asked to set up the second factor.
        const newcomer = await newPage(browser);
        try {
          const p = newcomer.page;
          await p.goto(url(`/?lang=${lang}`));
          await staffPasswordStep(p, YOTSUKAIDO, id, password);
          assert.equal(new URL(p.url()).pathname, `/t/${YOTSUKAIDO}/staff/mfa/enrol`);
          assert.equal(await p.getAttribute('html', 'lang'), lang);
          assert.equal(await p.locator('main svg[aria-hidden="true"]').count(), 1, 'a QR code hidden from screen readers');
          const secret = (await p.textContent('#totp-secret')).trim();
          assert.match(secret, /^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/, `the key in groups of four: ${secret}`);
          await expectNoAxeViolations(assert, p, `${lang} staff enrolment`);

          await p.fill('#field-code', wrongTotpCode(secret));
          const wrong = await submitVia(p, 'main form:has(#field-code) button[type="submit"]');
          assert.equal(wrong.status(), 422);
          assert.equal(await p.locator('.error-summary a[href="#field-code"]').count(), 1);
          assert.equal((await p.textContent('#totp-secret')).trim(), secret, 'the same key again');
          await expectNoAxeViolations(assert, p, `${lang} staff enrolment, wrong code`);

          await p.fill('#field-code', totpCode(secret, totpStep()));
          const enrolled = await submitVia(p, 'main form:has(#field-code) button[type="submit"]');
          assert.equal(enrolled.status(), 200);
          const codes = await p.$$eval('.recovery-codes li', (lis) => lis.map((li) => li.textContent.trim()));
          assert.ok(codes.length >= 5, `recovery codes shown: ${codes}`);
          await expectNoAxeViolations(assert, p, `${lang} recovery codes`);
          await submitVia(p, 'main a.button');
          assert.equal(new URL(p.url()).pathname, `/t/${YOTSUKAIDO}/staff/cases`);

          // The account page, and a password change with the wrong current password.
          const account = await p.goto(url(`/t/${YOTSUKAIDO}/staff/account`));
          assert.equal(account.status(), 200);
          await expectNoAxeViolations(assert, p, `${lang} staff account`);
          await p.fill('#field-current_password', 'not-my-password-at-all');
          await p.fill('#field-new_password', 'password');
          await p.fill('#field-confirm_password', 'something-else');
          const bad = await submitVia(p, 'form[action$="/staff/account/password"] button[type="submit"]');
          assert.equal(bad.status(), 422);
          const links = await p.$$eval('.error-summary a', (as) => as.map((a) => a.getAttribute('href')));
          assert.ok(links.includes('#field-current_password'), `error summary: ${links}`);
          for (const href of links) {
            assert.equal(await p.locator(href).count(), 1, `error link ${href} points at a field`);
          }
          await expectNoAxeViolations(assert, p, `${lang} staff account, wrong password`);
        } finally {
          await newcomer.context.close();
        }
      });
    }
  });
}
