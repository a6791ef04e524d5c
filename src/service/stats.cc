#include "service/stats.h"

#include <algorithm>
#include <limits>

#include "clearance/id_number.h"
#include "fmt/format.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace cbec::service {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// The entry for key, created (and its key string built) only the first time.
template <class M>
typename M::mapped_type& entry(M* m, std::string_view key) {
  auto it = m->find(key);
  if (it == m->end()) it = m->emplace(std::string(key), typename M::mapped_type{}).first;
  return it->second;
}

// A breakdown files what a list left empty under "?".
std::string_view figure_key(std::string_view key) { return key.empty() ? "?" : key; }

// REQUIRES: key is a figure_key().
void add_figure(FigureMap* m, const HashedName& key, const Figure& f) {
  auto it = m->find(key);
  if (it == m->end()) it = m->emplace(std::string(key.name), Figure{}).first;
  Figure& x = it->second;
  x.lists += f.lists;
  x.value_fen += f.value_fen;
  x.tax_fen += f.tax_fen;
}

// Lane and automation from the list's history: the first officer status it went through.
int lane_of(const clearance::ListRecord& L) {
  for (const auto& ev : L.history) {
    if (ev.returnStatus == ceb::status::kManualReview) return 1;
    if (ev.returnStatus == ceb::status::kInspection) return 2;
  }
  return 0;
}

size_t clearance_bucket(TimeMs ms) {
  for (size_t i = 0; i < kClearanceBoundsMs.size(); ++i)
    if (ms <= kClearanceBoundsMs[i]) return i;
  return kClearanceBoundsMs.size();
}

void key_value(Writer& w, const char* k, std::string_view v) {
  w.Key(k);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

// The entries of a breakdown by name (FigureMap has no order of its own).
std::vector<std::pair<std::string_view, Figure>> sorted_by_name(const FigureMap& m) {
  std::vector<std::pair<std::string_view, Figure>> v(m.begin(), m.end());
  std::sort(v.begin(), v.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return v;
}

void figures_json(Writer& w, const char* key, const FigureMap& m) {
  // Largest value first: what a chart shows; names in order among equals.
  std::vector<std::pair<std::string_view, Figure>> v = sorted_by_name(m);
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second.value_fen > b.second.value_fen;
  });
  w.Key(key);
  w.StartArray();
  for (const auto& [k, f] : v) {
    w.StartObject();
    key_value(w, "key", k);
    w.Key("lists");
    w.Uint64(f.lists);
    w.Key("valueFen");
    w.Int64(f.value_fen);
    w.Key("taxFen");
    w.Int64(f.tax_fen);
    w.EndObject();
  }
  w.EndArray();
}

double ratio(uint64_t a, uint64_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / b; }

void counts_json(Writer& w, const Aggregate& a) {
  w.Key("declared");
  w.Uint64(a.declared);
  w.Key("released");
  w.Uint64(a.released);
  w.Key("rejected");
  w.Uint64(a.rejected);
  w.Key("automated");
  w.Uint64(a.released_automated);
  w.Key("valueFen");
  w.Int64(a.value_fen);
  w.Key("taxFen");
  w.Int64(a.tax_fen);
  w.Key("releaseRate");
  w.Double(ratio(a.released, a.released + a.rejected));
  // Of the lists whose lane was chosen, the share released with no officer (DOMAIN.md §6's 98 %).
  w.Key("automatedRate");
  w.Double(ratio(a.released_automated, a.lanes[0] + a.lanes[1] + a.lanes[2]));
  w.Key("p50Ms");
  w.Int64(clearance_percentile_ms(a.clearance, 0.50));
  w.Key("p95Ms");
  w.Int64(clearance_percentile_ms(a.clearance, 0.95));
  w.Key("p99Ms");
  w.Int64(clearance_percentile_ms(a.clearance, 0.99));
}

std::string beijing_text(TimeMs t) {
  std::string s = format_datetime14(t);
  return fmt::format("{}-{}-{} {}:{}", s.substr(0, 4), s.substr(4, 2), s.substr(6, 2),
                     s.substr(8, 2), s.substr(10, 2));
}

}  // namespace

