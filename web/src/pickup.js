// The hall's pickup counter: the clerk signs in with the hall's key (kept in sessionStorage
// only), scans or types the consumer's pickup code, checks the goods, asks for the last ID
// digits and records the pickup. The server decides; every refusal is shown with its reason.
(() => {
  const { t, el, api } = cbec;
  cbec.i18n({
    zh: {
      title: '提货柜台', sub: 'O2O 体验中心 · 核验提货码与身份证件', logout: '退出', loginTitle: '柜台登录',
      loginHint: '使用体验中心的 API 密钥登录；密钥只保存在本浏览器标签页中。', key: '体验中心密钥', clerk: '经办人工号', signin: '登录',
      badKey: '密钥无效', notHall: '该密钥不属于提货体验中心', scanTitle: '扫码 / 输入提货码', code: '提货码（支付凭证号）',
      codePh: '扫描或输入提货码', lookup: '查询订单', suffix: '身份证号码后 4–6 位', suffixPh: '例如 0037', confirm: '核验并提货',
      recent: '本班次提货记录', placeholder: '扫描顾客出示的提货码，订单信息将显示在这里', order: '订单号', invt: '清单编号',
      platform: '电商平台', goods: '商品', qty: '数量', price: '金额', origin: '原产国', tax: '税款', value: '完税价格',
      released: '放行时间', closed: '提货时间', pickable: '可以提货', notPickable: '不可提货', ok: '提货成功，清单已结关',
      okSub: '清单 {invt} · {time} · 经办人 {clerk}', refused: '不能提货', signedAs: '经办人 {clerk}', needCode: '请先输入提货码',
      needSuffix: '请输入身份证号码后 4–6 位', network: '网络错误，请重试',
    },
    en: {
      title: 'Pickup counter', sub: 'O2O hall · check the pickup code and ID', logout: 'Sign out', loginTitle: 'Counter sign-in',
      loginHint: "Sign in with the hall's API key; it is kept in this browser tab only.", key: 'Hall key', clerk: 'Clerk ID', signin: 'Sign in',
      badKey: 'Unknown key', notHall: 'This key does not belong to a pickup hall', scanTitle: 'Scan / enter pickup code',
      code: 'Pickup code (payment reference)', codePh: 'Scan or type the code', lookup: 'Look up', suffix: 'Last 4–6 ID characters',
      suffixPh: 'e.g. 0037', confirm: 'Check ID and hand over', recent: 'Pickups this shift',
      placeholder: "Scan the customer's pickup code: the order appears here", order: 'Order', invt: 'List', platform: 'Platform',
      goods: 'Goods', qty: 'Qty', price: 'Amount', origin: 'Origin', tax: 'Tax', value: 'Dutiable value', released: 'Released',
      closed: 'Picked up', pickable: 'Ready to hand over', notPickable: 'Not to hand over', ok: 'Handed over, list closed',
      okSub: 'List {invt} · {time} · clerk {clerk}', refused: 'Pickup refused', signedAs: 'Clerk {clerk}', needCode: 'Enter the pickup code first',
      needSuffix: 'Enter the last 4–6 ID characters', network: 'Network error, retry',
    },
  });
  const $ = (id) => document.getElementById(id);
  const session = {
    get key() { return sessionStorage.getItem('cbec.hallKey') || ''; },
    get clerk() { return sessionStorage.getItem('cbec.clerk') || ''; },
  };
  const recent = [];
  let last = null;  // the last lookup answer, re-rendered on language change

  function showDesk() {
    $('login').hidden = true;
    $('desk').hidden = false;
    $('logout').hidden = false;
    $('who').textContent = t('signedAs', { clerk: session.clerk || '—' });
    $('code').focus();
  }
  async function signIn() {
    const key = $('key').value.trim();
    const clerk = $('clerk').value.trim();
    // A lookup of a code nobody has tells whether the key is a hall's (404) or not (401/403).
    const r = await api('/api/v1/hall/pickup?code=__signin_probe__', { key });
    if (r.status === 401 || r.status === 403) {
      $('loginError').hidden = false;
      $('loginError').textContent = t(r.status === 401 ? 'badKey' : 'notHall');
      return;
    }
    sessionStorage.setItem('cbec.hallKey', key);
    sessionStorage.setItem('cbec.clerk', clerk);
    showDesk();
  }
  function reason(data) {
    if (data && data.zh) return cbec.lang === 'zh' ? data.zh : data.en;
    return (data && data.error) || t('network');
  }
  function banner(kind, title, sub) {
    const b = el('div', `banner ${kind}`);
    b.append(el('b', '', title));
    if (sub) b.append(el('div', '', sub));
    $('outcome').replaceChildren(b);
    return b;
  }
  function stateBadge(d) {
    const cls = { released: 'ready', closed: 'ok', rejected: 'bad', waiting: 'info', held: 'warn', manual_review: 'warn', inspection: 'warn', detained: 'bad' }[d.state] || 'info';
    return el('span', `badge ${cls}`, cbec.lang === 'zh' ? d.stateZh : d.stateEn);
  }
  function renderDetail(d) {
    last = d;
    const box = $('detail');
    box.replaceChildren();
    const head = el('div', 'order-head');
    const left = el('div');
    left.append(el('div', 'buyer', d.buyer || '—'));
    const meta = el('div', 'meta');
    const line = (k, v) => { const p = el('div'); p.append(`${t(k)}  `, el('b', '', v || '—')); return p; };
    meta.append(line('order', d.orderNo), line('invt', d.invtNo), line('platform', d.ebpName));
    left.append(meta);
    const state = el('div', 'state');
    state.append(stateBadge(d));
    state.append(el('small', '', d.pickable ? `✓ ${t('pickable')}` : t('notPickable')));
    if (d.releasedAt) state.append(el('small', '', `${t('released')} ${cbec.datetime(d.releasedAt)}`));
    if (d.closedAt) state.append(el('small', '', `${t('closed')} ${cbec.datetime(d.closedAt)}`));
    head.append(left, state);
    box.append(head);
    if (d.goods) {
      const table = el('table', 'grid');
      const hr = el('tr');
      for (const [k, cls] of [['goods', ''], ['origin', ''], ['qty', 'num'], ['price', 'num']]) hr.append(el('th', cls, t(k)));
      const thead = el('thead'); thead.append(hr);
      const tb = el('tbody');
      for (const g of d.goods) {
        const tr = el('tr');
        tr.append(el('td', '', g.name), el('td', '', cbec.country(g.country)), el('td', 'num', `${g.qty} ${cbec.unit(g.unit)}`), el('td', 'num', cbec.yuanText(g.totalPrice)));
        tb.append(tr);
      }
      table.append(thead, tb);
      box.append(table);
    }
    if (d.tax) {
      const tot = el('div', 'totals');
      const cell = (k, v) => { const s = el('span', '', t(k)); s.append(el('b', '', cbec.yuanText(v))); return s; };
      tot.append(cell('value', d.tax.dutiable), cell('tax', d.tax.total));
      box.append(tot);
    }
  }
  async function lookup() {
    const code = $('code').value.trim();
    if (!code) return banner('bad', t('needCode'));
    $('outcome').replaceChildren();
    const r = await api(`/api/v1/hall/pickup?code=${encodeURIComponent(code)}`, { key: session.key });
    if (r.status === 200) {
      renderDetail(r.data);
      $('suffix').focus();
    } else {
      last = null;
      $('detail').replaceChildren(el('div', 'placeholder', t('placeholder')));
      banner('bad', t('refused'), reason(r.data)).dataset.reason = (r.data && r.data.reason) || '';
    }
  }
  async function confirm() {
    const code = $('code').value.trim();
    const idSuffix = $('suffix').value.trim();
    if (!code) return banner('bad', t('needCode'));
    if (!idSuffix) return banner('bad', t('needSuffix'));
    const r = await api('/api/v1/hall/pickup', { key: session.key, method: 'POST', body: { code, idSuffix, clerk: session.clerk } });
    if (r.status === 200) {
      banner('ok', t('ok'), t('okSub', { invt: r.data.invtNo, time: cbec.time(r.data.closedAt), clerk: session.clerk || '—' })).dataset.reason = 'ok';
      recent.unshift({ time: r.data.closedAt, code, invt: r.data.invtNo });
      renderRecent();
      const again = await api(`/api/v1/hall/pickup?code=${encodeURIComponent(code)}`, { key: session.key });
      if (again.status === 200) renderDetail(again.data);
      $('suffix').value = '';
    } else {
      banner('bad', t('refused'), reason(r.data)).dataset.reason = (r.data && r.data.reason) || '';
    }
  }
  function renderRecent() {
    const tb = $('recent').querySelector('tbody');
    tb.replaceChildren(...recent.slice(0, 8).map((x) => {
      const tr = el('tr');
      tr.append(el('td', 'mono', cbec.time(x.time)), el('td', 'mono', x.code), el('td', 'mono', x.invt));
      return tr;
    }));
  }

  $('signin').addEventListener('click', signIn);
  $('key').addEventListener('keydown', (e) => { if (e.key === 'Enter') $('clerk').focus(); });
  $('clerk').addEventListener('keydown', (e) => { if (e.key === 'Enter') signIn(); });
  $('lookup').addEventListener('click', lookup);
  $('confirm').addEventListener('click', confirm);
  // A scanner types the code and presses Enter.
  $('code').addEventListener('keydown', (e) => { if (e.key === 'Enter') lookup(); });
  $('suffix').addEventListener('keydown', (e) => { if (e.key === 'Enter') confirm(); });
  $('logout').addEventListener('click', () => { sessionStorage.removeItem('cbec.hallKey'); location.reload(); });
  cbec.onLang(() => {
    if (last) renderDetail(last);
    if (!$('desk').hidden) $('who').textContent = t('signedAs', { clerk: session.clerk || '—' });
  });
  if (session.key) showDesk();
})();
