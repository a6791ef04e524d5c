// cbec-core-log-bench: the clearance core with the durable command log on (issue #6, "core
// alone: parsed commands in, receipts out, durable log on").
//
// What it measures. A generated day of the demo zone (gen::generate, as cbec-core-bench and
// cbec-load use it) is turned into the commands the service would log: one SubmitMessage per CEB
// message of up to 100 records (orders, payments, waybills, then lists of each group of sets),
// encoded with service::encode_submit, so the log payload is the raw message as an enterprise
// sent it (XML by default, --payload json) and the body is the parsed message. Everything up to
// here is outside the timing. Timed: the commands go through the command log (cmdlog::CommandLog,
// one write + one fdatasync per group-committed batch of --batch commands) and each durable batch
// is applied to clearance::Engine in log order, receipts collected and the lane draws drained as
// the service does. By default the two stages overlap like the service's writer (the log stage
// syncs batch N+1 while the apply stage applies batch N); --serial does append, sync, apply one
// after the other on one thread.
//
// Not included (the service does them on top): HTTP, XML parsing and validation, receipt
// encoding, RocksDB puts, and (unless --projections) the board and statistics projections, which
// the service's apply thread runs after each command. The log directory must be on the
// disk being measured (default: a fresh directory under $TMPDIR or /tmp, removed afterwards).
//
// Last line printed (for bench/compare and bench/check), figures of the median round:
//   core_log_lists_per_s=N (wall clock) core_log_lists_per_cpu_s=N (lists per second of process
//   CPU time, both threads) core_log_lines_per_list=X ...
// Run: build/cbec-core-log-bench [--sets 20000] [--batch 16] [--rounds 1] [--dir DIR]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "clearance/supervision.h"
#include "demo/demo.h"
#include "fmt/format.h"
#include "gen/gen.h"
#include "log/log.h"
#include "service/board.h"
#include "service/command_codec.h"
#include "service/rocks_archive.h"
#include "service/stats.h"

namespace {

using namespace cbec;
using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

struct Round {
  double seconds = 0;
  double cpu_seconds = 0;
  double apply_seconds = 0;  // time the apply stage spent applying (busy)
  double log_seconds = 0;    // time the log stage spent in AppendDurable (write + fdatasync)
  uint64_t syncs = 0;
  uint64_t log_bytes = 0;
  uint64_t receipts = 0;
  uint64_t lists_released = 0;  // list receipts (CEB622) with 800: released
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cbec-core-log-bench: clearance core + durable command log, lists/s"};
  int sets = 20000, batch = 16, rounds = 1;
  uint64_t seed = 99;
  std::string dir, payload = "xml";
  bool serial = false, no_sync = false, with_archive = false, projections = false;
  app.add_option("--sets", sets, "document sets (= lists) of the generated day")
      ->check(CLI::Range(100, 1000000));
  app.add_option("--batch", batch, "commands (messages of up to 100 records) per group commit")
      ->check(CLI::Range(1, static_cast<int>(cmdlog::kMaxBatchRecords)));
  app.add_option("--rounds", rounds, "fresh engine and log each round; best and median printed")
      ->check(CLI::Range(1, 100));
  app.add_option("--seed", seed);
  app.add_option("--dir", dir, "parent directory of the log (default $TMPDIR or /tmp)");
  app.add_option("--payload", payload,
                 "what the log holds for a submission: the raw message as xml or json")
      ->check(CLI::IsMember({"xml", "json"}));
  app.add_flag("--serial", serial, "append+sync then apply on one thread (no overlap)");
  app.add_flag("--no-sync", no_sync, "skip fdatasync (NOT durable; for comparison only)");
  app.add_flag("--archive", with_archive,
               "the core over a RocksDB archive as cbec serve runs it (every new key is first "
               "looked up there)");
  app.add_flag("--projections", projections,
               "after each command, the board and statistics projections as the service's apply "
               "thread runs them (service::Board, service::StatsCentre)");
  CLI11_PARSE(app, argc, argv);
  if (dir.empty()) dir = std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp";

  // ---- The day, outside the timing -----------------------------------------------------------
  gen::Zone zone = gen::demo_zone();
  std::shared_ptr<const ref::ReferenceData> reference = *ref::ReferenceData::LoadDefaults();
  gen::Options opt;
  opt.seed = seed;
  opt.count = sets;
  auto g = gen::generate(zone, opt, *reference);
  if (!g.ok()) {
    std::cerr << g.status().ToString() << "\n";
    return 1;
  }
  std::vector<demo::Submission> subs = demo::submissions(zone, g->sets);
  uint64_t lines = 0, documents = 0;
  for (const auto& s : g->sets) lines += s.inventory.lists.size();
  for (const auto& s : subs) documents += s.message.record_count();
  const TimeMs now = beijing_midnight(CivilDate{2025, 6, 18}) + 8 * kMsPerHour;
  const size_t n_batches = (subs.size() + batch - 1) / batch;

