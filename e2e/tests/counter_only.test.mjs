// A counter-only procedure at 書かない窓口 (四日市市): a clerk files 印鑑の登録
// for 諏訪 大輔, found in the resident register; the form is pre-filled
// from the register, the clerk completes it, prints it for the resident to
// sign on paper, records the identity document checked (none is chosen
// beforehand: filing without one is refused with 422) and files it; the
// case shows the check.
//
// - Keyboard only and without JavaScript: the whole of it with Tab, arrow
//   keys, Space, typing and Enter (no page.fill or page.click), every Tab
//   stop visible with a focus outline.
// - axe-core (WCAG 2.0/2.1 A and AA) on every page the flow opens, in
//   Japanese and English: the start page with the register's results, the
//   entry (with errors, complete), the confirm step, the confirm step with
//   the missing document (422), the entry filed and the case. axe needs
//   JavaScript in the page, so it walks the same flow in a page with it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, staffSignIn, YOKKAICHI,
} from '../lib.mjs';

const T = YOKKAICHI;

let browser;
/** The signed-in clerk's cookies, shared by both runs (one sign-in, one TOTP step). */
let clerkState;

before(async () => {
  browser = await launch();
  const { page, context } = await newPage(browser);
  await staffSignIn(page, T, 'clerk');
  clerkState = await context.storageState();
  await context.close();
});

after(async () => {
  await browser?.close();
});

test('keyboard only, without JavaScript: 印鑑の登録 from the register to the filed case', async () => {
  const { page, context } = await newPage(browser, {
    javaScriptEnabled: false,
    storageState: clerkState,
    viewport: { width: 1024, height: 768 },
  });
  const stops = [];
  async function move(key) {
    await page.keyboard.press(key);
    const f = await page.locator(':focus').evaluate((el) => {
      const r = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      return {
        desc: `${el.tagName.toLowerCase()}#${el.id} ${el.getAttribute('name') || ''} ${(el.textContent || '').trim().slice(0, 30)}`,
        visible: r.width > 0 && r.height > 0,
        outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0,
      };
    });
    stops.push(`${key} -> ${f.desc}`);
    assert.ok(f.visible && f.outline, `focus not visible: ${f.desc}`);
  }
  async function tabTo(selector, max = 80) {
    for (let i = 0; i < max; i++) {
      await move('Tab');
      if (await page.locator(':focus').evaluate((el, s) => el.matches(s), selector)) return;
    }
    assert.fail(`no Tab stop on ${selector}:\n${stops.slice(-max).join('\n')}`);
  }
  async function enter() {
    const [response] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.keyboard.press('Enter'),
    ]);
    return response;
  }

  // The start page: the procedure chosen with the arrow keys, the
  // resident searched by kana.
  await page.goto(url(`/t/${T}/staff/assist?lang=ja`));
  await tabTo('#field-procedure');
  for (let i = 0; i < 60 && (await page.inputValue('#field-procedure')) !== 'inkan-toroku'; i++) {
    await page.keyboard.press('ArrowDown');
  }
  assert.equal(await page.inputValue('#field-procedure'), 'inkan-toroku', 'the counter-only procedure is offered');
  await tabTo('#q-kana');
  await page.keyboard.type('すわ だいすけ');
  await tabTo('form[method="get"] button[type="submit"]');
  await enter();
  assert.ok((await page.textContent('main')).includes('諏訪 大輔'), 'found in the register');
  await tabTo('main table form button[type="submit"]');
  let response = await enter();
  assert.equal(response.status(), 200);
  const entry = new URL(page.url()).pathname;
  assert.match(entry, new RegExp(`^/t/${T}/staff/assist/[0-9a-f]+$`));
  assert.equal(await page.inputValue('#field-applicant'), '諏訪 大輔', 'pre-filled from the register');
  assert.equal(await page.inputValue('#field-address'), '三重県四日市市諏訪栄町1番4号');

  // Saved before the choices are made: 422, the errors listed.
  await tabTo('main form.form button[type="submit"]');
  response = await enter();
  assert.equal(response.status(), 422);
  const links = await page.locator('.error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.deepEqual(links.sort(), ['#field-method', '#field-proxy']);

  // The registration method and who came: Space on the first option,
  // ArrowDown to the next.
  await tabTo('input[name="method"]');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('input[name="method"][value="photo_id"]'), true, '顔写真付きの本人確認書類で即日登録');
  await tabTo('input[name="proxy"]');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('input[name="proxy"][value="self"]'), true, '本人');
  await tabTo('main form.form button[type="submit"]');
  response = await enter();
  assert.equal(response.status(), 200);
  assert.ok((await page.textContent('main')).includes('お客様の確認待ち'));

  // Printed for the resident to sign on paper (a PDF), then confirmed.
  const pdfHref = await page.getAttribute('a[href$="/application.pdf"]', 'href');
  const pdf = await context.request.get(url(pdfHref));
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  await page.goto(url(entry));
  await tabTo('form[action$="/paper"] button[type="submit"]');
  await enter();

  // The confirm step: no document chosen beforehand.
  assert.equal(await page.locator('input[name="identity_document"]').count(), 7);
  assert.equal(await page.locator('input[name="identity_document"]:checked').count(), 0, 'nothing pre-selected');
  await tabTo('form#identity button[type="submit"]');
  response = await enter();
  assert.equal(response.status(), 422, 'filing without the document is refused');
  assert.equal(await page.locator('.error-summary a[href="#field-identity_document"]').count(), 1);
  assert.ok((await page.textContent('.error-summary')).includes('「本人確認書類」を選んでください。'));
  assert.equal(await page.locator('.error-summary a').count(), 1);

  // 運転免許証: Space on the first, ArrowDown to the second.
  await tabTo('input[name="identity_document"]');
  await page.keyboard.press('Space');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.isChecked('#field-identity_document-drivers_license'), true, '運転免許証');
  await tabTo('form#identity button[type="submit"]');
  response = await enter();
  assert.equal(response.status(), 200);
  const text = await page.textContent('main');
  assert.match(text, /\d{4}-\d{4}-\d{4}/, 'a receipt number');

  // The case shows the check, with the clerk and the time.
  await tabTo('main a[href*="/staff/cases/"]');
  response = await enter();
  assert.equal(response.status(), 200);
  const panel = await page.textContent('[data-identity-check]');
  assert.match(panel, /運転免許証、確認者：窓口 担当、/);
  assert.ok((await page.textContent('main')).includes('本人確認をしました'), 'in the history');
  await context.close();
});

