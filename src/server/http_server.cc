// HttpServer on Boost.Beast: the only translation unit of the server that includes Beast.
//
// Shape (after Beast's advanced_server example): one io_context run by `io_threads` threads; an
// acceptor on its own strand; one Session per connection whose socket lives on its own strand,
// so every member of a Session below is touched only on that strand unless marked otherwise.
//
// Lifetimes. A Session is owned by the handlers of its pending operations and by the Respond
// callback of a request the Handler has not answered yet; it owns a shared_ptr to the Core (the
// io_context, acceptor and counters), so the io_context outlives every socket even when a
// Respond callback is kept after the HttpServer is gone. Everything posted onto the io_context
// from outside goes through Core::Post, which refuses once Stop has joined the threads, so no
// handler is ever stranded in a queue nobody runs (that would leak the Session and the Core).
// An EventStream holds only a weak_ptr to its Session: a handler that keeps a dead stream keeps
// nothing else alive.
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/thread_name.h"
#include "fmt/format.h"
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

// After an answer that ends the connection, how long we keep reading (and discarding) what the
// client still sends, so that closing does not reset the connection before the client has read
// the answer (the lingering close of RFC 7230 §6.6).
constexpr auto kLingerTime = std::chrono::seconds(2);
// Back-off after accept fails for lack of resources (EMFILE), instead of spinning.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
constexpr size_t kDiscardBufferBytes = 4096;
// Beast reads at most what the read buffer has room for, and never more than 64 KiB. The parser
// moves body bytes out of the buffer as they come, so the buffer never grows by itself: left at
// its first size it reads a 200 KB message about a kilobyte per recvmsg (214 calls per
// 100-record message, measured). Room for a large body is made when its header arrives and
// given back once its answer is written, so an idle connection holds little.
constexpr size_t kReadChunkBytes = 64 * 1024;
constexpr size_t kIdleReadBufferBytes = 8 * 1024;
constexpr int kMaxIoThreads = 256;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

class Session;
struct Core;

// The Core of the server the current thread runs for (set on I/O threads only), so that Stop
// can refuse to be called from a handler, where joining would deadlock.
thread_local const Core* t_io_core = nullptr;

struct Core : std::enable_shared_from_this<Core> {
  Core(const ServerOptions& opts, std::shared_ptr<Handler> h)
      : options(opts),
        handler(std::move(h)),
        work(net::make_work_guard(ioc)),
        accept_strand(net::make_strand(ioc)),
        acceptor(accept_strand),
        accept_retry(accept_strand) {}

  // Queues f on ex unless the server has finished stopping. Returns whether it was queued.
  template <class Executor, class F>
  bool Post(const Executor& ex, F&& f) {
    std::lock_guard lock(mu);
    if (!post_gate_open) return false;
    net::post(ex, std::forward<F>(f));
    return true;
  }

  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);

  void BeginInFlight() {
    std::lock_guard lock(mu);
    ++in_flight;
  }
  void EndInFlight() {
    std::lock_guard lock(mu);
    CBEC_ASSERT(in_flight > 0);
    if (--in_flight == 0) drained.notify_all();
  }

  // Declared first: destroyed last, after every I/O object below that refers to it.
  net::io_context ioc;
  const ServerOptions options;
  // Reset after the I/O threads are joined (the only threads that call it), which breaks the
  // cycle handler -> kept Respond -> Session -> Core -> handler.
  std::shared_ptr<Handler> handler;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  net::strand<net::io_context::executor_type> accept_strand;
  tcp::acceptor acceptor;  // on accept_strand
  net::steady_timer accept_retry;

  std::atomic<uint64_t> requests_total{0};
  std::atomic<uint64_t> open_connections{0};
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::condition_variable drained;
  bool post_gate_open = true;  // guarded by mu
  uint64_t in_flight = 0;      // guarded by mu: requests handed to the handler, not yet written
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // guarded by mu
};

// The EventStream a handler keeps. Its queue is the only state shared between the handler's
// threads and the Session's strand; mu_ guards it.
class SseStream final : public EventStream {
 public:
  explicit SseStream(std::weak_ptr<Session> session) : session_(std::move(session)) {}

  bool send(std::string_view id, std::string_view event, std::string_view data) override {
    return Enqueue(internal::FormatSseEvent(id, event, data));
  }
  bool heartbeat() override { return Enqueue(": keep-alive\n\n"); }
  bool closed() const override {
    std::lock_guard lock(mu_);
    return closed_;
  }
  void close() override;

