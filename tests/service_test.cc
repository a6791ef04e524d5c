// The durable service in-process: group commit, recovery after a restart, replay of the log
// alone giving the live state, and intake stopping when fsync fails.
#include <filesystem>
#include <map>
#include <thread>

#include "demo/demo.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "service_fixture.h"
#include "log/fault_injection_env.h"
#include "service/api.h"
#include "service/service.h"
#include "service/storage.h"
#include "rocksdb/db.h"

namespace cbec::service {
namespace {

using namespace cbec::service::testing;

namespace fs = std::filesystem;



ServiceOptions options(const std::string& dir, cmdlog::Env* env = nullptr) {
  ServiceOptions o = base_options(dir);
  o.env = env;
  return o;
}


TEST(Service, RecoversExactlyAfterRestartAndReplayMatchesLive) {
  std::string dir = temp_dir("svc-recover");
  std::string live_dump;
  uint64_t receipts = 0;
  {
    auto s = Service::Open(options(dir));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    setup_zone(**s);
    for (auto& sub : day(300, 11)) {
      std::string raw = ceb::write_message_xml(sub.message);
      auto a = (*s)->SubmitAndWait(encode_submit(sub.sender, raw, std::move(sub.message)));
      ASSERT_TRUE(a.ok());
      ASSERT_FALSE(a->receipts.empty());
    }
    live_dump = (*s)->Read([](const clearance::Engine& e) { return e.dump_state(); });
    receipts = (*s)->last_receipt_no();
    EXPECT_GT(receipts, 1200u);
  }
  // The log alone rebuilds the same state.
  auto replayed = Service::ReplayToDump(dir, reference());
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_EQ(*replayed, live_dump);
  // A restart recovers the same state and the same receipt feed.
  auto s = Service::Open(options(dir));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->Read([](const clearance::Engine& e) { return e.dump_state(); }), live_dump);
  EXPECT_EQ((*s)->last_receipt_no(), receipts);
  auto page = (*s)->Receipts("4101960003", 0, 1000);
  ASSERT_TRUE(page.ok());
  ASSERT_FALSE(page->empty());
  EXPECT_NE(page->front().json.find("\"receiver\":\"4101960003\""), std::string::npos);
  // Feed pages are ordered and resumable.
  auto next = (*s)->Receipts("4101960003", page->back().no, 1000);
  ASSERT_TRUE(next.ok());
  if (!next->empty()) {
    EXPECT_GT(next->front().no, page->back().no);
  }
  // The enterprise keys came back with the log.
  EXPECT_EQ((*s)->EnterpriseForKey(sha256_hex("key-4101960003")), "4101960003");
}

TEST(Service, ReceiptsAreStoredOnceAndStoresOfTheOldLayoutStillRead) {
  // Proves: a receipt's JSON is stored once (the stream "a/<no>"); each receiver's key is an
  // empty index entry, and a receiver's page (paged by after and limit) is the stream's
  // receipts addressed to it, in order. A store written before (the JSON under both keys)
  // answers the same pages.
  const std::string code = "4101960003";
  std::string dir = temp_dir("svc-receipts-once");
  std::vector<StoredReceipt> all, mine;
  {
    auto s = Service::Open(options(dir));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    setup_zone(**s);
    for (auto& sub : day(40, 5)) {
      std::string raw = ceb::write_message_xml(sub.message);
      ASSERT_TRUE((*s)->SubmitAndWait(encode_submit(sub.sender, raw, std::move(sub.message))).ok());
    }
    auto a = (*s)->Receipts("", 0, kMaxReceiptPage);
    auto m = (*s)->Receipts(code, 0, kMaxReceiptPage);
    ASSERT_TRUE(a.ok() && m.ok());
    all = *a;
    mine = *m;
  }
  ASSERT_GT(mine.size(), 10u);
  std::map<uint64_t, std::string> by_no;
  for (const auto& r : all) by_no[r.no] = r.json;
  uint64_t previous = 0;
  for (const auto& r : mine) {
    EXPECT_GT(r.no, previous);
    previous = r.no;
    EXPECT_EQ(r.json, by_no[r.no]) << r.no;
    EXPECT_NE(r.json.find("\"receiver\":\"" + code + "\""), std::string::npos) << r.json;
  }
  size_t addressed = 0;
  for (const auto& r : all)
    addressed += r.json.find("\"receiver\":\"" + code + "\"") != std::string::npos;
  EXPECT_EQ(addressed, mine.size());

  // The store itself: empty index entries, then rewritten in the old layout.
  {
    rocksdb::DB* raw = nullptr;
    auto o = ReceiptStoreOptions(NewStorageCache(kMinStorageCacheBytes));
    ASSERT_TRUE(rocksdb::DB::Open(o, dir + "/state", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    const std::string prefix = "r/" + code + "/";
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    size_t entries = 0;
    rocksdb::WriteBatch old_layout;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      EXPECT_TRUE(it->value().empty()) << it->key().ToString();
      const uint64_t no = std::stoull(it->key().ToString().substr(prefix.size()));
      old_layout.Put(it->key(), by_no[no]);
      ++entries;
    }
    EXPECT_EQ(entries, mine.size());
    it.reset();
    ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &old_layout).ok());
  }
  auto s = Service::Open(options(dir));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto again = (*s)->Receipts(code, 0, kMaxReceiptPage);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), mine.size());
  for (size_t i = 0; i < mine.size(); ++i) {
    EXPECT_EQ((*again)[i].no, mine[i].no);
    EXPECT_EQ((*again)[i].json, mine[i].json);
  }
  auto page = (*s)->Receipts(code, mine[2].no, 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].no, mine[3].no);
  EXPECT_EQ((*page)[2].json, mine[5].json);
}

