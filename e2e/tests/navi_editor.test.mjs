// 手続ナビの編集 (四街道市): staff edit the navigator's questionnaires.
//
// - axe-core finds nothing on the list of life events, the editor of a
//   life event, the editor shown again with errors, a new life event, and
//   the preview (questions and list) in Japanese and English.
// - Keyboard only: a new life event is made (code, name, a question added
//   with its button, a procedure chosen with the arrow keys and its
//   condition), saved and previewed, and the preview answered, with Tab,
//   typing, arrow keys, Space and Enter.
// - Without JavaScript: the same editor works by whole-form submits (add a
//   question, save a draft, preview).
// Drafts made here are discarded at the end: nothing is published, so the
// other browser tests see the demo's life events unchanged.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, staffSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
const RUN = Date.now().toString(36);

let browser;
/** dx-admin (system administrator), signed in once for the whole file. */
let admin;

before(async () => {
  browser = await launch();
  admin = await newPage(browser);
  await staffSignIn(admin.page, T, 'dx-admin');
});

after(async () => {
  await browser?.close();
});

/** Presses Tab until the focused element matches `selector`. */
async function tabTo(page, selector, max = 200) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${selector}`);
}

async function enter(page) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
}

async function discard(page, code) {
  await page.goto(url(`/t/${T}/staff/navi/${code}`));
  await submitVia(page, 'button[name="op"][value="discard"]');
}

for (const lang of ['ja', 'en']) {
  test(`navigator editor and preview, axe, ${lang}`, async () => {
    const { page } = admin;
    await page.goto(url(`/t/${T}/staff/navi?lang=${lang}`));
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    await expectNoAxeViolations(assert, page, `navigator editor list (${lang})`);
    await page.goto(url(`/t/${T}/staff/navi/moving-in`));
    assert.ok(await page.locator('select[name="i1_when"]').count() === 1, 'the editor shows the items');
    await expectNoAxeViolations(assert, page, `navigator editor of moving-in (${lang})`);
    // Errors: the Japanese name emptied; the summary links to the field.
    await page.fill('#field-name_ja', '');
    await submitVia(page, 'button[name="op"][value="save"]');
    assert.ok(await page.locator('.error-summary a[href="#field-name_ja"]').count() === 1);
    await expectNoAxeViolations(assert, page, `navigator editor with errors (${lang})`);
    // A new life event, saved and previewed.
    const code = `e2e-axe-${lang}-${RUN}`;
    await page.goto(url(`/t/${T}/staff/navi/new`));
    await expectNoAxeViolations(assert, page, `new life event (${lang})`);
    await page.fill('#field-code', code);
    await page.fill('#field-name_ja', 'ブラウザテスト');
    await submitVia(page, 'button[name="op"][value="add_question"]');
    // The new question can be chosen as a condition at once; renaming
    // it keeps the condition.
    await page.selectOption('#field-i0_when', 'question_1');
    await page.fill('#field-q0_code', 'is_test');
    await page.fill('#field-q0_text_ja', 'テストですか');
    await page.selectOption('#field-i0_procedure', 'tennyu');
    await page.fill('#field-i0_note_ja', '注意書きの例');
    await submitVia(page, 'button[name="op"][value="preview"]');
    assert.match(new URL(page.url()).pathname, new RegExp(`/staff/navi/${code}/preview$`));
    await expectNoAxeViolations(assert, page, `preview questions (${lang})`);
    await page.check('input[name="is_test"][value="yes"]');
    await submitVia(page, 'main form[method="get"] button[type="submit"]');
    assert.ok((await page.textContent('main')).includes('注意書きの例'), 'the draft in the preview list');
    await expectNoAxeViolations(assert, page, `preview result (${lang})`);
    // Residents do not see it.
    const resident = await newPage(browser);
    const r = await resident.page.goto(url(`/t/${T}/navi/${code}`));
    assert.equal(r.status(), 404);
    await resident.context.close();
    await discard(page, code);
    await page.goto(url(`/t/${T}/staff/navi?lang=ja`));
  });
}

test('navigator editor by keyboard alone', async () => {
  const { page } = admin;
  const code = `e2e-kb-${RUN}`;
  await page.goto(url(`/t/${T}/staff/navi/new?lang=ja`));
  await page.locator('#main').focus();
  await tabTo(page, '#field-code');
  await page.keyboard.type(code);
  await tabTo(page, '#field-name_ja');
  await page.keyboard.type('キーボードで作成');
  await tabTo(page, 'button[value="add_question"]');
  await enter(page);
  await page.locator('#main').focus();
  await tabTo(page, '#field-q0_code');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('by_keyboard');
  await tabTo(page, '#field-q0_text_ja');
  await page.keyboard.type('キーボードだけで操作しますか');
  await tabTo(page, '#field-i0_procedure');
  await page.keyboard.press('ArrowDown');
  assert.notEqual(await page.inputValue('#field-i0_procedure'), '', 'a procedure chosen');
  await tabTo(page, '#field-i0_when');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.inputValue('#field-i0_when'), 'question_1', 'the new question, by the code it was given');
  await tabTo(page, 'button[value="preview"]');
  await enter(page);
  assert.match(new URL(page.url()).pathname, new RegExp(`/staff/navi/${code}/preview$`));
  await page.locator('#main').focus();
  await tabTo(page, 'input[name="by_keyboard"]');
  await page.keyboard.press('Space');
  assert.ok(await page.isChecked('input[name="by_keyboard"][value="yes"]'));
  await tabTo(page, 'main form[method="get"] button[type="submit"]');
  await enter(page);
  assert.match(new URL(page.url()).pathname, /\/preview\/result$/);
  assert.equal(await page.locator('.navi-step').count(), 1, 'the chosen procedure is listed');
  // Discard the draft by keyboard too.
  await page.goto(url(`/t/${T}/staff/navi/${code}`));
  await page.locator('#main').focus();
  await tabTo(page, 'button[value="discard"]');
  await enter(page);
  assert.match(new URL(page.url()).pathname, new RegExp(`/staff/navi$`));
});

test('navigator editor without JavaScript (a department administrator)', async () => {
  const { page, context } = await newPage(browser, { javaScriptEnabled: false });
  await staffSignIn(page, T, 'kodomo');
  const code = `e2e-nojs-${RUN}`;
  await page.goto(url(`/t/${T}/staff/navi/new?lang=ja`));
  await page.fill('#field-code', code);
  await page.fill('#field-name_ja', 'スクリプトなし');
  await submitVia(page, 'button[name="op"][value="add_question"]');
  assert.equal(await page.inputValue('#field-code'), code, 'what was typed is kept');
  await page.fill('#field-q0_code', 'no_script');
  await page.fill('#field-q0_text_ja', 'スクリプトなしですか');
  await submitVia(page, 'button[name="op"][value="add_item"]');
  assert.equal(await page.locator('select[name="i1_procedure"]').count(), 1, 'a second procedure row');
  await submitVia(page, 'button[name="op"][value="remove_item-1"]');
  assert.equal(await page.locator('select[name="i1_procedure"]').count(), 0, 'removed again');
  await page.selectOption('#field-i0_procedure', 'jido-teate');
  await page.selectOption('#field-i0_unless', 'no_script');
  await submitVia(page, 'button[name="op"][value="save"]');
  assert.match(page.url(), new RegExp(`/staff/navi/${code}\\?saved=draft$`));
  assert.ok(await page.locator('.notice--success').count() === 1);
  await page.goto(url(`/t/${T}/staff/navi/${code}/preview/result?no_script=no`));
  assert.equal(await page.locator('.navi-step').count(), 1);
  await discard(page, code);
  await context.close();
});
