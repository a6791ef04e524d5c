// The durable clearance service: command log + clearance core + receipt store.
//
// Public face of src/service/. Any thread submits commands; the log stage (one thread) takes
// every command that arrived while the previous batch was being made durable and appends them
// to the command log with one fdatasync (group commit); the apply stage (another thread) then
// applies each durable batch to the clearance core in log order, stores its receipts (RocksDB),
// and only then calls each submitter back. The two stages overlap: batch N is applied while
// batch N+1 syncs. So a receipt
// that says "accepted" is always backed by a durable command, and a crash at any moment loses
// nothing that was acknowledged: Open() loads the newest snapshot (service/snapshot.h), if any,
// and replays the log after it; without one it replays the whole log into a fresh core.
//
// Reads (queries, receipt feeds) may come from any thread: the core is read under a shared lock
// that the writer takes exclusively while it applies a batch.
//
// Webhooks: an enterprise may have its receipts pushed to an http:// URL. The configuration is a
// logged command (kSetWebhook) that the Service applies to its own table (rebuilt on replay);
// delivery (service/webhooks.h) runs on its own threads and keeps its cursors in the store.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "clearance/clearance.h"
#include "clearance/supervision.h"
#include "log/log.h"
#include "service/board.h"
#include "service/command_codec.h"
#include "service/rocks_archive.h"
#include "service/snapshot.h"
#include "service/stats.h"
#include "service/storage.h"

namespace rocksdb {
class Cache;
class DB;
}

