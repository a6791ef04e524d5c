// The clearance core's archive (src/archive/archive.h) on RocksDB: a store of its own under
// data_dir/archive, separate from the receipt store, so that it can be dropped as a whole.
//
// The archive is derived state: its contents follow from the command log (the core decides
// what to archive by log time), so it needs no write-ahead log and no sync. Open() destroys
// whatever a previous process left and the service replays the log into an empty one; a crash
// therefore never leaves an archive that disagrees with the core. A snapshot (service/
// snapshot.h) keeps a Checkpoint() of it beside the core's other state; OpenFrom() starts from
// such a copy instead, and the service replays only the log after it.
#pragma once

#include <memory>
#include <string>

#include "archive/archive.h"
#include "common/status.h"

namespace rocksdb {
class Cache;
class DB;
class WriteBatch;
}

namespace cbec::service {

// Puts and erases are buffered in one WriteBatch until flush() (the engine calls it after every
// command) or the next get()/scan(), so a Tick's evictions are one write, and the memtable's
// insert hints (a position kept per key prefix, i.e. per table) work within it: each table's
// keys are evicted in about the order they were made.
class RocksArchive final : public archive::Archive {
 public:
  // Creates dir (after destroying any previous contents). The archive's table blocks, its
  // indexes and filters included, live in `cache` (storage.h: memory does not grow with the
  // archive); null = a cache of its own of kDefaultStorageCacheBytes.
  static Result<std::unique_ptr<RocksArchive>> Open(const std::string& dir,
                                                    std::shared_ptr<rocksdb::Cache> cache = {});
  // Replaces dir by a copy of a Checkpoint() (its table files hard-linked, they never change)
  // and opens it. The checkpoint itself is left as it was.
  static Result<std::unique_ptr<RocksArchive>> OpenFrom(const std::string& dir,
                                                        const std::string& checkpoint_dir,
                                                        std::shared_ptr<rocksdb::Cache> cache = {});
  // Flushes the memtables (writes skip the WAL) and writes a consistent copy of the archive
  // into dir, which must not exist: table files hard-linked, the rest copied.
  Status Checkpoint(const std::string& dir);
  ~RocksArchive() override;

  bool get(std::string_view key, std::string* value) const override;
  void put(std::string_view key, std::string_view value) override;
  void erase(std::string_view key) override;
  void scan(std::string_view prefix,
            const std::function<void(std::string_view, std::string_view)>& fn) const override;
  void flush() override;
  // RocksDB's sequence number of the last write (a snapshot checks its archive copy with it).
  uint64_t latest_sequence() const;
  // Disk and memory use, for /metrics.
  uint64_t approximate_bytes() const;
  // The RocksDB database, for MeasureStorageMemory (storage.h).
  rocksdb::DB* db() const { return db_.get(); }

 private:
  explicit RocksArchive(rocksdb::DB* db);
  void write_pending() const;
  std::unique_ptr<rocksdb::DB> db_;
  // Writes not yet in db_ (only the writer adds to it, and it is empty outside a command).
  mutable std::unique_ptr<rocksdb::WriteBatch> pending_;
};

}  // namespace cbec::service
