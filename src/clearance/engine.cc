// The clearance state machine: intake, idempotency, matching, review, decisions, receipts.
//
// Everything here is deterministic: ordered containers only where iteration reaches output,
// time from the command, serial numbers from counters in the state.
#include <algorithm>
#include <cassert>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "clearance/clearance.h"
#include "clearance/supervision.h"
#include "clearance/error_codes.h"
#include "clearance/id_number.h"
#include "clearance/records.h"
#include "clearance/returns.h"
#include "clearance/rules.h"
#include "risk/risk.h"
#include "clearance/tax_bills.h"
#include "common/ordered_append.h"
#include "fmt/format.h"

namespace cbec::clearance {

using ceb::Finding;
using ceb::MessageType;
using ceb::Receipt;
namespace st = ceb::status;


struct Engine::State {
  EngineOptions opt;
  uint64_t last_seq = 0;
  TimeMs now = 0;

  std::map<std::string, Enterprise, std::less<>> enterprises;
  // Documents, lists and their indexes: ColdMaps (src/archive/cold_map.h), so that what the
  // core no longer works with moves to the archive (evict_idle) and comes back on access.
  // Prefixes: two letters each, unique within the archive.
  template <class K, class V>
  using Table = archive::ColdMap<K, V, archive::Hashed>;
  Table<Key, Stored<ceb::Order>> orders{"or"};          // (ebpCode, orderNo)
  Table<Key, Stored<ceb::Payment>> payments{"pa"};      // (payCode, payTransactionId)
  Table<Key, Key> payment_by_order{"pk"};               // (ebpCode, orderNo) -> payment key
  Table<Key, Stored<ceb::Logistics>> waybills{"wb"};    // (logisticsCode, logisticsNo)
  Table<Key, Stored<ceb::LogisticsStatus>> waybill_statuses{"ws"};
  Table<Key, Stored<ceb::Delivery>> deliveries{"dv"};   // (operatorCode, copNo)
  Table<Key, archive::Present> arrived{"ar"};           // waybills listed by a CEB711

  Table<uint64_t, ListRecord> lists{"ls"};
  Table<uint64_t, ListExtra> list_extra{"lx"};
  Table<Key, uint64_t> list_by_cop{"lc"};      // (agentCode, copNo)
  Table<std::string, uint64_t> list_by_invt{"lv"};
  Table<Key, uint64_t> list_by_order{"lo"};    // active list per (ebpCode, orderNo)
  Table<Key, uint64_t> latest_list_by_order{"ll"};  // last declared list, also once rejected
  Table<Key, uint64_t> list_by_waybill{"lw"};  // active list per (logisticsCode, logisticsNo)
  std::set<std::pair<TimeMs, uint64_t>> expiries;
  std::set<uint64_t> held;                  // kHeld lists, re-evaluated on deposit/stock/arrival

  ledger::StockLedger stock;
  ledger::QuotaLedger quota;
  ledger::GuaranteeLedger guarantees;
  Table<CapKey, int64_t> caps_used{"cu"};  // R3 yearly caps (records.h, CapTable)
  Table<std::string, std::string> buyer_names{"bn"};  // id -> name

  // Supervision (§8): draws, queues, control orders, credit. Per-item goods risk overrides.
  Supervisor sup;
  std::map<ledger::StockKey, ref::RiskClass> item_risk;
  risk::Monitor risk_monitor;            // R8, R10 (src/risk/)
  std::vector<risk::LineFacts> risk_lines;  // reused buffer
  std::vector<std::string_view> lane_gcodes;  // reused buffer
  std::vector<ledger::StockNeed> stock_needs;  // reused buffer (R6)

  uint64_t next_list_id = 1;
  uint64_t pre_serial = 0;
  uint64_t invt_serial = 0;
  uint64_t rkd_serial = 0;

  ceb::Receipts* out = nullptr;
  std::vector<Engine::ListIntake> list_intake;  // of the command being applied
  // Set while applying a body the caller gave up (Engine::apply(Body&&)): the documents it
  // carries are moved into the state instead of copied.
  bool take_docs = false;
  template <class Doc>
  void keep(Doc* to, const Doc& from) {
    // `from` is then part of a body nobody reads again (the rvalue given to apply).
    if (take_docs)
      *to = std::move(const_cast<Doc&>(from));
    else
      *to = from;
  }

  const ref::ReferenceData& ref() const { return *opt.reference; }
  const ref::Policy& policy_now() const { return ref().policy_at(beijing_date(now)); }

  // ---- receipts ----------------------------------------------------------------------------
  // A receipt is built where it will live (the shared object), then issued: a Receipt is 19
  // strings, and moving one costs a copy of each short string.
  using NewReceipt = std::shared_ptr<Receipt>;
  NewReceipt base_receipt(MessageType t, const std::string& receiver, const std::string& guid) {
    auto r = std::make_shared<Receipt>();
    r->answers = t;
    r->receiver = receiver;
    r->guid = guid;
    r->returnTime = now;
    return r;
  }
  void emit(NewReceipt r) { out->push_back(ceb::ReceiptPtr(std::move(r))); }
  void emit(const ceb::ReceiptPtr& issued) { out->push_back(issued); }  // a replay's answer
  // Emits r and returns it, for the record to keep as its latest.
  const ceb::ReceiptPtr& issue(NewReceipt r) {
    return out->push_back(ceb::ReceiptPtr(std::move(r)));
  }

  NewReceipt error_receipt(MessageType t, const std::string& receiver, const std::string& guid,
                        Problem p, std::vector<Finding> findings) {
    auto r = base_receipt(t, receiver, guid);
    r->returnStatus = error_code(t, p);
    r->findings = std::move(findings);
    r->returnInfo = ceb::join_return_info(fmt::format("[{}]", r->returnStatus), r->findings);
    return r;
  }

  static Finding simple(std::string_view rule, std::string field, std::string zh,
                        std::string en) {
    return make_finding(rule, std::move(field), std::move(zh), std::move(en));
  }

  // R1: the sender is registered, has one of `roles`, and is one of the document's parties.
  std::optional<std::pair<Problem, Finding>> check_sender(
      const std::string& sender, Roles roles, std::initializer_list<const std::string*> parties,
      const char* party_field) const {
    auto it = enterprises.find(sender);
    if (it == enterprises.end()) {
      return std::make_pair(
          Problem::kSenderNotRegistered,
          simple("R1", "BaseTransfer/copCode", fmt::format("发送企业{}未备案", sender),
                 fmt::format("sender {} is not a registered enterprise", sender)));
    }
    if ((it->second.roles & roles) == 0) {
      return std::make_pair(
          Problem::kSenderNotPermitted,
          simple("R1", "BaseTransfer/copCode",
                 fmt::format("企业{}未备案为该单证的申报角色(已备案角色: {})", sender,
                             format_roles(it->second.roles)),
                 fmt::format("enterprise {} is not registered for this document (roles: {})",
                             sender, format_roles(it->second.roles))));
    }
    for (const std::string* p : parties)
      if (*p == sender) return std::nullopt;
    return std::make_pair(
        Problem::kSenderNotPermitted,
        simple("R1", party_field,
               fmt::format("发送企业{}与单证中的企业代码{}不一致", sender, **parties.begin()),
               fmt::format("sender {} does not match the document's {} {}", sender, party_field,
                           **parties.begin())));
  }

  // ---- list receipts -----------------------------------------------------------------------
  NewReceipt list_receipt(const ListRecord& L, int status, std::string info,
                          std::vector<Finding> findings = {}) {
    auto r = base_receipt(MessageType::kCEB621, L.sender, L.doc.head.guid);
    r->customsCode = L.doc.head.customsCode;
    r->ebpCode = L.doc.head.ebpCode;
    r->ebcCode = L.doc.head.ebcCode;
    r->agentCode = L.doc.head.agentCode;
    r->copNo = L.doc.head.copNo;
    r->preNo = L.preNo;
    r->invtNo = L.invtNo;
    r->returnStatus = status;
    r->findings = std::move(findings);
    r->returnInfo =
        r->findings.empty() ? std::move(info) : ceb::join_return_info(info, r->findings);
    return r;
  }

  void record_list_status(ListRecord& L, int status, std::string info,
                          std::vector<Finding> findings = {}) {
    auto r = list_receipt(L, status, std::move(info), std::move(findings));
    L.returnStatus = status;
    // Most lists go 120 -> 800 and often on to 899: one allocation for the three.
    if (L.history.empty()) L.history.reserve(3);
    L.history.push_back(StatusEvent{now, status, r->returnInfo});
    list_extra[L.id].last = issue(std::move(r));
  }

  std::string next_pre_no() {
    ++pre_serial;
    return fmt::format("B{}{:09d}", format_date8(beijing_date(now)), pre_serial % 1000000000);
  }
  std::string next_invt_no(const std::string& customs_code) {
    ++invt_serial;
    std::string cc = customs_code.size() == 4 ? customs_code : std::string("0000");
    return fmt::format("{}{}I{:09d}", cc, beijing_year(now), invt_serial % 1000000000);
  }

  // ---- indexes -----------------------------------------------------------------------------
  // Borrowed from the list (lookups copy no string); valid while the list's document is.
  static KeyView order_key_of(const ceb::Inventory& inv) {
    return {inv.head.ebpCode, inv.head.orderNo};
  }
  static KeyView waybill_key_of(const ceb::Inventory& inv) {
    return {inv.head.logisticsCode, inv.head.logisticsNo};
  }
  void link(const ListRecord& L) {
    list_by_order[order_key_of(L.doc)] = L.id;
    latest_list_by_order[order_key_of(L.doc)] = L.id;
    list_by_waybill[waybill_key_of(L.doc)] = L.id;
  }
  void unlink(const ListRecord& L) {
    auto o = list_by_order.find(order_key_of(L.doc));
    if (o != list_by_order.end() && o->second == L.id) list_by_order.erase(o);
    auto w = list_by_waybill.find(waybill_key_of(L.doc));
    if (w != list_by_waybill.end() && w->second == L.id) list_by_waybill.erase(w);
  }
  void clear_wait(ListRecord& L) {
    if (L.expires_at != 0) expiries.erase({L.expires_at, L.id});
    L.expires_at = 0;
    held.erase(L.id);
    list_extra[L.id].hold = HoldKind::kNone;
    L.hold_reason.clear();
  }
  void set_wait(ListRecord& L, ListState state, HoldKind kind, std::string reason) {
    L.state = state;
    list_extra[L.id].hold = kind;
    L.hold_reason = std::move(reason);
    if (state == ListState::kHeld) held.insert(L.id);
    else held.erase(L.id);
    if (L.expires_at == 0 && kind != HoldKind::kArrival) {
      L.expires_at = now + policy_now().match_window_ms;
      expiries.insert({L.expires_at, L.id});
    }
  }

  // ---- ledger reservations -----------------------------------------------------------------
  void release_reservations(ListRecord& L) {
    if (!L.reserved) return;
    if (quota.has_reservation(L.id)) quota.release(L.id);
    if (stock.has_reservation(L.id)) stock.release(L.id);
    if (guarantees.has_reservation(L.id)) guarantees.release(L.id);
    L.reserved = false;
  }

  // Locks: a document whose list is under an officer or decided can no longer change.
  bool list_locked(uint64_t id) {
    auto it = lists.find(id);
    if (it == lists.end()) return false;
    ListState s = it->second.state;
    return !(s == ListState::kDraft || s == ListState::kWaiting || s == ListState::kHeld ||
             s == ListState::kRejected);
  }
  bool order_locked(KeyView order_key) {
    auto it = list_by_order.find(order_key);
    return it != list_by_order.end() && list_locked(it->second);
  }
  bool waybill_locked(KeyView wkey) {
    auto it = list_by_waybill.find(wkey);
    return it != list_by_waybill.end() && list_locked(it->second);
  }

