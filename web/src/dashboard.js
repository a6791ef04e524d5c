// The statistics centre: the service's incremental aggregates (GET /api/v1/stats) as KPI tiles
// and Apache ECharts charts, refreshed every 30 s. A regulator's key sees the whole zone; an
// enterprise's key sees its own figures beside the zone's anonymous totals.
(() => {
  const { t, el, api } = cbec;
  cbec.i18n({
    zh: {
      title: '大数据统计中心', today: '今日', h24: '24小时', d7: '7天', d30: '30天', csv: '导出 CSV', logout: '退出',
      loginTitle: '登录统计中心', loginHint: '监管部门密钥查看全区数据；企业密钥查看本企业数据及全区匿名汇总。', key: 'API 密钥', signin: '登录', badKey: '密钥无效',
      scopeZone: '监管视图 · 郑州跨境电商综合试验区', scopeEnt: '企业视图 · {name}（{code}）· 对比全区匿名汇总',
      cThroughput: '申报与放行量', cLanes: '通道分布', cRates: '放行率与自动放行率', cTime: '通关时效（首单到放行）', cQuota: '消费者年度额度使用分布',
      cCountry: '原产国货值', cChapter: '商品章节货值（HS）', cPlatform: '电商平台放行量', cTradeMode: '监管方式', cFindings: '风险与退单规则命中',
      kDeclared: '申报清单', kReleased: '放行清单', kRejected: '退单', kReleaseRate: '放行率', kAuto: '自动放行率', kValue: '放行货值', kTax: '税款',
      kP50: '通关时效 P50', kP95: 'P95 {v} · P99 {w}', zoneSub: '全区 {v}', declared: '申报', released: '放行', rejected: '退单', zoneReleased: '全区放行',
      releaseRate: '放行率', autoRate: '自动放行率', green: '绿色通道', yellow: '黄色通道（人工审核）', red: '红色通道（查验）', buyers: '消费者人数',
      value: '货值', lists: '清单', rule: '规则', count: '次数', share: '占比', none: '所选时段内无退单', updated: '更新于 {t}',
      y1210: '1210 保税电商', y9610: '9610 直购进口',
    },
    en: {
      title: 'Statistics centre', today: 'Today', h24: '24 h', d7: '7 days', d30: '30 days', csv: 'Export CSV', logout: 'Sign out',
      loginTitle: 'Sign in to the statistics centre', loginHint: "A regulator's key sees the whole zone; an enterprise's key sees its own figures and the zone's anonymous totals.",
      key: 'API key', signin: 'Sign in', badKey: 'Unknown key', scopeZone: 'Regulator view · Zhengzhou CBEC pilot zone',
      scopeEnt: 'Enterprise view · {name} ({code}) · beside the zone totals', cThroughput: 'Lists declared and released', cLanes: 'Lanes',
      cRates: 'Release and automated-release rates', cTime: 'Clearance time (first document → release)', cQuota: "Buyers' annual quota usage",
      cCountry: 'Value by origin country', cChapter: 'Value by HS chapter', cPlatform: 'Released lists by platform', cTradeMode: 'Trade mode',
      cFindings: 'Risk and rejection findings by rule', kDeclared: 'Lists declared', kReleased: 'Released', kRejected: 'Rejected',
      kReleaseRate: 'Release rate', kAuto: 'Automated release', kValue: 'Released value', kTax: 'Tax', kP50: 'Clearance P50',
      kP95: 'P95 {v} · P99 {w}', zoneSub: 'zone {v}', declared: 'Declared', released: 'Released', rejected: 'Rejected', zoneReleased: 'Zone released',
      releaseRate: 'Release rate', autoRate: 'Automated', green: 'Green', yellow: 'Yellow (document review)', red: 'Red (inspection)',
      buyers: 'Buyers', value: 'Value', lists: 'Lists', rule: 'Rule', count: 'Count', share: 'Share', none: 'No rejections in this period',
      updated: 'Updated {t}', y1210: '1210 bonded', y9610: '9610 direct mail',
    },
  });
  const chapters = {
    '03': ['水产品', 'Fish & seafood'], '04': ['乳品·蜂蜜', 'Dairy & honey'], '08': ['果品·坚果', 'Fruit & nuts'], '17': ['糖及糖食', 'Sugar'],
    19: ['谷物乳制品', 'Cereal & milk preps'], 21: ['杂项食品', 'Food preparations'], 22: ['饮料·酒', 'Beverages & wine'], 24: ['烟草', 'Tobacco'],
    30: ['药品', 'Pharmaceuticals'], 33: ['化妆品', 'Cosmetics'], 34: ['洗涤用品', 'Soaps'], 42: ['箱包', 'Leather goods'], 61: ['针织服装', 'Knit apparel'],
    64: ['鞋靴', 'Footwear'], 71: ['珠宝', 'Jewellery'], 85: ['电器', 'Electrical'], 90: ['光学仪器', 'Optical'], 91: ['钟表', 'Watches'], 95: ['玩具', 'Toys'], 96: ['杂项制品', 'Misc. articles'],
  };
  const rules = {
    M0: ['单证等待超时', 'partner documents missing'], M1: ['订单金额不平', 'order amounts do not add up'], M2: ['支付金额不符', 'payment ≠ order'],
    M3: ['订购人与支付人不符', 'buyer ≠ payer'], M4: ['收货人信息不符', 'consignee differs'], M5: ['单价×数量不符', 'price × qty'],
    M6: ['清单与订单不符', 'list ≠ order'], M7: ['支付交易号不符', 'payment reference differs'], M8: ['监管方式要素缺失', 'trade-mode fields'],
    M9: ['担保企业不符', 'guarantor'], R1: ['发送企业未备案', 'sender not registered'], R2: ['身份证号码无效', 'invalid buyer ID'],
    R3: ['不在正面清单', 'not on the positive list'], R4: ['超单次限值', 'over the transaction limit'], R5: ['超年度限值', 'over the annual limit'],
    R6: ['保税库存不足', 'insufficient bonded stock'], R7: ['担保额度不足', 'insufficient guarantee'], R8: ['价格异常', 'price anomaly'],
    R9: ['禁限/布控商品', 'restricted / controlled goods'], R10: ['风险模式', 'risk pattern'], O: ['关员决定', 'officer decision'],
  };
  const palette = ['#36c3ff', '#ffd24a', '#22d39a', '#ff7a59', '#9b8cff', '#2f7bff', '#ff5d9e', '#7ee0c3', '#f5a623', '#8aa4c8'];
  const $ = (id) => document.getElementById(id);
  const charts = {};
  let range = localStorage.getItem('cbec.range') || '24h';
  let last = null;

  const key = () => sessionStorage.getItem('cbec.statsKey') || '';
  function rangeParams() {
    const now = Date.now();
    const hour = 3600e3;
    const day = 24 * hour;
    const to = Math.ceil((now + 1) / hour) * hour;
    if (range === 'today') {
      // Beijing midnight (UTC+8).
      const bj = now + 8 * hour;
      const from = bj - (bj % day) - 8 * hour;
      return { from, to, granularity: 'hour' };
    }
    if (range === '7d') return { from: to - 7 * day, to, granularity: 'hour' };
    if (range === '30d') {
      const dto = Math.ceil((now + 8 * hour + 1) / day) * day - 8 * hour;
      return { from: dto - 30 * day, to: dto, granularity: 'day' };
    }
    return { from: to - day, to, granularity: 'hour' };
  }
  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init($(id), null, { renderer: 'canvas' });
    return charts[id];
  }
  const axisStyle = {
    axisLine: { lineStyle: { color: 'rgba(138,164,200,.35)' } },
    axisLabel: { color: '#8aa4c8' },
    splitLine: { lineStyle: { color: 'rgba(86,160,255,.12)' } },
  };
  const base = {
    backgroundColor: 'transparent', color: palette, textStyle: { color: '#cfe2ff', fontFamily: 'Noto Sans CJK SC, sans-serif' },
    tooltip: { trigger: 'axis', backgroundColor: 'rgba(8,22,42,.95)', borderColor: 'rgba(54,195,255,.4)', textStyle: { color: '#e8f1ff' } },
    legend: { top: 0, right: 0, textStyle: { color: '#8aa4c8' }, itemWidth: 14, itemHeight: 8 },
    grid: { left: 8, right: 12, top: 34, bottom: 4, containLabel: true },
  };
  function label(ms, g) { return g === 'day' ? cbec.md(ms) : cbec.hm(ms); }
  function tile(cls, name, value, sub) {
    const d = el('div', `kpi ${cls}`);
    d.append(el('small', '', name), el('b', '', value));
    if (sub) d.append(el('span', '', sub));
    return d;
  }

  function render(data) {
    last = data;
    const ent = data.scope === 'enterprise';
    const mine = ent ? data.own : data.zone;
    const zone = data.zone;
    const T = mine.total;
    const Z = zone.total;
    const g = mine.granularity;
    $('scope').textContent = ent ? t('scopeEnt', { name: (data.names || {})[data.enterprise] || '', code: data.enterprise }) : t('scopeZone');
    const zs = (v) => (ent ? t('zoneSub', { v }) : '');
    $('kpis').replaceChildren(
      tile('', t('kDeclared'), cbec.num(T.declared), zs(cbec.num(Z.declared))),
      tile('good', t('kReleased'), cbec.num(T.released), zs(cbec.num(Z.released))),
      tile('bad', t('kRejected'), cbec.num(T.rejected), zs(cbec.num(Z.rejected))),
      tile('good', t('kReleaseRate'), cbec.pct(T.releaseRate), zs(cbec.pct(Z.releaseRate))),
      tile('good', t('kAuto'), cbec.pct(T.automatedRate), zs(cbec.pct(Z.automatedRate))),
      tile('', t('kValue'), cbec.bigYuan(T.valueFen), zs(cbec.bigYuan(Z.valueFen))),
      tile('warn', t('kTax'), cbec.bigYuan(T.taxFen), zs(cbec.bigYuan(Z.taxFen))),
      tile('', t('kP50'), cbec.duration(T.p50Ms), t('kP95', { v: cbec.duration(T.p95Ms), w: cbec.duration(T.p99Ms) })),
    );
    const xs = mine.series.map((b) => label(b.t, g));
    // Points are drawn where there are few of them: a lone bucket with data must still show.
    const few = mine.series.filter((b) => b.released + b.rejected > 0).length < 6;
    const line = (name, values, extra = {}) => ({ name, type: 'line', smooth: true, showSymbol: few, symbolSize: 6, data: values, ...extra });
    const area = (c) => ({ areaStyle: { color: new echarts.graphic.LinearGradient(0, 0, 0, 1, [{ offset: 0, color: c }, { offset: 1, color: 'rgba(0,0,0,0)' }]) } });
    const series = [
      { name: t('declared'), type: 'bar', barMaxWidth: 14, data: mine.series.map((b) => b.declared), itemStyle: { color: 'rgba(54,195,255,.55)', borderRadius: [3, 3, 0, 0] } },
      line(t('released'), mine.series.map((b) => b.released), { showSymbol: false, lineStyle: { width: 3, color: '#22d39a' }, itemStyle: { color: '#22d39a' }, ...area('rgba(34,211,154,.28)') }),
      line(t('rejected'), mine.series.map((b) => b.rejected), { showSymbol: false, lineStyle: { width: 2, color: '#ff5d6c' }, itemStyle: { color: '#ff5d6c' } }),
    ];
    if (ent) series.push(line(t('zoneReleased'), zone.series.map((b) => b.released), { yAxisIndex: 1, showSymbol: false, lineStyle: { type: 'dashed', color: '#ffd24a' }, itemStyle: { color: '#ffd24a' } }));
    chart('cThroughput').setOption({
      ...base, xAxis: { type: 'category', data: xs, ...axisStyle },
      yAxis: ent ? [{ type: 'value', ...axisStyle }, { type: 'value', ...axisStyle, splitLine: { show: false } }] : [{ type: 'value', ...axisStyle }],
      series,
    }, true);
    chart('cLanes').setOption({
      ...base, tooltip: { trigger: 'item', ...base.tooltip, formatter: '{b}: {c} ({d}%)' },
      legend: { bottom: 0, left: 'center', textStyle: { color: '#8aa4c8' } },
      series: [{
        type: 'pie', radius: ['48%', '72%'], center: ['50%', '45%'], avoidLabelOverlap: true,
        itemStyle: { borderColor: '#0b1d36', borderWidth: 3 }, label: { color: '#cfe2ff', formatter: '{d}%' },
        data: [
          { name: t('green'), value: T.lanes.green, itemStyle: { color: '#22d39a' } },
          { name: t('yellow'), value: T.lanes.yellow, itemStyle: { color: '#ffd24a' } },
          { name: t('red'), value: T.lanes.red, itemStyle: { color: '#ff5d6c' } },
        ].map((d) => ({ ...d, label: { show: d.value > 0 }, labelLine: { show: d.value > 0 } })),
      }],
    }, true);
    const pctAxis = { type: 'value', min: 0, max: 100, axisLabel: { color: '#8aa4c8', formatter: '{value}%' }, splitLine: axisStyle.splitLine };
    const rate = (b, k) => (b.released + b.rejected > 0 || k === 'automatedRate' && b.released > 0 ? +(b[k] * 100).toFixed(1) : null);
    chart('cRates').setOption({
      ...base, xAxis: { type: 'category', data: xs, ...axisStyle }, yAxis: pctAxis,
      series: [
        line(t('releaseRate'), mine.series.map((b) => rate(b, 'releaseRate')), { connectNulls: true, lineStyle: { width: 3 } }),
        line(t('autoRate'), mine.series.map((b) => rate(b, 'automatedRate')), { connectNulls: true, lineStyle: { width: 2 } }),
      ],
    }, true);
    const secs = (ms) => (ms ? +(ms / 1000).toFixed(1) : null);
    chart('cTime').setOption({
      ...base, xAxis: { type: 'category', data: xs, ...axisStyle },
      yAxis: { type: 'value', ...axisStyle, axisLabel: { color: '#8aa4c8', formatter: (v) => (cbec.lang === 'zh' ? `${v}秒` : `${v}s`) } },
      series: [
        line('P50', mine.series.map((b) => secs(b.p50Ms)), { connectNulls: true, lineStyle: { width: 3 } }),
        line('P95', mine.series.map((b) => secs(b.p95Ms)), { connectNulls: true }),
        line('P99', mine.series.map((b) => secs(b.p99Ms)), { connectNulls: true, lineStyle: { type: 'dashed' } }),
      ],
    }, true);
    const bands = data.quota.bands;
    chart('cQuota').setOption({
      ...base, tooltip: { ...base.tooltip, trigger: 'axis' },
      xAxis: { type: 'category', data: bands.map((b) => (b.toPct === null ? '100%' : `${b.fromPct}–${b.toPct}%`)), ...axisStyle, axisLabel: { color: '#8aa4c8', rotate: 35, fontSize: 11 } },
      yAxis: { type: 'value', name: t('buyers'), nameTextStyle: { color: '#8aa4c8' }, ...axisStyle },
      series: [{ name: t('buyers'), type: 'bar', data: bands.map((b, i) => ({ value: b.buyers, itemStyle: { color: i >= 9 ? '#ff5d6c' : i >= 7 ? '#ffd24a' : '#36c3ff', borderRadius: [4, 4, 0, 0] } })) }],
    }, true);
    const hbar = (id, rows, name, color) => {
      const top = rows.slice(0, 10).reverse();
      chart(id).setOption({
        ...base, tooltip: { ...base.tooltip, trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => cbec.yuanFen(v * 100) },
        grid: { ...base.grid, right: 56 },
        xAxis: { type: 'value', ...axisStyle, axisLabel: { color: '#8aa4c8', formatter: (v) => (v >= 1e4 ? `${(v / 1e4).toFixed(0)}${cbec.lang === 'zh' ? '万' : '0k'}` : v) } },
        yAxis: { type: 'category', data: top.map((r) => name(r.key)), ...axisStyle, axisLabel: { color: '#cfe2ff' } },
        series: [{
          type: 'bar', barMaxWidth: 16, data: top.map((r) => +(r.valueFen / 100).toFixed(2)),
          itemStyle: { borderRadius: [0, 4, 4, 0], color: new echarts.graphic.LinearGradient(0, 0, 1, 0, [{ offset: 0, color: 'rgba(47,123,255,.5)' }, { offset: 1, color }]) },
          label: { show: true, position: 'right', color: '#8aa4c8', formatter: (p) => cbec.bigYuan(p.value * 100) },
        }],
      }, true);
    };
    hbar('cCountry', T.byCountry, (k) => cbec.country(k), '#36c3ff');
    hbar('cChapter', T.byChapter, (k) => `${k} ${chapters[k] ? chapters[k][cbec.lang === 'zh' ? 0 : 1] : ''}`, '#9b8cff');
    // The regulator compares platforms; an enterprise sees the zone's trade-mode split instead.
    const plat = ent ? T.byTradeMode : T.byPlatform;
    $('cPlatformTitle').textContent = t(ent ? 'cTradeMode' : 'cPlatform');
    const names = data.names || {};
    chart('cPlatform').setOption({
      ...base, tooltip: { ...base.tooltip, trigger: 'axis', axisPointer: { type: 'shadow' } },
      xAxis: { type: 'category', data: plat.map((r) => (ent ? t(`y${r.key}`) : (names[r.key] || r.key).replace(/有限公司$/, ''))), ...axisStyle, axisLabel: { color: '#cfe2ff', interval: 0, fontSize: 12 } },
      yAxis: [{ type: 'value', name: t('lists'), nameTextStyle: { color: '#8aa4c8' }, ...axisStyle }, { type: 'value', ...axisStyle, splitLine: { show: false }, axisLabel: { color: '#8aa4c8', formatter: (v) => cbec.bigYuan(v * 100) } }],
      series: [
        { name: t('lists'), type: 'bar', barMaxWidth: 38, data: plat.map((r) => r.lists), itemStyle: { color: '#2f7bff', borderRadius: [4, 4, 0, 0] } },
        { name: t('value'), type: 'line', yAxisIndex: 1, data: plat.map((r) => +(r.valueFen / 100).toFixed(2)), itemStyle: { color: '#ffd24a' } },
      ],
    }, true);
    const total = T.findings.reduce((s, f) => s + f.count, 0);
    const tbl = el('table', 'grid');
    const hr = el('tr');
    for (const [k, c] of [['rule', ''], ['', ''], ['count', 'num'], ['share', '']]) hr.append(el('th', c, k ? t(k) : ''));
    const thead = el('thead'); thead.append(hr);
    const tb = el('tbody');
    for (const f of T.findings) {
      const tr = el('tr');
      const bar = el('div', 'bar'); bar.style.width = `${Math.max(4, (f.count / total) * 100)}%`;
      const barTd = el('td'); barTd.style.width = '28%'; barTd.append(bar);
      tr.append(el('td', 'rule', f.rule), el('td', '', rules[f.rule] ? rules[f.rule][cbec.lang === 'zh' ? 0 : 1] : ''), el('td', 'num', cbec.num(f.count)), barTd);
      tb.append(tr);
    }
    tbl.append(thead, tb);
    $('findings').replaceChildren(T.findings.length ? tbl : el('p', 'muted', t('none')));
    $('updated').textContent = t('updated', { t: cbec.time(Date.now()) });
    document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
  }

  async function load() {
    const r = await api(`/api/v1/stats?${new URLSearchParams(rangeParams())}`, { key: key() });
    if (r.status === 401) {
      sessionStorage.removeItem('cbec.statsKey');
      return showLogin(t('badKey'));
    }
    if (r.status === 200) render(r.data);
  }
  function showLogin(msg) {
    $('main').hidden = true;
    $('login').hidden = false;
    $('logout').hidden = true;
    if (msg) { $('loginError').hidden = false; $('loginError').textContent = msg; }
  }
  async function signIn() {
    sessionStorage.setItem('cbec.statsKey', $('key').value.trim());
    $('login').hidden = true;
    $('main').hidden = false;
    $('logout').hidden = false;
    await load();
  }
  async function csv() {
    const res = await fetch(`/api/v1/stats.csv?${new URLSearchParams(rangeParams())}`, { headers: { 'X-API-Key': key() } });
    if (!res.ok) return;
    const url = URL.createObjectURL(await res.blob());
    const a = el('a');
    a.href = url;
    a.download = `cbec-stats-${range}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  function markRange() {
    document.querySelectorAll('#ranges button').forEach((b) => b.classList.toggle('on', b.dataset.range === range));
  }
  document.querySelectorAll('#ranges button').forEach((b) => b.addEventListener('click', () => {
    range = b.dataset.range;
    localStorage.setItem('cbec.range', range);
    markRange();
    load();
  }));
  $('signin').addEventListener('click', signIn);
  $('key').addEventListener('keydown', (e) => { if (e.key === 'Enter') signIn(); });
  $('csv').addEventListener('click', csv);
  $('logout').addEventListener('click', () => { sessionStorage.removeItem('cbec.statsKey'); location.reload(); });
  window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));
  cbec.onLang(() => { if (last) render(last); });
  markRange();
  if (key()) { $('main').hidden = false; $('logout').hidden = false; load(); } else showLogin();
  setInterval(() => { if (key()) load(); }, 30000);
})();
