// A resident who uses only the keyboard can sign in (development identity
// provider) and apply for a copy of the certificate of residence
// (住民票の写し, 四街道市, needs the My Number card); a member of staff can
// sign in with the password and the second factor (TOTP code). Tab and
// Shift+Tab to move, typing, Space for radios and checkboxes, arrow keys
// within a radio group, Enter to follow links and press buttons. No
// page.fill or page.click.
//
// Every Tab stop must be visible (non-zero box) and show a focus outline,
// and the first Tab stop on a page is the skip link.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, nextTotpCode, STAFF_PASSWORD, DEV_RESIDENT, RECEIPT_RE, YOTSUKAIDO,
  JUMINHYO_ANSWERS,
} from '../lib.mjs';

let browser;
let context;
let page;
const visited = []; // every Tab stop, for the failure messages

before(async () => {
  browser = await launch();
  ({ context, page } = await newPage(browser, { viewport: { width: 1024, height: 768 } }));
});

after(async () => {
  await browser?.close();
});

/** What has focus now, with its box and whether a focus indicator is drawn. */
async function focused() {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: 'body', box: null };
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    // The design system draws keyboard focus as a 4px outline (plus a ring).
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      name: el.getAttribute('name') || '',
      type: el.getAttribute('type') || '',
      className: typeof el.className === 'string' ? el.className : '',
      text: (el.textContent || '').trim().slice(0, 40),
      box: { x: r.x, y: r.y, width: r.width, height: r.height },
      indicator: outline,
    };
  });
}

function describeFocus(f) {
  return `<${f.tag}${f.id ? ` id=${f.id}` : ''}${f.name ? ` name=${f.name}` : ''}${f.className ? ` class="${f.className}"` : ''}> ${f.text}`;
}

/** Presses a key that moves focus and checks the new focus is visible. */
async function move(key) {
  await page.keyboard.press(key);
  const f = await focused();
  visited.push(`${key} -> ${describeFocus(f)}`);
  assert.notEqual(f.tag, 'body', `${key} moved focus to nothing`);
  assert.ok(f.box && f.box.width > 0 && f.box.height > 0,
    `focused element has no box: ${describeFocus(f)} ${JSON.stringify(f.box)}`);
  assert.ok(f.indicator, `focused element shows no focus indicator: ${describeFocus(f)}`);
  return f;
}

/** Tabs forward (or back) until the focused element matches the selector. */
async function tabTo(selector, { back = false, max = 40 } = {}) {
  for (let i = 0; i < max; i++) {
    const f = await move(back ? 'Shift+Tab' : 'Tab');
    if (await page.evaluate((s) => document.activeElement.matches(s), selector)) return f;
  }
  assert.fail(`no Tab stop matching ${selector} within ${max} presses:\n${visited.slice(-max).join('\n')}`);
}

async function expectFocus(selector) {
  const ok = await page.evaluate((s) => document.activeElement?.matches(s), selector);
  assert.ok(ok, `expected focus on ${selector}, have ${describeFocus(await focused())}`);
}

async function pressAndNavigate(key) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.keyboard.press(key),
  ]);
  return response;
}

async function isChecked(selector) {
  return page.evaluate((s) => document.querySelector(s).checked, selector);
}

/** The skip link is the first Tab stop and moves focus to <main>. */
async function skipToMain() {
  const first = await move('Tab');
  assert.match(first.className, /\bskip-link\b/, `first Tab stop is ${describeFocus(first)}`);
  assert.ok(first.box.x >= 0 && first.box.y >= 0, 'the focused skip link is on screen');
  await page.keyboard.press('Enter');
  await expectFocus('#main');
}

/** Replaces the focused text field's value by typing (select all, then type). */
async function retype(text) {
  await page.keyboard.press('Control+A');
  await page.keyboard.type(text);
}

const activeValue = () => page.evaluate(() => document.activeElement.value);

test('keyboard only: resident dev sign-in from the apply link of a My Number card procedure', async () => {
  // Not signed in: the apply form sends the resident to the sign-in page.
  await page.goto(url(`/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply?lang=ja`));
  assert.equal(new URL(page.url()).pathname, `/t/${YOTSUKAIDO}/sign-in`, `apply without sign-in: ${page.url()}`);
  await skipToMain();

  // The development identity provider's form: name, address, birthdate (in
  // the Japanese era), gender and level radio groups.
  await tabTo('#field-name');
  await retype(DEV_RESIDENT.name);
  await move('Tab');
  await expectFocus('#field-address');
  await retype(DEV_RESIDENT.address);
  await move('Tab');
  await expectFocus('#field-birthdate');
  await retype('平成2年4月1日');
  assert.equal(await activeValue(), '平成2年4月1日');

  // A radio group with a choice made: Tab lands on the chosen option.
  await move('Tab');
  await expectFocus('input[type="radio"][name="gender"]:checked');
  await page.keyboard.press('ArrowDown');
  assert.ok(await isChecked('#gender-male'), 'ArrowDown chose the next gender');
  await page.keyboard.press('ArrowUp');
  assert.ok(await isChecked('#gender-female'), 'ArrowUp chose 女性 again');
  await move('Tab');
  await expectFocus('#level-my_number_card');
  assert.ok(await isChecked('#level-my_number_card'));

  await tabTo('form[action$="/sign-in/dev"] button[type="submit"]');
  const signedIn = await pressAndNavigate('Enter');
  assert.equal(signedIn.status(), 200);
  assert.equal(new URL(page.url()).pathname, `/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply`,
    `back at the form after signing in: ${page.url()}`);
  assert.equal(await page.evaluate(() => document.querySelector('#field-applicant').readOnly), true,
    'the verified name is read-only');
});

