// The hall, consumer and statistics endpoints the pages use, over the wire: a real Service with
// the demo zone, the real HTTP server on port 0 and the blocking client. Each test proves what
// a page relies on, including who may call what (no key, wrong role, another enterprise).
#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "demo/demo.h"
#include "fmt/format.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "messages/ceb.h"
#include "rapidjson/document.h"
#include "server/http.h"
#include "service/api.h"
#include "service/service.h"
#include "service_fixture.h"
#include "service/web_api.h"

namespace cbec::service {
namespace {

namespace fs = std::filesystem;
using Headers = std::vector<std::pair<std::string, std::string>>;
using server::HttpResponse;

constexpr char kRegulatorKey[] = "regulator-key-for-web-tests";
constexpr char kPlatform[] = "4101960001";
constexpr char kPay[] = "4101960007";

std::shared_ptr<const ref::ReferenceData> reference() {
  static auto r = *ref::ReferenceData::LoadDefaults();
  return r;
}
Headers key(std::string_view code) { return {{"X-API-Key", "key-" + std::string(code)}}; }
Headers regulator() { return {{"X-API-Key", kRegulatorKey}}; }

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  return d;
}
std::string str(const rapidjson::Value& o, const char* k) {
  return o.IsObject() && o.HasMember(k) && o[k].IsString() ? o[k].GetString() : "";
}
std::string header_of(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}
std::string url(std::string_view v) {
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

class WebApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir(
        "web-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    ServiceOptions o;
    o.data_dir = (dir_ / "data").string();
    o.reference = reference();
    o.ticks = false;
    o.draw_seeds = false;
    o.clock = [this] { return now_ms_; };
    o.lanes = [yellow = yellow_](const clearance::LaneContext& c) {
      return yellow->count(c.inventory->head.copNo) ? clearance::Lane::kYellow
                                                    : clearance::Lane::kGreen;
    };
    Status st = testing::start_http_zone(std::move(o), kRegulatorKey,
                                         server::kDefaultClientTimeoutMs, &service_, &api_,
                                         &server_, &client_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void TearDown() override { testing::stop_http_zone(&client_, &server_, &api_, &service_); }

  HttpResponse Call(const std::string& method, const std::string& target, const std::string& body,
                    const Headers& h) {
    auto r = client_->Request(method, target, body, h);
    EXPECT_TRUE(r.ok()) << target;
    if (!r.ok()) return HttpResponse{0};
    return std::move(*r);
  }
  HttpResponse Get(const std::string& target, const Headers& h = {}) {
    return Call("GET", target, "", h);
  }

  // Good sets bought at the demo hall (the hall is their carrier).
  static std::vector<gen::DocSet> HallSets(int count, uint64_t seed) {
    gen::Options opt;
    opt.seed = seed;
    opt.count = count;
    opt.share_hall = 1.0;
    auto g = gen::generate(gen::demo_zone(), opt, *reference());
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? std::move(g->sets) : std::vector<gen::DocSet>{};
  }
  void Post(const gen::DocSet& set, ceb::MessageType type) {
    for (const auto& sub : demo::submissions(gen::demo_zone(), std::span(&set, 1))) {
      if (sub.message.type != type) continue;
      HttpResponse r = Call("POST", "/api/v1/messages", ceb::write_message_xml(sub.message),
                            key(sub.sender));
      EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
    }
    now_ms_ += 2000;
  }
  void PostAll(const gen::DocSet& set) {
    for (auto t : {ceb::MessageType::kCEB511, ceb::MessageType::kCEB311, ceb::MessageType::kCEB411,
                   ceb::MessageType::kCEB621})
      Post(set, t);
  }
  std::string StageOf(const gen::DocSet& set) {
    HttpResponse r = Get("/api/v1/board");
    EXPECT_EQ(r.status, 200);
    rapidjson::Document d = parse(r.body);
    std::string id = set.waybill.head.logisticsCode + "/" + set.waybill.head.logisticsNo;
    for (const auto& it : d["items"].GetArray())
      if (str(it, "id") == id) return str(it, "stage");
    return "absent";
  }
  HttpResponse Pickup(const gen::DocSet& set, std::string suffix, const Headers& h) {
    return Call("POST", "/api/v1/hall/pickup",
                fmt::format(R"({{"code":"{}","idSuffix":"{}","clerk":"T1"}})",
                            set.payment.head.payTransactionId, suffix),
                h);
  }
  static std::string Suffix(const gen::DocSet& s, size_t n = 4) {
    const std::string& id = s.inventory.head.buyerIdNumber;
    return id.substr(id.size() - n);
  }

  const std::string hall_ = gen::demo_zone().hallCode;
  TimeMs now_ms_ = beijing_midnight(CivilDate{2025, 6, 18}) + 9 * kMsPerHour;
  fs::path dir_;
  std::shared_ptr<std::set<std::string>> yellow_ = std::make_shared<std::set<std::string>>();
  std::unique_ptr<Service> service_;
  std::shared_ptr<Api> api_;
  std::unique_ptr<server::HttpServer> server_;
  std::unique_ptr<server::HttpClient> client_;
};

TEST_F(WebApiTest, BoardFollowsAHallOrderThroughEveryStageWithMaskedDataOnly) {
  auto sets = HallSets(2, 11);
  ASSERT_EQ(sets.size(), 2u);
  const gen::DocSet& s = sets[0];
  ASSERT_EQ(s.waybill.head.logisticsCode, hall_);
  yellow_->insert(s.inventory.head.copNo);  // via manual review, so "under review" lasts
  EXPECT_EQ(StageOf(s), "absent");
  Post(s, ceb::MessageType::kCEB511);
  EXPECT_EQ(StageOf(s), "ordered");
  Post(s, ceb::MessageType::kCEB311);
  Post(s, ceb::MessageType::kCEB621);
  EXPECT_EQ(StageOf(s), "declared");  // waiting for the payment
  Post(s, ceb::MessageType::kCEB411);
  EXPECT_EQ(StageOf(s), "review");
  std::string invt = service_->Read([&](const clearance::Engine& e) {
    return e.list_by_cop_no(s.inventory.head.agentCode, s.inventory.head.copNo)->invtNo;
  });
  HttpResponse d = Call("POST", "/api/v1/officer/decisions",
                        fmt::format(R"({{"invtNo":"{}","action":"release"}})", invt),
                        {{"X-API-Key", "officer-key-461200101"}});
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(StageOf(s), "ready");
  ASSERT_EQ(Pickup(s, Suffix(s), key(hall_)).status, 200);
  EXPECT_EQ(StageOf(s), "picked_up");

  // Nothing personal leaves for the board: no ID, phone, address, full order number, name.
  HttpResponse r = Get("/api/v1/board");
  const auto& h = s.order.head;
  for (const std::string& secret :
       {h.buyerIdNumber, h.buyerTelephone, h.consigneeAddress, h.orderNo, h.buyerName})
    EXPECT_EQ(r.body.find(secret), std::string::npos) << secret;
  rapidjson::Document b = parse(r.body);
  const auto& item = b["items"][0];
  EXPECT_EQ(str(item, "order"), h.orderNo.substr(h.orderNo.size() - 6));
  EXPECT_EQ(str(item, "name"), mask_name(h.buyerName));
  EXPECT_NE(str(item, "name").find('*'), std::string::npos);
  EXPECT_TRUE(item["times"].HasMember("review") && item["times"].HasMember("picked_up"));
}

TEST_F(WebApiTest, BoardStreamStartsWithASnapshotAndResumesWithoutLossOrRepeat) {
  auto sets = HallSets(3, 12);
  PostAll(sets[0]);
  // First connection: the snapshot, then the updates of the next order.
  std::vector<std::pair<uint64_t, std::string>> first;
  auto stream = server::HttpClient::Connect("127.0.0.1", server_->port());
  ASSERT_TRUE(stream.ok());
  std::thread poster([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto c = server::HttpClient::Connect("127.0.0.1", server_->port());
    for (auto t : {ceb::MessageType::kCEB511, ceb::MessageType::kCEB311,
                   ceb::MessageType::kCEB621, ceb::MessageType::kCEB411}) {
      for (const auto& sub : demo::submissions(gen::demo_zone(), std::span(&sets[1], 1)))
        if (sub.message.type == t)
          (void)(*c)->Request("POST", "/api/v1/messages", ceb::write_message_xml(sub.message),
                              key(sub.sender));
    }
  });
  auto rc = (*stream)->Stream("/api/v1/board/stream", {},
                              [&](std::string_view id, std::string_view ev, std::string_view) {
                                first.emplace_back(std::stoull(std::string(id)), std::string(ev));
                                return first.size() < 4;
                              },
                              10000);
  poster.join();
  ASSERT_TRUE(rc.ok());
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first[0].second, "snapshot");
  for (size_t i = 1; i < first.size(); ++i) {
    EXPECT_EQ(first[i].second, "update");
    EXPECT_EQ(first[i].first, first[i - 1].first + 1) << "events are numbered without gaps";
  }
  // The connection drops after the second event; more happens; the reader comes back with the
  // last id it applied and gets exactly the events after it, no snapshot.
  uint64_t resume = first[1].first;
  PostAll(sets[2]);
  uint64_t version = service_->board().version();
  std::vector<uint64_t> again;
  auto stream2 = server::HttpClient::Connect("127.0.0.1", server_->port());
  rc = (*stream2)->Stream("/api/v1/board/stream", {{"Last-Event-ID", std::to_string(resume)}},
                          [&](std::string_view id, std::string_view ev, std::string_view) {
                            EXPECT_EQ(ev, "update");
                            again.push_back(std::stoull(std::string(id)));
                            return again.back() < version;
                          },
                          10000);
  ASSERT_TRUE(rc.ok());
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again.front(), resume + 1);
  EXPECT_EQ(again.back(), version);
  for (size_t i = 1; i < again.size(); ++i) EXPECT_EQ(again[i], again[i - 1] + 1);
  // A cursor from the future (another data directory) is answered with a snapshot.
  std::string kind;
  (void)(*stream2)->Stream("/api/v1/board/stream?after=999999", {},
                           [&](std::string_view, std::string_view ev, std::string_view) {
                             kind = std::string(ev);
                             return false;
                           },
                           10000);
  EXPECT_EQ(kind, "snapshot");
}

TEST_F(WebApiTest, PickupCounterIsForItsHallAndSaysWhyItRefuses) {
  auto sets = HallSets(2, 13);
  const gen::DocSet& s = sets[0];
  PostAll(s);
  std::string code = s.payment.head.payTransactionId;
  std::string lookup = "/api/v1/hall/pickup?code=" + code;
  EXPECT_EQ(Get(lookup).status, 401);
  EXPECT_EQ(Get(lookup, {{"X-API-Key", "no-such-key-at-all"}}).status, 401);
  EXPECT_EQ(Get(lookup, regulator()).status, 403);
  EXPECT_EQ(Get(lookup, key(kPlatform)).status, 403);
  EXPECT_EQ(Pickup(s, Suffix(s), key(kPlatform)).status, 403);

  HttpResponse found = Get(lookup, key(hall_));
  ASSERT_EQ(found.status, 200) << found.body;
  rapidjson::Document d = parse(found.body);
  EXPECT_EQ(str(d, "state"), "released");
  EXPECT_TRUE(d["pickable"].GetBool());
  EXPECT_EQ(d["goods"].Size(), s.inventory.lists.size());
  EXPECT_EQ(found.body.find(s.order.head.buyerIdNumber), std::string::npos);

  auto reason = [](const HttpResponse& r) { return str(parse(r.body), "reason"); };
  HttpResponse unknown = Get("/api/v1/hall/pickup?code=NOSUCHCODE", key(hall_));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(reason(unknown), "unknown_code");
  HttpResponse wrong = Pickup(s, "0000", key(hall_));
  if (Suffix(s) == "0000") wrong = Pickup(s, "1111", key(hall_));
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(reason(wrong), "wrong_id");
  EXPECT_FALSE(str(parse(wrong.body), "zh").empty());

  // A second hall may not hand over the first hall's order.
  HttpResponse reg = Call("POST", "/api/v1/admin/enterprises",
                          R"({"code":"4101960099","name":"洛阳O2O体验店","roles":"hall,logistics","api_key":"key-4101960099-luoyang"})",
                          regulator());
  ASSERT_EQ(reg.status, 200) << reg.body;
  Headers luoyang{{"X-API-Key", "key-4101960099-luoyang"}};
  HttpResponse other = Pickup(s, Suffix(s), luoyang);
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(reason(other), "other_hall");
  EXPECT_EQ(reason(Get(lookup, luoyang)), "other_hall");

  HttpResponse ok = Pickup(s, Suffix(s, 6), key(hall_));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(str(parse(ok.body), "state"), "closed");
  HttpResponse twice = Pickup(s, Suffix(s), key(hall_));
  EXPECT_EQ(twice.status, 409);
  EXPECT_EQ(reason(twice), "already_picked_up");

  // Not yet released: the second order's list waits for its payment.
  const gen::DocSet& t = sets[1];
  Post(t, ceb::MessageType::kCEB511);
  Post(t, ceb::MessageType::kCEB311);
  Post(t, ceb::MessageType::kCEB411);
  HttpResponse early = Pickup(t, Suffix(t), key(hall_));
  EXPECT_EQ(early.status, 409);
  EXPECT_EQ(reason(early), "not_released");
  EXPECT_EQ(Call("POST", "/api/v1/hall/pickup", "not json", key(hall_)).status, 400);
}

TEST_F(WebApiTest, ConsumerSeesOwnOrderOnlyWithNameAndIdAndIsRateLimited) {
  auto sets = HallSets(1, 14);
  const gen::DocSet& s = sets[0];
  PostAll(s);
  const auto& h = s.order.head;
  auto q = [&](std::string order, std::string name, std::string id) {
    return Get("/api/v1/public/order?orderNo=" + url(order) + "&name=" + url(name) +
               "&id=" + url(id));
  };
  HttpResponse mine = q(h.orderNo, h.buyerName, h.buyerIdNumber);
  ASSERT_EQ(mine.status, 200) << mine.body;
  rapidjson::Document d = parse(mine.body);
  EXPECT_EQ(str(d, "stage"), "ready");
  EXPECT_TRUE(d["o2o"].GetBool());
  EXPECT_EQ(str(d, "pickupCode"), h.payTransactionId);
  EXPECT_EQ(str(d, "buyer"), mask_name(h.buyerName));
  EXPECT_EQ(mine.body.find(h.buyerIdNumber), std::string::npos);
  EXPECT_EQ(mine.body.find(h.consigneeAddress), std::string::npos);
  EXPECT_TRUE(d["quota"].HasMember("remaining"));

  // A wrong name, a wrong ID and an unknown order all look the same.
  HttpResponse wrong_name = q(h.orderNo, "王五", h.buyerIdNumber);
  HttpResponse wrong_id = q(h.orderNo, h.buyerName, "11010519491231002X");
  HttpResponse unknown = q("NOSUCHORDER", h.buyerName, h.buyerIdNumber);
  EXPECT_EQ(wrong_name.status, 404);
  EXPECT_EQ(wrong_name.body, unknown.body);
  EXPECT_EQ(wrong_id.body, unknown.body);
  EXPECT_EQ(q("", "", "").status, 400);

  HttpResponse quota = Get("/api/v1/public/quota?name=" + url(h.buyerName) + "&id=" +
                           url(h.buyerIdNumber));
  ASSERT_EQ(quota.status, 200) << quota.body;
  EXPECT_EQ(Get("/api/v1/public/quota?name=" + url("王五") + "&id=" + url(h.buyerIdNumber)).status,
            404);

  // Picked up: the pickup code is no longer shown.
  ASSERT_EQ(Pickup(s, Suffix(s), key(hall_)).status, 200);
  rapidjson::Document after = parse(q(h.orderNo, h.buyerName, h.buyerIdNumber).body);
  EXPECT_EQ(str(after, "stage"), "picked_up");
  EXPECT_FALSE(after.HasMember("pickupCode"));

  // Per client address: the burst, then 429.
  int limited = 0;
  for (int i = 0; i < static_cast<int>(kPublicRateBurst) + 5; ++i)
    if (q("NOSUCHORDER", "x", "y").status == 429) ++limited;
  EXPECT_GT(limited, 0);
}

TEST_F(WebApiTest, LanesCountWhenChosenAndTheAutomatedRateIsOfChosenLanes) {
  // Proves: a list sent to an officer shows in the lanes at once (not only once an officer has
  // finished), and the automated-release rate is green releases over lists whose lane was chosen.
  auto sets = HallSets(4, 16);
  yellow_->insert(sets[3].inventory.head.copNo);
  for (const auto& s : sets) PostAll(s);
  TimeMs day = beijing_midnight(CivilDate{2025, 6, 18});
  HttpResponse z = Get(fmt::format("/api/v1/stats?from={}&to={}&granularity=hour", day,
                                   day + kMsPerDay),
                       regulator());
  ASSERT_EQ(z.status, 200) << z.body;
  rapidjson::Document d = parse(z.body);
  const auto& total = d["zone"]["total"];
  EXPECT_EQ(total["released"].GetUint64(), 3u);
  EXPECT_EQ(total["lanes"]["green"].GetUint64(), 3u);
  EXPECT_EQ(total["lanes"]["yellow"].GetUint64(), 1u);
  EXPECT_DOUBLE_EQ(total["automatedRate"].GetDouble(), 0.75);
}

TEST_F(WebApiTest, StatisticsForTheRegulatorAndForAnEnterpriseBesideTheZone) {
  auto sets = HallSets(4, 15);
  for (const auto& s : sets) PostAll(s);
  TimeMs day = beijing_midnight(CivilDate{2025, 6, 18});
  std::string range = fmt::format("?from={}&to={}&granularity=hour", day + 3 * kMsPerHour,
                                  day + 10 * kMsPerHour);
  EXPECT_EQ(Get("/api/v1/stats" + range).status, 401);
  HttpResponse z = Get("/api/v1/stats" + range, regulator());
  ASSERT_EQ(z.status, 200) << z.body;
  rapidjson::Document d = parse(z.body);
  EXPECT_EQ(str(d, "scope"), "zone");
  const auto& total = d["zone"]["total"];
  EXPECT_EQ(total["declared"].GetUint64(), sets.size());
  EXPECT_EQ(total["released"].GetUint64(), sets.size());
  EXPECT_EQ(total["lanes"]["green"].GetUint64(), sets.size());
  Fen value = 0, tax = 0;
  for (const auto& s : sets) value += s.expected.dutiable_fen, tax += s.expected.tax.total_fen();
  EXPECT_EQ(total["valueFen"].GetInt64(), value);
  EXPECT_EQ(total["taxFen"].GetInt64(), tax);
  EXPECT_TRUE(total.HasMember("byPlatform"));
  EXPECT_GT(total["p50Ms"].GetInt64(), 0);
  EXPECT_EQ(d["zone"]["series"].Size(), 7u);
  uint64_t buyers = 0;
  for (const auto& b : d["quota"]["bands"].GetArray()) buyers += b["buyers"].GetUint64();
  EXPECT_GT(buyers, 0u);

  // An enterprise: its own figures beside the zone's, without the platform breakdown.
  std::string ebp = sets[0].order.head.ebpCode;
  uint64_t own = std::count_if(sets.begin(), sets.end(),
                               [&](const auto& s) { return s.order.head.ebpCode == ebp; });
  HttpResponse e = Get("/api/v1/stats" + range, key(ebp));
  ASSERT_EQ(e.status, 200);
  rapidjson::Document ed = parse(e.body);
  EXPECT_EQ(str(ed, "scope"), "enterprise");
  EXPECT_EQ(ed["own"]["total"]["released"].GetUint64(), own);
  EXPECT_EQ(ed["zone"]["total"]["released"].GetUint64(), sets.size());
  EXPECT_FALSE(ed["zone"]["total"].HasMember("byPlatform"));
  // An enterprise that is party to none of them sees zeros of its own.
  HttpResponse pay = Get("/api/v1/stats" + range, key("4101960006"));
  rapidjson::Document pd = parse(pay.body);
  uint64_t theirs = std::count_if(sets.begin(), sets.end(), [](const auto& s) {
    return s.order.head.ebcCode == "4101960006";
  });
  EXPECT_EQ(pd["own"]["total"]["released"].GetUint64(), theirs);

  HttpResponse csv = Get("/api/v1/stats.csv" + range, key(ebp));
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.content_type.rfind("text/csv", 0), 0u) << csv.content_type;
  EXPECT_EQ(csv.body.rfind("scope,bucket_start_beijing,", 0), 0u);
  EXPECT_NE(csv.body.find("\n" + ebp + ","), std::string::npos);
  EXPECT_NE(csv.body.find("\nzone,"), std::string::npos);
  EXPECT_EQ(Get("/api/v1/stats?granularity=week", regulator()).status, 400);
  EXPECT_EQ(Get("/api/v1/stats?from=2025-06-18&to=2025-06-17", regulator()).status, 400);
  EXPECT_EQ(Get("/api/v1/stats?from=2020-01-01&to=2025-06-18", regulator()).status, 400);
  EXPECT_EQ(Get("/api/v1/stats?from=2025-06-18&to=2025-06-19&granularity=day", regulator()).status,
            200);
  (void)kPay;
}

