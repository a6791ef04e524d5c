// Tax settlement and returns over HTTP: the guarantor statement (JSON and CSV) and who may read
// it, tax payments and who may make them, return (CEB625) arrivals confirmed by the warehouse,
// and a replay of the log that rebuilds exactly the live state. The service runs on a clock the
// test moves, so the 30- and 45-day dates come without waiting.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "demo/demo.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "messages/ceb.h"
#include "rapidjson/document.h"
#include "server/http.h"
#include "service/api.h"
#include "service/service.h"
#include "service_fixture.h"

namespace cbec::service {
namespace {

namespace fs = std::filesystem;
using Headers = std::vector<std::pair<std::string, std::string>>;
using server::HttpResponse;

constexpr char kRegulatorKey[] = "regulator-key-for-tax-api-tests";
constexpr char kWarehouse[] = "4101960003";  // agent, warehouse operator, guarantor
constexpr char kPlatform[] = "4101960001";
constexpr int kClientTimeoutMs = 30 * 1000;

Headers key_of(std::string_view code) { return {{"X-API-Key", "key-" + std::string(code)}}; }
Headers regulator() { return {{"X-API-Key", kRegulatorKey}}; }

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  return d;
}
std::string str(const rapidjson::Value& o, const char* k) {
  if (!o.IsObject() || !o.HasMember(k) || !o[k].IsString()) return {};
  return std::string(o[k].GetString(), o[k].GetStringLength());
}
Fen fen(const std::string& text) {
  Decimal d;
  EXPECT_EQ(parse_decimal(text, &d), DecimalError::kOk) << "not an amount: '" << text << "'";
  return round_half_up_fen(d);
}

// RFC 4180 fields of one CSV line (quoted fields may hold commas and doubled quotes).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
        out.back() += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

class TaxApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir(
        "api-tax-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    clock_->store(beijing_midnight(CivilDate{2025, 6, 18}) + 9 * kMsPerHour);
    Status st = testing::start_http_zone(Options(), kRegulatorKey, kClientTimeoutMs, &service_,
                                         &api_, &server_, &client_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void TearDown() override { testing::stop_http_zone(&client_, &server_, &api_, &service_); }

  ServiceOptions Options() {
    ServiceOptions o;
    o.data_dir = (dir_ / "data").string();
    o.reference = reference();
    o.ticks = false;
    o.draw_seeds = false;  // no random lanes: every good list is released
    o.clock = [c = clock_] { return c->load(); };
    return o;
  }
  static std::shared_ptr<const ref::ReferenceData> reference() {
    static auto r = *ref::ReferenceData::LoadDefaults();
    return r;
  }
  // Moves the service's clock to `days` after the first day, 10:00.
  void day(int days) {
    clock_->store(beijing_midnight(CivilDate{2025, 6, 18}) + days * kMsPerDay + 10 * kMsPerHour);
  }

  HttpResponse Call(const std::string& method, const std::string& target, const std::string& body,
                    const Headers& h) {
    auto r = client_->Request(method, target, body, h);
    if (!r.ok()) {
      ADD_FAILURE() << method << " " << target << ": " << r.status().ToString();
      return HttpResponse{};
    }
    return std::move(*r);
  }

  // Clears `count` good generated sets; returns the released lists' (invtNo, assureCode).
  std::vector<clearance::ListRecord> Release(int count, uint64_t seed) {
    gen::Options opt;
    opt.seed = seed;
    opt.count = count;
    auto g = gen::generate(gen::demo_zone(), opt, *reference());
    EXPECT_TRUE(g.ok());
    for (const auto& sub : demo::submissions(gen::demo_zone(), g->sets)) {
      HttpResponse r =
          Call("POST", "/api/v1/messages", ceb::write_message_xml(sub.message), key_of(sub.sender));
      EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
    }
    std::vector<clearance::ListRecord> out;
    service_->Read([&](const clearance::Engine& e) {
      for (const auto& set : g->sets) {
        auto L = e.list_by_cop_no(set.inventory.head.agentCode, set.inventory.head.copNo);
        EXPECT_TRUE(L != nullptr && L->state == clearance::ListState::kReleased);
        if (L) out.push_back(*L);
      }
      return 0;
    });
    return out;
  }

  // Validates XML against the official XSD with xmllint; "" when valid, else its output.
  std::string Xmllint(const std::string& xml, const std::string& name) {
    fs::path file = dir_ / (name + ".xml");
    fs::path log = dir_ / (name + ".xmllint.log");
    {
      std::ofstream out(file, std::ios::binary);
      out << xml;
    }
    std::string cmd = "xmllint --noout --schema '" CBEC_TESTDATA_DIR
                      "/ceb/ceb-import-202205.xsd' '" +
                      file.string() + "' > '" + log.string() + "' 2>&1";
    if (std::system(cmd.c_str()) == 0) return "";
    std::ifstream in(log);
    std::stringstream b;
    b << in.rdbuf();
    return b.str().empty() ? "xmllint failed" : b.str();
  }

  std::string Statement(const std::string& query, const Headers& h, int* status) {
    HttpResponse r = Call("GET", "/api/v1/tax/statement?" + query, "", h);
    *status = r.status;
    return r.body;
  }

  fs::path dir_;
  std::shared_ptr<std::atomic<TimeMs>> clock_ = std::make_shared<std::atomic<TimeMs>>(0);
  std::unique_ptr<Service> service_;
  std::shared_ptr<Api> api_;
  std::unique_ptr<server::HttpServer> server_;
  std::unique_ptr<server::HttpClient> client_;
};

TEST_F(TaxApiTest, StatementIsForTheGuarantorAndTheRegulatorAndBalances) {
  auto lists = Release(6, 21);
  ASSERT_FALSE(lists.empty());
  const std::string guarantor = lists[0].doc.head.assureCode;
  Fen expected_bills = 0;
  for (const auto& L : lists)
    if (L.doc.head.assureCode == guarantor) expected_bills += L.tax->total_fen();
  const std::string q = "assureCode=" + guarantor + "&from=2025-06-01&to=2025-06-30";

  int status = 0;
  std::string body = Statement(q, key_of(guarantor), &status);
  ASSERT_EQ(status, 200) << body;
  auto d = parse(body);
  EXPECT_EQ(str(d, "assureCode"), guarantor);
  EXPECT_EQ(fen(str(d, "openingBalance")), 0);
  EXPECT_EQ(fen(str(d, "bills")), expected_bills);
  EXPECT_EQ(fen(str(d, "closingBalance")), expected_bills);
  EXPECT_EQ(fen(str(d["guarantee"], "openBills")), expected_bills);
  ASSERT_TRUE(d["taxBills"].IsArray());
  for (const auto& b : d["taxBills"].GetArray()) {
    Fen lines = 0;
    for (const auto& l : b["lines"].GetArray()) {
      EXPECT_FALSE(str(l, "gcode").empty());
      lines +=
          fen(str(l, "customsTax")) + fen(str(l, "consumptionTax")) + fen(str(l, "valueAddedTax"));
    }
    EXPECT_EQ(lines, fen(str(b, "tax")));  // per-line rounding: the lines add up to the bill
    EXPECT_EQ(str(b, "state"), "open");
    EXPECT_EQ(str(b, "payableFrom").size(), 10u);
  }

  // Without assureCode the guarantor reads its own; the regulator must name one.
  EXPECT_EQ((Statement("from=2025-06-01&to=2025-06-30", key_of(guarantor), &status), status), 200);
  EXPECT_EQ((Statement("from=2025-06-01&to=2025-06-30", regulator(), &status), status), 400);
  EXPECT_EQ((Statement(q, regulator(), &status), status), 200);
  // Other enterprises, even parties of the lists, may not read it.
  EXPECT_EQ((Statement(q, key_of(kPlatform), &status), status), 403);
  EXPECT_EQ((Statement(q, {{"X-API-Key", "no-such-key-at-all"}}, &status), status), 401);
  EXPECT_EQ((Statement("assureCode=" + guarantor + "&from=2025-06-31&to=2025-07-01", regulator(),
                       &status),
             status),
            400);
  EXPECT_EQ((Statement("assureCode=" + guarantor + "&from=2025-07-01&to=2025-06-01", regulator(),
                       &status),
             status),
            400);
  EXPECT_EQ((Statement("assureCode=" + std::string(kPlatform) + "&from=2025-06-01&to=2025-06-30",
                       regulator(), &status),
             status),
            404);  // not a guarantor
  EXPECT_EQ((Statement(q + "&format=pdf", regulator(), &status), status), 400);

  // CSV: every row has the header's 13 columns, bill_line rows add up to their bill, and the
  // running balance ends at the closing balance.
  HttpResponse csv =
      Call("GET", "/api/v1/tax/statement?" + q + "&format=csv", "", key_of(guarantor));
  ASSERT_EQ(csv.status, 200);
  EXPECT_NE(csv.content_type.find("text/csv"), std::string::npos);
  std::istringstream in(csv.body);
  std::string line;
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    ASSERT_EQ(line.back(), '\r');
    line.pop_back();
    rows.push_back(csv_fields(line));
  }
  ASSERT_GE(rows.size(), 4u);
  EXPECT_EQ(rows[0][0], "record");
  EXPECT_EQ(rows[0][10], "amount");
  Fen balance = 0, bills = 0, bill_lines = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 13u) << "row " << i;
    const std::string& kind = rows[i][0];
    if (kind == "opening") balance = fen(rows[i][10]);
    if (kind == "bill") {
      bills += fen(rows[i][10]);
      balance += fen(rows[i][10]);
      EXPECT_EQ(fen(rows[i][11]), balance);
    }
    if (kind == "bill_line") bill_lines += fen(rows[i][10]);
    if (kind == "closing") {
      EXPECT_EQ(fen(rows[i][10]), balance);
    }
  }
  EXPECT_EQ(bills, expected_bills);
  EXPECT_EQ(bill_lines, expected_bills);
  EXPECT_EQ(rows.back()[0], "guarantee");
}

