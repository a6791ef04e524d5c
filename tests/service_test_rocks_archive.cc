// RocksArchive buffers puts and erases in one write batch until flush() or the next read
// (service/rocks_archive.h): every read must still see every earlier write, a checkpoint must
// hold them, and a flush must leave nothing behind.
#include <filesystem>
#include <map>
#include <string>

#include "fmt/format.h"
#include "gtest/gtest.h"
#include "service/rocks_archive.h"
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

}  // namespace
}  // namespace cbec::service
