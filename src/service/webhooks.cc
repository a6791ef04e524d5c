#include "service/webhooks.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

#include "common/thread_name.h"
#include "fmt/format.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "server/http.h"

namespace cbec::service {

namespace {

constexpr std::string_view kScheme = "http://";
constexpr std::string_view kTlsScheme = "https://";
constexpr size_t kMaxHostBytes = 253;  // the DNS limit on a name
constexpr uint16_t kDefaultHttpPort = 80;
constexpr uint32_t kMaxPort = 65535;
constexpr size_t kMaxErrorBodyBytes = 200;  // of a refusal's body, kept in last_error
constexpr int kHttpOkFirst = 200;
constexpr int kHttpOkLast = 299;

std::string pad20(uint64_t n) { return fmt::format("{:020d}", n); }
std::string cursor_key(std::string_view code) { return fmt::format("w/{}", code); }
std::string dead_prefix(std::string_view code) { return fmt::format("d/{}/", code); }
std::string dead_key(std::string_view code, uint64_t first) {
  return dead_prefix(code) + pad20(first);
}


std::optional<DeadLetter> parse_dead_letter(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  auto u64 = [&](const char* k) -> uint64_t {
    return d.HasMember(k) && d[k].IsUint64() ? d[k].GetUint64() : 0;
  };
  DeadLetter out;
  out.first = u64("first");
  out.last = u64("last");
  out.count = u64("count");
  out.attempts = d.HasMember("attempts") && d["attempts"].IsInt() ? d["attempts"].GetInt() : 0;
  if (d.HasMember("error") && d["error"].IsString())
    out.error.assign(d["error"].GetString(), d["error"].GetStringLength());
  if (out.first == 0 || out.last < out.first) return std::nullopt;
  return out;
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
}
bool is_ipv6_char(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
}

// A receiver's refusal body, cut and reduced to printable ASCII: it ends up in JSON answers.
std::string error_snippet(std::string_view body) {
  std::string out(body.substr(0, kMaxErrorBodyBytes));
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = '?';
  }
  return out;
}

Status bad_url(std::string_view why) {
  return InvalidArgument(fmt::format("webhook url: {}", why));
}

}  // namespace

std::string dead_letter_json(const DeadLetter& d) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("first");
  w.Uint64(d.first);
  w.Key("last");
  w.Uint64(d.last);
  w.Key("count");
  w.Uint64(d.count);
  w.Key("attempts");
  w.Int(d.attempts);
  w.Key("error");
  w.String(d.error.data(), static_cast<rapidjson::SizeType>(d.error.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<WebhookUrl> parse_webhook_url(std::string_view url) {
  if (url.size() > kMaxWebhookUrlBytes)
    return bad_url(fmt::format("longer than {} bytes", kMaxWebhookUrlBytes));
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f)
      return bad_url("spaces, control and non-ASCII bytes must be percent-encoded");
  }
  std::string lower(url.substr(0, kTlsScheme.size()));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == kTlsScheme) return bad_url("only http:// is supported (there is no TLS client)");
  if (url.substr(0, kScheme.size()) != kScheme) return bad_url("must start with http://");
  std::string_view rest = url.substr(kScheme.size());
  const size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? "" : rest.substr(end);
  if (tail.find('#') != std::string_view::npos) return bad_url("no fragment (#) allowed");
  if (!tail.empty() && tail.front() != '/') return bad_url("the path must start with /");
  if (authority.find('@') != std::string_view::npos) return bad_url("no user info allowed");

  WebhookUrl out;
  out.target = tail.empty() ? "/" : std::string(tail);
  std::string_view host, port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad_url("unclosed [ in the host");
    host = authority.substr(1, close - 1);
    if (!std::all_of(host.begin(), host.end(), is_ipv6_char)) return bad_url("bad IPv6 address");
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url("unexpected text after the IPv6 address");
      has_port = true;
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port = authority.substr(colon + 1);
    }
    if (!std::all_of(host.begin(), host.end(), is_host_char))
      return bad_url("the host may hold letters, digits, '-' and '.' only");
  }
  if (host.empty()) return bad_url("the host is missing");
  if (host.size() > kMaxHostBytes) return bad_url("the host is too long");
  out.host = std::string(host);
  out.port = kDefaultHttpPort;
  if (has_port) {
    uint32_t p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p == 0 ||
        p > kMaxPort)
      return bad_url(fmt::format("the port must be 1..{}", kMaxPort));
    out.port = static_cast<uint16_t>(p);
  }
  return out;
}


int64_t webhook_backoff_ms(int failures, int first_ms, int cap_ms) {
  int64_t d = first_ms;
  for (int i = 1; i < failures && d < cap_ms; ++i) d *= kWebhookBackoffFactor;
  return std::min<int64_t>(d, cap_ms);
}