TEST_F(TaxApiTest, PaymentsByTheGuarantorOrTheRegulatorSettleBills) {
  auto lists = Release(4, 33);
  ASSERT_FALSE(lists.empty());
  const clearance::ListRecord& L = lists[0];
  const std::string guarantor = L.doc.head.assureCode;
  const std::string amount = format_fen(L.tax->total_fen());
  auto pay = [&](const Headers& h, const std::string& ref, const std::string& amt,
                 const std::string& who = "") {
    std::string body = "{\"invtNo\":\"" + L.invtNo + "\",\"paymentRef\":\"" + ref +
                       "\",\"amount\":\"" + amt + "\"" +
                       (who.empty() ? "" : ",\"assureCode\":\"" + who + "\"") + "}";
    return Call("POST", "/api/v1/tax/payments", body, h);
  };
  // Within the cancel/return window the bill is not payable yet.
  HttpResponse r = pay(key_of(guarantor), "BANK-1", amount);
  EXPECT_EQ(r.status, 409) << r.body;
  day(31);
  EXPECT_EQ(pay(key_of(kPlatform), "BANK-1", amount).status, 403);  // not a guarantor's key
  EXPECT_EQ(pay(key_of(kPlatform), "BANK-1", amount, guarantor).status, 403);
  EXPECT_EQ(pay(regulator(), "BANK-1", amount).status, 400);         // must name the guarantor
  EXPECT_EQ(pay(key_of(guarantor), "BANK-1", "0.001").status, 400);  // sub-fen
  r = pay(key_of(guarantor), "BANK-1", "0.01");
  EXPECT_EQ(r.status, 400) << r.body;  // not what is owed
  EXPECT_NE(r.body.find(amount), std::string::npos) << r.body;
  r = pay(key_of(guarantor), "BANK-1", amount);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(pay(key_of(guarantor), "BANK-1", amount).status, 200);       // the same payment again
  EXPECT_EQ(pay(regulator(), "BANK-1", "1.00", guarantor).status, 409);  // reference reused

  int status = 0;
  auto d = parse(Statement("from=2025-06-01&to=2025-07-31", key_of(guarantor), &status));
  ASSERT_EQ(status, 200);
  EXPECT_EQ(fen(str(d, "payments")), L.tax->total_fen());
  EXPECT_EQ(fen(str(d, "closingBalance")), fen(str(d, "bills")) - fen(str(d, "payments")));
  bool found = false;
  for (const auto& e : d["entries"].GetArray())
    if (str(e, "kind") == "payment" && str(e, "reference") == "BANK-1") found = true;
  EXPECT_TRUE(found);
  service_->Read([&](const clearance::Engine& e) {
    EXPECT_EQ(e.tax_bill(L.invtNo)->state, clearance::TaxBill::State::kPaid);
    return 0;
  });
}

