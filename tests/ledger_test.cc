// Tests of the three ledgers (src/ledger/ledger.h): each operation and error message, random
// operation sequences checked step by step against a reference model, and the protocol misuse
// that must stop the process.
#include "ledger/ledger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/decimal.h"

namespace cbec::ledger {
namespace {

constexpr int64_t kUnit = kDecimalScale;  // one piece/can/bottle in Decimal units

const StockKey kFormula{"T4612W000001", "1"};
const StockKey kSerum{"T4612W000001", "3"};
const StockKey kOtherBook{"T4612W000002", "1"};

// ---- StockLedger: unit tests ----------------------------------------------------------------

TEST(StockLedger, StockInCreatesItemAndAddsOnLaterUse) {
  StockLedger ledger;
  EXPECT_EQ(ledger.find(kFormula), nullptr);
  ledger.stock_in(kFormula, 10 * kUnit, "1901101090", "婴儿配方奶粉", "122");
  ledger.stock_in(kFormula, 5 * kUnit, "1901101090", "ignored on later stock-in", "122");
  const StockItem* item = ledger.find(kFormula);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->on_hand_units, 15 * kUnit);
  EXPECT_EQ(item->reserved_units, 0);
  EXPECT_EQ(item->available_units(), 15 * kUnit);
  EXPECT_EQ(item->gcode, "1901101090");
  EXPECT_EQ(item->name, "婴儿配方奶粉");
  EXPECT_EQ(item->unit, "122");
  ledger.check_invariants();
}

TEST(StockLedger, ReserveHoldsStockAndCommitWritesItOff) {
  StockLedger ledger;
  ledger.stock_in(kFormula, 10 * kUnit, "1901101090", "奶粉", "122");
  const std::vector<StockNeed> needs{{kFormula, 3 * kUnit}};
  ASSERT_TRUE(ledger.reserve(7, needs).ok());
  EXPECT_TRUE(ledger.has_reservation(7));
  EXPECT_EQ(ledger.find(kFormula)->reserved_units, 3 * kUnit);
  EXPECT_EQ(ledger.find(kFormula)->on_hand_units, 10 * kUnit);
  EXPECT_EQ(ledger.find(kFormula)->available_units(), 7 * kUnit);
  ledger.check_invariants();

  ledger.commit(7);
  EXPECT_FALSE(ledger.has_reservation(7));
  EXPECT_EQ(ledger.find(kFormula)->reserved_units, 0);
  EXPECT_EQ(ledger.find(kFormula)->on_hand_units, 7 * kUnit);
  ledger.check_invariants();
}

TEST(StockLedger, ReleaseReturnsTheHeldStock) {
  StockLedger ledger;
  ledger.stock_in(kFormula, 10 * kUnit, "1901101090", "奶粉", "122");
  const std::vector<StockNeed> needs{{kFormula, 4 * kUnit}};
  ASSERT_TRUE(ledger.reserve(1, needs).ok());
  ledger.release(1);
  EXPECT_FALSE(ledger.has_reservation(1));
  EXPECT_EQ(ledger.find(kFormula)->reserved_units, 0);
  EXPECT_EQ(ledger.find(kFormula)->on_hand_units, 10 * kUnit);
  ledger.check_invariants();
}

TEST(StockLedger, ShortfallNamesKeyAndNumbersAndChangesNothing) {
  StockLedger ledger;
  ledger.stock_in(kFormula, 10 * kUnit, "1901101090", "奶粉", "122");
  ledger.stock_in(kSerum, 2 * kUnit, "3304990099", "精华液", "142");
  // The formula line alone would fit: all-or-nothing means it must not be held either.
  const std::vector<StockNeed> needs{{kFormula, 1 * kUnit}, {kSerum, 5 * kUnit}};
  Status s = ledger.reserve(1, needs);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "stock T4612W000001/3: available 2, needed 5");
  EXPECT_FALSE(ledger.has_reservation(1));
  EXPECT_EQ(ledger.find(kFormula)->reserved_units, 0);
  EXPECT_EQ(ledger.find(kSerum)->reserved_units, 0);
  ledger.check_invariants();
}

