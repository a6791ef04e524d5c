// cbec-history-bench: does the cost of a list grow with the lists stored before it? (issue #6,
// "cost must not grow with history": throughput and p99 after 50 million stored lists within
// 20 % of the figures at 1 million; RSS bounded and reported.)
//
// What it runs. The clearance core over a RocksDB archive, as `cbec serve` runs it (archive after
// 20 s idle, every command evicting), fed an endless stream of generated traffic: chunks of --chunk
// document sets from gen::generate (a new seed, run tag and buyer population per chunk, times
// continuing where the previous chunk ended, 1–6 s apart as the generator spaces them), cut into
// groups of 100 sets, each group one message per sender and type (orders, payments, waybills,
// lists: demo::submissions). Beside the core, the receipts go into a RocksDB receipt store
// keyed as the service keys them (a/<no>, r/<receiver>/<no>; JSON values, no WAL).
//
// What a zone does over months is done too, so that what stays in memory is the work in
// progress and not the demo's neglect: each chunk's goods are stocked in before it (the
// account book never runs dry), officers release every list sent to manual review (300) or
// inspection (500, no finding), the guarantor pays every payable bill once per Beijing day (the
// exact amount, as TaxPayment requires), and every day has its draw seed.
//
// Timed: every Engine::apply (messages, Ticks, officers' decisions, payments, stock-ins) on
// the main thread, by wall clock and by the thread's CPU clock, and each list message's apply
// separately for the latency percentiles; the receipt store's writes on their own. Generation
// runs on a second thread one chunk ahead (it shares the two cores, as cbec-load does). Not
// included: HTTP, XML parsing, the durable command log (a constant cost per list, measured by
// cbec-core-log-bench) and the statistics projections.
//
// Every --report-every lists it prints one row (and appends it to --tsv): lists stored so far,
// log days covered, apply lists/s (wall), apply CPU µs per list, store µs per list, p50/p99/max
// µs of a 100-record list message's apply, RSS, archive and store bytes on disk, lists in
// memory. The last line compares the last row with the one at 1 million lists, for bench/check:
//   history_lists=N history_base_lists=.. history_base_lists_per_s=.. history_last_lists_per_s=..
//   history_ratio=.. history_base_p99_us=.. history_last_p99_us=.. history_rss_max_mib=..
// Run: build/cbec-history-bench --lists 2000000 [--chunk 100000] [--report-every 250000]
//      [--dir DIR] [--tsv FILE]
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "clearance/clearance.h"
#include "demo/demo.h"
#include "fmt/format.h"
#include "gen/gen.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "service/rocks_archive.h"
#include "service/service.h"
#include "service/storage.h"

namespace {

using namespace cbec;
using Clock = std::chrono::steady_clock;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

double rss_mib() {
  std::ifstream f("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1 << 20);
}

uint64_t dir_bytes(const std::filesystem::path& p) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(p, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) n += it->file_size(ec);
  }
  return n;
}

// One group of up to 100 sets: its messages and the log time they are applied at (the
// inventories' latest appTime: every document of the group has arrived by then).
struct Group {
  TimeMs time = 0;
  std::vector<demo::Submission> messages;
  uint64_t lists = 0;
};
struct Chunk {
  std::vector<std::pair<std::string, int64_t>> units_by_item;
  std::vector<Group> groups;
  TimeMs end = 0;
};

