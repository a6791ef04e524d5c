// Snapshots (issue #3): a restart loads the newest snapshot and replays only the log after it,
// and ends in the same state as a replay of the whole log.
#include <atomic>
#include <filesystem>
#include <fstream>

#include "demo/demo.h"
#include "gen/gen.h"
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "messages/ceb.h"
#include "service/service.h"
#include "service_fixture.h"

namespace cbec::service {
namespace {

using namespace cbec::service::testing;
namespace fs = std::filesystem;

void submit_all(Service& s, std::vector<demo::Submission> subs) {
  for (auto& sub : subs) {
    std::string raw = ceb::write_message_xml(sub.message);
    auto a = s.SubmitAndWait(encode_submit(sub.sender, raw, std::move(sub.message)));
    ASSERT_TRUE(a.ok()) << a.status().ToString();
  }
}

std::string dump(const Service& s) {
  return s.Read([](const clearance::Engine& e) { return e.dump_state(); });
}

std::vector<uint64_t> snapshot_seqs(const std::string& dir) {
  std::vector<uint64_t> out;
  for (const auto& s : ListSnapshots(dir)) out.push_back(s.seq);
  return out;
}

// A clock the test moves: snapshots are due by log time.
struct Clock {
  std::shared_ptr<std::atomic<TimeMs>> now =
      std::make_shared<std::atomic<TimeMs>>(beijing_midnight(CivilDate{2025, 6, 18}) + 9 * kMsPerHour);
  std::function<TimeMs()> fn() const {
    return [n = now] { return n->load(); };
  }
  void advance(TimeMs ms) { *now += ms; }
};

TEST(Snapshot, ShutdownSnapshotMakesTheNextStartReplayNothing) {
  std::string dir = temp_dir("snap-shutdown");
  std::string live;
  uint64_t last_seq = 0, last_receipt = 0;
  {
    auto s = Service::Open(base_options(dir));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->snapshots().restored_seq, 0u);  // nothing to start from
    setup_zone(**s);
    submit_all(**s, day(150, 31));
    live = dump(**s);
    last_seq = (*s)->last_seq();
    last_receipt = (*s)->last_receipt_no();
  }
  EXPECT_EQ(snapshot_seqs(dir), std::vector<uint64_t>{last_seq});
  EXPECT_TRUE(fs::exists(dir + "/snapshots/" + fmt::format("{:020}", last_seq) + "/archive/CURRENT"));
  {
    auto s = Service::Open(base_options(dir));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->snapshots().restored_seq, last_seq);
    EXPECT_EQ((*s)->snapshots().replayed, 0u);
    EXPECT_TRUE((*s)->snapshots().skipped.empty()) << (*s)->snapshots().skipped;
    EXPECT_EQ(dump(**s), live);
    EXPECT_EQ((*s)->last_receipt_no(), last_receipt);
    // Everything came back through the archive: nothing is in memory until it is used.
    auto hot = (*s)->Read([](const clearance::Engine& e) { return e.hot_counts(); });
    EXPECT_EQ(hot.lists, 0u);
    // The service goes on exactly as one that never stopped: more lists, then the whole log
    // replayed from scratch agrees.
    submit_all(**s, day(60, 32));
    live = dump(**s);
    auto page = (*s)->Receipts("", last_receipt, 5);
    ASSERT_TRUE(page.ok());
    ASSERT_FALSE(page->empty());
    EXPECT_EQ(page->front().no, last_receipt + 1);  // receipt numbers continue without a gap
  }
  auto replayed = Service::ReplayToDump(dir, reference());
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_EQ(*replayed, live);
  EXPECT_EQ(snapshot_seqs(dir).size(), 2u);  // kSnapshotsKept
}

