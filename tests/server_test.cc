// Tests of the HTTP front (src/server/): a real HttpServer on port 0 with a scripted Handler,
// driven through HttpClient and, for what a well-behaved client never sends, raw sockets.
//
// Timing: the suite runs under ASan on a loaded 2-core machine, so nothing asserts how fast
// something happens; waits are bounded by generous deadlines so a bug fails instead of hanging.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server/http.h"
#include "server/http_util.h"

namespace cbec::server {
namespace {

using namespace std::chrono_literals;

constexpr auto kDeadline = 60s;  // far beyond any healthy run, even under ASan
constexpr int kClientTimeoutMs = 30000;

// Runs fn on its own thread; if it has not finished by the deadline the process aborts, since
// a hung test would otherwise block CI until its global timeout with no hint of which one.
template <class F>
auto WithDeadline(const char* what, F&& fn) {
  auto future = std::async(std::launch::async, std::forward<F>(fn));
  if (future.wait_for(kDeadline) != std::future_status::ready) {
    std::fprintf(stderr, "FATAL: %s did not finish in %lld s\n", what,
                 static_cast<long long>(kDeadline.count()));
    std::abort();
  }
  return future.get();
}

// Polls cond until it holds or the deadline passes; returns whether it held.
bool WaitFor(const std::function<bool()>& cond) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::string_view HeaderOf(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

// The answer of the echo routes: method, path and body, so a mixed-up answer is visible.
std::string EchoBody(const HttpRequest& r) { return r.method + " " + r.path + "\n" + r.body; }

// Routes:
//   /echo          answers at once with EchoBody
//   /later?ms=N    answers from another thread after N ms (default 50)
//   /hold          keeps the Respond callback (see held()) and never answers by itself
//   /twice         answers twice (a handler bug the server must absorb)
//   /drop          lets the Respond callback go without answering
//   /stream        (SSE) ?key=bad refuses with 403; ?events=N sends N events from another
//                  thread (a heartbeat before each) and closes; otherwise sends "hello" from
//                  open_stream itself and keeps the stream (see streams())
class TestHandler : public Handler {
 public:
  ~TestHandler() override { JoinWorkers(); }

  void handle(HttpRequest request, Respond respond) override {
    {
      std::lock_guard lock(mu_);
      last_ = request;
      ++handled_;
    }
    if (request.path == "/echo") {
      respond(HttpResponse{200, "text/plain", {{"X-Route", "echo"}}, EchoBody(request)});
    } else if (request.path == "/later") {
      const int ms = request.has_param("ms") ? std::stoi(std::string(request.param("ms"))) : 50;
      Spawn([request = std::move(request), respond = std::move(respond), ms] {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        respond(HttpResponse{200, "text/plain", {}, EchoBody(request)});
      });
    } else if (request.path == "/hold") {
      std::lock_guard lock(mu_);
      held_.push_back(std::move(respond));
    } else if (request.path == "/twice") {
      // A handler bug: only the first answer may reach the client.
      respond(HttpResponse{200, "text/plain", {}, "first"});
      respond(HttpResponse{200, "text/plain", {}, "second"});
    } else if (request.path == "/drop") {
      // respond goes out of scope unanswered
    } else {
      respond(HttpResponse{404, "application/json", {}, "{\"error\":\"not found\"}"});
    }
  }

  bool wants_stream(const HttpRequest& request) const override { return request.path == "/stream"; }

  StreamDecision open_stream(const HttpRequest& request,
                             std::shared_ptr<EventStream> stream) override {
    {
      std::lock_guard lock(mu_);
      last_ = request;
    }
    if (request.param("key") == "bad") {
      return {false, HttpResponse{403, "application/json", {}, "{\"error\":\"bad key\"}"}};
    }
    if (request.has_param("events")) {
      const int n = std::stoi(std::string(request.param("events")));
      Spawn([stream, n] {
        for (int i = 1; i <= n; ++i) {
          stream->heartbeat();
          stream->send(std::to_string(i), "receipt", "line one\nline two " + std::to_string(i));
        }
        stream->close();
      });
    } else {
      // Sent before the response head is written: the stream must queue it.
      stream->send("0", "hello", "welcome");
      std::lock_guard lock(mu_);
      streams_.push_back(stream);
    }
    return {true, {}};
  }

  HttpRequest last() {
    std::lock_guard lock(mu_);
    return last_;
  }
  int handled() {
    std::lock_guard lock(mu_);
    return handled_;
  }
  std::vector<Respond> held() {
    std::lock_guard lock(mu_);
    return held_;
  }
  void ClearHeld() {
    std::vector<Respond> gone;
    std::lock_guard lock(mu_);
    gone.swap(held_);
  }
  std::vector<std::shared_ptr<EventStream>> streams() {
    std::lock_guard lock(mu_);
    return streams_;
  }
  void JoinWorkers() {
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mu_);
      workers.swap(workers_);
    }
    for (auto& t : workers) t.join();
  }