  // ---- decisions ---------------------------------------------------------------------------
  void reject(ListRecord& L, std::vector<Finding> findings) {
    release_reservations(L);
    clear_wait(L);
    unlink(L);
    L.state = ListState::kRejected;
    L.findings = findings;
    record_list_status(L, st::kRejected, "退单 / rejected", std::move(findings));
  }

  // A list's documents under its keys: every one stored (documents_of), or the declared ones
  // only (partners_of: drafts do not count). The pointers stay valid for the command: the tables
  // are node-based and nothing is archived before the next Tick.
  struct Partners {
    Stored<ceb::Order>* order = nullptr;
    Stored<ceb::Payment>* payment = nullptr;
    Stored<ceb::Logistics>* waybill = nullptr;
    bool all() const { return order && payment && waybill; }
  };
  template <class Doc>
  void conclude_partner(Stored<Doc>* s) {
    if (s == nullptr) return;
    s->rec.returnStatus = st::kConcluded;
    auto r = std::make_shared<Receipt>(s->last ? ceb::same_record(*s->last) : Receipt{});
    r->returnStatus = st::kConcluded;
    r->returnTime = now;
    r->returnInfo = "海关审结(清单已放行) / concluded: list released";
    s->last = issue(std::move(r));
  }

  // What evaluate() showed the risk monitor for the lane: a list released in the same call shows
  // it the same facts, hashed once.
  struct RiskSeen {
    risk::ListFacts facts;
    risk::ListKeys keys;
  };
  // `by` names who released it when it was not the machine (an officer's decision).
  // `partners` and `seen`: what evaluate() has just looked up and shown the risk monitor, so that
  // a list released by the machine costs no second lookup of its documents.
  void release(ListRecord& L, std::string_view by = {}, const Partners* partners = nullptr,
               const RiskSeen* seen = nullptr) {
    CBEC_ASSERT(L.reserved && L.tax.has_value());
    clear_wait(L);
    quota.commit(L.id);
    if (stock.has_reservation(L.id)) stock.commit(L.id);
    guarantees.commit(L.id);
    L.reserved = false;
    for (const auto& [key, units] : list_extra[L.id].caps) caps_used[key] += units;
    open_tax_bill(L);
    L.state = ListState::kReleased;
    sup.dequeue(L.invtNo);
    credit(L, CreditEventKind::kRelease);
    const Partners p = partners ? *partners : documents_of(L);
    if (seen != nullptr) {
      risk_monitor.on_release(seen->facts, seen->keys, ref().policy_at(list_date(L)));
    } else {
      risk_monitor.on_release(risk_facts(L, p), ref().policy_at(list_date(L)));
    }
    record_list_status(L, st::kReleased,
                       fmt::format("放行 / released; 税款 tax {} (关税 {} 消费税 {} 增值税 {}){}{}",
                                   format_fen(L.tax->total_fen()), format_fen(L.tax->tariff_fen),
                                   format_fen(L.tax->ct_fen), format_fen(L.tax->vat_fen),
                                   by.empty() ? "" : "; ", by));
    conclude_partner(p.order);
    conclude_partner(p.payment);
    conclude_partner(p.waybill);
  }

  Partners documents_of(const ListRecord& L) {
    Partners out;
    const KeyView okey = order_key_of(L.doc);
    if (auto o = orders.find(okey); o != orders.end()) out.order = &o->second;
    if (auto pk = payment_by_order.find(okey); pk != payment_by_order.end())
      if (auto p = payments.find(pk->second); p != payments.end()) out.payment = &p->second;
    if (auto w = waybills.find(waybill_key_of(L.doc)); w != waybills.end())
      out.waybill = &w->second;
    return out;
  }
  Partners partners_of(const ListRecord& L) {
    Partners out = documents_of(L);
    auto declared = [](auto* s) { return s && s->rec.returnStatus != st::kDraft ? s : nullptr; };
    out.order = declared(out.order);
    out.payment = declared(out.payment);
    out.waybill = declared(out.waybill);
    return out;
  }
  static std::string missing_partners_text(const Partners& p) {
    if (p.all()) return {};
    std::vector<std::string> zh, en;
    if (!p.order) zh.push_back("订单"), en.push_back("order");
    if (!p.payment) zh.push_back("支付单"), en.push_back("payment");
    if (!p.waybill) zh.push_back("运单"), en.push_back("waybill");
    return fmt::format("等待{} / waiting for {}", fmt::join(zh, "、"), fmt::join(en, ", "));
  }

  // Holds a list that passed review (guarantee, stock or arrival); a receipt tells the declarer
  // once per kind of hold, not on every re-evaluation.
  void hold(ListRecord& L, HoldKind kind, std::string reason) {
    bool changed = list_extra[L.id].hold != kind || L.state != ListState::kHeld;
    set_wait(L, ListState::kHeld, kind, std::move(reason));
    if (changed) record_list_status(L, st::kAccepted, L.hold_reason);
  }

  // ---- supervision (§8) ----------------------------------------------------------------------
  ref::CreditGrade grade_of(const std::string& code) const {
    auto e = enterprises.find(code);
    return e == enterprises.end() ? ref::CreditGrade::kRegular : e->second.grade;
  }
  // The enterprises answerable for a list's goods: the e-commerce enterprise and the declarer.
  std::vector<std::string> answerable(const ListRecord& L) const {
    std::vector<std::string> out{L.doc.head.ebcCode};
    if (L.doc.head.agentCode != L.doc.head.ebcCode) out.push_back(L.doc.head.agentCode);
    return out;
  }
  void credit(const ListRecord& L, CreditEventKind kind) {
    const ref::Policy& p = policy_now();
    for (const auto& code : answerable(L)) sup.credit_event(code, kind, now, p, grade_of(code));
  }
  ref::RiskClass risk_of(const ceb::Inventory& inv) const {
    ref::RiskClass risk = ref::RiskClass::kLow;
    for (const auto& line : inv.lists) {
      ref::RiskClass r = ref::RiskClass::kMedium;
      auto ov = item_risk.find(ledger::StockKey{inv.head.emsNo, line.itemRecordNo});
      if (ov != item_risk.end()) r = ov->second;
      else if (const ref::GoodsCode* g = ref().goods(line.gcode)) r = g->risk;
      risk = std::max(risk, r);
    }
    return risk;
  }
  // The declaration date (declTime) that picks a list's policy and rates.
  CivilDate list_date(const ListRecord& L) const {
    auto decl = parse_date8(L.doc.head.declTime);
    return decl ? *decl : beijing_date(now);
  }

  // What the risk monitor sees of a list (views into the stored documents; lines in risk_lines).
  // `docs`: the list's documents (documents_of, or partners_of when all are declared).
  risk::ListFacts risk_facts(const ListRecord& L, const Partners& docs) {
    const auto& h = L.doc.head;
    const ceb::Order* order = docs.order ? &docs.order->doc : nullptr;
    const ceb::Payment* payment = docs.payment ? &docs.payment->doc : nullptr;
    const ceb::Logistics* waybill = docs.waybill ? &docs.waybill->doc : nullptr;
    risk_lines.clear();
    for (const auto& line : L.doc.lists)
      risk_lines.push_back(risk::LineFacts{line.gcode, line.itemRecordNo, line.qty, line.unit,
                                           round_half_up_fen(line.price),
                                           round_half_up_fen(line.totalPrice)});
    auto app_time = [](const std::string& t) { return parse_datetime14(t).value_or(0); };
    risk::ListFacts f;
    f.time = now;
    f.invtNo = L.invtNo;
    f.ebpCode = h.ebpCode;
    f.ebcCode = h.ebcCode;
    f.payCode = order ? std::string_view(order->head.payCode) : std::string_view();
    f.logisticsCode = h.logisticsCode;
    f.buyerIdNumber = h.buyerIdNumber;
    f.buyerTelephone = h.buyerTelephone;
    // An O2O order is collected at the hall: its consignee address is the hall's, shared by
    // every buyer there, and says nothing about the buyer (the address patterns skip it).
    auto carrier = enterprises.find(h.logisticsCode);
    bool o2o = carrier != enterprises.end() && (carrier->second.roles & kRoleHall) != 0;
    f.consigneeAddress = o2o ? std::string_view() : std::string_view(h.consigneeAddress);
    f.dutiable_fen = L.tax ? L.tax->dutiable_fen : 0;
    f.transaction_limit_fen = ref().policy_at(list_date(L)).transaction_limit_fen;
    f.lines = risk_lines;
    f.order_time = order ? app_time(order->head.appTime) : 0;
    f.payment_time = payment ? app_time(payment->head.appTime) : 0;
    f.waybill_time = waybill ? app_time(waybill->head.appTime) : 0;
    return f;
  }

  // `partners`: all declared. Fills `seen` with what the risk monitor was shown, when it was.
  Lane choose_lane(ListRecord& L, const Partners& partners, std::optional<RiskSeen>* seen) {
    const ceb::Order& order = partners.order->doc;
    const ceb::Logistics& waybill = partners.waybill->doc;
    ListExtra& x = list_extra[L.id];
    if (x.lane) return *x.lane;
    const auto& h = L.doc.head;
    // The declarer's (agentCode, 申报企业) grade sets the rate, unless the e-commerce
    // enterprise is itself graded dishonest: a negative credit record is never laundered
    // through a well-graded agent (§1 "a negative credit list gets stricter treatment").
    std::string enterprise = h.agentCode;
    if (grade_of(h.ebcCode) >= ref::CreditGrade::kDishonest &&
        grade_of(h.ebcCode) > grade_of(enterprise))
      enterprise = h.ebcCode;
    lane_gcodes.clear();
    for (const auto& line : L.doc.lists) lane_gcodes.push_back(line.gcode);
    std::string_view parties[] = {h.ebpCode, h.ebcCode, h.agentCode, h.logisticsCode,
                                  order.head.payCode};
    LaneFacts f{L.invtNo,       h.customsCode,  enterprise,
                grade_of(enterprise), risk_of(L.doc), lane_gcodes,
                parties,        h.buyerIdNumber, waybill.head.consigneeAddress,
                h.buyerTelephone};
    x.lane_findings.clear();
    Lane lane;
    if (opt.lane_selector) {
      auto e = enterprises.find(L.sender);
      lane = opt.lane_selector(
          LaneContext{&L.doc, e == enterprises.end() ? nullptr : &e->second, now});
      sup.record_override(f, lane, last_seq, now);
    } else {
      std::vector<Finding> risk_findings;
      const risk::ListFacts& facts = seen->emplace(risk_facts(L, partners)).facts;
      (*seen)->keys = risk::keys_of(facts);
      risk_monitor.evaluate(facts, (*seen)->keys, ref().policy_at(list_date(L)), &risk_findings);
      lane = sup.choose_lane(f, policy_now(), risk_findings, last_seq, now, &x.lane_findings);
    }
    x.lane = lane;
    return lane;
  }

