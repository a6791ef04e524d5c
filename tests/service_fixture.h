// Shared set-up of the in-process service tests: a fresh data directory, the embedded reference
// data, service options with a fixed clock and no ticks, and the demo zone registered with keys
// "key-<code>".
#pragma once

#include <filesystem>
#include <string>

#include "demo/demo.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "server/http.h"
#include "service/api.h"
#include "service/service.h"

namespace cbec::service::testing {

inline std::string temp_dir(const std::string& name) {
  std::filesystem::path p = std::filesystem::path(CBEC_BINARY_DIR) / "test-data" / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

inline std::shared_ptr<const ref::ReferenceData> reference() {
  static auto r = *ref::ReferenceData::LoadDefaults();
  return r;
}

inline ServiceOptions base_options(const std::string& dir) {
  ServiceOptions o;
  o.data_dir = dir;
  o.reference = reference();
  o.ticks = false;
  o.draw_seeds = false;  // every list green unless a test forces a lane
  o.clock = [] { return beijing_midnight(CivilDate{2025, 6, 18}) + 9 * kMsPerHour; };
  return o;
}

inline Status register_demo_zone(Service& s) {
  return demo::register_zone(
      s, gen::demo_zone(), 100'000'000'00,
      [](std::string_view code) { return "key-" + std::string(code); },
      [](std::string_view id) { return "officer-key-" + std::string(id); });
}

// A generated day of the demo zone (5 % faulty sets), as the submissions of each sender.
inline std::vector<demo::Submission> day(int count, uint64_t seed) {
  gen::Options opt;
  opt.seed = seed;
  opt.count = count;
  opt.fault_share = 0.05;
  auto g = gen::generate(gen::demo_zone(), opt, *reference());
  EXPECT_TRUE(g.ok());
  return demo::submissions(gen::demo_zone(), g->sets);
}

inline void setup_zone(Service& s) {
  Status st = register_demo_zone(s);
  ASSERT_TRUE(st.ok()) << st.ToString();
}

// What the HTTP tests share: a Service opened with `options` and the demo zone registered (keys as
// setup_zone's), the HTTP API with the regulator key, the real server on 127.0.0.1 port 0, and one
// keep-alive client. stop_http_zone takes them down in the reverse order.
inline Status start_http_zone(ServiceOptions options, const std::string& regulator_key,
                              int client_timeout_ms, std::unique_ptr<Service>* service,
                              std::shared_ptr<Api>* api,
                              std::unique_ptr<server::HttpServer>* server,
                              std::unique_ptr<server::HttpClient>* client) {
  TRY_ASSIGN(*service, Service::Open(std::move(options)));
  TRY(register_demo_zone(**service));
  *api = std::make_shared<Api>(service->get(), ApiOptions{regulator_key});
  server::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  TRY_ASSIGN(*server, server::HttpServer::Start(so, *api));
  (*api)->set_server(server->get());
  TRY_ASSIGN(*client, server::HttpClient::Connect("127.0.0.1", (*server)->port(), client_timeout_ms));
  return Status::Ok();
}

inline void stop_http_zone(std::unique_ptr<server::HttpClient>* client,
                           std::unique_ptr<server::HttpServer>* server, std::shared_ptr<Api>* api,
                           std::unique_ptr<Service>* service) {
  client->reset();
  if (*server) (*server)->Stop();
  server->reset();
  api->reset();
  service->reset();
}

}  // namespace cbec::service::testing