namespace cbec::service {

inline constexpr size_t kMaxBatchCommands = 4096;  // == cmdlog::kMaxBatchRecords
// Batches waiting for each of the apply and store stages: one being worked on while the next
// syncs (or applies) is the point; more would only add latency.
inline constexpr size_t kMaxBatchesInFlight = 2;
inline constexpr size_t kMaxQueuedCommands = 100000;  // beyond this, Submit answers kUnavailable
// Moves the core's time on when no other command comes: waiting lists expire and idle entries
// are archived even in a quiet hour (with traffic, every command archives what became idle).
inline constexpr TimeMs kTickIntervalMs = 5 * kMsPerSecond;
inline constexpr int kMaxReceiptPage = 1000;
inline constexpr size_t kMaxDrawsPerList = 100;
static_assert(kMaxBatchCommands <= cmdlog::kMaxBatchRecords);

// Webhook delivery. A failed batch is retried after kWebhookBackoffFirstMs, doubling each time up
// to kWebhookBackoffCapMs; after kMaxDeliveryAttempts consecutive failures it goes to the
// enterprise's dead-letter list and delivery moves on.
inline constexpr int kWebhookBackoffFirstMs = 200;
inline constexpr int kWebhookBackoffFactor = 2;
inline constexpr int kWebhookBackoffCapMs = 30 * 1000;
inline constexpr int kMaxDeliveryAttempts = 12;
// Connect, send and answer each within this: a hanging receiver holds one worker this long.
inline constexpr int kWebhookTimeoutMs = 5000;
inline constexpr int kWebhookBatchReceipts = 100;  // receipts per POST
inline constexpr int kWebhookWorkers = 4;  // enterprises delivered to in parallel
inline constexpr size_t kMaxDeadLettersListed = 100;  // per status answer
inline constexpr size_t kMaxWebhookUrlBytes = 2048;
inline constexpr size_t kMaxWebhookSecretBytes = 256;
static_assert(kWebhookBackoffFirstMs > 0 && kWebhookBackoffFirstMs <= kWebhookBackoffCapMs);
static_assert(kWebhookBatchReceipts <= kMaxReceiptPage);

struct ServiceOptions {
  std::string data_dir;  // log/ and state/ below it
  std::shared_ptr<const ref::ReferenceData> reference;  // REQUIRED
  clearance::LaneSelector lanes;
  cmdlog::Env* env = nullptr;  // tests inject faults; nullptr = POSIX
  bool sync = true;            // false only for benchmarks that say so
  bool ticks = true;           // the writer logs a Tick every kTickIntervalMs
  // Wall clock for log time (ms since epoch); tests may fix it.
  std::function<TimeMs()> clock;
  // Random-draw seeds (DOMAIN.md §8): the writer logs the seed of today and of tomorrow (Beijing)
  // before any other command of a batch needs it, so each seed's hash is published a day ahead.
  // draw_seed makes the kDrawSeedBytes bytes (empty = OpenSSL's CSPRNG; tests fix it). With
  // draw_seeds false no seed is logged and no list is drawn (tests that want every list green).
  bool draw_seeds = true;
  std::function<std::string(CivilDate)> draw_seed;
  // Webhook delivery; tests shrink the backoff so that failures play out in milliseconds.
  int webhook_backoff_first_ms = kWebhookBackoffFirstMs;
  int webhook_backoff_cap_ms = kWebhookBackoffCapMs;
  int webhook_max_attempts = kMaxDeliveryAttempts;
  int webhook_timeout_ms = kWebhookTimeoutMs;
  int webhook_workers = kWebhookWorkers;
  BoardOptions board;  // the O2O hall board's bounds (service/board.h)
  // The core's archive (issue #3): lists it no longer works with, and their documents, move to
  // data_dir/archive after this much log time without a command touching them, so memory holds
  // the lists in work and the recent ones. false keeps everything in memory (tests that want it).
  bool archive = true;
  TimeMs archive_after_ms = clearance::kDefaultArchiveAfterMs;
  // The block cache the receipt store and the archive share, their index and filter blocks
  // included (service/storage.h): with the memtables, the bound on what RocksDB holds.
  size_t storage_cache_bytes = kDefaultStorageCacheBytes;
  // Snapshots (service/snapshot.h; need the archive): one every this much log time, taken by
  // the apply stage between batches, and one at graceful shutdown. 0 = none (every start
  // replays the whole log).
  TimeMs snapshot_interval_ms = kDefaultSnapshotIntervalMs;
  bool snapshot_on_shutdown = true;  // tests turn it off to leave a log tail, as a crash does
};

// What start-up did and the snapshots since, for the log line and /metrics.
struct SnapshotStats {
  uint64_t restored_seq = 0;     // the snapshot Open started from (0 = replayed the whole log)
  uint64_t replayed = 0;         // log records Open replayed after it
  std::string skipped;           // why a newer snapshot was not used ("" = none skipped)
  std::atomic<uint64_t> written{0};
  std::atomic<uint64_t> last_seq{0};       // of the newest snapshot written or loaded
  std::atomic<uint64_t> last_write_ms{0};  // how long the newest one took to write
  std::atomic<uint64_t> last_bytes{0};     // its state.bin
  std::atomic<uint64_t> failed{0};         // snapshots that could not be written
};

// An enterprise's webhook as configured through the log.
struct WebhookConfig {
  std::string url;     // http://host[:port]/path
  std::string secret;  // "" = unsigned
  // The feed position when the webhook was created: receipts after it are pushed (earlier ones
  // are in GET /receipts). Changing the url or secret keeps it; removing and re-adding resets it.
  uint64_t since = 0;
};

// A batch that failed kMaxDeliveryAttempts times; its receipts are numbers first..last of the
// enterprise's feed (count of them).
struct DeadLetter {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t count = 0;
  int attempts = 0;
  std::string error;
};
// {"first","last","count","attempts","error"}: as stored and as GET /api/v1/webhooks shows it.
std::string dead_letter_json(const DeadLetter& d);


// What GET /api/v1/webhooks shows.
struct WebhookState {
  std::string code;
  bool configured = false;
  std::string url;
  bool has_secret = false;  // the secret itself is never shown
  uint64_t since = 0;
  uint64_t cursor = 0;  // every receipt of the enterprise up to here is delivered or dead
  int attempts = 0;     // consecutive failures of the batch in hand
  std::string last_error;
  int64_t next_attempt_in_ms = 0;  // while backing off
  bool retrying_dead_letters = false;
  uint64_t delivered = 0;  // receipts acknowledged since this process started
  uint64_t dead_letter_count = 0;
  std::vector<DeadLetter> dead_letters;  // oldest first, at most kMaxDeadLettersListed
};

class WebhookDispatcher;

// What one command did.
struct Applied {
  uint64_t seq = 0;
  TimeMs time = 0;
  Status status;  // non-OK: an administrative/officer command the core refused
  ceb::Receipts receipts;
  uint64_t first_receipt_no = 0;  // receipts[i] has number first_receipt_no + i
  std::vector<clearance::DrawRecord> draws;  // lane decisions, stored for the audit
  // receipt_json(receipts[i], first_receipt_no + i), as StoreReceipts stored it (empty before
  // that, and for commands a recovery found already in the store).
  std::vector<std::string> receipts_json;
};

// A stored receipt with its feed cursor.
struct StoredReceipt {
  uint64_t no = 0;
  std::string json;  // {"no":..,"receiver":..,"message":"CEB622Message", fields..., "findings":[..]}
};

struct ServiceStats {
  std::atomic<uint64_t> commands{0};
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> receipts{0};
  std::atomic<uint64_t> queue_depth{0};
  std::atomic<uint64_t> documents_by_type[ceb::kMessageTypeCount] = {};
  std::atomic<uint64_t> lists_released{0};
  std::atomic<uint64_t> lists_rejected{0};
};

class Service {
 public:
  // Opens data_dir (creating it), recovers the log, replays it into a fresh core, brings the
  // receipt store up to date, and starts the writer thread.
  static Result<std::unique_ptr<Service>> Open(ServiceOptions options);
  // Stops taking commands, finishes every queued one (graceful drain), stops the writer.
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  using Done = std::function<void(Result<Applied>)>;
  // Thread-safe. done runs on the writer thread once the command is durable and applied, or with
  // kUnavailable if intake is stopped (a failed fsync poisons the log; shutting down; queue full).
  void Submit(EncodedCommand command, Done done);
  // Convenience for tests and the CLI: submits and waits.
  Result<Applied> SubmitAndWait(EncodedCommand command);

