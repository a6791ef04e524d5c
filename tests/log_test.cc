// Tests of src/log/: CRC-32C, the command log's append/replay contract, recovery of torn tails
// versus corruption, poisoning after failed writes or syncs, crash simulation with the
// FaultInjectionEnv, and the statistics counters.
#include "log/log.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

#include "log/crc32c.h"
#include "log/env.h"
#include "log/fault_injection_env.h"

namespace cbec::cmdlog {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kBaseTimeMs = 1'700'000'000'000;

// A fresh directory under /tmp, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cbec_log_test.XXXXXX").string();
    CBEC_ASSERT(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // A not-yet-existing directory inside this one.
  std::string sub(std::string_view name) const { return JoinPath(path_, name); }

 private:
  std::string path_;
};

struct OwnedRecord {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  uint8_t kind = 0;
  std::string payload;
  bool operator==(const OwnedRecord&) const = default;
  size_t encoded_bytes() const { return kRecordHeaderBytes + payload.size(); }
  friend std::ostream& operator<<(std::ostream& os, const OwnedRecord& r) {
    return os << "{seq " << r.seq << ", time " << r.time_ms << ", kind " << int{r.kind}
              << ", payload \"" << r.payload << "\"}";
  }
};

// Record seq with a payload whose length varies with seq, times that sometimes repeat (equal
// times are allowed) and a kind that uses all bits of the byte.
OwnedRecord MakeRecord(uint64_t seq, std::string_view tag = "") {
  OwnedRecord r;
  r.seq = seq;
  r.time_ms = kBaseTimeMs + static_cast<int64_t>(seq / 2) * 1000;
  r.kind = static_cast<uint8_t>((seq * 37) & 0xFF);
  r.payload = fmt::format("{}command {} ", tag, seq) +
              std::string(seq % 23, static_cast<char>('a' + seq % 26));
  return r;
}

std::vector<OwnedRecord> Range(uint64_t first_seq, size_t count, std::string_view tag = "") {
  std::vector<OwnedRecord> out;
  for (size_t i = 0; i < count; ++i) out.push_back(MakeRecord(first_seq + i, tag));
  return out;
}

Status Append(CommandLog& log, const std::vector<OwnedRecord>& records) {
  std::vector<RecordView> views;
  for (const OwnedRecord& r : records) views.push_back({r.seq, r.time_ms, r.kind, r.payload});
  return log.AppendDurable(views);
}

std::vector<OwnedRecord> ReadAll(const CommandLog& log, uint64_t from_seq = 1) {
  std::vector<OwnedRecord> out;
  const Status st = log.Replay(from_seq, [&](const RecordView& r) {
    out.push_back({r.seq, r.time_ms, r.kind, std::string(r.payload)});
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

std::unique_ptr<CommandLog> MustOpen(const std::string& dir, const LogOptions& options = {}) {
  auto log = CommandLog::Open(dir, options);
  if (!log.ok()) {
    ADD_FAILURE() << "Open(" << dir << "): " << log.status().ToString();
    return nullptr;
  }
  return std::move(log).value();
}

// Segment file names in dir, in seq order.
std::vector<std::string> SegmentFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("log-") && name.ends_with(".cbl")) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t TotalSegmentBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const std::string& name : SegmentFiles(dir)) total += fs::file_size(JoinPath(dir, name));
  return total;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  CBEC_ASSERT(out.good());
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::string data = ReadFile(path);
  ASSERT_LT(offset, data.size()) << path;
  data[offset] = static_cast<char>(data[offset] ^ 0x5A);
  WriteFile(path, data);
}

void CopyDir(const std::string& from, const std::string& to) {
  fs::create_directory(to);
  for (const std::string& name : SegmentFiles(from)) {
    fs::copy_file(JoinPath(from, name), JoinPath(to, name));
  }
}

// Rewrites the record at offset with a new seq and time and a correct CRC, the way a bug (not
// a torn write or bit rot) would produce a well-formed but wrong record.
void RewriteRecord(const std::string& path, uint64_t offset, uint64_t seq, int64_t time_ms) {
  std::string data = ReadFile(path);
  char* p = data.data() + offset;
  const uint32_t length = static_cast<uint32_t>(static_cast<unsigned char>(p[0])) |
                          static_cast<uint32_t>(static_cast<unsigned char>(p[1])) << 8 |
                          static_cast<uint32_t>(static_cast<unsigned char>(p[2])) << 16 |
                          static_cast<uint32_t>(static_cast<unsigned char>(p[3])) << 24;
  for (int i = 0; i < 8; ++i) p[8 + i] = static_cast<char>((seq >> (8 * i)) & 0xFF);
  for (int i = 0; i < 8; ++i) {
    p[16 + i] = static_cast<char>((static_cast<uint64_t>(time_ms) >> (8 * i)) & 0xFF);
  }
  const uint32_t crc = crc32c::Extend(crc32c::Value(p, 4), p + 8, length);
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  WriteFile(path, data);
}

// Offset of each record of records in a segment that holds exactly them, in order.
std::vector<uint64_t> RecordOffsets(const std::vector<OwnedRecord>& records) {
  std::vector<uint64_t> out;
  uint64_t offset = kSegmentHeaderBytes;
  for (const OwnedRecord& r : records) {
    out.push_back(offset);
    offset += r.encoded_bytes();
  }
  return out;
}

// ---- CRC-32C -----------------------------------------------------------------------------------

// Bit-at-a-time CRC-32C, the definition the slice-by-8 tables must agree with.
uint32_t ReferenceCrc32c(std::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (const char c : data) {
    crc ^= static_cast<unsigned char>(c);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
  }
  return ~crc;
}

TEST(Crc32c, StandardVectors) {
  // The check value of the CRC catalogue and the iSCSI vectors of RFC 3720 B.4.
  EXPECT_EQ(crc32c::Value("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c::Value(""), 0u);
  EXPECT_EQ(crc32c::Value(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c::Value(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(crc32c::Value(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c::Value(descending), 0x113FDB5Cu);
}

TEST(Crc32c, MatchesBitwiseDefinitionAndExtendsAcrossSplits) {
  // Every length and alignment through the 8-byte loop and the byte tail, and every split point
  // for Extend, agree with the bit-at-a-time definition.
  std::string data;
  for (int i = 0; i < 131; ++i) data.push_back(static_cast<char>((i * 89 + 7) & 0xFF));
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len = 0; start + len <= data.size(); ++len) {
      const std::string_view piece = std::string_view(data).substr(start, len);
      ASSERT_EQ(crc32c::Value(piece), ReferenceCrc32c(piece)) << start << "+" << len;
    }
  }
  for (size_t split = 0; split <= data.size(); ++split) {
    const uint32_t head = crc32c::Value(data.data(), split);
    EXPECT_EQ(crc32c::Extend(head, data.data() + split, data.size() - split), crc32c::Value(data));
  }
}

// ---- Names and statistics buckets --------------------------------------------------------------

TEST(CommandLogFormat, SegmentFileNameHasTwentyDigits) {
  EXPECT_EQ(SegmentFileName(42), "log-00000000000000000042.cbl");
  EXPECT_EQ(SegmentFileName(UINT64_MAX), "log-18446744073709551615.cbl");
}

TEST(LogStats, BucketsMatchTheirBounds) {
  // Each latency lands in the first bucket whose inclusive bound holds it.
  for (uint64_t us : {0ull, 1ull, 49ull, 50ull, 51ull, 99ull, 100ull, 101ull, 300ull, 1000ull,
                      999'999ull, 1'638'400ull, 1'638'401ull, 3'600'000'000ull}) {
    size_t naive = 0;
    while (naive + 1 < LogStats::kSyncLatencyBuckets && us > LogStats::SyncLatencyBoundUs(naive)) {
      ++naive;
    }
    EXPECT_EQ(LogStats::SyncLatencyBucket(us), naive) << us;
  }
  EXPECT_EQ(LogStats::SyncLatencyBoundUs(0), 50u);
  EXPECT_EQ(LogStats::SyncLatencyBoundUs(15), 1'638'400u);
  EXPECT_EQ(LogStats::SyncLatencyBucket(1'638'401), LogStats::kSyncLatencyBuckets - 1);
  for (size_t n = 1; n <= kMaxBatchRecords; ++n) {
    const size_t b = LogStats::BatchRecordsBucket(n);
    ASSERT_LT(b, LogStats::kBatchRecordsBuckets);
    ASSERT_LE(n, size_t{1} << b) << n;
    ASSERT_TRUE(b == 0 || n > (size_t{1} << (b - 1))) << n;
  }
}

// ---- Append and replay -------------------------------------------------------------------------

TEST(CommandLog, RoundTripAcrossSegments) {
  // Batches of varying size in small segments come back exactly, in order, before and after a
  // reopen, and each segment is named after its first record.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  LogOptions options;
  options.segment_bytes = 512;
  std::vector<OwnedRecord> all;
  {
    auto log = MustOpen(dir, options);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->last_seq(), 0u);
    EXPECT_EQ(log->first_seq(), 0u);
    uint64_t seq = 1;
    for (size_t batch = 0; batch < 20; ++batch) {
      const std::vector<OwnedRecord> records = Range(seq, 1 + batch % 7);
      ASSERT_TRUE(Append(*log, records).ok());
      all.insert(all.end(), records.begin(), records.end());
      seq += records.size();
    }
    EXPECT_EQ(log->last_seq(), all.back().seq);
    EXPECT_EQ(log->last_time_ms(), all.back().time_ms);
    EXPECT_EQ(log->first_seq(), 1u);
    EXPECT_EQ(ReadAll(*log), all);
  }
  const std::vector<std::string> files = SegmentFiles(dir);
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(files.front(), SegmentFileName(1));
  auto log = MustOpen(dir, options);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(ReadAll(*log), all);
  EXPECT_EQ(log->recovery().segments, files.size());
  EXPECT_EQ(log->recovery().records, all.size());
  EXPECT_EQ(log->recovery().torn_bytes_dropped, 0u);
  // Every segment after the first starts with the record after the previous segment's last.
  std::vector<uint64_t> firsts;
  ASSERT_TRUE(log->Replay(1,
                          [&](const RecordView& r) {
                            if (std::find(files.begin(), files.end(), SegmentFileName(r.seq)) !=
                                files.end()) {
                              firsts.push_back(r.seq);
                            }
                            return Status::Ok();
                          })
                  .ok());
  EXPECT_EQ(firsts.size(), files.size());
}

TEST(CommandLog, ReopenContinuesSeqAndTime) {
  // A reopened log knows its last seq and time and accepts exactly the next seq.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  {
    auto log = MustOpen(dir);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(Append(*log, Range(1, 5)).ok());
  }
  auto log = MustOpen(dir);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->last_seq(), 5u);
  EXPECT_EQ(log->last_time_ms(), MakeRecord(5).time_ms);
  EXPECT_EQ(Append(*log, {MakeRecord(7)}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Append(*log, {MakeRecord(5)}).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(Append(*log, Range(6, 3)).ok());
  EXPECT_EQ(ReadAll(*log), Range(1, 8));
}

TEST(CommandLog, EmptyLogTakesAnyFirstSeq) {
  // A log restarted after a snapshot may begin anywhere; Replay refuses to pretend it has the
  // records before its first one.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  auto log = MustOpen(dir);
  ASSERT_NE(log, nullptr);
  for (const uint64_t from : {0, 1, 5}) {
    EXPECT_TRUE(
        log->Replay(from, [](const RecordView&) { return Internal("no records expected"); }).ok());
  }
  ASSERT_TRUE(Append(*log, Range(42, 3)).ok());
  EXPECT_EQ(SegmentFiles(dir), std::vector<std::string>{SegmentFileName(42)});
  EXPECT_EQ(log->first_seq(), 42u);
  EXPECT_EQ(log->last_seq(), 44u);
  EXPECT_EQ(ReadAll(*log, 42), Range(42, 3));
  EXPECT_EQ(ReadAll(*log, log->first_seq()), Range(42, 3));
  EXPECT_EQ(ReadAll(*log, 0), Range(42, 3));
  EXPECT_EQ(log->Replay(41, [](const RecordView&) { return Status::Ok(); }).code(),
            StatusCode::kNotFound);
}

TEST(CommandLog, ReplayFromEveryPosition) {
  // Replay(from) delivers exactly from..last for every from, across segment boundaries, rejects
  // positions the log cannot serve, and stops at the callback's first error.
  TempDir tmp;
  LogOptions options;
  options.segment_bytes = 300;
  auto log = MustOpen(tmp.sub("log"), options);
  ASSERT_NE(log, nullptr);
  const std::vector<OwnedRecord> all = Range(1, 40);
  for (size_t i = 0; i < all.size(); i += 4) {
    ASSERT_TRUE(Append(*log, {all.begin() + i, all.begin() + i + 4}).ok());
  }
  ASSERT_GE(SegmentFiles(tmp.sub("log")).size(), 3u);
  for (uint64_t from = 1; from <= 41; ++from) {
    EXPECT_EQ(ReadAll(*log, from), std::vector<OwnedRecord>(all.begin() + (from - 1), all.end()))
        << "from " << from;
  }
  const auto count_only = [](const RecordView&) { return Status::Ok(); };
  EXPECT_EQ(ReadAll(*log, 0), all);  // 0: from the first record
  EXPECT_EQ(log->Replay(42, count_only).code(), StatusCode::kNotFound);

  int calls = 0;
  const Status st = log->Replay(10, [&](const RecordView& r) {
    ++calls;
    return r.seq == 25 ? FailedPrecondition("stop at 25") : Status::Ok();
  });
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "stop at 25");
  EXPECT_EQ(calls, 16);
}

TEST(CommandLog, RejectsBadBatchesWithoutWriting) {
  // Every violation of the record contract fails with kInvalidArgument before any byte is
  // written or synced, and leaves the log healthy and appendable.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  FaultInjectionEnv env;
  LogOptions options;
  options.env = &env;
  auto log = MustOpen(dir, options);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(Append(*log, Range(1, 3)).ok());
  const uint64_t bytes = TotalSegmentBytes(dir);
  const uint64_t writes = env.writes();
  const uint64_t syncs = env.syncs();

  std::vector<std::vector<OwnedRecord>> bad;
  bad.push_back({MakeRecord(5)});                                // gap after last_seq
  bad.push_back({MakeRecord(3)});                                // repeats last_seq
  bad.push_back({MakeRecord(4), MakeRecord(5), MakeRecord(7)});  // gap inside the batch
  bad.push_back({MakeRecord(4), MakeRecord(6), MakeRecord(5)});  // order inside the batch
  {
    std::vector<OwnedRecord> back_in_time = Range(4, 3);
    back_in_time[2].time_ms = back_in_time[1].time_ms - 1;  // time going backwards in batch
    bad.push_back(back_in_time);
    OwnedRecord before_last = MakeRecord(4);
    before_last.time_ms = MakeRecord(3).time_ms - 1;  // before the log's last time
    bad.push_back({before_last});
    OwnedRecord huge = MakeRecord(4);
    huge.payload.assign(kMaxPayloadBytes + 1, 'x');
    bad.push_back({MakeRecord(4), huge});
    std::vector<OwnedRecord> many = Range(4, kMaxBatchRecords + 1);
    bad.push_back(many);
  }
  for (size_t i = 0; i < bad.size(); ++i) {
    const Status st = Append(*log, bad[i]);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << i << ": " << st.ToString();
    EXPECT_EQ(TotalSegmentBytes(dir), bytes) << i;
    EXPECT_EQ(env.writes(), writes) << i;
    EXPECT_EQ(env.syncs(), syncs) << i;
    EXPECT_EQ(log->last_seq(), 3u) << i;
    EXPECT_TRUE(log->health().ok()) << i;
  }
  ASSERT_TRUE(Append(*log, Range(4, 2)).ok());
  EXPECT_EQ(ReadAll(*log), Range(1, 5));
}

TEST(CommandLog, RejectsSeqZeroAndNegativeTimeInEmptyLog) {
  // An empty log still requires seq >= 1 and time_ms >= 0.
  TempDir tmp;
  auto log = MustOpen(tmp.sub("log"));
  ASSERT_NE(log, nullptr);
  OwnedRecord zero = MakeRecord(1);
  zero.seq = 0;
  EXPECT_EQ(Append(*log, {zero}).code(), StatusCode::kInvalidArgument);
  OwnedRecord negative = MakeRecord(1);
  negative.time_ms = -1;
  EXPECT_EQ(Append(*log, {negative}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(SegmentFiles(tmp.sub("log")).empty());
  EXPECT_EQ(log->last_seq(), 0u);
}

TEST(CommandLog, EmptyBatchIsANoOp) {
  TempDir tmp;
  FaultInjectionEnv env;
  LogOptions options;
  options.env = &env;
  auto log = MustOpen(tmp.sub("log"), options);
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(log->AppendDurable({}).ok());
  EXPECT_EQ(env.writes(), 0u);
  EXPECT_EQ(env.syncs(), 0u);
  EXPECT_TRUE(SegmentFiles(tmp.sub("log")).empty());
}

TEST(CommandLog, LargestPayloadRoundTrips) {
  // A payload of exactly kMaxPayloadBytes is accepted and read back intact after a reopen.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  OwnedRecord big = MakeRecord(1);
  big.payload.resize(kMaxPayloadBytes);
  for (size_t i = 0; i < big.payload.size(); ++i) big.payload[i] = static_cast<char>(i * 131);
  {
    auto log = MustOpen(dir);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(Append(*log, {big, MakeRecord(2)}).ok());
  }
  auto log = MustOpen(dir);
  ASSERT_NE(log, nullptr);
  const std::vector<OwnedRecord> got = ReadAll(*log);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0] == big);
  EXPECT_EQ(got[1], MakeRecord(2));
}

TEST(CommandLog, SecondOpenOfTheSameDirectoryIsRefused) {
  // Two writers on one log would interleave records; the LOCK file stops the second one.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  auto first = MustOpen(dir);
  ASSERT_NE(first, nullptr);
  auto second = CommandLog::Open(dir, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  first.reset();
  EXPECT_NE(MustOpen(dir), nullptr);
}

TEST(CommandLog, RejectsBadOptionsAndForeignSegmentNames) {
  TempDir tmp;
  LogOptions options;
  options.segment_bytes = 0;
  EXPECT_EQ(CommandLog::Open(tmp.sub("a"), options).status().code(), StatusCode::kInvalidArgument);
  options.segment_bytes = kMaxSegmentBytes + 1;
  EXPECT_EQ(CommandLog::Open(tmp.sub("a"), options).status().code(), StatusCode::kInvalidArgument);

  // Unrelated files are ignored; a file that looks like a segment but is not one is refused.
  const std::string dir = tmp.sub("b");
  fs::create_directory(dir);
  WriteFile(JoinPath(dir, "README"), "notes");
  EXPECT_NE(MustOpen(dir), nullptr);
  WriteFile(JoinPath(dir, "log-12.cbl"), "");
  const auto log = CommandLog::Open(dir, {});
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kInternal);
  EXPECT_NE(log.status().message().find("log-12.cbl"), std::string_view::npos);
}

// ---- Recovery: torn tails --------------------------------------------------------------------

TEST(CommandLogRecovery, TornLastRecordIsTruncatedAtEveryLength) {
  // A crash can cut the last write anywhere. For every length of the last record that reached
  // the disk, Open gives back exactly the records before it, cuts the rest off, and appending
  // continues from there and survives another reopen.
  TempDir tmp;
  const std::string golden = tmp.sub("golden");
  const std::vector<OwnedRecord> all = Range(1, 9);
  {
    auto log = MustOpen(golden);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(Append(*log, {all.begin(), all.begin() + 4}).ok());
    ASSERT_TRUE(Append(*log, {all.begin() + 4, all.end()}).ok());
  }
  const std::string segment = SegmentFileName(1);
  const uint64_t full_bytes = fs::file_size(JoinPath(golden, segment));
  const uint64_t last_start = full_bytes - all.back().encoded_bytes();
  const std::vector<OwnedRecord> kept(all.begin(), all.end() - 1);

  for (uint64_t cut = 1; cut < all.back().encoded_bytes(); ++cut) {
    SCOPED_TRACE(fmt::format("{} of {} bytes of the last record", cut, all.back().encoded_bytes()));
    const std::string dir = tmp.sub(fmt::format("cut{}", cut));
    CopyDir(golden, dir);
    fs::resize_file(JoinPath(dir, segment), last_start + cut);
    {
      auto log = MustOpen(dir);
      ASSERT_NE(log, nullptr);
      EXPECT_EQ(log->last_seq(), 8u);
      EXPECT_EQ(ReadAll(*log), kept);
      EXPECT_EQ(log->recovery().torn_bytes_dropped, cut);
      EXPECT_EQ(log->recovery().torn_file, JoinPath(dir, segment));
      EXPECT_EQ(fs::file_size(JoinPath(dir, segment)), last_start);
      ASSERT_TRUE(Append(*log, {MakeRecord(9, "again "), MakeRecord(10)}).ok());
    }
    auto log = MustOpen(dir);
    ASSERT_NE(log, nullptr);
    std::vector<OwnedRecord> expected = kept;
    expected.push_back(MakeRecord(9, "again "));
    expected.push_back(MakeRecord(10));
    EXPECT_EQ(ReadAll(*log), expected);
    EXPECT_EQ(log->recovery().torn_bytes_dropped, 0u);
    fs::remove_all(dir);
  }
}

TEST(CommandLogRecovery, DamagedLastRecordIsATornTail) {
  // A last record that is whole but fails its CRC (whichever byte is wrong, the length field
  // included) is what a torn overwrite of a page leaves: it is dropped, the rest kept.
  TempDir tmp;
  const std::string golden = tmp.sub("golden");
  const std::vector<OwnedRecord> all = Range(1, 4);
  {
    auto log = MustOpen(golden);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(Append(*log, all).ok());
  }
  const std::string segment = SegmentFileName(1);
  const uint64_t last_start = RecordOffsets(all).back();
  for (uint64_t i = 0; i < all.back().encoded_bytes(); ++i) {
    SCOPED_TRACE(fmt::format("byte {} of the last record damaged", i));
    const std::string dir = tmp.sub(fmt::format("flip{}", i));
    CopyDir(golden, dir);
    FlipByte(JoinPath(dir, segment), last_start + i);
    auto log = MustOpen(dir);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(ReadAll(*log), Range(1, 3));
    EXPECT_EQ(fs::file_size(JoinPath(dir, segment)), last_start);
    log.reset();
    fs::remove_all(dir);
  }
}

TEST(CommandLogRecovery, TornSegmentCreationIsUndone) {
  // The first write to a new segment carries its header. Cut anywhere in the header the file
  // is removed; cut in the first record the header stays. Either way the log ends with the
  // previous segment's records and appends into the right file afterwards.
  TempDir tmp;
  const std::string golden = tmp.sub("golden");
  LogOptions options;
  options.segment_bytes = 100;
  {
    auto log = MustOpen(golden, options);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(Append(*log, Range(1, 3)).ok());  // fills the first segment past 100 bytes
    ASSERT_TRUE(Append(*log, Range(4, 1)).ok());  // starts log-...4.cbl
  }
  ASSERT_EQ(SegmentFiles(golden),
            (std::vector<std::string>{SegmentFileName(1), SegmentFileName(4)}));
  const std::string second = SegmentFileName(4);
  const uint64_t second_bytes = fs::file_size(JoinPath(golden, second));
  ASSERT_EQ(second_bytes, kSegmentHeaderBytes + MakeRecord(4).encoded_bytes());
  for (uint64_t cut = 0; cut < second_bytes; ++cut) {
    SCOPED_TRACE(fmt::format("second segment cut to {} bytes", cut));
    const std::string dir = tmp.sub(fmt::format("cut{}", cut));
    CopyDir(golden, dir);
    fs::resize_file(JoinPath(dir, second), cut);
    {
      auto log = MustOpen(dir, options);
      ASSERT_NE(log, nullptr);
      EXPECT_EQ(ReadAll(*log), Range(1, 3));
      // Cut exactly after the header there is nothing torn: the segment is just empty.
      EXPECT_EQ(log->recovery().torn_file, cut == kSegmentHeaderBytes ? "" : JoinPath(dir, second));
      EXPECT_EQ(fs::exists(JoinPath(dir, second)), cut >= kSegmentHeaderBytes);
      ASSERT_TRUE(Append(*log, Range(4, 2)).ok());
    }
    EXPECT_EQ(SegmentFiles(dir), (std::vector<std::string>{SegmentFileName(1), second}));
    auto log = MustOpen(dir, options);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(ReadAll(*log), Range(1, 5));
    log.reset();
    fs::remove_all(dir);
  }
}

TEST(CommandLogRecovery, ZeroFilledTailIsTorn) {
  // File systems may extend a file before its data lands, leaving zeros after a crash: a
  // zero-filled tail and a zero-filled new segment are torn, not corrupt.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  {
    auto log = MustOpen(dir);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(Append(*log, Range(1, 3)).ok());
  }
  const std::string path = JoinPath(dir, SegmentFileName(1));
  const uint64_t good_bytes = fs::file_size(path);
  fs::resize_file(path, good_bytes + 4096);
  {
    auto log = MustOpen(dir);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(ReadAll(*log), Range(1, 3));
    EXPECT_EQ(log->recovery().torn_bytes_dropped, 4096u);
  }
  EXPECT_EQ(fs::file_size(path), good_bytes);
  const std::string zero_segment = JoinPath(dir, SegmentFileName(4));
  WriteFile(zero_segment, std::string(300, '\0'));
  auto log = MustOpen(dir);
  ASSERT_NE(log, nullptr);
  EXPECT_FALSE(fs::exists(zero_segment));
  EXPECT_EQ(log->last_seq(), 3u);
}

TEST(CommandLogRecovery, StaleOlderRecordsAfterATornTailAreNotData) {
  // Behind a torn tail a file system may expose stale blocks, e.g. of an old deleted segment.
  // Valid records there with seqs the log already has do not make the tail "corruption".
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  {
    auto log = MustOpen(dir);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(Append(*log, Range(1, 3)).ok());
  }
  const std::string path = JoinPath(dir, SegmentFileName(1));
  const std::string data = ReadFile(path);
  const std::string first_record = data.substr(kSegmentHeaderBytes, MakeRecord(1).encoded_bytes());
  WriteFile(path, data + std::string(7, '\x33') + first_record);
  auto log = MustOpen(dir);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(ReadAll(*log), Range(1, 3));
  EXPECT_EQ(log->recovery().torn_bytes_dropped, 7 + first_record.size());
}

TEST(CommandLogRecovery, HeaderOnlyLogBecomesEmpty) {
  // A crash during the very first batch may leave only a segment header. That log holds no
  // record, so it is emptied and its first record may again take any seq.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  {
    auto log = MustOpen(dir);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(Append(*log, Range(1, 2)).ok());
  }
  fs::resize_file(JoinPath(dir, SegmentFileName(1)), kSegmentHeaderBytes + 3);
  auto log = MustOpen(dir);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->last_seq(), 0u);
  EXPECT_TRUE(SegmentFiles(dir).empty());
  ASSERT_TRUE(Append(*log, Range(7, 1)).ok());
  EXPECT_EQ(ReadAll(*log, 7), Range(7, 1));
}

