// The officer console in a real browser. Lanes are random draws, so the test sends its lists to
// the officers deterministically with control orders (set through the API by an officer) on the
// buyers of two document sets: one yellow (manual review, 300), one red (inspection, 500).
// An officer signs in (a non-officer key is refused), finds the yellow list in the queue, opens
// it (the control order's field marked in the documents), claims and releases it (800, gone from
// the queue); on the red list a claim held by another officer is refused in plain words, then
// the officer claims it and records an inspection finding with reject (100). A control order is
// created and revoked from the page, and the credit tab shows the finding on the enterprise's
// record and takes a grade change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REGULATOR_KEY, browser, documentSet, post, postDoc, shot, startServer, watchErrors } from './harness.mjs';

const OFFICER = '461200101';
const OTHER = '461200102';
const officerKey = (id) => `demo-officer-key-${id}`;
const tag = (xml, name) => (xml.match(new RegExp(`<(?:\\w+:)?${name}>([^<]*)<`)) || [])[1];

async function getJson(base, path, key) {
  const res = await fetch(`${base}${path}`, { headers: { 'X-API-Key': key } });
  return { status: res.status, json: await res.json() };
}

test('an officer works the yellow and red queues, control orders and credit', async () => {
  const srv = await startServer();
  const b = await browser();
  try {
    const base = srv.base;
    const yellow = documentSet(401, { hall: 0 });
    const red = documentSet(402, { hall: 0 });
    for (const [set, action, id] of [[yellow, 'yellow', 'T-YELLOW'], [red, 'red', 'T-RED']]) {
      const r = await post(base, '/api/v1/officer/control-orders', {
        orderId: id, target: 'buyer_id', pattern: set.info.buyerIdNumber, action, expiresInHours: 24, reason: '测试布控 test control',
      }, officerKey(OFFICER));
      assert.equal(r.status, 200, r.text);
    }
    for (const set of [yellow, red]) for (const t of ['CEB511', 'CEB311', 'CEB411', 'CEB621']) await postDoc(base, set, t);
    const listOf = async (set) => {
      const xml = set.docs.CEB621[0].xml;
      const r = await getJson(base, `/api/v1/lists?ebpCode=${tag(xml, 'ebpCode')}&orderNo=${set.info.orderNo}`, REGULATOR_KEY);
      assert.equal(r.status, 200);
      return r.json;
    };
    const y = await listOf(yellow);
    const rd = await listOf(red);
    assert.equal(y.returnStatus, 300, 'the yellow control order sends the list to manual review');
    assert.equal(rd.returnStatus, 500, 'the red control order sends the list to inspection');
    const ebc = tag(red.docs.CEB621[0].xml, 'ebcCode');

    const page = await b.newPage({ viewport: { width: 1680, height: 1050 } });
    const errors = watchErrors(page);
    await page.goto(`${base}/officer`);
    await page.fill('#key', 'demo-key-4101960001');  // an enterprise's key is no officer's
    await page.click('#signin');
    await page.waitForSelector('#loginError:not([hidden])');
    assert.match(await page.textContent('#loginError'), /不是关员密钥/);
    await shot(page, 'officer-0-login-refused');
    await page.fill('#key', officerKey(OFFICER));
    await page.click('#signin');
    await page.waitForSelector('#me:not([hidden])');
    assert.match(await page.textContent('#me'), /王建国/);
    assert.match(await page.textContent('#me'), /4612/);

    // The yellow list is in the queue; open it: the control order's hit is marked.
    const yItem = page.locator(`#items .item[data-invt="${y.invtNo}"]`);
    await yItem.waitFor();
    assert.match(await yItem.textContent(), /R9/);
    await yItem.click();
    await page.waitForSelector('#detail .dhead');
    assert.match(await page.textContent('#detail .findings'), /布控T-YELLOW命中/);
    // The lane decision as the audit published it: the control order decided, the rate is shown.
    await page.waitForSelector('#drawInfo');
    assert.match(await page.textContent('#drawInfo'), /%.*布控 T-YELLOW/);
    assert.ok(await page.locator('table.cmp td.flag[data-field="buyerIdNumber"]').count() >= 1, 'buyer ID marked');
    await shot(page, 'officer-1-yellow-detail');

    // Claim, then release (no reason needed for a release).
    await page.click('#claim');
    await page.waitForSelector('#claim[data-mode="unclaim"]');
    assert.match(await page.textContent('#notice'), /已认领/);
    await page.waitForSelector(`#items .item[data-invt="${y.invtNo}"] .chip.claimed`);
    await page.click('#choices button[data-action="reject"]');
    await page.click('#submitAction');
    assert.match(await page.textContent('#actionOutcome'), /除放行外，处置须填写理由/);
    await page.click('#choices button[data-action="release"]');
    await page.click('#submitAction');
    await page.waitForSelector('#notice .banner[data-done="release"]');
    await page.waitForSelector('#detailStatus[data-status="800"]');
    await yItem.waitFor({ state: 'detached' });
    assert.equal((await getJson(base, `/api/v1/lists/${y.invtNo}`, REGULATOR_KEY)).json.returnStatus, 800);
    await shot(page, 'officer-2-yellow-released');

    // The red list: another officer holds it, so the claim is refused in plain words.
    await page.click('#lanes button[data-lane="red"]');
    const rItem = page.locator(`#items .item[data-invt="${rd.invtNo}"]`);
    await rItem.waitFor();
    assert.equal((await post(base, '/api/v1/officer/claim', { invtNo: rd.invtNo }, officerKey(OTHER))).status, 200);
    await rItem.click();
    await page.waitForSelector(`#detail .dtitle:has-text("${rd.invtNo}")`);
    await page.click('#claim');
    await page.waitForSelector('#notice .banner.bad');
    assert.match(await page.textContent('#notice'), new RegExp(`已被关员 ${OTHER} 认领`));
    await shot(page, 'officer-3-red-claim-refused');
    assert.equal((await post(base, '/api/v1/officer/claim', { invtNo: rd.invtNo, unclaim: true }, officerKey(OTHER))).status, 200);
    // The queue refreshes by itself: the claim is free again without reloading anything.
    await page.waitForFunction(() => document.querySelector('#detail .kv[data-k="claimedBy"] b')?.textContent === '未认领');
    await page.click('#claim');
    await page.waitForSelector('#claim[data-mode="unclaim"]');

    // Inspection finding → reject.
    await page.click('#inspSeg button[data-v="true"]');
    await page.click('#submitAction');
    assert.match(await page.textContent('#actionOutcome'), /请选择发现类别/);
    await page.selectOption('#category', 'goods_mismatch');
    await page.selectOption('#followUp', 'reject');
    await page.fill('#reason', '实货为仿冒品牌太阳镜，与申报品名不符');
    await shot(page, 'officer-4-red-inspection-form');
    await page.click('#submitAction');
    await page.waitForSelector('#notice .banner[data-done="reject"]');
    await page.waitForSelector('#detailStatus[data-status="100"]');
    const rejected = (await getJson(base, `/api/v1/lists/${rd.invtNo}`, REGULATOR_KEY)).json;
    assert.equal(rejected.returnStatus, 100);
    await rItem.waitFor({ state: 'detached' });
    await shot(page, 'officer-5-red-rejected', { fullPage: true });

    // Control orders: the two of the test have hit once each; one is created and revoked here.
    await page.click('#tabs button[data-tab="controls"]');
    await page.waitForSelector('#coTable tr[data-order="T-RED"]');
    assert.equal((await page.textContent('#coTable tr[data-order="T-RED"] td.hits')).trim(), '1');
    await page.fill('#coId', 'BK-UI-1');
    await page.selectOption('#coTarget', 'hs_code');
    await page.fill('#coPattern', '3304');
    await page.click('#coAction button[data-v="red"]');
    await page.fill('#coReason', '护肤品集中低报价格线索');
    await page.click('#coCreate');
    await page.waitForSelector('#coOutcome .banner[data-done="BK-UI-1"]');
    await page.waitForSelector('#coTable tr[data-order="BK-UI-1"] button[data-revoke]');
    let orders = (await getJson(base, '/api/v1/officer/control-orders', officerKey(OFFICER))).json.controlOrders;
    let mine = orders.find((o) => o.orderId === 'BK-UI-1');
    assert.deepEqual([mine.target, mine.pattern, mine.action, mine.active, mine.officer], ['hs_code', '3304', 'red', true, OFFICER]);
    await shot(page, 'officer-6-control-order-created');
    await page.click('#coTable tr[data-order="BK-UI-1"] button[data-revoke]');
    await page.waitForSelector('#coTable tr[data-order="BK-UI-1"] button.danger');
    await page.click('#coTable tr[data-order="BK-UI-1"] button[data-revoke]');
    await page.waitForSelector('#coOutcomeList .banner[data-done="BK-UI-1"]');
    await page.waitForSelector('#coTable tr[data-order="BK-UI-1"].inactive');
    orders = (await getJson(base, '/api/v1/officer/control-orders', officerKey(OFFICER))).json.controlOrders;
    mine = orders.find((o) => o.orderId === 'BK-UI-1');
    assert.equal(mine.revoked, true);
    await shot(page, 'officer-7-control-order-revoked');

    // Credit: the finding is on the e-commerce enterprise's record; a grade change is taken.
    await page.click('#tabs button[data-tab="credit"]');
    const row = page.locator(`#creditTable tr[data-code="${ebc}"]`);
    await row.waitFor();
    assert.equal((await row.locator('td[data-count="finding"]').textContent()).trim(), '1');
    await row.click();
    await page.waitForSelector('#gradeBox .counts .hot[data-count="finding"]');
    await page.fill('#gradeReason', '查验发现仿冒商品，经研判调整信用等级');
    await page.click('#applyGrade');
    await page.waitForSelector('#gradeBox .outcome .banner.ok, #gradeBox .change');
    const credit = (await getJson(base, `/api/v1/officer/credit?code=${ebc}`, officerKey(OFFICER))).json;
    assert.equal(credit.enterprises[0].counts.finding, 1);
    assert.equal(credit.gradeChanges.length, 1);
    assert.equal(credit.gradeChanges[0].officer, OFFICER);
    await page.waitForSelector('#gradeBox .change');
    await shot(page, 'officer-8-credit');

    // The same desk in English.
    await page.click('#tabs button[data-tab="queues"]');
    await page.click('#lang');
    await page.waitForFunction(() => document.querySelector('#detail .findings h3')?.textContent === 'Rule hits and risk findings');
    await shot(page, 'officer-9-detail-en');
    assert.deepEqual(errors, []);
  } finally {
    await b.close();
    await srv.stop();
    srv.cleanup();
  }
});
