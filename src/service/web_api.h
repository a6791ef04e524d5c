// The routes of the hall and the statistics centre, and the pages that use them (issue #5).
//
//   pages     GET /board /pickup /my /dashboard (+ /assets/*), embedded from web/dist
//   board     GET /api/v1/board, GET /api/v1/board/stream (SSE)          public, masked only
//   counter   GET /api/v1/hall/pickup?code=, POST /api/v1/hall/pickup    hall key
//   consumer  GET /api/v1/public/order, GET /api/v1/public/quota          public, rate-limited
//   stats     GET /api/v1/stats, GET /api/v1/stats.csv                    regulator or enterprise
//
// Api (service/api.h) owns one WebApi and hands it every request first; authentication is
// Api's (the same keys), passed in as a function.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/http.h"
#include "service/service.h"

namespace cbec::service {

// Public endpoints: a token bucket per client address. A person checks an order a few times;
// a script walking order numbers is held to a crawl, and every miss looks the same.
inline constexpr double kPublicRatePerSecond = 1.0;
inline constexpr double kPublicRateBurst = 20.0;
inline constexpr size_t kBoardStreamPage = 500;  // events per stream per push round
inline constexpr int kBoardHeartbeatSeconds = 15;
inline constexpr size_t kMaxPublicFieldBytes = 64;  // order number, name, ID in a public query
inline constexpr TimeMs kStatsDefaultRangeMs = 24 * kMsPerHour;

struct WebCaller {
  std::string code;  // enterprise code; empty for the regulator
  bool regulator = false;
};
using Authenticator = std::function<std::optional<WebCaller>(const server::HttpRequest&)>;

struct WebOptions {
  double public_rate_per_second = kPublicRatePerSecond;
  double public_rate_burst = kPublicRateBurst;
};

class WebApi {
 public:
  WebApi(Service* service, Authenticator authenticate, WebOptions options = {});
  ~WebApi();
  WebApi(const WebApi&) = delete;
  WebApi& operator=(const WebApi&) = delete;

  // Answers the request and returns true if it is one of the routes above; false otherwise
  // (the caller routes it).
  bool handle(const server::HttpRequest& request, const server::Handler::Respond& respond);
  bool wants_stream(const server::HttpRequest& request) const;
  server::Handler::StreamDecision open_stream(const server::HttpRequest& request,
                                              std::shared_ptr<server::EventStream> stream);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Content type of a page or asset by its file name.
std::string_view web_content_type(std::string_view path);

}  // namespace cbec::service
