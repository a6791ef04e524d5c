// The three ledgers of the clearance core: bonded stock, buyer annual totals, tax guarantees.
//
// Public face of src/ledger/. Each ledger is a separate component with its own state so that
// later they can run in different partitions. All follow the same protocol:
//   reserve(id, ...)  — all-or-nothing; fails with kResourceExhausted naming the shortfall and
//                       changes nothing; at most one open reservation per id and ledger.
//   commit(id)        — the reservation becomes final (stock written off, total counted, bill
//                       open against the guarantee).
//   release(id)       — the reservation is dropped (list rejected).
// A reservation is committed or released exactly once (asserted). Invariants (no negative stock,
// reserved ≤ on hand, guarantee never negative) are asserted after every operation.
// Quantities are Decimal units (1e-5 of the unit); money is fen.
#pragma once

#include <climits>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "archive/cold_map.h"
#include "common/money.h"
#include "common/status.h"

namespace cbec::ledger {

using ReservationId = uint64_t;  // the clearance core uses the list's internal id

// ---- Bonded stock per (emsNo, itemRecordNo) -----------------------------------------------
struct StockKey {
  std::string emsNo;
  std::string itemRecordNo;
  auto operator<=>(const StockKey&) const = default;
};
struct StockItem {
  std::string gcode;  // 10-digit HS code recorded at stock-in
  std::string name;
  std::string unit;   // JGS-20 unit of the quantities
  int64_t on_hand_units = 0;   // in the warehouse, not yet written off
  int64_t reserved_units = 0;  // held for lists under review/inspection
  int64_t available_units() const { return on_hand_units - reserved_units; }
};
struct StockNeed {
  StockKey key;
  int64_t qty_units = 0;
};

class StockLedger {
 public:
  // Reservations point into the ledger's own map: a copy would point into the original.
  StockLedger() = default;
  StockLedger(const StockLedger&) = delete;
  StockLedger& operator=(const StockLedger&) = delete;
  StockLedger(StockLedger&&) = default;
  StockLedger& operator=(StockLedger&&) = default;

  // Stock-in (入区): creates the item on first use. REQUIRES qty_units > 0.
  void stock_in(const StockKey& key, int64_t qty_units, std::string_view gcode,
                std::string_view name, std::string_view unit);
  const StockItem* find(const StockKey& key) const;
  Status reserve(ReservationId id, std::span<const StockNeed> needs);
  void commit(ReservationId id);   // write-off (核销)
  void release(ReservationId id);
  // Returned goods back in the warehouse (CEB625 with arrival confirmed).
  void restore(const StockKey& key, int64_t qty_units);
  bool has_reservation(ReservationId id) const { return reservations_.count(id) != 0; }
  void check_invariants() const;
  const std::map<StockKey, StockItem>& items() const { return items_; }

  // Snapshot (issue #3): items and open reservations (reservations in id order, each naming its
  // entry by key), so that the bytes are a function of the state.
  void save_state(ByteWriter& w) const;
  // REQUIRES: a freshly constructed ledger. Reads what save_state wrote; false on malformed input
  // (the ledger is then unspecified but safe to destroy): never asserts on input, allocates at
  // most what the bytes can hold, and checks what check_invariants() asserts before calling it.
  [[nodiscard]] bool load_state(ByteReader& in);

 private:
  using Items = std::map<StockKey, StockItem>;
  // A reservation holds the item's map entry (items are never erased, so it stays valid) rather
  // than a copy of its key: commit and release then need no key copy and no second lookup.
  struct Held {
    Items::iterator item;
    int64_t qty_units;
  };
  Items items_;
  std::unordered_map<ReservationId, std::vector<Held>> reservations_;
  std::vector<StockNeed> merged_;  // reserve()'s scratch, kept to reuse its capacity
};

// ---- Buyer annual totals per (buyerIdNumber, year) ----------------------------------------
struct QuotaKey {
  std::string buyerIdNumber;
  int year = 0;
  auto operator<=>(const QuotaKey&) const = default;
};
struct QuotaTotals {
  Fen committed_fen = 0;  // released lists this year (less returns)
  Fen reserved_fen = 0;   // lists under review/inspection
};

}  // namespace cbec::ledger

// Hashed: every list looks its buyer up two or three times, and in an ordered map of millions of
// 18-digit numbers that share their region and birth-year prefixes each of the ~20 steps
// compared most of the digits (memcmp and tree walks were 12 % of the apply thread over HTTP).
template <>
struct cbec::archive::KeyHash<cbec::ledger::QuotaKey> {
  size_t operator()(const cbec::ledger::QuotaKey& k) const noexcept {
    return hash_combine(std::hash<std::string_view>()(k.buyerIdNumber), std::hash<int>()(k.year));
  }
};

namespace cbec::ledger {

// One entry per buyer and year, for ever: the entries live in a ColdMap (src/archive/), so that
// the buyers of past months and years leave memory (issue #3) and come back on their next list.
class QuotaLedger {
 public:
  QuotaLedger() = default;
  QuotaLedger(const QuotaLedger&) = delete;
  QuotaLedger& operator=(const QuotaLedger&) = delete;

  // Fails (kResourceExhausted, naming year-to-date, this list and the limit) when
  // committed + reserved + amount > limit_fen.
  Status reserve(ReservationId id, const QuotaKey& key, Fen amount_fen, Fen limit_fen);
  void commit(ReservationId id);
  void release(ReservationId id);
  // A return or cancel in time reduces the released total. REQUIRES amount ≤ committed.
  void reduce(const QuotaKey& key, Fen amount_fen);
  // A return that lapsed (goods not back in time) counts again what reduce() took off. No limit
  // check: the buyer did buy the goods; a total above the limit only blocks their next lists.
  void reinstate(const QuotaKey& key, Fen amount_fen);
  // In memory or archived (a decoded copy: readers under the owner's shared lock may call it).
  QuotaTotals totals(const QuotaKey& key) const;
  bool has_reservation(ReservationId id) const { return reservations_.count(id) != 0; }
  void check_invariants() const;

