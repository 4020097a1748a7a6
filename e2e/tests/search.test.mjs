// サイト内検索 (四街道市): found by reading, narrowed by a facet, paged; by
// keyboard alone and without JavaScript; the staff page for synonyms and
// the queries that found nothing passes axe too.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, url, expectNoAxeViolations, staffSignIn, YOTSUKAIDO } from '../lib.mjs';

const T = YOTSUKAIDO;
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('search by keyboard alone: reading, then a facet', async () => {
  const { page, context } = await newPage(browser);
  await page.goto(url(`/t/${T}/search?lang=ja`));
  await page.locator('#field-q').focus();
  await page.keyboard.type('じゅうみんひょう');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  const first = await page.locator('.result__title a').first().getAttribute('href');
  assert.match(first, /\/procedures\/juminhyo-copy/);
  // The facets are folded into one disclosure: Tab to it, open it with
  // Enter, then Tab to the first facet and follow it.
  let onFilters = false;
  for (let i = 0; i < 60 && !onFilters; i++) {
    await page.keyboard.press('Tab');
    onFilters = await page.evaluate(() => document.activeElement?.classList.contains('facets-menu__summary'));
  }
  assert.ok(onFilters, 'the filters disclosure is reachable by Tab');
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('details.facets-menu').getAttribute('open'), '');
  let onFacet = false;
  for (let i = 0; i < 60 && !onFacet; i++) {
    await page.keyboard.press('Tab');
    onFacet = await page.evaluate(() => !!document.activeElement?.closest('.facet'));
  }
  assert.ok(onFacet, 'a facet link is reachable by Tab');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.ok(new URL(page.url()).searchParams.get('department') || new URL(page.url()).searchParams.get('life_event'));
  await expectNoAxeViolations(assert, page, 'search filtered by a facet');
  await context.close();
});

test('search without JavaScript, with a typo and in English', async () => {
  const { page, context } = await newPage(browser, { javaScriptEnabled: false });
  await page.goto(url(`/t/${T}/search?lang=en`));
  await page.locator('#field-q').fill('住民表');
  await Promise.all([page.waitForNavigation(), page.locator('main form button[type="submit"]').click()]);
  assert.match(await page.locator('.result__title a').first().getAttribute('href'), /juminhyo-copy/);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  // Nothing found: the page offers the navigator and the contact route.
  await page.goto(url(`/t/${T}/search?q=${encodeURIComponent('ぴよぴよ')}`));
  assert.ok(await page.locator(`a[href="/t/${T}/navi"]`).count() >= 1);
  await context.close();
});

test('staff search page: misses ranked, synonyms editable, axe', async () => {
  const { page, context } = await newPage(browser);
  await staffSignIn(page, T);
  await page.goto(url(`/t/${T}/staff/search`));
  assert.ok(await page.locator('textarea[name="terms"]').count() >= 2, 'the demo synonyms and a new group');
  await expectNoAxeViolations(assert, page, 'staff search page');
  await page.locator('#field-terms-new').fill('ひとつだけ');
  await Promise.all([page.waitForNavigation(), page.locator('form[action$="/staff/search/synonyms"] button').click()]);
  assert.ok(await page.locator('.error-summary').count() === 1);
  await expectNoAxeViolations(assert, page, 'staff search page with an error');
  await context.close();
});
