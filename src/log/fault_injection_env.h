// An Env that injects disk faults and simulates crashes, for the log's tests and the service's
// recovery tests (LevelDB's fault_injection_test.cc, made reusable).
//
// It forwards every operation to a base Env (the real file system) and keeps a ledger per file
// written through it: how many bytes it has, how many of them a successful Sync() covered, and
// whether its directory entry was made durable by SyncDir(). Crash() then does to the real files
// what a power cut may do: files lose every byte appended since their last successful sync, and
// files created since the last sync of their directory disappear.
//
// Faults are armed for the next N calls of a kind and fail with kInternal ("injected fault: ...").
// A failed Sync leaves the file's bytes unsynced; a failed Append may first write a prefix.
//
// Thread-safety: every method may be called from any thread (one mutex guards the ledger).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "log/env.h"

namespace cbec::cmdlog {

class FaultInjectionEnv final : public Env {
 public:
  // base must outlive this Env.
  explicit FaultInjectionEnv(Env* base = Env::Default());
  ~FaultInjectionEnv() override;

  // ---- Faults ----
  // The next `count` WritableFile::Sync calls fail without syncing anything.
  void FailNextSyncs(int count);
  // The next `count` SyncDir calls fail; created files stay non-durable.
  void FailNextDirSyncs(int count);
  // The next `count` WritableFile::Append calls fail after writing the first
  // min(bytes_kept, size) bytes of their data (a torn write, e.g. ENOSPC mid-way).
  void FailNextWrites(int count, size_t bytes_kept = 0);
  // Switches NowMicros() to a virtual clock that stands still except that every successful
  // file Sync advances it by latency_us, so latency statistics become exact in tests.
  void SimulateSyncLatency(uint64_t latency_us);

  // Simulates a power cut: every file written through this env is cut back to its synced
  // length, and files whose directory entry was never synced are removed. Files still open
  // become dead: their later Append/Sync fail, as the crashed process could not make them.
  // The ledger then starts afresh (the surviving files count as fully synced).
  Status Crash();

  // ---- Observations ----
  uint64_t syncs() const;      // successful WritableFile::Sync calls
  uint64_t dir_syncs() const;  // successful SyncDir calls
  uint64_t writes() const;     // WritableFile::Append calls, failed ones included
  // Bytes of path appended through this env and not yet covered by a successful sync.
  uint64_t unsynced_bytes(const std::string& path) const;

  // ---- Env ----
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> ReopenWritableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override;
  Result<uint64_t> GetFileSize(const std::string& path) override;
  Result<bool> CreateDirIfMissing(const std::string& dir) override;
  Status TruncateFile(const std::string& path, uint64_t size_bytes) override;
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;
  uint64_t NowMicros() override;

 private:
  class File;
  struct FileState {
    std::string path;
    uint64_t size_bytes = 0;    // bytes the file has now
    uint64_t synced_bytes = 0;  // prefix a successful sync made durable
    bool entry_durable = true;  // false from creation until SyncDir of its directory
    bool dead = false;          // set by Crash() for files still open
  };

  Status FileAppend(FileState& state, const std::unique_ptr<WritableFile>& base,
                    std::string_view data);
  Status FileSync(FileState& state, const std::unique_ptr<WritableFile>& base);

  Env* const base_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<FileState>> files_;  // guarded by mu_
  int sync_failures_ = 0;                                    // guarded by mu_
  int dir_sync_failures_ = 0;                                // guarded by mu_
  int write_failures_ = 0;                                   // guarded by mu_
  size_t write_failure_bytes_kept_ = 0;                      // guarded by mu_
  bool virtual_clock_ = false;                               // guarded by mu_
  uint64_t virtual_now_us_ = 0;                              // guarded by mu_
  uint64_t sync_latency_us_ = 0;                             // guarded by mu_
  uint64_t syncs_ = 0;                                       // guarded by mu_
  uint64_t dir_syncs_ = 0;                                   // guarded by mu_
  uint64_t writes_ = 0;                                      // guarded by mu_
};

}  // namespace cbec::cmdlog
