// The HTTP API end to end: a real Service on a temporary data directory with the demo zone
// registered, the real HTTP server on 127.0.0.1 port 0, and the blocking HttpClient. Every
// assertion is on what an integrator sees over the wire: status codes, JSON and CEB XML bodies,
// the receipt feed, and the SSE stream.
#include "service/api.h"

#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "demo/demo.h"
#include "fmt/format.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "messages/ceb.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "audit/audit.h"
#include "clearance/supervision.h"
#include "log/log.h"
#include "server/http.h"
#include "service/service.h"
#include "service_fixture.h"

namespace cbec::service {
namespace {

namespace fs = std::filesystem;
using Headers = std::vector<std::pair<std::string, std::string>>;
using server::HttpResponse;

constexpr char kRegulatorKey[] = "regulator-key-for-api-tests";
constexpr char kAgent[] = "4101960003";  // declaring agent, warehouse operator, guarantor
constexpr char kEmsNo[] = "T4612W000001";
constexpr int kClientTimeoutMs = 30 * 1000;
constexpr int kStreamTimeoutMs = 10 * 1000;

std::shared_ptr<const ref::ReferenceData> reference() {
  static auto r = *ref::ReferenceData::LoadDefaults();
  return r;
}

std::string key_of(std::string_view code) { return "key-" + std::string(code); }
std::string officer_key_of(std::string_view id) { return "officer-key-" + std::string(id); }
Headers key_header(std::string_view key) { return {{"X-API-Key", std::string(key)}}; }
Headers enterprise(std::string_view code) { return key_header(key_of(code)); }
Headers officer(std::string_view id) { return key_header(officer_key_of(id)); }
Headers regulator() { return key_header(kRegulatorKey); }
Headers with(Headers h, std::string name, std::string value) {
  h.emplace_back(std::move(name), std::move(value));
  return h;
}

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  return d;
}

std::string header_of(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

// o[k], or null when o is not an object or has no such member (never undefined behaviour).
const rapidjson::Value& member(const rapidjson::Value& o, const char* k) {
  static const rapidjson::Value kNull;
  return o.IsObject() && o.HasMember(k) ? o[k] : kNull;
}
constexpr int kNoInt = -999999999;
int int_of(const rapidjson::Value& o, const char* k) {
  const auto& v = member(o, k);
  return v.IsInt() ? v.GetInt() : kNoInt;
}
std::string str_of(const rapidjson::Value& o, const char* k) {
  const auto& v = member(o, k);
  return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : "<none>";
}
uint64_t uint_of(const rapidjson::Value& o, const char* k) {
  const auto& v = member(o, k);
  return v.IsUint64() ? v.GetUint64() : UINT64_MAX;
}

// Percent-encodes a query parameter value (names are Chinese).
std::string url(std::string_view v) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string str(const rapidjson::Value& o, const char* k) {
  if (!o.IsObject() || !o.HasMember(k) || !o[k].IsString()) return {};
  return std::string(o[k].GetString(), o[k].GetStringLength());
}

// MIME-style Base64 (76-character lines), as regional gateways wrap the XML.
std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t line = 0;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
    if ((line += 4) == 76) {
      out += "\r\n";
      line = 0;
    }
  }
  return out;
}

// One receipt as the API serves it (POST answers, the feed, SSE events).
struct Rc {
  uint64_t no = 0;
  std::string receiver, message, copNo, invtNo;
  int status = 0;
  std::string json;  // the object without "no", for content comparisons
};

Rc to_rc(const rapidjson::Value& v) {
  Rc r;
  if (!v.IsObject()) {
    ADD_FAILURE() << "receipt is not an object";
    return r;
  }
  r.no = uint_of(v, "no");
  r.receiver = str(v, "receiver");
  r.message = str(v, "message");
  r.copNo = str(v, "copNo");
  r.invtNo = str(v, "invtNo");
  r.status = int_of(v, "returnStatus");
  rapidjson::Document copy;
  copy.CopyFrom(v, copy.GetAllocator());
  copy.RemoveMember("no");
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  copy.Accept(w);
  r.json = b.GetString();
  return r;
}

std::vector<Rc> receipts_of(const std::string& body) {
  rapidjson::Document d = parse(body);
  std::vector<Rc> out;
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("receipts") || !d["receipts"].IsArray()) {
    ADD_FAILURE() << "not a receipts answer: " << body.substr(0, 500);
    return out;
  }
  for (const auto& v : d["receipts"].GetArray()) out.push_back(to_rc(v));
  return out;
}

std::vector<int> statuses(const std::vector<Rc>& rs) {
  std::vector<int> out;
  for (const auto& r : rs) out.push_back(r.status);
  return out;
}

