// Event catch-up across servers: a board viewer on server B goes away,
// misses 1,000 calls made through server A, and reconnects to B with
// Last-Event-ID. Reports how long until it has every frame it missed (and
// is current: the last call's frame has arrived). Node's own http client.
//
//   node bench/board_fanout.mjs <base-url-A> <base-url-B> [missed calls]
import http from 'node:http';
import crypto from 'node:crypto';

const [A, B] = [process.argv[2], process.argv[3]];
const missed = Number(process.argv[4] || 1000);
const T = '122289';
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

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

function request(base, method, path, body, headers = {}) {
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

// A stream of B's board; calls `onFrame(id, text)` for each frame.
function stream(lastEventId, onFrame) {
  const headers = lastEventId === null ? {} : { 'Last-Event-ID': String(lastEventId) };
  const req = http.get(B + `/t/${T}/counter/board/events`, { agent: false, headers }, (res) => {
    if (res.statusCode !== 200) throw new Error(`stream ${res.statusCode}`);
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buf += chunk;
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const text = buf.slice(0, end);
        buf = buf.slice(end + 2);
        if (text.startsWith(':')) continue;
        const m = /^id: (\d+)$/m.exec(text);
        onFrame(m ? Number(m[1]) : null, text);
      }
    });
  });
  return req;
}

// A second factor is good once: if board_sse.mjs just used this period's
// code, wait for the next period.
async function signInClerk() {
  for (let attempt = 0; attempt < 2; attempt++) {
    const step = Math.floor(Date.now() / 30000);
    const r = await request(A, 'POST', `/api/v1/t/${T}/staff/session`, {
      id: 'clerk', password: 'madoguchi-demo', code: totp('MFSGC3LPM5UWG2DJMRSW233UN5ZHA5DP', step),
    });
    if (r.status === 200) return r;
    await new Promise((res) => setTimeout(res, (step + 1) * 30000 - Date.now() + 1000));
  }
  throw new Error('the clerk cannot sign in');
}
const signIn = await signInClerk();
const cookie = signIn.headers['set-cookie'].map((c) => c.split(';')[0]).join('; ');

// 1. The viewer on B: its first frame's id is where it will resume.
const last = await new Promise((resolve) => {
  const req = stream(null, (id) => { req.destroy(); resolve(id); });
});
console.log(`viewer on B left at event id ${last}`);

// 2. Missed: tickets issued and called through A.
for (let i = 0; i < missed; i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, missed - i) }, () =>
    request(A, 'POST', `/api/v1/t/${T}/counter/tickets`, { counter: 'c3' })));
}
let lastDisplay = null;
const started = performance.now();
for (let i = 0; i < missed; i++) {
  const r = await request(A, 'POST', `/api/v1/t/${T}/staff/counter/c3/call`, null, { cookie });
  if (r.status !== 200) throw new Error(`call ${r.status} ${r.body}`);
  lastDisplay = JSON.parse(r.body).ticket.display;
}
console.log(`${missed} calls through A in ${((performance.now() - started) / 1000).toFixed(1)} s; last ${lastDisplay}`);
// The counts of the last change follow within a refresh.
await new Promise((r) => setTimeout(r, 1500));

// 3. Back on B with Last-Event-ID.
const marker = `"display":"${lastDisplay}"`;
const t0 = performance.now();
let frames = 0, calls = 0, firstAt = null, prev = last, inOrder = true;
const done = await new Promise((resolve) => {
  const req = stream(last, (id, text) => {
    if (firstAt === null) firstAt = performance.now() - t0;
    if (id !== null) { frames++; if (id <= prev) inOrder = false; prev = id; }
    if (text.includes('"called":{')) calls++;
    if (text.includes(marker)) { const at = performance.now() - t0; req.destroy(); resolve(at); }
  });
});
console.log(`RESULT missed_calls=${missed} frames_replayed=${frames} calls_replayed=${calls} in_order=${inOrder} first_frame_ms=${firstAt.toFixed(1)} current_ms=${done.toFixed(1)}`);
process.exit(calls === missed && inOrder ? 0 : 1);
