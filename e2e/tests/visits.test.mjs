// One-stop life-event visits (回らない窓口, 四日市市): a clerk takes a visit
// at the desk and the resident is sent round the departments with a
// routing sheet.
//
// - axe-core (WCAG 2.0/2.1 A and AA) finds nothing, in Japanese and in
//   English, on the life-event chooser, the intake form (with the register's
//   search results), the form shown again with errors (422), the review, the
//   visit right after 受付 and the list of visits. The routing sheet is a
//   PDF.
// - Keyboard only: the clerk chooses a life event, answers its questions,
//   types the resident's name, picks the identity document, reviews and
//   registers the visit with Tab, arrow keys, Space, typing and Enter.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, staffSignIn, YOKKAICHI,
} from '../lib.mjs';

const T = YOKKAICHI;

let browser;
/** One clerk of 市民課, signed in once for the whole file (each sign-in uses a TOTP step). */
let clerk;

before(async () => {
  browser = await launch();
  clerk = await newPage(browser);
  await staffSignIn(clerk.page, T, 'clerk');
});

after(async () => {
  await browser?.close();
});

for (const lang of ['ja', 'en']) {
  describe(`visits, axe, ${lang}`, () => {
    async function expectLang(what) {
      assert.equal(await clerk.page.getAttribute('html', 'lang'), lang, `html lang of ${what}`);
    }

    test('life-event chooser', async () => {
      const { page } = clerk;
      const response = await page.goto(url(`/t/${T}/staff/visits/new?lang=${lang}`));
      assert.equal(response.status(), 200);
      await expectLang('the chooser');
      for (const code of ['moving-in', 'moving-out', 'birth', 'death', 'marriage']) {
        assert.equal(await page.locator(`input[name="life_event"][value="${code}"]`).count(), 1, code);
      }
      await expectNoAxeViolations(assert, page, `${lang} life-event chooser`);
    });

    test('intake form with the register searched', async () => {
      const { page } = clerk;
      await page.check('input[name="life_event"][value="moving-in"]');
      await submitVia(page, 'main form[method="get"] button[type="submit"]');
      assert.equal(new URL(page.url()).searchParams.get('life_event'), 'moving-in');
      await page.fill('#search-kana', 'スワ');
      await submitVia(page, 'form[aria-labelledby="search-heading"] button[type="submit"]');
      assert.ok(await page.locator('input[name="registry_id"][value="2000101"]').count() === 1,
        '諏訪 大輔 is found in the register');
      await expectLang('the intake form');
      await expectNoAxeViolations(assert, page, `${lang} intake form with register results`);
    });

    test('intake sent without answers: 422 with error summary', async () => {
      const { page } = clerk;
      const response = await submitVia(page, 'form[action$="/staff/visits/preview"] button[type="submit"]');
      assert.equal(response.status(), 422);
      const links = await page.$$eval('.error-summary a', (as) => as.map((a) => a.getAttribute('href')));
      assert.ok(links.includes('#field-document'), `the identity document is asked for: ${links}`);
      assert.ok(links.includes('#field-q_has_children'), `the questions are asked: ${links}`);
      for (const href of links) {
        assert.equal(await page.locator(href).count(), 1, `the error link ${href} leads to a field`);
      }
      await expectNoAxeViolations(assert, page, `${lang} intake form with errors`);
    });

    test('review, then 受付 and the visit', async () => {
      const { page } = clerk;
      for (const [q, a] of [
        ['has_my_number_card', 'yes'], ['joins_nhi', 'no'], ['has_children', 'yes'],
        ['public_servant', 'no'], ['school_children', 'no'], ['registers_seal', 'no'],
        ['becomes_nenkin_1go', 'no'], ['koki_from_other_pref', 'no'], ['care_certified', 'no'],
        ['child_medical', 'yes'], ['single_parent', 'no'], ['needs_daycare', 'no'],
        ['has_dog', 'no'], ['has_techo', 'no'], ['has_moped', 'no'],
      ]) {
        await page.check(`input[name="q_${q}"][value="${a}"]`);
      }
      await page.check('input[name="registry_id"][value="2000101"]');
      await page.check('input[name="document"][value="passport"]');
      await submitVia(page, 'form[action$="/staff/visits/preview"] button[type="submit"]');
      assert.equal(new URL(page.url()).pathname, `/t/${T}/staff/visits/preview`);
      const procedures = await page.locator('ol[data-visit-plan] > li').count();
      assert.equal(procedures, 5, '転入届, card update, 児童手当, 子ども医療費, vaccination forms');
      await expectLang('the review');
      await expectNoAxeViolations(assert, page, `${lang} review`);

      await submitVia(page, `form[action="/t/${T}/staff/visits"] button[type="submit"]`);
      const at = new URL(page.url());
      assert.match(at.pathname, new RegExp(`^/t/${T}/staff/visits/[0-9a-f]+$`));
      assert.equal(at.searchParams.get('new'), '1');
      assert.equal(await page.locator('.notice[role="status"]').count(), 1, 'the visit says it was registered');
      assert.equal(await page.locator('tbody tr').count(), 5, 'one row per procedure');
      const pdf = await page.request.get(url(`${at.pathname}/routing.pdf`));
      assert.equal(pdf.status(), 200);
      assert.equal(pdf.headers()['content-type'], 'application/pdf');
      await expectLang('the visit');
      await expectNoAxeViolations(assert, page, `${lang} visit after 受付`);
    });

    test('a case of the visit shows the identity check done at the desk', async () => {
      const { page } = clerk;
      const visitPath = new URL(page.url()).pathname;
      await submitVia(page, 'tbody tr[data-procedure="tennyu"] a');
      assert.match(new URL(page.url()).pathname, new RegExp(`^/t/${T}/staff/cases/\\d+$`));
      const panel = page.locator('[data-identity-check]');
      assert.match(await panel.textContent(), lang === 'ja' ? /パスポート/ : /Passport/);
      assert.equal(await panel.locator(`a[href="${visitPath}"]`).count(), 1, 'a link back to the visit');
      await expectNoAxeViolations(assert, page, `${lang} case opened at a visit`);
    });

    test('list of visits', async () => {
      const { page } = clerk;
      const response = await page.goto(url(`/t/${T}/staff/visits`));
      assert.equal(response.status(), 200);
      assert.ok(await page.locator('tbody tr').count() >= 1);
      await expectLang('the list');
      await expectNoAxeViolations(assert, page, `${lang} list of visits`);
    });
  });
}

