#include "log/log.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <utility>

#include "log/crc32c.h"

namespace cbec::cmdlog {
namespace {

constexpr std::string_view kSegmentPrefix = "log-";
constexpr std::string_view kSegmentSuffix = ".cbl";
constexpr size_t kSeqDigits = 20;  // UINT64_MAX has 20 decimal digits
constexpr size_t kSegmentNameBytes = kSegmentPrefix.size() + kSeqDigits + kSegmentSuffix.size();
constexpr std::string_view kLockFileName = "LOCK";
// Recovery and replay read segments in chunks of this size; the buffer grows beyond it only to
// hold a single larger record.
constexpr size_t kReadChunkBytes = 1024 * 1024;

// ---- Little-endian fixed-width integers --------------------------------------------------------
void PutFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xFFu);
}
void PutFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xFFu);
}
uint32_t GetFixed32(const char* src) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(src[i]);
  return v;
}
uint64_t GetFixed64(const char* src) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(src[i]);
  return v;
}

// The CRC of a record covers its length field and everything after the crc field, so a damaged
// length cannot make a shorter or longer record look valid.
uint32_t RecordCrc(const char* record, uint32_t length) {
  return crc32c::Extend(crc32c::Value(record, 4), record + 8, length);
}

void EncodeSegmentHeader(char* dst, uint64_t first_seq) {
  std::memcpy(dst, kSegmentMagic.data(), kSegmentMagic.size());
  PutFixed32(dst + 8, kFormatVersion);
  PutFixed64(dst + 12, first_seq);
  PutFixed32(dst + 20, crc32c::Value(dst, 20));
}

// Returns "" if header is a valid segment header for first_seq, else what is wrong.
std::string CheckSegmentHeader(std::string_view header, uint64_t first_seq) {
  if (header.size() < kSegmentHeaderBytes) return "file shorter than the segment header";
  if (header.substr(0, 8) != kSegmentMagic) return "bad magic (not a cbec log segment)";
  if (crc32c::Value(header.data(), 20) != GetFixed32(header.data() + 20)) {
    return "segment header CRC mismatch";
  }
  if (const uint32_t version = GetFixed32(header.data() + 8); version != kFormatVersion) {
    return fmt::format("unsupported format version {}", version);
  }
  if (const uint64_t seq = GetFixed64(header.data() + 12); seq != first_seq) {
    return fmt::format("header says first seq {} but the file name says {}", seq, first_seq);
  }
  return "";
}

// Parses "log-<20 digits>.cbl"; nullopt for any other name.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  if (name.size() != kSegmentNameBytes || !name.starts_with(kSegmentPrefix) ||
      !name.ends_with(kSegmentSuffix)) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(kSegmentPrefix.size(), kSeqDigits);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint64_t seq = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc() || end != digits.data() + digits.size() || seq == 0) return std::nullopt;
  return seq;
}

// Reads [start, end) of a file front to back through one buffer. Peek makes the next n bytes
// contiguous (fewer only at end), so a record is always decoded from one view.
class SegmentReader {
 public:
  SegmentReader(const RandomAccessFile& file, std::string_view path, uint64_t start, uint64_t end)
      : file_(file), path_(path), end_(end), buf_offset_(start) {}

  uint64_t offset() const { return buf_offset_ + pos_; }
  uint64_t remaining() const { return end_ - offset(); }

  Result<std::string_view> Peek(size_t n) {
    n = static_cast<size_t>(std::min<uint64_t>(n, remaining()));
    if (len_ - pos_ < n) {
      // Slide the unread bytes to the front, then fill up to a chunk (or to n if larger).
      std::memmove(buf_.data(), buf_.data() + pos_, len_ - pos_);
      buf_offset_ += pos_;
      len_ -= pos_;
      pos_ = 0;
      const size_t want = static_cast<size_t>(
          std::min<uint64_t>(std::max(n, kReadChunkBytes) - len_, end_ - (buf_offset_ + len_)));
      if (buf_.size() < len_ + want) buf_.resize(len_ + want);
      TRY_ASSIGN(const size_t got, file_.Read(buf_offset_ + len_, want, buf_.data() + len_));
      if (got != want) {
        return Internal(fmt::format("{}: file ended at offset {} while reading up to {}", path_,
                                    buf_offset_ + len_ + got, end_));
      }
      len_ += got;
    }
    return std::string_view(buf_.data() + pos_, n);
  }

