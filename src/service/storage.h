// The RocksDB settings of cbec's two stores: the receipt store (data_dir/state: receipts and lane
// decisions, service.cc) and the core's archive (data_dir/archive, rocks_archive.h), and the
// memory they may use.
//
// Memory must not grow with history (issue #6). By default RocksDB keeps every table file's
// index and Bloom-filter blocks in memory outside any cache: about 100 MiB per million stored
// lists in the two stores (BENCHMARKS.md, "Cost as history grows"). Here both stores put those
// blocks in one shared LRU block cache, partitioned (a small top-level index per file stays
// pinned; the partitions come and go with use), so what RocksDB holds is bounded by
//   cache capacity + memtables (write_buffer_size × max_write_buffer_number per store)
// whatever the number of stored lists. The cost: a lookup in an old table may first read an
// index or filter partition from disk (the page cache) instead of memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace rocksdb {
class Cache;
class DB;
struct Options;
}  // namespace rocksdb

namespace cbec::service {

// Default capacity of the block cache the two stores share (data blocks, index and filter
// partitions); `storage_cache_mib` in serve's configuration overrides it.
inline constexpr size_t kDefaultStorageCacheBytes = size_t{256} << 20;
// Bounds of the setting (not measured at the edges): a floor so that the index and filter
// partitions a busy archive probes still fit beside its data blocks, a ceiling against a typo.
inline constexpr size_t kMinStorageCacheBytes = size_t{16} << 20;
inline constexpr size_t kMaxStorageCacheBytes = size_t{64} << 30;

// Memtable size of the archive store: archived records arrive in bursts (one Tick evicts a
// minute of lists), and reads of recent evictions stay in memory.
inline constexpr size_t kArchiveWriteBufferBytes = size_t{64} << 20;
inline constexpr int kArchiveBloomBitsPerKey = 10;  // most lookups of new keys miss: filter them
// The receipt store holds receipts and lane decisions only (the command log is the write-ahead
// log): two background jobs for the two cores, and memtables large enough that a busy second
// of receipts fits in one.
inline constexpr int kStoreBackgroundJobs = 2;
inline constexpr size_t kStoreWriteBufferBytes = size_t{64} << 20;

// An LRU block cache of `bytes` (clamped to the bounds above), shared by the stores given it.
std::shared_ptr<rocksdb::Cache> NewStorageCache(size_t bytes);

// Options of the archive store (rocks_archive.cc) and of the receipt store (service.cc), their
// tables' blocks in `cache`. REQUIRES: cache is not null.
rocksdb::Options ArchiveOptions(std::shared_ptr<rocksdb::Cache> cache);
rocksdb::Options ReceiptStoreOptions(std::shared_ptr<rocksdb::Cache> cache);

// Keys of the receipt store: the stream of all receipts ("a/<no>": the receipt's JSON) and each
// receiver's index into it ("r/<receiver>/<no>": an empty value; no zero-padded to 20 digits).
// The JSON is stored once: a copy under the receiver's key doubled what the store wrote,
// flushed and compacted. Stores written before hold the JSON under both keys; readers take a
// receiver key's value when it is not empty.
std::string ReceiptKey(std::string_view receiver, uint64_t no);
std::string AllReceiptsKey(uint64_t no);

// What RocksDB holds in memory (bytes), for /metrics and the benchmarks.
struct StorageMemory {
  uint64_t cache_capacity = 0;
  uint64_t cache_usage = 0;    // blocks in the cache, the pinned ones included
  uint64_t cache_pinned = 0;   // of which pinned (top-level indexes, blocks being read)
  uint64_t memtables = 0;      // of the stores given
  uint64_t table_readers = 0;  // outside the cache (with these options: small, not growing)
};
StorageMemory MeasureStorageMemory(const rocksdb::Cache* cache,
                                   std::initializer_list<rocksdb::DB*> dbs);

}  // namespace cbec::service