// Issue #3: the core archives what it no longer works with (data_dir/archive), so memory holds
// the lists in work, not the history; archived lists answer queries as before, a restart
// rebuilds the archive from the log (it is wiped on open), and replay still gives the live state.
TEST(Service, ArchivedListsStayQueryableAndRestartRebuildsTheArchive) {
  std::string dir = temp_dir("svc-archive");
  ServiceOptions o = options(dir);
  o.archive_after_ms = 0;  // every command archives everything not in work
  std::string live_dump, invt_no, cop_no;
  size_t last_lists = 0;  // lists in the last list message
  {
    auto s = Service::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    setup_zone(**s);
    for (auto& sub : day(200, 12)) {
      if (cop_no.empty() && !sub.message.inventories.empty())
        cop_no = sub.message.inventories.front().head.copNo;
      if (!sub.message.inventories.empty()) last_lists = sub.message.inventories.size();
      std::string raw = ceb::write_message_xml(sub.message);
      ASSERT_TRUE((*s)->SubmitAndWait(encode_submit(sub.sender, raw, std::move(sub.message))).ok());
    }
    // Every command archives what has been idle for archive_after_ms (0 here), not only a Tick:
    // before any Tick, only the lists of the last message (touched by the last command) and
    // those in work are still in memory.
    (*s)->Read([&](const clearance::Engine& e) {
      size_t total = 0, in_work = 0;
      e.for_each_list([&](const clearance::ListRecord& L) {
        ++total;
        in_work += L.state == clearance::ListState::kWaiting ||
                   L.state == clearance::ListState::kHeld ||
                   L.state == clearance::ListState::kManualReview;
      });
      EXPECT_GE(total, 190u);
      EXPECT_LT(last_lists, total);
      EXPECT_LE(e.hot_counts().lists, last_lists + in_work);
      return 0;
    });
    ASSERT_TRUE((*s)->SubmitAndWait(encode_admin(clearance::Tick{})).ok());
    (*s)->Read([&](const clearance::Engine& e) {
      // Only lists still in work (waiting for a partner document, held, with an officer) and
      // their documents stay in memory.
      size_t in_work = 0;
      e.for_each_list([&](const clearance::ListRecord& L) {
        in_work += L.state == clearance::ListState::kWaiting ||
                   L.state == clearance::ListState::kHeld ||
                   L.state == clearance::ListState::kManualReview;
      });
      auto hot = e.hot_counts();
      EXPECT_EQ(hot.lists, in_work);
      EXPECT_LT(in_work, 20u);
      EXPECT_LE(hot.orders, in_work);
      EXPECT_LE(hot.waybills, in_work);
      auto L = e.list_by_cop_no("4101960003", cop_no);
      EXPECT_TRUE(L && L.archived());
      if (L) invt_no = L->invtNo;
      live_dump = e.dump_state();
      return 0;
    });
    ASSERT_FALSE(invt_no.empty());
    EXPECT_TRUE(fs::exists(dir + "/archive/CURRENT"));
  }
  auto replayed = Service::ReplayToDump(dir, reference());
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_EQ(*replayed, live_dump);
  // A restart starts from the snapshot taken at shutdown (everything in the archive, nothing in
  // memory until it is used): the same state, and no more than the lists in work in memory.
  auto s = Service::Open(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  (*s)->Read([&](const clearance::Engine& e) {
    EXPECT_EQ(e.dump_state(), live_dump);
    EXPECT_LT(e.hot_counts().lists, 20u);
    auto L = e.list_by_invt_no(invt_no);
    EXPECT_TRUE(L && L.archived());
    return 0;
  });
}

TEST(Service, GroupCommitOneSyncPerBatch) {
  std::string dir = temp_dir("svc-group");
  auto s = Service::Open(options(dir));
  ASSERT_TRUE(s.ok());
  setup_zone(**s);
  auto subs = day(500, 12);
  std::atomic<int> done{0};
  size_t n = subs.size();
  for (auto& sub : subs) {
    std::string raw = ceb::write_message_json(sub.message);
    (*s)->Submit(encode_submit(sub.sender, raw, std::move(sub.message)),
                 [&](Result<Applied> a) {
                   EXPECT_TRUE(a.ok());
                   ++done;
                 });
  }
  while (done.load() < static_cast<int>(n)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto& ls = (*s)->log_stats();
  EXPECT_EQ(ls.syncs.load(), ls.batches.load());  // exactly one fdatasync per batch
  EXPECT_LT(ls.batches.load(), ls.records.load());  // and batches did group commands
}

TEST(Service, FailedSyncStopsIntakeAndSaysWhy) {
  std::string dir = temp_dir("svc-failsync");
  cmdlog::FaultInjectionEnv env;
  auto s = Service::Open(options(dir, &env));
  ASSERT_TRUE(s.ok());
  setup_zone(**s);
  EXPECT_TRUE((*s)->health().ok());
  env.FailNextSyncs(1);
  auto subs = day(2, 13);
  std::string raw = ceb::write_message_xml(subs[0].message);
  auto a = (*s)->SubmitAndWait(encode_submit(subs[0].sender, raw, subs[0].message));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE((*s)->health().ok());
  EXPECT_NE((*s)->health().message().find("sync"), std::string_view::npos)
      << (*s)->health().message();
  // Nothing more is acknowledged, even once the disk would work again.
  auto b = (*s)->SubmitAndWait(encode_submit(subs[1].sender, raw, subs[1].message));
  EXPECT_FALSE(b.ok());
}

TEST(Service, CrashDropsOnlyUnacknowledgedCommands) {
  std::string dir = temp_dir("svc-crash");
  cmdlog::FaultInjectionEnv env;
  std::string dump;
  {
    auto s = Service::Open(options(dir, &env));
    ASSERT_TRUE(s.ok());
    setup_zone(**s);
    for (auto& sub : day(50, 14)) {
      std::string raw = ceb::write_message_xml(sub.message);
      ASSERT_TRUE((*s)->SubmitAndWait(encode_submit(sub.sender, raw, std::move(sub.message))).ok());
    }
    dump = (*s)->Read([](const clearance::Engine& e) { return e.dump_state(); });
  }
  ASSERT_TRUE(env.Crash().ok());  // loses whatever was not synced: nothing acknowledged
  auto s = Service::Open(options(dir, &env));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->Read([](const clearance::Engine& e) { return e.dump_state(); }), dump);
}

}  // namespace
}  // namespace cbec::service

