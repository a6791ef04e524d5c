// The hall's LED board: a live projection of the hall's orders over Server-Sent Events.
// The first event is a snapshot; then one event per change, numbered. After a dropped
// connection the board reconnects with the last number it applied and receives exactly what it
// missed (or a fresh snapshot if it was away too long), so it never needs a manual refresh.
(() => {
  const { t, el } = cbec;
  cbec.i18n({
    zh: {
      hall: '郑州跨境O2O体验中心', sub: '跨境电商零售进口 · 订单通关实时进度',
      connecting: '连接中', live: '实时', offline: '重新连接中',
      ordered: '已下单', declared: '四单申报', review: '海关审核', ready: '已放行 · 请取货', picked_up: '已提货',
      orderedEn: 'Ordered', declaredEn: 'Declared', reviewEn: 'Under review', readyEn: 'Ready for pickup', picked_upEn: 'Picked up',
      tail: '尾号', rejected: '未通过', more: '另有 {n} 单', empty: '暂无订单',
      tickerLabel: '取货通知', call: '请 {name}（尾号 {order}）到提货柜台取货', idle: '欢迎光临跨境O2O体验中心 · 保税商品 现场提货 · 下单后请留意大屏通知',
      total: '今日订单', waiting: '待取货', done: '已提货', ago: '{m} 分钟', now: '刚刚',
    },
    en: {
      hall: 'Zhengzhou CBEC O2O Experience Hall', sub: 'Cross-border retail imports · live clearance progress',
      connecting: 'Connecting', live: 'Live', offline: 'Reconnecting',
      ordered: 'Ordered', declared: 'Declared', review: 'Customs review', ready: 'Ready for pickup', picked_up: 'Picked up',
      orderedEn: '已下单', declaredEn: '四单申报', reviewEn: '海关审核', readyEn: '已放行 · 请取货', picked_upEn: '已提货',
      tail: 'No.', rejected: 'Not cleared', more: '{n} more', empty: 'No orders yet',
      tickerLabel: 'PICKUP', call: '{name} (order …{order}), please come to the pickup counter', idle: 'Welcome to the CBEC O2O Experience Hall · bonded goods, collected on the spot · watch this board after ordering',
      total: 'Orders today', waiting: 'Ready', done: 'Picked up', ago: '{m} min', now: 'just now',
    },
  });

  const stages = ['ordered', 'declared', 'review', 'ready', 'picked_up'];
  const items = new Map();   // id -> item
  const moved = new Set();   // ids whose stage changed since the last render
  const hall = new URLSearchParams(location.search).get('hall') || '';
  // Exposed for the browser tests: every event applied, in order.
  const probe = (window.__board = { events: [], snapshots: 0, connects: 0, lastId: null });

  // ---- layout ------------------------------------------------------------------------------
  const columns = document.getElementById('columns');
  const cols = {};
  stages.forEach((s, i) => {
    const c = el('section', `col ${s === 'ready' ? 'ready' : ''} ${s === 'picked_up' ? 'done' : ''}`);
    c.dataset.stage = s;
    const h = el('header');
    h.append(el('span', 'step', String(i + 1)));
    const title = el('div');
    const b = el('b'); b.dataset.i18n = s;
    const small = el('small'); small.dataset.i18n = `${s}En`;
    title.append(b, small);
    const count = el('span', 'count', '0');
    h.append(title, count);
    const list = el('div', 'list');
    const more = el('div', 'more');
    c.append(h, list, more);
    columns.append(c);
    cols[s] = { list, count, more };
  });
  cbec.i18n({});

  function columnOf(item) {
    return item.stage === 'rejected' ? 'review' : item.stage;
  }
  function since(item) {
    const key = item.stage === 'rejected' ? 'rejected' : item.stage;
    return (item.times && item.times[key]) || item.updated;
  }
  function ago(ms) {
    const m = Math.floor((Date.now() - ms) / 60000);
    return m < 1 ? t('now') : t('ago', { m });
  }

  let scheduled = false;
  function render() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      const by = Object.fromEntries(stages.map((s) => [s, []]));
      for (const it of items.values()) if (by[columnOf(it)]) by[columnOf(it)].push(it);
      for (const s of stages) {
        const list = by[s].sort((a, b) => since(b) - since(a));
        const { list: box, count, more } = cols[s];
        count.textContent = list.length;
        // As many cards as fit: render a screenful, then drop what overflows.
        box.replaceChildren(...list.slice(0, 16).map((it) => card(it)));
        let shown = Math.min(list.length, 16);
        while (shown > 1 && box.scrollHeight > box.clientHeight + 1) {
          box.lastChild.remove();
          shown -= 1;
        }
        if (!list.length) box.append(el('div', 'empty', t('empty')));
        more.textContent = list.length > shown ? t('more', { n: list.length - shown }) : '';
      }
      moved.clear();
      summary(by);
      ticker(by.ready);
    });
  }
  function card(it) {
    const c = el('div', `card ${it.stage === 'rejected' ? 'rejected' : ''} ${moved.has(it.id) ? 'arrive' : ''}`);
    c.dataset.id = it.id;
    c.dataset.stage = it.stage;
    c.append(el('span', 'name', it.name));
    const o = el('span', 'order');
    o.append(`${t('tail')} `, el('em', '', it.order));
    c.append(o, el('span', 'since', it.stage === 'rejected' ? t('rejected') : ago(since(it))));
    return c;
  }
  function summary(by) {
    const box = document.getElementById('summary');
    const cell = (n, key) => { const d = el('div'); d.append(el('b', '', String(n)), el('small', '', t(key))); return d; };
    box.replaceChildren(cell(items.size, 'total'), cell(by.ready.length, 'waiting'), cell(by.picked_up.length, 'done'));
  }
  let tickerKey = null;
  function ticker(ready) {
    const text = ready.length
      ? ready.slice(0, 12).map((it) => t('call', { name: it.name, order: it.order })).join('　　◆　　')
      : t('idle');
    if (text === tickerKey) return;
    tickerKey = text;
    const box = document.getElementById('ticker');
    box.classList.remove('run');
    box.textContent = text;
    void box.offsetWidth;  // restart the animation with the new text
    box.style.animationDuration = `${Math.max(18, text.length * 0.32)}s`;
    box.classList.add('run');
  }

  // ---- stream ------------------------------------------------------------------------------
  function apply(kind, id, data) {
    if (probe.lastId !== null && id <= probe.lastId && kind !== 'snapshot') return;  // never twice
    probe.lastId = id;
    probe.events.push({ kind, id });
    if (kind === 'snapshot') {
      probe.snapshots += 1;
      items.clear();
      for (const it of data.items) items.set(it.id, it);
    } else if (kind === 'remove') {
      items.delete(data.id);
    } else {
      const old = items.get(data.id);
      if (!old || old.stage !== data.stage) moved.add(data.id);
      items.set(data.id, data);
    }
    render();
  }
  const conn = document.getElementById('conn');
  function setConn(state) {
    conn.className = `conn ${state}`;
    conn.querySelector('span').dataset.i18n = state === 'live' ? 'live' : state === 'down' ? 'offline' : 'connecting';
    conn.querySelector('span').textContent = t(conn.querySelector('span').dataset.i18n);
  }
  let es = null;
  let delay = 1000;
  function connect() {
    const q = new URLSearchParams();
    if (hall) q.set('hall', hall);
    if (probe.lastId !== null) q.set('after', String(probe.lastId));
    es = new EventSource(`/api/v1/board/stream${q.toString() ? `?${q}` : ''}`);
    probe.connects += 1;
    es.onopen = () => { setConn('live'); delay = 1000; };
    for (const kind of ['snapshot', 'update', 'remove']) {
      es.addEventListener(kind, (e) => apply(kind, Number(e.lastEventId), JSON.parse(e.data)));
    }
    es.onerror = () => {
      // Reconnect ourselves (not EventSource's own retry) so that the resume point is ours.
      es.close();
      setConn('down');
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 8000);
    };
  }
  connect();

  // ---- clock -------------------------------------------------------------------------------
  function tick() {
    document.getElementById('clock').textContent = cbec.time(Date.now());
    document.getElementById('date').textContent = cbec.date(Date.now());
  }
  tick();
  setInterval(tick, 1000);
  setInterval(render, 20000);  // "n minutes" labels
  cbec.onLang(() => { tickerKey = null; render(); });
  window.addEventListener('resize', render);
})();