  // REQUIRES n <= the size of the last Peek.
  void Skip(size_t n) {
    CBEC_ASSERT(n <= len_ - pos_);
    pos_ += n;
  }

 private:
  const RandomAccessFile& file_;
  const std::string_view path_;
  const uint64_t end_;
  std::string buf_;
  uint64_t buf_offset_;  // file offset of buf_[0]
  size_t pos_ = 0;       // next unread byte in buf_
  size_t len_ = 0;       // bytes of buf_ holding file data
};

// Decodes the record at the reader's position without consuming it. Returns OK with *bad null
// and the record in *rec and *record_bytes, or OK with *bad saying why the bytes there are not
// a whole valid record; a non-OK Status is an I/O error.
Status PeekRecord(SegmentReader& r, RecordView* rec, size_t* record_bytes, const char** bad) {
  *bad = nullptr;
  TRY_ASSIGN(const std::string_view head, r.Peek(kRecordHeaderBytes));
  if (head.size() < kRecordHeaderBytes) {
    *bad = "partial record header at end of file";
    return Status::Ok();
  }
  const uint32_t length = GetFixed32(head.data());
  if (length < kRecordLengthBaseBytes || length > kRecordLengthBaseBytes + kMaxPayloadBytes) {
    *bad = "impossible record length";
    return Status::Ok();
  }
  const size_t total = 8 + size_t{length};
  TRY_ASSIGN(const std::string_view whole, r.Peek(total));
  if (whole.size() < total) {
    *bad = "record extends past end of file";
    return Status::Ok();
  }
  if (RecordCrc(whole.data(), length) != GetFixed32(whole.data() + 4)) {
    *bad = "record CRC mismatch";
    return Status::Ok();
  }
  rec->seq = GetFixed64(whole.data() + 8);
  rec->time_ms = static_cast<int64_t>(GetFixed64(whole.data() + 16));
  rec->kind = static_cast<uint8_t>(whole[24]);
  rec->payload = whole.substr(kRecordHeaderBytes);
  *record_bytes = total;
  return Status::Ok();
}

// Looks for a whole, CRC-valid record starting anywhere in [from, end) whose seq could belong to
// an acknowledged record after position `from` (seq >= min_seq). Finding one means the bad bytes
// before it are not a torn tail. Lower seqs are ignored: after a crash a file system may expose
// stale blocks of a deleted older segment in the unsynced tail, and those are not our data.
Result<std::optional<uint64_t>> FindValidRecord(const RandomAccessFile& file, std::string_view path,
                                                uint64_t from, uint64_t end, uint64_t min_seq) {
  SegmentReader r(file, path, from, end);
  const uint64_t max_seq = min_seq + (end - from) / kRecordHeaderBytes;
  while (r.remaining() >= kRecordHeaderBytes) {
    TRY_ASSIGN(const std::string_view head, r.Peek(kRecordHeaderBytes));
    const uint32_t length = GetFixed32(head.data());
    const uint64_t seq = GetFixed64(head.data() + 8);
    // Cheap filters first so that scanning garbage byte by byte stays linear.
    if (length >= kRecordLengthBaseBytes && length <= kRecordLengthBaseBytes + kMaxPayloadBytes &&
        8 + uint64_t{length} <= r.remaining() && seq >= min_seq && seq <= max_seq) {
      RecordView rec;
      size_t record_bytes = 0;
      const char* bad = nullptr;
      TRY(PeekRecord(r, &rec, &record_bytes, &bad));
      if (bad == nullptr) return std::optional<uint64_t>(r.offset());
    }
    r.Skip(1);
  }
  return std::optional<uint64_t>();
}

