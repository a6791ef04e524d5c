// Tests of the demo zone and the document-set generator (src/gen/gen.h).
//
// The checks here are written independently of the generator and of the clearance engine: a
// small rule checker (M1–M9, R2–R6, replayed in generation order) and a hand calculation of the
// tax (DOMAIN.md §7 and the allocation rule stated in tax.h), so that a generator that builds
// inconsistent sets, or a tax engine that computes a wrong figure, fails here.
#include "gen/gen.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/money.h"
#include "common/time.h"
#include "messages/ceb.h"
#include "messages/field.h"
#include "reference/reference.h"
#include "tax/tax.h"

namespace cbec::gen {
namespace {

const ref::ReferenceData& reference() {
  static const std::shared_ptr<const ref::ReferenceData> kRef = [] {
    auto r = ref::ReferenceData::LoadDefaults();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : nullptr;
  }();
  return *kRef;
}

Fen to_fen_exact(Decimal d) {
  EXPECT_EQ(d.units % kUnitsPerFen, 0) << "sub-fen amount " << format_decimal(d);
  return d.units / kUnitsPerFen;
}

// ---- Resident ID check, written from GB 11643 ------------------------------------------------

bool resident_id_valid(const std::string& id) {
  if (id.size() != 18) return false;
  static const int kW[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int s = 0;
  for (int i = 0; i < 17; ++i) {
    if (id[i] < '0' || id[i] > '9') return false;
    s += (id[i] - '0') * kW[i];
  }
  if (!is_valid_date(std::stoi(id.substr(6, 4)), std::stoi(id.substr(10, 2)),
                     std::stoi(id.substr(12, 2))))
    return false;
  const char expected = "10X98765432"[s % 11];
  return id[17] == expected;
}

TEST(ResidentId, CheckCharacter) {
  EXPECT_EQ(id_check_char("11010519491231002"), 'X');
  EXPECT_TRUE(resident_id_valid("11010519491231002X"));
  EXPECT_FALSE(resident_id_valid("110105194912310021"));
  // The generator's check character agrees with the one written here, for every sequence
  // number of a day (all eleven check characters occur).
  std::set<char> seen;
  for (int seq = 1; seq <= 999; ++seq) {
    const std::string body = "41010519850101" + std::to_string(1000 + seq).substr(1);
    const char c = id_check_char(body);
    seen.insert(c);
    EXPECT_TRUE(resident_id_valid(body + c)) << body;
    EXPECT_FALSE(resident_id_valid(body + (c == '0' ? '1' : '0'))) << body;
  }
  EXPECT_EQ(seen.size(), 11u);
}

// ---- Hand calculation of the tax ------------------------------------------------------------

struct HandLine {
  std::string gcode;
  int64_t value_units;  // totalPrice, 1e-5 RMB
  int64_t qty_units;
  std::string unit1;
  int64_t qty1_units;
};
struct HandTax {
  Fen dutiable_fen = 0;
  std::vector<Fen> line_dutiable_fen, tariff_fen, ct_fen, vat_fen;
  Fen tariff = 0, ct = 0, vat = 0;
  Fen total() const { return tariff + ct + vat; }
};

// Half-up division of non-negative numbers.
int64_t div_half_up(__int128 num, __int128 den) {
  return static_cast<int64_t>((2 * num + den) / (2 * den));
}

// V = Σ values + freight + insurance; the extra is shared by value (largest remainder, ties to
// the lower gnum), each line's dutiable value rounded half-up to the fen. Then DOMAIN §7.
HandTax hand_tax(const std::vector<HandLine>& lines, int64_t extra_units, CivilDate date,
                 bool full) {
  const ref::ReferenceData& ref = reference();
  const ref::Policy& p = ref.policy_at(date);
  HandTax h;
  int64_t goods = 0;
  for (const HandLine& l : lines) goods += l.value_units;
  h.dutiable_fen = div_half_up(goods + extra_units, kUnitsPerFen);
  std::vector<int64_t> share(lines.size());
  std::vector<std::pair<__int128, size_t>> remainders;
  int64_t given = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const __int128 num = static_cast<__int128>(extra_units) * lines[i].value_units;
    share[i] = static_cast<int64_t>(num / goods);
    given += share[i];
    remainders.push_back({num % goods, i});
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (int64_t k = 0; k < extra_units - given; ++k) ++share[remainders[k].second];

  const __int128 B = kBasisPointsOne;
  for (size_t i = 0; i < lines.size(); ++i) {
    const HandLine& l = lines[i];
    const Fen d = div_half_up(l.value_units + share[i], kUnitsPerFen);
    const ref::TaxRate* rate = ref.tax_rate(l.gcode, date);
    EXPECT_NE(rate, nullptr) << l.gcode;
    if (rate == nullptr) return h;
    bool ct_applies = rate->ct_rule == ref::CtRule::kAlways;
    if (rate->ct_rule == ref::CtRule::kCosmeticsHighEnd) {
      // Per ml (L × 1000) or g (kg × 1000): 1 ml = 100 Decimal units of L.
      if (l.unit1 == "095" || l.unit1 == "035") {
        ct_applies = static_cast<__int128>(d) * 100 >=
                     static_cast<__int128>(p.cosmetics_threshold_per_ml_g_fen) * l.qty1_units;
      } else {
        ct_applies = static_cast<__int128>(d) * kDecimalScale >=
                     static_cast<__int128>(p.cosmetics_threshold_per_piece_fen) * l.qty_units;
      }
    }
    const __int128 c = ct_applies ? rate->ct_bp : 0;
    const __int128 v = rate->vat_bp;
    Fen tariff = 0, ct, vat;
    if (!full) {
      const __int128 r = p.cbec_reduction_bp;
      // ct = D·c/(B−c)·r/B ; vat = (D + D·c/(B−c))·v/B·r/B = D·B/(B−c)·v·r/B².
      ct = div_half_up(d * c * r, (B - c) * B);
      vat = div_half_up(d * v * r, (B - c) * B);
    } else {
      const __int128 t = rate->tariff_bp;
      // tariff = D·t/B; ct = (D + tariff)·c/(B−c) = D(B+t)c / (B(B−c));
      // vat = (D + tariff + ct)·v/B = D(B+t)/B · B/(B−c) · v/B = D(B+t)v / (B(B−c)).
      tariff = div_half_up(d * t, B);
      ct = div_half_up(d * (B + t) * c, B * (B - c));
      vat = div_half_up(d * (B + t) * v, B * (B - c));
    }
    h.line_dutiable_fen.push_back(d);
    h.tariff_fen.push_back(tariff);
    h.ct_fen.push_back(ct);
    h.vat_fen.push_back(vat);
    h.tariff += tariff;
    h.ct += ct;
    h.vat += vat;
  }
  return h;
}

HandTax hand_tax(const ceb::Inventory& list, bool full) {
  std::vector<HandLine> lines;
  for (const auto& l : list.lists)
    lines.push_back({l.gcode, l.totalPrice.units, l.qty.units, l.unit1, l.qty1.units});
  return hand_tax(lines, list.head.freight.units + list.head.insuredFee.units,
                  *parse_date8(list.head.declTime), full);
}

constexpr CivilDate kDay{2025, 6, 18};
constexpr uint64_t kStressSeeds = 60;
constexpr int64_t kYuan = kDecimalScale;

// The worked examples of DOMAIN.md §7, by hand and through tax::compute.
struct Example {
  const char* what;
  std::vector<HandLine> lines;
  int64_t freight_units;
  bool full;
  Fen dutiable, tariff, ct, vat;
};

TEST(HandTax, WorkedExamplesOfDomain) {
  ASSERT_EQ(reference().policy_at(kDay).rounding, ref::TaxRounding::kPerLine);
  const std::vector<Example> examples = {
      {"2 cans formula + 10.00 freight",
       {{"1901101090", 596 * kYuan, 2 * kYuan, "035", 160000}},
       10 * kYuan,
       false,
       60600,
       0,
       0,
       5515},
      {"serum 50 ml",
       {{"3304990099", 650 * kYuan, 1 * kYuan, "095", 5000}},
       0,
       false,
       65000,
       0,
       8029,
       6959},
      {"lotion 100 ml",
       {{"3304990099", 80 * kYuan, 1 * kYuan, "095", 10000}},
       0,
       false,
       8000,
       0,
       0,
       728},
      {"wine",
       {{"2204210000", 300 * kYuan, 1 * kYuan, "095", 75000}},
       0,
       false,
       30000,
       0,
       2333,
       3033},
      {"sunglasses over the limit, full tax",
       {{"9004100000", 6000 * kYuan, 1 * kYuan, "007", kYuan}},
       0,
       true,
       600000,
       60000,
       0,
       85800},
  };
  for (const Example& e : examples) {
    SCOPED_TRACE(e.what);
    HandTax h = hand_tax(e.lines, e.freight_units, kDay, e.full);
    EXPECT_EQ(h.dutiable_fen, e.dutiable);
    EXPECT_EQ(h.tariff, e.tariff);
    EXPECT_EQ(h.ct, e.ct);
    EXPECT_EQ(h.vat, e.vat);

    std::vector<tax::LineInput> in_lines;
    for (size_t i = 0; i < e.lines.size(); ++i) {
      const HandLine& l = e.lines[i];
      in_lines.push_back({static_cast<int64_t>(i + 1), l.gcode, Decimal::of_units(l.qty_units),
                          l.unit1 == "007" ? "007" : "142", Decimal::of_units(l.qty1_units),
                          l.unit1, Decimal::of_units(l.value_units)});
    }
    tax::ListInput in{in_lines, Decimal::of_units(e.freight_units), Decimal::of_int(0),
                      Decimal::of_int(0), kDay};
    auto t =
        tax::compute(in, e.full ? tax::Regime::kFull : tax::Regime::kPreferential, reference());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->dutiable_fen, e.dutiable);
    EXPECT_EQ(t->tariff_fen, e.tariff);
    EXPECT_EQ(t->ct_fen, e.ct);
    EXPECT_EQ(t->vat_fen, e.vat);
  }
}

// Runs the tax engine on the same lines and compares every figure with the hand calculation.
void expect_engine_agrees(const std::vector<HandLine>& lines, int64_t extra_units, bool full,
                          const HandTax& h) {
  std::vector<tax::LineInput> in_lines;
  for (size_t i = 0; i < lines.size(); ++i) {
    const HandLine& l = lines[i];
    in_lines.push_back({static_cast<int64_t>(i + 1), l.gcode, Decimal::of_units(l.qty_units), "007",
                        Decimal::of_units(l.qty1_units), l.unit1,
                        Decimal::of_units(l.value_units)});
  }
  tax::ListInput in{in_lines, Decimal::of_units(extra_units), Decimal::of_int(0),
                    Decimal::of_int(0), kDay};
  auto t = tax::compute(in, full ? tax::Regime::kFull : tax::Regime::kPreferential, reference());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->lines.size(), lines.size());
  EXPECT_EQ(t->dutiable_fen, h.dutiable_fen);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(t->lines[i].dutiable_fen, h.line_dutiable_fen[i]) << "line " << i + 1;
    EXPECT_EQ(t->lines[i].tariff_fen, h.tariff_fen[i]) << "line " << i + 1;
    EXPECT_EQ(t->lines[i].ct_fen, h.ct_fen[i]) << "line " << i + 1;
    EXPECT_EQ(t->lines[i].vat_fen, h.vat_fen[i]) << "line " << i + 1;
  }
}

