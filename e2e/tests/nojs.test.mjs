// With JavaScript switched off, a resident can still find the procedure,
// sign in (development identity provider) when the procedure needs the My
// Number card, get told what is missing, save a draft, and complete the
// application.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, fillJuminhyoForm, submitVia, DEV_RESIDENT, RECEIPT_RE, YOTSUKAIDO,
} from '../lib.mjs';

let browser;
let context;
let page;

before(async () => {
  browser = await launch();
  ({ context, page } = await newPage(browser, { javaScriptEnabled: false }));
});

after(async () => {
  await browser?.close();
});

test('the procedure used below needs the My Number card (API)', async () => {
  const response = await fetch(url(`/api/v1/t/${YOTSUKAIDO}/procedures`));
  assert.equal(response.status, 200);
  const { items } = await response.json();
  const levels = Object.fromEntries(items.map((p) => [p.id ?? p.slug, p.identity_level]));
  assert.equal(levels['juminhyo-copy'], 'my_number_card',
    `identity levels: ${JSON.stringify(levels)}`);
});

test('no JavaScript: search, sign-in with errors, sign-in, error summary, draft, check page, confirmation', async () => {
  // Find the procedure with the keyword search (a GET form).
  await page.goto(url(`/t/${YOTSUKAIDO}/procedures?lang=ja`));
  await page.fill('#list-q', '住民票');
  await submitVia(page, 'form[role="search"] button[type="submit"]');
  assert.match(page.url(), /[?&]q=/);
  await submitVia(page, `main a[href="/t/${YOTSUKAIDO}/procedures/juminhyo-copy"]`);
  assert.equal(new URL(page.url()).pathname, `/t/${YOTSUKAIDO}/procedures/juminhyo-copy`);

  // The apply link sends a resident who is not signed in to the sign-in page.
  await submitVia(page, `main a[href^="/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply"]`);
  const signIn = new URL(page.url());
  assert.equal(signIn.pathname, `/t/${YOTSUKAIDO}/sign-in`);
  assert.equal(signIn.searchParams.get('need'), 'my_number_card');
  assert.equal(signIn.searchParams.get('return_to'), `/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply`);

  // The development identity provider's form, first with nothing in it.
  for (const field of ['#field-name', '#field-address', '#field-birthdate']) {
    await page.fill(field, '');
  }
  const empty = await submitVia(page, 'form[action$="/sign-in/dev"] button[type="submit"]');
  assert.equal(empty.status(), 422);
  assert.equal(await page.locator('.error-summary a[href="#field-name"]').count(), 1,
    'error summary links to the name field');

  // Then filled in: back to the apply form, with the name from the card.
  await page.fill('#field-name', DEV_RESIDENT.name);
  await page.fill('#field-address', DEV_RESIDENT.address);
  await page.fill('#field-birthdate', '平成2年4月1日');
  await page.check('input[name="level"][value="my_number_card"]');
  const signedIn = await submitVia(page, 'form[action$="/sign-in/dev"] button[type="submit"]');
  assert.equal(signedIn.status(), 200);
  assert.equal(new URL(page.url()).pathname, `/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply`);
  assert.equal(await page.locator('#field-applicant[readonly]').count(), 1, 'the verified name is read-only');
  assert.equal((await page.inputValue('#field-applicant')).replace(/\s+/g, ' '), DEV_RESIDENT.name);
  assert.equal(await page.isVisible('[data-field-name="purpose_other"]'), true,
    'JavaScript is really off: the conditional field is shown');

  // Nothing filled in: the server answers 422 with an error summary.
  const invalid = await submitVia(page, 'button[name="_action"][value="review"]');
  assert.equal(invalid.status(), 422);
  assert.ok(await page.locator('.error-summary a[href="#field-applicant_kana"]').count() === 1,
    'error summary links to the reading of the name');

  // Save a draft with only the reading, and resume it.
  await page.fill('#field-applicant_kana', 'ヨツカイドウ ハナコ');
  await submitVia(page, 'button[name="_action"][value="save"]');
  await submitVia(page, 'main a[href*="/drafts/"]');
  assert.match(await page.inputValue('#field-applicant_kana'), /ヨツカイドウ\sハナコ/);

  // Complete and send it.
  await fillJuminhyoForm(page);
  const review = await submitVia(page, 'button[name="_action"][value="review"]');
  assert.equal(review.status(), 200);
  assert.match(new URL(page.url()).pathname, /\/apply\/check$/);
  const done = await submitVia(page, 'main form button[type="submit"]');
  assert.equal(done.status(), 200);
  assert.match(page.url(), /\/my\/[^/]+\/[^/?]+\?new=1$/);
  assert.match((await page.textContent('.panel__ref')).trim(), RECEIPT_RE);

  // The resident's account page shows the verified identity.
  await page.goto(url(`/t/${YOTSUKAIDO}/account`));
  assert.equal(new URL(page.url()).pathname, `/t/${YOTSUKAIDO}/account`);
  assert.ok((await page.textContent('main')).includes(DEV_RESIDENT.address), 'account page shows the address');
  await context.close();
});
