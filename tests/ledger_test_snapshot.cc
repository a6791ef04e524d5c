// Snapshots of the three ledgers (save_state / load_state, issue #3): a ledger loaded from the
// bytes of another saves the same bytes, answers every accessor the same, and goes on exactly as
// the original (commits and releases of the open reservations, reserves that fail on the same
// limit with the same message). Damaged bytes — every strict prefix, a wrong version byte, every
// single-byte change, hand-made blobs naming what does not exist — are refused or loaded into a
// consistent ledger, never an assertion.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/decimal.h"
#include "ledger/ledger.h"

namespace cbec::ledger {
namespace {

constexpr int64_t kUnit = kDecimalScale;

const StockKey kFormula{"T4612W000001", "1"};
const StockKey kBottle{"T4612W000001", "2"};
const StockKey kSerum{"T4612W000001", "3"};
const StockKey kOtherBook{"T4612W000002", "1"};

template <class Ledger>
std::string save(const Ledger& l) {
  std::string bytes;
  ByteWriter w(&bytes);
  l.save_state(w);
  return bytes;
}

// Loads into *l and requires that the whole blob was read.
template <class Ledger>
bool load(std::string_view bytes, Ledger* l) {
  ByteReader in(bytes);
  return l->load_state(in) && in.ok() && in.at_end();
}

// Every strict prefix fails; a wrong version byte fails; every single-byte change either fails
// or gives a ledger whose invariants hold (load_state checks them before returning true).
template <class Ledger>
void expect_damage_refused(const std::string& blob) {
  ASSERT_FALSE(blob.empty());
  for (size_t n = 0; n < blob.size(); ++n) {
    Ledger l;
    ByteReader in(std::string_view(blob).substr(0, n));
    EXPECT_FALSE(l.load_state(in)) << "prefix of " << n << " of " << blob.size() << " bytes";
  }
  for (uint8_t version : {0, 2, 0xff}) {
    std::string bad = blob;
    bad[0] = static_cast<char>(version);
    Ledger l;
    ByteReader in(bad);
    EXPECT_FALSE(l.load_state(in)) << "version " << int{version};
  }
  for (size_t i = 0; i < blob.size(); ++i) {
    for (uint8_t flip : {0x01, 0x40, 0x80, 0xff}) {
      std::string bad = blob;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      Ledger l;
      ByteReader in(bad);
      if (l.load_state(in)) l.check_invariants();
    }
  }
}

std::vector<StockNeed> needs(std::initializer_list<StockNeed> n) { return n; }

void expect_same_items(const StockLedger& a, const StockLedger& b) {
  ASSERT_EQ(a.items().size(), b.items().size());
  for (auto ia = a.items().begin(), ib = b.items().begin(); ia != a.items().end(); ++ia, ++ib) {
    EXPECT_EQ(ia->first, ib->first);
    EXPECT_EQ(ia->second.gcode, ib->second.gcode);
    EXPECT_EQ(ia->second.name, ib->second.name);
    EXPECT_EQ(ia->second.unit, ib->second.unit);
    EXPECT_EQ(ia->second.on_hand_units, ib->second.on_hand_units);
    EXPECT_EQ(ia->second.reserved_units, ib->second.reserved_units);
  }
}

// Open reservations 1 (two items), 3 and 900 (created before 1, so the map's order is not the
// id order), 5 (no quantity at all); 2 committed from two lines on one item, 4 released, a
// restore.
void build_stock(StockLedger* s) {
  s->stock_in(kFormula, 10 * kUnit, "1901101090", "婴儿配方奶粉", "122");
  s->stock_in(kBottle, 7 * kUnit, "3924100000", "奶瓶", "011");
  s->stock_in(kSerum, 5 * kUnit, "3304990099", "精华液", "142");
  s->stock_in(kOtherBook, 3 * kUnit, "1901101090", "另一账册奶粉", "122");
  s->stock_in(kSerum, kUnit / 2, "ignored", "ignored", "ignored");
  ASSERT_TRUE(s->reserve(900, needs({{kBottle, 2 * kUnit}})).ok());
  ASSERT_TRUE(s->reserve(3, needs({{kOtherBook, 3 * kUnit}})).ok());
  ASSERT_TRUE(s->reserve(1, needs({{kSerum, kUnit}, {kFormula, 2 * kUnit}})).ok());
  ASSERT_TRUE(s->reserve(2, needs({{kFormula, 3 * kUnit}, {kFormula, kUnit}})).ok());
  s->commit(2);
  ASSERT_TRUE(s->reserve(4, needs({{kSerum, kUnit}})).ok());
  s->release(4);
  ASSERT_TRUE(s->reserve(5, needs({{kFormula, 0}})).ok());
  s->restore(kFormula, kUnit);
}

TEST(StockLedgerSnapshot, RoundTripAndGoesOnTheSame) {
  StockLedger a;
  build_stock(&a);
  const std::string blob = save(a);
  StockLedger b;
  ASSERT_TRUE(load(blob, &b));
  EXPECT_EQ(save(b), blob);
  expect_same_items(a, b);
  for (ReservationId id : {1, 2, 3, 4, 5, 6, 900})
    EXPECT_EQ(a.has_reservation(id), b.has_reservation(id)) << id;
  EXPECT_TRUE(b.has_reservation(900));
  EXPECT_FALSE(b.has_reservation(2));

  for (StockLedger* l : {&a, &b}) {
    l->commit(1);
    l->release(3);
    l->commit(5);
    l->commit(900);
  }
  expect_same_items(a, b);
  EXPECT_EQ(b.find(kOtherBook)->available_units(), 3 * kUnit);  // release(3) found its item
  // Formula: 10 - 4 (id 2) + 1 (restore) - 2 (id 1) = 5 on hand, none held.
  EXPECT_EQ(b.find(kFormula)->on_hand_units, 5 * kUnit);
  EXPECT_EQ(b.find(kFormula)->reserved_units, 0);
  const auto too_much = needs({{kFormula, 5 * kUnit + 1}, {kOtherBook, kUnit}});
  Status fa = a.reserve(10, too_much), fb = b.reserve(10, too_much);
  EXPECT_EQ(fb.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(fa.message(), fb.message());
  const auto exactly = needs({{kFormula, 5 * kUnit}, {kBottle, 5 * kUnit}});
  EXPECT_TRUE(a.reserve(11, exactly).ok());
  EXPECT_TRUE(b.reserve(11, exactly).ok());
  EXPECT_EQ(save(a), save(b));
  a.commit(11);
  b.commit(11);
  EXPECT_EQ(save(a), save(b));
  b.check_invariants();
}

TEST(StockLedgerSnapshot, EmptyLedgerRoundTrips) {
  StockLedger a, b;
  const std::string blob = save(a);
  ASSERT_TRUE(load(blob, &b));
  EXPECT_EQ(save(b), blob);
  EXPECT_TRUE(b.items().empty());
}

TEST(StockLedgerSnapshot, DamagedBytesAreRefused) {
  StockLedger a;
  build_stock(&a);
  expect_damage_refused<StockLedger>(save(a));
}

// Hand-made blobs in the format save_state writes: one item with 2 units reserved and one
// reservation holding `held_qty` of the item `held`.
std::string stock_blob(const StockKey& held, int64_t held_qty, int64_t item_reserved,
                       uint64_t reservations = 1) {
  std::string bytes;
  ByteWriter w(&bytes);
  w.u8(1);
  w.u64(1);
  w.str(kFormula.emsNo);
  w.str(kFormula.itemRecordNo);
  w.str("1901101090");
  w.str("奶粉");
  w.str("122");
  w.i64(10);
  w.i64(item_reserved);
  w.u64(reservations);
  for (uint64_t i = 0; i < reservations; ++i) {
    w.u64(7);  // the same id each time
    w.u64(1);
    w.str(held.emsNo);
    w.str(held.itemRecordNo);
    w.i64(held_qty);
  }
  return bytes;
}

TEST(StockLedgerSnapshot, CrossReferencesAreChecked) {
  StockLedger ok;
  ASSERT_TRUE(load(stock_blob(kFormula, 2, 2), &ok));  // the format is right
  EXPECT_TRUE(ok.has_reservation(7));
  ok.commit(7);
  EXPECT_EQ(ok.find(kFormula)->on_hand_units, 8);
  StockLedger missing, sum, none, negative, twice, over;
  EXPECT_FALSE(load(stock_blob(kSerum, 2, 2), &missing));  // names an item not in the book
  EXPECT_FALSE(load(stock_blob(kFormula, 1, 2), &sum));    // item says 2 held, reservation 1
  EXPECT_FALSE(load(stock_blob(kFormula, 0, 0), &none));   // a held line without quantity
  EXPECT_FALSE(load(stock_blob(kFormula, -2, -2), &negative));
  EXPECT_FALSE(load(stock_blob(kFormula, 1, 2, 2), &twice));  // id 7 twice
  EXPECT_FALSE(load(stock_blob(kFormula, 11, 11), &over));    // more held than on hand
}

// ---- QuotaLedger ----------------------------------------------------------------------------

const QuotaKey kBuyerA{"410102200108150037", 2026};
const QuotaKey kBuyerA2025{"410102200108150037", 2025};
const QuotaKey kBuyerB{"110101199003070011", 2026};
const QuotaKey kBuyerC{"310101198001010022", 2026};
const QuotaKey kBuyerD{"440101197505050033", 2026};
constexpr Fen kLimit = 2'600'000;

void expect_same_totals(const QuotaLedger& a, const QuotaLedger& b) {
  // The entries in memory are a hash table: compare them by key, not in table order.
  ASSERT_EQ(a.hot().size(), b.hot().size());
  for (const auto& [key, t] : a.hot()) {
    auto other = b.hot().find(key);
    ASSERT_NE(other, b.hot().end()) << key.buyerIdNumber << " " << key.year;
    EXPECT_EQ(t.committed_fen, other->second.committed_fen) << key.buyerIdNumber;
    EXPECT_EQ(t.reserved_fen, other->second.reserved_fen) << key.buyerIdNumber;
  }
}

void build_quota(QuotaLedger* q) {
  ASSERT_TRUE(q->reserve(40, kBuyerA, 100'000, kLimit).ok());  // open
  ASSERT_TRUE(q->reserve(2, kBuyerA, 2'000'000, kLimit).ok());
  q->commit(2);
  ASSERT_TRUE(q->reserve(3, kBuyerA2025, 0, kLimit).ok());  // zero, no entry for the buyer
  ASSERT_TRUE(q->reserve(4, kBuyerB, 300'000, kLimit).ok());
  q->release(4);                                             // leaves an entry with nothing in it
  ASSERT_TRUE(q->reserve(5, kBuyerB, 50'000, kLimit).ok());  // open
  ASSERT_TRUE(q->reserve(6, kBuyerA, 0, kLimit).ok());       // zero on a buyer with an entry
  q->reduce(kBuyerA, 150'000);
  q->reinstate(kBuyerC, 30'000);
  EXPECT_FALSE(q->reserve(7, kBuyerA, 650'001, kLimit).ok());
}

TEST(QuotaLedgerSnapshot, RoundTripAndGoesOnTheSame) {
  QuotaLedger a;
  build_quota(&a);
  const std::string blob = save(a);
  QuotaLedger b;
  ASSERT_TRUE(load(blob, &b));
  EXPECT_EQ(save(b), blob);
  expect_same_totals(a, b);
  for (ReservationId id : {2, 3, 4, 5, 6, 7, 40})
    EXPECT_EQ(a.has_reservation(id), b.has_reservation(id)) << id;
  EXPECT_FALSE(b.hot().contains(kBuyerA2025));

  // Buyer A: committed 1,850,000, reserved 100,000 (id 40): 650,000 left under the limit.
  Status fa = a.reserve(8, kBuyerA, 650'001, kLimit), fb = b.reserve(8, kBuyerA, 650'001, kLimit);
  EXPECT_EQ(fb.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(fa.message(), fb.message());
  EXPECT_NE(fb.message().find("under review 1000.00"), std::string::npos) << fb.message();
  for (QuotaLedger* l : {&a, &b}) {
    l->commit(40);
    l->release(5);
    l->commit(3);
    l->commit(6);
    EXPECT_TRUE(l->reserve(9, kBuyerA, 650'000, kLimit).ok());
    EXPECT_FALSE(l->reserve(10, kBuyerA, 1, kLimit).ok());
    l->reduce(kBuyerC, 30'000);
    EXPECT_TRUE(l->reserve(11, kBuyerD, 1, kLimit).ok());
  }
  expect_same_totals(a, b);
  EXPECT_EQ(b.totals(kBuyerA).committed_fen, 1'950'000);
  EXPECT_EQ(b.totals(kBuyerB).reserved_fen, 0);
  EXPECT_EQ(save(a), save(b));
  b.check_invariants();
}

TEST(QuotaLedgerSnapshot, DamagedBytesAreRefused) {
  QuotaLedger a;
  build_quota(&a);
  expect_damage_refused<QuotaLedger>(save(a));
}

// One entry (buyer A, 2026) with `reserved` held, and one reservation of `amount` on `key`.
std::string quota_blob(const QuotaKey& key, Fen amount, Fen reserved, int64_t year_written) {
  std::string bytes;
  ByteWriter w(&bytes);
  w.u8(1);
  w.u64(1);
  w.str(kBuyerA.buyerIdNumber);
  w.i64(year_written);
  w.i64(1000);
  w.i64(reserved);
  w.u64(1);
  w.u64(7);
  w.i64(amount);
  if (amount > 0) {
    w.str(key.buyerIdNumber);
    w.i64(key.year);
  }
  return bytes;
}

TEST(QuotaLedgerSnapshot, CrossReferencesAreChecked) {
  QuotaLedger ok, zero;
  ASSERT_TRUE(load(quota_blob(kBuyerA, 500, 500, 2026), &ok));
  ok.commit(7);
  EXPECT_EQ(ok.totals(kBuyerA).committed_fen, 1500);
  ASSERT_TRUE(load(quota_blob(kBuyerB, 0, 0, 2026), &zero));  // a zero reservation names nobody
  QuotaLedger missing, sum, negative, year;
  EXPECT_FALSE(load(quota_blob(kBuyerB, 500, 500, 2026), &missing));
  EXPECT_FALSE(load(quota_blob(kBuyerA, 400, 500, 2026), &sum));
  EXPECT_FALSE(load(quota_blob(kBuyerA, -500, 0, 2026), &negative));
  EXPECT_FALSE(load(quota_blob(kBuyerA, 0, 0, int64_t{1} << 40), &year));  // not an int
}

// Entries for `keys`, written in the order given, and no reservation.
std::string quota_entries_blob(std::initializer_list<QuotaKey> keys) {
  std::string bytes;
  ByteWriter w(&bytes);
  w.u8(1);
  w.u64(keys.size());
  for (const QuotaKey& k : keys) {
    w.str(k.buyerIdNumber);
    w.i64(k.year);
    w.i64(1000);
    w.i64(0);
  }
  w.u64(0);
  return bytes;
}

TEST(QuotaLedgerSnapshot, EntriesMustComeInKeyOrderOnce) {
  // Proves: although the entries live in a hash table, a snapshot lists them in key order
  // (its bytes do not depend on the table), and bytes that repeat or reorder a key are damage.
  QuotaLedger sorted, disorder, twice, year_disorder;
  ASSERT_TRUE(load(quota_entries_blob({kBuyerB, kBuyerC, kBuyerA2025, kBuyerA, kBuyerD}),
                   &sorted));
  EXPECT_EQ(save(sorted), quota_entries_blob({kBuyerB, kBuyerC, kBuyerA2025, kBuyerA, kBuyerD}));
  EXPECT_EQ(sorted.totals(kBuyerA2025).committed_fen, 1000);
  EXPECT_FALSE(load(quota_entries_blob({kBuyerC, kBuyerB}), &disorder));
  EXPECT_FALSE(load(quota_entries_blob({kBuyerB, kBuyerB}), &twice));
  EXPECT_FALSE(load(quota_entries_blob({kBuyerA, kBuyerA2025}), &year_disorder));
}

// ---- GuaranteeLedger ------------------------------------------------------------------------

void expect_same_accounts(const GuaranteeLedger& a, const GuaranteeLedger& b) {
  ASSERT_EQ(a.all().size(), b.all().size());
  for (auto ia = a.all().begin(), ib = b.all().begin(); ia != a.all().end(); ++ia, ++ib) {
    EXPECT_EQ(ia->first, ib->first);
    EXPECT_EQ(ia->second.deposited_fen, ib->second.deposited_fen);
    EXPECT_EQ(ia->second.open_bills_fen, ib->second.open_bills_fen);
    EXPECT_EQ(ia->second.reserved_fen, ib->second.reserved_fen);
  }
}

void build_guarantees(GuaranteeLedger* g) {
  g->deposit("4101960003", 1'000'000);
  g->deposit("4101960301", 6000);
  g->deposit("4101960003", 5000);
  ASSERT_TRUE(g->reserve(31, "4101960003", 300'000).ok());  // open
  ASSERT_TRUE(g->reserve(2, "4101960003", 200'000).ok());
  g->commit(2);
  g->settle("4101960003", 50'000);
  ASSERT_TRUE(g->reserve(3, "4101969999", 0).ok());  // zero, no account
  ASSERT_TRUE(g->reserve(4, "4101960301", 0).ok());  // zero, with an account
  ASSERT_TRUE(g->reserve(5, "4101960301", 5515).ok());
  g->release(5);
  ASSERT_TRUE(g->reserve(6, "4101960301", 5515).ok());  // open: 485 left
}

TEST(GuaranteeLedgerSnapshot, RoundTripAndGoesOnTheSame) {
  GuaranteeLedger a;
  build_guarantees(&a);
  const std::string blob = save(a);
  GuaranteeLedger b;
  ASSERT_TRUE(load(blob, &b));
  EXPECT_EQ(save(b), blob);
  expect_same_accounts(a, b);
  for (ReservationId id : {2, 3, 4, 5, 6, 31})
    EXPECT_EQ(a.has_reservation(id), b.has_reservation(id)) << id;
  EXPECT_EQ(b.find("4101960301")->remaining_fen(), 485);

  Status fa = a.reserve(7, "4101960301", 486), fb = b.reserve(7, "4101960301", 486);
  EXPECT_EQ(fb.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(fa.message(), fb.message());
  for (GuaranteeLedger* l : {&a, &b}) {
    l->commit(31);
    l->release(6);
    l->commit(3);
    l->commit(4);
    EXPECT_TRUE(l->reserve(8, "4101960301", 6000).ok());
    EXPECT_FALSE(l->reserve(9, "4101960301", 1).ok());
    l->settle("4101960003", 450'000);
  }
  expect_same_accounts(a, b);
  EXPECT_EQ(b.find("4101960003")->open_bills_fen, 0);
  EXPECT_EQ(save(a), save(b));
  b.check_invariants();
}

TEST(GuaranteeLedgerSnapshot, DamagedBytesAreRefused) {
  GuaranteeLedger a;
  build_guarantees(&a);
  expect_damage_refused<GuaranteeLedger>(save(a));
}

std::string guarantee_blob(std::string_view code, Fen amount, Fen deposited, Fen reserved) {
  std::string bytes;
  ByteWriter w(&bytes);
  w.u8(1);
  w.u64(1);
  w.str("4101960003");
  w.i64(deposited);
  w.i64(0);
  w.i64(reserved);
  w.u64(1);
  w.u64(7);
  w.i64(amount);
  if (amount > 0) w.str(code);
  return bytes;
}

TEST(GuaranteeLedgerSnapshot, CrossReferencesAreChecked) {
  GuaranteeLedger ok;
  ASSERT_TRUE(load(guarantee_blob("4101960003", 500, 1000, 500), &ok));
  ok.commit(7);
  EXPECT_EQ(ok.find("4101960003")->open_bills_fen, 500);
  GuaranteeLedger missing, sum, overdrawn;
  EXPECT_FALSE(load(guarantee_blob("4101960301", 500, 1000, 500), &missing));
  EXPECT_FALSE(load(guarantee_blob("4101960003", 500, 1000, 600), &sum));
  EXPECT_FALSE(load(guarantee_blob("4101960003", 500, 400, 500), &overdrawn));  // remaining < 0
}

}  // namespace
}  // namespace cbec::ledger

// ---- QuotaLedger with an archive (issue #3) -------------------------------------------------
namespace cbec::ledger {
namespace {

TEST(QuotaLedgerArchive, IdleEntriesLeaveMemoryHeldOnesStayAndAllComeBack) {
  archive::MemoryArchive store;
  TimeMs now = 1000;
  QuotaLedger q;
  q.attach(&store, &now);
  const QuotaKey a{"410101199001010011", 2026}, b{"410101199001010022", 2026};
  ASSERT_TRUE(q.reserve(1, a, 10000, 2600000).ok());
  q.commit(1);
  ASSERT_TRUE(q.reserve(2, b, 5000, 2600000).ok());  // under review: held
  now = 5000;
  q.archive_idle(now);
  EXPECT_EQ(q.hot().size(), 1u);  // b stays, its reservation holds it
  EXPECT_TRUE(q.hot().contains(b));
  EXPECT_EQ(store.size(), 1u);
  // Reads see the archived entry without bringing it back.
  EXPECT_EQ(q.totals(a).committed_fen, 10000);
  EXPECT_FALSE(q.hot().contains(a));
  // The limit still counts what is archived: a's next list comes back with its total.
  Status s = q.reserve(3, a, 2590001, 2600000);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  ASSERT_TRUE(q.reserve(4, a, 20000, 2600000).ok());
  EXPECT_TRUE(q.hot().contains(a));
  EXPECT_EQ(q.totals(a).reserved_fen, 20000);
  // A snapshot archives held entries too; commit and release find them again.
  q.evict_all();
  EXPECT_TRUE(q.hot().empty());
  q.check_invariants();
  std::string blob;
  ByteWriter w(&blob);
  q.save_state(w);
  archive::MemoryArchive copy = store;  // the snapshot's archive, as a checkpoint keeps it
  QuotaLedger r;
  r.attach(&copy, &now);
  ByteReader in(blob);
  ASSERT_TRUE(r.load_state(in));
  for (QuotaLedger* l : {&q, &r}) {
    l->commit(4);
    l->release(2);
    EXPECT_EQ(l->totals(a).committed_fen, 30000);
    EXPECT_EQ(l->totals(b).committed_fen, 0);
    EXPECT_EQ(l->totals(b).reserved_fen, 0);
    l->check_invariants();
  }
  std::vector<std::pair<QuotaKey, QuotaTotals>> all;
  q.for_each([&](const QuotaKey& k, const QuotaTotals& t) { all.emplace_back(k, t); });
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].first, a);
  EXPECT_EQ(all[0].second.committed_fen, 30000);
}

}  // namespace
}  // namespace cbec::ledger
