// Tax bills, payments, the guarantor journal and statement (see tax_bills.h).
#include "clearance/tax_bills.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "clearance/records.h"
#include "common/ordered_append.h"
#include "fmt/format.h"

namespace cbec::clearance {

using State = TaxBill::State;
using Kind = TaxJournalEntry::Kind;

std::string_view tax_bill_state_name(TaxBill::State s) {
  switch (s) {
    case State::kOpen:
      return "open";
    case State::kPaid:
      return "paid";
    case State::kVoid:
      return "void";
    case State::kPayable:
      return "payable";
    case State::kOverdue:
      return "overdue";
  }
  return "?";
}

std::string_view journal_kind_name(TaxJournalEntry::Kind k) {
  switch (k) {
    case Kind::kBill:
      return "bill";
    case Kind::kReduction:
      return "reduction";
    case Kind::kReinstatement:
      return "reinstatement";
    case Kind::kVoid:
      return "void";
    case Kind::kPayment:
      return "payment";
    case Kind::kDeposit:
      return "deposit";
  }
  return "?";
}

Fen TaxJournalEntry::signed_fen() const {
  switch (kind) {
    case Kind::kBill:
    case Kind::kReinstatement:
      return amount_fen;
    case Kind::kReduction:
    case Kind::kVoid:
    case Kind::kPayment:
      return -amount_fen;
    case Kind::kDeposit:
      return 0;
  }
  return 0;
}

namespace {
// A bound for damaged bytes only: a guarantor's day of entries, or one payment's bills.
constexpr uint64_t kMaxDecodedJournalEntries = 100'000'000;
CivilDate add_days(CivilDate d, int64_t n) { return civil_from_days(days_from_civil(d) + n); }
}  // namespace

TaxBill& TaxBook::open(const ListRecord& L, TimeMs now, const ref::Policy& policy) {
  CBEC_ASSERT(L.tax.has_value());
  const auto& h = L.doc.head;
  TaxBill b;
  b.invtNo = L.invtNo;
  b.assureCode = h.assureCode;
  b.released_at = now;
  b.tax = *L.tax;
  b.state = State::kOpen;
  ++serial_;
  std::string cc = h.customsCode.size() == 4 ? h.customsCode : std::string("0000");
  b.taxNo = fmt::format("{}{}T{:09d}", cc, beijing_year(now), serial_ % 1000000000);
  b.agentCode = h.agentCode;
  b.ebcCode = h.ebcCode;
  CivilDate released = beijing_date(now);
  b.payable_at = beijing_midnight(add_days(released, policy.tax_payable_days + 1));
  b.overdue_at = beijing_midnight(add_days(released, policy.tax_due_days + 1));
  b.levied = b.tax;
  // A list is released once (invtNo: a number this core issued), so its bill is new: no archive
  // lookup (emplace_new asserts it is not in memory).
  TaxBill& bill = bills_.emplace_new(L.invtNo);
  bill = std::move(b);
  journal(bill.assureCode,
          TaxJournalEntry{Kind::kBill, now, bill.invtNo, bill.taxNo, bill.tax.total_fen()});
  refresh(bill, now);
  return bill;
}

TaxBill* TaxBook::find(std::string_view invtNo) {
  auto it = bills_.find(std::string(invtNo));
  return it == bills_.end() ? nullptr : &it->second;
}
Found<TaxBill> TaxBook::find(std::string_view invtNo) const {
  return bills_.peek(std::string(invtNo));
}
void TaxBook::for_each_bill(const std::function<void(const TaxBill&)>& f) const {
  bills_.for_each_sorted([&](const std::string&, const TaxBill& b) { f(b); });
}

void TaxBook::attach(archive::Archive* a, const TimeMs* clock) {
  bills_.attach(a, clock);
  journal_.attach(a, clock);
  payments_.attach(a, clock);
}
void TaxBook::archive_idle(TimeMs cutoff, CivilDate today) {
  // Unpaid bills go too: a month of them would be most of memory, and what still happens to
  // one (its payable and overdue times, a payment, a return) restores it by key.
  bills_.evict_idle(cutoff, [](const auto&, const auto&) { return false; });
  const std::string day = format_date8(today);
  journal_.evict_idle(cutoff, [&](const Key& k, const auto&) { return k.second == day; });
  payments_.evict_idle(cutoff, [](const auto&, const auto&) { return false; });
}

void TaxBook::evict_all() {
  bills_.evict_all();
  journal_.evict_all();
  payments_.evict_all();
}

void TaxBook::advance(TimeMs now) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    std::string invtNo = timers_.begin()->second;
    timers_.erase(timers_.begin());
    if (TaxBill* b = find(invtNo)) refresh(*b, now);
  }
}

