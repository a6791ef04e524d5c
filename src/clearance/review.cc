// Review rules R2–R4 and the tax of a list (DOMAIN.md §6, §7).
#include <string>

#include "clearance/error_codes.h"
#include "clearance/id_number.h"
#include "clearance/rules.h"
#include "fmt/format.h"

namespace cbec::clearance {

using ceb::Finding;

tax::ListInput tax_input(const ceb::Inventory& list, CivilDate date,
                         std::vector<tax::LineInput>* lines) {
  lines->clear();
  lines->reserve(list.lists.size());
  for (const auto& l : list.lists) {
    lines->push_back(tax::LineInput{l.gnum, l.gcode, l.qty, l.unit, l.qty1, l.unit1,
                                    l.totalPrice});
  }
  tax::ListInput in;
  in.lines = *lines;
  in.freight = list.head.freight;
  in.insured_fee = list.head.insuredFee;
  in.discount = Decimal{};  // the list carries no discount; the order's is not part of V
  in.date = date;
  return in;
}

Result<tax::ListTax> estimate_tax(const tax::ListInput& in, const ref::ReferenceData& ref) {
  const ref::Policy& policy = ref.policy_at(in.date);
  Fen dutiable = tax::dutiable_value_fen(in, policy);
  tax::Regime regime = tax::Regime::kPreferential;
  if (dutiable > policy.transaction_limit_fen) {
    if (in.lines.size() == 1 && in.lines[0].qty.units == kDecimalScale) {
      regime = tax::Regime::kFull;
    } else {
      return ResourceExhausted(fmt::format(
          "[{}] dutiable value {} exceeds the single-transaction limit {} with more than one item",
          error_code(ceb::MessageType::kCEB621, Problem::kOverTransactionLimit),
          format_fen(dutiable), format_fen(policy.transaction_limit_fen)));
    }
  }
  return tax::compute(in, regime, ref);
}

void review_list(const ceb::Inventory& list, CivilDate decl_date, CivilDate today,
                 const ref::ReferenceData& ref, std::vector<Finding>* f, ReviewOutcome* out) {
  const auto& h = list.head;
  const ref::Policy& policy = ref.policy_at(decl_date);

  // R2: the buyer's identity number.
  if (auto problem = check_resident_id(h.buyerIdNumber, today)) {
    f->push_back(make_finding("R2", "Inventory/InventoryHead/buyerIdNumber", problem->zh,
                              problem->en));
  }

  // R3: positive list in force on the declaration date, with its remarks; a rate must exist.
  bool rates_complete = true;
  for (size_t i = 0; i < list.lists.size(); ++i) {
    const auto& line = list.lists[i];
    std::string path = fmt::format("Inventory/InventoryList[{}]/gcode", i + 1);
    std::string_view tariff8 = std::string_view(line.gcode).substr(0, 8);
    const ref::PositiveListEntry* entry = ref.positive_list(tariff8, decl_date);
    if (entry == nullptr) {
      f->push_back(make_finding(
          "R3", path,
          fmt::format("商品{}编码{}(税号{})不在{}有效的跨境电商零售进口商品清单内", line.gname,
                      line.gcode, tariff8, format_iso_date(decl_date)),
          fmt::format("{} gcode {} (tariff number {}) is not on the positive list in force on {}",
                      line.gname, line.gcode, tariff8, format_iso_date(decl_date))));
    } else {
      if (entry->bonded_only && h.tradeMode != "1210") {
        f->push_back(make_finding(
            "R3", path,
            fmt::format("税号{}仅限网购保税(1210)进口，本清单贸易方式为{}", tariff8, h.tradeMode),
            fmt::format("tariff number {} is restricted to bonded import 1210, list trade mode "
                        "is {}",
                        tariff8, h.tradeMode)));
      }
      if (!entry->name_must_contain.empty() &&
          line.gname.find(entry->name_must_contain) == std::string::npos) {
        f->push_back(make_finding(
            "R3", fmt::format("Inventory/InventoryList[{}]/gname", i + 1),
            fmt::format("税号{}仅限品名含“{}”的商品，申报品名为{}", tariff8,
                        entry->name_must_contain, line.gname),
            fmt::format("tariff number {} is restricted to goods named \"{}\", declared {}",
                        tariff8, entry->name_must_contain, line.gname)));
      }
    }
    if (ref.tax_rate(line.gcode, decl_date) == nullptr) {
      rates_complete = false;
      f->push_back(make_finding(
          "R3", path,
          fmt::format("商品编码{}在{}无有效税率", line.gcode, format_iso_date(decl_date)),
          fmt::format("gcode {} has no tax rate in force on {}", line.gcode,
                      format_iso_date(decl_date))));
    }
  }

  // R4: transaction limit on the dutiable value.
  std::vector<tax::LineInput> lines;
  tax::ListInput in = tax_input(list, decl_date, &lines);
  out->dutiable_fen = tax::dutiable_value_fen(in, policy);
  out->regime = tax::Regime::kPreferential;
  if (out->dutiable_fen > policy.transaction_limit_fen) {
    bool single_item = list.lists.size() == 1 && list.lists[0].qty.units == kDecimalScale;
    if (single_item) {
      out->regime = tax::Regime::kFull;
    } else {
      int code = error_code(ceb::MessageType::kCEB621, Problem::kOverTransactionLimit);
      f->push_back(make_finding(
          "R4", "Inventory/InventoryHead",
          fmt::format("[{}] 完税价格{}超过单次交易限值{}，且非单件不可分割商品", code,
                      format_fen(out->dutiable_fen), format_fen(policy.transaction_limit_fen)),
          fmt::format("[{}] dutiable value {} exceeds the single-transaction limit {} and the "
                      "list is not one indivisible item",
                      code, format_fen(out->dutiable_fen),
                      format_fen(policy.transaction_limit_fen))));
    }
  }

  if (rates_complete) {
    auto computed = tax::compute(in, out->regime, ref);
    if (computed.ok()) {
      out->tax = std::move(computed).value();
    } else {
      f->push_back(make_finding("R3", "Inventory/InventoryList",
                                std::string(computed.status().message()),
                                std::string(computed.status().message())));
    }
  }
}

}  // namespace cbec::clearance
