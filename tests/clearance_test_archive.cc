// The archive under the clearance core (issue #3): the binary codecs round-trip every field,
// ColdMap moves entries out and back, and an engine that archives what it no longer works with
// gives exactly the receipts and state of one that keeps everything in memory, while holding
// only the lists in work.
#include <cstdlib>
#include <map>

#include "archive/archive.h"
#include "archive/cold_map.h"
#include "clearance/records.h"
#include "clearance_fixture.h"
#include "demo/demo.h"
#include "fmt/format.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "messages/record_codec.h"

namespace cbec::testing {
namespace {

using clearance::ListRecord;
using clearance::ListState;

// Every field of T set to a value of its own (strings "<name>:<salt>", numbers from the salt),
// so that a codec that drops or swaps a field fails the comparison.
template <class T>
void fill_distinct(T* rec, int salt) {
  int i = 0;
  for (const ceb::FieldSpec<T>& f : ceb::kFields<T>) {
    ++i;
    switch (f.kind) {
      case ceb::FieldKind::kString:
        rec->*f.str = std::string(f.name) + ":" + std::to_string(salt) + "·值";
        break;
      case ceb::FieldKind::kDecimal:
        rec->*f.dec = Decimal::of_units(-(salt * 1000 + i) * 12345);
        break;
      case ceb::FieldKind::kInt:
        rec->*f.num = salt * 100 + i;
        break;
    }
  }
}

template <class R>
R round_trip(const R& r) {
  std::string bytes;
  ByteWriter w(&bytes);
  ceb::encode_record(w, r);
  ByteReader in(bytes);
  R back;
  ceb::decode_record(in, &back);
  EXPECT_TRUE(in.ok() && in.at_end());
  return back;
}

TEST(ArchiveCodec, EveryRecordTypeRoundTripsEveryField) {
  ceb::Order o;
  fill_distinct(&o.head, 1);
  o.lists.resize(3);
  for (int i = 0; i < 3; ++i) fill_distinct(&o.lists[i], 10 + i);
  o.lists[1].price = Decimal{};  // an absent optional decimal stays absent
  EXPECT_EQ(round_trip(o), o);
  ceb::Payment p;
  fill_distinct(&p.head, 2);
  EXPECT_EQ(round_trip(p), p);
  ceb::Logistics w;
  fill_distinct(&w.head, 3);
  EXPECT_EQ(round_trip(w), w);
  ceb::LogisticsStatus ls;
  fill_distinct(&ls, 4);
  EXPECT_EQ(round_trip(ls), ls);
  ceb::Inventory inv;
  fill_distinct(&inv.head, 5);
  inv.lists.resize(2);
  fill_distinct(&inv.lists[0], 50);
  fill_distinct(&inv.lists[1], 51);
  EXPECT_EQ(round_trip(inv), inv);
  ceb::InvtCancel c;
  fill_distinct(&c, 6);
  EXPECT_EQ(round_trip(c), c);
  ceb::InvtRefund r;
  fill_distinct(&r.head, 7);
  r.lists.resize(1);
  fill_distinct(&r.lists[0], 70);
  EXPECT_EQ(round_trip(r), r);
  ceb::Delivery d;
  fill_distinct(&d.head, 8);
  d.lists.resize(4);
  for (int i = 0; i < 4; ++i) fill_distinct(&d.lists[i], 80 + i);
  EXPECT_EQ(round_trip(d), d);
}

TEST(ArchiveCodec, TruncatedOrDamagedBytesFailInsteadOfReadingPastTheEnd) {
  ceb::Inventory inv;
  fill_distinct(&inv.head, 5);
  inv.lists.resize(2);
  std::string bytes;
  ByteWriter w(&bytes);
  ceb::encode_record(w, inv);
  for (size_t cut : {size_t{0}, size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
    ByteReader in(std::string_view(bytes).substr(0, cut));
    ceb::Inventory back;
    ceb::decode_record(in, &back);
    EXPECT_FALSE(in.ok()) << "cut at " << cut;
  }
  std::string huge;  // a line count far beyond any message
  ByteWriter hw(&huge);
  hw.u64(1);  // a one-byte string...
  ByteReader in(huge);
  ceb::Order back;
  ceb::decode_record(in, &back);
  EXPECT_FALSE(in.ok());
}

ceb::Receipt sample_receipt() {
  ceb::Receipt r;
  r.answers = ceb::MessageType::kCEB621;
  r.receiver = "4101960003";
  r.guid = "G";
  r.customsCode = "4612";
  r.ebpCode = "E1";
  r.ebcCode = "E2";
  r.agentCode = "A";
  r.orderNo = "O";
  r.payCode = "P";
  r.payTransactionId = "T";
  r.logisticsCode = "L";
  r.logisticsNo = "N";
  r.logisticsStatus = "S";
  r.copNo = "C";
  r.preNo = "B1";
  r.invtNo = "I1";
  r.operatorCode = "OP";
  r.rkdNo = "R1";
  r.returnStatus = -621003;
  r.returnTime = 1'780'000'000'123;
  r.returnInfo = "[M2] 金额不一致 / amounts differ";
  r.findings = {{"M2", "Order/acturalPaid", "金额", "amount"}, {"R5", "f", "z", "e"}};
  return r;
}

TEST(ArchiveCodec, ListRecordAndItsExtraRoundTrip) {
  ListRecord L;
  L.id = 77;
  fill_distinct(&L.doc.head, 9);
  L.doc.lists.resize(2);
  fill_distinct(&L.doc.lists[0], 90);
  fill_distinct(&L.doc.lists[1], 91);
  L.sender = "4101960003";
  L.preNo = "B20260510000000001";
  L.invtNo = "46122026I000000001";
  L.state = ListState::kCancelled;
  L.returnStatus = 399;
  L.hold_reason = "等待 / waiting";
  L.declared_at = 1'780'000'000'000;
  L.expires_at = -5;
  L.findings = {{"R8", "x", "中", "en"}};
  tax::ListTax t;
  t.regime = tax::Regime::kFull;
  t.rounding = ref::TaxRounding::kOnce;
  t.dutiable_fen = 123456;
  t.tariff_fen = 1, t.ct_fen = 2, t.vat_fen = 3;
  tax::LineTax lt;
  lt.gnum = 2;
  lt.gcode = "3304990099";
  lt.dutiable_fen = 9, lt.tariff_fen = 8, lt.ct_fen = 7, lt.vat_fen = 6;
  lt.ct_high_end = true;
  lt.tariff_bp = 500, lt.vat_bp = 1300, lt.ct_bp = 1500;
  t.lines = {lt, lt};
  L.tax = t;
  L.reserved = true;
  L.history = {{1, 120, "申报"}, {2, 800, "放行"}};
  std::string bytes;
  ByteWriter w(&bytes);
  archive::ValueCodec<ListRecord>::put(w, L);
  ByteReader in(bytes);
  ListRecord back;
  archive::ValueCodec<ListRecord>::get(in, &back);
  ASSERT_TRUE(in.ok() && in.at_end());
  EXPECT_EQ(back.id, L.id);
  EXPECT_EQ(back.doc, L.doc);
  EXPECT_EQ(back.sender, L.sender);
  EXPECT_EQ(back.preNo, L.preNo);
  EXPECT_EQ(back.invtNo, L.invtNo);
  EXPECT_EQ(back.state, L.state);
  EXPECT_EQ(back.returnStatus, L.returnStatus);
  EXPECT_EQ(back.hold_reason, L.hold_reason);
  EXPECT_EQ(back.declared_at, L.declared_at);
  EXPECT_EQ(back.expires_at, L.expires_at);
  EXPECT_EQ(back.findings, L.findings);
  ASSERT_TRUE(back.tax.has_value());
  EXPECT_EQ(back.tax->regime, t.regime);
  EXPECT_EQ(back.tax->rounding, t.rounding);
  EXPECT_EQ(back.tax->total_fen(), t.total_fen());
  EXPECT_EQ(back.tax->dutiable_fen, t.dutiable_fen);
  ASSERT_EQ(back.tax->lines.size(), 2u);
  EXPECT_EQ(back.tax->lines[1].gcode, lt.gcode);
  EXPECT_EQ(back.tax->lines[1].ct_bp, lt.ct_bp);
  EXPECT_TRUE(back.tax->lines[1].ct_high_end);
  EXPECT_TRUE(back.reserved);
  ASSERT_EQ(back.history.size(), 2u);
  EXPECT_EQ(back.history[1].info, "放行");
  EXPECT_EQ(back.history[1].returnStatus, 800);

  clearance::ListExtra x;
  x.hold = clearance::HoldKind::kArrival;
  x.last = std::make_shared<const ceb::Receipt>(sample_receipt());
  x.caps = {{{"4101", 2026, "17019910"}, 250000}};
  x.lane = clearance::Lane::kRed;
  x.lane_findings = {{"R9", "f", "布控", "control"}};
  bytes.clear();
  archive::ValueCodec<clearance::ListExtra>::put(w, x);
  ByteReader xin(bytes);
  clearance::ListExtra xb;
  archive::ValueCodec<clearance::ListExtra>::get(xin, &xb);
  ASSERT_TRUE(xin.ok() && xin.at_end());
  EXPECT_EQ(xb.hold, x.hold);
  ASSERT_TRUE(xb.last);
  EXPECT_NE(xb.last, x.last);  // a receipt of its own ...
  EXPECT_EQ(*xb.last, *x.last);  // ... with the same fields
  EXPECT_EQ(xb.caps, x.caps);
  EXPECT_EQ(xb.lane, x.lane);
  EXPECT_EQ(xb.lane_findings, x.lane_findings);

  // A record that never got a receipt keeps none (it is written as an empty Receipt).
  clearance::ListExtra none;
  bytes.clear();
  archive::ValueCodec<clearance::ListExtra>::put(w, none);
  ByteReader nin(bytes);
  xb.last = std::make_shared<const ceb::Receipt>(sample_receipt());
  archive::ValueCodec<clearance::ListExtra>::get(nin, &xb);
  ASSERT_TRUE(nin.ok() && nin.at_end());
  EXPECT_EQ(xb.last, nullptr);
}

// ---- ColdMap ---------------------------------------------------------------------------------
TEST(ColdMap, IdleEntriesMoveToTheArchiveAndComeBackOnAccess) {
  archive::MemoryArchive a;
  TimeMs now = 1000;
  archive::ColdMap<std::pair<std::string, std::string>, std::string> m("xx");
  m.attach(&a, &now);
  m[{"a", "1"}] = "one";
  now = 2000;
  m[{"b", "2"}] = "two";
  m[{"c", "3"}] = "keep me";
  // Entries touched at or before 2000 are idle; "keep me" is still in work.
  now = 5000;
  size_t moved =
      m.evict_idle(2000, [](const auto&, const std::string& v) { return v == "keep me"; });
  EXPECT_EQ(moved, 2u);
  EXPECT_EQ(m.hot_size(), 1u);
  EXPECT_EQ(a.size(), 2u);
  // peek decodes without moving; find restores (and the archived copy goes).
  auto seen = m.peek({"a", "1"});
  ASSERT_TRUE(seen);
  EXPECT_TRUE(seen.archived());
  EXPECT_EQ(*seen, "one");
  EXPECT_EQ(m.hot_size(), 1u);
  auto it = m.find({"a", "1"});
  ASSERT_NE(it, m.end());
  EXPECT_EQ(it->second, "one");
  EXPECT_EQ(m.hot_size(), 2u);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_FALSE(m.peek({"zz", "9"}));
  EXPECT_EQ(m.find({"zz", "9"}), m.end());
  // Erasing an archived key removes it for good.
  m.erase({"b", "2"});
  EXPECT_EQ(a.size(), 0u);
  EXPECT_FALSE(m.peek({"b", "2"}));
  // The kept entry is looked at again one idle period later, and goes once it is idle.
  now = 9000;
  EXPECT_EQ(m.evict_idle(5000, [](const auto&, const auto&) { return false; }), 2u);
  std::vector<std::string> all;
  m.for_each_sorted([&](const auto& k, const std::string& v) { all.push_back(k.first + v); });
  EXPECT_EQ(all, (std::vector<std::string>{"aone", "ckeep me"}));
}

// Counts reads, to see which lookups reach the archive.
class CountingArchive final : public archive::Archive {
 public:
  bool get(std::string_view key, std::string* value) const override {
    ++gets;
    return inner.get(key, value);
  }
  void put(std::string_view key, std::string_view value) override { inner.put(key, value); }
  void erase(std::string_view key) override { inner.erase(key); }
  void scan(std::string_view prefix,
            const std::function<void(std::string_view, std::string_view)>& fn) const override {
    inner.scan(prefix, fn);
  }
  archive::MemoryArchive inner;
  mutable int gets = 0;
};

TEST(ColdMap, AKeyFoundAbsentIsNotAskedForAgainUntilItIsArchived) {
  CountingArchive store;
  TimeMs now = 0;
  archive::ColdMap<std::string, std::string> m("t");
  m.attach(&store, &now);
  EXPECT_FALSE(m.contains("new"));
  EXPECT_FALSE(m.contains("new"));
  EXPECT_EQ(m.find("new"), m.end());
  EXPECT_EQ(store.gets, 1);  // the archive was asked once
  m["new"] = "v1";           // created, then archived: it must be found again
  m.evict(m.find("new"));
  EXPECT_EQ(m.hot_size(), 0u);
  ASSERT_TRUE(m.contains("new"));
  EXPECT_EQ(m.at("new"), "v1");
  EXPECT_EQ(store.gets, 2);
  // The set is bounded: past kMaxKnownAbsent misses it starts again, answers unchanged.
  const size_t n = archive::ColdMap<std::string, std::string>::kMaxKnownAbsent + 10;
  for (size_t i = 0; i < n; ++i) EXPECT_FALSE(m.contains("k" + std::to_string(i)));
  const int after_fill = store.gets;
  EXPECT_FALSE(m.contains("k" + std::to_string(n - 1)));  // recent: still known absent
  EXPECT_EQ(store.gets, after_fill);
  EXPECT_FALSE(m.contains("k0"));  // dropped when the set was emptied: asked again
  EXPECT_EQ(store.gets, after_fill + 1);
  // Everything archived is found through the set, evict_all included.
  m["k1"] = "x";
  m.evict_all();
  EXPECT_EQ(m.at("k1"), "x");
  EXPECT_EQ(m.at("new"), "v1");
}

// A hashed map of (string, string) keys over a counting archive, and a key too long for the
// short-string buffer with its borrowed form.
struct PairMapOverCountingArchive {
  using Map = archive::ColdMap<std::pair<std::string, std::string>, std::string, archive::Hashed>;
  explicit PairMapOverCountingArchive(const char* prefix) : m(prefix) { m.attach(&store, &now); }
  CountingArchive store;
  TimeMs now = 0;
  Map m;
  const std::string ebp = "4101960001-a-long-enough-code", order = "ORDER-20250618-000000001";
  const archive::StringPairView key{ebp, order};
};

TEST(ColdMap, BorrowedKeysFindWhatTheirKeysFindInMemoryAndInTheArchive) {
  // Proves: a hashed map of (string, string) keys answers a StringPairView as it answers the
  // key itself: hot, archived (restored under the owned key), absent (remembered, asked once),
  // created through operator[] (the key copied then), peeked, erased; and a braced {a, b}
  // still means the owned key.
  PairMapOverCountingArchive f("pv");
  static_assert(std::is_same_v<decltype(f.m)::View, archive::StringPairView>);
  auto& [store, now, m, ebp, order, key] = f;
  m[key] = "hot";
  EXPECT_EQ(m.known_absent(), 0u);  // operator[] filled its miss at once: nothing to remember
  ASSERT_NE(m.find(key), m.end());
  EXPECT_EQ(m.find(key)->first, (std::pair<std::string, std::string>{ebp, order}));
  EXPECT_EQ(m.at(key), "hot");
  EXPECT_EQ(store.gets, 1);  // only operator[]'s first miss asked the archive
  m.evict(m.find(key));
  EXPECT_EQ(m.hot_size(), 0u);
  auto seen = m.peek(key);
  ASSERT_TRUE(seen);
  EXPECT_TRUE(seen.archived());
  EXPECT_EQ(*seen, "hot");
  EXPECT_EQ(m.find_hot(key), nullptr);
  ASSERT_TRUE(m.contains(key));  // restored
  EXPECT_NE(m.find_hot({ebp, order}), nullptr);
  EXPECT_EQ(m.count({ebp, order}), 1u);
  const std::string other = "ORDER-20250618-000000002";
  const int gets = store.gets;
  EXPECT_FALSE(m.contains(archive::StringPairView{ebp, other}));
  EXPECT_FALSE(m.contains(std::pair<std::string, std::string>{ebp, other}));  // known absent
  EXPECT_EQ(store.gets, gets + 1);
  m.erase(key);
  EXPECT_FALSE(m.contains(key));
  EXPECT_FALSE(m.peek(key));
  EXPECT_EQ(m.hot_size(), 0u);
}

TEST(ColdMap, AKeyLookedUpToBeInsertedCostsOneLookupAndIsQueuedForEviction) {
  // Proves: find_to_insert answers as find does (hot, archived and restored, absent), an absent
  // key inserted with insert_missing is then hot and queued for eviction like any other, and a
  // key first remembered absent by find() is not asked of the archive again by find_to_insert.
  PairMapOverCountingArchive f("fi");
  auto& [store, now, m, ebp, order, key] = f;
  auto it = m.find_to_insert(key);
  ASSERT_EQ(it, m.end());
  EXPECT_EQ(store.gets, 1);
  EXPECT_EQ(m.known_absent(), 0u);  // the caller fills the miss: not remembered
  m.insert_missing(key) = "new";
  EXPECT_EQ(m.queued(), 1u);
  ASSERT_NE(m.find_to_insert(key), m.end());
  EXPECT_EQ(m.find_to_insert(key)->second, "new");
  EXPECT_EQ(store.gets, 1);  // hot: the archive is not asked
  now = 10;
  EXPECT_EQ(m.evict_idle(5, [](const auto&, const auto&) { return false; }), 1u);
  EXPECT_EQ(m.hot_size(), 0u);
  ASSERT_NE(m.find_to_insert(key), m.end());  // restored from the archive
  EXPECT_EQ(m.at(key), "new");
  EXPECT_EQ(store.gets, 2);
  const std::string other = "ORDER-20250618-000000002";
  const archive::StringPairView absent{ebp, other};
  EXPECT_FALSE(m.contains(absent));  // remembered absent
  EXPECT_EQ(m.known_absent(), 1u);
  EXPECT_EQ(m.find_to_insert(absent), m.end());
  EXPECT_EQ(store.gets, 3);  // asked once, by contains()
}

TEST(ColdMap, WithoutAnArchiveNothingMovesAndNothingIsQueued) {
  archive::ColdMap<uint64_t, std::string> m("zz");
  m[1] = "x";
  EXPECT_EQ(m.evict_idle(1'000'000, [](const auto&, const auto&) { return false; }), 0u);
  EXPECT_EQ(m.hot_size(), 1u);
  EXPECT_EQ(m.queued(), 0u);
}

// ---- The engine with an archive --------------------------------------------------------------
// A generated day (with faults and O2O pickup lists), then the traffic that reaches old lists:
// the whole day sent again (idempotent answers from archived records), parcels signed for, and
// pickups at the hall. One engine keeps everything in memory, the other archives what is idle
// for a minute; the receipts must be the same, one by one, and so must the state.
constexpr TimeMs kMinuteMs = 60 * kMsPerSecond;

struct EngineRun {
  std::shared_ptr<const ref::ReferenceData> ref = *ref::ReferenceData::LoadDefaults();
  archive::MemoryArchive archive;
  std::unique_ptr<clearance::Engine> engine;
  ceb::Receipts receipts;
  uint64_t seq = 0;
  TimeMs now = 0;
  TimeMs last_tick = 0;
  size_t max_hot_lists = 0;

  explicit EngineRun(bool archived) {
    clearance::EngineOptions o{ref, {}};
    if (archived) {
      o.archive = &archive;
      o.archive_after_ms = kMinuteMs;
    }
    engine = std::make_unique<clearance::Engine>(std::move(o));
  }
  void apply(clearance::Command::Body body, TimeMs t) {
    // A Tick each log minute, as the service's writer logs them.
    while (t - last_tick >= kMinuteMs) {
      last_tick += kMinuteMs;
      ASSERT_TRUE(
          engine->apply({++seq, std::max(now, last_tick), clearance::Tick{}}, &receipts).ok());
      now = std::max(now, last_tick);
      max_hot_lists = std::max(max_hot_lists, engine->hot_counts().lists);
    }
    now = std::max(now, t);
    (void)engine->apply({++seq, now, std::move(body)}, &receipts);
  }
};

TEST(EngineArchive, SameReceiptsAndStateAsAllInMemoryWhileHoldingOnlyWhatIsInWork) {
  gen::Zone zone = gen::demo_zone();
  EngineRun mem(false), arc(true);
  gen::Options opt;
  opt.seed = 4242;
  opt.count = 3000;
  opt.fault_share = 0.05;
  opt.share_hall = 0.3;
  auto g = gen::generate(zone, opt, *mem.ref);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Fen need = 0;
  for (const auto& [code, fen] : g->tax_by_guarantor_fen) need += fen;
  TimeMs t = *parse_datetime14(g->sets.front().order.head.appTime);
  for (EngineRun* r : {&mem, &arc}) {
    r->last_tick = t;
    for (auto& body : demo::setup_commands(zone, need)) r->apply(std::move(body), t);
  }
  auto subs = demo::submissions(zone, g->sets);
  auto both = [&](const clearance::Command::Body& body, TimeMs at) {
    mem.apply(body, at);
    arc.apply(body, at);
  };
  // The day: the messages (up to 100 records each) spread over 45 minutes of log time.
  ASSERT_GT(subs.size(), 100u);
  const TimeMs gap = 45 * kMinuteMs / static_cast<TimeMs>(subs.size());
  for (const auto& s : subs) both(clearance::SubmitMessage{s.sender, s.message}, t += gap);
  // An hour later, everything is sent again, as slowly: every answer comes from an archived
  // record, restored for the occasion and archived again a minute later.
  t += kMsPerHour;
  for (const auto& s : subs) both(clearance::SubmitMessage{s.sender, s.message}, t += gap);
  // Two hours later, parcels are signed for and hall lists are picked up.
  t += 2 * kMsPerHour;
  int signed_for = 0, picked_up = 0;
  for (const auto& set : g->sets) {
    const auto& w = set.waybill.head;
    auto L = arc.engine->list_by_cop_no(set.inventory.head.agentCode, set.inventory.head.copNo);
    if (!L || L->state != ListState::kReleased) continue;
    if (!clearance::o2o_hall_of(*arc.engine, L->doc).empty()) {
      clearance::Pickup p{w.logisticsCode, set.payment.head.payTransactionId,
                          set.inventory.head.buyerIdNumber.substr(14), "clerk"};
      both(p, t += 100);
      ++picked_up;
      continue;
    }
    if (signed_for >= 300) continue;
    ceb::Message m;
    m.type = ceb::MessageType::kCEB513;
    m.guid = set.waybill.head.guid;
    m.version = "1.0";
    ceb::LogisticsStatus st;
    st.guid = set.waybill.head.guid;
    st.appType = "1";
    st.appTime = "20250618200000";
    st.appStatus = "2";
    st.logisticsCode = w.logisticsCode;
    st.logisticsName = w.logisticsName;
    st.logisticsNo = w.logisticsNo;
    st.logisticsStatus = "S";
    st.logisticsTime = "20250618200000";
    m.waybill_statuses.push_back(st);
    both(clearance::SubmitMessage{w.logisticsCode, m}, t += 100);
    ++signed_for;
  }
  both(clearance::Tick{}, t += 2 * kMinuteMs);

  EXPECT_GT(signed_for, 100);
  EXPECT_GT(picked_up, 100);
  ASSERT_EQ(mem.receipts.size(), arc.receipts.size());
  for (size_t i = 0; i < mem.receipts.size(); ++i)
    ASSERT_EQ(mem.receipts[i], arc.receipts[i]) << "receipt " << i;
  EXPECT_EQ(mem.engine->dump_state(), arc.engine->dump_state());

  // Memory: all 3,000 lists stay in the in-memory engine; the archiving one holds the lists of
  // the last minute or two and those still in work (manual review, inspection), never the day.
  EXPECT_EQ(mem.engine->hot_counts().lists, 3000u);
  auto hot = arc.engine->hot_counts();
  int in_work = 0;
  arc.engine->for_each_list([&](const ListRecord& L) {
    in_work += L.state == ListState::kManualReview || L.state == ListState::kInspection ||
               L.state == ListState::kWaiting || L.state == ListState::kHeld;
  });
  EXPECT_EQ(hot.lists, static_cast<size_t>(in_work));
  EXPECT_LT(arc.max_hot_lists, 3000u / 4) << "the day's lists were never all in memory";
  EXPECT_LT(hot.orders, 3000u / 4);
  EXPECT_LT(hot.waybills, 3000u / 4);
  EXPECT_GT(arc.archive.size(), 3000u * 4);
}

// A guarantor paying "everything payable" must not read every unsettled bill back from the
// archive: at a zone's rate a month of bills is unsettled (the cancel and return window), and
// restoring them all made one payment command take tens of seconds and hold them all in memory
// (found by bench/history). The payment reads the payable bills and nothing else.
TEST(EngineArchive, BatchPaymentReadsOnlyThePayableBills) {
  gen::Zone zone = gen::demo_zone();
  auto ref = *ref::ReferenceData::LoadDefaults();
  CountingArchive store;
  clearance::EngineOptions o{ref, {}};
  o.archive = &store;
  o.archive_after_ms = kMinuteMs;
  clearance::Engine engine(std::move(o));
  ceb::Receipts receipts;
  uint64_t seq = 0;
  TimeMs now = 0;
  auto apply = [&](clearance::Command::Body body, TimeMs t) {
    now = std::max(now, t);
    return engine.apply({++seq, now, std::move(body)}, &receipts);
  };
  // Two batches of lists, released 20 days apart; each batch's goods stocked in before it.
  const TimeMs day1 = beijing_midnight(CivilDate{2025, 3, 3}) + 9 * kMsPerHour;
  const TimeMs day21 = day1 + 20 * kMsPerDay;
  for (auto& body : demo::setup_commands(zone, 10'000'000'000))
    if (!std::holds_alternative<clearance::StockIn>(body)) {
      ASSERT_TRUE(apply(std::move(body), day1).ok());
    }
  std::string operator_code = zone.areaCode;
  for (auto [seed, start] : {std::pair<uint64_t, TimeMs>{31, day1}, {32, day21}}) {
    gen::Options opt;
    opt.seed = seed;
    opt.count = 300;
    opt.start_time = start;
    auto g = gen::generate(zone, opt, *ref);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    for (const auto& [item_no, units] : g->units_by_item) {
      const gen::BookItem* item = zone.item(item_no);
      ASSERT_TRUE(
          apply(clearance::StockIn{operator_code, zone.emsNo, item->itemRecordNo, item->gcode,
                                   item->name, item->unit, Decimal::of_int(units)},
                start)
              .ok());
    }
    TimeMs last = 0;
    for (const auto& set : g->sets)
      last = std::max(last, *parse_datetime14(set.inventory.head.appTime));
    for (auto& sub : demo::submissions(zone, g->sets))
      ASSERT_TRUE(apply(clearance::SubmitMessage{sub.sender, std::move(sub.message)}, last).ok());
  }
  // Everything idle goes to the archive; then the first batch's bills become payable.
  ASSERT_TRUE(apply(clearance::Tick{}, now + 2 * kMinuteMs).ok());
  ASSERT_TRUE(apply(clearance::Tick{}, day1 + 33 * kMsPerDay).ok());
  std::map<std::string, Fen> payable_fen;  // per guarantor (the zone has more than one)
  size_t payable = 0, unsettled = 0;
  engine.for_each_tax_bill([&](const clearance::TaxBill& b) {
    if (b.state == clearance::TaxBill::State::kPayable && b.outstanding_fen() > 0) {
      ++payable;
      payable_fen[b.assureCode] += b.outstanding_fen();
    }
    unsettled += b.state == clearance::TaxBill::State::kOpen ||
                 b.state == clearance::TaxBill::State::kPayable;
  });
  ASSERT_GT(payable, 200u);
  ASSERT_GT(unsettled, payable + 200);  // the second batch: open, not payable yet
  ASSERT_TRUE(apply(clearance::Tick{}, now + 2 * kMinuteMs).ok());  // the walk above restored none
  EXPECT_EQ(engine.hot_counts().lists, 0u);

  const int gets_before = store.gets;
  int payment_no = 0;
  for (const auto& [assure, fen] : payable_fen) {
    Status pay = apply(clearance::TaxPayment{assure, "", fmt::format("BANK-{}", ++payment_no), fen},
                       now + 1);
    ASSERT_TRUE(pay.ok()) << pay.ToString();
  }
  const int gets = store.gets - gets_before;
  EXPECT_GE(gets, static_cast<int>(payable));  // each paid bill comes back once
  EXPECT_LE(gets, static_cast<int>(payable + 10 * payable_fen.size()))
      << "no other unsettled bill is read";
  size_t paid = 0, open = 0;
  engine.for_each_tax_bill([&](const clearance::TaxBill& b) {
    paid += b.state == clearance::TaxBill::State::kPaid;
    open += b.state == clearance::TaxBill::State::kOpen;
  });
  EXPECT_EQ(paid, payable);
  EXPECT_EQ(open, unsettled - payable);
  engine.check_tax_invariants();
  // Nothing is left to pay now: another batch payment is refused, with no archive read.
  const int gets_between = store.gets;
  EXPECT_EQ(apply(clearance::TaxPayment{payable_fen.begin()->first, "", "BANK-AGAIN", 100}, now + 1)
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_LE(store.gets - gets_between, 2);
}

TEST(EngineArchive, TheHarnessArchivesEverythingNotInWorkWhenAsked) {
  // The "archived.*" ctest run sets this for every clearance test; here it is checked once that
  // the switch really puts the records out of memory.
  setenv("CBEC_TEST_ARCHIVE_EVERY_COMMAND", "1", 1);
  Harness h;
  unsetenv("CBEC_TEST_ARCHIVE_EVERY_COMMAND");
  DocSet s = load_base("formula_1210");
  h.submit_all(s);
  auto L = h.list(s);
  ASSERT_TRUE(L);
  EXPECT_EQ(L->state, ListState::kReleased);
  EXPECT_TRUE(L.archived());
  EXPECT_EQ(h.engine().hot_counts().lists, 0u);
  EXPECT_EQ(h.engine().hot_counts().orders, 0u);
}

}  // namespace
}  // namespace cbec::testing