  // Session side (on its strand).
  // Moves every queued event into *payload. When nothing is queued, *finish says whether the
  // handler asked to end the stream; otherwise the stream goes idle until the next send().
  void Take(std::string* payload, bool* finish);
  // The connection is gone: refuse further events.
  void MarkClosed() {
    std::lock_guard lock(mu_);
    closed_ = true;
    queue_.clear();
  }

 private:
  bool Enqueue(std::string event);
  // Asks the Session to drain (or, after an overflow, to drop the connection). Returns whether
  // a drain was queued; if the Session or the server is gone, marks the stream closed.
  bool Wake(bool drop_connection);

  mutable std::mutex mu_;
  std::vector<std::string> queue_;  // guarded by mu_
  bool closed_ = false;             // guarded by mu_: send() returns false from now on
  bool close_requested_ = false;    // guarded by mu_: end the stream once the queue is written
  // guarded by mu_: a drain is queued or running on the strand, so send() need not post one.
  // True at first: the Session drains once the response head is written.
  bool drain_scheduled_ = true;
  const std::weak_ptr<Session> session_;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Core> core, tcp::socket socket)
      : core_(std::move(core)),
        remote_address_(RemoteAddress(socket)),
        stream_(std::move(socket)),
        strand_(stream_.get_executor()) {}

  ~Session() {
    // Only reached with no operation pending; if the connection was not closed on the strand
    // (e.g. the handler dropped its Respond unanswered), settle the books here.
    if (sse_) sse_->MarkClosed();
    ReleaseCounts();
    std::lock_guard lock(core_->mu);
    core_->sessions.erase(this);
  }

  // Called once on the acceptor's strand right after construction.
  void Start() {
    {
      std::lock_guard lock(core_->mu);
      if (core_->stopping.load()) return;  // Stop() has begun: drop the connection
      core_->sessions.emplace(this, weak_from_this());
    }
    core_->open_connections.fetch_add(1);
    counted_open_ = true;
    net::dispatch(strand_, [self = shared_from_this()] { self->DoRead(); });
  }

  // From Stop(): ends idle connections and streams now; busy ones close after their answer.
  void PostBeginShutdown() {
    core_->Post(strand_, [self = shared_from_this()] { self->BeginShutdown(); });
  }
  void PostClose() {
    core_->Post(strand_, [self = shared_from_this()] { self->CloseNow(); });
  }
  // From SseStream, any thread.
  bool PostDrain() {
    return core_->Post(strand_, [self = shared_from_this()] { self->DrainStream(); });
  }

 private:
  enum class State { kReading, kHandling, kWriting, kStreaming, kLingering, kClosed };

  static std::string RemoteAddress(const tcp::socket& socket) {
    beast::error_code ec;
    const tcp::endpoint ep = socket.remote_endpoint(ec);
    return ec ? std::string() : ep.address().to_string();
  }

  std::chrono::seconds IdleTimeout() const {
    return std::chrono::seconds(core_->options.idle_timeout_seconds);
  }

  void DoRead() {
    if (state_ == State::kClosed) return;
    if (core_->stopping.load()) return CloseNow();
    state_ = State::kReading;
    parser_.emplace();
    parser_->body_limit(core_->options.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
    stream_.expires_after(IdleTimeout());
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (state_ == State::kClosed) return;
    if (ec) return OnReadError(ec);
    if (parser_->is_done()) return Dispatch();
    if (auto length = parser_->content_length(); length && *length > buffer_.capacity())
      buffer_.reserve(static_cast<size_t>(std::min<uint64_t>(*length, kReadChunkBytes)));
    const auto& req = parser_->get();
    const auto expect = req[http::field::expect];
    if (req.version() >= 11 && internal::AsciiIEquals(Sv(expect), "100-continue")) {
      // The client waits for this before sending the body (curl does for large bodies).
      stream_.expires_after(IdleTimeout());
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (self->state_ == State::kClosed) return;
                         if (ec) return self->CloseNow();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(IdleTimeout());
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (state_ == State::kClosed) return;
    if (ec) return OnReadError(ec);
    Dispatch();
  }

  void OnReadError(beast::error_code ec) {
    // A parse error leaves the version unknown: answer in HTTP/1.1 and close.
    version_ = 11;
    keep_alive_ = false;
    is_head_ = false;
    if (ec == http::error::body_limit) {
      return WriteError(413, "{\"error\":\"body too large\",\"limit_bytes\":" +
                                 std::to_string(core_->options.max_body_bytes) + "}");
    }
    if (ec == http::error::header_limit) {
      return WriteError(431, "{\"error\":\"header too large\",\"limit_bytes\":" +
                                 std::to_string(kMaxHeaderBytes) + "}");
    }
    const bool http_error =
        ec.category() == http::make_error_code(http::error::bad_method).category();
    if (http_error && ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return WriteError(
          400, "{\"error\":\"bad request\",\"detail\":" + internal::JsonQuote(ec.message()) + "}");
    }
    // The client went away, timed out, or reset the connection: nobody to answer.
    CloseNow();
  }

  void WriteError(int status, std::string body) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    WriteResponse(std::move(response));
  }

  void Dispatch() {
    http::request<http::string_body> req = parser_->release();
    parser_.reset();
    core_->requests_total.fetch_add(1);
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    is_head_ = req.method() == http::verb::head;

    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    internal::SplitTarget(request.target, &request.path, &request.query);
    for (const auto& field : req) {
      request.headers.emplace_back(internal::AsciiLower(Sv(field.name_string())),
                                   std::string(field.value()));
    }
    request.body = std::move(req.body());
    request.remote_address = remote_address_;

    Handler* handler = core_->handler.get();
    if (handler == nullptr) return CloseNow();  // only while Stop finishes
    if (handler->wants_stream(request)) {
      auto stream = std::make_shared<SseStream>(weak_from_this());
      Handler::StreamDecision decision = handler->open_stream(request, stream);
      if (!decision.accept) {
        stream->MarkClosed();
        return WriteResponse(std::move(decision.refusal));
      }
      sse_ = std::move(stream);
      return WriteStreamHead();
    }

    state_ = State::kHandling;
    const uint64_t seq = ++request_seq_;
    in_flight_ = true;
    core_->BeginInFlight();
    // The callback may run on any thread, any number of times (a handler bug): only the first
    // answer to the current request is written, on the strand.
    handler->handle(std::move(request), [self = shared_from_this(), seq](HttpResponse response) {
      self->core_->Post(self->strand_, [self, seq, response = std::move(response)]() mutable {
        self->OnResponse(seq, std::move(response));
      });
    });
  }

  void OnResponse(uint64_t seq, HttpResponse response) {
    if (seq != request_seq_ || state_ != State::kHandling) return;  // late, repeated, or closed
    WriteResponse(std::move(response));
  }

  void WriteResponse(HttpResponse r) {
    state_ = State::kWriting;
    const bool close = !keep_alive_ || core_->stopping.load();
    int status = r.status;
    if (status < 200 || status > 599) status = 500;  // a handler bug; 1xx cannot end a request
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(status));
    response_.set(http::field::server, "cbec");
    const bool bodyless = status == 204 || status == 304;
    if (!r.content_type.empty() && !bodyless) {
      response_.set(http::field::content_type, r.content_type);
    }
    for (auto& [name, value] : r.headers) {
      // The framing headers are ours; a CR or LF would let a value forge headers.
      if (internal::AsciiIEquals(name, "content-length") ||
          internal::AsciiIEquals(name, "transfer-encoding") ||
          internal::AsciiIEquals(name, "connection") || internal::AsciiIEquals(name, "server") ||
          name.empty() || name.find_first_of("\r\n:") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        continue;
      }
      response_.insert(name, value);
    }
    if (bodyless) {
      // No body and no Content-Length (RFC 7230 §3.3.2).
    } else if (is_head_) {
      response_.content_length(r.body.size());
    } else {
      response_.body() = std::move(r.body);
      response_.content_length(response_.body().size());
    }
    response_.keep_alive(!close);
    stream_.expires_after(IdleTimeout());
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this(), close));
  }

  void OnWrite(bool close, beast::error_code ec, size_t) {
    FinishInFlight();
    if (state_ == State::kClosed) return;
    response_ = {};
    if (ec) return CloseNow();
    if (close) return Linger();
    if (buffer_.size() == 0 && buffer_.capacity() > kIdleReadBufferBytes) buffer_.shrink_to_fit();
    DoRead();
  }

  // Half-closes and discards what the client still sends until it closes too (or kLingerTime
  // passes), so a client still sending a refused body reads our answer instead of a reset.
  void Linger() {
    state_ = State::kLingering;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return CloseNow();
    stream_.expires_after(kLingerTime);
    DiscardUntilClosed();
  }

  void DiscardUntilClosed() {
    stream_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (self->state_ == State::kClosed) return;
                              if (ec) return self->CloseNow();
                              self->DiscardUntilClosed();
                            });
  }

  // --- Server-Sent Events ----------------------------------------------------------------

  void WriteStreamHead() {
    state_ = State::kWriting;
    // HTTP/1.0 has no chunked encoding: the body then runs until the connection closes.
    sse_chunked_ = version_ >= 11;
    sse_head_.emplace(http::status::ok, version_);
    sse_head_->set(http::field::server, "cbec");
    sse_head_->set(http::field::content_type, "text/event-stream");
    sse_head_->set(http::field::cache_control, "no-cache");
    sse_head_->set("X-Accel-Buffering", "no");  // tells nginx not to buffer the stream
    if (sse_chunked_) {
      sse_head_->set(http::field::connection, "keep-alive");
      sse_head_->chunked(true);
    } else {
      sse_head_->keep_alive(false);
    }
    sse_head_serializer_.emplace(*sse_head_);
    stream_.expires_after(IdleTimeout());
    http::async_write_header(stream_, *sse_head_serializer_,
                             beast::bind_front_handler(&Session::OnStreamHead, shared_from_this()));
  }

  void OnStreamHead(beast::error_code ec, size_t) {
    if (state_ == State::kClosed) return;
    if (ec) return CloseNow();
    state_ = State::kStreaming;
    WatchForDisconnect();  // before the first write, so that write alone gets a deadline
    DrainStream();
  }

  // Keeps a read pending for the stream's life: it ends with an error when the client goes
  // away, which is how a silent stream notices the disconnect. The read has no deadline (an
  // idle stream is fine); writes have one.
  void WatchForDisconnect() {
    stream_.expires_never();  // no write is pending here, so this resets the read deadline
    stream_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (self->state_ == State::kClosed) return;
                              if (ec) return self->CloseNow();
                              // A client has nothing to say on an event stream; ignore it.
                              self->WatchForDisconnect();
                            });
  }

  void DrainStream() {
    if (state_ != State::kStreaming || sse_writing_) return;
    std::string payload;
    bool finish = false;
    sse_->Take(&payload, &finish);
    if (payload.empty() && !finish) return;  // idle until the next send()
    if (payload.empty()) {
      // The handler closed the stream and everything it sent is written.
      if (!sse_chunked_) return CloseNow();
      sse_finishing_ = true;
      sse_out_.assign(kLastChunk);
    } else if (sse_chunked_) {
      char size_hex[32];
      const int n = std::snprintf(size_hex, sizeof size_hex, "%zx\r\n", payload.size());
      sse_out_.assign(size_hex, static_cast<size_t>(n));
      sse_out_ += payload;
      sse_out_ += "\r\n";
    } else {
      sse_out_ = std::move(payload);
    }
    sse_writing_ = true;
    // Only the write side gets a deadline (the disconnect watch keeps reading with none): a
    // client that stops reading for this long is dropped.
    stream_.expires_after(IdleTimeout());
    net::async_write(stream_, net::buffer(sse_out_),
                     beast::bind_front_handler(&Session::OnStreamWrite, shared_from_this()));
  }

  void OnStreamWrite(beast::error_code ec, size_t) {
    sse_writing_ = false;
    if (state_ == State::kClosed) return;
    if (ec || sse_finishing_) return CloseNow();
    DrainStream();
  }

  // --- Shutdown ------------------------------------------------------------------------------

  void BeginShutdown() {
    switch (state_) {
      case State::kReading:
        return CloseNow();  // idle keep-alive connection (or a request not yet complete)
      case State::kStreaming:
        sse_->close();  // final chunk after what is queued; then the connection closes
        return;
      case State::kHandling:
      case State::kWriting:
      case State::kLingering:
      case State::kClosed:
        return;  // the answer is written with Connection: close, then the connection closes
    }
  }

  void CloseNow() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    if (sse_) sse_->MarkClosed();
    ReleaseCounts();
  }

  void FinishInFlight() {
    if (!in_flight_) return;
    in_flight_ = false;
    core_->EndInFlight();
  }

  void ReleaseCounts() {
    FinishInFlight();
    if (counted_open_) {
      counted_open_ = false;
      core_->open_connections.fetch_sub(1);
    }
  }

  // Declared first: the Core (and its io_context) outlives the socket and timers below.
  const std::shared_ptr<Core> core_;
  const std::string remote_address_;
  beast::tcp_stream stream_;
  const net::any_io_executor strand_;  // the connection's strand (the stream's executor)
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  State state_ = State::kReading;
  uint64_t request_seq_ = 0;  // identifies the request a Respond callback answers
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool is_head_ = false;
  bool in_flight_ = false;     // counted in Core::in_flight
  bool counted_open_ = false;  // counted in Core::open_connections
  std::array<char, kDiscardBufferBytes> discard_;

  std::shared_ptr<SseStream> sse_;
  std::optional<http::response<http::empty_body>> sse_head_;
  std::optional<http::response_serializer<http::empty_body>> sse_head_serializer_;
  std::string sse_out_;  // the chunk being written
  bool sse_chunked_ = true;
  bool sse_writing_ = false;
  bool sse_finishing_ = false;  // the last chunk is being written
};

