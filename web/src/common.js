// Shared by every page: language switch (Chinese default, English toggle), number, money and
// time formatting (Beijing time), JSON calls with the key, and the code tables people read.
window.cbec = (() => {
  const dict = { zh: {}, en: {} };
  const listeners = [];
  let lang = localStorage.getItem('cbec.lang') === 'en' ? 'en' : 'zh';

  function t(key, vars) {
    let s = (dict[lang] && dict[lang][key]) ?? dict.zh[key] ?? key;
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, v);
    return s;
  }
  function apply() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll('[data-i18n-ph]').forEach((el) => { el.placeholder = t(el.dataset.i18nPh); });
    const b = document.getElementById('lang');
    if (b) b.textContent = lang === 'zh' ? 'EN' : '中文';
    listeners.forEach((fn) => fn(lang));
  }
  function i18n(more) {
    for (const l of ['zh', 'en']) Object.assign(dict[l], more[l] || {});
    const b = document.getElementById('lang');
    if (b && !b.dataset.bound) {
      b.dataset.bound = '1';
      b.addEventListener('click', () => setLang(lang === 'zh' ? 'en' : 'zh'));
    }
    apply();
  }
  function setLang(l) {
    lang = l;
    localStorage.setItem('cbec.lang', l);
    apply();
  }

  const tz = 'Asia/Shanghai';
  const fmtTime = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  const fmtHm = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hour12: false });
  const fmtDate = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
  const fmtMd = new Intl.DateTimeFormat('en-CA', { timeZone: tz, month: '2-digit', day: '2-digit' });
  const time = (ms) => (ms ? fmtTime.format(new Date(ms)) : '—');
  const hm = (ms) => (ms ? fmtHm.format(new Date(ms)) : '—');
  const date = (ms) => (ms ? fmtDate.format(new Date(ms)) : '—');
  const md = (ms) => (ms ? fmtMd.format(new Date(ms)) : '—');
  const datetime = (ms) => (ms ? `${date(ms)} ${time(ms)}` : '—');
  const num = (n) => Number(n || 0).toLocaleString('en-US');
  // Money arrives as integer fen or as "123.45" text; shown as ¥1,234.56.
  const yuanFen = (fen) => `¥${(Number(fen || 0) / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const yuanText = (s) => yuanFen(Math.round(Number(s || 0) * 100));
  const bigYuan = (fen) => {
    const y = Number(fen || 0) / 100;
    if (lang === 'zh' && y >= 1e8) return `¥${(y / 1e8).toFixed(2)}亿`;
    if (lang === 'zh' && y >= 1e4) return `¥${(y / 1e4).toFixed(2)}万`;
    if (lang === 'en' && y >= 1e6) return `¥${(y / 1e6).toFixed(2)}M`;
    if (lang === 'en' && y >= 1e3) return `¥${(y / 1e3).toFixed(1)}k`;
    return yuanFen(fen);
  };
  const pct = (x) => `${(Number(x || 0) * 100).toFixed(1)}%`;
  function duration(ms) {
    if (!ms) return '—';
    const s = ms / 1000;
    if (s < 60) return lang === 'zh' ? `${s.toFixed(s < 10 ? 1 : 0)} 秒` : `${s.toFixed(s < 10 ? 1 : 0)} s`;
    if (s < 3600) return lang === 'zh' ? `${(s / 60).toFixed(1)} 分钟` : `${(s / 60).toFixed(1)} min`;
    return lang === 'zh' ? `${(s / 3600).toFixed(1)} 小时` : `${(s / 3600).toFixed(1)} h`;
  }

  async function api(path, { key, method = 'GET', body } = {}) {
    const headers = { Accept: 'application/json' };
    if (key) headers['X-API-Key'] = key;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      return { status: 0, data: { error: String(e) } };
    }
    let data = null;
    const text = await res.text();
    try { data = text ? JSON.parse(text) : null; } catch { data = { error: text }; }
    return { status: res.status, data };
  }

  // JGS-20 country codes of the goods cbec sees most, and declared units.
  const countries = {
    142: ['中国', 'China'], 303: ['德国', 'Germany'], 609: ['新西兰', 'New Zealand'], 305: ['法国', 'France'],
    116: ['日本', 'Japan'], 601: ['澳大利亚', 'Australia'], 502: ['美国', 'United States'], 133: ['韩国', 'South Korea'],
    307: ['意大利', 'Italy'], 304: ['英国', 'United Kingdom'], 309: ['荷兰', 'Netherlands'], 312: ['西班牙', 'Spain'],
    501: ['加拿大', 'Canada'], 132: ['新加坡', 'Singapore'], 136: ['泰国', 'Thailand'], 330: ['瑞典', 'Sweden'],
    331: ['瑞士', 'Switzerland'], 344: ['俄罗斯', 'Russia'],
  };
  const units = { '007': ['个', 'pc'], '011': ['件', 'pc'], '035': ['千克', 'kg'], '122': ['罐', 'can'], '125': ['包', 'pack'], '140': ['盒', 'box'], '142': ['瓶', 'bottle'] };
  const country = (c) => (countries[c] ? countries[c][lang === 'zh' ? 0 : 1] : c);
  const unit = (u) => (units[u] ? units[u][lang === 'zh' ? 0 : 1] : u);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  return {
    t, i18n, setLang, onLang: (fn) => listeners.push(fn), get lang() { return lang; },
    time, hm, date, md, datetime, num, yuanFen, yuanText, bigYuan, pct, duration, api, country, unit, el,
  };
})();
