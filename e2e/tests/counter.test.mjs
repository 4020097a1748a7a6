// The smart counter (四街道市): the kiosk, the resident's ticket page, the
// display board, the clerk's calling page and the congestion page.
//
// - axe-core (WCAG 2.0/2.1 A and AA) finds nothing, in Japanese and in
//   English, on the kiosk, a ticket right after issuing (with its QR code),
//   the ticket once called, the board before and after a call (with the
//   announcement shown) and the clerk's page with a called ticket.
// - The board updates itself live (Server-Sent Events): a clerk's call in
//   another browser context shows up in the row and in the announcement
//   without the board page being reloaded, not even by the no-JavaScript
//   refresh; a waiting ticket's page likewise updates in place.
// - Keyboard only: Tab to a counter's button on the kiosk, Enter, a ticket.
// - Without JavaScript: the kiosk issues a ticket, and the board and the
//   waiting ticket keep themselves current with a meta refresh.
// - The congestion page (混雑状況): axe finds nothing in Japanese and in
//   English; every band has a text label and a shape, not colour alone;
//   the forecast is a table with a caption and row and column headers,
//   with the demo's eight weeks of history in it and the best times
//   marked; keyboard only, another counter's forecast is chosen and
//   shown; the CSV link gives UTF-8 with a byte order mark; with
//   JavaScript the current state updates in place, without it the page
//   reloads itself.
//
// - The wall screen (1920 × 1080): no site chrome, every counter, large
//   numbers, nothing to scroll; axe finds nothing.
// - Kiosk mode: after a ticket, the kiosk's tablet goes back to its start
//   by itself (meta refresh, with the CSP as served).
//
// Each part uses its own counters (c2/c3 for axe, c1 for the live board,
// c4 the live ticket, c7 keyboard, c5 no JavaScript, c8 the congestion
// page's live update), so their queues do not interfere. The demo clerk
// works in 市民課, which runs counters 1–4: the clerk calls only there.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, staffSignIn, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
const TICKET_RE = (counter) => new RegExp(`^${counter.toUpperCase()}-\\d{3}$`);
/** The board reloads itself every this many seconds without JavaScript. */
const BOARD_REFRESH_SECONDS = 15;

let browser;
/** One clerk, signed in once for the whole file (each sign-in uses a TOTP step). */
let clerk;

before(async () => {
  browser = await launch();
  clerk = await newPage(browser);
  await staffSignIn(clerk.page, T, 'clerk');
});

after(async () => {
  await browser?.close();
});

/** The kiosk's button for a counter. */
function kioskButton(page, counter) {
  return page.locator(`form[action="/t/${T}/counter/tickets"]:has(input[name="counter"][value="${counter}"]) button[type="submit"]`);
}

/**
 * Presses the kiosk's button for a counter (the kiosk must be open on the
 * page); returns the ticket as shown on the ticket page it leads to.
 */
async function takeTicket(page, counter) {
  await submitVia(page, `form[action="/t/${T}/counter/tickets"]:has(input[name="counter"][value="${counter}"]) button[type="submit"]`);
  return readTicketPage(page, counter);
}

/** The ticket page now shown: its number and link (without ?new=1). */
async function readTicketPage(page, counter) {
  const at = new URL(page.url());
  assert.match(at.pathname, new RegExp(`^/t/${T}/tickets/[^/]+/[^/]+$`), `a ticket page: ${page.url()}`);
  const display = (await page.textContent('.ticket .ticket-number'))?.trim();
  assert.match(display, TICKET_RE(counter), `the ticket's number: ${display}`);
  return { display, path: at.pathname, newMarker: at.searchParams.get('new') };
}

/** Active meta refresh elements (not the text inside a <noscript> with scripting on). */
async function metaRefresh(page) {
  return page.$$eval('meta[http-equiv="refresh" i]', (ms) => ms.map((m) => m.getAttribute('content')));
}

