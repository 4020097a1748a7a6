// Conditional fields: with JavaScript, a field that applies only after a
// given answer stays hidden (and out of the Tab order) until that answer is
// chosen; without JavaScript it is shown with its condition written out.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, url, expectNoAxeViolations, residentSignIn, YOTSUKAIDO } from '../lib.mjs';

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

// The form needs the My Number card: each test signs in first.
const FORM = `/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply?lang=ja`;
const OTHER = '[data-field-name="purpose_other"]';

test('with JavaScript the conditional field appears only for その他', async () => {
  const { page } = await newPage(browser);
  await residentSignIn(page, YOTSUKAIDO);
  await page.goto(url(FORM));
  assert.equal(await page.isHidden(OTHER), true, 'hidden before any choice');
  await page.check('input[name="purpose"][value="other"]');
  assert.equal(await page.isVisible(OTHER), true, 'shown after choosing その他');
  await expectNoAxeViolations(assert, page, 'apply form with the conditional field shown');
  await page.check('input[name="purpose"][value="employment"]');
  assert.equal(await page.isHidden(OTHER), true, 'hidden again for another choice');
});

test('without JavaScript the conditional field is shown with its condition', async () => {
  const { page } = await newPage(browser, { javaScriptEnabled: false });
  await residentSignIn(page, YOTSUKAIDO);
  await page.goto(url(FORM));
  assert.equal(await page.isVisible(OTHER), true);
  const hint = await page.textContent(`${OTHER} .hint`);
  assert.match(hint, /「その他」を選んだ場合/);
});
