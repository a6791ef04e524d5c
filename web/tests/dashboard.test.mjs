// The statistics centre in a real browser: after a batch of lists (some faulty) the regulator's
// view shows the KPI tiles with the zone's figures and every chart drawn with data; an
// enterprise's key shows its own figures beside the zone's; the CSV export answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REGULATOR_KEY, browser, documentSet, keyOf, postDoc, shot, startServer, watchErrors } from './harness.mjs';

test('dashboard renders its charts with data for the regulator and for an enterprise', async () => {
  const srv = await startServer();
  const b = await browser();
  try {
    // 40 sets: 30 good ones (a third bought at the hall), and 10 with one fault each (M1..R2).
    const batches = [documentSet(301, { count: 30, hall: 0.3 }), documentSet(302, { count: 20, faults: 0.5 })];
    const declared = 30 + 20;
    for (const s of batches) for (const t of ['CEB311', 'CEB411', 'CEB511', 'CEB621']) if (s.docs[t]) await postDoc(srv.base, s, t);
    const stats = await (await fetch(`${srv.base}/api/v1/stats`, { headers: { 'X-API-Key': REGULATOR_KEY } })).json();
    const T = stats.zone.total;
    assert.ok(T.declared > 40 && T.declared <= declared, `declared ${T.declared}`);
    assert.ok(T.released > 0 && T.rejected > 0, `released ${T.released} rejected ${T.rejected}`);

    const page = await b.newPage({ viewport: { width: 1920, height: 1080 } });
    const errors = watchErrors(page);
    await page.goto(`${srv.base}/dashboard`);
    await page.fill('#key', REGULATOR_KEY);
    await page.click('#signin');
    await page.waitForFunction(() => Number(document.body.dataset.renders || 0) >= 1);
    await page.waitForTimeout(1200);  // chart animations
    const tiles = await page.locator('.kpi b').allTextContents();
    assert.equal(tiles[0], String(T.declared), 'declared lists tile');
    assert.equal(tiles[2], String(T.rejected), 'rejected tile');
    // Every chart has drawn on its canvas, and the findings table lists the rules hit.
    for (const id of ['cThroughput', 'cLanes', 'cRates', 'cTime', 'cQuota', 'cCountry', 'cChapter', 'cPlatform']) {
      const painted = await page.evaluate((i) => {
        const c = document.querySelector(`#${i} canvas`);
        if (!c) return 0;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let k = 3; k < d.length; k += 16) if (d[k] > 0) n++;
        return n;
      }, id);
      assert.ok(painted > 200, `${id} is drawn (${painted} painted samples)`);
    }
    assert.ok(await page.locator('#findings td.rule').count() > 0, 'findings by rule');
    await shot(page, 'dashboard-1-regulator', { fullPage: true });
    const csv = await page.evaluate(async (k) => (await fetch('/api/v1/stats.csv', { headers: { 'X-API-Key': k } })).text(), REGULATOR_KEY);
    assert.match(csv, /^scope,bucket_start_beijing,/);

    await page.click('#lang');
    await page.waitForTimeout(800);
    await shot(page, 'dashboard-2-regulator-en');

    await page.click('#logout');
    await page.fill('#key', keyOf('4101960001'));
    await page.click('#signin');
    await page.waitForFunction(() => /4101960001/.test(document.getElementById('scope').textContent));
    await page.waitForTimeout(1200);
    const sub = await page.locator('.kpi span').first().textContent();
    assert.match(sub, /zone|全区/);
    await shot(page, 'dashboard-3-enterprise');
    assert.deepEqual(errors, []);
  } finally {
    await b.close();
    await srv.stop();
    srv.cleanup();
  }
});
