// The hall's LED board in a real browser: an order moves through every stage as its documents
// are posted (the list is held on its guarantee so that "under review" is visible until the
// guarantor deposits), the ticker announces it when released, and after the server goes away
// and comes back the board resumes with exactly the events it missed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HALL, REGULATOR_KEY, browser, documentSet, keyOf, post, postDoc, shot, startServer, watchErrors } from './harness.mjs';

test('board shows an order moving through every stage and resumes after a dropped connection', async () => {
  let srv = await startServer();
  const b = await browser();
  try {
    const page = await b.newPage({ viewport: { width: 1920, height: 1080 } });
    const errors = watchErrors(page);
    await page.goto(`${srv.base}/board`);
    await page.waitForSelector('#conn.live');
    const card = (set, stage) => page.locator(`.col[data-stage="${stage}"] .card[data-id="${set.id}"]`);

    // The hall also guarantees this order's tax, with nothing deposited yet: the list is held.
    const reg = await post(srv.base, '/api/v1/admin/enterprises', { code: HALL, name: '郑州跨境O2O体验中心有限公司', roles: 'hall,logistics,guarantor', api_key: keyOf(HALL) }, REGULATOR_KEY);
    assert.equal(reg.status, 200, reg.text);
    const a = documentSet(101);
    assert.equal(a.info.logisticsCode, HALL);
    await postDoc(srv.base, a, 'CEB511');
    await card(a, 'ordered').waitFor();
    await shot(page, 'board-1-ordered');
    await postDoc(srv.base, a, 'CEB311');
    await postDoc(srv.base, a, 'CEB621', (x) => x.replace(/(<(?:\w+:)?assureCode>)[^<]*/, `$1${HALL}`));
    await card(a, 'declared').waitFor();
    await shot(page, 'board-2-declared');
    await postDoc(srv.base, a, 'CEB411');
    await card(a, 'review').waitFor();
    await shot(page, 'board-3-review');
    const dep = await post(srv.base, '/api/v1/admin/guarantees', { assureCode: HALL, amount: '100000.00' }, REGULATOR_KEY);
    assert.equal(dep.status, 200, dep.text);
    await card(a, 'ready').waitFor();
    const name = await card(a, 'ready').locator('.name').textContent();
    assert.match(name, /\*/, 'the name is masked');
    await page.waitForFunction((n) => document.getElementById('ticker').textContent.includes(n), name);
    await page.waitForTimeout(1500);  // let the arrival glow settle for the picture
    await shot(page, 'board-4-ready');
    const idSuffix = a.info.buyerIdNumber.slice(-4);
    const pick = await post(srv.base, '/api/v1/hall/pickup', { code: a.info.payTransactionId, idSuffix, clerk: 'T1' }, keyOf(HALL));
    assert.equal(pick.status, 200, pick.text);
    await card(a, 'picked_up').waitFor();
    const body = await page.content();
    assert.ok(!body.includes(a.info.buyerIdNumber), 'no ID number on the board');
    assert.ok(!body.includes(a.info.buyerName), 'no full name on the board');

    // More traffic, in every stage, for a board that looks like a working day.
    const more = [102, 103, 104, 105, 106, 107, 108, 109].map((s) => documentSet(s));
    for (const [i, s] of more.entries()) {
      await postDoc(srv.base, s, 'CEB511');
      if (i % 4 === 3) continue;
      await postDoc(srv.base, s, 'CEB311');
      await postDoc(srv.base, s, 'CEB621');
      if (i % 4 === 2) continue;
      await postDoc(srv.base, s, 'CEB411');
      if (i % 4 === 1) await post(srv.base, '/api/v1/hall/pickup', { code: s.info.payTransactionId, idSuffix: s.info.buyerIdNumber.slice(-4), clerk: 'T1' }, keyOf(HALL));
    }
    await card(more[7], 'ordered').waitFor();
    await page.waitForTimeout(1800);
    await shot(page, 'board-5-busy');

    // The connection drops: the server stops and comes back on the same port and data.
    const before = await page.evaluate(() => ({ ...window.__board, events: [...window.__board.events] }));
    assert.equal(before.snapshots, 1);
    await srv.stop();
    await page.waitForSelector('#conn.down');
    await shot(page, 'board-6-reconnecting');
    srv = await startServer({ dataDir: srv.dir, port: srv.port });
    await page.waitForSelector('#conn.live', { timeout: 30000 });
    const c = documentSet(110);
    for (const t of ['CEB511', 'CEB311', 'CEB621', 'CEB411']) await postDoc(srv.base, c, t);
    await card(c, 'ready').waitFor();
    const after = await page.evaluate(() => window.__board);
    assert.ok(after.connects >= 2, 'the board reconnected');
    assert.equal(after.snapshots, 1, 'resumed from its last event, no second snapshot');
    const ids = after.events.map((e) => e.id);
    for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] + 1, `event ${ids[i - 1]} then ${ids[i]}: none lost, none repeated`);
    assert.ok(ids.length > before.events.length);
    assert.deepEqual(errors, []);
    await page.waitForTimeout(1500);
    await shot(page, 'board-7-resumed');
  } finally {
    await b.close();
    await srv.stop();
    srv.cleanup();
  }
});
