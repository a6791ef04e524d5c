#include "log/fault_injection_env.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace cbec::cmdlog {

// A WritableFile whose every call goes through the env's ledger and fault switches.
class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv* env, std::shared_ptr<FileState> state, std::unique_ptr<WritableFile> base)
      : env_(env), state_(std::move(state)), base_(std::move(base)) {}

  Status Append(std::string_view data) override { return env_->FileAppend(*state_, base_, data); }
  Status Sync() override { return env_->FileSync(*state_, base_); }

 private:
  FaultInjectionEnv* const env_;
  const std::shared_ptr<FileState> state_;
  const std::unique_ptr<WritableFile> base_;
};

FaultInjectionEnv::FaultInjectionEnv(Env* base) : base_(base) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::FailNextSyncs(int count) {
  std::lock_guard<std::mutex> lock(mu_);
  sync_failures_ = count;
}

void FaultInjectionEnv::FailNextDirSyncs(int count) {
  std::lock_guard<std::mutex> lock(mu_);
  dir_sync_failures_ = count;
}

void FaultInjectionEnv::FailNextWrites(int count, size_t bytes_kept) {
  std::lock_guard<std::mutex> lock(mu_);
  write_failures_ = count;
  write_failure_bytes_kept_ = bytes_kept;
}

void FaultInjectionEnv::SimulateSyncLatency(uint64_t latency_us) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!virtual_clock_) virtual_now_us_ = base_->NowMicros();
  virtual_clock_ = true;
  sync_latency_us_ = latency_us;
}

Status FaultInjectionEnv::FileAppend(FileState& state, const std::unique_ptr<WritableFile>& base,
                                     std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  ++writes_;
  if (state.dead) return Internal(fmt::format("write {}: the process has crashed", state.path));
  if (write_failures_ > 0) {
    --write_failures_;
    const std::string_view kept = data.substr(0, std::min(write_failure_bytes_kept_, data.size()));
    if (!kept.empty()) {
      TRY(base->Append(kept));
      state.size_bytes += kept.size();
    }
    return Internal(fmt::format("injected fault: write {} failed after {} of {} bytes", state.path,
                                kept.size(), data.size()));
  }
  TRY(base->Append(data));
  state.size_bytes += data.size();
  return Status::Ok();
}

Status FaultInjectionEnv::FileSync(FileState& state, const std::unique_ptr<WritableFile>& base) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state.dead) return Internal(fmt::format("fdatasync {}: the process has crashed", state.path));
  if (sync_failures_ > 0) {
    --sync_failures_;
    return Internal(fmt::format("injected fault: fdatasync {} failed", state.path));
  }
  TRY(base->Sync());
  state.synced_bytes = state.size_bytes;
  ++syncs_;
  virtual_now_us_ += sync_latency_us_;
  return Status::Ok();
}

Status FaultInjectionEnv::Crash() {
  std::lock_guard<std::mutex> lock(mu_);
  Status first_error;
  for (auto& [path, state] : files_) {
    state->dead = true;
    Status st;
    if (!state->entry_durable) {
      st = base_->RemoveFile(path);
    } else if (state->size_bytes > state->synced_bytes) {
      st = base_->TruncateFile(path, state->synced_bytes);
    }
    if (!st.ok() && first_error.ok()) first_error = st;
  }
  files_.clear();
  return first_error;
}

uint64_t FaultInjectionEnv::syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return syncs_;
}

uint64_t FaultInjectionEnv::dir_syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dir_syncs_;
}

uint64_t FaultInjectionEnv::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

uint64_t FaultInjectionEnv::unsynced_bytes(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = files_.find(path);
  return it == files_.end() ? 0 : it->second->size_bytes - it->second->synced_bytes;
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  TRY_ASSIGN(std::unique_ptr<WritableFile> base, base_->NewWritableFile(path));
  auto state = std::make_shared<FileState>();
  state->path = path;
  state->entry_durable = false;
  files_[path] = state;
  return std::unique_ptr<WritableFile>(
      std::make_unique<File>(this, std::move(state), std::move(base)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::ReopenWritableFile(
    const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  TRY_ASSIGN(std::unique_ptr<WritableFile> base, base_->ReopenWritableFile(path));
  std::shared_ptr<FileState>& state = files_[path];
  if (state == nullptr || state->dead) {
    // Not written through this env yet: whatever the file holds counts as durable.
    TRY_ASSIGN(const uint64_t size_bytes, base_->GetFileSize(path));
    state = std::make_shared<FileState>();
    state->path = path;
    state->size_bytes = size_bytes;
    state->synced_bytes = size_bytes;
  }
  return std::unique_ptr<WritableFile>(std::make_unique<File>(this, state, std::move(base)));
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionEnv::NewRandomAccessFile(
    const std::string& path) {
  return base_->NewRandomAccessFile(path);
}

Result<std::vector<std::string>> FaultInjectionEnv::GetChildren(const std::string& dir) {
  return base_->GetChildren(dir);
}

Result<uint64_t> FaultInjectionEnv::GetFileSize(const std::string& path) {
  return base_->GetFileSize(path);
}

Result<bool> FaultInjectionEnv::CreateDirIfMissing(const std::string& dir) {
  return base_->CreateDirIfMissing(dir);
}

Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  TRY(base_->TruncateFile(path, size_bytes));  // syncs: the new size is durable
  if (const auto it = files_.find(path); it != files_.end()) {
    it->second->size_bytes = size_bytes;
    it->second->synced_bytes = size_bytes;
  }
  return Status::Ok();
}

// Removals and renames are treated as immediately durable: the log only creates files in the
// write path, and that is the directory operation whose durability the tests need to see.
Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  TRY(base_->RemoveFile(path));
  files_.erase(path);
  return Status::Ok();
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  TRY(base_->RenameFile(from, to));
  files_.erase(to);
  if (auto node = files_.extract(from); !node.empty()) {
    node.key() = to;
    node.mapped()->path = to;
    files_.insert(std::move(node));
  }
  return Status::Ok();
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  if (dir_sync_failures_ > 0) {
    --dir_sync_failures_;
    return Internal(fmt::format("injected fault: fsync of directory {} failed", dir));
  }
  TRY(base_->SyncDir(dir));
  ++dir_syncs_;
  for (auto& [path, state] : files_) {
    if (DirName(path) == dir) state->entry_durable = true;
  }
  return Status::Ok();
}

Result<std::unique_ptr<FileLock>> FaultInjectionEnv::LockFile(const std::string& path) {
  return base_->LockFile(path);
}

uint64_t FaultInjectionEnv::NowMicros() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (virtual_clock_) return virtual_now_us_;
  }
  return base_->NowMicros();
}

}  // namespace cbec::cmdlog
