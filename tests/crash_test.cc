// Nothing acknowledged is lost: a client streams generated document sets to the real `cbec
// serve` process while it is killed with SIGKILL at random moments, 20 times. After every
// restart the client resends what it had not seen acknowledged (idempotency makes that safe).
// At the end, every receipt the client received is in the rebuilt receipt feed under the same
// number with identical content, and every list has the status its last receipt announced.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "demo/demo.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "server/http.h"
#include "service/service.h"

namespace cbec {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kKillCycles = 20;
constexpr const char* kRegulatorKey = "demo-regulator-key";

struct Server {
  pid_t pid = -1;
  uint16_t port = 0;
};

Server start_server(const std::string& dir) {
  std::string port_file = dir + "/port";
  fs::remove(port_file);
  std::string bin = std::string(CBEC_BINARY_DIR) + "/cbec";
  std::string log = dir + "/serve.log";
  // Snapshots every 20 ms of log time (a cycle lasts about 100 ms), so that kills also land while
  // one is being written and restarts start from snapshots with log tails of every length
  // (issue #3).
  std::string config = dir + "/serve.toml";
  // A small shared block cache (service/storage.h): restarts open the stores with it.
  std::ofstream(config) << "snapshot_interval_seconds = 0.02\nstorage_cache_mib = 32\n";
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(bin.c_str(), bin.c_str(), "serve", "--demo", "--data-dir", (dir + "/data").c_str(),
          "--listen", "127.0.0.1:0", "--port-file", port_file.c_str(), "--config",
          config.c_str(), nullptr);
    _exit(127);
  }
  Server s{pid, 0};
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      s.port = static_cast<uint16_t>(port);
      break;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) break;  // died at start-up
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return s;
}

std::string field(const rapidjson::Value& v, const char* k) {
  return v.HasMember(k) && v[k].IsString() ? v[k].GetString() : "";
}

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return b.GetString();
}

