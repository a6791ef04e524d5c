// Tax bills, payments, the guarantor journal and statement (see tax_bills.h).
#include "clearance/tax_bills.h"

#include <algorithm>

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
CivilDate add_days(CivilDate d, int64_t n) { return civil_from_days(days_from_civil(d) + n); }
}  // namespace

TaxBill& TaxBook::open(const ListRecord& L, TimeMs now, const ref::Policy& policy) {
  CBEC_ASSERT(L.tax.has_value());
  CBEC_ASSERT(by_invt_.count(L.invtNo) == 0);
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
  size_t idx = bills_.size();
  bills_.push_back(std::move(b));
  TaxBill& bill = bills_.back();
  by_invt_.emplace(bill.invtNo, idx);
  by_assure_[bill.assureCode].push_back(idx);
  timers_.insert({bill.payable_at, idx});
  timers_.insert({bill.overdue_at, idx});
  journal(bill.assureCode,
          TaxJournalEntry{Kind::kBill, now, bill.invtNo, bill.taxNo, bill.tax.total_fen()});
  refresh(bill, now);
  return bill;
}

TaxBill* TaxBook::find(std::string_view invtNo) {
  auto it = by_invt_.find(invtNo);
  return it == by_invt_.end() ? nullptr : &bills_[it->second];
}
const TaxBill* TaxBook::find(std::string_view invtNo) const {
  auto it = by_invt_.find(invtNo);
  return it == by_invt_.end() ? nullptr : &bills_[it->second];
}

void TaxBook::advance(TimeMs now) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    size_t idx = timers_.begin()->second;
    timers_.erase(timers_.begin());
    refresh(bills_[idx], now);
  }
}

void TaxBook::refresh(TaxBill& b, TimeMs now) {
  if (b.state == State::kVoid) return;  // terminal
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
}

void TaxBook::journal(const std::string& assureCode, TaxJournalEntry e) {
  CBEC_ASSERT(e.amount_fen >= 0);
  journal_[assureCode].push_back(std::move(e));
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
  std::vector<size_t> paying;
  if (!p.invtNo.empty()) {
    auto it = by_invt_.find(p.invtNo);
    if (it == by_invt_.end()) return NotFound(fmt::format("no tax bill for list {}", p.invtNo));
    const TaxBill& b = bills_[it->second];
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
    paying.push_back(it->second);
  } else {
    if (auto a = by_assure_.find(p.assureCode); a != by_assure_.end()) {
      for (size_t idx : a->second) {
        const TaxBill& b = bills_[idx];
        if ((b.state == State::kPayable || b.state == State::kOverdue) && b.outstanding_fen() > 0)
          paying.push_back(idx);
      }
    }
    if (paying.empty())
      return FailedPrecondition(fmt::format("guarantor {} has no payable bill", p.assureCode));
  }
  Fen total = 0;
  for (size_t idx : paying) total += bills_[idx].outstanding_fen();
  if (total != p.amount_fen)
    return InvalidArgument(fmt::format(
        "amount {} differs from the {} outstanding on {} bill(s); pay exactly what is owed",
        format_fen(p.amount_fen), format_fen(total), paying.size()));
  Payment rec{p.invtNo, p.amount_fen, now, {}};
  for (size_t idx : paying) {
    TaxBill& b = bills_[idx];
    Fen owed = b.outstanding_fen();
    b.paid_fen += owed;
    journal(b.assureCode, TaxJournalEntry{Kind::kPayment, now, b.invtNo, p.paymentRef, owed});
    g.settle(b.assureCode, owed);
    refresh(b, now);
    rec.bills.push_back(b.invtNo);
  }
  payments_.emplace(std::move(key), std::move(rec));
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
  const TimeMs start = beijing_midnight(from);
  const TimeMs end = beijing_midnight(add_days(to, 1));
  TaxStatement st;
  st.assureCode = std::string(assureCode);
  st.from = from;
  st.to = to;
  if (auto j = journal_.find(assureCode); j != journal_.end()) {
    for (const TaxJournalEntry& e : j->second) {
      if (e.time >= end) break;  // log order is time order
      if (e.time < start) {
        st.opening_fen += e.signed_fen();
        continue;
      }
      switch (e.kind) {
        case Kind::kBill:
          st.bills_fen += e.amount_fen;
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
  st.closing_fen = st.opening_fen + st.bills_fen + st.reinstated_fen - st.reductions_fen -
                   st.voids_fen - st.payments_fen;
  if (auto a = by_assure_.find(assureCode); a != by_assure_.end()) {
    for (size_t idx : a->second) {
      const TaxBill& b = bills_[idx];
      if (b.released_at >= start && b.released_at < end) st.bills.push_back(&b);
    }
  }
  if (const auto* acct = g.find(assureCode)) st.guarantee = *acct;
  return st;
}

void TaxBook::check_invariants(const ledger::GuaranteeLedger& g) const {
  std::map<std::string, Fen, std::less<>> guaranteed, outstanding;
  for (const TaxBill& b : bills_) {
    guaranteed[b.assureCode] += b.guaranteed_fen();
    outstanding[b.assureCode] += b.outstanding_fen();
  }
  for (const auto& [code, amount] : guaranteed) {
    const auto* a = g.find(code);
    CBEC_ASSERT((a == nullptr ? 0 : a->open_bills_fen) == amount);
  }
  for (const auto& [code, entries] : journal_) {
    Fen balance = 0;
    for (const auto& e : entries) balance += e.signed_fen();
    auto o = outstanding.find(code);
    CBEC_ASSERT(balance == (o == outstanding.end() ? 0 : o->second));
  }
}

void TaxBook::dump(std::ostream& o) const {
  for (const TaxBill& b : bills_) {
    o << "bill " << b.invtNo << " " << b.taxNo << " " << b.assureCode << " " << b.released_at << " "
      << tax_bill_state_name(b.state) << " tax " << b.tax.total_fen() << " levied "
      << b.levied.total_fen() << " paid " << b.paid_fen << " pending " << b.pending_return_fen
      << " due " << b.payable_at << "/" << b.overdue_at << (b.overdue_recorded ? " overdue" : "");
    for (const auto& l : b.levied.lines)
      o << " " << l.gnum << ":" << l.dutiable_fen << "/" << l.tariff_fen << "/" << l.ct_fen << "/"
        << l.vat_fen;
    o << "\n";
  }
  for (const auto& [code, entries] : journal_)
    for (const auto& e : entries)
      o << "journal " << code << " " << e.time << " " << journal_kind_name(e.kind) << " "
        << e.invtNo << " " << e.reference << " " << e.amount_fen << "\n";
  for (const auto& [key, p] : payments_) {
    o << "payment " << key.first << " " << key.second << " " << p.invtNo << " " << p.amount_fen
      << " " << p.time;
    for (const auto& b : p.bills) o << " " << b;
    o << "\n";
  }
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

}  // namespace cbec::clearance