  // The archive (issue #3). attach before any entry exists; archive_idle moves the entries that
  // no open reservation holds and nothing touched at or after cutoff; evict_all moves every
  // entry (a snapshot). Without an archive everything stays in memory.
  void attach(archive::Archive* a, const TimeMs* clock) { totals_.attach(a, clock); }
  void archive_idle(TimeMs cutoff);
  void evict_all() { totals_.evict_all(); }
  using Totals = archive::ColdMap<QuotaKey, QuotaTotals, archive::Hashed>;
  // The entries in memory (all of them without an archive), in no order.
  const Totals::Map& hot() const { return totals_.hot(); }
  // Every entry, in memory and archived, in key order (decodes the archive: dumps and tests).
  void for_each(const std::function<void(const QuotaKey&, const QuotaTotals&)>& f) const;

  // Snapshot (issue #3): the entries in memory (none after evict_all) and the open reservations
  // (in id order, each naming its entry by key), so that the bytes are a function of the state.
  void save_state(ByteWriter& w) const;
  // REQUIRES: a freshly constructed ledger. Reads what save_state wrote; false on malformed input
  // (the ledger is then unspecified but safe to destroy): never asserts on input, allocates at
  // most what the bytes can hold, and checks what check_invariants() asserts before calling it.
  [[nodiscard]] bool load_state(ByteReader& in);

 private:
  // The buyer's entry by key (it may be archived, by a snapshot, while the reservation is open);
  // meaningful only when amount_fen > 0, since a zero reservation creates no entry.
  struct Held {
    QuotaKey key;
    Fen amount_fen;
  };
  Totals totals_{"qt"};
  std::unordered_map<ReservationId, Held> reservations_;
};

// ---- Guarantee balance per assureCode ------------------------------------------------------
struct GuaranteeAccount {
  Fen deposited_fen = 0;  // guarantee lodged (deposit or bank guarantee)
  Fen open_bills_fen = 0; // tax of released lists not yet paid or voided
  Fen reserved_fen = 0;   // tax of lists under review/inspection
  Fen remaining_fen() const { return deposited_fen - open_bills_fen - reserved_fen; }
};

class GuaranteeLedger {
 public:
  // Reservations point into the ledger's own map: a copy would point into the original.
  GuaranteeLedger() = default;
  GuaranteeLedger(const GuaranteeLedger&) = delete;
  GuaranteeLedger& operator=(const GuaranteeLedger&) = delete;
  GuaranteeLedger(GuaranteeLedger&&) = default;
  GuaranteeLedger& operator=(GuaranteeLedger&&) = default;

  void deposit(std::string_view assureCode, Fen amount_fen);  // REQUIRES amount > 0
  // Fails (kResourceExhausted, naming remaining and needed) when remaining < amount.
  Status reserve(ReservationId id, std::string_view assureCode, Fen amount_fen);
  void commit(ReservationId id);  // the tax becomes an open bill
  void release(ReservationId id);
  // An open bill paid or voided: restores the guarantee. REQUIRES amount ≤ open bills.
  void settle(std::string_view assureCode, Fen amount_fen);
  const GuaranteeAccount* find(std::string_view assureCode) const;
  bool has_reservation(ReservationId id) const { return reservations_.count(id) != 0; }
  void check_invariants() const;
  const std::map<std::string, GuaranteeAccount, std::less<>>& all() const { return accounts_; }

  // Snapshot (issue #3): items and open reservations (reservations in id order, each naming its
  // entry by key), so that the bytes are a function of the state.
  void save_state(ByteWriter& w) const;
  // REQUIRES: a freshly constructed ledger. Reads what save_state wrote; false on malformed input
  // (the ledger is then unspecified but safe to destroy): never asserts on input, allocates at
  // most what the bytes can hold, and checks what check_invariants() asserts before calling it.
  [[nodiscard]] bool load_state(ByteReader& in);

 private:
  using Accounts = std::map<std::string, GuaranteeAccount, std::less<>>;
  // The guarantor's account (accounts are never erased); meaningful only when amount_fen > 0: a
  // zero reservation may name a guarantor without an account.
  struct Held {
    Accounts::iterator account;
    Fen amount_fen;
  };
  Accounts accounts_;
  std::unordered_map<ReservationId, Held> reservations_;
};

}  // namespace cbec::ledger

namespace cbec::archive {
template <>
struct KeyCodec<ledger::QuotaKey> {
  static void put(ByteWriter& w, const ledger::QuotaKey& k) {
    w.str(k.buyerIdNumber);
    w.i64(k.year);
  }
  static void get(ByteReader& in, ledger::QuotaKey* k) {
    in.str(&k->buyerIdNumber);
    const int64_t year = in.i64();
    if (year < INT_MIN || year > INT_MAX) return in.fail();
    k->year = static_cast<int>(year);
  }
};
template <>
struct ValueCodec<ledger::QuotaTotals> {
  static void put(ByteWriter& w, const ledger::QuotaTotals& t) {
    w.i64(t.committed_fen);
    w.i64(t.reserved_fen);
  }
  static void get(ByteReader& in, ledger::QuotaTotals* t) {
    t->committed_fen = in.i64();
    t->reserved_fen = in.i64();
  }
};
}  // namespace cbec::archive