TEST(StockLedger, LinesOnTheSameItemAreCheckedTogether) {
  StockLedger ledger;
  ledger.stock_in(kSerum, 4 * kUnit, "3304990099", "精华液", "142");
  const std::vector<StockNeed> needs{{kSerum, 3 * kUnit}, {kSerum, 2 * kUnit}};
  Status s = ledger.reserve(1, needs);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "stock T4612W000001/3: available 4, needed 5");
  const std::vector<StockNeed> fits{{kSerum, 3 * kUnit}, {kSerum, 1 * kUnit}};
  ASSERT_TRUE(ledger.reserve(2, fits).ok());
  EXPECT_EQ(ledger.find(kSerum)->available_units(), 0);
  ledger.commit(2);
  EXPECT_EQ(ledger.find(kSerum)->on_hand_units, 0);
  ledger.check_invariants();
}

TEST(StockLedger, ReservedStockIsNotAvailableToOtherLists) {
  StockLedger ledger;
  ledger.stock_in(kSerum, 5 * kUnit, "3304990099", "精华液", "142");
  const std::vector<StockNeed> first{{kSerum, 3 * kUnit}};
  ASSERT_TRUE(ledger.reserve(1, first).ok());
  const std::vector<StockNeed> second{{kSerum, 3 * kUnit}};
  Status s = ledger.reserve(2, second);
  EXPECT_EQ(s.message(), "stock T4612W000001/3: available 2, needed 3");
  ledger.release(1);
  EXPECT_TRUE(ledger.reserve(2, second).ok());
}

TEST(StockLedger, FractionalQuantitiesAreNamedExactly) {
  StockLedger ledger;
  ledger.stock_in(kFormula, kUnit / 2, "1901101090", "奶粉", "035");
  const std::vector<StockNeed> needs{{kFormula, kUnit + kUnit / 4}};
  EXPECT_EQ(ledger.reserve(1, needs).message(), "stock T4612W000001/1: available 0.5, needed 1.25");
}

TEST(StockLedger, UnknownItemAndSeveralShortfallsAreAllNamed) {
  StockLedger ledger;
  ledger.stock_in(kSerum, 1 * kUnit, "3304990099", "精华液", "142");
  const std::vector<StockNeed> needs{{kSerum, 2 * kUnit}, {kOtherBook, 1 * kUnit}};
  Status s = ledger.reserve(1, needs);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "stock T4612W000001/3: available 1, needed 2; "
            "stock T4612W000002/1: not in the account book, needed 1");
  EXPECT_EQ(ledger.find(kOtherBook), nullptr);  // a failed reserve creates nothing
}

TEST(StockLedger, EmptyReservationCanBeCommitted) {
  // A 9610 list draws on no account book, but the core still runs it through the protocol.
  StockLedger ledger;
  ASSERT_TRUE(ledger.reserve(9, {}).ok());
  EXPECT_TRUE(ledger.has_reservation(9));
  ledger.commit(9);
  EXPECT_FALSE(ledger.has_reservation(9));
  ledger.check_invariants();
}

TEST(StockLedger, RestoreAddsReturnedGoodsBack) {
  StockLedger ledger;
  ledger.stock_in(kFormula, 2 * kUnit, "1901101090", "奶粉", "122");
  const std::vector<StockNeed> needs{{kFormula, 2 * kUnit}};
  ASSERT_TRUE(ledger.reserve(1, needs).ok());
  ledger.commit(1);
  EXPECT_EQ(ledger.find(kFormula)->on_hand_units, 0);
  ledger.restore(kFormula, 1 * kUnit);
  EXPECT_EQ(ledger.find(kFormula)->on_hand_units, 1 * kUnit);
  ledger.check_invariants();
}

// ---- QuotaLedger: unit tests ----------------------------------------------------------------

const QuotaKey kBuyer2024{"11010519491231002X", 2024};
const QuotaKey kBuyer2025{"11010519491231002X", 2025};
constexpr Fen kAnnualLimitFen = 2600000;