Result<bool> AllZero(const RandomAccessFile& file, std::string_view path, uint64_t size) {
  SegmentReader r(file, path, 0, size);
  while (r.remaining() > 0) {
    TRY_ASSIGN(const std::string_view chunk, r.Peek(kReadChunkBytes));
    if (std::any_of(chunk.begin(), chunk.end(), [](char c) { return c != 0; })) return false;
    r.Skip(chunk.size());
  }
  return true;
}

Status Corruption(std::string_view path, uint64_t offset, std::string_view what) {
  return Internal(fmt::format("command log corrupt: {} at offset {}: {}", path, offset, what));
}

}  // namespace

std::string SegmentFileName(uint64_t first_seq) {
  return fmt::format("{}{:020}{}", kSegmentPrefix, first_seq, kSegmentSuffix);
}

CommandLog::CommandLog(std::string dir, const LogOptions& options)
    : dir_(std::move(dir)),
      options_(options),
      env_(options.env != nullptr ? options.env : Env::Default()) {}

CommandLog::~CommandLog() = default;

Result<std::unique_ptr<CommandLog>> CommandLog::Open(const std::string& dir,
                                                     const LogOptions& options) {
  if (options.segment_bytes == 0 || options.segment_bytes > kMaxSegmentBytes) {
    return InvalidArgument(
        fmt::format("segment_bytes {} is outside 1..{}", options.segment_bytes, kMaxSegmentBytes));
  }
  std::string clean = dir;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  if (clean.empty()) return InvalidArgument("command log directory is empty");
  std::unique_ptr<CommandLog> log(new CommandLog(std::move(clean), options));
  TRY(log->Recover());
  return log;
}

