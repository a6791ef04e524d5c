// Cross-border e-commerce retail import tax (跨境电商综合税), DOMAIN.md §7.
//
// Pure arithmetic over integer fen and basis points: no floating point. Intermediate amounts
// are exact rationals (128-bit); each tax is rounded half-up to the fen per line, and the list
// total is the sum of line taxes (Policy::rounding kOnce: exact line taxes summed, rounded once).
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
  BasisPoints tariff_bp = 0, vat_bp = 0, ct_bp = 0;  // rates applied
  Fen total_fen() const { return tariff_fen + ct_fen + vat_fen; }
};

struct ListTax {
  Regime regime = Regime::kPreferential;
  Fen dutiable_fen = 0;  // V of the list: goods + freight + insurance, rounded half-up to the fen
  Fen tariff_fen = 0;
  Fen ct_fen = 0;
  Fen vat_fen = 0;
  std::vector<LineTax> lines;
  Fen total_fen() const { return tariff_fen + ct_fen + vat_fen; }
};

// Dutiable value of a list (V), as R4/R5 compare it with the limits.
Fen dutiable_value_fen(const ListInput& in, const ref::Policy& policy);

// Computes the tax of a list under the given regime. Fails (kNotFound) naming the line when a
// gcode has no tax rate in force on in.date.
Result<ListTax> compute(const ListInput& in, Regime regime, const ref::ReferenceData& ref);

// JSON of a ListTax (per line and totals, amounts as "55.15" strings) for `cbec tax estimate`
// and the API.
std::string to_json(const ListTax& t);

}  // namespace cbec::tax