void Aggregate::add(const Aggregate& o) {
  declared += o.declared;
  released += o.released;
  rejected += o.rejected;
  released_automated += o.released_automated;
  value_fen += o.value_fen;
  tax_fen += o.tax_fen;
  for (size_t i = 0; i < lanes.size(); ++i) lanes[i] += o.lanes[i];
  for (size_t i = 0; i < clearance.size(); ++i) clearance[i] += o.clearance[i];
  for (auto [to, from] : {std::pair{&by_trade_mode, &o.by_trade_mode},
                          std::pair{&by_country, &o.by_country},
                          std::pair{&by_chapter, &o.by_chapter},
                          std::pair{&by_platform, &o.by_platform}})
    for (const auto& [k, f] : *from) add_figure(to, HashedName(figure_key(k)), f);
  for (const auto& [k, n] : o.findings) entry(&findings, k) += n;
}

void StatsCentre::ListDelta::clear() {
  declared = released = rejected = released_automated = 0;
  value_fen = tax_fen = 0;
  lane = clearance_bucket = -1;
  figures = false;
  trade_mode = platform = {};
  whole = Figure{};
  countries.clear();
  chapters.clear();
  findings.clear();
}

// The same as Aggregate::add of an aggregate holding these figures (what Observe built before).
void StatsCentre::ListDelta::add_to(Aggregate* a) const {
  a->declared += declared;
  a->released += released;
  a->rejected += rejected;
  a->released_automated += released_automated;
  a->value_fen += value_fen;
  a->tax_fen += tax_fen;
  if (lane >= 0) a->lanes[static_cast<size_t>(lane)] += 1;
  if (clearance_bucket >= 0) a->clearance[static_cast<size_t>(clearance_bucket)] += 1;
  if (figures) {
    add_figure(&a->by_trade_mode, trade_mode, whole);
    add_figure(&a->by_platform, platform, whole);
    for (const auto& [k, f] : countries) add_figure(&a->by_country, k, f);
    for (const auto& [k, f] : chapters) add_figure(&a->by_chapter, k, f);
  }
  for (std::string_view rule : findings) entry(&a->findings, rule) += 1;
}

TimeMs bucket_start(TimeMs t, Granularity g) {
  if (g == Granularity::kDay) return beijing_day_start(t);
  TimeMs m = t % kMsPerHour;
  return t - (m < 0 ? m + kMsPerHour : m);
}

TimeMs clearance_percentile_ms(const std::array<uint64_t, kClearanceBuckets>& h, double q) {
  uint64_t total = 0;
  for (uint64_t n : h) total += n;
  if (total == 0) return 0;
  double target = q * static_cast<double>(total);
  uint64_t cum = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i] == 0) continue;
    if (static_cast<double>(cum + h[i]) >= target) {
      TimeMs lo = i == 0 ? 0 : kClearanceBoundsMs[i - 1];
      TimeMs hi = i < kClearanceBoundsMs.size() ? kClearanceBoundsMs[i] : lo * 2;
      double within = (target - static_cast<double>(cum)) / static_cast<double>(h[i]);
      return lo + static_cast<TimeMs>(within * static_cast<double>(hi - lo));
    }
    cum += h[i];
  }
  return kClearanceBoundsMs.back();
}

int quota_band(Fen used_fen, Fen limit_fen) {
  if (limit_fen <= 0 || used_fen >= limit_fen) return kQuotaBands;
  return static_cast<int>(used_fen * kQuotaBands / limit_fen);
}

void StatsCentre::add(std::string_view scope, TimeMs time, const ListDelta& d) {
  auto it = cursors_.find(scope);
  if (it == cursors_.end()) it = cursors_.emplace(std::string(scope), ScopeCursor{}).first;
  ScopeCursor& c = it->second;
  // Buckets are an hour and a Beijing day (no daylight saving: always 24 h) long.
  if (c.hourly == nullptr || time < c.hour || time - c.hour >= kMsPerHour) {
    c.hour = bucket_start(time, Granularity::kHour);
    c.hourly = &entry(&hourly_, scope)[c.hour];
  }
  if (c.daily == nullptr || time < c.day || time - c.day >= kMsPerDay) {
    c.day = bucket_start(time, Granularity::kDay);
    c.daily = &entry(&daily_, scope)[c.day];
  }
  d.add_to(c.hourly);
  d.add_to(c.daily);
}