// Generates chunk after chunk on its own thread, at most `ahead` waiting.
class Producer {
 public:
  Producer(const gen::Zone& zone, std::shared_ptr<const ref::ReferenceData> ref, int chunk,
           uint64_t chunks, uint64_t seed, TimeMs start)
      : zone_(zone), ref_(std::move(ref)) {
    thread_ = std::thread([=, this] {
      pthread_setname_np(pthread_self(), "generator");
      Run(chunk, chunks, seed, start);
    });
  }
  ~Producer() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // nullopt at the end (or on a generator failure, with the reason in error()).
  std::optional<Chunk> Next() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return !ready_.empty() || done_; });
    if (ready_.empty()) return std::nullopt;
    Chunk c = std::move(ready_.front());
    ready_.pop_front();
    cv_.notify_all();
    return c;
  }
  const std::string& error() const { return error_; }

 private:
  void Run(int chunk, uint64_t chunks, uint64_t seed, TimeMs start) {
    TimeMs t = start;
    for (uint64_t k = 0; k < chunks; ++k) {
      gen::Options opt;
      opt.seed = seed + k;
      opt.count = chunk;
      opt.start_time = t;
      auto g = gen::generate(zone_, opt, *ref_);
      Chunk c;
      if (!g.ok()) {
        std::lock_guard lk(mu_);
        error_ = g.status().ToString();
        break;
      }
      c.units_by_item = std::move(g->units_by_item);
      for (size_t i = 0; i < g->sets.size(); i += 100) {
        auto part = std::span(g->sets).subspan(i, std::min<size_t>(100, g->sets.size() - i));
        Group& grp = c.groups.emplace_back();
        for (const auto& s : part) {
          grp.time = std::max(grp.time, parse_datetime14(s.inventory.head.appTime).value_or(0));
          ++grp.lists;
        }
        grp.messages = demo::submissions(zone_, part);
      }
      c.end = c.groups.back().time;
      t = c.end + 10 * kMsPerSecond;
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return ready_.size() < 1 || stop_; });
      if (stop_) return;
      ready_.push_back(std::move(c));
      cv_.notify_all();
    }
    std::lock_guard lk(mu_);
    done_ = true;
    cv_.notify_all();
  }

  const gen::Zone& zone_;
  std::shared_ptr<const ref::ReferenceData> ref_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> ready_;
  bool done_ = false, stop_ = false;
  std::string error_;
  std::thread thread_;
};

// Counts what the core asks of its archive (per report row).
class CountingArchive final : public archive::Archive {
 public:
  explicit CountingArchive(archive::Archive* a) : a_(a) {}
  bool get(std::string_view key, std::string* value) const override {
    bool hit = a_->get(key, value);
    ++(hit ? hits : misses);
    // By the ColdMap's table tag (the key's first two bytes, cold_map.h).
    ++(hit ? hits_by_table : misses_by_table)[std::string(key.substr(0, 2))];
    return hit;
  }
  void put(std::string_view key, std::string_view value) override {
    ++puts;
    put_bytes += key.size() + value.size();
    a_->put(key, value);
  }
  void erase(std::string_view key) override {
    ++erases;
    a_->erase(key);
  }
  void scan(std::string_view prefix,
            const std::function<void(std::string_view, std::string_view)>& fn) const override {
    ++scans;
    a_->scan(prefix, fn);
  }
  void flush() override { a_->flush(); }
  mutable uint64_t hits = 0, misses = 0, scans = 0;
  mutable std::map<std::string, uint64_t> hits_by_table, misses_by_table;
  uint64_t puts = 0, erases = 0, put_bytes = 0;
  void reset() {
    hits = misses = scans = puts = erases = put_bytes = 0;
    hits_by_table.clear();
    misses_by_table.clear();
  }

 private:
  archive::Archive* a_;
};

// Per report interval.
struct Interval {
  uint64_t lists = 0;
  double kind_wall[std::variant_size_v<clearance::Command::Body>] = {};
  double apply_wall = 0, apply_cpu = 0, store_wall = 0;
  std::vector<uint32_t> list_message_us;
};

