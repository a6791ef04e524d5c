#include "service/web_api.h"

#include "service/api_common.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "clearance/id_number.h"
#include "clearance/rules.h"
#include "common/thread_name.h"
#include "fmt/format.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace cbec {
// web/dist/* compiled in (CMake, cmake/embed_web.cmake); "" if absent.
std::string_view embedded_web_file(std::string_view path);
}  // namespace cbec

namespace cbec::service {

namespace {

namespace cl = clearance;

HttpResponse json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// A refused pickup: the reason code and both languages, as the counter shows them.
HttpResponse refusal(const Status& s) {
  auto why = cl::parse_pickup_refusal(s.message());
  if (!why) return error(http_status_of(s), s.message());
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  auto kv = [&](const char* k, std::string_view v) {
    w.Key(k);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  kv("error", s.message());
  kv("reason", why->reason);
  kv("zh", why->zh);
  kv("en", why->en);
  w.EndObject();
  return json(http_status_of(s), b.GetString());
}

void kv(Writer& w, const char* k, std::string_view v) {
  w.Key(k);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

std::string jstr(const rapidjson::Value& o, const char* k) {
  if (!o.IsObject() || !o.HasMember(k) || !o[k].IsString()) return {};
  return std::string(o[k].GetString(), o[k].GetStringLength());
}

class AddressLimiter {
 public:
  AddressLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}
  bool allow(const std::string& who) {
    double now = std::chrono::duration<double>(
                     std::chrono::steady_clock::now().time_since_epoch())
                     .count();
    std::lock_guard lk(mu_);
    // Bounded: buckets idle long enough to be full again carry no information.
    if (buckets_.size() > kMaxBuckets) {
      for (auto it = buckets_.begin(); it != buckets_.end();)
        it = now - it->second.last > burst_ / rate_ ? buckets_.erase(it) : std::next(it);
    }
    auto [it, fresh] = buckets_.try_emplace(who);
    Bucket& b = it->second;
    if (fresh) b.tokens = burst_;
    else b.tokens = std::min(burst_, b.tokens + (now - b.last) * rate_);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

 private:
  static constexpr size_t kMaxBuckets = 100000;
  struct Bucket {
    double tokens = 0;
    double last = 0;
  };
  double rate_, burst_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

std::optional<BoardStage> stage_of(cl::ListState s) {
  using LS = cl::ListState;
  switch (s) {
    case LS::kDraft: return BoardStage::kOrdered;
    case LS::kWaiting: return BoardStage::kDeclared;
    case LS::kHeld:
    case LS::kManualReview:
    case LS::kInspection:
    case LS::kDetained: return BoardStage::kReview;
    case LS::kReleased: return BoardStage::kReady;
    case LS::kClosed: return BoardStage::kPickedUp;
    case LS::kRejected:
    case LS::kCancelled: return BoardStage::kRejected;  // will not be collected (see board.cc)
  }
  return std::nullopt;
}

TimeMs time_of_status(const cl::ListRecord& L, int status) {
  for (const auto& ev : L.history)
    if (ev.returnStatus == status) return ev.time;
  return 0;
}

void goods_json(Writer& w, const ceb::Inventory& inv) {
  w.Key("goods");
  w.StartArray();
  for (const auto& line : inv.lists) {
    w.StartObject();
    w.Key("gnum");
    w.Int64(line.gnum);
    kv(w, "name", line.gname);
    kv(w, "qty", format_decimal(line.qty));
    kv(w, "unit", line.unit);
    kv(w, "country", line.country);
    kv(w, "totalPrice", format_fen(round_half_up_fen(line.totalPrice)));
    w.EndObject();
  }
  w.EndArray();
}

void tax_json(Writer& w, const tax::ListTax& t) {
  w.Key("tax");
  w.StartObject();
  kv(w, "dutiable", format_fen(t.dutiable_fen));
  kv(w, "tariff", format_fen(t.tariff_fen));
  kv(w, "consumption", format_fen(t.ct_fen));
  kv(w, "vat", format_fen(t.vat_fen));
  kv(w, "total", format_fen(t.total_fen()));
  w.EndObject();
}

void state_json(Writer& w, const cl::ListRecord& L) {
  kv(w, "invtNo", L.invtNo);
  kv(w, "state", cl::list_state_name(L.state));
  kv(w, "stateZh", cl::list_state_zh(L.state));
  kv(w, "stateEn", cl::list_state_en(L.state));
  if (auto st = stage_of(L.state)) kv(w, "stage", board_stage_name(*st));
  w.Key("returnStatus");
  w.Int(L.returnStatus);
  w.Key("declaredAt");
  w.Int64(L.history.empty() ? 0 : L.history.front().time);
  w.Key("releasedAt");
  w.Int64(time_of_status(L, ceb::status::kReleased));
  w.Key("closedAt");
  w.Int64(cl::closed_at(L));
}

// "1718672400000", "2025-06-18", "2025-06-18T09:00" (Beijing) → ms.
std::optional<TimeMs> parse_time_param(std::string_view v) {
  if (v.empty()) return std::nullopt;
  if (v.find('-') == std::string_view::npos) {
    TimeMs t = 0;
    for (char c : v) {
      if (c < '0' || c > '9' || t > (INT64_MAX - 9) / 10) return std::nullopt;
      t = t * 10 + (c - '0');
    }
    return t;
  }
  auto date = parse_iso_date(v.substr(0, 10));
  if (!date) return std::nullopt;
  TimeMs t = beijing_midnight(*date);
  if (v.size() == 10) return t;
  if (v.size() != 16 || (v[10] != 'T' && v[10] != ' ') || v[13] != ':') return std::nullopt;
  auto two = [&](size_t i) -> int {
    return std::isdigit(static_cast<unsigned char>(v[i])) &&
                   std::isdigit(static_cast<unsigned char>(v[i + 1]))
               ? (v[i] - '0') * 10 + (v[i + 1] - '0')
               : -1;
  };
  int hh = two(11), mm = two(14);
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59) return std::nullopt;
  return t + hh * kMsPerHour + mm * 60 * kMsPerSecond;
}

}  // namespace

std::string_view web_content_type(std::string_view p) {
  auto ends = [&](std::string_view e) {
    return p.size() >= e.size() && p.substr(p.size() - e.size()) == e;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".json")) return "application/json; charset=utf-8";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".woff2")) return "font/woff2";
  return "application/octet-stream";
}

