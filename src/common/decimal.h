// Exact decimals as CEB messages carry them (xs:decimal, totalDigits 19, fractionDigits 5).
//
// A Decimal is an integer count of 1e-5 units. Money inside cbec is integer fen (see money.h);
// converting a Decimal amount to fen is an explicit rounding step, never implicit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cbec {

inline constexpr int kDecimalFractionDigits = 5;
inline constexpr int64_t kDecimalScale = 100000;  // 10^kDecimalFractionDigits
inline constexpr int kDecimalTotalDigits = 19;

struct Decimal {
  int64_t units = 0;     // value × 10^5
  bool present = false;  // false when an optional element was absent
  bool operator==(const Decimal&) const = default;

  static constexpr Decimal of_units(int64_t u) { return Decimal{u, true}; }
  static constexpr Decimal of_int(int64_t v) { return Decimal{v * kDecimalScale, true}; }
};

enum class DecimalError : uint8_t {
  kOk,
  kEmpty,
  kSyntax,            // not [+-]?digits[.digits]
  kTooManyFraction,   // more than 5 fraction digits
  kTooManyDigits,     // more than 19 digits in total
  kOutOfRange,        // valid XSD decimal, but beyond what an int64 of 1e-5 units holds
};

// Parses the XSD lexical form of a decimal. Leading and trailing XML whitespace is ignored.
DecimalError parse_decimal(std::string_view text, Decimal* out);
const char* decimal_error_text(DecimalError e);

// Canonical text: no exponent, no trailing fraction zeros, "0" for zero ("12.5", "-0.00001").
std::string format_decimal(Decimal d);
// Fixed number of fraction digits (0..5), rounding half away from zero if digits < 5.
std::string format_decimal_fixed(Decimal d, int fraction_digits);

// The same texts in a buffer on the stack, for hot paths that only hash or append them (record
// digests, receipts): formatting a decimal then allocates nothing.
// Longest text: sign, 14 integer digits (|INT64_MIN| / 10^5 < 10^14), point, 5 fraction digits.
inline constexpr size_t kMaxDecimalChars = 1 + 14 + 1 + kDecimalFractionDigits;
struct DecimalText {
  char chars[kMaxDecimalChars];
  uint8_t size = 0;
  std::string_view view() const { return {chars, size}; }
};
DecimalText decimal_text(Decimal d);                           // as format_decimal
DecimalText decimal_text_fixed(Decimal d, int fraction_digits);  // as format_decimal_fixed

}  // namespace cbec
