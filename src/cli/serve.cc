// `cbec serve`: the durable clearance service over HTTP; `cbec submit`: a small client.
#include <algorithm>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "clearance/supervision.h"
#include "common/crypto.h"
#include "common/thread_name.h"
#include "demo/demo.h"
#include "fmt/format.h"
#include "server/http.h"
#include "service/api.h"
#include "service/service.h"
#include "spdlog/spdlog.h"
#include "toml++/toml.h"

namespace cbec::cli {

// The demo zone's guarantees start at 50 million yuan each, so a long demo never holds lists.
constexpr Fen kDemoGuaranteeFloorFen = 50'000'000'00;
// The feeder generates this many sets at a time, with this share of faulty ones.
constexpr int kFeedSetsPerRound = 20;
constexpr double kFeedFaultShare = 0.05;

std::string demo_key(std::string_view code) { return fmt::format("demo-key-{}", code); }
std::string demo_officer_key(std::string_view id) {
  return fmt::format("demo-officer-key-{}", id);
}

namespace {

struct Config {
  std::string regulator_key;
  std::string reference_dir;
  double rate_per_second = service::kDefaultRatePerSecond;
  double rate_burst = service::kDefaultRateBurst;
  size_t max_body_bytes = server::kDefaultMaxBodyBytes;
  int io_threads = server::kDefaultIoThreads;
  // How long a list the core no longer works with stays in memory before it is archived.
  double archive_after_seconds = clearance::kDefaultArchiveAfterMs / 1000.0;
  // How often (log time) a snapshot is written so that a restart replays only the log after it;
  // 0 = never (a restart replays the whole log).
  double snapshot_interval_seconds = service::kDefaultSnapshotIntervalMs / 1000.0;
  // The block cache of the receipt store and the archive (service/storage.h), in MiB.
  int64_t storage_cache_mib = static_cast<int64_t>(service::kDefaultStorageCacheBytes >> 20);
};

Result<Config> load_config(const std::string& path) {
  Config c;
  if (path.empty()) return c;
  try {
    toml::table t = toml::parse_file(path);
    for (auto&& [k, v] : t) {
      std::string key(k.str());
      if (key == "regulator_key") c.regulator_key = v.value_or(std::string());
      else if (key == "reference_dir") c.reference_dir = v.value_or(std::string());
      else if (key == "rate_per_second") c.rate_per_second = v.value_or(c.rate_per_second);
      else if (key == "rate_burst") c.rate_burst = v.value_or(c.rate_burst);
      else if (key == "max_body_bytes") c.max_body_bytes = v.value_or(int64_t{0});
      else if (key == "io_threads") c.io_threads = static_cast<int>(v.value_or(int64_t{2}));
      else if (key == "archive_after_seconds")
        c.archive_after_seconds = v.value_or(c.archive_after_seconds);
      else if (key == "snapshot_interval_seconds")
        c.snapshot_interval_seconds = v.value_or(c.snapshot_interval_seconds);
      else if (key == "storage_cache_mib") {
        c.storage_cache_mib = v.value_or(int64_t{-1});
        const int64_t lo = service::kMinStorageCacheBytes >> 20;
        const int64_t hi = service::kMaxStorageCacheBytes >> 20;
        if (c.storage_cache_mib < lo || c.storage_cache_mib > hi)
          return InvalidArgument(
              fmt::format("{}: storage_cache_mib must be an integer from {} to {}", path, lo, hi));
      } else return InvalidArgument(fmt::format("{}: unknown key '{}'", path, key));
    }
  } catch (const toml::parse_error& e) {
    return InvalidArgument(fmt::format("{}: {}", path, e.what()));
  }
  return c;
}

// Registers the demo zone with documented keys on first start (an empty log).
Status setup_demo(service::Service& svc, const gen::Zone& zone) {
  bool fresh = svc.Read([](const clearance::Engine& e) { return e.last_seq() == 0; });
  if (!fresh) return Status::Ok();
  TRY(demo::register_zone(svc, zone, kDemoGuaranteeFloorFen, demo_key, demo_officer_key));
  spdlog::info("event=demo_zone_registered enterprises={} items={}", zone.enterprises.size(),
               zone.items.size());
  return Status::Ok();
}

// A hall order's documents come in over a minute or so, as at a real kiosk: the hall's pickup
// waybill at checkout, then the order, the payment and the list; the buyer collects a while
// after release. Spread out like this, the hall's board shows every stage.
constexpr int kHallDocumentGapMs = 4000;
constexpr int kHallPickupAfterListMs = 40000;

struct Scheduled {
  std::chrono::steady_clock::time_point due;
  std::string sender;
  std::string path;
  std::string body;
  std::string content_type;
};

// Feeds generated document sets through the HTTP API as the enterprises would, a few lists a
// second, so a new user sees lists clearing and the O2O hall's board filling.
void feed(uint16_t port, double lists_per_second, double hall_share, std::atomic<bool>* stop) {
  gen::Zone zone = gen::demo_zone();
  auto ref = ref::ReferenceData::LoadDefaults();
  if (!ref.ok()) return;
  std::map<std::string, std::unique_ptr<server::HttpClient>> clients;
  uint64_t seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  int round = 0;
  std::deque<Scheduled> later;  // hall documents and pickups not yet due (kept in due order)
  auto post = [&](const std::string& sender, const std::string& path, const std::string& body,
                  const std::string& content_type) {
    auto& c = clients[sender];
    if (!c) {
      auto made = server::HttpClient::Connect("127.0.0.1", port);
      if (!made.ok()) return false;
      c = std::move(*made);
    }
    auto r = c->Request("POST", path, body,
                        {{"Content-Type", content_type}, {"X-API-Key", demo_key(sender)}});
    if (!r.ok()) c.reset();
    return true;
  };
  auto send_due = [&] {
    auto now = std::chrono::steady_clock::now();
    while (!later.empty() && later.front().due <= now && !*stop) {
      Scheduled s = std::move(later.front());
      later.pop_front();
      post(s.sender, s.path, s.body, s.content_type);
    }
  };
  auto schedule = [&](Scheduled s) {
    auto at = std::upper_bound(later.begin(), later.end(), s.due,
                               [](auto due, const Scheduled& x) { return due < x.due; });
    later.insert(at, std::move(s));
  };
  while (!*stop) {
    gen::Options opt;
    opt.seed = seed + round++;
    opt.count = kFeedSetsPerRound;
    opt.fault_share = kFeedFaultShare;
    opt.faults_round_robin = false;
    opt.share_hall = hall_share;
    opt.start_time = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    auto g = gen::generate(zone, opt, **ref);
    if (!g.ok()) return;
    for (const auto& set : g->sets) {
      // Each round's generator starts from the zone's initial stock, so good sets of the
      // limited item (8 units) would be rejected for stock from the second round on: skip them.
      bool limited = false;
      for (const auto& line : set.inventory.lists) {
        const gen::BookItem* item = zone.item(line.itemRecordNo);
        limited = limited || (item != nullptr && item->limited);
      }
      if (limited && set.expected.fault == gen::Fault::kNone) continue;
      auto subs = demo::submissions(zone, std::span(&set, 1));
      if (set.waybill.head.logisticsCode == zone.hallCode) {
        // The hall's waybill first, then order and list, the payment last (so the list waits
        // for it a moment, as when a buyer pays at the kiosk); the pickup after release.
        auto rank = [](const demo::Submission& s) {
          switch (s.message.type) {
            case ceb::MessageType::kCEB511: return 0;
            case ceb::MessageType::kCEB311: return 1;
            case ceb::MessageType::kCEB621: return 2;
            default: return 3;
          }
        };
        std::stable_sort(subs.begin(), subs.end(), [&](const auto& a, const auto& b) {
          return rank(a) < rank(b);
        });
        auto t = std::chrono::steady_clock::now();
        for (auto& sub : subs) {
          schedule({t, sub.sender, "/api/v1/messages", ceb::write_message_xml(sub.message),
                    "application/xml"});
          t += std::chrono::milliseconds(kHallDocumentGapMs);
        }
        if (set.expected.fault == gen::Fault::kNone) {
          const std::string& id = set.inventory.head.buyerIdNumber;
          schedule({t + std::chrono::milliseconds(kHallPickupAfterListMs), zone.hallCode,
                    "/api/v1/hall/pickup",
                    fmt::format(R"({{"code":"{}","idSuffix":"{}","clerk":"demo"}})",
                                set.payment.head.payTransactionId, id.substr(id.size() - 4)),
                    "application/json"});
        }
      } else {
        for (auto& sub : subs) {
          if (*stop) return;
          if (!post(sub.sender, "/api/v1/messages", ceb::write_message_xml(sub.message),
                    "application/xml"))
            return;
        }
      }
      send_due();
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(1000 / lists_per_second)));
    }
  }
}

}  // namespace

