#include "common/money.h"

#include <cassert>

namespace cbec {

int64_t round_half_up(__int128 num, __int128 den) {
  assert(den > 0);
  bool negative = num < 0;
  __int128 mag = negative ? -num : num;
  __int128 q = (mag * 2 + den) / (den * 2);
  return static_cast<int64_t>(negative ? -q : q);
}

int64_t floor_div(__int128 num, __int128 den) {
  assert(den > 0);
  __int128 q = num / den;
  if ((num % den != 0) && (num < 0)) --q;
  return static_cast<int64_t>(q);
}

std::string format_fen(Fen f) { return format_decimal_fixed(fen_to_decimal(f), 2); }

}  // namespace cbec