// The zone's buckets ("") and those of every party to the list, each party once.
void StatsCentre::add_everywhere(const ceb::InventoryHead& h, TimeMs time, const ListDelta& d) {
  add("", time, d);
  std::array<std::string_view, 5> parties{h.ebpCode, h.ebcCode, h.agentCode, h.logisticsCode,
                                          h.assureCode};
  std::sort(parties.begin(), parties.end());
  for (size_t i = 0; i < parties.size(); ++i) {
    if (parties[i].empty() || (i > 0 && parties[i] == parties[i - 1])) continue;
    add(parties[i], time, d);
  }
}

ObservedCommand observe_applied(const clearance::Engine& engine, TimeMs time,
                                const ceb::Receipts* receipts) {
  ObservedCommand c{time, receipts, {}, {}};
  ObservedCommand::Lists changed;
  for (const auto& in : engine.list_intake()) {
    if (!in.replay) changed.emplace(in.agentCode, in.copNo);
    if (in.first_declaration) c.new_lists.emplace(in.agentCode, in.copNo);
    if (in.replay && changed.count({in.agentCode, in.copNo}) == 0)
      c.replayed_lists.emplace(in.agentCode, in.copNo);
  }
  return c;
}

void StatsCentre::Observe(const clearance::Engine& e, const ObservedCommand& c) {
  namespace st = ceb::status;
  std::lock_guard lk(mu_);
  last_time_ = std::max(last_time_, c.time);
  // A list resent twice in one message, or released and closed in one command, counts once.
  counted_.clear();
  auto listed = [](const ObservedCommand::Lists& lists, const ceb::Receipt& r) {
    return !lists.empty() && lists.count({r.agentCode, r.copNo}) != 0;
  };
  for (const ceb::Receipt& r : *c.receipts) {
    if (r.answers != ceb::MessageType::kCEB621) continue;
    if (listed(c.replayed_lists, r)) continue;
    bool declared =
        r.returnStatus == st::kAccepted && !r.invtNo.empty() && listed(c.new_lists, r);
    bool to_officer = r.returnStatus == st::kManualReview || r.returnStatus == st::kInspection;
    if (!declared && !to_officer && r.returnStatus != st::kReleased &&
        r.returnStatus != st::kRejected)
      continue;
    if (!counted_.emplace(r.agentCode, r.copNo, declared ? st::kAccepted : r.returnStatus).second)
      continue;
    auto L = e.list_by_cop_no(r.agentCode, r.copNo);
    if (L == nullptr) continue;
    const auto& h = L->doc.head;
    ListDelta& d = delta_;
    d.clear();
    if (to_officer) {
      // The lane is counted when it is chosen, not when the officer finishes: a dashboard must
      // show the lists waiting for officers. Only the list's first officer status is a lane
      // (300 then 500 is one yellow list sent on to inspection).
      int lane = lane_of(*L);
      const clearance::StatusEvent* first = nullptr;
      for (const auto& ev : L->history)
        if (ev.returnStatus == st::kManualReview || ev.returnStatus == st::kInspection) {
          first = &ev;
          break;
        }
      if (first == nullptr || first->returnStatus != r.returnStatus || first->time != r.returnTime)
        continue;
      d.lane = lane;
      add_everywhere(h, c.time, d);
      continue;
    }
    if (declared) {
      d.declared = 1;
    } else if (r.returnStatus == st::kRejected) {
      d.rejected = 1;
      for (const auto& f : r.findings) d.findings.push_back(f.rule);
    } else {
      if (!L->tax) continue;  // cannot happen: a released list has its tax
      const tax::ListTax& t = *L->tax;
      d.released = 1;
      // Green lists count their lane here; yellow and red ones did when they went to an officer.
      int lane = lane_of(*L);
      if (lane == 0) d.lane = 0, d.released_automated = 1;
      d.value_fen = t.dutiable_fen;
      d.tax_fen = t.total_fen();
      d.figures = true;
      d.whole = Figure{1, t.dutiable_fen, t.total_fen()};
      d.trade_mode = HashedName(figure_key(h.tradeMode));
      d.platform = HashedName(figure_key(h.ebpCode));
      // Country and chapter by line (a list of German formula and French wine counts for both):
      // each name counts the list once and the value and tax of its lines.
      auto add_line = [](std::vector<std::pair<HashedName, Figure>>* v, std::string_view name,
                         const tax::LineTax& lt) {
        const std::string_view k = figure_key(name);
        auto it = std::find_if(v->begin(), v->end(),
                               [&](const auto& e) { return e.first.name == k; });
        if (it == v->end()) it = v->insert(v->end(), {HashedName(k), Figure{1, 0, 0}});
        it->second.value_fen += lt.dutiable_fen;
        it->second.tax_fen += lt.total_fen();
      };
      for (const tax::LineTax& lt : t.lines) {
        std::string_view country = "?";
        for (const auto& line : L->doc.lists)
          if (line.gnum == lt.gnum) country = line.country;
        add_line(&d.countries, country, lt);
        add_line(&d.chapters, std::string_view(lt.gcode).substr(0, 2), lt);
      }
      TimeMs took = c.time - e.first_document_ms(*L);
      d.clearance_bucket = static_cast<int>(clearance_bucket(std::max<TimeMs>(0, took)));
      // Quota usage: the buyer moves from the band before this list to the band after it.
      auto decl = parse_date8(h.declTime);
      CivilDate date = decl ? *decl : beijing_date(c.time);
      Fen limit = e.reference().policy_at(date).annual_limit_fen;
      Fen after = e.quota().totals({clearance::normalize_id_number(h.buyerIdNumber), date.year})
                      .committed_fen;
      Fen before = after - t.dutiable_fen;
      auto& bands = quota_[date.year];
      if (before > 0 && bands[quota_band(before, limit)] > 0) bands[quota_band(before, limit)] -= 1;
      bands[quota_band(after, limit)] += 1;
    }
    add_everywhere(h, c.time, d);
  }
  if (bucket_start(c.time, Granularity::kDay) != pruned_day_) {
    pruned_day_ = bucket_start(c.time, Granularity::kDay);
    prune(c.time);
  }
}

