// Snapshots of the two projections (issue #3): the hall board and the statistics centre saved
// with save_state and loaded into fresh objects answer every query exactly as the originals,
// save to the same bytes, and keep agreeing when both are fed the same further commands (event
// ids continue, buckets grow and are pruned alike). Damaged snapshots (any strict prefix, a bad
// version byte, values out of range) fail to load without crashing.
#include <limits>
#include <map>
#include <set>
#include <span>

#include "common/bytes.h"
#include "fmt/format.h"
#include "fmt/ranges.h"
#include "service_fixture.h"

namespace cbec::service::testing {
namespace {

constexpr const char* kHall2 = "4101960012";  // a second O2O hall, registered by the test
constexpr TimeMs kMsPerMin = 60 * kMsPerSecond;

// The demo zone with a second hall; `hall` is the one whose sets gen draws.
gen::Zone zone_with_halls(const std::string& hall) {
  gen::Zone z = gen::demo_zone();
  gen::Enterprise h2 = *z.find(z.hallCode);
  h2.code = kHall2;
  h2.name = "郑州跨境O2O二号体验店有限公司";
  z.enterprises.push_back(h2);
  z.hallCode = hall;
  return z;
}

// Yellow or red by the last character of copNo, so that lists reach the officer stages.
clearance::Lane lane_by_cop_no(const clearance::LaneContext& c) {
  const std::string& no = c.inventory->head.copNo;
  int k = no.empty() ? 0 : static_cast<unsigned char>(no.back()) % 5;
  return k == 1   ? clearance::Lane::kYellow
         : k == 2 ? clearance::Lane::kRed
                  : clearance::Lane::kGreen;
}

// The clearance core and the projections fed from it the way Service::ApplyOne feeds them.
class Feed {
 public:
  Feed() : engine_(clearance::EngineOptions{reference(), lane_by_cop_no}) {}

  clearance::Engine& engine() { return engine_; }
  TimeMs now() const { return now_; }
  void set_now(TimeMs t) { now_ = t; }
  void advance(TimeMs ms) { now_ += ms; }
  void watch(Board* b) { boards_.push_back(b); }
  void watch(StatsCentre* c) { centres_.push_back(c); }

  Status apply(clearance::Command::Body body) {
    receipts_.clear();
    Status s = engine_.apply(++seq_, now_, std::move(body), &receipts_);
    observed_ = observe_applied(engine_, now_, &receipts_);
    for (Board* b : boards_) b->Observe(engine_, now_, receipts_);
    for (StatsCentre* c : centres_) c->Observe(engine_, observed_);
    return s;
  }
  // What the projections saw of the last command.
  const ObservedCommand& observed() const { return observed_; }

  void submit(const gen::Zone& z, std::span<const gen::DocSet> sets,
              std::initializer_list<ceb::MessageType> types) {
    for (ceb::MessageType t : types)
      for (auto& m : gen::to_messages(z, sets, t)) {
        std::string sender = m.transfer.copCode;
        (void)apply(clearance::SubmitMessage{std::move(sender), std::move(m)});
      }
  }

 private:
  clearance::Engine engine_;
  std::vector<Board*> boards_;
  std::vector<StatsCentre*> centres_;
  ceb::Receipts receipts_;
  ObservedCommand observed_;
  TimeMs now_ = beijing_midnight(CivilDate{2025, 6, 16}) + 9 * kMsPerHour;
  uint64_t seq_ = 0;
};

// One round of trade: a batch of sets (mostly hall sets, some faulty) in the usual order,
// except that the first set stops at the waybill (the board's "ordered") and the second one's
// payment comes a round later (its list waits: "declared"); then officers decide on some of
// the lists waiting for them (release, reject, inspect, modification), and the hall hands over
// some released goods.
class Rounds {
 public:
  explicit Rounds(Feed* f) : f_(f) {}