for (const lang of ['ja', 'en']) {
  test(`axe (${lang}): every page of the same flow`, async () => {
    const { page, context } = await newPage(browser, { storageState: clerkState });
    await page.goto(url(`/t/${T}/staff/assist?lang=${lang}`));
    await page.selectOption('#field-procedure', 'inkan-toroku');
    await page.fill('#q-kana', 'すわ だいすけ');
    await submitVia(page, 'form[method="get"] button[type="submit"]');
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    await expectNoAxeViolations(assert, page, `${lang} start page with results`);
    await submitVia(page, 'main table form button[type="submit"]');
    const entry = new URL(page.url()).pathname;
    await expectNoAxeViolations(assert, page, `${lang} entry pre-filled`);
    let response = await submitVia(page, 'main form.form button[type="submit"]');
    assert.equal(response.status(), 422);
    await expectNoAxeViolations(assert, page, `${lang} entry with errors`);
    await page.check('input[name="method"][value="photo_id"]');
    await page.check('input[name="proxy"][value="self"]');
    await submitVia(page, 'main form.form button[type="submit"]');
    await expectNoAxeViolations(assert, page, `${lang} entry complete`);
    await context.request.get(url(`${entry}/application.pdf`));
    await page.goto(url(`${entry}?lang=${lang}`));
    await submitVia(page, 'form[action$="/paper"] button[type="submit"]');
    await expectNoAxeViolations(assert, page, `${lang} confirm step`);
    response = await submitVia(page, 'form#identity button[type="submit"]');
    assert.equal(response.status(), 422);
    await expectNoAxeViolations(assert, page, `${lang} confirm step without the document`);
    await page.check('input[name="identity_document"][value="passport"]');
    await submitVia(page, 'form#identity button[type="submit"]');
    await expectNoAxeViolations(assert, page, `${lang} entry filed`);
    await submitVia(page, 'main a[href*="/staff/cases/"]');
    assert.equal(await page.locator('[data-identity-check]').count(), 1);
    await expectNoAxeViolations(assert, page, `${lang} the case with its identity check`);
    await context.close();
  });
}
