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
// Login and consent are completed automatically (no HTML), and
// POST /__test/mode lets a test make the token endpoint hand out bad ID
// tokens. See README.md beside this file.

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
  + '--client-jwks FILE [--port N] [--ignore-stdin]';

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      'redirect-uri': { type: 'string', multiple: true },
      'client-jwks': { type: 'string' },
      port: { type: 'string', default: '0' },
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

/** The one resident who can sign in. */
const ACCOUNT = Object.freeze({
  sub: 'test-resident-0001',
  name: '四街道 花子',
  address: { formatted: '千葉県四街道市鹿渡無番地' },
  birthdate: '1990-04-01',
  gender: 'female',
});

const MODES = new Set([
  'normal',
  'tamper_signature',
  'wrong_nonce',
  'wrong_audience',
  'expired',
  'wrong_issuer',
  'alg_none',
]);

let mode = 'normal';

// ---------------------------------------------------------------- keys

// A fresh RS256 signing key for this run, published at the jwks_uri.
const { privateKey: signingKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = signingKey.export({ format: 'jwk' });
// RFC 7638 thumbprint as the kid.
signingJwk.kid = crypto
  .createHash('sha256')
  .update(JSON.stringify({ e: signingJwk.e, kty: 'RSA', n: signingJwk.n }))
  .digest('base64url');
signingJwk.alg = 'RS256';
signingJwk.use = 'sig';

// ---------------------------------------------------------------- JWT helpers

const b64json = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const unb64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** Signs header.payload with the provider's own RSA key (RS256). */
function resign(header, payload) {
  const input = `${b64json(header)}.${b64json(payload)}`;
  const signature = crypto.sign('sha256', Buffer.from(input), signingKey).toString('base64url');
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
      return idToken;
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
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: clientJwks,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [signingJwk] },
  clientAuthMethods: ['private_key_jwt'],
  responseTypes: ['code'],
  scopes: ['openid', 'name', 'address', 'birthdate', 'gender'],
  claims: {
    acr: null,
    auth_time: null,
    iss: null,
    sid: null,
    openid: ['sub'],
    name: ['name'],
    address: ['address'],
    birthdate: ['birthdate'],
    gender: ['gender'],
  },
  // Claims of the granted scopes go into the ID token too, not only to
  // the userinfo endpoint.
  conformIdTokenClaims: false,
  // PKCE for every request; oidc-provider 9 supports S256 only.
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
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
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  async findAccount(_ctx, sub) {
    if (sub !== ACCOUNT.sub) return undefined;
    return {
      accountId: ACCOUNT.sub,
      // oidc-provider keeps only the claims of the granted scopes.
      async claims() {
        return structuredClone(ACCOUNT);
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
  if (mode === 'normal') return;
  if (ctx.oidc?.route !== 'token') return;
  const body = ctx.body;
  if (!body || typeof body !== 'object' || typeof body.id_token !== 'string') return;
  ctx.body = { ...body, id_token: alterIdToken(body.id_token, mode) };
  console.error(`token response: id_token altered (${mode})`);
});

/** Completes each interaction at once: login as ACCOUNT, then consent to all. */
async function interaction(req, res) {
  try {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params } = details;
    let result;

    if (prompt.name === 'login') {
      result = { login: { accountId: ACCOUNT.sub } };
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

const providerCallback = provider.callback();

dispatch = (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  if (pathname === '/__test/mode') {
    testMode(req, res).catch((err) => {
      console.error(err);
      if (!res.headersSent) sendJson(res, 500, { error: err.message });
    });
  } else if (/^\/interaction\/[^/]+$/.test(pathname) && req.method === 'GET') {
    interaction(req, res);
  } else {
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