std::vector<uint64_t> numbers(const std::vector<Rc>& rs) {
  std::vector<uint64_t> out;
  for (const auto& r : rs) out.push_back(r.no);
  return out;
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir(
        "api-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    ServiceOptions o;
    o.data_dir = (dir_ / "data").string();
    o.reference = reference();
    o.ticks = false;
    o.clock = [clock = clock_] { return clock->load(); };
    if (supervision_) {
      // Real lanes: seeded draws (a fixed seed, so the test knows its hash), risk rules.
      o.draw_seed = [](CivilDate) { return std::string(clearance::kDrawSeedBytes, 'k'); };
    } else {
      o.draw_seeds = false;
      // Lists whose copNo a test puts in yellow_ go to manual review (300).
      o.lanes = [yellow = yellow_](const clearance::LaneContext& c) {
        return yellow->count(c.inventory->head.copNo) ? clearance::Lane::kYellow
                                                      : clearance::Lane::kGreen;
      };
    }
    Status st = testing::start_http_zone(std::move(o), kRegulatorKey, kClientTimeoutMs, &service_,
                                         &api_, &server_, &client_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  void TearDown() override { testing::stop_http_zone(&client_, &server_, &api_, &service_); }

  static std::unique_ptr<server::HttpServer> StartServer(std::shared_ptr<server::Handler> handler,
                                                         server::ServerOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    auto s = server::HttpServer::Start(options, std::move(handler));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  static std::unique_ptr<server::HttpClient> Connect(uint16_t port) {
    auto c = server::HttpClient::Connect("127.0.0.1", port, kClientTimeoutMs);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  static HttpResponse Call(server::HttpClient& c, const std::string& method,
                           const std::string& target, const std::string& body,
                           const Headers& headers) {
    auto r = c.Request(method, target, body, headers);
    if (!r.ok()) {
      ADD_FAILURE() << method << " " << target << ": " << r.status().ToString();
      HttpResponse failed;
      failed.status = 0;
      return failed;
    }
    return std::move(*r);
  }
  HttpResponse Get(const std::string& target, const Headers& headers = {}) {
    return Call(*client_, "GET", target, "", headers);
  }
  HttpResponse Post(const std::string& target, const std::string& body, const Headers& headers) {
    return Call(*client_, "POST", target, body, headers);
  }
  HttpResponse PostMessage(const std::string& body, const Headers& headers) {
    return Post("/api/v1/messages", body, headers);
  }

  // Good document sets (no faults), deterministic under the seed.
  static std::vector<gen::DocSet> Sets(int count, uint64_t seed) {
    gen::Options opt;
    opt.seed = seed;
    opt.count = count;
    auto g = gen::generate(gen::demo_zone(), opt, *reference());
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? std::move(g->sets) : std::vector<gen::DocSet>{};
  }
  static std::vector<demo::Submission> Subs(std::span<const gen::DocSet> sets) {
    return demo::submissions(gen::demo_zone(), sets);
  }

  // Posts every message (XML) by its sender; returns the receipts of all answers.
  std::vector<Rc> Clear(std::span<const gen::DocSet> sets) {
    std::vector<Rc> all;
    for (const auto& sub : Subs(sets)) {
      HttpResponse r = PostMessage(ceb::write_message_xml(sub.message), enterprise(sub.sender));
      EXPECT_EQ(r.status, 200) << r.body.substr(0, 500);
      for (auto& rc : receipts_of(r.body)) all.push_back(std::move(rc));
    }
    return all;
  }

  // The whole receipt feed of a key, page by page (limit per page), checking page order.
  std::vector<Rc> Feed(server::HttpClient& c, const Headers& key, int limit) {
    std::vector<Rc> out;
    uint64_t after = 0;
    for (int page = 0; page < 100000; ++page) {
      HttpResponse r = Call(
          c, "GET",
          "/api/v1/receipts?after=" + std::to_string(after) + "&limit=" + std::to_string(limit), "",
          key);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      rapidjson::Document d = parse(r.body);
      std::vector<Rc> rs = receipts_of(r.body);
      EXPECT_LE(static_cast<int>(rs.size()), limit);
      if (rs.empty()) {
        EXPECT_EQ(uint_of(d, "next"), after);  // an empty page keeps the cursor
        break;
      }
      for (const auto& x : rs) {
        EXPECT_GT(x.no, after) << "feed out of order";
        after = x.no;
        out.push_back(x);
      }
      EXPECT_EQ(uint_of(d, "next"), after);
    }
    return out;
  }
  std::vector<Rc> Feed(const Headers& key, int limit = kMaxReceiptPage) {
    return Feed(*client_, key, limit);
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
    int rc = std::system(cmd.c_str());
    if (rc == 0) return "";
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    return "xmllint exit " + std::to_string(rc) + ": " + ss.str();
  }

  // onHand of every item of the bonded account book, read by the operator.
  std::map<std::string, Decimal> Stock() {
    HttpResponse r = Get(std::string("/api/v1/stock?emsNo=") + kEmsNo, enterprise(kAgent));
    EXPECT_EQ(r.status, 200) << r.body;
    std::map<std::string, Decimal> out;
    rapidjson::Document d = parse(r.body);
    if (!d.IsObject() || !d.HasMember("items")) return out;
    if (!d["items"].IsArray()) return out;
    for (const auto& it : d["items"].GetArray()) {
      Decimal q;
      EXPECT_EQ(parse_decimal(str(it, "onHand"), &q), DecimalError::kOk);
      out[str(it, "itemRecordNo")] = q;
    }
    return out;
  }

  bool OrderStored(const std::string& ebp, const std::string& order_no) const {
    return service_->Read(
        [&](const clearance::Engine& e) { return e.order(ebp, order_no) != nullptr; });
  }

  fs::path dir_;
  bool supervision_ = false;  // set by a derived fixture before SetUp
  std::shared_ptr<std::atomic<TimeMs>> clock_ = std::make_shared<std::atomic<TimeMs>>(
      beijing_midnight(CivilDate{2025, 6, 18}) + 9 * kMsPerHour);
  std::shared_ptr<std::set<std::string>> yellow_ = std::make_shared<std::set<std::string>>();
  std::unique_ptr<Service> service_;
  std::shared_ptr<Api> api_;
  std::unique_ptr<server::HttpServer> server_;
  std::unique_ptr<server::HttpClient> client_;
};

const ceb::Message& message_of(const std::vector<demo::Submission>& subs, ceb::MessageType t) {
  for (const auto& s : subs)
    if (s.message.type == t) return s.message;
  ADD_FAILURE() << "no message of that type";
  static const ceb::Message kEmpty;
  return kEmpty;
}

// ---- POST /api/v1/messages ------------------------------------------------------------------

TEST_F(ApiTest, FullSetInEveryFormatGetsReceiptsJsonAndValidXml) {
  // Proves: XML, Base64-wrapped XML and JSON are all accepted; each sender gets its own 120;
  // the list gets 120 then 800; with Accept: application/xml the answer is a CEB622 message
  // in the default namespace that validates against the official XSD.
  auto sets = Sets(2, 101);
  ASSERT_EQ(sets.size(), 2u);
  // Set 1: order as XML, payment as Base64 of the XML, waybill as JSON, list as XML (JSON answer).
  auto subs = Subs(std::span(sets).first(1));
  ASSERT_EQ(subs.size(), 4u);
  std::vector<std::string> bodies = {
      ceb::write_message_xml(subs[0].message), base64(ceb::write_message_xml(subs[1].message)),
      ceb::write_message_json(subs[2].message), ceb::write_message_xml(subs[3].message)};
  const std::vector<std::string> kReceiptRoots = {"CEB312Message", "CEB412Message", "CEB512Message",
                                                  "CEB622Message"};
  uint64_t last_seq = 0;
  for (size_t i = 0; i < subs.size(); ++i) {
    HttpResponse r = PostMessage(bodies[i], enterprise(subs[i].sender));
    ASSERT_EQ(r.status, 200) << i << ": " << r.body;
    rapidjson::Document d = parse(r.body);
    ASSERT_NE(uint_of(d, "seq"), UINT64_MAX) << r.body;
    EXPECT_GT(uint_of(d, "seq"), last_seq);
    last_seq = uint_of(d, "seq");
    std::vector<Rc> rs = receipts_of(r.body);
    if (i < 3) {
      EXPECT_EQ(statuses(rs), std::vector<int>{120}) << r.body;
    } else {
      EXPECT_EQ(statuses(rs), (std::vector<int>{120, 800})) << r.body;
      ASSERT_EQ(rs.size(), 2u);
      EXPECT_EQ(rs[1].no, rs[0].no + 1);
      EXPECT_FALSE(rs[1].invtNo.empty());
      EXPECT_EQ(rs[1].copNo, sets[0].inventory.head.copNo);
    }
    for (const auto& rc : rs) {
      EXPECT_EQ(rc.receiver, subs[i].sender);
      EXPECT_EQ(rc.message, kReceiptRoots[i]);
    }
  }
  // Set 2: the list answered as CEB622 XML.
  auto subs2 = Subs(std::span(sets).subspan(1, 1));
  ASSERT_EQ(subs2.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(
        PostMessage(ceb::write_message_json(subs2[i].message), enterprise(subs2[i].sender)).status,
        200);
  }
  HttpResponse x = PostMessage(ceb::write_message_xml(subs2[3].message),
                               with(enterprise(kAgent), "Accept", "application/xml"));
  ASSERT_EQ(x.status, 200) << x.body;
  EXPECT_NE(x.content_type.find("application/xml"), std::string::npos) << x.content_type;
  EXPECT_NE(x.body.find("<CEB622Message"), std::string::npos) << x.body;
  EXPECT_NE(x.body.find("xmlns=\"http://www.chinaport.gov.cn/ceb\""), std::string::npos);
  EXPECT_NE(x.body.find("<returnStatus>800</returnStatus>"), std::string::npos) << x.body;
  EXPECT_NE(x.body.find(sets[1].inventory.head.copNo), std::string::npos);
  EXPECT_EQ(Xmllint(x.body, "ceb622"), "");
}

TEST_F(ApiTest, ListMessageOfManyRecordsAnswersOneValidXmlMessage) {
  // Proves: a 60-record list message whose lists are all released at once (120 and 800 each,
  // 120 receipts) still gets one valid CEB622 (at most 100 records: the latest per list) and
  // the server stays up; the JSON feed has every receipt.
  auto sets = Sets(60, 102);
  auto subs = Subs(sets);
  for (const auto& sub : subs) {
    if (sub.message.type == ceb::MessageType::kCEB621) continue;
    ASSERT_EQ(PostMessage(ceb::write_message_xml(sub.message), enterprise(sub.sender)).status, 200);
  }
  const ceb::Message& lists = message_of(subs, ceb::MessageType::kCEB621);
  ASSERT_EQ(lists.inventories.size(), 60u);
  HttpResponse x = PostMessage(ceb::write_message_xml(lists),
                               with(enterprise(kAgent), "Accept", "application/xml"));
  ASSERT_EQ(x.status, 200) << x.body.substr(0, 500);
  EXPECT_EQ(Xmllint(x.body, "ceb622_60"), "");
  size_t released = 0;
  for (size_t p = 0; (p = x.body.find("<returnStatus>800</returnStatus>", p)) != std::string::npos;
       ++p)
    ++released;
  EXPECT_EQ(released, 60u);
  for (const auto& s : sets) EXPECT_NE(x.body.find(s.inventory.head.copNo), std::string::npos);
  // Every receipt is in the agent's feed: 60 × (120, 800).
  std::vector<Rc> feed = Feed(enterprise(kAgent));
  EXPECT_EQ(std::count_if(feed.begin(), feed.end(), [](const Rc& r) { return r.status == 120; }),
            60);
  EXPECT_EQ(std::count_if(feed.begin(), feed.end(), [](const Rc& r) { return r.status == 800; }),
            60);
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(ApiTest, MalformedMessageIs400Ceb900AndNothingApplied) {
  // Proves: a message whose record 2 lacks buyerIdNumber is refused as a whole with CEB900
  // naming record and field (JSON, and XML that validates), and nothing of it is logged,
  // applied or answered in the feed; the corrected message is then accepted.
  auto sets = Sets(12, 103);
  auto subs = Subs(sets);
  const ceb::Message* orders = nullptr;
  for (const auto& s : subs)
    if (s.message.type == ceb::MessageType::kCEB311 && s.message.orders.size() >= 3)
      orders = &s.message;
  ASSERT_NE(orders, nullptr);
  ceb::Message bad = *orders;
  bad.orders[1].head.buyerIdNumber.clear();
  std::string sender = bad.transfer.copCode;
  uint64_t seq_before = service_->last_seq();
  uint64_t receipts_before = service_->last_receipt_no();

  HttpResponse r = PostMessage(ceb::write_message_xml(bad), enterprise(sender));
  ASSERT_EQ(r.status, 400) << r.body;
  rapidjson::Document d = parse(r.body);
  ASSERT_FALSE(d.HasParseError()) << r.body;
  ASSERT_TRUE(d.HasMember("CEB900Message")) << r.body;
  EXPECT_NE(r.body.find("Order[2]/OrderHead/buyerIdNumber"), std::string::npos) << r.body;
  bool named = false;
  const auto& ret = member(member(d, "CEB900Message"), "MessageReturn");
  ASSERT_TRUE(member(ret, "violations").IsArray()) << r.body;
  for (const auto& v : ret["violations"].GetArray()) {
    if (str(v, "path") == "Order[2]/OrderHead/buyerIdNumber" && int_of(v, "record") == 2)
      named = true;
  }
  EXPECT_TRUE(named) << r.body;
  EXPECT_EQ(str(ret, "returnStatus"), "-1") << r.body;

  HttpResponse x = PostMessage(ceb::write_message_json(bad),
                               with(enterprise(sender), "Accept", "application/xml"));
  ASSERT_EQ(x.status, 400) << x.body;
  EXPECT_NE(x.body.find("<CEB900Message"), std::string::npos) << x.body;
  EXPECT_NE(x.body.find("Order[2]/OrderHead/buyerIdNumber"), std::string::npos) << x.body;
  EXPECT_EQ(Xmllint(x.body, "ceb900"), "");

  // Nothing of it: no command logged, no receipt, none of its orders stored.
  EXPECT_EQ(service_->last_seq(), seq_before);
  EXPECT_EQ(service_->last_receipt_no(), receipts_before);
  EXPECT_TRUE(Feed(enterprise(sender)).empty());
  EXPECT_EQ(Feed(regulator()).size(), receipts_before);
  for (const auto& o : bad.orders) {
    EXPECT_FALSE(OrderStored(o.head.ebpCode, o.head.orderNo)) << o.head.orderNo;
  }
  // The corrected message is accepted, one 120 per record.
  HttpResponse ok = PostMessage(ceb::write_message_xml(*orders), enterprise(sender));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(receipts_of(ok.body).size(), orders->orders.size());
}

// ---- Authentication and roles -----------------------------------------------------------------

TEST_F(ApiTest, KeysDecideWhoMayDeclareAndAdminister) {
  // Proves: no key and unknown keys are 401; a key may only declare for its own copCode (403);
  // a registered but wrong-role sender gets a -301002 receipt; the regulator cannot declare.
  auto sets = Sets(1, 104);
  auto subs = Subs(sets);
  const ceb::Message& order = message_of(subs, ceb::MessageType::kCEB311);
  std::string ebp = order.transfer.copCode;
  std::string xml = ceb::write_message_xml(order);

  EXPECT_EQ(PostMessage(xml, {}).status, 401);
  EXPECT_EQ(PostMessage(xml, key_header("key-nobody-knows")).status, 401);
  EXPECT_EQ(PostMessage(xml, {{"Authorization", "Bearer key-nobody-knows"}}).status, 401);
  EXPECT_EQ(Get("/api/v1/receipts").status, 401);
  std::string other_ebp = ebp == "4101960001" ? "4101960002" : "4101960001";
  HttpResponse forged = PostMessage(xml, enterprise(other_ebp));
  EXPECT_EQ(forged.status, 403) << forged.body;
  EXPECT_NE(forged.body.find("copCode"), std::string::npos) << forged.body;
  HttpResponse reg = PostMessage(xml, regulator());
  EXPECT_EQ(reg.status, 403) << reg.body;
  EXPECT_EQ(service_->last_receipt_no(), 0u);  // none of these reached the core

  // A payment company sends the order under its own code: R1, wrong role.
  std::string pay = sets[0].payment.head.payCode;
  ceb::Message as_pay = order;
  as_pay.transfer.copCode = pay;
  HttpResponse wrong = PostMessage(ceb::write_message_xml(as_pay), enterprise(pay));
  ASSERT_EQ(wrong.status, 200) << wrong.body;
  std::vector<Rc> rs = receipts_of(wrong.body);
  ASSERT_EQ(rs.size(), 1u) << wrong.body;
  EXPECT_EQ(rs[0].status, -301002) << wrong.body;
  EXPECT_EQ(rs[0].receiver, pay);
  EXPECT_NE(rs[0].json.find("R1"), std::string::npos) << rs[0].json;
  EXPECT_FALSE(OrderStored(order.orders[0].head.ebpCode, order.orders[0].head.orderNo));
  // The right sender with Authorization: Bearer is accepted.
  HttpResponse right = PostMessage(xml, {{"Authorization", "Bearer " + key_of(ebp)}});
  ASSERT_EQ(right.status, 200) << right.body;
  EXPECT_EQ(statuses(receipts_of(right.body)), std::vector<int>{120});
}

TEST_F(ApiTest, AdministrationIsForTheRegulatorOnly) {
  // Proves: admin endpoints refuse enterprise keys (403) and work with the regulator key: a
  // new enterprise's key works once registered, stock-in shows in the account book, guarantees
  // are lodged, an officer releases a list under manual review, and decisions that have no
  // pending list are 409/404.
  const std::string new_code = "4101960099";
  const std::string new_key = "key-4101960099-long-enough";
  std::string body = R"({"code":")" + new_code +
                     R"(","name":"测试跨境电商企业","roles":"ebc","grade":"regular","api_key":")" +
                     new_key + R"("})";
  EXPECT_EQ(Post("/api/v1/admin/enterprises", body, enterprise(kAgent)).status, 403);
  EXPECT_EQ(Get("/api/v1/receipts", key_header(new_key)).status, 401);
  HttpResponse reg = Post("/api/v1/admin/enterprises", body, regulator());
  ASSERT_EQ(reg.status, 200) << reg.body;
  EXPECT_NE(uint_of(parse(reg.body), "seq"), UINT64_MAX) << reg.body;
  HttpResponse mine = Get("/api/v1/receipts", key_header(new_key));
  EXPECT_EQ(mine.status, 200) << mine.body;
  EXPECT_TRUE(receipts_of(mine.body).empty());
  EXPECT_EQ(Post("/api/v1/admin/enterprises",
                 R"({"code":"4101960098","name":"x","roles":"ebc","api_key":"short"})", regulator())
                .status,
            400);
  EXPECT_EQ(Post("/api/v1/admin/enterprises", "not json", regulator()).status, 400);

  // Stock-in.
  std::string stock_in = std::string(R"({"operatorCode":")") + kAgent + R"(","emsNo":")" + kEmsNo +
                         R"(","itemRecordNo":"99","gcode":"3304990099","name":"测试精华液",)"
                         R"("unit":"142","qty":"25"})";
  EXPECT_EQ(Post("/api/v1/admin/stock-in", stock_in, enterprise(kAgent)).status, 403);
  HttpResponse in = Post("/api/v1/admin/stock-in", stock_in, regulator());
  ASSERT_EQ(in.status, 200) << in.body;
  auto stock = Stock();
  ASSERT_TRUE(stock.count("99"));
  EXPECT_EQ(stock["99"], Decimal::of_int(25));
  std::string by_platform = stock_in;
  by_platform.replace(by_platform.find(kAgent), 10, "4101960001");
  EXPECT_EQ(Post("/api/v1/admin/stock-in", by_platform, regulator()).status, 403);

  // Guarantees.
  EXPECT_EQ(Post("/api/v1/admin/guarantees", R"({"assureCode":"4101960005","amount":"1000.00"})",
                 enterprise("4101960005"))
                .status,
            403);
  auto deposited = [&] {
    return service_->Read([](const clearance::Engine& e) {
      const auto* a = e.guarantees().find("4101960005");
      return a == nullptr ? Fen{-1} : a->deposited_fen;
    });
  };
  Fen before_deposit = deposited();
  HttpResponse g = Post("/api/v1/admin/guarantees",
                        R"({"assureCode":"4101960005","amount":"1000.00"})", regulator());
  EXPECT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(deposited(), before_deposit + 100000);
  EXPECT_EQ(
      Post("/api/v1/admin/guarantees", R"({"assureCode":"4101960005","amount":"x"})", regulator())
          .status,
      400);

  // A list sent to manual review, then released by an officer.
  auto sets = Sets(2, 105);
  yellow_->insert(sets[0].inventory.head.copNo);
  std::vector<Rc> rs = Clear(sets);
  std::string yellow_invt, green_invt;
  for (const auto& r : rs) {
    if (r.message != "CEB622Message") continue;
    if (r.copNo == sets[0].inventory.head.copNo) {
      EXPECT_NE(r.status, 800) << r.json;
      if (r.status == 300) yellow_invt = r.invtNo;
    } else if (r.status == 800) {
      green_invt = r.invtNo;
    }
  }
  ASSERT_FALSE(yellow_invt.empty());
  ASSERT_FALSE(green_invt.empty());
  auto decision = [](const std::string& invt, const std::string& action) {
    return R"({"invtNo":")" + invt + R"(","action":")" + action + R"(","reason":"单证审核无误"})";
  };
  // Officer work needs an officer's own key: not an enterprise's, not the regulator's.
  EXPECT_EQ(
      Post("/api/v1/officer/decisions", decision(yellow_invt, "release"), enterprise(kAgent))
          .status,
      403);
  EXPECT_EQ(Post("/api/v1/officer/decisions", decision(yellow_invt, "release"), regulator()).status,
            403);
  EXPECT_EQ(
      Post("/api/v1/officer/decisions", decision(yellow_invt, "bless"), officer("461200101"))
          .status,
      400);
  // The list is in the site's yellow queue.
  HttpResponse queues = Get("/api/v1/officer/queues", officer("461200101"));
  ASSERT_EQ(queues.status, 200) << queues.body;
  EXPECT_NE(queues.body.find(yellow_invt), std::string::npos) << queues.body;
  // Claimed by one officer, another cannot decide it.
  ASSERT_EQ(Post("/api/v1/officer/claim", R"({"invtNo":")" + yellow_invt + R"("})",
                 officer("461200102"))
                .status,
            200);
  EXPECT_EQ(
      Post("/api/v1/officer/decisions", decision(yellow_invt, "release"), officer("461200101"))
          .status,
      409);
  uint64_t before = service_->last_receipt_no();
  HttpResponse ok =
      Post("/api/v1/officer/decisions", decision(yellow_invt, "release"), officer("461200102"));
  ASSERT_EQ(ok.status, 200) << ok.body;
  HttpResponse list = Get("/api/v1/lists/" + yellow_invt, enterprise(kAgent));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(int_of(parse(list.body), "returnStatus"), 800) << list.body;
  EXPECT_NE(list.body.find("461200102"), std::string::npos) << "history names the officer";
  std::vector<Rc> feed = Feed(enterprise(kAgent));
  ASSERT_FALSE(feed.empty());
  EXPECT_GT(feed.back().no, before);
  EXPECT_EQ(feed.back().status, 800);
  EXPECT_EQ(feed.back().invtNo, yellow_invt);
  // No decision pending any more, nor on a list released by the machine; unknown list 404.
  HttpResponse again =
      Post("/api/v1/officer/decisions", decision(yellow_invt, "release"), officer("461200102"));
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(
      Post("/api/v1/officer/decisions", decision(green_invt, "reject"), officer("461200102"))
          .status,
      409);
  EXPECT_EQ(Post("/api/v1/officer/decisions", decision("46122025I999999999", "release"),
                 officer("461200102"))
                .status,
            404);
  // The decision was a logged command: its officer is in the lane record of the audit.
  HttpResponse draws = Get("/api/v1/audit/draws?day=20250618", regulator());
  ASSERT_EQ(draws.status, 200) << draws.body;
  EXPECT_NE(draws.body.find(yellow_invt), std::string::npos) << draws.body;
  EXPECT_EQ(Post("/api/v1/admin/nothing", "{}", regulator()).status, 404);
}

// ---- Isolation and reads ----------------------------------------------------------------------

TEST_F(ApiTest, ReceiptFeedIsIsolatedOrderedAndPagesCompletely) {
  // Proves: an enterprise reads only receipts addressed to it; the regulator reads all of
  // them; walking the feed in small pages gives exactly one big page (ordered, no gaps or
  // duplicates); out-of-range limits are 400.
  auto sets = Sets(12, 106);
  Clear(sets);
  uint64_t total = service_->last_receipt_no();
  // Per set: 120 for each of the four documents, 800 for the list, 399 for its three partners.
  ASSERT_EQ(total, 12u * 8);

  std::vector<Rc> all = Feed(regulator(), kMaxReceiptPage);
  ASSERT_EQ(all.size(), total);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].no, i + 1);
  std::set<std::string> receivers;
  for (const auto& r : all) receivers.insert(r.receiver);
  EXPECT_GE(receivers.size(), 5u);
  EXPECT_EQ(numbers(Feed(regulator(), 7)), numbers(all));

  size_t sum = 0;
  for (const auto& code : receivers) {
    std::vector<Rc> big = Feed(enterprise(code), kMaxReceiptPage);
    std::vector<Rc> small = Feed(enterprise(code), 3);
    EXPECT_EQ(numbers(small), numbers(big)) << code;
    size_t expected =
        std::count_if(all.begin(), all.end(), [&](const Rc& r) { return r.receiver == code; });
    EXPECT_EQ(big.size(), expected) << code;
    for (const auto& r : big) EXPECT_EQ(r.receiver, code);
    sum += big.size();
  }
  EXPECT_EQ(sum, all.size());
  // An enterprise that was sent nothing sees nothing.
  EXPECT_TRUE(Feed(enterprise("4101960011")).empty());

  for (const char* bad : {"limit=0", "limit=5000", "limit=-1", "after=abc", "limit=x"}) {
    HttpResponse r = Get(std::string("/api/v1/receipts?") + bad, enterprise(kAgent));
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_TRUE(parse(r.body).HasMember("error")) << r.body;
  }
  EXPECT_EQ(Get("/api/v1/receipts?limit=1000", enterprise(kAgent)).status, 200);
}

