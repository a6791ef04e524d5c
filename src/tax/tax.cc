// CBEC retail import tax (tax.h, DOMAIN.md §7). The formulas and rounding rules are documented
// in tax.h; this file keeps every amount exact until the one rounding step each figure has.
#include "tax/tax.h"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <utility>

#include "boost/container/small_vector.hpp"

namespace cbec::tax {

namespace {

using i128 = __int128;
constexpr i128 kB = kBasisPointsOne;

// Exact rationals stay far below this, so sums and cross products cannot overflow 128 bits.
constexpr i128 kMaxDenominator = i128{1} << 100;
// Amounts above this (10^13 RMB in 1e-5 units) are not money a parcel carries; refusing them
// keeps sums within int64 and every exact product far below 2^127.
constexpr i128 kMaxAmountUnits = i128{10000000000000} * kDecimalScale;

// Amounts, rates and their common denominators nearly always fit in 64 bits, where a division
// is one instruction instead of a call to the 128-bit routines (__divti3, __modti3: most of the
// cost of compute()). The results are the same: both truncate toward zero.
constexpr i128 kInt64Max = INT64_MAX;
bool fits_int64(i128 v) { return v >= INT64_MIN && v <= kInt64Max; }
i128 quot(i128 a, i128 b) {  // REQUIRES b > 0
  if (fits_int64(a) && b <= kInt64Max) return static_cast<int64_t>(a) / static_cast<int64_t>(b);
  return a / b;
}
i128 rem(i128 a, i128 b) {  // REQUIRES b > 0
  if (fits_int64(a) && b <= kInt64Max) return static_cast<int64_t>(a) % static_cast<int64_t>(b);
  return a % b;
}

// Binary GCD: shifts and subtractions only.
uint64_t gcd64(uint64_t a, uint64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  const int shift = __builtin_ctzll(a | b);
  a >>= __builtin_ctzll(a);
  do {
    b >>= __builtin_ctzll(b);
    if (a > b) std::swap(a, b);
    b -= a;
  } while (b != 0);
  return a << shift;
}

i128 gcd128(i128 a, i128 b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  constexpr i128 kUint64Max = UINT64_MAX;
  while (b != 0) {
    if (a <= kUint64Max && b <= kUint64Max) {
      return gcd64(static_cast<uint64_t>(a), static_cast<uint64_t>(b));
    }
    i128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// num / den in fen, den > 0, kept reduced.
struct Exact {
  i128 num = 0;
  i128 den = 1;
  static Exact Of(i128 num, i128 den) {
    i128 g = gcd128(num, den);
    if (g > 1) {
      num = quot(num, g);
      den = quot(den, g);
    }
    return Exact{num, den};
  }
  Fen Rounded() const { return round_half_up(num, den); }
};

// A sum of non-negative exact amounts: whole fen plus a reduced fraction in [0, 1). Lines have
// different denominators (B·(B−c) for each consumption-tax rate c), so the fraction's
// denominator is their least common multiple, which stays small for real rates.
class ExactSum {
 public:
  Status Add(const Exact& x) {
    i128 q = quot(x.num, x.den);  // amounts are non-negative, so truncation is floor
    i128 r = x.num - q * x.den;
    whole_ += q;
    i128 g = gcd128(den_, x.den);
    i128 lcm_factor = quot(x.den, g);
    // Two factors below 2^50 cannot pass kMaxDenominator = 2^100: no 128-bit division then.
    constexpr i128 kSmall = i128{1} << 50;
    if (!(den_ < kSmall && lcm_factor < kSmall) && den_ > kMaxDenominator / lcm_factor) {
      return Internal("exact tax sum: too many distinct rates to add exactly");
    }
    i128 den = den_ * lcm_factor;
    i128 num = num_ * lcm_factor + r * quot(den, x.den);
    whole_ += quot(num, den);
    num = rem(num, den);
    i128 h = gcd128(num, den);
    num_ = h > 1 ? quot(num, h) : num;
    den_ = h > 1 ? quot(den, h) : den;
    return Status::Ok();
  }
  Fen RoundedHalfUp() const { return static_cast<Fen>(whole_ + (2 * num_ >= den_ ? 1 : 0)); }

 private:
  i128 whole_ = 0;
  i128 num_ = 0;
  i128 den_ = 1;
};

// JGS-20 units of mass and volume, with their factor to g or ml.
int64_t content_factor(std::string_view unit) {
  if (unit == "035" || unit == "095") return 1000;  // 千克, 升
  if (unit == "036" || unit == "096") return 1;     // 克, 毫升
  return 0;
}

// JGS-20 units that count pieces (个, 件, 片, 张, 瓶, 支, 盒, ...): the per-piece threshold.
bool is_piece_unit(std::string_view unit) {
  static constexpr std::string_view kPieceUnits[] = {
      "006",  // 套
      "007",  // 个
      "008",  // 只
      "010",  // 张
      "011",  // 件
      "012",  // 支
      "017",  // 块
      "020",  // 片
      "022",  // 份
      "122",  // 罐
      "125",  // 包
      "136",  // 袋
      "139",  // 粒
      "140",  // 盒
      "142",  // 瓶
  };
  return std::find(std::begin(kPieceUnits), std::end(kPieceUnits), unit) != std::end(kPieceUnits);
}

// Whether a kCosmeticsHighEnd line reaches the high-end threshold (see tax.h).
Result<bool> cosmetics_high_end(const LineInput& line, Fen dutiable_fen, const ref::Policy& p) {
  i128 dutiable_units = i128{dutiable_fen} * kDecimalScale;
  auto check = [&](i128 amount_units, Fen threshold_fen, std::string_view what) -> Result<bool> {
    if (amount_units <= 0) {
      return InvalidArgument(fmt::format(
          "line gnum {}: gcode {} is taxed as cosmetics by price per {}, but its {} is not "
          "positive",
          line.gnum, line.gcode, what, what == "piece" ? "piece count" : "net content"));
    }
    // dutiable / (amount_units / 1e5) >= threshold, cross-multiplied.
    return dutiable_units >= i128{threshold_fen} * amount_units;
  };
  if (line.qty1.present && content_factor(line.unit1) != 0) {
    return check(i128{line.qty1.units} * content_factor(line.unit1),
                 p.cosmetics_threshold_per_ml_g_fen, "ml or g");
  }
  if (content_factor(line.unit) != 0) {
    return check(i128{line.qty.units} * content_factor(line.unit),
                 p.cosmetics_threshold_per_ml_g_fen, "ml or g");
  }
  if (line.qty1.present && is_piece_unit(line.unit1)) {
    return check(line.qty1.units, p.cosmetics_threshold_per_piece_fen, "piece");
  }
  if (is_piece_unit(line.unit)) {
    return check(line.qty.units, p.cosmetics_threshold_per_piece_fen, "piece");
  }
  return InvalidArgument(fmt::format(
      "line gnum {}: gcode {} is taxed as cosmetics by price per ml, g or piece, but neither unit "
      "'{}' nor unit1 '{}' is a mass, volume or piece unit",
      line.gnum, line.gcode, line.unit, line.unit1));
}

struct LineExact {
  Exact tariff, ct, vat;
};

// The three taxes of one line, exact (formulas in tax.h). m is the share of the statutory tax
// levied, over B: the CBEC reduction in the preferential regime, B (all of it) in the full one.
LineExact line_taxes(Fen dutiable_fen, Regime regime, const ref::TaxRate& rate, bool ct_applies,
                     BasisPoints reduction_bp) {
  i128 d = dutiable_fen;
  i128 t = regime == Regime::kFull ? rate.tariff_bp : 0;
  i128 c = ct_applies ? rate.ct_bp : 0;
  i128 v = rate.vat_bp;
  i128 m = regime == Regime::kFull ? kB : reduction_bp;
  i128 den = kB * (kB - c) * kB;
  LineExact e;
  e.tariff = Exact::Of(d * t, kB);
  e.ct = Exact::Of(d * (kB + t) * c * m, den);
  e.vat = Exact::Of(d * (kB + t) * v * m, den);
  return e;
}

i128 extra_units(const ListInput& in, const ref::Policy& policy) {
  i128 extra = i128{in.freight.units} + in.insured_fee.units;
  if (policy.discount_reduces_dutiable) extra -= in.discount.units;
  return extra;
}

i128 goods_units(const ListInput& in) {
  i128 sum = 0;
  for (const LineInput& l : in.lines) sum += l.total_price.units;
  return sum;
}

Status validate(const ListInput& in, const ref::Policy& policy) {
  if (in.lines.empty()) return InvalidArgument("list has no lines to tax");
  auto check_amount = [](Decimal d, std::string_view what) -> Status {
    if (d.units < 0) {
      return InvalidArgument(fmt::format("{} {} is negative", what, format_decimal(d)));
    }
    return Status::Ok();
  };
  TRY(check_amount(in.freight, "freight"));
  TRY(check_amount(in.insured_fee, "insuredFee"));
  TRY(check_amount(in.discount, "discount"));
  for (const LineInput& l : in.lines) {
    if (l.total_price.units < 0) {
      return InvalidArgument(fmt::format("line gnum {}: totalPrice {} is negative", l.gnum,
                                         format_decimal(l.total_price)));
    }
  }
  i128 goods = goods_units(in);
  i128 extra = extra_units(in, policy);
  if (goods > kMaxAmountUnits || extra > kMaxAmountUnits || extra < -kMaxAmountUnits) {
    return InvalidArgument("list value is beyond any plausible amount");
  }
  if (goods + extra < 0) {
    return InvalidArgument(fmt::format("discount {} exceeds goods value plus freight and insurance",
                                       format_decimal(in.discount)));
  }
  return Status::Ok();
}

}  // namespace

Fen dutiable_value_fen(const ListInput& in, const ref::Policy& policy) {
  return round_half_up(goods_units(in) + extra_units(in, policy), kUnitsPerFen);
}

// A list's lines rarely number more than a handful: the scratch of one computation stays on the
// stack up to this many (the heap beyond).
constexpr size_t kInlineLines = 16;
template <class T>
using LineScratch = boost::container::small_vector<T, kInlineLines>;

void allocate_largest_remainder(int64_t amount, std::span<const int64_t> weights,
                                std::span<const int64_t> tie_keys, std::span<int64_t> shares) {
  CBEC_ASSERT(!weights.empty() && weights.size() == tie_keys.size());
  CBEC_ASSERT(shares.size() == weights.size());
  size_t n = weights.size();
  i128 weight_sum = 0;
  for (int64_t w : weights) {
    CBEC_ASSERT(w >= 0);
    weight_sum += w;
  }
  bool equal = weight_sum == 0;  // all gifts: share equally
  if (equal) weight_sum = static_cast<i128>(n);

  LineScratch<i128> remainders(n);
  i128 floored = 0;
  for (size_t i = 0; i < n; ++i) {
    i128 product = i128{amount} * (equal ? 1 : weights[i]);
    shares[i] = floor_div(product, weight_sum);
    remainders[i] = product - i128{shares[i]} * weight_sum;  // in [0, weight_sum)
    floored += shares[i];
  }
  i128 left = amount - floored;  // Σ remainders / weight_sum, so 0 <= left < n
  CBEC_ASSERT(left >= 0 && left < static_cast<i128>(n));
  LineScratch<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (remainders[a] != remainders[b]) return remainders[a] > remainders[b];
    if (tie_keys[a] != tie_keys[b]) return tie_keys[a] < tie_keys[b];
    return a < b;
  });
  for (size_t k = 0; k < static_cast<size_t>(left); ++k) ++shares[order[k]];
}

std::vector<int64_t> allocate_largest_remainder(int64_t amount, std::span<const int64_t> weights,
                                                std::span<const int64_t> tie_keys) {
  std::vector<int64_t> shares(weights.size());
  allocate_largest_remainder(amount, weights, tie_keys, shares);
  return shares;
}

Result<ListTax> compute(const ListInput& in, Regime regime, const ref::ReferenceData& ref) {
  const ref::Policy& policy = ref.policy_at(in.date);
  TRY(validate(in, policy));

  ListTax out;
  out.regime = regime;
  out.rounding = policy.rounding;
  out.dutiable_fen = dutiable_value_fen(in, policy);

  size_t n = in.lines.size();
  LineScratch<int64_t> values(n), gnums(n), shares(n);
  for (size_t i = 0; i < n; ++i) {
    values[i] = in.lines[i].total_price.units;
    gnums[i] = in.lines[i].gnum;
  }
  // |extra| is bounded by validate(), so it fits int64 1e-5 units.
  allocate_largest_remainder(static_cast<int64_t>(extra_units(in, policy)),
                             std::span<const int64_t>(values.data(), n),
                             std::span<const int64_t>(gnums.data(), n),
                             std::span<int64_t>(shares.data(), n));

  ExactSum tariff_sum, ct_sum, vat_sum, total_sum;
  out.lines.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const LineInput& line = in.lines[i];
    const ref::TaxRate* rate = ref.tax_rate(line.gcode, in.date);
    if (rate == nullptr) {
      if (ref.goods(line.gcode) == nullptr) {
        return NotFound(fmt::format("line gnum {}: gcode {} is not in the goods reference data",
                                    line.gnum, line.gcode));
      }
      return NotFound(fmt::format("line gnum {}: gcode {} has no tax rate in force on {}",
                                  line.gnum, line.gcode, format_iso_date(in.date)));
    }
    LineTax lt;
    lt.gnum = line.gnum;
    lt.gcode = std::string(line.gcode);
    lt.dutiable_fen = round_half_up(i128{values[i]} + shares[i], kUnitsPerFen);

    bool ct_applies = false;
    switch (rate->ct_rule) {
      case ref::CtRule::kNone:
        break;
      case ref::CtRule::kAlways:
        ct_applies = true;
        break;
      case ref::CtRule::kCosmeticsHighEnd: {
        TRY_ASSIGN(lt.ct_high_end, cosmetics_high_end(line, lt.dutiable_fen, policy));
        ct_applies = lt.ct_high_end;
        break;
      }
    }
    // The loader refuses ct rates of 100 % or more; the formulas divide by (1 − c).
    CBEC_ASSERT(rate->ct_bp < kBasisPointsOne);
    LineExact e = line_taxes(lt.dutiable_fen, regime, *rate, ct_applies, policy.cbec_reduction_bp);
    lt.tariff_bp = regime == Regime::kFull ? rate->tariff_bp : 0;
    lt.ct_bp = ct_applies ? rate->ct_bp : 0;
    lt.vat_bp = rate->vat_bp;
    lt.tariff_fen = e.tariff.Rounded();
    lt.ct_fen = e.ct.Rounded();
    lt.vat_fen = e.vat.Rounded();

    out.tariff_fen += lt.tariff_fen;
    out.ct_fen += lt.ct_fen;
    out.vat_fen += lt.vat_fen;
    TRY(tariff_sum.Add(e.tariff));
    TRY(ct_sum.Add(e.ct));
    TRY(vat_sum.Add(e.vat));
    TRY(total_sum.Add(e.tariff));
    TRY(total_sum.Add(e.ct));
    TRY(total_sum.Add(e.vat));
    out.lines.push_back(std::move(lt));
  }