namespace cbec::service {
namespace {

using namespace cbec::service::testing;

// Reference data loaded at run time is a logged command: a lower transaction limit applies to
// lists declared after it, the rejection names the new limit, and replay after a restart gives
// the same state. Invalid texts are refused before anything is logged.
TEST(Service, LoadReferenceThroughTheLogChangesPolicyAndReplays) {
  std::string dir = temp_dir("svc-reference");
  std::string dump;
  {
    auto s = Service::Open(options(dir));
    ASSERT_TRUE(s.ok());
    setup_zone(**s);
    auto bad = encode_load_reference("[[policy]]\neffective_from = 2019-01-01\nno_such_key = 1\n",
                                     "", "");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("no_such_key"), std::string_view::npos)
        << bad.status().message();
    uint64_t seq_before = (*s)->last_seq();
    std::string policy = std::string(
        "[[policy]]\neffective_from = 2019-01-01\ntransaction_limit_yuan = \"100.00\"\n");
    auto enc = encode_load_reference(policy, "", "");
    ASSERT_TRUE(enc.ok()) << enc.status().ToString();
    auto a = (*s)->SubmitAndWait(std::move(*enc));
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(a->status.ok()) << a->status.ToString();
    EXPECT_EQ((*s)->last_seq(), seq_before + 1);
    int over_limit = 0;
    for (auto& sub : day(40, 15)) {
      std::string raw = ceb::write_message_xml(sub.message);
      auto r = (*s)->SubmitAndWait(encode_submit(sub.sender, raw, std::move(sub.message)));
      ASSERT_TRUE(r.ok());
      for (const auto& rc : r->receipts)
        for (const auto& f : rc.findings) over_limit += f.rule == "R4";
    }
    EXPECT_GT(over_limit, 10);  // most demo baskets exceed 100.00 now
    dump = (*s)->Read([](const clearance::Engine& e) { return e.dump_state(); });
  }
  {
    auto s = Service::Open(options(dir));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->Read([](const clearance::Engine& e) { return e.dump_state(); }), dump);
    // It started from the shutdown snapshot, which carries the reference data the log loaded:
    // the 100.00 limit still applies to new lists.
    EXPECT_EQ((*s)->snapshots().restored_seq, (*s)->last_seq());
    int over_limit = 0;
    for (auto& sub : day(20, 16)) {
      std::string raw = ceb::write_message_xml(sub.message);
      auto r = (*s)->SubmitAndWait(encode_submit(sub.sender, raw, std::move(sub.message)));
      ASSERT_TRUE(r.ok());
      for (const auto& rc : r->receipts)
        for (const auto& f : rc.findings) over_limit += f.rule == "R4";
    }
    EXPECT_GT(over_limit, 5);
    dump = (*s)->Read([](const clearance::Engine& e) { return e.dump_state(); });
  }
  auto replayed = Service::ReplayToDump(dir, reference());  // the log alone (service closed)
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_EQ(*replayed, dump);
}

}  // namespace
}  // namespace cbec::service