// ---- Recovery: corruption --------------------------------------------------------------------

// Expects Open(dir) to fail with kInternal naming file and offset, and to leave every segment
// file byte for byte as it was.
void ExpectCorrupt(const std::string& dir, const std::string& file, uint64_t offset,
                   std::string_view why, const LogOptions& options = {}) {
  std::vector<std::string> before;
  for (const std::string& name : SegmentFiles(dir)) before.push_back(ReadFile(JoinPath(dir, name)));
  const auto log = CommandLog::Open(dir, options);
  ASSERT_FALSE(log.ok());
  const Status& st = log.status();
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
  EXPECT_NE(st.message().find(JoinPath(dir, file)), std::string_view::npos) << st.ToString();
  EXPECT_NE(st.message().find(fmt::format("at offset {}:", offset)), std::string_view::npos)
      << st.ToString();
  EXPECT_NE(st.message().find(why), std::string_view::npos) << st.ToString();
  std::vector<std::string> after;
  for (const std::string& name : SegmentFiles(dir)) after.push_back(ReadFile(JoinPath(dir, name)));
  EXPECT_EQ(before, after) << "Open changed a corrupt log";
}

TEST(CommandLogRecovery, BadRecordFollowedByValidDataIsCorruption) {
  // Damage inside the last segment with acknowledged records after it is not a torn tail:
  // dropping from there would lose acknowledged data, so Open refuses, naming file and offset.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  const std::vector<OwnedRecord> all = Range(1, 5);
  {
    auto log = MustOpen(dir);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(Append(*log, all).ok());
  }
  const std::string segment = SegmentFileName(1);
  const std::vector<uint64_t> offsets = RecordOffsets(all);
  FlipByte(JoinPath(dir, segment), offsets[1] + kRecordHeaderBytes + 2);  // payload of seq 2
  ExpectCorrupt(dir, segment, offsets[1], "record CRC mismatch");
  FlipByte(JoinPath(dir, segment), offsets[1] + kRecordHeaderBytes + 2);  // repaired
  FlipByte(JoinPath(dir, segment), offsets[2]);                           // length of seq 3
  ExpectCorrupt(dir, segment, offsets[2], "followed by a valid record");
}

