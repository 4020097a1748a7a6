// With JavaScript switched off, a resident can still find the procedure,
// get told what is missing, save a draft, and complete the application.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, fillJuminhyoForm, submitVia, RECEIPT_RE, YOTSUKAIDO,
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

test('no JavaScript: search, error summary, draft, check page, confirmation', async () => {
  // Find the procedure with the keyword search (a GET form).
  await page.goto(url(`/t/${YOTSUKAIDO}/procedures?lang=ja`));
  await page.fill('#list-q', '住民票');
  await submitVia(page, 'form[role="search"] button[type="submit"]');
  assert.match(page.url(), /[?&]q=/);
  await submitVia(page, `main a[href="/t/${YOTSUKAIDO}/procedures/juminhyo-copy"]`);
  assert.equal(new URL(page.url()).pathname, `/t/${YOTSUKAIDO}/procedures/juminhyo-copy`);
  await submitVia(page, `main a[href^="/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply"]`);
  assert.equal(new URL(page.url()).pathname, `/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply`);

  // Nothing filled in: the server answers 422 with an error summary.
  const invalid = await submitVia(page, 'button[name="_action"][value="review"]');
  assert.equal(invalid.status(), 422);
  assert.ok(await page.locator('.error-summary a[href="#field-applicant"]').count() === 1,
    'error summary links to the name field');

  // Save a draft with only the name, and resume it.
  await page.fill('#field-applicant', '四街道 花子');
  await submitVia(page, 'button[name="_action"][value="save"]');
  await submitVia(page, 'main a[href*="/drafts/"]');
  assert.match(await page.inputValue('#field-applicant'), /四街道\s花子/);

  // Complete and send it.
  await fillJuminhyoForm(page);
  const review = await submitVia(page, 'button[name="_action"][value="review"]');
  assert.equal(review.status(), 200);
  assert.match(new URL(page.url()).pathname, /\/apply\/check$/);
  const done = await submitVia(page, 'main form button[type="submit"]');
  assert.equal(done.status(), 200);
  assert.match(page.url(), /\/my\/[^/]+\/[^/?]+\?new=1$/);
  assert.match((await page.textContent('.panel__ref')).trim(), RECEIPT_RE);
  await context.close();
});