/** The clerk calls the next number of a counter; returns the number now called there. */
async function clerkCalls(counter, lang) {
  const { page } = clerk;
  await page.goto(url(`/t/${T}/staff/counter?c=${counter}&lang=${lang}`));
  assert.equal(new URL(page.url()).pathname, `/t/${T}/staff/counter`, 'the clerk is signed in');
  await submitVia(page, `form[action="/t/${T}/staff/counter/${counter}/call"] button[type="submit"]`);
  const at = new URL(page.url());
  assert.equal(at.pathname, `/t/${T}/staff/counter`);
  assert.equal(at.searchParams.get('c'), counter, 'back on the same counter');
  assert.equal(at.searchParams.get('notice'), null, `someone was waiting at ${counter}`);
  return (await page.textContent('main .ticket-number'))?.trim();
}

/** The board's cell of a counter. */
function boardCell(page, counter, field) {
  return page.locator(`tr[data-counter="${counter}"] [data-field="${field}"]`);
}

for (const [lang, counter] of [['ja', 'c2'], ['en', 'c3']]) {
  describe(`smart counter, axe, ${lang}`, () => {
    let resident; // the resident's context: the kiosk and the ticket
    let board; // a board page in the same context, open across the call
    let ticket;

    before(async () => {
      resident = await newPage(browser);
      // ?lang= sets the language cookie for the rest of this context.
      await resident.page.goto(url(`/?lang=${lang}`));
    });

    after(async () => {
      await resident?.context.close();
    });

    async function expectLang(page, what) {
      assert.equal(await page.getAttribute('html', 'lang'), lang, `html lang of ${what}`);
    }

    test('kiosk', async () => {
      const { page } = resident;
      const response = await page.goto(url(`/t/${T}/counter`));
      assert.equal(response.status(), 200);
      await expectLang(page, 'the kiosk');
      assert.equal(await kioskButton(page, counter).count(), 1, `a button for ${counter}`);
      assert.equal(await kioskButton(page, counter).isEnabled(), true, `${counter} is open`);
      await expectNoAxeViolations(assert, page, `${lang} kiosk`);
    });

    test('ticket right after issuing: number, counter, place, QR code, status link', async () => {
      const { page } = resident;
      ticket = await takeTicket(page, counter);
      assert.equal(ticket.newMarker, '1', 'the kiosk leads to the new ticket (?new=1)');
      await expectLang(page, 'the ticket page');
      assert.ok((await page.textContent('.ticket .ticket-counter')).trim().length > 0, 'the counter is named');
      assert.match(await page.textContent('.ticket .ticket-state'), lang === 'ja' ? /人/ : /ahead/,
        'the people ahead are shown');
      assert.equal(await page.locator('.qr-code svg[aria-hidden="true"]').count(), 1, 'a QR code, hidden from screen readers');
      assert.ok((await page.locator('.qr-code figcaption').textContent()).trim().length > 0, 'the QR code has a caption');
      const link = (await page.textContent('.ticket-qr .secret-text')).trim();
      assert.ok(link.endsWith(ticket.path), `the status link ${link} is this ticket's page ${ticket.path}`);
      await expectNoAxeViolations(assert, page, `${lang} ticket page, new (with QR code)`);
    });

    test('board before the call', async () => {
      board = await resident.context.newPage();
      const response = await board.goto(url(`/t/${T}/counter/board`));
      assert.equal(response.status(), 200);
      await expectLang(board, 'the board');
      assert.ok(Number(await boardCell(board, counter, 'waiting').textContent()) >= 1,
        `the board counts the waiting ticket at ${counter}`);
      await expectNoAxeViolations(assert, board, `${lang} board`);
    });

    test('clerk page with a called ticket', async () => {
      const called = await clerkCalls(counter, lang);
      assert.equal(called, ticket.display, 'the clerk calls the ticket just taken');
      await expectLang(clerk.page, 'the clerk page');
      for (const action of ['recall', 'finish', 'absent', 'transfer']) {
        assert.equal(await clerk.page.locator(`form[action$="/${action}"] button[type="submit"]`).count(), 1,
          `a ${action} button`);
      }
      await expectNoAxeViolations(assert, clerk.page, `${lang} clerk counter page, ticket called`);
    });

    test('board after the call: number and announcement shown', async () => {
      await boardCell(board, counter, 'now_calling').filter({ hasText: ticket.display }).waitFor();
      const announce = board.locator('[data-board-announce]');
      await announce.filter({ hasText: ticket.display }).waitFor();
      await expectNoAxeViolations(assert, board, `${lang} board after a call (announcement shown)`);
    });

    test('ticket page once called', async () => {
      const { page } = resident;
      await page.goto(url(ticket.path));
      await expectLang(page, 'the called ticket');
      assert.equal((await page.textContent('.ticket .ticket-number')).trim(), ticket.display);
      assert.equal(await page.locator('.ticket .ticket-state--called').count(), 1, 'the ticket says it is called');
      assert.equal(await page.locator('.qr-code').count(), 0, 'the QR code is shown only right after issuing');
      await expectNoAxeViolations(assert, page, `${lang} ticket page, called`);
    });
  });
}