TEST_F(ApiTest, ListsAreReadableByTheirPartiesOnly) {
  // Proves: a list is served (documents, history, tax) to its parties and the regulator, 403
  // to enterprises not involved, 404 when unknown; the lookup by ebpCode+orderNo finds it.
  auto sets = Sets(1, 107);
  std::vector<Rc> rs = Clear(sets);
  std::string invt;
  for (const auto& r : rs)
    if (r.status == 800) invt = r.invtNo;
  ASSERT_FALSE(invt.empty());
  const auto& s = sets[0];

  HttpResponse r = Get("/api/v1/lists/" + invt, enterprise(kAgent));
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = parse(r.body);
  ASSERT_TRUE(d.IsObject()) << r.body;
  EXPECT_EQ(str(d, "invtNo"), invt);
  EXPECT_EQ(str(d, "copNo"), s.inventory.head.copNo);
  EXPECT_EQ(int_of(d, "returnStatus"), 800);
  ASSERT_TRUE(member(d, "tax").IsObject()) << r.body;
  ASSERT_TRUE(member(d, "history").IsArray()) << r.body;
  std::vector<int> history;
  for (const auto& h : d["history"].GetArray()) history.push_back(int_of(h, "returnStatus"));
  EXPECT_EQ(history, (std::vector<int>{120, 800}));
  const auto& docs = member(d, "documents");
  for (const char* k : {"list", "order", "payment", "waybill"})
    EXPECT_TRUE(member(docs, k).IsObject()) << k;
  const auto& order_records = member(member(member(docs, "order"), "CEB311Message"), "Order");
  ASSERT_TRUE(order_records.IsArray() && order_records.Size() == 1) << r.body;
  EXPECT_EQ(str(member(order_records[0], "OrderHead"), "orderNo"), s.order.head.orderNo) << r.body;

  for (const std::string& party : {s.order.head.ebpCode, s.inventory.head.ebcCode,
                                   s.payment.head.payCode, s.waybill.head.logisticsCode}) {
    EXPECT_EQ(Get("/api/v1/lists/" + invt, enterprise(party)).status, 200) << party;
  }
  EXPECT_EQ(Get("/api/v1/lists/" + invt, regulator()).status, 200);
  std::string other_pay = s.payment.head.payCode == "4101960007" ? "4101960008" : "4101960007";
  std::string other_ebp = s.order.head.ebpCode == "4101960001" ? "4101960002" : "4101960001";
  for (const std::string& outsider : {other_pay, other_ebp, std::string("4101960011")}) {
    HttpResponse no = Get("/api/v1/lists/" + invt, enterprise(outsider));
    EXPECT_EQ(no.status, 403) << outsider << " " << no.body;
    EXPECT_EQ(no.body.find(s.order.head.buyerIdNumber), std::string::npos);
  }
  EXPECT_EQ(Get("/api/v1/lists/46122025I000000000", enterprise(kAgent)).status, 404);

  HttpResponse by_order =
      Get("/api/v1/lists?ebpCode=" + s.order.head.ebpCode + "&orderNo=" + s.order.head.orderNo,
          enterprise(kAgent));
  ASSERT_EQ(by_order.status, 200) << by_order.body;
  EXPECT_EQ(str(parse(by_order.body), "invtNo"), invt);
  EXPECT_EQ(
      Get("/api/v1/lists?ebpCode=" + s.order.head.ebpCode + "&orderNo=none", enterprise(kAgent))
          .status,
      404);
  EXPECT_EQ(
      Get("/api/v1/lists?ebpCode=" + s.order.head.ebpCode + "&orderNo=" + s.order.head.orderNo,
          enterprise(other_pay))
          .status,
      403);
}

