// Consumer self-service: one's order by number + name + ID (the same three things the national
// quota query asks for), its clearance stages, tax, the pickup QR code once it is ready, and the
// remaining annual quota. The server answers "not found" alike for a wrong name or ID and for an
// unknown order, so the page cannot be used to probe other people's orders.
(() => {
  const { t, el, api } = cbec;
  cbec.i18n({
    zh: {
      title: '我的跨境订单', sub: '通关进度 · 税款 · 个人年度交易额度', orderNo: '订单编号', name: '订购人姓名', id: '身份证号码', go: '查询',
      privacy: '姓名和身份证号码须与下单时一致；查询结果只显示脱敏信息。', notFound: '未查到该订单', notFoundSub: '请核对订单编号、姓名和身份证号码是否与下单时一致。',
      tooMany: '查询过于频繁，请稍后再试', ordered: '已下单', declared: '四单申报', review: '海关审核', ready: '已放行', picked_up: '已提货', delivered: '已签收',
      rejected: '未通过', goods: '商品', qty: '数量', origin: '原产国', amount: '金额', tax: '税款合计', vat: '增值税', ct: '消费税', tariff: '关税', dutiable: '完税价格',
      pickupTitle: '商品已放行，请到体验中心提货', pickupCode: '提货码', pickupHint: '请向柜台出示此二维码及身份证件', quota: '{year} 年度个人额度', remaining: '剩余额度',
      used: '已使用', underReview: '审核中占用', limit: '年度限值', buyer: '订购人', platform: '电商平台', waitingFor: '等待', why: '未通过原因',
    },
    en: {
      title: 'My cross-border orders', sub: 'Clearance progress · tax · personal annual quota', orderNo: 'Order number', name: "Buyer's name", id: 'ID number', go: 'Search',
      privacy: 'Name and ID number must be those given when ordering; results show masked details only.', notFound: 'No such order',
      notFoundSub: 'Check the order number, name and ID number as given when ordering.', tooMany: 'Too many queries, try again shortly',
      ordered: 'Ordered', declared: 'Declared', review: 'Customs review', ready: 'Released', picked_up: 'Picked up', delivered: 'Delivered', rejected: 'Not cleared',
      goods: 'Goods', qty: 'Qty', origin: 'Origin', amount: 'Amount', tax: 'Tax', vat: 'VAT', ct: 'Consumption tax', tariff: 'Tariff', dutiable: 'Dutiable value',
      pickupTitle: 'Released: collect your goods at the hall', pickupCode: 'Pickup code', pickupHint: 'Show this QR code and your ID at the counter',
      quota: 'Annual quota {year}', remaining: 'Remaining', used: 'Used', underReview: 'Held by lists under review', limit: 'Annual limit', buyer: 'Buyer',
      platform: 'Platform', waitingFor: 'Waiting for', why: 'Why it was not cleared',
    },
  });
  const $ = (id) => document.getElementById(id);
  let last = null;

  function qrSvg(text) {
    const qr = qrcode(0, 'M');
    qr.addData(text);
    qr.make();
    const holder = el('div', 'qr');
    holder.innerHTML = qr.createSvgTag({ cellSize: 4, margin: 2, scalable: true });
    return holder;
  }
  function steps(d) {
    const order = ['ordered', 'declared', 'review', 'ready', 'picked_up'];
    const box = el('div', 'steps');
    const reached = d.stage === 'rejected' ? 2 : Math.max(0, order.indexOf(d.stage));
    const times = { ordered: d.orderedAt, declared: d.declaredAt, review: d.declaredAt, ready: d.releasedAt, picked_up: d.closedAt };
    order.forEach((s, i) => {
      let cls = i < reached ? 'done' : i === reached ? 'current' : '';
      if (d.stage === 'rejected' && i === 2) cls = 'failed';
      if (d.stage === 'picked_up' && i === reached) cls = 'done';
      const st = el('div', `step ${cls}`);
      const label = d.stage === 'rejected' && i === 2 ? 'rejected' : s === 'picked_up' && !d.o2o ? 'delivered' : s;
      st.append(el('b', '', t(label)), el('small', '', i <= reached && times[s] ? `${cbec.md(times[s])} ${cbec.hm(times[s])}` : ''));
      box.append(st);
    });
    return box;
  }
  function render(d) {
    last = d;
    const box = $('result');
    box.replaceChildren();
    const main = el('section', 'panel card-r');
    const head = el('div', 'head-r');
    head.append(el('h2', '', d.orderNo));
    const cls = { ready: 'ready', picked_up: 'ok', rejected: 'bad' }[d.stage] || 'info';
    head.append(el('span', `badge ${cls}`, cbec.lang === 'zh' ? d.stateZh : d.stateEn));
    head.append(el('span', 'muted', `${t('buyer')} ${d.buyer}${d.ebpName ? ` · ${t('platform')} ${d.ebpName}` : ''}`));
    main.append(head, steps(d));
    if (d.pickupCode) {
      const p = el('div', 'pickup-box');
      p.append(qrSvg(d.pickupCode));
      const txt = el('div');
      txt.append(el('b', '', t('pickupTitle')), el('div', 'muted', `${d.hallName || ''}`), el('div', 'code', `${t('pickupCode')}  ${d.pickupCode}`), el('div', 'muted', t('pickupHint')));
      p.append(txt);
      main.append(p);
    }
    const cols = el('div', 'cols');
    const left = el('div');
    if (d.goods) {
      const table = el('table', 'grid');
      const hr = el('tr');
      for (const [k, c] of [['goods', ''], ['origin', ''], ['qty', 'num'], ['amount', 'num']]) hr.append(el('th', c, t(k)));
      const thead = el('thead'); thead.append(hr);
      const tb = el('tbody');
      for (const g of d.goods) {
        const tr = el('tr');
        tr.append(el('td', '', g.name), el('td', '', cbec.country(g.country)), el('td', 'num', `${g.qty} ${cbec.unit(g.unit)}`), el('td', 'num', cbec.yuanText(g.totalPrice)));
        tb.append(tr);
      }
      table.append(thead, tb);
      left.append(table);
    }
    if (d.tax) {
      const tx = el('div', 'taxes');
      const cell = (k, v) => { const s = el('span', '', t(k)); s.append(el('b', '', cbec.yuanText(v))); return s; };
      tx.append(cell('dutiable', d.tax.dutiable), cell('tariff', d.tax.tariff), cell('ct', d.tax.consumption), cell('vat', d.tax.vat), cell('tax', d.tax.total));
      left.append(tx);
    }
    if (d.waitingFor) left.append(el('p', 'muted', `${t('waitingFor')}: ${d.waitingFor}`));
    if (d.findings && d.findings.length) {
      const f = el('div', 'banner bad findings');
      f.append(el('b', '', t('why')));
      for (const x of d.findings) f.append(el('div', '', cbec.lang === 'zh' ? x.zh : x.en));
      left.append(f);
    }
    cols.append(left, quota(d.quota));
    main.append(cols);
    box.append(main);
  }
  function quota(q) {
    const p = el('div', 'panel quota');
    p.append(el('h3', '', t('quota', { year: q.year })));
    const used = Number(q.released) + Number(q.underReview);
    const bar = el('div', 'bar');
    const fill = el('i');
    fill.style.width = `${Math.min(100, (used / Number(q.limit)) * 100).toFixed(1)}%`;
    bar.append(fill);
    p.append(el('div', 'muted', t('remaining')), el('div', 'big', cbec.yuanText(q.remaining)), bar);
    const dl = el('dl');
    for (const [k, v] of [['used', q.released], ['underReview', q.underReview], ['limit', q.limit]]) dl.append(el('dt', '', t(k)), el('dd', '', cbec.yuanText(v)));
    p.append(dl);
    return p;
  }
  async function search(e) {
    e.preventDefault();
    const q = new URLSearchParams({ orderNo: $('orderNo').value.trim(), name: $('name').value.trim(), id: $('id').value.trim() });
    const r = await api(`/api/v1/public/order?${q}`);
    if (r.status === 200) return render(r.data);
    last = null;
    const b = el('div', 'banner bad');
    b.append(el('b', '', t(r.status === 429 ? 'tooMany' : 'notFound')));
    if (r.status !== 429) b.append(el('div', 'sub', t('notFoundSub')));
    $('result').replaceChildren(b);
  }
  $('form').addEventListener('submit', search);
  cbec.onLang(() => { if (last) render(last); });
})();
