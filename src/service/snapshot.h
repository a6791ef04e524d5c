// Snapshots of the service's state on disk, so that a restart replays only the log after the
// newest one (issue #3) instead of the whole history.
//
// A snapshot is a directory data_dir/snapshots/<seq, 20 digits>/ holding
//   state.bin  the core's state outside its tables and the service's projections (webhooks,
//              API keys, the hall board, the statistics centre, counters), as of command `seq`;
//              framed as "CBECSNP1" | u32 crc32c(body) | u64 body size | body
//   archive/   a RocksDB checkpoint of the core's archive at the same moment: every document,
//              list, bill and record (the core moves all of them there when it snapshots)
// It is written under tmp-<seq>/ and renamed into place only when complete and synced, so a
// crash while writing leaves no half snapshot; Open removes tmp-* directories. The receipt store
// is flushed before the rename, so it always holds every receipt up to a snapshot's seq.
//
// The log stays whole: the audit (cbec audit verify-draws) and the replay-vs-live check replay
// it from the first record, and it is the record a customs zone keeps. A snapshot only saves
// the time of replaying it at start-up.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace cbec::service {

// Defaults of ServiceOptions::snapshot_interval_ms and how many complete snapshots are kept (the
// older one is the fallback should the newest not read back).
inline constexpr TimeMs kDefaultSnapshotIntervalMs = 10 * 60 * kMsPerSecond;
inline constexpr size_t kSnapshotsKept = 2;
inline constexpr uint64_t kMaxSnapshotStateBytes = uint64_t{4} << 30;
// A snapshot is skipped (and counted as failed) unless the file system keeps at least this much
// free beyond what it writes: the log and the stores share the disk.
inline constexpr uint64_t kSnapshotFreeMarginBytes = uint64_t{256} << 20;

struct SnapshotDir {
  uint64_t seq = 0;
  std::string path;  // data_dir/snapshots/<seq>
};

// Complete snapshots under data_dir, newest first. Removes unfinished tmp-* directories.
std::vector<SnapshotDir> ListSnapshots(const std::string& data_dir);
// kResourceExhausted unless data_dir's file system has need + kSnapshotFreeMarginBytes free.
Status CheckFreeSpace(const std::string& data_dir, uint64_t need);
// data_dir/snapshots/tmp-<seq>, emptied and created.
Result<std::string> BeginSnapshot(const std::string& data_dir, uint64_t seq);
// Writes state.bin into the directory and syncs it.
Status WriteSnapshotState(const std::string& dir, std::string_view body);
// Reads state.bin back; kInternal if the frame or its checksum does not match.
Result<std::string> ReadSnapshotState(const std::string& dir);
// Renames tmp-<seq> to <seq> (syncing the parent) and removes all but the newest kept ones.
Status CommitSnapshot(const std::string& data_dir, const std::string& tmp_dir, uint64_t seq,
                      size_t keep = kSnapshotsKept);

}  // namespace cbec::service