TEST(CommandLogRecovery, WellFormedRecordsBreakingSeqOrTimeAreCorruption) {
  // Records with correct CRCs but a seq gap or a time going backwards are corruption, even as
  // the last record (a torn write cannot produce a valid CRC).
  TempDir tmp;
  const std::string golden = tmp.sub("golden");
  const std::vector<OwnedRecord> all = Range(1, 4);
  {
    auto log = MustOpen(golden);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(Append(*log, all).ok());
  }
  const std::string segment = SegmentFileName(1);
  const std::vector<uint64_t> offsets = RecordOffsets(all);
  struct Case {
    size_t index;
    uint64_t seq;
    int64_t time_ms;
    std::string_view why;
  };
  const Case cases[] = {
      {1, 3, all[1].time_ms, "record has seq 3 where seq 2 must follow"},
      {3, 5, all[3].time_ms, "record has seq 5 where seq 4 must follow"},
      {2, 3, all[1].time_ms - 1, "before the previous"},
      {3, 4, all[2].time_ms - 1, "before the previous"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(fmt::format("record {} rewritten as seq {} time {}", c.index, c.seq, c.time_ms));
    const std::string dir = tmp.sub(fmt::format("case{}-{}-{}", c.index, c.seq, c.time_ms));
    CopyDir(golden, dir);
    RewriteRecord(JoinPath(dir, segment), offsets[c.index], c.seq, c.time_ms);
    ExpectCorrupt(dir, segment, offsets[c.index], c.why);
  }
}

TEST(CommandLogRecovery, DamagedMiddleSegmentIsCorruption) {
  // Only the last segment can hold unsynced bytes, so any damage to an earlier one, even at its
  // very end, and a missing or foreign segment are corruption.
  TempDir tmp;
  const std::string golden = tmp.sub("golden");
  LogOptions options;
  options.segment_bytes = 120;
  {
    auto log = MustOpen(golden, options);
    ASSERT_NE(log, nullptr);
    for (uint64_t seq = 1; seq <= 12; seq += 2) ASSERT_TRUE(Append(*log, Range(seq, 2)).ok());
  }
  const std::vector<std::string> files = SegmentFiles(golden);
  ASSERT_GE(files.size(), 3u);
  const std::string first = JoinPath(golden, files[0]);
  const uint64_t first_bytes = fs::file_size(first);
  int n = 0;
  const auto fresh = [&] {
    const std::string dir = tmp.sub(fmt::format("case{}", n++));
    CopyDir(golden, dir);
    return dir;
  };
  {
    SCOPED_TRACE("last byte of the first segment flipped");
    const std::string dir = fresh();
    FlipByte(JoinPath(dir, files[0]), first_bytes - 1);
    // The first segment holds seqs 1..4 as two batches of two records each.
    const uint64_t last_record = RecordOffsets(Range(1, 4)).back();
    ExpectCorrupt(dir, files[0], last_record, "record CRC mismatch", options);
  }
  {
    SCOPED_TRACE("first segment cut short");
    const std::string dir = fresh();
    fs::resize_file(JoinPath(dir, files[0]), first_bytes - 3);
    ExpectCorrupt(dir, files[0], RecordOffsets(Range(1, 4)).back(),
                  "record extends past end of file", options);
  }
  {
    SCOPED_TRACE("middle segment missing");
    const std::string dir = fresh();
    fs::remove(JoinPath(dir, files[1]));
    ExpectCorrupt(dir, files[2], 0, "seq gap", options);
  }
  {
    SCOPED_TRACE("bad magic in the first segment");
    const std::string dir = fresh();
    FlipByte(JoinPath(dir, files[0]), 0);
    ExpectCorrupt(dir, files[0], 0, "bad magic", options);
  }
  {
    SCOPED_TRACE("bad header in the last segment");
    const std::string dir = fresh();
    FlipByte(JoinPath(dir, files.back()), 9);  // version
    ExpectCorrupt(dir, files.back(), 0, "segment header CRC mismatch", options);
  }
  {
    SCOPED_TRACE("segment renamed so that its header disagrees");
    const std::string dir = fresh();
    const std::string renamed = SegmentFileName(99);
    fs::rename(JoinPath(dir, files.back()), JoinPath(dir, renamed));
    ExpectCorrupt(dir, renamed, 0, "seq gap", options);
  }
}

TEST(CommandLog, ReplayDetectsDamageAfterOpen) {
  // Replay reads the disk again and checks CRCs, so bit rot after start-up is reported, not
  // fed to the state machine.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  auto log = MustOpen(dir);
  ASSERT_NE(log, nullptr);
  const std::vector<OwnedRecord> all = Range(1, 4);
  ASSERT_TRUE(Append(*log, all).ok());
  FlipByte(JoinPath(dir, SegmentFileName(1)), RecordOffsets(all)[2] + kRecordHeaderBytes);
  int calls = 0;
  const Status st = log->Replay(1, [&](const RecordView&) {
    ++calls;
    return Status::Ok();
  });
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_NE(st.message().find(fmt::format("offset {}", RecordOffsets(all)[2])),
            std::string_view::npos)
      << st.ToString();
  EXPECT_EQ(calls, 2);
}

// ---- Faults: poisoning and crashes -------------------------------------------------------------

TEST(CommandLogFaults, FailedSyncPoisonsTheLog) {
  // After a failed fdatasync nothing is known about the disk: that append and every later one
  // fail with kUnavailable naming the cause, nothing more is written, Replay still serves only
  // acknowledged records, and after a crash and restart exactly those are there.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  FaultInjectionEnv env;
  LogOptions options;
  options.env = &env;
  auto log = MustOpen(dir, options);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(Append(*log, Range(1, 3)).ok());
  EXPECT_TRUE(log->health().ok());

  env.FailNextSyncs(1);
  const Status failed = Append(*log, Range(4, 2));
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.message().find("injected fault: fdatasync"), std::string_view::npos)
      << failed.ToString();
  const Status health = log->health();
  EXPECT_EQ(health.code(), StatusCode::kUnavailable);
  EXPECT_EQ(health.message(), failed.message());

  const uint64_t writes = env.writes();
  const uint64_t bytes = TotalSegmentBytes(dir);
  const Status later = Append(*log, Range(4, 2));  // the disk would work now; the log must not
  EXPECT_EQ(later.code(), StatusCode::kUnavailable);
  EXPECT_EQ(later.message(), failed.message());
  EXPECT_EQ(env.writes(), writes);
  EXPECT_EQ(TotalSegmentBytes(dir), bytes);
  EXPECT_EQ(log->last_seq(), 3u);
  EXPECT_EQ(ReadAll(*log), Range(1, 3));
  EXPECT_GT(env.unsynced_bytes(JoinPath(dir, SegmentFileName(1))), 0u);

  log.reset();
  ASSERT_TRUE(env.Crash().ok());
  log = MustOpen(dir, options);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(ReadAll(*log), Range(1, 3));
  ASSERT_TRUE(Append(*log, Range(4, 2)).ok());
  EXPECT_EQ(ReadAll(*log), Range(1, 5));
}