namespace {
// Adds or removes invtNo in set[code], dropping a guarantor's set once it is empty.
void set_member(std::map<std::string, std::set<std::string>, std::less<>>* sets,
                const std::string& code, const std::string& invtNo, bool member) {
  if (member) {
    (*sets)[code].insert(invtNo);
  } else if (auto u = sets->find(code); u != sets->end()) {
    u->second.erase(invtNo);
    if (u->second.empty()) sets->erase(u);
  }
}
bool batch_pays(const TaxBill& b) {
  return (b.state == State::kPayable || b.state == State::kOverdue) && b.outstanding_fen() > 0;
}
}  // namespace

void TaxBook::track(const TaxBill& b, TimeMs now) {
  set_member(&payable_, b.assureCode, b.invtNo, batch_pays(b));
  const bool settled =
      (b.state == State::kPaid || b.state == State::kVoid) && b.pending_return_fen == 0;
  set_member(&unsettled_, b.assureCode, b.invtNo, !settled);
  if (settled) {
    timers_.erase({b.payable_at, b.invtNo});
    timers_.erase({b.overdue_at, b.invtNo});
    return;
  }
  for (TimeMs t : {b.payable_at, b.overdue_at})
    if (t > now) timers_.insert({t, b.invtNo});
}

void TaxBook::refresh(TaxBill& b, TimeMs now) {
  if (b.state == State::kVoid) return track(b, now);  // terminal
  const Fen levied = b.levied.total_fen();
  const Fen outstanding = levied - b.paid_fen;
  CBEC_ASSERT(outstanding >= 0);
  CBEC_ASSERT(b.pending_return_fen >= 0);
  State next;
  if (outstanding == 0 && b.pending_return_fen == 0) {
    // Every line returned: void. A list without tax has nothing to pay: paid, and still open
    // to a cancel or a return like any other.
    next = levied == 0 && b.tax.total_fen() > 0 ? State::kVoid : State::kPaid;
  } else if (now < b.payable_at) {
    next = State::kOpen;
  } else if (outstanding == 0 || now < b.overdue_at) {
    next = State::kPayable;  // with nothing outstanding: waiting for a pending return
  } else {
    next = State::kOverdue;
  }
  if (next == State::kOverdue && !b.overdue_recorded) {
    b.overdue_recorded = true;
    TaxCreditRecord& c = credit_[b.assureCode];
    ++c.overdue_bills;
    c.overdue_fen += outstanding;
    c.events.push_back(
        TaxCreditEvent{TaxCreditEvent::Kind::kOverdueBill, now, b.invtNo, b.taxNo, outstanding});
    if (on_credit_event) on_credit_event(b.assureCode, c.events.back());
  }
  b.state = next;
  track(b, now);
}

void TaxBook::journal(const std::string& assureCode, TaxJournalEntry e) {
  CBEC_ASSERT(e.amount_fen >= 0);
  CivilDate day = beijing_date(e.time);
  JournalSummary& sum = journal_summary_[assureCode];
  sum.balance_fen += e.signed_fen();
  if (!sum.any) sum.first_day = day, sum.any = true;
  CBEC_ASSERT(days_from_civil(day) >= days_from_civil(sum.last_day));  // log time never goes back
  sum.last_day = day;
  journal_[Key{assureCode, format_date8(day)}].push_back(std::move(e));
}

