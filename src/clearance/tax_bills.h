// Internal: the tax bills of released lists (CEB816 shape), their settlement, the guarantor
// journal behind the statement, and the tax side of the credit record (DOMAIN.md §4.1 step 7).
//
// Money conservation, checked by check_invariants() and the tests: for every guarantor,
//   GuaranteeAccount::open_bills_fen == Σ TaxBill::guaranteed_fen() over its bills, and
//   the journal balance (Σ signed entries) == Σ TaxBill::outstanding_fen() over its bills.
// Every operation below keeps both: a bill's guaranteed amount only falls together with a
// GuaranteeLedger::settle of the same amount, and every change of what is outstanding is
// journalled.
//
// A bill's state follows from its amounts and the time (refresh()): kOpen before payable_at,
// kPayable, kOverdue from overdue_at with tax outstanding, kPaid when nothing is outstanding
// and nothing pending (also a list without tax), kVoid when cancelled or when every line was
// returned (nothing levied, nothing pending).
#pragma once

#include <functional>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clearance/clearance.h"

namespace cbec::clearance {

// The tax a return takes off a bill, or a lapse puts back: per line (gnum; dutiable_fen is the
// line's dutiable value taken off) and for the list.
struct TaxDelta {
  std::vector<tax::LineTax> lines;
  Fen dutiable_fen = 0;
  Fen tariff_fen = 0, ct_fen = 0, vat_fen = 0;
  Fen total_fen() const { return tariff_fen + ct_fen + vat_fen; }
};

// levied += sign · d, per line (by gnum) and for the list. REQUIRES: no amount goes negative.
void add_tax_delta(tax::ListTax* levied, const TaxDelta& d, int sign);

class TaxBook {
 public:
  // Called with every credit event as it is recorded (an overdue bill for its guarantor, a
  // lapsed return for its declarer): the engine feeds the credit score (supervision.h).
  std::function<void(const std::string& code, const TaxCreditEvent& e)> on_credit_event;

  // Opens the bill of list L released at `now`; `policy` is the one in force on the release
  // date (its tax_payable_days and tax_due_days fix the bill's dates).
  // REQUIRES: L.tax is set. The returned reference is valid until the next open().
  TaxBill& open(const ListRecord& L, TimeMs now, const ref::Policy& policy);
  TaxBill* find(std::string_view invtNo);
  const TaxBill* find(std::string_view invtNo) const;
  const std::vector<TaxBill>& bills() const { return bills_; }

  // Bills whose payable or overdue time has come (≤ now) move on. Called once per command.
  void advance(TimeMs now);

  // Cancel: nothing more is levied; the guarantee the bill held is restored.
  // REQUIRES: nothing paid.
  void void_bill(TaxBill& b, TimeMs now, std::string_view reference, ledger::GuaranteeLedger& g);
  // A return applied: d is no longer levied but stays guaranteed (pending) until arrival.
  void reduce(TaxBill& b, const TaxDelta& d, TimeMs now, std::string_view reference);
  // The return's goods arrived in time: its pending amount leaves the guarantee.
  void returned(TaxBill& b, const TaxDelta& d, TimeMs now, ledger::GuaranteeLedger& g);
  // The return lapsed or was withdrawn: d is levied again.
  void reinstate(TaxBill& b, const TaxDelta& d, TimeMs now, std::string_view reference);
  // A guarantee lodged, for the statement.
  void deposit(std::string_view assureCode, Fen amount_fen, TimeMs now);
  // Pays one bill or every payable/overdue bill of the guarantor (see TaxPayment).
  // REQUIRES: p.assureCode is a registered guarantor (the engine checks).
  Status pay(const TaxPayment& p, TimeMs now, ledger::GuaranteeLedger& g);

  void record_credit(std::string_view code, TaxCreditEvent e);
  const TaxCreditRecord* credit(std::string_view code) const;

  Result<TaxStatement> statement(std::string_view assureCode, CivilDate from, CivilDate to,
                                 const ledger::GuaranteeLedger& g) const;
  // Asserts the two conservation equations above against the guarantee ledger.
  void check_invariants(const ledger::GuaranteeLedger& g) const;
  void dump(std::ostream& o) const;

 private:
  struct Payment {
    std::string invtNo;  // as requested ("" = batch)
    Fen amount_fen = 0;
    TimeMs time = 0;
    std::vector<std::string> bills;  // invtNo of each bill paid
  };

  void refresh(TaxBill& b, TimeMs now);
  void journal(const std::string& assureCode, TaxJournalEntry e);

  std::vector<TaxBill> bills_;
  std::map<std::string, size_t, std::less<>> by_invt_;
  std::map<std::string, std::vector<size_t>, std::less<>> by_assure_;
  std::set<std::pair<TimeMs, size_t>> timers_;  // (payable_at or overdue_at, bill index)
  std::map<std::string, std::vector<TaxJournalEntry>, std::less<>> journal_;
  std::map<std::pair<std::string, std::string>, Payment> payments_;  // (assureCode, paymentRef)
  std::map<std::string, TaxCreditRecord, std::less<>> credit_;
  uint64_t serial_ = 0;
};

}  // namespace cbec::clearance