// --- SseStream --------------------------------------------------------------------------------

bool SseStream::Enqueue(std::string event) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    if (queue_.size() < kMaxQueuedEvents) {
      queue_.push_back(std::move(event));
      if (drain_scheduled_) return true;  // the queued or running drain takes this one too
      drain_scheduled_ = true;
      // Fall through to post the drain, outside the lock.
    } else {
      // The client reads slower than we produce: drop it rather than buffer without bound.
      closed_ = true;
      queue_.clear();
    }
  }
  if (closed()) {
    Wake(/*drop_connection=*/true);
    return false;
  }
  return Wake(/*drop_connection=*/false);
}

void SseStream::close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    close_requested_ = true;
    if (drain_scheduled_) return;  // the pending drain sees close_requested_
    drain_scheduled_ = true;
  }
  Wake(/*drop_connection=*/false);
}

bool SseStream::Wake(bool drop_connection) {
  const std::shared_ptr<Session> session = session_.lock();
  if (session && drop_connection) {
    session->PostClose();
    return false;
  }
  if (session && session->PostDrain()) return true;
  MarkClosed();  // the connection or the server is gone
  return false;
}

void SseStream::Take(std::string* payload, bool* finish) {
  std::lock_guard lock(mu_);
  *finish = false;
  if (!queue_.empty()) {
    size_t total = 0;
    for (const auto& e : queue_) total += e.size();
    payload->reserve(total);
    for (const auto& e : queue_) payload->append(e);
    queue_.clear();
    return;  // drain_scheduled_ stays set: the Session drains again after this write
  }
  if (close_requested_) {
    *finish = true;
    return;
  }
  drain_scheduled_ = false;
}