// ---- Dispatcher ----------------------------------------------------------------------------

// One enterprise's delivery state. Guarded by mu_, except `client`, which only the worker that
// set `busy` touches (busy hands it from worker to worker under mu_).
struct WebhookDispatcher::Target {
  std::string code;
  std::optional<WebhookConfig> config;  // nullopt: removed (the entry stays for its status)
  WebhookUrl url;
  uint64_t generation = 0;  // bumped when the url changes, so the worker reconnects
  uint64_t cursor = 0;      // delivered (or dead) up to here
  // A failing batch keeps its range across retries (same X-Cbec-Delivery); 0 = none in hand.
  uint64_t batch_last = 0;
  int attempts = 0;  // consecutive failures of that batch
  std::string last_error;
  Clock::time_point next_due{};
  uint64_t idle_at = 0;  // stored_no_ when the feed had nothing after the cursor
  bool busy = false;
  bool retry_dead = false;  // a pass over the dead letters is under way
  uint64_t dead_after = 0;  // ... at dead letters with a first number above this
  int dead_attempts = 0;
  uint64_t delivered = 0;

  std::unique_ptr<server::HttpClient> client;
  uint64_t client_generation = 0;
};

// What a worker took from a Target under the lock.
struct WebhookDispatcher::Job {
  std::string code;
  WebhookConfig config;
  WebhookUrl url;
  uint64_t generation = 0;
  uint64_t stored_no = 0;
  bool dead = false;   // deliver the next dead letter after `after`
  uint64_t after = 0;  // receipts numbered above this ...
  uint64_t last = 0;   // ... and up to this (0: a full batch)
  int attempts = 0;
};

struct WebhookDispatcher::Outcome {
  enum Kind { kIdle, kDelivered, kFailed, kStoreError, kDeadPassDone } kind = kIdle;
  uint64_t first = 0, last = 0, count = 0;
  DeadLetter letter;  // dead-letter pass: the letter tried
  std::string error;
};

WebhookDispatcher::WebhookDispatcher(const Service* service, rocksdb::DB* db,
                                     WebhookOptions options, uint64_t last_receipt_no)
    : service_(service), db_(db), options_(options), stored_no_(last_receipt_no) {}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

void WebhookDispatcher::Start() {
  const int n = std::max(1, options_.workers);
  for (int i = 0; i < n; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
    name_thread(workers_.back(), fmt::format("cbec-hook-{}", i));
  }
}

void WebhookDispatcher::Stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_)
    if (w.joinable()) w.join();
  workers_.clear();
}

void WebhookDispatcher::Configure(const std::string& code, std::optional<WebhookConfig> config) {
  std::lock_guard lk(mu_);
  auto& slot = targets_[code];
  if (!slot) {
    slot = std::make_unique<Target>();
    slot->code = code;
    std::string v;
    if (db_->Get(rocksdb::ReadOptions(), cursor_key(code), &v).ok()) slot->cursor = std::stoull(v);
  }
  Target& t = *slot;
  if (!config) {
    t.config.reset();
    t.batch_last = 0;
    t.attempts = 0;
    t.retry_dead = false;
    return;
  }
  auto url = parse_webhook_url(config->url);
  CBEC_ASSERT(url.ok() && "Service validates webhook urls before they reach the dispatcher");
  const bool was_set = t.config.has_value();
  if (!was_set || t.url.host != url->host || t.url.port != url->port) ++t.generation;
  if (!was_set) {
    t.batch_last = 0;
    t.attempts = 0;
  }
  // A persisted cursor from before a removal is older than `since` and so ignored.
  t.cursor = std::max(t.cursor, config->since);
  t.url = std::move(*url);
  t.config = std::move(config);
  t.idle_at = 0;
  t.next_due = Clock::now();  // a new address deserves a prompt try
  cv_.notify_all();
}

void WebhookDispatcher::OnReceiptsStored(uint64_t last_no) {
  {
    std::lock_guard lk(mu_);
    if (last_no <= stored_no_) return;
    stored_no_ = last_no;
  }
  cv_.notify_all();
}

WebhookDispatcher::Target* WebhookDispatcher::PickReady(Clock::time_point now,
                                                        std::optional<Clock::time_point>* wake) {
  Target* best = nullptr;
  for (auto& [code, tp] : targets_) {
    Target& t = *tp;
    if (!t.config || t.busy) continue;
    const bool work = t.retry_dead || t.batch_last != 0 || stored_no_ > t.idle_at;
    if (!work) continue;
    if (t.next_due <= now) {
      if (best == nullptr || t.next_due < best->next_due) best = &t;
    } else if (!*wake || t.next_due < **wake) {
      *wake = t.next_due;
    }
  }
  return best;
}

