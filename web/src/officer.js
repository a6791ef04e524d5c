// The officer console: an officer signs in with their own key (kept in sessionStorage only; every
// action is logged in the key's officer's name), works the site's yellow (manual review, 300) and
// red (inspection, 500) queues with the four documents of a list side by side and the fields that
// findings name marked, claims, decides and records inspection results, sets and revokes control
// orders (布控) and confirms credit grade changes. The server decides; every refusal is shown in
// plain words.
(() => {
  const { t, el, api } = cbec;
  const REFRESH_MS = 5000;
  cbec.i18n({
    zh: {
      title: '关员工作台', sub: '现场海关 · 人工审核、查验、布控与信用管理', logout: '退出', loginTitle: '关员登录',
      loginHint: '使用本人的关员密钥登录：每一项操作都以密钥所属关员的名义记录。密钥只保存在本浏览器标签页中。',
      key: '关员密钥', signin: '登录', badKey: '密钥无效，请核对后重试', notOfficer: '该密钥不是关员密钥：关员须使用本人的密钥登录',
      notRegistered: '该关员尚未登记或已被注销', tabQueues: '审核队列', tabControls: '布控指令', tabCredit: '企业信用',
      yellow: '人工审核', red: '查验', yellowLane: '黄色通道', redLane: '红色通道', mine: '只看我的', findPh: '输入清单编号打开', openList: '打开', updated: '{time} 已更新',
      refreshing: '每 {s} 秒自动刷新', pick: '选择左侧队列中的清单', pickSub: '四单并排比对，风险与布控命中字段高亮标出',
      emptyQueue: '队列中没有待处理的清单', emptyMine: '没有分派给您或由您认领的清单', waited: '等待 {d}',
      assigned: '分派 {who}', claimed: '已认领 {who}', me: '我', random: '随机抽中', dutiable: '完税价格', tax: '税款', lines: '{n} 项商品',
      onDuty: '在岗', offDuty: '不在岗', open: '待办 {n}', officerNo: '工号 {id}', site: '{site} 关区',
      // detail
      invt: '清单编号', order: '订单编号', declaredAt: '申报时间', queuedAt: '入队时间', lane: '通道', assignedTo: '分派关员', drawRate: '双随机抽检率', drawSelected: '随机抽中', drawNotSelected: '未抽中', drawByControl: '布控 {id}', drawByRisk: '风险规则 {rule}',
      claimedBy: '认领关员', nobody: '未认领', claim: '认领', unclaim: '取消认领', claimedOk: '已认领，可以处置',
      unclaimedOk: '已取消认领，清单回到分派关员名下', findings: '命中与风险提示', noFindings: '无规则命中：本票由双随机抽中',
      field: '字段', ruleOfficer: '关员', docs: '四单比对', docsSub: '以清单为准逐项比对；橙色为单证间不一致，红色为风险或布控命中字段',
      d_order: '订单', d_payment: '支付单', d_waybill: '运单', d_list: '清单', missing: '未收到', goods: '商品明细',
      goodsSub: '清单表体与订单表体按序号对齐；与订单不一致处标出订单值', taxTitle: '税款', history: '回执历史',
      raw: '原始报文（CEB JSON）', notQueued: '该清单不在审核队列中', stateNow: '当前状态',
      // fields
      f_orderNo: '订单编号', f_ebp: '电商平台', f_ebc: '电商企业', f_buyerName: '订购人', f_buyerId: '订购人证件号',
      f_buyerPhone: '订购人电话', f_consignee: '收货人', f_consigneePhone: '收货人电话', f_address: '收货地址',
      f_pay: '支付企业', f_payTx: '支付交易编号', f_logistics: '物流企业', f_logisticsNo: '运单编号', f_goodsValue: '商品货值',
      f_freight: '运杂费', f_insured: '保价费', f_taxTotal: '代扣税款', f_paid: '实际支付', f_weight: '毛重（千克）',
      f_packNo: '件数', f_appTime: '申报时间', f_agent: '申报企业', f_ems: '账册编号', f_tradeMode: '贸易方式',
      g_gnum: '序号', g_item: '商品', g_gcode: '商品编码', g_country: '原产国', g_qty: '数量', g_price: '单价', g_total: '总价',
      g_legal: '法定数量', g_tax: '税款', orderSays: '订单：{v}', listSum: '清单合计',
      tx_dutiable: '完税价格', tx_tariff: '关税', tx_ct: '消费税', tx_vat: '增值税', tx_total: '应征税款',
      regime_preferential: '跨境电商优惠税率（70%）', regime_general: '按一般贸易全额征税',
      // actions
      decide: '处置', decideSub: '先认领以免与其他关员重复处理；除放行外须填写理由', inspect: '录入查验结果', inspectSub: '查验无异常即放行；有发现须填写类别、情况并选择后续处置',
      a_release: '放行', a_reject: '退单', a_inspect: '转查验', a_modify: '退回修改', a_detain_501: '扣留 · 移交通关',
      a_detain_502: '扣留 · 移交缉私', a_detain_503: '扣留 · 移交法规', a_detain_599: '扣留 · 其他',
      reason: '理由', reasonPh: '写明处置依据，将随回执发送给申报企业', reasonOpt: '备注（可选）', submit: '确认处置',
      needReason: '除放行外，处置须填写理由', needClaim: '请先认领该清单', noFinding: '查验无异常', finding: '有查验发现',
      category: '发现类别', followUp: '后续处置', findingReason: '查验情况', findingPh: '写明查验发现的具体情况',
      needCategory: '请选择发现类别', needFindingReason: '请写明查验情况', record: '提交查验结果',
      cat_goods_mismatch: '品名规格不符', cat_quantity: '数量不符', cat_classification: '归类不符', cat_valuation: '价格不实',
      cat_origin: '原产地不符', cat_prohibited: '禁限物品 / 夹藏', cat_ipr: '涉嫌侵权', cat_labeling: '标签 / 质量安全', cat_other: '其他',
      done_release: '已放行 · 清单 {invt} 回执 800', done_reject: '已退单 · 清单 {invt} 回执 100', done_inspect: '已转查验 · 清单 {invt} 回执 500',
      done_modify: '已退回修改 · 清单 {invt}', done_detain: '已扣留 · 清单 {invt} 回执 {code}', done_generic: '已提交 · 清单 {invt}',
      refused: '操作未被接受', presetsRelease: '单证相符，予以放行', presetsReject: '申报信息与实际不符，予以退单',
      presetsModify: '请更正申报要素后重新申报', presetsInspect: '需查验实货核实', nextItem: '下一票',
      // control orders
      coNew: '新建布控指令', coId: '指令编号', coTarget: '布控对象', coPattern: '布控内容', coAction: '处置', coExpires: '有效期',
      coReason: '布控理由', coReasonPh: '例如：情报线索、风险研判结论', coCreate: '下达布控', coList: '布控指令', activeOnly: '只看生效中',
      coBy: '下达关员', coUntil: '有效至', coHits: '命中', coState: '状态', t_hs_code: '商品编码（HS）', t_enterprise: '企业',
      t_buyer_id: '订购人证件号', t_address: '收货地址', t_phone: '电话', toYellow: '转人工审核', toRed: '转查验',
      h24: '24 小时', h72: '3 天', h168: '7 天', h720: '30 天', h2160: '90 天', active: '生效中', revoked: '已撤销', expired: '已过期',
      revoke: '撤销', revokeSure: '确认撤销？', coCreated: '布控 {id} 已生效', coRevoked: '布控 {id} 已撤销', coNone: '暂无布控指令',
      hint_hs_code: '按前缀匹配，例如 3304 布控所有护肤品', hint_enterprise: '电商企业、平台、申报企业等的 10 位编码；以 * 结尾按前缀匹配',
      hint_buyer_id: '18 位身份证号；以 * 结尾按前缀匹配', hint_address: '收货地址包含该文字即命中', hint_phone: '电话号码；以 * 结尾按前缀匹配',
      needPattern: '请填写布控内容', needCoReason: '请填写布控理由', needCoId: '请填写指令编号',
      // credit
      proposals: '待确认的等级调整建议', noProposals: '暂无待确认的等级调整建议', enterprises: '企业信用记录', enterprise: '企业', grade: '信用等级',
      c_release: '放行', c_finding: '查验发现', c_rejection: '退单', c_late_tax: '税款逾期', c_return: '退货撤单', score: '风险分（每千票）',
      creditNote: '近一年记录；点击企业查看评分依据或调整等级', g_advanced_certified: '高级认证', g_certified: '认证', g_regular: '常规',
      g_dishonest: '失信', g_seriously_dishonest: '严重失信', proposedAt: '{time} 提出', confirm: '确认调整', proposalTo: '建议调整为',
      effectiveFrom: '生效日期（年-月-日）', effectiveHint: '留空即时生效', gradeReason: '调整理由', gradeReasonPh: '例如：查验发现较多，经研判予以降级',
      setGrade: '调整信用等级', newGrade: '新等级', apply: '提交调整', gradeDone: '{code} 的信用等级将调整为 {grade}（{when}）', atOnce: '即时生效',
      basis: '评分依据', changes: '等级调整记录', noChanges: '暂无调整记录', byOfficer: '关员 {id}', pending: '待生效', applied: '已生效',
      needGradeReason: '请填写调整理由', badDate: '生效日期格式应为 年-月-日，例如 2026-12-01', select: '查看', noCredit: '暂无信用记录',
      network: '网络错误，请检查连接后重试',
    },
    en: {
      title: 'Officer console', sub: 'Customs site · review, inspection, control, credit', logout: 'Sign out', loginTitle: 'Officer sign-in',
      loginHint: 'Sign in with your own officer key: every action is recorded in the name of the key\'s officer. The key is kept in this browser tab only.',
      key: 'Officer key', signin: 'Sign in', badKey: 'Unknown key, check it and retry', notOfficer: 'This is not an officer key: officers sign in with their own key',
      notRegistered: 'This officer is not registered', tabQueues: 'Queues', tabControls: 'Control orders', tabCredit: 'Credit',
      yellow: 'Manual review', red: 'Inspection', yellowLane: 'Yellow lane', redLane: 'Red lane', mine: 'Mine only', findPh: 'Open a list by number', openList: 'Open', updated: 'updated {time}',
      refreshing: 'auto-refresh every {s} s', pick: 'Pick a list from the queue', pickSub: 'The four documents side by side, with the fields findings name marked',
      emptyQueue: 'Nothing waiting in this queue', emptyMine: 'Nothing assigned to or claimed by you', waited: 'waiting {d}',
      assigned: 'assigned {who}', claimed: 'claimed {who}', me: 'me', random: 'random draw', dutiable: 'Dutiable', tax: 'Tax', lines: '{n} lines',
      onDuty: 'on duty', offDuty: 'off duty', open: '{n} open', officerNo: 'No. {id}', site: 'site {site}',
      invt: 'List', order: 'Order', declaredAt: 'Declared', queuedAt: 'Queued', lane: 'Lane', assignedTo: 'Assigned to', drawRate: 'Random-inspection rate', drawSelected: 'selected by the draw', drawNotSelected: 'not selected', drawByControl: 'control order {id}', drawByRisk: 'risk rule {rule}',
      claimedBy: 'Claimed by', nobody: 'not claimed', claim: 'Claim', unclaim: 'Unclaim', claimedOk: 'Claimed: you can decide it',
      unclaimedOk: 'Unclaimed: the list is back with its assigned officer', findings: 'Rule hits and risk findings', noFindings: 'No rule hit: selected by the random draw',
      field: 'Field', ruleOfficer: 'officer', docs: 'Documents compared', docsSub: 'Checked against the list; amber where documents disagree, red where a finding or control order points',
      d_order: 'Order', d_payment: 'Payment', d_waybill: 'Waybill', d_list: 'List', missing: 'not received', goods: 'Goods',
      goodsSub: 'List lines aligned with order lines by number; where the order differs its value is shown', taxTitle: 'Tax', history: 'Receipt history',
      raw: 'Raw documents (CEB JSON)', notQueued: 'This list is in no queue', stateNow: 'State',
      f_orderNo: 'Order no.', f_ebp: 'Platform', f_ebc: 'E-commerce enterprise', f_buyerName: 'Buyer', f_buyerId: 'Buyer ID',
      f_buyerPhone: 'Buyer phone', f_consignee: 'Consignee', f_consigneePhone: 'Consignee phone', f_address: 'Address',
      f_pay: 'Payment company', f_payTx: 'Payment ref.', f_logistics: 'Carrier', f_logisticsNo: 'Waybill no.', f_goodsValue: 'Goods value',
      f_freight: 'Freight', f_insured: 'Insurance', f_taxTotal: 'Tax withheld', f_paid: 'Amount paid', f_weight: 'Gross weight (kg)',
      f_packNo: 'Packages', f_appTime: 'Declared at', f_agent: 'Declarer', f_ems: 'Account book', f_tradeMode: 'Trade mode',
      g_gnum: '#', g_item: 'Goods', g_gcode: 'HS code', g_country: 'Origin', g_qty: 'Qty', g_price: 'Price', g_total: 'Total',
      g_legal: 'Legal qty', g_tax: 'Tax', orderSays: 'order: {v}', listSum: 'List total',
      tx_dutiable: 'Dutiable value', tx_tariff: 'Tariff', tx_ct: 'Consumption tax', tx_vat: 'VAT', tx_total: 'Tax due',
      regime_preferential: 'CBEC preferential rate (70%)', regime_general: 'full general-trade tax',
      decide: 'Decision', decideSub: 'Claim it first so no one else works on it; every decision but release needs a reason', inspect: 'Inspection result', inspectSub: 'No finding releases the list; a finding needs a category, a description and a follow-up',
      a_release: 'Release', a_reject: 'Reject', a_inspect: 'Send to inspection', a_modify: 'Request modification', a_detain_501: 'Detain · to clearance',
      a_detain_502: 'Detain · to anti-smuggling', a_detain_503: 'Detain · to legal', a_detain_599: 'Detain · other',
      reason: 'Reason', reasonPh: 'The grounds of the decision; sent to the declarer with the receipt', reasonOpt: 'Note (optional)', submit: 'Confirm decision',
      needReason: 'Every decision but release needs a reason', needClaim: 'Claim the list first', noFinding: 'No finding', finding: 'Finding',
      category: 'Category', followUp: 'Follow-up', findingReason: 'What was found', findingPh: 'Describe what the inspection found',
      needCategory: 'Choose a category', needFindingReason: 'Describe what was found', record: 'Record result',
      cat_goods_mismatch: 'Goods not as declared', cat_quantity: 'Quantity differs', cat_classification: 'Wrong classification', cat_valuation: 'Value misdeclared',
      cat_origin: 'Origin differs', cat_prohibited: 'Prohibited / concealed goods', cat_ipr: 'Suspected IPR infringement', cat_labeling: 'Labelling / safety', cat_other: 'Other',
      done_release: 'Released · list {invt} receipt 800', done_reject: 'Rejected · list {invt} receipt 100', done_inspect: 'Sent to inspection · list {invt} receipt 500',
      done_modify: 'Sent back for modification · list {invt}', done_detain: 'Detained · list {invt} receipt {code}', done_generic: 'Done · list {invt}',
      refused: 'Not accepted', presetsRelease: 'Documents consistent, released', presetsReject: 'Declaration does not match the goods, rejected',
      presetsModify: 'Correct the declaration and declare again', presetsInspect: 'Physical inspection needed', nextItem: 'Next list',
      coNew: 'New control order', coId: 'Order id', coTarget: 'Target', coPattern: 'Pattern', coAction: 'Action', coExpires: 'Valid for',
      coReason: 'Reason', coReasonPh: 'e.g. intelligence lead, risk analysis', coCreate: 'Set control order', coList: 'Control orders', activeOnly: 'Active only',
      coBy: 'Officer', coUntil: 'Expires', coHits: 'Hits', coState: 'State', t_hs_code: 'HS code', t_enterprise: 'Enterprise',
      t_buyer_id: 'Buyer ID', t_address: 'Address', t_phone: 'Phone', toYellow: 'Manual review', toRed: 'Inspection',
      h24: '24 hours', h72: '3 days', h168: '7 days', h720: '30 days', h2160: '90 days', active: 'active', revoked: 'revoked', expired: 'expired',
      revoke: 'Revoke', revokeSure: 'Really revoke?', coCreated: 'Control order {id} is active', coRevoked: 'Control order {id} revoked', coNone: 'No control orders',
      hint_hs_code: 'Prefix match, e.g. 3304 for all skin care', hint_enterprise: '10-character code of a platform, e-commerce enterprise, declarer…; a trailing * matches a prefix',
      hint_buyer_id: '18-character ID number; a trailing * matches a prefix', hint_address: 'Hits when the address contains this text', hint_phone: 'Phone number; a trailing * matches a prefix',
      needPattern: 'Enter the pattern', needCoReason: 'Enter the reason', needCoId: 'Enter the order id',
      proposals: 'Grade changes to confirm', noProposals: 'No grade change waiting for confirmation', enterprises: 'Enterprise credit records', enterprise: 'Enterprise', grade: 'Grade',
      c_release: 'Released', c_finding: 'Findings', c_rejection: 'Rejections', c_late_tax: 'Late tax', c_return: 'Returns', score: 'Risk score (per 1,000)',
      creditNote: 'Last year\'s record; pick an enterprise for the score\'s basis or to change its grade', g_advanced_certified: 'Advanced certified', g_certified: 'Certified', g_regular: 'Regular',
      g_dishonest: 'Dishonest', g_seriously_dishonest: 'Seriously dishonest', proposedAt: 'proposed {time}', confirm: 'Confirm', proposalTo: 'Proposed grade',
      effectiveFrom: 'Effective from (yyyy-mm-dd)', effectiveHint: 'empty: at once', gradeReason: 'Reason', gradeReasonPh: 'e.g. repeated inspection findings, downgraded after review',
      setGrade: 'Change credit grade', newGrade: 'New grade', apply: 'Apply', gradeDone: '{code} becomes {grade} ({when})', atOnce: 'at once',
      basis: 'Basis of the score', changes: 'Grade changes', noChanges: 'No grade changes', byOfficer: 'officer {id}', pending: 'pending', applied: 'in effect',
      needGradeReason: 'Enter the reason', badDate: 'The effective date reads year-month-day, e.g. 2026-12-01', select: 'Open', noCredit: 'No credit records yet',
      network: 'Network error, check the connection and retry',
    },
  });

  const $ = (id) => document.getElementById(id);
  const L = () => cbec.lang;
  const session = { get key() { return sessionStorage.getItem('cbec.officerKey') || ''; } };
  const state = {
    me: null, tab: 'queues', lane: 'yellow', queues: null, selected: null, detail: null, notice: null,
    controls: [], credit: null, creditCode: '', timer: null, revokeArm: '', lastAction: 0, gradeNotice: null,
  };

  // ---- formatting ---------------------------------------------------------------------------
  // API times are Beijing wall-clock "yyyyMMddHHmmssSSS".
  function ms(s) {
    if (!s || s.length < 14) return 0;
    const n = (a, b) => Number(s.slice(a, b));
    return Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10) - 8, n(10, 12), n(12, 14), s.length >= 17 ? n(14, 17) : 0);
  }
  const when = (s) => cbec.datetime(ms(s));
  function age(s) {
    const d = Math.max(0, Date.now() - ms(s));
    const m = Math.floor(d / 60000);
    if (m < 1) return L() === 'zh' ? `${Math.floor(d / 1000)} 秒` : `${Math.floor(d / 1000)} s`;
    if (m < 60) return L() === 'zh' ? `${m} 分钟` : `${m} min`;
    const h = Math.floor(m / 60);
    if (h < 48) return L() === 'zh' ? `${h} 小时 ${m % 60} 分` : `${h} h ${m % 60} min`;
    return L() === 'zh' ? `${Math.floor(h / 24)} 天` : `${Math.floor(h / 24)} d`;
  }
  const ageClass = (s) => { const m = (Date.now() - ms(s)) / 60000; return m > 120 ? 'bad' : m > 30 ? 'warn' : ''; };
  const statusNames = {
    100: ['退单', 'rejected'], 120: ['已受理', 'accepted'], 300: ['人工审核', 'manual review'], 399: ['审结', 'concluded'],
    500: ['查验', 'inspection'], 501: ['扣留移交通关', 'detained → clearance'], 502: ['扣留移交缉私', 'detained → anti-smuggling'],
    503: ['扣留移交法规', 'detained → legal'], 599: ['其他扣留', 'detained (other)'], 700: ['退运', 'returned'], 800: ['放行', 'released'], 899: ['结关', 'closed'],
  };
  const statusName = (c) => (statusNames[c] ? statusNames[c][L() === 'zh' ? 0 : 1] : String(c));
  const statusCls = (c) => (c === 800 || c === 899 ? 'ok' : c === 100 || c >= 501 && c <= 599 || c < 0 ? 'bad' : c === 300 || c === 500 ? 'warn' : 'info');
  const gradeName = (g) => t(`g_${g}`);
  const gradeCls = (g) => ({ advanced_certified: 'ok', certified: 'ok', regular: 'info', dishonest: 'warn', seriously_dishonest: 'bad' }[g] || 'info');
  const who = (id) => (state.me && id === state.me.officer ? `${t('me')} (${id})` : id);
  // Declared units beyond the common table (GB/T customs unit codes).
  const moreUnits = {
    '006': ['套', 'set'], '012': ['支', 'pc'], '019': ['副', 'pair'], '025': ['双', 'pair'], '036': ['克', 'g'], '095': ['升', 'L'],
    '096': ['毫升', 'ml'], '120': ['箱', 'case'], '136': ['袋', 'bag'], '139': ['粒', 'pc'], '131': ['册', 'vol'],
  };
  const unit = (u) => (moreUnits[u] ? moreUnits[u][L() === 'zh' ? 0 : 1] : cbec.unit(u));
  const ruleLabel = (r) => (r === 'O' ? t('ruleOfficer') : r);
  const yuan = (v) => (v === undefined || v === null || v === '' ? '—' : cbec.yuanText(v));

  // Refusals in plain words: the server's message, said the way an officer would say it.
  const plain = [
    [/missing or unknown API key/, ['密钥无效或已失效，请重新登录', 'The key is unknown or no longer valid: sign in again']],
    [/needs an officer's own key/, ['该密钥不是关员密钥，关员须使用本人密钥', 'This is not an officer key']],
    [/list (\S+) is already claimed by (\S+)/, ['清单 $1 已被关员 $2 认领，请处理其他清单', 'List $1 is already claimed by officer $2: take another one']],
    [/list (\S+) is not claimed by (\S+)/, ['您没有认领清单 $1，无需取消', 'You have not claimed list $1']],
    [/list (\S+) is claimed by (\S+)/, ['清单 $1 已由关员 $2 认领，只有认领人可以处置', 'List $1 is claimed by officer $2: only they can decide it']],
    [/list (\S+) is in no officer queue/, ['清单 $1 已不在审核队列中（可能已被其他关员处置）', 'List $1 is no longer queued (another officer may have decided it)']],
    [/list (\S+) is unknown/, ['清单 $1 不存在', 'There is no list $1']],
    [/no such list/, ['没有这份清单，请核对清单编号', 'No such list: check the number']],
    [/list (\S+) is (\w+): no officer decision is pending/, ['清单 $1 当前为「$2」，无需关员处置', 'List $1 is $2: no officer decision is pending']],
    [/list (\S+) is (\w+), not under inspection/, ['清单 $1 当前为「$2」，不在查验中，不能录入查验结果', 'List $1 is $2, not under inspection']],
    [/officer (\S+) is off duty/, ['关员 $1 当前不在岗，不能认领或处置清单', 'Officer $1 is off duty and cannot claim or decide']],
    [/list (\S+) belongs to site (\S+), officer (\S+) works at (\S+)/, ['清单 $1 属于 $2 关区，您在 $4 关区', 'List $1 belongs to site $2; you work at $4']],
    [/only a release may be decided without a reason/, ['除放行外，处置必须填写理由', 'Every decision but release needs a reason']],
    [/only a list under manual review can be sent to inspection/, ['只有人工审核中的清单可以转查验', 'Only a list under manual review can be sent to inspection']],
    [/a detained list cannot be sent back for modification/, ['已扣留的清单不能退回修改', 'A detained list cannot be sent back for modification']],
    [/a finding needs a category and a reason/, ['查验发现须填写类别和查验情况', 'A finding needs a category and a description']],
    [/a finding is followed by reject, detain or modify|a finding needs action/, ['有查验发现时，后续处置只能是退单、扣留或退回修改', 'A finding is followed by reject, detain or modify']],
    [/control order (\S+) is unknown/, ['布控指令 $1 不存在', 'There is no control order $1']],
    [/pattern must be/, ['布控内容须为 1–256 个字符', 'The pattern must be 1–256 characters']],
    [/control order needs a reason/, ['下达布控须填写理由', 'A control order needs a reason']],
    [/order_id must be/, ['指令编号须为 1–64 个字符', 'The order id must be 1–64 characters']],
    [/expiresInHours/, ['有效期须在 1 小时至 366 天之间', 'The validity must be between 1 hour and 366 days']],
    [/control orders are active/, ['生效中的布控过多，请先撤销部分布控', 'Too many control orders are active: revoke some first']],
    [/a grade change cannot take effect in the past/, ['生效日期不能早于今天', 'The effective date cannot be in the past']],
    [/a grade change needs a reason/, ['调整信用等级须填写理由', 'A grade change needs a reason']],
    [/(\S+) is already (\w+)/, ['企业 $1 已是该等级，无需调整', 'Enterprise $1 already has this grade']],
    [/enterprise (\S+) is unknown|no such enterprise/, ['企业 $1 未登记', 'Enterprise $1 is not registered']],
    [/effectiveFrom/, ['生效日期格式应为 年-月-日', 'The effective date must be a date']],
    [/reason is over|reason or category too long/, ['理由过长，请精简到 1000 字节以内', 'The reason is too long (1,000 bytes at most)']],
    [/intake is stopped|fsync/i, ['系统暂停受理（存储故障），请稍后再试并联系运维', 'Intake is stopped (storage fault): retry later and call operations']],
    [/rate limit|too many requests/i, ['操作过于频繁，请稍后再试', 'Too many requests: wait a moment']],
  ];
  const stateWords = {
    released: '已放行', rejected: '已退单', waiting: '等待单证', held: '暂挂', manual_review: '人工审核', inspection: '查验中',
    detained: '扣留', closed: '已结关', cancelled: '已撤销', draft: '暂存',
  };
  const stateWord = (w) => (L() === 'zh' && stateWords[w] ? stateWords[w] : String(w).replace(/_/g, ' '));
  function refusal(r) {
    if (r.status === 0) return { text: t('network'), raw: '' };
    const msg = (r.data && (r.data.error || r.data.message)) || `HTTP ${r.status}`;
    for (const [re, [zh, en]] of plain) {
      const m = msg.match(re);
      if (!m) continue;
      const tpl = L() === 'zh' ? zh : en;
      return { text: tpl.replace(/\$(\d)/g, (_, i) => stateWord(m[Number(i)] ?? '')), raw: msg };
    }
    return { text: L() === 'zh' ? `系统拒绝了该操作：${msg}` : `Refused: ${msg}`, raw: msg };
  }
  function banner(box, kind, title, sub, raw) {
    const b = el('div', `banner ${kind}`);
    b.append(el('b', '', title));
    if (sub) b.append(el('div', '', sub));
    if (raw && raw !== sub) b.append(el('div', 'sub mono', `HTTP · ${raw}`));
    box.replaceChildren(b);
    return b;
  }
  function refusalBanner(box, r) {
    const f = refusal(r);
    const b = banner(box, 'bad', t('refused'), f.text, f.raw);
    b.dataset.refusal = f.raw || 'network';
    return b;
  }
  function call(path, opts = {}) { return api(path, { key: session.key, ...opts }); }

  // ---- sign-in ------------------------------------------------------------------------------
  async function signIn() {
    const key = $('key').value.trim();
    const r = await api('/api/v1/officer/me', { key });
    if (r.status !== 200) {
      $('loginError').hidden = false;
      $('loginError').textContent = r.status === 401 ? t('badKey') : r.status === 403
        ? (/not registered/.test(r.data?.error || '') ? t('notRegistered') : t('notOfficer')) : refusal(r).text;
      return;
    }
    sessionStorage.setItem('cbec.officerKey', key);
    state.me = r.data;
    start();
  }
  function renderMe() {
    const m = state.me;
    if (!m) return;
    const box = $('me');
    box.hidden = false;
    const name = el('b', '', m.name || m.officer);
    const meta = el('span', 'muted', `${t('officerNo', { id: m.officer })} · ${t('site', { site: m.site })}`);
    const duty = el('span', `duty ${m.onDuty ? 'on' : 'off'}`, m.onDuty ? t('onDuty') : t('offDuty'));
    const open = el('span', 'openwl', t('open', { n: m.open }));
    open.id = 'openCount';
    box.replaceChildren(el('span', 'avatar', (m.name || '?').slice(0, 1)), name, meta, duty, open);
  }
  function start() {
    $('login').hidden = true;
    $('tabs').hidden = false;
    $('logout').hidden = false;
    renderMe();
    showTab(state.tab);
    refresh();
    clearInterval(state.timer);
    state.timer = setInterval(refresh, REFRESH_MS);
  }
  async function refresh() {
    const [me, q] = await Promise.all([call('/api/v1/officer/me'), loadQueues()]);
    if (me.status === 200) { state.me = me.data; renderMe(); }
    if (me.status === 401) { sessionStorage.removeItem('cbec.officerKey'); location.reload(); return; }
    if (state.tab === 'controls') loadControls();
    if (state.tab === 'credit') loadCredit();
    return q;
  }

  function showTab(tab) {
    state.tab = tab;
    document.querySelectorAll('#tabs button').forEach((b) => b.classList.toggle('on', b.dataset.tab === tab));
    $('queuesView').hidden = tab !== 'queues';
    $('controlsView').hidden = tab !== 'controls';
    $('creditView').hidden = tab !== 'credit';
    if (tab === 'controls') loadControls();
    if (tab === 'credit') loadCredit();
  }

  // ---- queues -------------------------------------------------------------------------------
  async function loadQueues() {
    const mine = $('mine').checked ? '?mine=1' : '';
    const asked = Date.now();
    const r = await call(`/api/v1/officer/queues${mine}`);
    if (r.status !== 200) return r;
    state.queues = r.data;
    renderQueues();
    // The open list changed under us (decided or claimed by someone else): reload it, and drop
    // the notice of an earlier action, which no longer holds. An answer asked for before our own
    // last action is not news.
    if (state.selected && state.detail && asked > state.lastAction) {
      const q = [...r.data.yellow, ...r.data.red].find((x) => x.invtNo === state.selected);
      const had = state.detail.queue;
      const changed = q ? !had || had.claimedBy !== q.claimedBy || had.lane !== q.lane : !!had && !$('mine').checked;
      if (changed) openList(state.selected);
    }
    return r;
  }
  function renderQueues() {
    const Q = state.queues;
    if (!Q) return;
    $('yellowTotal').textContent = cbec.num(Q.yellowTotal);
    $('redTotal').textContent = cbec.num(Q.redTotal);
    $('tabCount').textContent = Q.yellowTotal + Q.redTotal ? cbec.num(Q.yellowTotal + Q.redTotal) : '';
    document.querySelectorAll('#lanes button').forEach((b) => b.classList.toggle('on', b.dataset.lane === state.lane));
    $('updated').textContent = `${t('updated', { time: cbec.time(Date.now()) })} · ${t('refreshing', { s: REFRESH_MS / 1000 })}`;
    const items = Q[state.lane] || [];
    const ol = $('items');
    if (!items.length) {
      ol.replaceChildren(el('li', 'none', $('mine').checked ? t('emptyMine') : t('emptyQueue')));
      return;
    }
    ol.replaceChildren(...items.map((q) => {
      const li = el('li', `item ${q.lane}${q.invtNo === state.selected ? ' sel' : ''}`);
      li.dataset.invt = q.invtNo;
      const top = el('div', 'row1');
      top.append(el('span', 'invt mono', q.invtNo), el('span', `age ${ageClass(q.queuedAt)}`, t('waited', { d: age(q.queuedAt) })));
      const mid = el('div', 'row2');
      const rules = q.reasons.length ? [...new Set(q.reasons.map((f) => f.rule))] : [];
      for (const rule of rules) mid.append(el('span', `rule r-${rule}`, ruleLabel(rule)));
      if (!rules.length) mid.append(el('span', 'rule r-draw', t('random')));
      const first = q.reasons[0];
      mid.append(el('span', 'why', first ? (L() === 'zh' ? first.zh : first.en) : (L() === 'zh' ? '双随机抽中查验' : 'selected by the random draw')));
      const bot = el('div', 'row3');
      const mine = state.me && (q.claimedBy || q.assigned) === state.me.officer;
      bot.append(el('span', `chip${!q.claimedBy && mine ? ' me' : ''}`, t('assigned', { who: who(q.assigned) || '—' })));
      if (q.claimedBy) bot.append(el('span', `chip claimed${q.claimedBy === state.me?.officer ? ' me' : ''}`, t('claimed', { who: who(q.claimedBy) })));
      bot.append(el('span', 'spacer'));
      if (q.dutiable) bot.append(el('span', 'money', `${yuan(q.dutiable)}`));
      bot.append(el('span', 'muted', t('lines', { n: q.lines || 0 })));
      li.append(top, mid, bot);
      li.addEventListener('click', () => openList(q.invtNo));
      return li;
    }));
  }

  // ---- the list detail ----------------------------------------------------------------------
  async function openList(invt, { keepNotice = false } = {}) {
    state.selected = invt;
    if (!keepNotice) state.notice = null;
    document.querySelectorAll('#items .item').forEach((x) => x.classList.toggle('sel', x.dataset.invt === invt));
    const r = await call(`/api/v1/lists/${encodeURIComponent(invt)}`);
    if (state.selected !== invt) return;
    if (r.status !== 200) {
      state.detail = null;
      const box = el('div', 'panel pad');
      refusalBanner(box, r);
      $('detail').replaceChildren(box);
      return;
    }
    state.detail = r.data;
    // The list's lane decision as the audit publishes it (rate, HMAC, who decided).
    const dr = await call(`/api/v1/audit/draws?invtNo=${encodeURIComponent(invt)}`);
    if (state.selected !== invt) return;
    state.draw = dr.status === 200 && dr.data.draws && dr.data.draws.length ? dr.data.draws[dr.data.draws.length - 1] : null;
    renderDetail();
  }

  // The documents as flat heads and lines.
  function docsOf(d) {
    const D = d.documents || {};
    const pick = (m, type, arr, head, list) => {
      const rec = m && m[type] && m[type][arr] && m[type][arr][0];
      return rec ? { head: rec[head] || {}, lines: rec[list] || [] } : null;
    };
    return {
      order: pick(D.order, 'CEB311Message', 'Order', 'OrderHead', 'OrderList'),
      payment: pick(D.payment, 'CEB411Message', 'Payment', 'PaymentHead', null),
      waybill: pick(D.waybill, 'CEB511Message', 'Logistics', 'LogisticsHead', null),
      list: pick(D.list, 'CEB621Message', 'Inventory', 'InventoryHead', 'InventoryList'),
    };
  }
  // A finding's field ("Inventory/InventoryList[2]/price") as document, line and field name.
  const docOfRoot = { Inventory: 'list', Order: 'order', Payment: 'payment', Logistics: 'waybill' };
  function parseField(path) {
    const m = String(path || '').match(/^(\w+)(?:\/(\w+?)(?:\[(\d+)\])?)?(?:\/(\w+))?$/);
    if (!m) return null;
    return { doc: docOfRoot[m[1]] || null, part: m[2] || '', line: m[3] ? Number(m[3]) : 0, key: m[4] || '' };
  }
  // Values a control order hit names ("control order X hit (hs_code 3304)"): marked wherever they appear.
  function hitValues(findings) {
    const out = [];
    for (const f of findings) {
      const m = String(f.en || '').match(/control order \S+ hit \((\w+) ([^)]+)\)/);
      if (m) out.push({ target: m[1], value: m[2] });
    }
    return out;
  }
  // Rows of the comparison: [label, {doc: field}], compared as numbers when `num`.
  const headRows = [
    ['f_orderNo', { order: 'orderNo', payment: 'orderNo', waybill: 'orderNo', list: 'orderNo' }],
    ['f_ebp', { order: 'ebpCode', payment: 'ebpCode', list: 'ebpCode' }, 'ebpName'],
    ['f_ebc', { order: 'ebcCode', list: 'ebcCode' }, 'ebcName'],
    ['f_buyerName', { order: 'buyerName', payment: 'payerName', list: 'buyerName' }],
    ['f_buyerId', { order: 'buyerIdNumber', payment: 'payerIdNumber', list: 'buyerIdNumber' }],
    ['f_buyerPhone', { order: 'buyerTelephone', payment: 'telephone', list: 'buyerTelephone' }],
    ['f_consignee', { order: 'consignee', waybill: 'consignee' }],
    ['f_consigneePhone', { order: 'consigneeTelephone', waybill: 'consigneeTelephone' }],
    ['f_address', { order: 'consigneeAddress', waybill: 'consigneeAddress', list: 'consigneeAddress' }],
    ['f_pay', { order: 'payCode', payment: 'payCode' }, 'payName'],
    ['f_payTx', { order: 'payTransactionId', payment: 'payTransactionId' }],
    ['f_logistics', { waybill: 'logisticsCode', list: 'logisticsCode' }, 'logisticsName'],
    ['f_logisticsNo', { waybill: 'logisticsNo', list: 'logisticsNo' }],
    ['f_goodsValue', { order: 'goodsValue', list: '#sum' }, null, 'money'],
    ['f_freight', { order: 'freight', waybill: 'freight', list: 'freight' }, null, 'money'],
    ['f_insured', { waybill: 'insuredFee', list: 'insuredFee' }, null, 'money'],
    ['f_taxTotal', { order: 'taxTotal', list: '#tax' }, null, 'money'],
    ['f_paid', { order: 'acturalPaid', payment: 'amountPaid' }, null, 'money'],
    ['f_weight', { waybill: 'weight', list: 'grossWeight' }, null, 'num'],
    ['f_packNo', { waybill: 'packNo', list: 'packNo' }, null, 'num'],
    ['f_agent', { list: 'agentCode' }, 'agentName'],
    ['f_ems', { list: 'emsNo' }],
    ['f_appTime', { order: 'appTime', payment: 'appTime', waybill: 'appTime', list: 'appTime' }, null, 'time'],
  ];
  const DOCS = ['order', 'payment', 'waybill', 'list'];
  const DOC_TYPES = { order: 'CEB311', payment: 'CEB411', waybill: 'CEB511', list: 'CEB621' };
  const norm = (v, kind) => (v === undefined || v === null || v === '' ? null
    : kind === 'money' || kind === 'num' ? Number(v).toFixed(5) : String(v).trim());
  const fmtTime14 = (s) => (s && s.length >= 14 ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)} ${s.slice(8, 10)}:${s.slice(10, 12)}:${s.slice(12, 14)}` : s || '');
  const show = (v, kind) => (v === undefined || v === null || v === '' ? '' : kind === 'money' ? yuan(v) : kind === 'time' ? fmtTime14(String(v)) : String(v));

  function renderDetail() {
    const d = state.detail;
    const docs = docsOf(d);
    const lh = docs.list ? docs.list.head : {};
    const q = d.queue || null;
    const box = $('detail');
    const findings = d.findings || [];
    const parsed = findings.map((f) => parseField(f.field)).filter(Boolean);
    const hits = hitValues(findings);
    const flagged = (doc, key, line = 0) => parsed.some((p) => p.doc === doc && p.key === key && (line ? p.line === line : !p.line));
    const hitCell = (value) => value && hits.some((h) => (h.target === 'hs_code' ? String(value).startsWith(h.value) : String(value) === h.value || (h.value.length >= 4 && String(value).includes(h.value.replace(/\*$/, '')))));

    // Header: number, state, lane, who has it, claim.
    const head = el('section', 'panel dhead');
    const title = el('div', 'dtitle');
    const laneBadge = q ? el('span', `lanebadge ${q.lane}`, q.lane === 'red' ? t('redLane') : t('yellowLane')) : null;
    title.append(el('span', 'mono big', d.invtNo));
    if (laneBadge) title.append(laneBadge);
    const st = el('span', `badge ${statusCls(d.returnStatus)}`, `${d.returnStatus} ${statusName(d.returnStatus)}`);
    st.id = 'detailStatus';
    st.dataset.status = String(d.returnStatus);
    title.append(st);
    const meta = el('div', 'dmeta');
    const kv = (k, v, cls = '') => { const s = el('span', 'kv'); s.dataset.k = k; s.append(el('small', '', t(k)), el('b', cls, v || '—')); return s; };
    meta.append(kv('order', lh.orderNo, 'mono'), kv('f_ebc', lh.ebcName || lh.ebcCode), kv('declaredAt', fmtTime14(lh.appTime)));
    if (q) {
      meta.append(kv('queuedAt', `${when(q.queuedAt)} · ${t('waited', { d: age(q.queuedAt) })}`), kv('assignedTo', who(q.assigned)), kv('claimedBy', q.claimedBy ? who(q.claimedBy) : t('nobody')));
    }
    const dr = state.draw && state.draw.invtNo === d.invtNo ? state.draw : null;
    if (dr) {
      const by = dr.decided_by === 'draw' ? (dr.selected ? t('drawSelected') : t('drawNotSelected'))
        : dr.decided_by.startsWith('control_order:') ? t('drawByControl', { id: dr.decided_by.slice(14) })
        : dr.decided_by.startsWith('risk:') ? t('drawByRisk', { rule: dr.decided_by.slice(5) }) : dr.decided_by;
      const cell = kv('drawRate', `${(dr.rate_bp / 100).toFixed(2)}% · ${by}`);
      cell.title = `HMAC-SHA-256 ${dr.hmac || '—'}`;
      cell.id = 'drawInfo';
      meta.append(cell);
    }
    const claimBox = el('div', 'claimbox');
    if (q) {
      const mineClaim = q.claimedBy && q.claimedBy === state.me?.officer;
      const b = el('button', `btn ${mineClaim ? '' : 'primary'}`, mineClaim ? t('unclaim') : t('claim'));
      b.id = 'claim';
      b.dataset.mode = mineClaim ? 'unclaim' : 'claim';
      b.addEventListener('click', () => claim(mineClaim));
      claimBox.append(b);
    }
    head.append(title, meta, claimBox);
    const notice = el('div', 'notice');
    notice.id = 'notice';
    if (state.notice) notice.append(noticeBanner());

    // Findings.
    const fbox = el('section', `panel findings${findings.length ? '' : ' clean'}`);
    fbox.append(el('h3', '', t('findings')));
    if (!findings.length) fbox.append(el('div', 'muted', t('noFindings')));
    for (const f of findings) {
      const row = el('div', 'finding');
      row.append(el('span', `rule r-${f.rule}`, ruleLabel(f.rule)));
      const txt = el('div', 'ftext');
      txt.append(el('div', '', L() === 'zh' ? f.zh : f.en));
      const p = parseField(f.field);
      if (p && p.key) txt.append(el('small', 'mono', `${t('field')}: ${t(`d_${p.doc}`)} · ${p.key}${p.line ? ` #${p.line}` : ''}`));
      row.append(txt);
      fbox.append(row);
    }

    // Actions (only while an officer decision is pending).
    const actions = q || d.state === 'detained' ? actionPanel(d, q) : null;

    // Documents side by side.
    const cmp = el('section', 'panel docs');
    const h = el('div', 'sechead');
    h.append(el('h3', '', t('docs')), el('small', 'muted', t('docsSub')));
    cmp.append(h);
    const table = el('table', 'cmp');
    const thr = el('tr');
    thr.append(el('th', 'lbl', ''));
    for (const k of DOCS) {
      const th = el('th', docs[k] ? '' : 'absent');
      th.append(el('b', '', t(`d_${k}`)), el('small', 'mono', DOC_TYPES[k]));
      if (!docs[k]) th.append(el('small', 'miss', t('missing')));
      thr.append(th);
    }
    const thead = el('thead'); thead.append(thr);
    const tb = el('tbody');
    const listSum = docs.list ? docs.list.lines.reduce((a, x) => a + Number(x.totalPrice || 0), 0) : null;
    for (const [label, map, nameKey, kind] of headRows) {
      const tr = el('tr');
      const vals = {};
      for (const k of DOCS) {
        if (!(k in map) || !docs[k]) continue;
        const f = map[k];
        vals[k] = f === '#sum' ? listSum : f === '#tax' ? (d.tax ? d.tax.total : null) : docs[k].head[f];
      }
      // The reference is the list's value, or the most common one.
      const normed = Object.fromEntries(Object.entries(vals).map(([k, v]) => [k, norm(v, kind)]));
      const present = Object.values(normed).filter((v) => v !== null);
      // Without a list value and with no majority (one against one), every value is suspect.
      let ref = normed.list ?? null;
      if (ref === null && present.length) {
        const counts = {};
        for (const v of present) counts[v] = (counts[v] || 0) + 1;
        const ranked = Object.entries(counts).sort((a, b) => b[1] - a[1]);
        ref = ranked.length > 1 && ranked[0][1] === ranked[1][1] ? undefined : ranked[0][0];
      }
      const differs = kind !== 'time' && new Set(present).size > 1;
      let rowFlag = false;
      const cells = DOCS.map((k) => {
        if (!(k in map)) return el('td', 'na', '');
        if (!docs[k]) return el('td', 'na', '');
        const v = vals[k];
        const td = el('td', 'v');
        td.dataset.doc = k;
        td.dataset.field = map[k];
        td.append(el('span', kind === 'money' || kind === 'num' ? 'n' : '', show(v, kind) || '—'));
        if (nameKey && docs[k].head[nameKey]) td.append(el('small', '', docs[k].head[nameKey]));
        if (differs && normed[k] !== null && normed[k] !== ref) td.classList.add('mismatch');
        if (flagged(k, map[k]) || (k !== 'list' || !map[k].startsWith('#')) && hitCell(v)) { td.classList.add('flag'); rowFlag = true; }
        return td;
      });
      const lbl = el('th', `lbl${differs ? ' differs' : ''}${rowFlag ? ' flagged' : ''}`, t(label));
      tr.append(lbl, ...cells);
      tb.append(tr);
    }
    table.append(thead, tb);
    cmp.append(table);

    // Goods lines: the list's lines with the order's line of the same number beside them.
    const gl = el('section', 'panel goods');
    const gh = el('div', 'sechead');
    gh.append(el('h3', '', t('goods')), el('small', 'muted', t('goodsSub')));
    gl.append(gh);
    const gt = el('table', 'cmp lines');
    const ghr = el('tr');
    for (const [k, cls] of [['g_gnum', ''], ['g_item', ''], ['g_gcode', ''], ['g_country', ''], ['g_qty', 'num'], ['g_legal', 'num'], ['g_price', 'num'], ['g_total', 'num'], ['g_tax', 'num']]) ghr.append(el('th', cls, t(k)));
    const gthead = el('thead'); gthead.append(ghr);
    const gtb = el('tbody');
    const orderLines = new Map((docs.order?.lines || []).map((x) => [Number(x.gnum), x]));
    const taxLines = new Map((d.tax?.lines || []).map((x) => [Number(x.gnum), x]));
    for (const line of docs.list?.lines || []) {
      const n = Number(line.gnum);
      const o = orderLines.get(n);
      orderLines.delete(n);
      const tr = el('tr');
      const cell = (value, key, orderKey, kind, extra) => {
        const td = el('td', kind === 'money' || kind === 'num' ? 'num' : '');
        td.append(el('span', '', kind === 'money' ? yuan(value) : String(value ?? '—') + (extra || '')));
        if (orderKey && o) {
          const ov = o[orderKey];
          if (norm(ov, kind) !== norm(value, kind)) {
            td.classList.add('mismatch');
            td.append(el('small', 'ordersays', t('orderSays', { v: kind === 'money' ? yuan(ov) : ov ?? '—' })));
          }
        }
        if (flagged('list', key, n) || (orderKey && flagged('order', orderKey, n)) || (key === 'gcode' && hitCell(value))) td.classList.add('flag');
        return td;
      };
      const name = el('td', 'gname');
      name.append(el('b', '', line.gname || line.itemName || ''), el('small', 'muted', [line.itemNo, line.gmodel].filter(Boolean).join(' · ')));
      if (o && (o.itemName || '') !== (line.gname || line.itemName || '')) { name.classList.add('mismatch'); name.append(el('small', 'ordersays', t('orderSays', { v: o.itemName }))); }
      if (flagged('list', 'gname', n) || flagged('list', 'itemName', n)) name.classList.add('flag');
      const tl = taxLines.get(n);
      const country = cell(cbec.country(line.country), 'country', null);
      if (o && o.country !== line.country) { country.classList.add('mismatch'); country.append(el('small', 'ordersays', t('orderSays', { v: cbec.country(o.country) }))); }
      tr.append(
        el('td', 'mono', String(n)), name, cell(line.gcode, 'gcode', null, null), country,
        cell(line.qty, 'qty', 'qty', 'num', ` ${unit(line.unit)}`),
        cell(line.qty1, 'qty1', null, 'num', ` ${unit(line.unit1)}`),
        cell(line.price, 'price', 'price', 'money'), cell(line.totalPrice, 'totalPrice', 'totalPrice', 'money'),
        el('td', 'num', tl ? yuan(tl.total) : '—'),
      );
      if (!o && docs.order) tr.classList.add('orphan');
      gtb.append(tr);
    }
    for (const [n, o] of orderLines) {  // order lines the list does not have
      const tr = el('tr', 'orphan');
      tr.append(el('td', 'mono', String(n)), el('td', 'gname mismatch', `${o.itemName} (${t('d_order')})`), el('td', '', ''), el('td', '', cbec.country(o.country)),
        el('td', 'num', o.qty), el('td', ''), el('td', 'num', yuan(o.price)), el('td', 'num', yuan(o.totalPrice)), el('td', ''));
      gtb.append(tr);
    }
    gt.append(gthead, gtb);
    gl.append(gt);

    // Tax and history side by side.
    const lower = el('div', 'lower');
    const tx = el('section', 'panel tax');
    tx.append(el('h3', '', t('taxTitle')));
    if (d.tax) {
      const grid = el('div', 'taxgrid');
      for (const k of ['dutiable', 'tariff', 'ct', 'vat', 'total']) {
        const c = el('div', k === 'total' ? 'total' : '');
        c.append(el('small', '', t(`tx_${k}`)), el('b', '', yuan(d.tax[k])));
        grid.append(c);
      }
      tx.append(grid, el('small', 'muted', t(`regime_${d.tax.regime}`) === `regime_${d.tax.regime}` ? d.tax.regime : t(`regime_${d.tax.regime}`)));
    } else tx.append(el('div', 'muted', '—'));
    const hist = el('section', 'panel history');
    hist.append(el('h3', '', t('history')));
    const ol = el('ol', 'timeline');
    for (const ev of [...(d.history || [])].reverse()) {
      const li = el('li');
      li.append(el('span', `badge ${statusCls(ev.returnStatus)}`, `${ev.returnStatus} ${statusName(ev.returnStatus)}`), el('time', 'mono', when(ev.time)), el('div', 'info', ev.info));
      ol.append(li);
    }
    hist.append(ol);
    lower.append(tx, hist);

    const raw = el('details', 'panel raw');
    raw.append(el('summary', '', t('raw')));
    const rawGrid = el('div', 'rawgrid');
    for (const k of DOCS) {
      const c = el('div');
      c.append(el('b', '', `${t(`d_${k}`)} · ${DOC_TYPES[k]}`), el('pre', 'mono', d.documents?.[k] ? JSON.stringify(d.documents[k], null, 1) : t('missing')));
      rawGrid.append(c);
    }
    raw.append(rawGrid);

    const upper = el('div', 'upper');
    const left = el('div', 'col');
    left.append(fbox);
    if (actions) left.append(actions);
    upper.append(left, cmp);
    box.replaceChildren(head, notice, upper, gl, lower, raw);
  }

  // ---- actions ------------------------------------------------------------------------------
  function reasonField(id, ph, presets) {
    const f = el('div', 'field');
    const ta = el('textarea');
    ta.id = id;
    ta.rows = 3;
    ta.placeholder = ph;
    const chips = el('div', 'presets');
    for (const p of presets) {
      const c = el('button', 'preset', p);
      c.type = 'button';
      c.addEventListener('click', () => { ta.value = p; ta.focus(); });
      chips.append(c);
    }
    f.append(ta, chips);
    return f;
  }
  function actionPanel(d, q) {
    const box = el('section', 'panel actions');
    const claimedByMe = q && q.claimedBy === state.me?.officer;
    const inspection = d.state === 'inspection';
    const h = el('div', 'sechead');
    h.append(el('h3', '', inspection ? t('inspect') : t('decide')), el('small', 'muted', inspection ? t('inspectSub') : t('decideSub')));
    box.append(h);
    if (q && !claimedByMe) box.classList.add('locked');
    const out = el('div', 'outcome');
    out.id = 'actionOutcome';
    if (inspection) {
      // Inspection result: no finding (release) or finding with category and follow-up.
      const seg = el('div', 'seg wide');
      seg.id = 'inspSeg';
      let finding = false;
      const detail = el('div', 'findingform');
      detail.hidden = true;
      for (const [v, k, cls] of [[false, 'noFinding', 'okb'], [true, 'finding', 'badb']]) {
        const b = el('button', `${cls}${v === finding ? ' on' : ''}`, t(k));
        b.type = 'button';
        b.dataset.v = String(v);
        b.addEventListener('click', () => {
          finding = v;
          seg.querySelectorAll('button').forEach((x) => x.classList.toggle('on', x === b));
          detail.hidden = !v;
          note.placeholder = v ? t('findingPh') : t('reasonOpt');
        });
        seg.append(b);
      }
      const cat = el('select');
      cat.id = 'category';
      cat.append(el('option', '', '—'));
      cat.options[0].value = '';
      for (const c of ['goods_mismatch', 'quantity', 'classification', 'valuation', 'origin', 'prohibited', 'ipr', 'labeling', 'other']) {
        const o = el('option', '', t(`cat_${c}`)); o.value = c; cat.append(o);
      }
      const fu = el('select');
      fu.id = 'followUp';
      for (const a of ['reject', 'modify', 'detain_501', 'detain_502', 'detain_503', 'detain_599']) {
        const o = el('option', '', t(`a_${a}`)); o.value = a; fu.append(o);
      }
      const f1 = el('div', 'field'); f1.append(el('label', '', t('category')), cat);
      const f2 = el('div', 'field'); f2.append(el('label', '', t('followUp')), fu);
      const two = el('div', 'two'); two.append(f1, f2);
      detail.append(two);
      const rf = reasonField('reason', t('reasonOpt'), []);
      const note = rf.querySelector('textarea');
      const go = el('button', 'btn primary', t('record'));
      go.id = 'submitAction';
      go.addEventListener('click', async () => {
        const reason = note.value.trim();
        if (finding && !cat.value) return banner(out, 'bad', t('needCategory'));
        if (finding && !reason) return banner(out, 'bad', t('needFindingReason'));
        const body = { invtNo: d.invtNo, finding, reason };
        if (finding) Object.assign(body, { category: cat.value, action: fu.value });
        await act('/api/v1/officer/inspections', body, finding ? fu.value : 'release', out, go);
      });
      box.append(seg, detail, rf, go, out);
      return box;
    }
    // Decision on a list under manual review (or detained).
    const choices = d.state === 'detained'
      ? ['release', 'reject', 'detain_501', 'detain_502', 'detain_503', 'detain_599']
      : ['release', 'reject', 'inspect', 'modify', 'detain_501', 'detain_502', 'detain_503', 'detain_599'];
    let action = 'release';
    const grid = el('div', 'choices');
    grid.id = 'choices';
    const rf = reasonField('reason', t('reasonOpt'), [t('presetsRelease')]);
    const ta = rf.querySelector('textarea');
    const presetsFor = { release: [t('presetsRelease')], reject: [t('presetsReject')], modify: [t('presetsModify')], inspect: [t('presetsInspect')] };
    const setPresets = () => {
      const chips = rf.querySelector('.presets');
      chips.replaceChildren(...(presetsFor[action] || []).map((p) => {
        const c = el('button', 'preset', p); c.type = 'button';
        c.addEventListener('click', () => { ta.value = p; ta.focus(); });
        return c;
      }));
    };
    for (const a of choices) {
      const b = el('button', `choice a-${a.replace(/_\d+$/, '')}${a === action ? ' on' : ''}`, t(`a_${a}`));
      b.type = 'button';
      b.dataset.action = a;
      b.addEventListener('click', () => {
        action = a;
        grid.querySelectorAll('button').forEach((x) => x.classList.toggle('on', x === b));
        ta.placeholder = a === 'release' ? t('reasonOpt') : t('reasonPh');
        setPresets();
      });
      grid.append(b);
    }
    const go = el('button', 'btn primary', t('submit'));
    go.id = 'submitAction';
    go.addEventListener('click', async () => {
      const reason = ta.value.trim();
      if (action !== 'release' && !reason) { ta.focus(); return banner(out, 'bad', t('needReason')); }
      await act('/api/v1/officer/decisions', { invtNo: d.invtNo, action, reason }, action, out, go);
    });
    box.append(grid, rf, go, out);
    return box;
  }
  // The notice over the open list (the outcome of the last action), drawn in the current language.
  function noticeBanner() {
    const n = state.notice;
    const holder = el('div');
    if (n.refusal) {
      refusalBanner(holder, n.refusal);
      return holder.firstChild;
    }
    const b = el('div', 'banner ok');
    const row = el('div', 'noticerow');
    row.append(el('b', '', t(n.key, n.vars)));
    if (n.done) b.dataset.done = n.done;
    // After a decision: straight on to the oldest list of the lane still waiting.
    const waiting = n.next && state.queues ? (state.queues[state.lane] || []).find((q) => q.invtNo !== state.selected) : null;
    if (waiting) {
      const go = el('button', 'btn primary small', `${t('nextItem')} · ${waiting.invtNo} →`);
      go.id = 'nextItem';
      go.addEventListener('click', () => openList(waiting.invtNo));
      row.append(go);
    }
    b.append(row);
    return b;
  }
  async function act(path, body, action, out, btn) {
    btn.disabled = true;
    const r = await call(path, { method: 'POST', body });
    btn.disabled = false;
    if (r.status !== 200) { refusalBanner(out, r); return; }
    const invt = body.invtNo;
    const code = action.startsWith('detain_') ? action.slice(7) : '';
    const key = action.startsWith('detain_') ? 'done_detain' : `done_${action}`;
    state.notice = { ok: true, key, vars: { invt, code }, done: action, next: true };
    await openList(invt, { keepNotice: true });
    state.lastAction = Date.now();
    await loadQueues();
    if (state.selected === invt && state.notice && $('notice')) $('notice').replaceChildren(noticeBanner());
    const me = await call('/api/v1/officer/me');
    if (me.status === 200) { state.me = me.data; renderMe(); }
  }
  async function claim(unclaim) {
    const invt = state.selected;
    const r = await call('/api/v1/officer/claim', { method: 'POST', body: { invtNo: invt, unclaim } });
    const box = $('notice');
    if (r.status !== 200) {
      state.notice = { refusal: r };
      box.replaceChildren(noticeBanner());
      state.lastAction = Date.now();
      return;
    }
    state.notice = { ok: true, key: unclaim ? 'unclaimedOk' : 'claimedOk' };
    await openList(invt, { keepNotice: true });
    state.lastAction = Date.now();
    await loadQueues();
    const me = await call('/api/v1/officer/me');
    if (me.status === 200) { state.me = me.data; renderMe(); }
  }

  // ---- control orders -----------------------------------------------------------------------
  // A fresh id of the form BK + Beijing date + number, one past the day's highest.
  function nextOrderId() {
    const day = cbec.date(Date.now()).replaceAll('-', '');
    let n = 0;
    for (const o of state.controls) {
      const m = o.orderId.match(new RegExp(`^BK${day}(\\d+)$`));
      if (m) n = Math.max(n, Number(m[1]));
    }
    state.suggestedId = `BK${day}${String(n + 1).padStart(3, '0')}`;
    return state.suggestedId;
  }
  async function loadControls() {
    const r = await call('/api/v1/officer/control-orders');
    if (r.status !== 200) return;
    state.controls = r.data.controlOrders || [];
    // Keep the suggested id fresh unless the officer typed their own.
    if (!$('coId').value || $('coId').value === state.suggestedId) $('coId').value = nextOrderId();
    renderControls();
  }
  function renderControls() {
    const active = state.controls.filter((o) => o.active).length;
    $('tabControlCount').textContent = active ? String(active) : '';
    const rows = state.controls
      .filter((o) => !$('coActiveOnly').checked || o.active)
      .sort((a, b) => (b.active - a.active) || (b.setAt > a.setAt ? 1 : -1));
    const tb = $('coTable').querySelector('tbody');
    if (!rows.length) {
      const tr = el('tr');
      const td = el('td', 'none', t('coNone'));
      td.colSpan = 10;
      tr.append(td);
      tb.replaceChildren(tr);
      return;
    }
    tb.replaceChildren(...rows.map((o) => {
      const tr = el('tr', o.active ? '' : 'inactive');
      tr.dataset.order = o.orderId;
      const stateKey = o.revoked ? 'revoked' : o.active ? 'active' : 'expired';
      const act = el('td', 'lane-cell');
      act.append(el('span', `lanebadge ${o.action}`, o.action === 'red' ? t('toRed') : t('toYellow')));
      const stc = el('td');
      stc.append(el('span', `badge ${o.active ? 'ok' : stateKey === 'revoked' ? 'bad' : 'info'}`, t(stateKey)));
      const btnc = el('td', 'num');
      if (o.active) {
        const armed = state.revokeArm === o.orderId;
        const b = el('button', `btn small${armed ? ' danger' : ''}`, armed ? t('revokeSure') : t('revoke'));
        b.dataset.revoke = o.orderId;
        b.addEventListener('click', () => revoke(o.orderId));
        btnc.append(b);
      }
      tr.append(el('td', 'mono', o.orderId), el('td', '', t(`t_${o.target}`)), el('td', 'mono pat', o.pattern), act, el('td', 'reason', o.reason),
        el('td', 'mono', who(o.officer)), el('td', 'mono small', when(o.expiresAt)), el('td', 'num hits', cbec.num(o.hits)), stc, btnc);
      return tr;
    }));
  }
  async function createControl() {
    const out = $('coOutcome');
    const body = {
      orderId: $('coId').value.trim(), target: $('coTarget').value, pattern: $('coPattern').value.trim(),
      action: document.querySelector('#coAction button.on').dataset.v, expiresInHours: Number($('coHours').value), reason: $('coReason').value.trim(),
    };
    if (!body.orderId) return banner(out, 'bad', t('needCoId'));
    if (!body.pattern) return banner(out, 'bad', t('needPattern'));
    if (!body.reason) return banner(out, 'bad', t('needCoReason'));
    const r = await call('/api/v1/officer/control-orders', { method: 'POST', body });
    if (r.status !== 200) { refusalBanner(out, r); return; }
    banner(out, 'ok', t('coCreated', { id: body.orderId })).dataset.done = body.orderId;
    $('coPattern').value = '';
    $('coReason').value = '';
    $('coId').value = '';
    await loadControls();
  }
  async function revoke(id) {
    if (state.revokeArm !== id) {
      state.revokeArm = id;
      renderControls();
      setTimeout(() => { if (state.revokeArm === id) { state.revokeArm = ''; renderControls(); } }, 5000);
      return;
    }
    state.revokeArm = '';
    const r = await call('/api/v1/officer/control-orders', { method: 'POST', body: { orderId: id, revoke: true } });
    const out = $('coOutcomeList');
    if (r.status !== 200) refusalBanner(out, r);
    else banner(out, 'ok', t('coRevoked', { id })).dataset.done = id;
    await loadControls();
  }
  function coHint() { $('coHint').textContent = t(`hint_${$('coTarget').value}`); }

  // ---- credit -------------------------------------------------------------------------------
  async function loadCredit() {
    const r = await call('/api/v1/officer/credit');
    if (r.status !== 200) return;
    state.credit = r.data;
    renderCredit();
    if (state.creditCode) await loadGradeBox(state.creditCode, { quiet: true });
  }
  function renderCredit() {
    const C = state.credit;
    if (!C) return;
    $('creditNote').textContent = t('creditNote');
    $('tabProposalCount').textContent = C.proposals.length ? String(C.proposals.length) : '';
    const names = Object.fromEntries(C.enterprises.map((e) => [e.code, e]));
    const pbox = $('proposals');
    if (!C.proposals.length) pbox.replaceChildren(el('div', 'none', t('noProposals')));
    else pbox.replaceChildren(...C.proposals.map((p) => proposalCard(p, names[p.code])));
    const maxScore = Math.max(100, ...C.enterprises.map((e) => e.score));
    const tb = $('creditTable').querySelector('tbody');
    if (!C.enterprises.length) {
      const tr = el('tr'); const td = el('td', 'none', t('noCredit')); td.colSpan = 9; tr.append(td); tb.replaceChildren(tr); return;
    }
    const rows = [...C.enterprises].sort((a, b) => b.score - a.score || a.code.localeCompare(b.code));
    tb.replaceChildren(...rows.map((e) => {
      const tr = el('tr', `ent${e.code === state.creditCode ? ' sel' : ''}`);
      tr.dataset.code = e.code;
      const name = el('td', 'ename');
      name.append(el('b', '', e.name || e.code), el('small', 'mono muted', e.code));
      const g = el('td');
      g.append(el('span', `badge ${gradeCls(e.grade)}`, gradeName(e.grade)));
      const count = (k, bad) => { const td = el('td', `num${bad && e.counts[k] ? ' hot' : ''}`, cbec.num(e.counts[k])); td.dataset.count = k; return td; };
      const sc = el('td', 'scorecell');
      const bar = el('div', 'scorebar');
      const fill = el('i', e.score >= 50 ? 'bad' : e.score > 0 ? 'warn' : '');
      fill.style.width = `${Math.min(100, (e.score / maxScore) * 100)}%`;
      bar.append(fill);
      sc.append(el('b', '', cbec.num(e.score)), bar);
      const open = el('td', 'num');
      const b = el('button', 'btn small', t('select'));
      open.append(b);
      tr.append(name, g, count('release'), count('finding', true), count('rejection', true), count('late_tax', true), count('return', true), sc, open);
      tr.addEventListener('click', () => loadGradeBox(e.code));
      return tr;
    }));
  }
  function gradeSelect(current, value) {
    const s = el('select');
    for (const g of ['advanced_certified', 'certified', 'regular', 'dishonest', 'seriously_dishonest']) {
      const o = el('option', '', gradeName(g)); o.value = g; o.disabled = g === current; s.append(o);
    }
    s.value = value || (current === 'regular' ? 'dishonest' : 'regular');
    return s;
  }
  // A plain yyyy-MM-dd field (the native date picker follows the machine's locale, not the page's).
  function dateInput() {
    const i = el('input', 'mono');
    i.autocomplete = 'off';
    i.placeholder = t('effectiveHint');
    return i;
  }
  function proposalCard(p, ent) {
    const card = el('div', 'proposal');
    card.dataset.proposal = String(p.id);
    const top = el('div', 'ptop');
    const arrow = el('div', 'grades');
    arrow.append(el('span', `badge ${gradeCls(p.from)}`, gradeName(p.from)), el('span', 'arrow', '→'), el('span', `badge ${gradeCls(p.to)}`, gradeName(p.to)));
    const nm = el('div', 'pname');
    nm.append(el('b', '', ent?.name || p.code), el('small', 'mono muted', `${p.code} · ${t('proposedAt', { time: when(p.proposedAt) })}`));
    const sc = el('div', 'pscore');
    sc.append(el('b', '', cbec.num(p.score)), el('small', '', t('score')));
    top.append(nm, arrow, sc);
    const why = el('div', 'explain', L() === 'zh' ? p.explanationZh : p.explanationEn);
    const form = el('div', 'pform');
    const date = dateInput();
    const reason = el('input');
    reason.placeholder = t('gradeReasonPh');
    const f1 = el('div', 'field'); f1.append(el('label', '', t('effectiveFrom')), date);
    const f2 = el('div', 'field grow'); f2.append(el('label', '', t('gradeReason')), reason);
    const go = el('button', 'btn primary', t('confirm'));
    const out = el('div', 'outcome');
    go.addEventListener('click', () => setGrade(p.code, p.to, date.value, reason.value.trim(), out, go));
    form.append(f1, f2, go);
    card.append(top, why, form, out);
    return card;
  }
  async function setGrade(code, grade, effectiveFrom, reason, out, btn) {
    if (effectiveFrom && !/^\d{4}-?\d{2}-?\d{2}$/.test(effectiveFrom)) return banner(out, 'bad', t('badDate'));
    if (!reason) return banner(out, 'bad', t('needGradeReason'));
    const body = { code, grade, reason };
    if (effectiveFrom) body.effectiveFrom = effectiveFrom;
    btn.disabled = true;
    const r = await call('/api/v1/officer/grades', { method: 'POST', body });
    btn.disabled = false;
    if (r.status !== 200) { refusalBanner(out, r); return; }
    const b = el('div', 'banner ok');
    b.append(el('b', '', t('gradeDone', { code, grade: gradeName(grade), when: effectiveFrom || t('atOnce') })));
    b.dataset.done = code;
    state.gradeNotice = { code, el: b };
    if ($('gradeReason')) $('gradeReason').value = '';
    state.creditCode = code;
    await loadCredit();
  }
  async function loadGradeBox(code, { quiet = false } = {}) {
    state.creditCode = code;
    document.querySelectorAll('#creditTable tr.ent').forEach((r) => r.classList.toggle('sel', r.dataset.code === code));
    const r = await call(`/api/v1/officer/credit?code=${encodeURIComponent(code)}`);
    const box = $('gradeBox');
    box.hidden = false;
    if (r.status !== 200) { refusalBanner(box, r); return; }
    const e = r.data.enterprises[0];
    const typing = document.activeElement && box.contains(document.activeElement) && /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (quiet && box.dataset.code === code && typing) return;  // do not disturb typing
    // A refresh keeps what the officer has entered.
    const kept = box.dataset.code === code && $('newGrade')
      ? { grade: $('newGrade').value, from: $('effectiveFrom').value, reason: $('gradeReason').value } : null;
    if (state.gradeNotice && state.gradeNotice.code !== code) state.gradeNotice = null;
    box.dataset.code = code;
    const head = el('div', 'gbhead');
    const nm = el('div');
    nm.append(el('b', '', e.name || e.code), el('small', 'mono muted', e.code));
    head.append(nm, el('span', `badge ${gradeCls(e.grade)}`, gradeName(e.grade)));
    const score = el('div', 'gbscore');
    score.append(el('b', '', cbec.num(e.score)), el('small', '', t('score')));
    const basis = el('div', 'explain');
    basis.append(el('small', 'muted', t('basis')), el('div', '', L() === 'zh' ? e.explanationZh : e.explanationEn));
    const counts = el('div', 'counts');
    for (const k of ['release', 'finding', 'rejection', 'late_tax', 'return']) {
      const c = el('div', k !== 'release' && e.counts[k] ? 'hot' : '');
      c.dataset.count = k;
      c.append(el('b', '', cbec.num(e.counts[k])), el('small', '', t(`c_${k}`)));
      counts.append(c);
    }
    const form = el('div', 'gbform');
    form.append(el('h3', '', t('setGrade')));
    const sel = gradeSelect(e.grade);
    sel.id = 'newGrade';
    const date = dateInput();
    date.id = 'effectiveFrom';
    const reason = el('textarea');
    reason.id = 'gradeReason';
    reason.rows = 2;
    reason.placeholder = t('gradeReasonPh');
    const f1 = el('div', 'field'); f1.append(el('label', '', t('newGrade')), sel);
    const f2 = el('div', 'field'); f2.append(el('label', '', t('effectiveFrom')), date);
    const two = el('div', 'two'); two.append(f1, f2);
    const f3 = el('div', 'field'); f3.append(el('label', '', t('gradeReason')), reason);
    const go = el('button', 'btn primary', t('apply'));
    go.id = 'applyGrade';
    const out = el('div', 'outcome');
    go.addEventListener('click', () => setGrade(code, sel.value, date.value, reason.value.trim(), out, go));
    if (kept) { sel.value = kept.grade; date.value = kept.from; reason.value = kept.reason; }
    if (state.gradeNotice) out.append(state.gradeNotice.el);
    form.append(two, f3, go, out);
    const ch = el('div', 'changes');
    ch.append(el('h3', '', t('changes')));
    const changes = (r.data.gradeChanges || []).slice().reverse();
    if (!changes.length) ch.append(el('div', 'muted', t('noChanges')));
    for (const g of changes) {
      const row = el('div', 'change');
      row.append(el('span', `badge ${gradeCls(g.grade)}`, gradeName(g.grade)), el('span', 'mono small', `${when(g.effectiveFrom)} · ${g.applied ? t('applied') : t('pending')}`),
        el('div', 'muted', `${t('byOfficer', { id: g.officer })} · ${g.reason}`));
      ch.append(row);
    }
    box.replaceChildren(head, score, counts, basis, form, ch);
  }

  // ---- wiring -------------------------------------------------------------------------------
  $('signin').addEventListener('click', signIn);
  $('key').addEventListener('keydown', (e) => { if (e.key === 'Enter') signIn(); });
  $('logout').addEventListener('click', () => { sessionStorage.removeItem('cbec.officerKey'); location.reload(); });
  document.querySelectorAll('#tabs button').forEach((b) => b.addEventListener('click', () => showTab(b.dataset.tab)));
  document.querySelectorAll('#lanes button').forEach((b) => b.addEventListener('click', () => { state.lane = b.dataset.lane; renderQueues(); }));
  $('mine').addEventListener('change', loadQueues);
  const find = () => { const v = $('findInvt').value.trim(); if (v) openList(v); };
  $('findGo').addEventListener('click', find);
  $('findInvt').addEventListener('keydown', (e) => { if (e.key === 'Enter') find(); });
  document.querySelectorAll('#coAction button').forEach((b) => b.addEventListener('click', () => {
    document.querySelectorAll('#coAction button').forEach((x) => x.classList.toggle('on', x === b));
  }));
  $('coTarget').addEventListener('change', coHint);
  $('coCreate').addEventListener('click', createControl);
  $('coActiveOnly').addEventListener('change', renderControls);
  cbec.onLang(() => {
    coHint();
    if (!state.me) return;
    renderMe();
    renderQueues();
    if (state.detail) renderDetail();
    renderControls();
    renderCredit();
    if (state.creditCode && !$('creditView').hidden) loadGradeBox(state.creditCode);
  });
  coHint();
  if (session.key) {
    call('/api/v1/officer/me').then((r) => {
      if (r.status === 200) { state.me = r.data; start(); } else sessionStorage.removeItem('cbec.officerKey');
    });
  }
})();
