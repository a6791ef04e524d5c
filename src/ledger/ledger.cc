// The three ledgers (see ledger.h for the protocol).
//
// Every mutating operation checks the invariants of the entries it touched before returning,
// which is O(1) per entry and therefore cheap enough for the hot path; check_invariants()
// recomputes the reserved sums from the open reservations and is O(ledger size), for tests and
// for audits after recovery.
#include "ledger/ledger.h"

#include <fmt/format.h>

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
  // sum, or each line alone would pass while together they overdraw.
  std::map<StockKey, int64_t> merged;
  for (const StockNeed& n : needs) {
    CBEC_ASSERT(n.qty_units >= 0);
    if (n.qty_units > 0) merged[n.key] += n.qty_units;
  }
  std::string shortfall;
  for (const auto& [key, qty] : merged) {
    const StockItem* item = find(key);
    const int64_t available = item ? item->available_units() : 0;
    if (available >= qty) continue;
    if (!shortfall.empty()) shortfall += "; ";
    if (item == nullptr) {
      shortfall += fmt::format("stock {}/{}: not in the account book, needed {}", key.emsNo,
                               key.itemRecordNo, format_qty(qty));
    } else {
      shortfall += fmt::format("stock {}/{}: available {}, needed {}", key.emsNo, key.itemRecordNo,
                               format_qty(available), format_qty(qty));
    }
  }
  if (!shortfall.empty()) return ResourceExhausted(std::move(shortfall));

  std::vector<StockNeed> held;
  held.reserve(merged.size());
  for (auto& [key, qty] : merged) {
    StockItem& item = items_.find(key)->second;
    item.reserved_units += qty;
    check_item(item);
    held.push_back(StockNeed{key, qty});
  }
  reservations_.emplace(id, std::move(held));
  return Status::Ok();
}

void StockLedger::commit(ReservationId id) {
  auto it = reservations_.find(id);
  CBEC_ASSERT(it != reservations_.end());
  for (const StockNeed& n : it->second) {
    auto item = items_.find(n.key);
    CBEC_ASSERT(item != items_.end());
    item->second.reserved_units -= n.qty_units;
    item->second.on_hand_units -= n.qty_units;
    check_item(item->second);
  }
  reservations_.erase(it);
}

void StockLedger::release(ReservationId id) {
  auto it = reservations_.find(id);
  CBEC_ASSERT(it != reservations_.end());
  for (const StockNeed& n : it->second) {
    auto item = items_.find(n.key);
    CBEC_ASSERT(item != items_.end());
    item->second.reserved_units -= n.qty_units;
    check_item(item->second);
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
  for (const auto& [id, needs] : reservations_) {
    for (const StockNeed& n : needs) {
      CBEC_ASSERT(n.qty_units > 0);
      CBEC_ASSERT(items_.count(n.key) == 1);
      reserved[n.key] += n.qty_units;
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
  const QuotaTotals current = totals(key);
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
    QuotaTotals& t = totals_[key];
    t.reserved_fen += amount_fen;
    check_totals(t);
  }
  reservations_.emplace(id, Held{key, amount_fen});
  return Status::Ok();
}

void QuotaLedger::commit(ReservationId id) {
  auto it = reservations_.find(id);
  CBEC_ASSERT(it != reservations_.end());
  const Held& held = it->second;
  if (held.amount_fen > 0) {
    auto t = totals_.find(held.key);
    CBEC_ASSERT(t != totals_.end());
    t->second.reserved_fen -= held.amount_fen;
    t->second.committed_fen += held.amount_fen;
    check_totals(t->second);
  }
  reservations_.erase(it);
}

void QuotaLedger::release(ReservationId id) {
  auto it = reservations_.find(id);
  CBEC_ASSERT(it != reservations_.end());
  const Held& held = it->second;
  if (held.amount_fen > 0) {
    auto t = totals_.find(held.key);
    CBEC_ASSERT(t != totals_.end());
    t->second.reserved_fen -= held.amount_fen;
    check_totals(t->second);
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
    CBEC_ASSERT(totals_.count(held.key) == 1);
    reserved[held.key] += held.amount_fen;
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
  reservations_.emplace(id, Held{std::string(assureCode), amount_fen});
  return Status::Ok();
}

void GuaranteeLedger::commit(ReservationId id) {
  auto it = reservations_.find(id);
  CBEC_ASSERT(it != reservations_.end());
  const Held& held = it->second;
  if (held.amount_fen > 0) {
    auto a = accounts_.find(held.assureCode);
    CBEC_ASSERT(a != accounts_.end());
    a->second.reserved_fen -= held.amount_fen;
    a->second.open_bills_fen += held.amount_fen;
    check_account(a->second);
  }
  reservations_.erase(it);
}

void GuaranteeLedger::release(ReservationId id) {
  auto it = reservations_.find(id);
  CBEC_ASSERT(it != reservations_.end());
  const Held& held = it->second;
  if (held.amount_fen > 0) {
    auto a = accounts_.find(held.assureCode);
    CBEC_ASSERT(a != accounts_.end());
    a->second.reserved_fen -= held.amount_fen;
    check_account(a->second);
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
    CBEC_ASSERT(accounts_.count(held.assureCode) == 1);
    reserved[held.assureCode] += held.amount_fen;
  }
  for (const auto& [code, a] : accounts_) {
    check_account(a);
    auto r = reserved.find(code);
    CBEC_ASSERT(a.reserved_fen == (r == reserved.end() ? 0 : r->second));
  }
}

}  // namespace cbec::ledger