 private:
  void Spawn(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    workers_.emplace_back(std::move(fn));
  }

  std::mutex mu_;
  HttpRequest last_;
  int handled_ = 0;
  std::vector<Respond> held_;
  std::vector<std::shared_ptr<EventStream>> streams_;
  std::vector<std::thread> workers_;
};

// A raw TCP connection to the server, with a receive timeout so that no read hangs.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{};
    tv.tv_sec = 30;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { ::close(fd_); }

  bool connected() const { return connected_; }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until `marker` has arrived (or the connection ends); returns everything read.
  std::string ReadUntil(std::string_view marker) {
    std::string out;
    char c;
    while (out.find(marker) == std::string::npos && ::recv(fd_, &c, 1, 0) == 1) out.push_back(c);
    return out;
  }

  // Reads until the server closes (peer_closed() is then true), an error, or 30 s of silence.
  std::string ReadUntilClosed() {
    std::string out;
    char buf[4096];
    while (true) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) peer_closed_ = true;
      if (n < 0 && errno == ECONNRESET) peer_reset_ = true;
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  bool peer_closed() const { return peer_closed_; }
  // Closed or reset (a close with unread bytes in the server's socket resets the connection).
  bool peer_ended() const { return peer_closed_ || peer_reset_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool peer_closed_ = false;
  bool peer_reset_ = false;
};

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    handler_ = std::make_shared<TestHandler>();
    auto server = HttpServer::Start(options, handler_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_NE(server_->port(), 0);
  }