// --- Core -------------------------------------------------------------------------------------

void Core::DoAccept() {
  acceptor.async_accept(net::make_strand(ioc),
                        beast::bind_front_handler(&Core::OnAccept, shared_from_this()));
}

void Core::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping.load() || !acceptor.is_open()) return;
  if (ec) {
    accept_retry.expires_after(kAcceptRetryDelay);
    accept_retry.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec && !self->stopping.load()) self->DoAccept();
    });
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // small answers and events go out at once
  std::make_shared<Session>(shared_from_this(), std::move(socket))->Start();
  DoAccept();
}

// --- HttpServerImpl ---------------------------------------------------------------------------

class HttpServerImpl final : public HttpServer {
 public:
  HttpServerImpl(std::shared_ptr<Core> core, uint16_t port) : core_(std::move(core)), port_(port) {}
  ~HttpServerImpl() override { Stop(kDefaultDrainMs); }

  void Run(int io_threads) {
    threads_.reserve(static_cast<size_t>(io_threads));
    for (int i = 0; i < io_threads; ++i) {
      threads_.emplace_back([core = core_.get()] {
        t_io_core = core;
        core->ioc.run();
        t_io_core = nullptr;
      });
      name_thread(threads_.back(), fmt::format("cbec-io-{}", i));
    }
  }

