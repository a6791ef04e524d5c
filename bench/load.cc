// cbec-load: drives `cbec serve --demo` over HTTP with pre-built CEB messages and reports
// throughput and receipt latency.
//
// Open loop (--rate > 0): every connection sends on a fixed schedule and latency is measured
// from the *intended* send time, so a stalled server shows up as latency instead of silently
// slowing the load (no coordinated omission). Flat out (--rate 0): each connection sends the
// next message as soon as the previous answer arrives.
//
// Two latencies are measured:
//   - per group: a connection sends a group's messages (orders, payments, waybills, lists of
//     `records` sets) one after the other; from the group's start (its intended send time in
//     open loop) to the last receipt. Each message waits for its own fdatasync, so this is about
//     four receipts' worth.
//   - per receipt: each message from when it could be sent to its receipt. The first of a group
//     counts from the group's start (so a late schedule shows), the others from the previous
//     receipt, when the connection sends them. This is issue #6's "p99 receipt latency".
// --warmup S leaves out of every figure the groups that start in the first S seconds: a short
// run measures the warm-up (memory filling, nothing archived yet), a long one with a warm-up
// the steady state that a zone's server lives in.
// Percentiles come from a log-linear histogram (HdrHistogram-style buckets, 3 significant
// digits; each percentile is the lower bound of its bucket), not from sorting.
//
// Output: a human-readable block, then one machine-readable line
//   load_summary records=.. connections=.. offered_lists_per_s=.. elapsed_s=.. requests=..
//   errors=.. docs_per_s=.. lists_per_s=.. requests_per_s=.. lines_per_list=.. p50_us=..
//   p90_us=.. p99_us=.. p999_us=.. max_us=.. receipt_p50_us=.. receipt_p90_us=..
//   receipt_p99_us=.. receipt_p999_us=.. receipt_max_us=..
// (p50_us .. max_us per group, receipt_* per receipt)
// (offered 0 = flat out); --csv FILE also appends the same fields as one CSV row to FILE,
// writing the header first when FILE is new or empty.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "demo/demo.h"
#include "fmt/format.h"
#include "gen/gen.h"
#include "server/http.h"

namespace {

using Clock = std::chrono::steady_clock;

// Log-linear latency histogram (HdrHistogram-style): 1 µs .. ~1 h, 3 significant digits.
class Histogram {
 public:
  static constexpr int kSubBuckets = 1024;
  static constexpr int kMagnitudes = 32;
  void record(uint64_t us) {
    int mag = 0;
    while ((us >> mag) >= static_cast<uint64_t>(kSubBuckets) && mag < kMagnitudes - 1) ++mag;
    counts_[mag][std::min<uint64_t>(us >> mag, kSubBuckets - 1)]++;
    ++total_;
    max_ = std::max(max_, us);
  }
  void merge(const Histogram& o) {
    for (int m = 0; m < kMagnitudes; ++m)
      for (int i = 0; i < kSubBuckets; ++i) counts_[m][i] += o.counts_[m][i];
    total_ += o.total_;
    max_ = std::max(max_, o.max_);
  }
  uint64_t percentile(double p) const {
    uint64_t want = static_cast<uint64_t>(std::ceil(p / 100.0 * total_));
    uint64_t seen = 0;
    for (int m = 0; m < kMagnitudes; ++m)
      for (int i = 0; i < kSubBuckets; ++i) {
        if (m > 0 && i < kSubBuckets / 2) continue;  // covered by the magnitude below
        seen += counts_[m][i];
        if (seen >= want && want > 0) return (static_cast<uint64_t>(i) << m);
      }
    return max_;
  }
  uint64_t total() const { return total_; }
  uint64_t max() const { return max_; }

