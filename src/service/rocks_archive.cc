#include "service/rocks_archive.h"

#include <algorithm>
#include <filesystem>

#include "rocksdb/db.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"
#include "service/storage.h"

namespace cbec::service {

namespace {
Status clear(const std::string& dir, const rocksdb::Options& o) {
  rocksdb::Status ds = rocksdb::DestroyDB(dir, o);
  if (!ds.ok()) return Status(StatusCode::kUnavailable, "cannot clear archive: " + ds.ToString());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // DestroyDB leaves the directory and foreign files
  if (ec) return Status(StatusCode::kUnavailable, "cannot clear archive: " + ec.message());
  return Status::Ok();
}
rocksdb::Options options_with(std::shared_ptr<rocksdb::Cache> cache) {
  return ArchiveOptions(cache ? std::move(cache) : NewStorageCache(kDefaultStorageCacheBytes));
}
}  // namespace

Result<std::unique_ptr<RocksArchive>> RocksArchive::Open(const std::string& dir,
                                                         std::shared_ptr<rocksdb::Cache> cache) {
  rocksdb::Options o = options_with(std::move(cache));
  o.error_if_exists = true;
  TRY(clear(dir, o));
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &db);
  if (!s.ok()) return Status(StatusCode::kUnavailable, "cannot open archive: " + s.ToString());
  return std::unique_ptr<RocksArchive>(new RocksArchive(db));
}

Result<std::unique_ptr<RocksArchive>> RocksArchive::OpenFrom(
    const std::string& dir, const std::string& checkpoint_dir,
    std::shared_ptr<rocksdb::Cache> cache) {
  namespace fs = std::filesystem;
  rocksdb::Options o = options_with(std::move(cache));
  o.create_if_missing = false;
  TRY(clear(dir, o));
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (fs::directory_iterator it(checkpoint_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& from = it->path();
    fs::path to = fs::path(dir) / from.filename();
    // Table files are immutable: a link costs nothing. MANIFEST, CURRENT and OPTIONS are
    // rewritten by an open database, so those are copied.
    if (from.extension() == ".sst") {
      fs::create_hard_link(from, to, ec);
      if (!ec) continue;
      ec.clear();  // another file system: copy instead
    }
    fs::copy_file(from, to, ec);
    if (ec) break;  // before increment() clears it
  }
  if (ec)
    return Status(StatusCode::kUnavailable,
                  "cannot copy the archive of snapshot " + checkpoint_dir + ": " + ec.message());
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &db);
  if (!s.ok())
    return Status(StatusCode::kUnavailable, "cannot open the archive of snapshot " +
                                                checkpoint_dir + ": " + s.ToString());
  return std::unique_ptr<RocksArchive>(new RocksArchive(db));
}

Status RocksArchive::Checkpoint(const std::string& dir) {
  write_pending();
  rocksdb::FlushOptions fo;
  fo.wait = true;
  rocksdb::Status s = db_->Flush(fo);
  rocksdb::Checkpoint* raw = nullptr;
  if (s.ok()) s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  if (s.ok()) s = cp->CreateCheckpoint(dir, /*log_size_for_flush=*/0);
  if (!s.ok()) return Status(StatusCode::kUnavailable, "archive checkpoint: " + s.ToString());
  return Status::Ok();
}

RocksArchive::RocksArchive(rocksdb::DB* db)
    : db_(db), pending_(std::make_unique<rocksdb::WriteBatch>()) {}
RocksArchive::~RocksArchive() = default;

namespace {
rocksdb::WriteOptions unlogged() {
  rocksdb::WriteOptions w;
  w.disableWAL = true;  // derived state, rebuilt from the command log on open
  return w;
}
rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
}  // namespace

void RocksArchive::write_pending() const {
  if (pending_->Count() == 0) return;
  rocksdb::Status s = db_->Write(unlogged(), pending_.get());
  // Like a failed read: the core's picture would be partial. Stop.
  CBEC_ASSERT(s.ok());
  pending_->Clear();
}
void RocksArchive::flush() { write_pending(); }

bool RocksArchive::get(std::string_view key, std::string* value) const {
  write_pending();
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), slice(key), value);
  if (s.IsNotFound()) return false;
  // A read error of derived state cannot be answered around: the core would decide on a
  // partial picture. Stop rather than answer wrongly.
  CBEC_ASSERT(s.ok());
  return true;
}
void RocksArchive::put(std::string_view key, std::string_view value) {
  rocksdb::Status s = pending_->Put(slice(key), slice(value));
  CBEC_ASSERT(s.ok());
}
void RocksArchive::erase(std::string_view key) {
  rocksdb::Status s = pending_->Delete(slice(key));
  CBEC_ASSERT(s.ok());
}
void RocksArchive::scan(std::string_view prefix,
                        const std::function<void(std::string_view, std::string_view)>& fn) const {
  write_pending();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(slice(prefix)); it->Valid() && it->key().starts_with(slice(prefix)); it->Next())
    fn(std::string_view(it->key().data(), it->key().size()),
       std::string_view(it->value().data(), it->value().size()));
  CBEC_ASSERT(it->status().ok());
}
uint64_t RocksArchive::latest_sequence() const {
  write_pending();
  return db_->GetLatestSequenceNumber();
}

uint64_t RocksArchive::approximate_bytes() const {
  uint64_t sst = 0, mem = 0;
  db_->GetIntProperty("rocksdb.total-sst-files-size", &sst);
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
  return sst + mem;
}

}  // namespace cbec::service
