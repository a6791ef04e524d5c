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

#include "archive/cold_map.h"
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

// A guarantor's payment as applied (the answer to the same payment sent again).
struct TaxPaymentRecord {
  std::string invtNo;  // as requested ("" = batch)
  Fen amount_fen = 0;
  TimeMs time = 0;
  std::vector<std::string> bills;  // invtNo of each bill paid
};

class TaxBook {
 public:
  // Called with every credit event as it is recorded (an overdue bill for its guarantor, a
  // lapsed return for its declarer): the engine feeds the credit score (supervision.h).
  std::function<void(const std::string& code, const TaxCreditEvent& e)> on_credit_event;

  // Opens the bill of list L released at `now`; `policy` is the one in force on the release
  // date (its tax_payable_days and tax_due_days fix the bill's dates).
  // REQUIRES: L.tax is set. The returned reference is valid until the next open().
  TaxBill& open(const ListRecord& L, TimeMs now, const ref::Policy& policy);
  // The mutating lookup restores an archived bill; the const one decodes a copy.
  TaxBill* find(std::string_view invtNo);
  Found<TaxBill> find(std::string_view invtNo) const;
  // Every bill, in memory and archived, by invtNo (decodes the archive: tests and tools).
  void for_each_bill(const std::function<void(const TaxBill&)>& f) const;

  // The archive (src/archive/): bills, journal days and payments nobody touched since cutoff go
  // out of memory, except the journal of `today`. Bills still to be paid stay known by key
  // (unsettled set, timers): about 0.3 KB each, for as long as the payment cycle lasts.
  void attach(archive::Archive* a, const TimeMs* clock);
  void archive_idle(TimeMs cutoff, CivilDate today);
  // Archives every bill, journal day and payment now (before a snapshot). REQUIRES: attached.
  void evict_all();

  // Snapshot (issue #3): what is not in the ColdMaps — the unsettled bills per guarantor, the
  // timers, the journal summaries, the credit records, the serial — in a deterministic order.
  // on_credit_event is wiring, not state: it is not written.
  void save_state(ByteWriter& w) const;
  // REQUIRES: a freshly constructed book, attach() called, on the archive that evict_all() of the
  // saved book filled. Reads what save_state wrote; false on malformed input (the book is then
  // unspecified but safe to destroy): never asserts on input, allocates at most what the bytes
  // can hold, validates enum values, dates and that every unsettled bill and timer names a bill
  // of the archive in that state (one archive read per unsettled bill).
  [[nodiscard]] bool load_state(ByteReader& in);

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
  using Key = std::pair<std::string, std::string>;
  // Per guarantor: what the journal adds up to, and the days it has entries on.
  struct JournalSummary {
    Fen balance_fen = 0;  // Σ signed entries == Σ outstanding of the guarantor's bills
    CivilDate first_day, last_day;
    bool any = false;
  };

  void refresh(TaxBill& b, TimeMs now);
  // Keeps a bill in the unsettled set with its timers while it is open, payable, overdue or has a
  // return pending, and out of both once it is paid or void; and in the payable set while a
  // batch payment would pay it.
  void track(const TaxBill& b, TimeMs now);
  void journal(const std::string& assureCode, TaxJournalEntry e);

  archive::ColdMap<std::string, TaxBill, archive::Hashed> bills_{"tb"};  // by invtNo
  // Bills still to be paid or settled, per guarantor (batch payments walk them), and their
  // payable/overdue times, by key. Paid and void bills are in neither.
  std::map<std::string, std::set<std::string>, std::less<>> unsettled_;
  // The unsettled bills a batch payment pays (payable or overdue, tax outstanding), per
  // guarantor, so that it need not restore every unsettled bill from the archive to find them
  // (a month of bills at a zone's rate). Derived from the bills: not in the snapshot,
  // load_state() rebuilds it from the bills it reads anyway.
  std::map<std::string, std::set<std::string>, std::less<>> payable_;
  std::set<std::pair<TimeMs, std::string>> timers_;  // (payable_at or overdue_at, invtNo)
  // The journal by (assureCode, Beijing date yyyymmdd): a statement reads the days it covers.
  archive::ColdMap<Key, std::vector<TaxJournalEntry>, archive::Hashed> journal_{"tj"};
  std::map<std::string, JournalSummary, std::less<>> journal_summary_;
  archive::ColdMap<Key, TaxPaymentRecord, archive::Hashed> payments_{
      "tp"};  // (assureCode, paymentRef)
  std::map<std::string, TaxCreditRecord, std::less<>> credit_;
  uint64_t serial_ = 0;
};

// Codecs of what the TaxBook archives (tax_bills.cc).
void encode_tax_bill(ByteWriter& w, const TaxBill& b);
void decode_tax_bill(ByteReader& in, TaxBill* b);
void encode_journal_day(ByteWriter& w, const std::vector<TaxJournalEntry>& day);
void decode_journal_day(ByteReader& in, std::vector<TaxJournalEntry>* day);
void encode_tax_payment(ByteWriter& w, const TaxPaymentRecord& p);
void decode_tax_payment(ByteReader& in, TaxPaymentRecord* p);

}  // namespace cbec::clearance

namespace cbec::archive {
template <>
struct ValueCodec<clearance::TaxBill> {
  static void put(ByteWriter& w, const clearance::TaxBill& b) { clearance::encode_tax_bill(w, b); }
  static void get(ByteReader& in, clearance::TaxBill* b) { clearance::decode_tax_bill(in, b); }
};
template <>
struct ValueCodec<std::vector<clearance::TaxJournalEntry>> {
  static void put(ByteWriter& w, const std::vector<clearance::TaxJournalEntry>& d) {
    clearance::encode_journal_day(w, d);
  }
  static void get(ByteReader& in, std::vector<clearance::TaxJournalEntry>* d) {
    clearance::decode_journal_day(in, d);
  }
};
template <>
struct ValueCodec<clearance::TaxPaymentRecord> {
  static void put(ByteWriter& w, const clearance::TaxPaymentRecord& p) {
    clearance::encode_tax_payment(w, p);
  }
  static void get(ByteReader& in, clearance::TaxPaymentRecord* p) {
    clearance::decode_tax_payment(in, p);
  }
};
}  // namespace cbec::archive
