// The durable, checksummed, ordered command log.
//
// Public face of src/log/. The clearance core is a deterministic single-writer state machine:
// every command it accepts is first appended here and made durable, and only then does any
// receipt say "accepted". After a restart the service replays the log into a fresh core and gets
// back exactly the state it acknowledged.
//
// Group commit. One writer thread owns the CommandLog. It takes every command that arrived while
// the previous sync ran and calls AppendDurable once for all of them: one write(2) and one
// fdatasync for the whole batch, so throughput grows with load while each command still waits
// for at most two syncs.
//
// The log assigns nothing. The writer puts seq (strictly increasing by 1 across the whole log)
// and time_ms (milliseconds since the epoch, non-decreasing, taken once by the writer so that
// replay sees the same clock) into every record; the log checks both and rejects a batch that
// breaks them before writing any of it.
//
// Failure model (LevelDB's). A failed write or fdatasync means nobody knows what is on disk: the
// kernel may have dropped the dirty pages, and a later successful sync would prove nothing. So
// the first such failure poisons the log: that AppendDurable and every later one fail with
// kUnavailable naming the original error, health() says the same so the service can refuse
// writes saying why, and the process must restart; Open() then recovers what is really durable.
// The records of the batch that failed may or may not survive that restart (as for any command
// whose acknowledgement was lost); every acknowledged record does.
//
// On-disk format (all integers little-endian). A directory holds segment files named
// "log-<seq of the first record, 20 decimal digits>.cbl". Each segment is:
//   header  "CBECLOG1" | u32 version (1) | u64 first_seq | u32 crc32c(the preceding 20 bytes)
//   records u32 length | u32 crc | u64 seq | i64 time_ms | u8 kind | payload
// where length counts the bytes after the crc field (17 + payload size) and crc is the CRC-32C
// of every other byte of the record (length, then seq through payload). A segment is started
// only at a batch boundary, once the current one has reached LogOptions::segment_bytes, so each
// batch lies in one segment and needs one write and one fdatasync (plus a directory fsync when
// it starts a segment); segments may therefore exceed segment_bytes by up to one batch.
//
// Recovery (Open). Every segment is read in order and every header, CRC, seq step (+1) and time
// step (non-decreasing) checked. A crash during a write can only damage the end of the last
// segment, since that is the only place unsynced bytes live, so a partial or CRC-failing record
// at the very end of the last segment with nothing valid after it is a torn tail: it was never
// acknowledged, and Open cuts it off (ftruncate + fsync). A last segment shorter than its header
// or all zero bytes is a torn segment creation and is removed. Anything else (a bad record
// followed by a valid one, a seq gap, a bad header, damage in any segment but the last) is
// corruption: Open fails with kInternal naming the file and byte offset and changes nothing,
// never silently dropping acknowledged data. A file system that persists a later page of an
// unsynced write without an earlier one can make a torn batch look like corruption; refusing to
// start there is the price of never dropping acknowledged records.
//
// Thread-safety. AppendDurable, Replay, first_seq() and recovery() are for the writer thread (or
// one thread at a time, e.g. Replay at start-up before the writer starts). health(), stats(),
// last_seq() and last_time_ms() may be called from any thread at any time.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "log/env.h"

