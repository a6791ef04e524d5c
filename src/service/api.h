// The HTTP API of cbec (the contract in api/openapi.json), on top of Service.
//
// Routes, authentication (per-enterprise API keys, stored as SHA-256 hashes in the command log;
// one regulator key from the configuration), isolation (an enterprise reads only its own
// documents and receipts; the regulator reads everything), rate limits, and the answers: CEB
// receipt XML or JSON, CEB900 for a malformed message (nothing of it is applied).
#pragma once

#include <memory>
#include <string>

#include "common/crypto.h"
#include "server/http.h"
#include "service/service.h"

namespace cbec::service {

// Per-enterprise rate limit: a token bucket of kRateBurst requests refilled at kRatePerSecond.
inline constexpr double kDefaultRatePerSecond = 2000.0;
inline constexpr double kDefaultRateBurst = 4000.0;
inline constexpr int kStreamHeartbeatSeconds = 15;
// How much of a malformed message CEB900 echoes back (oriBizMessage): enough to locate it.
inline constexpr size_t kMaxEchoedOriginalBytes = 4096;

struct ApiOptions {
  std::string regulator_key;  // plain key; empty = no regulator access over HTTP
  double rate_per_second = kDefaultRatePerSecond;
  double rate_burst = kDefaultRateBurst;
};

using ::cbec::sha256_hex;  // API keys are stored as their SHA-256 (common/crypto.h)

class Api : public server::Handler {
 public:
  Api(Service* service, ApiOptions options);
  ~Api() override;

  void handle(server::HttpRequest request, Respond respond) override;
  bool wants_stream(const server::HttpRequest& request) const override;
  StreamDecision open_stream(const server::HttpRequest& request,
                             std::shared_ptr<server::EventStream> stream) override;

  // Metrics from the HTTP server, included in /metrics when set.
  void set_server(const server::HttpServer* server) { server_ = server; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  const server::HttpServer* server_ = nullptr;
};

}  // namespace cbec::service