struct WebApi::Impl {
  Service* service;
  Authenticator authenticate;
  WebOptions options;
  AddressLimiter public_limiter;

  struct Stream {
    std::shared_ptr<server::EventStream> stream;
    std::string hall;  // "" = every hall
    uint64_t cursor = 0;
    bool needs_snapshot = true;
  };
  std::mutex streams_mu;
  std::vector<Stream> streams;
  std::atomic<bool> stopping{false};
  std::atomic<bool> new_streams{false};
  std::thread pusher;

  Impl(Service* s, Authenticator a, WebOptions o)
      : service(s),
        authenticate(std::move(a)),
        options(o),
        public_limiter(o.public_rate_per_second, o.public_rate_burst) {
    pusher = std::thread([this] { PushLoop(); });
    name_thread(pusher, "cbec-web-push");
  }
  ~Impl() {
    stopping = true;
    if (pusher.joinable()) pusher.join();
  }

  // ---- pages and assets ----------------------------------------------------------------------
  std::optional<HttpResponse> page(const HttpRequest& r) {
    if (r.method != "GET" && r.method != "HEAD") return std::nullopt;
    std::string_view p = r.path;
    std::string file;
    bool immutable = false;
    if (p == "/" || p == "/index.html") file = "index.html";
    for (std::string_view name : {"board", "pickup", "my", "dashboard", "officer"}) {
      if (p.size() > 1 && p.substr(1) == name) file = std::string(name) + ".html";
      if (p.size() > 2 && p.substr(1, p.size() - 2) == name && p.back() == '/')
        file = std::string(name) + ".html";
    }
    if (p.rfind("/assets/", 0) == 0 && p.find("..") == std::string_view::npos) {
      file = std::string(p.substr(1));
      // Asset names carry a hash of their content (web/build.mjs): cache them for good.
      immutable = true;
    }
    if (file.empty()) return std::nullopt;
    std::string_view body = embedded_web_file(file);
    if (body.empty()) {
      if (file.rfind("assets/", 0) == 0) return error(404, "no such asset");
      return error(503, "the web pages were not built into this binary (web/: npm ci)");
    }
    HttpResponse resp;
    resp.content_type = std::string(web_content_type(file));
    resp.body = std::string(body);
    resp.headers.emplace_back("Cache-Control", immutable ? "public, max-age=31536000, immutable"
                                                         : "no-cache");
    resp.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return resp;
  }

