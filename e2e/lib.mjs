// Shared helpers for the browser tests.
//
// The tests talk to a running madoguchi (`madoguchi demo`) at BASE_URL and
// drive Debian's chromium through playwright-core; no browser is downloaded.
// scripts/e2e.sh starts the server and sets BASE_URL.

import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

export const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The two demo municipalities. */
export const YOTSUKAIDO = '122289';
export const YOKKAICHI = '242021';

export const STAFF_PASSWORD = 'madoguchi-demo';

/** Receipt numbers look like 1234-5678-9012. */
export const RECEIPT_RE = /^\d{4}-\d{4}-\d{4}$/;

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
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({
    locale: 'ja-JP',
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  const page = await context.newPage();
  return { context, page };
}

/** Runs axe's WCAG A/AA rules on the page as it is now; returns axe's results. */
export async function axeResults(page) {
  return new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
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

/** Fails with the full report if axe finds anything on the page as it is now. */
export async function expectNoAxeViolations(assert, page, label) {
  const { violations, passes } = await axeResults(page);
  // Guard against a silently empty run (no rules matched the tags).
  assert.ok(passes.length > 5, `${label}: axe ran only ${passes.length} passing rules`);
  if (violations.length > 0) {
    const report = formatViolations(label, violations);
    console.error(report);
    assert.fail(report);
  }
}

/** Valid answers for the 住民票の写し form (juminhyo-copy). */
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
  await page.fill('#field-applicant', JUMINHYO_ANSWERS.applicant);
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
 * the confirmation page. Returns { receipt, caseUrl } where caseUrl is the
 * resident's case page without the ?new=1 marker.
 */
export async function applyJuminhyo(page, tenant) {
  await page.goto(url(`/t/${tenant}/procedures/juminhyo-copy/apply`));
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

/** Signs a demo staff member in, in the given page's context. */
export async function staffSignIn(page, tenant, id = 'dx-admin') {
  await page.goto(url(`/t/${tenant}/staff/sign-in`));
  await page.fill('#field-id', id);
  await page.fill('#field-password', STAFF_PASSWORD);
  await submitVia(page, 'main form button[type="submit"]');
  if (new URL(page.url()).pathname.endsWith('/sign-in')) {
    throw new Error(`staff sign-in as ${id} failed: still at ${page.url()}`);
  }
}

/** Opens the staff case page for a receipt number via the case search. */
export async function openStaffCase(page, tenant, receipt) {
  await page.goto(url(`/t/${tenant}/staff/cases?q=${encodeURIComponent(receipt)}`));
  await submitVia(page, `table a:text-is("${receipt}")`);
}

/** Performs a workflow action on the open staff case page. */
export async function staffAction(page, action, message) {
  const form = page.locator(`form:has(input[name="action"][value="${action}"])`);
  if (message !== undefined) {
    await form.locator('textarea[name="message"]').fill(message);
  }
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    form.locator('button[type="submit"]').click(),
  ]);
  return response;
}