void add_tax_delta(tax::ListTax* levied, const TaxDelta& d, int sign) {
  for (const auto& dl : d.lines) {
    auto it = std::find_if(levied->lines.begin(), levied->lines.end(),
                           [&](const tax::LineTax& l) { return l.gnum == dl.gnum; });
    CBEC_ASSERT(it != levied->lines.end());
    it->dutiable_fen += sign * dl.dutiable_fen;
    it->tariff_fen += sign * dl.tariff_fen;
    it->ct_fen += sign * dl.ct_fen;
    it->vat_fen += sign * dl.vat_fen;
    CBEC_ASSERT(it->dutiable_fen >= 0 && it->tariff_fen >= 0 && it->ct_fen >= 0 &&
                it->vat_fen >= 0);
  }
  levied->dutiable_fen += sign * d.dutiable_fen;
  levied->tariff_fen += sign * d.tariff_fen;
  levied->ct_fen += sign * d.ct_fen;
  levied->vat_fen += sign * d.vat_fen;
  CBEC_ASSERT(levied->dutiable_fen >= 0 && levied->tariff_fen >= 0 && levied->ct_fen >= 0 &&
              levied->vat_fen >= 0);
}

void TaxBook::void_bill(TaxBill& b, TimeMs now, std::string_view reference,
                        ledger::GuaranteeLedger& g) {
  CBEC_ASSERT(b.state != State::kVoid);
  CBEC_ASSERT(b.paid_fen == 0);
  const Fen outstanding = b.outstanding_fen();
  const Fen held = b.guaranteed_fen();
  journal(b.assureCode,
          TaxJournalEntry{Kind::kVoid, now, b.invtNo, std::string(reference), outstanding});
  g.settle(b.assureCode, held);
  b.pending_return_fen = 0;
  b.state = State::kVoid;
  track(b, now);
}

void TaxBook::reduce(TaxBill& b, const TaxDelta& d, TimeMs now, std::string_view reference) {
  CBEC_ASSERT(b.state != State::kVoid);
  add_tax_delta(&b.levied, d, -1);
  b.pending_return_fen += d.total_fen();
  journal(b.assureCode,
          TaxJournalEntry{Kind::kReduction, now, b.invtNo, std::string(reference), d.total_fen()});
  refresh(b, now);
}

void TaxBook::returned(TaxBill& b, const TaxDelta& d, TimeMs now, ledger::GuaranteeLedger& g) {
  CBEC_ASSERT(b.pending_return_fen >= d.total_fen());
  b.pending_return_fen -= d.total_fen();
  g.settle(b.assureCode, d.total_fen());
  refresh(b, now);
}

void TaxBook::reinstate(TaxBill& b, const TaxDelta& d, TimeMs now, std::string_view reference) {
  CBEC_ASSERT(b.state != State::kVoid);
  CBEC_ASSERT(b.pending_return_fen >= d.total_fen());
  add_tax_delta(&b.levied, d, +1);
  b.pending_return_fen -= d.total_fen();
  journal(b.assureCode, TaxJournalEntry{Kind::kReinstatement, now, b.invtNo, std::string(reference),
                                        d.total_fen()});
  refresh(b, now);
}

void TaxBook::deposit(std::string_view assureCode, Fen amount_fen, TimeMs now) {
  journal(std::string(assureCode), TaxJournalEntry{Kind::kDeposit, now, "", "", amount_fen});
}