  std::unique_ptr<HttpClient> NewClient() {
    auto client = HttpClient::Connect("127.0.0.1", server_->port(), kClientTimeoutMs);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  void TearDown() override {
    if (server_) WithDeadline("Stop", [&] { server_->Stop(2000); });
    server_.reset();
    if (handler_) handler_->JoinWorkers();
    handler_.reset();
  }

  std::shared_ptr<TestHandler> handler_;
  std::unique_ptr<HttpServer> server_;
};

// --- Helpers without a socket -----------------------------------------------------------------

TEST(HttpUtilTest, SplitTargetDecodesQueryButNotPath) {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  internal::SplitTarget("/a%2Fb?a=1&b=%E4%B8%AD+x&&flag&bad=%zz%4&c=", &path, &query);
  EXPECT_EQ(path, "/a%2Fb");
  const std::vector<std::pair<std::string, std::string>> want = {
      {"a", "1"}, {"b", "中 x"}, {"flag", ""}, {"bad", "%zz%4"}, {"c", ""}};
  EXPECT_EQ(query, want);

  internal::SplitTarget("/plain", &path, &query);
  EXPECT_EQ(path, "/plain");
  EXPECT_TRUE(query.empty());
  EXPECT_EQ(internal::PercentDecode("a+b%20c", false), "a+b c");
}

TEST(HttpUtilTest, RequestLookupsUseFirstMatchAndIgnoreHeaderCase) {
  HttpRequest r;
  r.headers = {{"x-a", "1"}, {"x-a", "2"}};
  r.query = {{"k", ""}, {"k", "v"}};
  EXPECT_EQ(r.header("x-a"), "1");
  EXPECT_EQ(r.header("X-A"), "1");
  EXPECT_EQ(r.header("x-b"), "");
  EXPECT_TRUE(r.has_param("k"));
  EXPECT_EQ(r.param("k"), "");
  EXPECT_FALSE(r.has_param("K"));
}

TEST(HttpUtilTest, JsonQuoteEscapes) {
  EXPECT_EQ(internal::JsonQuote("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
}

TEST(HttpUtilTest, SseFormatKeepsEveryDataLineInsideTheEvent) {
  EXPECT_EQ(internal::FormatSseEvent("7", "receipt", "a\r\nb\rc\nd"),
            "id: 7\nevent: receipt\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(internal::FormatSseEvent("", "", ""), "data: \n\n");
  EXPECT_EQ(internal::FormatSseEvent("1\n2", "x\ry", "z"), "id: 12\nevent: xy\ndata: z\n\n");
}

TEST(HttpUtilTest, SseParserHandlesSplitInputCommentsAndPersistentIds) {
  const std::string wire =
      "\xEF\xBB\xBF: hello\r\nid: 1\r\nevent: x\r\ndata: a\r\ndata:b\r\n\r\n"
      "data: no id line\n\n"
      "event: empty\n\n"  // no data: not dispatched
      "id: 2\rdata\r\r";
  struct Event {
    std::string id, event, data;
    bool operator==(const Event&) const = default;
  };
  const std::vector<Event> want = {
      {"1", "x", "a\nb"}, {"1", "message", "no id line"}, {"2", "message", ""}};
  // Feeding byte by byte splits every CRLF; the result must not depend on the split.
  for (size_t step : {size_t{1}, size_t{2}, size_t{5}, wire.size()}) {
    internal::SseParser parser;
    std::vector<Event> got;
    for (size_t i = 0; i < wire.size(); i += step) {
      ASSERT_TRUE(parser.Feed(std::string_view(wire).substr(i, step),
                              [&](std::string_view id, std::string_view ev, std::string_view d) {
                                got.push_back({std::string(id), std::string(ev), std::string(d)});
                                return true;
                              }));
    }
    EXPECT_EQ(got, want) << "step " << step;
  }
  internal::SseParser stopper;
  int calls = 0;
  EXPECT_FALSE(stopper.Feed("data: 1\n\ndata: 2\n\n", [&](auto, auto, auto) {
    ++calls;
    return false;
  }));
  EXPECT_EQ(calls, 1);
}

// --- Requests ---------------------------------------------------------------------------------

TEST_F(ServerTest, KeepAliveCarriesManyRequestsOnOneConnection) {
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 100; ++i) {
    const bool post = i % 2 == 1;
    const std::string body = post ? "body " + std::to_string(i) : "";
    auto r = client->Request(post ? "POST" : "GET", "/echo?i=" + std::to_string(i), body);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, std::string(post ? "POST" : "GET") + " /echo\n" + body);
    EXPECT_EQ(r->content_type, "text/plain");
    EXPECT_EQ(HeaderOf(*r, "server"), "cbec");
    EXPECT_EQ(HeaderOf(*r, "content-length"), std::to_string(r->body.size()));
    EXPECT_EQ(HeaderOf(*r, "x-route"), "echo");
  }
  EXPECT_EQ(server_->open_connections(), 1u);
  EXPECT_EQ(server_->requests_total(), 100u);
}

TEST_F(ServerTest, LargeAndSmallBodiesAlternateOnOneConnection) {
  // Proves: the read buffer that grows for a large body (room for 64 KiB reads) and shrinks
  // after its answer loses and mixes no byte, whichever sizes follow one another on a
  // keep-alive connection: at, below and above one read, and a body of many reads.
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  const size_t sizes[] = {300 * 1024, 10, 64 * 1024, 1, 64 * 1024 + 1, 2 * 1024 * 1024, 0, 8192};
  for (size_t i = 0; i < std::size(sizes); ++i) {
    std::string body(sizes[i], '\0');
    for (size_t k = 0; k < body.size(); ++k) body[k] = static_cast<char>('a' + (k * 7 + i) % 26);
    auto r = client->Request("POST", "/echo", body);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->body == "POST /echo\n" + body) << "body " << i << " of " << sizes[i] << " bytes";
  }
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(ServerTest, AnswerFromAnotherThreadAfterADelay) {
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) {  // the connection stays usable after each late answer
    auto r = client->Request("POST", "/later", "late " + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "POST /later\nlate " + std::to_string(i));
  }
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(ServerTest, QueryIsDecodedAndHeaderNamesLowerCased) {
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  auto r = client->Request("GET", "/echo?a=1&b=%E4%B8%AD+x", "",
                           {{"X-Custom-Header", "Value One"}, {"Last-Event-ID", "42"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const HttpRequest seen = handler_->last();
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/echo?a=1&b=%E4%B8%AD+x");
  EXPECT_EQ(seen.path, "/echo");
  EXPECT_EQ(seen.param("a"), "1");
  EXPECT_EQ(seen.param("b"), "中 x");
  EXPECT_FALSE(seen.has_param("c"));
  EXPECT_EQ(seen.header("x-custom-header"), "Value One");
  EXPECT_EQ(seen.header("last-event-id"), "42");
  for (const auto& [name, value] : seen.headers) {
    EXPECT_EQ(name, internal::AsciiLower(name)) << "header name not lower-cased";
  }
  EXPECT_EQ(seen.remote_address, "127.0.0.1");
}

TEST_F(ServerTest, HeadGetsLengthWithoutBodyAndUnknownRoute404) {
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  auto head = client->Request("HEAD", "/echo");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(HeaderOf(*head, "content-length"), std::to_string(std::string("HEAD /echo\n").size()));
  auto missing = client->Request("GET", "/nowhere");  // same connection, after the HEAD
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "{\"error\":\"not found\"}");
}

TEST_F(ServerTest, BodyOverTheLimitGets413AndTheClientRecovers) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  auto big = client->Request("POST", "/echo", std::string(4096, 'x'));
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(big->body, "{\"error\":\"body too large\",\"limit_bytes\":1024}");
  EXPECT_EQ(big->content_type, "application/json; charset=utf-8");
  EXPECT_EQ(HeaderOf(*big, "connection"), "close");
  EXPECT_EQ(handler_->handled(), 0);  // the handler never saw it

  auto at_limit = client->Request("POST", "/echo", std::string(1024, 'y'));
  ASSERT_TRUE(at_limit.ok()) << at_limit.status().ToString();
  EXPECT_EQ(at_limit->status, 200);
  EXPECT_EQ(at_limit->body, "POST /echo\n" + std::string(1024, 'y'));
}

TEST_F(ServerTest, ChunkedBodyOverTheLimitGets413) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(
      raw.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
               std::string(2048, 'z') + "\r\n0\r\n\r\n"));
  const std::string answer = raw.ReadUntilClosed();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer;
  EXPECT_NE(answer.find("\"limit_bytes\":1024"), std::string::npos) << answer;
  EXPECT_TRUE(raw.peer_closed());
}

TEST_F(ServerTest, GarbageGets400AndClose) {
  StartServer();
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send("NOT HTTP AT ALL\r\n\r\n"));
  const std::string answer = raw.ReadUntilClosed();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 400")) << answer;
  EXPECT_NE(answer.find("\"error\":\"bad request\""), std::string::npos) << answer;
  EXPECT_NE(answer.find("Server: cbec"), std::string::npos) << answer;
  EXPECT_TRUE(raw.peer_closed());
  EXPECT_EQ(handler_->handled(), 0);