void StatsCentre::prune(TimeMs now) {
  cursors_.clear();  // they may point at buckets erased below
  TimeMs hour_cut = now - kStatsHourlyRetentionHours * kMsPerHour;
  TimeMs day_cut = now - kStatsDailyRetentionDays * kMsPerDay;
  for (auto& [scope, m] : hourly_) m.erase(m.begin(), m.lower_bound(hour_cut));
  for (auto& [scope, m] : daily_) m.erase(m.begin(), m.lower_bound(day_cut));
}

StatsCentre::Series StatsCentre::query(const Range& r, std::string_view scope) const {
  std::lock_guard lk(mu_);
  Series s;
  const auto& all = r.granularity == Granularity::kHour ? hourly_ : daily_;
  auto sc = all.find(scope);
  TimeMs t = bucket_start(r.from, r.granularity);
  for (int n = 0; t < r.to && n < kStatsMaxBuckets; ++n) {
    Aggregate a;
    if (sc != all.end()) {
      if (auto b = sc->second.find(t); b != sc->second.end()) a = b->second;
    }
    s.total.add(a);
    s.buckets.emplace_back(t, std::move(a));
    // Next bucket: an hour, or the next Beijing day (no daylight saving: always 24 h).
    t += r.granularity == Granularity::kHour ? kMsPerHour : kMsPerDay;
  }
  return s;
}

std::array<uint64_t, kQuotaBands + 1> StatsCentre::quota_bands(int year) const {
  std::lock_guard lk(mu_);
  auto it = quota_.find(year);
  return it == quota_.end() ? std::array<uint64_t, kQuotaBands + 1>{} : it->second;
}

TimeMs StatsCentre::last_time() const {
  std::lock_guard lk(mu_);
  return last_time_;
}

// ---- Snapshot codec (issue #3) --------------------------------------------------------------
//
// Format 1: u8 1; i64 last_time_; i64 pruned_day_; hourly_ then daily_, each as a count of
// scopes, then per scope its name and a count of buckets, then per bucket its start and its
// Aggregate; then quota_ as a count of years, then per year i64 year and the kQuotaBands + 1
// counts. Every map in its own order. A scope whose buckets were all pruned keeps its (empty)
// entry, as in memory.
//
// An Aggregate: u64 declared, released, rejected, released_automated; i64 value_fen, tax_fen;
// the 3 lanes and kClearanceBuckets counts (fixed sizes, no count); the four Figure maps
// (count, then key, u64 lists, i64 value_fen, i64 tax_fen) and findings (count, then rule, u64).