Status TaxBook::pay(const TaxPayment& p, TimeMs now, ledger::GuaranteeLedger& g) {
  if (p.paymentRef.empty() || p.paymentRef.size() > kMaxPaymentRefChars)
    return InvalidArgument(
        fmt::format("paymentRef is required, at most {} characters", kMaxPaymentRefChars));
  if (p.amount_fen <= 0) return InvalidArgument("amount must be positive");
  auto key = std::make_pair(p.assureCode, p.paymentRef);
  if (auto it = payments_.find(key); it != payments_.end()) {
    if (it->second.invtNo == p.invtNo && it->second.amount_fen == p.amount_fen)
      return Status::Ok();  // the same payment again: already applied
    return AlreadyExists(fmt::format(
        "paymentRef {} of guarantor {} was already used for {} ({}); a new payment needs a new "
        "reference",
        p.paymentRef, p.assureCode, it->second.invtNo.empty() ? "a batch" : it->second.invtNo,
        format_fen(it->second.amount_fen)));
  }
  std::vector<TaxBill*> paying;
  if (!p.invtNo.empty()) {
    TaxBill* found = find(p.invtNo);
    if (found == nullptr) return NotFound(fmt::format("no tax bill for list {}", p.invtNo));
    const TaxBill& b = *found;
    if (b.assureCode != p.assureCode)
      return PermissionDenied(fmt::format("the bill of list {} is guaranteed by {}, not {}",
                                          b.invtNo, b.assureCode, p.assureCode));
    if (b.state == State::kOpen)
      return FailedPrecondition(
          fmt::format("the bill of list {} is payable from {} (after the cancel and return window)",
                      b.invtNo, format_iso_date(beijing_date(b.payable_at))));
    if (b.outstanding_fen() == 0)
      return FailedPrecondition(fmt::format("the bill of list {} is {}: nothing outstanding",
                                            b.invtNo, tax_bill_state_name(b.state)));
    paying.push_back(found);
  } else {
    if (auto a = payable_.find(p.assureCode); a != payable_.end()) {
      for (const std::string& invtNo : a->second) {
        TaxBill* b = find(invtNo);  // a map node: stays valid while more are restored
        CBEC_ASSERT(b != nullptr && batch_pays(*b));
        paying.push_back(b);
      }
    }
    if (paying.empty())
      return FailedPrecondition(fmt::format("guarantor {} has no payable bill", p.assureCode));
  }
  Fen total = 0;
  for (const TaxBill* b : paying) total += b->outstanding_fen();
  if (total != p.amount_fen)
    return InvalidArgument(fmt::format(
        "amount {} differs from the {} outstanding on {} bill(s); pay exactly what is owed",
        format_fen(p.amount_fen), format_fen(total), paying.size()));
  TaxPaymentRecord rec{p.invtNo, p.amount_fen, now, {}};
  for (TaxBill* paid : paying) {
    TaxBill& b = *paid;
    Fen owed = b.outstanding_fen();
    b.paid_fen += owed;
    journal(b.assureCode, TaxJournalEntry{Kind::kPayment, now, b.invtNo, p.paymentRef, owed});
    g.settle(b.assureCode, owed);
    refresh(b, now);
    rec.bills.push_back(b.invtNo);
  }
  payments_[key] = std::move(rec);
  return Status::Ok();
}

void TaxBook::record_credit(std::string_view code, TaxCreditEvent e) {
  TaxCreditRecord& c = credit_[std::string(code)];
  if (e.kind == TaxCreditEvent::Kind::kLapsedReturn) ++c.lapsed_returns;
  c.events.push_back(std::move(e));
  if (on_credit_event) on_credit_event(std::string(code), c.events.back());
}

const TaxCreditRecord* TaxBook::credit(std::string_view code) const {
  auto it = credit_.find(code);
  return it == credit_.end() ? nullptr : &it->second;
}

Result<TaxStatement> TaxBook::statement(std::string_view assureCode, CivilDate from, CivilDate to,
                                        const ledger::GuaranteeLedger& g) const {
  int64_t days = days_from_civil(to) - days_from_civil(from) + 1;
  if (days < 1) return InvalidArgument("the period ends before it starts (to < from)");
  if (days > kMaxStatementDays)
    return InvalidArgument(
        fmt::format("a statement covers at most {} days, asked {}", kMaxStatementDays, days));
  const TimeMs end = beijing_midnight(add_days(to, 1));
  TaxStatement st;
  st.assureCode = std::string(assureCode);
  st.from = from;
  st.to = to;
  auto sum = journal_summary_.find(assureCode);
  if (sum != journal_summary_.end()) {
    // Opening = the balance now less everything journalled from `from` on: only the days from
    // `from` to the last day with entries are read, never the guarantor's whole history.
    Fen from_on = 0;
    std::vector<std::string> billed;
    const int64_t first = std::max(days_from_civil(from), days_from_civil(sum->second.first_day));
    const int64_t last = days_from_civil(sum->second.last_day);
    for (int64_t d = first; d <= last; ++d) {
      auto day = journal_.peek(Key{std::string(assureCode), format_date8(civil_from_days(d))});
      if (!day) continue;
      for (const TaxJournalEntry& e : *day) {
        from_on += e.signed_fen();
        if (e.time >= end) continue;
        switch (e.kind) {
          case Kind::kBill:
            st.bills_fen += e.amount_fen;
            billed.push_back(e.invtNo);
            break;
          case Kind::kReinstatement:
            st.reinstated_fen += e.amount_fen;
            break;
          case Kind::kReduction:
            st.reductions_fen += e.amount_fen;
            break;
          case Kind::kVoid:
            st.voids_fen += e.amount_fen;
            break;
          case Kind::kPayment:
            st.payments_fen += e.amount_fen;
            break;
          case Kind::kDeposit:
            st.deposits_fen += e.amount_fen;
            break;
        }
        st.entries.push_back(e);
      }
    }
    st.opening_fen = sum->second.balance_fen - from_on;
    for (const std::string& invtNo : billed)
      if (auto b = find(invtNo)) st.bills.push_back(std::move(b));
  }
  st.closing_fen = st.opening_fen + st.bills_fen + st.reinstated_fen - st.reductions_fen -
                   st.voids_fen - st.payments_fen;
  if (const auto* acct = g.find(assureCode)) st.guarantee = *acct;
  return st;
}