 private:
  std::vector<std::vector<uint64_t>> counts_ =
      std::vector<std::vector<uint64_t>>(kMagnitudes, std::vector<uint64_t>(kSubBuckets));
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

struct Body {
  std::string sender;
  std::string xml;
  int records = 0;
  bool is_list = false;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cbec-load: HTTP load generator for cbec serve --demo"};
  std::string host = "127.0.0.1";
  int port = 8080, connections = 8, records = 100, seconds = 10, warmup = 0;
  double rate = 0;  // lists per second, 0 = flat out
  uint64_t seed = 1;
  int sets = 20000;
  std::string csv;
  app.add_option("--host", host);
  app.add_option("--port", port);
  app.add_option("--connections", connections)->check(CLI::Range(1, 512));
  app.add_option("--records", records, "records per message (1..100)")->check(CLI::Range(1, 100));
  app.add_option("--rate", rate, "offered lists per second (0 = flat out)");
  app.add_option("--seconds", seconds)->check(CLI::Range(1, 3600));
  app.add_option("--warmup", warmup, "seconds at the start left out of every figure")
      ->check(CLI::Range(0, 3599));
  app.add_option("--sets", sets, "document sets to pre-build")->check(CLI::Range(100, 2000000));
  app.add_option("--seed", seed);
  app.add_option("--csv", csv, "append the summary as a CSV row to this file");
  CLI11_PARSE(app, argc, argv);
  if (warmup >= seconds) {
    std::cerr << "--warmup must be shorter than --seconds\n";
    return 2;
  }