TEST(HandTax, FreightIsSharedByValueWithLargestRemainder) {
  // 3 lines of 1.00 share 0.10: 3333.33 units each, the one unit left goes to gnum 1.
  std::vector<HandLine> lines = {{"1901101090", kYuan, kYuan, "035", kYuan},
                                 {"1901101090", kYuan, kYuan, "035", kYuan},
                                 {"1901101090", kYuan, kYuan, "035", kYuan}};
  HandTax h = hand_tax(lines, kYuan / 10, kDay, false);
  EXPECT_EQ(h.dutiable_fen, 310);
  EXPECT_EQ(h.line_dutiable_fen, (std::vector<Fen>{103, 103, 103}));
  expect_engine_agrees(lines, kYuan / 10, false, h);

  // Two equal lines share 999 units: 499.5 each, so the tie decides which line reaches half a
  // fen (100.500 → 101) and which stays below it (100.499 → 100). Ties go to the lower gnum.
  std::vector<HandLine> tie = {{"1901101090", kYuan, kYuan, "035", kYuan},
                               {"1901101090", kYuan, kYuan, "035", kYuan}};
  h = hand_tax(tie, 999, kDay, false);
  EXPECT_EQ(h.line_dutiable_fen, (std::vector<Fen>{101, 100}));
  expect_engine_agrees(tie, 999, false, h);
}

