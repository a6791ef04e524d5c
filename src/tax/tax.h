// Cross-border e-commerce retail import tax (跨境电商综合税), DOMAIN.md §7.
//
// Pure arithmetic over integer fen and basis points: no floating point. Intermediate amounts
// are exact rationals (128-bit); each tax is rounded half-up to the fen per line, and the list
// total is the sum of line taxes (Policy::rounding kOnce: exact line taxes summed, rounded once).
//
// Dutiable value. V of the list = Σ line totalPrice + freight + insuredFee (− discount only if
// Policy::discount_reduces_dutiable), summed exactly in 1e-5 RMB units and rounded half-up to
// the fen once. Per line, freight + insurance (− discount) is allocated in proportion to the line
// values by the largest-remainder method in 1e-5 units (allocate_largest_remainder: every share
// is floored, the units left over go one each to the largest remainders, ties to the lower
// gnum), so the shares add up exactly; a list whose lines are all worth 0 (gifts) shares it
// equally. Line dutiable = round_half_up_fen(line value + share). Each line differs from its
// exact value by at most half a fen and so does V, hence
//     |Σ line dutiable_fen − V| ≤ ⌊(lines + 1) / 2⌋ fen   (dutiable_drift_bound_fen)
// and the line figures are what CEB816 carries per line (taxPrice).
//
// Taxes per line, on the line's dutiable value D (fen), B = 10000 bp, rates in bp:
//   preferential (within limits): tariff 0; ct_full = D·c/(B−c); vat_full = (D + ct_full)·v/B;
//     ct = ct_full × reduction, vat = vat_full × reduction (Policy::cbec_reduction_bp, 70 %).
//   full (single item over the limit): tariff = D·t/B; ct = (D + tariff)·c/(B−c);
//     vat = (D + tariff + ct)·v/B; no reduction.
// Every intermediate (tariff, ct_full) stays an exact rational; only the final taxes round.
// Consumption tax applies when the rate's CtRule is kAlways, or kCosmeticsHighEnd and the line is
// high-end: dutiable value per ml or g of net content ≥ Policy::cosmetics_threshold_per_ml_g_fen,
// or, for goods counted in pieces, dutiable value per piece ≥ ..._per_piece_fen. Net content
// comes from qty1/unit1 if unit1 is kg (035), g (036), L (095) or ml (096), else from qty/unit
// if that is one; pieces from qty1 if unit1 is a count unit (个, 件, 片, 张, 瓶, 支, 盒, ...), else
// from qty. The comparison is exact (cross-multiplied); a line with none of these units fails
// with kInvalidArgument rather than guessing.
//
// Rounding. kPerLine: each tax of each line rounded half-up; list taxes = sums of line taxes.
// kOnce: the line figures are still reported rounded per line (CEB816 has no sub-fen amounts),
// but the list figures come from the exact sums over lines: tariff and ct are each rounded
// half-up once, the total is the exact grand total rounded half-up once, and vat is the total
// minus tariff and ct (so it may differ by a fen from rounding the exact VAT sum alone, and the
// list total may differ from the sum of the reported line totals). DOMAIN.md §7 E4: wine
// V = 300.00 gives 23.33 + 30.33 = 53.66 per line, 53.67 once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/decimal.h"
#include "common/money.h"
#include "common/status.h"
#include "reference/reference.h"

