// チャット (四街道市): the chat page passes axe-core in Japanese and
// English, empty, with an answer and its sources, declined, and with an
// error; a conversation is held by keyboard alone and without
// JavaScript (a plain form); it fits a 375px-wide phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, url, submitVia, expectNoAxeViolations, expectNoHorizontalScroll, YOTSUKAIDO,
} from '../lib.mjs';

const T = YOTSUKAIDO;
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function ask(page, text) {
  await page.fill('#field-message', text);
  await submitVia(page, 'main form button[type="submit"]');
}

for (const lang of ['ja', 'en']) {
  test(`chat page, axe, ${lang}`, async () => {
    const { page, context } = await newPage(browser);
    await page.goto(url(`/t/${T}/chat?lang=${lang}`));
    await expectNoAxeViolations(assert, page, `chat (${lang})`);
    await ask(page, '住民票の取り方');
    assert.ok(await page.locator('.chat-sources a').count() >= 1, 'sources shown');
    await expectNoAxeViolations(assert, page, `chat with an answer (${lang})`);
    await ask(page, 'ほげほげふがふが');
    assert.equal(await page.locator('.chat-turn').count(), 2, 'both turns shown');
    await expectNoAxeViolations(assert, page, `chat declined (${lang})`);
    await ask(page, '');
    assert.equal(await page.locator('.error-summary').count(), 1);
    await expectNoAxeViolations(assert, page, `chat with an error (${lang})`);
    await context.close();
  });

  test(`chat at 375px, ${lang}`, async () => {
    const { page, context } = await newPage(browser, { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    await page.goto(url(`/t/${T}/chat?lang=${lang}`));
    await ask(page, 'マイナンバーカードの受取に必要なもの');
    await expectNoHorizontalScroll(page, `chat with an answer at 375px (${lang})`);
    await context.close();
  });
}

test('chat by keyboard alone, and without JavaScript', async () => {
  const { page, context } = await newPage(browser);
  await page.goto(url(`/t/${T}/chat?lang=ja`));
  let reached = false;
  for (let i = 0; i < 60 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.id === 'field-message');
  }
  assert.ok(reached, 'the question field is reachable by Tab');
  await page.keyboard.type('粗大ごみの出し方');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.ok(await page.locator('.chat-sources a').count() >= 1, 'answered with sources');
  await context.close();

  const nojs = await newPage(browser, { javaScriptEnabled: false });
  await nojs.page.goto(url(`/t/${T}/chat?lang=ja`));
  await ask(nojs.page, '住民票の取り方');
  await ask(nojs.page, '粗大ごみの出し方');
  const text = await nojs.page.textContent('main');
  assert.ok(text.includes('住民票の取り方') && text.includes('粗大ごみの出し方'), 'the conversation is carried by the form');
  await nojs.context.close();
});