void WebhookDispatcher::WorkerLoop() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    std::optional<Clock::time_point> wake;
    Target* t = PickReady(Clock::now(), &wake);
    if (t == nullptr) {
      if (wake)
        cv_.wait_until(lk, *wake);
      else
        cv_.wait(lk);
      continue;
    }
    t->busy = true;
    Job job;
    job.code = t->code;
    job.config = *t->config;
    job.url = t->url;
    job.generation = t->generation;
    job.stored_no = stored_no_;
    job.dead = t->retry_dead;
    job.after = job.dead ? t->dead_after : t->cursor;
    job.last = job.dead ? 0 : t->batch_last;
    job.attempts = job.dead ? t->dead_attempts : t->attempts;
    lk.unlock();
    Outcome o = Attempt(*t, job);
    Finish(*t, job, o);  // takes the lock for the memory part
    lk.lock();
    t->busy = false;
    cv_.notify_all();  // another worker may be waiting for this target's next batch
  }
}

std::optional<DeadLetter> WebhookDispatcher::NextDeadLetter(const std::string& code,
                                                            uint64_t after) const {
  const std::string prefix = dead_prefix(code);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix + pad20(after + 1)); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    if (auto d = parse_dead_letter(it->value().ToStringView())) return d;
  }
  return std::nullopt;
}

WebhookDispatcher::Outcome WebhookDispatcher::Attempt(Target& t, const Job& job) {
  Outcome o;
  uint64_t after = job.after, last = job.last;
  if (job.dead) {
    auto letter = NextDeadLetter(job.code, job.after);
    if (!letter) {
      o.kind = Outcome::kDeadPassDone;
      return o;
    }
    o.letter = *letter;
    after = letter->first - 1;
    last = letter->last;
  }
  auto rs = service_->Receipts(job.code, after, kWebhookBatchReceipts);
  if (!rs.ok()) {
    o.kind = Outcome::kStoreError;
    o.error = std::string(rs.status().message());
    return o;
  }
  std::vector<StoredReceipt>& batch = *rs;
  if (last != 0) std::erase_if(batch, [&](const StoredReceipt& r) { return r.no > last; });
  if (batch.empty()) {
    // A dead letter whose receipts are gone cannot be delivered: it counts as done.
    o.kind = job.dead ? Outcome::kDelivered : Outcome::kIdle;
    return o;
  }
  o.first = batch.front().no;
  o.last = batch.back().no;
  o.count = batch.size();
  Status posted = Post(t, job, batch);
  if (posted.ok()) {
    o.kind = Outcome::kDelivered;
  } else {
    o.kind = Outcome::kFailed;
    o.error = std::string(posted.message());
  }
  return o;
}

Status WebhookDispatcher::Post(Target& t, const Job& job, const std::vector<StoredReceipt>& batch) {
  std::string body = "{\"receipts\":[";
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i > 0) body += ',';
    body += batch[i].json;
  }
  body += "]}";
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/json"},
      {std::string(kDeliveryHeader), fmt::format("{}-{}", batch.front().no, batch.back().no)}};
  if (!job.config.secret.empty()) {
    headers.emplace_back(std::string(kSignatureHeader),
                         "sha256=" + hmac_sha256_hex(job.config.secret, body));
  }
  if (t.client && t.client_generation != job.generation) t.client.reset();
  if (!t.client) {
    auto c = server::HttpClient::Connect(job.url.host, job.url.port, options_.timeout_ms);
    if (!c.ok()) return c.status();
    t.client = std::move(*c);
    t.client_generation = job.generation;
  }
  auto r = t.client->Request("POST", job.url.target, body, headers);
  if (!r.ok()) {
    t.client.reset();  // the connection state is unknown after a failed exchange
    return r.status();
  }
  if (r->status < kHttpOkFirst || r->status > kHttpOkLast) {
    return Status(StatusCode::kUnavailable,
                  fmt::format("HTTP {}: {}", r->status, error_snippet(r->body)));
  }
  return Status::Ok();
}