namespace cbec::tax {

enum class Regime : uint8_t {
  kPreferential,  // within limits: tariff 0, VAT and CT at 70 % (Policy::cbec_reduction_bp)
  kFull,          // single indivisible item over the transaction limit: full tariff, CT, VAT
};

struct LineInput {
  int64_t gnum = 0;
  std::string_view gcode;  // 10 digits
  Decimal qty;             // declared quantity (unit)
  std::string_view unit;   // JGS-20 unit of qty
  Decimal qty1;            // legal first quantity (for cosmetics net content), may be absent
  std::string_view unit1;
  Decimal total_price;     // line goods value (RMB)
};

struct ListInput {
  std::span<const LineInput> lines;
  Decimal freight;      // RMB; absent = 0
  Decimal insured_fee;  // RMB; absent = 0
  Decimal discount;     // non-cash discount; reduces V only if Policy::discount_reduces_dutiable
  CivilDate date;       // decides tax-rate and policy versions
};

struct LineTax {
  int64_t gnum = 0;
  std::string gcode;
  Fen dutiable_fen = 0;  // line share of V (taxPrice), freight/insurance allocated by value
  Fen tariff_fen = 0;
  Fen ct_fen = 0;
  Fen vat_fen = 0;
  bool ct_high_end = false;  // cosmetics threshold met (only meaningful for kCosmeticsHighEnd)
  // Statutory rates applied, before the CBEC reduction: tariff_bp is 0 in the preferential
  // regime and ct_bp is 0 when no consumption tax applies to the line.
  BasisPoints tariff_bp = 0, vat_bp = 0, ct_bp = 0;
  Fen total_fen() const { return tariff_fen + ct_fen + vat_fen; }
};

struct ListTax {
  Regime regime = Regime::kPreferential;
  ref::TaxRounding rounding = ref::TaxRounding::kPerLine;  // of the policy in force on the date
  Fen dutiable_fen = 0;  // V of the list: goods + freight + insurance, rounded half-up to the fen
  Fen tariff_fen = 0;
  Fen ct_fen = 0;
  Fen vat_fen = 0;
  std::vector<LineTax> lines;
  Fen total_fen() const { return tariff_fen + ct_fen + vat_fen; }
};

// Dutiable value of a list (V), as R4/R5 compare it with the limits.
Fen dutiable_value_fen(const ListInput& in, const ref::Policy& policy);

// Bound on |Σ line dutiable_fen − list dutiable_fen| for a list of `lines` lines (see above).
constexpr Fen dutiable_drift_bound_fen(size_t lines) { return static_cast<Fen>((lines + 1) / 2); }

// Splits amount (any sign, in any integer unit) over lines in proportion to weights (≥ 0) by the
// largest-remainder method: shares are floored, the units left over go one each to the lines
// with the largest remainders, ties to the lower tie_key (gnum), then the earlier line. If every
// weight is 0 the lines share equally. The shares always add up to amount exactly.
// REQUIRES: weights.size() == tie_keys.size() > 0.
std::vector<int64_t> allocate_largest_remainder(int64_t amount, std::span<const int64_t> weights,
                                                std::span<const int64_t> tie_keys);
// The same into shares (one per weight), allocating nothing for lists of up to 16 lines.
// REQUIRES: also shares.size() == weights.size().
void allocate_largest_remainder(int64_t amount, std::span<const int64_t> weights,
                                std::span<const int64_t> tie_keys, std::span<int64_t> shares);

// Computes the tax of a list under the given regime with the policy in force on in.date. Fails
// with kNotFound naming gnum and gcode when a gcode has no tax rate in force on in.date, and with
// kInvalidArgument for an empty list, negative amounts, a discount larger than the value, or a
// cosmetics line whose units give neither net content nor pieces.
Result<ListTax> compute(const ListInput& in, Regime regime, const ref::ReferenceData& ref);

// JSON of a ListTax (per line and totals, amounts as "55.15" strings) for `cbec tax estimate`
// and the API:
//   {"regime":"preferential","rounding":"per_line","dutiable":"606.00","tariff":"0.00",
//    "ct":"0.00","vat":"55.15","total":"55.15","lines":[{"gnum":1,"gcode":"1901101090",
//    "dutiable":"606.00","tariff":"0.00","ct":"0.00","vat":"55.15","total":"55.15",
//    "tariff_bp":0,"ct_bp":0,"vat_bp":1300,"ct_high_end":false}]}
std::string to_json(const ListTax& t);

std::string_view regime_name(Regime r);              // "preferential" / "full"
std::string_view rounding_name(ref::TaxRounding r);  // "per_line" / "once"

}  // namespace cbec::tax