int serve(const ServeArgs& args) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  auto cfg = load_config(args.config);
  if (!cfg.ok()) {
    spdlog::error("event=config_error reason=\"{}\"", cfg.status().message());
    return 2;
  }
  if (args.demo && cfg->regulator_key.empty()) cfg->regulator_key = "demo-regulator-key";
  auto reference = cfg->reference_dir.empty() ? ref::ReferenceData::LoadDefaults()
                                              : ref::ReferenceData::LoadDir(cfg->reference_dir);
  if (!reference.ok()) {
    spdlog::error("event=reference_error reason=\"{}\"", reference.status().message());
    return 2;
  }
  auto colon = args.listen.rfind(':');
  if (colon == std::string::npos) {
    spdlog::error("event=config_error reason=\"--listen must be HOST:PORT\"");
    return 2;
  }
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto t0 = std::chrono::steady_clock::now();
  service::ServiceOptions so;
  so.data_dir = args.data_dir;
  so.reference = *reference;
  so.archive_after_ms = static_cast<TimeMs>(std::max(0.0, cfg->archive_after_seconds) * 1000);
  so.snapshot_interval_ms =
      static_cast<TimeMs>(std::max(0.0, cfg->snapshot_interval_seconds) * 1000);
  so.storage_cache_bytes = static_cast<size_t>(cfg->storage_cache_mib) << 20;
  if (!args.fixed_draw_seed.empty()) {
    // Tests and reproducible demos only: every day's draw seed is this one, so the random
    // lanes can be predicted. A zone never runs with it.
    auto seed = hex_decode(args.fixed_draw_seed);
    if (!seed || seed->size() != clearance::kDrawSeedBytes) {
      spdlog::error("event=bad_option option=--fixed-draw-seed reason=\"{} hex characters\"",
                    2 * clearance::kDrawSeedBytes);
      return 2;
    }
    spdlog::warn("event=fixed_draw_seed reason=\"draws are predictable: tests only\"");
    so.draw_seed = [s = *seed](CivilDate) { return s; };
  }
  auto svc = service::Service::Open(so);
  if (!svc.ok()) {
    spdlog::error("event=open_failed data_dir={} reason=\"{}\"", args.data_dir,
                  svc.status().message());
    return 1;
  }
  const auto& snap = (*svc)->snapshots();
  spdlog::info(
      "event=recovered data_dir={} seq={} ms={} torn_bytes_dropped={} snapshot_seq={} "
      "replayed={}",
      args.data_dir, (*svc)->last_seq(),
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count(),
      (*svc)->log_recovery().torn_bytes_dropped, snap.restored_seq, snap.replayed);
  if (!snap.skipped.empty())
    spdlog::warn("event=snapshot_skipped reason=\"{}\"", snap.skipped);
  if (args.demo) {
    Status s = setup_demo(**svc, gen::demo_zone());
    if (!s.ok()) {
      spdlog::error("event=demo_setup_failed reason=\"{}\"", s.message());
      return 1;
    }
  }
  auto api = std::make_shared<service::Api>(
      svc->get(), service::ApiOptions{cfg->regulator_key, cfg->rate_per_second, cfg->rate_burst});
  server::ServerOptions opts;
  opts.host = args.listen.substr(0, colon);
  opts.port = static_cast<uint16_t>(std::stoi(args.listen.substr(colon + 1)));
  opts.io_threads = cfg->io_threads;
  opts.max_body_bytes = cfg->max_body_bytes;
  auto srv = server::HttpServer::Start(opts, api);
  if (!srv.ok()) {
    spdlog::error("event=listen_failed listen={} reason=\"{}\"", args.listen,
                  srv.status().message());
    return 1;
  }
  api->set_server(srv->get());
  std::string base = fmt::format("http://{}:{}", opts.host, (*srv)->port());
  spdlog::info("event=listening url={} demo={}", base, args.demo);
  if (!args.port_file.empty()) std::ofstream(args.port_file) << (*srv)->port() << "\n";
  std::cout << fmt::format(
                   "\ncbec is running.\n  API          {}/api/v1/openapi.json\n"
                   "  health       {}/healthz\n  metrics      {}/metrics\n",
                   base, base, base)
            << fmt::format("  hall board   {}/board\n  pickup desk  {}/pickup\n"
                           "  my orders    {}/my\n  statistics   {}/dashboard\n"
                           "  officer desk {}/officer\n",
                           base, base, base, base, base)
            << (args.demo ? fmt::format("  receipts     curl -H 'X-API-Key: demo-key-4101960003' "
                                        "'{}/api/v1/receipts?limit=5'\n"
                                        "  officer      key demo-officer-key-461200101 … -461200105 (site "
                                        "4612: officer console)\n"
                                        "               curl -H 'X-API-Key: demo-officer-key-461200101' "
                                        "'{}/api/v1/officer/queues'\n"
                                        "  draw audit   {}/api/v1/audit/seeds\n"
                                        "  regulator    key demo-regulator-key (statistics: the "
                                        "whole zone)\n"
                                        "  hall         key {} (pickup desk)\n"
                                        "  enterprise   e.g. key demo-key-4101960001 (statistics: "
                                        "own figures beside the zone's)\n",
                                        base, base, base, demo_key(gen::demo_zone().hallCode))
                          : "")
            << std::flush;

  std::atomic<bool> stop_feed{false};
  std::thread feeder;
  if (args.demo && args.feed_rate > 0) {
    feeder = std::thread(feed, (*srv)->port(), args.feed_rate, args.hall_share, &stop_feed);
    name_thread(feeder, "cbec-feed");
  }

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("event=stopping signal={}", sig);
  stop_feed = true;
  if (feeder.joinable()) feeder.join();
  (*srv)->Stop(5000);  // in-flight requests finish
  srv->reset();
  svc->reset();  // drains the queue: every accepted command is logged and answered
  spdlog::info("event=stopped");
  return 0;
}