  // Runs matching and review on a declared list and moves it to its next state.
  // `found`: the list's partners when the caller has just looked them up.
  void evaluate(ListRecord& L, std::optional<Partners> found = std::nullopt) {
    CBEC_ASSERT(L.state == ListState::kWaiting || L.state == ListState::kHeld);
    release_reservations(L);
    const auto& h = L.doc.head;
    const Partners partners = found ? *found : partners_of(L);
    if (!partners.all()) {
      set_wait(L, ListState::kWaiting, HoldKind::kPartners, missing_partners_text(partners));
      return;
    }
    const Stored<ceb::Order>* order = partners.order;
    const Stored<ceb::Payment>* payment = partners.payment;
    const Stored<ceb::Logistics>* waybill = partners.waybill;

    std::vector<Finding> findings;
    CivilDate decl_date = list_date(L);
    const ref::Policy& policy = ref().policy_at(decl_date);
    auto g = enterprises.find(h.assureCode);
    bool guarantor_ok = g != enterprises.end() && (g->second.roles & kRoleGuarantor) != 0;
    match_documents(MatchInput{&L.doc, &order->doc, &payment->doc, &waybill->doc}, policy,
                    guarantor_ok, &findings);
    ReviewOutcome review;
    review_list(L.doc, decl_date, beijing_date(now), ref(), &findings, &review);
    int year = decl_date.year;
    const ledger::QuotaKey buyer_year{normalize_id_number(h.buyerIdNumber), year};
    const std::string& buyer = buyer_year.buyerIdNumber;

    // R3 yearly per-person quantity caps (sugar 2 kg, rice 20 kg ...).
    auto& caps = list_extra[L.id].caps;
    caps.clear();
    for (size_t i = 0; i < L.doc.lists.size(); ++i) {
      const auto& line = L.doc.lists[i];
      const auto* entry = ref().positive_list(std::string_view(line.gcode).substr(0, 8),
                                              decl_date);
      if (entry == nullptr || entry->yearly_cap_units == 0) continue;
      if (line.unit1 != entry->yearly_cap_unit) {
        findings.push_back(make_finding(
            "R3", fmt::format("Inventory/InventoryList[{}]/unit1", i + 1),
            fmt::format("税号{}有个人年度数量限制，法定单位应为{}，申报为{}", entry->tariff8,
                        entry->yearly_cap_unit, line.unit1),
            fmt::format("tariff number {} has a yearly per-person cap in unit {}, declared unit1 "
                        "{}",
                        entry->tariff8, entry->yearly_cap_unit, line.unit1)));
        continue;
      }
      CapKey key{buyer, year, entry->tariff8};
      int64_t used = caps_used.count(key) ? caps_used.at(key) : 0;
      int64_t pending = 0;
      for (const auto& [k, u] : caps)
        if (k == key) pending += u;
      if (used + pending + line.qty1.units > entry->yearly_cap_units) {
        findings.push_back(make_finding(
            "R3", fmt::format("Inventory/InventoryList[{}]/qty1", i + 1),
            fmt::format("税号{}个人年度限量{}，本年已购{}，本单{}", entry->tariff8,
                        format_decimal(Decimal::of_units(entry->yearly_cap_units)),
                        format_decimal(Decimal::of_units(used + pending)),
                        format_decimal(line.qty1)),
            fmt::format("tariff number {} yearly cap per person {}, bought this year {}, this "
                        "list {}",
                        entry->tariff8, format_decimal(Decimal::of_units(entry->yearly_cap_units)),
                        format_decimal(Decimal::of_units(used + pending)),
                        format_decimal(line.qty1))));
      }
      caps.push_back({key, line.qty1.units});
    }

    if (!findings.empty()) {
      reject(L, std::move(findings));
      return;
    }
    L.tax = review.tax;
    CBEC_ASSERT(L.tax.has_value());

    // R5: annual limit (reserve the dutiable value against the buyer's year).
    Status q = quota.reserve(L.id, buyer_year, review.dutiable_fen, policy.annual_limit_fen);
    if (!q.ok()) {
      int code = error_code(MessageType::kCEB621, Problem::kOverAnnualLimit);
      ledger::QuotaTotals t = quota.totals(buyer_year);
      reject(L, {make_finding(
                    "R5", "Inventory/InventoryHead/buyerIdNumber",
                    fmt::format("[{}] 订购人{}年度已用{}(含审核中{})，本单{}，超过年度限值{}",
                                code, year, format_fen(t.committed_fen + t.reserved_fen),
                                format_fen(t.reserved_fen), format_fen(review.dutiable_fen),
                                format_fen(policy.annual_limit_fen)),
                    fmt::format("[{}] buyer's {} total {} (of which under review {}) + this list "
                                "{} exceeds the annual limit {}",
                                code, year, format_fen(t.committed_fen + t.reserved_fen),
                                format_fen(t.reserved_fen), format_fen(review.dutiable_fen),
                                format_fen(policy.annual_limit_fen)))});
      return;
    }
    L.reserved = true;

    // R6: bonded stock for 1210.
    if (h.tradeMode == "1210") {
      std::vector<ledger::StockNeed>& needs = stock_needs;
      needs.clear();
      for (const auto& line : L.doc.lists)
        needs.push_back(ledger::StockNeed{{h.emsNo, line.itemRecordNo}, line.qty.units});
      Status s = stock.reserve(L.id, needs);
      if (!s.ok()) {
        // Name the first line whose item is short (lines of one item count together).
        std::string field = "Inventory/InventoryList/qty";
        std::map<std::string, int64_t> needed;
        for (size_t i = 0; i < L.doc.lists.size(); ++i) {
          const auto& line = L.doc.lists[i];
          int64_t total = needed[line.itemRecordNo] += line.qty.units;
          const auto* item = stock.find({h.emsNo, line.itemRecordNo});
          if (item == nullptr || item->available_units() < total) {
            field = fmt::format("Inventory/InventoryList[{}]/qty", i + 1);
            break;
          }
        }
        Finding fnd = make_finding("R6", field, fmt::format("保税库存不足: {}", s.message()),
                                   fmt::format("insufficient bonded stock: {}", s.message()));
        if (policy.stock_shortfall == ref::ShortfallAction::kReject) {
          reject(L, {std::move(fnd)});
        } else {
          release_reservations(L);
          hold(L, HoldKind::kStock, fmt::format("库存不足暂挂 / held: {}", fnd.en));
        }
        return;
      }
    }

    // R7: the guarantee covers the tax.
    Status gs = guarantees.reserve(L.id, h.assureCode, L.tax->total_fen());
    if (!gs.ok()) {
      Finding fnd = make_finding("R7", "Inventory/InventoryHead/assureCode",
                                 fmt::format("担保额度不足: {}", gs.message()),
                                 fmt::format("insufficient guarantee: {}", gs.message()));
      if (policy.guarantee_shortfall == ref::ShortfallAction::kReject) {
        reject(L, {std::move(fnd)});
      } else {
        release_reservations(L);
        hold(L, HoldKind::kGuarantee, fmt::format("担保不足暂挂 / held: {}", fnd.en));
      }
      return;
    }

    // Lane (DOMAIN.md §8, supervision.h): decided once per list; a list that waits for its
    // parcel after a green lane keeps it.
    std::optional<RiskSeen> seen;
    Lane lane = choose_lane(L, partners, &seen);
    if (lane != Lane::kGreen) {
      clear_wait(L);
      std::vector<Finding> reasons = list_extra[L.id].lane_findings;
      L.findings.insert(L.findings.end(), reasons.begin(), reasons.end());
      bool yellow = lane == Lane::kYellow;
      L.state = yellow ? ListState::kManualReview : ListState::kInspection;
      sup.enqueue(L.invtNo, h.customsCode, lane, now, reasons);
      const QueueItem* q = sup.queued(L.invtNo);
      std::string who = q && !q->assigned.empty() ? " → " + q->assigned : "";
      record_list_status(L, yellow ? st::kManualReview : st::kInspection,
                         (yellow ? "人工审核 / manual review" : "查验 / inspection") + who,
                         std::move(reasons));
      return;
    }
    // 9610 direct mail: release only once the parcel has arrived (configurable).
    if (h.tradeMode == "9610" && policy.require_arrival_9610 &&
        arrived.count(waybill_key_of(L.doc)) == 0) {
      // Reservations stay: the list passed review and only waits for the parcel.
      if (L.expires_at != 0) expiries.erase({L.expires_at, L.id});
      L.expires_at = 0;
      hold(L, HoldKind::kArrival, "等待运抵(CEB711) / waiting for arrival (CEB711)");
      return;
    }
    release(L, {}, &partners, seen ? &*seen : nullptr);
  }

  void reevaluate_if_waiting(uint64_t id) {
    auto it = lists.find(id);
    if (it == lists.end()) return;
    ListRecord& L = it->second;
    if (L.state != ListState::kWaiting && L.state != ListState::kHeld) return;
    evaluate(L);
  }
  void reevaluate_for_order(KeyView okey) {
    if (auto it = list_by_order.find(okey); it != list_by_order.end())
      reevaluate_if_waiting(it->second);
  }
  void reevaluate_for_waybill(KeyView wkey) {
    if (auto it = list_by_waybill.find(wkey); it != list_by_waybill.end())
      reevaluate_if_waiting(it->second);
  }
  void reevaluate_held(HoldKind kind) {
    std::vector<uint64_t> ids;
    for (uint64_t id : held)
      if (list_extra[id].hold == kind) ids.push_back(id);
    for (uint64_t id : ids) reevaluate_if_waiting(id);
  }

  void expire_due() {
    while (!expiries.empty() && expiries.begin()->first <= now) {
      uint64_t id = expiries.begin()->second;
      ListRecord& L = lists.at(id);
      HoldKind kind = list_extra[id].hold;
      std::string why = L.hold_reason;
      std::string rule = kind == HoldKind::kGuarantee ? "R7"
                         : kind == HoldKind::kStock   ? "R6"
                                                      : "M0";
      reject(L, {make_finding(rule, "Inventory",
                              fmt::format("超过等待时限仍未满足: {}", why),
                              fmt::format("waiting window expired: {}", why))});
    }
  }

  // Connects the parts (once, on a new State).
  void wire() {
    attach_archive();
    // Late tax and lapsed returns count in the credit score (§8).
    tax_book.on_credit_event = [this](const std::string& code, const TaxCreditEvent& e) {
      CreditEventKind kind = e.kind == TaxCreditEvent::Kind::kOverdueBill
                                 ? CreditEventKind::kLateTax
                                 : CreditEventKind::kReturn;
      sup.credit_event(code, kind, now, policy_now(), grade_of(code));
    };
  }

  // ---- snapshot (issue #3): see Engine::save_snapshot. Written at the end of this file. ------
  void evict_all();
  void save(ByteWriter& w) const;
  bool load(ByteReader& in);

