// The hall board and the statistics centre as projections of the log: names are masked, the
// board stays bounded and says so with removal events, and both are rebuilt exactly on replay
// (so a browser's Last-Event-ID still means the same event after a restart).
#include <span>

#include "service_fixture.h"

namespace cbec::service::testing {
namespace {

TEST(MaskName, ChineseAndLatinNames) {
  EXPECT_EQ(mask_name("张三丰"), "张*丰");
  EXPECT_EQ(mask_name("张三"), "张*");
  EXPECT_EQ(mask_name("欧阳娜娜"), "欧**娜");
  EXPECT_EQ(mask_name(" 李 "), "李*");
  EXPECT_EQ(mask_name("John Smith"), "J*** S****");
  EXPECT_EQ(mask_name("anna"), "A***");
  EXPECT_EQ(mask_name(""), "*");
}

TEST(ClearancePercentile, InterpolatesInsideFixedBuckets) {
  std::array<uint64_t, kClearanceBuckets> h{};
  EXPECT_EQ(clearance_percentile_ms(h, 0.5), 0);
  h[0] = 10;  // ten lists within 1 s
  EXPECT_EQ(clearance_percentile_ms(h, 0.5), 500);
  h[6] = 10;  // ten more between 30 s and 60 s
  EXPECT_EQ(clearance_percentile_ms(h, 0.5), 1000);
  EXPECT_EQ(clearance_percentile_ms(h, 0.95), 30000 + 27000);
  EXPECT_EQ(quota_band(0, 2600000), 0);
  EXPECT_EQ(quota_band(1300000, 2600000), 5);
  EXPECT_EQ(quota_band(2600000, 2600000), kQuotaBands);
}

std::vector<gen::DocSet> hall_sets(int count, uint64_t seed) {
  gen::Options opt;
  opt.seed = seed;
  opt.count = count;
  opt.share_hall = 1.0;
  auto g = gen::generate(gen::demo_zone(), opt, *reference());
  EXPECT_TRUE(g.ok());
  return g.ok() ? std::move(g->sets) : std::vector<gen::DocSet>{};
}

void submit_all(Service& s, const gen::DocSet& set) {
  for (auto& sub : demo::submissions(gen::demo_zone(), std::span(&set, 1))) {
    std::string raw = ceb::write_message_xml(sub.message);
    auto a = s.SubmitAndWait(encode_submit(sub.sender, raw, std::move(sub.message)));
    ASSERT_TRUE(a.ok());
  }
}

std::string board_text(const Service& s) {
  auto snap = s.board().snapshot("");
  std::string out = std::to_string(snap.version);
  for (const auto& it : snap.items) out += "\n" + board_item_json(it);
  return out;
}

TEST(BoardProjection, RebuiltExactlyOnReplayIncludingPickups) {
  std::string dir = temp_dir("board-replay");
  auto sets = hall_sets(5, 21);
  std::string board, stats;
  StatsCentre::Range range{0, beijing_midnight(CivilDate{2025, 6, 20}), Granularity::kDay};
  {
    auto s = Service::Open(base_options(dir));
    ASSERT_TRUE(s.ok());
    setup_zone(**s);
    for (const auto& set : sets) submit_all(**s, set);
    const std::string& id = sets[0].inventory.head.buyerIdNumber;
    auto a = (*s)->SubmitAndWait(encode_admin(clearance::Pickup{
        gen::demo_zone().hallCode, sets[0].payment.head.payTransactionId,
        id.substr(id.size() - 4), "C1"}));
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(a->status.ok()) << a->status.ToString();
    board = board_text(**s);
    range.from = range.to - 30 * kMsPerDay;
    stats = stats_series_json((*s)->statistics().query(range, ""), range, false);
    EXPECT_NE(board.find("picked_up"), std::string::npos);
  }
  auto s = Service::Open(base_options(dir));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(board_text(**s), board);
  EXPECT_EQ(stats_series_json((*s)->statistics().query(range, ""), range, false), stats);
}

TEST(BoardProjection, BoundedWithRemovalEventsAndSnapshotForTheFarBehind) {
  std::string dir = temp_dir("board-bounded");
  ServiceOptions o = base_options(dir);
  o.board.max_orders = 3;
  o.board.max_events = 8;
  auto s = Service::Open(o);
  ASSERT_TRUE(s.ok());
  setup_zone(**s);
  for (const auto& set : hall_sets(5, 22)) submit_all(**s, set);
  const Board& b = (*s)->board();
  EXPECT_EQ(b.snapshot("").items.size(), 3u);
  auto recent = b.events_after(b.version() - 4, "", 100);
  ASSERT_TRUE(recent.has_value());
  EXPECT_EQ(recent->size(), 4u);
  bool removal = false;
  auto window = b.events_after(b.version() - 8, "", 100);
  ASSERT_TRUE(window.has_value());
  for (const auto& ev : *window) removal |= ev.removed;
  EXPECT_TRUE(removal) << "an order leaving the board is an event too";
  EXPECT_FALSE(b.events_after(0, "", 100).has_value()) << "too far behind: take a snapshot";
  EXPECT_FALSE(b.events_after(b.version() + 1, "", 100).has_value());
  EXPECT_TRUE(b.events_after(b.version(), "", 100)->empty());
  EXPECT_TRUE(b.events_after(b.version() - 1, "no-such-hall", 100)->empty());
}

}  // namespace
}  // namespace cbec::service::testing
