// Helpers shared by the HTTP API's translation units (api.cc, api_supervision.cc): the caller
// identity, JSON answers and the mapping of Status codes to HTTP statuses.
#pragma once

#include <string>
#include <string_view>

#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "server/http.h"
#include "service/service.h"

namespace cbec::service {

using server::HttpRequest;
using server::HttpResponse;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

struct Caller {
  std::string code;  // enterprise code; empty for the regulator and officers
  bool regulator = false;
  std::string officer;  // officer id when an officer's own key was used
  // Customs (the regulator key or an officer) reads every enterprise's data.
  bool customs() const { return regulator || !officer.empty(); }
};

inline HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

inline HttpResponse error(int status, std::string_view message) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  w.Key("error");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  HttpResponse r = json_response(status, b.GetString());
  r.headers.emplace_back("Cache-Control", "no-store");  // a 404 must not be cached by a browser
  return r;
}

inline int http_status_of(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

inline std::string str(const rapidjson::Value& o, const char* k) {
  if (!o.IsObject() || !o.HasMember(k)) return {};
  const auto& v = o[k];
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  return {};
}

inline void raw(Writer& w, const char* key, const std::string& json) {
  w.Key(key);
  w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
}
inline void s(Writer& w, const char* key, std::string_view v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}


// The routes of api_supervision.cc (DOMAIN.md §8): audit seeds and draws, officers' queues and
// actions, control orders, credit. Returns false if the path is not one of them.
bool handle_supervision(Service* service, const server::HttpRequest& r, const Caller& c,
                        server::Handler::Respond& respond);
// GET /api/v1/audit/seeds: public, no key.
server::HttpResponse audit_seeds(Service* service);

}  // namespace cbec::service
