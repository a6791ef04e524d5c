// Found<V>: what a lookup of the clearance core returns. A record in memory is returned by
// pointer; a record the core has archived (src/archive/archive.h) is decoded into a copy that
// the Found owns. Use it like a pointer: test it, then dereference; keep it no longer than the
// lock under which it was looked up (a pointer into memory is valid only that long), and no
// longer than the next command applied to the core (which may archive the record). Hold it in a
// variable: `for (auto& f : engine.list_by_invt_no(x)->findings)` would iterate a destroyed copy.
#pragma once

#include <cstddef>
#include <memory>

namespace cbec::archive {

// A value found by peek(): the hot entry itself, or a decoded copy of the archived one.
template <class V>
class Found {
 public:
  Found() = default;
  explicit Found(const V* hot) : p_(hot) {}
  explicit Found(std::shared_ptr<const V> copy) : p_(copy.get()), copy_(std::move(copy)) {}
  explicit operator bool() const { return p_ != nullptr; }
  bool operator==(std::nullptr_t) const { return p_ == nullptr; }
  const V* get() const { return p_; }
  const V& operator*() const { return *p_; }
  const V* operator->() const { return p_; }
  bool archived() const { return copy_ != nullptr; }
  // A part of the value (a member), kept alive together with it.
  template <class U, class W = V>
  Found<U> part(const U W::*member) const {
    if (p_ == nullptr) return {};
    if (copy_ == nullptr) return Found<U>(&(p_->*member));
    return Found<U>(std::shared_ptr<const U>(copy_, &(p_->*member)));
  }

 private:
  const V* p_ = nullptr;
  std::shared_ptr<const V> copy_;
};

}  // namespace cbec::archive