  void setup() {
    for (auto& body :
         demo::setup_commands(zone_with_halls(gen::demo_zone().hallCode), 100'000'000'00)) {
      Status s = f_->apply(std::move(body));
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }

  void round() {
    int k = n_++;
    gen::Zone z = zone_with_halls(k % 2 == 0 ? gen::demo_zone().hallCode : kHall2);
    gen::Options opt;
    opt.seed = 7000 + static_cast<uint64_t>(k);
    opt.count = 7;
    opt.share_hall = 0.85;
    opt.fault_share = 0.25;
    opt.faults_round_robin = false;
    opt.start_time = f_->now() - 60 * kMsPerSecond;
    auto g = gen::generate(z, opt, *reference());
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    std::vector<gen::DocSet> sets = std::move(g->sets);
    using MT = ceb::MessageType;
    if (late_payment_) {  // the previous round's withheld payment
      f_->submit(late_zone_, std::span(&*late_payment_, 1), {MT::kCEB411});
      late_payment_.reset();
    }
    f_->submit(z, std::span(sets).subspan(0, 1), {MT::kCEB311, MT::kCEB511});
    f_->submit(z, std::span(sets).subspan(1, 1), {MT::kCEB311, MT::kCEB511, MT::kCEB621});
    late_payment_ = sets[1];
    late_zone_ = z;
    f_->advance(20 * kMsPerSecond);
    f_->submit(z, std::span(sets).subspan(2), {MT::kCEB311, MT::kCEB411, MT::kCEB511, MT::kCEB621});
    f_->advance(40 * kMsPerMin);
    all_.insert(all_.end(), sets.begin() + 1, sets.end());
    decide();
    f_->advance(30 * kMsPerMin);
    pick_up();
    (void)f_->apply(clearance::Tick{});
  }

  void decide() {
    const std::string officer = gen::demo_zone().officers[0].id;
    for (const gen::DocSet& s : all_) {
      const auto& h = s.inventory.head;
      auto L = f_->engine().list_by_cop_no(h.agentCode, h.copNo);
      if (L == nullptr) continue;
      if (L->state != clearance::ListState::kManualReview &&
          L->state != clearance::ListState::kInspection)
        continue;
      std::string invt = L->invtNo;
      bool review = L->state == clearance::ListState::kManualReview;
      using OA = clearance::OfficerAction;
      int k = decisions_++;
      if (k % 5 == 4) continue;  // left waiting for an officer
      OA action = k % 5 == 0   ? OA::kRelease
                  : k % 5 == 1 ? OA::kReject
                  : k % 5 == 2 ? (review ? OA::kInspect : OA::kRelease)
                               : OA::kRequestModification;
      Status st = f_->apply(clearance::OfficerDecision{officer, invt, action, "检查 check"});
      if (st.ok()) ++decided_;
    }
  }

  void pick_up() {
    for (const gen::DocSet& s : all_) {
      const auto& h = s.inventory.head;
      auto L = f_->engine().list_by_cop_no(h.agentCode, h.copNo);
      if (L == nullptr || L->state != clearance::ListState::kReleased) continue;
      std::string hall = clearance::o2o_hall_of(f_->engine(), L->doc);
      if (hall.empty() || pickups_tried_++ % 2 == 1) continue;
      const std::string& id = h.buyerIdNumber;
      Status st = f_->apply(
          clearance::Pickup{hall, s.payment.head.payTransactionId, id.substr(id.size() - 4), "C1"});
      if (st.ok()) ++picked_up_;
    }
  }

  int decided() const { return decided_; }
  int picked_up() const { return picked_up_; }

 private:
  Feed* f_;
  int n_ = 0;
  int decisions_ = 0, decided_ = 0, pickups_tried_ = 0, picked_up_ = 0;
  std::vector<gen::DocSet> all_;
  std::optional<gen::DocSet> late_payment_;
  gen::Zone late_zone_;
};

// ---- Comparisons ----------------------------------------------------------------------------

std::string event_text(const BoardEvent& ev) {
  return fmt::format("{} {} {}", ev.id, ev.removed ? "remove" : "upsert", board_item_json(ev.item));
}

const std::vector<std::string> kHalls = {"", "4101960011", kHall2, "no-such-hall"};

// Everything a reader of the board can see.
std::string board_view(const Board& b) {
  std::string out = fmt::format("version {}\n", b.version());
  for (const std::string& hall : kHalls) {
    auto snap = b.snapshot(hall);
    out += fmt::format("snapshot '{}' v{} n{}\n", hall, snap.version, snap.items.size());
    for (const auto& item : snap.items) out += board_item_json(item) + "\n";
    uint64_t v = snap.version;
    for (uint64_t after : {uint64_t{0}, uint64_t{1}, v / 2, v > 40 ? v - 40 : 0, v > 7 ? v - 7 : 0,
                           v > 0 ? v - 1 : 0, v, v + 1}) {
      for (size_t max : {size_t{3}, size_t{100000}}) {
        auto evs = b.events_after(after, hall, max);
        out += fmt::format("events '{}' after {} max {}: ", hall, after, max);
        if (!evs) {
          out += "take a snapshot\n";
          continue;
        }
        out += fmt::format("{}\n", evs->size());
        for (const auto& ev : *evs) out += event_text(ev) + "\n";
      }
    }
  }
  return out;
}

// Every field of an aggregate, breakdowns included (the JSON of a bucket has only the counts).
std::string aggregate_text(const Aggregate& a) {
  std::string out = fmt::format("{} {} {} {} {} {} [{}] [{}]", a.declared, a.released, a.rejected,
                                a.released_automated, a.value_fen, a.tax_fen,
                                fmt::join(a.lanes, ","), fmt::join(a.clearance, ","));
  for (const auto* m : {&a.by_trade_mode, &a.by_country, &a.by_chapter, &a.by_platform}) {
    out += " {";
    // A breakdown is hashed (no order of its own): by name, so equal aggregates read equal.
    std::map<std::string_view, service::Figure> by_name(m->begin(), m->end());
    for (const auto& [k, f] : by_name)
      out += fmt::format("{}:{}/{}/{} ", k, f.lists, f.value_fen, f.tax_fen);
    out += "}";
  }
  out += " {";
  for (const auto& [rule, n] : a.findings) out += fmt::format("{}:{} ", rule, n);
  return out + "}";
}

std::vector<std::string> scopes() {
  std::vector<std::string> out = {"", "no-such-enterprise"};
  for (const auto& e : zone_with_halls(gen::demo_zone().hallCode).enterprises)
    out.push_back(e.code);
  return out;
}

// Everything a reader of the statistics can see, over ranges around [from, to).
std::string stats_view(const StatsCentre& c, TimeMs from, TimeMs to) {
  std::string out = fmt::format("last {}\n", c.last_time());
  std::vector<StatsCentre::Range> ranges = {
      {from - kMsPerDay, to + kMsPerDay, Granularity::kHour},
      {from + 17 * kMsPerMin, from + 29 * kMsPerHour + 5, Granularity::kHour},
      {to - 40 * kMsPerDay, to + 3 * kMsPerDay, Granularity::kDay},
      {from - 400 * kMsPerDay, to, Granularity::kDay},  // capped at kStatsMaxBuckets
  };
  for (const std::string& scope : scopes()) {
    for (const auto& r : ranges) {
      auto s = c.query(r, scope);
      out += stats_series_json(s, r, false) + "\n" + stats_csv_rows(s, scope);
      for (const auto& [t, a] : s.buckets)
        if (a.declared + a.released + a.rejected + a.lanes[1] + a.lanes[2] != 0)
          out += fmt::format("{} {}\n", t, aggregate_text(a));
    }
  }
  for (int year : {2024, 2025, 2026})
    out += fmt::format("quota {}: {}\n", year, fmt::join(c.quota_bands(year), ","));
  return out;
}

// The first line where two views differ ("" if none): a readable failure for long texts.
std::string first_difference(const std::string& got, const std::string& want) {
  if (got == want) return "";
  size_t at = 0, line = 1;
  while (at < got.size() && at < want.size() && got[at] == want[at]) {
    if (got[at] == '\n') ++line;
    ++at;
  }
  auto line_at = [&](const std::string& s) {
    size_t b = s.rfind('\n', at == 0 ? 0 : at - 1);
    b = b == std::string::npos || at == 0 ? 0 : b + 1;
    return s.substr(b, s.find('\n', b) - b);
  };
  return fmt::format("line {}:\n  loaded:   {}\n  original: {}", line, line_at(got), line_at(want));
}

template <class T>
std::string saved(const T& x) {
  std::string out;
  ByteWriter w(&out);
  x.save_state(w);
  return out;
}

// Every strict prefix of `blob` fails to load into a fresh object (and nothing crashes);
// `stride` > 1 checks every stride-th prefix and the last 64 ones (quadratic otherwise).
template <class Make>
void expect_prefixes_fail(const std::string& blob, size_t stride, Make make) {
  for (size_t n = 0; n < blob.size(); n += (n + 64 >= blob.size() ? 1 : stride)) {
    auto x = make();
    ByteReader in(std::string_view(blob).substr(0, n));
    ASSERT_FALSE(x->load_state(in)) << "prefix of " << n << " of " << blob.size() << " bytes";
  }
}

const BoardOptions kSmallBoard{5, kBoardMaxAgeMs, 30};
const BoardOptions kLongBoard{kBoardMaxOrders, 7 * kMsPerDay, kBoardMaxEvents};

// observe_applied: a list declared for the first time is new; sent again unchanged it is a
// replay; sent twice in one message it is new, not a replay (its second copy answers with the
// receipt the first one got, which counts once).
TEST(ObserveApplied, FirstDeclarationsAndReplays) {
  Feed f;
  Rounds(&f).setup();
  gen::Zone z = zone_with_halls(gen::demo_zone().hallCode);
  gen::Options opt;
  opt.seed = 4242;
  opt.count = 2;
  opt.fault_share = 0;
  opt.start_time = f.now() - 60 * kMsPerSecond;
  auto g = gen::generate(z, opt, *reference());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  using MT = ceb::MessageType;
  f.submit(z, g->sets, {MT::kCEB311, MT::kCEB411, MT::kCEB511});
  auto lists = [&](std::span<const gen::DocSet> sets) {
    auto ms = gen::to_messages(z, sets, MT::kCEB621);
    EXPECT_EQ(ms.size(), 1u);
    return ms.front();
  };
  // The observed sets are views into the engine's intake of its last command.
  using Keys = ObservedCommand::Lists;
  auto key = [&](size_t i) {
    const auto& h = g->sets[i].inventory.head;
    return std::pair<std::string_view, std::string_view>(h.agentCode, h.copNo);
  };
  auto submit = [&](ceb::Message m) {
    std::string sender = m.transfer.copCode;
    ASSERT_TRUE(f.apply(clearance::SubmitMessage{std::move(sender), std::move(m)}).ok());
  };

  ceb::Message twice = lists(std::span(g->sets).subspan(0, 1));
  twice.inventories.push_back(twice.inventories.front());
  submit(twice);
  EXPECT_EQ(f.observed().new_lists, Keys{key(0)});
  EXPECT_EQ(f.observed().replayed_lists, Keys{});

  submit(lists(g->sets));  // the first again, unchanged; the second new
  EXPECT_EQ(f.observed().new_lists, Keys{key(1)});
  EXPECT_EQ(f.observed().replayed_lists, Keys{key(0)});
}

// Every released list counts in the hourly and daily buckets of its release, for the zone and
// for its platform, across hour and Beijing-day boundaries: Observe keeps each scope's current
// buckets at hand and must move on when the log time leaves them.
TEST(StatsBuckets, ListsCountInTheHourAndDayOfTheirRelease) {
  Feed f;
  StatsCentre c;
  f.watch(&c);
  Rounds(&f).setup();
  gen::Zone z = zone_with_halls(gen::demo_zone().hallCode);
  const TimeMs start = beijing_midnight(CivilDate{2025, 6, 16}) + 22 * kMsPerHour + 30 * kMsPerMin;
  gen::Options opt;
  opt.seed = 515;
  opt.count = 7;
  opt.fault_share = 0;
  opt.start_time = start - 60 * kMsPerSecond;
  auto g = gen::generate(z, opt, *reference());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  using MT = ceb::MessageType;
  f.set_now(start);
  for (size_t i = 0; i < g->sets.size(); ++i) {  // 22:30, 23:20, 00:10 the next day, ...
    f.submit(z, std::span(g->sets).subspan(i, 1),
             {MT::kCEB311, MT::kCEB411, MT::kCEB511, MT::kCEB621});
    f.advance(50 * kMsPerMin);
  }
  // What the buckets must hold, from the lists' own histories.
  const std::string platform = g->sets.front().inventory.head.ebpCode;
  std::map<std::pair<std::string, TimeMs>, uint64_t> want_hour, want_day;
  size_t released = 0;
  for (const auto& set : g->sets) {
    const auto& h = set.inventory.head;
    auto L = f.engine().list_by_cop_no(h.agentCode, h.copNo);
    ASSERT_TRUE(L) << h.copNo;
    for (const auto& ev : L->history) {
      if (ev.returnStatus != ceb::status::kReleased) continue;
      ++released;
      for (const std::string& scope : {std::string(), h.ebpCode}) {
        ++want_hour[{scope, bucket_start(ev.time, Granularity::kHour)}];
        ++want_day[{scope, bucket_start(ev.time, Granularity::kDay)}];
      }
    }
  }
  ASSERT_GE(released, 4u);  // green lists (the lane selector sends some to officers)
  for (const std::string& scope : {std::string(), platform}) {
    for (Granularity gr : {Granularity::kHour, Granularity::kDay}) {
      const auto& want = gr == Granularity::kHour ? want_hour : want_day;
      auto s = c.query({start - kMsPerDay, start + 2 * kMsPerDay, gr}, scope);
      uint64_t total = 0;
      for (const auto& [t, a] : s.buckets) {
        auto it = want.find({scope, t});
        EXPECT_EQ(a.released, it == want.end() ? 0 : it->second)
            << "scope '" << scope << "' bucket " << format_datetime14(t);
        total += a.released;
      }
      if (scope.empty()) {
        EXPECT_EQ(total, released);
      }
    }
  }
  // The day boundary was crossed: two days hold releases.
  size_t days = 0;
  for (const auto& [k, n] : want_day) days += k.first.empty() ? 1 : 0;
  EXPECT_EQ(days, 2u);
}

TEST(SnapshotProjections, LoadedCopiesAnswerAndEvolveLikeTheOriginals) {
  Feed f;
  std::vector<std::unique_ptr<Board>> boards;
  for (const BoardOptions& o : {BoardOptions{}, kSmallBoard, kLongBoard})
    boards.push_back(std::make_unique<Board>(o));
  StatsCentre stats;
  for (auto& b : boards) f.watch(b.get());
  f.watch(&stats);
  Rounds rounds(&f);
  ASSERT_NO_FATAL_FAILURE(rounds.setup());
  const TimeMs start = f.now();
  // Four days, three rounds a day.
  for (int day = 0; day < 4; ++day) {
    for (TimeMs gap : {5 * kMsPerHour, 6 * kMsPerHour, 13 * kMsPerHour}) {
      ASSERT_NO_FATAL_FAILURE(rounds.round());
      f.advance(gap - 70 * kMsPerMin);
    }
  }
  EXPECT_GT(rounds.decided(), 3);
  EXPECT_GT(rounds.picked_up(), 1);

  // The state is not trivial: every stage on the long board, both halls, removals.
  std::string long_view = board_view(*boards[2]);
  for (std::string_view stage : {"ordered", "declared", "review", "ready", "picked_up", "rejected"})
    EXPECT_NE(long_view.find(fmt::format("\"stage\":\"{}\"", stage)), std::string::npos) << stage;
  EXPECT_NE(long_view.find(kHall2), std::string::npos);
  EXPECT_NE(board_view(*boards[1]).find(" remove "), std::string::npos);
  EXPECT_EQ(boards[1]->snapshot("").items.size(), kSmallBoard.max_orders);
  EXPECT_FALSE(boards[1]->events_after(0, "", 10).has_value());
  std::string stats_before = stats_view(stats, start, f.now());
  EXPECT_NE(stats_before.find("\"rejected\":"), std::string::npos);
  EXPECT_NE(stats_before.find("\"findings\":[{"), std::string::npos);

  // One snapshot blob for all of them, read back in sequence as the service will.
  std::string blob;
  ByteWriter w(&blob);
  for (auto& b : boards) b->save_state(w);
  stats.save_state(w);

  std::vector<std::unique_ptr<Board>> loaded;
  for (const BoardOptions& o : {BoardOptions{}, kSmallBoard, kLongBoard})
    loaded.push_back(std::make_unique<Board>(o));
  StatsCentre loaded_stats;
  ByteReader in(blob);
  for (auto& b : loaded) ASSERT_TRUE(b->load_state(in));
  ASSERT_TRUE(loaded_stats.load_state(in));
  EXPECT_TRUE(in.at_end());

  for (size_t i = 0; i < boards.size(); ++i) {
    EXPECT_EQ(saved(*loaded[i]), saved(*boards[i])) << "board " << i;
    EXPECT_EQ(first_difference(board_view(*loaded[i]), board_view(*boards[i])), "")
        << "board " << i;
  }
  EXPECT_EQ(saved(loaded_stats), saved(stats));
  EXPECT_EQ(first_difference(stats_view(loaded_stats, start, f.now()), stats_before), "");

  // The same further commands to both: a round, the late payment, a gap of 70 days (every
  // item ages off the boards; hourly buckets are pruned) and trade after it.
  for (auto& b : loaded) f.watch(b.get());
  f.watch(&loaded_stats);
  for (int i = 0; i < 3; ++i) {
    ASSERT_NO_FATAL_FAILURE(rounds.round());
    f.advance(3 * kMsPerHour);
  }
  auto agree = [&](const char* when) {
    for (size_t i = 0; i < boards.size(); ++i) {
      EXPECT_EQ(first_difference(board_view(*loaded[i]), board_view(*boards[i])), "")
          << when << ", board " << i;
      EXPECT_EQ(saved(*loaded[i]), saved(*boards[i])) << when << ", board " << i;
    }
    EXPECT_EQ(first_difference(stats_view(loaded_stats, start, f.now()),
                               stats_view(stats, start, f.now())),
              "")
        << when;
    EXPECT_EQ(saved(loaded_stats), saved(stats)) << when;
  };
  agree("after three more rounds");
  uint64_t v = boards[0]->version();
  f.advance(70 * kMsPerDay);
  ASSERT_NO_FATAL_FAILURE(rounds.round());
  EXPECT_GT(boards[0]->version(), v);
  agree("after 70 days");
}

// A small state whose every strict prefix is checked, and the exhaustive checks' stride for a
// large one.
TEST(SnapshotProjections, EveryStrictPrefixAndABadVersionFailToLoad) {
  Feed f;
  Board board, small(kSmallBoard);
  StatsCentre stats;
  f.watch(&board);
  f.watch(&small);
  f.watch(&stats);
  Rounds rounds(&f);
  ASSERT_NO_FATAL_FAILURE(rounds.setup());
  for (int i = 0; i < 3; ++i) {
    ASSERT_NO_FATAL_FAILURE(rounds.round());
    f.advance(9 * kMsPerHour);
  }
  std::string b = saved(board), s = saved(small), c = saved(stats);
  ASSERT_GT(board.version(), 0u);
  auto fresh_board = [] { return std::make_unique<Board>(); };
  auto fresh_small = [] { return std::make_unique<Board>(kSmallBoard); };
  auto fresh_stats = [] { return std::make_unique<StatsCentre>(); };
  ASSERT_NO_FATAL_FAILURE(expect_prefixes_fail(b, b.size() > 40000 ? 7 : 1, fresh_board));
  ASSERT_NO_FATAL_FAILURE(expect_prefixes_fail(s, 1, fresh_small));
  ASSERT_NO_FATAL_FAILURE(expect_prefixes_fail(c, c.size() > 40000 ? 7 : 1, fresh_stats));
  // The whole blob loads; a version byte other than 1 does not.
  for (auto [blob, make] : {std::pair{b, 0}, std::pair{s, 1}, std::pair{c, 2}}) {
    auto load = [&, make = make](const std::string& bytes) {
      ByteReader in(bytes);
      if (make == 0) return fresh_board()->load_state(in);
      if (make == 1) return fresh_small()->load_state(in);
      return fresh_stats()->load_state(in);
    };
    EXPECT_TRUE(load(blob));
    for (uint8_t bad : {0, 2, 255}) {
      std::string damaged = blob;
      damaged[0] = static_cast<char>(bad);
      EXPECT_FALSE(load(damaged)) << "version byte " << int{bad};
    }
  }
  // Empty objects round-trip too.
  std::string empty_board_blob = saved(Board());
  ByteReader empty_board(empty_board_blob);
  EXPECT_TRUE(Board().load_state(empty_board));
  std::string empty_stats_blob = saved(StatsCentre());
  ByteReader empty_stats(empty_stats_blob);
  EXPECT_TRUE(StatsCentre().load_state(empty_stats));
}

// Hand-built blobs with one value out of range each: the loader says no.
std::string board_blob(const BoardOptions& o, uint64_t version, uint8_t stage, uint8_t removed,
                       uint64_t events, const std::string& order_id) {
  std::string out;
  ByteWriter w(&out);
  w.u8(1);
  w.u64(o.max_orders);
  w.i64(o.max_age_ms);
  w.u64(o.max_events);
  w.u64(version);
  w.u64(1);  // one item
  w.str("4101960011/L1");
  w.str("4101960011");
  w.str("123456");
  w.str("张*");
  w.u8(stage);
  for (size_t i = 0; i < kBoardStages; ++i) w.i64(i == 0 ? 1000 : 0);
  w.i64(1000);
  w.u64(1);  // by_order_
  w.str("ORDER123456");
  w.str(order_id);
  w.u64(events);
  for (uint64_t i = 0; i < events; ++i) {
    w.u8(removed);
    w.str("4101960011/L1");
    w.str("4101960011");
  }
  return out;
}

bool load_board(const std::string& blob, const BoardOptions& o = {}) {
  Board b(o);
  ByteReader in(blob);
  return b.load_state(in);
}

TEST(SnapshotProjections, OutOfRangeValuesFailToLoad) {
  const std::string id = "4101960011/L1";
  ASSERT_TRUE(load_board(board_blob({}, 1, 0, 1, 1, id)));
  {
    Board b;
    std::string blob = board_blob({}, 5, 3, 1, 1, id);
    ByteReader in(blob);
    ASSERT_TRUE(b.load_state(in));
    EXPECT_EQ(b.version(), 5u);
    auto evs = b.events_after(4, "", 10);
    ASSERT_TRUE(evs.has_value());
    ASSERT_EQ(evs->size(), 1u);
    EXPECT_EQ((*evs)[0].id, 5u);
    EXPECT_TRUE((*evs)[0].removed);
    EXPECT_FALSE(b.events_after(3, "", 10).has_value());
    EXPECT_EQ(b.snapshot("").items.at(0).stage, BoardStage::kReady);
  }
  EXPECT_FALSE(load_board(board_blob({}, 1, kBoardStages, 1, 1, id))) << "stage out of range";
  EXPECT_FALSE(load_board(board_blob({}, 1, 0, 2, 1, id))) << "removed flag not 0 or 1";
  EXPECT_FALSE(load_board(board_blob({}, 1, 0, 1, 2, id))) << "more events than the version";
  EXPECT_FALSE(load_board(board_blob({}, 1, 0, 1, 1, "4101960011/L2")))
      << "order index naming an item not on the board";
  EXPECT_FALSE(load_board(board_blob({}, 1, 0, 1, 1, id), kSmallBoard)) << "other options";
  BoardOptions one_event{kBoardMaxOrders, kBoardMaxAgeMs, 1};
  EXPECT_FALSE(load_board(board_blob(one_event, 2, 0, 1, 2, id), one_event))
      << "more events than the board retains";
  {
    std::string blob;  // a count far beyond the bytes left
    ByteWriter w(&blob);
    w.u8(1);
    w.u64(kBoardMaxOrders);
    w.i64(kBoardMaxAgeMs);
    w.u64(kBoardMaxEvents);
    w.u64(0);
    w.u64(uint64_t{1} << 60);
    EXPECT_FALSE(load_board(blob));
  }

  auto stats_blob = [](TimeMs bucket, uint64_t scopes, int64_t year) {
    std::string out;
    ByteWriter w(&out);
    w.u8(1);
    w.i64(bucket);
    w.i64(0);
    w.u64(scopes);
    w.str("");
    w.u64(1);
    w.i64(bucket);
    for (int i = 0; i < 6 + 3 + static_cast<int>(kClearanceBuckets); ++i) w.u64(i);
    for (int m = 0; m < 5; ++m) w.u64(0);
    w.u64(0);  // daily_
    w.u64(1);
    w.i64(year);
    for (int i = 0; i <= kQuotaBands; ++i) w.u64(i);
    return out;
  };
  auto load_stats = [](const std::string& blob) {
    StatsCentre c;
    ByteReader in(blob);
    return c.load_state(in);
  };
  TimeMs hour = beijing_midnight(CivilDate{2025, 6, 18}) + 9 * kMsPerHour;
  EXPECT_TRUE(load_stats(stats_blob(hour, 1, 2025)));
  EXPECT_FALSE(load_stats(stats_blob(hour + 1, 1, 2025))) << "not the start of an hour";
  EXPECT_FALSE(load_stats(stats_blob(std::numeric_limits<TimeMs>::min(), 1, 2025)));
  EXPECT_FALSE(load_stats(stats_blob(hour, 2, 2025))) << "more scopes than written";
  EXPECT_FALSE(load_stats(stats_blob(hour, 1, int64_t{1} << 40))) << "year beyond int";
}

}  // namespace
}  // namespace cbec::service::testing