Status CommandLog::Recover() {
  TRY_ASSIGN(const bool created, env_->CreateDirIfMissing(dir_));
  // A new directory's own entry must be durable too, or a crash could lose the whole log.
  if (created && options_.sync) TRY(env_->SyncDir(DirName(dir_)));
  TRY_ASSIGN(lock_, env_->LockFile(JoinPath(dir_, kLockFileName)));

  TRY_ASSIGN(const std::vector<std::string> names, env_->GetChildren(dir_));
  for (const std::string& name : names) {
    const std::optional<uint64_t> first_seq = ParseSegmentFileName(name);
    if (first_seq) {
      segments_.push_back({*first_seq, JoinPath(dir_, name), 0});
    } else if (name.starts_with(kSegmentPrefix)) {
      // Looks like ours but is not: refusing is safer than ignoring a renamed segment.
      return Internal(fmt::format("command log corrupt: unexpected file {} in {}", name, dir_));
    }
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.first_seq < b.first_seq; });

  uint64_t next_seq = 0;  // seq the next record must carry; 0 until the first segment is read
  int64_t last_time_ms = 0;
  uint64_t records = 0;
  std::optional<uint64_t> truncate_to;  // valid end of the last segment if its tail is torn
  bool remove_last = false;             // the last segment was torn before its header was whole

  for (size_t i = 0; i < segments_.size(); ++i) {
    Segment& seg = segments_[i];
    const bool is_last = i + 1 == segments_.size();
    if (next_seq != 0 && seg.first_seq != next_seq) {
      return Corruption(seg.path, 0,
                        fmt::format("seq gap: segment starts at seq {} but the previous one ends "
                                    "at seq {}",
                                    seg.first_seq, next_seq - 1));
    }
    TRY_ASSIGN(const uint64_t file_bytes, env_->GetFileSize(seg.path));
    TRY_ASSIGN(const std::unique_ptr<RandomAccessFile> file, env_->NewRandomAccessFile(seg.path));
    SegmentReader reader(*file, seg.path, 0, file_bytes);

    TRY_ASSIGN(const std::string_view header, reader.Peek(kSegmentHeaderBytes));
    if (const std::string why = CheckSegmentHeader(header, seg.first_seq); !why.empty()) {
      // The first write to a new segment carries its header; a crash during it leaves a short
      // or zero-filled file, and nothing in it was acknowledged.
      if (is_last) {
        bool torn = file_bytes < kSegmentHeaderBytes;
        if (!torn) {
          TRY_ASSIGN(torn, AllZero(*file, seg.path, file_bytes));
        }
        if (torn) {
          remove_last = true;
          break;
        }
      }
      return Corruption(seg.path, 0, why);
    }
    reader.Skip(kSegmentHeaderBytes);
    next_seq = seg.first_seq;

    while (reader.remaining() > 0) {
      const uint64_t offset = reader.offset();
      RecordView rec;
      size_t record_bytes = 0;
      const char* bad = nullptr;
      TRY(PeekRecord(reader, &rec, &record_bytes, &bad));
      if (bad != nullptr) {
        if (!is_last) return Corruption(seg.path, offset, bad);
        TRY_ASSIGN(const std::optional<uint64_t> valid_after,
                   FindValidRecord(*file, seg.path, offset + 1, file_bytes, next_seq));
        if (valid_after) {
          return Corruption(
              seg.path, offset,
              fmt::format("{}, followed by a valid record at offset {}", bad, *valid_after));
        }
        truncate_to = offset;
        break;
      }
      if (rec.seq != next_seq) {
        return Corruption(
            seg.path, offset,
            fmt::format("record has seq {} where seq {} must follow", rec.seq, next_seq));
      }
      if (rec.time_ms < last_time_ms) {
        return Corruption(seg.path, offset,
                          fmt::format("record seq {} has time_ms {}, before the previous {}",
                                      rec.seq, rec.time_ms, last_time_ms));
      }
      last_time_ms = rec.time_ms;
      ++next_seq;
      ++records;
      reader.Skip(record_bytes);
    }
    seg.size_bytes = truncate_to.value_or(file_bytes);
  }

  // Repairs happen only after every segment was checked, so a corrupt log is left untouched.
  if (remove_last) {
    const Segment& seg = segments_.back();
    TRY_ASSIGN(recovery_.torn_bytes_dropped, env_->GetFileSize(seg.path));
    recovery_.torn_file = seg.path;
    TRY(env_->RemoveFile(seg.path));
    TRY(env_->SyncDir(dir_));
    segments_.pop_back();
  } else if (truncate_to) {
    const Segment& seg = segments_.back();
    TRY_ASSIGN(const uint64_t file_bytes, env_->GetFileSize(seg.path));
    recovery_.torn_bytes_dropped = file_bytes - *truncate_to;
    recovery_.torn_file = seg.path;
    TRY(env_->TruncateFile(seg.path, *truncate_to));
  }
  if (records == 0 && !segments_.empty()) {
    // Only header-only segments are left. Dropping them makes an empty log truly empty, so its
    // first record may take any seq instead of the one a crashed first batch had named.
    for (const Segment& seg : segments_) TRY(env_->RemoveFile(seg.path));
    TRY(env_->SyncDir(dir_));
    segments_.clear();
  }

  recovery_.segments = segments_.size();
  recovery_.records = records;
  last_seq_.store(records == 0 ? 0 : next_seq - 1, std::memory_order_relaxed);
  last_time_ms_.store(last_time_ms, std::memory_order_relaxed);
  if (!segments_.empty()) {
    TRY_ASSIGN(current_, env_->ReopenWritableFile(segments_.back().path));
  }
  return Status::Ok();
}

uint64_t CommandLog::first_seq() const {
  return last_seq_.load(std::memory_order_relaxed) == 0 ? 0 : segments_.front().first_seq;
}