namespace {

constexpr uint8_t kStatsFormat = 1;
// Bucket starts outside ± 2^62 ms (about 146 million years) are damage: bucket_start would
// overflow on them.
constexpr TimeMs kStatsMaxAbsTimeMs = TimeMs{1} << 62;

using BucketMap = std::map<TimeMs, Aggregate>;
using ScopeMap = std::map<std::string, BucketMap, std::less<>>;

void save_figures(ByteWriter& w, const FigureMap& m) {
  w.u64(m.size());
  for (const auto& [k, f] : sorted_by_name(m)) {  // equal centres give equal bytes
    w.str(k);
    w.u64(f.lists);
    w.i64(f.value_fen);
    w.i64(f.tax_fen);
  }
}

bool load_figures(ByteReader& in, FigureMap* m) {
  uint64_t n = in.count();
  for (uint64_t i = 0; i < n && in.ok(); ++i) {
    std::string k = in.str();
    Figure f;
    f.lists = in.u64();
    f.value_fen = in.i64();
    f.tax_fen = in.i64();
    if (!in.ok() || !m->emplace(std::move(k), f).second) return false;
  }
  return in.ok();
}

void save_aggregate(ByteWriter& w, const Aggregate& a) {
  w.u64(a.declared);
  w.u64(a.released);
  w.u64(a.rejected);
  w.u64(a.released_automated);
  w.i64(a.value_fen);
  w.i64(a.tax_fen);
  for (uint64_t n : a.lanes) w.u64(n);
  for (uint64_t n : a.clearance) w.u64(n);
  save_figures(w, a.by_trade_mode);
  save_figures(w, a.by_country);
  save_figures(w, a.by_chapter);
  save_figures(w, a.by_platform);
  w.u64(a.findings.size());
  for (const auto& [rule, n] : a.findings) {
    w.str(rule);
    w.u64(n);
  }
}

bool load_aggregate(ByteReader& in, Aggregate* a) {
  a->declared = in.u64();
  a->released = in.u64();
  a->rejected = in.u64();
  a->released_automated = in.u64();
  a->value_fen = in.i64();
  a->tax_fen = in.i64();
  for (uint64_t& n : a->lanes) n = in.u64();
  for (uint64_t& n : a->clearance) n = in.u64();
  if (!load_figures(in, &a->by_trade_mode) || !load_figures(in, &a->by_country) ||
      !load_figures(in, &a->by_chapter) || !load_figures(in, &a->by_platform))
    return false;
  uint64_t n = in.count();
  for (uint64_t i = 0; i < n && in.ok(); ++i) {
    std::string rule = in.str();
    uint64_t count = in.u64();
    if (!in.ok() || !a->findings.emplace(std::move(rule), count).second) return false;
  }
  return in.ok();
}

void save_scopes(ByteWriter& w, const ScopeMap& scopes) {
  w.u64(scopes.size());
  for (const auto& [scope, buckets] : scopes) {
    w.str(scope);
    w.u64(buckets.size());
    for (const auto& [start, a] : buckets) {
      w.i64(start);
      save_aggregate(w, a);
    }
  }
}

// Bucket starts must be what bucket_start gives for `g`: a query looks buckets up by it.
bool load_scopes(ByteReader& in, Granularity g, ScopeMap* scopes) {
  uint64_t n_scopes = in.count();
  for (uint64_t i = 0; i < n_scopes && in.ok(); ++i) {
    auto [it, fresh] = scopes->try_emplace(in.str());
    if (!in.ok() || !fresh) return false;
    uint64_t n_buckets = in.count();
    for (uint64_t j = 0; j < n_buckets && in.ok(); ++j) {
      TimeMs start = in.i64();
      if (!in.ok() || start <= -kStatsMaxAbsTimeMs || start >= kStatsMaxAbsTimeMs ||
          bucket_start(start, g) != start)
        return false;
      auto [b, added] = it->second.try_emplace(start);
      if (!added || !load_aggregate(in, &b->second)) return false;
    }
  }
  return in.ok();
}

}  // namespace

void StatsCentre::save_state(ByteWriter& w) const {
  std::lock_guard lk(mu_);
  w.u8(kStatsFormat);
  w.i64(last_time_);
  w.i64(pruned_day_);
  save_scopes(w, hourly_);
  save_scopes(w, daily_);
  w.u64(quota_.size());
  for (const auto& [year, bands] : quota_) {
    w.i64(year);
    for (uint64_t n : bands) w.u64(n);
  }
}