TEST_F(ApiTest, QuotaAnswersOnlyNameAndIdTogether) {
  // Proves: the annual quota query returns the buyer's released total (sum of the dutiable
  // values of their released lists) and the remainder; a wrong name is 404, a missing one 400.
  auto sets = Sets(15, 108);
  Clear(sets);
  std::map<std::string, Fen> dutiable;
  std::map<std::string, std::string> names;
  for (const auto& s : sets) {
    dutiable[s.order.head.buyerIdNumber] += s.expected.dutiable_fen;
    names[s.order.head.buyerIdNumber] = s.order.head.buyerName;
  }
  for (const auto& [id, fen] : dutiable) {
    HttpResponse r = Get("/api/v1/quota?buyerIdNumber=" + id + "&buyerName=" + url(names[id]),
                         enterprise("4101960001"));
    ASSERT_EQ(r.status, 200) << r.body;
    rapidjson::Document d = parse(r.body);
    EXPECT_EQ(int_of(d, "year"), 2025);
    EXPECT_EQ(str(d, "released"), format_fen(fen)) << r.body;
    EXPECT_EQ(str(d, "underReview"), "0.00") << r.body;
    Decimal limit, remaining;
    ASSERT_EQ(parse_decimal(str(d, "limit"), &limit), DecimalError::kOk);
    ASSERT_EQ(parse_decimal(str(d, "remaining"), &remaining), DecimalError::kOk);
    EXPECT_EQ(remaining.units, limit.units - fen_to_decimal(fen).units) << r.body;
  }
  const std::string& id = sets[0].order.head.buyerIdNumber;
  HttpResponse wrong =
      Get("/api/v1/quota?buyerIdNumber=" + id + "&buyerName=" + url(names[id] + "x"),
          enterprise("4101960001"));
  EXPECT_EQ(wrong.status, 404) << wrong.body;
  EXPECT_EQ(Get("/api/v1/quota?buyerIdNumber=" + id, enterprise("4101960001")).status, 400);
  EXPECT_EQ(Get("/api/v1/quota?buyerName=" + url(names[id]), enterprise("4101960001")).status, 400);
  EXPECT_EQ(Get("/api/v1/quota?buyerIdNumber=" + id + "&buyerName=" + url(names[id])).status, 401);
}