namespace cbec::cmdlog {

// ---- Limits and format constants ------------------------------------------------------------
inline constexpr size_t kMaxPayloadBytes = 16 * 1024 * 1024;
inline constexpr size_t kMaxBatchRecords = 4096;
// A batch is built in one buffer and written with one call; this bounds that buffer.
inline constexpr size_t kMaxBatchBytes = 64 * 1024 * 1024;
inline constexpr uint64_t kDefaultSegmentBytes = 64 * 1024 * 1024;
inline constexpr uint64_t kMaxSegmentBytes = uint64_t{1} << 30;

inline constexpr std::string_view kSegmentMagic = "CBECLOG1";
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderBytes = 8 + 4 + 8 + 4;     // magic, version, seq, crc
inline constexpr size_t kRecordHeaderBytes = 4 + 4 + 8 + 8 + 1;  // length, crc, seq, time, kind
inline constexpr size_t kRecordLengthBaseBytes = kRecordHeaderBytes - 8;  // what length counts
inline constexpr size_t kMaxRecordBytes = kRecordHeaderBytes + kMaxPayloadBytes;

static_assert(kSegmentMagic.size() == 8);
static_assert(kMaxRecordBytes + kSegmentHeaderBytes <= kMaxBatchBytes,
              "a batch must be able to hold one record of the largest size in a new segment");
static_assert(kMaxBatchBytes <= UINT32_MAX && kMaxRecordBytes <= UINT32_MAX);
static_assert(kDefaultSegmentBytes <= kMaxSegmentBytes);

// "log-00000000000000000042.cbl" for first_seq 42.
std::string SegmentFileName(uint64_t first_seq);

// ---- Records ---------------------------------------------------------------------------------
struct RecordView {
  uint64_t seq = 0;          // >= 1; previous record's seq + 1
  int64_t time_ms = 0;       // >= 0; >= previous record's time_ms
  uint8_t kind = 0;          // opaque to the log (the service's command type)
  std::string_view payload;  // <= kMaxPayloadBytes
};

struct LogOptions {
  // A new segment starts at the first batch after the current one reached this size.
  // REQUIRES 0 < segment_bytes <= kMaxSegmentBytes.
  uint64_t segment_bytes = kDefaultSegmentBytes;
  // nullptr means Env::Default(). Not owned; must outlive the log.
  Env* env = nullptr;
  // false skips every fdatasync and directory fsync: records are then NOT durable when
  // AppendDurable returns. Only for benchmarks that explicitly measure without durability.
  bool sync = true;
};

// Counters for metrics. Written by the writer thread only; read from any thread (relaxed loads:
// each counter is exact, but two counters read one after the other may be one batch apart).
// Histogram buckets hold plain (non-cumulative) counts.
struct LogStats {
  // fdatasync latency: bucket i < 16 counts syncs that took <= 50 µs * 2^i (50 µs, 100 µs, ...,
  // 1.6384 s); the last bucket counts slower ones.
  static constexpr size_t kSyncLatencyBuckets = 17;
  static constexpr uint64_t kSyncLatencyFirstBoundUs = 50;
  // Batch size: bucket i counts batches of (2^(i-1), 2^i] records: 1, 2, 3-4, 5-8, ..., 4096.
  static constexpr size_t kBatchRecordsBuckets = 13;
  static_assert(size_t{1} << (kBatchRecordsBuckets - 1) == kMaxBatchRecords);

  // Inclusive upper bound of sync latency bucket i; UINT64_MAX for the last.
  static constexpr uint64_t SyncLatencyBoundUs(size_t i) {
    return i + 1 < kSyncLatencyBuckets ? kSyncLatencyFirstBoundUs << i : UINT64_MAX;
  }
  static constexpr size_t SyncLatencyBucket(uint64_t latency_us) {
    if (latency_us <= kSyncLatencyFirstBoundUs) return 0;
    const uint64_t units = (latency_us - 1) / kSyncLatencyFirstBoundUs;  // ceil(lat/50) - 1
    const size_t i = static_cast<size_t>(std::bit_width(units));
    return i < kSyncLatencyBuckets - 1 ? i : kSyncLatencyBuckets - 1;
  }
  // REQUIRES 1 <= records <= kMaxBatchRecords.
  static constexpr size_t BatchRecordsBucket(size_t records) {
    return static_cast<size_t>(std::bit_width(records - 1));
  }