test('keyboard only: a おくやみ visit from the chooser to 受付', async () => {
  const { page } = clerk;
  const stops = [];
  async function move(key) {
    await page.keyboard.press(key);
    const f = await page.evaluate(() => {
      const el = document.activeElement;
      const r = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      return {
        tag: el.tagName.toLowerCase(),
        desc: `${el.tagName.toLowerCase()}#${el.id} ${(el.getAttribute('name') || '')} ${(el.textContent || '').trim().slice(0, 30)}`,
        visible: r.width > 0 && r.height > 0,
        outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0,
      };
    });
    stops.push(`${key} -> ${f.desc}`);
    assert.notEqual(f.tag, 'body', `${key} moved focus to nothing:\n${stops.join('\n')}`);
    assert.ok(f.visible && f.outline, `focus not visible: ${f.desc}`);
  }
  async function tabTo(selector, max = 60) {
    for (let i = 0; i < max; i++) {
      await move('Tab');
      if (await page.evaluate((s) => document.activeElement.matches(s), selector)) return;
    }
    assert.fail(`no Tab stop on ${selector}:\n${stops.slice(-max).join('\n')}`);
  }
  async function enter() {
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
  }
  const checked = (sel) => page.evaluate((s) => document.querySelector(s).checked, sel);

  await page.goto(url(`/t/${T}/staff/visits/new?lang=ja`));
  // The chooser: the first life event is chosen; arrow keys move the choice.
  await tabTo('input[name="life_event"]:checked');
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
  assert.ok(await checked('input[name="life_event"][value="death"]'), 'ArrowDown reached おくやみ');
  await tabTo('main form button[type="submit"]');
  await enter();
  assert.equal(new URL(page.url()).searchParams.get('life_event'), 'death');

  // Questions: Space answers はい; ArrowDown from the unanswered group
  // answers いいえ. Every question needs an answer.
  const yes = ['deceased_nhi', 'deceased_over_65'];
  const questions = [
    'deceased_head', 'deceased_nhi', 'deceased_koki', 'deceased_over_65', 'deceased_pension',
    'deceased_nenkin_1go', 'has_child_under_18', 'spouse_dependent', 'received_jido_teate',
    'had_inkan', 'had_mynumber_card', 'owned_property', 'had_techo', 'had_dog', 'had_moped',
  ];
  for (const q of questions) {
    await tabTo(`#field-q_${q}`);
    if (yes.includes(q)) {
      await page.keyboard.press('Space');
      assert.ok(await checked(`#field-q_${q}`), `${q}: はい`);
    } else {
      await page.keyboard.press('ArrowDown');
      assert.ok(await checked(`#field-q_${q}-no`), `${q}: いいえ`);
    }
  }

  // The resident, typed (日永 茂 as the person reporting the death).
  await tabTo('#field-name');
  await page.keyboard.type('日永 節子');
  await tabTo('#field-kana');
  await page.keyboard.type('ひなが せつこ');
  // The identity document: the first option with Space, then 運転免許証.
  await tabTo('input[name="document"]');
  await page.keyboard.press('Space');
  await page.keyboard.press('ArrowDown');
  assert.ok(await checked('#field-document-drivers_license'), '運転免許証');
  await tabTo('form[action$="/staff/visits/preview"] button[type="submit"]');
  await enter();
  assert.equal(new URL(page.url()).pathname, `/t/${T}/staff/visits/preview`, 'the review');
  assert.equal(
    await page.locator('ol[data-visit-plan] > li').count(),
    6,
    '死亡届, 戸籍の証明, 住民票の写し, 国保, 葬祭費, 介護保険',
  );

  await tabTo(`form[action="/t/${T}/staff/visits"] button[type="submit"]`);
  await enter();
  assert.match(new URL(page.url()).pathname, new RegExp(`^/t/${T}/staff/visits/[0-9a-f]+$`));
  assert.match(await page.textContent('main h1'), /日永\u3000節子/);
  assert.match(await page.textContent('[data-identity-check]'), /運転免許証/);
});