Status CommandLog::health() const {
  if (!is_poisoned_.load(std::memory_order_acquire)) return Status::Ok();
  std::lock_guard<std::mutex> lock(poison_mu_);
  return poisoned_;
}

Status CommandLog::Poison(const Status& cause) {
  std::lock_guard<std::mutex> lock(poison_mu_);
  if (poisoned_.ok()) {
    poisoned_ = Status(StatusCode::kUnavailable,
                       fmt::format("command log refuses writes after a failed write or sync "
                                   "({}); restart the service to recover what is durable",
                                   cause.ToString()));
    is_poisoned_.store(true, std::memory_order_release);
  }
  return poisoned_;
}

Status CommandLog::AppendDurable(std::span<const RecordView> batch) {
  if (is_poisoned_.load(std::memory_order_acquire)) return health();
  if (batch.empty()) return Status::Ok();
  if (batch.size() > kMaxBatchRecords) {
    return InvalidArgument(
        fmt::format("batch of {} records exceeds {}", batch.size(), kMaxBatchRecords));
  }

  // Check the whole batch before touching the disk, so a rejected batch writes nothing.
  const bool new_segment =
      current_ == nullptr || segments_.back().size_bytes >= options_.segment_bytes;
  const uint64_t prev_seq = last_seq_.load(std::memory_order_relaxed);
  uint64_t expected_seq = prev_seq == 0 ? batch[0].seq : prev_seq + 1;
  int64_t prev_time_ms = last_time_ms_.load(std::memory_order_relaxed);
  size_t total_bytes = new_segment ? kSegmentHeaderBytes : 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const RecordView& r = batch[i];
    if (r.seq != expected_seq || r.seq == 0) {
      return InvalidArgument(fmt::format("record {} of the batch has seq {}, expected {}", i, r.seq,
                                         expected_seq == 0 ? 1 : expected_seq));
    }
    if (r.time_ms < prev_time_ms) {
      return InvalidArgument(
          fmt::format("record seq {} has time_ms {}, before {}", r.seq, r.time_ms, prev_time_ms));
    }
    if (r.payload.size() > kMaxPayloadBytes) {
      return InvalidArgument(fmt::format("record seq {} has a payload of {} bytes, limit {}", r.seq,
                                         r.payload.size(), kMaxPayloadBytes));
    }
    total_bytes += kRecordHeaderBytes + r.payload.size();
    if (total_bytes > kMaxBatchBytes) {
      return InvalidArgument(
          fmt::format("batch exceeds {} bytes at record seq {}; split it", kMaxBatchBytes, r.seq));
    }
    ++expected_seq;
    prev_time_ms = r.time_ms;
  }

  // Encode into the reused buffer: after warm-up a batch allocates nothing.
  batch_buf_.resize(total_bytes);
  char* p = batch_buf_.data();
  if (new_segment) {
    EncodeSegmentHeader(p, batch[0].seq);
    p += kSegmentHeaderBytes;
  }
  for (const RecordView& r : batch) {
    const auto length = static_cast<uint32_t>(kRecordLengthBaseBytes + r.payload.size());
    PutFixed32(p, length);
    PutFixed64(p + 8, r.seq);
    PutFixed64(p + 16, static_cast<uint64_t>(r.time_ms));
    p[24] = static_cast<char>(r.kind);
    if (!r.payload.empty()) std::memcpy(p + kRecordHeaderBytes, r.payload.data(), r.payload.size());
    PutFixed32(p + 4, RecordCrc(p, length));
    p += kRecordHeaderBytes + r.payload.size();
  }
  CBEC_ASSERT(p == batch_buf_.data() + total_bytes);

  std::string new_path;
  if (new_segment) {
    // The previous segment is closed: everything in it was synced with its last batch.
    current_.reset();
    new_path = JoinPath(dir_, SegmentFileName(batch[0].seq));
    auto file = env_->NewWritableFile(new_path);
    if (!file.ok()) return Poison(file.status());
    current_ = std::move(file).value();
  }
  if (Status st = current_->Append(batch_buf_); !st.ok()) return Poison(st);
  if (options_.sync) {
    const uint64_t start_us = env_->NowMicros();
    if (Status st = current_->Sync(); !st.ok()) return Poison(st);
    const uint64_t end_us = env_->NowMicros();
    const uint64_t latency_us = end_us > start_us ? end_us - start_us : 0;
    stats_.syncs.fetch_add(1, std::memory_order_relaxed);
    stats_.sync_latency_us_total.fetch_add(latency_us, std::memory_order_relaxed);
    stats_.sync_latency_us_buckets[LogStats::SyncLatencyBucket(latency_us)].fetch_add(
        1, std::memory_order_relaxed);
    // The new file's directory entry must be durable too, or a crash could lose the segment.
    if (new_segment) {
      if (Status st = env_->SyncDir(dir_); !st.ok()) return Poison(st);
    }
  }

  // Durable: only now does the in-memory state (what Replay and the next batch see) move on.
  if (new_segment) segments_.push_back({batch[0].seq, std::move(new_path), 0});
  segments_.back().size_bytes += total_bytes;
  last_seq_.store(batch.back().seq, std::memory_order_relaxed);
  last_time_ms_.store(batch.back().time_ms, std::memory_order_relaxed);
  stats_.batches.fetch_add(1, std::memory_order_relaxed);
  stats_.records.fetch_add(batch.size(), std::memory_order_relaxed);
  stats_.bytes.fetch_add(total_bytes, std::memory_order_relaxed);
  stats_.batch_records_buckets[LogStats::BatchRecordsBucket(batch.size())].fetch_add(
      1, std::memory_order_relaxed);
  return Status::Ok();
}

