// The archive: a cold store under the clearance core, so that memory does not grow with the
// number of lists ever processed (issue #3).
//
// The core keeps in memory what it still works with (the hot set) and moves records it has not
// touched for a while — concluded lists with their documents, indexes and receipts — into an
// Archive (evict), restoring them on the next access (see cold_map.h). What is archived, and
// when, depends only on the commands and their log times, so the archive's contents are a
// function of the log prefix: a replay rebuilds it exactly, and it needs no durability of its
// own. A snapshot (Engine::save_snapshot) moves every entry into it and the service keeps a
// checkpoint of it; where an entry lives (memory or archive) never changes an answer, so an
// engine started from a snapshot and one that replayed the whole log agree.
//
// Threading: writes come from the single writer; get() and scan() may run on reader threads
// while no write is in progress (the service's engine lock guarantees that).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace cbec::archive {

class Archive {
 public:
  virtual ~Archive() = default;
  // False if the key is absent.
  virtual bool get(std::string_view key, std::string* value) const = 0;
  virtual void put(std::string_view key, std::string_view value) = 0;
  virtual void erase(std::string_view key) = 0;
  // Every entry whose key starts with prefix, in byte order of the keys.
  virtual void scan(std::string_view prefix,
                    const std::function<void(std::string_view key, std::string_view value)>& fn)
      const = 0;
  // An archive may buffer puts and erases (one write for a command's evictions instead of one
  // per key); get() and scan() still see every earlier write. The writer calls flush() at the end of
  // each command and snapshot, so that nothing is pending while readers look.
  virtual void flush() {}
};

// In memory (tests, replays, tools): the same contract, no bound on size.
class MemoryArchive final : public Archive {
 public:
  bool get(std::string_view key, std::string* value) const override;
  void put(std::string_view key, std::string_view value) override;
  void erase(std::string_view key) override;
  void scan(std::string_view prefix,
            const std::function<void(std::string_view, std::string_view)>& fn) const override;
  size_t size() const { return map_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> map_;
};

}  // namespace cbec::archive
