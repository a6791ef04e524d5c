#include "service/service.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <tuple>

#include "common/bytes.h"
#include "common/thread_name.h"
#include "fmt/format.h"
#include "openssl/rand.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/snapshot.h"
#include "rocksdb/write_batch.h"
#include "service/webhooks.h"

namespace cbec::service {

namespace {

constexpr std::string_view kMetaAppliedSeq = "m/applied_seq";
constexpr size_t kReplayStoreBatch = 2000;  // records per RocksDB write during recovery
std::string pad20(uint64_t n) { return fmt::format("{:020d}", n); }
// Lane decisions for the audit, by Beijing day in decision order.
std::string draw_key(CivilDate day, uint64_t seq, std::string_view invtNo) {
  return fmt::format("d/{}/{}/{}", format_date8(day), pad20(seq), invtNo);
}
// The same decisions by list (a list modified after a decision is drawn again).
std::string draw_by_list_key(std::string_view invtNo, uint64_t seq) {
  return fmt::format("di/{}/{}", invtNo, pad20(seq));
}

Status from_rocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  return Status(StatusCode::kUnavailable, fmt::format("{}: {}", what, s.ToString()));
}

constexpr size_t kReceiptJsonBytes = 2048;

}  // namespace

std::string receipt_json(const ceb::Receipt& r, uint64_t no) {
  // Room for a receipt with a few findings at once: growing from rapidjson's 256 bytes was 4 %
  // of the receipt store's thread.
  rapidjson::StringBuffer buf(nullptr, kReceiptJsonBytes);
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto s = [&](const char* k, std::string_view v) {
    if (v.empty()) return;
    w.Key(k);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  w.Key("no");
  w.Uint64(no);
  s("receiver", r.receiver);
  s("message", ceb::receipt_root_name(r.answers));
  s("guid", r.guid);
  s("customsCode", r.customsCode);
  s("ebpCode", r.ebpCode);
  s("ebcCode", r.ebcCode);
  s("agentCode", r.agentCode);
  s("orderNo", r.orderNo);
  s("payCode", r.payCode);
  s("payTransactionId", r.payTransactionId);
  s("logisticsCode", r.logisticsCode);
  s("logisticsNo", r.logisticsNo);
  s("logisticsStatus", r.logisticsStatus);
  s("copNo", r.copNo);
  s("preNo", r.preNo);
  s("invtNo", r.invtNo);
  s("operatorCode", r.operatorCode);
  s("rkdNo", r.rkdNo);
  w.Key("returnStatus");
  w.Int(r.returnStatus);
  std::string t = format_return_time(r.returnTime);
  s("returnTime", t);
  s("returnInfo", r.returnInfo);
  w.Key("findings");
  w.StartArray();
  for (const auto& f : r.findings) {
    w.StartObject();
    s("rule", f.rule);
    s("field", f.field);
    s("zh", f.zh);
    s("en", f.en);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Service::Service(ServiceOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<Service>> Service::Open(ServiceOptions options) {
  if (!options.reference) return InvalidArgument("reference data is required");
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir + "/state", ec);
  if (ec) return Status(StatusCode::kUnavailable, "cannot create " + options.data_dir + ": " + ec.message());
  std::unique_ptr<Service> s(new Service(std::move(options)));
  cmdlog::LogOptions lo;
  lo.env = s->options_.env;
  lo.sync = s->options_.sync;
  TRY_ASSIGN(s->log_, cmdlog::CommandLog::Open(s->options_.data_dir + "/log", lo));

  s->storage_cache_ = NewStorageCache(s->options_.storage_cache_bytes);
  rocksdb::Options ro = ReceiptStoreOptions(s->storage_cache_);
  rocksdb::DB* db = nullptr;
  TRY(from_rocks(rocksdb::DB::Open(ro, s->options_.data_dir + "/state", &db), "open state store"));
  s->db_.reset(db);
  TRY_ASSIGN(uint64_t from_seq, s->Restore());
  TRY(s->Recover(from_seq));
  // Clamped so that a zero from a careless caller cannot make a busy loop or a useless client.
  WebhookOptions wo;
  wo.backoff_first_ms = std::max(1, s->options_.webhook_backoff_first_ms);
  wo.backoff_cap_ms = std::max(wo.backoff_first_ms, s->options_.webhook_backoff_cap_ms);
  wo.max_attempts = std::max(1, s->options_.webhook_max_attempts);
  wo.timeout_ms = std::max(1, s->options_.webhook_timeout_ms);
  wo.workers = std::max(1, s->options_.webhook_workers);
  s->dispatcher_ =
      std::make_unique<WebhookDispatcher>(s.get(), s->db_.get(), wo, s->last_receipt_no_.load());
  {
    std::lock_guard lk(s->webhooks_mu_);
    for (const auto& [code, config] : s->webhooks_) s->dispatcher_->Configure(code, config);
  }
  s->dispatcher_->Start();
  // Days whose seed is already in the log get no new one.
  for (const auto& [day, seed] : s->engine_->supervision().seeds()) s->seeds_logged_.insert(day);
  s->last_snapshot_time_ = s->last_time_;
  s->storer_ = std::thread([p = s.get()] { p->StoreLoop(); });
  s->applier_ = std::thread([p = s.get()] { p->ApplyLoop(); });
  s->writer_ = std::thread([p = s.get()] { p->WriterLoop(); });
  name_thread(s->storer_, "cbec-store");
  name_thread(s->applier_, "cbec-apply");
  name_thread(s->writer_, "cbec-log");
  return s;
}

Service::~Service() {
  {
    std::lock_guard lk(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  // The log stage ends first, then the apply stage, then the store stage.
  if (writer_.joinable()) writer_.join();
  if (applier_.joinable()) applier_.join();
  if (storer_.joinable()) {
    storer_.join();
    // A snapshot of the drained state makes the next start quick. A failure is only counted:
    // the log has everything.
    if (archive_ && options_.snapshot_interval_ms > 0 && options_.snapshot_on_shutdown &&
        health().ok() &&
        applied_seq_ > snapshot_stats_.last_seq.load())
      (void)WriteSnapshot();
  }
  // After the writer (which configures and notifies it), before db_ closes.
  if (dispatcher_) dispatcher_->Stop();
  dispatcher_.reset();
}

TimeMs Service::Now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status Service::ApplyWebhook(const WebhookSetting& w) {
  // Every check here is deterministic, so replay reaches the same table.
  if (engine_->enterprise(w.code) == nullptr)
    return NotFound(fmt::format("enterprise {} is not registered", w.code));
  std::lock_guard lk(webhooks_mu_);
  if (w.url.empty()) {
    webhooks_.erase(w.code);
    if (dispatcher_) dispatcher_->Configure(w.code, std::nullopt);
    return Status::Ok();
  }
  TRY(parse_webhook_url(w.url).status());
  if (w.secret.size() > kMaxWebhookSecretBytes)
    return InvalidArgument(fmt::format("webhook secret: at most {} bytes", kMaxWebhookSecretBytes));
  auto it = webhooks_.find(w.code);
  WebhookConfig config{w.url, w.secret, it != webhooks_.end() ? it->second.since
                                                              : last_receipt_no_.load()};
  webhooks_[w.code] = config;
  if (dispatcher_) dispatcher_->Configure(w.code, std::move(config));
  return Status::Ok();
}

void Service::ApplyOne(EncodedCommand& c, uint64_t seq, TimeMs time, Applied* out) {
  out->seq = seq;
  out->time = time;
  applied_seq_ = seq;
  if (c.kind == CommandKind::kSetWebhook) {  // the Service's own command: the core never sees it
    out->status = ApplyWebhook(c.webhook);
    out->first_receipt_no = last_receipt_no_.load() + 1;
    stats_.commands++;
    return;
  }
  // A message's documents move into the core (their count and type stay readable); other
  // bodies are read again below, so they are lent.
  if (std::holds_alternative<clearance::SubmitMessage>(c.body))
    out->status = engine_->apply(seq, time, std::move(c.body), &out->receipts);
  else
    out->status = engine_->apply(seq, time, std::as_const(c.body), &out->receipts);
  // A snapshot records the reference data in force as the command that loaded it.
  if (out->status.ok() && c.kind == CommandKind::kLoadReference) reference_payload_ = c.payload;
  board_->Observe(*engine_, time, out->receipts);
  // A list resent unchanged is answered with the receipt already issued (a replay), which must
  // not count as another release or rejection in the metrics either.
  const ObservedCommand observed = observe_applied(*engine_, time, &out->receipts);
  const auto& replayed_lists = observed.replayed_lists;
  statistics_->Observe(*engine_, observed);
  out->first_receipt_no = last_receipt_no_.load() + 1;
  last_receipt_no_ += out->receipts.size();
  if (out->status.ok() && c.kind == CommandKind::kRegisterEnterprise && !c.api_key_sha256.empty()) {
    const auto& e = std::get<clearance::RegisterEnterprise>(c.body).enterprise;
    std::lock_guard lk(keys_mu_);
    for (auto it = key_to_enterprise_.begin(); it != key_to_enterprise_.end();) {
      it = it->second == e.code ? key_to_enterprise_.erase(it) : std::next(it);  // key rotation
    }
    key_to_enterprise_[c.api_key_sha256] = e.code;
  }
  if (out->status.ok() && c.kind == CommandKind::kRegisterOfficer && !c.api_key_sha256.empty()) {
    const auto& o = std::get<clearance::RegisterOfficer>(c.body);
    std::lock_guard lk(keys_mu_);
    std::erase_if(key_to_officer_, [&](const auto& kv) { return kv.second == o.officer_id; });
    key_to_officer_[c.api_key_sha256] = o.officer_id;
  }
  engine_->take_draws(&out->draws);
  stats_.commands++;
  if (const auto* m = std::get_if<clearance::SubmitMessage>(&c.body))
    stats_.documents_by_type[static_cast<int>(m->message.type)] += m->message.record_count();
  // A list resent twice in one message counts once (views into the receipts).
  std::set<std::tuple<std::string_view, std::string_view, int>> counted;
  for (const auto& r : out->receipts) {
    if (r.answers != ceb::MessageType::kCEB621) continue;
    if (r.returnStatus != ceb::status::kReleased && r.returnStatus != ceb::status::kRejected)
      continue;
    if (replayed_lists.count({r.agentCode, r.copNo}) != 0) continue;
    if (!counted.emplace(r.agentCode, r.copNo, r.returnStatus).second) continue;
    if (r.returnStatus == ceb::status::kReleased) stats_.lists_released++;
    if (r.returnStatus == ceb::status::kRejected) stats_.lists_rejected++;
  }
  stats_.receipts += out->receipts.size();
}

Status Service::StoreReceipts(const std::vector<Applied*>& applied, uint64_t last_seq) {
  rocksdb::WriteBatch batch;
  for (Applied* a : applied) {
    a->receipts_json.resize(a->receipts.size());
    for (size_t i = 0; i < a->receipts.size(); ++i) {
      uint64_t no = a->first_receipt_no + i;
      std::string& json = a->receipts_json[i];
      json = receipt_json(a->receipts[i], no);
      batch.Put(ReceiptKey(a->receipts[i].receiver, no), rocksdb::Slice());
      batch.Put(AllReceiptsKey(no), json);
    }
    for (const auto& d : a->draws) {
      std::string json = draw_record_json(d);
      batch.Put(draw_key(d.day, d.seq, d.invtNo), json);
      batch.Put(draw_by_list_key(d.invtNo, d.seq), json);
    }
  }
  batch.Put(std::string(kMetaAppliedSeq), pad20(last_seq));
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;  // the command log is the write-ahead log: replay rebuilds this store
  return from_rocks(db_->Write(wo, &batch), "state store write");
}

Result<uint64_t> Service::Restore() {
  std::string applied;
  rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), std::string(kMetaAppliedSeq), &applied);
  if (gs.ok()) applied_seq_in_store_ = std::stoull(applied);
  else if (!gs.IsNotFound()) return from_rocks(gs, "read state store");
  if (applied_seq_in_store_ > log_->last_seq()) {
    return Internal(fmt::format("state store is ahead of the log ({} > {}): wrong data directory?",
                                applied_seq_in_store_, log_->last_seq()));
  }
  clearance::EngineOptions eo{options_.reference, options_.lanes};
  eo.archive_after_ms = std::max<TimeMs>(0, options_.archive_after_ms);
  if (!options_.archive) {
    engine_ = std::make_unique<clearance::Engine>(std::move(eo));
    return uint64_t{0};
  }
  const std::string archive_dir = options_.data_dir + "/archive";
  for (const SnapshotDir& snap : ListSnapshots(options_.data_dir)) {
    std::string why;
    if (snap.seq > log_->last_seq()) {
      why = fmt::format("ahead of the log (last seq {})", log_->last_seq());
    } else if (snap.seq > applied_seq_in_store_) {
      why = fmt::format("ahead of the receipt store (seq {})", applied_seq_in_store_);
    } else if (log_->first_seq() > snap.seq + 1) {
      why = fmt::format("the log starts at seq {}", log_->first_seq());
    } else if (auto body = ReadSnapshotState(snap.path); !body.ok()) {
      why = std::string(body.status().message());
    } else if (body->size() < 8) {
      why = "state.bin holds no archive sequence";
    } else if (auto archive = RocksArchive::OpenFrom(archive_dir, snap.path + "/archive",
                                                               storage_cache_);
               !archive.ok()) {
      why = std::string(archive.status().message());
    } else {
      // state.bin starts with the archive's sequence number at the checkpoint: a copy that
      // opens but lacks files or writes is not this snapshot's archive.
      const uint64_t archive_seq = ByteReader(*body).be64();
      archive_ = std::move(*archive);
      Status d = archive_->latest_sequence() == archive_seq
                     ? Status::Ok()
                     : Internal(fmt::format("its archive is at sequence {}, the state at {}",
                                            archive_->latest_sequence(), archive_seq));
      uint64_t seq = 0;
      if (d.ok()) {
        eo.archive = archive_.get();
        engine_ = std::make_unique<clearance::Engine>(eo);
        d = DecodeState(std::string_view(*body).substr(8), &seq);
      }
      if (d.ok() && seq == snap.seq) {
        snapshot_stats_.restored_seq = seq;
        snapshot_stats_.last_seq = seq;
        return seq + 1;
      }
      // A snapshot of another format (an upgrade changed a bound or a version) or with a bad
      // archive: the log can rebuild everything, so go on to the older one or to a full replay.
      why = d.ok() ? "it names another seq" : std::string(d.message());
      ResetState();
      engine_.reset();
      archive_.reset();
    }
    if (snapshot_stats_.skipped.empty())
      snapshot_stats_.skipped = fmt::format("{}: {}", snap.path, why);
  }
  TRY_ASSIGN(archive_, RocksArchive::Open(archive_dir, storage_cache_));
  eo.archive = archive_.get();
  engine_ = std::make_unique<clearance::Engine>(std::move(eo));
  return uint64_t{0};
}

namespace {
constexpr uint8_t kServiceStateVersion = 1;
}  // namespace

void Service::ResetState() {
  board_ = std::make_unique<Board>(options_.board);
  statistics_ = std::make_unique<StatsCentre>();
  {
    std::lock_guard lk(webhooks_mu_);
    webhooks_.clear();
  }
  {
    std::lock_guard lk(keys_mu_);
    key_to_enterprise_.clear();
    key_to_officer_.clear();
  }
  last_receipt_no_ = 0;
  stats_.commands = 0;
  stats_.receipts = 0;
  stats_.lists_released = 0;
  stats_.lists_rejected = 0;
  for (auto& n : stats_.documents_by_type) n = 0;
  reference_payload_.clear();
  applied_seq_ = 0;
}

std::string Service::EncodeState(uint64_t seq) {
  std::string core;
  engine_->save_snapshot(&core);
  std::string out;
  out.reserve(core.size() + 4096);
  ByteWriter w(&out);
  w.u8(kServiceStateVersion);
  w.u64(seq);
  w.str(reference_payload_);
  w.str(core);
  {
    std::lock_guard lk(webhooks_mu_);
    w.u64(webhooks_.size());
    for (const auto& [code, c] : webhooks_) {
      w.str(code);
      w.str(c.url);
      w.str(c.secret);
      w.u64(c.since);
    }
  }
  {
    std::lock_guard lk(keys_mu_);
    for (const auto* keys : {&key_to_enterprise_, &key_to_officer_}) {
      w.u64(keys->size());
      for (const auto& [hash, owner] : *keys) w.str(hash), w.str(owner);
    }
  }
  w.u64(last_receipt_no_.load());
  w.u64(stats_.commands.load());
  w.u64(stats_.receipts.load());
  w.u64(stats_.lists_released.load());
  w.u64(stats_.lists_rejected.load());
  w.u64(ceb::kMessageTypeCount);
  for (const auto& n : stats_.documents_by_type) w.u64(n.load());
  board_->save_state(w);
  statistics_->save_state(w);
  return out;
}

Status Service::DecodeState(std::string_view bytes, uint64_t* seq) {
  ByteReader in(bytes);
  if (in.u8() != kServiceStateVersion) return Internal("unknown snapshot version");
  *seq = in.u64();
  std::string reference = in.str();
  if (!reference.empty()) {
    TRY_ASSIGN(EncodedCommand c, decode_command(static_cast<uint8_t>(CommandKind::kLoadReference),
                                                reference));
    // Not engine_->apply (that would count as a command): the reference data goes in with the
    // core's state below, which replaces everything else.
    clearance::EngineOptions eo{std::get<clearance::LoadReference>(c.body).data, options_.lanes};
    eo.archive = archive_.get();
    eo.archive_after_ms = std::max<TimeMs>(0, options_.archive_after_ms);
    engine_ = std::make_unique<clearance::Engine>(std::move(eo));
    reference_payload_ = std::move(reference);
  }
  std::string_view core = in.str_view();
  if (!in.ok()) return Internal("snapshot cut short");
  TRY(engine_->load_snapshot(core));
  {
    std::lock_guard lk(webhooks_mu_);
    for (uint64_t n = in.count(); n > 0 && in.ok(); --n) {
      std::string code = in.str();
      WebhookConfig c;
      in.str(&c.url);
      in.str(&c.secret);
      c.since = in.u64();
      webhooks_[std::move(code)] = std::move(c);
    }
  }
  {
    std::lock_guard lk(keys_mu_);
    for (auto* keys : {&key_to_enterprise_, &key_to_officer_}) {
      for (uint64_t n = in.count(); n > 0 && in.ok(); --n) {
        std::string hash = in.str();
        (*keys)[std::move(hash)] = in.str();
      }
    }
  }
  last_receipt_no_ = in.u64();
  stats_.commands = in.u64();
  stats_.receipts = in.u64();
  stats_.lists_released = in.u64();
  stats_.lists_rejected = in.u64();
  if (in.u64() != ceb::kMessageTypeCount) return Internal("snapshot: message types differ");
  for (auto& n : stats_.documents_by_type) n = in.u64();
  if (!in.ok() || !board_->load_state(in) || !statistics_->load_state(in) || !in.ok() ||
      !in.at_end())
    return Internal("snapshot of the service state does not decode");
  applied_seq_ = *seq;
  return Status::Ok();
}

Status Service::WriteSnapshot() {
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t seq = applied_seq_;
  std::string body;
  {
    std::unique_lock lk(engine_mu_);
    body = EncodeState(seq);
  }
  // From here the archive is not written until this returns (this is the apply stage, or it
  // has stopped), so its checkpoint matches `body`; readers may go on reading. state.bin
  // starts with the archive's sequence number, which a start checks its copy against.
  std::string state;
  ByteWriter(&state).be64(archive_->latest_sequence());
  state += body;
  // A snapshot must not be what fills the disk the log and the stores share.
  Status s = CheckFreeSpace(options_.data_dir, 2 * state.size() + 2 * kArchiveWriteBufferBytes);
  Result<std::string> tmp = s.ok() ? BeginSnapshot(options_.data_dir, seq) : Result<std::string>(s);
  if (!tmp.ok()) s = tmp.status();
  if (s.ok()) s = archive_->Checkpoint(*tmp + "/archive");
  if (s.ok()) s = WriteSnapshotState(*tmp, state);
  // The receipt store skips its WAL (the log is the WAL): flushed, it holds every receipt up
  // to seq, so that a start from this snapshot finds them without replaying their commands.
  if (s.ok()) s = from_rocks(db_->Flush(rocksdb::FlushOptions()), "flush the receipt store");
  if (s.ok()) s = CommitSnapshot(options_.data_dir, *tmp, seq);
  if (!s.ok()) {
    snapshot_stats_.failed++;
    if (tmp.ok()) {
      std::error_code ec;
      std::filesystem::remove_all(*tmp, ec);
    }
    return s;
  }
  snapshot_stats_.written++;
  snapshot_stats_.last_seq = seq;
  snapshot_stats_.last_bytes = state.size();
  snapshot_stats_.last_write_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  return Status::Ok();
}

Status Service::Recover(uint64_t from_seq) {
  last_time_ = log_->last_time_ms();
  if (log_->last_seq() == 0) return Status::Ok();
  std::vector<Applied> pending;
  pending.reserve(kReplayStoreBatch);
  auto flush = [&](uint64_t seq) -> Status {
    std::vector<Applied*> ptrs;
    for (auto& a : pending)
      if (a.seq > applied_seq_in_store_) ptrs.push_back(&a);
    Status s = ptrs.empty() ? Status::Ok() : StoreReceipts(ptrs, seq);
    pending.clear();
    return s;
  };
  std::unique_lock lock(engine_mu_);
  if (from_seq == 0) from_seq = log_->first_seq();
  Status s = log_->Replay(from_seq, [&](const cmdlog::RecordView& r) -> Status {
    ++snapshot_stats_.replayed;
    TRY_ASSIGN(EncodedCommand c, decode_command(r.kind, r.payload));
    pending.emplace_back();
    ApplyOne(c, r.seq, r.time_ms, &pending.back());
    if (c.kind == CommandKind::kTick) last_tick_ = r.time_ms;
    if (pending.size() >= kReplayStoreBatch) return flush(r.seq);
    return Status::Ok();
  });
  TRY(s);
  TRY(flush(log_->last_seq()));
  applied_seq_in_store_ = log_->last_seq();
  {
    std::lock_guard lk(receipt_mu_);
    stored_receipt_no_ = last_receipt_no_.load();
  }
  return Status::Ok();
}

void Service::Submit(EncodedCommand command, Done done) {
  std::unique_lock lk(queue_mu_);
  Status refuse;
  if (!stopped_.ok()) refuse = stopped_;
  else if (stopping_) refuse = Status(StatusCode::kUnavailable, "shutting down");
  else if (queue_.size() >= kMaxQueuedCommands)
    refuse = Status(StatusCode::kUnavailable, "intake queue full, retry");
  if (!refuse.ok()) {
    lk.unlock();
    done(refuse);
    return;
  }
  queue_.push_back(Pending{std::move(command), std::move(done)});
  stats_.queue_depth = queue_.size();
  lk.unlock();
  queue_cv_.notify_one();
}

Result<Applied> Service::SubmitAndWait(EncodedCommand command) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<Applied>> result;
  Submit(std::move(command), [&](Result<Applied> r) {
    std::lock_guard lk(mu);
    result.emplace(std::move(r));
    cv.notify_one();
  });
  std::unique_lock lk(mu);
  cv.wait(lk, [&] { return result.has_value(); });
  return std::move(*result);
}

// The log stage: takes what arrived, appends it with one fdatasync, hands it on (ApplyLoop).
void Service::WriterLoop() {
  std::vector<Pending> batch;
  std::vector<cmdlog::RecordView> views;
  batch.reserve(kMaxBatchCommands);
  for (;;) {
    batch.clear();
    {
      std::unique_lock lk(queue_mu_);
      queue_cv_.wait_for(lk, std::chrono::milliseconds(kTickIntervalMs / 4),
                         [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty() && stopping_) break;
      while (!queue_.empty() && batch.size() < kMaxBatchCommands - 1) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      stats_.queue_depth = queue_.size();
      if (!stopped_.ok()) {
        lk.unlock();
        for (auto& p : batch)
          if (p.done) p.done(stopped_);
        continue;
      }
    }
    TimeMs now = std::max(last_time_, Now());
    if (options_.draw_seeds) {
      // Seeds go first: a list of this batch may need today's. seeds_logged_ holds every day
      // the log has a seed for (filled from the core at start-up), so this stage never reads
      // the core, which the apply stage is changing.
      std::vector<Pending> seeds;
      for (int ahead = 0; ahead <= 1; ++ahead) {
        CivilDate day = civil_from_days(days_from_civil(beijing_date(now)) + ahead);
        if (seeds_logged_.count(day) != 0) continue;
        seeds.push_back(Pending{encode_admin(clearance::SetDrawSeed{day, MakeSeed(day)}), nullptr});
        seeds_logged_.insert(day);
      }
      if (!seeds.empty()) {
        batch.insert(batch.begin(), std::make_move_iterator(seeds.begin()),
                     std::make_move_iterator(seeds.end()));
      }
    }
    if (options_.ticks && now - last_tick_ >= kTickIntervalMs) {
      batch.push_back(Pending{encode_admin(clearance::Tick{}), nullptr});
      last_tick_ = now;
    }
    if (batch.empty()) continue;
    uint64_t seq0 = log_->last_seq() + 1;
    views.clear();
    for (size_t i = 0; i < batch.size(); ++i) {
      views.push_back(cmdlog::RecordView{seq0 + i, now, static_cast<uint8_t>(batch[i].command.kind),
                                         batch[i].command.payload});
    }
    Status s = log_->AppendDurable(views);
    if (!s.ok()) {
      {
        std::lock_guard lk(queue_mu_);
        stopped_ = Status(StatusCode::kUnavailable,
                          fmt::format("intake stopped: command log failed ({})", s.message()));
      }
      for (auto& p : batch)
        if (p.done) p.done(stopped_);
      continue;
    }
    last_time_ = now;
    // Durable: hand the batch to the apply stage and go on syncing the next one meanwhile.
    {
      std::unique_lock lk(apply_mu_);
      apply_cv_.wait(lk, [&] { return apply_queue_.size() < kMaxBatchesInFlight; });
      apply_queue_.push_back(Durable{std::move(batch), seq0, now});
    }
    apply_cv_.notify_all();
    batch = {};
    batch.reserve(kMaxBatchCommands);
  }
  {
    std::lock_guard lk(apply_mu_);
    log_stage_done_ = true;
  }
  apply_cv_.notify_all();
}

void Service::ApplyLoop() {
  for (;;) {
    Durable d;
    {
      std::unique_lock lk(apply_mu_);
      apply_cv_.wait(lk, [&] { return !apply_queue_.empty() || log_stage_done_; });
      if (apply_queue_.empty()) break;  // the log stage ended and everything is applied
      d = std::move(apply_queue_.front());
      apply_queue_.pop_front();
    }
    apply_cv_.notify_all();  // room for the log stage
    const size_t n = d.batch.size();
    AppliedBatch done{std::move(d.batch), std::vector<Applied>(n), d.seq0 + n - 1, 0};
    {
      std::unique_lock lk(engine_mu_);
      for (size_t i = 0; i < n; ++i)
        ApplyOne(done.batch[i].command, d.seq0 + i, d.time, &done.applied[i]);
    }
    done.last_receipt_no = last_receipt_no_.load();
    {
      std::unique_lock lk(store_mu_);
      store_cv_.wait(lk, [&] { return store_queue_.size() < kMaxBatchesInFlight; });
      store_queue_.push_back(std::move(done));
      ++store_unfinished_;
    }
    store_cv_.notify_all();
    // Between batches: a snapshot delays the next batch. It needs the receipts of everything
    // applied in the store, so it waits for the store stage first. A failure is counted and
    // tried again one interval later; the log has everything.
    if (last_snapshot_time_ == 0) last_snapshot_time_ = d.time;  // the log's first batch
    if (archive_ && options_.snapshot_interval_ms > 0 && health().ok() &&
        d.time - last_snapshot_time_ >= options_.snapshot_interval_ms) {
      last_snapshot_time_ = d.time;
      WaitForStoreStage();
      if (health().ok()) (void)WriteSnapshot();
    }
  }
  {
    std::lock_guard lk(store_mu_);
    apply_stage_done_ = true;
  }
  store_cv_.notify_all();
}

void Service::WaitForStoreStage() {
  std::unique_lock lk(store_mu_);
  store_cv_.wait(lk, [&] { return store_unfinished_ == 0; });
}

// The store stage: the receipts of an applied batch go to the store, then its senders are
// answered (an answer's receipts can be read back from the feed as soon as it arrives).
void Service::StoreLoop() {
  std::vector<Applied*> ptrs;
  for (;;) {
    AppliedBatch b;
    {
      std::unique_lock lk(store_mu_);
      store_cv_.wait(lk, [&] { return !store_queue_.empty() || apply_stage_done_; });
      if (store_queue_.empty()) break;  // the apply stage ended and everything is stored
      b = std::move(store_queue_.front());
      store_queue_.pop_front();
    }
    store_cv_.notify_all();  // room for the apply stage
    ptrs.clear();
    for (auto& a : b.applied) ptrs.push_back(&a);
    Status st = StoreReceipts(ptrs, b.last_seq);
    if (!st.ok()) {
      // The commands are durable in the log, so they are acknowledged; the store will be
      // rebuilt from the log at the next start. Stop intake so nobody reads a stale feed.
      std::lock_guard lk(queue_mu_);
      stopped_ = Status(StatusCode::kUnavailable,
                        fmt::format("intake stopped: state store failed ({})", st.message()));
    }
    if (st.ok()) dispatcher_->OnReceiptsStored(b.last_receipt_no);
    stats_.batches++;
    {
      std::lock_guard lk(receipt_mu_);  // pairs with WaitForReceiptsAfter's predicate check
      if (st.ok()) stored_receipt_no_ = b.last_receipt_no;
    }
    receipt_cv_.notify_all();
    for (size_t i = 0; i < b.batch.size(); ++i)
      if (b.batch[i].done) b.batch[i].done(std::move(b.applied[i]));
    {
      std::lock_guard lk(store_mu_);
      --store_unfinished_;
    }
    store_cv_.notify_all();
  }
}

Result<std::vector<StoredReceipt>> Service::Receipts(const std::string& receiver, uint64_t after,
                                                     int limit) const {
  limit = std::clamp(limit, 1, kMaxReceiptPage);
  std::string prefix = receiver.empty() ? "a/" : "r/" + receiver + "/";
  // One snapshot for the index and the receipts it names: a page is one point in time.
  rocksdb::ManagedSnapshot snapshot(db_.get());
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.snapshot();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  std::vector<StoredReceipt> out;
  std::vector<size_t> indexed;  // receiver keys without the JSON (see storage.h)
  for (it->Seek(prefix + pad20(after + 1)); it->Valid() && static_cast<int>(out.size()) < limit;
       it->Next()) {
    rocksdb::Slice k = it->key();
    if (!k.starts_with(prefix)) break;
    uint64_t no = std::stoull(k.ToString().substr(prefix.size()));
    out.push_back(StoredReceipt{no, it->value().ToString()});
    if (out.back().json.empty()) indexed.push_back(out.size() - 1);
  }
  TRY(from_rocks(it->status(), "read receipts"));
  if (indexed.empty()) return out;
  std::vector<std::string> keys;
  keys.reserve(indexed.size());
  for (size_t i : indexed) keys.push_back(AllReceiptsKey(out[i].no));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  std::vector<rocksdb::Status> got = db_->MultiGet(ro, slices, &values);
  for (size_t j = 0; j < indexed.size(); ++j) {
    // Both keys go in one write batch: an index entry without its receipt is damage.
    if (got[j].IsNotFound())
      return Internal(fmt::format("receipt store: {} has no receipt {}", receiver, keys[j]));
    TRY(from_rocks(got[j], "read receipts"));
    out[indexed[j]].json = std::move(values[j]);
  }
  return out;
}

uint64_t Service::WaitForReceiptsAfter(uint64_t after, int timeout_ms) const {
  std::unique_lock lk(receipt_mu_);
  receipt_cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms),
                       [&] { return stored_receipt_no_ > after; });
  return stored_receipt_no_;
}

std::optional<WebhookConfig> Service::webhook(const std::string& code) const {
  std::lock_guard lk(webhooks_mu_);
  auto it = webhooks_.find(code);
  if (it == webhooks_.end()) return std::nullopt;
  return it->second;
}

Result<WebhookState> Service::WebhookStatus(const std::string& code) const {
  WebhookState st;
  st.code = code;
  if (auto config = webhook(code)) {
    st.configured = true;
    st.url = config->url;
    st.has_secret = !config->secret.empty();
    st.since = config->since;
  }
  TRY(dispatcher_->FillState(code, &st));
  return st;
}

Result<uint64_t> Service::RetryDeadLetters(const std::string& code) {
  return dispatcher_->RetryDeadLetters(code);
}

std::string Service::MakeSeed(CivilDate day) const {
  if (options_.draw_seed) return options_.draw_seed(day);
  std::string seed(clearance::kDrawSeedBytes, '\0');
  CBEC_ASSERT(RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()),
                         static_cast<int>(seed.size())) == 1);
  return seed;
}

