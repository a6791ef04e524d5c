// The three ledgers (see ledger.h for the protocol).
//
// Every mutating operation checks the invariants of the entries it touched before returning,
// which is O(1) per entry and therefore cheap enough for the hot path; check_invariants()
// recomputes the reserved sums from the open reservations and is O(ledger size), for tests and
// for audits after recovery.
#include "ledger/ledger.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/decimal.h"

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
    if (entry == totals_.end()) entry = totals_.emplace(key, QuotaTotals{}).first;
    entry->second.reserved_fen += amount_fen;
    check_totals(entry->second);
  }
  reservations_.emplace(id, Held{entry, amount_fen});
  return Status::Ok();
}

void QuotaLedger::commit(ReservationId id) {
  auto it = reservations_.find(id);
  CBEC_ASSERT(it != reservations_.end());
  const Held& held = it->second;
  if (held.amount_fen > 0) {
    QuotaTotals& t = held.totals->second;
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
    QuotaTotals& t = held.totals->second;
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
  auto it = totals_.find(key);
  return it == totals_.end() ? QuotaTotals{} : it->second;
}

void QuotaLedger::check_invariants() const {
  std::map<QuotaKey, Fen> reserved;
  for (const auto& [id, held] : reservations_) {
    CBEC_ASSERT(held.amount_fen >= 0);
    if (held.amount_fen == 0) continue;
    CBEC_ASSERT(held.totals != totals_.end() && totals_.count(held.totals->first) == 1);
    reserved[held.totals->first] += held.amount_fen;
  }
  for (const auto& [key, t] : totals_) {
    check_totals(t);
    auto r = reserved.find(key);
    CBEC_ASSERT(t.reserved_fen == (r == reserved.end() ? 0 : r->second));
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

}  // namespace cbec::ledger