TEST(Snapshot, IntervalSnapshotThenCrashReplaysOnlyTheTail) {
  std::string dir = temp_dir("snap-interval");
  Clock clock;
  ServiceOptions o = base_options(dir);
  o.clock = clock.fn();
  o.ticks = true;       // Ticks archive what is idle, also right after a snapshot moved it all
  o.draw_seeds = true;  // random draws, lanes and officers' queues go through the snapshot too
  o.draw_seed = [](CivilDate d) { return std::string(32, static_cast<char>('a' + d.day % 20)); };
  o.snapshot_interval_ms = 60 * kMsPerSecond;
  // The close below leaves a log tail after the snapshot, as a crash would. (A graceful close
  // still flushes the receipt store; the crash test kills the process for real.)
  o.snapshot_on_shutdown = false;
  std::string live;
  uint64_t snap_seq = 0, last_seq = 0, last_receipt = 0;
  {
    auto s = Service::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    setup_zone(**s);
    submit_all(**s, day(80, 41));
    EXPECT_EQ((*s)->snapshots().written.load(), 0u);  // not due yet
    clock.advance(61 * kMsPerSecond);
    submit_all(**s, day(1, 42));  // its batch is followed by the snapshot
    EXPECT_EQ((*s)->snapshots().written.load(), 1u);
    snap_seq = (*s)->snapshots().last_seq.load();
    EXPECT_GT(snap_seq, 0u);
    // The live core moved its tables to the archive and goes on from there.
    submit_all(**s, day(70, 43));
    live = dump(**s);
    last_seq = (*s)->last_seq();
    last_receipt = (*s)->last_receipt_no();
    ASSERT_GT(last_seq, snap_seq);
  }
  EXPECT_EQ(snapshot_seqs(dir), std::vector<uint64_t>{snap_seq});
  {
    auto s = Service::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->snapshots().restored_seq, snap_seq);
    EXPECT_EQ((*s)->snapshots().replayed, last_seq - snap_seq);
    EXPECT_EQ(dump(**s), live);
    EXPECT_EQ((*s)->last_receipt_no(), last_receipt);
    // The receipt feed has every number once, in order.
    auto page = (*s)->Receipts("", 0, kMaxReceiptPage);
    ASSERT_TRUE(page.ok());
    for (size_t i = 0; i < page->size(); ++i) EXPECT_EQ((*page)[i].no, i + 1);
  }
  auto replayed = Service::ReplayToDump(dir, reference());
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(*replayed, live);
}

TEST(Snapshot, DamagedSnapshotIsSkippedForTheOlderOneOrTheWholeLog) {
  std::string dir = temp_dir("snap-damaged");
  std::string live;
  std::vector<uint64_t> seqs;
  {
    auto s = Service::Open(base_options(dir));
    ASSERT_TRUE(s.ok());
    setup_zone(**s);
    submit_all(**s, day(40, 51));
  }
  {
    auto s = Service::Open(base_options(dir));
    ASSERT_TRUE(s.ok());
    submit_all(**s, day(40, 52));
    live = dump(**s);
  }
  seqs = snapshot_seqs(dir);
  ASSERT_EQ(seqs.size(), 2u);
  // One byte of the newest state.bin flipped: its checksum no longer matches.
  std::string newest = ListSnapshots(dir).front().path + "/state.bin";
  {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    char c = 0;
    f.read(&c, 1);
    f.seekp(40);
    c ^= 0x5a;
    f.write(&c, 1);
  }
  ServiceOptions o = base_options(dir);
  o.snapshot_on_shutdown = false;
  {
    auto s = Service::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->snapshots().restored_seq, seqs[1]);
    EXPECT_NE((*s)->snapshots().skipped.find("checksum"), std::string::npos)
        << (*s)->snapshots().skipped;
    EXPECT_EQ(dump(**s), live);
  }
  // A snapshot whose bytes are sound but do not decode (another version's format, say) is
  // skipped too, and so is one whose archive copy lacks a file.
  {
    std::string newest_dir = ListSnapshots(dir).front().path;
    ASSERT_TRUE(WriteSnapshotState(newest_dir, std::string(16, '\x07')).ok());
    auto s = Service::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->snapshots().restored_seq, seqs[1]);
    EXPECT_FALSE((*s)->snapshots().skipped.empty());
    EXPECT_EQ(dump(**s), live);
  }
  // Without any usable snapshot the whole log is replayed.
  fs::remove_all(ListSnapshots(dir).back().path + "/archive");
  {
    auto s = Service::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->snapshots().restored_seq, 0u);
    EXPECT_EQ(dump(**s), live);
  }
}

TEST(Snapshot, WithoutSnapshotsEveryStartReplaysTheWholeLog) {
  std::string dir = temp_dir("snap-off");
  ServiceOptions o = base_options(dir);
  o.snapshot_interval_ms = 0;
  std::string live;
  {
    auto s = Service::Open(o);
    ASSERT_TRUE(s.ok());
    setup_zone(**s);
    submit_all(**s, day(30, 61));
    live = dump(**s);
  }
  EXPECT_TRUE(snapshot_seqs(dir).empty());
  auto s = Service::Open(o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->snapshots().restored_seq, 0u);
  EXPECT_EQ((*s)->snapshots().replayed, (*s)->last_seq());
  EXPECT_EQ(dump(**s), live);
}

}  // namespace
}  // namespace cbec::service
