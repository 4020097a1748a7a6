// The languages beyond Japanese and English: the counter pages a resident
// sees (kiosk, a ticket, the board, congestion) pass axe in each of them
// (counter.test.mjs covers Japanese and English with a clerk); content
// without a translation is shown in Japanese, in lang="ja", marked in the
// page's language; the language switch works by keyboard alone and
// without JavaScript, and the choice is kept.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, YOTSUKAIDO, LANGS, htmlLang,
} from '../lib.mjs';

const T = YOTSUKAIDO;
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const lang of LANGS.filter((l) => l !== 'ja' && l !== 'en')) {
  describe(`counter pages, axe, ${lang}`, () => {
    let ctx;
    before(async () => {
      ctx = await newPage(browser);
      await ctx.page.goto(url(`/?lang=${lang}`));
    });
    after(async () => { await ctx?.context.close(); });

    for (const [what, path] of [
      ['kiosk', `/t/${T}/counter`],
      ['board', `/t/${T}/counter/board`],
      ['congestion', `/t/${T}/counter/congestion`],
      ['congestion of one counter', `/t/${T}/counter/congestion?c=c2`],
    ]) {
      test(what, async () => {
        const response = await ctx.page.goto(url(path));
        assert.equal(response.status(), 200);
        assert.equal(await ctx.page.getAttribute('html', 'lang'), htmlLang(lang));
        await expectNoAxeViolations(assert, ctx.page, `${lang} ${what}`);
      });
    }

    test('a ticket from the kiosk', async () => {
      const { page } = ctx;
      await page.goto(url(`/t/${T}/counter`));
      await submitVia(page, `form[action="/t/${T}/counter/tickets"] button[type="submit"]:not([disabled])`);
      assert.match(new URL(page.url()).pathname, new RegExp(`^/t/${T}/tickets/`));
      assert.equal(await page.getAttribute('html', 'lang'), htmlLang(lang));
      await expectNoAxeViolations(assert, page, `${lang} ticket page`);
    });
  });
}

test('untranslated content: Japanese in lang="ja", marked in the page\'s language', async () => {
  const { page, context } = await newPage(browser);
  try {
    // The demo translates its content into every language; a procedure's
    // description has easy Japanese only for the most used procedures, so
    // 犬の登録's comes in ordinary Japanese, marked in easy Japanese.
    await page.goto(url(`/t/${T}/procedures/inu-toroku?lang=ja-x-easy`));
    const lead = page.locator('p.lead');
    assert.equal(await lead.locator('span[lang="ja"]').count(), 1, 'the description is marked as Japanese');
    const marker = (await lead.locator('.ja-only').textContent()).trim();
    assert.equal(marker, '（ふつうの にほんご）', `the marker is in easy Japanese: ${marker}`);
    assert.equal(await page.locator('h1 .ja-only').count(), 0, 'the name has its easy Japanese');
    await page.goto(url(`/t/${T}/procedures/juminhyo-copy?lang=vi`));
    assert.equal(await page.locator('h1 .ja-only').count(), 0, 'Vietnamese has its translation');
    assert.match(await page.locator('h1').textContent(), /Phiếu cư trú/);
  } finally {
    await context.close();
  }
});

test('language switch by keyboard alone, then kept on other pages', async () => {
  const { page, context } = await newPage(browser);
  try {
    await page.goto(url(`/t/${T}/procedures?event=moving`));
    // Tab from the top of the page to 「Tiếng Việt」 and press Enter.
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(() => document.activeElement?.getAttribute('hreflang') === 'vi');
    }
    assert.ok(found, 'Tab reaches the Vietnamese link');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.equal(await page.getAttribute('html', 'lang'), 'vi');
    const at = new URL(page.url());
    assert.equal(at.searchParams.get('event'), 'moving', 'the page\'s query is kept');
    await page.goto(url(`/t/${T}/navi`));
    assert.equal(await page.getAttribute('html', 'lang'), 'vi', 'kept by the cookie');
    // Each language's name is marked with its language.
    const tags = await page.$$eval('.lang-switch a', (as) => as.map((a) => a.getAttribute('lang')));
    assert.deepEqual(tags, LANGS.map(htmlLang));
  } finally {
    await context.close();
  }
  // Without JavaScript: plain links.
  const nojs = await newPage(browser, { javaScriptEnabled: false });
  try {
    await nojs.page.goto(url(`/t/${T}`));
    await submitVia(nojs.page, '.lang-switch a[hreflang="ko"]');
    assert.equal(await nojs.page.getAttribute('html', 'lang'), 'ko');
  } finally {
    await nojs.context.close();
  }
});