  uint16_t port() const override { return port_; }
  uint64_t requests_total() const override { return core_->requests_total.load(); }
  uint64_t open_connections() const override { return core_->open_connections.load(); }

  void Stop(int drain_ms) override {
    CBEC_ASSERT(t_io_core != core_.get());  // joining our own thread would deadlock
    std::lock_guard stop_lock(stop_mu_);
    if (stopped_) return;
    stopped_ = true;
    Core& core = *core_;

    // 1. Stop accepting; end idle connections and streams; busy ones close after answering.
    std::vector<std::shared_ptr<Session>> sessions;
    {
      std::lock_guard lock(core.mu);
      core.stopping.store(true);
      sessions = LiveSessions();
    }
    net::post(core.accept_strand, [c = core_] {
      beast::error_code ec;
      c->acceptor.close(ec);
      c->accept_retry.cancel();
    });
    for (const auto& s : sessions) s->PostBeginShutdown();
    sessions.clear();  // a Session must not die while we hold core.mu below

    // 2. Wait for the answers in flight (the clearance writer answers after its fsync).
    {
      std::unique_lock lock(core.mu);
      core.drained.wait_for(lock, std::chrono::milliseconds(std::max(drain_ms, 0)),
                            [&] { return core.in_flight == 0; });
      sessions = LiveSessions();
    }

    // 3. Close whatever is left; with no work guard, run() returns once all handlers are done.
    for (const auto& s : sessions) s->PostClose();
    sessions.clear();
    core.work.reset();
    for (auto& t : threads_) t.join();
    threads_.clear();

    // 4. Nothing may be queued from now on; run what slipped in after run() returned (each
    // such handler only finds its connection closed), then let go of the handler.
    {
      std::lock_guard lock(core.mu);
      core.post_gate_open = false;
    }
    core.ioc.restart();
    core.ioc.poll();
    core.handler.reset();
  }

