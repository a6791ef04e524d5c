// Matching rules M1–M9 (三单对碰, DOMAIN.md §5).
#include <string>

#include "clearance/id_number.h"
#include "clearance/rules.h"
#include "fmt/format.h"

namespace cbec::clearance {

using ceb::Finding;

ceb::Finding make_finding(std::string_view rule, std::string field, std::string zh,
                          std::string en) {
  return Finding{std::string(rule), std::move(field), std::move(zh), std::move(en)};
}

std::string normalize_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

namespace {

// Quantities as sent ("2", "0.8"); amounts as RMB with at least two decimals ("661.00").
std::string d(Decimal v) { return format_decimal(v); }
std::string m(Decimal v) {
  return v.units % kUnitsPerFen == 0 ? format_decimal_fixed(v, 2) : format_decimal(v);
}

// price × qty in 1e-5 units, exact; false if it does not fit.
bool product_units(Decimal price, Decimal qty, int64_t* out) {
  __int128 p = static_cast<__int128>(price.units) * qty.units;
  // price.units and qty.units are both scaled by 1e5; the product is scaled by 1e10.
  if (p % kDecimalScale != 0) {
    *out = INT64_MIN;  // sub-1e-5 product: can never equal a declared 5-digit total
    return true;
  }
  p /= kDecimalScale;
  if (p > INT64_MAX || p < INT64_MIN) return false;
  *out = static_cast<int64_t>(p);
  return true;
}

void check_line_totals(const ceb::Order& order, std::vector<Finding>* f) {
  for (size_t i = 0; i < order.lists.size(); ++i) {
    const auto& line = order.lists[i];
    int64_t expected = 0;
    bool fits = product_units(line.price, line.qty, &expected);
    if (!fits || expected != line.totalPrice.units) {
      std::string expected_text =
          fits && expected != INT64_MIN ? m(Decimal::of_units(expected)) : "—";
      f->push_back(make_finding(
          "M5", fmt::format("Order/OrderList[{}]/totalPrice", i + 1),
          fmt::format("订单商品{}(gnum {})总价{}不等于单价{}×数量{}={}", line.itemName, line.gnum,
                      m(line.totalPrice), m(line.price), d(line.qty), expected_text),
          fmt::format("order line gnum {} ({}) totalPrice {} ≠ price {} × qty {} = {}", line.gnum,
                      line.itemName, m(line.totalPrice), m(line.price), d(line.qty),
                      expected_text)));
    }
  }
}

// The characters of normalize_text(s), one at a time, without building it (matching compares
// a dozen texts per list).
class NormalizedChars {
 public:
  explicit NormalizedChars(std::string_view s) : s_(s) { skip_space(); }
  // The next character, or -1 at the end.
  int next() {
    if (i_ == s_.size()) return -1;
    if (space(s_[i_])) {
      skip_space();
      return i_ == s_.size() ? -1 : ' ';  // a run inside becomes one space; trailing ones go
    }
    return static_cast<unsigned char>(s_[i_++]);
  }

