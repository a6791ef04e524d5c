// HttpClient on Boost.Beast: blocking calls over one keep-alive connection.
//
// Every step runs as an asynchronous Beast operation on the client's own io_context, driven to
// completion on the calling thread; that is how each step gets a deadline (beast::tcp_stream
// closes the socket when it passes), which the synchronous Beast API cannot give.
#include <poll.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <utility>

#include "server/http.h"
#include "server/http_util.h"

namespace cbec::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Boost 1.74's Beast speaks boost::string_view.
std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }
using Clock = std::chrono::steady_clock;

// Limits on what a server may send us (the receipts feed can be large; headers are not).
constexpr uint64_t kClientMaxBodyBytes = 256 * 1024 * 1024;
constexpr uint32_t kClientMaxHeaderBytes = 64 * 1024;
constexpr size_t kStreamReadBytes = 16 * 1024;

Status Unavailable(std::string message) {
  return Status(StatusCode::kUnavailable, std::move(message));
}

// Errors that mean "the connection was already dead", as when the server closed it while idle.
bool IsConnectionLoss(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted || ec == net::error::not_connected;
}

// Beast's largest read (http::read_some asks for at most 64 KiB).
constexpr size_t kReadChunkBytes = 64 * 1024;

class HttpClientImpl final : public HttpClient {
 public:
  HttpClientImpl(std::string host, uint16_t port, int timeout_ms)
      : host_(std::move(host)), port_(port), timeout_(timeout_ms), stream_(ioc_) {
    // Beast reads at most what the buffer has room for (and never more than 64 KiB): a buffer
    // left at its first 512 bytes would read a large answer a kilobyte per recvmsg.
    buffer_.reserve(kReadChunkBytes);
  }

  ~HttpClientImpl() override { Disconnect(); }

