#include "messages/base64.h"

#include <array>
#include <cstdint>

#include "messages/text.h"

namespace cbec::ceb::internal {
namespace {

constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> make_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return t;
}
constexpr std::array<int8_t, 256> kTable = make_table();

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;        // pending bits in acc
  size_t symbols = 0;  // alphabet characters seen
  size_t padding = 0;  // '=' seen
  for (char c : text) {
    if (is_xml_space(c)) continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    int8_t v = kTable[static_cast<unsigned char>(c)];
    if (v == kInvalid) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // A final group of 1 symbol cannot encode a byte; padding, if any, must complete the group.
  size_t tail = symbols % 4;
  if (tail == 1) return std::nullopt;
  if (padding > 0 && (padding > 2 || (symbols + padding) % 4 != 0)) return std::nullopt;
  return out;
}

}  // namespace cbec::ceb::internal
