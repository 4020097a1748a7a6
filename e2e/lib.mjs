// Shared helpers for the browser tests.
//
// The tests talk to a running madoguchi (`madoguchi demo`) at BASE_URL and
// drive Debian's chromium through playwright-core; no browser is downloaded.
// scripts/e2e.sh starts the server and sets BASE_URL.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

export const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The two demo municipalities. */
export const YOTSUKAIDO = '122289';
export const YOKKAICHI = '242021';

export const STAFF_PASSWORD = 'madoguchi-demo';

/** The TOTP secret every demo staff account is enrolled with (base32). */
export const DEMO_TOTP_SECRET = 'MFSGC3LPM5UWG2DJMRSW233UN5ZHA5DP';

/** Receipt numbers look like 1234-5678-9012. */
export const RECEIPT_RE = /^\d{4}-\d{4}-\d{4}$/;

/**
 * The seven languages (their codes, as in `?lang=` and the locale files),
 * in the order of the language switch.
 */
export const LANGS = ['ja', 'ja-x-easy', 'en', 'pt-BR', 'vi', 'zh-Hans', 'ko'];

/** The `lang` attribute of a page in a language (easy Japanese is Japanese). */
export function htmlLang(code) {
  return code === 'ja-x-easy' ? 'ja' : code;
}

/** WCAG 2.0/2.1 level A and AA rules. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export function url(path) {
  return BASE_URL + path;
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * A fresh browser context (own cookies) with a page in it. Japanese is the
 * browser's language unless told otherwise, as for most residents.
 *
 * Every page of the context is watched (see watchWidth): each time a test
 * lands on a page through goto, reload, waitForNavigation, waitForURL,
 * goBack or goForward (and so through submitVia and the sign-in helpers),
 * the page is checked for sideways scrolling before the test goes on.
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({
    locale: 'ja-JP',
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  context.on('page', watchWidth);
  const page = watchWidth(await context.newPage());
  return { context, page };
}

// --- reflow: no sideways scrolling (WCAG 1.4.10) ------------------------------

/** Where a failed width check saves its full-page screenshot. */
export const WIDTH_SHOTS = fileURLToPath(new URL('./test-results/width/', import.meta.url));

/**
 * Measures, in the page, how wide the document is against the width the
 * page has. Runs in the browser; returns plain data.
 *
 * Three widths of the document (the scrolling element's, the root's and
 * the body's scrollWidth) and the root's clientWidth are read. The
 * culprits are the elements whose right edge lies beyond `limit` and that
 * no scroll container clips: the walk goes up the containing blocks, not
 * the parents, so an absolutely positioned element (e.g. visually hidden
 * text) inside a scroll container that is not its containing block counts,
 * as it does for the browser.
 */
function measureWidthInPage(viewport) {
  const doc = document.documentElement;
  const body = document.body;
  const limit = Math.min(viewport, doc.clientWidth || viewport);
  const widths = {
    scrollingElement: (document.scrollingElement || doc).scrollWidth,
    documentElement: doc.scrollWidth,
    body: body ? body.scrollWidth : 0,
    clientWidth: doc.clientWidth,
    innerWidth: window.innerWidth,
  };
  const max = Math.max(widths.scrollingElement, widths.documentElement, widths.body);
  const culprits = [];
  if (max > limit && body) {
    const describe = (el) => {
      let s = el.tagName.toLowerCase();
      if (el.id) s += `#${el.id}`;
      if (typeof el.className === 'string' && el.className.trim()) {
        s += `.${el.className.trim().split(/\s+/).join('.')}`;
      }
      return s;
    };
    const path = (el) => {
      const parts = [];
      for (let e = el; e && e !== body && parts.length < 4; e = e.parentElement) parts.unshift(describe(e));
      return parts.join(' > ');
    };
    // The box an element is laid out in: absolute → nearest positioned
    // ancestor, fixed → the viewport (null), otherwise the parent.
    const containingBlock = (el) => {
      const position = getComputedStyle(el).position;
      if (position === 'fixed') return null;
      if (position !== 'absolute') return el.parentElement;
      for (let a = el.parentElement; a; a = a.parentElement) {
        const cs = getComputedStyle(a);
        if (cs.position !== 'static' || cs.transform !== 'none' || cs.filter !== 'none'
          || /paint|layout|strict|content/.test(cs.contain)) return a;
      }
      return null;
    };
    const escapes = (el) => {
      if (getComputedStyle(el).position === 'fixed') return false; // never scrolls the page
      for (let a = containingBlock(el); a && a !== body && a !== doc; a = containingBlock(a)) {
        if (getComputedStyle(a).overflowX !== 'visible') return false;
      }
      return true;
    };
    for (const el of body.querySelectorAll('*')) {
      const right = el.getBoundingClientRect().right + window.scrollX;
      if (right > limit + 0.5 && escapes(el)) {
        culprits.push({ right: Math.round(right), path: path(el),
          text: (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 60) });
      }
    }
    culprits.sort((a, b) => b.right - a.right);
  }
  const seen = new Set();
  const distinct = culprits.filter((c) => !seen.has(c.path + c.text) && seen.add(c.path + c.text));
  return { widths, max, limit, culprits: distinct.slice(0, 5), contentType: document.contentType };
}