  // ---- archive (issue #3; src/archive/) -------------------------------------------------------
  // The tables are ColdMaps: what the core no longer works with goes to the archive and comes
  // back on its next access, so memory holds the lists still in work plus those touched within
  // archive_after_ms. Active lists (waiting, held, with an officer, detained) stay in memory, and
  // so do the documents and index entries they use.
  void attach_archive() {
    archive::Archive* a = opt.archive;
    const TimeMs* clock = &now;
    orders.attach(a, clock);
    payments.attach(a, clock);
    payment_by_order.attach(a, clock);
    waybills.attach(a, clock);
    waybill_statuses.attach(a, clock);
    deliveries.attach(a, clock);
    arrived.attach(a, clock);
    lists.attach(a, clock);
    list_extra.attach(a, clock);
    list_by_cop.attach(a, clock);
    list_by_invt.attach(a, clock);
    list_by_order.attach(a, clock);
    latest_list_by_order.attach(a, clock);
    list_by_waybill.attach(a, clock);
    buyer_names.attach(a, clock);
    caps_used.attach(a, clock);
    quota.attach(a, clock);
    tax_book.attach(a, clock);
    returns.attach(a, clock);
  }
  static bool in_work(ListState s) {
    return s == ListState::kWaiting || s == ListState::kHeld || s == ListState::kManualReview ||
           s == ListState::kInspection || s == ListState::kDetained;
  }
  // Looks only in memory: an archived list is not in work (it was evicted as such and restoring
  // it would undo the eviction).
  bool hot_in_work(uint64_t id) const {
    const ListRecord* L = lists.find_hot(id);
    return L != nullptr && in_work(L->state);
  }
  bool hot_index_in_work(const Table<Key, uint64_t>& index, const Key& k) const {
    const uint64_t* id = index.find_hot(k);
    return id != nullptr && hot_in_work(*id);
  }
  void archive_idle() {
    if (opt.archive == nullptr) return;
    const TimeMs cutoff = now - opt.archive_after_ms;
    // Lists first: the predicates below look at which lists stay in memory.
    lists.evict_idle(cutoff, [&](uint64_t, const ListRecord& L) { return in_work(L.state); });
    list_extra.evict_idle(cutoff, [&](uint64_t id, const ListExtra&) { return hot_in_work(id); });
    for (auto* index : {&list_by_cop, &list_by_order, &latest_list_by_order, &list_by_waybill})
      index->evict_idle(cutoff, [&](const Key&, uint64_t id) { return hot_in_work(id); });
    list_by_invt.evict_idle(cutoff, [&](const std::string&, uint64_t id) { return hot_in_work(id); });
    auto order_in_work = [&](const Key& okey) { return hot_index_in_work(list_by_order, okey); };
    orders.evict_idle(cutoff, [&](const Key& k, const Stored<ceb::Order>&) { return order_in_work(k); });
    payments.evict_idle(cutoff, [&](const Key&, const Stored<ceb::Payment>& p) {
      return order_in_work({p.doc.head.ebpCode, p.doc.head.orderNo});
    });
    payment_by_order.evict_idle(cutoff, [&](const Key& k, const Key&) { return order_in_work(k); });
    auto waybill_in_work = [&](const Key& w) { return hot_index_in_work(list_by_waybill, w); };
    waybills.evict_idle(cutoff, [&](const Key& k, const Stored<ceb::Logistics>&) {
      return waybill_in_work(k);
    });
    arrived.evict_idle(cutoff, [&](const Key& k, archive::Present) { return waybill_in_work(k); });
    auto never = [](const auto&, const auto&) { return false; };
    waybill_statuses.evict_idle(cutoff, never);
    deliveries.evict_idle(cutoff, never);
    buyer_names.evict_idle(cutoff, never);
    caps_used.evict_idle(cutoff, never);
    quota.archive_idle(cutoff);
    tax_book.archive_idle(cutoff, beijing_date(now));
    returns.archive_idle(cutoff);
  }

  // ---- intake of each document type --------------------------------------------------------
  // A record resent unchanged is answered with the receipt already issued. Compared field by
  // field with the stored record (only when its key is known): cheaper than digesting every
  // record that arrives, and exact.
  // `it`: the stored record under the new one's key, or end(); the caller keeps using it, so that
  // a document costs one lookup of its key.
  template <class It, class Doc>
  bool replay_if_same(It it, It end, const Doc& doc) {
    if (it != end && it->second.doc == doc) {
      emit(it->second.last);
      return true;
    }
    return false;
  }
  template <class Doc>
  bool replay_if_same(Table<Key, Stored<Doc>>& map, KeyView key, const Doc& doc) {
    return replay_if_same(map.find(key), map.end(), doc);
  }

  void apply_order(const std::string& sender, const ceb::Order& o) {
    const auto& h = o.head;
    auto answer = [&](Problem p, std::vector<Finding> f) {
      auto r = error_receipt(MessageType::kCEB311, sender, h.guid, p, std::move(f));
      r->ebpCode = h.ebpCode, r->ebcCode = h.ebcCode, r->orderNo = h.orderNo;
      emit(std::move(r));
    };
    if (auto bad = check_sender(sender, kRoleEbp | kRoleEbc, {&h.ebpCode, &h.ebcCode},
                                "Order/OrderHead/ebpCode"))
      return answer(bad->first, {bad->second});
    // Borrowed from the message, which keep() below may move from: later uses borrow from the
    // stored copy instead.
    const KeyView key{h.ebpCode, h.orderNo};
    auto it = orders.find_to_insert(key);
    if (replay_if_same(it, orders.end(), o)) return;
    bool exists = it != orders.end();
    if (Problem p; !check_app_type(h.appType, exists,
                                   exists && it->second.rec.returnStatus == st::kDraft,
                                   order_locked(key), &p))
      return answer(p, {app_type_finding(p, "Order/OrderHead/appType", h.appType)});
    if (h.appType == "3") {
      orders.erase(it);
      auto r = base_receipt(MessageType::kCEB311, sender, h.guid);
      r->ebpCode = h.ebpCode, r->ebcCode = h.ebcCode, r->orderNo = h.orderNo;
      r->returnStatus = st::kDeclaring;
      r->returnInfo = "删除成功 / deleted";
      return emit(std::move(r));
    }
    bool draft = h.appStatus == "1";
    if (!draft) {
      std::vector<Finding> f;
      check_order_intake(o, &f);
      if (!f.empty()) return answer(Problem::kInvalidValue, std::move(f));
    }
    Stored<ceb::Order>& s = exists ? it->second : orders.insert_missing(key);
    s.rec.sender = sender;
    s.rec.received_at = now;
    s.rec.returnStatus = draft ? st::kDraft : st::kAccepted;
    auto r = base_receipt(MessageType::kCEB311, sender, h.guid);
    r->ebpCode = h.ebpCode, r->ebcCode = h.ebcCode, r->orderNo = h.orderNo;
    r->returnStatus = s.rec.returnStatus;
    r->returnInfo = draft ? "暂存 / saved as draft"
                         : (h.appType == "2" ? "变更成功 / modified" : "入库成功 / accepted");
    keep(&s.doc, o);  // o (and h) may be moved from after this
    s.last = issue(std::move(r));
    if (!draft) reevaluate_for_order({s.doc.head.ebpCode, s.doc.head.orderNo});
  }

  void apply_payment(const std::string& sender, const ceb::Payment& p) {
    const auto& h = p.head;
    auto answer = [&](Problem pr, std::vector<Finding> f) {
      auto r = error_receipt(MessageType::kCEB411, sender, h.guid, pr, std::move(f));
      r->payCode = h.payCode, r->payTransactionId = h.payTransactionId;
      emit(std::move(r));
    };
    if (auto bad = check_sender(sender, kRolePay, {&h.payCode}, "Payment/PaymentHead/payCode"))
      return answer(bad->first, {bad->second});
    // Borrowed from the message, which keep() below may move from (see apply_order).
    const KeyView key{h.payCode, h.payTransactionId};
    const KeyView okey{h.ebpCode, h.orderNo};
    auto it = payments.find_to_insert(key);
    if (replay_if_same(it, payments.end(), p)) return;
    bool exists = it != payments.end();
    bool locked = exists && order_locked({it->second.doc.head.ebpCode,
                                          it->second.doc.head.orderNo});
    if (Problem pr; !check_app_type(h.appType, exists,
                                    exists && it->second.rec.returnStatus == st::kDraft, locked,
                                    &pr))
      return answer(pr, {app_type_finding(pr, "Payment/PaymentHead/appType", h.appType)});
    if (auto other = payment_by_order.find(okey);
        other != payment_by_order.end() && KeyView(other->second) != key && h.appType != "3") {
      return answer(Problem::kAlreadyLinked,
                    {simple("M2", "Payment/PaymentHead/orderNo",
                            fmt::format("订单{}已有支付单{}", h.orderNo, other->second.second),
                            fmt::format("order {} already has payment {}", h.orderNo,
                                        other->second.second))});
    }
    if (exists) {  // a modification may move the payment to another order: drop the old link
      const KeyView old{it->second.doc.head.ebpCode, it->second.doc.head.orderNo};
      if (auto l = payment_by_order.find(old);
          l != payment_by_order.end() && KeyView(l->second) == key)
        payment_by_order.erase(l);
    }
    if (h.appType == "3") {
      payments.erase(it);
      auto r = base_receipt(MessageType::kCEB411, sender, h.guid);
      r->payCode = h.payCode, r->payTransactionId = h.payTransactionId;
      r->returnStatus = st::kDeclaring;
      r->returnInfo = "删除成功 / deleted";
      return emit(std::move(r));
    }
    bool draft = h.appStatus == "1";
    Stored<ceb::Payment>& s = exists ? it->second : payments.insert_missing(key);
    s.rec.sender = sender;
    s.rec.received_at = now;
    s.rec.returnStatus = draft ? st::kDraft : st::kAccepted;
    payment_by_order[okey] = Key(key);
    auto r = base_receipt(MessageType::kCEB411, sender, h.guid);
    r->payCode = h.payCode, r->payTransactionId = h.payTransactionId;
    r->returnStatus = s.rec.returnStatus;
    r->returnInfo = draft ? "暂存 / saved as draft"
                         : (h.appType == "2" ? "变更成功 / modified" : "入库成功 / accepted");
    keep(&s.doc, p);  // p (and h) may be moved from after this
    s.last = issue(std::move(r));
    if (!draft) reevaluate_for_order({s.doc.head.ebpCode, s.doc.head.orderNo});
  }

  void apply_waybill(const std::string& sender, const ceb::Logistics& w) {
    const auto& h = w.head;
    auto answer = [&](Problem p, std::vector<Finding> f) {
      auto r = error_receipt(MessageType::kCEB511, sender, h.guid, p, std::move(f));
      r->logisticsCode = h.logisticsCode, r->logisticsNo = h.logisticsNo;
      emit(std::move(r));
    };
    if (auto bad = check_sender(sender, kRoleLogistics, {&h.logisticsCode},
                                "Logistics/LogisticsHead/logisticsCode"))
      return answer(bad->first, {bad->second});
    // Borrowed from the message, which keep() below may move from (see apply_order).
    const KeyView key{h.logisticsCode, h.logisticsNo};
    auto it = waybills.find_to_insert(key);
    if (replay_if_same(it, waybills.end(), w)) return;
    bool exists = it != waybills.end();
    if (Problem p; !check_app_type(h.appType, exists,
                                   exists && it->second.rec.returnStatus == st::kDraft,
                                   waybill_locked(key), &p))
      return answer(p, {app_type_finding(p, "Logistics/LogisticsHead/appType", h.appType)});
    if (h.appType == "3") {
      waybills.erase(it);
      auto r = base_receipt(MessageType::kCEB511, sender, h.guid);
      r->logisticsCode = h.logisticsCode, r->logisticsNo = h.logisticsNo;
      r->returnStatus = st::kDeclaring;
      r->returnInfo = "删除成功 / deleted";
      return emit(std::move(r));
    }
    if (h.packNo != 1) {
      return answer(Problem::kInvalidValue,
                    {simple("F", "Logistics/LogisticsHead/packNo",
                            fmt::format("件数应为1，实为{}", h.packNo),
                            fmt::format("packNo must be 1 (one parcel per waybill), got {}",
                                        h.packNo))});
    }
    bool draft = h.appStatus == "1";
    Stored<ceb::Logistics>& s = exists ? it->second : waybills.insert_missing(key);
    s.rec.sender = sender;
    s.rec.received_at = now;
    s.rec.returnStatus = draft ? st::kDraft : st::kAccepted;
    auto r = base_receipt(MessageType::kCEB511, sender, h.guid);
    r->logisticsCode = h.logisticsCode, r->logisticsNo = h.logisticsNo;
    r->returnStatus = s.rec.returnStatus;
    r->returnInfo = draft ? "暂存 / saved as draft"
                         : (h.appType == "2" ? "变更成功 / modified" : "入库成功 / accepted");
    keep(&s.doc, w);  // w (and h) may be moved from after this
    s.last = issue(std::move(r));
    if (!draft) reevaluate_for_waybill({s.doc.head.logisticsCode, s.doc.head.logisticsNo});
  }

