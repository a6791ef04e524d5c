// HTTP routes of supervision (DOMAIN.md §8): the published draw seeds and lane decisions
// (/api/v1/audit/...), and the officers' work (/api/v1/officer/...): queues, claims, decisions,
// inspection results, control orders, credit and grade confirmations.
//
// Officer routes need an officer's own key: every action is logged with the officer id taken
// from the key, never from the body, so nobody acts in another officer's name.
#include <algorithm>

#include "clearance/supervision.h"
#include "common/crypto.h"
#include "fmt/format.h"
#include "service/api_common.h"
#include "service/command_codec.h"

namespace cbec::service {

namespace {

using server::Handler;

constexpr int kDefaultQueuePage = 200;
constexpr int kMaxQueuePage = 1000;
constexpr int64_t kMaxControlOrderHours = 24 * 366;  // a control order lasts at most a year

void findings_json(Writer& w, const char* key, const std::vector<ceb::Finding>& fs) {
  w.Key(key);
  w.StartArray();
  for (const auto& f : fs) {
    w.StartObject();
    s(w, "rule", f.rule);
    s(w, "field", f.field);
    s(w, "zh", f.zh);
    s(w, "en", f.en);
    w.EndObject();
  }
  w.EndArray();
}

int page_limit(const HttpRequest& r, int def, int max) {
  if (!r.has_param("limit")) return def;
  try {
    return std::clamp(std::stoi(std::string(r.param("limit"))), 1, max);
  } catch (...) {
    return def;
  }
}

// Logs the command and answers {"seq":N} once it is durable and applied, or the refusal.
void submit(Service* service, EncodedCommand cmd, Handler::Respond respond) {
  service->Submit(std::move(cmd), [respond](Result<Applied> a) {
    if (!a.ok()) return respond(error(http_status_of(a.status()), a.status().message()));
    if (!a->status.ok()) return respond(error(http_status_of(a->status), a->status.message()));
    respond(json_response(200, fmt::format("{{\"seq\":{}}}", a->seq)));
  });
}

Result<rapidjson::Document> body_object(const HttpRequest& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str(), r.body.size());
  if (d.HasParseError() || !d.IsObject()) return InvalidArgument("body must be a JSON object");
  return d;
}

bool flag(const rapidjson::Value& d, const char* k) {
  return d.HasMember(k) && d[k].IsBool() && d[k].GetBool();
}

// ---- /api/v1/audit ------------------------------------------------------------------------

// ?invtNo=: the decisions of one list, for those who may read the list (customs, or the
// enterprise whose grade set the rate).
HttpResponse audit_draws_of_list(Service* service, const HttpRequest& r, const Caller& c) {
  auto draws = service->DrawsOfList(std::string(r.param("invtNo")));
  if (!draws.ok()) return error(http_status_of(draws.status()), draws.status().message());
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  s(w, "invtNo", r.param("invtNo"));
  w.Key("draws");
  w.StartArray();
  for (const auto& d : *draws) {
    if (!c.customs() && d.enterprise != c.code) continue;
    std::string j = clearance::draw_record_json(d);
    w.RawValue(j.data(), j.size(), rapidjson::kObjectType);
  }
  w.EndArray();
  w.EndObject();
  return json_response(200, b.GetString());
}

HttpResponse audit_draws(Service* service, const HttpRequest& r, const Caller& c) {
  if (r.has_param("invtNo")) return audit_draws_of_list(service, r, c);
  auto day = parse_day(r.param("day"));
  if (!day) return error(400, "day=yyyyMMdd (or invtNo=) is required");
  uint64_t after = 0;
  try {
    if (r.has_param("after")) after = std::stoull(std::string(r.param("after")));
  } catch (...) {
    return error(400, "after must be a number");
  }
  int limit = page_limit(r, kMaxReceiptPage, kMaxReceiptPage);
  auto draws = service->Draws(*day, c.customs() ? "" : c.code, after, limit);
  if (!draws.ok()) return error(http_status_of(draws.status()), draws.status().message());
  auto [sha, seed] = service->Read([&](const clearance::Engine& e) {
    const clearance::SeedRecord* sr = e.supervision().seed(*day);
    bool revealed = sr != nullptr && e.now() >= beijing_midnight(*day) + kMsPerDay;
    return std::pair<std::string, std::string>{
        sr ? sr->sha256_hex : "", revealed ? hex_encode(sr->seed) : ""};
  });
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  s(w, "day", format_date8(*day));
  s(w, "seedSha256", sha);
  s(w, "seed", seed);
  w.Key("draws");
  w.StartArray();
  uint64_t next = after;
  for (const auto& d : *draws) {
    std::string j = clearance::draw_record_json(d);
    w.RawValue(j.data(), j.size(), rapidjson::kObjectType);
    next = d.seq;
  }
  w.EndArray();
  w.Key("next");
  w.Uint64(next);
  w.EndObject();
  return json_response(200, b.GetString());
}

// ---- /api/v1/officer ----------------------------------------------------------------------

void queue_item_json(Writer& w, const clearance::Engine& e, const clearance::QueueItem& q) {
  w.StartObject();
  s(w, "invtNo", q.invtNo);
  s(w, "lane", clearance::lane_name(q.lane));
  s(w, "queuedAt", format_return_time(q.queued_at));
  s(w, "assigned", q.assigned);
  s(w, "claimedBy", q.claimed_by);
  findings_json(w, "reasons", q.reasons);
  if (auto L = e.list_by_invt_no(q.invtNo)) {
    const auto& h = L->doc.head;
    s(w, "state", clearance::list_state_name(L->state));
    w.Key("returnStatus");
    w.Int(L->returnStatus);
    s(w, "ebpCode", h.ebpCode);
    s(w, "ebcCode", h.ebcCode);
    s(w, "agentCode", h.agentCode);
    s(w, "orderNo", h.orderNo);
    s(w, "tradeMode", h.tradeMode);
    s(w, "declaredAt", format_return_time(L->declared_at));
    w.Key("lines");
    w.Uint64(L->doc.lists.size());
    if (L->tax) {
      s(w, "dutiable", format_fen(L->tax->dutiable_fen));
      s(w, "tax", format_fen(L->tax->total_fen()));
    }
  }
  w.EndObject();
}

HttpResponse officer_queues(Service* service, const HttpRequest& r, const Caller& c) {
  int limit = page_limit(r, kDefaultQueuePage, kMaxQueuePage);
  bool mine = r.param("mine") == "1" || r.param("mine") == "true";
  return service->Read([&](const clearance::Engine& e) -> HttpResponse {
    const clearance::Officer* off = e.supervision().officer(c.officer);
    if (off == nullptr) return error(403, "officer not registered");
    std::vector<const clearance::QueueItem*> yellow, red;
    for (const auto& [inv, q] : e.supervision().queue()) {
      if (q.site != off->site) continue;
      if (mine && q.owner() != off->officer_id) continue;
      (q.lane == clearance::Lane::kRed ? red : yellow).push_back(&q);
    }
    auto oldest_first = [](const clearance::QueueItem* a, const clearance::QueueItem* b) {
      return a->queued_at != b->queued_at ? a->queued_at < b->queued_at : a->invtNo < b->invtNo;
    };
    std::sort(yellow.begin(), yellow.end(), oldest_first);
    std::sort(red.begin(), red.end(), oldest_first);
    rapidjson::StringBuffer b;
    Writer w(b);
    w.StartObject();
    s(w, "officer", off->officer_id);
    s(w, "site", off->site);
    w.Key("onDuty");
    w.Bool(off->on_duty);
    w.Key("open");
    w.Uint(off->open);
    for (auto [name, items] : {std::pair{"yellow", &yellow}, std::pair{"red", &red}}) {
      w.Key(fmt::format("{}Total", name).c_str());
      w.Uint64(items->size());
      w.Key(name);
      w.StartArray();
      for (size_t i = 0; i < items->size() && i < static_cast<size_t>(limit); ++i)
        queue_item_json(w, e, *(*items)[i]);
      w.EndArray();
    }
    w.EndObject();
    return json_response(200, b.GetString());
  });
}

void control_order_json(Writer& w, const clearance::ControlOrder& o, TimeMs now) {
  w.StartObject();
  s(w, "orderId", o.order_id);
  s(w, "officer", o.officer_id);
  s(w, "target", clearance::control_target_name(o.target));
  s(w, "pattern", o.pattern);
  s(w, "action", clearance::lane_name(o.action));
  s(w, "setAt", format_return_time(o.set_at));
  s(w, "expiresAt", format_return_time(o.expires_at));
  s(w, "reason", o.reason);
  w.Key("revoked");
  w.Bool(o.revoked);
  w.Key("active");
  w.Bool(o.active(now));
  w.Key("hits");
  w.Uint64(o.hits);
  w.EndObject();
}

HttpResponse officer_control_orders(Service* service) {
  return service->Read([&](const clearance::Engine& e) {
    rapidjson::StringBuffer b;
    Writer w(b);
    w.StartObject();
    w.Key("controlOrders");
    w.StartArray();
    for (const auto& [id, o] : e.supervision().control_orders()) control_order_json(w, o, e.now());
    w.EndArray();
    w.EndObject();
    return json_response(200, b.GetString());
  });
}

void proposal_json(Writer& w, const clearance::GradeProposal& p) {
  static constexpr const char* kStates[] = {"open", "confirmed", "superseded"};
  w.StartObject();
  w.Key("id");
  w.Uint64(p.id);
  s(w, "code", p.code);
  s(w, "from", ref::credit_grade_name(p.from));
  s(w, "to", ref::credit_grade_name(p.to));
  s(w, "toZh", ref::credit_grade_zh(p.to));
  w.Key("score");
  w.Int64(p.score);
  s(w, "explanationZh", p.explanation_zh);
  s(w, "explanationEn", p.explanation_en);
  s(w, "proposedAt", format_return_time(p.proposed_at));
  s(w, "state", kStates[static_cast<int>(p.state)]);
  w.EndObject();
}

HttpResponse officer_credit(Service* service, const HttpRequest& r) {
  std::string only(r.param("code"));
  return service->Read([&](const clearance::Engine& e) -> HttpResponse {
    const auto& sup = e.supervision();
    const ref::Policy& p = e.reference().policy_at(beijing_date(e.now()));
    std::vector<std::string> codes;
    if (!only.empty()) {
      if (e.enterprise(only) == nullptr) return error(404, "no such enterprise");
      codes.push_back(only);
    } else {
      codes = sup.credit_codes();
    }
    rapidjson::StringBuffer b;
    Writer w(b);
    w.StartObject();
    w.Key("enterprises");
    w.StartArray();
    for (const auto& code : codes) {
      const clearance::Enterprise* ent = e.enterprise(code);
      clearance::CreditSummary cs = sup.credit(code, e.now(), p);
      w.StartObject();
      s(w, "code", code);
      s(w, "name", ent ? ent->name : "");
      s(w, "grade", ent ? ref::credit_grade_name(ent->grade) : "");
      s(w, "gradeZh", ent ? ref::credit_grade_zh(ent->grade) : "");
      w.Key("counts");
      w.StartObject();
      for (size_t k = 0; k < clearance::kCreditEventKinds; ++k) {
        std::string_view name = clearance::credit_event_name(static_cast<clearance::CreditEventKind>(k));
        w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
        w.Int64(cs.counts[k]);
      }
      w.EndObject();
      w.Key("score");
      w.Int64(cs.score);
      s(w, "explanationZh", cs.explanation_zh);
      s(w, "explanationEn", cs.explanation_en);
      w.EndObject();
    }
    w.EndArray();
    w.Key("proposals");
    w.StartArray();
    for (const auto& [id, prop] : sup.proposals())
      if ((only.empty() && prop.state == clearance::GradeProposal::State::kOpen) ||
          (!only.empty() && prop.code == only))
        proposal_json(w, prop);
    w.EndArray();
    w.Key("gradeChanges");
    w.StartArray();
    for (const auto& g : sup.grade_changes()) {
      if (!only.empty() && g.code != only) continue;
      w.StartObject();
      s(w, "code", g.code);
      s(w, "grade", ref::credit_grade_name(g.grade));
      s(w, "effectiveFrom", format_return_time(g.effective_from));
      s(w, "officer", g.officer_id);
      s(w, "reason", g.reason);
      w.Key("proposal");
      w.Uint64(g.proposal_id);
      w.Key("applied");
      w.Bool(g.applied);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return json_response(200, b.GetString());
  });
}

void officer_post(Service* service, std::string_view what, const HttpRequest& r,
                  const Caller& c, Handler::Respond respond) {
  auto parsed = body_object(r);
  if (!parsed.ok()) return respond(error(400, parsed.status().message()));
  const rapidjson::Document& d = *parsed;
  if (what == "claim") {
    return submit(service,
                  encode_admin(clearance::ClaimList{c.officer, str(d, "invtNo"), flag(d, "unclaim")}),
                  std::move(respond));
  }
  if (what == "decisions") {
    auto action = clearance::parse_officer_action(str(d, "action"));
    if (!action) return respond(error(400, "action: release, reject, inspect, modify, detain_501, detain_502, detain_503 or detain_599"));
    return submit(service,
                  encode_admin(clearance::OfficerDecision{c.officer, str(d, "invtNo"), *action,
                                                          str(d, "reason")}),
                  std::move(respond));
  }
  if (what == "inspections") {
    bool finding = flag(d, "finding");
    clearance::OfficerAction action = clearance::OfficerAction::kRelease;
    if (finding) {
      auto a = clearance::parse_officer_action(str(d, "action"));
      if (!a) return respond(error(400, "a finding needs action: reject, modify or detain_5xx"));
      action = *a;
    }
    return submit(service,
                  encode_admin(clearance::InspectionResult{c.officer, str(d, "invtNo"), finding,
                                                           str(d, "category"), action,
                                                           str(d, "reason")}),
                  std::move(respond));
  }
  if (what == "control-orders") {
    clearance::SetControlOrder o;
    o.officer_id = c.officer;
    o.order_id = str(d, "orderId");
    o.revoke = flag(d, "revoke");
    if (!o.revoke) {
      auto target = clearance::parse_control_target(str(d, "target"));
      if (!target)
        return respond(error(400, "target: hs_code, enterprise, buyer_id, address or phone"));
      o.target = *target;
      std::string action = str(d, "action");
      if (action != "yellow" && action != "red")
        return respond(error(400, "action: yellow (manual review) or red (inspection)"));
      o.action = action == "red" ? clearance::Lane::kRed : clearance::Lane::kYellow;
      o.pattern = str(d, "pattern");
      o.reason = str(d, "reason");
      int64_t hours = d.HasMember("expiresInHours") && d["expiresInHours"].IsInt64()
                          ? d["expiresInHours"].GetInt64()
                          : 0;
      if (hours < 1 || hours > kMaxControlOrderHours)
        return respond(error(400, fmt::format("expiresInHours: 1..{}", kMaxControlOrderHours)));
      o.expires_at = service->Now() + hours * kMsPerHour;
    }
    return submit(service, encode_admin(std::move(o)), std::move(respond));
  }
  if (what == "grades") {
    auto grade = ref::parse_credit_grade(str(d, "grade"));
    if (!grade) return respond(error(400, "grade: advanced_certified, certified, regular, dishonest or seriously_dishonest"));
    TimeMs effective = 0;
    if (!str(d, "effectiveFrom").empty()) {
      auto day = parse_day(str(d, "effectiveFrom"));
      if (!day) return respond(error(400, "effectiveFrom: yyyy-MM-dd (Beijing midnight)"));
      effective = beijing_midnight(*day);
    }
    return submit(service,
                  encode_admin(clearance::ConfirmGrade{c.officer, str(d, "code"), *grade,
                                                       effective, str(d, "reason")}),
                  std::move(respond));
  }
  respond(error(404, "no such officer resource"));
}

}  // namespace

HttpResponse audit_seeds(Service* service) {
  return service->Read([&](const clearance::Engine& e) {
    rapidjson::StringBuffer b;
    Writer w(b);
    w.StartObject();
    w.Key("seeds");
    w.StartArray();
    for (const auto& [day, sr] : e.supervision().seeds()) {
      w.StartObject();
      s(w, "day", format_date8(day));
      s(w, "sha256", sr.sha256_hex);
      // The seed itself only once its day is over: before, it would let anyone predict draws.
      bool revealed = e.now() >= beijing_midnight(day) + kMsPerDay;
      s(w, "seed", revealed ? hex_encode(sr.seed) : "");
      s(w, "loggedAt", format_return_time(sr.logged_at));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return json_response(200, b.GetString());
  });
}

bool handle_supervision(Service* service, const HttpRequest& r, const Caller& c,
                        Handler::Respond& respond) {
  const std::string& p = r.path;
  if (p == "/api/v1/audit/draws") {
    respond(r.method == "GET" ? audit_draws(service, r, c) : error(405, "use GET"));
    return true;
  }
  constexpr std::string_view kOfficer = "/api/v1/officer/";
  if (p.rfind(kOfficer, 0) != 0) return false;
  if (c.officer.empty()) {
    respond(error(403, "officer work needs an officer's own key (every action names its officer)"));
    return true;
  }
  std::string_view what = std::string_view(p).substr(kOfficer.size());
  if (r.method == "GET") {
    if (what == "queues") respond(officer_queues(service, r, c));
    else if (what == "control-orders") respond(officer_control_orders(service));
    else if (what == "credit") respond(officer_credit(service, r));
    else if (what == "me") {
      respond(service->Read([&](const clearance::Engine& e) -> HttpResponse {
        const clearance::Officer* o = e.supervision().officer(c.officer);
        if (o == nullptr) return error(403, "officer not registered");
        rapidjson::StringBuffer b;
        Writer w(b);
        w.StartObject();
        s(w, "officer", o->officer_id);
        s(w, "name", o->name);
        s(w, "site", o->site);
        w.Key("onDuty");
        w.Bool(o->on_duty);
        w.Key("open");
        w.Uint(o->open);
        w.EndObject();
        return json_response(200, b.GetString());
      }));
    } else {
      respond(error(404, "no such officer resource"));
    }
    return true;
  }
  if (r.method != "POST") {
    respond(error(405, "use GET or POST"));
    return true;
  }
  officer_post(service, what, r, c, respond);
  return true;
}

}  // namespace cbec::service
