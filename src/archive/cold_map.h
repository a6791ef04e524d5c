// ColdMap: a std::map whose idle entries move to an Archive and come back on access.
//
// The clearance core's tables (documents, lists, their indexes) are ColdMaps. Every entry lives
// in exactly one place: hot (in memory) or archived. Lookups through the mutating interface
// (find, at, operator[], contains) restore an archived entry into memory first, so the rules
// above see one complete map and stay as they were written. Read-only callers use peek(), which
// decodes an archived entry into a copy without moving it (queries run under a shared lock).
//
// Eviction is explicit: evict_idle(cutoff, keep) archives entries inserted or restored at or
// before `cutoff` unless keep(key, value) says the core still works with them (those are looked
// at again one idle period later). Time is the core's log time (the clock pointer), so which
// entries are archived, and when, is the same on every replay.
//
// Without an archive (attach(nullptr, ...), the default) nothing is ever evicted and the map
// costs what a std::map costs: no queue, no encoding.
//
// ColdMap<K, V, Hashed> keeps its hot entries in a hash table instead (KeyHash<K>; the index is
// archive/hash_table.h): one hash and one key comparison per lookup instead of about log2(n)
// string comparisons. Its hot() has no order, so only the ordered kind may be iterated where
// order shows (snapshots, dumps); for_each_sorted sorts either kind.
//
// Most lookups that miss memory are for new keys, and the rules look a new key up several times
// before creating it (the list of an order is looked for when the order, the payment and the
// waybill arrive): about 32 archive reads per list for 13 new keys. The writer therefore keeps
// the keys it last found absent from the archive (at most kMaxKnownAbsent per map; the set is
// emptied when full). Only evict() puts a key into the archive, and it drops the key from that
// set, so the set never hides an archived entry.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "archive/archive.h"
#include "archive/found.h"
#include "archive/hash_table.h"
#include "common/bytes.h"
#include "common/status.h"
#include "common/time.h"