  void apply_list(const std::string& sender, const ceb::Inventory& inv) {
    const auto& h = inv.head;
    auto answer = [&](Problem p, std::vector<Finding> f, const ListRecord* existing) {
      auto r = error_receipt(MessageType::kCEB621, sender, h.guid, p, std::move(f));
      r->customsCode = h.customsCode, r->ebpCode = h.ebpCode, r->ebcCode = h.ebcCode;
      r->agentCode = h.agentCode, r->copNo = h.copNo.empty() ? h.guid.substr(0, 20) : h.copNo;
      r->preNo = existing ? existing->preNo : next_pre_no();
      r->invtNo = existing ? existing->invtNo : "";
      emit(std::move(r));
    };
    if (auto bad = check_sender(sender, kRoleAgent | kRoleEbc, {&h.agentCode, &h.ebcCode},
                                "Inventory/InventoryHead/agentCode"))
      return answer(bad->first, {bad->second}, nullptr);
    if (h.copNo.empty()) {
      return answer(Problem::kMissingKey,
                    {simple("F", "Inventory/InventoryHead/copNo", "清单须填写企业内部编号copNo",
                            "copNo is required: it is the key of the list")},
                    nullptr);
    }
    // Borrowed from the message: used only before keep() below.
    const KeyView key{h.agentCode, h.copNo};
    ListRecord* existing = nullptr;
    auto by_cop = list_by_cop.find_to_insert(key);
    if (by_cop != list_by_cop.end()) existing = &lists.at(by_cop->second);
    if (existing && existing->doc == inv) {  // resent unchanged
      list_intake.push_back({h.agentCode, h.copNo, true, false});
      return emit(list_extra[existing->id].last);
    }
    bool open = existing && (existing->state == ListState::kDraft ||
                             existing->state == ListState::kWaiting ||
                             existing->state == ListState::kHeld);
    if (Problem p; !check_app_type(h.appType, existing != nullptr,
                                   existing && existing->state == ListState::kDraft,
                                   existing && !open, &p))
      return answer(p, {app_type_finding(p, "Inventory/InventoryHead/appType", h.appType)},
                    existing);
    // One active list per order and per waybill.
    for (const auto& [index, k, what_zh, what_en] :
         {std::tuple{&list_by_order, order_key_of(inv), "订单", "order"},
          std::tuple{&list_by_waybill, waybill_key_of(inv), "运单", "waybill"}}) {
      auto other = index->find(k);
      if (other != index->end() && (!existing || other->second != existing->id) &&
          h.appType != "3") {
        const ListRecord& o = lists.at(other->second);
        return answer(Problem::kAlreadyLinked,
                      {simple("M6", "Inventory/InventoryHead",
                              fmt::format("{}{}已在清单{}(copNo {})中申报", what_zh, k.second,
                                          o.invtNo, o.doc.head.copNo),
                              fmt::format("{} {} is already declared on list {} (copNo {})",
                                          what_en, k.second, o.invtNo, o.doc.head.copNo))},
                      existing);
      }
    }
    if (h.appType == "3") {
      ListRecord& L = *existing;
      release_reservations(L);
      clear_wait(L);
      unlink(L);
      auto r = list_receipt(L, st::kDeclaring, "删除成功 / deleted");
      list_by_cop.erase(by_cop);
      if (!L.invtNo.empty()) list_by_invt.erase(L.invtNo);
      if (auto latest = latest_list_by_order.find(order_key_of(L.doc));
          latest != latest_list_by_order.end() && latest->second == L.id)
        latest_list_by_order.erase(latest);
      list_extra.erase(L.id);
      lists.erase(L.id);
      return emit(std::move(r));
    }
    ListRecord* L = existing;
    if (L == nullptr) {
      uint64_t id = next_list_id++;  // ids are never reused: no archived list has this one
      L = &lists.emplace_new(id);
      list_extra.emplace_new(id);
      L->id = id;
      L->preNo = next_pre_no();
      list_by_cop.insert_missing(key) = id;
    } else {
      release_reservations(*L);
      clear_wait(*L);
      unlink(*L);
    }
    list_intake.push_back({h.agentCode, h.copNo, false, false});
    keep(&L->doc, inv);  // inv (and h) may be moved from after this: read L->doc
    const auto& head = L->doc.head;
    L->sender = sender;
    L->findings.clear();
    L->tax.reset();
    list_extra[L->id].lane.reset();  // changed goods are drawn again (same invtNo, same seed)
    list_extra[L->id].lane_findings.clear();
    if (head.appStatus == "1") {
      L->state = ListState::kDraft;
      record_list_status(*L, st::kDraft, "暂存 / saved as draft");
      return;
    }
    if (L->invtNo.empty()) {
      // A number never issued before (unique while a customs code issues < 10^9 lists a year).
      L->invtNo = next_invt_no(head.customsCode);
      list_by_invt.emplace_new(L->invtNo) = L->id;
      list_intake.back().first_declaration = true;
    }
    L->declared_at = now;
    L->state = ListState::kWaiting;
    buyer_names[normalize_id_number(head.buyerIdNumber)] = normalize_text(head.buyerName);
    link(*L);
    const Partners partners = partners_of(*L);
    std::string waiting = missing_partners_text(partners);
    record_list_status(
        *L, st::kAccepted,
        fmt::format("{} / {}, invtNo {}{}{}", head.appType == "2" ? "变更成功" : "申报成功",
                    head.appType == "2" ? "modified" : "declared", L->invtNo,
                    waiting.empty() ? "" : "; ", waiting));
    evaluate(*L, partners);
  }

  void apply_waybill_status(const std::string& sender, const ceb::LogisticsStatus& s) {
    auto answer = [&](Problem p, std::vector<Finding> f) {
      auto r = error_receipt(MessageType::kCEB513, sender, s.guid, p, std::move(f));
      r->logisticsCode = s.logisticsCode, r->logisticsNo = s.logisticsNo;
      r->logisticsStatus = s.logisticsStatus;
      emit(std::move(r));
    };
    if (auto bad = check_sender(sender, kRoleLogistics, {&s.logisticsCode},
                                "LogisticsStatus/logisticsCode"))
      return answer(bad->first, {bad->second});
    Key key{s.logisticsCode, s.logisticsNo};
    if (replay_if_same(waybill_statuses, key, s)) return;
    if (waybills.count(key) == 0) {
      return answer(Problem::kNotFound,
                    {simple("F", "LogisticsStatus/logisticsNo",
                            fmt::format("运单{}不存在", s.logisticsNo),
                            fmt::format("waybill {} {} is unknown", s.logisticsCode,
                                        s.logisticsNo))});
    }
    auto& stored = waybill_statuses[key];
    stored.rec.sender = sender;
    stored.rec.received_at = now;
    stored.rec.returnStatus = st::kAccepted;
    auto r = base_receipt(MessageType::kCEB513, sender, s.guid);
    r->logisticsCode = s.logisticsCode, r->logisticsNo = s.logisticsNo;
    r->logisticsStatus = s.logisticsStatus;
    r->returnStatus = st::kAccepted;
    r->returnInfo = "签收信息入库成功 / signed-for status accepted";
    keep(&stored.doc, s);  // s may be moved from after this
    stored.last = issue(std::move(r));
    if (auto l = list_by_waybill.find(key); l != list_by_waybill.end()) {
      ListRecord& L = lists.at(l->second);
      if (L.state == ListState::kReleased) {
        L.state = ListState::kClosed;
        record_list_status(L, st::kClosed, "结关(已签收) / closed: parcel signed for");
      }
    }
  }

  void apply_delivery(const std::string& sender, const ceb::Delivery& dlv) {
    const auto& h = dlv.head;
    auto answer = [&](Problem p, std::vector<Finding> f) {
      auto r = error_receipt(MessageType::kCEB711, sender, h.guid, p, std::move(f));
      r->customsCode = h.customsCode, r->operatorCode = h.operatorCode, r->copNo = h.copNo;
      emit(std::move(r));
    };
    if (auto bad = check_sender(sender, kRoleOperator, {&h.operatorCode},
                                "Delivery/DeliveryHead/operatorCode"))
      return answer(bad->first, {bad->second});
    Key key{h.operatorCode, h.copNo.empty() ? h.guid : h.copNo};
    if (replay_if_same(deliveries, key, dlv)) return;
    if (deliveries.count(key) != 0) {
      return answer(Problem::kDuplicate,
                    {simple("A", "Delivery/DeliveryHead/copNo",
                            fmt::format("入库单{}已申报且内容不同", key.second),
                            fmt::format("delivery {} was already declared with other content",
                                        key.second))});
    }
    auto& stored = deliveries[key];
    keep(&stored.doc, dlv);  // dlv (and h) may be moved from after this: read stored.doc
    const auto& head = stored.doc.head;
    stored.rec.sender = sender;
    stored.rec.received_at = now;
    stored.rec.returnStatus = st::kAccepted;
    auto r = base_receipt(MessageType::kCEB711, sender, head.guid);
    r->customsCode = head.customsCode, r->operatorCode = head.operatorCode, r->copNo = head.copNo;
    r->rkdNo = fmt::format("R{}{:09d}", format_date8(beijing_date(now)), ++rkd_serial);
    r->returnStatus = st::kAccepted;
    r->returnInfo = fmt::format("入库成功，运抵{}票 / accepted, {} parcels arrived",
                               stored.doc.lists.size(), stored.doc.lists.size());
    stored.last = issue(std::move(r));
    for (const auto& line : stored.doc.lists) {
      Key wkey{head.logisticsCode, line.logisticsNo};
      arrived[wkey];
      if (auto l = list_by_waybill.find(wkey); l != list_by_waybill.end()) {
        ListRecord& L = lists.at(l->second);
        if (L.state == ListState::kHeld && list_extra[L.id].hold == HoldKind::kArrival) evaluate(L);
      }
    }
  }

  // appType rules (DOMAIN.md §3). `exists`: the key is stored; `draft`: it is a draft;
  // `locked`: a decision was taken on it.
  static bool check_app_type(const std::string& app_type, bool exists, bool draft, bool locked,
                             Problem* p) {
    if (app_type == "1") {
      if (exists && !draft) return *p = Problem::kDuplicate, false;
      return true;
    }
    if (!exists) return *p = Problem::kNotFound, false;
    if (locked) return *p = Problem::kNotModifiable, false;
    return true;
  }
  static Finding app_type_finding(Problem p, std::string field, const std::string& app_type) {
    switch (p) {
      case Problem::kDuplicate:
        return simple("A", std::move(field),
                      "重复申报：相同编号的单证已存在且内容不同(变更请使用appType=2)",
                      "duplicate declaration: the key exists with different content (use "
                      "appType 2 to modify)");
      case Problem::kNotFound:
        return simple("A", std::move(field),
                      fmt::format("appType={}：要变更或删除的单证不存在", app_type),
                      fmt::format("appType {}: nothing to modify or delete under this key",
                                  app_type));
      default:
        return simple("A", std::move(field),
                      fmt::format("appType={}：单证已审结或在审核中，不能变更或删除", app_type),
                      fmt::format("appType {}: a decision was taken, the document can no longer "
                                  "be modified or deleted",
                                  app_type));
    }
  }

  void apply_message(const SubmitMessage& m) {
    const ceb::Message& msg = m.message;
    switch (msg.type) {
      case MessageType::kCEB311:
        for (const auto& r : msg.orders) apply_order(m.sender, r);
        break;
      case MessageType::kCEB411:
        for (const auto& r : msg.payments) apply_payment(m.sender, r);
        break;
      case MessageType::kCEB511:
        for (const auto& r : msg.waybills) apply_waybill(m.sender, r);
        break;
      case MessageType::kCEB513:
        for (const auto& r : msg.waybill_statuses) apply_waybill_status(m.sender, r);
        break;
      case MessageType::kCEB621:
        for (const auto& r : msg.inventories) apply_list(m.sender, r);
        break;
      case MessageType::kCEB711:
        for (const auto& r : msg.deliveries) apply_delivery(m.sender, r);
        break;
      case MessageType::kCEB623:
        for (const auto& r : msg.cancels) apply_cancel(m.sender, r);
        break;
      case MessageType::kCEB625:
        for (const auto& r : msg.refunds) apply_refund(m.sender, r);
        break;
    }
  }