function shotName(label) {
  return `${label.replace(/^https?:\/\/[^/]+/, '').replace(/[^\p{L}\p{N}_-]+/gu, '-').replace(/^-+|-+$/g, '').slice(0, 120) || 'page'}.png`;
}

/**
 * Fails, naming the element that sticks out furthest and saving a
 * full-page screenshot in WIDTH_SHOTS, if the page as it is now scrolls
 * sideways: if the document (by the scrolling element's, the root's or the
 * body's scrollWidth) is wider than the viewport the test asked for or
 * than the root's clientWidth, whichever is narrower. window.innerWidth is
 * not used: with mobile emulation (isMobile) chromium widens the layout
 * viewport to the content, so a page that scrolls sideways still has
 * scrollWidth == innerWidth. Wide tables belong in a scroll region of
 * their own (.table-wrap, a labelled region with tabindex="0").
 * Pages that are not HTML (a PDF, a CSV) are not measured.
 */
export async function expectNoHorizontalScroll(page, label = page.url()) {
  const viewport = page.viewportSize()?.width ?? 1e6;
  let m;
  try {
    m = await page.evaluate(measureWidthInPage, viewport);
  } catch (e) {
    // The page reloaded itself (a meta refresh) while being measured: once more.
    if (!/context was destroyed|navigat/i.test(String(e))) throw e;
    await page.waitForLoadState('load');
    m = await page.evaluate(measureWidthInPage, viewport);
  }
  if (!/html/.test(m.contentType)) return m;
  if (m.max > m.limit) {
    mkdirSync(WIDTH_SHOTS, { recursive: true });
    const shot = join(WIDTH_SHOTS, shotName(label));
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    const culprits = m.culprits.map((c) => `    right edge ${c.right}px: ${c.path} "${c.text}"`).join('\n');
    assert.fail(`${label}: scrolls sideways at ${m.limit}px: the page is ${m.max}px wide `
      + `(scrollingElement ${m.widths.scrollingElement}, documentElement ${m.widths.documentElement}, `
      + `body ${m.widths.body}; clientWidth ${m.widths.clientWidth}, innerWidth ${m.widths.innerWidth}); `
      + `sticking out:\n${culprits || '    (no single element found)'}\n  screenshot: ${shot}`);
  }
  return m;
}

const NAVIGATIONS = ['goto', 'reload', 'waitForNavigation', 'waitForURL', 'goBack', 'goForward'];

/**
 * Checks the page for sideways scrolling after every navigation a test
 * waits for (the methods in NAVIGATIONS, wrapped on this page object).
 * newPage does it for every page of its context, so no test can forget.
 */
export function watchWidth(page) {
  if (page.__widthWatched) return page;
  page.__widthWatched = true;
  for (const name of NAVIGATIONS) {
    const original = page[name].bind(page);
    page[name] = async (...args) => {
      const result = await original(...args);
      await expectNoHorizontalScroll(page);
      return result;
    };
  }
  return page;
}

/** Runs axe's WCAG A/AA rules on the page as it is now; returns axe's results. */
export async function axeResults(page) {
  return new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
}

/** axe's WCAG AAA contrast rule (7:1), for the high-contrast theme. */
export async function axeEnhancedContrast(page) {
  return new AxeBuilder({ page }).withRules(['color-contrast-enhanced']).analyze();
}

