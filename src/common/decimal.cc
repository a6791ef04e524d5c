#include "common/decimal.h"

#include <cassert>
#include <cstdlib>

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

std::string format_decimal(Decimal d) {
  std::string s = format_decimal_fixed(d, kDecimalFractionDigits);
  if (auto dot = s.find('.'); dot != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string format_decimal_fixed(Decimal d, int digits) {
  assert(digits >= 0 && digits <= kDecimalFractionDigits);
  bool negative = d.units < 0;
  unsigned __int128 v = negative ? -static_cast<__int128>(d.units) : d.units;
  unsigned __int128 step = 1;
  for (int i = digits; i < kDecimalFractionDigits; ++i) step *= 10;
  v = (v + step / 2) / step;  // half away from zero on the magnitude
  std::string frac;
  for (int i = 0; i < digits; ++i) {
    frac.insert(frac.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::string whole;
  do {
    whole.insert(whole.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  std::string out;
  bool is_zero = whole == "0" && frac.find_first_not_of('0') == std::string::npos;
  if (negative && !is_zero) out.push_back('-');
  out += whole;
  if (digits > 0) {
    out.push_back('.');
    out += frac;
  }
  return out;
}

}  // namespace cbec