test('live board: a call shows up without reloading the board', async () => {
  const counter = 'c1';
  const viewer = await newPage(browser);
  try {
    const { page } = viewer;
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
    const events = page.waitForResponse((r) => new URL(r.url()).pathname === `/t/${T}/counter/board/events`);
    await page.goto(url(`/t/${T}/counter/board?lang=ja`));
    const loadedAt = Date.now();
    const stream = await events;
    assert.equal(stream.status(), 200, 'the board subscribes to its event stream');
    assert.match(stream.headers()['content-type'] || '', /^text\/event-stream/);
    assert.deepEqual(await metaRefresh(page), [], 'with JavaScript the board does not reload itself');
    await page.evaluate(() => { window.__boardMarker = 'still the same page'; });
    const waitingBefore = Number(await boardCell(page, counter, 'waiting').textContent());

    // A ticket (through the API), then a call in another context.
    const issued = await fetch(url(`/api/v1/t/${T}/counter/tickets`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ counter }),
    });
    assert.equal(issued.status, 201);
    const { ticket } = await issued.json();
    assert.match(ticket.display, TICKET_RE(counter));
    await page.waitForFunction(([c, n]) => Number(document.querySelector(
      `tr[data-counter="${c}"] [data-field="waiting"]`).textContent) === n, [counter, waitingBefore + 1]);

    const called = await clerkCalls(counter, 'ja');
    assert.equal(called, ticket.display, 'the clerk calls the ticket issued');

    await boardCell(page, counter, 'now_calling').filter({ hasText: ticket.display }).waitFor();
    assert.equal((await boardCell(page, counter, 'now_calling').textContent()).trim(), ticket.display);
    const announce = page.locator('[data-board-announce]');
    await announce.filter({ hasText: ticket.display }).waitFor();
    const counterName = (await page.textContent(`tr[data-counter="${counter}"] th`)).trim();
    assert.equal((await announce.textContent()).trim(), `${ticket.display} 番の方、${counterName}へお越しください。`);
    assert.equal(await announce.getAttribute('aria-live'), 'assertive', 'the announcement is a live region');

    // Still the page loaded at first, also after the no-JavaScript refresh
    // interval has passed.
    const until = loadedAt + (BOARD_REFRESH_SECONDS + 5) * 1000;
    if (Date.now() < until) await sleep(until - Date.now());
    assert.equal(await page.evaluate(() => window.__boardMarker), 'still the same page',
      'the board page was not reloaded');
    assert.equal(navigations, 1, 'one navigation: the first load');
    assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), 1);
    assert.equal((await boardCell(page, counter, 'now_calling').textContent()).trim(), ticket.display);
    assert.match(await announce.textContent(), new RegExp(ticket.display), 'the announcement stays');
  } finally {
    await viewer.context.close();
  }
});