 private:
  // REQUIRES: core_->mu held.
  std::vector<std::shared_ptr<Session>> LiveSessions() {
    std::vector<std::shared_ptr<Session>> out;
    out.reserve(core_->sessions.size());
    for (const auto& [ptr, weak] : core_->sessions) {
      if (auto s = weak.lock()) out.push_back(std::move(s));
    }
    return out;
  }

  const std::shared_ptr<Core> core_;
  const uint16_t port_;
  std::vector<std::thread> threads_;
  std::mutex stop_mu_;
  bool stopped_ = false;  // guarded by stop_mu_
};

Status Unavailable(std::string message) {
  return Status(StatusCode::kUnavailable, std::move(message));
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options,
                                                      std::shared_ptr<Handler> handler) {
  if (handler == nullptr) return InvalidArgument("http server: no handler");
  if (options.io_threads < 1 || options.io_threads > kMaxIoThreads) {
    return InvalidArgument("http server: io_threads must be 1.." + std::to_string(kMaxIoThreads));
  }
  if (options.max_body_bytes == 0) return InvalidArgument("http server: max_body_bytes is 0");
  if (options.idle_timeout_seconds <= 0) {
    return InvalidArgument("http server: idle_timeout_seconds must be positive");
  }

  auto core = std::make_shared<Core>(options, std::move(handler));
  beast::error_code ec;
  const std::string where = options.host + ":" + std::to_string(options.port);
  tcp::endpoint endpoint;
  const net::ip::address address = net::ip::make_address(options.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, options.port);
  } else {
    tcp::resolver resolver(core->ioc);
    const auto results =
        resolver.resolve(options.host, std::to_string(options.port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return InvalidArgument("http server: cannot resolve " + where + ": " + ec.message());
    }
    endpoint = results.begin()->endpoint();
  }

  tcp::acceptor& acceptor = core->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); ec) {
    return Unavailable("http server: open " + where + ": " + ec.message());
  }
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec); ec) {
    return Unavailable("http server: reuse_address " + where + ": " + ec.message());
  }
  if (acceptor.bind(endpoint, ec); ec) {
    return Unavailable("http server: bind " + where + ": " + ec.message());
  }
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec) {
    return Unavailable("http server: listen " + where + ": " + ec.message());
  }
  const uint16_t port = acceptor.local_endpoint(ec).port();
  if (ec) return Unavailable("http server: local_endpoint: " + ec.message());

  net::post(core->accept_strand, [c = core] { c->DoAccept(); });
  auto server = std::make_unique<HttpServerImpl>(std::move(core), port);
  server->Run(options.io_threads);
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace cbec::server