std::string Service::OfficerForKey(const std::string& key_sha256) const {
  std::lock_guard lk(keys_mu_);
  auto it = key_to_officer_.find(key_sha256);
  return it == key_to_officer_.end() ? std::string() : it->second;
}

Result<std::vector<clearance::DrawRecord>> Service::Draws(CivilDate day,
                                                          const std::string& enterprise,
                                                          uint64_t after_seq, int limit) const {
  limit = std::clamp(limit, 1, kMaxReceiptPage);
  std::string prefix = "d/" + format_date8(day) + "/";
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::vector<clearance::DrawRecord> out;
  for (it->Seek(prefix + pad20(after_seq + 1)); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    auto d = clearance::parse_draw_record_json(it->value().ToStringView());
    if (!d.ok()) return d.status();
    if (!enterprise.empty() && d->enterprise != enterprise) continue;
    out.push_back(std::move(*d));
    if (static_cast<int>(out.size()) >= limit) break;
  }
  TRY(from_rocks(it->status(), "read draws"));
  return out;
}

std::string Service::EnterpriseForKey(const std::string& key_sha256) const {
  std::lock_guard lk(keys_mu_);
  auto it = key_to_enterprise_.find(key_sha256);
  return it == key_to_enterprise_.end() ? "" : it->second;
}