  // The server is unharmed.
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  auto r = client->Request("GET", "/echo");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, OversizedHeaderGets431) {
  StartServer();
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send("GET /echo HTTP/1.1\r\nHost: t\r\nX-Big: " +
                       std::string(kMaxHeaderBytes + 1000, 'a') + "\r\n\r\n"));
  const std::string answer = raw.ReadUntilClosed();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 431")) << answer;
  EXPECT_TRUE(raw.peer_closed());
  EXPECT_EQ(handler_->handled(), 0);
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send("GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  const std::string answer = raw.ReadUntilClosed();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
  EXPECT_NE(answer.find("Content-Length: 10\r\n"), std::string::npos) << answer;
  EXPECT_TRUE(answer.ends_with("\r\n\r\nGET /echo\n")) << answer;
  EXPECT_TRUE(raw.peer_closed());
}

TEST_F(ServerTest, ExpectContinueGets100BeforeTheBody) {
  StartServer();
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  EXPECT_EQ(raw.ReadUntil("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(raw.Send("hello"));
  const std::string answer = raw.ReadUntil("POST /echo\nhello");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
  EXPECT_TRUE(answer.ends_with("\r\n\r\nPOST /echo\nhello")) << answer;
}

TEST_F(ServerTest, SecondAnswerToOneRequestIsIgnored) {
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  auto first = client->Request("GET", "/twice");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->body, "first");
  for (int i = 0; i < 5; ++i) {  // the stale "second" must never answer a later request
    auto next = client->Request("POST", "/later?ms=1", std::to_string(i));
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(next->body, "POST /later\n" + std::to_string(i));
  }
}

TEST_F(ServerTest, IdleConnectionTimesOutAndTheClientReconnects) {
  ServerOptions options;
  options.idle_timeout_seconds = 1;
  StartServer(options);

  RawConnection silent(server_->port());
  ASSERT_TRUE(silent.connected());
  EXPECT_EQ(silent.ReadUntilClosed(), "");
  EXPECT_TRUE(silent.peer_closed());

  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  auto first = client->Request("GET", "/echo");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // Wait until the server has dropped the idle keep-alive connection, then use it again.
  ASSERT_TRUE(WaitFor([&] { return server_->open_connections() == 0; }));
  auto second = client->Request("POST", "/echo", "again");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->body, "POST /echo\nagain");
}

