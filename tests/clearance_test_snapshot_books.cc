// Snapshots of the TaxBook and the ReturnBook (evict_all + save_state / load_state, issue #3).
// The books live inside the Engine, so these tests build a small world of their own around them
// (ledgers, lists, a MemoryArchive) from lists the fixture engine released, and drive the books
// through their public methods as the engine does: releases, a cancel, returns that arrive and
// lapse, bills that become payable and overdue, payments. A restored world (the archive copied,
// the books loaded from the bytes) dumps the same text, saves the same bytes, and then goes on
// exactly as the original through lapses, overdue bills and payments: same receipts, same credit
// events, same dumps. Damaged bytes — every strict prefix, a wrong version byte, single-byte
// changes, a timer naming a record the archive does not have — are refused without assertion.
#include <memory>
#include <sstream>

#include "archive/archive.h"
#include "clearance/id_number.h"
#include "clearance/returns.h"
#include "clearance/tax_bills.h"
#include "clearance_fixture.h"
#include "clearance_returns_fixture.h"
#include "common/decimal.h"
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace cbec::testing {
namespace {

using clearance::ListRecord;
using clearance::ReturnArrival;
using clearance::ReturnBook;
using clearance::ReturnRecord;
using clearance::TaxBill;
using clearance::TaxBook;
using clearance::TaxPayment;
using MT = ceb::MessageType;

// The fixture's lists are released on 2026-05-10 (Beijing), day 0.
constexpr CivilDate kReleaseDate{2026, 5, 10};
TimeMs day_start(int n) {
  return beijing_midnight(civil_from_days(days_from_civil(kReleaseDate) + n));
}

// A return of every line of the list, each with quantity `qty`.
ceb::InvtRefund refund_all(const DocSet& s, const std::string& invtNo, const std::string& copNo,
                           const char* qty) {
  std::vector<Ret> lines;
  for (const auto& line : s.list.lists) lines.push_back(Ret{line.gnum, qty});
  return refund_of(s, invtNo, copNo, std::move(lines));
}

// The books with what the engine lends them (ReturnsCtx), an archive and a clock.
struct World {
  explicit World(const ref::ReferenceData& r) : ref(r) {
    bills.attach(&archive, &now);
    returns.attach(&archive, &now);
    caps_used.attach(&archive, &now);
    bills.on_credit_event = [this](const std::string& code, const clearance::TaxCreditEvent& e) {
      credit_events.push_back(fmt::format("{} {} {} {} {} {}", code, static_cast<int>(e.kind),
                                          e.time, e.invtNo, e.reference, e.amount_fen));
    };
  }
  clearance::ReturnsCtx ctx() {
    return clearance::ReturnsCtx{now,
                                 ref,
                                 stock,
                                 quota,
                                 guarantees,
                                 caps_used,
                                 bills,
                                 [this](std::string_view invtNo) -> ListRecord* {
                                   auto it = lists.find(invtNo);
                                   return it == lists.end() ? nullptr : &it->second;
                                 },
                                 [this] { return fmt::format("PRE{:06d}", ++pre_no); },
                                 &receipts};
  }
  // What the engine does when a list is released (engine.cc, open_tax_bill and the ledgers).
  void release(const ListRecord& L) {
    const auto& h = L.doc.head;
    CivilDate decl_date = parse_date8(h.declTime).value_or(beijing_date(now));
    ledger::QuotaKey quota_key{clearance::normalize_id_number(h.buyerIdNumber), decl_date.year};
    ASSERT_TRUE(guarantees.reserve(L.id, h.assureCode, L.tax->total_fen()).ok());
    guarantees.commit(L.id);
    ASSERT_TRUE(quota.reserve(L.id, quota_key, L.tax->dutiable_fen, 2'600'000).ok());
    quota.commit(L.id);
    std::vector<ledger::StockNeed> needs;
    for (const auto& line : L.doc.lists)
      needs.push_back({{h.emsNo, line.itemRecordNo}, line.qty.units});
    ASSERT_TRUE(stock.reserve(L.id, needs).ok());
    stock.commit(L.id);
    lists.emplace(L.invtNo, L);
    bills.open(L, now, ref.policy_at(beijing_date(now)));
    returns.on_release(L, clearance::ReleaseFacts{decl_date, quota_key, L.tax->dutiable_fen, {}});
  }
  // One command at t: what is due first (engine.cc, settle_due), then the command.
  void at(TimeMs t) {
    ASSERT_GE(t, now);
    now = t;
    if (returns.lapse_is_due(now)) {
      auto c = ctx();
      returns.lapse_due(c);
    }
    bills.advance(now);
  }
  std::string dump() const {
    std::ostringstream o;
    bills.dump(o);
    returns.dump(o);
    return o.str();
  }
  std::string ledgers() const {
    std::string bytes;
    ByteWriter w(&bytes);
    stock.save_state(w);
    quota.save_state(w);
    guarantees.save_state(w);
    return bytes;
  }

  const ref::ReferenceData& ref;
  archive::MemoryArchive archive;
  TimeMs now = 0;
  ledger::StockLedger stock;
  ledger::QuotaLedger quota;
  ledger::GuaranteeLedger guarantees;
  clearance::CapTable caps_used{"cu"};
  TaxBook bills;
  ReturnBook returns;
  std::map<std::string, ListRecord, std::less<>> lists;  // by invtNo
  uint64_t pre_no = 0;
  ceb::Receipts receipts;
  std::vector<std::string> credit_events;
};

struct Blobs {
  std::string tax, returns;
};
Blobs save_books(World& w) {
  w.bills.evict_all();
  w.returns.evict_all();
  w.caps_used.evict_all();  // the engine's table: it goes with the archive
  Blobs b;
  ByteWriter tw(&b.tax), rw(&b.returns);
  w.bills.save_state(tw);
  w.returns.save_state(rw);
  return b;
}

// A fresh world on a copy of the archive: ledgers and lists copied (the ledgers through their
// own snapshot codecs), the books loaded from the bytes.
std::unique_ptr<World> restore(World& a, const Blobs& blobs) {
  auto b = std::make_unique<World>(a.ref);
  b->archive = a.archive;
  b->now = a.now;
  b->lists = a.lists;
  b->pre_no = a.pre_no;
  const std::string ledgers = a.ledgers();
  ByteReader lin(ledgers);
  EXPECT_TRUE(b->stock.load_state(lin) && b->quota.load_state(lin) &&
              b->guarantees.load_state(lin) && lin.at_end());
  ByteReader tin(blobs.tax), rin(blobs.returns);
  EXPECT_TRUE(b->bills.load_state(tin));
  EXPECT_TRUE(tin.ok() && tin.at_end());
  EXPECT_TRUE(b->returns.load_state(rin));
  EXPECT_TRUE(rin.ok() && rin.at_end());
  return b;
}

// The fixture engine releases six lists (four on day 0, two on day 20); `a` gets the same
// releases at the same times and then, over 50 days: a cancel, a return that arrives, a return
// that lapses (its bill then overdue, both on the credit record), a payment, a pending return and
// a deposit.
struct Scenario {
  Harness h;
  std::vector<DocSet> sets;
  std::vector<std::string> invt;
  std::vector<ListRecord> released;  // as the fixture engine released them
  std::vector<TimeMs> released_at;
  std::unique_ptr<World> a;

  Scenario() {
    sets.push_back(load_base("formula_1210"));
    for (const char* suffix : {"-B", "-C", "-D", "-E", "-F"})
      sets.push_back(set_from("{}", suffix, h));
    for (size_t i = 0; i < sets.size(); ++i) {
      if (i == 4) h.advance_ms(day_start(20) + 10 * kMsPerHour - h.now());
      h.submit_all(sets[i]);
      auto L = h.list(sets[i]);
      EXPECT_NE(L, nullptr);
      EXPECT_EQ(L->state, clearance::ListState::kReleased);
      invt.push_back(L->invtNo);
      released.push_back(*L);
      released_at.push_back(h.now());
    }
    a = std::make_unique<World>(h.ref());
    a->guarantees.deposit(kAgent, kFixtureGuaranteeFen);
    for (const auto& item : fixture_catalog()) {
      Decimal stock;
      EXPECT_EQ(parse_decimal(item.stock, &stock), DecimalError::kOk);
      a->stock.stock_in({kEmsNo, item.itemRecordNo}, stock.units, item.gcode, item.name, item.unit);
    }
  }
  void release(size_t i) {
    a->at(released_at[i]);
    a->release(released[i]);
  }
};

void expect_receipt(const World& w, size_t from, int status) {
  ASSERT_GT(w.receipts.size(), from);
  EXPECT_EQ(w.receipts.back().returnStatus, status) << w.receipts.back().returnInfo;
}

void build_history(Scenario& s) {
  World& a = *s.a;
  for (size_t i = 0; i < 4; ++i) s.release(i);
  // Day 5: list B cancelled (bill void).
  a.at(day_start(5) + 9 * kMsPerHour);
  {
    ceb::InvtCancel c;
    fill_head(&c, s.sets[1], s.invt[1], "CX0002");
    auto ctx = a.ctx();
    size_t before = a.receipts.size();
    a.returns.apply_cancel(ctx, kAgent, c, std::nullopt);
    expect_receipt(a, before, 399);
  }
  // Day 10: list C returned whole, back on day 20 (bill void, guarantee released).
  a.at(day_start(10) + 9 * kMsPerHour);
  {
    auto ctx = a.ctx();
    size_t before = a.receipts.size();
    a.returns.apply_return(ctx, kAgent, refund_all(s.sets[2], s.invt[2], "RT0003", "2"),
                           std::nullopt);
    expect_receipt(a, before, 120);
  }
  s.release(4);
  s.release(5);
  a.at(day_start(20) + 11 * kMsPerHour);
  {
    auto ctx = a.ctx();
    ASSERT_TRUE(a.returns.arrival(ctx, ReturnArrival{kAgent, kAgent, "RT0003"}).ok());
  }
  // Day 29: half of list A returned; the goods never come back.
  a.at(day_start(29) + 9 * kMsPerHour);
  {
    auto ctx = a.ctx();
    size_t before = a.receipts.size();
    a.returns.apply_return(ctx, kAgent, refund_all(s.sets[0], s.invt[0], "RT0001", "1"),
                           std::nullopt);
    expect_receipt(a, before, 120);
  }
  // Day 32: list D payable and paid.
  a.at(day_start(32) + 9 * kMsPerHour);
  ASSERT_EQ(a.bills.find(s.invt[3])->state, TaxBill::State::kPayable);
  ASSERT_TRUE(
      a.bills
          .pay(TaxPayment{kAgent, s.invt[3], "BANK-D", a.bills.find(s.invt[3])->outstanding_fen()},
               a.now, a.guarantees)
          .ok());
  // Day 40 (day 20 of list F): list F returned whole, pending until it lapses on day 66.
  a.at(day_start(40) + 9 * kMsPerHour);
  {
    auto ctx = a.ctx();
    size_t before = a.receipts.size();
    a.returns.apply_return(ctx, kAgent, refund_all(s.sets[5], s.invt[5], "RT0006", "2"),
                           std::nullopt);
    expect_receipt(a, before, 120);
  }
  // Day 46: list A's return lapses and its bill is overdue; day 50: a deposit.
  a.at(day_start(46));
  ASSERT_EQ(a.returns.refund(kAgent, "RT0001")->state, ReturnRecord::State::kLapsed);
  ASSERT_EQ(a.bills.find(s.invt[0])->state, TaxBill::State::kOverdue);
  a.at(day_start(50) + 9 * kMsPerHour);
  a.guarantees.deposit(kAgent, 100'000);
  a.bills.deposit(kAgent, 100'000, a.now);
  ASSERT_NE(a.bills.credit(kAgent), nullptr);
  EXPECT_EQ(a.bills.credit(kAgent)->lapsed_returns, 1u);
  EXPECT_EQ(a.bills.credit(kAgent)->overdue_bills, 1u);
  a.bills.check_invariants(a.guarantees);
}

// The same commands on both worlds, comparing what each answers and ends with.
void go_on(World& w, const Scenario& s, std::vector<std::string>* answers) {
  auto note = [&](const Status& st) { answers->push_back(st.ToString()); };
  // Day 52: list A's overdue bill paid; the same payment again; its reference reused.
  w.at(day_start(52) + 9 * kMsPerHour);
  const Fen owed_a = w.bills.find(s.invt[0])->outstanding_fen();
  note(w.bills.pay(TaxPayment{kAgent, s.invt[0], "BANK-A", owed_a}, w.now, w.guarantees));
  note(w.bills.pay(TaxPayment{kAgent, s.invt[0], "BANK-A", owed_a}, w.now, w.guarantees));
  note(w.bills.pay(TaxPayment{kAgent, "", "BANK-A", 1}, w.now, w.guarantees));
  note(w.bills.pay(TaxPayment{kAgent, "", "BANK-E1", 1}, w.now, w.guarantees));  // not E's 55.15
  // An arrival for the lapsed return is refused.
  {
    auto ctx = w.ctx();
    note(w.returns.arrival(ctx, ReturnArrival{kAgent, kAgent, "RT0001"}));
  }
  // Day 66 (day 46 of E and F): F's return lapses, both bills overdue.
  w.at(day_start(66));
  EXPECT_EQ(w.returns.refund(kAgent, "RT0006")->state, ReturnRecord::State::kLapsed);
  EXPECT_EQ(w.bills.find(s.invt[4])->state, TaxBill::State::kOverdue);
  EXPECT_EQ(w.bills.find(s.invt[5])->state, TaxBill::State::kOverdue);
  // Day 70: a batch payment of both.
  w.at(day_start(70) + 9 * kMsPerHour);
  const Fen owed_ef =
      w.bills.find(s.invt[4])->outstanding_fen() + w.bills.find(s.invt[5])->outstanding_fen();
  note(w.bills.pay(TaxPayment{kAgent, "", "BANK-EF", owed_ef - 1}, w.now, w.guarantees));
  note(w.bills.pay(TaxPayment{kAgent, "", "BANK-EF", owed_ef}, w.now, w.guarantees));
  EXPECT_EQ(w.guarantees.find(kAgent)->open_bills_fen, 0);
  auto st = w.bills.statement(kAgent, kReleaseDate,
                              civil_from_days(days_from_civil(kReleaseDate) + 70), w.guarantees);
  ASSERT_TRUE(st.ok());
  answers->push_back(fmt::format("statement {} {} {} {} {}", st->opening_fen, st->closing_fen,
                                 st->entries.size(), st->bills.size(), st->payments_fen));
  w.bills.check_invariants(w.guarantees);
  w.stock.check_invariants();
  w.quota.check_invariants();
}

TEST(BooksSnapshot, RestoredBooksDumpTheSameAndGoOnTheSame) {
  Scenario s;
  build_history(s);
  World& a = *s.a;
  const std::string before = a.dump();
  EXPECT_NE(before.find("return " + std::string(kAgent) + "/RT0006"), std::string::npos);
  const Blobs blobs = save_books(a);
  EXPECT_EQ(a.dump(), before);  // everything archived, still all there
  EXPECT_GT(a.archive.size(), 10u);

  std::unique_ptr<World> b = restore(a, blobs);
  EXPECT_EQ(b->dump(), before);
  EXPECT_EQ(save_books(*b).tax, blobs.tax);
  EXPECT_EQ(save_books(*b).returns, blobs.returns);
  b->bills.check_invariants(b->guarantees);
  ASSERT_NE(b->bills.credit(kAgent), nullptr);
  EXPECT_EQ(b->bills.credit(kAgent)->events.size(), a.bills.credit(kAgent)->events.size());
  EXPECT_TRUE(b->returns.lapse_is_due(day_start(66)));
  EXPECT_FALSE(b->returns.lapse_is_due(day_start(66) - 1));

  const size_t receipts_before = a.receipts.size();
  const size_t events_before = a.credit_events.size();
  std::vector<std::string> answers_a, answers_b;
  go_on(a, s, &answers_a);
  go_on(*b, s, &answers_b);
  EXPECT_EQ(answers_a, answers_b);
  EXPECT_EQ(answers_a[0], "OK");
  std::vector<ceb::Receipt> after_a(a.receipts.begin() + receipts_before, a.receipts.end());
  ASSERT_EQ(after_a.size(), b->receipts.size());
  EXPECT_TRUE(std::equal(after_a.begin(), after_a.end(), b->receipts.begin()));
  EXPECT_FALSE(after_a.empty());  // the lapse of RT0006
  std::vector<std::string> events_a(a.credit_events.begin() + events_before, a.credit_events.end());
  EXPECT_EQ(events_a, b->credit_events);
  EXPECT_EQ(events_a.size(), 3u);  // a lapsed return, two overdue bills
  EXPECT_EQ(a.dump(), b->dump());
  EXPECT_EQ(a.ledgers(), b->ledgers());
  EXPECT_EQ(a.pre_no, b->pre_no);
  EXPECT_EQ(save_books(a).tax, save_books(*b).tax);
}

TEST(BooksSnapshot, EmptyBooksRoundTrip) {
  Harness h;
  World a(h.ref());
  const Blobs blobs = save_books(a);
  auto b = restore(a, blobs);
  EXPECT_EQ(b->dump(), a.dump());
  EXPECT_EQ(save_books(*b).tax, blobs.tax);
  EXPECT_EQ(save_books(*b).returns, blobs.returns);
}

template <class Book>
bool load_book(const std::string& bytes, archive::Archive* archive, TimeMs* clock) {
  Book book;
  book.attach(archive, clock);
  ByteReader in(bytes);
  return book.load_state(in);
}

template <class Book>
void expect_damage_refused(const std::string& blob, archive::Archive* archive, TimeMs* clock) {
  ASSERT_FALSE(blob.empty());
  ASSERT_TRUE(load_book<Book>(blob, archive, clock));
  for (size_t n = 0; n < blob.size(); ++n)
    EXPECT_FALSE(load_book<Book>(blob.substr(0, n), archive, clock)) << "prefix " << n;
  for (uint8_t version : {0, 2, 0xff}) {
    std::string bad = blob;
    bad[0] = static_cast<char>(version);
    EXPECT_FALSE(load_book<Book>(bad, archive, clock)) << "version " << int{version};
  }
  for (size_t i = 0; i < blob.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      std::string bad = blob;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      (void)load_book<Book>(bad, archive, clock);  // either answer, no assertion
    }
  }
}

TEST(BooksSnapshot, DamagedBytesAreRefused) {
  Scenario s;
  build_history(s);
  const Blobs blobs = save_books(*s.a);
  expect_damage_refused<TaxBook>(blobs.tax, &s.a->archive, &s.a->now);
  expect_damage_refused<ReturnBook>(blobs.returns, &s.a->archive, &s.a->now);
}

TEST(BooksSnapshot, TimersMustNameRecordsOfTheArchive) {
  Scenario s;
  build_history(s);
  const Blobs blobs = save_books(*s.a);
  // The same bytes against an empty archive: the unsettled bills, the timers and the pending
  // return they name are not there.
  archive::MemoryArchive empty;
  EXPECT_FALSE(load_book<TaxBook>(blobs.tax, &empty, &s.a->now));
  EXPECT_FALSE(load_book<ReturnBook>(blobs.returns, &empty, &s.a->now));

  // A lapse timer at another time than the return's, and one naming another return.
  auto lapses = [](TimeMs t, const std::string& copNo) {
    std::string bytes;
    ByteWriter w(&bytes);
    w.u8(1);
    w.u64(1);
    w.i64(t);
    w.str(kAgent);
    w.str(copNo);
    return bytes;
  };
  EXPECT_TRUE(load_book<ReturnBook>(lapses(day_start(66), "RT0006"), &s.a->archive, &s.a->now));
  EXPECT_FALSE(load_book<ReturnBook>(lapses(day_start(65), "RT0006"), &s.a->archive, &s.a->now));
  EXPECT_FALSE(load_book<ReturnBook>(lapses(day_start(46), "RT0001"), &s.a->archive, &s.a->now));
  EXPECT_FALSE(load_book<ReturnBook>(lapses(day_start(66), "RT9999"), &s.a->archive, &s.a->now));
}

}  // namespace
}  // namespace cbec::testing
