// Money is integer fen (0.01 RMB) in int64. Rates are exact integers.
//
// Conversions from message decimals (1e-5 RMB) to fen and every tax computation round with a
// named function, so the rounding rule of each step is visible where it is applied.
#pragma once

#include <cstdint>
#include <string>

#include "common/decimal.h"

namespace cbec {

using Fen = int64_t;
inline constexpr int64_t kUnitsPerFen = kDecimalScale / 100;  // 1e-5 RMB units in one fen

// Basis points: 1 bp = 0.01 %. 13 % VAT = 1300 bp, 70 % CBEC reduction = 7000 bp.
using BasisPoints = int64_t;
inline constexpr BasisPoints kBasisPointsOne = 10000;

// Rounds num/den (den > 0) half away from zero to an integer. Exact (128-bit).
int64_t round_half_up(__int128 num, __int128 den);
// Rounds num/den toward negative infinity.
int64_t floor_div(__int128 num, __int128 den);

// A Decimal amount in RMB to fen, half-up (完税价格采用四舍五入法计算至分).
inline Fen round_half_up_fen(Decimal amount) { return round_half_up(amount.units, kUnitsPerFen); }
// Fen to the Decimal form a message carries.
inline Decimal fen_to_decimal(Fen f) { return Decimal::of_units(f * kUnitsPerFen); }

// "1234.50" style text for receipts and messages (always two fraction digits).
std::string format_fen(Fen f);

}  // namespace cbec