TEST_F(ApiTest, StockIsForTheOperatorAndFallsWithReleases) {
  // Proves: the operator reads its account book, onHand falls by exactly the released
  // quantities; platforms are 403; emsNo is required.
  auto before = Stock();
  ASSERT_FALSE(before.empty());
  auto sets = Sets(10, 109);
  Clear(sets);
  auto after = Stock();
  std::map<std::string, int64_t> taken;
  for (const auto& s : sets)
    for (const auto& line : s.inventory.lists) taken[line.itemRecordNo] += line.qty.units;
  ASSERT_FALSE(taken.empty());
  for (const auto& [item, q] : before) {
    int64_t t = taken.count(item) ? taken[item] : 0;
    EXPECT_EQ(after[item].units, q.units - t) << "item " << item;
  }
  EXPECT_EQ(Get(std::string("/api/v1/stock?emsNo=") + kEmsNo, enterprise("4101960001")).status,
            403);
  EXPECT_EQ(Get(std::string("/api/v1/stock?emsNo=") + kEmsNo, regulator()).status, 200);
  EXPECT_EQ(Get("/api/v1/stock", enterprise(kAgent)).status, 400);
}

// ---- Limits -----------------------------------------------------------------------------------

TEST_F(ApiTest, BodyLimitAndRateLimit) {
  // Proves: a body over the server's limit is 413 and applies nothing; the per-enterprise
  // token bucket answers the 4th quick request 429 with Retry-After, other keys unaffected.
  auto sets = Sets(10, 110);
  auto subs = Subs(sets);
  std::string big = ceb::write_message_xml(message_of(subs, ceb::MessageType::kCEB621));
  ASSERT_GT(big.size(), 4096u);
  server::ServerOptions small;
  small.max_body_bytes = 4096;
  auto small_server = StartServer(api_, small);
  ASSERT_NE(small_server, nullptr);
  auto small_client = Connect(small_server->port());
  ASSERT_NE(small_client, nullptr);
  uint64_t seq = service_->last_seq();
  HttpResponse r = Call(*small_client, "POST", "/api/v1/messages", big, enterprise(kAgent));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(service_->last_seq(), seq);
  // A small request on a fresh connection to the same server still works.
  small_client = Connect(small_server->port());
  ASSERT_NE(small_client, nullptr);
  EXPECT_EQ(Call(*small_client, "GET", "/api/v1/receipts", "", enterprise(kAgent)).status, 200);
  small_client.reset();
  small_server->Stop();

  ApiOptions limited;
  limited.regulator_key = kRegulatorKey;
  limited.rate_per_second = 1;
  limited.rate_burst = 3;
  auto slow_api = std::make_shared<Api>(service_.get(), limited);
  auto slow_server = StartServer(slow_api, server::ServerOptions{});
  ASSERT_NE(slow_server, nullptr);
  auto c = Connect(slow_server->port());
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(Call(*c, "GET", "/api/v1/receipts", "", enterprise(kAgent)).status, 200) << i;
  HttpResponse limited_r = Call(*c, "GET", "/api/v1/receipts", "", enterprise(kAgent));
  EXPECT_EQ(limited_r.status, 429) << limited_r.body;
  EXPECT_EQ(header_of(limited_r, "retry-after"), "1");
  EXPECT_EQ(Call(*c, "GET", "/api/v1/receipts", "", enterprise("4101960001")).status, 200);
  c.reset();
  slow_server->Stop();
}

// ---- SSE --------------------------------------------------------------------------------------

struct Event {
  uint64_t id = 0;
  std::string event;
  Rc receipt;
};

