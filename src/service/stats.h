// The statistics centre (DOMAIN.md §11): aggregates maintained incrementally as lists move.
//
// The writer thread feeds StatsCentre::Observe with every applied command (live and on replay),
// so the figures are rebuilt from the log and a query never scans lists: it adds up at most
// (range / bucket) pre-aggregated buckets. Buckets are by hour and by Beijing day of log time;
// old buckets are dropped after kStatsHourlyRetentionHours / kStatsDailyRetentionDays.
//
// Each bucket holds: lists declared, released, rejected; value (dutiable, fen) and tax of
// released lists, by trade mode, origin country, HS chapter and platform; lanes; lists released
// without an officer (automated); a histogram of first document → release (fixed bounds, so
// percentiles of any range are exact to a bucket); findings of rejections by rule. The same
// buckets are kept per enterprise for every party of a list (platform, e-commerce enterprise,
// agent, carrier, guarantor), so an enterprise sees its own figures beside the zone's.
// Buyers' annual quota usage is a distribution per year (buyers per band of usage).
//
// Thread-safety: Observe on the writer thread; queries from any thread (own mutex).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "boost/container/flat_set.hpp"
#include "clearance/clearance.h"
#include "common/bytes.h"

namespace cbec::service {

inline constexpr int kStatsHourlyRetentionHours = 24 * 62;
inline constexpr int kStatsDailyRetentionDays = 2 * 366;
// Upper bounds (ms) of the clearance-time buckets; the last bucket is everything above.
inline constexpr std::array<TimeMs, 19> kClearanceBoundsMs = {
    1000,    2000,    5000,     10000,    15000,     30000,     60000,
    120000,  300000,  600000,   900000,   1800000,   3600000,   7200000,
    14400000, 28800000, 43200000, 86400000, 172800000};
inline constexpr size_t kClearanceBuckets = kClearanceBoundsMs.size() + 1;
// Quota usage bands: released total / annual limit in tenths (the last band is "at the limit").
inline constexpr int kQuotaBands = 10;
// One answer covers at most this many buckets (a year by day, a month by hour).
inline constexpr int kStatsMaxBuckets = 24 * 62;
static_assert(kStatsMaxBuckets >= 366);

struct Figure {
  uint64_t lists = 0;
  Fen value_fen = 0;
  Fen tax_fen = 0;
};

// A breakdown of an aggregate by name (trade mode, country, HS chapter, platform). Hashed: every
// released list adds to four of them in up to 12 aggregates, and walking trees of names was
// 10 % of the apply thread's instructions (BENCHMARKS.md, session 11). Iteration order is
// unspecified: what shows an order (JSON, the snapshot) sorts. The hash and equality are
// transparent: Observe adds by string_view, without building keys.
// A name with its hash, computed once: a list adds the same names to up to 12 aggregates.
struct HashedName {
  std::string_view name;
  size_t hash = 0;
  HashedName() = default;
  explicit HashedName(std::string_view n) : name(n), hash(std::hash<std::string_view>()(n)) {}
  friend bool operator==(const HashedName& a, const std::string& b) { return a.name == b; }
};
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
  size_t operator()(const HashedName& k) const noexcept { return k.hash; }
};
using FigureMap = std::unordered_map<std::string, Figure, NameHash, std::equal_to<>>;

struct Aggregate {
  uint64_t declared = 0;
  uint64_t released = 0;
  uint64_t rejected = 0;
  uint64_t released_automated = 0;  // no manual review or inspection on the way
  Fen value_fen = 0;                // dutiable value of released lists
  Fen tax_fen = 0;
  std::array<uint64_t, 3> lanes{};  // green, yellow, red (of lists that passed review)
  std::array<uint64_t, kClearanceBuckets> clearance{};
  FigureMap by_trade_mode, by_country, by_chapter, by_platform;
  std::map<std::string, uint64_t, std::less<>> findings;  // rule -> rejections citing it
  void add(const Aggregate& o);
};

enum class Granularity : uint8_t { kHour, kDay };

// What a command changed, as the Service sees it around Engine::apply.
struct ObservedCommand {
  TimeMs time = 0;
  const ceb::Receipts* receipts = nullptr;
  // (agentCode, copNo) of lists this command resent unchanged (their receipts are replays) and
  // of lists that had no invtNo before it (their first 120 is a new declaration). Views into
  // Engine::list_intake(): valid until the engine applies its next command.
  using Lists = boost::container::flat_set<std::pair<std::string_view, std::string_view>>;
  Lists replayed_lists;
  Lists new_lists;
};

// The command `engine` has just applied, as the projections see it: the sets above from
// Engine::list_intake(). A list the command also changed (the same copNo twice in a message) is
// not a replay.
ObservedCommand observe_applied(const clearance::Engine& engine, TimeMs time,
                                const ceb::Receipts* receipts);