  // The list an officer acts on, if an officer decision is pending on it and this officer may
  // take it (registered, on duty, at its site, not claimed by another: Supervisor::check_decider).
  Result<ListRecord*> officer_list(const std::string& officer_id, const std::string& invtNo) {
    if (officer_id.empty() || officer_id.size() > kMaxIdBytes)
      return InvalidArgument(fmt::format("officer_id must be 1..{} characters", kMaxIdBytes));
    auto it = list_by_invt.find(invtNo);
    if (it == list_by_invt.end()) return NotFound(fmt::format("list {} is unknown", invtNo));
    ListRecord& L = lists.at(it->second);
    bool under_officer = L.state == ListState::kManualReview ||
                         L.state == ListState::kInspection || L.state == ListState::kDetained;
    if (!under_officer) {
      return FailedPrecondition(fmt::format("list {} is {}: no officer decision is pending",
                                            invtNo, list_state_name(L.state)));
    }
    TRY(sup.check_decider(officer_id, invtNo));
    return &L;
  }

  Status apply_officer(const OfficerDecision& d) {
    if (d.reason.size() > kMaxReasonBytes)
      return InvalidArgument(fmt::format("reason is over {} bytes", kMaxReasonBytes));
    TRY_ASSIGN(ListRecord * Lp, officer_list(d.officer_id, d.invtNo));
    ListRecord& L = *Lp;
    if (d.action != OfficerAction::kRelease && d.reason.empty())
      return InvalidArgument("only a release may be decided without a reason");
    return officer_action(L, d.officer_id, d.action,
                          fmt::format("关员 officer {}: {}", d.officer_id, d.reason));
  }

  Status officer_action(ListRecord& L, const std::string& officer_id, OfficerAction action,
                        const std::string& who) {
    switch (action) {
      case OfficerAction::kRelease:
        release(L, who);
        return Status::Ok();
      case OfficerAction::kReject:
        sup.dequeue(L.invtNo);
        credit(L, CreditEventKind::kRejection);
        reject(L, {make_finding("O", "Inventory", who, who)});
        return Status::Ok();
      case OfficerAction::kInspect: {
        if (L.state != ListState::kManualReview)
          return FailedPrecondition("only a list under manual review can be sent to inspection");
        L.state = ListState::kInspection;
        sup.enqueue(L.invtNo, L.doc.head.customsCode, Lane::kRed, now, {});
        // The officer who sends a list to inspection keeps it unless someone else claims it.
        (void)sup.claim(ClaimList{officer_id, L.invtNo, false});
        record_list_status(L, st::kInspection, "转查验 / sent to inspection; " + who);
        return Status::Ok();
      }
      case OfficerAction::kRequestModification: {
        if (L.state == ListState::kDetained)
          return FailedPrecondition("a detained list cannot be sent back for modification");
        sup.dequeue(L.invtNo);
        release_reservations(L);
        list_extra[L.id].lane.reset();
        list_extra[L.id].lane_findings.clear();
        L.state = ListState::kWaiting;
        set_wait(L, ListState::kWaiting, HoldKind::kPartners,
                 "待修改(appType 2) / modification requested (appType 2)");
        record_list_status(L, st::kAccepted, "退回修改 / modification requested; " + who);
        return Status::Ok();
      }
      default: {
        int code = action == OfficerAction::kDetainClearance       ? st::kDetainedClearance
                   : action == OfficerAction::kDetainAntiSmuggling ? st::kDetainedAntiSmuggling
                   : action == OfficerAction::kDetainLegal         ? st::kDetainedLegal
                                                                   : st::kDetainedOther;
        sup.dequeue(L.invtNo);
        L.state = ListState::kDetained;
        record_list_status(L, code, "扣留 / detained; " + who);
        return Status::Ok();
      }
    }
  }

  Status apply_officer(const InspectionResult& r) {
    if (r.reason.size() > kMaxReasonBytes || r.category.size() > kMaxIdBytes)
      return InvalidArgument("reason or category too long");
    TRY_ASSIGN(ListRecord * Lp, officer_list(r.officer_id, r.invtNo));
    ListRecord& L = *Lp;
    if (L.state != ListState::kInspection)
      return FailedPrecondition(fmt::format("list {} is {}, not under inspection", r.invtNo,
                                            list_state_name(L.state)));
    if (!r.finding) {
      release(L, fmt::format("查验无异常 inspection: no finding, officer {}{}{}", r.officer_id,
                             r.reason.empty() ? "" : ": ", r.reason));
      return Status::Ok();
    }
    if (r.category.empty() || r.reason.empty())
      return InvalidArgument("a finding needs a category and a reason");
    if (r.action == OfficerAction::kRelease || r.action == OfficerAction::kInspect)
      return InvalidArgument("a finding is followed by reject, detain or modify");
    credit(L, CreditEventKind::kFinding);
    std::string who = fmt::format("查验发现 inspection finding [{}] by officer {}: {}",
                                  r.category, r.officer_id, r.reason);
    return officer_action(L, r.officer_id, r.action, who);
  }

  Status apply_officer(const ClaimList& c) {
    auto it = list_by_invt.find(c.invtNo);
    if (it == list_by_invt.end()) return NotFound(fmt::format("list {} is unknown", c.invtNo));
    return sup.claim(c);
  }
  Status apply_officer(const SetControlOrder& c) { return sup.set_control_order(c, now); }
  Status apply_officer(const ConfirmGrade& c) {
    auto e = enterprises.find(c.code);
    if (e == enterprises.end())
      return NotFound(fmt::format("enterprise {} is unknown", c.code));
    TRY(sup.confirm_grade(c, now, e->second.grade));
    apply_due_grades();
    return Status::Ok();
  }
  Status apply_admin(const RegisterOfficer& o) { return sup.register_officer(o); }
  Status apply_admin(const SetDrawSeed& d) { return sup.set_seed(d, now); }

  // Confirmed grade changes take effect at their time, before the command that reaches it.
  void apply_due_grades() {
    for (const auto& g : sup.take_due_grade_changes(now)) {
      auto e = enterprises.find(g.code);
      if (e != enterprises.end()) e->second.grade = g.grade;
    }
  }

  Status apply_admin(const RegisterEnterprise& r) {
    const Enterprise& e = r.enterprise;
    if (e.code.empty() || e.code.size() > 18)
      return InvalidArgument("enterprise code must be 1..18 characters");
    if (e.roles == 0) return InvalidArgument("an enterprise needs at least one role");
    enterprises[e.code] = e;
    return Status::Ok();
  }
  Status apply_admin(const StockIn& s) {
    auto e = enterprises.find(s.operatorCode);
    if (e == enterprises.end() || (e->second.roles & kRoleOperator) == 0)
      return PermissionDenied(fmt::format("{} is not a registered warehouse operator",
                                          s.operatorCode));
    if (s.emsNo.empty() || s.itemRecordNo.empty())
      return InvalidArgument("stock-in needs emsNo and itemRecordNo");
    if (s.qty.units <= 0) return InvalidArgument("stock-in quantity must be positive");
    stock.stock_in({s.emsNo, s.itemRecordNo}, s.qty.units, s.gcode, s.name, s.unit);
    if (s.risk) item_risk[ledger::StockKey{s.emsNo, s.itemRecordNo}] = *s.risk;
    reevaluate_held(HoldKind::kStock);
    return Status::Ok();
  }
  Status apply_admin(const LoadReference& r) {
    if (r.data == nullptr) return InvalidArgument("no reference data");
    opt.reference = r.data;
    return Status::Ok();
  }
  Status apply_admin(const GuaranteeDeposit& g) {
    auto e = enterprises.find(g.assureCode);
    if (e == enterprises.end() || (e->second.roles & kRoleGuarantor) == 0)
      return PermissionDenied(fmt::format("{} is not a registered guarantor", g.assureCode));
    if (g.amount_fen <= 0) return InvalidArgument("deposit must be positive");
    guarantees.deposit(g.assureCode, g.amount_fen);
    tax_book.deposit(g.assureCode, g.amount_fen, now);
    reevaluate_held(HoldKind::kGuarantee);
    return Status::Ok();
  }

  // O2O pickup (DOMAIN.md §4.3): hall.cc decides; this applies the outcome. The declarer gets
  // the list's 899; the hall gets it on its own document, the pickup waybill.
  Status apply_pickup(const Engine& self, const Pickup& p) {
    auto hall = enterprises.find(p.hallCode);
    if (hall == enterprises.end() || (hall->second.roles & kRoleHall) == 0)
      return PermissionDenied(fmt::format("{} is not a registered pickup hall", p.hallCode));
    TRY_ASSIGN(PickupTarget t, check_pickup(self, p));
    ListRecord& L = lists.at(t.list->id);
    L.state = ListState::kClosed;
    std::string info = fmt::format("结关(已提货, 提货点{} 经办人{}) / closed: picked up at hall {} "
                                   "(clerk {})",
                                   p.hallCode, p.clerk, p.hallCode, p.clerk);
    record_list_status(L, st::kClosed, info);
    auto w = waybills.find(waybill_key_of(L.doc));
    auto r = base_receipt(MessageType::kCEB511, p.hallCode,
                             w != waybills.end() ? w->second.doc.head.guid : L.doc.head.guid);
    r->logisticsCode = L.doc.head.logisticsCode;
    r->logisticsNo = L.doc.head.logisticsNo;
    r->invtNo = L.invtNo;
    r->returnStatus = st::kClosed;
    r->returnInfo = info;
    emit(std::move(r));
    return Status::Ok();
  }
  // ---- Cancel (CEB623), return (CEB625), tax bills and payments ----------------------------
  // The rules are in returns.cc (ReturnBook) and tax_bills.cc (TaxBook); here the engine does
  // R1, lends its ledgers, and re-evaluates lists held by R7 when a guarantee comes back.
  TaxBook tax_book;
  ReturnBook returns;