TEST_F(TaxApiTest, ReturnArrivalIsConfirmedByTheWarehouseAndReplayRebuildsTheState) {
  auto lists = Release(3, 44);
  ASSERT_FALSE(lists.empty());
  const clearance::ListRecord& L = lists[0];
  const auto& lh = L.doc.head;
  // The declarer returns the first line whole (CEB625, XML).
  ceb::Message m;
  m.type = ceb::MessageType::kCEB625;
  m.guid = "A1B2C3D4-0625-4000-8000-000000000001";
  m.version = "1.0";
  m.transfer = {lh.agentCode, "agent", "DXP", "DXPENT0000000001", ""};
  ceb::InvtRefund rf;
  auto& h = rf.head;
  h.guid = m.guid;
  h.appType = "1";
  h.appTime = "20250620100000";
  h.appStatus = "2";
  h.customsCode = lh.customsCode;
  h.orderNo = lh.orderNo;
  h.ebpCode = lh.ebpCode;
  h.ebpName = lh.ebpName;
  h.ebcCode = lh.ebcCode;
  h.ebcName = lh.ebcName;
  h.logisticsNo = lh.logisticsNo;
  h.logisticsCode = lh.logisticsCode;
  h.logisticsName = lh.logisticsName;
  h.copNo = "RT-API-1";
  h.invtNo = L.invtNo;
  h.buyerIdType = "1";
  h.buyerIdNumber = lh.buyerIdNumber;
  h.buyerName = lh.buyerName;
  h.buyerTelephone = lh.buyerTelephone;
  h.agentCode = lh.agentCode;
  h.agentName = lh.agentName;
  h.reason = "退货";
  const auto& line = L.doc.lists[0];
  rf.lists.push_back(
      ceb::InvtRefundList{line.gnum, line.gcode, line.gname, line.qty, line.unit, ""});
  m.refunds.push_back(rf);
  day(2);
  HttpResponse r = Call("POST", "/api/v1/messages", ceb::write_message_xml(m),
                        {{"X-API-Key", "key-" + lh.agentCode}, {"Accept", "application/xml"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("CEB626Message"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<returnStatus>120</returnStatus>"), std::string::npos) << r.body;
  EXPECT_EQ(Xmllint(r.body, "ceb626"), "");

  // A cancel of another list (CEB623): its CEB624 validates too.
  ASSERT_GE(lists.size(), 3u);
  {
    const auto& ch = lists[1].doc.head;
    ceb::Message cm;
    cm.type = ceb::MessageType::kCEB623;
    cm.guid = "A1B2C3D4-0623-4000-8000-000000000001";
    cm.version = "1.0";
    cm.transfer = {ch.agentCode, "agent", "DXP", "DXPENT0000000001", ""};
    ceb::InvtCancel c;
    c.guid = cm.guid;
    c.appType = "1";
    c.appTime = "20250620100000";
    c.appStatus = "2";
    c.customsCode = ch.customsCode;
    c.orderNo = ch.orderNo;
    c.ebpCode = ch.ebpCode;
    c.ebpName = ch.ebpName;
    c.ebcCode = ch.ebcCode;
    c.ebcName = ch.ebcName;
    c.logisticsNo = ch.logisticsNo;
    c.logisticsCode = ch.logisticsCode;
    c.logisticsName = ch.logisticsName;
    c.copNo = "CX-API-1";
    c.invtNo = lists[1].invtNo;
    c.buyerIdType = "1";
    c.buyerIdNumber = ch.buyerIdNumber;
    c.buyerName = ch.buyerName;
    c.buyerTelephone = ch.buyerTelephone;
    c.agentCode = ch.agentCode;
    c.agentName = ch.agentName;
    c.reason = "取消";
    cm.cancels.push_back(c);
    HttpResponse cr = Call("POST", "/api/v1/messages", ceb::write_message_xml(cm),
                           {{"X-API-Key", "key-" + ch.agentCode}, {"Accept", "application/xml"}});
    ASSERT_EQ(cr.status, 200) << cr.body;
    EXPECT_NE(cr.body.find("CEB624Message"), std::string::npos) << cr.body;
    EXPECT_NE(cr.body.find("<returnStatus>399</returnStatus>"), std::string::npos) << cr.body;
    EXPECT_EQ(Xmllint(cr.body, "ceb624"), "");
  }

  const std::string arrival = "{\"agentCode\":\"" + lh.agentCode + "\",\"copNo\":\"RT-API-1\"}";
  day(10);
  EXPECT_EQ(Call("POST", "/api/v1/returns/arrivals", arrival, key_of(kPlatform)).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/returns/arrivals", arrival, regulator()).status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/returns/arrivals", "{\"copNo\":\"RT-API-1\"}", key_of(kWarehouse))
                .status,
            400);
  r = Call("POST", "/api/v1/returns/arrivals", arrival, key_of(kWarehouse));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Call("POST", "/api/v1/returns/arrivals", arrival, key_of(kWarehouse)).status, 409);
  service_->Read([&](const clearance::Engine& e) {
    auto rec = e.return_record(lh.agentCode, "RT-API-1");
    EXPECT_TRUE(rec && rec->state == clearance::ReturnRecord::State::kArrived);
    return 0;
  });
  // The agent's receipt feed has the 399 of the arrival.
  HttpResponse feed = Call("GET", "/api/v1/receipts?limit=1000", "", key_of(lh.agentCode));
  EXPECT_NE(feed.body.find("\"returnStatus\":399"), std::string::npos);

  // A payment, too, then the log replayed into a fresh core gives the live state exactly.
  day(32);
  const clearance::ListRecord& other = lists.back();
  std::string body = "{\"assureCode\":\"" + other.doc.head.assureCode + "\",\"invtNo\":\"" +
                     other.invtNo + "\",\"paymentRef\":\"BANK-R\",\"amount\":\"" +
                     format_fen(service_->Read([&](const clearance::Engine& e) {
                       return e.tax_bill(other.invtNo)->outstanding_fen();
                     })) +
                     "\"}";
  EXPECT_EQ(Call("POST", "/api/v1/tax/payments", body, regulator()).status, 200);
  std::string live = service_->Read([](const clearance::Engine& e) { return e.dump_state(); });
  TearDown();  // the log alone, with the service closed
  auto replayed = Service::ReplayToDump((dir_ / "data").string(), reference());
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_EQ(*replayed, live);
  EXPECT_NE(live.find("return " + lh.agentCode + "/RT-API-1"), std::string::npos);
  EXPECT_NE(live.find("BANK-R"), std::string::npos);
}

}  // namespace
}  // namespace cbec::service
