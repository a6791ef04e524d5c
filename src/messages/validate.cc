#include "messages/validate.h"

#include <cstdint>

#include "common/time.h"

namespace cbec::ceb::internal {

std::string check_chars(std::string_view text) {
  CharScan scan = scan_chars(text);
  if (scan.issue == CharIssue::kNone) return {};
  return char_issue_text(scan.issue);
}

std::string check_string(std::string_view text, uint16_t min_len, uint16_t max_len,
                         const EnumSet& allowed, Lexical lexical) {
  return check_string(text, scan_chars(text).code_points, min_len, max_len, allowed, lexical);
}

std::string check_string(std::string_view text, size_t code_points, uint16_t min_len,
                         uint16_t max_len, const EnumSet& allowed, Lexical lexical) {
  // Length facets count characters (code points), as XSD does, not bytes: 36 Chinese characters
  // fit a maxLength 36 field.
  size_t len = code_points;
  if (min_len == max_len && max_len > 0 && len != max_len) {
    return "length " + std::to_string(len) + ", must be " + std::to_string(max_len);
  }
  if (max_len > 0 && len > max_len) {
    return "length " + std::to_string(len) + ", maximum " + std::to_string(max_len);
  }
  if (len < min_len) {
    return "length " + std::to_string(len) + ", minimum " + std::to_string(min_len);
  }
  return check_string_value(text, allowed, lexical);
}

std::string check_string_value(std::string_view text, const EnumSet& allowed, Lexical lexical) {
  if (!allowed.empty() && !allowed.contains(text)) {
    std::string p = "not one of ";
    for (uint8_t i = 0; i < allowed.count; ++i) {
      if (i > 0) p += ", ";
      p += allowed.values[i];
    }
    return p;
  }
  switch (lexical) {
    case Lexical::kAny:
      break;
    case Lexical::kDigits:
      if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
        return "not digits only";
      }
      break;
    case Lexical::kDate8:
      if (!parse_date8(text)) return "not a valid date (yyyyMMdd)";
      break;
    case Lexical::kDateTime14:
      if (!parse_datetime14(text)) return "not a valid time (yyyyMMddHHmmss)";
      break;
  }
  return {};
}

std::string parse_int_field(std::string_view text, uint16_t max_digits, int64_t* out) {
  // xs:int lexical form: [+-]?[0-9]+; totalDigits counts significant digits.
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) {
    return "not an integer";
  }
  while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
  if (s.size() > max_digits) return "more than " + std::to_string(max_digits) + " digits";
  if (s.size() > 10) return "out of range for xs:int";  // cannot fit, and keeps the sum small
  int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  if (negative) v = -v;
  if (v < INT32_MIN || v > INT32_MAX) return "out of range for xs:int";
  *out = v;
  return {};
}

std::string parse_decimal_field(std::string_view text, Decimal* out) {
  DecimalError e = parse_decimal(text, out);
  if (e == DecimalError::kOk) return {};
  return decimal_error_text(e);
}

void read_root_attribute(std::string_view raw, uint16_t min_len, uint16_t max_len, std::string* out,
                         ViolationList* violations, const std::string& path) {
  std::string_view text = trim_xml_space(raw);
  std::string problem = check_chars(text);
  if (!problem.empty()) {
    violations->note_char_problem();
    violations->add(0, path, std::move(problem));
    return;
  }
  problem = check_string(text, min_len, max_len, kNoEnum, Lexical::kAny);
  if (!problem.empty()) violations->add(0, path, std::move(problem));
  *out = std::string(text);
}

std::string too_many(size_t count, size_t max) {
  return std::to_string(count) + " elements, maximum " + std::to_string(max);
}

std::string indexed(std::string_view name, size_t one_based) {
  std::string s(name);
  s += '[';
  s += std::to_string(one_based);
  s += ']';
  return s;
}

}  // namespace cbec::ceb::internal
