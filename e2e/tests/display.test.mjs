// Display settings (text size, high contrast, furigana): set by keyboard
// alone and without JavaScript, kept across pages; with furigana on and
// with high contrast on, a representative set of citizen pages passes axe
// (high contrast also axe's AAA contrast rule, 7:1); with the largest text
// at 375 px, and at the width of 200 % zoom (also with large text and high
// contrast), a representative set of pages of both municipalities reflows
// without sideways scrolling in Japanese, easy Japanese (furigana) and
// Vietnamese (measured by expectNoHorizontalScroll in e2e/lib.mjs; with
// E2E_SCREENSHOTS=1 each page leaves a screenshot in e2e/test-results/display/).
// In easy Japanese the content of those pages (and of 四日市市's portal, a
// procedure, 手続きナビ and the FAQ) is easy Japanese: nothing is marked
// 「ふつうの にほんご」.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, axeEnhancedContrast, formatViolations,
  expectNoHorizontalScroll, residentSignIn, YOTSUKAIDO, YOKKAICHI,
} from '../lib.mjs';

const T = YOTSUKAIDO;
const OUT = fileURLToPath(new URL('../test-results/display/', import.meta.url));
const NAVI_ANSWERS = 'has_my_number_card=no&joins_nhi=yes&has_children=yes&public_servant=no&school_children=yes&registers_seal=yes&becomes_nenkin_1go=yes&koki_from_other_pref=no&care_certified=no&child_medical=yes&single_parent=no&needs_daycare=yes&has_dog=yes&has_techo=no&has_moped=no';

/**
 * A representative set of a municipality's pages: [name, path, a resident
 * signs in first, checked with axe (the others only for reflow: axe takes
 * seconds a page)].
 */
const pagesOf = (t) => [
  ['home', `/t/${t}`, false, true],
  ['list', `/t/${t}/procedures?event=moving`, false, false],
  ['detail', `/t/${t}/procedures/juminhyo-copy`, false, true],
  ['navi questions', `/t/${t}/navi/moving-in`, false, true],
  ['navi result', `/t/${t}/navi/moving-in/result?${NAVI_ANSWERS}`, false, true],
  ['kiosk', `/t/${t}/counter`, false, false],
  ['board', `/t/${t}/counter/board`, false, false],
  ['congestion', `/t/${t}/counter/congestion`, false, true],
  ['sign-in', `/t/${t}/sign-in?need=my_number_card&return_to=${encodeURIComponent(`/t/${t}/procedures/juminhyo-copy/apply`)}`, false, false],
  ['apply form', `/t/${t}/procedures/juminhyo-copy/apply`, true, true],
];
const PAGES = pagesOf(T);

let browser;
before(async () => {
  await mkdir(OUT, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); });

/** A browser context with display settings already chosen (their cookies). */
async function withSettings(settings, options = {}) {
  const ctx = await newPage(browser, options);
  await ctx.context.addCookies(Object.entries(settings).map(([name, value]) => ({ name, value, url: url('/') })));
  return ctx;
}

async function noSidewaysScroll(page, label) {
  if (process.env.E2E_SCREENSHOTS) {
    await page.screenshot({ path: `${OUT}${label.replace(/[^a-z0-9-]+/gi, '-')}.png`, fullPage: true });
  }
  await expectNoHorizontalScroll(page, label);
}