TEST(QuotaLedger, ReserveCommitAndReleaseMoveTheTotals) {
  QuotaLedger ledger;
  EXPECT_EQ(ledger.totals(kBuyer2024).committed_fen, 0);
  ASSERT_TRUE(ledger.reserve(1, kBuyer2024, 60600, kAnnualLimitFen).ok());
  EXPECT_EQ(ledger.totals(kBuyer2024).reserved_fen, 60600);
  ledger.commit(1);
  EXPECT_EQ(ledger.totals(kBuyer2024).reserved_fen, 0);
  EXPECT_EQ(ledger.totals(kBuyer2024).committed_fen, 60600);
  ASSERT_TRUE(ledger.reserve(2, kBuyer2024, 1000, kAnnualLimitFen).ok());
  ledger.release(2);
  EXPECT_EQ(ledger.totals(kBuyer2024).reserved_fen, 0);
  EXPECT_EQ(ledger.totals(kBuyer2024).committed_fen, 60600);
  EXPECT_FALSE(ledger.has_reservation(1));
  EXPECT_FALSE(ledger.has_reservation(2));
  // Years are separate quotas.
  EXPECT_EQ(ledger.totals(kBuyer2025).committed_fen, 0);
  ledger.check_invariants();
}

TEST(QuotaLedger, AnnualCapExampleFromDomain) {
  // DOMAIN §7: YTD 24,000, new list 3,000 → reject; after a timely return of 2,000 → accept.
  QuotaLedger ledger;
  ASSERT_TRUE(ledger.reserve(1, kBuyer2024, 2400000, kAnnualLimitFen).ok());
  ledger.commit(1);
  Status s = ledger.reserve(2, kBuyer2024, 300000, kAnnualLimitFen);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "annual total 11010519491231002X/2024: year-to-date 24000.00, this list 3000.00, "
            "limit 26000.00");
  EXPECT_FALSE(ledger.has_reservation(2));
  ledger.reduce(kBuyer2024, 200000);
  ASSERT_TRUE(ledger.reserve(2, kBuyer2024, 300000, kAnnualLimitFen).ok());
  ledger.commit(2);
  EXPECT_EQ(ledger.totals(kBuyer2024).committed_fen, 2500000);
  ledger.check_invariants();
}

TEST(QuotaLedger, ExactlyAtTheLimitPasses) {
  QuotaLedger ledger;
  ASSERT_TRUE(ledger.reserve(1, kBuyer2024, kAnnualLimitFen, kAnnualLimitFen).ok());
  EXPECT_FALSE(ledger.reserve(2, kBuyer2024, 1, kAnnualLimitFen).ok());
}

TEST(QuotaLedger, MessageNamesTheShareUnderReview) {
  QuotaLedger ledger;
  ASSERT_TRUE(ledger.reserve(1, kBuyer2024, 2000000, kAnnualLimitFen).ok());
  ledger.commit(1);
  ASSERT_TRUE(ledger.reserve(2, kBuyer2024, 450050, kAnnualLimitFen).ok());
  Status s = ledger.reserve(3, kBuyer2024, 200000, kAnnualLimitFen);
  EXPECT_EQ(s.message(),
            "annual total 11010519491231002X/2024: year-to-date 24500.50 (of which under review "
            "4500.50), this list 2000.00, limit 26000.00");
  EXPECT_EQ(ledger.totals(kBuyer2024).reserved_fen, 450050);
}

TEST(QuotaLedger, FailedReserveOfNewBuyerCreatesNoEntry) {
  QuotaLedger ledger;
  EXPECT_FALSE(ledger.reserve(1, kBuyer2024, 2600001, kAnnualLimitFen).ok());
  EXPECT_TRUE(ledger.hot().empty());
}

// ---- GuaranteeLedger: unit tests ------------------------------------------------------------

TEST(GuaranteeLedger, DepositReserveCommitSettle) {
  GuaranteeLedger ledger;
  EXPECT_EQ(ledger.find("4101960003"), nullptr);
  ledger.deposit("4101960003", 100000);
  ASSERT_TRUE(ledger.reserve(1, "4101960003", 14988).ok());
  const GuaranteeAccount* a = ledger.find("4101960003");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->reserved_fen, 14988);
  EXPECT_EQ(a->remaining_fen(), 100000 - 14988);
  ledger.commit(1);
  EXPECT_EQ(a->reserved_fen, 0);
  EXPECT_EQ(a->open_bills_fen, 14988);
  EXPECT_EQ(a->remaining_fen(), 100000 - 14988);
  ledger.settle("4101960003", 14988);
  EXPECT_EQ(a->open_bills_fen, 0);
  EXPECT_EQ(a->remaining_fen(), 100000);
  ledger.check_invariants();
}

