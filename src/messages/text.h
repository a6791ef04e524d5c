// UTF-8 and XML character helpers shared by the readers and writers. Internal to src/messages/.
//
// Untrusted text reaches receipts (returnInfo, oriBizMessage, violation paths), so everything we
// print must be valid UTF-8 made only of characters XML 1.0 allows; these helpers decide that once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cbec::ceb::internal {

inline bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
std::string_view trim_xml_space(std::string_view s);

inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
inline std::string_view strip_bom(std::string_view s) {
  return s.starts_with(kUtf8Bom) ? s.substr(kUtf8Bom.size()) : s;
}

enum class CharIssue : uint8_t {
  kNone,
  kInvalidUtf8,   // malformed, overlong, surrogate or beyond U+10FFFF
  kControl,       // C0 control other than TAB, LF, CR (not an XML 1.0 Char)
  kNonCharacter,  // U+FFFE, U+FFFF (not an XML 1.0 Char)
};

struct CharScan {
  CharIssue issue = CharIssue::kNone;
  size_t offset = 0;       // byte offset of the first issue
  size_t code_points = 0;  // code points before the first issue (all of them when kNone)
};

// Decodes s as strict UTF-8, counting code points, and stops at the first byte sequence that is
// not valid UTF-8 or not a character XML 1.0 allows.
CharScan scan_chars(std::string_view s);
const char* char_issue_text(CharIssue issue);

// Code points of text already known to be valid UTF-8 (what scan_chars would count): the bytes
// that do not continue a sequence. For texts cut from a document that scan_chars passed whole.
// Eight bytes at a time: a continuation byte is 10xxxxxx, so bit 7 set and bit 6 clear.
inline size_t count_code_points(std::string_view valid_utf8) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighBits = 0x8080808080808080ull;
  const char* p = valid_utf8.data();
  size_t left = valid_utf8.size();
  size_t n = 0;
  for (; left >= 8; p += 8, left -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    const uint64_t continuation = w & ~(w << 1) & kHighBits;  // bit 7 of each such byte
    // Sum of the bytes of continuation >> 7 (each 0 or 1), gathered in the top byte.
    n += 8 - static_cast<size_t>(((continuation >> 7) * kOnes) >> 56);
  }
  for (; left > 0; ++p, --left) n += (static_cast<unsigned char>(*p) & 0xC0) != 0x80;
  return n;
}

// Copy of s where every invalid UTF-8 sequence and every character XML 1.0 does not allow is
// replaced by U+FFFD, so it can be written into XML or JSON.
std::string sanitize_text(std::string_view s);

// At most max_chars code points of s (valid UTF-8), cut on a character boundary; when s is
// longer, the result ends with "…" and has exactly max_chars code points. REQUIRES: max_chars ≥ 1.
std::string cut_chars(std::string_view s, size_t max_chars);

// Longest prefix of s (valid UTF-8) of at most max_bytes bytes ending on a character boundary.
std::string_view cut_bytes(std::string_view s, size_t max_bytes);

// A name taken from untrusted input (element or key), safe to print in a violation path:
// sanitized and cut to kMaxPrintedNameChars.
inline constexpr size_t kMaxPrintedNameChars = 64;
std::string printable_name(std::string_view raw);

// 64-bit FNV-1a. Chosen for record digests because it is fully specified by a few lines (so the
// value never changes with a library or platform) and fast on short field texts; digests are
// idempotency keys, not a defence against adversarial collisions (keys are compared too).
inline constexpr uint64_t kFnvOffsetBasis = 14695981039346656037ull;
inline constexpr uint64_t kFnvPrime = 1099511628211ull;
inline uint64_t fnv1a(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

}  // namespace cbec::ceb::internal