uint64_t percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cbec-history-bench: the core's cost per list as the stored history grows"};
  uint64_t lists = 2'000'000, report_every = 250'000;
  int chunk = 100'000;
  uint64_t seed = 7000;
  std::string dir, tsv;
  bool keep = false;
  int cache_mib = int(service::kDefaultStorageCacheBytes >> 20);
  app.add_option("--lists", lists, "lists to clear in all")->check(CLI::Range(1000, 100'000'000));
  app.add_option("--chunk", chunk, "document sets generated at a time")
      ->check(CLI::Range(1000, gen::kMaxCount));
  app.add_option("--report-every", report_every, "lists per report row");
  app.add_option("--seed", seed, "seed of the first chunk (chunk k uses seed + k)");
  app.add_option("--dir", dir,
                 "parent directory of the archive and store (default $TMPDIR or /tmp)");
  app.add_option("--tsv", tsv, "append the report rows to this file");
  app.add_flag("--keep", keep, "leave the archive and store on disk");
  app.add_option("--cache-mib", cache_mib,
                 "block cache the archive and the store share (serve's storage_cache_mib)");
  CLI11_PARSE(app, argc, argv);
  if (dir.empty()) dir = std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp";
  if (report_every < static_cast<uint64_t>(chunk) / 100) report_every = chunk / 100;

  const gen::Zone zone = gen::demo_zone();
  std::shared_ptr<const ref::ReferenceData> reference = *ref::ReferenceData::LoadDefaults();
  const std::string officer = zone.officers.front().id;
  std::string operator_code;
  for (const auto& e : zone.enterprises)
    if (e.has(gen::kRoleOperator) && e.code == zone.areaCode) operator_code = e.code;

  const std::filesystem::path root =
      std::filesystem::path(dir) / fmt::format("cbec-history-{}", ::getpid());
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  // The archive and the receipt store share one block cache, as in the service (storage.h).
  std::shared_ptr<rocksdb::Cache> cache = service::NewStorageCache(size_t(cache_mib) << 20);
  auto archive = service::RocksArchive::Open((root / "archive").string(), cache);
  if (!archive.ok()) {
    std::cerr << archive.status().ToString() << "\n";
    return 1;
  }
  // The receipt store, with the service's store settings (no WAL: the command log is it).
  std::unique_ptr<rocksdb::DB> store;
  {
    rocksdb::Options ro = service::ReceiptStoreOptions(cache);
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(ro, (root / "state").string(), &db);
    if (!s.ok()) {
      std::cerr << s.ToString() << "\n";
      return 1;
    }
    store.reset(db);
  }
  clearance::EngineOptions eo{reference, {}};
  CountingArchive counting(archive->get());
  eo.archive = &counting;
  clearance::Engine engine(std::move(eo));

  const TimeMs t0 = beijing_midnight(CivilDate{2025, 1, 2}) + 8 * kMsPerHour;
  uint64_t seq = 0, receipt_no = 0;
  ceb::Receipts receipts;
  std::vector<clearance::DrawRecord> draws;
  Interval iv;
  TimeMs now = t0;
  std::map<CivilDate, bool> seeded;
  rocksdb::WriteBatch batch;
  // Bills to pay: (payable_at, assureCode, amount), in release order (payable_at non-decreasing).
  struct Due {
    TimeMs payable_at;
    std::string assureCode;
    Fen fen;
  };
  std::deque<Due> due;
  CivilDate last_pay_day = beijing_date(t0);
  uint64_t payments = 0, officer_releases = 0, released = 0, rejected = 0;
  std::vector<std::pair<std::string, int>> to_officer;  // (invtNo, 300 or 500)

  // Applies one command, timed; scans its receipts for the zone's follow-ups; stores them.
  auto apply = [&](clearance::Command::Body&& body, bool list_message) -> Status {
    receipts.clear();
    const auto w = Clock::now();
    const double c = thread_cpu_seconds();
    const size_t kind = body.index();
    Status s = engine.apply(++seq, now, std::move(body), &receipts);
    engine.take_draws(&draws);
    const double wall = std::chrono::duration<double>(Clock::now() - w).count();
    iv.kind_wall[kind] += wall;
    iv.apply_wall += wall;
    iv.apply_cpu += thread_cpu_seconds() - c;
    if (list_message) iv.list_message_us.push_back(static_cast<uint32_t>(wall * 1e6));
    draws.clear();
    for (const auto& r : receipts) {
      if (r.answers != ceb::MessageType::kCEB621) continue;
      if (r.returnStatus == 800) {
        ++released;
        auto bill = engine.tax_bill(r.invtNo);
        if (bill && bill->outstanding_fen() > 0)
          due.push_back({bill->payable_at, bill->assureCode, bill->outstanding_fen()});
      } else if (r.returnStatus == 300 || r.returnStatus == 500) {
        to_officer.emplace_back(r.invtNo, r.returnStatus);
      } else if (r.returnStatus == 100) {
        ++rejected;
      }
    }
    const auto sw = Clock::now();
    batch.Clear();
    for (const auto& r : receipts) {
      const uint64_t no = ++receipt_no;
      std::string json = service::receipt_json(r, no);
      batch.Put(service::ReceiptKey(r.receiver, no), json);
      batch.Put(service::AllReceiptsKey(no), json);
    }
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    if (batch.Count() > 0) {
      rocksdb::Status ws = store->Write(wo, &batch);
      if (!ws.ok()) return Status(StatusCode::kUnavailable, ws.ToString());
    }
    iv.store_wall += std::chrono::duration<double>(Clock::now() - sw).count();
    return s;
  };
  auto must = [](const Status& s, std::string_view what) {
    if (!s.ok()) {
      std::cerr << what << ": " << s.ToString() << "\n";
      std::exit(1);
    }
  };

  for (auto& body : demo::setup_commands(zone, 10'000'000'000)) {
    // The zone's own stock-in is replaced by each chunk's.
    if (std::holds_alternative<clearance::StockIn>(body)) continue;
    must(apply(std::move(body), false), "setup");
  }

  std::ofstream tsv_out;
  if (!tsv.empty()) {
    // The column names as a comment line (gnuplot skips it), once per file.
    std::string before;
    if (std::ifstream in(tsv); in) before.assign(std::istreambuf_iterator<char>(in), {});
    tsv_out.open(tsv, std::ios::app);
    if (before.find("# stored_lists") == std::string::npos)
      tsv_out << "# stored_lists\tlog_days\tlists_per_s\tapply_cpu_us_per_list\tstore_us_per_list"
                 "\tp50_us\tp99_us\tmax_us\trss_mib\tarchive_mib\tstore_mib\thot_lists"
                 "\trocksdb_mib\n";
  }
  std::cout << fmt::format(
      "{:>11} {:>8} {:>10} {:>9} {:>9} {:>8} {:>8} {:>9} {:>8} {:>9} {:>9} {:>8} {:>9}\n", "stored",
      "log days", "lists/s", "cpu µs", "store µs", "p50 µs", "p99 µs", "max µs", "RSS MiB",
      "arch MiB", "store MiB", "hot", "rocks MiB");
  struct Row {
    uint64_t stored;
    double lists_per_s, p99;
  };
  std::vector<Row> rows;
  double rss_max = 0;
  uint64_t stored = 0, next_report = report_every;
  const auto wall0 = Clock::now();

  const uint64_t chunks = (lists + chunk - 1) / chunk;
  Producer producer(zone, reference, chunk, chunks, seed, t0);
  while (stored < lists) {
    std::optional<Chunk> c = producer.Next();
    if (!c) {
      if (!producer.error().empty()) std::cerr << "generator: " << producer.error() << "\n";
      break;
    }
    // The chunk's goods come in first, at the time of its first group.
    now = std::max(now, c->groups.front().time);
    for (const auto& [item_no, units] : c->units_by_item) {
      const gen::BookItem* item = zone.item(item_no);
      must(apply(clearance::StockIn{operator_code, zone.emsNo, item->itemRecordNo, item->gcode,
                                    item->name, item->unit, Decimal::of_int(units)},
                 false),
           "stock-in");
    }
    for (Group& g : c->groups) {
      if (stored >= lists) break;
      now = std::max(now, g.time);
      // Today's and tomorrow's seeds, before anything of the day.
      for (int ahead = 0; ahead <= 1; ++ahead) {
        CivilDate day = civil_from_days(days_from_civil(beijing_date(now)) + ahead);
        if (seeded[day]) continue;
        seeded[day] = true;
        std::string s(clearance::kDrawSeedBytes, '\0');
        for (size_t i = 0; i < s.size(); ++i)
          s[i] = static_cast<char>((days_from_civil(day) * 131 + i * 7) & 0xff);
        must(apply(clearance::SetDrawSeed{day, s}, false), "draw seed");
      }
      // Once a day the guarantor pays what has become payable.
      if (beijing_date(now) != last_pay_day) {
        last_pay_day = beijing_date(now);
        std::map<std::string, Fen> owed;
        while (!due.empty() && due.front().payable_at <= now) {
          owed[due.front().assureCode] += due.front().fen;
          due.pop_front();
        }
        for (const auto& [assure, fen] : owed) {
          must(
              apply(
                  clearance::TaxPayment{
                      assure, "", fmt::format("HIST{}{}", format_date8(last_pay_day), assure), fen},
                  false),
              "tax payment");
          ++payments;
        }
      }
      must(apply(clearance::Tick{}, false), "tick");
      for (auto& m : g.messages) {
        const bool is_list = m.message.type == ceb::MessageType::kCEB621;
        must(apply(clearance::SubmitMessage{std::move(m.sender), std::move(m.message)}, is_list),
             "message");
      }
      // The officers on duty clear what review and the draw sent them.
      for (auto& [invtNo, status] : to_officer) {
        clearance::Command::Body b;
        if (status == 300)
          b = clearance::OfficerDecision{officer, invtNo, clearance::OfficerAction::kRelease,
                                         "checked"};
        else
          b = clearance::InspectionResult{
              officer, invtNo, false, "", clearance::OfficerAction::kRelease, "no finding"};
        ++officer_releases;
        must(apply(std::move(b), false), "officer");
      }
      to_officer.clear();
      stored += g.lists;
      iv.lists += g.lists;
      if (stored >= next_report || stored >= lists) {
        next_report += report_every;
        const double rss = rss_mib();
        rss_max = std::max(rss_max, rss);
        const double lps = iv.lists / iv.apply_wall;
        const uint64_t p50 = percentile(iv.list_message_us, 50);
        const uint64_t p99 = percentile(iv.list_message_us, 99);
        const uint64_t mx = iv.list_message_us.empty() ? 0 : iv.list_message_us.back();
        const double log_days = double(now - t0) / kMsPerDay;
        const double arch = dir_bytes(root / "archive") / double(1 << 20);
        const double st = dir_bytes(root / "state") / double(1 << 20);
        const auto hot = engine.hot_counts();
        // What RocksDB holds: the shared block cache, the memtables, the table readers.
        const service::StorageMemory sm =
            service::MeasureStorageMemory(cache.get(), {(*archive)->db(), store.get()});
        const double rocks = (sm.cache_usage + sm.memtables + sm.table_readers) / double(1 << 20);
        std::cout << fmt::format(
            "{:>11} {:>8.1f} {:>10.0f} {:>9.1f} {:>9.1f} {:>8} {:>8} {:>9} {:>8.0f} {:>9.0f} "
            "{:>9.0f} {:>8} {:>9.0f}\n",
            stored, log_days, lps, 1e6 * iv.apply_cpu / iv.lists, 1e6 * iv.store_wall / iv.lists,
            p50, p99, mx, rss, arch, st, hot.lists, rocks);
        std::cout.flush();
        if (tsv_out) {
          tsv_out << fmt::format(
              "{}\t{:.1f}\t{:.0f}\t{:.1f}\t{:.1f}\t{}\t{}\t{}\t{:.0f}\t{:.0f}\t{:.0f}\t{}\t{:.0f}"
              "\n",
              stored, log_days, lps, 1e6 * iv.apply_cpu / iv.lists, 1e6 * iv.store_wall / iv.lists,
              p50, p99, mx, rss, arch, st, hot.lists, rocks);
          tsv_out.flush();
        }
        {
          static constexpr const char* kNames[] = {
              "messages",  "register", "stock-in",       "guarantee",  "officer",    "tick",
              "reference", "seed",     "officer-reg",    "claim",      "inspection", "control",
              "grade",     "pickup",   "return-arrival", "tax-payment"};
          static_assert(std::size(kNames) == std::variant_size_v<clearance::Command::Body>);
          std::string split;
          for (size_t k = 0; k < std::size(kNames); ++k)
            if (iv.kind_wall[k] > 0)
              split += fmt::format(" {} {:.1f}", kNames[k], 1e6 * iv.kind_wall[k] / iv.lists);
          std::cout << "            apply µs per list by command:" << split << "\n";
          std::cout << fmt::format(
              "            archive per list: {:.1f} gets ({:.1f} found), {:.1f} puts ({:.0f} "
              "bytes), "
              "{:.1f} erases, {:.2f} scans\n",
              double(counting.hits + counting.misses) / iv.lists, double(counting.hits) / iv.lists,
              double(counting.puts) / iv.lists, double(counting.put_bytes) / iv.lists,
              double(counting.erases) / iv.lists, double(counting.scans) / iv.lists);
          auto by_table = [&](const std::map<std::string, uint64_t>& m) {
            std::string t;
            for (const auto& [tag, n] : m)
              if (double(n) / iv.lists >= 0.05)
                t += fmt::format(" {} {:.2f}", tag, double(n) / iv.lists);
            return t;
          };
          std::cout << "            archive gets per list by table, found:"
                    << by_table(counting.hits_by_table)
                    << "; not found:" << by_table(counting.misses_by_table) << "\n";
          std::cout << fmt::format(
              "            RocksDB memory: block cache {:.0f} of {:.0f} MiB ({:.0f} pinned), "
              "memtables {:.0f} MiB, table readers outside the cache {:.1f} MiB\n",
              sm.cache_usage / double(1 << 20), sm.cache_capacity / double(1 << 20),
              sm.cache_pinned / double(1 << 20), sm.memtables / double(1 << 20),
              sm.table_readers / double(1 << 20));
          counting.reset();
        }
        rows.push_back({stored, lps, double(p99)});
        iv = Interval{};
      }
    }
  }
  const double wall = std::chrono::duration<double>(Clock::now() - wall0).count();
  std::cout << fmt::format(
      "workload: {} lists in {:.0f} s ({} released, {} rejected, {} by officers), {} tax payments, "
      "{} receipts; chunks of {} sets (seed {}+k), log time {:.1f} days\n",
      stored, wall, released, rejected, officer_releases, payments, receipt_no, chunk, seed,
      double(now - t0) / kMsPerDay);
  if (!keep) {
    store.reset();
    archive->reset();
    std::filesystem::remove_all(root);
  }
  if (rows.size() >= 2) {
    // Issue #6 compares the figures after 50 million stored lists with those at 1 million: the
    // baseline is the row that ends at 1 million (the second row if the run is shorter; never
    // the first, whose tables start empty).
    size_t base = 1;
    for (size_t i = 1; i < rows.size(); ++i)
      if (rows[i].stored >= 1'000'000) {
        base = i;
        break;
      }
    const Row& first = rows[base];
    const Row& last = rows.back();
    std::cout << fmt::format(
        "history_lists={} history_base_lists={} history_base_lists_per_s={:.0f} "
        "history_last_lists_per_s={:.0f} history_ratio={:.3f} history_base_p99_us={:.0f} "
        "history_last_p99_us={:.0f} history_rss_max_mib={:.0f}\n",
        stored, first.stored, first.lists_per_s, last.lists_per_s,
        last.lists_per_s / first.lists_per_s, first.p99, last.p99, rss_max);
  }
  return stored >= lists ? 0 : 1;
}