TEST(GuaranteeLedger, ReleaseRestoresTheRemaining) {
  GuaranteeLedger ledger;
  ledger.deposit("4101960003", 5000);
  ASSERT_TRUE(ledger.reserve(1, "4101960003", 5000).ok());
  EXPECT_EQ(ledger.find("4101960003")->remaining_fen(), 0);
  ledger.release(1);
  EXPECT_EQ(ledger.find("4101960003")->remaining_fen(), 5000);
  ledger.check_invariants();
}

TEST(GuaranteeLedger, ShortfallNamesRemainingAndNeeded) {
  GuaranteeLedger ledger;
  ledger.deposit("4101960003", 10000);
  ASSERT_TRUE(ledger.reserve(1, "4101960003", 6000).ok());
  ledger.commit(1);
  Status s = ledger.reserve(2, "4101960003", 14988);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "guarantee 4101960003: remaining 40.00, needed 149.88");
  EXPECT_FALSE(ledger.has_reservation(2));
  EXPECT_EQ(ledger.find("4101960003")->reserved_fen, 0);
}

TEST(GuaranteeLedger, NoGuaranteeLodged) {
  GuaranteeLedger ledger;
  Status s = ledger.reserve(1, "4101960099", 5515);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "guarantee 4101960099: remaining 0.00, needed 55.15 (no guarantee lodged)");
  EXPECT_TRUE(ledger.all().empty());
  // A list without tax needs no guarantee.
  ASSERT_TRUE(ledger.reserve(2, "4101960099", 0).ok());
  ledger.commit(2);
  EXPECT_TRUE(ledger.all().empty());
  ledger.check_invariants();
}

// ---- Property tests: random operation sequences against a reference model -------------------

// The model is deliberately naive (plain maps, recomputed sums) so that it is obviously right.
struct Model {
  std::map<StockKey, int64_t> on_hand;
  std::map<ReservationId, std::vector<StockNeed>> stock_open;
  std::map<QuotaKey, Fen> committed;
  std::map<ReservationId, std::pair<QuotaKey, Fen>> quota_open;
  std::map<std::string, Fen> deposited;
  std::map<std::string, Fen> open_bills;
  std::map<ReservationId, std::pair<std::string, Fen>> guarantee_open;
  // How often each reservation id ended (committed or released), per ledger.
  std::map<ReservationId, int> stock_ended, quota_ended, guarantee_ended;

  int64_t stock_reserved(const StockKey& k) const {
    int64_t sum = 0;
    for (const auto& [id, needs] : stock_open)
      for (const auto& n : needs)
        if (n.key == k) sum += n.qty_units;
    return sum;
  }
  Fen quota_reserved(const QuotaKey& k) const {
    Fen sum = 0;
    for (const auto& [id, held] : quota_open)
      if (held.first == k) sum += held.second;
    return sum;
  }
  Fen guarantee_reserved(const std::string& code) const {
    Fen sum = 0;
    for (const auto& [id, held] : guarantee_open)
      if (held.first == code) sum += held.second;
    return sum;
  }
  Fen guarantee_remaining(const std::string& code) const {
    auto d = deposited.find(code);
    auto b = open_bills.find(code);
    return (d == deposited.end() ? 0 : d->second) - (b == open_bills.end() ? 0 : b->second) -
           guarantee_reserved(code);
  }
};

const std::array<StockKey, 4> kStockKeys{
    StockKey{"T4612W000001", "1"}, StockKey{"T4612W000001", "2"}, StockKey{"T4612W000001", "20"},
    StockKey{"T4612W000002", "1"}};
const std::array<QuotaKey, 3> kQuotaKeys{QuotaKey{"11010519491231002X", 2024},
                                         QuotaKey{"11010519491231002X", 2025},
                                         QuotaKey{"410105199001011234", 2024}};