  // Reads the core under the shared lock.
  template <class F>
  auto Read(F&& f) const {
    std::shared_lock lock(engine_mu_);
    return f(*engine_);
  }
  // Receipts delivered to `receiver` ("" = all, for regulators) with number > after, oldest
  // first, at most limit (≤ kMaxReceiptPage).
  Result<std::vector<StoredReceipt>> Receipts(const std::string& receiver, uint64_t after,
                                              int limit) const;
  // Blocks until a receipt numbered > after is in the store (readable through Receipts) or
  // timeout; returns the latest stored number. (last_receipt_no() counts receipts as soon as
  // they are applied, which is before they are stored.)
  uint64_t WaitForReceiptsAfter(uint64_t after, int timeout_ms) const;
  uint64_t last_receipt_no() const { return last_receipt_no_.load(); }

  // The webhook of an enterprise as configured (nullopt if none).
  std::optional<WebhookConfig> webhook(const std::string& code) const;
  // Configuration and delivery state of an enterprise's webhook (also when it has none: it may
  // still have dead letters).
  Result<WebhookState> WebhookStatus(const std::string& code) const;
  // Delivers the enterprise's dead letters again, oldest first, before newer receipts; each
  // that fails kMaxDeliveryAttempts times again stays dead. Returns how many are queued.
  // kFailedPrecondition if the enterprise has no webhook.
  Result<uint64_t> RetryDeadLetters(const std::string& code);

  // The enterprise owning an API key (by its SHA-256 hex), "" if none.
  std::string EnterpriseForKey(const std::string& key_sha256) const;
  // The officer owning an API key, "" if none.
  std::string OfficerForKey(const std::string& key_sha256) const;