  ReturnsCtx returns_ctx() {
    return ReturnsCtx{now,
                      ref(),
                      stock,
                      quota,
                      guarantees,
                      caps_used,
                      tax_book,
                      [this](std::string_view invtNo) -> ListRecord* {
                        auto it = list_by_invt.find(std::string(invtNo));
                        return it == list_by_invt.end() ? nullptr : &lists.at(it->second);
                      },
                      [this] { return next_pre_no(); },
                      out};
  }
  void open_tax_bill(const ListRecord& L) {
    CivilDate release_date = beijing_date(now);
    tax_book.open(L, now, ref().policy_at(release_date));
    // The same declaration date and quota key as evaluate() used for R3 and R5.
    auto decl = parse_date8(L.doc.head.declTime);
    CivilDate decl_date = decl ? *decl : release_date;
    returns.on_release(L,
                       ReleaseFacts{decl_date,
                                    {normalize_id_number(L.doc.head.buyerIdNumber), decl_date.year},
                                    L.tax->dutiable_fen,
                                    list_extra[L.id].caps});
  }
  void apply_cancel(const std::string& sender, const ceb::InvtCancel& c) {
    auto r1 = check_sender(sender, kRoleAgent | kRoleEbc, {&c.agentCode, &c.ebcCode},
                           "InvtCancel/agentCode");
    ReturnsCtx ctx = returns_ctx();
    if (returns.apply_cancel(ctx, sender, c, r1)) reevaluate_held(HoldKind::kGuarantee);
  }
  void apply_refund(const std::string& sender, const ceb::InvtRefund& r) {
    auto r1 = check_sender(sender, kRoleAgent | kRoleEbc, {&r.head.agentCode, &r.head.ebcCode},
                           "InvtRefund/InvtRefundHead/agentCode");
    ReturnsCtx ctx = returns_ctx();
    returns.apply_return(ctx, sender, r, r1);
  }
  Status apply_admin(const ReturnArrival& a) {
    auto e = enterprises.find(a.operatorCode);
    if (e == enterprises.end() || (e->second.roles & kRoleOperator) == 0)
      return PermissionDenied(
          fmt::format("{} is not a registered warehouse operator", a.operatorCode));
    ReturnsCtx ctx = returns_ctx();
    Status s = returns.arrival(ctx, a);
    if (s.ok()) reevaluate_held(HoldKind::kGuarantee);
    return s;
  }
  Status apply_admin(const TaxPayment& p) {
    auto e = enterprises.find(p.assureCode);
    if (e == enterprises.end() || (e->second.roles & kRoleGuarantor) == 0)
      return PermissionDenied(fmt::format("{} is not a registered guarantor", p.assureCode));
    Status s = tax_book.pay(p, now, guarantees);
    if (s.ok()) reevaluate_held(HoldKind::kGuarantee);
    return s;
  }
  // Time-driven: returns whose goods did not come back lapse, bills become payable or overdue.
  void settle_due() {
    if (returns.lapse_is_due(now)) {
      ReturnsCtx ctx = returns_ctx();
      returns.lapse_due(ctx);
    }
    tax_book.advance(now);
  }
};

// ---- Engine ------------------------------------------------------------------------------

Engine::Engine(EngineOptions options) : s_(std::make_unique<State>()) {
  CBEC_ASSERT(options.reference != nullptr);
  s_->opt = std::move(options);
  CBEC_ASSERT(s_->opt.archive_after_ms >= 0);
  s_->wire();
}
Engine::~Engine() = default;

Status Engine::apply(uint64_t seq, TimeMs time, const Command::Body& command,
                     ceb::Receipts* out) {
  CBEC_ASSERT(seq > s_->last_seq);
  CBEC_ASSERT(time >= s_->now);
  s_->last_seq = seq;
  s_->now = time;
  s_->out = out;
  s_->list_intake.clear();
  s_->apply_due_grades();
  s_->expire_due();
  s_->settle_due();
  // Every command archives what became idle since the previous one, so that eviction is a
  // steady trickle instead of one Tick's burst (5 s of lists at once stalled every receipt
  // behind it for up to a second in steady state).
  s_->archive_idle();
  Status result = std::visit(
      [&](const auto& body) -> Status {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, SubmitMessage>) {
          s_->apply_message(body);
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, OfficerDecision> ||
                             std::is_same_v<T, InspectionResult> ||
                             std::is_same_v<T, ClaimList> ||
                             std::is_same_v<T, SetControlOrder> ||
                             std::is_same_v<T, ConfirmGrade>) {
          return s_->apply_officer(body);
        } else if constexpr (std::is_same_v<T, Tick>) {
          return Status::Ok();  // time moved on: the timers and archive_idle above ran
        } else if constexpr (std::is_same_v<T, Pickup>) {
          return s_->apply_pickup(*this, body);
        } else {
          return s_->apply_admin(body);
        }
      },
      command);
  s_->out = nullptr;
  if (s_->opt.archive != nullptr) s_->opt.archive->flush();
  return result;
}

const Enterprise* Engine::enterprise(std::string_view code) const {
  auto it = s_->enterprises.find(code);
  return it == s_->enterprises.end() ? nullptr : &it->second;
}
Found<ListRecord> Engine::list_by_invt_no(std::string_view invtNo) const {
  auto id = s_->list_by_invt.peek(std::string(invtNo));
  return id ? s_->lists.peek(*id) : Found<ListRecord>();
}
Found<ListRecord> Engine::list_by_cop_no(std::string_view agentCode,
                                         std::string_view copNo) const {
  auto id = s_->list_by_cop.peek(KeyView{agentCode, copNo});
  return id ? s_->lists.peek(*id) : Found<ListRecord>();
}
Found<ListRecord> Engine::list_by_order(std::string_view ebpCode,
                                        std::string_view orderNo) const {
  // The active list, else the latest list that named this order (e.g. one rejected).
  const KeyView key{ebpCode, orderNo};
  auto id = s_->list_by_order.peek(key);
  if (!id) id = s_->latest_list_by_order.peek(key);
  return id ? s_->lists.peek(*id) : Found<ListRecord>();
}
Found<ceb::Order> Engine::order(std::string_view ebpCode, std::string_view orderNo) const {
  return s_->orders.peek(KeyView{ebpCode, orderNo}).part(&Stored<ceb::Order>::doc);
}
TimeMs Engine::first_document_ms(const ListRecord& L) const {
  const auto& h = L.doc.head;
  TimeMs first = L.history.empty() ? L.declared_at : L.history.front().time;
  if (auto o = s_->orders.peek(KeyView{h.ebpCode, h.orderNo})) {
    first = std::min(first, o->rec.received_at);
    const auto& oh = o->doc.head;
    if (!oh.payCode.empty())
      if (auto p = s_->payments.peek(KeyView{oh.payCode, oh.payTransactionId}))
        first = std::min(first, p->rec.received_at);
  }
  if (auto w = s_->waybills.peek(KeyView{h.logisticsCode, h.logisticsNo}))
    first = std::min(first, w->rec.received_at);
  return first;
}
Found<DocRecord> Engine::order_record(std::string_view ebpCode, std::string_view orderNo) const {
  return s_->orders.peek(KeyView{ebpCode, orderNo}).part(&Stored<ceb::Order>::rec);
}
Found<ceb::Payment> Engine::payment(std::string_view payCode,
                                    std::string_view payTransactionId) const {
  return s_->payments.peek(KeyView{payCode, payTransactionId}).part(&Stored<ceb::Payment>::doc);
}
Found<ceb::Logistics> Engine::waybill(std::string_view logisticsCode,
                                      std::string_view logisticsNo) const {
  return s_->waybills.peek(KeyView{logisticsCode, logisticsNo}).part(&Stored<ceb::Logistics>::doc);
}
const Supervisor& Engine::supervision() const { return s_->sup; }
void Engine::take_draws(std::vector<DrawRecord>* out) { s_->sup.take_draws(out); }
const std::vector<Engine::ListIntake>& Engine::list_intake() const { return s_->list_intake; }

Status Engine::apply(uint64_t seq, TimeMs time, Command::Body&& body,
                     ceb::Receipts* out) {
  s_->take_docs = true;
  Status st = apply(seq, time, std::as_const(body), out);
  s_->take_docs = false;
  return st;
}
const ledger::StockLedger& Engine::stock() const { return s_->stock; }
const ledger::QuotaLedger& Engine::quota() const { return s_->quota; }
const ledger::GuaranteeLedger& Engine::guarantees() const { return s_->guarantees; }
void Engine::for_each_tax_bill(const std::function<void(const TaxBill&)>& f) const {
  s_->tax_book.for_each_bill(f);
}
void Engine::for_each_list(const std::function<void(const ListRecord&)>& f) const {
  s_->lists.for_each_sorted([&](uint64_t, const ListRecord& L) { f(L); });
}
Engine::HotCounts Engine::hot_counts() const {
  return {s_->lists.hot_size(), s_->orders.hot_size(), s_->payments.hot_size(),
          s_->waybills.hot_size(), s_->quota.hot().size()};
}
uint64_t Engine::last_seq() const { return s_->last_seq; }
TimeMs Engine::now() const { return s_->now; }
const ref::ReferenceData& Engine::reference() const { return s_->ref(); }
std::string Engine::buyer_name(std::string_view id) const {
  auto name = s_->buyer_names.peek(normalize_id_number(id));
  return name ? *name : "";
}

const std::map<std::string, Enterprise, std::less<>>& Engine::enterprises() const {
  return s_->enterprises;
}
Found<DocRecord> Engine::payment_record(std::string_view payCode,
                                        std::string_view payTransactionId) const {
  return s_->payments.peek(KeyView{payCode, payTransactionId}).part(&Stored<ceb::Payment>::rec);
}
Found<DocRecord> Engine::waybill_record(std::string_view logisticsCode,
                                        std::string_view logisticsNo) const {
  return s_->waybills.peek(KeyView{logisticsCode, logisticsNo}).part(&Stored<ceb::Logistics>::rec);
}

std::string Engine::dump_state() const {
  const State& s = *s_;
  std::ostringstream o;
  o << "seq " << s.last_seq << " now " << s.now << "\n";
  for (const auto& [code, e] : s.enterprises)
    o << "enterprise " << code << " " << format_roles(e.roles) << " "
      << ref::credit_grade_name(e.grade) << "\n";
  s.orders.for_each_sorted([&](const Key& k, const Stored<ceb::Order>& v) {
    o << "order " << k.first << "/" << k.second << " " << ceb::record_digest(v.doc) << " "
      << v.rec.returnStatus << "\n";
  });
  s.payments.for_each_sorted([&](const Key& k, const Stored<ceb::Payment>& v) {
    o << "payment " << k.first << "/" << k.second << " " << ceb::record_digest(v.doc) << " "
      << v.rec.returnStatus << "\n";
  });
  s.waybills.for_each_sorted([&](const Key& k, const Stored<ceb::Logistics>& v) {
    o << "waybill " << k.first << "/" << k.second << " " << ceb::record_digest(v.doc) << " "
      << v.rec.returnStatus << "\n";
  });
  s.arrived.for_each_sorted([&](const Key& k, archive::Present) {
    o << "arrived " << k.first << "/" << k.second << "\n";
  });
  s.lists.for_each_sorted([&](uint64_t id, const ListRecord& L) {
    o << "list " << id << " " << L.doc.head.agentCode << "/" << L.doc.head.copNo << " " << L.preNo
      << " " << L.invtNo << " " << list_state_name(L.state) << " " << L.returnStatus << " "
      << ceb::record_digest(L.doc) << " exp " << L.expires_at << " [" << L.hold_reason << "]";
    if (L.tax) o << " tax " << L.tax->total_fen();
    for (const auto& f : L.findings) o << " " << f.rule << ":" << f.field;
    o << " history";
    for (const auto& h : L.history) o << " " << h.time << ":" << h.returnStatus;
    o << "\n";
  });
  // Indexes, list extras, timers and the smaller tables: two engines that agree on these agree
  // on every later answer too (the replay and snapshot comparisons rely on it).
  s.list_extra.for_each_sorted([&](uint64_t id, const ListExtra& x) {
    o << "extra " << id << " hold " << static_cast<int>(x.hold) << " lane "
      << (x.lane ? static_cast<int>(*x.lane) : -1) << " caps " << x.caps.size() << " last "
      << (x.last ? x.last->returnStatus : 0) << "\n";
  });
  auto dump_index = [&](std::string_view name, const State::Table<Key, uint64_t>& index) {
    index.for_each_sorted([&](const Key& k, uint64_t id) {
      o << name << " " << k.first << "/" << k.second << " " << id << "\n";
    });
  };
  dump_index("by_cop", s.list_by_cop);
  dump_index("by_order", s.list_by_order);
  dump_index("latest_by_order", s.latest_list_by_order);
  dump_index("by_waybill", s.list_by_waybill);
  s.list_by_invt.for_each_sorted(
      [&](const std::string& k, uint64_t id) { o << "by_invt " << k << " " << id << "\n"; });
  s.payment_by_order.for_each_sorted([&](const Key& k, const Key& p) {
    o << "payment_of " << k.first << "/" << k.second << " " << p.first << "/" << p.second << "\n";
  });
  s.waybill_statuses.for_each_sorted([&](const Key& k, const Stored<ceb::LogisticsStatus>& v) {
    o << "waybill_status " << k.first << "/" << k.second << " " << ceb::record_digest(v.doc) << " "
      << v.rec.returnStatus << "\n";
  });
  s.deliveries.for_each_sorted([&](const Key& k, const Stored<ceb::Delivery>& v) {
    o << "delivery " << k.first << "/" << k.second << " " << ceb::record_digest(v.doc) << " "
      << v.rec.returnStatus << "\n";
  });
  s.buyer_names.for_each_sorted([&](const std::string& id, const std::string& name) {
    o << "buyer " << id << " " << name << "\n";
  });
  for (const auto& [t, id] : s.expiries) o << "expiry " << t << " " << id << "\n";
  for (uint64_t id : s.held) o << "held " << id << "\n";
  for (const auto& [key, item] : s.stock.items())
    o << "stock " << key.emsNo << "/" << key.itemRecordNo << " " << item.on_hand_units << " "
      << item.reserved_units << "\n";
  s.quota.for_each([&](const ledger::QuotaKey& key, const ledger::QuotaTotals& t) {
    o << "quota " << key.buyerIdNumber << "/" << key.year << " " << t.committed_fen << " "
      << t.reserved_fen << "\n";
  });
  for (const auto& [code, a] : s.guarantees.all())
    o << "guarantee " << code << " " << a.deposited_fen << " " << a.open_bills_fen << " "
      << a.reserved_fen << "\n";
  s.tax_book.dump(o);
  s.caps_used.for_each_sorted([&](const CapKey& k, int64_t v) {
    o << "cap " << std::get<0>(k) << "/" << std::get<1>(k) << "/" << std::get<2>(k) << " " << v
      << "\n";
  });
  o << "serials " << s.next_list_id << " " << s.pre_serial << " " << s.invt_serial << " "
    << s.rkd_serial << "\n";
  for (const auto& [k, r] : s.item_risk)
    o << "item_risk " << k.emsNo << "/" << k.itemRecordNo << " " << ref::risk_class_name(r)
      << "\n";
  o << s.sup.dump();
  o << s.risk_monitor.dump();
  s.returns.dump(o);
  return o.str();
}

