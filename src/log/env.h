// The file-system operations the command log needs, behind one interface (LevelDB's Env).
//
// Everything the log does to the disk goes through an Env, so tests and the service's recovery
// tests can put a FaultInjectionEnv (fault_injection_env.h) in between and make syncs or writes
// fail, or simulate a crash that loses whatever was not synced. Env::Default() is the POSIX
// implementation. Errors from the operating system come back as kInternal naming the operation,
// the path and the errno text.
//
// Thread-safety: Env::Default() may be used from any thread. A WritableFile, RandomAccessFile or
// FileLock object is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cbec::cmdlog {

// A file written sequentially at its end. Closed by the destructor, which never syncs: data
// not covered by a successful Sync() must be treated as lost on a crash.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of data at the end of the file (retrying short writes). On failure any prefix of
  // data may have reached the file.
  virtual Status Append(std::string_view data) = 0;
  // fdatasync: returns OK only once every byte appended so far is durable. After a failure the
  // durable state of the file is unknown and no later Sync() can repair that (the kernel may
  // have dropped the dirty pages), which is why the log stops writing after one.
  virtual Status Sync() = 0;
};

// A file read at arbitrary offsets (pread).
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into scratch and returns how many were read; fewer than n
  // only at end of file.
  virtual Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const = 0;
};

// An exclusive advisory lock on a file, held until the object is destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX environment. Never destroyed.
  static Env* Default();

  // Creates path, which must not exist yet (O_EXCL: a log never overwrites a file it did not
  // account for). The new directory entry is durable only after SyncDir() of its directory.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens an existing file for appending at its end.
  virtual Result<std::unique_ptr<WritableFile>> ReopenWritableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;

  // Names (not paths) of the entries of dir, without "." and "..", in no particular order.
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  // Creates dir if it does not exist; returns true if it was created. The parent directory is
  // not synced.
  virtual Result<bool> CreateDirIfMissing(const std::string& dir) = 0;
  // Cuts path to size_bytes and makes the new size durable (ftruncate + fsync).
  virtual Status TruncateFile(const std::string& path, uint64_t size_bytes) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // fsync of a directory: makes created, removed and renamed entries in it durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive lock on path (created if missing) without waiting; kFailedPrecondition if
  // another holder has it. Guards a log directory against a second writer process.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;

  // Monotonic clock in microseconds, for latency statistics only (never for record times).
  virtual uint64_t NowMicros() = 0;
};

// "dir/name", without doubling a trailing slash of dir.
std::string JoinPath(std::string_view dir, std::string_view name);
// The directory part of path ("." if it has none).
std::string DirName(std::string_view path);

}  // namespace cbec::cmdlog