TEST(HandTax, CosmeticsThresholdIsInclusive) {
  // Exactly 10.00 per ml (500.00 for 50 ml) and exactly 15.00 per piece are high-end.
  std::vector<HandLine> per_ml = {{"3304990099", 500 * kYuan, kYuan, "095", 5000}};
  HandTax h = hand_tax(per_ml, 0, kDay, false);
  EXPECT_EQ(h.ct, 6176);  // 500 / 0.85 × 0.15 × 0.7 = 61.76
  expect_engine_agrees(per_ml, 0, false, h);
  std::vector<HandLine> below = {{"3304990099", 500 * kYuan - kUnitsPerFen, kYuan, "095", 5000}};
  h = hand_tax(below, 0, kDay, false);
  EXPECT_EQ(h.ct, 0);
  expect_engine_agrees(below, 0, false, h);
  std::vector<HandLine> per_piece = {{"3304100000", 30 * kYuan, 2 * kYuan, "007", 2 * kYuan}};
  h = hand_tax(per_piece, 0, kDay, false);
  EXPECT_GT(h.ct, 0);
  expect_engine_agrees(per_piece, 0, false, h);
}

// ---- The demo zone --------------------------------------------------------------------------

bool ean13_valid(const std::string& code) {
  if (code.size() != 13) return false;
  int sum = 0;
  for (int i = 0; i < 13; ++i) sum += (code[i] - '0') * (i % 2 == 0 ? 1 : 3);
  return sum % 10 == 0;
}

TEST(DemoZone, PartiesAndAccountBook) {
  const Zone z = demo_zone();
  EXPECT_EQ(z.customsCode, "4612");
  EXPECT_EQ(z.portCode, "4612");
  EXPECT_EQ(z.emsNo, "T4612W000001");
  std::set<std::string> codes;
  for (const Enterprise& e : z.enterprises) {
    EXPECT_EQ(e.code.size(), 10u) << e.code;
    EXPECT_TRUE(codes.insert(e.code).second) << "duplicate " << e.code;
    EXPECT_FALSE(e.name.empty());
    EXPECT_NE(e.roles, 0u);
    EXPECT_EQ(e.guarantee_fen > 0, e.has(kRoleGuarantor)) << e.code;
    // M9: a guarantor must be able to be the agent, the ebc or the logistics company.
    if (e.has(kRoleGuarantor)) {
      EXPECT_TRUE(e.has(kRoleAgent) || e.has(kRoleEbc) || e.has(kRoleLogistics));
    }
  }
  EXPECT_EQ(z.with_role(kRoleEbp).size(), 2u);
  EXPECT_EQ(z.with_role(kRolePay).size(), 2u);
  // Two couriers and the O2O hall, which issues the pickup waybills of its own orders.
  EXPECT_EQ(z.with_role(kRoleLogistics).size(), 3u);
  ASSERT_NE(z.find(z.areaCode), nullptr);
  EXPECT_TRUE(z.find(z.areaCode)->has(kRoleAgent));
  EXPECT_TRUE(z.find(z.areaCode)->has(kRoleOperator));
  EXPECT_TRUE(z.find(z.areaCode)->has(kRoleGuarantor));
  ASSERT_NE(z.find(z.hallCode), nullptr);
  EXPECT_TRUE(z.find(z.hallCode)->has(kRoleHall));
  EXPECT_TRUE(z.find(z.hallCode)->has(kRoleLogistics));
  EXPECT_EQ(role_names(z.find(z.areaCode)->roles), "agent,operator,guarantor");
  EXPECT_GE(z.officers.size(), 3u);
  EXPECT_EQ(z.find("4101969999"), nullptr);

  EXPECT_GE(z.items.size(), 20u);
  std::set<std::string> numbers;
  int limited = 0, premium = 0, off_list = 0;
  for (const BookItem& it : z.items) {
    SCOPED_TRACE(it.name);
    EXPECT_TRUE(numbers.insert(it.itemRecordNo).second);
    EXPECT_EQ(it.gcode.size(), 10u);
    EXPECT_TRUE(ean13_valid(it.barCode)) << it.barCode;
    EXPECT_EQ(it.unit.size(), 3u);
    EXPECT_TRUE(it.unit1 == "035" || it.unit1 == "095" || it.unit1 == "007");
    EXPECT_GT(it.qty1_per_unit_units, 0);
    EXPECT_GT(it.price_fen, 0);
    EXPECT_EQ(it.country.size(), 3u);
    EXPECT_GT(it.initial_stock, 0);
    EXPECT_NE(reference().tax_rate(it.gcode, kDay), nullptr);
    const bool on_list = reference().positive_list(it.gcode.substr(0, 8), kDay) != nullptr;
    EXPECT_EQ(on_list, !it.off_list);
    limited += it.limited;
    premium += it.premium;
    off_list += it.off_list;
  }
  EXPECT_EQ(limited, 1);
  EXPECT_EQ(premium, 1);
  EXPECT_EQ(off_list, 1);
  EXPECT_EQ(z.item("22")->gcode, "2402200000");
}

// ---- An independent rule checker ------------------------------------------------------------

struct Finding {
  std::string rule;
  std::string field;
};

// Replays sets in order as an engine that releases every set without findings would.
class Checker {
 public:
  explicit Checker(const Zone& zone) : zone_(zone) {
    for (const BookItem& it : zone.items) stock_[it.itemRecordNo] = it.initial_stock * kYuan;
  }