TEST_F(WebApiTest, PagesAndAssetsAreServedWithTypesAndCaching) {
  for (std::string page : {"/board", "/pickup", "/my", "/dashboard", "/"}) {
    HttpResponse r = Get(page);
    ASSERT_EQ(r.status, 200) << page;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << page;
    EXPECT_EQ(header_of(r, "cache-control"), "no-cache") << page;
  }
  HttpResponse board = Get("/board");
  auto at = board.body.find("<script src=\"/assets/board.");
  if (at != std::string::npos) at += 13;
  ASSERT_NE(at, std::string::npos);
  std::string asset = board.body.substr(at, board.body.find('"', at) - at);
  HttpResponse js = Get(asset);
  ASSERT_EQ(js.status, 200) << asset;
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(header_of(js, "cache-control").find("immutable"), std::string::npos);
  EXPECT_EQ(Get("/assets/no-such.js").status, 404);
  // The contract names every route the pages use.
  rapidjson::Document api = parse(Get("/api/v1/openapi.json").body);
  for (const char* path : {"/api/v1/board", "/api/v1/board/stream", "/api/v1/hall/pickup",
                           "/api/v1/public/order", "/api/v1/public/quota", "/api/v1/stats",
                           "/api/v1/stats.csv", "/board", "/pickup", "/my", "/dashboard"})
    EXPECT_TRUE(api["paths"].HasMember(path)) << path;
  EXPECT_EQ(Get("/assets/../board.html").status, 404);
}

}  // namespace
}  // namespace cbec::service