void TaxBook::check_invariants(const ledger::GuaranteeLedger& g) const {
  std::map<std::string, Fen, std::less<>> guaranteed, outstanding;
  size_t payable = 0;
  for_each_bill([&](const TaxBill& b) {
    guaranteed[b.assureCode] += b.guaranteed_fen();
    outstanding[b.assureCode] += b.outstanding_fen();
    // The payable set holds exactly the bills a batch payment pays.
    auto p = payable_.find(b.assureCode);
    const bool listed = p != payable_.end() && p->second.count(b.invtNo) != 0;
    CBEC_ASSERT(listed == batch_pays(b));
    payable += listed ? 1 : 0;
  });
  size_t listed = 0;
  for (const auto& [code, invts] : payable_) listed += invts.size();
  CBEC_ASSERT(listed == payable);
  for (const auto& [code, amount] : guaranteed) {
    const auto* a = g.find(code);
    CBEC_ASSERT((a == nullptr ? 0 : a->open_bills_fen) == amount);
  }
  std::map<std::string, Fen, std::less<>> balance;
  journal_.for_each_sorted([&](const Key& k, const std::vector<TaxJournalEntry>& day) {
    for (const auto& e : day) balance[k.first] += e.signed_fen();
  });
  for (const auto& [code, sum] : journal_summary_) {
    CBEC_ASSERT(balance[code] == sum.balance_fen);
    auto o = outstanding.find(code);
    CBEC_ASSERT(sum.balance_fen == (o == outstanding.end() ? 0 : o->second));
  }
}

void TaxBook::dump(std::ostream& o) const {
  for_each_bill([&](const TaxBill& b) {
    o << "bill " << b.invtNo << " " << b.taxNo << " " << b.assureCode << " " << b.released_at << " "
      << tax_bill_state_name(b.state) << " tax " << b.tax.total_fen() << " levied "
      << b.levied.total_fen() << " paid " << b.paid_fen << " pending " << b.pending_return_fen
      << " due " << b.payable_at << "/" << b.overdue_at << (b.overdue_recorded ? " overdue" : "");
    for (const auto& l : b.levied.lines)
      o << " " << l.gnum << ":" << l.dutiable_fen << "/" << l.tariff_fen << "/" << l.ct_fen << "/"
        << l.vat_fen;
    o << "\n";
  });
  journal_.for_each_sorted([&](const Key& k, const std::vector<TaxJournalEntry>& day) {
    for (const auto& e : day)
      o << "journal " << k.first << " " << e.time << " " << journal_kind_name(e.kind) << " "
        << e.invtNo << " " << e.reference << " " << e.amount_fen << "\n";
  });
  payments_.for_each_sorted([&](const Key& key, const TaxPaymentRecord& p) {
    o << "payment " << key.first << " " << key.second << " " << p.invtNo << " " << p.amount_fen
      << " " << p.time;
    for (const auto& b : p.bills) o << " " << b;
    o << "\n";
  });
  for (const auto& [code, c] : credit_) {
    o << "tax_credit " << code << " " << c.overdue_bills << " " << c.overdue_fen << " "
      << c.lapsed_returns;
    for (const auto& e : c.events)
      o << " " << static_cast<int>(e.kind) << ":" << e.time << ":" << e.invtNo << ":" << e.reference
        << ":" << e.amount_fen;
    o << "\n";
  }
  o << "tax_serial " << serial_ << "\n";
}

