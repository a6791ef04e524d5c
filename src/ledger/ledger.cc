// The three ledgers (see ledger.h for the protocol).
//
// Every mutating operation checks the invariants of the entries it touched before returning,
// which is O(1) per entry and therefore cheap enough for the hot path; check_invariants()
// recomputes the reserved sums from the open reservations and is O(ledger size), for tests and
// for audits after recovery.
#include "ledger/ledger.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <iterator>
#include <optional>
#include <utility>

#include "common/decimal.h"
#include "common/ordered_append.h"

namespace cbec::ledger {
namespace {

// Quantities in messages are Decimal units; print them the way the list declared them.
std::string format_qty(int64_t units) { return format_decimal(Decimal::of_units(units)); }

void check_item(const StockItem& item) {
  CBEC_ASSERT(item.reserved_units >= 0);
  CBEC_ASSERT(item.on_hand_units >= 0);
  CBEC_ASSERT(item.reserved_units <= item.on_hand_units);
}

void check_totals(const QuotaTotals& t) {
  CBEC_ASSERT(t.committed_fen >= 0);
  CBEC_ASSERT(t.reserved_fen >= 0);
}

void check_account(const GuaranteeAccount& a) {
  CBEC_ASSERT(a.deposited_fen >= 0);
  CBEC_ASSERT(a.open_bills_fen >= 0);
  CBEC_ASSERT(a.reserved_fen >= 0);
  CBEC_ASSERT(a.remaining_fen() >= 0);
}

}  // namespace

// ---- StockLedger ---------------------------------------------------------------------------

void StockLedger::stock_in(const StockKey& key, int64_t qty_units, std::string_view gcode,
                           std::string_view name, std::string_view unit) {
  CBEC_ASSERT(qty_units > 0);
  auto [it, created] = items_.try_emplace(key);
  StockItem& item = it->second;
  if (created) {
    // The account book records the item's description once; later stock-ins add quantity only.
    item.gcode = gcode;
    item.name = name;
    item.unit = unit;
  }
  item.on_hand_units += qty_units;
  check_item(item);
}

const StockItem* StockLedger::find(const StockKey& key) const {
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : &it->second;
}

Status StockLedger::reserve(ReservationId id, std::span<const StockNeed> needs) {
  CBEC_ASSERT(reservations_.count(id) == 0);
  // Two lines of one list may draw on the same account-book item: the check must be against the
  // sum, or each line alone would pass while together they overdraw. A list has a few lines, so
  // they are merged in a sorted vector (key order, as the shortfall text lists them).
  std::vector<StockNeed>& merged = merged_;
  merged.clear();
  for (const StockNeed& n : needs) {
    CBEC_ASSERT(n.qty_units >= 0);
    if (n.qty_units > 0) merged.push_back(n);
  }
  std::sort(merged.begin(), merged.end(),
            [](const StockNeed& a, const StockNeed& b) { return a.key < b.key; });
  size_t unique = 0;
  for (size_t i = 0; i < merged.size(); ++i) {
    if (unique > 0 && merged[unique - 1].key == merged[i].key) {
      merged[unique - 1].qty_units += merged[i].qty_units;
    } else if (unique != i) {
      merged[unique++] = std::move(merged[i]);
    } else {
      ++unique;
    }
  }
  merged.resize(unique);

  std::vector<Held> held;
  held.reserve(merged.size());
  std::string shortfall;
  for (const StockNeed& n : merged) {
    auto item = items_.find(n.key);
    const int64_t available = item != items_.end() ? item->second.available_units() : 0;
    held.push_back(Held{item, n.qty_units});
    if (available >= n.qty_units) continue;
    if (!shortfall.empty()) shortfall += "; ";
    if (item == items_.end()) {
      shortfall += fmt::format("stock {}/{}: not in the account book, needed {}", n.key.emsNo,
                               n.key.itemRecordNo, format_qty(n.qty_units));
    } else {
      shortfall += fmt::format("stock {}/{}: available {}, needed {}", n.key.emsNo,
                               n.key.itemRecordNo, format_qty(available), format_qty(n.qty_units));
    }
  }
  if (!shortfall.empty()) return ResourceExhausted(std::move(shortfall));

  for (const Held& h : held) {
    h.item->second.reserved_units += h.qty_units;
    check_item(h.item->second);
  }
  reservations_.emplace(id, std::move(held));
  return Status::Ok();
}

void StockLedger::commit(ReservationId id) {
  auto it = reservations_.find(id);
  CBEC_ASSERT(it != reservations_.end());
  for (const Held& h : it->second) {
    StockItem& item = h.item->second;
    item.reserved_units -= h.qty_units;
    item.on_hand_units -= h.qty_units;
    check_item(item);
  }
  reservations_.erase(it);
}

void StockLedger::release(ReservationId id) {
  auto it = reservations_.find(id);
  CBEC_ASSERT(it != reservations_.end());
  for (const Held& h : it->second) {
    StockItem& item = h.item->second;
    item.reserved_units -= h.qty_units;
    check_item(item);
  }
  reservations_.erase(it);
}

void StockLedger::restore(const StockKey& key, int64_t qty_units) {
  CBEC_ASSERT(qty_units > 0);
  // Only goods that were written off from this item can come back to it.
  auto it = items_.find(key);
  CBEC_ASSERT(it != items_.end());
  it->second.on_hand_units += qty_units;
  check_item(it->second);
}

void StockLedger::check_invariants() const {
  std::map<StockKey, int64_t> reserved;
  for (const auto& [id, held] : reservations_) {
    for (const Held& h : held) {
      CBEC_ASSERT(h.qty_units > 0);
      CBEC_ASSERT(h.item != items_.end() && items_.count(h.item->first) == 1);
      reserved[h.item->first] += h.qty_units;
    }
  }
  for (const auto& [key, item] : items_) {
    check_item(item);
    auto r = reserved.find(key);
    CBEC_ASSERT(item.reserved_units == (r == reserved.end() ? 0 : r->second));
  }
}

// ---- QuotaLedger ---------------------------------------------------------------------------

Status QuotaLedger::reserve(ReservationId id, const QuotaKey& key, Fen amount_fen, Fen limit_fen) {
  CBEC_ASSERT(reservations_.count(id) == 0);
  CBEC_ASSERT(amount_fen >= 0);
  CBEC_ASSERT(limit_fen >= 0);
  auto entry = totals_.find(key);
  const QuotaTotals current = entry == totals_.end() ? QuotaTotals{} : entry->second;
  const Fen year_to_date_fen = current.committed_fen + current.reserved_fen;
  if (year_to_date_fen + amount_fen > limit_fen) {
    std::string under_review =
        current.reserved_fen > 0
            ? fmt::format(" (of which under review {})", format_fen(current.reserved_fen))
            : std::string();
    return ResourceExhausted(
        fmt::format("annual total {}/{}: year-to-date {}{}, this list {}, limit {}",
                    key.buyerIdNumber, key.year, format_fen(year_to_date_fen), under_review,
                    format_fen(amount_fen), format_fen(limit_fen)));
  }
  if (amount_fen > 0) {
    QuotaTotals& t = entry == totals_.end() ? totals_[key] : entry->second;
    t.reserved_fen += amount_fen;
    check_totals(t);
  }
  reservations_.emplace(id, Held{amount_fen > 0 ? key : QuotaKey{}, amount_fen});
  return Status::Ok();
}

void QuotaLedger::commit(ReservationId id) {
  auto it = reservations_.find(id);
  CBEC_ASSERT(it != reservations_.end());
  const Held& held = it->second;
  if (held.amount_fen > 0) {
    QuotaTotals& t = totals_.at(held.key);
    t.reserved_fen -= held.amount_fen;
    t.committed_fen += held.amount_fen;
    check_totals(t);
  }
  reservations_.erase(it);
}

void QuotaLedger::release(ReservationId id) {
  auto it = reservations_.find(id);
  CBEC_ASSERT(it != reservations_.end());
  const Held& held = it->second;
  if (held.amount_fen > 0) {
    QuotaTotals& t = totals_.at(held.key);
    t.reserved_fen -= held.amount_fen;
    check_totals(t);
  }
  reservations_.erase(it);
}

void QuotaLedger::reduce(const QuotaKey& key, Fen amount_fen) {
  CBEC_ASSERT(amount_fen >= 0);
  if (amount_fen == 0) return;
  auto t = totals_.find(key);
  CBEC_ASSERT(t != totals_.end());
  CBEC_ASSERT(amount_fen <= t->second.committed_fen);
  t->second.committed_fen -= amount_fen;
  check_totals(t->second);
}

void QuotaLedger::reinstate(const QuotaKey& key, Fen amount_fen) {
  CBEC_ASSERT(amount_fen >= 0);
  if (amount_fen == 0) return;
  QuotaTotals& t = totals_[key];
  t.committed_fen += amount_fen;
  check_totals(t);
}

QuotaTotals QuotaLedger::totals(const QuotaKey& key) const {
  auto t = totals_.peek(key);
  return t ? *t : QuotaTotals{};
}

void QuotaLedger::archive_idle(TimeMs cutoff) {
  // An entry a reservation holds stays: the list under review commits or releases it soon.
  totals_.evict_idle(cutoff, [](const QuotaKey&, const QuotaTotals& t) { return t.reserved_fen > 0; });
}

void QuotaLedger::for_each(const std::function<void(const QuotaKey&, const QuotaTotals&)>& f) const {
  totals_.for_each_sorted(f);
}

void QuotaLedger::check_invariants() const {
  std::map<QuotaKey, Fen> reserved;
  for (const auto& [id, held] : reservations_) {
    CBEC_ASSERT(held.amount_fen >= 0);
    if (held.amount_fen == 0) continue;
    reserved[held.key] += held.amount_fen;
  }
  for (const auto& [key, t] : totals_.hot()) {
    check_totals(t);
    auto r = reserved.find(key);
    CBEC_ASSERT(t.reserved_fen == (r == reserved.end() ? 0 : r->second));
  }
  // Held entries that a snapshot archived.
  for (const auto& [key, sum] : reserved) {
    if (totals_.find_hot(key) != nullptr) continue;
    auto t = totals_.peek(key);
    CBEC_ASSERT(t && t->reserved_fen == sum);
  }
}

// ---- GuaranteeLedger -----------------------------------------------------------------------

void GuaranteeLedger::deposit(std::string_view assureCode, Fen amount_fen) {
  CBEC_ASSERT(amount_fen > 0);
  auto it = accounts_.find(assureCode);
  if (it == accounts_.end()) {
    it = accounts_.emplace(std::string(assureCode), GuaranteeAccount{}).first;
  }
  it->second.deposited_fen += amount_fen;
  check_account(it->second);
}

Status GuaranteeLedger::reserve(ReservationId id, std::string_view assureCode, Fen amount_fen) {
  CBEC_ASSERT(reservations_.count(id) == 0);
  CBEC_ASSERT(amount_fen >= 0);
  auto it = accounts_.find(assureCode);
  const Fen remaining_fen = it == accounts_.end() ? 0 : it->second.remaining_fen();
  if (remaining_fen < amount_fen) {
    return ResourceExhausted(fmt::format("guarantee {}: remaining {}, needed {}{}", assureCode,
                                         format_fen(remaining_fen), format_fen(amount_fen),
                                         it == accounts_.end() ? " (no guarantee lodged)" : ""));
  }
  if (amount_fen > 0) {
    it->second.reserved_fen += amount_fen;
    check_account(it->second);
  }
  reservations_.emplace(id, Held{it, amount_fen});
  return Status::Ok();
}

void GuaranteeLedger::commit(ReservationId id) {
  auto it = reservations_.find(id);
  CBEC_ASSERT(it != reservations_.end());
  const Held& held = it->second;
  if (held.amount_fen > 0) {
    GuaranteeAccount& a = held.account->second;
    a.reserved_fen -= held.amount_fen;
    a.open_bills_fen += held.amount_fen;
    check_account(a);
  }
  reservations_.erase(it);
}

void GuaranteeLedger::release(ReservationId id) {
  auto it = reservations_.find(id);
  CBEC_ASSERT(it != reservations_.end());
  const Held& held = it->second;
  if (held.amount_fen > 0) {
    GuaranteeAccount& a = held.account->second;
    a.reserved_fen -= held.amount_fen;
    check_account(a);
  }
  reservations_.erase(it);
}

void GuaranteeLedger::settle(std::string_view assureCode, Fen amount_fen) {
  CBEC_ASSERT(amount_fen >= 0);
  if (amount_fen == 0) return;
  auto a = accounts_.find(assureCode);
  CBEC_ASSERT(a != accounts_.end());
  CBEC_ASSERT(amount_fen <= a->second.open_bills_fen);
  a->second.open_bills_fen -= amount_fen;
  check_account(a->second);
}

const GuaranteeAccount* GuaranteeLedger::find(std::string_view assureCode) const {
  auto it = accounts_.find(assureCode);
  return it == accounts_.end() ? nullptr : &it->second;
}

void GuaranteeLedger::check_invariants() const {
  std::map<std::string, Fen, std::less<>> reserved;
  for (const auto& [id, held] : reservations_) {
    CBEC_ASSERT(held.amount_fen >= 0);
    if (held.amount_fen == 0) continue;
    CBEC_ASSERT(held.account != accounts_.end() && accounts_.count(held.account->first) == 1);
    reserved[held.account->first] += held.amount_fen;
  }
  for (const auto& [code, a] : accounts_) {
    check_account(a);
    auto r = reserved.find(code);
    CBEC_ASSERT(a.reserved_fen == (r == reserved.end() ? 0 : r->second));
  }
}

// ---- Snapshots -----------------------------------------------------------------------------
//
// Each ledger writes a version byte, its entries in map order, then its open reservations in id
// order (an unordered_map has no order of its own), each naming its entry by key. Loading
// rebuilds the reservations' iterators by looking the keys up, and refuses (returns false)
// anything the operations could not have produced: entries out of order or repeated, negative
// amounts, a reservation naming a missing entry, reserved sums that differ from the open
// reservations, sums that overflow. check_invariants() runs only once all of that held, so
// damaged bytes never reach an assertion.

namespace {

constexpr uint8_t kSnapshotVersion = 1;

template <class Reservations>
std::vector<ReservationId> sorted_ids(const Reservations& r) {
  std::vector<ReservationId> ids;
  ids.reserve(r.size());
  for (const auto& entry : r) ids.push_back(entry.first);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// *sum += x; false if that overflows.
bool add_to(int64_t* sum, int64_t x) { return !__builtin_add_overflow(*sum, x, sum); }

void put_stock_key(ByteWriter& w, const StockKey& k) {
  w.str(k.emsNo);
  w.str(k.itemRecordNo);
}
void get_stock_key(ByteReader& in, StockKey* k) {
  in.str(&k->emsNo);
  in.str(&k->itemRecordNo);
}
// The archive's codec (ledger.h), also for the keys a snapshot names.
void put_quota_key(ByteWriter& w, const QuotaKey& k) { archive::KeyCodec<QuotaKey>::put(w, k); }
void get_quota_key(ByteReader& in, QuotaKey* k) { archive::KeyCodec<QuotaKey>::get(in, k); }


}  // namespace

void StockLedger::save_state(ByteWriter& w) const {
  w.u8(kSnapshotVersion);
  w.u64(items_.size());
  for (const auto& [key, item] : items_) {
    put_stock_key(w, key);
    w.str(item.gcode);
    w.str(item.name);
    w.str(item.unit);
    w.i64(item.on_hand_units);
    w.i64(item.reserved_units);
  }
  w.u64(reservations_.size());
  for (ReservationId id : sorted_ids(reservations_)) {
    const std::vector<Held>& held = reservations_.at(id);
    w.u64(id);
    w.u64(held.size());
    for (const Held& h : held) {
      put_stock_key(w, h.item->first);
      w.i64(h.qty_units);
    }
  }
}

bool StockLedger::load_state(ByteReader& in) {
  CBEC_ASSERT(items_.empty() && reservations_.empty());
  if (in.u8() != kSnapshotVersion) return false;
  for (uint64_t i = 0, n = in.count(); i < n; ++i) {
    StockKey key;
    StockItem item;
    get_stock_key(in, &key);
    in.str(&item.gcode);
    in.str(&item.name);
    in.str(&item.unit);
    item.on_hand_units = in.i64();
    item.reserved_units = in.i64();
    if (!in.ok() || item.on_hand_units < 0 || item.reserved_units < 0 ||
        item.reserved_units > item.on_hand_units ||
        !append_in_order(&items_, std::move(key), std::move(item)))
      return false;
  }
  std::map<const StockItem*, int64_t> reserved;  // what the open reservations hold per item
  std::optional<ReservationId> last_id;
  for (uint64_t i = 0, n = in.count(); i < n; ++i) {
    const ReservationId id = in.u64();
    if (!in.ok() || (last_id && id <= *last_id)) return false;
    last_id = id;
    std::vector<Held> held;
    const uint64_t lines = in.count();
    held.reserve(lines);
    for (uint64_t j = 0; j < lines; ++j) {
      StockKey key;
      get_stock_key(in, &key);
      const int64_t qty_units = in.i64();
      if (!in.ok() || qty_units <= 0) return false;
      auto item = items_.find(key);
      // reserve() merges a list's lines per item and keeps them in key order.
      if (item == items_.end() || (!held.empty() && !(held.back().item->first < key))) return false;
      if (!add_to(&reserved[&item->second], qty_units)) return false;
      held.push_back(Held{item, qty_units});
    }
    if (!in.ok()) return false;
    reservations_.emplace(id, std::move(held));
  }
  if (!in.ok()) return false;
  for (const auto& [key, item] : items_) {
    auto r = reserved.find(&item);
    if (item.reserved_units != (r == reserved.end() ? 0 : r->second)) return false;
  }
  check_invariants();
  return true;
}

void QuotaLedger::save_state(ByteWriter& w) const {
  w.u8(kSnapshotVersion);
  // In key order, so that the bytes are a function of the state, not of the hash table's.
  std::vector<const Totals::Map::value_type*> sorted;
  sorted.reserve(totals_.hot().size());
  for (const auto& entry : totals_.hot()) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  w.u64(sorted.size());
  for (const auto* entry : sorted) {
    put_quota_key(w, entry->first);
    w.i64(entry->second.committed_fen);
    w.i64(entry->second.reserved_fen);
  }
  w.u64(reservations_.size());
  for (ReservationId id : sorted_ids(reservations_)) {
    const Held& held = reservations_.at(id);
    w.u64(id);
    w.i64(held.amount_fen);
    // A zero reservation holds no entry (there may be none for its buyer).
    if (held.amount_fen > 0) put_quota_key(w, held.key);
  }
}

bool QuotaLedger::load_state(ByteReader& in) {
  CBEC_ASSERT(totals_.hot().empty() && reservations_.empty());
  if (in.u8() != kSnapshotVersion) return false;
  QuotaKey previous;
  for (uint64_t i = 0, n = in.count(); i < n; ++i) {
    QuotaKey key;
    QuotaTotals t;
    get_quota_key(in, &key);
    t.committed_fen = in.i64();
    t.reserved_fen = in.i64();
    Fen year_to_date_fen = t.committed_fen;  // reserve() adds the two
    // save_state writes the keys in ascending order: a duplicate or a disorder is damage.
    if (!in.ok() || t.committed_fen < 0 || t.reserved_fen < 0 ||
        !add_to(&year_to_date_fen, t.reserved_fen) || (i > 0 && !(previous < key)))
      return false;
    previous = key;
    totals_.hot().emplace(std::move(key), t);
  }
  std::map<QuotaKey, Fen> reserved;
  std::optional<ReservationId> last_id;
  for (uint64_t i = 0, n = in.count(); i < n; ++i) {
    const ReservationId id = in.u64();
    const Fen amount_fen = in.i64();
    if (!in.ok() || (last_id && id <= *last_id) || amount_fen < 0) return false;
    last_id = id;
    Held held{QuotaKey{}, amount_fen};
    if (amount_fen > 0) {
      get_quota_key(in, &held.key);
      // In memory, or archived by the snapshot (then it comes back here).
      if (!in.ok() || !totals_.contains(held.key) || !add_to(&reserved[held.key], amount_fen))
        return false;
    }
    reservations_.emplace(id, std::move(held));
  }
  if (!in.ok()) return false;
  for (const auto& [key, t] : totals_.hot()) {
    auto r = reserved.find(key);
    if (t.reserved_fen != (r == reserved.end() ? 0 : r->second)) return false;
  }
  check_invariants();
  return true;
}

void GuaranteeLedger::save_state(ByteWriter& w) const {
  w.u8(kSnapshotVersion);
  w.u64(accounts_.size());
  for (const auto& [code, a] : accounts_) {
    w.str(code);
    w.i64(a.deposited_fen);
    w.i64(a.open_bills_fen);
    w.i64(a.reserved_fen);
  }
  w.u64(reservations_.size());
  for (ReservationId id : sorted_ids(reservations_)) {
    const Held& held = reservations_.at(id);
    w.u64(id);
    w.i64(held.amount_fen);
    // A zero reservation holds no account (its guarantor may have none).
    if (held.amount_fen > 0) w.str(held.account->first);
  }
}

bool GuaranteeLedger::load_state(ByteReader& in) {
  CBEC_ASSERT(accounts_.empty() && reservations_.empty());
  if (in.u8() != kSnapshotVersion) return false;
  for (uint64_t i = 0, n = in.count(); i < n; ++i) {
    std::string code = in.str();
    GuaranteeAccount a;
    a.deposited_fen = in.i64();
    a.open_bills_fen = in.i64();
    a.reserved_fen = in.i64();
    Fen held_fen = a.open_bills_fen;  // remaining = deposited - held must not be negative
    if (!in.ok() || a.deposited_fen < 0 || a.open_bills_fen < 0 || a.reserved_fen < 0 ||
        !add_to(&held_fen, a.reserved_fen) || held_fen > a.deposited_fen ||
        !append_in_order(&accounts_, std::move(code), a))
      return false;
  }
  std::map<const GuaranteeAccount*, Fen> reserved;
  std::optional<ReservationId> last_id;
  for (uint64_t i = 0, n = in.count(); i < n; ++i) {
    const ReservationId id = in.u64();
    const Fen amount_fen = in.i64();
    if (!in.ok() || (last_id && id <= *last_id) || amount_fen < 0) return false;
    last_id = id;
    Held held{accounts_.end(), amount_fen};
    if (amount_fen > 0) {
      std::string_view code = in.str_view();
      if (!in.ok()) return false;
      held.account = accounts_.find(code);
      if (held.account == accounts_.end() || !add_to(&reserved[&held.account->second], amount_fen))
        return false;
    }
    reservations_.emplace(id, held);
  }
  if (!in.ok()) return false;
  for (const auto& [code, a] : accounts_) {
    auto r = reserved.find(&a);
    if (a.reserved_fen != (r == reserved.end() ? 0 : r->second)) return false;
  }
  check_invariants();
  return true;
}

}  // namespace cbec::ledger