  Status Open() {
    Disconnect();
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    const auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec) return Unavailable("resolve " + Where() + ": " + ec.message());
    ec = Run(timeout_, [&](auto done) { stream_.async_connect(endpoints, std::move(done)); });
    if (ec) return Unavailable("connect " + Where() + ": " + ec.message());
    stream_.socket().set_option(tcp::no_delay(true), ec);  // best effort
    connected_ = true;
    return Status::Ok();
  }

  Result<HttpResponse> Request(
      const std::string& method, const std::string& target, const std::string& body,
      const std::vector<std::pair<std::string, std::string>>& headers) override {
    http::request<http::string_body> req;
    const http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) {
      req.method_string(method);
    } else {
      req.method(verb);
    }
    req.target(target);
    req.version(11);
    SetCommonHeaders(req, headers);
    req.body() = body;
    req.prepare_payload();

    for (int attempt = 0;; ++attempt) {
      bool reused = false;
      TRY(EnsureConnected(&reused));
      beast::error_code ec =
          Run(timeout_, [&](auto done) { http::async_write(stream_, req, std::move(done)); });
      bool got_answer = false;
      if (!ec) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(kClientMaxBodyBytes);
        parser.header_limit(kClientMaxHeaderBytes);
        parser.skip(verb == http::verb::head);  // a HEAD answer has a length but no body
        ec = Run(timeout_,
                 [&](auto done) { http::async_read(stream_, buffer_, parser, std::move(done)); });
        if (!ec) {
          http::response<http::string_body> res = parser.release();
          HttpResponse out;
          out.status = static_cast<int>(res.result_int());
          out.content_type = std::string(res[http::field::content_type]);
          for (const auto& field : res) {
            out.headers.emplace_back(internal::AsciiLower(Sv(field.name_string())),
                                     std::string(field.value()));
          }
          out.body = std::move(res.body());
          if (!res.keep_alive()) Disconnect();
          return out;
        }
        got_answer = parser.got_some();
      }
      Disconnect();
      // Resend once when a reused connection turns out to be dead before any answer: the
      // server closed it while idle (cbec's messages are idempotent, so a resend is harmless).
      if (reused && attempt == 0 && !got_answer && IsConnectionLoss(ec)) continue;
      return Unavailable(method + " " + target + " on " + Where() + ": " + ec.message());
    }
  }

  Result<int> Stream(const std::string& target,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     const std::function<bool(std::string_view id, std::string_view event,
                                              std::string_view data)>& on_event,
                     int timeout_ms) override {
    const auto timeout = std::chrono::milliseconds(std::max(timeout_ms, 1));
    http::request<http::empty_body> req{http::verb::get, target, 11};
    SetCommonHeaders(req, headers);
    if (!HasHeader(headers, "accept")) req.set(http::field::accept, "text/event-stream");
    if (!HasHeader(headers, "cache-control")) req.set(http::field::cache_control, "no-cache");

    for (int attempt = 0;; ++attempt) {
      bool reused = false;
      TRY(EnsureConnected(&reused));
      beast::error_code ec =
          Run(timeout_, [&](auto done) { http::async_write(stream_, req, std::move(done)); });
      bool got_answer = false;
      if (!ec) {
        http::response_parser<http::buffer_body> parser;
        // A stream has no end we could bound. (Not boost::none: Beast 1.74 then compares a
        // Content-Length against an empty optional and reports body_limit.)
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        parser.header_limit(kClientMaxHeaderBytes);
        ec = Run(timeout, [&](auto done) {
          http::async_read_header(stream_, buffer_, parser, std::move(done));
        });
        if (!ec) return ReadStream(parser, on_event, timeout);
        got_answer = parser.got_some();
      }
      Disconnect();
      if (reused && attempt == 0 && !got_answer && IsConnectionLoss(ec)) continue;
      return Unavailable("stream " + target + " on " + Where() + ": " + ec.message());
    }
  }

 private:
  // Runs one asynchronous operation to completion on this thread, with a deadline.
  template <class Start>
  beast::error_code Run(Clock::duration timeout, Start&& start) {
    beast::error_code result;
    bool done = false;
    stream_.expires_after(timeout);
    start([&result, &done](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc_.restart();
    ioc_.run();
    CBEC_ASSERT(done);
    return result;
  }

  Result<int> ReadStream(
      http::response_parser<http::buffer_body>& parser,
      const std::function<bool(std::string_view, std::string_view, std::string_view)>& on_event,
      Clock::duration timeout) {
    const int status = static_cast<int>(parser.get().result_int());
    const std::string_view content_type = Sv(parser.get()[http::field::content_type]);
    const bool is_stream =
        status == 200 && internal::AsciiIEquals(content_type.substr(0, 17), "text/event-stream");
    if (!is_stream) {
      // A refusal: read its body so that the connection stays usable.
      http::response_parser<http::string_body> rest(std::move(parser));
      rest.body_limit(kClientMaxBodyBytes);
      const beast::error_code ec = Run(
          timeout_, [&](auto done) { http::async_read(stream_, buffer_, rest, std::move(done)); });
      if (ec || !rest.get().keep_alive()) Disconnect();
      return status;
    }

    internal::SseParser sse;
    auto deadline = Clock::now() + timeout;
    const internal::SseParser::Callback deliver = [&](std::string_view id, std::string_view event,
                                                      std::string_view data) {
      deadline = Clock::now() + timeout;  // the timeout counts from the last event
      return on_event(id, event, data);
    };
    std::array<char, kStreamReadBytes> chunk;
    while (!parser.is_done()) {
      const auto now = Clock::now();
      if (now >= deadline) break;
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      const beast::error_code ec = Run(deadline - now, [&](auto done) {
        http::async_read_some(stream_, buffer_, parser, std::move(done));
      });
      const size_t n = chunk.size() - parser.get().body().size;
      if (n > 0 && !sse.Feed(std::string_view(chunk.data(), n), deliver)) break;
      if (ec && ec != http::error::need_buffer) break;  // closed by the server, or timed out
    }
    // The server keeps writing to an event stream: the connection cannot carry another request.
    Disconnect();
    return status;
  }

  template <class Body>
  void SetCommonHeaders(http::request<Body>& req,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
    if (!HasHeader(headers, "host")) {
      const bool ipv6 = host_.find(':') != std::string::npos;
      req.set(http::field::host, (ipv6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_));
    }
    if (!HasHeader(headers, "user-agent")) req.set(http::field::user_agent, "cbec-client");
    for (const auto& [name, value] : headers) req.insert(name, value);
  }

  static bool HasHeader(const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string_view name) {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& h) { return internal::AsciiIEquals(h.first, name); });
  }

  Status EnsureConnected(bool* reused) {
    *reused = connected_ && IdleConnectionAlive();
    if (*reused) return Status::Ok();
    return Open();
  }

  // An idle keep-alive connection must have nothing to read: if it is readable, the server
  // closed it (EOF or reset) or sent something unasked; either way it is not usable.
  bool IdleConnectionAlive() {
    if (!stream_.socket().is_open() || buffer_.size() != 0) return false;
    pollfd p{};
    p.fd = stream_.socket().native_handle();
    p.events = POLLIN;
    return ::poll(&p, 1, 0) == 0;
  }

  void Disconnect() {
    beast::error_code ec;
    if (stream_.socket().is_open()) stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    buffer_.clear();
    connected_ = false;
  }

  std::string Where() const { return host_ + ":" + std::to_string(port_); }

  const std::string host_;
  const uint16_t port_;
  const std::chrono::milliseconds timeout_;
  net::io_context ioc_;  // declared before the stream that uses it
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace

Result<std::unique_ptr<HttpClient>> HttpClient::Connect(const std::string& host, uint16_t port,
                                                        int timeout_ms) {
  if (timeout_ms <= 0) return InvalidArgument("http client: timeout_ms must be positive");
  auto client = std::make_unique<HttpClientImpl>(host, port, timeout_ms);
  TRY(client->Open());
  return std::unique_ptr<HttpClient>(std::move(client));
}

}  // namespace cbec::server