// ---- snapshot --------------------------------------------------------------------------------
namespace {
constexpr uint8_t kSnapshotVersion = 1;

// A boolean written by ByteWriter::boolean (only 0 or 1, so that a blob has one reading).
bool get_boolean(ByteReader& in) {
  uint8_t b = in.u8();
  if (b > 1) in.fail();
  return b == 1;
}
uint32_t get_u32(ByteReader& in) {
  uint64_t v = in.u64();
  if (v > std::numeric_limits<uint32_t>::max()) in.fail();
  return static_cast<uint32_t>(v);
}
bool is_valid(CivilDate d) { return is_valid_date(d.year, d.month, d.day); }
}  // namespace

void TaxBook::save_state(ByteWriter& w) const {
  w.u8(kSnapshotVersion);
  w.u64(serial_);
  w.u64(unsettled_.size());
  for (const auto& [code, invts] : unsettled_) {
    w.str(code);
    w.u64(invts.size());
    for (const std::string& invtNo : invts) w.str(invtNo);
  }
  encode_timers(w, timers_);
  w.u64(journal_summary_.size());
  for (const auto& [code, sum] : journal_summary_) {
    w.str(code);
    w.i64(sum.balance_fen);
    encode_civil_date(w, sum.first_day);
    encode_civil_date(w, sum.last_day);
    w.boolean(sum.any);
  }
  w.u64(credit_.size());
  for (const auto& [code, c] : credit_) {
    w.str(code);
    w.u64(c.overdue_bills);
    w.i64(c.overdue_fen);
    w.u64(c.lapsed_returns);
    w.u64(c.events.size());
    for (const TaxCreditEvent& e : c.events) {
      w.u8(static_cast<uint8_t>(e.kind));
      w.i64(e.time);
      w.str(e.invtNo);
      w.str(e.reference);
      w.i64(e.amount_fen);
    }
  }
}

bool TaxBook::load_state(ByteReader& in) {
  CBEC_ASSERT(unsettled_.empty() && payable_.empty() && timers_.empty() &&
              journal_summary_.empty() && credit_.empty() && serial_ == 0);
  if (in.u8() != kSnapshotVersion) return false;
  serial_ = in.u64();
  for (uint64_t i = 0, n = in.count(); i < n; ++i) {
    std::string code = in.str();
    std::set<std::string> invts;
    for (uint64_t j = 0, m = in.count(); j < m; ++j) {
      std::string invtNo = in.str();
      if (!in.ok() || !append_in_order(&invts, std::move(invtNo))) return false;
    }
    // track() drops a guarantor whose last bill is settled.
    if (!in.ok() || invts.empty() ||
        !append_in_order(&unsettled_, std::move(code), std::move(invts)))
      return false;
  }
  decode_timers(in, &timers_);
  for (uint64_t i = 0, n = in.count(); i < n; ++i) {
    std::string code = in.str();
    JournalSummary sum;
    sum.balance_fen = in.i64();
    decode_civil_date(in, &sum.first_day);
    decode_civil_date(in, &sum.last_day);
    sum.any = get_boolean(in);
    if (!in.ok() || !is_valid(sum.first_day) || !is_valid(sum.last_day) ||
        (sum.any && sum.last_day < sum.first_day) ||
        !append_in_order(&journal_summary_, std::move(code), sum))
      return false;
  }
  for (uint64_t i = 0, n = in.count(); i < n; ++i) {
    std::string code = in.str();
    TaxCreditRecord c;
    c.overdue_bills = get_u32(in);
    c.overdue_fen = in.i64();
    c.lapsed_returns = get_u32(in);
    const uint64_t events = in.count();
    c.events.reserve(events);
    for (uint64_t j = 0; j < events; ++j) {
      TaxCreditEvent& e = c.events.emplace_back();
      uint8_t kind = in.u8();
      if (kind > static_cast<uint8_t>(TaxCreditEvent::Kind::kLapsedReturn)) return false;
      e.kind = static_cast<TaxCreditEvent::Kind>(kind);
      e.time = in.i64();
      in.str(&e.invtNo);
      in.str(&e.reference);
      e.amount_fen = in.i64();
    }
    if (!in.ok() || !append_in_order(&credit_, std::move(code), std::move(c))) return false;
  }
  if (!in.ok()) return false;

  // Cross-references into the archive: an unsettled bill is one of its guarantor's bills and not
  // settled (pay() walks them and asserts they exist); a timer is the payable or overdue time of
  // an unsettled bill (track() drops both when the bill is settled).
  std::map<std::string_view, std::pair<TimeMs, TimeMs>> due;  // invtNo -> payable, overdue
  for (const auto& [code, invts] : unsettled_) {
    for (const std::string& invtNo : invts) {
      Found<TaxBill> b = bills_.peek(invtNo);
      if (!b || b->invtNo != invtNo || b->assureCode != code) return false;
      if ((b->state == State::kPaid || b->state == State::kVoid) && b->pending_return_fen == 0)
        return false;
      if (!due.emplace(invtNo, std::pair(b->payable_at, b->overdue_at)).second)
        return false;  // one bill under two guarantors
      if (batch_pays(*b)) payable_[code].insert(invtNo);
    }
  }
  for (const auto& [t, invtNo] : timers_) {
    auto d = due.find(invtNo);
    if (d == due.end() || (t != d->second.first && t != d->second.second)) return false;
  }
  return true;
}

