// Webhook push of receipts: every receipt of the enterprise arrives in feed order with no gaps
// while the receiver answers 503, is stopped and comes back; the Service restarts in between and
// resumes from its persisted cursor; a receiver that always fails ends in the dead-letter list,
// which the enterprise can have delivered again.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "demo/demo.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "service_fixture.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "server/http.h"
#include "service/api.h"
#include "service/service.h"
#include "service/webhooks.h"

namespace cbec::service {
namespace {

using namespace cbec::service::testing;

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// The agent of the demo zone: it declares the lists, so it gets most receipts.
constexpr char kCode[] = "4101960003";
constexpr char kSecret[] = "hook-secret";
constexpr char kRegulatorKey[] = "regulator-key-for-webhook-tests";
// Generous for a loaded 2-core machine; a passing run takes a fraction of it.
constexpr milliseconds kDeadline{20000};
constexpr milliseconds kPoll{5};
// Fast backoff so that outages play out in milliseconds; the cap bounds how long delivery
// lags once the receiver is back.
constexpr int kFastBackoffFirstMs = 5;
constexpr int kFastBackoffCapMs = 100;
constexpr int kNeverDeadLetter = 1'000'000;
constexpr int kTestTimeoutMs = 3000;
constexpr int kMinRefusalsSeen = 3;  // proves the dispatcher retried while the receiver said 503



ServiceOptions options(const std::string& dir) {
  ServiceOptions o = base_options(dir);
  o.webhook_backoff_first_ms = kFastBackoffFirstMs;
  o.webhook_backoff_cap_ms = kFastBackoffCapMs;
  o.webhook_timeout_ms = kTestTimeoutMs;
  return o;
}


// Submits a generated day without waiting for each command (group commit keeps it quick), then
// waits for all of them.
void submit_day(Service& s, int count, uint64_t seed) {
  gen::Options opt;
  opt.seed = seed;
  opt.count = count;
  opt.fault_share = 0.05;
  auto g = gen::generate(gen::demo_zone(), opt, *reference());
  ASSERT_TRUE(g.ok());
  auto subs = demo::submissions(gen::demo_zone(), g->sets);
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0, failed = 0;
  for (auto& sub : subs) {
    std::string raw = ceb::write_message_json(sub.message);
    s.Submit(encode_submit(sub.sender, raw, std::move(sub.message)), [&](Result<Applied> a) {
      std::lock_guard lk(mu);
      ++done;
      if (!a.ok()) ++failed;
      cv.notify_one();
    });
  }
  std::unique_lock lk(mu);
  ASSERT_TRUE(cv.wait_for(lk, kDeadline, [&] { return done == subs.size(); }));
  ASSERT_EQ(failed, 0u);
}

template <class F>
bool eventually(F&& f) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(kPoll);
  }
  return f();
}

WebhookState status(Service& s) {
  auto st = s.WebhookStatus(kCode);
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  return st.ok() ? *st : WebhookState{};
}

// The enterprise's feed after `since`, as stored.
std::vector<StoredReceipt> feed(Service& s, uint64_t since) {
  std::vector<StoredReceipt> out;
  for (;;) {
    auto page = s.Receipts(kCode, out.empty() ? since : out.back().no, kMaxReceiptPage);
    EXPECT_TRUE(page.ok());
    if (!page.ok() || page->empty()) return out;
    out.insert(out.end(), page->begin(), page->end());
  }
}

// A receiving enterprise system: records what it accepts; can be told to answer 503.
class Receiver : public server::Handler {
 public:
  struct Received {
    uint64_t no = 0;
    std::string json;  // re-serialised: byte-identical to the stored receipt if nothing changed
    size_t post = 0;   // index of the POST that carried it
  };

