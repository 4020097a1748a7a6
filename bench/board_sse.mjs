// 10,000 display-board viewers on Server-Sent Events: how long each call
// takes to reach every viewer. Node's own http client, no packages.
//
//   node bench/board_sse.mjs <base-url>[,<base-url>…] [viewers] [calls]
//
// With several servers (bench/board_fanout.sh), viewers are spread over
// them in turn and the clerk calls through the first.
import http from 'node:http';
import crypto from 'node:crypto';

const bases = process.argv[2].split(',');
const base = bases[0];
const viewers = Number(process.argv[3] || 10000);
const calls = Number(process.argv[4] || 5);
const T = '122289';
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function totp(secretB32, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '', bytes = [];
  for (const c of secretB32) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const buf = Buffer.alloc(8); buf.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac('sha1', Buffer.from(bytes)).update(buf).digest();
  const o = h[19] & 15;
  return (((h[o] & 127) << 24 | h[o + 1] << 16 | h[o + 2] << 8 | h[o + 3]) % 1e6).toString().padStart(6, '0');
}

function request(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method, agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

// Viewers: each records when an event naming the expected number arrives.
let expected = null;
const arrivals = [];
let connected = 0;
let closed = 0;
const refused = {};
function openViewer(i) {
  return new Promise((resolve) => {
    const req = http.get(bases[i % bases.length] + `/t/${T}/counter/board/events`, { agent: false }, (res) => {
      if (res.statusCode !== 200) refused[res.statusCode] = (refused[res.statusCode] || 0) + 1;
      let first = true;
      // Raw bytes, searched without decoding (the client must cost less
      // than the server it measures). Frames may be split across reads:
      // a short tail of the previous read is searched too, and each viewer
      // counts once per call.
      let tail = null;
      let seen = null;
      res.on('data', (chunk) => {
        if (first) { first = false; connected++; resolve(); }
        if (expected && seen !== expected) {
          const hit = chunk.indexOf(expected.bytes) >= 0
            || (tail !== null && Buffer.concat([tail, chunk]).indexOf(expected.bytes) >= 0);
          if (hit) {
            seen = expected;
            arrivals.push(performance.now() - expected.at);
          }
        }
        tail = chunk.length > 64 ? chunk.subarray(chunk.length - 64) : chunk;
      });
    });
    req.on('error', (e) => { console.error('viewer error', e.message); resolve(); });
    req.on('close', () => { closed++; });
  });
}

const opened = [];
for (let i = 0; i < viewers; i++) {
  opened.push(openViewer(i));
  if (i % 500 === 499) await new Promise((r) => setTimeout(r, 50));
}
await Promise.all(opened);
console.log(`viewers connected: ${connected} over ${bases.length} server(s)${Object.keys(refused).length ? ' refused: ' + JSON.stringify(refused) : ''}`);

// A clerk signs in (demo account, second factor from the demo secret).
const step = Math.floor(Date.now() / 30000);
const signIn = await request('POST', `/api/v1/t/${T}/staff/session`, {
  id: 'clerk', password: 'madoguchi-demo', code: totp('MFSGC3LPM5UWG2DJMRSW233UN5ZHA5DP', step),
});
if (signIn.status !== 200) throw new Error(`sign-in ${signIn.status} ${signIn.body}`);
const cookie = signIn.headers['set-cookie'].map((c) => c.split(';')[0]).join('; ');

const results = [];
for (let n = 0; n < calls; n++) {
  const t = JSON.parse((await request('POST', `/api/v1/t/${T}/counter/tickets`, { counter: 'c3' })).body).ticket;
  await new Promise((r) => setTimeout(r, 300));
  arrivals.length = 0;
  expected = { bytes: Buffer.from(`"display":"${t.display}"`), at: performance.now() };
  const r = await request('POST', `/api/v1/t/${T}/staff/counter/c3/call`, null, { cookie });
  if (r.status !== 200) throw new Error(`call ${r.status} ${r.body}`);
  const answered = performance.now() - expected.at;
  const deadline = performance.now() + 5000;
  while (arrivals.length < connected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const sorted = [...arrivals].sort((a, b) => a - b);
  const p = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  results.push({ received: sorted.length, p50: p(0.5), p99: p(0.99), max: sorted[sorted.length - 1] });
  const first = sorted[0];
  if (closed) console.log(`viewers closed so far: ${closed}`);
  console.log(`call ${n + 1}: ${t.display} reached ${sorted.length}/${connected} viewers; p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms (first viewer ${first.toFixed(1)} ms, call answered ${answered.toFixed(1)} ms)`);
  expected = null;
}
const worst = results.reduce((a, b) => (b.p99 > a.p99 ? b : a));
console.log(`RESULT viewers=${connected} calls=${calls} worst_p99_ms=${worst.p99.toFixed(1)} all_received=${results.every((r) => r.received === connected)}`);
process.exit(0);