test('keyboard only: apply for juminhyo-copy up to the receipt number', async () => {
  // Signed in by the test above, with the My Number card.
  await page.goto(url(`/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply?lang=ja`));
  assert.equal(new URL(page.url()).pathname, `/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply`,
    `the apply form (signed in): ${page.url()}`);

  await skipToMain();

  // The name comes from the card: a read-only Tab stop. Its reading is
  // typed; Shift+Tab back to the name, then on again.
  await tabTo('#field-applicant');
  assert.equal((await activeValue()).replace(/\s+/g, ' '), JUMINHYO_ANSWERS.applicant);
  await page.keyboard.type('x');
  assert.equal((await activeValue()).replace(/\s+/g, ' '), JUMINHYO_ANSWERS.applicant, 'read-only: typing changes nothing');
  await move('Tab');
  await expectFocus('#field-applicant_kana');
  await page.keyboard.type(JUMINHYO_ANSWERS.applicant_kana);
  await move('Shift+Tab');
  await expectFocus('#field-applicant');
  await move('Tab');
  await expectFocus('#field-applicant_kana');
  assert.equal(await activeValue(), JUMINHYO_ANSWERS.applicant_kana);

  // Radio group with nothing chosen: Tab lands on the first option, Space
  // chooses it, arrows move the choice within the group.
  await move('Tab');
  await expectFocus('input[type="radio"][name="scope"]');
  await page.keyboard.press('Space');
  assert.ok(await isChecked('input[name="scope"][value="household"]'), 'Space chose 世帯全員');
  await page.keyboard.press('ArrowDown');
  assert.ok(await isChecked('input[name="scope"][value="individual"]'), 'ArrowDown chose the next option');
  await page.keyboard.press('ArrowUp');
  assert.ok(await isChecked('input[name="scope"][value="household"]'), 'ArrowUp chose 世帯全員 again');

  // One Tab leaves the radio group.
  await move('Tab');
  await expectFocus('#field-copies');
  await page.keyboard.type(JUMINHYO_ANSWERS.copies);

  await move('Tab');
  await expectFocus('#field-include_honseki');
  await page.keyboard.press('Space');
  assert.ok(await isChecked('#field-include_honseki'), 'Space ticked the checkbox');

  await move('Tab');
  await expectFocus('input[type="radio"][name="purpose"]');
  await page.keyboard.press('ArrowDown');
  assert.ok(await isChecked('input[name="purpose"][value="vehicle"]'), 'ArrowDown chose 自動車の登録・運転免許');

  // purpose_other only applies to その他; leave it empty.
  await tabTo('input[type="radio"][name="delivery"]');
  await page.keyboard.press('Space');
  assert.ok(await isChecked('input[name="delivery"][value="post"]'), 'Space chose 郵送');

  await tabTo('button[name="_action"][value="review"]');
  const review = await pressAndNavigate('Enter');
  assert.equal(review.status(), 200, `review answered ${review.status()}`);
  assert.match(new URL(page.url()).pathname, /\/apply\/check$/, `after review: ${page.url()}`);

  // Check your answers: what was typed is there.
  // (Names are normalised: the space between family and given name becomes U+3000.)
  const squash = (s) => s.replace(/\s+/g, ' ');
  const summary = squash(await page.textContent('.summary-list'));
  assert.ok(summary.includes(squash(JUMINHYO_ANSWERS.applicant)), `check page shows the name: ${summary}`);
  assert.ok(summary.includes(squash(JUMINHYO_ANSWERS.applicant_kana)), `check page shows the reading: ${summary}`);

  const firstOnCheck = await move('Tab');
  assert.match(firstOnCheck.className, /\bskip-link\b/, `first Tab stop on the check page is ${describeFocus(firstOnCheck)}`);
  await tabTo('main form button[type="submit"]');
  const submitted = await pressAndNavigate('Enter');
  assert.equal(submitted.status(), 200);
  assert.match(page.url(), /\/my\/[^/]+\/[^/?]+\?new=1$/, `after submit: ${page.url()}`);

  const receipt = (await page.textContent('.panel__ref')).trim();
  assert.match(receipt, RECEIPT_RE);
});

test('keyboard only: staff sign-in with password and second factor', async () => {
  await context.close();
  ({ context, page } = await newPage(browser, { viewport: { width: 1024, height: 768 } }));
  await page.goto(url(`/t/${YOTSUKAIDO}/staff/sign-in?lang=ja`));
  await skipToMain();

  await tabTo('#field-id');
  await page.keyboard.type('approver');
  await move('Tab');
  await expectFocus('#field-password');
  await page.keyboard.type(STAFF_PASSWORD);
  await move('Tab');
  await expectFocus('main form button[type="submit"]');
  const passwordOk = await pressAndNavigate('Enter');
  assert.equal(passwordOk.status(), 200);
  assert.equal(new URL(page.url()).pathname, `/t/${YOTSUKAIDO}/staff/sign-in/verify`, `after the password: ${page.url()}`);

  // The second factor: the code, typed, then Enter on the button.
  await skipToMain();
  await tabTo('#field-code');
  await page.keyboard.type(await nextTotpCode(YOTSUKAIDO, 'approver'));
  await move('Tab');
  await expectFocus('main form:has(#field-code) button[type="submit"]');
  const verified = await pressAndNavigate('Enter');
  assert.equal(verified.status(), 200);
  assert.equal(new URL(page.url()).pathname, `/t/${YOTSUKAIDO}/staff/cases`, `after the code: ${page.url()}`);
  await context.close();
});