TEST(CommandLogFaults, FailedWritePoisonsAndTheTornPartIsDroppedOnRestart) {
  // A write that fails half-way (ENOSPC, EIO) poisons the log; the restarted log cuts the
  // partial batch off and continues after the acknowledged records.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  FaultInjectionEnv env;
  LogOptions options;
  options.env = &env;
  auto log = MustOpen(dir, options);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(Append(*log, Range(1, 3)).ok());
  const uint64_t syncs = env.syncs();
  env.FailNextWrites(1, 30);
  const Status failed = Append(*log, Range(4, 3));
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.message().find("injected fault: write"), std::string_view::npos)
      << failed.ToString();
  EXPECT_EQ(env.syncs(), syncs);
  EXPECT_EQ(log->health().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Append(*log, Range(4, 3)).code(), StatusCode::kUnavailable);

  log.reset();
  log = MustOpen(dir, options);  // a restart without power loss: the 30 bytes are in the file
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->recovery().torn_bytes_dropped, 30u);
  EXPECT_EQ(ReadAll(*log), Range(1, 3));
  ASSERT_TRUE(Append(*log, Range(4, 3)).ok());
  EXPECT_EQ(ReadAll(*log), Range(1, 6));
}

TEST(CommandLogFaults, CrashDropsExactlyTheUnsyncedRecords) {
  // Records appended without sync (benchmark mode) are exactly what a power cut takes away,
  // including whole segments whose creation was never synced; synced records all survive.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  FaultInjectionEnv env;
  LogOptions options;
  options.env = &env;
  options.segment_bytes = 200;
  {
    auto log = MustOpen(dir, options);
    ASSERT_NE(log, nullptr);
    for (uint64_t seq = 1; seq <= 10; seq += 2) ASSERT_TRUE(Append(*log, Range(seq, 2)).ok());
  }
  const std::vector<std::string> synced_files = SegmentFiles(dir);
  options.sync = false;
  {
    auto log = MustOpen(dir, options);
    ASSERT_NE(log, nullptr);
    for (uint64_t seq = 11; seq <= 30; seq += 4) ASSERT_TRUE(Append(*log, Range(seq, 4)).ok());
    EXPECT_EQ(ReadAll(*log), Range(1, 30));  // the live process sees its own writes
    EXPECT_GT(SegmentFiles(dir).size(), synced_files.size());
    EXPECT_EQ(env.syncs(), 5u);  // only the five batches of the first session
    ASSERT_TRUE(env.Crash().ok());
  }
  EXPECT_EQ(SegmentFiles(dir), synced_files);
  options.sync = true;
  auto log = MustOpen(dir, options);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(ReadAll(*log), Range(1, 10));
  EXPECT_EQ(log->recovery().torn_bytes_dropped, 0u);
  ASSERT_TRUE(Append(*log, Range(11, 1)).ok());
}

