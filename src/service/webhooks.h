// Push of receipts to enterprises' webhooks, so a client that is down loses nothing.
//
// The configuration lives in the Service (a logged command, see service.h); this file does the
// delivery. For every enterprise with a webhook, a worker POSTs the next receipts of its feed
// after a delivery cursor, oldest first, as {"receipts":[...]} (the feed's receipt JSON, each with
// "no"), at most kWebhookBatchReceipts per request, with
//   X-Cbec-Delivery: <first no>-<last no>
//   X-Cbec-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>   (if a secret is set)
// A 2xx answer advances the cursor, which is persisted in the store under "w/<code>" after the
// answer: a restart resumes there. Delivery is at least once: after a crash between the answer
// and the cursor write the same numbers come again, with the same bytes (receipts never change),
// and receivers dedupe by "no". Anything else (no connection, timeout, non-2xx) is retried with
// exponential backoff and never skipped, so order is kept; after the maximum number of attempts
// the batch is written to the dead-letter list ("d/<code>/<first no>") and delivery goes on. The
// enterprise can ask for its dead letters to be delivered again.
//
// Threads: a small pool; each enterprise is served by at most one worker at a time (that keeps
// its order), and several enterprises proceed in parallel, so a slow receiver holds one worker
// for at most the client timeout per attempt.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "service/service.h"

namespace rocksdb {
class DB;
}
namespace cbec::server {
class HttpClient;
}

namespace cbec::service {

inline constexpr std::string_view kDeliveryHeader = "X-Cbec-Delivery";
inline constexpr std::string_view kSignatureHeader = "X-Cbec-Signature";  // "sha256=<hex>"

// Where a webhook URL points. Only http:// (there is no TLS client here).
struct WebhookUrl {
  std::string host;  // a name or IPv4 address, or an IPv6 address without the brackets
  uint16_t port = 80;
  std::string target;  // path and query, starting with '/'
};
// Accepts http://host[:port][/path[?query]]; refuses https, user info, fragments, spaces and
// control bytes, and URLs longer than kMaxWebhookUrlBytes.
Result<WebhookUrl> parse_webhook_url(std::string_view url);

// Lower-case hex HMAC-SHA256 of data under key (the signature header's value after "sha256=").
using ::cbec::hmac_sha256_hex;

// The wait after `failures` consecutive failures (≥ 1): first_ms, doubling, at most cap_ms.
int64_t webhook_backoff_ms(int failures, int first_ms, int cap_ms);

struct WebhookOptions {
  int backoff_first_ms = kWebhookBackoffFirstMs;
  int backoff_cap_ms = kWebhookBackoffCapMs;
  int max_attempts = kMaxDeliveryAttempts;
  int timeout_ms = kWebhookTimeoutMs;
  int workers = kWebhookWorkers;
};

class WebhookDispatcher {
 public:
  // service supplies the receipts (Service::Receipts); db holds cursors and dead letters.
  // last_receipt_no: every receipt up to it is already in the store.
  WebhookDispatcher(const Service* service, rocksdb::DB* db, WebhookOptions options,
                    uint64_t last_receipt_no);
  ~WebhookDispatcher();  // Stop()
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  void Start();
  // Wakes and joins the workers; an attempt in flight finishes first (bounded by the timeout).
  // Idempotent.
  void Stop();

  // A webhook was set (config) or removed (nullopt). The config has been validated.
  void Configure(const std::string& code, std::optional<WebhookConfig> config);
  // Receipts up to last_no are in the store.
  void OnReceiptsStored(uint64_t last_no);

  // Fills the delivery fields of `state` (cursor, attempts, errors, dead letters).
  Status FillState(const std::string& code, WebhookState* state) const;
  Result<uint64_t> RetryDeadLetters(const std::string& code);

 private:
  using Clock = std::chrono::steady_clock;
  struct Target;
  struct Job;
  struct Outcome;

  void WorkerLoop();
  Target* PickReady(Clock::time_point now, std::optional<Clock::time_point>* wake);
  Outcome Attempt(Target& t, const Job& job);
  void Finish(Target& t, const Job& job, const Outcome& o);
  Status Post(Target& t, const Job& job, const std::vector<StoredReceipt>& batch);
  std::optional<DeadLetter> NextDeadLetter(const std::string& code, uint64_t after) const;

  const Service* service_;
  rocksdb::DB* db_;
  const WebhookOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::unique_ptr<Target>> targets_;  // unique_ptr: stable while busy
  uint64_t stored_no_ = 0;                                  // receipts up to here are in the store
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace cbec::service
