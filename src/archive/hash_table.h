// HashTable: the hot entries of a hashed ColdMap: an open-addressing index over stable nodes.
//
// Why not std::unordered_map. Over HTTP the core's (code, number) tables were 30–40 % of the
// apply thread, nearly all of it cache misses walking the standard table's singly linked nodes:
// a lookup loads the bucket, the node before the bucket's first, the node, and the next node to
// learn whether it is still in the bucket (BENCHMARKS.md, session 11). Here a lookup reads one
// array of (hash, node) slots, usually a single cache line, and dereferences a node only when
// its full 64-bit hash matches: one node load per hit, none per miss.
//
// Contract (the part of std::unordered_map's the ColdMap uses, with the same guarantees):
// - Entries are std::pair<const K, V> in nodes of their own: references and pointers to them
//   stay valid until the entry is erased, whatever is inserted (the core holds a document while
//   it inserts others). Iterators are invalidated by inserts (a grown index), not by erasing
//   another entry.
// - find() takes a K or, when Hash and Eq are transparent, a borrowed view of one.
// - Iteration order is unspecified (it follows the hashes and the history of the index), as in
//   std::unordered_map: what shows an order sorts.
// - Linear probing with tombstones: erase() leaves a tombstone (or an empty slot where no probe
//   goes on) and moves nothing, so erasing while iterating (ColdMap::evict_all) visits every
//   entry once. The index is rebuilt when entries and tombstones fill more than 3/4 of it, at
//   twice the size if entries alone fill more than 3/8, else at the same size (a hot map
//   churns: entries come and go all day).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cbec::archive {

template <class K, class V, class Hash, class Eq>
class HashTable {
 public:
  static constexpr size_t kEnd = SIZE_MAX;  // the slot of end()
  using key_type = K;
  using mapped_type = V;
  using value_type = std::pair<const K, V>;
  using size_type = size_t;

 private:
  // 16 bytes: four to a cache line. A slot without a node is empty (hash 0) or erased (a
  // tombstone, hash 1): probing stops at an empty slot only.
  struct Slot {
    uint64_t hash = 0;
    value_type* node = nullptr;
    bool tomb() const { return node == nullptr && hash != 0; }
  };
  static_assert(sizeof(void*) == 8);

  template <bool kConst>
  class Iter {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = HashTable::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = std::conditional_t<kConst, const value_type*, value_type*>;
    using reference = std::conditional_t<kConst, const value_type&, value_type&>;
    Iter() = default;
    Iter(const Slot* slots, size_t i, size_t n) : slots_(slots), i_(i), n_(n) { skip(); }
    template <bool C = kConst, class = std::enable_if_t<C>>
    Iter(const Iter<false>& o) : slots_(o.slots_), i_(o.i_), n_(o.n_) {}
    reference operator*() const { return *slots_[i_].node; }
    pointer operator->() const { return slots_[i_].node; }
    Iter& operator++() {
      ++i_;
      skip();
      return *this;
    }
    Iter operator++(int) {
      Iter t = *this;
      ++*this;
      return t;
    }
    // end() is the same whatever the table did since (as std::unordered_map's): code may call
    // end() before a find() that grows the index (`find(k) != end()` evaluates either first).
    friend bool operator==(const Iter& a, const Iter& b) { return a.i_ == b.i_; }

   private:
    friend class HashTable;
    template <bool>
    friend class Iter;
    void skip() {
      while (i_ < n_ && slots_[i_].node == nullptr) ++i_;
      if (i_ >= n_) i_ = kEnd;
    }
    const Slot* slots_ = nullptr;
    size_t i_ = kEnd;  // a slot with an entry, or kEnd
    size_t n_ = 0;
  };

 public:
  using iterator = Iter<false>;
  using const_iterator = Iter<true>;