TEST(CommandLogFaults, CrashKeepsEveryAcknowledgedRecord) {
  // With sync on, a power cut right after any acknowledged batch loses nothing: file data and
  // new segments' directory entries were both made durable before AppendDurable returned.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  FaultInjectionEnv env;
  LogOptions options;
  options.env = &env;
  options.segment_bytes = 150;
  uint64_t seq = 1;
  for (int round = 0; round < 5; ++round) {
    {
      auto log = MustOpen(dir, options);
      ASSERT_NE(log, nullptr);
      ASSERT_EQ(log->last_seq(), seq - 1);
      for (int batch = 0; batch < 4; ++batch) {
        const size_t n = 1 + (round + batch) % 5;
        ASSERT_TRUE(Append(*log, Range(seq, n)).ok());
        seq += n;
      }
      ASSERT_TRUE(env.Crash().ok());
    }
    auto log = MustOpen(dir, options);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(ReadAll(*log), Range(1, seq - 1)) << "round " << round;
    EXPECT_EQ(log->recovery().torn_bytes_dropped, 0u);
  }
  EXPECT_GE(SegmentFiles(dir).size(), 5u);
}

TEST(CommandLogFaults, FailedDirectorySyncPoisonsAndTheNewSegmentIsLost) {
  // A batch that starts a segment is acknowledged only after the directory fsync; when that
  // fails the log is poisoned and a crash may take the whole new file away.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  FaultInjectionEnv env;
  LogOptions options;
  options.env = &env;
  options.segment_bytes = 100;
  auto log = MustOpen(dir, options);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(Append(*log, Range(1, 3)).ok());
  env.FailNextDirSyncs(1);
  const Status failed = Append(*log, Range(4, 2));
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.message().find("fsync of directory"), std::string_view::npos)
      << failed.ToString();
  EXPECT_EQ(log->last_seq(), 3u);
  log.reset();
  ASSERT_TRUE(env.Crash().ok());
  EXPECT_EQ(SegmentFiles(dir), std::vector<std::string>{SegmentFileName(1)});
  log = MustOpen(dir, options);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(ReadAll(*log), Range(1, 3));
}