/** The WCAG A/AA violations axe finds on the page as it is now. */
export async function axeViolations(page) {
  return (await axeResults(page)).violations;
}

/** A readable report of axe violations: id, impact, target and html of every node. */
export function formatViolations(label, violations) {
  const lines = [`${label}: ${violations.length} axe violation(s)`];
  for (const v of violations) {
    lines.push(`  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`);
    for (const n of v.nodes) {
      lines.push(`    target: ${JSON.stringify(n.target)}`);
      lines.push(`    html:   ${n.html.replace(/\s+/g, ' ').slice(0, 300)}`);
      if (n.failureSummary) {
        lines.push(`    why:    ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 300)}`);
      }
    }
  }
  return lines.join('\n');
}

/**
 * Fails with the full report if axe finds anything on the page as it is
 * now; the page is also checked for sideways scrolling in that state.
 */
export async function expectNoAxeViolations(assert, page, label) {
  await expectNoHorizontalScroll(page, label);
  const { violations, passes } = await axeResults(page);
  // Guard against a silently empty run (no rules matched the tags).
  assert.ok(passes.length > 5, `${label}: axe ran only ${passes.length} passing rules`);
  if (violations.length > 0) {
    const report = formatViolations(label, violations);
    console.error(report);
    assert.fail(report);
  }
}

/**
 * Valid answers for the 住民票の写し form (juminhyo-copy). The name is the
 * development identity provider's demo resident, who fills it in when
 * signed in.
 */
export const JUMINHYO_ANSWERS = {
  applicant: '四街道 花子',
  applicant_kana: 'ヨツカイドウ ハナコ',
  copies: '2',
};

/**
 * Fills the juminhyo-copy apply form on the current page with valid answers
 * (using page.fill/check, which needs no JavaScript on the page).
 */
export async function fillJuminhyoForm(page) {
  // After a sign-in with the My Number card the name comes from the
  // verified identity and is read-only.
  if ((await page.locator('#field-applicant[readonly]').count()) === 0) {
    await page.fill('#field-applicant', JUMINHYO_ANSWERS.applicant);
  }
  await page.fill('#field-applicant_kana', JUMINHYO_ANSWERS.applicant_kana);
  await page.check('input[name="scope"][value="household"]');
  await page.fill('#field-copies', JUMINHYO_ANSWERS.copies);
  await page.check('input[name="purpose"][value="employment"]');
  await page.check('input[name="delivery"][value="post"]');
}

/** Clicks a submit button and waits for the resulting navigation. */
export async function submitVia(page, selector) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click(selector),
  ]);
  return response;
}

/**
 * Applies for juminhyo-copy at the given tenant through the browser, up to
 * the confirmation page. The procedure needs the My Number card, so when
 * the apply link sends the resident to the sign-in page, they sign in with
 * the development identity provider first. Returns { receipt, caseUrl }
 * where caseUrl is the resident's case page without the ?new=1 marker.
 */
export async function applyJuminhyo(page, tenant) {
  await page.goto(url(`/t/${tenant}/procedures/juminhyo-copy/apply`));
  if (new URL(page.url()).pathname === `/t/${tenant}/sign-in`) {
    await submitDevSignIn(page);
  }
  await fillJuminhyoForm(page);
  await submitVia(page, 'button[name="_action"][value="review"]');
  const checkPath = new URL(page.url()).pathname;
  if (!checkPath.endsWith('/apply/check')) {
    throw new Error(`expected the check page after review, got ${page.url()}`);
  }
  await submitVia(page, 'main form button[type="submit"]');
  const receipt = (await page.textContent('.panel__ref'))?.trim();
  const caseUrl = page.url().replace(/\?.*$/, '');
  return { receipt, caseUrl };
}

// --- staff sign-in: password, then a TOTP code (RFC 6238) -------------------

const TOTP_PERIOD = 30;

/** Decodes RFC 4648 base32 (spaces, padding and case ignored). */
export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${JSON.stringify(ch)} in ${text}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The TOTP time step (30 s) of a moment, by default now. */
export function totpStep(ms = Date.now()) {
  return Math.floor(ms / 1000 / TOTP_PERIOD);
}

