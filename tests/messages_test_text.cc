// The internal text helpers every reader and writer relies on: strict UTF-8, XML characters,
// cutting on character boundaries, and Base64.
#include <gtest/gtest.h>

#include <string>

#include "messages/base64.h"
#include "messages/text.h"

namespace cbec::ceb::internal {
namespace {

// scan_chars takes sixteen ASCII bytes at a time (TAB, LF and CR included) and runs of three-byte
// characters in a loop of their own; whatever path a byte takes, the first issue, its offset and
// the count are those of a character-by-character decode.
TEST(MessagesText, ScanCharsFastPathsFindTheSameIssues) {
  const std::string ascii16 = "<ceb:a>1</ceb:a>";      // one SSE2 block
  const std::string indent = "\n\t\t\r\n           ";  // 16 bytes: TAB, LF, CR do not stop a block
  const std::string han = "郑州综保区";                // a run of three-byte characters
  EXPECT_EQ(scan_chars(ascii16 + indent + ascii16).code_points, 48u);
  EXPECT_EQ(scan_chars(ascii16 + han + ascii16 + han).code_points, 42u);
  EXPECT_EQ(scan_chars(han + "\xC3\xA9\xF0\x9F\x98\x80" + ascii16).code_points, 23u);
  struct Case {
    std::string text;
    CharIssue issue;
    size_t offset;
  };
  const std::string pre = ascii16 + indent + han;  // 16 + 16 + 15 bytes
  const Case cases[] = {
      {pre + "\x01", CharIssue::kControl, 47},
      {ascii16 + "abc\x1F" + ascii16, CharIssue::kControl, 19},        // inside a block
      {pre + "\xE0\x9F\xBF" + ascii16, CharIssue::kInvalidUtf8, 47},   // overlong after a run
      {pre + "\xED\xA0\x80" + ascii16, CharIssue::kInvalidUtf8, 47},   // surrogate
      {pre + "\xEF\xBF\xBE" + ascii16, CharIssue::kNonCharacter, 47},  // U+FFFE
      {pre + "\xEF\xBF\xBF", CharIssue::kNonCharacter, 47},            // U+FFFF
      {pre + "\xE4\xB8", CharIssue::kInvalidUtf8, 47},                 // truncated at the end
      {pre + "\xE4\x41\x80" + ascii16, CharIssue::kInvalidUtf8, 47},   // not a continuation
      {pre + "\xE0\xA0\x80\xED\x9F\xBF\xEF\xBF\xBD" + ascii16, CharIssue::kNone, 0},
  };
  for (const Case& c : cases) {
    CharScan s = scan_chars(c.text);
    EXPECT_EQ(s.issue, c.issue) << c.text;
    EXPECT_EQ(s.offset, c.offset) << c.text;
  }
  // count_code_points (texts already valid) agrees with scan_chars, across its 8-byte steps.
  for (const std::string& t : {std::string(), ascii16, pre, han + ascii16 + "\xC3\xA9",
                               std::string("\xF0\x9F\x98\x80") + han + "abcdefgh"}) {
    EXPECT_EQ(count_code_points(t), scan_chars(t).code_points) << t;
  }
}

TEST(MessagesText, ScanCharsCountsCodePointsAndFindsTheFirstIssue) {
  EXPECT_EQ(scan_chars("").code_points, 0u);
  EXPECT_EQ(scan_chars("abcdefghijklmnop").code_points, 16u);  // the 8-byte fast path
  EXPECT_EQ(scan_chars("郑州 zhengzhou 综保区").code_points, 16u);
  EXPECT_EQ(scan_chars("😀").code_points, 1u);
  struct Case {
    std::string text;
    CharIssue issue;
    size_t offset;
  };
  const Case cases[] = {
      {"abcdefgh\x01", CharIssue::kControl, 8},  // after a fast-path block
      {"abc\x1F"
       "defghijk",
       CharIssue::kControl, 3},  // inside a fast-path block
      {"tab\tnewline\ncr\r ok", CharIssue::kNone, 0},
      {"\x7F", CharIssue::kNone, 0},                     // DEL is an XML character
      {"ab\xC3", CharIssue::kInvalidUtf8, 2},            // truncated sequence
      {"\xC1\xBF", CharIssue::kInvalidUtf8, 0},          // overlong
      {"\xE0\x9F\xBF", CharIssue::kInvalidUtf8, 0},      // overlong 3-byte
      {"\xED\xB0\x80", CharIssue::kInvalidUtf8, 0},      // surrogate
      {"\xF4\x90\x80\x80", CharIssue::kInvalidUtf8, 0},  // beyond U+10FFFF
      {"\xF8\x88\x80\x80\x80", CharIssue::kInvalidUtf8, 0},
      {"x\xEF\xBF\xBE", CharIssue::kNonCharacter, 1},  // U+FFFE
      {"\xEF\xBF\xBD", CharIssue::kNone, 0},           // U+FFFD itself is fine
  };
  for (const Case& c : cases) {
    CharScan s = scan_chars(c.text);
    EXPECT_EQ(s.issue, c.issue) << c.text;
    if (c.issue != CharIssue::kNone) {
      EXPECT_EQ(s.offset, c.offset) << c.text;
    }
  }
}

TEST(MessagesText, SanitizeReplacesWhatXmlCannotCarry) {
  EXPECT_EQ(sanitize_text("ok 中文"), "ok 中文");
  EXPECT_EQ(sanitize_text("a\x01"
                          "b\xFF"
                          "c\xE4\xB8"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(scan_chars(sanitize_text(std::string("\0\xC0\x80\xED\xA0\x80", 6))).issue,
            CharIssue::kNone);
}

TEST(MessagesText, CutOnCharacterBoundaries) {
  EXPECT_EQ(cut_chars("abc", 3), "abc");
  EXPECT_EQ(cut_chars("abcd", 3), "ab…");
  EXPECT_EQ(cut_chars("中文字符", 4), "中文字符");
  EXPECT_EQ(cut_chars("中文字符", 3), "中文…");
  EXPECT_EQ(cut_chars("中文", 1), "…");
  EXPECT_EQ(cut_bytes("中文", 5), "中");
  EXPECT_EQ(cut_bytes("中文", 6), "中文");
  EXPECT_EQ(cut_bytes("a中", 3), "a");
  EXPECT_EQ(printable_name(std::string(100, 'n')).size(), 63u + 3u);
  EXPECT_EQ(trim_xml_space(" \t\r\n x y \n"), "x y");
}

TEST(MessagesText, Base64) {
  EXPECT_EQ(decode_base64("PGE+"), "<a>");
  EXPECT_EQ(decode_base64("PGE+Yg=="), "<a>b");
  EXPECT_EQ(decode_base64("PGE+Yg"), "<a>b");  // padding optional
  EXPECT_EQ(decode_base64("PGE+YmM="), "<a>bc");
  EXPECT_EQ(decode_base64(" PG\r\nE+ Ym\tM= \n"), "<a>bc");
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_FALSE(decode_base64("PGE+Y").has_value());     // a lone 6-bit tail
  EXPECT_FALSE(decode_base64("PGE+Yg=a").has_value());  // data after padding
  EXPECT_FALSE(decode_base64("PGE+Yg===").has_value());
  EXPECT_FALSE(decode_base64("PGE+YmM==").has_value());  // too much padding for the tail
  EXPECT_FALSE(decode_base64("PG-+").has_value());       // URL alphabet is not accepted
  EXPECT_FALSE(decode_base64("PGE+\x80").has_value());
}

}  // namespace
}  // namespace cbec::ceb::internal