TEST_F(ApiTest, ReceiptStreamDeliversLiveAndResumesExactly) {
  // Proves: the SSE stream sends each receipt of the key's enterprise as an event (id = receipt
  // number, event "receipt"), including receipts issued while it is open; reconnecting with
  // Last-Event-ID (or ?after=) resumes exactly after it: same ids as the paged feed, no loss,
  // no repeat. A stream without a key is 401.
  auto sets = Sets(4, 111);
  Clear(std::span(sets).first(3));
  std::vector<Rc> feed_before = Feed(enterprise(kAgent));
  ASSERT_GE(feed_before.size(), 6u);

  // Live: the stream (key as ?key=) first replays the existing receipts, then gets the new set.
  auto stream_client = Connect(server_->port());
  ASSERT_NE(stream_client, nullptr);
  std::vector<Event> live;
  std::atomic<size_t> live_count{0};
  const std::string last_cop = sets[3].inventory.head.copNo;
  Result<int> live_status = 0;
  std::thread streamer([&] {
    live_status = stream_client->Stream(
        "/api/v1/receipts/stream?key=" + key_of(kAgent), {},
        [&](std::string_view id, std::string_view event, std::string_view data) {
          Event e;
          e.id = std::stoull(std::string(id));
          e.event = event;
          e.receipt = to_rc(parse(std::string(data)));
          live.push_back(e);
          live_count = live.size();
          return !(e.receipt.copNo == last_cop && e.receipt.status == 800);
        },
        kStreamTimeoutMs);
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (live_count.load() < feed_before.size() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(live_count.load(), feed_before.size());
  Clear(std::span(sets).subspan(3, 1));
  streamer.join();
  ASSERT_TRUE(live_status.ok()) << live_status.status().ToString();
  EXPECT_EQ(*live_status, 200);
  std::vector<Rc> feed = Feed(enterprise(kAgent));
  ASSERT_GT(feed.size(), feed_before.size());
  ASSERT_EQ(live.size(), feed.size());
  for (size_t i = 0; i < live.size(); ++i) {
    EXPECT_EQ(live[i].id, feed[i].no);
    EXPECT_EQ(live[i].receipt.no, feed[i].no);
    EXPECT_EQ(live[i].event, "receipt");
    EXPECT_EQ(live[i].receipt.json, feed[i].json);
    EXPECT_EQ(live[i].receipt.receiver, kAgent);
  }

  // Resume after the k-th receipt, with the key in the header.
  auto resume = [&](size_t k, const Headers& extra, const std::string& query) {
    std::vector<uint64_t> ids;
    size_t want = feed.size() - k - 1;
    Headers h = enterprise(kAgent);
    h.insert(h.end(), extra.begin(), extra.end());
    auto st = client_->Stream(
        "/api/v1/receipts/stream" + query, h,
        [&](std::string_view id, std::string_view event, std::string_view) {
          EXPECT_EQ(event, "receipt");
          ids.push_back(std::stoull(std::string(id)));
          return ids.size() < want;
        },
        kStreamTimeoutMs);
    EXPECT_TRUE(st.ok() && *st == 200);
    std::vector<uint64_t> expected;
    for (size_t i = k + 1; i < feed.size(); ++i) expected.push_back(feed[i].no);
    return std::make_pair(ids, expected);
  };
  for (size_t k : {size_t{0}, feed.size() / 2, feed.size() - 2}) {
    auto [got, expected] = resume(k, {{"Last-Event-ID", std::to_string(feed[k].no)}}, "");
    EXPECT_EQ(got, expected) << "Last-Event-ID " << feed[k].no;
  }
  auto [got, expected] = resume(1, {}, "?after=" + std::to_string(feed[1].no));
  EXPECT_EQ(got, expected);

  auto refused = client_->Stream(
      "/api/v1/receipts/stream", {},
      [](std::string_view, std::string_view, std::string_view) { return false; }, kStreamTimeoutMs);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(*refused, 401);
}

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

TEST_F(ApiTest, QuietStreamDoesNotSpin) {
  // Proves: a stream whose enterprise has no new receipts, while other enterprises do, costs
  // (almost) no CPU: the pusher waits for new receipts instead of polling the store in a loop.
  Clear(Sets(2, 114));
  ASSERT_GT(service_->last_receipt_no(), 0u);
  ASSERT_TRUE(Feed(enterprise("4101960011")).empty());
  constexpr int kQuietMs = 1500;
  double cpu0 = process_cpu_seconds();
  auto wall0 = std::chrono::steady_clock::now();
  int events = 0;
  auto st = client_->Stream(
      "/api/v1/receipts/stream", enterprise("4101960011"),
      [&](std::string_view, std::string_view, std::string_view) {
        ++events;
        return false;
      },
      kQuietMs);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  double cpu = process_cpu_seconds() - cpu0;
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(*st, 200);
  EXPECT_EQ(events, 0);
  EXPECT_GE(wall, kQuietMs / 1000.0 * 0.9);
  EXPECT_LT(cpu, 0.15) << "CPU seconds used by the process during " << wall
                       << " s of a quiet stream";
}

// ---- Operations -------------------------------------------------------------------------------

TEST_F(ApiTest, ServiceThreadsAreNamedByRole) {
  // Proves: top, perf and /proc tell the stages of cbec serve apart (a profile attributed by
  // start order is a guess): the log writer, the core's applier, the receipt storer, the HTTP
  // I/O threads, the receipt and web pushers and the webhook workers each carry their role.
  std::multiset<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.insert(name);
  }
  for (const char* role : {"cbec-log", "cbec-apply", "cbec-store", "cbec-io-0", "cbec-rcpt-push",
                           "cbec-web-push", "cbec-hook-0"})
    EXPECT_EQ(names.count(role), 1u) << role;
}

TEST_F(ApiTest, HealthMetricsAndOpenApi) {
  // Proves: /healthz is {"status":"ok"}; /metrics counts released lists exactly and exposes the
  // fsync latency histogram; the embedded OpenAPI document is the 3.0.3 contract.
  HttpResponse h = Get("/healthz");
  ASSERT_EQ(h.status, 200);
  rapidjson::Document hd = parse(h.body);
  EXPECT_EQ(str(hd, "status"), "ok") << h.body;

  auto sets = Sets(3, 112);
  yellow_->insert(sets[2].inventory.head.copNo);  // manual review: not released
  Clear(sets);
  HttpResponse m = Get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.content_type.find("text/plain"), std::string::npos);
  EXPECT_NE(m.body.find("\ncbec_lists_total{status=\"released\"} 2\n"), std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("\ncbec_lists_total{status=\"rejected\"} 0\n"), std::string::npos);
  EXPECT_NE(m.body.find("\ncbec_documents_total{type=\"CEB621Message\"} 3\n"), std::string::npos);
  size_t buckets = 0;
  for (size_t p = 0;
       (p = m.body.find("\ncbec_log_sync_seconds_bucket{le=\"", p)) != std::string::npos; ++p)
    ++buckets;
  EXPECT_GE(buckets, 2u);
  EXPECT_NE(m.body.find("cbec_log_sync_seconds_bucket{le=\"+Inf\"} "), std::string::npos);
  EXPECT_NE(m.body.find("\ncbec_http_requests_total "), std::string::npos);
  // Memory: the core's in-memory lists (nothing archived yet: no Tick in this test) and RSS.
  EXPECT_NE(m.body.find("\ncbec_core_hot_records{table=\"lists\"} 3\n"), std::string::npos);
  EXPECT_NE(m.body.find("\ncbec_archive_bytes "), std::string::npos);
  // What RocksDB holds, bounded by the shared cache (service/storage.h) and the memtables.
  EXPECT_NE(m.body.find(fmt::format("\ncbec_storage_memory_bytes{{part=\"cache_capacity\"}} {}\n",
                                    kDefaultStorageCacheBytes)),
            std::string::npos)
      << m.body;
  for (const char* part : {"cache_usage", "cache_pinned", "memtables", "table_readers"})
    EXPECT_NE(m.body.find(fmt::format("\ncbec_storage_memory_bytes{{part=\"{}\"}} ", part)),
              std::string::npos)
        << part;
  size_t rss = m.body.find("\nprocess_resident_memory_bytes ");
  ASSERT_NE(rss, std::string::npos);
  EXPECT_GT(std::stoull(m.body.substr(rss + 31)), 1'000'000u);

  HttpResponse o = Get("/api/v1/openapi.json");
  ASSERT_EQ(o.status, 200);
  rapidjson::Document od = parse(o.body);
  ASSERT_FALSE(od.HasParseError());
  EXPECT_EQ(str(od, "openapi"), "3.0.3");
  ASSERT_TRUE(od.HasMember("paths"));
  EXPECT_TRUE(od["paths"].HasMember("/api/v1/messages"));
  EXPECT_TRUE(od["paths"].HasMember("/api/v1/receipts/stream"));
  EXPECT_EQ(Get("/nothing").status, 404);
  EXPECT_EQ(Get("/api/v1/nothing", enterprise(kAgent)).status, 404);
  EXPECT_EQ(Get("/api/v1/messages", enterprise(kAgent)).status, 405);
}

TEST_F(ApiTest, ResendingAMessageReplaysItsReceiptsAndChangesNothing) {
  // Proves: idempotency over HTTP: the same list message posted again (also reformatted as
  // JSON) answers with the receipt already issued, and stock, quota and the list stay as they
  // were.
  auto sets = Sets(1, 113);
  auto subs = Subs(sets);
  std::vector<Rc> first;
  for (const auto& sub : subs) {
    HttpResponse r = PostMessage(ceb::write_message_xml(sub.message), enterprise(sub.sender));
    ASSERT_EQ(r.status, 200);
    first = receipts_of(r.body);
  }
  ASSERT_EQ(statuses(first), (std::vector<int>{120, 800}));
  auto stock = Stock();
  std::string list_before = Get("/api/v1/lists/" + first[1].invtNo, enterprise(kAgent)).body;
  const auto& head = sets[0].order.head;
  std::string quota_target =
      "/api/v1/quota?buyerIdNumber=" + head.buyerIdNumber + "&buyerName=" + url(head.buyerName);
  std::string quota_before = Get(quota_target, enterprise(kAgent)).body;
  uint64_t receipts_before = service_->last_receipt_no();

  const ceb::Message& lists = message_of(subs, ceb::MessageType::kCEB621);
  HttpResponse again = PostMessage(ceb::write_message_xml(lists), enterprise(kAgent));
  ASSERT_EQ(again.status, 200);
  std::vector<Rc> second = receipts_of(again.body);
  ASSERT_EQ(second.size(), 1u) << again.body;
  EXPECT_EQ(second[0].json, first[1].json);  // the 800 already issued, same content and time
  HttpResponse third = PostMessage(ceb::write_message_json(lists), enterprise(kAgent));
  ASSERT_EQ(third.status, 200);
  std::vector<Rc> third_rs = receipts_of(third.body);
  ASSERT_EQ(third_rs.size(), 1u);
  EXPECT_EQ(third_rs[0].json, second[0].json);
  EXPECT_EQ(service_->last_receipt_no(), receipts_before + 2);  // only the two answers

  EXPECT_EQ(Stock(), stock);
  EXPECT_EQ(Get("/api/v1/lists/" + first[1].invtNo, enterprise(kAgent)).body, list_before);
  EXPECT_EQ(Get(quota_target, enterprise(kAgent)).body, quota_before);
  HttpResponse m = Get("/metrics");
  EXPECT_NE(m.body.find("\ncbec_lists_total{status=\"released\"} 1\n"), std::string::npos);
}

// Reference data and policy are loaded at run time by the regulator only; invalid texts are
// refused with the loader's reason and change nothing; a valid policy takes effect at once.
TEST_F(ApiTest, ReferenceDataLoadsThroughTheAdminApi) {
  const std::string bad = R"({"policy_toml": "[[policy]]\neffective_from = 2019-01-01\nno_such_key = 1\n"})";
  EXPECT_EQ(Post("/api/v1/admin/reference", bad, enterprise(kAgent)).status, 403);
  HttpResponse refused = Post("/api/v1/admin/reference", bad, regulator());
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("no_such_key"), std::string::npos) << refused.body;
  const std::string lower =
      R"({"policy_toml": "[[policy]]\neffective_from = 2019-01-01\ntransaction_limit_yuan = \"1.00\"\nannual_limit_yuan = \"1.00\"\n"})";
  HttpResponse ok = Post("/api/v1/admin/reference", lower, regulator());
  ASSERT_EQ(ok.status, 200) << ok.body;
  // A new list now exceeds the limits of 1.00: the multi-item or single-item rules name R4 or
  // R5 (a single unit over the transaction limit passes R4 at full tax and fails R5).
  auto sets = Sets(1, 4242);
  auto subs = Subs(sets);
  std::string last_body;
  for (const auto& sub : subs) {
    HttpResponse r = PostMessage(ceb::write_message_xml(sub.message), enterprise(sub.sender));
    ASSERT_EQ(r.status, 200) << r.body;
    last_body = r.body;
  }
  EXPECT_TRUE(last_body.find("\"rule\":\"R5\"") != std::string::npos ||
              last_body.find("\"rule\":\"R4\"") != std::string::npos)
      << last_body;
}