  if (policy.rounding == ref::TaxRounding::kOnce) {
    out.tariff_fen = tariff_sum.RoundedHalfUp();
    out.ct_fen = ct_sum.RoundedHalfUp();
    out.vat_fen = total_sum.RoundedHalfUp() - out.tariff_fen - out.ct_fen;
    // VAT absorbs at most the rounding of the other two kinds and of the total.
    CBEC_ASSERT(std::abs(out.vat_fen - vat_sum.RoundedHalfUp()) <= 1);
  }
  CBEC_ASSERT(std::abs(std::accumulate(out.lines.begin(), out.lines.end(), Fen{0},
                                       [](Fen s, const LineTax& l) { return s + l.dutiable_fen; }) -
                       out.dutiable_fen) <= dutiable_drift_bound_fen(n));
  return out;
}

std::string_view regime_name(Regime r) {
  switch (r) {
    case Regime::kPreferential:
      return "preferential";
    case Regime::kFull:
      return "full";
  }
  return "unknown";
}

std::string_view rounding_name(ref::TaxRounding r) {
  switch (r) {
    case ref::TaxRounding::kPerLine:
      return "per_line";
    case ref::TaxRounding::kOnce:
      return "once";
  }
  return "unknown";
}

std::string to_json(const ListTax& t) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  auto money = [&](std::string_view key, Fen f) {
    str(key);
    str(format_fen(f));
  };
  w.StartObject();
  str("regime");
  str(regime_name(t.regime));
  str("rounding");
  str(rounding_name(t.rounding));
  money("dutiable", t.dutiable_fen);
  money("tariff", t.tariff_fen);
  money("ct", t.ct_fen);
  money("vat", t.vat_fen);
  money("total", t.total_fen());
  str("lines");
  w.StartArray();
  for (const LineTax& l : t.lines) {
    w.StartObject();
    str("gnum");
    w.Int64(l.gnum);
    str("gcode");
    str(l.gcode);
    money("dutiable", l.dutiable_fen);
    money("tariff", l.tariff_fen);
    money("ct", l.ct_fen);
    money("vat", l.vat_fen);
    money("total", l.total_fen());
    str("tariff_bp");
    w.Int64(l.tariff_bp);
    str("ct_bp");
    w.Int64(l.ct_bp);
    str("vat_bp");
    w.Int64(l.vat_bp);
    str("ct_high_end");
    w.Bool(l.ct_high_end);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace cbec::tax
