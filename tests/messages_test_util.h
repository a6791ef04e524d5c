// Helpers shared by the messages_test*.cc files: test data, valid records of every type,
// xmllint validation, and printing of Violations in failure messages.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>

#include "messages/ceb.h"
#include "messages/receipt.h"

namespace cbec::ceb {
inline void PrintTo(const Violation& v, std::ostream* os) {
  *os << "{" << v.record << ", \"" << v.path << "\", \"" << v.problem << "\"}";
}
}  // namespace cbec::ceb

namespace cbec::ceb::testing {

inline std::string testdata(const std::string& name) {
  return std::string(CBEC_TESTDATA_DIR) + "/ceb/" + name;
}
inline std::string xsd_path() { return testdata("ceb-import-202205.xsd"); }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string sample(const std::string& name) { return read_file(testdata(name)); }

inline std::string violations_text(const ReadResult& r) {
  std::string s;
  for (const Violation& v : r.violations) {
    s += "  [" + std::to_string(v.record) + "] " + v.ToString() + "\n";
  }
  return s;
}

// Writes xml under the build directory and validates it against the official XSD with xmllint.
// Returns xmllint's output when it fails, "" when the file validates.
inline std::string xmllint_errors(const std::string& xml, const std::string& name) {
  std::filesystem::path dir = std::filesystem::path(CBEC_BINARY_DIR) / "messages_test_files";
  std::filesystem::create_directories(dir);
  std::filesystem::path file = dir / (name + ".xml");
  std::filesystem::path log = dir / (name + ".xmllint.log");
  {
    std::ofstream out(file, std::ios::binary);
    out << xml;
  }
  std::string cmd = "xmllint --noout --schema '" + xsd_path() + "' '" + file.string() + "' > '" +
                    log.string() + "' 2>&1";
  int rc = std::system(cmd.c_str());
  if (rc == 0) return "";
  std::string out = read_file(log.string());
  return out.empty() ? "xmllint failed with status " + std::to_string(rc) : out;
}

// Replaces the n-th (1-based) occurrence of `from` in s by `to`. Fails the test if absent.
inline std::string replace_nth(std::string s, const std::string& from, const std::string& to,
                               int n = 1) {
  size_t pos = std::string::npos;
  size_t start = 0;
  for (int i = 0; i < n; ++i) {
    pos = s.find(from, start);
    if (pos == std::string::npos) {
      ADD_FAILURE() << "occurrence " << n << " of '" << from << "' not found";
      return s;
    }
    start = pos + from.size();
  }
  return s.replace(pos, from.size(), to);
}

// Removes the n-th element <tag>..</tag> (tag with its prefix, e.g. "ceb:buyerIdNumber").
inline std::string remove_nth_element(const std::string& s, const std::string& tag, int n) {
  size_t pos = 0;
  for (int i = 0; i < n; ++i) {
    pos = s.find("<" + tag + ">", i == 0 ? 0 : pos + 1);
    if (pos == std::string::npos) {
      ADD_FAILURE() << "element " << tag << " #" << n << " not found";
      return s;
    }
  }
  std::string close = "</" + tag + ">";
  size_t end = s.find(close, pos);
  return s.substr(0, pos) + s.substr(end + close.size());
}

// ---- valid records of every type ---------------------------------------------------------------

inline constexpr const char* kGuid = "A1B2C3D4-0000-4000-8000-00000000000";  // + 1 digit = 36

inline std::string guid(int i) { return kGuid + std::to_string(i % 10); }

inline BaseTransfer transfer() {
  return BaseTransfer{"4101961234", "郑州测试企业有限公司", "DXP", "DXPENT0000000001", ""};
}

inline Order order(int i, int lines) {
  Order o;
  OrderHead& h = o.head;
  h.guid = guid(i);
  h.appType = "1";
  h.appTime = "20230115103000";
  h.appStatus = "2";
  h.orderType = "I";
  h.orderNo = "ORD2023" + std::to_string(1000 + i);
  h.ebpCode = "4101961234";
  h.ebpName = "测试电商平台";
  h.ebcCode = "4101965678";
  h.ebcName = "测试电商企业";
  h.goodsValue = Decimal::of_units(int64_t{100} * lines * kDecimalScale + 50000);  // x.5
  h.freight = Decimal::of_int(0);
  h.discount = Decimal::of_int(0);
  h.taxTotal = Decimal::of_units(123456);
  h.acturalPaid = Decimal::of_units(h.goodsValue.units + h.taxTotal.units);
  h.currency = "142";
  h.buyerRegNo = "buyer" + std::to_string(i);
  h.buyerName = "张三";
  h.buyerTelephone = "13800000000";
  h.buyerIdType = "1";
  h.buyerIdNumber = "410101199001011234";
  h.payCode = "4101960001";
  h.consignee = "张三";
  h.consigneeTelephone = "13800000000";
  h.consigneeAddress = "河南省郑州市金水区 1 号 <A&B>";
  h.note = "note with \"quotes\" & ]]> marks";
  for (int j = 1; j <= lines; ++j) {
    OrderList l;
    l.gnum = j;
    l.itemNo = "SKU-" + std::to_string(j);
    l.itemName = "奶粉";
    l.gmodel = "900g/罐";
    l.unit = "122";
    l.qty = Decimal::of_int(1);
    l.price = Decimal::of_units(100 * kDecimalScale + 50000 / lines);
    l.totalPrice = l.price;
    l.currency = "142";
    l.country = "502";
    o.lists.push_back(l);
  }
  return o;
}

inline Payment payment(int i) {
  Payment p;
  PaymentHead& h = p.head;
  h.guid = guid(i);
  h.appType = "1";
  h.appTime = "20230115103100";
  h.appStatus = "2";
  h.payCode = "4101960001";
  h.payName = "测试支付";
  h.payTransactionId = "PAY" + std::to_string(i);
  h.orderNo = "ORD2023" + std::to_string(1000 + i);
  h.ebpCode = "4101961234";
  h.ebpName = "测试电商平台";
  h.payerIdType = "1";
  h.payerIdNumber = "410101199001011234";
  h.payerName = "张三";
  h.amountPaid = Decimal::of_units(12345678);
  h.currency = "142";
  h.payTime = "20230115103055";
  return p;
}

inline Logistics waybill(int i) {
  Logistics w;
  LogisticsHead& h = w.head;
  h.guid = guid(i);
  h.appType = "1";
  h.appTime = "20230115110000";
  h.appStatus = "2";
  h.logisticsCode = "4101968888";
  h.logisticsName = "测试物流";
  h.logisticsNo = "LN" + std::to_string(i);
  h.orderNo = "ORD2023" + std::to_string(1000 + i);
  h.freight = Decimal::of_int(10);
  h.currency = "142";
  h.weight = Decimal::of_units(150000);
  h.packNo = 1;
  h.consignee = "张三";
  h.consigneeAddress = "河南省郑州市金水区 1 号";
  h.consigneeTelephone = "13800000000";
  return w;
}

inline LogisticsStatus waybill_status(int i) {
  LogisticsStatus s;
  s.guid = guid(i);
  s.appType = "1";
  s.appTime = "20230116090000";
  s.appStatus = "2";
  s.logisticsCode = "4101968888";
  s.logisticsName = "测试物流";
  s.logisticsNo = "LN" + std::to_string(i);
  s.logisticsStatus = "S";
  s.logisticsTime = "20230116085959";
  return s;
}

inline Inventory inventory(int i, int lines) {
  Inventory inv;
  InventoryHead& h = inv.head;
  h.guid = guid(i);
  h.appType = "1";
  h.appTime = "20230115120000";
  h.appStatus = "2";
  h.orderNo = "ORD2023" + std::to_string(1000 + i);
  h.ebpCode = "4101961234";
  h.ebpName = "测试电商平台";
  h.ebcCode = "4101965678";
  h.ebcName = "测试电商企业";
  h.logisticsNo = "LN" + std::to_string(i);
  h.logisticsCode = "4101968888";
  h.logisticsName = "测试物流";
  h.copNo = "COP" + std::to_string(i);
  h.assureCode = "4101965678";
  h.emsNo = "T4601W000001";
  h.ieFlag = "I";
  h.declTime = "20230115";
  h.customsCode = "4606";
  h.portCode = "4606";
  h.buyerIdType = "1";
  h.buyerIdNumber = "410101199001011234";
  h.buyerName = "张三";
  h.buyerTelephone = "13800000000";
  h.consigneeAddress = "河南省郑州市金水区 1 号";
  h.agentCode = "4101965678";
  h.agentName = "测试电商企业";
  h.areaCode = "4101965678";
  h.areaName = "测试仓储";
  h.tradeMode = "1210";
  h.trafMode = "Y";
  h.country = "142";
  h.freight = Decimal::of_int(0);
  h.insuredFee = Decimal::of_int(0);
  h.currency = "142";
  h.packNo = 1;
  h.grossWeight = Decimal::of_units(120000);
  h.netWeight = Decimal::of_units(100000);
  for (int j = 1; j <= lines; ++j) {
    InventoryList l;
    l.gnum = j;
    l.itemRecordNo = "1" + std::to_string(j);
    l.gcode = "0402290000";
    l.gname = "奶粉";
    l.gmodel = "900g/罐";
    l.country = "502";
    l.currency = "142";
    l.qty = Decimal::of_int(1);
    l.unit = "122";
    l.qty1 = Decimal::of_units(90000);
    l.unit1 = "035";
    l.price = Decimal::of_units(100 * kDecimalScale);
    l.totalPrice = l.price;
    inv.lists.push_back(l);
  }
  return inv;
}

inline InvtCancel cancel(int i) {
  InvtCancel c;
  c.guid = guid(i);
  c.appType = "1";
  c.appTime = "20230117090000";
  c.appStatus = "2";
  c.customsCode = "4606";
  c.orderNo = "ORD2023" + std::to_string(1000 + i);
  c.ebpCode = "4101961234";
  c.ebpName = "测试电商平台";
  c.ebcCode = "4101965678";
  c.ebcName = "测试电商企业";
  c.logisticsNo = "LN" + std::to_string(i);
  c.logisticsCode = "4101968888";
  c.logisticsName = "测试物流";
  c.invtNo = "46062023I00000000" + std::to_string(i % 10);
  c.buyerIdType = "1";
  c.buyerIdNumber = "410101199001011234";
  c.buyerName = "张三";
  c.buyerTelephone = "13800000000";
  c.agentCode = "4101965678";
  c.agentName = "测试电商企业";
  c.reason = "买家取消";
  return c;
}

inline InvtRefund refund(int i, int lines) {
  InvtRefund r;
  InvtRefundHead& h = r.head;
  h.guid = guid(i);
  h.appType = "1";
  h.appTime = "20230120090000";
  h.appStatus = "2";
  h.customsCode = "4606";
  h.orderNo = "ORD2023" + std::to_string(1000 + i);
  h.ebpCode = "4101961234";
  h.ebpName = "测试电商平台";
  h.ebcCode = "4101965678";
  h.ebcName = "测试电商企业";
  h.logisticsNo = "LN" + std::to_string(i);
  h.logisticsCode = "4101968888";
  h.logisticsName = "测试物流";
  h.invtNo = "46062023I00000000" + std::to_string(i % 10);
  h.buyerIdType = "1";
  h.buyerIdNumber = "410101199001011234";
  h.buyerName = "张三";
  h.buyerTelephone = "13800000000";
  h.agentCode = "4101965678";
  h.agentName = "测试电商企业";
  h.reason = "质量问题";
  for (int j = 1; j <= lines; ++j) {
    r.lists.push_back(InvtRefundList{j, "0402290000", "奶粉", Decimal::of_int(1), "122", ""});
  }
  return r;
}

inline Delivery delivery(int lines) {
  Delivery d;
  DeliveryHead& h = d.head;
  h.guid = guid(7);
  h.appType = "1";
  h.appTime = "20230110080000";
  h.appStatus = "2";
  h.customsCode = "4606";
  h.operatorCode = "4101967777";
  h.operatorName = "测试监管场所";
  h.ieFlag = "I";
  h.trafMode = "5";
  h.trafNo = "CA1234";
  h.voyageNo = "20230110";
  h.billNo = "999-12345678";
  h.logisticsCode = "4101968888";
  h.logisticsName = "测试物流";
  for (int j = 1; j <= lines; ++j) {
    d.lists.push_back(DeliveryList{j, "LN" + std::to_string(j), ""});
  }
  return d;
}

inline Message message(MessageType type, int records = 2, int lines = 2) {
  Message m;
  m.type = type;
  m.guid = guid(0);
  m.version = "1.0";
  m.transfer = transfer();
  for (int i = 1; i <= records; ++i) {
    switch (type) {
      case MessageType::kCEB311:
        m.orders.push_back(order(i, lines));
        break;
      case MessageType::kCEB411:
        m.payments.push_back(payment(i));
        break;
      case MessageType::kCEB511:
        m.waybills.push_back(waybill(i));
        break;
      case MessageType::kCEB513:
        m.waybill_statuses.push_back(waybill_status(i));
        break;
      case MessageType::kCEB621:
        m.inventories.push_back(inventory(i, lines));
        break;
      case MessageType::kCEB623:
        m.cancels.push_back(cancel(i));
        break;
      case MessageType::kCEB625:
        m.refunds.push_back(refund(i, lines));
        break;
      case MessageType::kCEB711:
        if (i == 1) m.deliveries.push_back(delivery(lines));
        break;
    }
  }
  return m;
}

inline constexpr MessageType kAllTypes[] = {
    MessageType::kCEB311, MessageType::kCEB411, MessageType::kCEB511, MessageType::kCEB513,
    MessageType::kCEB621, MessageType::kCEB623, MessageType::kCEB625, MessageType::kCEB711};

}  // namespace cbec::ceb::testing