// ---- Supervision over HTTP ------------------------------------------------------------------------

class ApiSupervisionTest : public ApiTest {
 protected:
  ApiSupervisionTest() { supervision_ = true; }

  // An officer's grade decision, effective at once.
  void Regrade(const std::string& code, const std::string& grade) {
    HttpResponse r = Post("/api/v1/officer/grades",
                          R"({"code":")" + code + R"(","grade":")" + grade +
                              R"(","reason":"测试定级"})",
                          officer("461200105"));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // invtNos of the lists of the given sets that went to the red lane.
  std::vector<std::string> Red(const std::vector<Rc>& rs) {
    std::vector<std::string> out;
    for (const auto& r : rs)
      if (r.message == "CEB622Message" && r.status == 500) out.push_back(r.invtNo);
    return out;
  }
};

TEST_F(ApiSupervisionTest, SeedsArePublishedInAdvanceAndRevealedAfterTheDay) {
  // Proves: the writer commits today's and tomorrow's seeds before any list; /audit/seeds is
  // public and shows only hashes until a day is over, then the seed, which hashes to what was
  // published; verify-draws' checks pass on the published data and the replayed log.
  HttpResponse seeds = Get("/api/v1/audit/seeds");  // no key needed
  ASSERT_EQ(seeds.status, 200) << seeds.body;
  rapidjson::Document d = parse(seeds.body);
  ASSERT_EQ(d["seeds"].Size(), 2u) << seeds.body;
  EXPECT_EQ(str_of(d["seeds"][0], "day"), "20250618");
  EXPECT_EQ(str_of(d["seeds"][1], "day"), "20250619");
  std::string k32(clearance::kDrawSeedBytes, 'k');
  EXPECT_EQ(str_of(d["seeds"][0], "sha256"), sha256_hex(k32));
  EXPECT_EQ(str_of(d["seeds"][0], "seed"), "") << "revealed before the day is over";

  Regrade(kAgent, "dishonest");  // 80 %: both outcomes
  std::vector<Rc> rs = Clear(Sets(10, 301));
  size_t red = Red(rs).size();
  EXPECT_GT(red, 0u);
  EXPECT_LT(red, 10u);

  // The next day: the first day's seed is out.
  clock_->store(beijing_midnight(CivilDate{2025, 6, 19}) + 9 * kMsPerHour);
  ASSERT_EQ(Post("/api/v1/admin/guarantees", R"({"assureCode":"4101960003","amount":"1.00"})",
                 regulator())
                .status,
            200);
  seeds = Get("/api/v1/audit/seeds");
  d = parse(seeds.body);
  EXPECT_EQ(d["seeds"].Size(), 3u) << "the day after tomorrow is committed too";
  EXPECT_EQ(str_of(d["seeds"][0], "seed"), hex_encode(k32));
  EXPECT_EQ(str_of(d["seeds"][1], "seed"), "");

  HttpResponse draws = Get("/api/v1/audit/draws?day=2025-06-18", regulator());
  ASSERT_EQ(draws.status, 200) << draws.body;
  auto published = audit::parse_published(CivilDate{2025, 6, 18}, seeds.body, draws.body);
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  EXPECT_EQ(published->draws.size(), 10u);
  // The log is replayed by the auditor on a stopped service (or a copy of its log).
  HttpResponse own = Get("/api/v1/audit/draws?day=20250618", enterprise(kAgent));
  HttpResponse other = Get("/api/v1/audit/draws?day=20250618", enterprise("4101960001"));
  HttpResponse anonymous = Get("/api/v1/audit/draws?day=20250618");
  HttpResponse junk = Get("/api/v1/audit/draws?day=junk", regulator());
  client_.reset();
  server_->Stop();
  server_.reset();
  api_.reset();
  service_.reset();
  auto replayed =
      Service::ReplayDraws((dir_ / "data").string(), reference(), CivilDate{2025, 6, 18});
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  auto report = audit::verify_draws(*published, &*replayed, *reference());
  EXPECT_TRUE(report.ok()) << (report.mismatches.empty() ? "" : report.mismatches[0]);
  EXPECT_EQ(report.selected, red);

  // A forged log: the same records with valid checksums, but the officer's grade decision says
  // "regular" instead of "dishonest". Its replay no longer gives the published decisions.
  fs::path forged = dir_ / "forged";
  fs::create_directories(forged);
  {
    auto original = cmdlog::CommandLog::Open((dir_ / "data" / "log").string(), {});
    ASSERT_TRUE(original.ok()) << original.status().ToString();
    auto copy = cmdlog::CommandLog::Open((forged / "log").string(), {});
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    int altered = 0;
    ASSERT_TRUE((*original)
                    ->Replay((*original)->first_seq(),
                             [&](const cmdlog::RecordView& r) -> Status {
                               std::string payload(r.payload);
                               if (r.kind == static_cast<uint8_t>(CommandKind::kConfirmGrade)) {
                                 auto at = payload.find("\"dishonest\"");
                                 if (at != std::string::npos) {
                                   payload.replace(at, 11, "\"regular\"");
                                   ++altered;
                                 }
                               }
                               cmdlog::RecordView v{r.seq, r.time_ms, r.kind, payload};
                               return (*copy)->AppendDurable(std::span(&v, 1));
                             })
                    .ok());
    ASSERT_EQ(altered, 1);
  }
  auto from_forged = Service::ReplayDraws(forged.string(), reference(), CivilDate{2025, 6, 18});
  ASSERT_TRUE(from_forged.ok()) << from_forged.status().ToString();
  auto caught = audit::verify_draws(*published, &*from_forged, *reference());
  EXPECT_FALSE(caught.ok());

  // The same through the command-line tool an auditor runs: exit 0, and 1 on the forged log.
  std::ofstream(dir_ / "seeds.json") << seeds.body;
  std::ofstream(dir_ / "draws.json") << draws.body;
  auto verify = [&](const fs::path& data) {
    std::string cmd = fmt::format(
        "{}/cbec audit verify-draws --day 2025-06-18 --seeds {} --draws {} --data-dir {} > {} 2>&1",
        CBEC_BINARY_DIR, (dir_ / "seeds.json").string(), (dir_ / "draws.json").string(),
        data.string(), (dir_ / "verify.out").string());
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  };
  EXPECT_EQ(verify(dir_ / "data"), 0);
  EXPECT_EQ(verify(forged), 1);
  // An enterprise sees its own decisions only: the agent's, not another's.
  EXPECT_EQ(parse(own.body)["draws"].Size(), 10u);
  EXPECT_EQ(parse(other.body)["draws"].Size(), 0u);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(junk.status, 400);
}

