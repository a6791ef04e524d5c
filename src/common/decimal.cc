#include "common/decimal.h"

#include <cassert>
#include <cstdlib>
#include <cstring>

namespace cbec {
namespace {
bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
}  // namespace

DecimalError parse_decimal(std::string_view s, Decimal* out) {
  while (!s.empty() && is_xml_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_xml_space(s.back())) s.remove_suffix(1);
  if (s.empty()) return DecimalError::kEmpty;
  bool negative = false;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  std::string_view int_part = s, frac_part;
  if (auto dot = s.find('.'); dot != std::string_view::npos) {
    int_part = s.substr(0, dot);
    frac_part = s.substr(dot + 1);
  }
  if (int_part.empty() && frac_part.empty()) return DecimalError::kSyntax;
  for (char c : int_part)
    if (c < '0' || c > '9') return DecimalError::kSyntax;
  for (char c : frac_part)
    if (c < '0' || c > '9') return DecimalError::kSyntax;
  // XSD counts significant digits: leading zeros of the integer part and trailing zeros of the
  // fraction do not count.
  while (int_part.size() > 1 && int_part.front() == '0') int_part.remove_prefix(1);
  if (int_part == "0") int_part = {};
  while (!frac_part.empty() && frac_part.back() == '0') frac_part.remove_suffix(1);
  if (frac_part.size() > static_cast<size_t>(kDecimalFractionDigits))
    return DecimalError::kTooManyFraction;
  if (int_part.size() + frac_part.size() > static_cast<size_t>(kDecimalTotalDigits))
    return DecimalError::kTooManyDigits;
  // value × 10^5 must fit in int64: at most 14 integer digits, and the top ones bounded.
  unsigned __int128 v = 0;
  for (char c : int_part) v = v * 10 + static_cast<unsigned>(c - '0');
  for (int i = 0; i < kDecimalFractionDigits; ++i) {
    v *= 10;
    if (static_cast<size_t>(i) < frac_part.size()) v += static_cast<unsigned>(frac_part[i] - '0');
  }
  if (v > static_cast<unsigned __int128>(INT64_MAX)) return DecimalError::kOutOfRange;
  out->units = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  out->present = true;
  return DecimalError::kOk;
}

const char* decimal_error_text(DecimalError e) {
  switch (e) {
    case DecimalError::kOk: return "ok";
    case DecimalError::kEmpty: return "empty decimal";
    case DecimalError::kSyntax: return "not a decimal number";
    case DecimalError::kTooManyFraction: return "more than 5 fraction digits";
    case DecimalError::kTooManyDigits: return "more than 19 digits";
    case DecimalError::kOutOfRange: return "value out of supported range";
  }
  return "?";
}

namespace {

// Writes the magnitude `v` (in units of 10^-digits) as "<whole>.<digits fraction digits>" into
// the end of out->chars, with a leading '-' when negative, and moves it to the front. 64 bits
// suffice: |INT64_MIN| = 2^63 fits in uint64_t, and so does 2^63 plus half a rounding step.
DecimalText write_fixed(bool negative, uint64_t v, int digits) {
  DecimalText out;
  char* end = out.chars + kMaxDecimalChars;
  char* p = end;
  for (int i = 0; i < digits; ++i) {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  if (digits > 0) *--p = '.';
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  // A value that rounds to zero is written without its sign ("0.00", never "-0.00").
  bool is_zero = true;
  for (const char* c = p; c != end; ++c) is_zero = is_zero && (*c == '0' || *c == '.');
  if (negative && !is_zero) *--p = '-';
  out.size = static_cast<uint8_t>(end - p);
  std::memmove(out.chars, p, out.size);
  return out;
}

uint64_t magnitude(int64_t units) {
  return units < 0 ? uint64_t{0} - static_cast<uint64_t>(units) : static_cast<uint64_t>(units);
}

}  // namespace

DecimalText decimal_text_fixed(Decimal d, int digits) {
  assert(digits >= 0 && digits <= kDecimalFractionDigits);
  uint64_t step = 1;
  for (int i = digits; i < kDecimalFractionDigits; ++i) step *= 10;
  // Half away from zero on the magnitude.
  return write_fixed(d.units < 0, (magnitude(d.units) + step / 2) / step, digits);
}

DecimalText decimal_text(Decimal d) {
  // Exact (no rounding): as many fraction digits as the value needs, none for an integer.
  uint64_t v = magnitude(d.units);
  int digits = kDecimalFractionDigits;
  while (digits > 0 && v % 10 == 0) {
    v /= 10;
    --digits;
  }
  return write_fixed(d.units < 0, v, digits);
}

std::string format_decimal(Decimal d) { return std::string(decimal_text(d).view()); }

std::string format_decimal_fixed(Decimal d, int digits) {
  return std::string(decimal_text_fixed(d, digits).view());
}

}  // namespace cbec