  // Pre-build every request body: generation and XML writing are not part of the measurement.
  cbec::gen::Zone zone = cbec::gen::demo_zone();
  cbec::gen::Options opt;
  opt.seed = seed;
  opt.count = sets;
  opt.start_time = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto g = cbec::gen::generate(zone, opt);
  if (!g.ok()) {
    std::cerr << g.status().ToString() << "\n";
    return 1;
  }
  uint64_t lines = 0;
  for (const auto& s : g->sets) lines += s.inventory.lists.size();
  const double lines_per_list = g->sets.empty() ? 0.0 : double(lines) / g->sets.size();
  // A group is the messages of `records` consecutive sets: orders, payments, waybills, then
  // lists (one message per sender and type). A connection sends a whole group in order, so each
  // list arrives after its partners and clears at once.
  std::vector<std::vector<Body>> group_bodies;
  for (size_t i = 0; i < g->sets.size(); i += records) {
    auto chunk = std::span(g->sets).subspan(i, std::min<size_t>(records, g->sets.size() - i));
    auto& group = group_bodies.emplace_back();
    for (auto& sub : cbec::demo::submissions(zone, chunk)) {
      group.push_back(Body{sub.sender, cbec::ceb::write_message_xml(sub.message),
                           static_cast<int>(sub.message.record_count()),
                           sub.message.type == cbec::ceb::MessageType::kCEB621});
    }
  }
  size_t groups = group_bodies.size();
  std::atomic<size_t> next_group{0};
  std::atomic<uint64_t> docs{0}, lists{0}, requests{0}, errors{0};
  std::vector<Histogram> hist(connections);          // per group
  std::vector<Histogram> receipt_hist(connections);  // per receipt (message)
  auto t0 = Clock::now();
  std::vector<Clock::time_point> last_done(connections, t0 + std::chrono::seconds(warmup));
  auto deadline = t0 + std::chrono::seconds(seconds);
  const auto measured_from = t0 + std::chrono::seconds(warmup);
  double group_interval_us = rate > 0 ? 1e6 * records / rate : 0;  // one group = `records` lists
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      auto client = cbec::server::HttpClient::Connect(host, static_cast<uint16_t>(port));
      if (!client.ok()) {
        ++errors;
        return;
      }
      for (;;) {
        size_t grp = next_group++;
        if (grp >= groups) return;
        auto intended = t0 + std::chrono::microseconds(static_cast<int64_t>(grp * group_interval_us));
        if (rate > 0) std::this_thread::sleep_until(intended);
        if (Clock::now() >= deadline) return;
        auto start = rate > 0 ? intended : Clock::now();
        const bool measured = start >= measured_from;
        auto sendable = start;  // when this message could go: the group's start, then each receipt
        for (const Body& b : group_bodies[grp]) {
          auto r = (*client)->Request("POST", "/api/v1/messages", b.xml,
                                      {{"X-API-Key", "demo-key-" + b.sender},
                                       {"Content-Type", "application/xml"}});
          const auto answered = Clock::now();
          const bool ok = r.ok() && r->status == 200;
          if (!ok) ++errors;  // counted in the warm-up too: an error is never noise
          if (measured) {
            ++requests;
            receipt_hist[c].record(
                std::chrono::duration_cast<std::chrono::microseconds>(answered - sendable).count());
            if (ok) {
              docs += b.records;
              if (b.is_list) lists += b.records;
            }
          }
          sendable = answered;
        }
        if (!measured) continue;
        last_done[c] = Clock::now();
        hist[c].record(
            std::chrono::duration_cast<std::chrono::microseconds>(last_done[c] - start).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  // Throughput over the time the load actually ran (until the last answer), not including
  // threads that only woke up to find the deadline passed.
  double elapsed = std::chrono::duration<double>(
                       *std::max_element(last_done.begin(), last_done.end()) - measured_from)
                       .count();
  if (!(elapsed > 0)) {
    std::cerr << "no group started after the warm-up: give more --sets or a longer --seconds\n";
    return 1;
  }
  Histogram all, per_receipt;
  for (const auto& h : hist) all.merge(h);
  for (const auto& h : receipt_hist) per_receipt.merge(h);
  std::cout << fmt::format(
      "connections {} records/message {} offered {} lists/s, first {} s left out\n"
      "elapsed {:.2f} s, requests {}, errors {}\n"
      "documents/s {:.0f}   lists/s {:.0f}   requests/s {:.0f}\n"
      "latency per group of {} sets (all their messages, µs): p50 {} p90 {} p99 {} p99.9 {} max {}\n"
      "latency per receipt (one message, µs): p50 {} p90 {} p99 {} p99.9 {} max {}\n",
      connections, records, rate > 0 ? fmt::format("{:.0f}", rate) : "max", warmup, elapsed,
      requests.load(), errors.load(), docs / elapsed, lists / elapsed, requests / elapsed,
      records, all.percentile(50), all.percentile(90), all.percentile(99), all.percentile(99.9), all.max(),
      per_receipt.percentile(50), per_receipt.percentile(90), per_receipt.percentile(99),
      per_receipt.percentile(99.9), per_receipt.max());
  // The same figures for scripts (bench/compare, bench/plot): key=value, and optionally CSV.
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"records", fmt::format("{}", records)},
      {"connections", fmt::format("{}", connections)},
      {"offered_lists_per_s", fmt::format("{:.0f}", rate)},
      {"elapsed_s", fmt::format("{:.3f}", elapsed)},
      {"requests", fmt::format("{}", requests.load())},
      {"errors", fmt::format("{}", errors.load())},
      {"docs_per_s", fmt::format("{:.0f}", docs / elapsed)},
      {"lists_per_s", fmt::format("{:.0f}", lists / elapsed)},
      {"requests_per_s", fmt::format("{:.0f}", requests / elapsed)},
      {"lines_per_list", fmt::format("{:.2f}", lines_per_list)},
      {"p50_us", fmt::format("{}", all.percentile(50))},
      {"p90_us", fmt::format("{}", all.percentile(90))},
      {"p99_us", fmt::format("{}", all.percentile(99))},
      {"p999_us", fmt::format("{}", all.percentile(99.9))},
      {"max_us", fmt::format("{}", all.max())},
      {"receipt_p50_us", fmt::format("{}", per_receipt.percentile(50))},
      {"receipt_p90_us", fmt::format("{}", per_receipt.percentile(90))},
      {"receipt_p99_us", fmt::format("{}", per_receipt.percentile(99))},
      {"receipt_p999_us", fmt::format("{}", per_receipt.percentile(99.9))},
      {"receipt_max_us", fmt::format("{}", per_receipt.max())},
      {"warmup_s", fmt::format("{}", warmup)},
  };
  std::string line = "load_summary";
  for (const auto& [k, v] : fields) line += " " + k + "=" + v;
  std::cout << line << "\n";
  if (!csv.empty()) {
    bool fresh = true;
    {
      std::ifstream in(csv);
      fresh = !in || in.peek() == std::ifstream::traits_type::eof();
    }
    std::ofstream out(csv, std::ios::app);
    std::string header, row;
    for (const auto& [k, v] : fields) {
      header += (header.empty() ? "" : ",") + k;
      row += (row.empty() ? "" : ",") + v;
    }
    if (fresh) out << header << "\n";
    out << row << "\n";
    if (!out) {
      std::cerr << "cannot write " << csv << "\n";
      return 1;
    }
  }
  return errors > 0 ? 1 : 0;
}
