#include "common/money.h"

#include <cassert>

namespace cbec {

namespace {
// Operands nearly always fit in 64 bits, where division is one instruction rather than a call to
// the 128-bit routines; both truncate toward zero, so the results are the same.
constexpr __int128 kInt64Max = INT64_MAX;
bool fits_int64(__int128 v) { return v >= INT64_MIN && v <= kInt64Max; }
}  // namespace

int64_t round_half_up(__int128 num, __int128 den) {
  assert(den > 0);
  bool negative = num < 0;
  __int128 mag = negative ? -num : num;
  __int128 n = mag * 2 + den, d = den * 2;
  __int128 q = fits_int64(n) && d <= kInt64Max
                   ? static_cast<int64_t>(n) / static_cast<int64_t>(d)
                   : n / d;
  return static_cast<int64_t>(negative ? -q : q);
}

int64_t floor_div(__int128 num, __int128 den) {
  assert(den > 0);
  if (fits_int64(num) && den <= kInt64Max) {
    int64_t n = static_cast<int64_t>(num), d = static_cast<int64_t>(den);
    return n / d - ((n % d != 0) && (n < 0));
  }
  __int128 q = num / den;
  if ((num % den != 0) && (num < 0)) --q;
  return static_cast<int64_t>(q);
}

std::string format_fen(Fen f) { return format_decimal_fixed(fen_to_decimal(f), 2); }

}  // namespace cbec