Status Service::health() const {
  TRY(log_->health());
  std::lock_guard lk(queue_mu_);
  return stopped_;
}

StorageMemory Service::StorageMemoryNow() const {
  return MeasureStorageMemory(storage_cache_.get(),
                              {db_.get(), archive_ ? archive_->db() : nullptr});
}

namespace {
std::atomic<uint64_t> replay_serial{0};  // replays in one process get their own scratch archive
}  // namespace

Status Service::ReplayLog(const std::string& data_dir,
                          std::shared_ptr<const ref::ReferenceData> reference,
                          clearance::LaneSelector lanes,
                          const std::function<void(clearance::Engine&)>& after_each,
                          const std::function<void(const clearance::Engine&)>& at_end) {
  cmdlog::LogOptions lo;
  TRY_ASSIGN(auto log, cmdlog::CommandLog::Open(data_dir + "/log", lo));
  // A replay of a long log holds no more in memory than the live service: its own archive in a
  // scratch directory (the live service's archive may be in use, and is derived anyway).
  std::error_code ec;
  std::filesystem::path scratch = std::filesystem::temp_directory_path(ec) /
                                  fmt::format("cbec-replay-archive-{}-{}", getpid(),
                                              replay_serial.fetch_add(1));
  if (ec) return Status(StatusCode::kUnavailable, "no temporary directory: " + ec.message());
  TRY_ASSIGN(auto archive, RocksArchive::Open(scratch.string()));
  struct Cleanup {
    std::unique_ptr<RocksArchive>* archive;
    std::filesystem::path dir;
    ~Cleanup() {
      archive->reset();
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } cleanup{&archive, scratch};
  clearance::EngineOptions eo{std::move(reference), std::move(lanes)};
  eo.archive = archive.get();
  clearance::Engine engine(std::move(eo));
  ceb::Receipts receipts;
  if (log->last_seq() > 0) {
    TRY(log->Replay(log->first_seq(), [&](const cmdlog::RecordView& r) -> Status {
      TRY_ASSIGN(EncodedCommand c, decode_command(r.kind, r.payload));
      if (c.kind == CommandKind::kSetWebhook) return Status::Ok();  // not the core's
      receipts.clear();
      (void)engine.apply(r.seq, r.time_ms, c.body, &receipts);
      if (after_each) after_each(engine);
      return Status::Ok();
    }));
  }
  if (at_end) at_end(engine);
  return Status::Ok();
}

Result<std::string> Service::ReplayToDump(const std::string& data_dir,
                                          std::shared_ptr<const ref::ReferenceData> reference,
                                          clearance::LaneSelector lanes) {
  std::string dump;
  TRY(ReplayLog(
      data_dir, std::move(reference), std::move(lanes),
      [](clearance::Engine& e) { e.take_draws(nullptr); },
      [&](const clearance::Engine& e) { dump = e.dump_state(); }));
  return dump;
}

Result<std::vector<clearance::DrawRecord>> Service::DrawsOfList(const std::string& invtNo) const {
  std::string prefix = "di/" + invtNo + "/";
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::vector<clearance::DrawRecord> out;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto d = clearance::parse_draw_record_json(it->value().ToStringView());
    if (!d.ok()) return d.status();
    out.push_back(std::move(*d));
    if (out.size() >= kMaxDrawsPerList) break;
  }
  TRY(from_rocks(it->status(), "read draws"));
  return out;
}

Result<std::vector<clearance::DrawRecord>> Service::ReplayDraws(
    const std::string& data_dir, std::shared_ptr<const ref::ReferenceData> reference,
    CivilDate day) {
  std::vector<clearance::DrawRecord> out, batch;
  TRY(ReplayLog(data_dir, std::move(reference), {},
                [&](clearance::Engine& e) {
                  batch.clear();
                  e.take_draws(&batch);
                  for (auto& d : batch)
                    if (d.day == day) out.push_back(std::move(d));
                },
                {}));
  return out;
}

}  // namespace cbec::service