  HashTable() = default;
  HashTable(const HashTable&) = delete;
  HashTable& operator=(const HashTable&) = delete;
  ~HashTable() { clear(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  iterator begin() { return iterator(slots_.data(), 0, slots_.size()); }
  iterator end() { return iterator(slots_.data(), kEnd, slots_.size()); }
  const_iterator begin() const { return const_iterator(slots_.data(), 0, slots_.size()); }
  const_iterator end() const { return const_iterator(slots_.data(), kEnd, slots_.size()); }

  template <class Q>
  iterator find(const Q& k) {
    return iterator(slots_.data(), find_slot(k, Hash()(k)), slots_.size());
  }
  template <class Q>
  const_iterator find(const Q& k) const {
    return const_iterator(slots_.data(), find_slot(k, Hash()(k)), slots_.size());
  }

  template <class Q>
  bool contains(const Q& k) const {
    return find_slot(k, Hash()(k)) != kEnd;
  }

  // Inserts (k, v) unless an entry for k exists; returns it and whether it is new.
  std::pair<iterator, bool> emplace(K k, V v) {
    const uint64_t h = Hash()(k);
    if (size_t i = find_slot(k, h); i != kEnd) return {at(i), false};
    if ((size_ + tombs_ + 1) * 4 > slots_.size() * 3) rebuild();
    size_t i = home(h);
    while (slots_[i].node != nullptr) i = (i + 1) & mask_;  // the first empty or erased slot
    if (slots_[i].tomb()) --tombs_;
    slots_[i] = Slot{h, new value_type(std::move(k), std::move(v))};
    ++size_;
    return {at(i), true};
  }

  // REQUIRES: it points at an entry.
  void erase(const_iterator it) {
    size_t i = it.i_;
    CBEC_ASSERT(slots_[i].node != nullptr);
    delete slots_[i].node;
    --size_;
    if (!empty_slot((i + 1) & mask_)) {
      slots_[i] = Slot{1, nullptr};
      ++tombs_;
      return;
    }
    // Followed by an empty slot, this one ends every probe that reaches it (an entry's probe
    // from its home to it crosses no empty slot), so it can be empty again, and so can the
    // tombstones just before it: fewer tombstones, fewer rebuilds under churn.
    slots_[i] = Slot{};
    for (i = (i - 1) & mask_; slots_[i].tomb(); i = (i - 1) & mask_) {
      slots_[i] = Slot{};
      --tombs_;
    }
  }

  void clear() {
    for (Slot& s : slots_) delete s.node;
    slots_.clear();
    mask_ = 0;
    shift_ = 64;
    size_ = tombs_ = 0;
  }

 private:
  static constexpr size_t kMinSlots = 16;

  iterator at(size_t i) { return iterator(slots_.data(), i, slots_.size()); }
  bool empty_slot(size_t i) const { return slots_[i].node == nullptr && !slots_[i].tomb(); }

  // Fibonacci hashing: the high bits of hash × 2^64/φ, so that keys whose hashes differ only in
  // their high bits (sequential ids hash to themselves) still spread over the index.
  size_t home(uint64_t h) const {
    return static_cast<size_t>((h * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  template <class Q>
  size_t find_slot(const Q& k, uint64_t h) const {
    if (size_ == 0) return kEnd;
    for (size_t i = home(h);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.node == nullptr) {
        if (!s.tomb()) return kEnd;
      } else if (s.hash == h && Eq()(s.node->first, k)) {
        return i;
      }
    }
  }

  void rebuild() {
    size_t n = slots_.empty() ? kMinSlots : slots_.size();
    if ((size_ + 1) * 8 > n * 3) n *= 2;  // entries alone past 3/8: grow, else purge tombstones
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(n, Slot{});
    mask_ = n - 1;
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(n));
    tombs_ = 0;
    for (const Slot& s : old) {
      if (s.node == nullptr) continue;
      size_t i = home(s.hash);
      while (slots_[i].node != nullptr) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;  // size a power of two (or 0)
  size_t mask_ = 0;
  unsigned shift_ = 64;
  size_t size_ = 0;
  size_t tombs_ = 0;
};

}  // namespace cbec::archive
