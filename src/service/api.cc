#include "service/api.h"

#include <openssl/evp.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "common/thread_name.h"
#include "fmt/format.h"
#include "messages/receipt.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "service/api_common.h"
#include "service/web_api.h"
#include "service/tax_statement.h"
#include "service/webhooks.h"

namespace cbec {
std::string_view embedded_api_file(std::string_view name);  // api/* compiled in (CMake)
}

namespace cbec::service {

namespace {

bool wants_xml(const HttpRequest& r) {
  std::string_view accept = r.header("accept");
  return accept.find("xml") != std::string_view::npos &&
         accept.find("json") == std::string_view::npos;
}

std::string tax_json(const tax::ListTax& t) { return tax::to_json(t); }

// This process's resident memory (Linux /proc/self/statm: pages), 0 if unreadable.
uint64_t resident_memory_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

template <class Rec>
std::string record_message_json(ceb::MessageType type, const Rec& rec,
                                std::vector<Rec> ceb::Message::*field) {
  ceb::Message m;
  m.type = type;
  m.guid = std::string(36, '0');
  m.version = "1.0";
  (m.*field).push_back(rec);
  return ceb::write_message_json(m);
}

// A receipt message holds at most 100 records (XSD maxOccurs). When the records of one message
// got more receipts than that at once (each list of a 100-list message released on arrival
// gets 120 and 800), the XML answer carries the latest receipt of each record; the feed
// (GET /receipts, the stream) has every one of them.
void latest_per_record(std::vector<const ceb::Receipt*>* rs) {
  constexpr size_t kMax = ceb::kMaxRecordsPerMessage;
  if (rs->size() <= kMax) return;
  auto key = [](const ceb::Receipt& r) {
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", r.guid, r.ebpCode, r.ebcCode,
                       r.orderNo, r.payCode, r.payTransactionId, r.logisticsCode, r.logisticsNo,
                       r.logisticsStatus, r.agentCode, r.copNo, r.operatorCode);
  };
  std::map<std::string, size_t> last;
  for (size_t i = 0; i < rs->size(); ++i) last[key(*(*rs)[i])] = i;
  std::vector<const ceb::Receipt*> out;
  for (size_t i = 0; i < rs->size(); ++i)
    if (last[key(*(*rs)[i])] == i) out.push_back((*rs)[i]);
  if (out.size() > kMax) out.erase(out.begin(), out.end() - kMax);  // cannot happen; never crash
  *rs = std::move(out);
}

class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}
  bool allow(const std::string& who) {
    using clock = std::chrono::steady_clock;
    double now = std::chrono::duration<double>(clock::now().time_since_epoch()).count();
    std::lock_guard lk(mu_);
    auto& b = buckets_[who];
    if (b.last == 0) b.tokens = burst_;
    b.tokens = std::min(burst_, b.tokens + (now - b.last) * rate_);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

 private:
  struct Bucket {
    double tokens = 0;
    double last = 0;
  };
  double rate_, burst_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace


struct Api::Impl {
  Service* service;
  ApiOptions options;
  std::string regulator_hash;
  RateLimiter limiter;
  const server::HttpServer** server;

  struct Stream {
    std::shared_ptr<server::EventStream> stream;
    std::string receiver;  // "" = regulator
    uint64_t cursor = 0;
  };
  std::mutex streams_mu;
  std::vector<Stream> streams;
  std::atomic<bool> stopping{false};
  std::atomic<bool> new_streams{false};  // set by open_stream: serve its backlog promptly
  std::thread pusher;
  std::unique_ptr<WebApi> web;

  Impl(Service* s, ApiOptions o, const server::HttpServer** srv)
      : service(s),
        options(std::move(o)),
        regulator_hash(options.regulator_key.empty() ? "" : sha256_hex(options.regulator_key)),
        limiter(options.rate_per_second, options.rate_burst),
        server(srv) {
    pusher = std::thread([this] { PushLoop(); });
    name_thread(pusher, "cbec-rcpt-push");
    // The hall, consumer and statistics routes (service/web_api.h), with the same keys.
    web = std::make_unique<WebApi>(s, [this](const HttpRequest& r) -> std::optional<WebCaller> {
      auto c = authenticate(r);
      if (!c) return std::nullopt;
      return WebCaller{c->code, c->customs()};  // officers see the zone
    });
  }
  ~Impl() {
    stopping = true;
    if (pusher.joinable()) pusher.join();
  }

  // The key is taken from X-API-Key, "Authorization: Bearer", or (for EventSource, which
  // cannot set headers) the "key" query parameter.
  std::optional<Caller> authenticate(const HttpRequest& r) const {
    std::string_view key = r.header("x-api-key");
    if (key.empty()) {
      std::string_view auth = r.header("authorization");
      if (auth.substr(0, 7) == "Bearer ") key = auth.substr(7);
    }
    if (key.empty()) key = r.param("key");
    if (key.empty()) return std::nullopt;
    std::string h = sha256_hex(key);
    if (!regulator_hash.empty() && h == regulator_hash) return Caller{"", true, ""};
    std::string code = service->EnterpriseForKey(h);
    if (!code.empty()) return Caller{code, false, ""};
    std::string officer = service->OfficerForKey(h);
    if (!officer.empty()) return Caller{"", false, officer};
    return std::nullopt;
  }

  // ---- POST /api/v1/messages ---------------------------------------------------------------
  void post_message(const HttpRequest& r, const Caller& c, Respond respond) {
    if (c.customs()) return respond(error(403, "customs keys cannot declare documents"));
    ceb::ReadResult read = ceb::read_message_auto(r.body);
    if (!read.ok()) {
      ceb::FormatError fe;
      fe.guid = read.message && read.message->guid.size() == 36 ? read.message->guid
                                                                 : std::string(36, '0');
      fe.ori_message_type =
          read.message ? std::string(ceb::message_root_name(read.message->type)) : "Unknown";
      fe.original = r.body.substr(0, kMaxEchoedOriginalBytes);
      fe.violations = read.violations;
      fe.returnTime = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
      HttpResponse resp;
      resp.status = 400;
      if (wants_xml(r)) {
        resp.content_type = "application/xml; charset=utf-8";
        resp.body = ceb::write_ceb900_xml(fe);
      } else {
        resp.body = ceb::write_ceb900_json(fe);
      }
      return respond(std::move(resp));
    }
    ceb::Message& m = *read.message;
    if (m.transfer.copCode != c.code) {
      return respond(error(
          403, fmt::format("BaseTransfer/copCode {} is not the enterprise of this API key ({})",
                           m.transfer.copCode, c.code)));
    }
    ceb::MessageType type = m.type;
    bool xml = wants_xml(r);
    std::string sender = c.code;
    service->Submit(encode_submit(sender, r.body, std::move(m)),
                    [respond, type, xml, sender](Result<Applied> a) {
      if (!a.ok()) return respond(error(http_status_of(a.status()), a.status().message()));
      HttpResponse resp;
      if (xml) {
        std::vector<const ceb::Receipt*> mine;
        for (const ceb::Receipt& rc : a->receipts)
          if (rc.receiver == sender && rc.answers == type) mine.push_back(&rc);
        latest_per_record(&mine);
        resp.content_type = "application/xml; charset=utf-8";
        resp.body = mine.empty() ? "" : ceb::write_receipts_xml(mine);
                      } else {
                        // {"seq":N,"receipts":[...]} around the JSON the store stage stored (a
                        // recovery answers nobody), joined in one buffer of the right size: the
                        // answer to 100 records is about 100 KB.
                        CBEC_ASSERT(a->receipts_json.size() == a->receipts.size());
                        const std::string head = fmt::format("{{\"seq\":{},\"receipts\":[", a->seq);
                        size_t size = head.size() + 2;
                        for (size_t i = 0; i < a->receipts.size(); ++i) {
                          if (a->receipts[i].receiver == sender)
                            size += a->receipts_json[i].size() + 1;
                        }
                        resp.body.reserve(size);
                        resp.body = head;
                        bool first = true;
                        for (size_t i = 0; i < a->receipts.size(); ++i) {
                          if (a->receipts[i].receiver != sender) continue;
                          if (!first) resp.body += ',';
                          first = false;
                          resp.body += a->receipts_json[i];
                        }
                        resp.body += "]}";
                      }
                      respond(std::move(resp));
                    });
  }

  // ---- GET /api/v1/receipts ----------------------------------------------------------------
  HttpResponse get_receipts(const HttpRequest& r, const Caller& c) {
    uint64_t after = 0;
    int limit = 100;
    try {
      if (r.has_param("after")) after = std::stoull(std::string(r.param("after")));
      if (r.has_param("limit")) limit = std::stoi(std::string(r.param("limit")));
    } catch (...) {
      return error(400, "after and limit must be numbers");
    }
    if (limit < 1 || limit > kMaxReceiptPage)
      return error(400, fmt::format("limit must be 1..{}", kMaxReceiptPage));
    auto rs = service->Receipts(c.customs() ? "" : c.code, after, limit);
    if (!rs.ok()) return error(http_status_of(rs.status()), rs.status().message());
    rapidjson::StringBuffer b;
    Writer w(b);
    w.StartObject();
    w.Key("receipts");
    w.StartArray();
    uint64_t next = after;
    for (const auto& x : *rs) {
      w.RawValue(x.json.data(), x.json.size(), rapidjson::kObjectType);
      next = x.no;
    }
    w.EndArray();
    w.Key("next");
    w.Uint64(next);
    w.EndObject();
    return json_response(200, b.GetString());
  }

  // ---- GET /api/v1/lists/{invtNo} and /api/v1/lists?ebpCode=&orderNo= ---------------------
  HttpResponse get_list(const HttpRequest& r, const Caller& c, std::string_view invt_no) {
    return service->Read([&](const clearance::Engine& e) -> HttpResponse {
      clearance::Found<clearance::ListRecord> L;
      if (!invt_no.empty()) {
        L = e.list_by_invt_no(invt_no);
      } else {
        L = e.list_by_order(r.param("ebpCode"), r.param("orderNo"));
        if (L == nullptr && r.has_param("agentCode"))
          L = e.list_by_cop_no(r.param("agentCode"), r.param("copNo"));
      }
      if (L == nullptr) return error(404, "no such list");
      const auto& h = L->doc.head;
      auto order = e.order(h.ebpCode, h.orderNo);
      auto waybill = e.waybill(h.logisticsCode, h.logisticsNo);
      clearance::Found<ceb::Payment> payment;
      if (order && !order->head.payCode.empty())
        payment = e.payment(order->head.payCode, order->head.payTransactionId);
      if (!c.customs()) {
        bool party = c.code == h.agentCode || c.code == h.ebcCode || c.code == h.ebpCode ||
                     c.code == h.logisticsCode || c.code == h.assureCode ||
                     (payment && c.code == payment->head.payCode);
        if (!party) return error(403, "this list belongs to other enterprises");
      }
      rapidjson::StringBuffer b;
      Writer w(b);
      w.StartObject();
      s(w, "invtNo", L->invtNo);
      s(w, "preNo", L->preNo);
      s(w, "copNo", h.copNo);
      s(w, "agentCode", h.agentCode);
      s(w, "state", clearance::list_state_name(L->state));
      w.Key("returnStatus");
      w.Int(L->returnStatus);
      if (!L->hold_reason.empty()) s(w, "waitingFor", L->hold_reason);
      if (L->tax) raw(w, "tax", tax_json(*L->tax));
      w.Key("findings");
      w.StartArray();
      for (const auto& f : L->findings) {
        w.StartObject();
        s(w, "rule", f.rule);
        s(w, "field", f.field);
        s(w, "zh", f.zh);
        s(w, "en", f.en);
        w.EndObject();
      }
      w.EndArray();
      if (const clearance::QueueItem* q = e.supervision().queued(L->invtNo)) {
        w.Key("queue");  // under an officer: which lane, who has it
        w.StartObject();
        s(w, "lane", clearance::lane_name(q->lane));
        s(w, "site", q->site);
        s(w, "assigned", q->assigned);
        s(w, "claimedBy", q->claimed_by);
        s(w, "queuedAt", format_return_time(q->queued_at));
        w.EndObject();
      }
      w.Key("history");
      w.StartArray();
      for (const auto& ev : L->history) {
        w.StartObject();
        s(w, "time", format_return_time(ev.time));
        w.Key("returnStatus");
        w.Int(ev.returnStatus);
        s(w, "info", ev.info);
        w.EndObject();
      }
      w.EndArray();
      w.Key("documents");
      w.StartObject();
      raw(w, "list",
          record_message_json(ceb::MessageType::kCEB621, L->doc, &ceb::Message::inventories));
      if (order)
        raw(w, "order", record_message_json(ceb::MessageType::kCEB311, *order, &ceb::Message::orders));
      if (payment)
        raw(w, "payment",
            record_message_json(ceb::MessageType::kCEB411, *payment, &ceb::Message::payments));
      if (waybill)
        raw(w, "waybill",
            record_message_json(ceb::MessageType::kCEB511, *waybill, &ceb::Message::waybills));
      w.EndObject();
      w.EndObject();
      return json_response(200, b.GetString());
    });
  }

  // ---- GET /api/v1/quota?buyerIdNumber=&buyerName=&year= ------------------------------------
  HttpResponse get_quota(const HttpRequest& r) {
    std::string id(r.param("buyerIdNumber")), name(r.param("buyerName"));
    if (id.empty() || name.empty())
      return error(400, "buyerIdNumber and buyerName are both required, as in the national query");
    int year = 0;
    try {
      year = r.has_param("year") ? std::stoi(std::string(r.param("year"))) : 0;
    } catch (...) {
      return error(400, "year must be a number");
    }
    return service->Read([&](const clearance::Engine& e) -> HttpResponse {
      std::string known = e.buyer_name(id);
      // The same answer for an unknown ID and a wrong name: the query must not reveal which.
      if (known.empty() || known != name) return error(404, "no record for this name and ID");
      int y = year != 0 ? year : beijing_year(e.now());
      auto t = e.quota().totals({id, y});
      const ref::Policy& p = e.reference().policy_at(CivilDate{y, 12, 31});
      rapidjson::StringBuffer b;
      Writer w(b);
      w.StartObject();
      w.Key("year");
      w.Int(y);
      s(w, "released", format_fen(t.committed_fen));
      s(w, "underReview", format_fen(t.reserved_fen));
      s(w, "limit", format_fen(p.annual_limit_fen));
      s(w, "remaining", format_fen(std::max<Fen>(0, p.annual_limit_fen - t.committed_fen -
                                                        t.reserved_fen)));
      w.EndObject();
      return json_response(200, b.GetString());
    });
  }

  // ---- GET /api/v1/stock?emsNo= -------------------------------------------------------------
  HttpResponse get_stock(const HttpRequest& r, const Caller& c) {
    std::string ems(r.param("emsNo"));
    if (ems.empty()) return error(400, "emsNo is required");
    return service->Read([&](const clearance::Engine& e) -> HttpResponse {
      if (!c.customs()) {
        const auto* ent = e.enterprise(c.code);
        if (!ent || (ent->roles & clearance::kRoleOperator) == 0)
          return error(403, "only the warehouse operator or the regulator reads an account book");
      }
      rapidjson::StringBuffer b;
      Writer w(b);
      w.StartObject();
      s(w, "emsNo", ems);
      w.Key("items");
      w.StartArray();
      for (const auto& [key, item] : e.stock().items()) {
        if (key.emsNo != ems) continue;
        w.StartObject();
        s(w, "itemRecordNo", key.itemRecordNo);
        s(w, "gcode", item.gcode);
        s(w, "name", item.name);
        s(w, "unit", item.unit);
        s(w, "onHand", format_decimal(Decimal::of_units(item.on_hand_units)));
        s(w, "reserved", format_decimal(Decimal::of_units(item.reserved_units)));
        s(w, "available", format_decimal(Decimal::of_units(item.available_units())));
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
      return json_response(200, b.GetString());
    });
  }

  // ---- Administration (regulator) -----------------------------------------------------------
  void admin(const HttpRequest& r, std::string_view what, Respond respond) {
    rapidjson::Document d;
    d.Parse(r.body.c_str(), r.body.size());
    if (d.HasParseError() || !d.IsObject()) return respond(error(400, "body must be a JSON object"));
    EncodedCommand cmd;
    if (what == "enterprises") {
      auto roles = clearance::parse_roles(str(d, "roles"));
      if (!roles.ok()) return respond(error(400, roles.status().message()));
      auto grade = ref::parse_credit_grade(str(d, "grade").empty() ? "regular" : str(d, "grade"));
      if (!grade) return respond(error(400, "unknown credit grade"));
      std::string key = str(d, "api_key");
      if (key.size() < 16) return respond(error(400, "api_key must have at least 16 characters"));
      cmd = encode_admin(clearance::RegisterEnterprise{clearance::Enterprise{
                             str(d, "code"), str(d, "name"), *roles, *grade}},
                         sha256_hex(key));
    } else if (what == "stock-in") {
      Decimal qty;
      if (parse_decimal(str(d, "qty"), &qty) != DecimalError::kOk)
        return respond(error(400, "qty must be a decimal"));
      std::optional<ref::RiskClass> risk;
      if (!str(d, "risk").empty()) {
        risk = ref::parse_risk_class(str(d, "risk"));
        if (!risk) return respond(error(400, "risk must be low, medium or high"));
      }
      cmd = encode_admin(clearance::StockIn{str(d, "operatorCode"), str(d, "emsNo"),
                                            str(d, "itemRecordNo"), str(d, "gcode"),
                                            str(d, "name"), str(d, "unit"), qty, risk});
    } else if (what == "guarantees") {
      Decimal amount;
      if (parse_decimal(str(d, "amount"), &amount) != DecimalError::kOk)
        return respond(error(400, "amount must be a decimal (RMB)"));
      cmd = encode_admin(clearance::GuaranteeDeposit{str(d, "assureCode"),
                                                     round_half_up_fen(amount)});
    } else if (what == "reference") {
      // A zone's reference data and policy versions; absent files keep the embedded defaults.
      auto enc = encode_load_reference(str(d, "policy_toml"), str(d, "goods_csv"),
                                       str(d, "positive_list_csv"));
      if (!enc.ok()) return respond(error(400, enc.status().message()));
      cmd = std::move(*enc);
    } else if (what == "officers") {
      std::string key = str(d, "api_key");
      if (key.size() < 16) return respond(error(400, "api_key must have at least 16 characters"));
      bool on_duty = !d.HasMember("on_duty") || (d["on_duty"].IsBool() && d["on_duty"].GetBool());
      cmd = encode_admin(clearance::RegisterOfficer{str(d, "officer_id"), str(d, "name"),
                                                    str(d, "site"), on_duty},
                         sha256_hex(key));
    } else if (what == "webhooks") {
      std::string code = str(d, "code");
      if (code.empty()) return respond(error(400, "code is required"));
      if (!d.HasMember("url") || !d["url"].IsString())
        return respond(error(400, "url is required (\"\" removes the webhook)"));
      std::string url = str(d, "url");
      if (!url.empty()) {
        if (auto parsed = parse_webhook_url(url); !parsed.ok())
          return respond(error(400, parsed.status().message()));
      }
      if (d.HasMember("secret") && !d["secret"].IsString())
        return respond(error(400, "secret must be a string"));
      std::string secret = str(d, "secret");
      if (secret.size() > kMaxWebhookSecretBytes)
        return respond(error(400, fmt::format("secret: at most {} bytes", kMaxWebhookSecretBytes)));
      cmd = encode_set_webhook(WebhookSetting{std::move(code), std::move(url), std::move(secret)});
    } else {
      return respond(error(404, "no such administrative resource"));
    }
    service->Submit(std::move(cmd), [respond](Result<Applied> a) {
      if (!a.ok()) return respond(error(http_status_of(a.status()), a.status().message()));
      if (!a->status.ok()) return respond(error(http_status_of(a->status), a->status.message()));
      respond(json_response(200, fmt::format("{{\"seq\":{}}}", a->seq)));
    });
  }

  // ---- GET /api/v1/webhooks, POST /api/v1/webhooks/retry ------------------------------------
  HttpResponse get_webhooks(const HttpRequest& r, const Caller& c) {
    std::string code = c.customs() ? std::string(r.param("code")) : c.code;
    if (code.empty()) return error(400, "the regulator names the enterprise: ?code=");
    if (!c.customs() && r.has_param("code") && r.param("code") != c.code)
      return error(403, "an enterprise sees its own webhook only");
    auto st = service->WebhookStatus(code);
    if (!st.ok()) return error(http_status_of(st.status()), st.status().message());
    rapidjson::StringBuffer b;
    Writer w(b);
    w.StartObject();
    s(w, "code", st->code);
    w.Key("configured");
    w.Bool(st->configured);
    s(w, "url", st->url);
    w.Key("hasSecret");
    w.Bool(st->has_secret);
    w.Key("since");
    w.Uint64(st->since);
    w.Key("cursor");
    w.Uint64(st->cursor);
    w.Key("attempts");
    w.Int(st->attempts);
    s(w, "lastError", st->last_error);
    w.Key("nextAttemptInMs");
    w.Int64(st->next_attempt_in_ms);
    w.Key("retryingDeadLetters");
    w.Bool(st->retrying_dead_letters);
    w.Key("delivered");
    w.Uint64(st->delivered);
    w.Key("deadLetterCount");
    w.Uint64(st->dead_letter_count);
    w.Key("deadLetters");
    w.StartArray();
    for (const auto& d : st->dead_letters) {
      std::string j = dead_letter_json(d);
      w.RawValue(j.data(), j.size(), rapidjson::kObjectType);
    }
    w.EndArray();
    w.EndObject();
    return json_response(200, b.GetString());
  }

  HttpResponse retry_webhooks(const Caller& c) {
    if (c.customs()) return error(403, "the enterprise itself asks for its dead letters again");
    auto n = service->RetryDeadLetters(c.code);
    if (!n.ok()) return error(http_status_of(n.status()), n.status().message());
    return json_response(200, fmt::format("{{\"queued\":{}}}", *n));
  }

  // ---- /metrics -------------------------------------------------------------------------
  HttpResponse metrics() {
    std::string out;
    auto line = [&](std::string_view name, std::string_view labels, uint64_t v) {
      out += fmt::format("{}{} {}\n", name, labels, v);
    };
    const auto& st = service->stats();
    out += "# TYPE cbec_http_requests_total counter\n";
    line("cbec_http_requests_total", "", *server ? (*server)->requests_total() : 0);
    out += "# TYPE cbec_http_open_connections gauge\n";
    line("cbec_http_open_connections", "", *server ? (*server)->open_connections() : 0);
    out += "# TYPE cbec_commands_total counter\n";
    line("cbec_commands_total", "", st.commands);
    out += "# TYPE cbec_documents_total counter\n";
    for (int i = 0; i < ceb::kMessageTypeCount; ++i) {
      line("cbec_documents_total",
           fmt::format("{{type=\"{}\"}}",
                       ceb::message_root_name(static_cast<ceb::MessageType>(i))),
           st.documents_by_type[i]);
    }
    out += "# TYPE cbec_lists_total counter\n";
    line("cbec_lists_total", "{status=\"released\"}", st.lists_released);
    line("cbec_lists_total", "{status=\"rejected\"}", st.lists_rejected);
    out += "# TYPE cbec_receipts_total counter\n";
    line("cbec_receipts_total", "", st.receipts);
    out += "# TYPE cbec_intake_queue_depth gauge\n";
    line("cbec_intake_queue_depth", "", st.queue_depth);
    // Memory (issue #3): what the core holds in memory; the rest is in the archive.
    auto hot = service->Read([](const clearance::Engine& e) { return e.hot_counts(); });
    out += "# TYPE cbec_core_hot_records gauge\n";
    line("cbec_core_hot_records", "{table=\"lists\"}", hot.lists);
    line("cbec_core_hot_records", "{table=\"orders\"}", hot.orders);
    line("cbec_core_hot_records", "{table=\"payments\"}", hot.payments);
    line("cbec_core_hot_records", "{table=\"waybills\"}", hot.waybills);
    line("cbec_core_hot_records", "{table=\"buyer_totals\"}", hot.buyer_totals);
    out += "# TYPE cbec_archive_bytes gauge\n";
    line("cbec_archive_bytes", "", service->ArchiveBytes());
    // What RocksDB holds (service/storage.h): bounded by the cache and the memtables.
    const service::StorageMemory sm = service->StorageMemoryNow();
    out += "# TYPE cbec_storage_memory_bytes gauge\n";
    line("cbec_storage_memory_bytes", "{part=\"cache_capacity\"}", sm.cache_capacity);
    line("cbec_storage_memory_bytes", "{part=\"cache_usage\"}", sm.cache_usage);
    line("cbec_storage_memory_bytes", "{part=\"cache_pinned\"}", sm.cache_pinned);
    line("cbec_storage_memory_bytes", "{part=\"memtables\"}", sm.memtables);
    line("cbec_storage_memory_bytes", "{part=\"table_readers\"}", sm.table_readers);
    const auto& snap = service->snapshots();
    out += "# TYPE cbec_snapshots_written_total counter\n";
    line("cbec_snapshots_written_total", "", snap.written.load());
    out += "# TYPE cbec_snapshots_failed_total counter\n";
    line("cbec_snapshots_failed_total", "", snap.failed.load());
    out += "# TYPE cbec_snapshot_seq gauge\n";
    line("cbec_snapshot_seq", "", snap.last_seq.load());
    out += "# TYPE cbec_snapshot_write_seconds gauge\n";
    out += fmt::format("cbec_snapshot_write_seconds {:.3f}\n", snap.last_write_ms.load() / 1000.0);
    out += "# TYPE cbec_snapshot_state_bytes gauge\n";
    line("cbec_snapshot_state_bytes", "", snap.last_bytes.load());
    out += "# TYPE cbec_start_replayed_records gauge\n";
    line("cbec_start_replayed_records", "", snap.replayed);
    out += "# TYPE process_resident_memory_bytes gauge\n";
    line("process_resident_memory_bytes", "", resident_memory_bytes());
    const auto& ls = service->log_stats();
    out += "# TYPE cbec_log_records_total counter\n";
    line("cbec_log_records_total", "", ls.records);
    out += "# TYPE cbec_log_bytes_total counter\n";
    line("cbec_log_bytes_total", "", ls.bytes);
    out += "# TYPE cbec_log_sync_seconds histogram\n";
    uint64_t cum = 0;
    for (size_t i = 0; i < cmdlog::LogStats::kSyncLatencyBuckets; ++i) {
      cum += ls.sync_latency_us_buckets[i];
      uint64_t bound = cmdlog::LogStats::SyncLatencyBoundUs(i);
      std::string le = bound == UINT64_MAX ? "+Inf" : fmt::format("{:g}", bound / 1e6);
      line("cbec_log_sync_seconds_bucket", fmt::format("{{le=\"{}\"}}", le), cum);
    }
    out += fmt::format("cbec_log_sync_seconds_sum {:g}\n", ls.sync_latency_us_total / 1e6);
    line("cbec_log_sync_seconds_count", "", ls.syncs);
    out += "# TYPE cbec_log_batch_records histogram\n";
    cum = 0;
    for (size_t i = 0; i < cmdlog::LogStats::kBatchRecordsBuckets; ++i) {
      cum += ls.batch_records_buckets[i];
      line("cbec_log_batch_records_bucket", fmt::format("{{le=\"{}\"}}", size_t{1} << i), cum);
    }
    line("cbec_log_batch_records_bucket", "{le=\"+Inf\"}", cum);
    line("cbec_log_batch_records_count", "", ls.batches);
    line("cbec_log_batch_records_sum", "", ls.records);
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = std::move(out);
    return r;
  }

  // ---- Tax settlement and returns (DOMAIN.md §4.1 step 7, §4.4) -----------------------------
  // GET /api/v1/tax/statement?assureCode=&from=yyyy-MM-dd&to=yyyy-MM-dd[&format=csv]: the
  // guarantor itself or the regulator.
  HttpResponse get_tax_statement(const HttpRequest& r, const Caller& c) {
    std::string code = r.has_param("assureCode") ? std::string(r.param("assureCode")) : c.code;
    if (code.empty()) return error(400, "assureCode is required");
    if (!c.regulator && code != c.code)
      return error(403, "a statement is for the guarantor itself and the regulator only");
    auto from = parse_iso_date(r.param("from"));
    auto to = parse_iso_date(r.param("to"));
    if (!from || !to) return error(400, "from and to are required dates (yyyy-MM-dd, Beijing)");
    std::string_view format = r.param("format");
    if (!format.empty() && format != "json" && format != "csv")
      return error(400, "format is json (default) or csv");
    return service->Read([&](const clearance::Engine& e) -> HttpResponse {
      const auto* g = e.enterprise(code);
      if (g == nullptr || (g->roles & clearance::kRoleGuarantor) == 0)
        return error(404, fmt::format("{} is not a registered guarantor", code));
      auto st = e.tax_statement(code, *from, *to);
      if (!st.ok()) return error(http_status_of(st.status()), st.status().message());
      HttpResponse resp;
      if (format == "csv") {
        resp.content_type = "text/csv; charset=utf-8";
        resp.body = tax_statement_csv(*st);
      } else {
        resp.body = tax_statement_json(*st);
      }
      return resp;
    });
  }

  // Submits an administrative command and answers {"seq":..} or the refusal.
  void submit_command(EncodedCommand cmd, Respond respond) {
    service->Submit(std::move(cmd), [respond](Result<Applied> a) {
      if (!a.ok()) return respond(error(http_status_of(a.status()), a.status().message()));
      if (!a->status.ok()) return respond(error(http_status_of(a->status), a->status.message()));
      respond(json_response(200, fmt::format("{{\"seq\":{}}}", a->seq)));
    });
  }

  // POST /api/v1/tax/payments {"assureCode", "invtNo" (omit: every payable bill), "paymentRef",
  // "amount"}: the guarantor itself (assureCode defaults to it) or the regulator.
  void post_tax_payment(const HttpRequest& r, const Caller& c, Respond respond) {
    rapidjson::Document d;
    d.Parse(r.body.c_str(), r.body.size());
    if (d.HasParseError() || !d.IsObject())
      return respond(error(400, "body must be a JSON object"));
    std::string code = str(d, "assureCode").empty() ? c.code : str(d, "assureCode");
    if (code.empty()) return respond(error(400, "assureCode is required"));
    if (!c.regulator && code != c.code)
      return respond(error(403, "a guarantor pays its own bills only"));
    Decimal amount;
    if (parse_decimal(str(d, "amount"), &amount) != DecimalError::kOk || amount.units <= 0 ||
        amount.units % kUnitsPerFen != 0)
      return respond(error(400, "amount must be a positive RMB amount with at most 2 decimals"));
    submit_command(encode_admin(clearance::TaxPayment{code, str(d, "invtNo"), str(d, "paymentRef"),
                                                      round_half_up_fen(amount)}),
                   std::move(respond));
  }

  // POST /api/v1/returns/arrivals {"operatorCode", "agentCode", "copNo"}: the warehouse operator
  // (operatorCode defaults to it) or the regulator confirms a return's goods are back.
  void post_return_arrival(const HttpRequest& r, const Caller& c, Respond respond) {
    rapidjson::Document d;
    d.Parse(r.body.c_str(), r.body.size());
    if (d.HasParseError() || !d.IsObject())
      return respond(error(400, "body must be a JSON object"));
    std::string op = str(d, "operatorCode").empty() ? c.code : str(d, "operatorCode");
    if (op.empty()) return respond(error(400, "operatorCode is required"));
    if (!c.regulator && op != c.code)
      return respond(error(403, "an operator confirms arrivals in its own warehouse only"));
    if (str(d, "agentCode").empty() || str(d, "copNo").empty())
      return respond(error(400, "agentCode and copNo of the return (CEB625) are required"));
    submit_command(encode_admin(clearance::ReturnArrival{op, str(d, "agentCode"), str(d, "copNo")}),
                   std::move(respond));
  }

  // ---- SSE pusher --------------------------------------------------------------------------
  void PushLoop() {
    auto last_beat = std::chrono::steady_clock::now();
    // Every receipt numbered <= scanned was in the store when the streams were last scanned.
    // The loop waits for a newer one (not for one after the lowest stream cursor: a stream of
    // an enterprise with nothing new would make that wait return at once, a busy loop), or
    // 500 ms at most; a new stream ends the wait within 100 ms.
    uint64_t scanned = 0;
    bool backlog = false;  // a stream got a full page: scan again without waiting
    while (!stopping) {
      bool any = false;
      {
        std::lock_guard lk(streams_mu);
        any = !streams.empty();
      }
      if (!any) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      uint64_t stored = service->WaitForReceiptsAfter(0, 0);  // the latest stored, at once
      for (int waited = 0; waited < 500 && stored <= scanned && !backlog && !stopping;
           waited += 100) {
        if (new_streams.exchange(false)) break;
        stored = service->WaitForReceiptsAfter(scanned, 100);
      }
      backlog = false;
      bool beat = std::chrono::steady_clock::now() - last_beat >
                  std::chrono::seconds(kStreamHeartbeatSeconds);
      if (beat) last_beat = std::chrono::steady_clock::now();
      std::lock_guard lk(streams_mu);
      for (auto& st : streams) {
        if (st.stream->closed()) continue;
        auto rs = service->Receipts(st.receiver, st.cursor, kMaxReceiptPage);
        if (!rs.ok()) continue;
        size_t sent = 0;
        for (const auto& x : *rs) {
          if (!st.stream->send(std::to_string(x.no), "receipt", x.json)) break;
          st.cursor = x.no;
          ++sent;
        }
        if (sent == static_cast<size_t>(kMaxReceiptPage)) backlog = true;
        if (beat) st.stream->heartbeat();
      }
      std::erase_if(streams, [](const Stream& st) { return st.stream->closed(); });
      scanned = stored;
    }
    std::lock_guard lk(streams_mu);
    for (auto& st : streams) st.stream->close();
  }
};

Api::Api(Service* service, ApiOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options), &server_)) {}
Api::~Api() = default;