Result<std::unique_ptr<server::HttpClient>> connect_url(const std::string& url) {
  std::string rest = url.rfind("http://", 0) == 0 ? url.substr(7) : url;
  auto colon = rest.rfind(':');
  std::string host = rest.substr(0, colon);
  uint16_t port = 80;
  try {
    if (colon != std::string::npos) port = static_cast<uint16_t>(std::stoi(rest.substr(colon + 1)));
  } catch (...) {
    return InvalidArgument("bad URL " + url + ": http://HOST:PORT");
  }
  return server::HttpClient::Connect(host, port);
}

int submit(const std::string& url, const std::string& key, const std::vector<std::string>& files,
           bool xml) {
  auto client = connect_url(url);
  if (!client.ok()) {
    std::cerr << "cannot connect to " << url << ": " << client.status().message() << "\n";
    return 2;
  }
  int rc = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    auto r = (*client)->Request("POST", "/api/v1/messages", body.str(),
                                {{"X-API-Key", key},
                                 {"Accept", xml ? "application/xml" : "application/json"}});
    if (!r.ok()) {
      std::cerr << f << ": " << r.status().message() << "\n";
      rc = 1;
      continue;
    }
    std::cout << f << ": HTTP " << r->status << "\n" << r->body << "\n";
    if (r->status != 200) rc = 1;
  }
  return rc;
}

}  // namespace cbec::cli