  std::vector<Finding> check(const DocSet& s) {
    std::vector<Finding> f;
    const auto& O = s.order.head;
    const auto& P = s.payment.head;
    const auto& W = s.waybill.head;
    const auto& L = s.inventory.head;
    auto add = [&](const char* rule, std::string field) { f.push_back({rule, std::move(field)}); };

    if (O.acturalPaid.units !=
        O.goodsValue.units + O.freight.units + O.taxTotal.units - O.discount.units)
      add("M1", "Order/OrderHead/acturalPaid");
    if (O.acturalPaid != P.amountPaid) add("M2", "Payment/PaymentHead/amountPaid");
    if (O.buyerName != P.payerName) add("M3", "Payment/PaymentHead/payerName");
    if (O.buyerIdNumber != P.payerIdNumber) add("M3", "Payment/PaymentHead/payerIdNumber");
    if (O.consignee != W.consignee) add("M4", "Logistics/LogisticsHead/consignee");
    if (O.consigneeTelephone != W.consigneeTelephone)
      add("M4", "Logistics/LogisticsHead/consigneeTelephone");
    if (O.consigneeAddress != W.consigneeAddress)
      add("M4", "Logistics/LogisticsHead/consigneeAddress");
    for (size_t i = 0; i < s.order.lists.size(); ++i) {
      const auto& l = s.order.lists[i];
      if (static_cast<__int128>(l.price.units) * l.qty.units !=
          static_cast<__int128>(l.totalPrice.units) * kDecimalScale)
        add("M5", "Order/OrderList[" + std::to_string(i + 1) + "]/totalPrice");
    }
    if (s.inventory.lists.size() != s.order.lists.size()) add("M6", "Inventory/InventoryList");
    for (size_t i = 0; i < std::min(s.inventory.lists.size(), s.order.lists.size()); ++i) {
      const auto& il = s.inventory.lists[i];
      const auto& ol = s.order.lists[i];
      const std::string path = "Inventory/InventoryList[" + std::to_string(i + 1) + "]";
      if (il.gnum != ol.gnum) add("M6", path + "/gnum");
      if (il.gname != ol.itemName) add("M6", path + "/gname");
      if (il.qty != ol.qty) add("M6", path + "/qty");
      if (il.totalPrice != ol.totalPrice) add("M6", path + "/totalPrice");
    }
    if (L.orderNo != O.orderNo || L.ebpCode != O.ebpCode || L.ebcCode != O.ebcCode ||
        L.logisticsCode != W.logisticsCode || L.logisticsNo != W.logisticsNo ||
        W.orderNo != O.orderNo || P.orderNo != O.orderNo || P.ebpCode != O.ebpCode ||
        L.buyerIdNumber != O.buyerIdNumber || L.buyerName != O.buyerName ||
        L.buyerTelephone != O.buyerTelephone)
      add("M6", "Inventory/InventoryHead");
    if (O.payCode != P.payCode) add("M7", "Order/OrderHead/payCode");
    if (O.payTransactionId != P.payTransactionId) add("M7", "Order/OrderHead/payTransactionId");
    if (L.tradeMode == "1210") {
      if (L.emsNo.empty()) add("M8", "Inventory/InventoryHead/emsNo");
      if (L.areaCode.empty()) add("M8", "Inventory/InventoryHead/areaCode");
      for (size_t i = 0; i < s.inventory.lists.size(); ++i)
        if (s.inventory.lists[i].itemRecordNo.empty())
          add("M8", "Inventory/InventoryList[" + std::to_string(i + 1) + "]/itemRecordNo");
      if (L.country != "142") add("M8", "Inventory/InventoryHead/country");
    } else if (L.tradeMode == "9610") {
      if (L.trafNo.empty() || L.voyageNo.empty() || L.billNo.empty())
        add("M8", "Inventory/InventoryHead/billNo");
    } else {
      add("M8", "Inventory/InventoryHead/tradeMode");
    }
    const Enterprise* guarantor = zone_.find(L.assureCode);
    if ((L.assureCode != L.agentCode && L.assureCode != L.ebcCode &&
         L.assureCode != L.logisticsCode) ||
        guarantor == nullptr || !guarantor->has(kRoleGuarantor))
      add("M9", "Inventory/InventoryHead/assureCode");

    if (!resident_id_valid(L.buyerIdNumber)) add("R2", "Inventory/InventoryHead/buyerIdNumber");

    const CivilDate date = *parse_date8(L.declTime);
    const ref::Policy& policy = reference().policy_at(date);
    std::map<std::pair<std::string, std::string>, int64_t> capped_here;
    for (size_t i = 0; i < s.inventory.lists.size(); ++i) {
      const auto& il = s.inventory.lists[i];
      const std::string path = "Inventory/InventoryList[" + std::to_string(i + 1) + "]/gcode";
      const ref::PositiveListEntry* pl = reference().positive_list(il.gcode.substr(0, 8), date);
      if (pl == nullptr) {
        add("R3", path);
        continue;
      }
      if (pl->bonded_only && L.tradeMode != "1210") add("R3", path);
      if (!pl->name_must_contain.empty() &&
          il.gname.find(pl->name_must_contain) == std::string::npos)
        add("R3", path);
      if (pl->yearly_cap_units > 0) {
        if (il.unit1 != pl->yearly_cap_unit) add("R3", path);
        capped_here[{L.buyerIdNumber, pl->tariff8}] += il.qty1.units;
      }
    }
    const int year = date.year;
    for (const auto& [key, units] : capped_here) {
      const ref::PositiveListEntry* pl = reference().positive_list(key.second, date);
      if (capped_[{key.first, year, key.second}] + units > pl->yearly_cap_units)
        add("R3", "Inventory/InventoryList");
    }

    HandTax h = hand_tax(s.inventory, false);
    const bool single_item =
        s.inventory.lists.size() == 1 && s.inventory.lists[0].qty.units == kYuan;
    if (h.dutiable_fen > policy.transaction_limit_fen && !single_item)
      add("R4", "Inventory/InventoryHead");
    if (totals_[{L.buyerIdNumber, year}] + h.dutiable_fen > policy.annual_limit_fen)
      add("R5", "Inventory/InventoryHead/buyerIdNumber");
    std::map<std::string, int64_t> need;
    if (L.tradeMode == "1210")
      for (const auto& il : s.inventory.lists) need[il.itemRecordNo] += il.qty.units;
    for (size_t i = 0; i < s.inventory.lists.size(); ++i) {
      const auto& no = s.inventory.lists[i].itemRecordNo;
      if (L.tradeMode == "1210" && !no.empty() && need[no] > stock_[no])
        add("R6", "Inventory/InventoryList[" + std::to_string(i + 1) + "]/qty");
    }

    if (f.empty()) {  // released: the ledgers move
      totals_[{L.buyerIdNumber, year}] += h.dutiable_fen;
      for (const auto& [key, units] : capped_here) capped_[{key.first, year, key.second}] += units;
      for (const auto& [no, units] : need) stock_[no] -= units;
    }
    return f;
  }