  // ---- GET /api/v1/board --------------------------------------------------------------------
  HttpResponse board_snapshot(const HttpRequest& r) {
    Board::Snapshot s = service->board().snapshot(r.param("hall"));
    return json(200, snapshot_json(s, r.param("hall")));
  }

  std::string snapshot_json(const Board::Snapshot& s, std::string_view hall) {
    std::string out = fmt::format("{{\"version\":{},\"hall\":\"{}\",\"items\":[", s.version,
                                  hall_code_safe(hall));
    for (size_t i = 0; i < s.items.size(); ++i) {
      if (i) out += ',';
      out += board_item_json(s.items[i]);
    }
    out += "]}";
    return out;
  }
  static std::string hall_code_safe(std::string_view h) {
    std::string out;
    for (char c : h)
      if (std::isalnum(static_cast<unsigned char>(c))) out += c;
    return out;
  }

  // ---- board stream pusher -------------------------------------------------------------------
  void PushLoop() {
    auto last_beat = std::chrono::steady_clock::now();
    uint64_t scanned = 0;
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
      uint64_t v = service->board().version();
      for (int waited = 0; waited < 500 && v <= scanned && !stopping; waited += 100) {
        if (new_streams.exchange(false)) break;
        v = service->board().WaitForVersionAfter(scanned, 100);
      }
      bool beat = std::chrono::steady_clock::now() - last_beat >
                  std::chrono::seconds(kBoardHeartbeatSeconds);
      if (beat) last_beat = std::chrono::steady_clock::now();
      bool backlog = false;
      std::lock_guard lk(streams_mu);
      for (auto& st : streams) {
        if (st.stream->closed()) continue;
        std::optional<std::vector<BoardEvent>> evs;
        if (!st.needs_snapshot)
          evs = service->board().events_after(st.cursor, st.hall, kBoardStreamPage);
        if (!evs) {
          // New reader, or one further behind than the retained events: the whole board.
          Board::Snapshot s = service->board().snapshot(st.hall);
          if (!st.stream->send(std::to_string(s.version), "snapshot",
                               snapshot_json(s, st.hall)))
            continue;
          st.cursor = s.version;
          st.needs_snapshot = false;
          continue;
        }
        bool all_sent = true;
        for (const BoardEvent& ev : *evs) {
          std::string data = ev.removed
                                 ? fmt::format("{{\"id\":\"{}\",\"hall\":\"{}\"}}", ev.item.id,
                                               ev.item.hall)
                                 : board_item_json(ev.item);
          if (!st.stream->send(std::to_string(ev.id), ev.removed ? "remove" : "update", data)) {
            all_sent = false;
            break;
          }
          st.cursor = ev.id;
        }
        if (evs->size() == kBoardStreamPage) backlog = true;
        // Every event up to v was in the answer (it was read after v): with a hall filter the
        // other halls' events were skipped, so move past them too.
        else if (all_sent) st.cursor = std::max(st.cursor, v);
        if (beat) st.stream->heartbeat();
      }
      std::erase_if(streams, [](const Stream& st) { return st.stream->closed(); });
      scanned = backlog ? scanned : v;
    }
    std::lock_guard lk(streams_mu);
    for (auto& st : streams) st.stream->close();
  }

  // ---- the hall counter ----------------------------------------------------------------------
  std::optional<HttpResponse> hall_caller(const HttpRequest& r, WebCaller* out) {
    auto c = authenticate(r);
    if (!c) return error(401, "missing or unknown API key");
    if (c->regulator) return error(403, "the pickup counter needs a hall's key");
    bool hall = service->Read([&](const cl::Engine& e) {
      const cl::Enterprise* ent = e.enterprise(c->code);
      return ent != nullptr && (ent->roles & cl::kRoleHall) != 0;
    });
    if (!hall) return error(403, "the pickup counter needs a hall's key");
    *out = *c;
    return std::nullopt;
  }

  HttpResponse hall_lookup(const HttpRequest& r, const WebCaller& c) {
    std::string code(r.param("code"));
    if (code.empty() || code.size() > cl::kMaxPickupCodeBytes)
      return error(400, "code (the pickup code) is required");
    return service->Read([&](const cl::Engine& e) -> HttpResponse {
      auto t = cl::find_pickup(e, code);
      if (!t) {
        return refusal(cl::pickup_refusal(cl::PickupRefusal::kUnknownCode,
                                          fmt::format("提货码{}不存在", code),
                                          fmt::format("unknown pickup code {}", code)));
      }
      if (t->list != nullptr && t->hall.empty()) {
        return refusal(cl::pickup_refusal(
            cl::PickupRefusal::kNotPickupOrder,
            fmt::format("订单{}为快递配送订单，不在体验中心自提", t->payment->head.orderNo),
            fmt::format("order {} is delivered by courier, not picked up at a hall",
                        t->payment->head.orderNo)));
      }
      if (t->list != nullptr && t->hall != c.code) {
        return refusal(cl::pickup_refusal(
            cl::PickupRefusal::kOtherHall,
            fmt::format("订单{}属于其他提货点({})", t->payment->head.orderNo, t->hall),
            fmt::format("order {} is for pickup at another hall ({})", t->payment->head.orderNo,
                        t->hall)));
      }
      rapidjson::StringBuffer b;
      Writer w(b);
      w.StartObject();
      kv(w, "code", code);
      kv(w, "orderNo", t->payment->head.orderNo);
      if (t->order) kv(w, "buyer", mask_name(t->order->head.buyerName));
      if (t->list == nullptr) {
        kv(w, "state", "not_declared");
        kv(w, "stateZh", "未申报清单");
        kv(w, "stateEn", "no list declared yet");
        kv(w, "stage", "ordered");
        w.Key("pickable");
        w.Bool(false);
      } else {
        const cl::ListRecord& L = *t->list;
        state_json(w, L);
        kv(w, "buyer", mask_name(L.doc.head.buyerName));
        kv(w, "ebpName", L.doc.head.ebpName);
        kv(w, "tradeMode", L.doc.head.tradeMode);
        w.Key("pickable");
        w.Bool(L.state == cl::ListState::kReleased);
        goods_json(w, L.doc);
        if (L.tax) tax_json(w, *L.tax);
        if (!L.hold_reason.empty()) kv(w, "waitingFor", L.hold_reason);
      }
      w.EndObject();
      return json(200, b.GetString());
    });
  }

  void hall_pickup(const HttpRequest& r, const WebCaller& c, const server::Handler::Respond& respond) {
    rapidjson::Document d;
    d.Parse(r.body.c_str(), r.body.size());
    if (d.HasParseError() || !d.IsObject()) return respond(error(400, "body must be a JSON object"));
    cl::Pickup p{c.code, jstr(d, "code"), jstr(d, "idSuffix"), jstr(d, "clerk")};
    if (p.clerk.size() > kMaxPublicFieldBytes) return respond(error(400, "clerk: too long"));
    // Checked before logging, so that a refusal costs no log record; the writer checks again
    // (the state may change in between) and that check is the one that counts.
    Status pre = service->Read([&](const cl::Engine& e) { return cl::check_pickup(e, p).status(); });
    if (!pre.ok()) return respond(refusal(pre));
    service->Submit(encode_admin(std::move(p)), [respond](Result<Applied> a) {
      if (!a.ok()) return respond(error(http_status_of(a.status()), a.status().message()));
      if (!a->status.ok()) return respond(refusal(a->status));
      std::string invt;
      for (const auto& rc : a->receipts)
        if (rc.answers == ceb::MessageType::kCEB621) invt = rc.invtNo;
      respond(json(200, fmt::format("{{\"seq\":{},\"invtNo\":\"{}\",\"state\":\"closed\","
                                    "\"closedAt\":{}}}",
                                    a->seq, invt, a->time)));
    });
  }

  // ---- consumer self-service -----------------------------------------------------------------
  // The order of this number whose buyer has this name and ID, over every platform.
  struct Found {
    cl::Found<ceb::Order> order;
    cl::Found<cl::ListRecord> list;
    std::string ebp;
  };
  static std::optional<Found> find_order(const cl::Engine& e, std::string_view orderNo,
                                         const std::string& name, const std::string& id) {
    for (const auto& [code, ent] : e.enterprises()) {
      if ((ent.roles & cl::kRoleEbp) == 0) continue;
      auto o = e.order(code, orderNo);
      auto L = e.list_by_order(code, orderNo);
      if (o == nullptr && L == nullptr) continue;
      std::string_view buyer = o ? std::string_view(o->head.buyerName) : L->doc.head.buyerName;
      std::string_view buyer_id = o ? std::string_view(o->head.buyerIdNumber)
                                    : L->doc.head.buyerIdNumber;
      if (cl::normalize_text(buyer) != name || cl::normalize_id_number(buyer_id) != id) continue;
      return Found{o, L, code};
    }
    return std::nullopt;
  }

  bool public_allowed(const HttpRequest& r) { return public_limiter.allow(r.remote_address); }

  HttpResponse public_order(const HttpRequest& r) {
    std::string orderNo = cl::normalize_text(r.param("orderNo"));
    std::string name = cl::normalize_text(r.param("name"));
    std::string id = cl::normalize_id_number(r.param("id"));
    if (orderNo.empty() || name.empty() || id.empty())
      return error(400, "orderNo, name and id are required");
    if (orderNo.size() > kMaxPublicFieldBytes || name.size() > kMaxPublicFieldBytes ||
        id.size() > kMaxPublicFieldBytes)
      return error(400, "a field is too long");
    return service->Read([&](const cl::Engine& e) -> HttpResponse {
      auto f = find_order(e, orderNo, name, id);
      // One answer for an unknown order and a wrong name or ID: nothing to enumerate.
      if (!f) return error(404, "no order with this number for this name and ID");
      rapidjson::StringBuffer b;
      Writer w(b);
      w.StartObject();
      kv(w, "orderNo", orderNo);
      kv(w, "buyer", mask_name(name));
      if (f->order) {
        kv(w, "ebpName", f->order->head.ebpName);
        kv(w, "goodsValue", format_fen(round_half_up_fen(f->order->head.goodsValue)));
        kv(w, "taxTotal", format_fen(round_half_up_fen(f->order->head.taxTotal)));
        kv(w, "acturalPaid", format_fen(round_half_up_fen(f->order->head.acturalPaid)));
        auto rec = e.order_record(f->ebp, orderNo);
        w.Key("orderedAt");
        w.Int64(rec ? rec->received_at : 0);
      }
      std::string hall;
      if (f->list == nullptr) {
        kv(w, "state", "not_declared");
        kv(w, "stateZh", "已下单，清单未申报");
        kv(w, "stateEn", "ordered; the customs list is not declared yet");
        kv(w, "stage", "ordered");
      } else {
        const cl::ListRecord& L = *f->list;
        state_json(w, L);
        kv(w, "tradeMode", L.doc.head.tradeMode);
        goods_json(w, L.doc);
        if (L.tax) tax_json(w, *L.tax);
        if (!L.hold_reason.empty()) kv(w, "waitingFor", L.hold_reason);
        if (L.state == cl::ListState::kRejected) {
          w.Key("findings");
          w.StartArray();
          for (const auto& fd : L.findings) {
            w.StartObject();
            kv(w, "rule", fd.rule);
            kv(w, "zh", fd.zh);
            kv(w, "en", fd.en);
            w.EndObject();
          }
          w.EndArray();
        }
        hall = cl::o2o_hall_of(e, L.doc);
      }
      w.Key("o2o");
      w.Bool(!hall.empty());
      if (!hall.empty()) {
        kv(w, "hall", hall);
        if (const cl::Enterprise* h = e.enterprise(hall)) kv(w, "hallName", h->name);
        // The pickup code is the payment voucher reference; shown once the goods are ready.
        if (f->list->state == cl::ListState::kReleased && f->order)
          kv(w, "pickupCode", f->order->head.payTransactionId);
      }
      quota_json(w, e, name, id, 0);
      w.EndObject();
      return json(200, b.GetString());
    });
  }

  static void quota_json(Writer& w, const cl::Engine& e, const std::string&,
                         const std::string& id, int year) {
    int y = year != 0 ? year : beijing_year(e.now());
    auto t = e.quota().totals({id, y});
    const ref::Policy& p = e.reference().policy_at(CivilDate{y, 12, 31});
    w.Key("quota");
    w.StartObject();
    w.Key("year");
    w.Int(y);
    kv(w, "released", format_fen(t.committed_fen));
    kv(w, "underReview", format_fen(t.reserved_fen));
    kv(w, "limit", format_fen(p.annual_limit_fen));
    kv(w, "remaining",
       format_fen(std::max<Fen>(0, p.annual_limit_fen - t.committed_fen - t.reserved_fen)));
    w.EndObject();
  }

  HttpResponse public_quota(const HttpRequest& r) {
    std::string name = cl::normalize_text(r.param("name"));
    std::string id = cl::normalize_id_number(r.param("id"));
    if (name.empty() || id.empty()) return error(400, "name and id are required");
    if (name.size() > kMaxPublicFieldBytes || id.size() > kMaxPublicFieldBytes)
      return error(400, "a field is too long");
    int year = 0;
    if (r.has_param("year")) {
      std::string y(r.param("year"));
      if (y.size() != 4 || !std::all_of(y.begin(), y.end(), ::isdigit))
        return error(400, "year must be yyyy");
      year = std::stoi(y);
    }
    return service->Read([&](const cl::Engine& e) -> HttpResponse {
      std::string known = e.buyer_name(id);
      if (known.empty() || known != name) return error(404, "no record for this name and ID");
      rapidjson::StringBuffer b;
      Writer w(b);
      w.StartObject();
      kv(w, "buyer", mask_name(name));
      quota_json(w, e, name, id, year);
      w.EndObject();
      return json(200, b.GetString());
    });
  }

  // ---- statistics ----------------------------------------------------------------------------
  Result<StatsCentre::Range> stats_range(const HttpRequest& r) {
    StatsCentre::Range range;
    std::string_view g = r.param("granularity");
    if (g.empty() || g == "hour") range.granularity = Granularity::kHour;
    else if (g == "day") range.granularity = Granularity::kDay;
    else return InvalidArgument("granularity must be hour or day");
    TimeMs step = range.granularity == Granularity::kHour ? kMsPerHour : kMsPerDay;
    auto to = parse_time_param(r.param("to"));
    auto from = parse_time_param(r.param("from"));
    if ((r.has_param("to") && !to) || (r.has_param("from") && !from))
      return InvalidArgument("from and to: ms since the epoch, yyyy-MM-dd or yyyy-MM-ddTHH:mm");
    TimeMs last = service->statistics().last_time();
    range.to = to ? *to : bucket_start(last, range.granularity) + step;
    range.from = from ? *from : range.to - std::max(kStatsDefaultRangeMs, step);
    if (range.from >= range.to) return InvalidArgument("from must be before to");
    if ((range.to - range.from) / step > kStatsMaxBuckets)
      return InvalidArgument(fmt::format("at most {} buckets per query", kStatsMaxBuckets));
    return range;
  }

  HttpResponse stats(const HttpRequest& r, const WebCaller& c, bool csv) {
    auto range = stats_range(r);
    if (!range.ok()) return error(400, range.status().message());
    const StatsCentre& sc = service->statistics();
    StatsCentre::Series zone = sc.query(*range, "");
    if (csv) {
      std::string body(stats_csv_header());
      if (!c.regulator) body += stats_csv_rows(sc.query(*range, c.code), c.code);
      body += stats_csv_rows(zone, "zone");
      HttpResponse resp;
      resp.content_type = "text/csv; charset=utf-8";
      resp.body = std::move(body);
      resp.headers.emplace_back("Cache-Control", "no-store");
      resp.headers.emplace_back(
          "Content-Disposition",
          fmt::format("attachment; filename=\"cbec-stats-{}.csv\"",
                      c.regulator ? std::string("zone") : c.code));
      return resp;
    }
    int year = beijing_year(range->to - 1);
    auto bands = sc.quota_bands(year);
    std::string out = "{";
    out += fmt::format("\"scope\":\"{}\"", c.regulator ? "zone" : "enterprise");
    if (!c.regulator) {
      out += fmt::format(",\"enterprise\":\"{}\"", c.code);
      out += ",\"own\":" + stats_series_json(sc.query(*range, c.code), *range, false);
    }
    out += ",\"zone\":" + stats_series_json(zone, *range, !c.regulator);
    Fen limit = service->Read([&](const cl::Engine& e) {
      return e.reference().policy_at(CivilDate{year, 12, 31}).annual_limit_fen;
    });
    out += fmt::format(",\"quota\":{{\"year\":{},\"limitFen\":{},\"bands\":[", year, limit);
    for (int i = 0; i <= kQuotaBands; ++i) {
      if (i) out += ',';
      out += fmt::format("{{\"fromPct\":{},\"toPct\":{},\"buyers\":{}}}", i * 100 / kQuotaBands,
                         i < kQuotaBands ? std::to_string((i + 1) * 100 / kQuotaBands) : "null",
                         bands[i]);
    }
    out += "]}";
    // Names for the chart labels: platforms for the regulator; an enterprise sees its own name.
    out += ",\"names\":{";
    service->Read([&](const cl::Engine& e) {
      bool first = true;
      for (const auto& [code, ent] : e.enterprises()) {
        if (!c.regulator && code != c.code) continue;
        if (c.regulator && (ent.roles & cl::kRoleEbp) == 0) continue;
        rapidjson::StringBuffer b;
        Writer w(b);
        w.String(ent.name.data(), static_cast<rapidjson::SizeType>(ent.name.size()));
        out += fmt::format("{}\"{}\":{}", first ? "" : ",", code, b.GetString());
        first = false;
      }
      return 0;
    });
    out += "}}";
    return json(200, std::move(out));
  }
};