test('with JavaScript: the waiting ticket updates in place, without a reload', async () => {
  const counter = 'c4';
  const { context, page } = await newPage(browser);
  try {
    // A fake clock for the page's timers, so the 30 s wait takes no time.
    await page.clock.install();
    await page.goto(url(`/t/${T}/counter?lang=ja`));
    const ticket = await takeTicket(page, counter);
    assert.deepEqual(await metaRefresh(page), [], 'with JavaScript the ticket page does not reload itself');
    assert.equal(await page.getAttribute('.ticket', 'data-ticket-refresh'), '30');
    assert.equal(await page.locator('.ticket .ticket-state--called').count(), 0, 'waiting at first');
    await page.evaluate(() => { window.__ticketMarker = 'still the same page'; });

    assert.equal(await clerkCalls(counter, 'ja'), ticket.display);
    await page.clock.runFor(31_000);
    await page.locator('.ticket .ticket-state--called').waitFor();
    assert.match(await page.textContent('.ticket .ticket-state--called'), /お呼びしています/);
    assert.equal(await page.evaluate(() => window.__ticketMarker), 'still the same page',
      'the ticket page was updated in place, not reloaded');
    assert.equal(await page.locator('.qr-code svg').count(), 1, 'the QR code stays');
    assert.equal(await page.getAttribute('.ticket', 'data-ticket-refresh'), null,
      'called: no more updates');
  } finally {
    await context.close();
  }
});

test('keyboard only: Tab to a counter on the kiosk, Enter, a ticket', async () => {
  const counter = 'c7';
  const { context, page } = await newPage(browser);
  try {
    await page.goto(url(`/t/${T}/counter`));
    const target = `form:has(input[name="counter"][value="${counter}"]) button[type="submit"]`;
    let reached = false;
    const stops = [];
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate((sel) => {
        const el = document.activeElement;
        const r = el.getBoundingClientRect();
        const cs = getComputedStyle(el);
        return {
          tag: el.tagName.toLowerCase(),
          text: (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 50),
          visible: r.width > 0 && r.height > 0,
          outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0,
          isTarget: el.matches(sel),
        };
      }, target);
      stops.push(`<${f.tag}> ${f.text}`);
      assert.notEqual(f.tag, 'body', `Tab moved focus to nothing:\n${stops.join('\n')}`);
      assert.ok(f.visible && f.outline, `Tab stop not visible or without a focus indicator: <${f.tag}> ${f.text}`);
      reached = f.isTarget;
    }
    assert.ok(reached, `no Tab stop on the ${counter} button:\n${stops.join('\n')}`);
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.keyboard.press('Enter'),
    ]);
    const ticket = await readTicketPage(page, counter);
    assert.equal(ticket.newMarker, '1');
  } finally {
    await context.close();
  }
});

test('no JavaScript: the kiosk issues a ticket; the ticket and the board refresh themselves', async () => {
  const counter = 'c5';
  const { context, page } = await newPage(browser, { javaScriptEnabled: false });
  try {
    await page.goto(url(`/t/${T}/counter?lang=ja`));
    const ticket = await takeTicket(page, counter);
    assert.equal(ticket.newMarker, '1');
    assert.equal(await page.locator('.qr-code svg').count(), 1, 'the QR code is inline SVG');
    assert.deepEqual(await metaRefresh(page), ['30'], 'the waiting ticket reloads itself every 30 s');

    const response = await page.goto(url(`/t/${T}/counter/board`));
    assert.equal(response.status(), 200);
    assert.deepEqual(await metaRefresh(page), [String(BOARD_REFRESH_SECONDS)],
      'the board reloads itself without JavaScript');
    assert.ok(Number(await boardCell(page, counter, 'waiting').textContent()) >= 1,
      `the board counts the ticket waiting at ${counter}`);
    assert.equal((await page.textContent('[data-board-announce]')).trim(), '',
      'JavaScript is really off: nothing announced');

    await page.goto(url(`/t/${T}/counter/congestion`));
    assert.deepEqual(await metaRefresh(page), ['60'], 'the congestion page reloads itself without JavaScript');
    assert.ok(Number((await page.textContent(`.congestion-table tr[data-counter="${counter}"] [data-field="waiting"]`)).replace(/\D/g, '')) >= 1,
      `the congestion page counts the ticket waiting at ${counter}`);
  } finally {
    await context.close();
  }
});