 private:
  const Zone& zone_;
  std::map<std::pair<std::string, int>, Fen> totals_;
  std::map<std::tuple<std::string, int, std::string>, int64_t> capped_;
  std::map<std::string, int64_t> stock_;  // Decimal units
};

// ---- XSD facets, walked from the field tables ----------------------------------------------

size_t code_points(const std::string& s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

template <class T>
void expect_facets(const T& rec, const std::string& where) {
  for (const auto& spec : ceb::kFields<T>) {
    const std::string path = where + "/" + std::string(spec.name);
    switch (spec.kind) {
      case ceb::FieldKind::kString: {
        const std::string& v = rec.*(spec.str);
        if (v.empty()) {
          EXPECT_FALSE(spec.required) << path << " required";
          break;
        }
        const size_t n = code_points(v);
        EXPECT_GE(n, spec.min_len) << path << " = " << v;
        if (spec.max_len > 0) {
          EXPECT_LE(n, spec.max_len) << path << " = " << v;
        }
        if (!spec.allowed.empty()) {
          EXPECT_TRUE(spec.allowed.contains(v)) << path << " = " << v;
        }
        if (spec.lexical == ceb::Lexical::kDigits) {
          EXPECT_TRUE(std::all_of(v.begin(), v.end(), ::isdigit)) << path << " = " << v;
        }
        if (spec.lexical == ceb::Lexical::kDate8) {
          EXPECT_TRUE(parse_date8(v)) << path;
        }
        if (spec.lexical == ceb::Lexical::kDateTime14) {
          EXPECT_TRUE(parse_datetime14(v)) << path;
        }
        break;
      }
      case ceb::FieldKind::kDecimal: {
        const Decimal d = rec.*(spec.dec);
        if (spec.required) {
          EXPECT_TRUE(d.present) << path << " required";
        }
        if (d.present) {
          EXPECT_GE(d.units, 0) << path;
        }
        break;
      }
      case ceb::FieldKind::kInt: {
        const int64_t v = rec.*(spec.num);
        EXPECT_GE(v, 1) << path;
        EXPECT_LE(std::to_string(v).size(), spec.max_len) << path;
        break;
      }
    }
  }
}

void expect_facets(const DocSet& s) {
  expect_facets(s.order.head, "Order/OrderHead");
  for (const auto& l : s.order.lists) expect_facets(l, "Order/OrderList");
  expect_facets(s.payment.head, "Payment/PaymentHead");
  expect_facets(s.waybill.head, "Logistics/LogisticsHead");
  expect_facets(s.inventory.head, "Inventory/InventoryHead");
  for (const auto& l : s.inventory.lists) expect_facets(l, "Inventory/InventoryList");
}

bool uuid_shaped(const std::string& g) {
  if (g.size() != 36) return false;
  for (size_t i = 0; i < g.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (g[i] == '-')) return false;
    if (!dash && !std::isdigit(static_cast<unsigned char>(g[i])) && (g[i] < 'A' || g[i] > 'F'))
      return false;
  }
  return true;
}

// ---- Generated sets -------------------------------------------------------------------------

Generated run(const Options& o) {
  auto g = generate(demo_zone(), o, reference());
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? std::move(g).value() : Generated{};
}

void expect_same(const Generated& a, const Generated& b) {
  ASSERT_EQ(a.sets.size(), b.sets.size());
  for (size_t i = 0; i < a.sets.size(); ++i) {
    EXPECT_EQ(a.sets[i].order, b.sets[i].order) << i;
    EXPECT_EQ(a.sets[i].payment, b.sets[i].payment) << i;
    EXPECT_EQ(a.sets[i].waybill, b.sets[i].waybill) << i;
    EXPECT_EQ(a.sets[i].inventory, b.sets[i].inventory) << i;
    EXPECT_EQ(a.sets[i].expected.rule, b.sets[i].expected.rule) << i;
    EXPECT_EQ(a.sets[i].expected.field, b.sets[i].expected.field) << i;
  }
  EXPECT_EQ(a.tax_by_guarantor_fen, b.tax_by_guarantor_fen);
  EXPECT_EQ(a.units_by_item, b.units_by_item);
}

TEST(Generate, SameSeedSameRecordsDifferentSeedDifferent) {
  Options o;
  o.seed = 42;
  o.count = 400;
  o.fault_share = 0.1;
  o.share_9610 = 0.2;
  o.share_full_tax = 0.02;
  const Generated a = run(o);
  const Generated b = run(o);
  expect_same(a, b);
  // Byte-identical when written out.
  const Zone z = demo_zone();
  for (auto type : {ceb::MessageType::kCEB311, ceb::MessageType::kCEB621}) {
    auto ma = to_messages(z, a.sets, type);
    auto mb = to_messages(z, b.sets, type);
    ASSERT_EQ(ma.size(), mb.size());
    for (size_t i = 0; i < ma.size(); ++i)
      EXPECT_EQ(ceb::write_message_xml(ma[i]), ceb::write_message_xml(mb[i]));
  }

  o.seed = 43;
  const Generated c = run(o);
  ASSERT_EQ(c.sets.size(), a.sets.size());
  size_t same_orders = 0, same_buyers = 0;
  for (size_t i = 0; i < a.sets.size(); ++i) {
    same_orders += a.sets[i].order.head.orderNo == c.sets[i].order.head.orderNo;
    same_buyers += a.sets[i].order.head.buyerIdNumber == c.sets[i].order.head.buyerIdNumber;
    EXPECT_NE(a.sets[i].order.head.guid, c.sets[i].order.head.guid);
  }
  EXPECT_EQ(same_orders, 0u);
  EXPECT_LT(same_buyers, 5u);
}