// ---- Group commit and statistics -------------------------------------------------------------

TEST(CommandLog, ExactlyOneSyncAndOneWritePerBatch) {
  // Group commit: whatever the batch size, one write and one fdatasync, plus one directory fsync
  // exactly when the batch starts a new segment.
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  FaultInjectionEnv env;
  LogOptions options;
  options.env = &env;
  options.segment_bytes = 2000;
  auto log = MustOpen(dir, options);
  ASSERT_NE(log, nullptr);
  const uint64_t dir_syncs_at_open = env.dir_syncs();
  uint64_t seq = 1;
  for (const size_t n : {1, 2, 5, 64, 1, 300, 7, 1000, 3}) {
    const uint64_t syncs = env.syncs();
    const uint64_t writes = env.writes();
    const uint64_t dir_syncs = env.dir_syncs();
    const size_t segments = SegmentFiles(dir).size();
    ASSERT_TRUE(Append(*log, Range(seq, n)).ok());
    seq += n;
    EXPECT_EQ(env.syncs(), syncs + 1) << n;
    EXPECT_EQ(env.writes(), writes + 1) << n;
    EXPECT_EQ(env.dir_syncs() - dir_syncs, SegmentFiles(dir).size() - segments) << n;
  }
  EXPECT_GT(env.dir_syncs(), dir_syncs_at_open + 1);  // several segments were started
  EXPECT_EQ(ReadAll(*log), Range(1, seq - 1));
}

