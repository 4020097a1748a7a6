#!/usr/bin/env node
// A local OpenID Provider for end-to-end tests of madoguchi's OIDC client
// (the sign-in with the デジタル認証アプリ / My Number card).
//
//   node e2e/oidc/provider.mjs \
//     --redirect-uri http://127.0.0.1:PORT/auth/oidc/callback \
//     --client-jwks /path/to/client-public-jwks.json [--port 0]
//
// Built on oidc-provider 9. It prints ONE line of JSON on stdout when ready,
// {"issuer":"http://127.0.0.1:<port>","port":<port>}, and nothing else there;
// logs go to stderr. It exits on SIGTERM/SIGINT or when its stdin closes.
// Login and consent are completed automatically (no HTML) unless
// --interactive asks for real forms; POST /__test/mode lets a test make the
// token or userinfo endpoint misbehave, POST /__test/keys re-keys or
// rotates the signing key, and POST /__test/account sets the resident's
// claims. See README.md beside this file.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

// stdout is reserved for the single "ready" line: oidc-provider prints its
// notices with console.info, so every console method goes to stderr.
for (const method of ['log', 'info', 'debug', 'warn', 'trace']) {
  console[method] = (...args) => console.error(...args);
}

// ---------------------------------------------------------------- arguments

const USAGE = 'usage: node e2e/oidc/provider.mjs --redirect-uri URI [--redirect-uri URI ...] '
  + '--client-jwks FILE [--port N] [--host NAME] [--issuer-path /PATH] [--id-token-alg RS256|ES256] '
  + '[--claims both|userinfo] [--interactive] [--signed-userinfo] [--ignore-stdin]';

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      'redirect-uri': { type: 'string', multiple: true },
      'client-jwks': { type: 'string' },
      port: { type: 'string', default: '0' },
      // The issuer's host name (it always listens on 127.0.0.1): `localhost`
      // makes it another site than a relying party on 127.0.0.1.
      host: { type: 'string', default: '127.0.0.1' },
      // A path in the issuer, e.g. /oidc: every endpoint lives under it.
      'issuer-path': { type: 'string', default: '' },
      'id-token-alg': { type: 'string', default: 'RS256' },
      // Where the claims of the granted scopes go: the ID token and
      // userinfo (both), or, as the spec's default, userinfo only.
      claims: { type: 'string', default: 'both' },
      // Real login and consent pages with forms instead of redirects.
      interactive: { type: 'boolean', default: false },
      // userinfo as a signed JWT (application/jwt) instead of JSON.
      'signed-userinfo': { type: 'boolean', default: false },
      // For running it by hand in the background, where stdin may be
      // /dev/null and would end at once. Tests should not use it.
      'ignore-stdin': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}

if (args.help) {
  console.error(USAGE);
  process.exit(0);
}

const redirectUris = args['redirect-uri'] ?? [];
if (!redirectUris.length || !args['client-jwks']) {
  console.error(USAGE);
  process.exit(2);
}

const requestedPort = Number(args.port);
if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
  console.error(`invalid --port ${args.port}\n${USAGE}`);
  process.exit(2);
}

const issuerPath = args['issuer-path'].replace(/\/+$/, '');
if (issuerPath && !/^\/[A-Za-z0-9/_-]+$/.test(issuerPath)) {
  console.error(`invalid --issuer-path ${args['issuer-path']}\n${USAGE}`);
  process.exit(2);
}
if (!/^[A-Za-z0-9.-]+$/.test(args.host)) {
  console.error(`invalid --host ${args.host}\n${USAGE}`);
  process.exit(2);
}
const idTokenAlg = args['id-token-alg'];
if (!['RS256', 'ES256'].includes(idTokenAlg)) {
  console.error(`invalid --id-token-alg ${idTokenAlg}\n${USAGE}`);
  process.exit(2);
}
if (!['both', 'userinfo'].includes(args.claims)) {
  console.error(`invalid --claims ${args.claims}\n${USAGE}`);
  process.exit(2);
}

