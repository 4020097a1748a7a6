// フォームビルダー (四街道市): staff build a procedure's form field by field.
//
// - axe-core finds nothing on the builder, a field's form (new, with
//   errors, editing), the delete confirmation and the preview, in Japanese
//   and English, and none of them scrolls sideways at 375 px.
// - With JavaScript, the preview of a field follows what is typed.
// - A form shared as a template is listed with its city (then unshared).
// - Keyboard only and without JavaScript: the form of よめーる登録 is
//   emptied through the JSON box, three fields are added (a choice, a
//   field shown only for one of its values, a checkbox), the draft is
//   previewed and published; then a resident, also without JavaScript and
//   by keyboard, submits the new form and gets a receipt number.
// At the end the procedure's earlier version is restored, so the other
// browser tests see the demo's form unchanged.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, expectNoHorizontalScroll,
  staffSignIn, RECEIPT_RE, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
const P = 'yomail-toroku';
const BUILDER = `/t/${T}/staff/catalogue/${P}/form`;

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

/** Presses Tab until the focused element matches `selector`. */
async function tabTo(page, selector, max = 300) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${selector}`);
}

async function enter(page) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
}

async function typeInto(page, selector, text) {
  await tabTo(page, selector);
  await page.keyboard.type(text);
}

/** Adds a field of the type at `index` in the type list, by keyboard. */
async function addKind(page, index) {
  await tabTo(page, '#field-fb-add-kind');
  await page.keyboard.press('Home');
  for (let i = 0; i < index; i++) await page.keyboard.press('ArrowDown');
  await tabTo(page, 'form[action$="/form/add"] button[type="submit"]');
  await enter(page);
}

async function saveField(page) {
  await tabTo(page, 'form[data-builder-form] button[type="submit"]');
  await enter(page);
}

for (const lang of ['ja', 'en']) {
  test(`form builder pages pass axe and fit 375 px, ${lang}`, async () => {
    const { page, context } = await newPage(browser, { viewport: { width: 375, height: 800 } });
    await staffSignIn(page, T, 'dx-admin');
    const check = async (label) => {
      await expectNoAxeViolations(assert, page, `${label} (${lang})`);
      await expectNoHorizontalScroll(page, `${label} (${lang})`);
    };
    await page.goto(url(`/t/${T}/staff/catalogue/shimin-no-koe/form?lang=${lang}`));
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    await check('form builder');
    await page.goto(url(`${BUILDER.replace(P, 'shimin-no-koe')}/add?kind=choice`));
    await check('new choice field');
    // With JavaScript the preview follows what is typed.
    await page.fill('#field-fb-label-ja', 'テストの選択');
    await page.fill('#field-fb-options-ja', 'a=いちばん\nb=にばん');
    await page.waitForFunction(() => document.querySelector('#live-preview')?.textContent.includes('にばん'));
    assert.match(await page.textContent('#live-preview'), /テストの選択/);
    await page.fill('#field-fb-name', 'Bad Name');
    await submitVia(page, 'form[data-builder-form] button[type="submit"]');
    assert.equal(await page.locator('.error-summary a[href="#field-fb-name"]').count(), 1);
    await check('new field with errors');
    await page.goto(url(`${BUILDER.replace(P, 'shimin-no-koe')}/fields/reply_email`));
    await check('editing a conditional field');
    await page.goto(url(`${BUILDER.replace(P, 'shimin-no-koe')}/fields/topic/delete`));
    await check('delete confirmation');
    await page.goto(url(`${BUILDER.replace(P, 'shimin-no-koe')}/preview`));
    await check('preview');
    // Shared as a template, listed, then no longer shared.
    await page.goto(url(BUILDER.replace(P, 'shimin-no-koe')));
    await page.fill('#field-fb-template-name', `市民の声 ${lang}`);
    await submitVia(page, 'form[action$="/form/share"] button');
    assert.match(await page.textContent('#shared-status'), new RegExp(`市民の声 ${lang}`));
    await page.goto(url(`${BUILDER.replace(P, 'shimin-no-koe')}/templates`));
    assert.match(await page.textContent('main'), /提供：四街道市|From Yotsukaido/);
    await check('shared templates');
    await page.goto(url(BUILDER.replace(P, 'shimin-no-koe')));
    await submitVia(page, 'form[action$="/form/unshare"] button');
    await context.close();
  });
}

test('keyboard only, without JavaScript: build, publish, and a resident submits', async () => {
  const { page, context } = await newPage(browser, { javaScriptEnabled: false });
  await staffSignIn(page, T, 'dx-admin');
  await page.goto(url(BUILDER));
  const before = await page.textContent('#draft-status');
  const liveVersion = Number(before.match(/第(\d+)版/)[1]);

  // The power users' box: the form emptied.
  await tabTo(page, '#json-box > summary');
  await page.keyboard.press('Enter');
  await tabTo(page, '#field-fb-json');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('{"fields": []}');
  await tabTo(page, 'form[action$="/form/json"] button[type="submit"]');
  await enter(page);
  assert.match(await page.textContent('[role="status"]'), /JSONを下書きに読み込みました。/);

  // A choice (the 4th type), required.
  await addKind(page, 3);
  assert.match(await page.textContent('h1'), /項目の追加（選択肢（1つ選ぶ））/);
  await typeInto(page, '#field-fb-name', 'contact');
  await typeInto(page, '#field-fb-label-ja', '連絡方法');
  await tabTo(page, '#field-fb-required');
  await page.keyboard.press('Space');
  await typeInto(page, '#field-fb-options-ja', 'mail=郵便');
  await page.keyboard.press('Enter');
  await page.keyboard.type('other=その他');
  await saveField(page);
  assert.match(await page.textContent('[role="status"]'), /項目を下書きに追加しました。/);

  // A text of several lines, shown only for その他.
  await addKind(page, 1);
  await typeInto(page, '#field-fb-name', 'contact_other');
  await typeInto(page, '#field-fb-label-ja', 'その他の連絡方法');
  await tabTo(page, '#field-fb-required');
  await page.keyboard.press('Space');
  await tabTo(page, '#field-fb-show_if');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.inputValue('#field-fb-show_if'), 'contact:other');
  await saveField(page);

  // A checkbox (the 5th type), required.
  await addKind(page, 4);
  await typeInto(page, '#field-fb-name', 'agree');
  await typeInto(page, '#field-fb-label-ja', '内容を確認しました');
  await tabTo(page, '#field-fb-required');
  await page.keyboard.press('Space');
  await saveField(page);
  const names = await page.$$eval('.builder-item code', (cs) => cs.map((c) => c.textContent));
  assert.deepEqual(names, ['contact', 'contact_other', 'agree']);

  // The preview: without JavaScript the condition is written out.
  await tabTo(page, `a[href="${BUILDER}/preview"]`);
  await enter(page);
  assert.match(await page.textContent('[data-field-name="contact_other"] .hint'), /「連絡方法」で「その他」を選んだ場合/);
  await tabTo(page, `a[href="${BUILDER}"]`);
  await enter(page);

  // Publish.
  await tabTo(page, 'form[action$="/form/publish"] button');
  await enter(page);
  assert.match(await page.textContent('[role="status"]'), new RegExp(`第${liveVersion + 1}版として公開しました。`));

  // A resident, by keyboard and without JavaScript.
  const resident = await newPage(browser, { javaScriptEnabled: false });
  const r = resident.page;
  await r.goto(url(`/t/${T}/procedures/${P}/apply`));
  await tabTo(r, 'input[name="contact"]');
  await r.keyboard.press('ArrowDown');
  assert.equal(await r.isChecked('input[name="contact"][value="other"]'), true);
  await typeInto(r, 'textarea[name="contact_other"]', '電話でお願いします');
  await tabTo(r, 'input[name="agree"]');
  await r.keyboard.press('Space');
  await tabTo(r, 'button[name="_action"][value="review"]');
  await enter(r);
  assert.match(await r.textContent('main'), /電話でお願いします/);
  await tabTo(r, 'main form button[type="submit"]');
  await enter(r);
  assert.match((await r.textContent('.panel__ref')).trim(), RECEIPT_RE);
  await resident.context.close();

  // Back to the demo's form: the earlier version restored.
  await page.goto(url(`/t/${T}/staff/catalogue/${P}`));
  await submitVia(page, `form[action$="/restore"]:has(input[name="restore_version"][value="${liveVersion}"]) button`);
  await context.close();
});