  void handle(server::HttpRequest r, Respond respond) override {
    server::HttpResponse resp;
    {
      std::lock_guard lk(mu_);
      if (failing_) {
        ++refused_;
        resp.status = 503;
        resp.body = R"({"error":"down for maintenance"})";
      } else {
        Accept(r);
      }
    }
    respond(std::move(resp));
  }
  bool wants_stream(const server::HttpRequest&) const override { return false; }
  StreamDecision open_stream(const server::HttpRequest&,
                             std::shared_ptr<server::EventStream>) override {
    return StreamDecision{false, {}};
  }

  void set_failing(bool f) {
    std::lock_guard lk(mu_);
    failing_ = f;
  }
  int refused() const {
    std::lock_guard lk(mu_);
    return refused_;
  }
  std::vector<Received> received() const {
    std::lock_guard lk(mu_);
    return received_;
  }
  size_t posts() const {
    std::lock_guard lk(mu_);
    return posts_;
  }
  std::vector<std::string> problems() const {
    std::lock_guard lk(mu_);
    return problems_;
  }

 private:
  void Accept(const server::HttpRequest& r) {
    const size_t post = posts_++;
    rapidjson::Document d;
    d.Parse(r.body.c_str(), r.body.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("receipts") ||
        !d["receipts"].IsArray() || d["receipts"].Empty()) {
      problems_.push_back("malformed body: " + r.body.substr(0, 100));
      return;
    }
    const auto& arr = d["receipts"].GetArray();
    for (const auto& x : arr) {
      rapidjson::StringBuffer b;
      rapidjson::Writer<rapidjson::StringBuffer> w(b);
      x.Accept(w);
      received_.push_back(Received{x["no"].GetUint64(), b.GetString(), post});
    }
    const std::string range = std::to_string(arr[0]["no"].GetUint64()) + "-" +
                              std::to_string(arr[arr.Size() - 1]["no"].GetUint64());
    if (r.header("x-cbec-delivery") != range)
      problems_.push_back("X-Cbec-Delivery " + std::string(r.header("x-cbec-delivery")) + " for " +
                          range);
    if (arr.Size() > static_cast<rapidjson::SizeType>(kWebhookBatchReceipts))
      problems_.push_back("batch of " + std::to_string(arr.Size()));
    const std::string signature =
        secret_.empty() ? "" : "sha256=" + hmac_sha256_hex(secret_, r.body);
    if (r.header("x-cbec-signature") != signature) problems_.push_back("bad signature on " + range);
  }

  mutable std::mutex mu_;
  bool failing_ = false;
  int refused_ = 0;
  size_t posts_ = 0;
  std::vector<Received> received_;
  std::vector<std::string> problems_;

 public:
  std::string secret_;  // set before the first delivery; "" = expect unsigned deliveries
};

// How far `got` covers `want` in order: the number of feed receipts received, in feed order and
// without gaps. Anything received out of order (other than a byte-identical repeat of one
// already received) is reported in *error.
size_t covered(const std::vector<Receiver::Received>& got, const std::vector<StoredReceipt>& want,
               std::string* error) {
  std::map<uint64_t, const StoredReceipt*> by_no;
  for (const auto& r : want) by_no[r.no] = &r;
  size_t next = 0;
  for (const auto& g : got) {
    auto it = by_no.find(g.no);
    if (it == by_no.end()) {
      *error = "received " + std::to_string(g.no) + ", not in the feed";
      return next;
    }
    if (g.json != it->second->json) {
      *error = "receipt " + std::to_string(g.no) + " differs from the stored one";
      return next;
    }
    if (next < want.size() && g.no == want[next].no) {
      ++next;
    } else if (next == 0 || g.no > want[next - 1].no) {
      *error = "gap or reorder: received " + std::to_string(g.no) + ", expected " +
               (next < want.size() ? std::to_string(want[next].no) : "nothing more");
      return next;
    }  // else: a repeat of an earlier number with identical bytes, which receivers dedupe
  }
  return next;
}

