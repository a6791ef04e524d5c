#include "messages/text.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/status.h"

namespace cbec::ceb::internal {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";     // U+2026

// Decodes one UTF-8 sequence at s[i]. Returns its length and sets *cp, or 0 if the bytes there
// are not a valid shortest-form encoding of a Unicode scalar value.
size_t decode_one(std::string_view s, size_t i, uint32_t* cp) {
  auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len;
  uint32_t min;
  uint32_t v;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, v = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, v = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, v = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

CharIssue classify(uint32_t cp) {
  if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') return CharIssue::kControl;
  if (cp == 0xFFFE || cp == 0xFFFF) return CharIssue::kNonCharacter;
  return CharIssue::kNone;
}

}  // namespace

std::string_view trim_xml_space(std::string_view s) {
  while (!s.empty() && is_xml_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_xml_space(s.back())) s.remove_suffix(1);
  return s;
}

CharScan scan_chars(std::string_view s) {
  CharScan r;
  size_t i = 0;
  while (i < s.size()) {
    // ASCII fast path: most CEB text is codes, digits, markup and the TAB/LF/CR of indentation.
#if defined(__SSE2__)
    // Sixteen bytes at a time with SSE2 (part of x86-64). A block stops at its first byte that
    // is ≥ 0x80 or a control character other than TAB, LF and CR; that byte is decoded below.
    bool stopped = false;
    while (s.size() - i >= 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
      // Signed compare: true for 0x00..0x1F and for 0x80..0xFF (negative as int8).
      auto unusual =
          static_cast<unsigned>(_mm_movemask_epi8(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20))));
      if (unusual != 0) {
        const __m128i ws = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\t')),
                                                     _mm_cmpeq_epi8(x, _mm_set1_epi8('\n'))),
                                        _mm_cmpeq_epi8(x, _mm_set1_epi8('\r')));
        unusual &= ~static_cast<unsigned>(_mm_movemask_epi8(ws));
        if (unusual != 0) {
          const auto k = static_cast<size_t>(__builtin_ctz(unusual));
          i += k;
          r.code_points += k;
          stopped = true;
          break;
        }
      }
      i += 16;
      r.code_points += 16;
    }
    if (!stopped)  // fewer than 16 bytes left
#endif
    {
      // Eight bytes at a time.
      constexpr uint64_t kOnes = 0x0101010101010101ull;
      constexpr uint64_t kHighBits = 0x8080808080808080ull;
      while (s.size() - i >= 8) {
        uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        // No byte ≥ 0x80, and no byte < 0x20 (the has-less-than bit trick).
        if ((w & kHighBits) != 0 || ((w - kOnes * 0x20) & ~w & kHighBits) != 0) break;
        i += 8;
        r.code_points += 8;
      }
    }
    if (i >= s.size()) break;
    auto b = static_cast<unsigned char>(s[i]);
    if ((b >= 0x20 && b < 0x80) || b == '\t' || b == '\n' || b == '\r') {
      ++i;
      ++r.code_points;
      continue;
    }
    // Runs of three-byte sequences (U+0800..U+FFFF: Chinese names and addresses) decoded here.
    // A lead byte E1..EC or EE with two continuation bytes is always a valid character XML
    // allows (E0 may be overlong, ED a surrogate, EF U+FFFE/U+FFFF): those take the check below.
    if ((b & 0xF0) == 0xE0) {
      while (s.size() - i >= 3) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        const auto b1 = static_cast<unsigned char>(s[i + 1]);
        const auto b2 = static_cast<unsigned char>(s[i + 2]);
        if ((b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80) break;
        if (b0 < 0xE1 || b0 > 0xEE || b0 == 0xED) {
          if ((b0 & 0xF0) != 0xE0) break;
          const uint32_t cp3 =
              (uint32_t{b0 & 0x0Fu} << 12) | (uint32_t{b1 & 0x3Fu} << 6) | (b2 & 0x3Fu);
          if (cp3 < 0x800 || (cp3 >= 0xD800 && cp3 <= 0xDFFF) || cp3 >= 0xFFFE) break;
        }
        i += 3;
        ++r.code_points;
      }
      if (i >= s.size()) break;
      b = static_cast<unsigned char>(s[i]);
      if (b < 0x80) continue;  // back to the ASCII paths
    }
    uint32_t cp = 0;
    size_t len = decode_one(s, i, &cp);
    if (len == 0) {
      r.issue = CharIssue::kInvalidUtf8;
      r.offset = i;
      return r;
    }
    if (CharIssue issue = classify(cp); issue != CharIssue::kNone) {
      r.issue = issue;
      r.offset = i;
      return r;
    }
    i += len;
    ++r.code_points;
  }
  return r;
}

const char* char_issue_text(CharIssue issue) {
  switch (issue) {
    case CharIssue::kNone:
      return "ok";
    case CharIssue::kInvalidUtf8:
      return "invalid UTF-8";
    case CharIssue::kControl:
      return "control character not allowed";
    case CharIssue::kNonCharacter:
      return "character U+FFFE/U+FFFF not allowed";
  }
  return "?";
}

std::string sanitize_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    size_t len = decode_one(s, i, &cp);
    if (len == 0) {
      out += kReplacement;
      ++i;  // resynchronise on the next byte
      continue;
    }
    if (classify(cp) != CharIssue::kNone) {
      out += kReplacement;
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string cut_chars(std::string_view s, size_t max_chars) {
  CBEC_ASSERT(max_chars >= 1);
  // Byte offset after max_chars - 1 code points, and whether more than max_chars exist.
  size_t count = 0;
  size_t keep_end = 0;  // end of the first max_chars - 1 code points
  for (size_t i = 0; i < s.size(); ++count) {
    if (count == max_chars - 1) keep_end = i;
    if (count == max_chars) return std::string(s.substr(0, keep_end)).append(kEllipsis);
    auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
    i += len;
  }
  return std::string(s);
}

std::string_view cut_bytes(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string printable_name(std::string_view raw) {
  std::string clean = sanitize_text(raw);
  return cut_chars(clean, kMaxPrintedNameChars);
}

}  // namespace cbec::ceb::internal
