// RocksArchive buffers puts and erases in one write batch until flush() or the next read
// (service/rocks_archive.h): every read must still see every earlier write, a checkpoint must
// hold them, and a flush must leave nothing behind. Its tables' index and filter blocks live in
// the block cache it is given (service/storage.h), not beside it.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "fmt/format.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "service/rocks_archive.h"
#include "service/storage.h"
#include "service_fixture.h"

namespace cbec::service {
namespace {

using namespace cbec::service::testing;
namespace fs = std::filesystem;

std::map<std::string, std::string> scan_all(const RocksArchive& a, std::string_view prefix) {
  std::map<std::string, std::string> out;
  a.scan(prefix, [&](std::string_view k, std::string_view v) { out.emplace(k, v); });
  return out;
}

TEST(RocksArchive, ReadsSeeBufferedWritesInOrder) {
  const std::string dir = temp_dir("rocks-archive-reads");
  auto a = RocksArchive::Open(dir + "/archive");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  RocksArchive& ar = **a;
  const uint64_t seq0 = ar.latest_sequence();

  ar.put("ls1", "one");
  ar.put("ls2", "two");
  std::string v;
  ASSERT_TRUE(ar.get("ls1", &v));  // the read writes what was pending first
  EXPECT_EQ(v, "one");
  // Later writes to the same key, and an erase, in the order they were made.
  ar.put("ls1", "one again");
  ar.erase("ls2");
  ar.put("or9", "order");
  EXPECT_EQ(scan_all(ar, "ls"), (std::map<std::string, std::string>{{"ls1", "one again"}}));
  EXPECT_FALSE(ar.get("ls2", &v));
  ASSERT_TRUE(ar.get("or9", &v));
  EXPECT_EQ(v, "order");
  EXPECT_EQ(ar.latest_sequence(), seq0 + 5);  // five writes, all in the database now

  ar.put("tb1", "bill");
  ar.flush();
  EXPECT_EQ(ar.latest_sequence(), seq0 + 6);
  ar.flush();  // nothing pending: no write
  EXPECT_EQ(ar.latest_sequence(), seq0 + 6);
}

TEST(RocksArchive, CheckpointHoldsBufferedWrites) {
  const std::string dir = temp_dir("rocks-archive-checkpoint");
  std::map<std::string, std::string> want;
  {
    auto a = RocksArchive::Open(dir + "/archive");
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    // A Tick's worth of evictions from several tables, interleaved, some keys descending (the
    // insert hints must not matter for what is stored).
    for (int i = 0; i < 3000; ++i) {
      std::string k = fmt::format("{}{:06}",
                                  i % 3 == 0   ? "ls"
                                  : i % 3 == 1 ? "or"
                                               : "tb",
                                  i % 2 == 0 ? i : 100000 - i);
      std::string val(static_cast<size_t>(i % 200), static_cast<char>('a' + i % 26));
      (*a)->put(k, val);
      want[k] = val;
    }
    (*a)->erase("ls000000");
    want.erase("ls000000");
    // No flush: the checkpoint must write the pending batch itself.
    ASSERT_TRUE((*a)->Checkpoint(dir + "/cp").ok());
  }
  auto b = RocksArchive::OpenFrom(dir + "/archive2", dir + "/cp");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  std::map<std::string, std::string> got;
  for (std::string_view p : {"ls", "or", "tb"}) got.merge(scan_all(**b, p));
  EXPECT_EQ(got, want);
}

// Memory must not grow with the archive (issue #6): the index and Bloom-filter blocks of table
// files go into the shared, bounded cache instead of the table readers (RocksDB's default keeps
// them outside any cache, about 1.25 bytes of filter per key for every table ever written).
TEST(RocksArchive, TableIndexAndFiltersLiveInTheSharedCache) {
  const std::string dir = temp_dir("rocks-archive-memory");
  std::shared_ptr<rocksdb::Cache> cache = NewStorageCache(kMinStorageCacheBytes);
  auto a = RocksArchive::Open(dir + "/archive", cache);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  constexpr int kKeys = 200'000;  // filters alone: about 250 KB
  for (int i = 0; i < kKeys; ++i) {
    (*a)->put(fmt::format("ls{:08}", i), fmt::format("list {}", i));
    if (i % 10'000 == 9'999) (*a)->flush();
  }
  // Checkpoint flushes the memtable: what follows reads table files.
  ASSERT_TRUE((*a)->Checkpoint(dir + "/cp").ok());
  std::string v;
  for (int i = 0; i < kKeys; i += 997) {
    ASSERT_TRUE((*a)->get(fmt::format("ls{:08}", i), &v));
    EXPECT_EQ(v, fmt::format("list {}", i));
    EXPECT_FALSE((*a)->get(fmt::format("ls{:08}x", i), &v));  // absent: the filter answers
  }
  const StorageMemory m = MeasureStorageMemory(cache.get(), {(*a)->db()});
  EXPECT_EQ(m.cache_capacity, kMinStorageCacheBytes);
  EXPECT_GT(m.cache_usage, 64u << 10) << "index and filter partitions are read into the cache";
  EXPECT_LT(m.table_readers, 64u << 10) << "table readers hold only small fixed parts";
  EXPECT_LE(m.cache_usage, m.cache_capacity);
}

// The nice value of every thread of this process named `name` (/proc/self/task/*/stat).
std::vector<int> nice_of_threads(const std::string& name) {
  std::vector<int> out;
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != name) continue;
    std::ifstream stat_file(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));  // fields from 3 (state) on
    std::string field;
    for (int i = 3; i <= 19 && rest >> field; ++i)
      if (i == 19) out.push_back(std::stoi(field));
  }
  return out;
}

// Compaction is background work with slack: on a small machine it must not take a core from the
// apply, I/O and log threads (storage.cc). Flushes keep their priority: a flush that falls behind
// stops the writer.
TEST(RocksArchive, CompactionRunsAtTheLowestPriorityAndFlushesDoNot) {
  const std::string dir = temp_dir("rocks-archive-nice");
  auto a = RocksArchive::Open(dir + "/archive");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5'000; ++i) (*a)->put(fmt::format("ls{:08}", i), fmt::format("v{}", round));
    ASSERT_TRUE((*a)->Checkpoint(fmt::format("{}/cp{}", dir, round)).ok());  // a flush each
  }
  rocksdb::CompactRangeOptions co;
  co.exclusive_manual_compaction = true;
  ASSERT_TRUE((*a)->db()->CompactRange(co, nullptr, nullptr).ok());  // runs in the low pool
  // Relative to this test's own priority (CI may run it niced); 19 is the lowest.
  const int own = getpriority(PRIO_PROCESS, 0);  // on Linux: the calling thread's nice
  const std::vector<int> low = nice_of_threads("rocksdb:low");
  ASSERT_FALSE(low.empty()) << "no compaction thread";
  // The pool lowers a thread when it next takes a job; the one that compacted has.
  EXPECT_TRUE(std::count(low.begin(), low.end(), 19) >= 1);
  for (int n : low) EXPECT_TRUE(n == 19 || n == own) << n;
  const std::vector<int> high = nice_of_threads("rocksdb:high");
  ASSERT_FALSE(high.empty()) << "no flush thread";
  for (int n : high) EXPECT_EQ(n, own);
  std::string v;
  ASSERT_TRUE((*a)->get("ls00000042", &v));
  EXPECT_EQ(v, "v2");
}

}  // namespace
}  // namespace cbec::service