Found<TaxBill> Engine::tax_bill(std::string_view invtNo) const {
  return std::as_const(s_->tax_book).find(invtNo);  // never restores: readers share the lock
}
Found<ReturnRecord> Engine::cancel_record(std::string_view agentCode,
                                          std::string_view copNo) const {
  return s_->returns.cancel(agentCode, copNo);
}
Found<ReturnRecord> Engine::return_record(std::string_view agentCode,
                                          std::string_view copNo) const {
  return s_->returns.refund(agentCode, copNo);
}
const TaxCreditRecord* Engine::tax_credit_record(std::string_view code) const {
  return s_->tax_book.credit(code);
}
void Engine::check_tax_invariants() const { s_->tax_book.check_invariants(s_->guarantees); }
Result<TaxStatement> Engine::tax_statement(std::string_view assureCode, CivilDate from,
                                           CivilDate to) const {
  return s_->tax_book.statement(assureCode, from, to, s_->guarantees);
}

std::string_view list_state_name(ListState s) {
  switch (s) {
    case ListState::kDraft: return "draft";
    case ListState::kWaiting: return "waiting";
    case ListState::kHeld: return "held";
    case ListState::kRejected: return "rejected";
    case ListState::kManualReview: return "manual_review";
    case ListState::kInspection: return "inspection";
    case ListState::kDetained: return "detained";
    case ListState::kReleased: return "released";
    case ListState::kClosed: return "closed";
    case ListState::kCancelled: return "cancelled";
  }
  return "?";
}

std::optional<OfficerAction> parse_officer_action(std::string_view name) {
  static constexpr std::pair<std::string_view, OfficerAction> kActions[] = {
      {"release", OfficerAction::kRelease},
      {"reject", OfficerAction::kReject},
      {"inspect", OfficerAction::kInspect},
      {"detain_501", OfficerAction::kDetainClearance},
      {"detain_502", OfficerAction::kDetainAntiSmuggling},
      {"detain_503", OfficerAction::kDetainLegal},
      {"detain_599", OfficerAction::kDetainOther},
      {"modify", OfficerAction::kRequestModification}};
  for (const auto& [n, a] : kActions)
    if (n == name) return a;
  return std::nullopt;
}

namespace {
constexpr std::pair<std::string_view, ControlTarget> kControlTargets[] = {
    {"hs_code", ControlTarget::kHsCode},   {"enterprise", ControlTarget::kEnterprise},
    {"buyer_id", ControlTarget::kBuyerId}, {"address", ControlTarget::kAddress},
    {"phone", ControlTarget::kPhone}};
}  // namespace

std::optional<ControlTarget> parse_control_target(std::string_view name) {
  for (const auto& [n, t] : kControlTargets)
    if (n == name) return t;
  return std::nullopt;
}
std::string_view control_target_name(ControlTarget t) {
  for (const auto& [n, x] : kControlTargets)
    if (x == t) return n;
  return "?";
}
std::string_view lane_name(Lane l) {
  switch (l) {
    case Lane::kGreen: return "green";
    case Lane::kYellow: return "yellow";
    case Lane::kRed: return "red";
  }
  return "?";
}

Result<Roles> parse_roles(std::string_view text) {
  static constexpr std::pair<std::string_view, Role> kNames[] = {
      {"ebp", kRoleEbp},     {"ebc", kRoleEbc},           {"agent", kRoleAgent},
      {"pay", kRolePay},     {"logistics", kRoleLogistics}, {"operator", kRoleOperator},
      {"guarantor", kRoleGuarantor}, {"hall", kRoleHall}};
  Roles roles = 0;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view name = text.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    bool found = false;
    for (const auto& [n, r] : kNames)
      if (n == name) roles |= r, found = true;
    if (!found) return InvalidArgument(fmt::format("unknown role '{}'", name));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return roles;
}

std::string format_roles(Roles r) {
  static constexpr std::pair<std::string_view, Role> kNames[] = {
      {"ebp", kRoleEbp},     {"ebc", kRoleEbc},           {"agent", kRoleAgent},
      {"pay", kRolePay},     {"logistics", kRoleLogistics}, {"operator", kRoleOperator},
      {"guarantor", kRoleGuarantor}, {"hall", kRoleHall}};
  std::string out;
  for (const auto& [n, role] : kNames) {
    if (r & role) {
      if (!out.empty()) out += ",";
      out += n;
    }
  }
  return out;
}

// ---- Snapshot (issue #3) ---------------------------------------------------------------------
// The tables go to the archive (evict_all); everything else is written field by field here and
// by each part's save_state. The format is versioned as a whole (kSnapshotVersion) and by part.
namespace {
constexpr uint8_t kSnapshotVersion = 2;  // 2: documents and lists keep no digest

template <class T, class Put>
void put_set(ByteWriter& w, const std::set<T>& set, Put&& put) {
  w.u64(set.size());
  for (const T& x : set) put(x);
}
bool valid_grade(uint8_t g) { return g <= static_cast<uint8_t>(ref::CreditGrade::kSeriouslyDishonest); }
bool valid_risk(uint8_t r) { return r <= static_cast<uint8_t>(ref::RiskClass::kHigh); }
}  // namespace

void Engine::State::evict_all() {
  CBEC_ASSERT(opt.archive != nullptr);
  orders.evict_all();
  payments.evict_all();
  payment_by_order.evict_all();
  waybills.evict_all();
  waybill_statuses.evict_all();
  deliveries.evict_all();
  arrived.evict_all();
  lists.evict_all();
  list_extra.evict_all();
  list_by_cop.evict_all();
  list_by_invt.evict_all();
  list_by_order.evict_all();
  latest_list_by_order.evict_all();
  list_by_waybill.evict_all();
  buyer_names.evict_all();
  caps_used.evict_all();
  quota.evict_all();
  tax_book.evict_all();
  returns.evict_all();
}

void Engine::State::save(ByteWriter& w) const {
  w.u8(kSnapshotVersion);
  w.u64(last_seq);
  w.i64(now);
  w.u64(enterprises.size());
  for (const auto& [code, e] : enterprises) {
    w.str(e.code);
    w.str(e.name);
    w.u64(e.roles);
    w.u8(static_cast<uint8_t>(e.grade));
  }
  put_set(w, expiries, [&](const std::pair<TimeMs, uint64_t>& x) { w.i64(x.first), w.u64(x.second); });
  put_set(w, held, [&](uint64_t id) { w.u64(id); });
  stock.save_state(w);
  quota.save_state(w);
  guarantees.save_state(w);
  sup.save_state(w);
  w.u64(item_risk.size());
  for (const auto& [k, r] : item_risk) {
    w.str(k.emsNo);
    w.str(k.itemRecordNo);
    w.u8(static_cast<uint8_t>(r));
  }
  risk_monitor.save_state(w);
  w.u64(next_list_id);
  w.u64(pre_serial);
  w.u64(invt_serial);
  w.u64(rkd_serial);
  tax_book.save_state(w);
  returns.save_state(w);
}

bool Engine::State::load(ByteReader& in) {
  if (in.u8() != kSnapshotVersion) return false;
  last_seq = in.u64();
  now = in.i64();
  for (uint64_t n = in.count(); n > 0 && in.ok(); --n) {
    Enterprise e;
    in.str(&e.code);
    in.str(&e.name);
    uint64_t roles = in.u64();
    uint8_t grade = in.u8();
    if (roles > UINT32_MAX || !valid_grade(grade)) return false;
    e.roles = static_cast<Roles>(roles);
    e.grade = static_cast<ref::CreditGrade>(grade);
    std::string code = e.code;
    if (!append_in_order(&enterprises, std::move(code), std::move(e))) return false;
  }
  for (uint64_t n = in.count(); n > 0 && in.ok(); --n) {
    TimeMs t = in.i64();
    if (!append_in_order(&expiries, std::pair<TimeMs, uint64_t>(t, in.u64()))) return false;
  }
  for (uint64_t n = in.count(); n > 0 && in.ok(); --n)
    if (!append_in_order(&held, in.u64())) return false;
  if (!in.ok() || !stock.load_state(in) || !quota.load_state(in) || !guarantees.load_state(in))
    return false;
  if (!in.ok() || !sup.load_state(in)) return false;
  for (uint64_t n = in.count(); n > 0 && in.ok(); --n) {
    ledger::StockKey k;
    in.str(&k.emsNo);
    in.str(&k.itemRecordNo);
    uint8_t r = in.u8();
    if (!valid_risk(r)) return false;
    if (!append_in_order(&item_risk, std::move(k), static_cast<ref::RiskClass>(r))) return false;
  }
  if (!in.ok() || !risk_monitor.load_state(in)) return false;
  next_list_id = in.u64();
  pre_serial = in.u64();
  invt_serial = in.u64();
  rkd_serial = in.u64();
  if (!in.ok() || !tax_book.load_state(in) || !returns.load_state(in)) return false;
  return in.ok();
}

void Engine::save_snapshot(std::string* out) {
  s_->evict_all();
  s_->opt.archive->flush();
  out->clear();
  ByteWriter w(out);
  s_->save(w);
}

Status Engine::load_snapshot(std::string_view snapshot) {
  auto fresh = std::make_unique<State>();
  fresh->opt = s_->opt;
  fresh->wire();
  ByteReader in(snapshot);
  if (!fresh->load(in) || !in.ok() || !in.at_end())
    return Status(StatusCode::kInternal, "the snapshot of the clearance core does not decode");
  s_ = std::move(fresh);
  return Status::Ok();
}

}  // namespace cbec::clearance
