// Loading a container that was saved from a sorted one (snapshots, issue #3): each item goes at
// the end, in constant time, and one that does not sort after the previous item (a duplicate, a
// disorder) means damaged bytes, so the call says false and inserts nothing.
#pragma once

#include <iterator>
#include <utility>

namespace cbec {

// A std::map-like container: (key, value).
template <class Map, class K, class V>
[[nodiscard]] bool append_in_order(Map* m, K&& key, V&& value) {
  if (!m->empty() && !m->key_comp()(std::prev(m->end())->first, key)) return false;
  m->emplace_hint(m->end(), std::forward<K>(key), std::forward<V>(value));
  return true;
}

// A std::set-like container.
template <class Set, class V>
[[nodiscard]] bool append_in_order(Set* s, V&& value) {
  if (!s->empty() && !s->key_comp()(*std::prev(s->end()), value)) return false;
  s->emplace_hint(s->end(), std::forward<V>(value));
  return true;
}

}  // namespace cbec