  // The lane decisions of a Beijing day in decision order ("" = every enterprise, else those
  // whose grade set the rate), at most limit after the decision numbered `after` (seq-ordered).
  Result<std::vector<clearance::DrawRecord>> Draws(CivilDate day, const std::string& enterprise,
                                                   uint64_t after_seq, int limit) const;
  // The lane decisions of one list, oldest first (more than one if it was modified and drawn
  // again), at most kMaxDrawsPerList.
  Result<std::vector<clearance::DrawRecord>> DrawsOfList(const std::string& invtNo) const;

  Status health() const;  // kUnavailable with the reason once intake stopped
  const SnapshotStats& snapshots() const { return snapshot_stats_; }
  // Size of the core's archive on disk and in its memtables (0 without one).
  uint64_t ArchiveBytes() const { return archive_ ? archive_->approximate_bytes() : 0; }
  // What RocksDB holds in memory for the receipt store and the archive.
  StorageMemory StorageMemoryNow() const;
  // The clock that stamps log time (ServiceOptions::clock or the wall clock), for callers that
  // turn relative times ("expires in 24 hours") into the absolute times a command carries.
  TimeMs Now() const;
  const ServiceStats& stats() const { return stats_; }
  const cmdlog::LogStats& log_stats() const { return log_->stats(); }
  const cmdlog::RecoveryReport& log_recovery() const { return log_->recovery(); }
  uint64_t last_seq() const { return log_->last_seq(); }

  // Projections the writer maintains after every applied command (rebuilt on replay): the O2O
  // hall board and the statistics centre. Both are safe to read from any thread.
  const Board& board() const { return *board_; }
  const StatsCentre& statistics() const { return *statistics_; }

  // Rebuilds a core from the log alone (for the replay-vs-live comparison): returns its
  // dump_state(). Runs on the calling thread; the live service keeps running.
  static Result<std::string> ReplayToDump(const std::string& data_dir,
                                          std::shared_ptr<const ref::ReferenceData> reference,
                                          clearance::LaneSelector lanes = {});
  // The lane decisions of one Beijing day as a replay of the log alone makes them (the audit's
  // independent check, cbec audit verify-draws). Reference data changes inside the log apply.
  static Result<std::vector<clearance::DrawRecord>> ReplayDraws(
      const std::string& data_dir, std::shared_ptr<const ref::ReferenceData> reference,
      CivilDate day);
  // Replays the log of data_dir into a fresh core, calling after_each after every command and
  // at_end once. Opens the log as the service does: run it on a stopped service or a copy.
  static Status ReplayLog(const std::string& data_dir,
                          std::shared_ptr<const ref::ReferenceData> reference,
                          clearance::LaneSelector lanes,
                          const std::function<void(clearance::Engine&)>& after_each,
                          const std::function<void(const clearance::Engine&)>& at_end);

 private:
  explicit Service(ServiceOptions options);
  // Loads the newest usable snapshot into a new core (or makes an empty core) and returns the
  // seq to replay from.
  Result<uint64_t> Restore();
  Status Recover(uint64_t from_seq);
  // The service's state as of the last applied command (REQUIRES: engine_mu_ held
  // exclusively; moves the core's tables to the archive), and its inverse on a new Service.
  std::string EncodeState(uint64_t seq);
  Status DecodeState(std::string_view bytes, uint64_t* seq);
  void ResetState();  // what DecodeState may have filled, back to a new Service's
  // Writes a snapshot as of the last applied command (apply stage, or after it stopped).
  Status WriteSnapshot();
  void WriterLoop();  // the log stage
  void ApplyLoop();   // the apply stage
  void StoreLoop();   // the store stage
  // Apply stage: waits until every batch it handed on is stored and answered.
  void WaitForStoreStage();
  // Takes the documents of a message out of c.body (the log has the command).
  void ApplyOne(EncodedCommand& c, uint64_t seq, TimeMs time, Applied* out);
  Status ApplyWebhook(const WebhookSetting& w);  // REQUIRES: engine_mu_ held exclusively
  // Writes the receipts and lane decisions of `applied` and the applied seq in one batch;
  // fills each Applied's receipts_json.
  Status StoreReceipts(const std::vector<Applied*>& applied, uint64_t last_seq);
  std::string MakeSeed(CivilDate day) const;