bool Api::wants_stream(const server::HttpRequest& r) const {
  return (r.method == "GET" && r.path == "/api/v1/receipts/stream") ||
         impl_->web->wants_stream(r);
}

Api::StreamDecision Api::open_stream(const server::HttpRequest& r,
                                     std::shared_ptr<server::EventStream> stream) {
  if (impl_->web->wants_stream(r)) return impl_->web->open_stream(r, std::move(stream));
  auto caller = impl_->authenticate(r);
  if (!caller) return StreamDecision{false, error(401, "missing or unknown API key")};
  uint64_t cursor = 0;
  try {
    std::string_view last = r.header("last-event-id");
    if (!last.empty()) cursor = std::stoull(std::string(last));
    else if (r.has_param("after")) cursor = std::stoull(std::string(r.param("after")));
  } catch (...) {
    return StreamDecision{false, error(400, "Last-Event-ID / after must be a number")};
  }
  std::lock_guard lk(impl_->streams_mu);
  impl_->streams.push_back(Impl::Stream{std::move(stream), caller->customs() ? "" : caller->code,
                                        cursor});
  impl_->new_streams = true;
  return StreamDecision{true, {}};
}

void Api::handle(server::HttpRequest r, Respond respond) {
  Impl& I = *impl_;
  if (I.web->handle(r, respond)) return;
  if (r.path == "/healthz") {
    Status h = I.service->health();
    return respond(h.ok() ? json_response(200, "{\"status\":\"ok\"}")
                          : error(503, h.message()));
  }
  if (r.path == "/metrics") return respond(I.metrics());
  if (r.path == "/api/v1/openapi.json") {
    HttpResponse resp;
    resp.body = std::string(embedded_api_file("openapi.json"));
    return respond(std::move(resp));
  }
  if (r.path.rfind("/api/v1/", 0) != 0) return respond(error(404, "no such resource"));
  if (r.path == "/api/v1/audit/seeds") return respond(audit_seeds(I.service));  // public
  auto caller = I.authenticate(r);
  if (!caller) return respond(error(401, "missing or unknown API key"));
  if (!I.limiter.allow(caller->regulator        ? std::string("regulator")
                       : caller->officer.empty() ? caller->code
                                                 : "officer:" + caller->officer)) {
    HttpResponse resp = error(429, "rate limit exceeded, retry shortly");
    resp.headers.emplace_back("Retry-After", "1");
    return respond(std::move(resp));
  }
  const std::string& p = r.path;
  if (p == "/api/v1/messages") {
    if (r.method != "POST") return respond(error(405, "use POST"));
    return I.post_message(r, *caller, std::move(respond));
  }
  if (r.method == "GET" && p == "/api/v1/receipts") return respond(I.get_receipts(r, *caller));
  if (r.method == "GET" && p.rfind("/api/v1/lists/", 0) == 0)
    return respond(I.get_list(r, *caller, std::string_view(p).substr(14)));
  if (r.method == "GET" && p == "/api/v1/lists") return respond(I.get_list(r, *caller, ""));
  if (r.method == "GET" && p == "/api/v1/quota") return respond(I.get_quota(r));
  if (r.method == "GET" && p == "/api/v1/stock") return respond(I.get_stock(r, *caller));
  if (p == "/api/v1/webhooks") {
    if (r.method != "GET") return respond(error(405, "use GET"));
    return respond(I.get_webhooks(r, *caller));
  }
  if (p == "/api/v1/webhooks/retry") {
    if (r.method != "POST") return respond(error(405, "use POST"));
    return respond(I.retry_webhooks(*caller));
  }
  if (handle_supervision(I.service, r, *caller, respond)) return;
  if (p.rfind("/api/v1/admin/", 0) == 0) {
    if (!caller->regulator) return respond(error(403, "administration needs the regulator key"));
    if (r.method != "POST") return respond(error(405, "use POST"));
    return I.admin(r, std::string_view(p).substr(14), std::move(respond));
  }
  // Tax settlement and returns.
  if (p == "/api/v1/tax/statement") {
    if (r.method != "GET") return respond(error(405, "use GET"));
    return respond(I.get_tax_statement(r, *caller));
  }
  if (p == "/api/v1/tax/payments") {
    if (r.method != "POST") return respond(error(405, "use POST"));
    return I.post_tax_payment(r, *caller, std::move(respond));
  }
  if (p == "/api/v1/returns/arrivals") {
    if (r.method != "POST") return respond(error(405, "use POST"));
    return I.post_return_arrival(r, *caller, std::move(respond));
  }
  respond(error(404, "no such resource"));
}

}  // namespace cbec::service