let clientJwks;
try {
  clientJwks = JSON.parse(fs.readFileSync(args['client-jwks'], 'utf8'));
  if (!Array.isArray(clientJwks?.keys) || !clientJwks.keys.length) {
    throw new Error('expected a JSON Web Key Set: {"keys":[...]}');
  }
  for (const key of clientJwks.keys) {
    if ('d' in key) throw new Error('the client JWKS must hold public keys only');
    crypto.createPublicKey({ key, format: 'jwk' }); // throws on a malformed key
  }
} catch (err) {
  console.error(`cannot read --client-jwks ${args['client-jwks']}: ${err.message}`);
  process.exit(2);
}

for (const uri of redirectUris) {
  let parsed;
  try {
    parsed = new URL(uri);
  } catch {
    parsed = null;
  }
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.hash) {
    console.error(`invalid --redirect-uri ${uri}: expected an absolute http(s) URL without a fragment`);
    process.exit(2);
  }
}

// Imported only now, so that usage errors are not preceded by its notices.
const { default: Provider } = await import('oidc-provider');

// ---------------------------------------------------------------- constants

const CLIENT_ID = 'madoguchi';

/** The one resident who can sign in (POST /__test/account changes the claims). */
const SUBJECT = 'test-resident-0001';
const DEFAULT_CLAIMS = Object.freeze({
  name: '四街道 花子',
  address: { formatted: '千葉県四街道市鹿渡無番地' },
  birthdate: '1990-04-01',
  gender: 'female',
});
let accountClaims = structuredClone(DEFAULT_CLAIMS);

const MODES = new Set([
  'normal',
  'tamper_signature',
  'wrong_nonce',
  'wrong_audience',
  'expired',
  'wrong_issuer',
  'alg_none',
  // userinfo answers 500 (the ID token is unchanged)
  'userinfo_error',
]);

let mode = 'normal';

// ---------------------------------------------------------------- keys