TEST(Generate, GoodSetsPassEveryRuleAndFaultySetsBreakExactlyTheirOwn) {
  const Zone z = demo_zone();
  for (uint64_t seed : {1, 2, 3, 7, 1234567}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Options o;
    o.seed = seed;
    o.count = 1500;
    o.fault_share = 0.05;
    o.share_9610 = 0.15;
    o.share_full_tax = 0.01;
    const Generated g = run(o);
    ASSERT_EQ(g.sets.size(), 1500u);
    Checker checker(z);
    std::map<std::string, int> kinds;
    int good = 0, full = 0, mode9610 = 0, discounted = 0;
    for (size_t i = 0; i < g.sets.size(); ++i) {
      SCOPED_TRACE("set " + std::to_string(i + 1));
      const DocSet& s = g.sets[i];
      const std::vector<Finding> found = checker.check(s);
      if (s.expected.fault == Fault::kNone) {
        ++good;
        EXPECT_TRUE(s.expected.rule.empty());
        for (const Finding& f : found)
          ADD_FAILURE() << "good set breaks " << f.rule << " " << f.field;
      } else {
        ++kinds[s.expected.rule];
        EXPECT_EQ(s.expected.rule, fault_rule(s.expected.fault));
        ASSERT_FALSE(found.empty()) << s.expected.rule << " fault breaks nothing";
        bool field_named = false;
        for (const Finding& f : found) {
          EXPECT_EQ(f.rule, s.expected.rule)
              << "a " << s.expected.rule << " set also breaks " << f.rule << " " << f.field;
          field_named |= f.field == s.expected.field;
        }
        EXPECT_TRUE(field_named) << s.expected.rule << " expected field " << s.expected.field
                                 << ", checker found " << found.front().field;
      }
      expect_facets(s);
      full += s.expected.tax.regime == tax::Regime::kFull;
      mode9610 += s.inventory.head.tradeMode == "9610";
      discounted += s.order.head.discount.units > 0;
    }
    // Round-robin: exactly round(1500 × 0.05) = 75 faults, every kind at least 5 times.
    EXPECT_EQ(good, 1500 - 75);
    EXPECT_EQ(kinds.size(), static_cast<size_t>(kFaultKinds));
    for (const auto& [rule, n] : kinds) EXPECT_GE(n, 5) << rule;
    EXPECT_GT(full, 0);
    EXPECT_GT(mode9610, 100);
    EXPECT_GT(discounted, 50);
  }
}

TEST(Generate, ManySeedsAndMixesStayConsistent) {
  // The plan (R5 loading, stock of the limited item, caps) must work for any seed and mix.
  const Zone z = demo_zone();
  for (uint64_t seed = 100; seed < 100 + kStressSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Options o;
    o.seed = seed;
    o.count = 300 + static_cast<int>(seed % 7) * 100;
    o.fault_share = std::array<double, 4>{0.02, 0.1, 0.3, 0.5}[seed % 4];
    o.faults_round_robin = seed % 3 != 0;
    o.share_9610 = (seed % 5) * 0.2;
    o.share_full_tax = (seed % 2) * 0.03;
    const Generated g = run(o);
    ASSERT_EQ(g.sets.size(), static_cast<size_t>(o.count));
    Checker checker(z);
    for (size_t i = 0; i < g.sets.size(); ++i) {
      const DocSet& s = g.sets[i];
      const std::vector<Finding> found = checker.check(s);
      if (s.expected.fault == Fault::kNone) {
        ASSERT_TRUE(found.empty()) << "set " << i + 1 << " breaks " << found.front().rule;
      } else {
        ASSERT_FALSE(found.empty()) << "set " << i + 1 << " " << s.expected.rule;
        for (const Finding& f : found) ASSERT_EQ(f.rule, s.expected.rule) << "set " << i + 1;
      }
    }
  }
}

TEST(Generate, ExpectedTaxEqualsTheHandCalculation) {
  Options o;
  o.seed = 99;
  o.count = 2000;
  o.share_9610 = 0.1;
  o.share_full_tax = 0.02;
  const Generated g = run(o);
  int with_ct = 0, with_freight_shared = 0;
  for (size_t i = 0; i < g.sets.size(); ++i) {
    SCOPED_TRACE("set " + std::to_string(i + 1));
    const DocSet& s = g.sets[i];
    const tax::ListTax& t = s.expected.tax;
    const bool full = t.regime == tax::Regime::kFull;
    const HandTax h = hand_tax(s.inventory, full);
    ASSERT_EQ(t.lines.size(), h.line_dutiable_fen.size());
    EXPECT_EQ(t.dutiable_fen, h.dutiable_fen);
    EXPECT_EQ(s.expected.dutiable_fen, h.dutiable_fen);
    for (size_t k = 0; k < t.lines.size(); ++k) {
      EXPECT_EQ(t.lines[k].dutiable_fen, h.line_dutiable_fen[k]) << "line " << k + 1;
      EXPECT_EQ(t.lines[k].tariff_fen, h.tariff_fen[k]) << "line " << k + 1;
      EXPECT_EQ(t.lines[k].ct_fen, h.ct_fen[k]) << "line " << k + 1;
      EXPECT_EQ(t.lines[k].vat_fen, h.vat_fen[k]) << "line " << k + 1;
    }
    EXPECT_EQ(t.tariff_fen, h.tariff);
    EXPECT_EQ(t.ct_fen, h.ct);
    EXPECT_EQ(t.vat_fen, h.vat);
    EXPECT_EQ(to_fen_exact(s.order.head.taxTotal), h.total());
    if (full) {
      EXPECT_EQ(s.inventory.lists.size(), 1u);
      EXPECT_GT(h.dutiable_fen, reference().policy_at(kDay).transaction_limit_fen);
      EXPECT_GT(h.tariff, 0);
    }
    with_ct += h.ct > 0;
    with_freight_shared += s.inventory.lists.size() > 1 && s.inventory.head.freight.units > 0;
  }
  EXPECT_GT(with_ct, 100);
  EXPECT_GT(with_freight_shared, 300);
}