/** Where keyboard focus is now, and whether it can be seen. */
async function focused(page, selector) {
  return page.evaluate((sel) => {
    const el = document.activeElement;
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(),
      text: (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 50),
      visible: r.width > 0 && r.height > 0,
      outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0,
      isTarget: el.matches(sel),
    };
  }, selector);
}

/** Presses Tab until `selector` has focus; every stop must show a focus indicator. */
async function tabTo(page, selector, max = 60) {
  const stops = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page, selector);
    stops.push(`<${f.tag}> ${f.text}`);
    assert.notEqual(f.tag, 'body', `Tab moved focus to nothing:\n${stops.join('\n')}`);
    assert.ok(f.visible && f.outline, `Tab stop not visible or without a focus indicator: <${f.tag}> ${f.text}`);
    if (f.isTarget) return;
  }
  assert.fail(`no Tab stop on ${selector}:\n${stops.join('\n')}`);
}

for (const lang of ['ja', 'en']) {
  test(`congestion page, ${lang}: bands with labels, the forecast table, axe`, async () => {
    const { context, page } = await newPage(browser);
    try {
      const response = await page.goto(url(`/t/${T}/counter/congestion?c=c2&lang=${lang}`));
      assert.equal(response.status(), 200);
      assert.equal(await page.getAttribute('html', 'lang'), lang);

      // Now: a row per counter, each band a shape and a word.
      const rows = page.locator('.congestion-table tbody tr');
      assert.equal(await rows.count(), 8, 'the eight counters of 四街道市');
      for (const band of await page.locator('.band').all()) {
        assert.ok((await band.innerText()).trim().length > 0, 'every band has a text label');
      }
      assert.equal(await page.locator('.band svg:not([aria-hidden="true"])').count(), 0,
        'the shapes are decorative for screen readers');

      // The forecast: a real table, with the demo's history in it.
      const table = page.locator('.forecast-table');
      assert.match(await table.locator('caption').innerText(), lang === 'ja' ? /2番窓口/ : /Counter 2/);
      assert.equal(await table.locator('thead th[scope="col"]').count(), 1 + 5, 'time, Monday to Friday');
      assert.equal(await table.locator('tbody th[scope="row"]').count(), 10, '8 to 17 o\'clock');
      assert.ok(await table.locator('.forecast-cell .band').count() >= 40, 'most hours have an estimate');
      assert.ok(await table.locator('.band--moderate, .band--crowded').count() > 0, 'the morning peaks show');
      assert.equal(await table.locator('.forecast-cell--best').count(), 3, 'the three quietest times are marked');
      assert.equal(await page.locator('ol.best-times li').count(), 3, 'and listed in words');

      // Open data: the CSV link.
      const href = await page.getAttribute('a[href$="/counter/congestion.csv"]', 'href');
      const csv = await page.request.get(url(href));
      assert.equal(csv.status(), 200);
      assert.match(csv.headers()['content-type'], /^text\/csv/);
      const bytes = await csv.body();
      assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 with a byte order mark');
      assert.match(bytes.subarray(3).toString('utf8').split('\n')[0], /^全国地方公共団体コード,地方公共団体名,日付,曜日,時台,窓口コード/);

      await expectNoAxeViolations(assert, page, `${lang} congestion page`);
    } finally {
      await context.close();
    }
  });
}

