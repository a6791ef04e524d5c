#include "service/snapshot.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "fmt/format.h"
#include "log/crc32c.h"

namespace cbec::service {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kMagic = "CBECSNP1";
constexpr size_t kFrameBytes = 8 + 4 + 8;
constexpr std::string_view kStateFile = "state.bin";
constexpr std::string_view kTmpPrefix = "tmp-";

std::string snapshots_dir(const std::string& data_dir) { return data_dir + "/snapshots"; }

Status io_error(std::string_view what, const std::string& path, int err) {
  return Status(StatusCode::kUnavailable, fmt::format("{} {}: {}", what, path, std::strerror(err)));
}

// fsync of a file or directory by path: what a rename or a new file needs to survive a crash.
Status sync_path(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return io_error("open", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : io_error("fsync", path, err);
}

void put_le(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t get_le(std::string_view in, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

// "00000000000000000042" -> 42; nullopt for anything else.
bool parse_seq(std::string_view name, uint64_t* seq) {
  if (name.size() != 20 || !std::all_of(name.begin(), name.end(), ::isdigit)) return false;
  *seq = std::stoull(std::string(name));
  return true;
}

}  // namespace

std::vector<SnapshotDir> ListSnapshots(const std::string& data_dir) {
  std::vector<SnapshotDir> out;
  std::error_code ec;
  for (fs::directory_iterator it(snapshots_dir(data_dir), ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    uint64_t seq = 0;
    if (name.starts_with(kTmpPrefix)) {
      std::error_code rm;
      fs::remove_all(it->path(), rm);  // a snapshot that a crash interrupted
    } else if (parse_seq(name, &seq) && it->is_directory()) {
      out.push_back(SnapshotDir{seq, it->path().string()});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.seq > b.seq; });
  return out;
}

Status CheckFreeSpace(const std::string& data_dir, uint64_t need) {
  struct statvfs v {};
  if (::statvfs(data_dir.c_str(), &v) != 0) return io_error("statvfs", data_dir, errno);
  const uint64_t free_bytes = static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
  if (free_bytes < need + kSnapshotFreeMarginBytes)
    return Status(StatusCode::kResourceExhausted,
                  fmt::format("snapshot skipped: {} MiB free under {}, it needs {} MiB and leaves "
                              "{} MiB",
                              free_bytes >> 20, data_dir, need >> 20, kSnapshotFreeMarginBytes >> 20));
  return Status::Ok();
}

Result<std::string> BeginSnapshot(const std::string& data_dir, uint64_t seq) {
  std::string dir = fmt::format("{}/{}{:020}", snapshots_dir(data_dir), kTmpPrefix, seq);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return Status(StatusCode::kUnavailable, "cannot create " + dir + ": " + ec.message());
  return dir;
}

Status WriteSnapshotState(const std::string& dir, std::string_view body) {
  std::string frame(kMagic);
  put_le(&frame, cmdlog::crc32c::Value(body), 4);
  put_le(&frame, body.size(), 8);
  std::string path = dir + "/" + std::string(kStateFile);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("create", path, errno);
  auto write_all = [&](std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  };
  bool ok = write_all(frame) && write_all(body) && ::fdatasync(fd) == 0;
  int err = errno;
  ::close(fd);
  return ok ? Status::Ok() : io_error("write", path, err);
}

Result<std::string> ReadSnapshotState(const std::string& dir) {
  std::string path = dir + "/" + std::string(kStateFile);
  std::error_code ec;
  uint64_t size = fs::file_size(path, ec);
  if (ec) return Status(StatusCode::kNotFound, "snapshot " + path + ": " + ec.message());
  if (size < kFrameBytes || size - kFrameBytes > kMaxSnapshotStateBytes)
    return Internal(fmt::format("snapshot {}: {} bytes is not a snapshot", path, size));
  std::string bytes(size, '\0');
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("open", path, errno);
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::read(fd, bytes.data() + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got != size) return Internal("snapshot " + path + ": short read");
  std::string_view v(bytes);
  if (v.substr(0, 8) != kMagic) return Internal("snapshot " + path + ": not a snapshot file");
  uint32_t crc = static_cast<uint32_t>(get_le(v.substr(8), 4));
  uint64_t body_size = get_le(v.substr(12), 8);
  if (body_size != size - kFrameBytes)
    return Internal("snapshot " + path + ": size does not match its header");
  if (cmdlog::crc32c::Value(v.substr(kFrameBytes)) != crc)
    return Internal("snapshot " + path + ": checksum mismatch");
  return bytes.substr(kFrameBytes);
}

Status CommitSnapshot(const std::string& data_dir, const std::string& tmp_dir, uint64_t seq,
                      size_t keep) {
  TRY(sync_path(tmp_dir, true));
  std::string final_dir = fmt::format("{}/{:020}", snapshots_dir(data_dir), seq);
  std::error_code ec;
  fs::remove_all(final_dir, ec);  // the same seq snapshotted again (nothing applied since)
  fs::rename(tmp_dir, final_dir, ec);
  if (ec) return Status(StatusCode::kUnavailable, "cannot commit snapshot " + final_dir + ": " + ec.message());
  TRY(sync_path(snapshots_dir(data_dir), true));
  // Older ones go, renamed first so that a crash halfway leaves a tmp-* (removed at the next
  // start) rather than a snapshot with files missing.
  std::vector<SnapshotDir> all = ListSnapshots(data_dir);
  for (size_t i = keep; i < all.size(); ++i) {
    fs::path doomed = fs::path(snapshots_dir(data_dir)) /
                      fmt::format("{}old-{:020}", kTmpPrefix, all[i].seq);
    fs::rename(all[i].path, doomed, ec);
    fs::remove_all(ec ? fs::path(all[i].path) : doomed, ec);
  }
  return Status::Ok();
}

}  // namespace cbec::service
