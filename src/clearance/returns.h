// Internal: cancel (CEB623 → CEB624) and return (CEB625 → CEB626) of released lists,
// DOMAIN.md §4.4. The engine (engine.cc) does R1 and lends its ledgers through ReturnsCtx; the
// ReturnBook keeps the records, decides, and emits the receipts.
//
// Cancel, within cancel_window_days of the release (days: see days_since_release), by the list's
// declarer, of a released (800) or closed (899) list without a return in progress or done:
// the tax bill is voided (its guarantee restored), the buyer's annual total and yearly quantity
// caps lose what the list counted, and — if the goods never left (800, not closed by a
// signed-for status or a pickup) — bonded stock of a 1210 list goes back into the account book.
// The list becomes kCancelled; the CEB624 says 399.
//
// Return, applied within return_apply_days, whole or by line (qty ≤ what is left of the line
// after earlier returns that did not lapse; several returns may add up to the original):
//   tax: each returned line's tax is recomputed on the quantity that remains — dutiable value
//        D·u/Q rounded half-up to the fen, the line's rates, regime and declaration date, each
//        tax rounded half-up per line (tax::compute on that one line) — and the difference is
//        taken off the bill. When nothing of the list remains, whatever is still levied goes.
//        The amount taken off stays covered by the guarantee until the goods arrive.
//   annual total: reduced by the returned dutiable value (the same D·u/Q differences; all that
//        is left of the list's counted value when nothing remains); caps by qty1 likewise.
// CEB626 120 says so, with the date by which the goods must be back. The warehouse operator's
// ReturnArrival before the start of day return_arrival_days + 1 concludes it (CEB626 399):
// 1210 goods back into stock, the guarantee released. Otherwise the return lapses at that
// moment (CEB626 100): exactly the amounts it took off are levied and counted again, and the
// declarer's credit record gets a lapsed return. appType 2 replaces a pending return, appType 3
// withdraws it (both undo it exactly first); a return that arrived or lapsed is final.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "archive/cold_map.h"
#include "clearance/clearance.h"
#include "clearance/error_codes.h"
#include "clearance/records.h"
#include "clearance/tax_bills.h"

namespace cbec::clearance {

// What the engine knows about a list when it is released and a cancel or return needs later.
struct ReleaseFacts {
  CivilDate decl_date;
  ledger::QuotaKey quota_key;
  Fen quota_fen = 0;  // the dutiable value counted in the buyer's annual total
  CapUse caps;        // yearly caps counted, in line order (lines without a cap are skipped)
};

// What the engine lends to the ReturnBook for one command.
struct ReturnsCtx {
  TimeMs now;
  const ref::ReferenceData& ref;
  ledger::StockLedger& stock;
  ledger::QuotaLedger& quota;
  ledger::GuaranteeLedger& guarantees;
  CapTable& caps_used;
  TaxBook& bills;
  std::function<ListRecord*(std::string_view invtNo)> list_by_invt;
  std::function<std::string()> next_pre_no;
  ceb::Receipts* out;  // the command's receipts
};

using SenderCheck = std::optional<std::pair<Problem, ceb::Finding>>;

class ReturnBook {
 public:
  using Key = std::pair<std::string, std::string>;  // (agentCode, copNo)
  // What the book keeps per released list and per cancel/return (public for the archive's
  // codecs, returns.cc).
  struct ListFacts {
    uint64_t list_id = 0;
    ReleaseFacts release;
    std::map<int64_t, CapKey> line_caps;        // gnum -> the cap its qty1 counted in
    std::map<int64_t, int64_t> returned_units;  // gnum -> returned by pending/arrived returns
    Fen quota_counted_fen = 0;                  // what the list still counts in the annual total
    std::set<Key> returns;                      // pending or arrived returns
  };
  struct Entry {
    ReturnRecord rec;
    TaxDelta delta;  // returns: exactly what was taken off the bill (and is put back on lapse)
    CapUse caps;     // returns: exactly what was taken off the caps
    ceb::ReceiptPtr last;
  };