  std::vector<Round> results;
  for (int round = 0; round < rounds; ++round) {
    // Fresh commands, engine and log each round.
    std::vector<service::EncodedCommand> setup;
    {
      std::string day_seed(clearance::kDrawSeedBytes, '\x5a');
      setup.push_back(
          service::encode_admin(clearance::SetDrawSeed{CivilDate{2025, 6, 18}, day_seed}));
      for (auto& body : demo::setup_commands(zone, 10'000'000'000))
        setup.push_back(service::encode_admin(std::move(body)));
    }
    std::vector<service::EncodedCommand> cmds;
    cmds.reserve(subs.size());
    uint64_t payload_bytes = 0;
    for (const auto& s : subs) {
      std::string raw =
          payload == "xml" ? ceb::write_message_xml(s.message) : ceb::write_message_json(s.message);
      cmds.push_back(service::encode_submit(s.sender, raw, s.message));
      payload_bytes += cmds.back().payload.size();
    }
    // Commands as the engine takes them, built before the timing (the service builds one per
    // apply from the encoded command; see the report of issue #6).
    std::vector<clearance::Command> core_cmds;
    core_cmds.reserve(cmds.size());

    std::filesystem::path log_dir =
        std::filesystem::path(dir) / fmt::format("cbec-core-log-{}-{}", ::getpid(), round);
    std::filesystem::remove_all(log_dir);
    cmdlog::LogOptions lo;
    lo.sync = !no_sync;
    auto log = cmdlog::CommandLog::Open(log_dir.string(), lo);
    if (!log.ok()) {
      std::cerr << log.status().ToString() << "\n";
      return 1;
    }
    std::unique_ptr<service::RocksArchive> archive;
    clearance::EngineOptions eo{reference, {}};
    if (with_archive) {
      auto a = service::RocksArchive::Open((log_dir / "archive").string());
      if (!a.ok()) {
        std::cerr << a.status().ToString() << "\n";
        return 1;
      }
      archive = std::move(*a);
      eo.archive = archive.get();
    }
    clearance::Engine engine(std::move(eo));
    auto board = projections ? std::make_unique<service::Board>() : nullptr;
    auto stats = projections ? std::make_unique<service::StatsCentre>() : nullptr;
    ceb::Receipts receipts;
    std::vector<clearance::DrawRecord> draws;
    uint64_t seq = 0;
    {
      std::vector<cmdlog::RecordView> views;
      for (const auto& c : setup)
        views.push_back({++seq, now, static_cast<uint8_t>(c.kind), c.payload});
      if (Status s = (*log)->AppendDurable(views); !s.ok()) {
        std::cerr << s.ToString() << "\n";
        return 1;
      }
      seq = 0;
      for (auto& c : setup) (void)engine.apply({++seq, now, std::move(c.body)}, &receipts);
      engine.take_draws(nullptr);
      receipts.clear();
    }
    const uint64_t seq_base = seq;
    for (size_t i = 0; i < cmds.size(); ++i)
      core_cmds.push_back({seq_base + 1 + i, now, std::move(cmds[i].body)});
    receipts.reserve(sets * 9ull);

    Round r;
    const uint64_t bytes0 = (*log)->stats().bytes, syncs0 = (*log)->stats().syncs;
    std::vector<cmdlog::RecordView> views;
    auto append = [&](size_t b) -> Status {
      size_t lo_i = b * batch, hi_i = std::min(cmds.size(), lo_i + batch);
      views.clear();
      for (size_t i = lo_i; i < hi_i; ++i)
        views.push_back(
            {seq_base + 1 + i, now, static_cast<uint8_t>(cmds[i].kind), cmds[i].payload});
      auto t = Clock::now();
      Status s = (*log)->AppendDurable(views);
      r.log_seconds += std::chrono::duration<double>(Clock::now() - t).count();
      return s;
    };
    auto apply = [&](size_t b) {
      size_t lo_i = b * batch, hi_i = std::min(cmds.size(), lo_i + batch);
      auto t = Clock::now();
      for (size_t i = lo_i; i < hi_i; ++i) {
        // As the service does: the core takes the message's documents.
        clearance::Command& c = core_cmds[i];
        (void)engine.apply(c.seq, c.time, std::move(c.body), &receipts);
        if (projections) {
          board->Observe(engine, c.time, receipts);
          stats->Observe(engine, service::observe_applied(engine, c.time, &receipts));
        }
        engine.take_draws(&draws);
        draws.clear();
        // The service hands a command's receipts to its answer and drops them: keeping every
        // receipt of the run would grow memory and make the projections walk them all.
        receipts.clear();
      }
      r.apply_seconds += std::chrono::duration<double>(Clock::now() - t).count();
    };

    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    Status failed;
    if (serial) {
      for (size_t b = 0; b < n_batches && failed.ok(); ++b) {
        failed = append(b);
        if (failed.ok()) apply(b);
      }
    } else {
      // The service's pipeline: at most two durable batches wait for the apply stage.
      std::mutex mu;
      std::condition_variable cv;
      std::deque<size_t> durable;
      bool log_done = false;
      std::thread log_stage([&] {
        for (size_t b = 0; b < n_batches; ++b) {
          Status s = append(b);
          std::unique_lock lk(mu);
          if (!s.ok()) {
            failed = s;
            break;
          }
          cv.wait(lk, [&] { return durable.size() < 2; });
          durable.push_back(b);
          cv.notify_all();
        }
        std::lock_guard lk(mu);
        log_done = true;
        cv.notify_all();
      });
      for (;;) {
        size_t b;
        {
          std::unique_lock lk(mu);
          cv.wait(lk, [&] { return !durable.empty() || log_done; });
          if (durable.empty()) break;
          b = durable.front();
          durable.pop_front();
          cv.notify_all();
        }
        apply(b);
      }
      log_stage.join();
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    r.cpu_seconds = cpu_seconds() - cpu0;
    if (!failed.ok()) {
      std::cerr << "command log failed: " << failed.ToString() << "\n";
      return 1;
    }
    r.syncs = (*log)->stats().syncs - syncs0;
    r.log_bytes = (*log)->stats().bytes - bytes0;
    r.receipts = receipts.size();
    for (const auto& rc : receipts) {
      if (rc.answers != ceb::MessageType::kCEB621) continue;
      if (rc.returnStatus == 800) ++r.lists_released;
    }
    log->reset();
    std::filesystem::remove_all(log_dir);
    results.push_back(r);
    std::cout << fmt::format(
        "round {}: {:.3f} s, {:.0f} lists/s, {:.0f} documents/s; apply stage busy {:.3f} s "
        "({:.1f} µs/list), log stage {:.3f} s in {} fdatasyncs ({:.2f} ms per batch, {:.1f} MB "
        "written, payload {:.1f} MB); CPU {:.3f} s; receipts {}, lists released (800) {}\n",
        round + 1, r.seconds, sets / r.seconds, documents / r.seconds, r.apply_seconds,
        1e6 * r.apply_seconds / sets, r.log_seconds, r.syncs,
        n_batches ? 1e3 * r.log_seconds / n_batches : 0.0, r.log_bytes / 1e6, payload_bytes / 1e6,
        r.cpu_seconds, r.receipts, r.lists_released);
  }

  // The median round (by wall-clock lists/s; the upper one of an even count) gives every figure.
  std::vector<size_t> order(results.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return results[a].seconds > results[b].seconds; });
  const Round& med = results[order[order.size() / 2]];
  const double median = sets / med.seconds, best = sets / results[order.back()].seconds;
  std::cout << fmt::format(
      "workload: {} lists of the demo generator (seed {}), {:.2f} lines per list, {} documents "
      "(order, payment, waybill, list per set) in {} messages of up to 100 records; "
      "{} commands per group commit ({} batches), {} payload, {}, {}{}\n",
      sets, seed, double(lines) / sets, documents, subs.size(), batch, n_batches, payload,
      no_sync ? "NO fdatasync (not durable)" : "fdatasync per batch",
      serial ? "serial (append, sync, apply)" : "pipelined (sync N+1 while applying N)",
      projections ? ", with the board and statistics projections" : "");
  std::cout << fmt::format(
      "core_log_lists_per_s={:.0f} core_log_docs_per_s={:.0f} core_log_best_lists_per_s={:.0f} "
      "core_log_lists_per_cpu_s={:.0f} core_log_apply_us_per_list={:.2f} "
      "core_log_sync_ms_per_batch={:.2f} core_log_lines_per_list={:.2f} core_log_rounds={}\n",
      median, median * documents / sets, best, sets / med.cpu_seconds,
      1e6 * med.apply_seconds / sets, n_batches ? 1e3 * med.log_seconds / n_batches : 0.0,
      double(lines) / sets, rounds);
  return 0;
}
