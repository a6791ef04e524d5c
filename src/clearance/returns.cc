// Cancel (CEB623) and return (CEB625) of released lists (see returns.h for the rules).
#include "clearance/returns.h"

#include "clearance/records.h"

#include <algorithm>

#include "clearance/id_number.h"
#include "clearance/rules.h"
#include "fmt/format.h"

namespace cbec::clearance {

using ceb::Finding;
using ceb::MessageType;
using ceb::Receipt;
using ceb::ReceiptPtr;
namespace st = ceb::status;

int64_t days_since_release(TimeMs released_at, TimeMs t) {
  return days_from_civil(beijing_date(t)) - days_from_civil(beijing_date(released_at));
}

std::string_view return_state_name(ReturnRecord::State s) {
  using S = ReturnRecord::State;
  switch (s) {
    case S::kDraft:
      return "draft";
    case S::kCancelled:
      return "cancelled";
    case S::kPending:
      return "pending";
    case S::kArrived:
      return "arrived";
    case S::kLapsed:
      return "lapsed";
  }
  return "?";
}

namespace {

// Rule IDs of the findings in CEB624/CEB626 (DOMAIN.md §4.4).
constexpr std::string_view kCancelRule = "CN";
constexpr std::string_view kReturnRule = "RT";

CivilDate add_days(CivilDate d, int64_t n) { return civil_from_days(days_from_civil(d) + n); }

std::string qty_text(int64_t units) { return format_decimal(Decimal::of_units(units)); }

// Receipt of a CEB623/CEB625 record: the shape of CEB624/CEB626.
// Built in the shared object it is issued as (see NewReceipt in engine.cc).
template <class Head>
std::shared_ptr<Receipt> record_receipt(MessageType t, const std::string& receiver, const Head& h,
                                        const std::string& preNo, TimeMs now) {
  auto r = std::make_shared<Receipt>();
  r->answers = t;
  r->receiver = receiver;
  r->guid = h.guid;
  r->customsCode = h.customsCode;
  r->agentCode = h.agentCode;
  r->ebpCode = h.ebpCode;
  r->ebcCode = h.ebcCode;
  r->copNo = h.copNo.empty() ? h.guid.substr(0, 20) : h.copNo;
  r->preNo = preNo;
  r->invtNo = h.invtNo.size() == 18 ? h.invtNo : "";
  r->returnTime = now;
  return r;
}

// The head of a cancel or return must describe the list it names. The declarer (agentCode) is
// an R1 matter; the other parties, the order, the waybill and the buyer are checked as data.
template <class Head>
void check_head(const Head& h, const ListRecord& L, const std::string& prefix,
                std::string_view rule, bool* wrong_declarer, std::vector<Finding>* f) {
  const auto& lh = L.doc.head;
  if (h.agentCode != lh.agentCode) {
    *wrong_declarer = true;
    f->push_back(make_finding(
        "R1", prefix + "agentCode",
        fmt::format("清单{}由{}申报，{}不能撤销或退货", L.invtNo, lh.agentCode, h.agentCode),
        fmt::format("list {} was declared by {}; {} cannot cancel or return it", L.invtNo,
                    lh.agentCode, h.agentCode)));
  }
  auto cmp = [&](const char* field, const std::string& mine, const std::string& list) {
    if (mine == list) return;
    f->push_back(make_finding(
        rule, prefix + field, fmt::format("{}为{}，清单{}为{}", field, mine, L.invtNo, list),
        fmt::format("{} {} differs from list {}'s {}", field, mine, L.invtNo, list)));
  };
  cmp("ebpCode", h.ebpCode, lh.ebpCode);
  cmp("ebcCode", h.ebcCode, lh.ebcCode);
  cmp("orderNo", h.orderNo, lh.orderNo);
  cmp("logisticsCode", h.logisticsCode, lh.logisticsCode);
  cmp("logisticsNo", h.logisticsNo, lh.logisticsNo);
  if (!same_id_number(h.buyerIdNumber, lh.buyerIdNumber))
    cmp("buyerIdNumber", normalize_id_number(h.buyerIdNumber), normalize_id_number(lh.buyerIdNumber));
}

const ceb::InventoryList* list_line(const ListRecord& L, int64_t gnum) {
  for (const auto& l : L.doc.lists)
    if (l.gnum == gnum) return &l;
  return nullptr;
}

const tax::LineTax* tax_line(const tax::ListTax& t, int64_t gnum) {
  for (const auto& l : t.lines)
    if (l.gnum == gnum) return &l;
  return nullptr;
}

// x · u / q rounded half-up; x itself when u == q (so a whole line is exactly the original).
int64_t prorate(int64_t x, int64_t u, int64_t q) {
  if (u == q) return x;
  return round_half_up(static_cast<__int128>(x) * u, q);
}

// The tax of `line` if only `units` of its quantity remained: dutiable D·u/Q (half-up to the
// fen), the line's rates on the declaration date, its regime, each tax rounded half-up.
Result<tax::LineTax> line_tax_at(const ref::ReferenceData& ref, const ceb::InventoryList& line,
                                 const tax::LineTax& original, tax::Regime regime,
                                 CivilDate decl_date, int64_t units) {
  if (units == line.qty.units) return original;
  tax::LineTax zero;
  zero.gnum = original.gnum;
  zero.gcode = original.gcode;
  if (units == 0) return zero;
  tax::LineInput in{line.gnum,
                    line.gcode,
                    Decimal::of_units(units),
                    line.unit,
                    line.qty1.present
                        ? Decimal::of_units(prorate(line.qty1.units, units, line.qty.units))
                        : Decimal{},
                    line.unit1,
                    fen_to_decimal(prorate(original.dutiable_fen, units, line.qty.units))};
  tax::ListInput li;
  li.lines = std::span<const tax::LineInput>(&in, 1);
  li.date = decl_date;
  auto t = tax::compute(li, regime, ref);
  if (!t.ok()) return t.status();
  CBEC_ASSERT(t->lines.size() == 1);
  return t->lines[0];
}

}  // namespace

void ReturnBook::on_release(const ListRecord& L, ReleaseFacts facts) {
  ListFacts f;
  f.list_id = L.id;
  f.quota_counted_fen = facts.quota_fen;
  // The caps were counted in line order, one entry per capped line with its whole qty1.
  size_t j = 0;
  for (const auto& line : L.doc.lists) {
    if (j < facts.caps.size() &&
        std::get<2>(facts.caps[j].first) == std::string_view(line.gcode).substr(0, 8) &&
        facts.caps[j].second == line.qty1.units) {
      f.line_caps.emplace(line.gnum, facts.caps[j].first);
      ++j;
    }
  }
  f.release = std::move(facts);
  // A list is released once and its invtNo is a number this core issued, so the key is new: no
  // archive lookup (emplace_new asserts it is not in memory).
  lists_.emplace_new(L.invtNo) = std::move(f);
}

// ---- Cancel ----------------------------------------------------------------------------------

bool ReturnBook::apply_cancel(ReturnsCtx& c, const std::string& sender, const ceb::InvtCancel& h,
                              const SenderCheck& r1) {
  const MessageType t = MessageType::kCEB623;
  Key key{h.agentCode, h.copNo};
  auto existing = cancels_.find(key);
  auto answer = [&](Problem p, std::vector<Finding> findings) {
    auto r = record_receipt(
        t, sender, h, existing != cancels_.end() ? existing->second.rec.preNo : c.next_pre_no(),
        c.now);
    r->returnStatus = error_code(t, p);
    r->findings = std::move(findings);
    r->returnInfo = ceb::join_return_info(fmt::format("[{}]", r->returnStatus), r->findings);
    c.out->push_back(ReceiptPtr(std::move(r)));
    return false;
  };
  if (r1) return answer(r1->first, {r1->second});
  if (h.copNo.empty())
    return answer(Problem::kMissingKey,
                  {make_finding("F", "InvtCancel/copNo", "撤销申请单须填写企业内部编号copNo",
                                "copNo is required: it is the key of the cancel request")});
  uint64_t digest = ceb::record_digest(h);
  if (existing != cancels_.end()) {
    if (existing->second.rec.digest == digest) {
      // The same request again: the receipt already issued.
      c.out->push_back(existing->second.last);
      return false;
    }
    if (existing->second.rec.state != ReturnRecord::State::kDraft) {
      return answer(
          Problem::kDuplicate,
          {make_finding("A", "InvtCancel/copNo",
                        fmt::format("撤销申请{}已申报(清单{})且内容不同", h.copNo,
                                    existing->second.rec.invtNo),
                        fmt::format("cancel request {} was already declared (list {}) with other "
                                    "content; a new request needs a new copNo",
                                    h.copNo, existing->second.rec.invtNo))});
    }
  }
  auto store = [&](ReturnRecord::State state, int status, std::string info) -> Entry& {
    Entry& e = cancels_[key];
    if (e.rec.preNo.empty()) e.rec.preNo = c.next_pre_no();
    e.rec.kind = ReturnRecord::Kind::kCancel;
    e.rec.state = state;
    e.rec.agentCode = h.agentCode;
    e.rec.copNo = h.copNo;
    e.rec.invtNo = h.invtNo;
    e.rec.sender = sender;
    e.rec.digest = digest;
    e.rec.returnStatus = status;
    e.rec.applied_at = c.now;
    auto r = record_receipt(t, sender, h, e.rec.preNo, c.now);
    r->returnStatus = status;
    r->returnInfo = std::move(info);
    e.last = c.out->push_back(ReceiptPtr(std::move(r)));
    return e;
  };
  if (h.appStatus == "1") {
    store(ReturnRecord::State::kDraft, st::kDraft, "暂存 / saved as draft");
    return false;
  }

  ListRecord* L = c.list_by_invt(h.invtNo);
  if (L == nullptr)
    return answer(Problem::kNotFound, {make_finding(kCancelRule, "InvtCancel/invtNo",
                                                    fmt::format("清单{}不存在", h.invtNo),
                                                    fmt::format("list {} is unknown", h.invtNo))});
  std::vector<Finding> findings;
  bool wrong_declarer = false;
  check_head(h, *L, "InvtCancel/", kCancelRule, &wrong_declarer, &findings);
  if (!findings.empty())
    return answer(wrong_declarer ? Problem::kSenderNotPermitted : Problem::kInvalidValue,
                  std::move(findings));
  auto fit = lists_.find(h.invtNo);
  if (L->state == ListState::kCancelled) {
    return answer(
        Problem::kConflicting,
        {make_finding(kCancelRule, "InvtCancel/invtNo", fmt::format("清单{}已撤销", h.invtNo),
                      fmt::format("list {} is already cancelled", h.invtNo))});
  }
  if (fit == lists_.end() || (L->state != ListState::kReleased && L->state != ListState::kClosed)) {
    return answer(
        Problem::kListNotReleased,
        {make_finding(
            kCancelRule, "InvtCancel/invtNo",
            fmt::format("清单{}状态为{}，只有已放行的清单可以撤销(未审结的清单请用appType=3删除)",
                        h.invtNo, list_state_name(L->state)),
            fmt::format("list {} is {}: only a released list can be cancelled (delete "
                        "a list before its decision with appType 3)",
                        h.invtNo, list_state_name(L->state)))});
  }
  ListFacts& f = fit->second;
  if (!f.returns.empty()) {
    const Key& rk = *f.returns.begin();
    return answer(Problem::kConflicting,
                  {make_finding(kCancelRule, "InvtCancel/invtNo",
                                fmt::format("清单{}已有退货申请{}，不能撤销", h.invtNo, rk.second),
                                fmt::format("list {} has return {} in progress or done: it can no "
                                            "longer be cancelled",
                                            h.invtNo, rk.second))});
  }
  TaxBill* bill = c.bills.find(h.invtNo);
  CBEC_ASSERT(bill != nullptr);
  const ref::Policy& policy = c.ref.policy_at(beijing_date(bill->released_at));
  int64_t day = days_since_release(bill->released_at, c.now);
  if (day > policy.cancel_window_days) {
    CivilDate released = beijing_date(bill->released_at);
    return answer(
        Problem::kOutsideWindow,
        {make_finding(
            kCancelRule, "InvtCancel/invtNo",
            fmt::format("清单{}于{}放行，今天为放行后第{}天，撤销须在第{}天({})前", h.invtNo,
                        format_iso_date(released), day, policy.cancel_window_days,
                        format_iso_date(add_days(released, policy.cancel_window_days))),
            fmt::format("list {} was released on {} (day 0); today is day {}, a cancel "
                        "must come by day {} ({})",
                        h.invtNo, format_iso_date(released), day, policy.cancel_window_days,
                        format_iso_date(add_days(released, policy.cancel_window_days))))});
  }
  if (bill->paid_fen > 0) {
    return answer(Problem::kTaxAlreadyPaid,
                  {make_finding(kCancelRule, "InvtCancel/invtNo",
                                fmt::format("清单{}税款已缴纳{}，不能撤销", h.invtNo,
                                            format_fen(bill->paid_fen)),
                                fmt::format("the tax of list {} was paid ({}): it can no longer "
                                            "be cancelled",
                                            h.invtNo, format_fen(bill->paid_fen)))});
  }

  // Effects: bill void, annual total and caps back, stock back if the goods never left.
  Fen voided = bill->outstanding_fen();
  c.bills.void_bill(*bill, c.now, h.copNo, c.guarantees);
  Fen quota_back = f.quota_counted_fen;
  c.quota.reduce(f.release.quota_key, quota_back);
  f.quota_counted_fen = 0;
  for (const auto& [k, units] : f.release.caps) {
    auto it = c.caps_used.find(k);
    CBEC_ASSERT(it != c.caps_used.end() && it->second >= units);
    it->second -= units;
  }
  const bool goods_in_zone = L->state == ListState::kReleased;
  const bool bonded = L->doc.head.tradeMode == "1210";
  if (goods_in_zone && bonded) {
    for (const auto& line : L->doc.lists)
      c.stock.restore({L->doc.head.emsNo, line.itemRecordNo}, line.qty.units);
  }
  std::string stock_zh = !bonded         ? ""
                         : goods_in_zone ? "，保税库存已恢复"
                                         : "，货物已离区，库存不恢复";
  std::string stock_en = !bonded         ? ""
                         : goods_in_zone ? "; bonded stock restored"
                                         : "; the goods had left the zone: stock not restored";
  std::string info = fmt::format(
      "撤销成功：税单{}作废(税款{})，年度累计返还{}{} / cancelled: tax bill {} void ({}), annual "
      "total −{}{}",
      bill->taxNo, format_fen(voided), format_fen(quota_back), stock_zh, bill->taxNo,
      format_fen(voided), format_fen(quota_back), stock_en);
  L->state = ListState::kCancelled;
  L->returnStatus = st::kConcluded;
  L->history.push_back(
      StatusEvent{c.now, st::kConcluded,
                  fmt::format("撤销(CEB623 {}) / cancelled by CEB623 {}", h.copNo, h.copNo)});
  Entry& e = store(ReturnRecord::State::kCancelled, st::kConcluded, info);
  e.rec.tax_fen = voided;
  e.rec.quota_fen = quota_back;
  return true;
}

// ---- Return ----------------------------------------------------------------------------------

std::optional<ReturnBook::Effect> ReturnBook::compute_effect(
    const ReturnsCtx& c, const ListRecord& L, const ListFacts& f, const TaxBill& bill,
    const tax::ListTax& levied, const ceb::InvtRefund& rec, Problem* problem,
    std::vector<Finding>* findings) const {
  bool over = false;
  std::set<int64_t> seen;
  for (size_t i = 0; i < rec.lists.size(); ++i) {
    const auto& rl = rec.lists[i];
    std::string path = fmt::format("InvtRefund/InvtRefundList[{}]/", i + 1);
    const ceb::InventoryList* line = list_line(L, rl.gnum);
    if (line == nullptr) {
      findings->push_back(make_finding(
          kReturnRule, path + "gnum", fmt::format("清单{}没有第{}项", L.invtNo, rl.gnum),
          fmt::format("list {} has no line gnum {}", L.invtNo, rl.gnum)));
      continue;
    }
    if (!seen.insert(rl.gnum).second) {
      findings->push_back(
          make_finding(kReturnRule, path + "gnum", fmt::format("第{}项在本退货单中重复", rl.gnum),
                       fmt::format("line gnum {} appears twice in this return", rl.gnum)));
      continue;
    }
    if (rl.gcode != line->gcode)
      findings->push_back(make_finding(
          kReturnRule, path + "gcode",
          fmt::format("第{}项商品编码{}与清单{}不一致", rl.gnum, rl.gcode, line->gcode),
          fmt::format("line gnum {}: gcode {} differs from the list's {}", rl.gnum, rl.gcode,
                      line->gcode)));
    if (rl.unit != line->unit)
      findings->push_back(
          make_finding(kReturnRule, path + "unit",
                       fmt::format("第{}项计量单位{}与清单{}不一致", rl.gnum, rl.unit, line->unit),
                       fmt::format("line gnum {}: unit {} differs from the list's {}", rl.gnum,
                                   rl.unit, line->unit)));
    auto r = f.returned_units.find(rl.gnum);
    int64_t returned = r == f.returned_units.end() ? 0 : r->second;
    int64_t left = line->qty.units - returned;
    if (rl.qty.units <= 0) {
      findings->push_back(make_finding(kReturnRule, path + "qty",
                                       fmt::format("第{}项退货数量须大于0", rl.gnum),
                                       fmt::format("line gnum {}: qty must be positive, got {}",
                                                   rl.gnum, qty_text(rl.qty.units))));
    } else if (rl.qty.units > left) {
      over = true;
      findings->push_back(make_finding(
          kReturnRule, path + "qty",
          fmt::format("第{}项原申报{}，已退{}，本次退{}，最多可退{}", rl.gnum,
                      qty_text(line->qty.units), qty_text(returned), qty_text(rl.qty.units),
                      qty_text(left)),
          fmt::format("line gnum {}: declared {}, already returned {}, this return {}, at most {} "
                      "left",
                      rl.gnum, qty_text(line->qty.units), qty_text(returned),
                      qty_text(rl.qty.units), qty_text(left))));
    }
  }
  if (!findings->empty()) {
    *problem = over ? Problem::kOverReturnable : Problem::kInvalidValue;
    return std::nullopt;
  }

  Effect e;
  bool nothing_remains = true;
  for (const auto& line : L.doc.lists) {
    auto r = f.returned_units.find(line.gnum);
    int64_t left = line.qty.units - (r == f.returned_units.end() ? 0 : r->second);
    for (const auto& rl : rec.lists)
      if (rl.gnum == line.gnum) left -= rl.qty.units;
    if (left > 0) nothing_remains = false;
  }
  for (size_t i = 0; i < rec.lists.size(); ++i) {
    const auto& rl = rec.lists[i];
    const ceb::InventoryList& line = *list_line(L, rl.gnum);
    const tax::LineTax* original = tax_line(bill.tax, rl.gnum);
    const tax::LineTax* now_levied = tax_line(levied, rl.gnum);
    CBEC_ASSERT(original != nullptr && now_levied != nullptr);
    auto r = f.returned_units.find(rl.gnum);
    int64_t u_cur = line.qty.units - (r == f.returned_units.end() ? 0 : r->second);
    int64_t u_new = u_cur - rl.qty.units;
    auto t_cur = line_tax_at(c.ref, line, *original, bill.tax.regime, f.release.decl_date, u_cur);
    auto t_new = line_tax_at(c.ref, line, *original, bill.tax.regime, f.release.decl_date, u_new);
    if (!t_cur.ok() || !t_new.ok()) {
      *problem = Problem::kInvalidValue;
      std::string why(!t_cur.ok() ? t_cur.status().message() : t_new.status().message());
      findings->push_back(make_finding(
          kReturnRule, fmt::format("InvtRefund/InvtRefundList[{}]/gnum", i + 1),
          fmt::format("第{}项剩余数量的税款无法重新计算: {}", rl.gnum, why),
          fmt::format("line gnum {}: the tax of the remaining quantity cannot be recomputed: {}",
                      rl.gnum, why)));
      return std::nullopt;
    }
    tax::LineTax d;
    d.gnum = rl.gnum;
    d.gcode = line.gcode;
    if (nothing_remains) {
      d.dutiable_fen = now_levied->dutiable_fen;
      d.tariff_fen = now_levied->tariff_fen;
      d.ct_fen = now_levied->ct_fen;
      d.vat_fen = now_levied->vat_fen;
    } else {
      // Never more than the line still bears (earlier lapses put back what they took).
      d.dutiable_fen =
          std::min(t_cur->dutiable_fen - t_new->dutiable_fen, now_levied->dutiable_fen);
      d.tariff_fen = std::min(t_cur->tariff_fen - t_new->tariff_fen, now_levied->tariff_fen);
      d.ct_fen = std::min(t_cur->ct_fen - t_new->ct_fen, now_levied->ct_fen);
      d.vat_fen = std::min(t_cur->vat_fen - t_new->vat_fen, now_levied->vat_fen);
    }
    CBEC_ASSERT(d.dutiable_fen >= 0 && d.tariff_fen >= 0 && d.ct_fen >= 0 && d.vat_fen >= 0);
    int64_t cap_units = 0;
    if (auto cap = f.line_caps.find(rl.gnum); cap != f.line_caps.end() && line.qty1.present) {
      cap_units = prorate(line.qty1.units, u_cur, line.qty.units) -
                  prorate(line.qty1.units, u_new, line.qty.units);
      if (cap_units > 0) e.caps.push_back({cap->second, cap_units});
    }
    e.lines.push_back(ReturnLine{rl.gnum, rl.qty.units, d.dutiable_fen, d.tariff_fen, d.ct_fen,
                                 d.vat_fen, cap_units});
    e.delta.lines.push_back(std::move(d));
  }
  if (nothing_remains) {
    // Whatever is still levied goes, also on lines outside this return and at list level
    // (a list rounded once may differ from the sum of its lines by a fen).
    for (const auto& l : levied.lines) {
      if (seen.count(l.gnum) != 0) continue;
      if (l.dutiable_fen == 0 && l.tariff_fen == 0 && l.ct_fen == 0 && l.vat_fen == 0) continue;
      e.delta.lines.push_back(l);
    }
    e.delta.dutiable_fen = levied.dutiable_fen;
    e.delta.tariff_fen = levied.tariff_fen;
    e.delta.ct_fen = levied.ct_fen;
    e.delta.vat_fen = levied.vat_fen;
    e.quota_fen = f.quota_counted_fen;
  } else {
    Fen dutiable = 0;
    for (const auto& d : e.delta.lines) {
      dutiable += d.dutiable_fen;
      e.delta.tariff_fen += d.tariff_fen;
      e.delta.ct_fen += d.ct_fen;
      e.delta.vat_fen += d.vat_fen;
    }
    // A list rounded once (Policy::rounding kOnce) has list figures that may differ from the sum
    // of its lines by a fen: never take off more than the list still bears.
    e.delta.tariff_fen = std::min(e.delta.tariff_fen, levied.tariff_fen);
    e.delta.ct_fen = std::min(e.delta.ct_fen, levied.ct_fen);
    e.delta.vat_fen = std::min(e.delta.vat_fen, levied.vat_fen);
    e.delta.dutiable_fen = std::min(dutiable, levied.dutiable_fen);
    e.quota_fen = std::min(dutiable, f.quota_counted_fen);
  }
  return e;
}

void ReturnBook::apply_effect(ReturnsCtx& c, ListFacts& f, TaxBill& bill, Entry& e) {
  c.bills.reduce(bill, e.delta, c.now, e.rec.copNo);
  c.quota.reduce(f.release.quota_key, e.rec.quota_fen);
  f.quota_counted_fen -= e.rec.quota_fen;
  for (const auto& [k, units] : e.caps) {
    auto it = c.caps_used.find(k);
    CBEC_ASSERT(it != c.caps_used.end() && it->second >= units);
    it->second -= units;
  }
  for (const auto& l : e.rec.lines) f.returned_units[l.gnum] += l.qty_units;
  Key key{e.rec.agentCode, e.rec.copNo};
  f.returns.insert(key);
  lapses_.insert({e.rec.lapse_at, key});
}

void ReturnBook::undo_effect(ReturnsCtx& c, ListFacts& f, TaxBill& bill, Entry& e) {
  c.bills.reinstate(bill, e.delta, c.now, e.rec.copNo);
  c.quota.reinstate(f.release.quota_key, e.rec.quota_fen);
  f.quota_counted_fen += e.rec.quota_fen;
  for (const auto& [k, units] : e.caps) c.caps_used[k] += units;
  for (const auto& l : e.rec.lines) {
    auto it = f.returned_units.find(l.gnum);
    CBEC_ASSERT(it != f.returned_units.end() && it->second >= l.qty_units);
    it->second -= l.qty_units;
  }
  Key key{e.rec.agentCode, e.rec.copNo};
  f.returns.erase(key);
  lapses_.erase({e.rec.lapse_at, key});
}

void ReturnBook::apply_return(ReturnsCtx& c, const std::string& sender, const ceb::InvtRefund& rec,
                              const SenderCheck& r1) {
  const MessageType t = MessageType::kCEB625;
  const auto& h = rec.head;
  Key key{h.agentCode, h.copNo};
  auto existing = refunds_.find(key);
  auto answer = [&](Problem p, std::vector<Finding> findings) {
    auto r = record_receipt(
        t, sender, h, existing != refunds_.end() ? existing->second.rec.preNo : c.next_pre_no(),
        c.now);
    r->returnStatus = error_code(t, p);
    r->findings = std::move(findings);
    r->returnInfo = ceb::join_return_info(fmt::format("[{}]", r->returnStatus), r->findings);
    c.out->push_back(ReceiptPtr(std::move(r)));
  };
  auto receipt = [&](Entry& e, int status, std::string info) {
    auto r = record_receipt(t, sender, h, e.rec.preNo, c.now);
    r->returnStatus = status;
    r->returnInfo = std::move(info);
    e.rec.returnStatus = status;
    e.last = c.out->push_back(ReceiptPtr(std::move(r)));
  };
  if (r1) return answer(r1->first, {r1->second});
  if (h.copNo.empty())
    return answer(
        Problem::kMissingKey,
        {make_finding("F", "InvtRefund/InvtRefundHead/copNo", "退货申请单须填写企业内部编号copNo",
                      "copNo is required: it is the key of the return")});
  uint64_t digest = ceb::record_digest(rec);
  using S = ReturnRecord::State;
  if (existing != refunds_.end() && existing->second.rec.digest == digest) {
    c.out->push_back(existing->second.last);  // the same request again: the receipt issued
    return;
  }
  const bool exists = existing != refunds_.end();
  const S old_state = exists ? existing->second.rec.state : S::kDraft;
  const std::string field_app_type = "InvtRefund/InvtRefundHead/appType";
  if (h.appType == "1" && exists && old_state != S::kDraft) {
    return answer(
        Problem::kDuplicate,
        {make_finding("A", "InvtRefund/InvtRefundHead/copNo",
                      fmt::format("退货申请{}已申报且内容不同(变更请使用appType=2)", h.copNo),
                      fmt::format("return {} was already declared with other content "
                                  "(use appType 2 to modify a pending return)",
                                  h.copNo))});
  }
  if (h.appType != "1") {
    if (!exists)
      return answer(Problem::kNotFound,
                    {make_finding("A", field_app_type,
                                  fmt::format("appType={}：退货申请{}不存在", h.appType, h.copNo),
                                  fmt::format("appType {}: there is no return {} to modify or "
                                              "withdraw",
                                              h.appType, h.copNo))});
    if (old_state == S::kArrived || old_state == S::kLapsed)
      return answer(
          Problem::kNotModifiable,
          {make_finding("A", field_app_type,
                        fmt::format("appType={}：退货申请{}已{}，不能变更或撤回", h.appType,
                                    h.copNo, old_state == S::kArrived ? "完成入区" : "失效"),
                        fmt::format("appType {}: return {} is {}: it can no longer be "
                                    "modified or withdrawn",
                                    h.appType, h.copNo, return_state_name(old_state)))});
  }
  if (h.appType == "3") {
    Entry& e = existing->second;
    std::string info = "删除成功 / deleted";
    if (old_state == S::kPending) {
      ListFacts& f = lists_.at(e.rec.invtNo);
      TaxBill* bill = c.bills.find(e.rec.invtNo);
      CBEC_ASSERT(bill != nullptr);
      undo_effect(c, f, *bill, e);
      info = fmt::format(
          "撤回成功：税款{}与年度累计{}恢复 / withdrawn: tax {} and annual total {} "
          "reinstated",
          format_fen(e.rec.tax_fen), format_fen(e.rec.quota_fen), format_fen(e.rec.tax_fen),
          format_fen(e.rec.quota_fen));
    }
    auto r = record_receipt(t, sender, h, e.rec.preNo, c.now);
    r->returnStatus = st::kDeclaring;
    r->returnInfo = std::move(info);
    refunds_.erase(existing);  // the key is free again, as for a deleted list
    c.out->push_back(ReceiptPtr(std::move(r)));
    return;
  }
  if (h.appStatus == "1") {
    if (exists && old_state == S::kPending)
      return answer(
          Problem::kNotModifiable,
          {make_finding("A", "InvtRefund/InvtRefundHead/appStatus", "已申报的退货申请不能改回暂存",
                        "a declared return cannot become a draft again")});
    Entry& e = refunds_[key];
    if (e.rec.preNo.empty()) e.rec.preNo = c.next_pre_no();
    e.rec.kind = ReturnRecord::Kind::kReturn;
    e.rec.state = S::kDraft;
    e.rec.agentCode = h.agentCode;
    e.rec.copNo = h.copNo;
    e.rec.invtNo = h.invtNo;
    e.rec.sender = sender;
    e.rec.digest = digest;
    receipt(e, st::kDraft, "暂存 / saved as draft");
    return;
  }

  // A declared return (new, replacing a draft, or replacing a pending return).
  const std::string head = "InvtRefund/InvtRefundHead/";
  ListRecord* L = c.list_by_invt(h.invtNo);
  if (L == nullptr)
    return answer(Problem::kNotFound,
                  {make_finding(kReturnRule, head + "invtNo", fmt::format("清单{}不存在", h.invtNo),
                                fmt::format("list {} is unknown", h.invtNo))});
  std::vector<Finding> findings;
  bool wrong_declarer = false;
  check_head(h, *L, head, kReturnRule, &wrong_declarer, &findings);
  if (exists && old_state == S::kPending && existing->second.rec.invtNo != h.invtNo)
    findings.push_back(make_finding(
        "A", head + "invtNo",
        fmt::format("退货申请{}针对清单{}，变更不能改为其他清单", h.copNo,
                    existing->second.rec.invtNo),
        fmt::format("return {} is for list {}; a modification cannot move it to another list",
                    h.copNo, existing->second.rec.invtNo)));
  if (!findings.empty())
    return answer(wrong_declarer ? Problem::kSenderNotPermitted : Problem::kInvalidValue,
                  std::move(findings));
  if (L->state == ListState::kCancelled)
    return answer(
        Problem::kConflicting,
        {make_finding(kReturnRule, head + "invtNo", fmt::format("清单{}已撤销，不能退货", h.invtNo),
                      fmt::format("list {} is cancelled: nothing to return", h.invtNo))});
  auto fit = lists_.find(h.invtNo);
  if (fit == lists_.end() || (L->state != ListState::kReleased && L->state != ListState::kClosed))
    return answer(Problem::kListNotReleased,
                  {make_finding(kReturnRule, head + "invtNo",
                                fmt::format("清单{}状态为{}，只有已放行的清单可以退货", h.invtNo,
                                            list_state_name(L->state)),
                                fmt::format("list {} is {}: only a released list can be returned",
                                            h.invtNo, list_state_name(L->state)))});
  ListFacts& f = fit->second;
  TaxBill* bill = c.bills.find(h.invtNo);
  CBEC_ASSERT(bill != nullptr);
  const CivilDate released = beijing_date(bill->released_at);
  const ref::Policy& policy = c.ref.policy_at(released);
  int64_t day = days_since_release(bill->released_at, c.now);
  if (day > policy.return_apply_days)
    return answer(
        Problem::kOutsideWindow,
        {make_finding(
            kReturnRule, head + "invtNo",
            fmt::format("清单{}于{}放行，今天为放行后第{}天，退货须在第{}天({})前申请", h.invtNo,
                        format_iso_date(released), day, policy.return_apply_days,
                        format_iso_date(add_days(released, policy.return_apply_days))),
            fmt::format("list {} was released on {} (day 0); today is day {}, a return "
                        "must be applied for by day {} ({})",
                        h.invtNo, format_iso_date(released), day, policy.return_apply_days,
                        format_iso_date(add_days(released, policy.return_apply_days))))});
  if (bill->paid_fen > 0)
    return answer(Problem::kTaxAlreadyPaid,
                  {make_finding(kReturnRule, head + "invtNo",
                                fmt::format("清单{}税款已缴纳{}，退税不在本系统办理", h.invtNo,
                                            format_fen(bill->paid_fen)),
                                fmt::format("the tax of list {} was paid ({}); refunds of paid tax "
                                            "are not handled here",
                                            h.invtNo, format_fen(bill->paid_fen)))});

  // The state as it would be without the pending return this one replaces.
  const Entry* replacing = exists && old_state == S::kPending ? &existing->second : nullptr;
  ListFacts f_view = f;
  tax::ListTax levied_view = bill->levied;
  if (replacing != nullptr) {
    for (const auto& l : replacing->rec.lines) f_view.returned_units[l.gnum] -= l.qty_units;
    f_view.quota_counted_fen += replacing->rec.quota_fen;
    add_tax_delta(&levied_view, replacing->delta, +1);
  }
  Problem problem = Problem::kInvalidValue;
  auto effect = compute_effect(c, *L, f_view, *bill, levied_view, rec, &problem, &findings);
  if (!effect) return answer(problem, std::move(findings));

  if (replacing != nullptr) undo_effect(c, f, *bill, existing->second);
  Entry& e = refunds_[key];
  if (e.rec.preNo.empty()) e.rec.preNo = c.next_pre_no();
  e.rec.kind = ReturnRecord::Kind::kReturn;
  e.rec.state = S::kPending;
  e.rec.agentCode = h.agentCode;
  e.rec.copNo = h.copNo;
  e.rec.invtNo = h.invtNo;
  e.rec.sender = sender;
  e.rec.digest = digest;
  e.rec.applied_at = c.now;
  e.rec.lapse_at = beijing_midnight(add_days(released, policy.return_arrival_days + 1));
  e.rec.lines = std::move(effect->lines);
  e.rec.tax_fen = effect->delta.total_fen();
  e.rec.quota_fen = effect->quota_fen;
  e.delta = std::move(effect->delta);
  e.caps = std::move(effect->caps);
  apply_effect(c, f, *bill, e);
  CivilDate by = add_days(released, policy.return_arrival_days);
  receipt(
      e, st::kAccepted,
      fmt::format("{}：不予征税{}(税单{}现为{})，年度累计返还{}；退货须于{}(放行后第{}天)前运抵"
                  "入区 / {}: tax not levied {} (bill {} now {}), annual total −{}; the "
                  "goods must be back in the zone by {} (day {})",
                  replacing ? "退货申请变更成功" : "退货申请受理", format_fen(e.rec.tax_fen),
                  bill->taxNo, format_fen(bill->levied.total_fen()), format_fen(e.rec.quota_fen),
                  format_iso_date(by), policy.return_arrival_days,
                  replacing ? "return modified" : "return accepted", format_fen(e.rec.tax_fen),
                  bill->taxNo, format_fen(bill->levied.total_fen()), format_fen(e.rec.quota_fen),
                  format_iso_date(by), policy.return_arrival_days));
}

Status ReturnBook::arrival(ReturnsCtx& c, const ReturnArrival& a) {
  auto it = refunds_.find(Key{a.agentCode, a.copNo});
  if (it == refunds_.end())
    return NotFound(fmt::format("no return (CEB625) {} of agent {}", a.copNo, a.agentCode));
  Entry& e = it->second;
  using S = ReturnRecord::State;
  switch (e.rec.state) {
    case S::kDraft:
      return FailedPrecondition(fmt::format("return {} is a draft: nothing to receive", a.copNo));
    case S::kArrived:
      return AlreadyExists(fmt::format("the goods of return {} were confirmed back at {}", a.copNo,
                                       format_datetime14(e.rec.arrived_at)));
    case S::kLapsed:
      return FailedPrecondition(fmt::format(
          "return {} lapsed at {} (goods not back by day {}): tax and annual total were "
          "reinstated",
          a.copNo, format_datetime14(e.rec.lapse_at),
          days_since_release(c.bills.find(e.rec.invtNo)->released_at, e.rec.lapse_at) - 1));
    default:
      break;
  }
  CBEC_ASSERT(e.rec.state == S::kPending && c.now < e.rec.lapse_at);
  ListRecord* L = c.list_by_invt(e.rec.invtNo);
  CBEC_ASSERT(L != nullptr);
  const auto& lh = L->doc.head;
  const bool bonded = lh.tradeMode == "1210";
  if (bonded && a.operatorCode != lh.areaCode)
    return PermissionDenied(fmt::format(
        "the goods of list {} belong to warehouse {} (areaCode); {} cannot confirm their return",
        L->invtNo, lh.areaCode, a.operatorCode));
  if (bonded) {
    for (const auto& l : e.rec.lines) {
      const ceb::InventoryList* line = list_line(*L, l.gnum);
      CBEC_ASSERT(line != nullptr);
      c.stock.restore({lh.emsNo, line->itemRecordNo}, l.qty_units);
    }
  }
  TaxBill* bill = c.bills.find(e.rec.invtNo);
  CBEC_ASSERT(bill != nullptr);
  c.bills.returned(*bill, e.delta, c.now, c.guarantees);
  lapses_.erase({e.rec.lapse_at, it->first});
  e.rec.state = S::kArrived;
  e.rec.arrived_at = c.now;
  auto r = std::make_shared<Receipt>(e.last ? ceb::same_record(*e.last) : Receipt{});
  r->returnStatus = st::kConcluded;
  r->returnTime = c.now;
  r->returnInfo = fmt::format(
      "退货已运抵入区({})，税款{}不予征收{} / goods back in the zone ({}): tax {} not levied{}",
      a.operatorCode, format_fen(e.rec.tax_fen), bonded ? "，保税库存已恢复" : "", a.operatorCode,
      format_fen(e.rec.tax_fen), bonded ? "; bonded stock restored" : "");
  e.rec.returnStatus = r->returnStatus;
  e.last = c.out->push_back(ReceiptPtr(std::move(r)));
  return Status::Ok();
}

void ReturnBook::lapse_due(ReturnsCtx& c) {
  while (!lapses_.empty() && lapses_.begin()->first <= c.now) {
    Key key = lapses_.begin()->second;
    Entry& e = refunds_.at(key);
    CBEC_ASSERT(e.rec.state == ReturnRecord::State::kPending);
    ListFacts& f = lists_.at(e.rec.invtNo);
    TaxBill* bill = c.bills.find(e.rec.invtNo);
    CBEC_ASSERT(bill != nullptr);
    undo_effect(c, f, *bill, e);  // also drops the lapse entry
    e.rec.state = ReturnRecord::State::kLapsed;
    c.bills.record_credit(e.rec.agentCode,
                          TaxCreditEvent{TaxCreditEvent::Kind::kLapsedReturn, c.now, e.rec.invtNo,
                                         e.rec.copNo, e.rec.tax_fen});
    auto r = std::make_shared<Receipt>(e.last ? ceb::same_record(*e.last) : Receipt{});
    r->returnStatus = st::kRejected;
    r->returnTime = c.now;
    r->findings = {make_finding(
        kReturnRule, "InvtRefund/InvtRefundHead/invtNo",
        fmt::format("退货货物未在期限内运抵入区，退货失效：税款{}与年度累计{}恢复",
                    format_fen(e.rec.tax_fen), format_fen(e.rec.quota_fen)),
        fmt::format("the goods were not back in the zone in time: the return lapsed, tax {} "
                    "and annual total {} reinstated",
                    format_fen(e.rec.tax_fen), format_fen(e.rec.quota_fen)))};
    r->returnInfo = ceb::join_return_info("退货失效 / return lapsed", r->findings);
    e.rec.returnStatus = r->returnStatus;
    e.last = c.out->push_back(ReceiptPtr(std::move(r)));
  }
}

Found<ReturnRecord> ReturnBook::cancel(std::string_view agentCode, std::string_view copNo) const {
  return cancels_.peek(Key{agentCode, copNo}).part(&Entry::rec);
}
Found<ReturnRecord> ReturnBook::refund(std::string_view agentCode, std::string_view copNo) const {
  return refunds_.peek(Key{agentCode, copNo}).part(&Entry::rec);
}

void ReturnBook::attach(archive::Archive* a, const TimeMs* clock) {
  lists_.attach(a, clock);
  cancels_.attach(a, clock);
  refunds_.attach(a, clock);
}
void ReturnBook::archive_idle(TimeMs cutoff) {
  // Anything may go: a lapse or an arrival restores what it needs (the lapse timers hold keys).
  auto never = [](const auto&, const auto&) { return false; };
  lists_.evict_idle(cutoff, never);
  cancels_.evict_idle(cutoff, never);
  refunds_.evict_idle(cutoff, never);
}

void ReturnBook::evict_all() {
  lists_.evict_all();
  cancels_.evict_all();
  refunds_.evict_all();
}

namespace {
constexpr uint8_t kSnapshotVersion = 1;
}  // namespace

void ReturnBook::save_state(ByteWriter& w) const {
  w.u8(kSnapshotVersion);
  encode_timers(w, lapses_);
}

bool ReturnBook::load_state(ByteReader& in) {
  CBEC_ASSERT(lapses_.empty());
  if (in.u8() != kSnapshotVersion) return false;
  decode_timers(in, &lapses_);
  if (!in.ok()) return false;
  for (const auto& [t, key] : lapses_) {
    Found<Entry> e = refunds_.peek(key);
    if (!e || e->rec.kind != ReturnRecord::Kind::kReturn ||
        e->rec.state != ReturnRecord::State::kPending || e->rec.lapse_at != t)
      return false;
  }
  return true;
}

void ReturnBook::dump(std::ostream& o) const {
  auto rec = [&](const char* what, const Key& k, const Entry& e) {
    o << what << " " << k.first << "/" << k.second << " " << e.rec.invtNo << " " << e.rec.preNo
      << " " << return_state_name(e.rec.state) << " " << e.rec.returnStatus << " " << e.rec.digest
      << " " << e.rec.applied_at << " " << e.rec.lapse_at << " " << e.rec.arrived_at << " tax "
      << e.rec.tax_fen << " quota " << e.rec.quota_fen;
    for (const auto& l : e.rec.lines)
      o << " " << l.gnum << ":" << l.qty_units << ":" << l.dutiable_fen << ":" << l.tariff_fen
        << ":" << l.ct_fen << ":" << l.vat_fen << ":" << l.cap_units;
    o << "\n";
  };
  cancels_.for_each_sorted([&](const Key& k, const Entry& e) { rec("cancel", k, e); });
  refunds_.for_each_sorted([&](const Key& k, const Entry& e) { rec("return", k, e); });
  lists_.for_each_sorted([&](const std::string& invt, const ListFacts& f) {
    o << "returnable " << invt << " " << f.list_id << " quota " << f.quota_counted_fen;
    for (const auto& [g, u] : f.returned_units) o << " " << g << ":" << u;
    o << "\n";
  });
}

// ---- codecs ----------------------------------------------------------------------------------
namespace {
constexpr uint64_t kMaxDecodedItems = 1'000'000;  // damaged bytes only
void put_line_tax(ByteWriter& w, const std::vector<tax::LineTax>& lines) {
  tax::ListTax t;  // the list codec carries lines with every field
  t.lines = lines;
  encode_list_tax(w, t);
}
void get_line_tax(ByteReader& in, std::vector<tax::LineTax>* lines) {
  tax::ListTax t;
  decode_list_tax(in, &t);
  *lines = std::move(t.lines);
}
}  // namespace

void encode_list_facts(ByteWriter& w, const ReturnBook::ListFacts& f) {
  w.u64(f.list_id);
  encode_civil_date(w, f.release.decl_date);
  w.str(f.release.quota_key.buyerIdNumber);
  w.i64(f.release.quota_key.year);
  w.i64(f.release.quota_fen);
  encode_caps(w, f.release.caps);
  w.u64(f.line_caps.size());
  for (const auto& [gnum, k] : f.line_caps) w.i64(gnum), encode_cap_key(w, k);
  w.u64(f.returned_units.size());
  for (const auto& [gnum, u] : f.returned_units) w.i64(gnum), w.i64(u);
  w.i64(f.quota_counted_fen);
  w.u64(f.returns.size());
  for (const auto& [a, c] : f.returns) w.str(a), w.str(c);
}
void decode_list_facts(ByteReader& in, ReturnBook::ListFacts* f) {
  f->list_id = in.u64();
  decode_civil_date(in, &f->release.decl_date);
  in.str(&f->release.quota_key.buyerIdNumber);
  f->release.quota_key.year = static_cast<int>(in.i64());
  f->release.quota_fen = in.i64();
  decode_caps(in, &f->release.caps);
  uint64_t n = in.u64();
  if (n > kMaxDecodedItems) return in.fail();
  for (uint64_t i = 0; i < n && in.ok(); ++i) {
    int64_t gnum = in.i64();
    CapKey k;
    decode_cap_key(in, &k);
    f->line_caps.emplace(gnum, std::move(k));
  }
  n = in.u64();
  if (n > kMaxDecodedItems) return in.fail();
  for (uint64_t i = 0; i < n && in.ok(); ++i) {
    int64_t gnum = in.i64();
    f->returned_units.emplace(gnum, in.i64());
  }
  f->quota_counted_fen = in.i64();
  n = in.u64();
  if (n > kMaxDecodedItems) return in.fail();
  for (uint64_t i = 0; i < n && in.ok(); ++i) {
    ReturnBook::Key k;
    in.str(&k.first);
    in.str(&k.second);
    f->returns.insert(std::move(k));
  }
}

void encode_return_entry(ByteWriter& w, const ReturnBook::Entry& e) {
  const ReturnRecord& r = e.rec;
  w.u8(static_cast<uint8_t>(r.kind));
  w.u8(static_cast<uint8_t>(r.state));
  w.str(r.agentCode);
  w.str(r.copNo);
  w.str(r.invtNo);
  w.str(r.preNo);
  w.str(r.sender);
  w.u64(r.digest);
  w.i64(r.returnStatus);
  w.i64(r.applied_at);
  w.i64(r.lapse_at);
  w.i64(r.arrived_at);
  w.u64(r.lines.size());
  for (const ReturnLine& l : r.lines) {
    w.i64(l.gnum);
    w.i64(l.qty_units);
    w.i64(l.dutiable_fen);
    w.i64(l.tariff_fen);
    w.i64(l.ct_fen);
    w.i64(l.vat_fen);
    w.i64(l.cap_units);
  }
  w.i64(r.tax_fen);
  w.i64(r.quota_fen);
  put_line_tax(w, e.delta.lines);
  w.i64(e.delta.dutiable_fen);
  w.i64(e.delta.tariff_fen);
  w.i64(e.delta.ct_fen);
  w.i64(e.delta.vat_fen);
  encode_caps(w, e.caps);
  ceb::encode_receipt(w, e.last);
}
void decode_return_entry(ByteReader& in, ReturnBook::Entry* e) {
  ReturnRecord& r = e->rec;
  uint8_t kind = in.u8(), state = in.u8();
  if (kind > static_cast<uint8_t>(ReturnRecord::Kind::kReturn) ||
      state > static_cast<uint8_t>(ReturnRecord::State::kLapsed))
    return in.fail();
  r.kind = static_cast<ReturnRecord::Kind>(kind);
  r.state = static_cast<ReturnRecord::State>(state);
  in.str(&r.agentCode);
  in.str(&r.copNo);
  in.str(&r.invtNo);
  in.str(&r.preNo);
  in.str(&r.sender);
  r.digest = in.u64();
  r.returnStatus = static_cast<int>(in.i64());
  r.applied_at = in.i64();
  r.lapse_at = in.i64();
  r.arrived_at = in.i64();
  uint64_t n = in.u64();
  if (n > kMaxDecodedItems) return in.fail();
  r.lines.resize(n);
  for (ReturnLine& l : r.lines) {
    l.gnum = in.i64();
    l.qty_units = in.i64();
    l.dutiable_fen = in.i64();
    l.tariff_fen = in.i64();
    l.ct_fen = in.i64();
    l.vat_fen = in.i64();
    l.cap_units = in.i64();
  }
  r.tax_fen = in.i64();
  r.quota_fen = in.i64();
  get_line_tax(in, &e->delta.lines);
  e->delta.dutiable_fen = in.i64();
  e->delta.tariff_fen = in.i64();
  e->delta.ct_fen = in.i64();
  e->delta.vat_fen = in.i64();
  decode_caps(in, &e->caps);
  ceb::decode_receipt(in, &e->last);
}

}  // namespace cbec::clearance