TEST(CommandLog, StatsCountBatchesRecordsBytesAndLatency) {
  // The counters match what reached the disk, and the histograms put each batch and each sync
  // in the right bucket (sync latency made exact by the env's virtual clock).
  TempDir tmp;
  const std::string dir = tmp.sub("log");
  FaultInjectionEnv env;
  env.SimulateSyncLatency(300);
  LogOptions options;
  options.env = &env;
  options.segment_bytes = 4096;
  auto log = MustOpen(dir, options);
  ASSERT_NE(log, nullptr);
  const std::vector<size_t> sizes = {1, 2, 3, 4, 5, 8, 9, 4096};
  uint64_t seq = 1;
  for (const size_t n : sizes) {
    ASSERT_TRUE(Append(*log, Range(seq, n)).ok());
    seq += n;
  }
  const LogStats& s = log->stats();
  EXPECT_EQ(s.batches.load(), sizes.size());
  EXPECT_EQ(s.records.load(), seq - 1);
  EXPECT_EQ(s.syncs.load(), sizes.size());
  EXPECT_EQ(s.bytes.load(), TotalSegmentBytes(dir));
  EXPECT_EQ(s.sync_latency_us_total.load(), 300 * sizes.size());
  for (size_t i = 0; i < LogStats::kSyncLatencyBuckets; ++i) {
    EXPECT_EQ(s.sync_latency_us_buckets[i].load(), i == 3 ? sizes.size() : 0u) << i;  // <=400µs
  }
  const std::vector<uint64_t> expected_batches = {1, 1, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 1};
  for (size_t i = 0; i < LogStats::kBatchRecordsBuckets; ++i) {
    EXPECT_EQ(s.batch_records_buckets[i].load(), expected_batches[i]) << i;
  }
  // Failed and rejected batches are not counted.
  EXPECT_FALSE(Append(*log, Range(seq + 1, 1)).ok());
  env.FailNextSyncs(1);
  EXPECT_FALSE(Append(*log, Range(seq, 1)).ok());
  EXPECT_EQ(s.batches.load(), sizes.size());
  EXPECT_EQ(s.syncs.load(), sizes.size());
}