test('congestion page, keyboard only: choose another counter\'s forecast', async () => {
  const { context, page } = await newPage(browser);
  try {
    await page.goto(url(`/t/${T}/counter/congestion?lang=ja`));
    await tabTo(page, '#forecast-counter');
    // A closed select changes with the arrow keys.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.inputValue('#forecast-counter'), 'c3');
    await tabTo(page, 'form:has(#forecast-counter) button[type="submit"]', 3);
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.keyboard.press('Enter'),
    ]);
    const at = new URL(page.url());
    assert.equal(at.searchParams.get('c'), 'c3');
    assert.match(await page.locator('.forecast-table caption').innerText(), /3番窓口/);
    assert.equal(await page.inputValue('#forecast-counter'), 'c3', 'the choice stays selected');
  } finally {
    await context.close();
  }
});

test('with JavaScript: the congestion page updates its current state in place', async () => {
  const counter = 'c8';
  const { context, page } = await newPage(browser);
  try {
    await page.clock.install();
    await page.goto(url(`/t/${T}/counter/congestion?lang=ja`));
    assert.deepEqual(await metaRefresh(page), [], 'with JavaScript the page does not reload itself');
    await page.evaluate(() => { window.__congestionMarker = 'still the same page'; });
    const cell = page.locator(`.congestion-table tr[data-counter="${counter}"] [data-field="waiting"]`);
    const before = Number((await cell.innerText()).replace(/\D/g, ''));
    const issued = await fetch(url(`/api/v1/t/${T}/counter/tickets`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ counter }),
    });
    assert.equal(issued.status, 201);
    await page.clock.runFor(61_000);
    await cell.filter({ hasText: new RegExp(`^${before + 1} 人$`) }).waitFor();
    assert.equal(await page.evaluate(() => window.__congestionMarker), 'still the same page',
      'updated in place, not reloaded');
  } finally {
    await context.close();
  }
});

test('wall screen: 1920 × 1080, every counter, large numbers, nothing to scroll', async () => {
  const { page, context } = await newPage(browser, { viewport: { width: 1920, height: 1080 } });
  try {
    await page.goto(url(`/t/${T}/counter/board/signage`));
    const api = await (await fetch(url(`/api/v1/t/${T}/counter/board`))).json();
    assert.equal(await page.locator('tr[data-counter]').count(), api.counters.length);
    assert.equal(await page.locator('.site-header, .site-footer, .breadcrumbs').count(), 0);
    const size = await page.evaluate(() => ({
      h: document.documentElement.scrollHeight, w: document.documentElement.scrollWidth,
    }));
    assert.ok(size.h <= 1080 && size.w <= 1920, `the wall screen scrolls: ${size.w} × ${size.h}`);
    const px = (sel) => page.locator(sel).first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    assert.ok(await px('.board-calling') >= 64, 'the numbers called are at least 64 px');
    assert.ok(await px('tbody th') >= 40, 'the counters\' names are at least 40 px');
    await expectNoAxeViolations(assert, page, 'wall screen');
  } finally {
    await context.close();
  }
});

for (const javaScriptEnabled of [true, false]) {
  test(`kiosk mode: after a ticket the tablet returns to its start by itself (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
    const { page, context } = await newPage(browser, { javaScriptEnabled });
    try {
      await page.goto(url(`/t/${T}/counter?kiosk=1`));
      await submitVia(page, 'form:has(input[name="counter"][value="c6"]) button');
      const number = (await page.textContent('.ticket-number')).trim();
      assert.match(number, TICKET_RE('c6'));
      if (javaScriptEnabled) await expectNoAxeViolations(assert, page, 'kiosk-mode ticket');
      // Back to the start after 30 seconds, without a click.
      await page.waitForURL((u) => u.pathname === `/t/${T}/counter` && u.searchParams.get('kiosk') === '1',
        { timeout: 45_000 });
      assert.equal(await page.locator('.ticket-number').count(), 0, 'the ticket is gone from the screen');
      assert.ok(await page.locator('input[name="kiosk"][value="1"]').count() > 0, 'still in kiosk mode');
    } finally {
      await context.close();
    }
  });
}