void WebhookDispatcher::Finish(Target& t, const Job& job, const Outcome& o) {
  // The store first, then memory: a cursor is never shown (or acted on) before it is written.
  rocksdb::WriteOptions wo;  // with the WAL: cursors and dead letters are not in the command log
  std::string store_error;
  auto write = [&](rocksdb::WriteBatch& b) {
    rocksdb::Status s = db_->Write(wo, &b);
    if (!s.ok()) store_error = "state store: " + s.ToString();
  };
  const int failures = job.attempts + 1;
  const bool give_up = o.kind == Outcome::kFailed && failures >= options_.max_attempts;
  rocksdb::WriteBatch b;
  if (!job.dead && o.kind == Outcome::kDelivered) {
    b.Put(cursor_key(job.code), pad20(o.last));
    write(b);
  } else if (!job.dead && give_up) {
    DeadLetter d{o.first, o.last, o.count, failures, o.error};
    b.Put(dead_key(job.code, o.first), dead_letter_json(d));
    b.Put(cursor_key(job.code), pad20(o.last));
    write(b);
  } else if (job.dead && o.kind == Outcome::kDelivered) {
    b.Delete(dead_key(job.code, o.letter.first));
    write(b);
  } else if (job.dead && give_up) {
    DeadLetter d = o.letter;
    d.attempts += failures;
    d.error = o.error;
    b.Put(dead_key(job.code, d.first), dead_letter_json(d));
    write(b);
  }

  std::lock_guard lk(mu_);
  const auto now = Clock::now();
  switch (o.kind) {
    case Outcome::kIdle:
      t.idle_at = std::max(t.idle_at, job.stored_no);
      t.batch_last = 0;
      break;
    case Outcome::kStoreError:
      t.last_error = o.error;
      t.next_due = now + std::chrono::milliseconds(options_.backoff_first_ms);
      break;
    case Outcome::kDeadPassDone:
      t.retry_dead = false;
      t.dead_attempts = 0;
      break;
    case Outcome::kDelivered:
      t.delivered += o.count;
      t.next_due = now;
      if (job.dead) {
        t.dead_after = o.letter.first;
        t.dead_attempts = 0;
      } else {
        t.cursor = std::max(t.cursor, o.last);
        t.batch_last = 0;
        t.attempts = 0;
        t.last_error.clear();
      }
      break;
    case Outcome::kFailed:
      t.last_error = o.error;
      if (give_up) {
        t.next_due = now;
        if (job.dead) {  // the receiver is still failing: end this pass, newer receipts go on
          t.retry_dead = false;
          t.dead_attempts = 0;
        } else {
          t.cursor = std::max(t.cursor, o.last);
          t.batch_last = 0;
          t.attempts = 0;
        }
      } else {
        t.next_due = now + std::chrono::milliseconds(webhook_backoff_ms(
                               failures, options_.backoff_first_ms, options_.backoff_cap_ms));
        if (job.dead) {
          t.dead_attempts = failures;
        } else {
          t.attempts = failures;
          t.batch_last = o.last;
        }
      }
      break;
  }
  if (!store_error.empty()) t.last_error = store_error;
}

Status WebhookDispatcher::FillState(const std::string& code, WebhookState* state) const {
  bool known = false;
  {
    std::lock_guard lk(mu_);
    auto it = targets_.find(code);
    if (it != targets_.end()) {
      const Target& t = *it->second;
      known = true;
      state->cursor = t.cursor;
      state->attempts = t.retry_dead ? t.dead_attempts : t.attempts;
      state->last_error = t.last_error;
      const bool backing_off = t.attempts > 0 || t.dead_attempts > 0;
      if (backing_off && !t.busy) {
        state->next_attempt_in_ms = std::max<int64_t>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(t.next_due - Clock::now())
                   .count());
      }
      state->retrying_dead_letters = t.retry_dead;
      state->delivered = t.delivered;
    }
  }
  if (!known) {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cursor_key(code), &v);
    if (s.ok()) state->cursor = std::stoull(v);
  }
  const std::string prefix = dead_prefix(code);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    ++state->dead_letter_count;
    if (state->dead_letters.size() >= kMaxDeadLettersListed) continue;
    if (auto d = parse_dead_letter(it->value().ToStringView()))
      state->dead_letters.push_back(std::move(*d));
  }
  if (!it->status().ok())
    return Status(StatusCode::kUnavailable, "read dead letters: " + it->status().ToString());
  return Status::Ok();
}

Result<uint64_t> WebhookDispatcher::RetryDeadLetters(const std::string& code) {
  uint64_t count = 0;
  const std::string prefix = dead_prefix(code);
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) ++count;
    if (!it->status().ok())
      return Status(StatusCode::kUnavailable, "read dead letters: " + it->status().ToString());
  }
  {
    std::lock_guard lk(mu_);
    auto it = targets_.find(code);
    if (it == targets_.end() || !it->second->config)
      return FailedPrecondition(fmt::format("{} has no webhook to deliver to", code));
    if (count == 0) return count;
    Target& t = *it->second;
    t.retry_dead = true;  // a pass already under way starts over from the oldest
    t.dead_after = 0;
    t.dead_attempts = 0;
    t.next_due = Clock::now();  // an explicit request: try now, not after the current backoff
  }
  cv_.notify_all();
  return count;
}

}  // namespace cbec::service