WebApi::WebApi(Service* service, Authenticator authenticate, WebOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(authenticate), options)) {}
WebApi::~WebApi() = default;

bool WebApi::wants_stream(const HttpRequest& r) const {
  return r.method == "GET" && r.path == "/api/v1/board/stream";
}

server::Handler::StreamDecision WebApi::open_stream(const HttpRequest& r,
                                                    std::shared_ptr<server::EventStream> stream) {
  Impl::Stream st;
  st.stream = std::move(stream);
  st.hall = std::string(r.param("hall"));
  std::string_view last = r.header("last-event-id");
  if (last.empty()) last = r.param("after");
  if (!last.empty()) {
    uint64_t v = 0;
    for (char c : last) {
      if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10)
        return {false, error(400, "Last-Event-ID / after must be a number")};
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    st.cursor = v;
    st.needs_snapshot = false;
  }
  std::lock_guard lk(impl_->streams_mu);
  impl_->streams.push_back(std::move(st));
  impl_->new_streams = true;
  return {true, {}};
}

bool WebApi::handle(const HttpRequest& r, const server::Handler::Respond& respond) {
  Impl& I = *impl_;
  if (auto p = I.page(r)) {
    respond(std::move(*p));
    return true;
  }
  const std::string& p = r.path;
  if (p == "/api/v1/board") {
    respond(r.method == "GET" ? I.board_snapshot(r) : error(405, "use GET"));
    return true;
  }
  if (p == "/api/v1/hall/pickup") {
    WebCaller c;
    if (auto denied = I.hall_caller(r, &c)) {
      respond(std::move(*denied));
    } else if (r.method == "GET") {
      respond(I.hall_lookup(r, c));
    } else if (r.method == "POST") {
      I.hall_pickup(r, c, respond);
    } else {
      respond(error(405, "use GET or POST"));
    }
    return true;
  }
  if (p == "/api/v1/public/order" || p == "/api/v1/public/quota") {
    if (r.method != "GET") {
      respond(error(405, "use GET"));
    } else if (!I.public_allowed(r)) {
      HttpResponse resp = error(429, "too many queries from this address, retry shortly");
      resp.headers.emplace_back("Retry-After", "2");
      respond(std::move(resp));
    } else {
      respond(p == "/api/v1/public/order" ? I.public_order(r) : I.public_quota(r));
    }
    return true;
  }
  if (p == "/api/v1/stats" || p == "/api/v1/stats.csv") {
    auto c = I.authenticate(r);
    if (!c) respond(error(401, "missing or unknown API key"));
    else if (r.method != "GET") respond(error(405, "use GET"));
    else respond(I.stats(r, *c, p == "/api/v1/stats.csv"));
    return true;
  }
  return false;
}

}  // namespace cbec::service