  ServiceOptions options_;
  std::unique_ptr<cmdlog::CommandLog> log_;
  std::shared_ptr<rocksdb::Cache> storage_cache_;  // shared by db_ and archive_
  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<RocksArchive> archive_;  // before engine_: the engine uses it until destroyed
  std::unique_ptr<clearance::Engine> engine_;
  mutable std::shared_mutex engine_mu_;

  struct Pending {
    EncodedCommand command;
    Done done;
  };
  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread writer_;
  // Pipeline of three threads: the log stage syncs batch N+2 while the apply stage applies
  // batch N+1 and the store stage writes batch N's receipts to the store and answers it. At
  // most kMaxBatchesInFlight batches wait for each of the apply and the store stage. The
  // core is one thread's work; storing and answering are not the core's, so they run beside it.
  struct Durable {
    std::vector<Pending> batch;
    uint64_t seq0 = 0;
    TimeMs time = 0;
  };
  std::mutex apply_mu_;
  std::condition_variable apply_cv_;
  std::deque<Durable> apply_queue_;  // guarded by apply_mu_
  bool log_stage_done_ = false;      // guarded by apply_mu_
  std::thread applier_;
  struct AppliedBatch {
    std::vector<Pending> batch;
    std::vector<Applied> applied;  // applied[i] answers batch[i]
    uint64_t last_seq = 0;
    uint64_t last_receipt_no = 0;  // the last receipt of this batch (or before it)
  };
  std::mutex store_mu_;
  std::condition_variable store_cv_;
  std::deque<AppliedBatch> store_queue_;  // guarded by store_mu_
  size_t store_unfinished_ = 0;    // guarded by store_mu_: handed on, not yet stored and answered
  bool apply_stage_done_ = false;  // guarded by store_mu_
  std::thread storer_;

  mutable std::mutex webhooks_mu_;
  std::map<std::string, WebhookConfig> webhooks_;  // enterprise code -> webhook
  // Declared after db_ so that it is gone before the store closes (the destructor also stops it
  // explicitly, after the writer).
  std::unique_ptr<WebhookDispatcher> dispatcher_;

  mutable std::mutex keys_mu_;
  std::map<std::string, std::string> key_to_enterprise_;  // sha256 hex -> code
  std::map<std::string, std::string> key_to_officer_;     // sha256 hex -> officer id

  std::atomic<uint64_t> last_receipt_no_{0};
  mutable std::mutex receipt_mu_;
  mutable std::condition_variable receipt_cv_;
  uint64_t stored_receipt_no_ = 0;  // guarded by receipt_mu_: every receipt up to it is stored
  uint64_t applied_seq_in_store_ = 0;
  uint64_t applied_seq_ = 0;        // apply stage: the last command applied
  TimeMs last_snapshot_time_ = 0;   // apply stage: log time of the last snapshot (or start)
  std::string reference_payload_;   // the last LoadReference applied ("" = options.reference)
  SnapshotStats snapshot_stats_;
  TimeMs last_time_ = 0;
  TimeMs last_tick_ = 0;
  Status stopped_;  // why intake stopped (guarded by queue_mu_)
  std::set<CivilDate> seeds_logged_;  // log stage only: a refused seed is not retried
  ServiceStats stats_;
  // Pointers so that Restore can drop a snapshot that failed to load halfway.
  std::unique_ptr<Board> board_ = std::make_unique<Board>(options_.board);
  std::unique_ptr<StatsCentre> statistics_ = std::make_unique<StatsCentre>();
};

// Receipt JSON as stored and served: one object per receipt.
std::string receipt_json(const ceb::Receipt& r, uint64_t no);

}  // namespace cbec::service
