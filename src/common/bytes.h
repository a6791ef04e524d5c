// A compact, deterministic binary encoding for records kept outside memory (the archive under
// the clearance core). Unsigned integers are LEB128 varints, signed ones zigzag varints, strings
// a varint length then the bytes. The format has no self-description: each value starts with a
// version byte written by its codec, and a reader that finds anything unexpected fails (never
// reads past the end).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cbec {

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  void u8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void u64(uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }
  void i64(int64_t v) { u64((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void boolean(bool b) { u8(b ? 1 : 0); }
  void str(std::string_view s) {
    u64(s.size());
    out_->append(s);
  }
  // Fixed 8 bytes, big-endian: keys whose byte order must be numeric order.
  void be64(uint64_t v) {
    for (int i = 7; i >= 0; --i) out_->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }

 private:
  std::string* out_;
};

// Reads what ByteWriter wrote. After the first failure every read returns a zero value and
// ok() is false; callers check ok() once at the end.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  uint8_t u8() {
    if (pos_ >= in_.size()) return fail(), 0;
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint64_t u64() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return fail(), 0;
      uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail(), 0;
  }
  int64_t i64() {
    uint64_t z = u64();
    return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  bool boolean() { return u8() != 0; }
  std::string_view str_view() {
    uint64_t n = u64();
    if (!ok_ || n > in_.size() - pos_) return fail(), std::string_view();
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string str() { return std::string(str_view()); }
  void str(std::string* out) { out->assign(str_view()); }
  // The number of items that follow, each at least one byte long: fails if that many could not
  // fit in what is left, so damaged bytes never make a decoder allocate without bound.
  uint64_t count() {
    uint64_t n = u64();
    if (!ok_ || n > in_.size() - pos_) return fail(), 0;
    return n;
  }
  uint64_t be64() {
    if (in_.size() - pos_ < 8) return fail(), 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in_[pos_++]);
    return v;
  }
  void fail() { ok_ = false, pos_ = in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace cbec