for (const [label, settings, lang] of [
  ['furigana, ja', { mdg_furigana: 'on' }, 'ja'],
  ['furigana, vi (over the Japanese shown untranslated)', { mdg_furigana: 'on' }, 'vi'],
  ['easy Japanese (furigana by default)', {}, 'ja-x-easy'],
  ['high contrast, ja', { mdg_contrast: 'high' }, 'ja'],
  ['high contrast and largest text, pt-BR', { mdg_contrast: 'high', mdg_text: 'larger' }, 'pt-BR'],
]) {
  describe(`axe with ${label}`, () => {
    let ctx;
    let signedIn = false;
    before(async () => {
      ctx = await withSettings(settings);
      await ctx.page.goto(url(`/?lang=${lang}`));
    });
    after(async () => { await ctx?.context.close(); });

    for (const [what, path, signIn] of PAGES.filter((p) => p[3])) {
      test(what, async () => {
        const { page } = ctx;
        if (signIn && !signedIn) {
          await residentSignIn(page, T);
          signedIn = true;
        }
        const response = await page.goto(url(path));
        assert.equal(response.status(), 200);
        if ((settings.mdg_furigana === 'on' && lang === 'ja') || lang === 'ja-x-easy') {
          assert.ok(await page.locator('main ruby rt').count() > 0, `${what}: furigana shown`);
        }
        if (lang === 'ja-x-easy') {
          // Its content is in easy Japanese: nothing marked 「ふつうの にほんご」.
          assert.equal(await page.locator('.ja-only').count(), 0, `${what}: content in easy Japanese`);
        }
        if (settings.mdg_contrast === 'high') {
          assert.match(await page.getAttribute('html', 'class'), /contrast-high/);
          const { violations } = await axeEnhancedContrast(page);
          assert.deepEqual(violations, [], formatViolations(`${label} ${what} (7:1)`, violations));
        }
        await expectNoAxeViolations(assert, page, `${label} ${what}`);
      });
    }
  });
}

test('easy Japanese content of 四日市市: portal, a procedure, 手続きナビ, FAQ; nothing marked, axe-clean', async () => {
  const { page, context } = await newPage(browser);
  try {
    for (const [what, path] of [
      ['portal', `/t/${YOKKAICHI}`],
      ['procedure', `/t/${YOKKAICHI}/procedures/tennyu`],
      ['navi questions', `/t/${YOKKAICHI}/navi/moving-in`],
      ['navi result', `/t/${YOKKAICHI}/navi/moving-in/result?${NAVI_ANSWERS}`],
      ['FAQ', `/t/${YOKKAICHI}/faq`],
    ]) {
      const sep = path.includes('?') ? '&' : '?';
      const response = await page.goto(url(`${path}${sep}lang=ja-x-easy`));
      assert.equal(response.status(), 200, what);
      assert.equal(await page.getAttribute('html', 'lang'), 'ja');
      if (what !== 'FAQ') {
        // (The FAQ list also shows the entries after the first 20.)
        assert.equal(await page.locator('.ja-only').count(), 0, `${what}: content in easy Japanese`);
      }
      await expectNoAxeViolations(assert, page, `easy Japanese ${YOKKAICHI} ${what}`);
    }
    // The procedure's heading is its easy name.
    await page.goto(url(`/t/${YOKKAICHI}/procedures/tennyu?lang=ja-x-easy`));
    const h1 = await page.$eval('h1', (h) => {
      const c = h.cloneNode(true);
      c.querySelectorAll('rt, rp').forEach((x) => x.remove());
      return c.textContent;
    });
    assert.equal(h1, '転入届（ほかの 市から ひっこして きた）');
  } finally {
    await context.close();
  }
});

test('furigana: ruby for 住民票 on the detail page, text only', async () => {
  const { page, context } = await withSettings({ mdg_furigana: 'on' });
  try {
    await page.goto(url(`/t/${T}/procedures/juminhyo-copy?lang=ja`));
    const rubies = await page.$$eval('h1 ruby', (rs) => rs.map((r) => [r.firstChild.textContent, r.querySelector('rt').textContent]));
    assert.ok(rubies.some(([base, rt]) => base === '住民票' && rt === 'じゅうみんひょう'), JSON.stringify(rubies));
    assert.equal(await page.title(), (await page.title()).replace(/[ぁ-ん]{8,}/, ''), 'no readings in the title');
    // What the page says is unchanged, readings aside.
    const h1 = await page.$eval('h1', (h) => {
      const c = h.cloneNode(true);
      c.querySelectorAll('rt, rp').forEach((x) => x.remove());
      return c.textContent;
    });
    assert.equal(h1, '住民票の写しの交付請求');
  } finally {
    await context.close();
  }
});