// Waits until the receiver holds the whole feed after `since`; fails on any disorder.
void expect_complete(Service& s, const Receiver& rx, uint64_t since) {
  std::string error;
  std::vector<StoredReceipt> want;
  size_t have = 0;
  bool ok = eventually([&] {
    want = feed(s, since);
    error.clear();
    have = covered(rx.received(), want, &error);
    return !error.empty() || have == want.size();
  });
  EXPECT_TRUE(ok) << "delivered " << have << " of " << want.size();
  EXPECT_EQ(error, "");
  EXPECT_EQ(have, want.size());
  EXPECT_TRUE(rx.problems().empty()) << rx.problems().front();
}

Result<std::unique_ptr<server::HttpServer>> start_receiver(std::shared_ptr<Receiver> rx,
                                                           uint16_t port) {
  server::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = port;
  so.io_threads = 1;
  return server::HttpServer::Start(so, std::move(rx));
}

TEST(Webhooks, UrlParsingSignatureAndBackoff) {
  auto u = parse_webhook_url("http://127.0.0.1:8099/hooks/cbec?tenant=1");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8099);
  EXPECT_EQ(u->target, "/hooks/cbec?tenant=1");
  auto bare = parse_webhook_url("http://receiver.example");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->port, 80);
  EXPECT_EQ(bare->target, "/");
  auto v6 = parse_webhook_url("http://[::1]:9000/x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  for (const char* bad :
       {"https://127.0.0.1/x", "ftp://h/x", "http://", "http://:80/x", "http://h:0/x",
        "http://h:65536/x", "http://h:8x/x", "http://u@h/x", "http://h/x#frag", "http://h/a b",
        "http://h?x=1", "http://h_1/x", "http://[::1/x"}) {
    EXPECT_FALSE(parse_webhook_url(bad).ok()) << bad;
  }
  EXPECT_FALSE(parse_webhook_url("http://h/" + std::string(kMaxWebhookUrlBytes, 'a')).ok());
  // RFC 4231, test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(webhook_backoff_ms(1, kWebhookBackoffFirstMs, kWebhookBackoffCapMs), 200);
  EXPECT_EQ(webhook_backoff_ms(2, kWebhookBackoffFirstMs, kWebhookBackoffCapMs), 400);
  EXPECT_EQ(webhook_backoff_ms(8, kWebhookBackoffFirstMs, kWebhookBackoffCapMs), 25600);
  EXPECT_EQ(webhook_backoff_ms(9, kWebhookBackoffFirstMs, kWebhookBackoffCapMs), 30000);
  EXPECT_EQ(webhook_backoff_ms(1000, kWebhookBackoffFirstMs, kWebhookBackoffCapMs), 30000);
}