const std::array<std::string, 3> kAssureCodes{"4101960003", "4101960004", "4101960009"};

void expect_equal(const Model& m, const StockLedger& stock, const QuotaLedger& quota,
                  const GuaranteeLedger& guarantee) {
  stock.check_invariants();
  quota.check_invariants();
  guarantee.check_invariants();
  for (const StockKey& k : kStockKeys) {
    const StockItem* item = stock.find(k);
    auto it = m.on_hand.find(k);
    if (it == m.on_hand.end()) {
      ASSERT_EQ(item, nullptr);
      continue;
    }
    ASSERT_NE(item, nullptr);
    ASSERT_EQ(item->on_hand_units, it->second);
    ASSERT_EQ(item->reserved_units, m.stock_reserved(k));
    ASSERT_GE(item->available_units(), 0);
  }
  ASSERT_EQ(stock.items().size(), m.on_hand.size());
  for (const QuotaKey& k : kQuotaKeys) {
    auto c = m.committed.find(k);
    ASSERT_EQ(quota.totals(k).committed_fen, c == m.committed.end() ? 0 : c->second);
    ASSERT_EQ(quota.totals(k).reserved_fen, m.quota_reserved(k));
  }
  for (const std::string& code : kAssureCodes) {
    const GuaranteeAccount* a = guarantee.find(code);
    auto d = m.deposited.find(code);
    if (d == m.deposited.end()) {
      ASSERT_EQ(a, nullptr);
      continue;
    }
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(a->deposited_fen, d->second);
    auto b = m.open_bills.find(code);
    ASSERT_EQ(a->open_bills_fen, b == m.open_bills.end() ? 0 : b->second);
    ASSERT_EQ(a->reserved_fen, m.guarantee_reserved(code));
    ASSERT_EQ(a->remaining_fen(), m.guarantee_remaining(code));
    ASSERT_GE(a->remaining_fen(), 0);
  }
  for (ReservationId id = 0; id < 64; ++id) {
    ASSERT_EQ(stock.has_reservation(id), m.stock_open.count(id) == 1);
    ASSERT_EQ(quota.has_reservation(id), m.quota_open.count(id) == 1);
    ASSERT_EQ(guarantee.has_reservation(id), m.guarantee_open.count(id) == 1);
  }
}

template <class Map>
ReservationId pick_open(const Map& open, std::mt19937_64& rng) {
  auto it = open.begin();
  std::advance(it, std::uniform_int_distribution<size_t>(0, open.size() - 1)(rng));
  return it->first;
}