namespace cbec::archive {

// How keys and values are written. Keys: byte order of the encoding need not match the map's
// order (for_each_sorted sorts). Specialise ValueCodec for each value type a ColdMap holds.
template <class K>
struct KeyCodec;
template <>
struct KeyCodec<uint64_t> {
  static void put(ByteWriter& w, uint64_t k) { w.be64(k); }
  static void get(ByteReader& in, uint64_t* k) { *k = in.be64(); }
};
template <>
struct KeyCodec<std::string> {
  static void put(ByteWriter& w, const std::string& k) { w.str(k); }
  static void get(ByteReader& in, std::string* k) { in.str(k); }
};
template <>
struct KeyCodec<std::pair<std::string, std::string>> {
  // Also writes a StringPairView: the same bytes as the key it borrows from.
  template <class P>
  static void put(ByteWriter& w, const P& k) {
    w.str(k.first);
    w.str(k.second);
  }
  static void get(ByteReader& in, std::pair<std::string, std::string>* k) {
    in.str(&k->first);
    in.str(&k->second);
  }
};

// A (string, string) key borrowed: lookups in a hashed ColdMap take it, so that a rule finds an
// order by (ebpCode, orderNo) without copying two strings too long for the short-string buffer
// (13 allocations per list, DHAT).
using StringPairView = std::pair<std::string_view, std::string_view>;

// Hashes of the key types hashed ColdMaps use. A KeyHash with a `View` type also hashes that
// borrowed form, equal to the key's own hash (lookups by view: ColdMap::find and the others).
template <class K>
struct KeyHash;
template <>
struct KeyHash<uint64_t> {
  size_t operator()(uint64_t k) const noexcept { return std::hash<uint64_t>()(k); }
};
template <>
struct KeyHash<std::string> {
  size_t operator()(const std::string& k) const noexcept {
    return std::hash<std::string_view>()(k);
  }
};
inline size_t hash_combine(size_t seed, size_t h) noexcept {
  return seed ^ (h + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}
template <>
struct KeyHash<std::pair<std::string, std::string>> {
  using is_transparent = void;
  using View = StringPairView;
  template <class P>
  size_t operator()(const P& k) const noexcept {
    std::hash<std::string_view> h;
    return hash_combine(h(k.first), h(k.second));
  }
};

// Key equality of hashed ColdMaps: the key's ==, and for keys with a view the view's too.
template <class K>
struct KeyEqual : std::equal_to<K> {};
template <>
struct KeyEqual<std::pair<std::string, std::string>> {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const noexcept {
    return std::string_view(a.first) == std::string_view(b.first) &&
           std::string_view(a.second) == std::string_view(b.second);
  }
};

template <class K, class = void>
struct KeyViewOf {
  using type = K;
};
template <class K>
struct KeyViewOf<K, std::void_t<typename KeyHash<K>::View>> {
  using type = typename KeyHash<K>::View;
};
template <>
struct KeyHash<std::tuple<std::string, int, std::string>> {
  size_t operator()(const std::tuple<std::string, int, std::string>& k) const noexcept {
    std::hash<std::string_view> h;
    return hash_combine(hash_combine(h(std::get<0>(k)), std::hash<int>()(std::get<1>(k))),
                        h(std::get<2>(k)));
  }
};

// The third argument of a ColdMap that keeps its hot entries in a hash table.
struct Hashed {};

}  // namespace cbec::archive

#if defined(__GLIBCXX__)
// libstdc++ stores a node's hash only for hashes it thinks slow; these hash strings, so keep it:
// growing the table then re-hashes no key, and a lookup compares a key's text only when the
// stored hash matches (callgrind: hashing was 7 % of the core without this).
template <class K>
struct std::__is_fast_hash<cbec::archive::KeyHash<K>> : std::false_type {};
#endif

namespace cbec::archive {

template <class V>
struct ValueCodec;
template <>
struct ValueCodec<uint64_t> {
  static void put(ByteWriter& w, uint64_t v) { w.u64(v); }
  static void get(ByteReader& in, uint64_t* v) { *v = in.u64(); }
};
template <>
struct ValueCodec<int64_t> {
  static void put(ByteWriter& w, int64_t v) { w.i64(v); }
  static void get(ByteReader& in, int64_t* v) { *v = in.i64(); }
};
template <>
struct ValueCodec<std::string> {
  static void put(ByteWriter& w, const std::string& v) { w.str(v); }
  static void get(ByteReader& in, std::string* v) { in.str(v); }
};
template <>
struct ValueCodec<std::pair<std::string, std::string>> {
  static void put(ByteWriter& w, const std::pair<std::string, std::string>& v) {
    KeyCodec<std::pair<std::string, std::string>>::put(w, v);
  }
  static void get(ByteReader& in, std::pair<std::string, std::string>* v) {
    KeyCodec<std::pair<std::string, std::string>>::get(in, v);
  }
};
// A set is a map to Present.
struct Present {
  bool operator==(const Present&) const = default;
};
template <>
struct ValueCodec<Present> {
  static void put(ByteWriter&, Present) {}
  static void get(ByteReader&, Present*) {}
};

template <class K, class V, class Cmp = std::less<>>
class ColdMap {
 public:
  static constexpr size_t kMaxKnownAbsent = 4096;
  static constexpr bool kHashed = std::is_same_v<Cmp, Hashed>;

  using Map = std::conditional_t<kHashed, HashTable<K, V, KeyHash<K>, KeyEqual<K>>,
                                 std::map<K, V, Cmp>>;
  using KeySet = std::conditional_t<kHashed, std::unordered_set<K, KeyHash<K>, KeyEqual<K>>,
                                    std::set<K, Cmp>>;
  // What lookups take besides the key: its borrowed form (KeyHash<K>::View) in the hashed kind.
  // A braced list {a, b} still means a K (the template overloads cannot deduce from it).
  using View = std::conditional_t<kHashed, typename KeyViewOf<K>::type, K>;
  template <class Q>
  static constexpr bool kLookup = std::is_same_v<Q, K> || std::is_same_v<Q, View>;
  using iterator = typename Map::iterator;
  using const_iterator = typename Map::const_iterator;

  // prefix: unique per map within one archive (a letter or two).
  explicit ColdMap(std::string prefix) : prefix_(std::move(prefix)) {}
  ColdMap(const ColdMap&) = delete;
  ColdMap& operator=(const ColdMap&) = delete;

  // REQUIRES: the map is empty. clock: the owner's current log time.
  void attach(Archive* archive, const TimeMs* clock) {
    CBEC_ASSERT(hot_.empty());
    archive_ = archive;
    clock_ = clock;
  }