TEST_F(ApiSupervisionTest, OfficersWorkTheirQueuesControlOrdersAndCredit) {
  Regrade(kAgent, "seriously_dishonest");  // every list red
  std::vector<Rc> rs = Clear(Sets(3, 302));
  std::vector<std::string> red = Red(rs);
  ASSERT_EQ(red.size(), 3u);
  // Queues: officers only, their site's lists.
  EXPECT_EQ(Get("/api/v1/officer/queues", regulator()).status, 403);
  EXPECT_EQ(Get("/api/v1/officer/queues", enterprise(kAgent)).status, 403);
  EXPECT_EQ(Get("/api/v1/officer/queues").status, 401);
  HttpResponse q = Get("/api/v1/officer/queues", officer("461200103"));
  ASSERT_EQ(q.status, 200) << q.body;
  rapidjson::Document qd = parse(q.body);
  EXPECT_EQ(str_of(qd, "site"), "4612");
  EXPECT_EQ(qd["redTotal"].GetUint64(), 3u);
  EXPECT_EQ(qd["yellowTotal"].GetUint64(), 0u);
  EXPECT_FALSE(str_of(qd["red"][0], "assigned").empty());
  // The lane decision of one list: its rate, HMAC and who decided, for customs and the enterprise.
  HttpResponse one = Get("/api/v1/audit/draws?invtNo=" + red[0], officer("461200103"));
  ASSERT_EQ(one.status, 200) << one.body;
  rapidjson::Document od = parse(one.body);
  ASSERT_EQ(od["draws"].Size(), 1u) << one.body;
  EXPECT_EQ(str_of(od["draws"][0], "lane"), "red");
  EXPECT_EQ(str_of(od["draws"][0], "decided_by"), "draw");
  EXPECT_EQ(int_of(od["draws"][0], "rate_bp"), 10000);
  EXPECT_EQ(parse(Get("/api/v1/audit/draws?invtNo=" + red[0], enterprise(kAgent)).body)["draws"].Size(),
            1u);
  EXPECT_EQ(
      parse(Get("/api/v1/audit/draws?invtNo=" + red[0], enterprise("4101960001")).body)["draws"].Size(),
      0u);
  HttpResponse me = Get("/api/v1/officer/me", officer("461200103"));
  EXPECT_NE(me.body.find("\"site\":\"4612\""), std::string::npos) << me.body;

  // Inspect: no finding releases; a finding rejects and counts against the enterprises.
  auto inspect = [&](const std::string& invt, const std::string& extra, const char* who) {
    return Post("/api/v1/officer/inspections", R"({"invtNo":")" + invt + "\"" + extra + "}",
                officer(who));
  };
  EXPECT_EQ(inspect(red[0], R"(,"finding":false,"reason":"开箱无异常")", "461200101").status, 200);
  EXPECT_EQ(int_of(parse(Get("/api/v1/lists/" + red[0], enterprise(kAgent)).body), "returnStatus"),
            800);
  EXPECT_EQ(inspect(red[1], R"(,"finding":true,"category":"quantity","action":"release","reason":"x")",
                    "461200101")
                .status,
            400);
  HttpResponse found = inspect(
      red[1], R"(,"finding":true,"category":"quantity","action":"reject","reason":"数量不符")",
      "461200102");
  EXPECT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(int_of(parse(Get("/api/v1/lists/" + red[1], enterprise(kAgent)).body), "returnStatus"),
            100);
  // Claims over HTTP.
  EXPECT_EQ(Post("/api/v1/officer/claim", R"({"invtNo":")" + red[2] + R"("})", officer("461200104"))
                .status,
            200);
  EXPECT_EQ(Post("/api/v1/officer/claim", R"({"invtNo":")" + red[2] + R"("})", officer("461200105"))
                .status,
            409);
  HttpResponse mine = Get("/api/v1/officer/queues?mine=1", officer("461200104"));
  EXPECT_NE(mine.body.find(red[2]), std::string::npos);

  // Control orders.
  EXPECT_EQ(Post("/api/v1/officer/control-orders",
                 R"({"orderId":"BK-9","target":"hs_code","pattern":"3304","action":"purple","reason":"x","expiresInHours":24})",
                 officer("461200101"))
                .status,
            400);
  HttpResponse co = Post(
      "/api/v1/officer/control-orders",
      R"({"orderId":"BK-9","target":"hs_code","pattern":"3304","action":"yellow","reason":"化妆品专项","expiresInHours":24})",
      officer("461200101"));
  ASSERT_EQ(co.status, 200) << co.body;
  HttpResponse cos = Get("/api/v1/officer/control-orders", officer("461200102"));
  EXPECT_NE(cos.body.find("化妆品专项"), std::string::npos) << cos.body;
  EXPECT_NE(cos.body.find("\"active\":true"), std::string::npos) << cos.body;

  // Credit: the finding is on the agent's record; a grade change is confirmed by an officer.
  HttpResponse credit = Get("/api/v1/officer/credit?code=" + std::string(kAgent), officer("461200101"));
  ASSERT_EQ(credit.status, 200) << credit.body;
  EXPECT_NE(credit.body.find("\"finding\":1"), std::string::npos) << credit.body;
  EXPECT_EQ(Get("/api/v1/officer/credit?code=nobody", officer("461200101")).status, 404);
  HttpResponse g = Post("/api/v1/officer/grades",
                        R"({"code":"4101960003","grade":"dishonest","reason":"信用修复审核通过"})",
                        officer("461200105"));
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(service_->Read([](const clearance::Engine& e) {
              return e.enterprise(kAgent)->grade;
            }),
            ref::CreditGrade::kDishonest);
  EXPECT_EQ(Post("/api/v1/officer/grades", R"({"code":"4101960003","grade":"dishonest","reason":"x"})",
                 officer("461200105"))
                .status,
            409);
  // Registering an officer is administration: the regulator key.
  EXPECT_EQ(Post("/api/v1/admin/officers",
                 R"({"officer_id":"461200199","name":"新关员","site":"4612","api_key":"officer-key-461200199"})",
                 officer("461200101"))
                .status,
            403);
  ASSERT_EQ(Post("/api/v1/admin/officers",
                 R"({"officer_id":"461200199","name":"新关员","site":"4612","api_key":"officer-key-461200199"})",
                 regulator())
                .status,
            200);
  EXPECT_EQ(Get("/api/v1/officer/me", officer("461200199")).status, 200);
}

// serve's configuration: a storage cache outside 16..65536 MiB, or not an integer, stops the
// start with exit 2 and says which key and which range (the crash test starts with 32).
TEST(ServeConfig, StorageCacheOutsideItsBoundsStopsTheStart) {
  const fs::path dir = fs::path(CBEC_BINARY_DIR) / "serve_config_test_dir";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto start = [&](const std::string& value) {
    const fs::path config = dir / "serve.toml";
    std::ofstream(config) << "storage_cache_mib = " << value << "\n";
    // A start that is not refused would serve until killed: `timeout` makes that exit 124.
    std::string cmd = fmt::format(
        "timeout 60 {}/cbec serve --config {} --data-dir {} --listen 127.0.0.1:0 > {} 2>&1",
        CBEC_BINARY_DIR, config.string(), (dir / "data").string(), (dir / "serve.out").string());
    int rc = std::system(cmd.c_str());
    std::ifstream in(dir / "serve.out");
    std::stringstream out;
    out << in.rdbuf();
    return std::make_pair(WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out.str());
  };
  for (const char* bad : {"15", "65537", "-1", "\"256\"", "0.5"}) {
    auto [rc, out] = start(bad);
    EXPECT_EQ(rc, 2) << bad << ": " << out;
    EXPECT_NE(out.find("storage_cache_mib must be an integer from 16 to 65536"),
              std::string::npos)
        << bad << ": " << out;
  }
  EXPECT_FALSE(fs::exists(dir / "data" / "log")) << "a refused start opened the data directory";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cbec::service