TEST(Crash, KillNineTwentyTimesLosesNothingAcknowledged) {
  std::string dir = std::string(CBEC_BINARY_DIR) + "/test-data/crash";
  fs::remove_all(dir);
  fs::create_directories(dir);

  gen::Zone zone = gen::demo_zone();
  gen::Options opt;
  opt.seed = 77;
  opt.count = 600;
  opt.fault_share = 0.05;
  auto g = gen::generate(zone, opt);
  ASSERT_TRUE(g.ok());
  // One set at a time (order, payment, waybill, list), so kills land between and inside sets.
  std::vector<demo::Submission> subs;
  for (const auto& set : g->sets)
    for (auto& s : demo::submissions(zone, std::span(&set, 1))) subs.push_back(std::move(s));
  std::vector<std::string> bodies;
  for (const auto& s : subs) bodies.push_back(ceb::write_message_xml(s.message));

  std::map<uint64_t, std::string> acked;              // receipt no -> receipt JSON
  std::map<std::string, int> list_status;             // copNo -> last acknowledged status
  size_t next = 0;
  std::mt19937_64 rng(4242);
  int kills = 0;
  for (int cycle = 0; cycle < kKillCycles && next < subs.size(); ++cycle) {
    Server srv = start_server(dir);
    ASSERT_GT(srv.port, 0) << "server did not start; see " << dir << "/serve.log";
    auto client = server::HttpClient::Connect("127.0.0.1", srv.port);
    ASSERT_TRUE(client.ok());
    // Kill after a random number of acknowledged messages (and a random sub-ms delay), so the
    // kill lands anywhere: between requests, while one is being logged, or mid-response.
    size_t stop_after = next + 5 + rng() % 60;
    int delay_us = static_cast<int>(rng() % 3000);
    while (next < subs.size()) {
      if (next == stop_after) {
        std::thread killer([&] {
          std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
          kill(srv.pid, SIGKILL);
        });
        // Keep sending while the killer fires: these requests race the kill.
        while (next < subs.size()) {
          auto r = (*client)->Request("POST", "/api/v1/messages", bodies[next],
                                      {{"X-API-Key", "demo-key-" + subs[next].sender},
                                       {"Content-Type", "application/xml"}});
          if (!r.ok() || r->status != 200) break;
          rapidjson::Document d;
          d.Parse(r->body.c_str());
          for (const auto& rc : d["receipts"].GetArray()) {
            acked[rc["no"].GetUint64()] = to_json(rc);
            if (field(rc, "message") == "CEB622Message") list_status[field(rc, "copNo")] = rc["returnStatus"].GetInt();
          }
          ++next;
        }
        killer.join();
        break;
      }
      auto r = (*client)->Request("POST", "/api/v1/messages", bodies[next],
                                  {{"X-API-Key", "demo-key-" + subs[next].sender},
                                   {"Content-Type", "application/xml"}});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->status, 200) << r->body;
      rapidjson::Document d;
      d.Parse(r->body.c_str());
      ASSERT_TRUE(d.IsObject() && d.HasMember("receipts")) << r->body;
      for (const auto& rc : d["receipts"].GetArray()) {
        acked[rc["no"].GetUint64()] = to_json(rc);
        if (field(rc, "message") == "CEB622Message") list_status[field(rc, "copNo")] = rc["returnStatus"].GetInt();
      }
      ++next;
    }
    int status = 0;
    waitpid(srv.pid, &status, 0);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ++kills;
  }
  EXPECT_EQ(kills, kKillCycles);

  // The killed service's data, opened in this process: it starts from the newest snapshot that
  // a kill did not interrupt, replays the log after it, and reaches the state a replay of the
  // whole log reaches.
  {
    auto reference = ref::ReferenceData::LoadDefaults();
    ASSERT_TRUE(reference.ok());
    service::ServiceOptions o;
    o.data_dir = dir + "/data";
    o.reference = *reference;
    o.ticks = false;
    o.draw_seeds = false;
    o.snapshot_on_shutdown = false;  // leave the tail for the final restart below
    auto svc = service::Service::Open(o);
    ASSERT_TRUE(svc.ok()) << svc.status().ToString();
    EXPECT_GT((*svc)->snapshots().restored_seq, 0u) << (*svc)->snapshots().skipped;
    std::string live = (*svc)->Read([](const clearance::Engine& e) { return e.dump_state(); });
    svc->reset();
    auto replayed = service::Service::ReplayToDump(o.data_dir, *reference);
    ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
    EXPECT_TRUE(*replayed == live) << "snapshot + tail differs from a replay of the whole log";
  }

  // Final restart: everything acknowledged must be there, unchanged.
  Server srv = start_server(dir);
  ASSERT_GT(srv.port, 0);
  auto client = server::HttpClient::Connect("127.0.0.1", srv.port);
  ASSERT_TRUE(client.ok());
  std::map<uint64_t, std::string> feed;
  uint64_t after = 0;
  for (;;) {
    auto r = (*client)->Request("GET", "/api/v1/receipts?limit=1000&after=" + std::to_string(after),
                                "", {{"X-API-Key", kRegulatorKey}});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200);
    rapidjson::Document d;
    d.Parse(r->body.c_str());
    const auto& arr = d["receipts"];
    if (arr.Empty()) break;
    for (const auto& rc : arr.GetArray()) feed[rc["no"].GetUint64()] = to_json(rc);
    after = d["next"].GetUint64();
  }
  size_t missing = 0, changed = 0;
  for (const auto& [no, json] : acked) {
    auto it = feed.find(no);
    if (it == feed.end()) ++missing;
    else if (it->second != json) ++changed;
  }
  // The receipt store and the archive share the cache the configuration asked for.
  auto metrics = (*client)->Request("GET", "/metrics", "", {{"X-API-Key", kRegulatorKey}});
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("\ncbec_storage_memory_bytes{part=\"cache_capacity\"} 33554432\n"),
            std::string::npos)
      << metrics->body;
  EXPECT_EQ(missing, 0u) << "acknowledged receipts lost";
  EXPECT_EQ(changed, 0u) << "acknowledged receipts changed";
  EXPECT_GT(acked.size(), 500u);
  // Each list is in the state its last acknowledged receipt announced.
  size_t checked = 0;
  for (const auto& [copNo, st] : list_status) {
    if (st != 800 && st != 100) continue;  // a waiting list may legitimately move on
    auto r = (*client)->Request("GET", "/api/v1/lists?agentCode=4101960003&copNo=" + copNo, "",
                                {{"X-API-Key", kRegulatorKey}});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << copNo;
    rapidjson::Document d;
    d.Parse(r->body.c_str());
    EXPECT_EQ(d["returnStatus"].GetInt(), st) << copNo;
    ++checked;
  }
  EXPECT_GT(checked, 100u);
  kill(srv.pid, SIGTERM);
  int status = 0;
  waitpid(srv.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "graceful stop failed";
}

}  // namespace
}  // namespace cbec