  std::atomic<uint64_t> batches{0};  // successful AppendDurable calls with records
  std::atomic<uint64_t> records{0};  // records appended by those calls
  std::atomic<uint64_t> bytes{0};    // bytes they wrote, segment headers included
  std::atomic<uint64_t> syncs{0};    // successful fdatasyncs of segment files
  std::atomic<uint64_t> sync_latency_us_total{0};
  std::array<std::atomic<uint64_t>, kSyncLatencyBuckets> sync_latency_us_buckets{};
  std::array<std::atomic<uint64_t>, kBatchRecordsBuckets> batch_records_buckets{};
};

// What Open found, for the service to log at start-up.
struct RecoveryReport {
  uint64_t segments = 0;            // segment files in use after recovery
  uint64_t records = 0;             // valid records found
  uint64_t torn_bytes_dropped = 0;  // bytes cut off the end of the last segment (0: clean)
  std::string torn_file;            // the file they were cut from, or removed if it was torn
                                    // before its header was complete ("" if none)
};

class CommandLog {
 public:
  // Opens (creating dir if needed) and recovers the log in dir, as described at the top of this
  // file; the returned log appends after the last valid record. Fails with kInternal naming file
  // and offset on corruption, kFailedPrecondition if another CommandLog holds dir (a LOCK file),
  // kInvalidArgument on bad options, or the Env's error.
  static Result<std::unique_ptr<CommandLog>> Open(const std::string& dir,
                                                  const LogOptions& options);

  // Closes the files without syncing: everything acknowledged is already durable.
  ~CommandLog();
  CommandLog(const CommandLog&) = delete;
  CommandLog& operator=(const CommandLog&) = delete;

  // Appends every record of batch in order, with one write and (if options.sync) exactly one
  // fdatasync, plus one directory fsync when the batch starts a new segment; returns OK only
  // once all of them are durable. An empty batch is a no-op.
  // REQUIRES (else kInvalidArgument and nothing is written): batch.size() <= kMaxBatchRecords;
  // batch[0].seq == last_seq() + 1 (any seq >= 1 if the log is empty) and each next seq is the
  // previous + 1; 0 <= time_ms, and time_ms never below the previous record's (or last_time_ms());
  // payload.size() <= kMaxPayloadBytes; the encoded batch fits kMaxBatchBytes.
  // Fails with kUnavailable once the log is poisoned (see health()); the call that poisons it
  // fails the same way.
  Status AppendDurable(std::span<const RecordView> batch);

  // Seq and time of the last acknowledged record; 0 and 0 for an empty log.
  uint64_t last_seq() const { return last_seq_.load(std::memory_order_relaxed); }
  int64_t last_time_ms() const { return last_time_ms_.load(std::memory_order_relaxed); }
  // Seq of the first record in the log; 0 for an empty log.
  uint64_t first_seq() const;

  // Calls fn for every acknowledged record with seq >= from_seq, in order, and stops at the
  // first error fn returns, returning it. from_seq 0 means from the first record, so
  // Replay(first_seq(), fn) replays everything, also on an empty log. The view's payload is
  // valid only during the call. Records are read back from disk and their CRCs checked again
  // (kInternal on a mismatch). Fails with kNotFound if the log is not empty and from_seq is
  // before first_seq() (but not 0) or after last_seq() + 1: the caller expects records the log
  // does not have, e.g. a snapshot newer than the log.
  Status Replay(uint64_t from_seq, const std::function<Status(const RecordView&)>& fn) const;

  // OK, or kUnavailable naming the write or sync failure that poisoned the log.
  Status health() const;

  const LogStats& stats() const { return stats_; }
  const RecoveryReport& recovery() const { return recovery_; }

 private:
  struct Segment {
    uint64_t first_seq = 0;
    std::string path;
    uint64_t size_bytes = 0;  // bytes of acknowledged data (header included)
  };

  CommandLog(std::string dir, const LogOptions& options);
  Status Recover();
  Status Poison(const Status& cause);

  const std::string dir_;
  const LogOptions options_;
  Env* const env_;

  std::unique_ptr<FileLock> lock_;
  std::vector<Segment> segments_;          // in seq order; the last one is current_
  std::unique_ptr<WritableFile> current_;  // open for appending; null until the first segment
  std::string batch_buf_;                  // reused by every AppendDurable (no per-batch alloc)

  std::atomic<uint64_t> last_seq_{0};
  std::atomic<int64_t> last_time_ms_{0};

  mutable std::mutex poison_mu_;
  Status poisoned_;                       // guarded by poison_mu_; OK while healthy
  std::atomic<bool> is_poisoned_{false};  // lets the hot path skip the mutex

  LogStats stats_;
  RecoveryReport recovery_;
};

}  // namespace cbec::cmdlog
