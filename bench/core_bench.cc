// Core benchmark: the clearance state machine alone (parsed messages in, receipts out, no log,
// no HTTP), and the stages around it: XML parse+validate, JSON parse, receipt encoding.
// Reports lists/s as items_per_second. Run: build/cbec-core-bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>

#include "demo/demo.h"
#include "gen/gen.h"
#include "messages/receipt.h"

namespace {

using namespace cbec;

struct Day {
  gen::Zone zone = gen::demo_zone();
  std::shared_ptr<const ref::ReferenceData> ref = *ref::ReferenceData::LoadDefaults();
  std::vector<demo::Submission> subs;
  std::vector<std::string> xml, json;
  int lists = 0;
  explicit Day(int count) {
    gen::Options opt;
    opt.seed = 99;
    opt.count = count;
    auto g = gen::generate(zone, opt, *ref);
    subs = demo::submissions(zone, g->sets);
    for (const auto& s : subs) {
      xml.push_back(ceb::write_message_xml(s.message));
      json.push_back(ceb::write_message_json(s.message));
    }
    lists = count;
  }
};

// CBEC_BENCH_LISTS=N runs on a smaller (or larger) day, e.g. for a quicker run under callgrind;
// the figures in BENCHMARKS.md are for the default 20,000.
const Day& day() {
  static Day d([] {
    const char* n = std::getenv("CBEC_BENCH_LISTS");
    return n != nullptr && std::atoi(n) > 0 ? std::atoi(n) : 20000;
  }());
  return d;
}

// Lists cleared per second by the core: a fresh engine, the zone set up, then the whole day.
void BM_CoreClearDay(benchmark::State& state) {
  const Day& d = day();
  for (auto _ : state) {
    state.PauseTiming();
    // Destroyed outside the timed part (see below): production never tears the core down.
    auto engine_ptr = std::make_unique<clearance::Engine>(clearance::EngineOptions{d.ref, {}});
    clearance::Engine& engine = *engine_ptr;
    ceb::Receipts receipts;
    uint64_t seq = 0;
    TimeMs now = beijing_midnight(CivilDate{2025, 6, 18}) + 8 * kMsPerHour;
    for (auto& body : demo::setup_commands(d.zone, 10'000'000'000))
      (void)engine.apply({++seq, now, std::move(body)}, &receipts);
    std::vector<clearance::Command> cmds;
    for (const auto& s : d.subs) cmds.push_back({++seq, now, clearance::SubmitMessage{s.sender, s.message}});
    receipts.clear();
    receipts.reserve(d.lists * 9);
    state.ResumeTiming();
    // As the service does: the core takes the messages' documents.
    for (auto& c : cmds) (void)engine.apply(c.seq, c.time, std::move(c.body), &receipts);
    benchmark::DoNotOptimize(receipts);
    state.PauseTiming();
    engine_ptr.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * d.lists);
  state.counters["lists"] = d.lists;
}
BENCHMARK(BM_CoreClearDay)->Unit(benchmark::kMillisecond)->Iterations(3);

// XML read + full facet validation, per record.
void BM_ParseXml(benchmark::State& state) {
  const Day& d = day();
  size_t records = 0;
  for (auto _ : state) {
    for (const auto& x : d.xml) {
      auto r = ceb::read_message_xml(x);
      records += r.message->record_count();
    }
  }
  state.SetItemsProcessed(records);
}
BENCHMARK(BM_ParseXml)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_ParseJson(benchmark::State& state) {
  const Day& d = day();
  size_t records = 0;
  for (auto _ : state) {
    for (const auto& x : d.json) {
      auto r = ceb::read_message_json(x);
      records += r.message->record_count();
    }
  }
  state.SetItemsProcessed(records);
}
BENCHMARK(BM_ParseJson)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