// One random step. Ids come from a small range so that ids are reused after they end, as the
// clearance core reuses nothing but the model must still see each end exactly once per use.
void random_step(std::mt19937_64& rng, Model& m, StockLedger& stock, QuotaLedger& quota,
                 GuaranteeLedger& guarantee, ReservationId& next_id) {
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  auto units = [&](int max_pieces) {
    // Mostly whole pieces, sometimes fractional legal quantities.
    int64_t u = (pick(max_pieces) + 1) * kUnit;
    return pick(5) == 0 ? u / 4 : u;
  };
  const ReservationId id = next_id++ % 64;
  switch (pick(11)) {
    case 0: {  // stock_in
      const StockKey& k = kStockKeys[pick(kStockKeys.size())];
      int64_t q = units(6);
      stock.stock_in(k, q, "1901101090", "奶粉", "122");
      m.on_hand[k] += q;
      break;
    }
    case 1: {  // stock reserve
      if (m.stock_open.count(id)) break;
      std::vector<StockNeed> needs;
      int lines = pick(4);  // 0..3 lines, keys may repeat
      for (int i = 0; i < lines; ++i) {
        needs.push_back({kStockKeys[pick(kStockKeys.size())], units(4)});
      }
      if (lines == 1 && pick(2) == 0) {
        // Exactly the available quantity, or one unit (1e-5) more.
        auto it = m.on_hand.find(needs[0].key);
        if (it != m.on_hand.end()) {
          int64_t available = it->second - m.stock_reserved(needs[0].key);
          needs[0].qty_units = std::max<int64_t>(1, available + pick(2));
        }
      }
      std::map<StockKey, int64_t> merged;
      for (const auto& n : needs) merged[n.key] += n.qty_units;
      bool fits = true;
      for (const auto& [k, q] : merged) {
        auto it = m.on_hand.find(k);
        int64_t available = it == m.on_hand.end() ? 0 : it->second - m.stock_reserved(k);
        if (available < q) fits = false;
      }
      Status s = stock.reserve(id, needs);
      ASSERT_EQ(s.ok(), fits) << s.ToString();
      if (fits) {
        std::vector<StockNeed> held;
        for (const auto& [k, q] : merged) held.push_back({k, q});
        m.stock_open[id] = held;
      } else {
        ASSERT_EQ(s.code(), StatusCode::kResourceExhausted);
        ASSERT_NE(s.message().find("stock T4612W00000"), std::string_view::npos);
      }
      break;
    }
    case 2: {  // stock commit or release
      if (m.stock_open.empty()) break;
      ReservationId r = pick_open(m.stock_open, rng);
      if (pick(2) == 0) {
        stock.commit(r);
        for (const auto& n : m.stock_open[r]) m.on_hand[n.key] -= n.qty_units;
      } else {
        stock.release(r);
      }
      m.stock_open.erase(r);
      ++m.stock_ended[r];
      break;
    }
    case 3: {  // restore
      std::vector<StockKey> known;
      for (const auto& [k, q] : m.on_hand) known.push_back(k);
      if (known.empty()) break;
      const StockKey& k = known[pick(known.size())];
      int64_t q = units(2);
      stock.restore(k, q);
      m.on_hand[k] += q;
      break;
    }
    case 4: {  // quota reserve
      if (m.quota_open.count(id)) break;
      const QuotaKey& k = kQuotaKeys[pick(kQuotaKeys.size())];
      Fen amount = std::uniform_int_distribution<Fen>(0, 600000)(rng);
      Fen limit = pick(4) == 0 ? 1000000 : kAnnualLimitFen;  // policy may change the limit
      auto c = m.committed.find(k);
      Fen committed_fen = c == m.committed.end() ? 0 : c->second;
      if (pick(4) == 0) {
        amount = std::max<Fen>(0, limit - committed_fen - m.quota_reserved(k) + pick(2));
      }
      bool fits = committed_fen + m.quota_reserved(k) + amount <= limit;
      Status s = quota.reserve(id, k, amount, limit);
      ASSERT_EQ(s.ok(), fits) << s.ToString();
      if (fits) {
        m.quota_open[id] = {k, amount};
      } else {
        ASSERT_EQ(s.code(), StatusCode::kResourceExhausted);
        ASSERT_EQ(s.message().rfind("annual total " + k.buyerIdNumber, 0), 0u);
      }
      break;
    }
    case 5: {  // quota commit or release
      if (m.quota_open.empty()) break;
      ReservationId r = pick_open(m.quota_open, rng);
      if (pick(2) == 0) {
        quota.commit(r);
        m.committed[m.quota_open[r].first] += m.quota_open[r].second;
      } else {
        quota.release(r);
      }
      m.quota_open.erase(r);
      ++m.quota_ended[r];
      break;
    }
    case 6: {  // reduce (return or cancel in time)
      const QuotaKey& k = kQuotaKeys[pick(kQuotaKeys.size())];
      auto c = m.committed.find(k);
      if (c == m.committed.end() || c->second == 0) break;
      Fen amount = std::uniform_int_distribution<Fen>(1, c->second)(rng);
      quota.reduce(k, amount);
      c->second -= amount;
      break;
    }
    case 7: {  // deposit
      const std::string& code = kAssureCodes[pick(kAssureCodes.size())];
      Fen amount = std::uniform_int_distribution<Fen>(1, 50000)(rng);
      guarantee.deposit(code, amount);
      m.deposited[code] += amount;
      break;
    }
    case 8: {  // guarantee reserve
      if (m.guarantee_open.count(id)) break;
      const std::string& code = kAssureCodes[pick(kAssureCodes.size())];
      Fen amount = std::uniform_int_distribution<Fen>(0, 30000)(rng);
      // Boundaries are where off-by-one errors hide: ask for exactly what remains, or one more.
      if (pick(4) == 0) amount = std::max<Fen>(0, m.guarantee_remaining(code) + pick(2));
      bool fits = m.guarantee_remaining(code) >= amount;
      Status s = guarantee.reserve(id, code, amount);
      ASSERT_EQ(s.ok(), fits) << s.ToString();
      if (fits) {
        m.guarantee_open[id] = {code, amount};
      } else {
        ASSERT_EQ(s.code(), StatusCode::kResourceExhausted);
        ASSERT_EQ(s.message().rfind("guarantee " + code + ": remaining ", 0), 0u);
      }
      break;
    }
    case 9: {  // guarantee commit or release
      if (m.guarantee_open.empty()) break;
      ReservationId r = pick_open(m.guarantee_open, rng);
      if (pick(2) == 0) {
        guarantee.commit(r);
        m.open_bills[m.guarantee_open[r].first] += m.guarantee_open[r].second;
      } else {
        guarantee.release(r);
      }
      m.guarantee_open.erase(r);
      ++m.guarantee_ended[r];
      break;
    }
    case 10: {  // settle an open bill (paid or voided)
      const std::string& code = kAssureCodes[pick(kAssureCodes.size())];
      auto b = m.open_bills.find(code);
      if (b == m.open_bills.end() || b->second == 0) break;
      Fen amount = std::uniform_int_distribution<Fen>(1, b->second)(rng);
      guarantee.settle(code, amount);
      b->second -= amount;
      break;
    }
  }
}