TEST(CommandLog, WithoutSyncNothingIsSynced) {
  // sync = false (benchmarks only) issues no fdatasync and no directory fsync, and says so in
  // the counters.
  TempDir tmp;
  FaultInjectionEnv env;
  LogOptions options;
  options.env = &env;
  options.sync = false;
  options.segment_bytes = 100;
  auto log = MustOpen(tmp.sub("log"), options);
  ASSERT_NE(log, nullptr);
  const uint64_t dir_syncs = env.dir_syncs();
  for (uint64_t seq = 1; seq <= 20; seq += 4) ASSERT_TRUE(Append(*log, Range(seq, 4)).ok());
  EXPECT_EQ(env.syncs(), 0u);
  EXPECT_EQ(env.dir_syncs(), dir_syncs);
  EXPECT_EQ(log->stats().syncs.load(), 0u);
  EXPECT_EQ(log->stats().records.load(), 20u);
  EXPECT_EQ(ReadAll(*log), Range(1, 20));
}

// ---- Env -------------------------------------------------------------------------------------

TEST(PosixEnv, FileOperations) {
  // The POSIX Env does what the log and the fault env rely on.
  TempDir tmp;
  Env* env = Env::Default();
  const std::string dir = tmp.sub("d");
  ASSERT_TRUE(env->CreateDirIfMissing(dir).value());
  ASSERT_FALSE(env->CreateDirIfMissing(dir).value());
  const std::string a = JoinPath(dir, "a");
  {
    auto file = env->NewWritableFile(a);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("hello ").ok());
    ASSERT_TRUE((*file)->Append("world").ok());
    ASSERT_TRUE((*file)->Sync().ok());
  }
  EXPECT_EQ(env->NewWritableFile(a).status().code(), StatusCode::kInternal);  // exists
  {
    auto file = env->ReopenWritableFile(a);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("!").ok());
  }
  EXPECT_EQ(env->GetFileSize(a).value(), 12u);
  auto reader = env->NewRandomAccessFile(a);
  ASSERT_TRUE(reader.ok());
  char buf[32];
  EXPECT_EQ((*reader)->Read(6, sizeof buf, buf).value(), 6u);
  EXPECT_EQ(std::string_view(buf, 6), "world!");
  ASSERT_TRUE(env->TruncateFile(a, 5).ok());
  EXPECT_EQ(ReadFile(a), "hello");
  const std::string b = JoinPath(dir, "b");
  ASSERT_TRUE(env->RenameFile(a, b).ok());
  ASSERT_TRUE(env->SyncDir(dir).ok());
  EXPECT_EQ(env->GetChildren(dir).value(), std::vector<std::string>{"b"});
  ASSERT_TRUE(env->RemoveFile(b).ok());
  EXPECT_TRUE(env->GetChildren(dir).value().empty());
  EXPECT_EQ(env->GetFileSize(b).status().code(), StatusCode::kInternal);
  EXPECT_NE(env->GetFileSize(b).status().message().find("No such file"), std::string_view::npos);
  EXPECT_EQ(JoinPath("x/", "y"), "x/y");
  EXPECT_EQ(DirName("x/y/z"), "x/y");
  EXPECT_EQ(DirName("z"), ".");
}

TEST(FaultInjectionEnv, LedgerTracksUnsyncedBytesAndCrashRestoresSyncedState) {
  // The fault env's own contract: unsynced bytes are counted per file, Crash cuts files back to
  // their synced length and removes files whose directory entry was never synced.
  TempDir tmp;
  FaultInjectionEnv env;
  const std::string durable = tmp.sub("durable");
  const std::string fresh = tmp.sub("fresh");
  {
    auto file = env.NewWritableFile(durable);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("synced").ok());
    ASSERT_TRUE((*file)->Sync().ok());
    ASSERT_TRUE(env.SyncDir(tmp.path()).ok());
    ASSERT_TRUE((*file)->Append("+lost").ok());
    EXPECT_EQ(env.unsynced_bytes(durable), 5u);
    env.FailNextSyncs(1);
    EXPECT_FALSE((*file)->Sync().ok());
    EXPECT_EQ(env.unsynced_bytes(durable), 5u);
  }
  {
    auto file = env.NewWritableFile(fresh);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("data").ok());
    ASSERT_TRUE((*file)->Sync().ok());  // data synced, but the directory entry is not
  }
  EXPECT_EQ(env.syncs(), 2u);
  ASSERT_TRUE(env.Crash().ok());
  EXPECT_EQ(ReadFile(durable), "synced");
  EXPECT_FALSE(fs::exists(fresh));
}

}  // namespace
}  // namespace cbec::cmdlog