/** RFC 7638 thumbprint of a public JWK. */
function thumbprint(jwk) {
  const members = jwk.kty === 'RSA'
    ? { e: jwk.e, kty: 'RSA', n: jwk.n }
    : { crv: jwk.crv, kty: 'EC', x: jwk.x, y: jwk.y };
  return crypto.createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** A new key pair for `alg`, with its private and public JWK. */
function newKey(alg, kid) {
  const { privateKey } = alg === 'ES256'
    ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const pub = { ...jwk };
  for (const k of ['d', 'p', 'q', 'dp', 'dq', 'qi']) delete pub[k];
  const id = kid ?? thumbprint(pub);
  return {
    alg,
    privateKey,
    privateJwk: { ...jwk, kid: id, alg, use: 'sig' },
    publicJwk: { ...pub, kid: id, alg, use: 'sig' },
  };
}

// The key oidc-provider signs ID tokens with (the only key of its alg in
// its keystore). The published set holds more: with ES256, a second EC key
// (the next one) and an RSA key, as a provider mid-rotation publishes.
const providerKey = newKey(idTokenAlg);
const extraKeys = idTokenAlg === 'ES256' ? [newKey('ES256'), newKey('RS256')] : [];
// What the harness signs with once a test re-keyed or rotated (null: the
// ID tokens are oidc-provider's own).
let harnessKey = null;
// The public keys at the jwks_uri.
let publishedKeys = [providerKey.publicJwk, ...extraKeys.map((k) => k.publicJwk)];

/** POST /__test/keys {"action": "rekey" | "rotate"}. */
function changeKeys(action) {
  const current = harnessKey ?? providerKey;
  if (action === 'rekey') {
    // New key material under the same kid: a cached key no longer verifies.
    harnessKey = newKey(idTokenAlg, current.publicJwk.kid);
    publishedKeys = publishedKeys.map((k) => (k.kid === current.publicJwk.kid ? harnessKey.publicJwk : k));
  } else if (action === 'rotate') {
    // To the next key already published (ES256), as providers rotate; else
    // to a new key with a new kid, published from now on.
    const next = extraKeys.find((k) => k.alg === idTokenAlg && k !== current);
    if (next) {
      harnessKey = next;
    } else {
      harnessKey = newKey(idTokenAlg);
      publishedKeys = [harnessKey.publicJwk, ...publishedKeys];
    }
  } else {
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- JWT helpers

const b64json = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const unb64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** Signs header.payload with the key in use (RS256 or ES256, JOSE form). */
function resign(header, payload) {
  const key = harnessKey ?? providerKey;
  const h = { ...header, alg: key.alg, kid: key.publicJwk.kid };
  const input = `${b64json(h)}.${b64json(payload)}`;
  const signature = crypto
    .sign('sha256', Buffer.from(input), key.alg === 'ES256'
      ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' }
      : key.privateKey)
    .toString('base64url');
  return `${input}.${signature}`;
}

/** Alters a freshly issued ID token as the current mode says. */
function alterIdToken(idToken, how) {
  const [h, p, s] = idToken.split('.');
  const header = unb64json(h);
  const payload = unb64json(p);
  const now = Math.floor(Date.now() / 1000);

  switch (how) {
    case 'tamper_signature': {
      // New payload, original header and signature: the signature no longer
      // matches.
      const tampered = { ...payload, sub: 'test-resident-9999' };
      if ('name' in tampered) tampered.name = '改ざん 太郎';
      return `${h}.${b64json(tampered)}.${s}`;
    }
    case 'wrong_nonce':
      return resign(header, { ...payload, nonce: `wrong-${crypto.randomBytes(12).toString('base64url')}` });
    case 'wrong_audience':
      return resign(header, { ...payload, aud: 'someone-else' });
    case 'expired': {
      // Shift the token an hour into the past beyond its own lifetime:
      // exp = now - 1h, iat = exp - original lifetime.
      const lifetime = Number.isInteger(payload.exp - payload.iat) ? payload.exp - payload.iat : 3600;
      const exp = now - 3600;
      return resign(header, { ...payload, exp, iat: exp - lifetime });
    }
    case 'wrong_issuer':
      return resign(header, { ...payload, iss: 'http://evil.example' });
    case 'alg_none':
      return `${b64json({ alg: 'none' })}.${p}.`;
    default:
      // Re-keyed or rotated: every token is signed with the new key.
      return harnessKey ? resign(header, payload) : idToken;
  }
}

// ---------------------------------------------------------------- HTTP helpers

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

async function readBody(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------- server

// The issuer holds the port, so listen first, then build the provider.
let dispatch = (_req, res) => sendJson(res, 503, { error: 'starting' });
const server = http.createServer((req, res) => dispatch(req, res));
server.keepAliveTimeout = 1000;

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(requestedPort, '127.0.0.1', () => {
    server.off('error', reject);
    resolve();
  });
});

const { port } = server.address();
const issuer = `http://${args.host}:${port}${issuerPath}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: clientJwks,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: idTokenAlg,
    ...(args['signed-userinfo'] ? { userinfo_signed_response_alg: idTokenAlg } : {}),
  }],
  jwks: { keys: [providerKey.privateJwk] },
  clientAuthMethods: ['private_key_jwt'],
  responseTypes: ['code'],
  scopes: ['openid', 'name', 'address', 'birthdate', 'gender'],
  claims: {
    acr: null,
    auth_time: null,
    iss: null,
    sid: null,
    openid: ['sub'],
    name: ['name', 'family_name', 'given_name', 'middle_name'],
    address: ['address'],
    birthdate: ['birthdate'],
    gender: ['gender'],
  },
  // With --claims both, claims of the granted scopes go into the ID token
  // too; with --claims userinfo, only to the userinfo endpoint (the spec).
  conformIdTokenClaims: args.claims === 'userinfo',
  // PKCE for every request; oidc-provider 9 supports S256 only.
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    jwtUserinfo: { enabled: args['signed-userinfo'] },
  },
  // Cookies do not tell ports apart: the provider and madoguchi both run on
  // 127.0.0.1, so the provider's cookies get names of their own.
  cookies: {
    names: {
      session: 'test_op_session',
      interaction: 'test_op_interaction',
      resume: 'test_op_interaction_resume',
    },
  },
  interactions: {
    url: (_ctx, interaction) => `${issuerPath}/interaction/${interaction.uid}`,
  },
  async findAccount(_ctx, sub) {
    if (sub !== SUBJECT) return undefined;
    return {
      accountId: SUBJECT,
      // oidc-provider keeps only the claims of the granted scopes.
      async claims() {
        return { ...structuredClone(accountClaims), sub: SUBJECT };
      },
    };
  },
  // Errors as JSON rather than an HTML page.
  async renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
});

// oidc-provider checks static clients' metadata on first use; check it now,
// so that bad flags fail here rather than at the first request.
try {
  await provider.Client.find(CLIENT_ID);
} catch (err) {
  console.error(`invalid client metadata: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`);
  process.exit(2);
}

// Cookies: oidc-provider marks them Secure only when the request itself is
// https (ctx.secure); over plain http on 127.0.0.1 they are not Secure, so
// clients keep and send them. No `proxy` setting is needed.

provider.on('server_error', (ctx, err) => {
  console.error(`server_error on ${ctx.method} ${ctx.path}:`, err);
});
for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'discovery.error']) {
  provider.on(event, (ctx, err) => {
    console.error(`${event} on ${ctx.method} ${ctx.path}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`);
  });
}

// Alters the ID token in the token endpoint's response, per the test mode.
provider.use(async (ctx, next) => {
  await next();
  if (mode === 'normal' && !harnessKey) return;
  if (ctx.oidc?.route !== 'token') return;
  const body = ctx.body;
  if (!body || typeof body !== 'object' || typeof body.id_token !== 'string') return;
  ctx.body = { ...body, id_token: alterIdToken(body.id_token, mode) };
  console.error(`token response: id_token altered (${mode}${harnessKey ? ', re-signed' : ''})`);
});

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** --interactive: the login or consent page, a real form the browser posts. */
function interactionPage(res, details) {
  const { prompt, uid } = details;
  const title = prompt.name === 'login' ? 'テスト用認証プロバイダ：ログイン' : 'テスト用認証プロバイダ：同意';
  const button = prompt.name === 'login' ? `${SUBJECT} としてログイン` : '同意して続ける';
  const html = `<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><main><h1>${escapeHtml(title)}</h1>
<form method="post" action="${issuerPath}/interaction/${escapeHtml(uid)}"><button type="submit">${escapeHtml(button)}</button></form>
</main></body></html>`;
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
}

/**
 * Completes an interaction: login as the one resident, then consent to
 * all. Without --interactive at once (GET); with it, when its form is posted.
 */
async function interaction(req, res) {
  try {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params } = details;
    if (args.interactive && req.method === 'GET') {
      interactionPage(res, details);
      return;
    }
    if (args.interactive) await readBody(req);
    let result;

    if (prompt.name === 'login') {
      result = { login: { accountId: SUBJECT } };
    } else if (prompt.name === 'consent') {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
      const d = prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      if (d.missingResourceScopes) {
        for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
          grant.addResourceScope(indicator, scopes.join(' '));
        }
      }
      result = { consent: { grantId: await grant.save() } };
    } else {
      result = {
        error: 'access_denied',
        error_description: `the test provider cannot complete prompt ${prompt.name}`,
      };
    }

    console.error(`interaction ${details.uid}: ${prompt.name} completed`);
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  } catch (err) {
    console.error(`interaction failed: ${err.message}`);
    if (!res.headersSent) {
      sendJson(res, 400, { error: err.error || 'interaction_failed', error_description: err.message });
    }
  }
}

/** GET/POST /__test/mode */
async function testMode(req, res) {
  if (req.method === 'GET') {
    sendJson(res, 200, { mode });
    return;
  }
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'GET, POST');
    sendJson(res, 405, { error: 'method not allowed' });
    return;
  }
  let requested;
  try {
    requested = JSON.parse(await readBody(req))?.mode;
  } catch (err) {
    sendJson(res, 400, { error: `invalid JSON body: ${err.message}` });
    return;
  }
  if (!MODES.has(requested)) {
    sendJson(res, 400, { error: `unknown mode ${JSON.stringify(requested)}`, modes: [...MODES] });
    return;
  }
  mode = requested;
  console.error(`mode: ${mode}`);
  sendJson(res, 200, { mode });
}

/** POST /__test/keys {"action":"rekey"|"rotate"} */
async function testKeys(req, res) {
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    sendJson(res, 405, { error: 'method not allowed' });
    return;
  }
  let action;
  try {
    action = JSON.parse(await readBody(req))?.action;
  } catch (err) {
    sendJson(res, 400, { error: `invalid JSON body: ${err.message}` });
    return;
  }
  if (!changeKeys(action)) {
    sendJson(res, 400, { error: `unknown action ${JSON.stringify(action)}`, actions: ['rekey', 'rotate'] });
    return;
  }
  console.error(`keys: ${action}, signing with kid ${harnessKey.publicJwk.kid}`);
  sendJson(res, 200, { action, kid: harnessKey.publicJwk.kid });
}

/** POST /__test/account {claims} sets the resident's claims; {} restores them. */
async function testAccount(req, res) {
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    sendJson(res, 405, { error: 'method not allowed' });
    return;
  }
  let claims;
  try {
    claims = JSON.parse(await readBody(req));
  } catch (err) {
    sendJson(res, 400, { error: `invalid JSON body: ${err.message}` });
    return;
  }
  if (!claims || typeof claims !== 'object' || Array.isArray(claims) || 'sub' in claims) {
    sendJson(res, 400, { error: 'expected a JSON object of claims without sub' });
    return;
  }
  accountClaims = Object.keys(claims).length ? claims : structuredClone(DEFAULT_CLAIMS);
  console.error(`account claims: ${JSON.stringify(accountClaims)}`);
  sendJson(res, 200, accountClaims);
}

/** GET /__test/stats: how often the key set was fetched. */
let jwksFetches = 0;
async function testStats(req, res) {
  sendJson(res, 200, { jwks_fetches: jwksFetches });
}

const providerCallback = provider.callback();

const TEST_ROUTES = {
  '/__test/stats': testStats,
  '/__test/mode': testMode,
  '/__test/keys': testKeys,
  '/__test/account': testAccount,
};

dispatch = (req, res) => {
  const { pathname } = new URL(req.url, `http://${args.host}:${port}`);
  const test = TEST_ROUTES[pathname];
  if (test) {
    test(req, res).catch((err) => {
      console.error(err);
      if (!res.headersSent) sendJson(res, 500, { error: err.message });
    });
    return;
  }
  if (issuerPath && !(pathname === issuerPath || pathname.startsWith(`${issuerPath}/`))) {
    sendJson(res, 404, { error: 'not_found' });
    return;
  }
  const inner = pathname.slice(issuerPath.length) || '/';
  if (/^\/interaction\/[^/]+$/.test(inner) && (req.method === 'GET' || (args.interactive && req.method === 'POST'))) {
    interaction(req, res);
  } else if (inner === '/jwks' && req.method === 'GET') {
    // The published set (re-keyed or rotated keys included).
    jwksFetches += 1;
    sendJson(res, 200, { keys: publishedKeys });
  } else if (inner === '/me' && mode === 'userinfo_error') {
    console.error('userinfo: 500 (userinfo_error)');
    sendJson(res, 500, { error: 'server_error', error_description: 'userinfo_error test mode' });
  } else {
    // oidc-provider mounted under the issuer's path: it routes on the rest
    // and finds its mount path from originalUrl.
    req.originalUrl = req.url;
    req.url = req.url.slice(issuerPath.length) || '/';
    providerCallback(req, res);
  }
};

// ---------------------------------------------------------------- lifetime

let stopping = false;
function stop(reason) {
  if (stopping) return;
  stopping = true;
  console.error(`stopping: ${reason}`);
  server.close();
  server.closeAllConnections?.();
  // Do not wait for anything else.
  setImmediate(() => process.exit(0));
}

process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
if (!args['ignore-stdin']) {
  // The test process holds our stdin; when it dies, stdin closes.
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('close', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume();
}

console.error(`OpenID Provider ${issuer} for client ${CLIENT_ID}, redirect_uris ${redirectUris.join(' ')}`);
process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
