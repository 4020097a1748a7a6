// My Number card sign-in in a real browser, with the Content Security Policy
// as madoguchi serves it: a resident on 127.0.0.1 signs in through an OpenID
// Provider on another site (localhost, issuer path /oidc, ES256, claims only
// at userinfo, real login and consent forms: e2e/oidc/provider.mjs with
// --interactive) and files a procedure that needs the card, with the name
// the provider verified.
//
// This file starts its own provider and its own madoguchi (`madoguchi demo`
// with MADOGUCHI_OIDC_* set; scripts/e2e.sh exports MADOGUCHI_BIN), so the
// shared demo server keeps its development identity provider.
//
// - chromium reports no CSP violation on the way (form-action 'self'
//   stays on every page; the sign-in starts from a link);
// - the sign-in starts and the form is filed by keyboard alone;
// - axe finds nothing on the sign-in page with the card option, and on
//   the page that says a sign-in failed.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { launch, newPage, submitVia, expectNoAxeViolations, YOTSUKAIDO } from '../lib.mjs';

const T = YOTSUKAIDO;
const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.MADOGUCHI_BIN;

let work;
let provider;
let server;
let browser;
let base;
let issuer;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts the provider; resolves with its ready line. */
function startProvider(port, redirectUri, jwksFile) {
  provider = spawn(process.execPath, [
    join(HERE, '../oidc/provider.mjs'),
    '--port', String(port), '--host', 'localhost', '--issuer-path', '/oidc',
    '--id-token-alg', 'ES256', '--claims', 'userinfo', '--interactive',
    '--redirect-uri', redirectUri, '--client-jwks', jwksFile,
  ], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    provider.once('exit', (code) => reject(new Error(`provider exited (${code})`)));
    createInterface({ input: provider.stdout }).once('line', (line) => resolve(JSON.parse(line)));
  });
}

async function waitHealthy(url) {
  for (let i = 0; i < 240; i += 1) {
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {
      // not yet
    }
    if (server.exitCode !== null) throw new Error(`madoguchi exited (${server.exitCode})`);
    await sleep(250);
  }
  throw new Error(`madoguchi at ${url} not healthy within 60 s`);
}

before(async () => {
  assert.ok(BIN, 'MADOGUCHI_BIN names the madoguchi binary (scripts/e2e.sh sets it)');
  work = mkdtempSync(join(tmpdir(), 'madoguchi-oidc-e2e-'));
  const keyFile = join(work, 'client.pem');
  const jwks = execFileSync(BIN, ['oidc-keygen', keyFile], { stdio: ['ignore', 'pipe', 'ignore'] });
  const jwksFile = join(work, 'client-jwks.json');
  writeFileSync(jwksFile, jwks);
  const [providerPort, serverPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${serverPort}`;
  ({ issuer } = await startProvider(providerPort, `${base}/t/${T}/auth/callback`, jwksFile));
  assert.equal(issuer, `http://localhost:${providerPort}/oidc`);
  server = spawn(BIN, [
    'demo', '--applications', '0', '--bind', `127.0.0.1:${serverPort}`,
    '--database-url', `sqlite://${join(work, 'oidc.db')}`,
  ], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      MADOGUCHI_OIDC_ISSUER: issuer,
      MADOGUCHI_OIDC_CLIENT_ID: 'madoguchi',
      MADOGUCHI_OIDC_CLIENT_KEY_FILE: keyFile,
      MADOGUCHI_OIDC_IDENTITY_LEVEL: 'my_number_card',
      MADOGUCHI_LOG: 'warn',
    },
  });
  await waitHealthy(base);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.kill();
  provider?.kill();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A page that records every CSP violation chromium reports. */
async function watchedPage() {
  const { context, page } = await newPage(browser);
  const violations = [];
  page.on('console', (m) => {
    if (/Content Security Policy|violates/i.test(m.text())) violations.push(m.text());
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return { context, page, violations };
}

describe('My Number card sign-in through a provider on another site', () => {
  test('keyboard: sign in, then file 住民票の写し with the verified name', async () => {
    const { context, page, violations } = await watchedPage();
    const apply = `/t/${T}/procedures/juminhyo-copy/apply`;
    const signIn = await page.goto(`${base}/t/${T}/sign-in?return_to=${encodeURIComponent(apply)}`);
    assert.match(signIn.headers()['content-security-policy'], /form-action 'self';/, 'the policy is not weakened');
    await expectNoAxeViolations(assert, page, 'sign-in page with the card option');

    // Keyboard: Tab to the link, Enter.
    const link = page.getByRole('link', { name: 'マイナンバーカードでサインイン' });
    for (let i = 0; i < 40 && !(await link.evaluate((el) => el === document.activeElement)); i += 1) {
      await page.keyboard.press('Tab');
    }
    assert.ok(await link.evaluate((el) => el === document.activeElement), 'the link takes the focus');
    await Promise.all([page.waitForURL(`${issuer}/interaction/**`), page.keyboard.press('Enter')]);

    // The provider's own login and consent forms.
    await submitVia(page, 'button:has-text("ログイン")');
    assert.ok(page.url().startsWith(`${issuer}/interaction/`), `consent at the provider: ${page.url()}`);
    await Promise.all([page.waitForURL(`${base}${apply}`), page.click('button:has-text("同意して続ける")')]);

    // Back home, signed in at card level, the name verified and read-only.
    assert.equal(await page.inputValue('#field-applicant'), '四街道 花子');
    assert.equal(await page.locator('#field-applicant[readonly]').count(), 1);
    await page.fill('#field-applicant_kana', 'ヨツカイドウ ハナコ');
    await page.check('input[name="scope"][value="household"]');
    await page.fill('#field-copies', '1');
    await page.check('input[name="purpose"][value="employment"]');
    await page.check('input[name="delivery"][value="post"]');
    await submitVia(page, 'button[name="_action"][value="review"]');
    assert.ok(new URL(page.url()).pathname.endsWith('/apply/check'), page.url());
    await submitVia(page, 'main form button[type="submit"]');
    assert.match((await page.textContent('.panel__ref'))?.trim() ?? '', /^\d{4}-\d{4}-\d{4}$/);
    // Names are stored with a full-width space between family and given name.
    const answers = await page.textContent('.summary-list');
    assert.match(answers, /四街道\s花子/, 'filed in the verified name');
    assert.match(answers, /本人確認済み/);
    assert.deepEqual(violations, [], 'no Content Security Policy violation');
    await context.close();
  });

  test('a refused sign-in says why, keeps the page accessible, and signs nobody in', async () => {
    const { context, page, violations } = await watchedPage();
    // A callback with a state this browser never started.
    const r = await page.goto(`${base}/t/${T}/auth/callback?code=x&state=never-issued`);
    assert.equal(r.status(), 401);
    assert.ok((await page.textContent('main')).includes('MDG-401-oidc-state'));
    await expectNoAxeViolations(assert, page, 'sign-in failed page');
    await page.goto(`${base}/t/${T}/account`);
    assert.equal(new URL(page.url()).pathname, `/t/${T}/sign-in`, 'not signed in');
    assert.deepEqual(violations, []);
    await context.close();
  });
});
