// On a 375px-wide phone, every citizen page fits the screen, in every
// language and in both municipalities: no horizontal scrolling (WCAG 1.4.10).
// Wide tables (the congestion forecast, the board) scroll inside their own
// labelled region, never the page. Each page is measured with
// expectNoHorizontalScroll (e2e/lib.mjs): the document's scrollWidth, three
// ways, against the 375 px asked for, not against window.innerWidth, which
// mobile emulation widens to the content. The pages are loaded as a phone
// (isMobile, touch) and, in Japanese, also in a 375 px desktop window.
// On a phone the seven languages are one control, and a search's first
// result shows on the first screen (375 × 667, the smallest phone in use).
// A page that fails leaves a full-page screenshot in
// e2e/test-results/width/; with E2E_SCREENSHOTS=1 every page does, in
// e2e/test-results/ (<lang>-<tenant>-<page>.png), for a person to look at.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  launch, newPage, url, submitVia, residentSignIn, fillJuminhyoForm, expectNoHorizontalScroll, expectNoAxeViolations,
  RECEIPT_RE, YOTSUKAIDO, YOKKAICHI, LANGS,
} from '../lib.mjs';

const WIDTH = 375;
const OUT = fileURLToPath(new URL('../test-results/', import.meta.url));

/** A phone, and a desktop window as narrow (no mobile emulation). */
const PHONE = { viewport: { width: WIDTH, height: 812 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
const NARROW_WINDOW = { viewport: { width: WIDTH, height: 812 } };

/**
 * [name, path, whether a resident signs in first (the form needs the My
 * Number card), query, expected HTTP status]
 */
const PAGES = [
  ['home', (t) => `/t/${t}`],
  ['list', (t) => `/t/${t}/procedures`],
  ['detail', (t) => `/t/${t}/procedures/juminhyo-copy`],
  ['sign-in', (t) => `/t/${t}/sign-in`],
  ['apply', (t) => `/t/${t}/procedures/juminhyo-copy/apply`, true],
  ['account', (t) => `/t/${t}/account`, true],
  ['my-applications', (t) => `/t/${t}/my`, true],
  ['status', (t) => `/t/${t}/status`],
  ['staff-sign-in', (t) => `/t/${t}/staff/sign-in`],
  ['search', (t) => `/t/${t}/search`, false, `q=${encodeURIComponent('じゅうみんひょう')}`],
  ['faq', (t) => `/t/${t}/faq`],
  ['faq-entry', (t) => `/t/${t}/faq/1`],
  ['chat', (t) => `/t/${t}/chat`],
  ['navi', (t) => `/t/${t}/navi`],
  ['navi-questions', (t) => `/t/${t}/navi/moving-in`],
  ['navi-result', (t) => `/t/${t}/navi/moving-in/result`, false, 'has_my_number_card=no&joins_nhi=yes&has_children=yes&public_servant=no&school_children=yes&registers_seal=yes&becomes_nenkin_1go=yes&koki_from_other_pref=no&care_certified=no&child_medical=yes&single_parent=no&needs_daycare=yes&has_dog=yes&has_techo=no&has_moped=no'],
  ['kiosk', (t) => `/t/${t}/counter`],
  ['board', (t) => `/t/${t}/counter/board`],
  ['congestion', (t) => `/t/${t}/counter/congestion`],
  ['congestion-one-counter', (t) => `/t/${t}/counter/congestion`, false, 'c=c2'],
  ['not-found', (t) => `/t/${t}/procedures/no-such-procedure`, false, undefined, 404],
];

const SCREENSHOTS = Boolean(process.env.E2E_SCREENSHOTS);

let browser;

before(async () => {
  await mkdir(OUT, { recursive: true });
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

/** Fails if the page scrolls sideways (see expectNoHorizontalScroll). */
async function fits(page, name) {
  if (SCREENSHOTS) await page.screenshot({ path: `${OUT}${name}.png`, fullPage: true });
  const { max, limit } = await expectNoHorizontalScroll(page, name);
  assert.ok(limit <= WIDTH, `${name}: measured against ${limit}px`);
  assert.ok(max <= WIDTH, `${name}: ${max}px wide`);
}

/**
 * The pages of one language and municipality in one kind of browser: a
 * visitor's page, and a resident's (signed in with the My Number card)
 * made on first use.
 */
function browsing(options, lang, tenant) {
  const ctx = { guest: null, resident: null };
  before(async () => {
    ctx.guest = await newPage(browser, options);
  });
  after(async () => {
    await ctx.guest?.context.close();
    await ctx.resident?.context.close();
  });
  return async ([what, path, signIn, query, status = 200], label) => {
    if (signIn && !ctx.resident) {
      ctx.resident = await newPage(browser, options);
      await residentSignIn(ctx.resident.page, tenant);
    }
    const { page } = signIn ? ctx.resident : ctx.guest;
    const response = await page.goto(url(`${path(tenant)}?${query ? `${query}&` : ''}lang=${lang}`));
    assert.equal(response.status(), status);
    assert.equal(new URL(page.url()).pathname, path(tenant), `${what} is shown`);
    await fits(page, label);
  };
}

for (const lang of LANGS) {
  // In Japanese, every page also in a desktop window as narrow.
  const browsers = lang === 'ja' ? [['phone', PHONE], ['window', NARROW_WINDOW]] : [['phone', PHONE]];
  for (const [device, options] of browsers) {
    const suffix = device === 'phone' ? '' : `-${device}`;
    describe(`375px wide, ${lang}, ${device}`, () => {
      test('portal', async () => {
        const { context, page } = await newPage(browser, options);
        try {
          await page.goto(url(`/?lang=${lang}`));
          await fits(page, `${lang}-portal${suffix}`);
        } finally {
          await context.close();
        }
      });

      for (const tenant of [YOTSUKAIDO, YOKKAICHI]) {
        describe(tenant, () => {
          const visit = browsing(options, lang, tenant);
          for (const entry of PAGES) {
            test(`${entry[0]} ${tenant}`, () => visit(entry, `${lang}-${tenant}-${entry[0]}${suffix}`));
          }
        });

        test(`ticket page ${tenant}`, async () => {
          // Counter 6: no other browser test calls there.
          const issued = await fetch(url(`/api/v1/t/${tenant}/counter/tickets`), {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json' },
            body: JSON.stringify({ counter: 'c6' }),
          });
          assert.equal(issued.status, 201);
          const { status_url: statusUrl } = await issued.json();
          const { context, page } = await newPage(browser, options);
          try {
            const response = await page.goto(url(`${new URL(statusUrl).pathname}?lang=${lang}`));
            assert.equal(response.status(), 200);
            await fits(page, `${lang}-${tenant}-ticket${suffix}`);
          } finally {
            await context.close();
          }
        });
      }

      test('apply form with errors, check page and confirmation 122289', async () => {
        const { context, page } = await newPage(browser, options);
        try {
          await residentSignIn(page, YOTSUKAIDO);
          await page.goto(url(`/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply?lang=${lang}`));
          const response = await submitVia(page, 'button[name="_action"][value="review"]');
          assert.equal(response.status(), 422);
          await fits(page, `${lang}-${YOTSUKAIDO}-apply-errors${suffix}`);

          await fillJuminhyoForm(page);
          await submitVia(page, 'button[name="_action"][value="review"]');
          assert.match(new URL(page.url()).pathname, /\/apply\/check$/);
          await fits(page, `${lang}-${YOTSUKAIDO}-apply-check${suffix}`);

          await submitVia(page, 'main form button[type="submit"]');
          assert.match((await page.textContent('.panel__ref')).trim(), RECEIPT_RE);
          await fits(page, `${lang}-${YOTSUKAIDO}-confirmation${suffix}`);
        } finally {
          await context.close();
        }
      });
    });
  }
}

/** The smallest phone screen in common use. */
const SMALL_PHONE = { viewport: { width: WIDTH, height: 667 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

describe('375 × 667 phone: one language control, the first result on the first screen', () => {
  for (const tenant of [YOTSUKAIDO, YOKKAICHI]) {
    for (const lang of LANGS) {
      test(`search ${tenant} ${lang}`, async () => {
        const { context, page } = await newPage(browser, SMALL_PHONE);
        try {
          const q = encodeURIComponent('じゅうみんひょう');
          await page.goto(url(`/t/${tenant}/search?q=${q}&lang=${lang}`));
          const first = await page.locator('.result').first().boundingBox();
          assert.ok(first, 'a result is shown');
          // Its title, at least, above the fold without scrolling.
          const title = await page.locator('.result__title').first().boundingBox();
          assert.ok(title.y + title.height <= 667, `${lang}: the first result's title ends at ${Math.round(title.y + title.height)}px`);
          assert.equal(await page.locator('.lang-switch').isVisible(), false, 'the row of seven links is folded');
          assert.equal(await page.locator('.lang-menu__summary').isVisible(), true);
        } finally {
          await context.close();
        }
      });
    }
  }

  test('the language control by keyboard, and without JavaScript', async () => {
    const { context, page } = await newPage(browser, SMALL_PHONE);
    try {
      await page.goto(url(`/t/${YOTSUKAIDO}?lang=ja`));
      assert.match(await page.locator('.lang-menu__summary').textContent(), /言語\s*Language:\s*日本語/);
      let onMenu = false;
      for (let i = 0; i < 40 && !onMenu; i++) {
        await page.keyboard.press('Tab');
        onMenu = await page.evaluate(() => document.activeElement?.classList.contains('lang-menu__summary'));
      }
      assert.ok(onMenu, 'Tab reaches the language control');
      await page.keyboard.press('Enter');
      const names = await page.locator('.lang-menu__list a').evaluateAll((as) => as.map((a) => a.getAttribute('hreflang')));
      assert.equal(names.length, LANGS.length);
      let onVi = false;
      for (let i = 0; i < 10 && !onVi; i++) {
        await page.keyboard.press('Tab');
        onVi = await page.evaluate(() => document.activeElement?.getAttribute('hreflang') === 'vi');
      }
      assert.ok(onVi, 'Tab reaches Tiếng Việt inside the control');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      assert.equal(await page.getAttribute('html', 'lang'), 'vi');
      assert.match(await page.locator('.lang-menu__summary').textContent(), /Tiếng Việt/);
      await expectNoAxeViolations(assert, page, 'portal on a phone, language control');
    } finally {
      await context.close();
    }
    const nojs = await newPage(browser, { ...SMALL_PHONE, javaScriptEnabled: false });
    try {
      await nojs.page.goto(url(`/t/${YOKKAICHI}?lang=ja`));
      await nojs.page.locator('.lang-menu__summary').click();
      await submitVia(nojs.page, '.lang-menu__list a[hreflang="ko"]');
      assert.equal(await nojs.page.getAttribute('html', 'lang'), 'ko');
    } finally {
      await nojs.context.close();
    }
  });
});