TEST(Generate, FieldsBuyersAndNumbers) {
  Options o;
  o.seed = 5;
  o.count = 3000;
  o.fault_share = 0.05;
  o.share_9610 = 0.3;
  const Generated g = run(o);
  std::set<std::string> orderNos, payIds, logisticsNos, copNos, guids;
  std::map<std::string, int> lists_per_buyer;
  std::map<std::string, std::string> name_of_id, id_of_phone;
  TimeMs last = 0;
  for (const DocSet& s : g.sets) {
    const auto& O = s.order.head;
    const auto& L = s.inventory.head;
    for (const std::string* guid : {&O.guid, &s.payment.head.guid, &s.waybill.head.guid, &L.guid}) {
      EXPECT_TRUE(uuid_shaped(*guid)) << *guid;
      EXPECT_TRUE(guids.insert(*guid).second) << "duplicate guid " << *guid;
    }
    EXPECT_TRUE(orderNos.insert(O.orderNo).second) << O.orderNo;
    EXPECT_TRUE(payIds.insert(s.payment.head.payTransactionId).second);
    EXPECT_TRUE(logisticsNos.insert(s.waybill.head.logisticsNo).second);
    EXPECT_TRUE(copNos.insert(L.copNo).second);
    EXPECT_LE(O.orderNo.size(), 60u);
    EXPECT_LE(L.copNo.size(), 20u);
    EXPECT_EQ(O.appType, "1");
    EXPECT_EQ(O.appStatus, "2");
    EXPECT_EQ(O.currency, "142");
    EXPECT_EQ(O.orderType, "I");
    EXPECT_EQ(L.ieFlag, "I");
    EXPECT_EQ(L.customsCode, "4612");
    EXPECT_EQ(L.packNo, 1);
    EXPECT_EQ(s.waybill.head.packNo, 1);
    EXPECT_EQ(s.waybill.head.weight, L.grossWeight);
    EXPECT_GT(L.grossWeight.units, L.netWeight.units);
    EXPECT_GE(s.order.lists.size(), 1u);
    EXPECT_LE(s.order.lists.size(), 5u);  // 1–4, plus the R3 cigarettes
    // Documents of a set are stamped in the order a real flow produces them.
    const TimeMs t = *parse_datetime14(O.appTime);
    EXPECT_GE(t, last);
    last = t;
    EXPECT_LE(t, *parse_datetime14(s.payment.head.payTime));
    EXPECT_LE(*parse_datetime14(s.payment.head.payTime), *parse_datetime14(s.waybill.head.appTime));
    EXPECT_LE(*parse_datetime14(s.waybill.head.appTime), *parse_datetime14(L.appTime));
    EXPECT_EQ(L.declTime, L.appTime.substr(0, 8));
    if (s.expected.fault != Fault::kR2) {
      EXPECT_TRUE(resident_id_valid(O.buyerIdNumber)) << O.buyerIdNumber;
      const int born = std::stoi(O.buyerIdNumber.substr(6, 4));
      EXPECT_GE(born, 1960);
      EXPECT_LE(born, 2004);
    } else {
      EXPECT_FALSE(resident_id_valid(O.buyerIdNumber));
      EXPECT_EQ(O.buyerIdNumber, s.payment.head.payerIdNumber);
      EXPECT_EQ(O.buyerIdNumber, L.buyerIdNumber);
    }
    EXPECT_EQ(O.buyerTelephone.size(), 11u);
    EXPECT_EQ(O.buyerTelephone[0], '1');
    EXPECT_GE(O.buyerTelephone[1], '3');
    EXPECT_NE(O.consigneeAddress.find("市"), std::string::npos);
    EXPECT_NE(O.consigneeAddress.find("室"), std::string::npos);
    EXPECT_EQ(O.consigneeDistrict.size(), 6u);
    // One identity, one name; one phone, one identity (no shared phones: R10 patterns).
    auto [n, fresh_id] = name_of_id.try_emplace(O.buyerIdNumber, O.buyerName);
    EXPECT_EQ(n->second, O.buyerName);
    auto [p, fresh_phone] = id_of_phone.try_emplace(O.buyerTelephone, O.buyerIdNumber);
    EXPECT_EQ(p->second, O.buyerIdNumber);
    ++lists_per_buyer[O.buyerIdNumber];
    if (L.tradeMode == "1210") {
      EXPECT_EQ(L.country, "142");
      EXPECT_EQ(L.areaCode, "4101960003");
    } else {
      EXPECT_EQ(L.tradeMode, "9610");
      EXPECT_NE(L.country, "142");
      EXPECT_EQ(s.waybill.head.billNo, L.billNo);
    }
  }
  // Buyers come back: some buy several times, most once or twice.
  int repeaters = 0;
  for (const auto& [id, n] : lists_per_buyer) repeaters += n >= 3;
  EXPECT_GT(repeaters, 20);
  EXPECT_GT(lists_per_buyer.size(), 500u);
}

TEST(Generate, FaultShareRoundRobinIsExactAndRandomIsNear) {
  for (double share : {0.0, 0.01, 0.05, 0.2, 0.5}) {
    Options o;
    o.seed = 11;
    o.count = 700;
    o.fault_share = share;
    const Generated g = run(o);
    int faults = 0;
    std::vector<Fault> order;
    for (const DocSet& s : g.sets)
      if (s.expected.fault != Fault::kNone) {
        ++faults;
        order.push_back(s.expected.fault);
      }
    EXPECT_EQ(faults, static_cast<int>(std::llround(700 * share))) << share;
    // Kinds rotate M1, M2, ..., R6 (R5 only where its buyer could be loaded).
    for (size_t k = 0; k < order.size(); ++k) {
      const Fault want = static_cast<Fault>(1 + k % kFaultKinds);
      if (want != Fault::kR5) {
        EXPECT_EQ(order[k], want) << "fault " << k;
      }
    }
  }
  Options o;
  o.seed = 12;
  o.count = 4000;
  o.fault_share = 0.1;
  o.faults_round_robin = false;
  const Generated g = run(o);
  std::map<Fault, int> kinds;
  for (const DocSet& s : g.sets)
    if (s.expected.fault != Fault::kNone) ++kinds[s.expected.fault];
  int faults = 0;
  for (const auto& [k, n] : kinds) faults += n;
  EXPECT_GT(faults, 320);
  EXPECT_LT(faults, 480);
  EXPECT_EQ(kinds.size(), static_cast<size_t>(kFaultKinds));
}