TEST(LedgerProperty, RandomSequencesMatchTheModel) {
  constexpr int kSeeds = 200;
  constexpr int kOpsPerSeed = 2000;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Model m;
    StockLedger stock;
    QuotaLedger quota;
    GuaranteeLedger guarantee;
    ReservationId next_id = 0;
    int reserves_started = 0;
    for (int op = 0; op < kOpsPerSeed; ++op) {
      size_t open_before = m.stock_open.size() + m.quota_open.size() + m.guarantee_open.size();
      ASSERT_NO_FATAL_FAILURE(random_step(rng, m, stock, quota, guarantee, next_id));
      size_t open_after = m.stock_open.size() + m.quota_open.size() + m.guarantee_open.size();
      if (open_after > open_before) ++reserves_started;
      ASSERT_NO_FATAL_FAILURE(expect_equal(m, stock, quota, guarantee)) << "after op " << op;
    }
    // Drain: every open reservation ends once; then each reservation made ended exactly once.
    for (auto& [id, held] : std::map(m.stock_open)) {
      stock.release(id);
      m.stock_open.erase(id);
      ++m.stock_ended[id];
    }
    for (auto& [id, held] : std::map(m.quota_open)) {
      quota.commit(id);
      m.committed[held.first] += held.second;
      m.quota_open.erase(id);
      ++m.quota_ended[id];
    }
    for (auto& [id, held] : std::map(m.guarantee_open)) {
      guarantee.commit(id);
      m.open_bills[held.first] += held.second;
      m.guarantee_open.erase(id);
      ++m.guarantee_ended[id];
    }
    ASSERT_NO_FATAL_FAILURE(expect_equal(m, stock, quota, guarantee));
    int ended = 0;
    for (const auto* ends : {&m.stock_ended, &m.quota_ended, &m.guarantee_ended})
      for (const auto& [id, n] : *ends) ended += n;
    EXPECT_EQ(ended, reserves_started);
    EXPECT_GT(reserves_started, 100);  // the sequence really exercised the protocol
    for (const auto& [k, item] : stock.items()) EXPECT_EQ(item.reserved_units, 0);
  }
}

// ---- Protocol misuse stops the process ------------------------------------------------------

using LedgerDeathTest = ::testing::Test;

TEST_F(LedgerDeathTest, CommitOfUnknownReservation) {
  StockLedger stock;
  EXPECT_DEATH(stock.commit(42), "invariant violated");
  QuotaLedger quota;
  EXPECT_DEATH(quota.commit(42), "invariant violated");
  GuaranteeLedger guarantee;
  EXPECT_DEATH(guarantee.commit(42), "invariant violated");
}