Status CommandLog::Replay(uint64_t from_seq,
                          const std::function<Status(const RecordView&)>& fn) const {
  const uint64_t last = last_seq_.load(std::memory_order_relaxed);
  if (last == 0) return Status::Ok();
  if (from_seq == 0) from_seq = first_seq();
  if (from_seq < first_seq() || from_seq > last + 1) {
    return NotFound(
        fmt::format("Replay from seq {}: the log holds seqs {}..{}", from_seq, first_seq(), last));
  }
  // The segment holding from_seq is the last one starting at or before it.
  auto it = std::upper_bound(segments_.begin(), segments_.end(), from_seq,
                             [](uint64_t seq, const Segment& s) { return seq < s.first_seq; });
  CBEC_ASSERT(it != segments_.begin());
  --it;
  uint64_t expected_seq = it->first_seq;
  for (; it != segments_.end(); ++it) {
    TRY_ASSIGN(const std::unique_ptr<RandomAccessFile> file, env_->NewRandomAccessFile(it->path));
    // Only the acknowledged bytes: never data of a batch whose sync has not returned.
    SegmentReader reader(*file, it->path, 0, it->size_bytes);
    TRY_ASSIGN(const std::string_view header, reader.Peek(kSegmentHeaderBytes));
    if (const std::string why = CheckSegmentHeader(header, it->first_seq); !why.empty()) {
      return Corruption(it->path, 0, why);
    }
    reader.Skip(kSegmentHeaderBytes);
    while (reader.remaining() > 0) {
      const uint64_t offset = reader.offset();
      RecordView rec;
      size_t record_bytes = 0;
      const char* bad = nullptr;
      TRY(PeekRecord(reader, &rec, &record_bytes, &bad));
      if (bad != nullptr) return Corruption(it->path, offset, bad);
      if (rec.seq != expected_seq) {
        return Corruption(
            it->path, offset,
            fmt::format("record has seq {} where seq {} must follow", rec.seq, expected_seq));
      }
      if (rec.seq >= from_seq) TRY(fn(rec));
      ++expected_seq;
      reader.Skip(record_bytes);
    }
  }
  return Status::Ok();
}

}  // namespace cbec::cmdlog
