#include "archive/archive.h"

namespace cbec::archive {

bool MemoryArchive::get(std::string_view key, std::string* value) const {
  auto it = map_.find(key);
  if (it == map_.end()) return false;
  *value = it->second;
  return true;
}
void MemoryArchive::put(std::string_view key, std::string_view value) {
  map_.insert_or_assign(std::string(key), std::string(value));
}
void MemoryArchive::erase(std::string_view key) {
  auto it = map_.find(key);
  if (it != map_.end()) map_.erase(it);
}
void MemoryArchive::scan(std::string_view prefix,
                         const std::function<void(std::string_view, std::string_view)>& fn) const {
  for (auto it = map_.lower_bound(prefix); it != map_.end() && it->first.starts_with(prefix); ++it)
    fn(it->first, it->second);
}

}  // namespace cbec::archive