TEST_F(LedgerDeathTest, DoubleCommit) {
  StockLedger stock;
  stock.stock_in(kFormula, 2 * kUnit, "1901101090", "奶粉", "122");
  const std::vector<StockNeed> needs{{kFormula, 1 * kUnit}};
  ASSERT_TRUE(stock.reserve(1, needs).ok());
  stock.commit(1);
  EXPECT_DEATH(stock.commit(1), "invariant violated");

  QuotaLedger quota;
  ASSERT_TRUE(quota.reserve(1, kBuyer2024, 100, kAnnualLimitFen).ok());
  quota.commit(1);
  EXPECT_DEATH(quota.commit(1), "invariant violated");

  GuaranteeLedger guarantee;
  guarantee.deposit("4101960003", 100);
  ASSERT_TRUE(guarantee.reserve(1, "4101960003", 100).ok());
  guarantee.commit(1);
  EXPECT_DEATH(guarantee.commit(1), "invariant violated");
}

TEST_F(LedgerDeathTest, ReleaseAfterCommitAndReleaseOfUnknown) {
  QuotaLedger quota;
  ASSERT_TRUE(quota.reserve(1, kBuyer2024, 100, kAnnualLimitFen).ok());
  quota.commit(1);
  EXPECT_DEATH(quota.release(1), "invariant violated");
  StockLedger stock;
  EXPECT_DEATH(stock.release(3), "invariant violated");
  GuaranteeLedger guarantee;
  EXPECT_DEATH(guarantee.release(3), "invariant violated");
}

TEST_F(LedgerDeathTest, DoubleReserveForOneId) {
  StockLedger stock;
  ASSERT_TRUE(stock.reserve(1, {}).ok());
  EXPECT_DEATH((void)stock.reserve(1, {}), "invariant violated");
  QuotaLedger quota;
  ASSERT_TRUE(quota.reserve(1, kBuyer2024, 100, kAnnualLimitFen).ok());
  EXPECT_DEATH((void)quota.reserve(1, kBuyer2024, 100, kAnnualLimitFen), "invariant violated");
  GuaranteeLedger guarantee;
  ASSERT_TRUE(guarantee.reserve(1, "4101960003", 0).ok());
  EXPECT_DEATH((void)guarantee.reserve(1, "4101960003", 0), "invariant violated");
}

TEST_F(LedgerDeathTest, NegativeAmounts) {
  StockLedger stock;
  EXPECT_DEATH(stock.stock_in(kFormula, -1, "1901101090", "奶粉", "122"), "invariant violated");
  EXPECT_DEATH(stock.stock_in(kFormula, 0, "1901101090", "奶粉", "122"), "invariant violated");
  const std::vector<StockNeed> negative{{kFormula, -kUnit}};
  EXPECT_DEATH((void)stock.reserve(1, negative), "invariant violated");
  QuotaLedger quota;
  EXPECT_DEATH((void)quota.reserve(1, kBuyer2024, -1, kAnnualLimitFen), "invariant violated");
  EXPECT_DEATH(quota.reduce(kBuyer2024, -1), "invariant violated");
  GuaranteeLedger guarantee;
  EXPECT_DEATH(guarantee.deposit("4101960003", -100), "invariant violated");
  EXPECT_DEATH((void)guarantee.reserve(1, "4101960003", -1), "invariant violated");
  EXPECT_DEATH(guarantee.settle("4101960003", -1), "invariant violated");
}

TEST_F(LedgerDeathTest, TakingBackMoreThanWasCounted) {
  QuotaLedger quota;
  ASSERT_TRUE(quota.reserve(1, kBuyer2024, 100, kAnnualLimitFen).ok());
  quota.commit(1);
  EXPECT_DEATH(quota.reduce(kBuyer2024, 101), "invariant violated");
  EXPECT_DEATH(quota.reduce(kBuyer2025, 1), "invariant violated");
  GuaranteeLedger guarantee;
  guarantee.deposit("4101960003", 1000);
  EXPECT_DEATH(guarantee.settle("4101960003", 1), "invariant violated");
  StockLedger stock;
  EXPECT_DEATH(stock.restore(kFormula, kUnit), "invariant violated");
}

}  // namespace
}  // namespace cbec::ledger