TEST_F(ServerTest, UnansweredRequestClosesTheConnection) {
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  auto dropped = WithDeadline("drop", [&] { return client->Request("GET", "/drop"); });
  EXPECT_FALSE(dropped.ok());
  auto after = client->Request("GET", "/echo");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->status, 200);
}

TEST_F(ServerTest, FiftyConcurrentClientsAllAnsweredCorrectly) {
  StartServer();
  constexpr int kClients = 50;
  constexpr int kRequests = 20;
  std::atomic<int> correct{0};
  WithDeadline("concurrent clients", [&] {
    std::vector<std::thread> threads;
    for (int c = 0; c < kClients; ++c) {
      threads.emplace_back([&, c] {
        auto client = HttpClient::Connect("127.0.0.1", server_->port(), kClientTimeoutMs);
        if (!client.ok()) return;
        for (int i = 0; i < kRequests; ++i) {
          const std::string body = "client " + std::to_string(c) + " request " + std::to_string(i);
          auto r = (*client)->Request("POST", "/echo", body);
          if (r.ok() && r->status == 200 && r->body == "POST /echo\n" + body) ++correct;
        }
      });
    }
    for (auto& t : threads) t.join();
  });
  EXPECT_EQ(correct.load(), kClients * kRequests);
  EXPECT_EQ(server_->requests_total(), static_cast<uint64_t>(kClients * kRequests));
}

// --- Server-Sent Events -------------------------------------------------------------------------

struct Received {
  std::string id, event, data;
};