/** The 6-digit TOTP code (HMAC-SHA1) of a base32 secret for a time step. */
export function totpCode(secretBase32, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

/**
 * A six-digit code that is wrong for the secret right now (not the code of
 * any step the server would accept).
 */
export function wrongTotpCode(secretBase32) {
  const now = totpStep();
  const valid = new Set([-2, -1, 0, 1, 2].map((d) => totpCode(secretBase32, now + d)));
  for (let n = 0; ; n++) {
    const code = String((123456 + n * 111111) % 1_000_000).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}

// The server refuses a code whose step is at or before the last step used
// by the account (replay guard), so the steps used are remembered across
// test files (each runs in its own process) in a small JSON file. Keys
// include BASE_URL, so another server (another port) is not confused by
// them; scripts/e2e.sh also points E2E_TOTP_STATE at a file in the run's
// own temporary directory.
const TOTP_STATE = process.env.E2E_TOTP_STATE || join(tmpdir(), 'madoguchi-e2e-totp.json');

function readTotpState() {
  try {
    const state = JSON.parse(readFileSync(TOTP_STATE, 'utf8'));
    return state && typeof state === 'object' ? state : {};
  } catch {
    return {};
  }
}

function writeTotpState(state) {
  // Forget entries older than a day; write atomically.
  const old = totpStep() - (24 * 3600) / TOTP_PERIOD;
  for (const [k, v] of Object.entries(state)) {
    if (typeof v !== 'number' || v < old) delete state[k];
  }
  const tmp = `${TOTP_STATE}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 1));
  renameSync(tmp, TOTP_STATE);
}

function totpKey(tenant, id) {
  return `${BASE_URL}|${tenant}|${id}`;
}

/**
 * Picks the time step for this account's next code and records it as used:
 * the current step, or the one after the last used if that is later. The
 * server accepts the current step ±1, so when the chosen step is further
 * ahead this waits until it is the next step.
 */
export async function reserveTotpStep(tenant, id, { after = -Infinity } = {}) {
  const key = totpKey(tenant, id);
  const state = readTotpState();
  const last = Math.max(typeof state[key] === 'number' ? state[key] : -Infinity, after);
  const step = Math.max(totpStep(), last + 1);
  const acceptedFrom = (step - 1) * TOTP_PERIOD * 1000 + 250; // a little past the boundary
  const wait = acceptedFrom - Date.now();
  if (step > totpStep() + 1 && wait > 0) {
    await sleep(wait);
  }
  const fresh = readTotpState();
  fresh[key] = Math.max(step, typeof fresh[key] === 'number' ? fresh[key] : -Infinity);
  writeTotpState(fresh);
  return step;
}

/** A code for this account that the server has not seen yet (see reserveTotpStep). */
export async function nextTotpCode(tenant, id, secret = DEMO_TOTP_SECRET, options = {}) {
  return totpCode(secret, await reserveTotpStep(tenant, id, options));
}

/**
 * The first step of the staff sign-in: id and password on the sign-in page.
 * Ends on the second-factor page (or the enrolment page for an account
 * without a second factor); returns the response.
 */
export async function staffPasswordStep(page, tenant, id, password = STAFF_PASSWORD) {
  await page.goto(url(`/t/${tenant}/staff/sign-in`));
  await page.fill('#field-id', id);
  await page.fill('#field-password', password);
  const response = await submitVia(page, 'main form button[type="submit"]');
  const path = new URL(page.url()).pathname;
  if (!path.endsWith('/staff/sign-in/verify') && !path.endsWith('/staff/mfa/enrol')) {
    const errors = await page.locator('.error-summary').textContent().catch(() => '');
    throw new Error(`staff sign-in as ${id}: password step ended at ${page.url()} `
      + `(HTTP ${response?.status()}) ${errors?.replace(/\s+/g, ' ').trim()}`);
  }
  return response;
}

/**
 * The second step: types a fresh TOTP code on the verify page and submits
 * it. If the server refuses it (e.g. a step already used), waits for the
 * next step and tries once more. Ends on the role's start page.
 */
export async function staffSecondFactor(page, tenant, id, secret = DEMO_TOTP_SECRET) {
  let step = await reserveTotpStep(tenant, id);
  for (let attempt = 1; ; attempt++) {
    await page.fill('#field-code', totpCode(secret, step));
    const response = await submitVia(page, 'main form:has(#field-code) button[type="submit"]');
    const path = new URL(page.url()).pathname;
    // Each role lands on its own start page (cases, the audit log, staff
    // administration): anywhere in the back office but the code form.
    if (path.startsWith(`/t/${tenant}/staff/`) && !path.endsWith('/staff/sign-in/verify')) return response;
    const stillVerifying = path.endsWith('/staff/sign-in/verify')
      && (await page.locator('#field-code').count()) === 1;
    const errors = (await page.locator('.error-summary').textContent().catch(() => '')) || '';
    if (!stillVerifying || attempt >= 2) {
      throw new Error(`staff sign-in as ${id}: code for step ${step} refused, at ${page.url()} `
        + `(HTTP ${response?.status()}) ${errors.replace(/\s+/g, ' ').trim()}`);
    }
    step = await reserveTotpStep(tenant, id, { after: step });
  }
}

/**
 * Signs a demo staff member in, in the given page's context: password, then
 * the TOTP code computed here from the demo secret. Ends on the role's start
 * page (the case list for case workers, staff administration for dx-admin).
 */
export async function staffSignIn(page, tenant, id = 'dx-admin', options = {}) {
  const { password = STAFF_PASSWORD, secret = DEMO_TOTP_SECRET } = options;
  await staffPasswordStep(page, tenant, id, password);
  if (new URL(page.url()).pathname.endsWith('/staff/mfa/enrol')) {
    throw new Error(`staff sign-in as ${id}: the account has no second factor yet (enrolment page)`);
  }
  await staffSecondFactor(page, tenant, id, secret);
}

// --- residents: the development identity provider ---------------------------

/** The demo resident of the development identity provider's form. */
export const DEV_RESIDENT = {
  name: '四街道 花子',
  address: '千葉県四街道市鹿渡無番地',
  birthdate: '1990-04-01',
  gender: 'female',
};

/**
 * Fills the development identity provider's form on the current sign-in
 * page (page.fill/check: works without JavaScript) and submits it; returns
 * the response. The resident lands where return_to said (or the home page).
 */
export async function submitDevSignIn(page, resident = {}) {
  const r = { ...DEV_RESIDENT, level: 'my_number_card', ...resident };
  await page.fill('#field-name', r.name);
  await page.fill('#field-address', r.address);
  await page.fill('#field-birthdate', r.birthdate);
  await page.check(`input[name="gender"][value="${r.gender}"]`);
  await page.check(`input[name="level"][value="${r.level}"]`);
  const response = await submitVia(page, 'form[action$="/sign-in/dev"] button[type="submit"]');
  if (new URL(page.url()).pathname.endsWith('/sign-in')) {
    throw new Error(`resident dev sign-in failed: still at ${page.url()} (HTTP ${response?.status()})`);
  }
  return response;
}

/**
 * Signs a resident in with the development identity provider (demo only),
 * at the level given (my_number_card by default), in the page's context.
 * `returnTo` is a path of the tenant to land on afterwards.
 */
export async function residentSignIn(page, tenant, { returnTo = `/t/${tenant}/account`, ...resident } = {}) {
  await page.goto(url(`/t/${tenant}/sign-in?return_to=${encodeURIComponent(returnTo)}`));
  return submitDevSignIn(page, resident);
}

/** Opens the staff case page for a receipt number via the case search. */
export async function openStaffCase(page, tenant, receipt) {
  await page.goto(url(`/t/${tenant}/staff/cases?q=${encodeURIComponent(receipt)}`));
  await submitVia(page, `table a:text-is("${receipt}")`);
}

/**
 * Performs a workflow action on the open staff case page: its button in the
 * one workflow form (the message, if any, in the one message box); approval
 * and rejection are then confirmed on their confirmation page.
 */
export async function staffAction(page, action, message) {
  if (message !== undefined) {
    await page.fill('#field-message', message);
  }
  let [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.locator(`main button[name="action"][value="${action}"]`).click(),
  ]);
  if (action === 'approve' || action === 'reject') {
    [response] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.locator('main form:has(input[name="confirmed"]) button[type="submit"]').click(),
    ]);
  }
  return response;
}