class StatsCentre {
 public:
  void Observe(const clearance::Engine& engine, const ObservedCommand& c);

  struct Range {
    TimeMs from = 0;  // inclusive, rounded down to the bucket
    TimeMs to = 0;    // exclusive
    Granularity granularity = Granularity::kHour;
  };
  struct Series {
    std::vector<std::pair<TimeMs, Aggregate>> buckets;  // every bucket of the range, in order
    Aggregate total;
  };
  // scope "" = the zone; else an enterprise code.
  Series query(const Range& r, std::string_view scope) const;
  // Buyers per usage band (kQuotaBands + 1 entries: the last is "at the limit").
  std::array<uint64_t, kQuotaBands + 1> quota_bands(int year) const;
  TimeMs last_time() const;

  // Snapshot (issue #3): the hourly and daily buckets of every scope (with their breakdowns),
  // the quota bands of every year, last_time_ and pruned_day_, in map order (so equal centres
  // give equal bytes). delta_, counted_ and cursors_ are Observe's scratch and are not written.
  // Takes the centre's mutex.
  void save_state(ByteWriter& w) const;
  // REQUIRES: a freshly constructed centre. Reads what save_state wrote; false on malformed
  // input (the centre is then unspecified but safe to destroy). Never asserts on input and
  // allocates only for what the bytes hold.
  [[nodiscard]] bool load_state(ByteReader& in);

 private:
  // What one list adds to every bucket it counts in: built once per list, then added to the
  // zone's and each party's hourly and daily buckets (up to 12). Views point into the list and
  // its tax in the engine, which outlive Observe. Kept as a member so that its vectors keep
  // their capacity: counting a list allocates nothing once the buckets and keys exist.
  struct ListDelta {
    uint64_t declared = 0, released = 0, rejected = 0, released_automated = 0;
    Fen value_fen = 0, tax_fen = 0;
    int lane = -1;                // index into Aggregate::lanes, -1 = none
    int clearance_bucket = -1;    // index into Aggregate::clearance, -1 = none
    bool figures = false;         // a release: the breakdowns below apply
    HashedName trade_mode, platform;  // figure_key() of the list's
    Figure whole;
    // Per country and per HS chapter as the lines name them (figure_key(name); one entry per
    // distinct name, the lines' value and tax summed, 1 list).
    std::vector<std::pair<HashedName, Figure>> countries, chapters;
    std::vector<std::string_view> findings;  // rules of a rejection, one entry per finding
    void clear();  // keeps the vectors' capacity
    void add_to(Aggregate* a) const;
  };
  // The aggregates a list adds to, per scope: the current hour's and day's buckets, so that
  // adding to a scope is one hash lookup (not a tree of scopes and a tree of buckets per
  // granularity). Pointers into hourly_ / daily_ (map nodes: stable until erased); prune() and
  // load_state() forget them all.
  struct ScopeCursor {
    TimeMs hour = 0, day = 0;  // bucket starts
    Aggregate* hourly = nullptr;
    Aggregate* daily = nullptr;
  };
  void add(std::string_view scope, TimeMs time, const ListDelta& delta);
  void add_everywhere(const ceb::InventoryHead& h, TimeMs time, const ListDelta& delta);
  void prune(TimeMs now);

  mutable std::mutex mu_;
  // scope ("" = zone) -> bucket start -> aggregate
  std::map<std::string, std::map<TimeMs, Aggregate>, std::less<>> hourly_, daily_;
  ListDelta delta_;  // Observe's scratch
  std::unordered_map<std::string, ScopeCursor, NameHash, std::equal_to<>> cursors_;
  // Observe's scratch: (agentCode, copNo, status) counted in the command being observed. A
  // sorted vector: clear() keeps its capacity, so counting allocates nothing per command.
  boost::container::flat_set<std::tuple<std::string_view, std::string_view, int>> counted_;
  std::map<int, std::array<uint64_t, kQuotaBands + 1>> quota_;  // year -> buyers per band
  TimeMs last_time_ = 0;
  TimeMs pruned_day_ = 0;
};

TimeMs bucket_start(TimeMs t, Granularity g);
// Percentile (0 < q < 1) of a clearance histogram in ms, interpolated inside the bucket; 0 if
// empty.
TimeMs clearance_percentile_ms(const std::array<uint64_t, kClearanceBuckets>& h, double q);
int quota_band(Fen used_fen, Fen limit_fen);

// JSON of a query: {"from","to","granularity","series":[...],"total":{...}} with money in fen.
// `anonymous` leaves out the platform breakdown (what an enterprise sees of the zone).
std::string stats_series_json(const StatsCentre::Series& s, const StatsCentre::Range& r,
                              bool anonymous);
// CSV, one row per bucket, columns in stats_csv_header().
std::string stats_csv_rows(const StatsCentre::Series& s, std::string_view scope);
std::string_view stats_csv_header();

}  // namespace cbec::service