 private:
  static bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  void skip_space() {
    while (i_ < s_.size() && space(s_[i_])) ++i_;
  }
  std::string_view s_;
  size_t i_ = 0;
};

// normalize_text(a) == normalize_text(b)
bool same(std::string_view a, std::string_view b) {
  if (a == b) return true;
  NormalizedChars x(a), y(b);
  for (;;) {
    int c = x.next();
    if (c != y.next()) return false;
    if (c == -1) return true;
  }
}

}  // namespace

void check_order_intake(const ceb::Order& order, std::vector<Finding>* f) {
  const auto& h = order.head;
  int64_t sum = h.goodsValue.units + h.freight.units + h.taxTotal.units - h.discount.units;
  if (sum != h.acturalPaid.units) {
    Decimal s = Decimal::of_units(sum);
    f->push_back(make_finding(
        "M1", "Order/OrderHead/acturalPaid",
        fmt::format("订单实际支付金额{}不等于商品价格{}+运杂费{}+代扣税款{}-非现金抵扣金额{}={}",
                    m(h.acturalPaid), m(h.goodsValue), m(h.freight), m(h.taxTotal),
                    m(h.discount), m(s)),
        fmt::format("acturalPaid {} ≠ goodsValue {} + freight {} + taxTotal {} − discount {} = {}",
                    m(h.acturalPaid), m(h.goodsValue), m(h.freight), m(h.taxTotal),
                    m(h.discount), m(s))));
  }
  check_line_totals(order, f);
}

void match_documents(const MatchInput& in, const ref::Policy& policy, bool guarantor_registered,
                     std::vector<Finding>* f) {
  const auto& L = in.list->head;
  const auto& O = in.order->head;
  const auto& P = in.payment->head;
  const auto& W = in.waybill->head;

  check_order_intake(*in.order, f);  // M1, M5

  // M2: order acturalPaid equals payment amountPaid.
  if (O.acturalPaid.units != P.amountPaid.units) {
    f->push_back(make_finding(
        "M2", "Payment/PaymentHead/amountPaid",
        fmt::format("订单实际支付金额{}与支付单支付金额{}不一致", m(O.acturalPaid),
                    m(P.amountPaid)),
        fmt::format("order acturalPaid {} ≠ payment amountPaid {}", m(O.acturalPaid),
                    m(P.amountPaid))));
  }
  // M3: buyer = payer.
  if (policy.buyer_must_equal_payer) {
    if (!same(O.buyerName, P.payerName)) {
      f->push_back(make_finding(
          "M3", "Payment/PaymentHead/payerName",
          fmt::format("订购人姓名{}与支付人姓名{}不一致", O.buyerName, P.payerName),
          fmt::format("buyerName {} ≠ payerName {}", O.buyerName, P.payerName)));
    }
    if (!same_id_number(O.buyerIdNumber, P.payerIdNumber)) {
      f->push_back(make_finding(
          "M3", "Payment/PaymentHead/payerIdNumber",
          fmt::format("订购人证件号码{}与支付人证件号码{}不一致", O.buyerIdNumber,
                      P.payerIdNumber),
          fmt::format("buyerIdNumber {} ≠ payerIdNumber {}", O.buyerIdNumber, P.payerIdNumber)));
    }
  }
  // M4: consignee of the order equals the waybill's.
  struct Pair {
    const char* field;
    const char* zh;
    const std::string* order_value;
    const std::string* waybill_value;
  };
  const Pair consignee[] = {
      {"consignee", "收货人", &O.consignee, &W.consignee},
      {"consigneeTelephone", "收货人电话", &O.consigneeTelephone, &W.consigneeTelephone},
      {"consigneeAddress", "收货地址", &O.consigneeAddress, &W.consigneeAddress},
  };
  for (const auto& c : consignee) {
    if (!same(*c.order_value, *c.waybill_value)) {
      f->push_back(make_finding(
          "M4", fmt::format("Logistics/LogisticsHead/{}", c.field),
          fmt::format("订单{}{}与运单{}{}不一致", c.zh, *c.order_value, c.zh, *c.waybill_value),
          fmt::format("order {} {} ≠ waybill {} {}", c.field, *c.order_value, c.field,
                      *c.waybill_value)));
    }
  }
  // M6: list heads and lines equal the order's and the waybill's.
  auto head_mismatch = [&](const char* field, const std::string& list_value,
                           const std::string& other_value, const char* other_doc,
                           const char* other_doc_zh) {
    if (!same(list_value, other_value)) {
      f->push_back(make_finding(
          "M6", fmt::format("Inventory/InventoryHead/{}", field),
          fmt::format("清单{}{}与{}{}不一致", field, list_value, other_doc_zh, other_value),
          fmt::format("list {} {} ≠ {} {}", field, list_value, other_doc, other_value)));
    }
  };
  head_mismatch("ebcCode", L.ebcCode, O.ebcCode, "order", "订单");
  if (!same_id_number(L.buyerIdNumber, O.buyerIdNumber)) {
    head_mismatch("buyerIdNumber", normalize_id_number(L.buyerIdNumber),
                  normalize_id_number(O.buyerIdNumber), "order", "订单");
  }
  head_mismatch("buyerName", L.buyerName, O.buyerName, "order", "订单");
  head_mismatch("buyerTelephone", L.buyerTelephone, O.buyerTelephone, "order", "订单");
  head_mismatch("orderNo", L.orderNo, W.orderNo, "waybill", "运单");
  if (in.list->lists.size() != in.order->lists.size()) {
    f->push_back(make_finding(
        "M6", "Inventory/InventoryList",
        fmt::format("清单商品{}项，订单商品{}项，应一一对应", in.list->lists.size(),
                    in.order->lists.size()),
        fmt::format("list has {} lines, order has {}: they must map one-to-one by gnum",
                    in.list->lists.size(), in.order->lists.size())));
  }
  for (size_t i = 0; i < in.list->lists.size(); ++i) {
    const auto& ll = in.list->lists[i];
    const ceb::OrderList* ol = nullptr;
    for (const auto& cand : in.order->lists)
      if (cand.gnum == ll.gnum) ol = &cand;
    // Built only for a finding: a list that matches (almost all) formats no path.
    auto path = [i](const char* field) {
      return fmt::format("Inventory/InventoryList[{}]/{}", i + 1, field);
    };
    if (ol == nullptr) {
      f->push_back(make_finding("M6", path("gnum"),
                                fmt::format("清单商品序号{}在订单中不存在", ll.gnum),
                                fmt::format("list gnum {} has no order line", ll.gnum)));
      continue;
    }
    if (!same(ll.gname, ol->itemName)) {
      f->push_back(make_finding(
          "M6", path("gname"),
          fmt::format("清单商品名称{}与订单商品名称{}不一致(gnum {})", ll.gname, ol->itemName,
                      ll.gnum),
          fmt::format("list gname {} ≠ order itemName {} (gnum {})", ll.gname, ol->itemName,
                      ll.gnum)));
    }
    if (ll.qty.units != ol->qty.units) {
      f->push_back(make_finding(
          "M6", path("qty"),
          fmt::format("清单数量{}与订单数量{}不一致(gnum {})", d(ll.qty), d(ol->qty), ll.gnum),
          fmt::format("list qty {} ≠ order qty {} (gnum {})", d(ll.qty), d(ol->qty), ll.gnum)));
    }
    if (ll.totalPrice.units != ol->totalPrice.units) {
      f->push_back(make_finding(
          "M6", path("totalPrice"),
          fmt::format("清单总价{}与订单总价{}不一致(gnum {})", m(ll.totalPrice),
                      m(ol->totalPrice), ll.gnum),
          fmt::format("list totalPrice {} ≠ order totalPrice {} (gnum {})", m(ll.totalPrice),
                      m(ol->totalPrice), ll.gnum)));
    }
  }
  // M7: payment named by the order.
  if (!O.payCode.empty() && O.payCode != P.payCode) {
    f->push_back(make_finding(
        "M7", "Order/OrderHead/payCode",
        fmt::format("订单支付企业代码{}与支付单{}不一致", O.payCode, P.payCode),
        fmt::format("order payCode {} ≠ payment payCode {}", O.payCode, P.payCode)));
  }
  if (!O.payTransactionId.empty() && O.payTransactionId != P.payTransactionId) {
    f->push_back(make_finding(
        "M7", "Order/OrderHead/payTransactionId",
        fmt::format("订单支付交易编号{}与支付单{}不一致", O.payTransactionId, P.payTransactionId),
        fmt::format("order payTransactionId {} ≠ payment payTransactionId {}",
                    O.payTransactionId, P.payTransactionId)));
  }
  // M8: mode fields.
  auto missing = [&](std::string field, const char* mode) {
    f->push_back(make_finding("M8", std::move(field), fmt::format("{}模式必须填写该字段", mode),
                              fmt::format("required for trade mode {}", mode)));
  };
  auto require = [&](const std::string& value, const char* field, const char* mode) {
    if (value.empty()) missing(field, mode);
  };
  if (L.tradeMode == "1210") {
    require(L.emsNo, "Inventory/InventoryHead/emsNo", "1210");
    require(L.areaCode, "Inventory/InventoryHead/areaCode", "1210");
    for (size_t i = 0; i < in.list->lists.size(); ++i) {
      if (in.list->lists[i].itemRecordNo.empty())
        missing(fmt::format("Inventory/InventoryList[{}]/itemRecordNo", i + 1), "1210");
    }
    if (L.country != "142") {
      f->push_back(make_finding(
          "M8", "Inventory/InventoryHead/country",
          fmt::format("1210模式起运国应为142(中国)，实为{}", L.country),
          fmt::format("trade mode 1210 requires country 142 (China), got {}", L.country)));
    }
  } else if (L.tradeMode == "9610") {
    require(L.trafNo, "Inventory/InventoryHead/trafNo", "9610");
    require(L.voyageNo, "Inventory/InventoryHead/voyageNo", "9610");
    require(L.billNo, "Inventory/InventoryHead/billNo", "9610");
  }
  // M9: the guarantor is the agent, the e-commerce enterprise or the logistics company, and is
  // registered as a guarantor.
  if (L.assureCode != L.agentCode && L.assureCode != L.ebcCode && L.assureCode != L.logisticsCode) {
    f->push_back(make_finding(
        "M9", "Inventory/InventoryHead/assureCode",
        fmt::format("担保企业{}须为申报企业{}、电商企业{}或物流企业{}", L.assureCode, L.agentCode,
                    L.ebcCode, L.logisticsCode),
        fmt::format("assureCode {} must be the agent {}, the ebc {} or the logistics company {}",
                    L.assureCode, L.agentCode, L.ebcCode, L.logisticsCode)));
  } else if (!guarantor_registered) {
    f->push_back(make_finding(
        "M9", "Inventory/InventoryHead/assureCode",
        fmt::format("担保企业{}未备案为担保企业", L.assureCode),
        fmt::format("assureCode {} is not a registered guarantor", L.assureCode)));
  }
}

}  // namespace cbec::clearance
