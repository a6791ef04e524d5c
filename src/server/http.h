// The HTTP/1.1 front of cbec (Boost.Beast), kept apart from what the routes do.
//
// Public face of src/server/. HttpServer accepts connections (keep-alive), reads requests with a
// body limit, and hands each one to a Handler. The handler answers through a callback that may
// run on any thread (the clearance writer thread answers after the group commit); the server
// moves the answer back to the connection's strand. Long-lived Server-Sent Events streams are
// served through an EventStream the handler keeps and writes to from any thread.
//
// All Boost.Beast code lives in http_server.cc (one translation unit: Beast is heavy to compile).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cbec::server {

inline constexpr size_t kDefaultMaxBodyBytes = 8 * 1024 * 1024;  // a 100-record message fits
inline constexpr size_t kMaxHeaderBytes = 16 * 1024;
inline constexpr int kDefaultIoThreads = 2;
inline constexpr int kIdleTimeoutSeconds = 60;
inline constexpr int kDefaultDrainMs = 5000;
// Events queued on one stream and not yet handed to the socket. A client that falls this far
// behind is disconnected; it resumes with Last-Event-ID.
inline constexpr size_t kMaxQueuedEvents = 10000;
// How long HttpClient waits for a connect, a write or a response before giving up.
inline constexpr int kDefaultClientTimeoutMs = 120 * 1000;
static_assert(kMaxHeaderBytes < kDefaultMaxBodyBytes);
static_assert(kIdleTimeoutSeconds > 0 && kMaxQueuedEvents > 0);

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, e.g. "/api/v1/receipts?after=10&limit=100"
  std::string path;    // target without the query
  // Decoded query parameters in order ('+' is a space, %XX a byte; a malformed escape stays
  // as written). The path is left as sent: decoding it would turn %2F into a separator.
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;

  // First header / query parameter with that (lower-case) name, or "" if absent.
  std::string_view header(std::string_view name) const;
  std::string_view param(std::string_view name) const;
  bool has_param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
};

// A Server-Sent Events stream. Thread-safe: send() from any thread; events are written in the
// order of send() calls. After the client disconnects, send() returns false and the handler
// should drop the stream.
class EventStream {
 public:
  virtual ~EventStream() = default;
  // Writes "id: <id>\nevent: <event>\ndata: <data line>...\n\n" (data split on '\n').
  virtual bool send(std::string_view id, std::string_view event, std::string_view data) = 0;
  // A comment line (": keep-alive") to keep proxies from closing an idle stream.
  virtual bool heartbeat() = 0;
  virtual bool closed() const = 0;
  virtual void close() = 0;
};

class Handler {
 public:
  virtual ~Handler() = default;
  using Respond = std::function<void(HttpResponse)>;
  // Called on an I/O thread for every request except SSE ones. Must eventually call respond
  // exactly once (from any thread).
  virtual void handle(HttpRequest request, Respond respond) = 0;
  // Whether this request opens an event stream (e.g. GET .../stream with Accept:
  // text/event-stream). If so, the server sends the SSE response head (200,
  // text/event-stream, no-cache) and calls open_stream instead of handle. If the handler wants
  // to refuse the stream (bad key), it returns a response instead of accepting.
  struct StreamDecision {
    bool accept = false;
    HttpResponse refusal;  // used when !accept
  };
  virtual bool wants_stream(const HttpRequest& request) const = 0;
  virtual StreamDecision open_stream(const HttpRequest& request,
                                     std::shared_ptr<EventStream> stream) = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = pick a free port (tests)
  int io_threads = kDefaultIoThreads;
  size_t max_body_bytes = kDefaultMaxBodyBytes;
  // A connection is closed when it stays this long without a new request, or when reading one
  // request or writing one answer takes longer than this. Event streams are exempt while idle
  // (their writes still have the deadline). Tests lower it; production keeps the default.
  int idle_timeout_seconds = kIdleTimeoutSeconds;
};

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> Start(const ServerOptions& options,
                                                   std::shared_ptr<Handler> handler);
  virtual ~HttpServer() = default;
  virtual uint16_t port() const = 0;  // the bound port (useful with port 0)
  // Stops accepting, lets in-flight requests finish (waits up to `drain_ms`), closes streams
  // and connections, joins the I/O threads. Idempotent; the destructor calls it.
  // REQUIRES: not called from an I/O thread (i.e. not from inside a Handler callback).
  // A Respond callback or EventStream used after Stop is safe: the answer is dropped and
  // send() returns false.
  virtual void Stop(int drain_ms = kDefaultDrainMs) = 0;
  // Counters for /metrics.
  virtual uint64_t requests_total() const = 0;
  virtual uint64_t open_connections() const = 0;
};

// A minimal blocking HTTP/1.1 client for tests, the CLI (`cbec submit`) and the load generator:
// one keep-alive connection, request/response at a time. If the server closed the idle
// connection, the next call reconnects (and resends once when a reused connection turns out
// to be dead before any response byte arrived). Not thread-safe: one client per thread.
// Response header names are lower-cased in HttpResponse::headers.
class HttpClient {
 public:
  // timeout_ms bounds connect, each request and each response read (not Stream, which has
  // its own).
  static Result<std::unique_ptr<HttpClient>> Connect(const std::string& host, uint16_t port,
                                                     int timeout_ms = kDefaultClientTimeoutMs);
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> Request(
      const std::string& method, const std::string& target, const std::string& body = "",
      const std::vector<std::pair<std::string, std::string>>& headers = {}) = 0;
  // Opens an SSE stream and calls on_event(id, event, data) for each event until it returns
  // false, the server closes, or timeout_ms passes without an event. Returns the response
  // status line's code (200 when the stream was opened).
  virtual Result<int> Stream(const std::string& target,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             const std::function<bool(std::string_view id, std::string_view event,
                                                      std::string_view data)>& on_event,
                             int timeout_ms) = 0;
};

}  // namespace cbec::server
