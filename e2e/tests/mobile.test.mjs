// On a 375px-wide phone, every citizen page fits the screen in every
// language: no horizontal scrolling. Full-page screenshots go to
// e2e/test-results/ (<lang>-<tenant>-<page>.png) for a person to look at.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { launch, newPage, url, submitVia, residentSignIn, YOTSUKAIDO, YOKKAICHI, LANGS } from '../lib.mjs';

const WIDTH = 375;
const OUT = fileURLToPath(new URL('../test-results/', import.meta.url));

/** [name, path, whether a resident signs in first (the form needs the My Number card)] */
const PAGES = [
  ['home', (t) => `/t/${t}`],
  ['list', (t) => `/t/${t}/procedures`],
  ['detail', (t) => `/t/${t}/procedures/juminhyo-copy`],
  ['sign-in', (t) => `/t/${t}/sign-in`],
  ['apply', (t) => `/t/${t}/procedures/juminhyo-copy/apply`, true],
  ['account', (t) => `/t/${t}/account`, true],
  ['staff-sign-in', (t) => `/t/${t}/staff/sign-in`],
  ['search', (t) => `/t/${t}/search`, false, `q=${encodeURIComponent('じゅうみんひょう')}`],
  ['faq', (t) => `/t/${t}/faq`],
  ['faq-entry', (t) => `/t/${t}/faq/1`],
  ['chat', (t) => `/t/${t}/chat`],
  ['navi', (t) => `/t/${t}/navi`],
  ['navi-questions', (t) => `/t/${t}/navi/moving-in`],
  ['navi-result', (t) => `/t/${t}/navi/moving-in/result`, false, 'has_my_number_card=no&joins_nhi=yes&has_children=yes&public_servant=no&school_children=yes&registers_seal=yes'],
  ['kiosk', (t) => `/t/${t}/counter`],
  ['board', (t) => `/t/${t}/counter/board`],
  ['congestion', (t) => `/t/${t}/counter/congestion`],
];

let browser;

before(async () => {
  await mkdir(OUT, { recursive: true });
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function expectNoHorizontalScroll(page, name) {
  await page.screenshot({ path: `${OUT}${name}.png`, fullPage: true });
  const { scrollWidth, innerWidth, widest } = await page.evaluate(() => {
    // The element that sticks out furthest, to say what to fix.
    let widest = null;
    let right = 0;
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > right) {
        right = r.right;
        widest = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''} (right edge ${Math.round(r.right)}px)`;
      }
    }
    return { scrollWidth: document.scrollingElement.scrollWidth, innerWidth, widest };
  });
  assert.ok(scrollWidth <= innerWidth,
    `${name}: scrollWidth ${scrollWidth}px > ${innerWidth}px; widest element: ${widest}; screenshot ${OUT}${name}.png`);
}

for (const lang of LANGS) {
  describe(`375px wide, ${lang}`, () => {
    // Both municipalities in Japanese and English, one in the others.
    const tenants = lang === 'ja' || lang === 'en' ? [YOTSUKAIDO, YOKKAICHI] : [YOTSUKAIDO];
    for (const tenant of tenants) {
      for (const [what, path, signIn, query] of PAGES) {
        test(`${what} ${tenant}`, async () => {
          const { context, page } = await newPage(browser, {
            viewport: { width: WIDTH, height: 812 },
            deviceScaleFactor: 1,
            isMobile: true,
            hasTouch: true,
          });
          try {
            if (signIn) await residentSignIn(page, tenant);
            const response = await page.goto(url(`${path(tenant)}?${query ? `${query}&` : ''}lang=${lang}`));
            assert.equal(response.status(), 200);
            assert.equal(new URL(page.url()).pathname, path(tenant), `${what} is shown`);
            await expectNoHorizontalScroll(page, `${lang}-${tenant}-${what}`);
          } finally {
            await context.close();
          }
        });
      }
    }

    test('apply form with errors 122289', async () => {
      const { context, page } = await newPage(browser, {
        viewport: { width: WIDTH, height: 812 }, isMobile: true, hasTouch: true,
      });
      try {
        await residentSignIn(page, YOTSUKAIDO);
        await page.goto(url(`/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply?lang=${lang}`));
        const response = await submitVia(page, 'button[name="_action"][value="review"]');
        assert.equal(response.status(), 422);
        await expectNoHorizontalScroll(page, `${lang}-${YOTSUKAIDO}-apply-errors`);
      } finally {
        await context.close();
      }
    });
  });
}
