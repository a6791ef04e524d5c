// archive::HashTable, the index of a hashed ColdMap's hot entries: against std::unordered_map
// under random inserts, lookups and erases (with tombstones and rebuilds), and the guarantees the
// core relies on (stable references, erasing while iterating, borrowed-key lookups).
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "archive/cold_map.h"
#include "archive/hash_table.h"
#include "fmt/format.h"
#include "gtest/gtest.h"

namespace cbec::testing {
namespace {

using archive::HashTable;
using archive::KeyEqual;
using archive::KeyHash;
using Pair = std::pair<std::string, std::string>;

uint64_t next(uint64_t* state, uint64_t mod) {
  *state = *state * 6364136223846793005ull + 1442695040888963407ull;
  return (*state >> 17) % mod;
}

// Random operations over a small key space (so keys come back after being erased) agree with
// std::unordered_map at every step, through growth and tombstone purges.
TEST(HashTable, AgreesWithTheStandardMapUnderRandomInsertsLookupsAndErases) {
  HashTable<Pair, int64_t, KeyHash<Pair>, KeyEqual<Pair>> t;
  std::unordered_map<std::string, int64_t> want;  // "a|b" -> value
  uint64_t state = 7;
  size_t grew_past = 0;
  for (int step = 0; step < 200000; ++step) {
    const uint64_t k = next(&state, step < 100000 ? 3000 : 600);  // shrink the space: churn
    Pair key{fmt::format("ebp{}", k % 7), fmt::format("ORDER-2025-{:012d}", k)};
    const std::string flat = key.first + "|" + key.second;
    switch (next(&state, 4)) {
      case 0:
      case 1: {  // insert (or find the existing entry)
        auto [it, inserted] = t.emplace(key, step);
        auto [w, winserted] = want.emplace(flat, step);
        ASSERT_EQ(inserted, winserted) << step;
        ASSERT_EQ(it->second, w->second) << step;
        ASSERT_EQ(it->first, key);
        break;
      }
      case 2: {  // look up by the borrowed form
        auto it = t.find(archive::StringPairView{key.first, key.second});
        auto w = want.find(flat);
        ASSERT_EQ(it == t.end(), w == want.end()) << step;
        if (w != want.end()) {
          ASSERT_EQ(it->second, w->second) << step;
        }
        break;
      }
      default: {  // erase
        auto it = t.find(key);
        ASSERT_EQ(it != t.end(), want.erase(flat) == 1) << step;
        if (it != t.end()) t.erase(it);
      }
    }
    ASSERT_EQ(t.size(), want.size()) << step;
    grew_past = std::max(grew_past, t.size());
  }
  EXPECT_GT(grew_past, 1000u);  // the index grew several times
  // Every entry is still found after the churn (erasing empties slots where no probe goes on).
  for (const auto& [flat, v] : want) {
    const size_t bar = flat.find('|');
    auto it = t.find(archive::StringPairView{std::string_view(flat).substr(0, bar),
                                             std::string_view(flat).substr(bar + 1)});
    ASSERT_NE(it, t.end()) << flat;
    EXPECT_EQ(it->second, v);
  }
  // Iteration visits every entry once.
  std::map<std::string, int64_t> seen;
  for (const auto& [k, v] : t) EXPECT_TRUE(seen.emplace(k.first + "|" + k.second, v).second);
  const std::map<std::string, int64_t> want_sorted(want.begin(), want.end());
  EXPECT_EQ(seen, want_sorted);
}

// References to entries survive any number of inserts (the index grows under them), and erasing
// entries while iterating visits each exactly once (ColdMap::evict_all).
TEST(HashTable, EntriesStayPutAndErasingWhileIteratingVisitsEachOnce) {
  HashTable<uint64_t, std::string, KeyHash<uint64_t>, KeyEqual<uint64_t>> t;
  std::vector<std::string*> refs;
  for (uint64_t id = 1; id <= 5000; ++id) {
    auto [it, inserted] = t.emplace(id << 32, fmt::format("list {}", id));  // high bits only
    ASSERT_TRUE(inserted);
    refs.push_back(&it->second);
  }
  for (uint64_t id = 1; id <= 5000; ++id) {
    ASSERT_EQ(*refs[id - 1], fmt::format("list {}", id));
    auto it = t.find(id << 32);
    ASSERT_NE(it, t.end());
    ASSERT_EQ(&it->second, refs[id - 1]);
  }
  EXPECT_EQ(t.find(uint64_t{3}), t.end());
  size_t visited = 0;
  for (auto it = t.begin(); it != t.end();) {
    auto next_it = std::next(it);
    t.erase(it);
    it = next_it;
    ++visited;
  }
  EXPECT_EQ(visited, 5000u);
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.begin(), t.end());
  // Emptied by erasing, the table takes entries again (its slots are all tombstones now).
  for (uint64_t id = 1; id <= 100; ++id) ASSERT_TRUE(t.emplace(id, "again").second);
  EXPECT_EQ(t.size(), 100u);
  EXPECT_TRUE(t.contains(uint64_t{42}));
}

// end() taken before an insert that grows the index still compares unequal to the new entry:
// `find(k) != end()` may evaluate end() first, and find() may insert (ColdMap restores an
// archived entry inside find). Keys that land in the first slot once failed this.
TEST(HashTable, EndIsTheSameBeforeAndAfterTheIndexGrows) {
  for (uint64_t k = 0; k < 64; ++k) {
    HashTable<uint64_t, int, KeyHash<uint64_t>, KeyEqual<uint64_t>> t;
    auto before = t.end();
    auto [it, inserted] = t.emplace(k, 1);
    ASSERT_TRUE(inserted);
    EXPECT_NE(it, before) << k;
    EXPECT_NE(t.find(k), before) << k;
    EXPECT_EQ(t.find(k + 1000), before) << k;
  }
}

// Keys of the R3 cap table: a tuple with a number between two strings.
TEST(HashTable, TupleKeysFindWhatWasInserted) {
  using CapKey = std::tuple<std::string, int, std::string>;
  HashTable<CapKey, int64_t, KeyHash<CapKey>, KeyEqual<CapKey>> t;
  for (int year : {2024, 2025})
    for (int i = 0; i < 300; ++i)
      ASSERT_TRUE(t.emplace(CapKey{fmt::format("4101{:014d}", i), year, "17011400"}, i).second);
  for (int year : {2024, 2025})
    for (int i = 0; i < 300; ++i) {
      auto it = t.find(CapKey{fmt::format("4101{:014d}", i), year, "17011400"});
      ASSERT_NE(it, t.end()) << year << " " << i;
      EXPECT_EQ(it->second, i);
    }
  EXPECT_EQ(t.find(CapKey{"410100000000000001", 2026, "17011400"}), t.end());
}

}  // namespace
}  // namespace cbec::testing