TEST(Generate, OptionsOutOfRangeAreRefused) {
  Options o;
  o.count = 0;
  EXPECT_EQ(generate(demo_zone(), o, reference()).status().code(), StatusCode::kInvalidArgument);
  o.count = 10;
  o.fault_share = 0.6;
  EXPECT_EQ(generate(demo_zone(), o, reference()).status().code(), StatusCode::kInvalidArgument);
  o.fault_share = 0.1;
  o.share_9610 = 1.5;
  EXPECT_EQ(generate(demo_zone(), o, reference()).status().code(), StatusCode::kInvalidArgument);
}

TEST(Generate, StartTimeAndDefaultReference) {
  Options o;
  o.count = 3;
  o.start_time = *parse_datetime14("20240102030405");
  auto g = generate(demo_zone(), o);  // embedded defaults
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->sets[0].order.head.appTime, "20240102030405");
  EXPECT_EQ(g->sets[0].inventory.head.declTime, "20240102");
}

TEST(Generate, SummaryCoversGoodSets) {
  Options o;
  o.seed = 8;
  o.count = 500;
  o.fault_share = 0.1;
  const Generated g = run(o);
  std::map<std::string, Fen> tax;
  std::map<std::string, int64_t> units;
  for (const DocSet& s : g.sets) {
    if (s.expected.fault != Fault::kNone) continue;
    tax[s.inventory.head.assureCode] += s.expected.tax.total_fen();
    for (const auto& l : s.order.lists) {
      const auto& il = s.inventory.lists[static_cast<size_t>(l.gnum - 1)];
      if (!il.itemRecordNo.empty()) units[il.itemRecordNo] += l.qty.units / kYuan;
    }
  }
  using TaxRows = std::vector<std::pair<std::string, Fen>>;
  using UnitRows = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(g.tax_by_guarantor_fen, TaxRows(tax.begin(), tax.end()));
  EXPECT_EQ(g.units_by_item, UnitRows(units.begin(), units.end()));
  // Deposits of the demo zone cover the tax of a run this size many times over.
  const Zone z = demo_zone();
  for (const auto& [code, fen] : tax) EXPECT_LT(fen * 100, z.find(code)->guarantee_fen) << code;
}

// ---- Messages -------------------------------------------------------------------------------

TEST(Messages, GroupedBySenderAtMost100AndReadBack) {
  Options o;
  o.seed = 3;
  o.count = 700;
  o.fault_share = 0.05;
  o.share_9610 = 0.2;
  const Generated g = run(o);
  const Zone z = demo_zone();
  struct Want {
    ceb::MessageType type;
    std::string (*sender)(const DocSet&);
  };
  const Want wants[] = {
      {ceb::MessageType::kCEB311, [](const DocSet& s) { return s.order.head.ebpCode; }},
      {ceb::MessageType::kCEB411, [](const DocSet& s) { return s.payment.head.payCode; }},
      {ceb::MessageType::kCEB511, [](const DocSet& s) { return s.waybill.head.logisticsCode; }},
      {ceb::MessageType::kCEB621, [](const DocSet& s) { return s.inventory.head.agentCode; }},
  };
  for (const Want& w : wants) {
    SCOPED_TRACE(std::string(ceb::message_root_name(w.type)));
    const std::vector<ceb::Message> msgs = to_messages(z, g.sets, w.type);
    std::map<std::string, size_t> per_sender, expected_per_sender;
    for (const DocSet& s : g.sets) ++expected_per_sender[w.sender(s)];
    std::set<std::string> guids;
    size_t records = 0;
    for (const ceb::Message& m : msgs) {
      EXPECT_EQ(m.type, w.type);
      EXPECT_TRUE(uuid_shaped(m.guid)) << m.guid;
      EXPECT_TRUE(guids.insert(m.guid).second);
      EXPECT_EQ(m.version, "1.0");
      EXPECT_EQ(m.transfer.dxpMode, "DXP");
      EXPECT_EQ(m.transfer.dxpId, "DXPENT0000000001");
      ASSERT_NE(z.find(m.transfer.copCode), nullptr);
      EXPECT_EQ(m.transfer.copName, z.find(m.transfer.copCode)->name);
      EXPECT_GE(m.record_count(), 1u);
      EXPECT_LE(m.record_count(), 100u);
      records += m.record_count();
      per_sender[m.transfer.copCode] += m.record_count();
      for (const auto& r : m.orders) EXPECT_EQ(r.head.ebpCode, m.transfer.copCode);
      for (const auto& r : m.payments) EXPECT_EQ(r.head.payCode, m.transfer.copCode);
      for (const auto& r : m.waybills) EXPECT_EQ(r.head.logisticsCode, m.transfer.copCode);
      for (const auto& r : m.inventories) EXPECT_EQ(r.head.agentCode, m.transfer.copCode);
    }
    EXPECT_EQ(records, g.sets.size());
    EXPECT_EQ(per_sender, expected_per_sender);
    // The official writer's output reads back valid and equal (first and last message).
    for (const ceb::Message* m : {&msgs.front(), &msgs.back()}) {
      const ceb::ReadResult r = ceb::read_message_xml(ceb::write_message_xml(*m));
      for (const auto& v : r.violations) ADD_FAILURE() << v.ToString();
      ASSERT_TRUE(r.message.has_value());
      EXPECT_EQ(r.message->record_count(), m->record_count());
      EXPECT_EQ(r.message->orders, m->orders);
      EXPECT_EQ(r.message->payments, m->payments);
      EXPECT_EQ(r.message->waybills, m->waybills);
      EXPECT_EQ(r.message->inventories, m->inventories);
    }
  }
  // 700 lists from one agent: 7 messages of 100.
  EXPECT_EQ(to_messages(z, g.sets, ceb::MessageType::kCEB621).size(), 7u);
}

}  // namespace
}  // namespace cbec::gen
