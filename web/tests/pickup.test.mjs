// The pickup counter in a real browser: the clerk signs in with the hall's key, and wrong ID
// digits, an order not yet released and an unknown code are each refused with their reason; the
// right code and digits hand the goods over (899), and the same code again is refused as
// already picked up. The consumer's page shows the pickup QR code once the order is released.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HALL, browser, documentSet, keyOf, postDoc, shot, startServer, watchErrors } from './harness.mjs';

test('pickup succeeds once and wrong pickups are refused with their reason', async () => {
  const srv = await startServer();
  const b = await browser();
  try {
    const ready = documentSet(201);
    for (const t of ['CEB511', 'CEB311', 'CEB411', 'CEB621']) await postDoc(srv.base, ready, t);
    const early = documentSet(202);
    for (const t of ['CEB511', 'CEB311', 'CEB411']) await postDoc(srv.base, early, t);  // no list yet

    // The consumer first: order number, name and ID show the order and the pickup QR code.
    const my = await b.newPage({ viewport: { width: 1280, height: 1000 } });
    const myErrors = watchErrors(my);
    await my.goto(`${srv.base}/my`);
    await my.fill('#orderNo', ready.info.orderNo);
    await my.fill('#name', ready.info.buyerName);
    await my.fill('#id', ready.info.buyerIdNumber);
    await my.click('#go');
    await my.waitForSelector('.pickup-box .qr svg');
    assert.match(await my.locator('.pickup-box .code').textContent(), new RegExp(ready.info.payTransactionId));
    await shot(my, 'my-1-ready-with-qr', { fullPage: true });
    await my.fill('#name', '王五');
    await my.click('#go');
    await my.waitForSelector('#result .banner.bad');
    await shot(my, 'my-2-not-found');
    assert.deepEqual(myErrors, []);

    const page = await b.newPage({ viewport: { width: 1600, height: 1000 } });
    const errors = watchErrors(page);
    await page.goto(`${srv.base}/pickup`);
    await page.fill('#key', 'demo-key-4101960001');  // a platform's key is no hall's
    await page.fill('#clerk', 'C07');
    await page.click('#signin');
    await page.waitForSelector('#loginError:not([hidden])');
    await shot(page, 'pickup-0-login-refused');
    await page.fill('#key', keyOf(HALL));
    await page.click('#signin');
    await page.waitForSelector('#desk:not([hidden])');

    const outcome = async () => {
      const el = page.locator('#outcome .banner');
      await el.waitFor();
      return { reason: await el.getAttribute('data-reason'), text: await el.textContent() };
    };
    const attempt = async (code, suffix) => {
      await page.locator('#outcome').evaluate((e) => e.replaceChildren());
      await page.fill('#code', code);
      await page.press('#code', 'Enter');
      await page.waitForTimeout(200);
      await page.locator('#outcome').evaluate((e) => e.replaceChildren());
      await page.fill('#suffix', suffix);
      await page.click('#confirm');
      return outcome();
    };

    const wrongDigits = ready.info.buyerIdNumber.slice(-4) === '0000' ? '1111' : '0000';
    let r = await attempt(ready.info.payTransactionId, wrongDigits);
    assert.equal(r.reason, 'wrong_id');
    assert.match(r.text, /身份证号码后4位与订购人不符/);
    await page.waitForSelector('#detail .order-head');
    await shot(page, 'pickup-1-wrong-id');

    r = await attempt(early.info.payTransactionId, early.info.buyerIdNumber.slice(-4));
    assert.equal(r.reason, 'not_released');
    assert.match(r.text, /尚未申报清单|未放行/);
    await shot(page, 'pickup-2-not-released');

    r = await attempt('ZYT00000000000000NOSUCH', '1234');
    assert.equal(r.reason, 'unknown_code');
    assert.match(r.text, /提货码ZYT00000000000000NOSUCH不存在/);
    await shot(page, 'pickup-3-unknown-code');

    r = await attempt(ready.info.payTransactionId, ready.info.buyerIdNumber.slice(-4));
    assert.equal(r.reason, 'ok');
    assert.match(r.text, /提货成功/);
    await page.waitForFunction(() => document.querySelector('#detail .badge')?.textContent === '已结关');
    await shot(page, 'pickup-4-success');

    r = await attempt(ready.info.payTransactionId, ready.info.buyerIdNumber.slice(-4));
    assert.equal(r.reason, 'already_picked_up');
    assert.match(r.text, /已于.*提货结关/);
    await page.click('#lang');
    await page.waitForFunction(() => document.querySelector('#detail .badge')?.textContent === 'closed');
    await shot(page, 'pickup-5-already-picked-up-en');
    assert.deepEqual(errors, []);
  } finally {
    await b.close();
    await srv.stop();
    srv.cleanup();
  }
});