  // ---- mutating interface: archived entries come back into memory -------------------------
  iterator find(const K& k) { return find<K>(k); }
  template <class Q>
    requires kLookup<Q>
  iterator find(const Q& k) {
    return lookup(k, /*remember_absent=*/true);
  }
  // find() for a key the caller inserts on a miss (insert_missing): the miss is not remembered
  // in the known-absent set, whose copy of the key would only ever shadow the hot entry (nor is
  // operator[]'s, which inserts at once).
  template <class Q>
    requires kLookup<Q>
  iterator find_to_insert(const Q& k) {
    return lookup(k, /*remember_absent=*/false);
  }
  iterator end() { return hot_.end(); }
  bool contains(const K& k) { return find(k) != hot_.end(); }
  template <class Q>
    requires kLookup<Q>
  bool contains(const Q& k) {
    return find(k) != hot_.end();
  }
  size_t count(const K& k) { return contains(k) ? 1 : 0; }
  template <class Q>
    requires kLookup<Q>
  size_t count(const Q& k) {
    return contains(k) ? 1 : 0;
  }
  V& at(const K& k) { return at<K>(k); }
  template <class Q>
    requires kLookup<Q>
  V& at(const Q& k) {
    auto it = find(k);
    CBEC_ASSERT(it != hot_.end());
    return it->second;
  }
  V& operator[](const K& k) { return get_or_add(k); }
  template <class Q>
    requires kLookup<Q>
  V& operator[](const Q& k) {
    return get_or_add(k);
  }
  // A new entry under a key that cannot be in the archive: one this core has just made (a new
  // list id, a new invtNo), never stored before. Skips the archive lookup that operator[] would
  // make (a miss through every table's Bloom filter); asserts the key is not in memory.
  V& emplace_new(const K& k) {
    auto [it, inserted] = hot_.emplace(k, V{});
    CBEC_ASSERT(inserted);
    touched(k);
    return it->second;
  }
  // A new entry under a key that find(k) or find_to_insert(k) has just reported absent (neither
  // hot nor archived), with nothing inserted, erased or evicted since: inserts without looking
  // again (operator[] would probe the table and the known-absent set a second time). Asserts the
  // key is not in memory.
  template <class Q>
    requires kLookup<Q>
  V& insert_missing(const Q& k) {
    auto [it, inserted] = hot_.emplace(K(k), V{});
    CBEC_ASSERT(inserted);
    touched(it->first);
    return it->second;
  }
  // An entry that find() returned is hot, so it has no archived copy to remove.
  void erase(iterator it) { hot_.erase(it); }
  void erase(const K& k) { erase<K>(k); }
  template <class Q>
    requires kLookup<Q>
  void erase(const Q& k) {
    auto it = find(k);
    if (it != hot_.end()) hot_.erase(it);
  }

  // ---- read-only interface (any thread under the owner's shared lock) ---------------------
  Found<V> peek(const K& k) const { return peek<K>(k); }
  template <class Q>
    requires kLookup<Q>
  Found<V> peek(const Q& k) const {
    if (auto it = hot_.find(k); it != hot_.end()) return Found<V>(&it->second);
    if (archive_ == nullptr) return {};
    std::string bytes;
    if (!archive_->get(archive_key(k), &bytes)) return {};
    auto copy = std::make_shared<V>();
    decode(bytes, copy.get());
    return Found<V>(std::shared_ptr<const V>(std::move(copy)));
  }
  const V* find_hot(const K& k) const { return find_hot<K>(k); }
  template <class Q>
    requires kLookup<Q>
  const V* find_hot(const Q& k) const {
    auto it = hot_.find(k);
    return it == hot_.end() ? nullptr : &it->second;
  }
  const Map& hot() const { return hot_; }
  Map& hot() { return hot_; }

  // Hot and archived entries in key order (copies): for state dumps and audits, not hot paths.
  template <class F>
  void for_each_sorted(F&& f) const {
    if (archive_ == nullptr && !kHashed) {
      for (const auto& [k, v] : hot_) f(k, v);
      return;
    }
    if (archive_ == nullptr) {
      std::vector<const typename Map::value_type*> sorted;
      sorted.reserve(hot_.size());
      for (const auto& kv : hot_) sorted.push_back(&kv);
      std::sort(sorted.begin(), sorted.end(),
                [](const auto* a, const auto* b) { return a->first < b->first; });
      for (const auto* kv : sorted) f(kv->first, kv->second);
      return;
    }
    std::map<K, V> all;
    for (const auto& [k, v] : hot_) all.emplace(k, v);
    archive_->scan(prefix_, [&](std::string_view key, std::string_view value) {
      ByteReader kin(key.substr(prefix_.size()));
      K k{};
      KeyCodec<K>::get(kin, &k);
      CBEC_ASSERT(kin.ok() && kin.at_end());
      V v{};
      decode(value, &v);
      all.emplace(std::move(k), std::move(v));
    });
    for (const auto& [k, v] : all) f(k, v);
  }