// ---- codecs ----------------------------------------------------------------------------------
void encode_tax_bill(ByteWriter& w, const TaxBill& b) {
  w.str(b.invtNo);
  w.str(b.assureCode);
  w.i64(b.released_at);
  encode_list_tax(w, b.tax);
  w.u8(static_cast<uint8_t>(b.state));
  w.str(b.taxNo);
  w.str(b.agentCode);
  w.str(b.ebcCode);
  w.i64(b.payable_at);
  w.i64(b.overdue_at);
  encode_list_tax(w, b.levied);
  w.i64(b.paid_fen);
  w.i64(b.pending_return_fen);
  w.boolean(b.overdue_recorded);
}
void decode_tax_bill(ByteReader& in, TaxBill* b) {
  in.str(&b->invtNo);
  in.str(&b->assureCode);
  b->released_at = in.i64();
  decode_list_tax(in, &b->tax);
  uint8_t state = in.u8();
  if (state > static_cast<uint8_t>(State::kOverdue)) return in.fail();
  b->state = static_cast<State>(state);
  in.str(&b->taxNo);
  in.str(&b->agentCode);
  in.str(&b->ebcCode);
  b->payable_at = in.i64();
  b->overdue_at = in.i64();
  decode_list_tax(in, &b->levied);
  b->paid_fen = in.i64();
  b->pending_return_fen = in.i64();
  b->overdue_recorded = in.boolean();
}
void encode_journal_day(ByteWriter& w, const std::vector<TaxJournalEntry>& day) {
  w.u64(day.size());
  for (const auto& e : day) {
    w.u8(static_cast<uint8_t>(e.kind));
    w.i64(e.time);
    w.str(e.invtNo);
    w.str(e.reference);
    w.i64(e.amount_fen);
  }
}
void decode_journal_day(ByteReader& in, std::vector<TaxJournalEntry>* day) {
  uint64_t n = in.u64();
  if (n > kMaxDecodedJournalEntries) return in.fail();
  day->resize(n);
  for (auto& e : *day) {
    uint8_t kind = in.u8();
    if (kind > static_cast<uint8_t>(Kind::kDeposit)) return in.fail();
    e.kind = static_cast<Kind>(kind);
    e.time = in.i64();
    in.str(&e.invtNo);
    in.str(&e.reference);
    e.amount_fen = in.i64();
  }
}
void encode_tax_payment(ByteWriter& w, const TaxPaymentRecord& p) {
  w.str(p.invtNo);
  w.i64(p.amount_fen);
  w.i64(p.time);
  w.u64(p.bills.size());
  for (const auto& b : p.bills) w.str(b);
}
void decode_tax_payment(ByteReader& in, TaxPaymentRecord* p) {
  in.str(&p->invtNo);
  p->amount_fen = in.i64();
  p->time = in.i64();
  uint64_t n = in.u64();
  if (n > kMaxDecodedJournalEntries) return in.fail();
  p->bills.resize(n);
  for (auto& b : p->bills) in.str(&b);
}

}  // namespace cbec::clearance
