// A resident who uses only the keyboard can apply for a copy of the
// certificate of residence (住民票の写し, 四街道市): Tab and Shift+Tab to move,
// typing, Space for radios and checkboxes, arrow keys within a radio group,
// Enter to follow links and press buttons. No page.fill or page.click.
//
// Every Tab stop must be visible (non-zero box) and show a focus outline,
// and the first Tab stop on a page is the skip link.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, url, RECEIPT_RE, YOTSUKAIDO, JUMINHYO_ANSWERS } from '../lib.mjs';

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

test('keyboard only: apply for juminhyo-copy up to the receipt number', async () => {
  await page.goto(url(`/t/${YOTSUKAIDO}/procedures/juminhyo-copy/apply?lang=ja`));

  // The skip link is the first Tab stop and moves focus to <main>.
  const first = await move('Tab');
  assert.match(first.className, /\bskip-link\b/, `first Tab stop is ${describeFocus(first)}`);
  assert.ok(first.box.x >= 0 && first.box.y >= 0, 'the focused skip link is on screen');
  await page.keyboard.press('Enter');
  await expectFocus('#main');

  // Name and its reading; Shift+Tab back to check the name, then on again.
  await tabTo('#field-applicant');
  await page.keyboard.type(JUMINHYO_ANSWERS.applicant);
  await move('Tab');
  await expectFocus('#field-applicant_kana');
  await page.keyboard.type(JUMINHYO_ANSWERS.applicant_kana);
  await move('Shift+Tab');
  await expectFocus('#field-applicant');
  assert.equal(await page.evaluate(() => document.activeElement.value), JUMINHYO_ANSWERS.applicant);
  await move('Tab');
  await expectFocus('#field-applicant_kana');

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
  await context.close();
});
