// cbec-alloc-count: heap allocations per list of the clearance core in steady state.
//
// Issue #6 asks for zero heap allocations per list in steady state; this binary measures where
// the core stands. It REPORTS, it does not assert (the core is not allocation-free yet).
//
// How. A counting global operator new/delete (every form: plain, array, nothrow, aligned,
// sized) is linked into this binary, and malloc/calloc/realloc are interposed (glibc's __libc_*
// underneath; not under AddressSanitizer) so that allocations made by C libraries (OpenSSL's
// HMAC for the lane draw, ...) are counted too. A generated day of the demo zone (gen::generate +
// demo::submissions, as cbec-core-bench does) is applied to a fresh clearance::Engine set up with
// demo::setup_commands and the day's draw seed; the first --warmup share of the messages is
// applied without counting, then every allocation during Engine::apply (and draining the lane
// draws, as the service does) is counted, per message type and overall. Generation, message
// building and the receipts vector's capacity are outside the count; receipts are cleared after
// each command (their strings are freed and the next ones allocate again, as in the service).
//
// Output: a line per document type (allocations and bytes per record of that type), the command
// log's allocations per appended batch, and last the stable summary line bench/check reads:
//   allocs_per_list=N bytes_per_list=M
// where a list means the whole set (order + payment + waybill + list) it clears with.
// Run: build/cbec-alloc-count [--sets 20000] [--warmup 0.25]
#include <malloc.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <new>

#include "CLI/CLI.hpp"
#include "clearance/supervision.h"
#include "demo/demo.h"
#include "fmt/format.h"
#include "gen/gen.h"
#include "log/log.h"
#include "service/command_codec.h"

// ---- Counting allocator ----------------------------------------------------------------------
// Under AddressSanitizer (make test-asan builds every target) malloc belongs to the sanitizer:
// only operator new/delete are counted there, and the byte figures that need malloc's view
// (bytes still live) read 0.
#if defined(__SANITIZE_ADDRESS__)
#define CBEC_INTERPOSE_MALLOC 0
#else
#define CBEC_INTERPOSE_MALLOC 1
#endif

#if CBEC_INTERPOSE_MALLOC
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
}
#endif

namespace {

struct Counters {
  std::atomic<bool> on{false};
  std::atomic<uint64_t> news{0}, new_bytes{0}, deletes{0};
  std::atomic<uint64_t> mallocs{0}, malloc_bytes{0};  // direct malloc/calloc/realloc calls
  std::atomic<int64_t> live_bytes{0};                 // usable bytes, allocated minus freed
};
Counters g;
thread_local bool t_in_new = false;  // malloc called by our operator new is not counted twice

void* counted_new(size_t n, size_t align) {
  if (n == 0) n = 1;
  t_in_new = true;
  void* p;
  if (align > alignof(std::max_align_t)) {
    p = std::aligned_alloc(align, (n + align - 1) / align * align);  // not interposed: count here
    if (p != nullptr && g.on.load(std::memory_order_relaxed))
      g.live_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p)),
                             std::memory_order_relaxed);
  } else {
    p = std::malloc(n);
  }
  t_in_new = false;
  if (p == nullptr) throw std::bad_alloc();
  if (g.on.load(std::memory_order_relaxed)) {
    g.news.fetch_add(1, std::memory_order_relaxed);
    g.new_bytes.fetch_add(n, std::memory_order_relaxed);
  }
  return p;
}
void counted_delete(void* p) noexcept {
  if (p == nullptr) return;
  if (g.on.load(std::memory_order_relaxed)) g.deletes.fetch_add(1, std::memory_order_relaxed);
  std::free(p);
}
#if CBEC_INTERPOSE_MALLOC
void note_malloc(void* p, size_t n) {
  if (p == nullptr || !g.on.load(std::memory_order_relaxed)) return;
  g.live_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  if (t_in_new) return;
  g.mallocs.fetch_add(1, std::memory_order_relaxed);
  g.malloc_bytes.fetch_add(n, std::memory_order_relaxed);
}
#endif

}  // namespace

#if CBEC_INTERPOSE_MALLOC
extern "C" {
void* malloc(size_t n) noexcept {
  void* p = __libc_malloc(n);
  note_malloc(p, n);
  return p;
}
void* calloc(size_t k, size_t n) noexcept {
  void* p = __libc_calloc(k, n);
  note_malloc(p, k * n);
  return p;
}
void* realloc(void* old, size_t n) noexcept {
  if (old != nullptr && g.on.load(std::memory_order_relaxed))
    g.live_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(old)),
                           std::memory_order_relaxed);
  void* p = __libc_realloc(old, n);
  note_malloc(p, n);
  return p;
}
void free(void* p) noexcept {
  if (p != nullptr && g.on.load(std::memory_order_relaxed))
    g.live_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  __libc_free(p);
}
}
#endif