TEST(Webhooks, InOrderThroughOutagesAndAServiceRestart) {
  const std::string dir = temp_dir("webhooks-order");
  auto rx = std::make_shared<Receiver>();
  rx->secret_ = kSecret;
  auto server = start_receiver(rx, 0);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const uint16_t port = (*server)->port();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hooks/cbec";
  ServiceOptions o = options(dir);
  o.webhook_max_attempts = kNeverDeadLetter;  // this test wants every receipt delivered

  uint64_t since = 0, cursor_at_restart = 0;
  std::string live_dump;
  {
    auto s = Service::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    setup_zone(**s);
    // Refused by the Service itself (not registered), so nothing is configured.
    auto unknown = (*s)->SubmitAndWait(encode_set_webhook({"0000000000", url, ""}));
    ASSERT_TRUE(unknown.ok());
    EXPECT_EQ(unknown->status.code(), StatusCode::kNotFound);
    auto set = (*s)->SubmitAndWait(encode_set_webhook({kCode, url, kSecret}));
    ASSERT_TRUE(set.ok());
    ASSERT_TRUE(set->status.ok()) << set->status.ToString();
    since = (*s)->webhook(kCode)->since;
    EXPECT_EQ(since, (*s)->last_receipt_no());

    // 1. The receiver is up: more than one batch arrives.
    submit_day(**s, 60, 31);
    expect_complete(**s, *rx, since);
    EXPECT_GT(rx->posts(), 1u);

    // 2. It answers 503: the dispatcher retries the same batch with backoff.
    rx->set_failing(true);
    submit_day(**s, 20, 32);
    EXPECT_TRUE(eventually([&] { return rx->refused() >= kMinRefusalsSeen; }));
    EXPECT_TRUE(eventually([&] { return status(**s).attempts >= kMinRefusalsSeen; }));
    EXPECT_NE(status(**s).last_error.find("HTTP 503"), std::string::npos);

    // 3. It is stopped: connections are refused.
    (*server)->Stop();
    submit_day(**s, 20, 33);
    EXPECT_TRUE(eventually([&] {
      return status(**s).last_error.find("connect") != std::string::npos;
    })) << status(**s).last_error;
    cursor_at_restart = status(**s).cursor;
    const auto got = rx->received();
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(cursor_at_restart, got.back().no);  // the cursor is what was acknowledged
    EXPECT_TRUE(status(**s).dead_letters.empty());
  }  // 4. The Service restarts while the receiver is down.

  auto s = Service::Open(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  WebhookState st = status(**s);
  EXPECT_TRUE(st.configured);  // replayed from the log
  EXPECT_EQ(st.url, url);
  EXPECT_TRUE(st.has_secret);
  EXPECT_EQ(st.since, since);
  EXPECT_EQ(st.cursor, cursor_at_restart);  // from the store
  const size_t received_before = rx->received().size();
  submit_day(**s, 20, 34);

  // 5. The receiver comes back on the same port and gets everything, in order.
  rx->set_failing(false);
  server = start_receiver(rx, port);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  expect_complete(**s, *rx, since);
  const auto got = rx->received();
  ASSERT_GT(got.size(), received_before);
  EXPECT_GT(got[received_before].no, cursor_at_restart);  // resumed, nothing sent twice
  EXPECT_TRUE(status(**s).last_error.empty());
  EXPECT_EQ(status(**s).attempts, 0);

  // The webhook command is the Service's own: replaying the log gives the live core.
  live_dump = (*s)->Read([](const clearance::Engine& e) { return e.dump_state(); });
  s->reset();  // the log allows one reader at a time
  auto replayed = Service::ReplayToDump(dir, reference());
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_EQ(*replayed, live_dump);
}

TEST(Webhooks, DeadLettersAfterMaxAttemptsAndRetryOverHttp) {
  const std::string dir = temp_dir("webhooks-dead");
  auto rx = std::make_shared<Receiver>();
  rx->set_failing(true);
  auto rx_server = start_receiver(rx, 0);
  ASSERT_TRUE(rx_server.ok()) << rx_server.status().ToString();
  const std::string url = "http://127.0.0.1:" + std::to_string((*rx_server)->port()) + "/in";

  ServiceOptions o = options(dir);
  o.webhook_backoff_first_ms = 1;
  o.webhook_backoff_cap_ms = 2;
  auto s = Service::Open(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  setup_zone(**s);
  ApiOptions ao;
  ao.regulator_key = kRegulatorKey;
  auto api = std::make_shared<Api>(s->get(), ao);
  server::ServerOptions so;
  so.port = 0;
  auto api_server = server::HttpServer::Start(so, api);
  ASSERT_TRUE(api_server.ok()) << api_server.status().ToString();
  auto client = server::HttpClient::Connect("127.0.0.1", (*api_server)->port());
  ASSERT_TRUE(client.ok());
  auto call = [&](const std::string& method, const std::string& target, const std::string& key,
                  const std::string& body = "") {
    auto r = (*client)->Request(method, target, body, {{"X-API-Key", key}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : server::HttpResponse{};
  };
  const std::string agent_key = std::string("key-") + kCode;

  // Configuration: regulator only, http:// only, a registered enterprise only.
  const std::string set_body = std::string(R"({"code":")") + kCode + R"(","url":")" + url + "\"}";
  EXPECT_EQ(call("POST", "/api/v1/admin/webhooks", agent_key, set_body).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/admin/webhooks", kRegulatorKey,
                 std::string(R"({"code":")") + kCode + R"(","url":"https://h/x"})")
                .status,
            400);
  EXPECT_EQ(call("POST", "/api/v1/admin/webhooks", kRegulatorKey,
                 R"({"code":"0000000000","url":"http://127.0.0.1:1/x"})")
                .status,
            404);
  EXPECT_EQ(call("POST", "/api/v1/webhooks/retry", agent_key).status, 409);  // none set yet
  auto set = call("POST", "/api/v1/admin/webhooks", kRegulatorKey, set_body);
  ASSERT_EQ(set.status, 200) << set.body;
  const uint64_t since = (*s)->webhook(kCode)->since;

  submit_day(**s, 10, 41);
  // Every receipt of the enterprise ends up dead, each batch after exactly the maximum attempts.
  std::vector<StoredReceipt> want;
  ASSERT_TRUE(eventually([&] {
    want = feed(**s, since);
    WebhookState st = status(**s);
    return !want.empty() && st.cursor == want.back().no && st.attempts == 0;
  }));
  WebhookState st = status(**s);
  ASSERT_GT(st.dead_letter_count, 0u);
  uint64_t dead_receipts = 0;
  for (const auto& d : st.dead_letters) {
    dead_receipts += d.count;
    EXPECT_EQ(d.attempts, kMaxDeliveryAttempts);
    EXPECT_NE(d.error.find("HTTP 503"), std::string::npos) << d.error;
  }
  EXPECT_EQ(dead_receipts, want.size());
  EXPECT_EQ(rx->refused(), kMaxDeliveryAttempts * static_cast<int>(st.dead_letter_count));
  EXPECT_TRUE(rx->received().empty());

  // The enterprise sees them over HTTP (the regulator names it).
  auto mine = call("GET", "/api/v1/webhooks", agent_key);
  ASSERT_EQ(mine.status, 200) << mine.body;
  rapidjson::Document d;
  d.Parse(mine.body.c_str());
  ASSERT_TRUE(d.IsObject()) << mine.body;
  EXPECT_TRUE(d["configured"].GetBool());
  EXPECT_EQ(d["url"].GetString(), url);
  EXPECT_EQ(d["deadLetterCount"].GetUint64(), st.dead_letter_count);
  EXPECT_EQ(d["deadLetters"][0]["first"].GetUint64(), want.front().no);
  EXPECT_EQ(mine.body.find("secret\""), std::string::npos);
  EXPECT_EQ(call("GET", "/api/v1/webhooks?code=4101960001", agent_key).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/webhooks", kRegulatorKey).status, 400);
  EXPECT_EQ(call("GET", std::string("/api/v1/webhooks?code=") + kCode, kRegulatorKey).status, 200);

  // Back up: the enterprise asks for its dead letters again and gets all of them, in order.
  rx->set_failing(false);
  EXPECT_EQ(call("POST", "/api/v1/webhooks/retry", kRegulatorKey).status, 403);
  auto retry = call("POST", "/api/v1/webhooks/retry", agent_key);
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(retry.body, "{\"queued\":" + std::to_string(st.dead_letter_count) + "}");
  expect_complete(**s, *rx, since);
  EXPECT_TRUE(eventually([&] { return status(**s).dead_letter_count == 0; }));

  // Removing the webhook keeps what was delivered and stops further pushes.
  auto removed = call("POST", "/api/v1/admin/webhooks", kRegulatorKey,
                      std::string(R"({"code":")") + kCode + R"(","url":""})");
  EXPECT_EQ(removed.status, 200) << removed.body;
  EXPECT_FALSE((*s)->webhook(kCode).has_value());
  EXPECT_EQ(call("POST", "/api/v1/webhooks/retry", agent_key).status, 409);
  (*api_server)->Stop();
}

}  // namespace
}  // namespace cbec::service