  // ---- eviction -----------------------------------------------------------------------------
  // Archives every hot entry inserted or restored at or before cutoff for which keep() is
  // false; kept entries are looked at again after the next idle period. Returns how many moved.
  template <class Keep>
  size_t evict_idle(TimeMs cutoff, Keep&& keep) {
    if (archive_ == nullptr) return 0;
    size_t moved = 0;
    size_t n = touched_.size();  // entries re-queued below are not looked at again now
    for (; n > 0 && !touched_.empty() && touched_.front().first <= cutoff; --n) {
      K k = std::move(touched_.front().second);
      touched_.pop_front();
      auto it = hot_.find(k);
      if (it == hot_.end()) continue;  // erased, or already archived
      if (keep(it->first, it->second)) {
        touched_.emplace_back(*clock_, std::move(k));
        continue;
      }
      evict(it);
      ++moved;
    }
    return moved;
  }
  // Archives every hot entry now (a snapshot: the archive then holds the whole table, and the
  // map starts again from empty, restoring entries as they are used). Returns how many moved.
  size_t evict_all() {
    CBEC_ASSERT(archive_ != nullptr);
    size_t moved = hot_.size();
    for (auto it = hot_.begin(); it != hot_.end();) {
      auto next = std::next(it);  // erasing one entry leaves the others' iterators valid
      evict(it);
      it = next;
    }
    CBEC_ASSERT(hot_.empty());
    touched_.clear();
    return moved;
  }
  // Archives one hot entry now.
  void evict(iterator it) {
    CBEC_ASSERT(archive_ != nullptr);
    std::string bytes;
    ByteWriter w(&bytes);
    w.u8(kFormatVersion);
    ValueCodec<V>::put(w, it->second);
    archive_->put(archive_key(it->first), bytes);
    if (!known_absent_.empty()) known_absent_.erase(it->first);
    hot_.erase(it);
  }
  size_t hot_size() const { return hot_.size(); }
  size_t queued() const { return touched_.size(); }
  size_t known_absent() const { return known_absent_.size(); }

 private:
  static constexpr uint8_t kFormatVersion = 1;

  template <class Q>
  std::string archive_key(const Q& k) const {
    std::string key = prefix_;
    ByteWriter w(&key);
    KeyCodec<K>::put(w, k);
    return key;
  }
  static void decode(std::string_view bytes, V* v) {
    ByteReader in(bytes);
    uint8_t version = in.u8();
    CBEC_ASSERT(version == kFormatVersion);
    ValueCodec<V>::get(in, v);
    // The archive is written only by this process from values it encoded: a value that does
    // not decode is a bug or a damaged disk, and continuing would answer from wrong state.
    CBEC_ASSERT(in.ok() && in.at_end());
  }
  template <class Q>
  iterator lookup(const Q& k, bool remember_absent) {
    auto it = hot_.find(k);
    if (it != hot_.end() || archive_ == nullptr) return it;
    if (known_absent_.find(k) != known_absent_.end()) return hot_.end();
    it = restore(k);
    if (it == hot_.end() && remember_absent) {
      if (known_absent_.size() >= kMaxKnownAbsent) known_absent_.clear();
      known_absent_.insert(K(k));
    }
    return it;
  }
  template <class Q>
  V& get_or_add(const Q& k) {
    // A miss is filled at once: remembering it would only copy the key into the set.
    auto it = lookup(k, /*remember_absent=*/false);
    if (it != hot_.end()) return it->second;
    it = hot_.emplace(K(k), V{}).first;
    touched(it->first);
    return it->second;
  }
  template <class Q>
  iterator restore(const Q& k) {
    std::string key = archive_key(k);
    std::string bytes;
    if (!archive_->get(key, &bytes)) return hot_.end();
    V v{};
    decode(bytes, &v);
    archive_->erase(key);
    auto it = hot_.emplace(K(k), std::move(v)).first;
    touched(it->first);
    return it;
  }
  void touched(const K& k) {
    if (archive_ != nullptr) touched_.emplace_back(*clock_, k);
  }

  std::string prefix_;
  Archive* archive_ = nullptr;
  const TimeMs* clock_ = nullptr;
  Map hot_;
  std::deque<std::pair<TimeMs, K>> touched_;  // insertion/restore times, oldest first
  KeySet known_absent_;                       // writer only (find/evict); see the top of this file
};

}  // namespace cbec::archive