void* operator new(size_t n) { return counted_new(n, 0); }
void* operator new[](size_t n) { return counted_new(n, 0); }
void* operator new(size_t n, std::align_val_t a) { return counted_new(n, static_cast<size_t>(a)); }
void* operator new[](size_t n, std::align_val_t a) {
  return counted_new(n, static_cast<size_t>(a));
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_new(n, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_new(n, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return counted_new(n, static_cast<size_t>(a));
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return counted_new(n, static_cast<size_t>(a));
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { counted_delete(p); }
void operator delete[](void* p) noexcept { counted_delete(p); }
void operator delete(void* p, size_t) noexcept { counted_delete(p); }
void operator delete[](void* p, size_t) noexcept { counted_delete(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_delete(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_delete(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { counted_delete(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { counted_delete(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_delete(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  counted_delete(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  counted_delete(p);
}

namespace {

using namespace cbec;

struct Snapshot {
  uint64_t allocs = 0, bytes = 0, frees = 0, mallocs = 0;
  int64_t live = 0;
  static Snapshot now() {
    return Snapshot{g.news.load() + g.mallocs.load(), g.new_bytes.load() + g.malloc_bytes.load(),
                    g.deletes.load(), g.mallocs.load(), g.live_bytes.load()};
  }
  Snapshot operator-(const Snapshot& o) const {
    return Snapshot{allocs - o.allocs, bytes - o.bytes, frees - o.frees, mallocs - o.mallocs,
                    live - o.live};
  }
  Snapshot& operator+=(const Snapshot& o) {
    allocs += o.allocs;
    bytes += o.bytes;
    frees += o.frees;
    mallocs += o.mallocs;
    live += o.live;
    return *this;
  }
};

constexpr const char* kTypeNames[] = {"order", "payment", "waybill", "list", "other"};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cbec-alloc-count: heap allocations per list of the clearance core, steady state"};
  int sets = 20000;
  double warmup = 0.25;
  uint64_t seed = 99;
  int log_batch = 16;
  app.add_option("--sets", sets, "document sets (= lists) of the generated day")
      ->check(CLI::Range(200, 1000000));
  app.add_option("--warmup", warmup, "share of the day's messages applied before counting")
      ->check(CLI::Range(0.0, 0.9));
  app.add_option("--seed", seed);
  app.add_option("--log-batch", log_batch, "commands per batch for the command-log count")
      ->check(CLI::Range(1, 4096));
  CLI11_PARSE(app, argc, argv);

  gen::Zone zone = gen::demo_zone();
  std::shared_ptr<const ref::ReferenceData> reference = *ref::ReferenceData::LoadDefaults();
  gen::Options opt;
  opt.seed = seed;
  opt.count = sets;
  auto gd = gen::generate(zone, opt, *reference);
  if (!gd.ok()) {
    std::cerr << gd.status().ToString() << "\n";
    return 1;
  }
  std::vector<demo::Submission> subs = demo::submissions(zone, gd->sets);
  const TimeMs now = beijing_midnight(CivilDate{2025, 6, 18}) + 8 * kMsPerHour;

  clearance::Engine engine(clearance::EngineOptions{reference, {}});
  ceb::Receipts receipts;
  receipts.reserve(4096);
  std::vector<clearance::DrawRecord> draws;
  draws.reserve(4096);
  uint64_t seq = 0;
  (void)engine.apply({++seq, now,
                      clearance::SetDrawSeed{CivilDate{2025, 6, 18},
                                             std::string(clearance::kDrawSeedBytes, '\x5a')}},
                     &receipts);
  for (auto& body : demo::setup_commands(zone, 10'000'000'000))
    (void)engine.apply({++seq, now, std::move(body)}, &receipts);
  receipts.clear();
  std::vector<clearance::Command> cmds;
  cmds.reserve(subs.size());
  for (auto& s : subs)
    cmds.push_back({++seq, now, clearance::SubmitMessage{s.sender, std::move(s.message)}});

  const size_t first_counted = static_cast<size_t>(warmup * cmds.size());
  std::array<Snapshot, 5> by_type{};
  std::array<uint64_t, 5> records{};
  auto slot = [](ceb::MessageType t) {
    switch (t) {
      case ceb::MessageType::kCEB311:
        return 0;
      case ceb::MessageType::kCEB411:
        return 1;
      case ceb::MessageType::kCEB511:
        return 2;
      case ceb::MessageType::kCEB621:
        return 3;
      default:
        return 4;
    }
  };
  uint64_t lists_released = 0;
  for (size_t i = 0; i < cmds.size(); ++i) {
    const auto& m = std::get<clearance::SubmitMessage>(cmds[i].body).message;
    const bool counting = i >= first_counted;
    Snapshot before;
    if (counting) {
      g.on = true;
      before = Snapshot::now();
    }
    (void)engine.apply(cmds[i].seq, cmds[i].time, std::move(cmds[i].body),
                       &receipts);  // as the service
    engine.take_draws(&draws);
    draws.clear();
    if (counting)
      for (const auto& r : receipts)
        if (r.answers == ceb::MessageType::kCEB621 && r.returnStatus == 800) ++lists_released;
    receipts.clear();  // frees the receipts' strings: counted, like the service's
    if (counting) {
      int k = slot(m.type);
      by_type[k] += Snapshot::now() - before;
      records[k] += m.record_count();
      g.on = false;
    }
  }
  Snapshot total;
  for (const auto& s : by_type) total += s;
  const uint64_t lists = records[3];
  if (lists == 0) {
    std::cerr << "no lists in the counted part of the day\n";
    return 1;
  }

  // The command log's append path (no fdatasync: allocations do not depend on it).
  double log_allocs_per_batch = 0, log_bytes_per_batch = 0;
  {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / fmt::format("cbec-alloc-count-{}", ::getpid());
    std::filesystem::remove_all(dir);
    cmdlog::LogOptions lo;
    lo.sync = false;
    auto log = cmdlog::CommandLog::Open(dir.string(), lo);
    if (!log.ok()) {
      std::cerr << log.status().ToString() << "\n";
      return 1;
    }
    std::string payload(4000, 'x');  // about one record's XML
    std::vector<cmdlog::RecordView> views(log_batch);
    uint64_t s = 0;
    const int warm = 8, counted = 64;
    Snapshot before;
    for (int b = 0; b < warm + counted; ++b) {
      if (b == warm) {
        g.on = true;
        before = Snapshot::now();
      }
      for (auto& v : views) v = cmdlog::RecordView{++s, now, 1, payload};
      if (Status st = (*log)->AppendDurable(views); !st.ok()) {
        g.on = false;
        std::cerr << st.ToString() << "\n";
        return 1;
      }
    }
    Snapshot d = Snapshot::now() - before;
    g.on = false;
    log_allocs_per_batch = double(d.allocs) / counted;
    log_bytes_per_batch = double(d.bytes) / counted;
    log->reset();
    std::filesystem::remove_all(dir);
  }

  std::cout << fmt::format(
      "counted {} of {} messages after a warm-up of {:.0f} %: {} lists ({} released), {} "
      "documents\n",
      cmds.size() - first_counted, cmds.size(), warmup * 100, lists, lists_released,
      records[0] + records[1] + records[2] + records[3] + records[4]);
  for (int k = 0; k < 5; ++k) {
    if (records[k] == 0) continue;
    const char* name = kTypeNames[k];
    std::cout << fmt::format(
        "  {:<8} {:>9.1f} allocs/record {:>11.0f} bytes/record ({:.1f} of them malloc from C "
        "code), {:.0f} bytes/record still live\n",
        name, double(by_type[k].allocs) / records[k], double(by_type[k].bytes) / records[k],
        double(by_type[k].mallocs) / records[k], double(by_type[k].live) / records[k]);
  }
  std::cout << fmt::format(
      "command log append: {:.1f} allocs, {:.0f} bytes per batch of {} records\n",
      log_allocs_per_batch, log_bytes_per_batch, log_batch);
  std::cout << fmt::format(
      "alloc_by_type order_allocs_per_record={:.1f} payment_allocs_per_record={:.1f} "
      "waybill_allocs_per_record={:.1f} list_allocs_per_record={:.1f} "
      "live_bytes_per_list={:.0f} log_allocs_per_batch={:.1f}\n",
      records[0] ? double(by_type[0].allocs) / records[0] : 0.0,
      records[1] ? double(by_type[1].allocs) / records[1] : 0.0,
      records[2] ? double(by_type[2].allocs) / records[2] : 0.0,
      records[3] ? double(by_type[3].allocs) / records[3] : 0.0, double(total.live) / lists,
      log_allocs_per_batch);
  std::cout << fmt::format("allocs_per_list={:.1f} bytes_per_list={:.0f}\n",
                           double(total.allocs) / lists, double(total.bytes) / lists);
  return 0;
}