test('settings by keyboard alone: text size, high contrast, furigana; kept across pages', async () => {
  const { page, context } = await newPage(browser);
  try {
    await page.goto(url(`/t/${T}/procedures?lang=ja`));
    async function tabTo(predicate, what) {
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate(predicate)) return;
      }
      assert.fail(`Tab never reaches ${what}`);
    }
    // The settings are a disclosure: open it with Enter.
    await tabTo(() => document.activeElement?.classList.contains('display-prefs__summary'), 'the display settings');
    await page.keyboard.press('Enter');
    await tabTo(() => document.activeElement?.getAttribute('value') === 'larger', 'the largest text size');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.equal(new URL(page.url()).pathname, `/t/${T}/procedures`, 'back on the same page');
    assert.match(await page.getAttribute('html', 'class'), /text-larger/);
    assert.equal(await page.getAttribute('button[name="text_size"][value="larger"]', 'aria-pressed'), 'true');
    const rootSize = await page.evaluate(() => getComputedStyle(document.documentElement).fontSize);
    assert.equal(rootSize, '24px', 'text at 150 %');

    // Open (a setting is changed), so the next buttons are in reach.
    await tabTo(() => document.activeElement?.getAttribute('name') === 'contrast', 'high contrast');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.match(await page.getAttribute('html', 'class'), /contrast-high/);

    await tabTo(() => document.activeElement?.getAttribute('name') === 'furigana', 'furigana');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.ok(await page.locator('main ruby').count() > 0, 'furigana shown');

    // Kept on another page.
    await page.goto(url(`/t/${T}/navi`));
    assert.equal(await page.getAttribute('html', 'class'), 'text-larger contrast-high');
    assert.ok(await page.locator('main ruby').count() > 0);
  } finally {
    await context.close();
  }
});

test('without JavaScript the settings form works', async () => {
  const { page, context } = await newPage(browser, { javaScriptEnabled: false });
  try {
    await page.goto(url(`/t/${T}/navi/moving-in?lang=en`));
    await page.click('.display-prefs__summary');
    await submitVia(page, 'button[name="text_size"][value="large"]');
    assert.equal(new URL(page.url()).pathname, `/t/${T}/navi/moving-in`);
    assert.equal(await page.getAttribute('html', 'class'), 'text-large');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
  } finally {
    await context.close();
  }
});

describe('reflow: largest text at 375 px, and 200 % zoom of a 1280 px window', () => {
  for (const [label, options, settings] of [
    ['largest text, 375px', { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true }, { mdg_text: 'larger' }],
    ['200 % zoom', { viewport: { width: 640, height: 450 } }, {}],
    ['200 % zoom, large text, high contrast', { viewport: { width: 640, height: 450 } }, { mdg_text: 'large', mdg_contrast: 'high' }],
  ]) {
    // Easy Japanese has furigana over every kanji: ruby makes words wider.
    for (const lang of ['ja', 'ja-x-easy', 'vi']) {
      for (const tenant of [YOTSUKAIDO, YOKKAICHI]) {
        test(`${label}, ${lang}, ${tenant}`, async () => {
          const { page, context } = await withSettings(settings, options);
          try {
            for (const [what, path, signIn] of pagesOf(tenant)) {
              if (signIn) await residentSignIn(page, tenant);
              const sep = path.includes('?') ? '&' : '?';
              await page.goto(url(`${path}${sep}lang=${lang}`));
              assert.equal(new URL(page.url()).pathname, new URL(url(path)).pathname, `${what} is shown`);
              await noSidewaysScroll(page, `${label}-${lang}-${tenant}-${what}`);
            }
          } finally {
            await context.close();
          }
        });
      }
    }
  }
});