bool StatsCentre::load_state(ByteReader& in) {
  std::lock_guard lk(mu_);
  cursors_.clear();
  hourly_.clear();
  daily_.clear();
  quota_.clear();
  delta_.clear();
  counted_.clear();
  last_time_ = pruned_day_ = 0;
  if (in.u8() != kStatsFormat || !in.ok()) return false;
  last_time_ = in.i64();
  pruned_day_ = in.i64();
  if (!in.ok() || !load_scopes(in, Granularity::kHour, &hourly_) ||
      !load_scopes(in, Granularity::kDay, &daily_))
    return false;
  uint64_t n_years = in.count();
  for (uint64_t i = 0; i < n_years && in.ok(); ++i) {
    int64_t year = in.i64();
    if (!in.ok() || year < std::numeric_limits<int>::min() ||
        year > std::numeric_limits<int>::max())
      return false;
    auto [it, fresh] = quota_.try_emplace(static_cast<int>(year));
    if (!fresh) return false;
    for (uint64_t& n : it->second) n = in.u64();
  }
  return in.ok();
}

std::string stats_series_json(const StatsCentre::Series& s, const StatsCentre::Range& r,
                              bool anonymous) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  w.Key("from");
  w.Int64(r.from);
  w.Key("to");
  w.Int64(r.to);
  key_value(w, "granularity", r.granularity == Granularity::kHour ? "hour" : "day");
  w.Key("series");
  w.StartArray();
  for (const auto& [t, a] : s.buckets) {
    w.StartObject();
    w.Key("t");
    w.Int64(t);
    counts_json(w, a);
    w.EndObject();
  }
  w.EndArray();
  const Aggregate& a = s.total;
  w.Key("total");
  w.StartObject();
  counts_json(w, a);
  w.Key("lanes");
  w.StartObject();
  w.Key("green");
  w.Uint64(a.lanes[0]);
  w.Key("yellow");
  w.Uint64(a.lanes[1]);
  w.Key("red");
  w.Uint64(a.lanes[2]);
  w.EndObject();
  figures_json(w, "byTradeMode", a.by_trade_mode);
  figures_json(w, "byCountry", a.by_country);
  figures_json(w, "byChapter", a.by_chapter);
  if (!anonymous) figures_json(w, "byPlatform", a.by_platform);
  w.Key("findings");
  w.StartArray();
  std::vector<std::pair<std::string, uint64_t>> f(a.findings.begin(), a.findings.end());
  std::stable_sort(f.begin(), f.end(), [](const auto& x, const auto& y) {
    return x.second > y.second;
  });
  for (const auto& [rule, n] : f) {
    w.StartObject();
    key_value(w, "rule", rule);
    w.Key("count");
    w.Uint64(n);
    w.EndObject();
  }
  w.EndArray();
  w.Key("clearanceHistogram");
  w.StartArray();
  for (size_t i = 0; i < kClearanceBuckets; ++i) {
    w.StartObject();
    w.Key("leMs");
    if (i < kClearanceBoundsMs.size()) w.Int64(kClearanceBoundsMs[i]);
    else w.Null();
    w.Key("count");
    w.Uint64(a.clearance[i]);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}

std::string_view stats_csv_header() {
  return "scope,bucket_start_beijing,declared,released,rejected,automated,value_yuan,tax_yuan,"
         "clearance_p50_s,clearance_p95_s,clearance_p99_s\n";
}

std::string stats_csv_rows(const StatsCentre::Series& s, std::string_view scope) {
  std::string out;
  for (const auto& [t, a] : s.buckets) {
    out += fmt::format("{},{},{},{},{},{},{},{},{:.1f},{:.1f},{:.1f}\n", scope, beijing_text(t),
                       a.declared, a.released, a.rejected, a.released_automated,
                       format_fen(a.value_fen), format_fen(a.tax_fen),
                       clearance_percentile_ms(a.clearance, 0.50) / 1000.0,
                       clearance_percentile_ms(a.clearance, 0.95) / 1000.0,
                       clearance_percentile_ms(a.clearance, 0.99) / 1000.0);
  }
  return out;
}

}  // namespace cbec::service