TEST_F(ServerTest, StreamDeliversEventsInOrderWithIds) {
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  std::vector<Received> got;
  auto status = WithDeadline("stream", [&] {
    return client->Stream(
        "/stream?events=3", {{"Last-Event-ID", "0"}},
        [&](std::string_view id, std::string_view event, std::string_view data) {
          got.push_back({std::string(id), std::string(event), std::string(data)});
          return true;  // the handler closes the stream after the third event
        },
        kClientTimeoutMs);
  });
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(*status, 200);
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].id, std::to_string(i + 1));
    EXPECT_EQ(got[i].event, "receipt");
    EXPECT_EQ(got[i].data, "line one\nline two " + std::to_string(i + 1));
  }
  EXPECT_EQ(handler_->last().header("last-event-id"), "0");

  // The stream's connection is gone; the client opens a new one for the next request.
  auto r = client->Request("GET", "/echo");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, StreamHeadIsEventStreamAndChunked) {
  StartServer();
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send("GET /stream?events=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
  const std::string wire = raw.ReadUntilClosed();  // the handler closes after one event
  EXPECT_TRUE(wire.starts_with("HTTP/1.1 200")) << wire;
  EXPECT_NE(wire.find("Content-Type: text/event-stream\r\n"), std::string::npos) << wire;
  EXPECT_NE(wire.find("Cache-Control: no-cache\r\n"), std::string::npos) << wire;
  EXPECT_NE(wire.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << wire;
  EXPECT_EQ(wire.find("Content-Length"), std::string::npos) << wire;
  EXPECT_NE(wire.find("id: 1\nevent: receipt\ndata: line one\ndata: line two 1\n\n"),
            std::string::npos)
      << wire;
  EXPECT_TRUE(wire.ends_with("\r\n0\r\n\r\n")) << wire;  // the last chunk ends the stream
  EXPECT_TRUE(raw.peer_closed());
}

TEST_F(ServerTest, Http10StreamIsDelimitedByClose) {
  StartServer();
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send("GET /stream?events=2 HTTP/1.0\r\n\r\n"));  // no chunked in 1.0
  const std::string wire = raw.ReadUntilClosed();
  EXPECT_TRUE(wire.starts_with("HTTP/1.0 200")) << wire;
  EXPECT_EQ(wire.find("chunked"), std::string::npos) << wire;
  EXPECT_TRUE(
      wire.ends_with(": keep-alive\n\nid: 2\nevent: receipt\ndata: line one\n"
                     "data: line two 2\n\n"))
      << wire;
  EXPECT_TRUE(raw.peer_closed());
}

TEST_F(ServerTest, RefusedStreamGetsItsRefusal) {
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  int events = 0;
  auto status = WithDeadline("refused stream", [&] {
    return client->Stream(
        "/stream?key=bad", {},
        [&](std::string_view, std::string_view, std::string_view) {
          ++events;
          return true;
        },
        kClientTimeoutMs);
  });
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(*status, 403);
  EXPECT_EQ(events, 0);
  auto r = client->Request("GET", "/echo");  // a refusal leaves the connection usable
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(ServerTest, ClientDisconnectMakesSendFail) {
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  std::vector<Received> got;
  auto status = WithDeadline("stream", [&] {
    return client->Stream(
        "/stream", {},
        [&](std::string_view id, std::string_view event, std::string_view data) {
          got.push_back({std::string(id), std::string(event), std::string(data)});
          return false;  // hang up after the first event
        },
        kClientTimeoutMs);
  });
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(*status, 200);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "0");  // sent from open_stream, before the head was written
  EXPECT_EQ(got[0].event, "hello");
  EXPECT_EQ(got[0].data, "welcome");

  const auto streams = handler_->streams();
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_TRUE(WaitFor([&] { return !streams[0]->send("1", "tick", "after hang-up"); }));
  EXPECT_TRUE(streams[0]->closed());
  EXPECT_FALSE(streams[0]->heartbeat());
}

TEST_F(ServerTest, SlowStreamReaderIsDroppedWhenTheQueueOverflows) {
  StartServer();
  RawConnection raw(server_->port());  // opens a stream and never reads it
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(WaitFor([&] { return handler_->streams().size() == 1; }));
  const auto stream = handler_->streams()[0];
  const std::string data(1024, 'd');
  // Socket buffers absorb a few megabytes; past them, kMaxQueuedEvents more must fail.
  constexpr int kMaxSends = 200 * 1000;
  int sent = 0;
  while (sent < kMaxSends && stream->send(std::to_string(sent), "bulk", data)) ++sent;
  EXPECT_LT(sent, kMaxSends);
  EXPECT_GE(sent, static_cast<int>(kMaxQueuedEvents));
  EXPECT_TRUE(stream->closed());
}

// --- Stop -----------------------------------------------------------------------------------

TEST_F(ServerTest, StopWaitsForAnAnswerInFlight) {
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  auto pending = std::async(std::launch::async,
                            [&] { return client->Request("POST", "/later?ms=300", "drain me"); });
  ASSERT_TRUE(WaitFor([&] { return handler_->handled() == 1; }));
  WithDeadline("Stop", [&] { server_->Stop(30000); });
  ASSERT_EQ(pending.wait_for(kDeadline), std::future_status::ready);
  auto r = pending.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /later\ndrain me");
  EXPECT_EQ(HeaderOf(*r, "connection"), "close");
  EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(ServerTest, StopWithAnUnansweredRequestClosesAndLateAnswersAreDropped) {
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  auto pending = std::async(std::launch::async, [&] { return client->Request("GET", "/hold"); });
  ASSERT_TRUE(WaitFor([&] { return handler_->held().size() == 1; }));
  WithDeadline("Stop", [&] { server_->Stop(100); });
  ASSERT_EQ(pending.wait_for(kDeadline), std::future_status::ready);
  EXPECT_FALSE(pending.get().ok());  // closed without an answer; the port is closed too
  EXPECT_EQ(server_->open_connections(), 0u);

  auto respond = handler_->held()[0];
  respond(HttpResponse{200, "text/plain", {}, "too late"});  // after Stop: dropped
  server_.reset();
  respond(HttpResponse{200, "text/plain", {}, "later still"});  // after the server is gone
  handler_->ClearHeld();
  respond = nullptr;  // the last reference to the connection goes here
}

TEST_F(ServerTest, StopEndsOpenStreams) {
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  std::atomic<int> events{0};
  auto streaming = std::async(std::launch::async, [&] {
    return client->Stream(
        "/stream", {},
        [&](std::string_view, std::string_view, std::string_view) {
          ++events;
          return true;
        },
        kClientTimeoutMs);
  });
  ASSERT_TRUE(WaitFor([&] { return events.load() == 1; }));  // the "hello" event
  const auto stream = handler_->streams().at(0);
  WithDeadline("Stop", [&] { server_->Stop(1000); });
  // Well before the client's own 30 s timeout: the server ended the stream.
  ASSERT_EQ(streaming.wait_for(kDeadline), std::future_status::ready);
  auto status = streaming.get();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(*status, 200);
  EXPECT_FALSE(stream->send("1", "tick", "after stop"));
  EXPECT_TRUE(stream->closed());
}

TEST_F(ServerTest, DestructorStopsWithConnectionsOpen) {
  StartServer();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Request("GET", "/echo").ok());
  RawConnection partial(server_->port());
  ASSERT_TRUE(partial.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc"));
  WithDeadline("destructor", [&] { server_.reset(); });
  EXPECT_EQ(partial.ReadUntilClosed(), "");
  EXPECT_TRUE(partial.peer_ended());                   // not the 30 s receive timeout
  EXPECT_FALSE(client->Request("GET", "/echo").ok());  // nothing listens any more
}

TEST_F(ServerTest, StartRejectsBadOptions) {
  auto handler = std::make_shared<TestHandler>();
  ServerOptions options;
  options.port = 0;
  options.io_threads = 0;
  EXPECT_FALSE(HttpServer::Start(options, handler).ok());
  options.io_threads = 1;
  options.max_body_bytes = 0;
  EXPECT_FALSE(HttpServer::Start(options, handler).ok());
  options.max_body_bytes = 1;
  EXPECT_FALSE(HttpServer::Start(options, nullptr).ok());
  options.idle_timeout_seconds = 0;
  EXPECT_FALSE(HttpServer::Start(options, handler).ok());
}

TEST_F(ServerTest, PortInUseIsReported) {
  StartServer();
  ServerOptions options;
  options.port = server_->port();
  auto second = HttpServer::Start(options, std::make_shared<TestHandler>());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cbec::server
