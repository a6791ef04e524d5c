#include "service/storage.h"

#include <algorithm>

#include "fmt/format.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"

namespace cbec::service {

namespace {

// The table tag of an archive key: ColdMap keys start with their table's two-character tag
// ("ls", "or", "tb", ...; cold_map.h), the encoded key follows.
class TablePrefix final : public rocksdb::SliceTransform {
 public:
  static constexpr size_t kTagBytes = 2;
  const char* Name() const override { return "cbec.ArchiveTablePrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), std::min(key.size(), kTagBytes));
  }
  bool InDomain(const rocksdb::Slice&) const override { return true; }
};

// Receipts and lane decisions are written in number order under a few prefixes ("a/",
// "r/<receiver>/", "d/<day>/"). RocksDB keeps the last insert position per prefix, so an
// insert starts next to the previous one of its prefix instead of at the top of a 64 MiB
// skiplist (perf: the store's key comparisons were half of the store stage). Other keys
// ("di/<invtNo>/": one prefix per list; meta keys) are inserted the ordinary way.
class SequentialPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "cbec.SequentialPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), prefix_size(key));
  }
  bool InDomain(const rocksdb::Slice& key) const override { return prefix_size(key) != 0; }

 private:
  static size_t prefix_size(const rocksdb::Slice& key) {
    std::string_view k(key.data(), key.size());
    if (k.size() < 3 || k[1] != '/') return 0;
    if (k[0] == 'a') return 2;
    if (k[0] != 'r' && k[0] != 'd') return 0;
    size_t slash = k.find('/', 2);
    return slash == std::string_view::npos ? 0 : slash + 1;
  }
};

// Index and filter blocks in the shared cache, partitioned, so that memory does not grow with
// the number of table files (see storage.h). The partitions get the cache's high-priority
// pool: a data block read once must not push out the index that finds the next one. The
// top-level index of each file, a few hundred bytes, stays pinned, and so do level 0's blocks
// (the newest tables, read most).
rocksdb::BlockBasedTableOptions bounded_tables(std::shared_ptr<rocksdb::Cache> cache,
                                               int bloom_bits_per_key) {
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = std::move(cache);
  t.cache_index_and_filter_blocks = true;
  t.cache_index_and_filter_blocks_with_high_priority = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  t.pin_top_level_index_and_filter = true;
  t.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  if (bloom_bits_per_key > 0) {
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(bloom_bits_per_key));
    t.whole_key_filtering = true;
    t.partition_filters = true;
    t.optimize_filters_for_memory = true;
  }
  return t;
}

// Compaction runs at the lowest CPU priority (nice 19): it is background work with slack (about a
// third of a core at the steady state's maximum), while the apply thread, the I/O threads and
// the log answer receipts. On two cores a compaction burst otherwise takes a core from them for
// seconds: in steady state at 3,500 lists/s p99 per receipt was 115 ms with it at the same
// priority and 27 ms below (BENCHMARKS.md, session 12). Flushes keep their priority: a flush
// that falls behind stops the writer. The pools are RocksDB's process-wide ones (Env::Default).
void compaction_below_foreground() {
  rocksdb::Env::Default()->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW);
}

}  // namespace

std::shared_ptr<rocksdb::Cache> NewStorageCache(size_t bytes) {
  rocksdb::LRUCacheOptions c;
  c.capacity = std::clamp(bytes, kMinStorageCacheBytes, kMaxStorageCacheBytes);
  c.high_pri_pool_ratio = 0.5;  // index and filter partitions
  return rocksdb::NewLRUCache(c);
}

rocksdb::Options ArchiveOptions(std::shared_ptr<rocksdb::Cache> cache) {
  compaction_below_foreground();
  rocksdb::Options o;
  o.create_if_missing = true;
  o.write_buffer_size = kArchiveWriteBufferBytes;
  // New keys are looked up before they are inserted (is this order known?): almost every
  // lookup misses, so both the memtable and the tables carry whole-key Bloom filters.
  o.memtable_whole_key_filtering = true;
  o.memtable_prefix_bloom_size_ratio = 0.05;
  // Each table's keys (prefix: the table's tag) go in in about ascending order:
  // within one write batch the skiplist insert then starts where the previous one of that table
  // ended instead of searching from the top.
  o.memtable_insert_with_hint_prefix_extractor = std::make_shared<TablePrefix>();
  o.allow_concurrent_memtable_write = false;  // hints need it (one writer anyway)
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(
      bounded_tables(std::move(cache), kArchiveBloomBitsPerKey)));
  return o;
}

rocksdb::Options ReceiptStoreOptions(std::shared_ptr<rocksdb::Cache> cache) {
  compaction_below_foreground();
  rocksdb::Options o;
  o.create_if_missing = true;
  o.max_background_jobs = kStoreBackgroundJobs;
  o.write_buffer_size = kStoreWriteBufferBytes;
  o.memtable_insert_with_hint_prefix_extractor = std::make_shared<SequentialPrefix>();
  o.allow_concurrent_memtable_write = false;  // one writer (the store stage); hints need it
  // Reads are scans by prefix and a handful of point lookups: no Bloom filters.
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(bounded_tables(std::move(cache), 0)));
  return o;
}

std::string ReceiptKey(std::string_view receiver, uint64_t no) {
  return fmt::format("r/{}/{:020d}", receiver, no);
}
std::string AllReceiptsKey(uint64_t no) { return fmt::format("a/{:020d}", no); }

StorageMemory MeasureStorageMemory(const rocksdb::Cache* cache,
                                   std::initializer_list<rocksdb::DB*> dbs) {
  StorageMemory m;
  if (cache) {
    m.cache_capacity = cache->GetCapacity();
    m.cache_usage = cache->GetUsage();
    m.cache_pinned = cache->GetPinnedUsage();
  }
  for (rocksdb::DB* db : dbs) {
    if (!db) continue;
    uint64_t n = 0;
    if (db->GetIntProperty("rocksdb.cur-size-all-mem-tables", &n)) m.memtables += n;
    n = 0;
    if (db->GetIntProperty("rocksdb.estimate-table-readers-mem", &n)) m.table_readers += n;
  }
  return m;
}

}  // namespace cbec::service