  void on_release(const ListRecord& L, ReleaseFacts facts);
  // CEB623 → CEB624. `r1` is the engine's sender check. Returns true when a guarantee was
  // restored (lists held by R7 may pass now).
  bool apply_cancel(ReturnsCtx& c, const std::string& sender, const ceb::InvtCancel& rec,
                    const SenderCheck& r1);
  // CEB625 → CEB626 (appType 1 new, 2 replace a pending return, 3 withdraw it).
  void apply_return(ReturnsCtx& c, const std::string& sender, const ceb::InvtRefund& rec,
                    const SenderCheck& r1);
  // The goods of a pending return are back. REQUIRES: a.operatorCode is a registered warehouse
  // operator (the engine checks). Non-OK: refused, nothing changed.
  Status arrival(ReturnsCtx& c, const ReturnArrival& a);
  // Pending returns whose lapse time has come (≤ now) lapse. Called once per command.
  void lapse_due(ReturnsCtx& c);
  bool lapse_is_due(TimeMs now) const { return !lapses_.empty() && lapses_.begin()->first <= now; }

  Found<ReturnRecord> cancel(std::string_view agentCode, std::string_view copNo) const;
  Found<ReturnRecord> refund(std::string_view agentCode, std::string_view copNo) const;
  // The archive (src/archive/): release facts and cancel/return records idle since cutoff.
  void attach(archive::Archive* a, const TimeMs* clock);
  void archive_idle(TimeMs cutoff);
  // Archives every release fact, cancel and return now (before a snapshot). REQUIRES: attached.
  void evict_all();

  // Snapshot (issue #3): what is not in the ColdMaps, the lapse timers of pending returns.
  void save_state(ByteWriter& w) const;
  // REQUIRES: a freshly constructed book, attach() called, on the archive that evict_all() of the
  // saved book filled. Reads what save_state wrote; false on malformed input (the book is then
  // unspecified but safe to destroy): never asserts on input, allocates at most what the bytes
  // can hold, and checks that every lapse timer is a pending return of the archive with that
  // lapse time (lapse_due() asserts it; one archive read per pending return).
  [[nodiscard]] bool load_state(ByteReader& in);
  void dump(std::ostream& o) const;

 private:
  // The effect a return's lines would have now, or the findings refusing them.
  struct Effect {
    std::vector<ReturnLine> lines;
    TaxDelta delta;
    CapUse caps;
    Fen quota_fen = 0;
  };
  // `f` and `levied` are as they would be without the return being replaced (appType 2).
  std::optional<Effect> compute_effect(const ReturnsCtx& c, const ListRecord& L, const ListFacts& f,
                                       const TaxBill& bill, const tax::ListTax& levied,
                                       const ceb::InvtRefund& rec, Problem* problem,
                                       std::vector<ceb::Finding>* findings) const;
  void apply_effect(ReturnsCtx& c, ListFacts& f, TaxBill& bill, Entry& e);
  void undo_effect(ReturnsCtx& c, ListFacts& f, TaxBill& bill, Entry& e);

  archive::ColdMap<std::string, ListFacts, archive::Hashed> lists_{"rl"};  // by invtNo
  archive::ColdMap<Key, Entry, archive::Hashed> cancels_{"rc"};
  archive::ColdMap<Key, Entry, archive::Hashed> refunds_{"rr"};
  std::set<std::pair<TimeMs, Key>> lapses_;
};

void encode_list_facts(ByteWriter& w, const ReturnBook::ListFacts& f);
void decode_list_facts(ByteReader& in, ReturnBook::ListFacts* f);
void encode_return_entry(ByteWriter& w, const ReturnBook::Entry& e);
void decode_return_entry(ByteReader& in, ReturnBook::Entry* e);

}  // namespace cbec::clearance

namespace cbec::archive {
template <>
struct ValueCodec<clearance::ReturnBook::ListFacts> {
  static void put(ByteWriter& w, const clearance::ReturnBook::ListFacts& f) {
    clearance::encode_list_facts(w, f);
  }
  static void get(ByteReader& in, clearance::ReturnBook::ListFacts* f) {
    clearance::decode_list_facts(in, f);
  }
};
template <>
struct ValueCodec<clearance::ReturnBook::Entry> {
  static void put(ByteWriter& w, const clearance::ReturnBook::Entry& e) {
    clearance::encode_return_entry(w, e);
  }
  static void get(ByteReader& in, clearance::ReturnBook::Entry* e) {
    clearance::decode_return_entry(in, e);
  }
};
}  // namespace cbec::archive
