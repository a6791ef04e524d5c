// The acceptance run: 10,000 generated document sets of the demo zone, 5 % of them
// faulty (every kind the rules catch), cleared in-process. Every faulty set must be refused for
// the right reason; every good set released with the tax a hand calculation gives.
#include <cmath>
#include <map>

#include "demo/demo.h"
#include "gen/gen.h"
#include "gtest/gtest.h"

namespace cbec {
namespace {

using clearance::ListState;

// An independent hand calculation of the preferential tax of a list, with floating point and
// the textbook formula on the whole list: Σ V_line × (ct + vat) / (1 − ct) × 70 %. It ignores
// per-line rounding and freight allocation, so it agrees with the engine within one fen per
// line and tax kind — any formula or rate error shows up as a larger gap.
double hand_tax_yuan(const ceb::Inventory& inv, const ref::ReferenceData& ref) {
  CivilDate date = *parse_date8(inv.head.declTime);
  double goods = 0;
  for (const auto& l : inv.lists) goods += l.totalPrice.units / 1e5;
  double extra = (inv.head.freight.units + inv.head.insuredFee.units) / 1e5;
  double total = 0;
  for (const auto& l : inv.lists) {
    const ref::TaxRate* rate = ref.tax_rate(l.gcode, date);
    if (rate == nullptr) return -1;
    double v = l.totalPrice.units / 1e5;
    if (goods > 0) v += extra * (l.totalPrice.units / 1e5) / goods;
    double ct = rate->ct_bp / 1e4, vat = rate->vat_bp / 1e4;
    if (rate->ct_rule == ref::CtRule::kNone) ct = 0;
    if (rate->ct_rule == ref::CtRule::kCosmeticsHighEnd) {
      // high-end when the dutiable price per ml/g is ≥ 10 yuan (content from qty1 in L or kg)
      double content = l.qty1.units / 1e5 * 1000 / (l.qty.units / 1e5);
      double per = v / (l.qty.units / 1e5) / content;
      if (!(l.unit1 == "095" || l.unit1 == "035") || per < 10) ct = 0;
    }
    total += v / (1 - ct) * (ct + vat) * 0.7;
  }
  return total;
}

TEST(GeneratedDay, TenThousandListsWithFivePercentFaults) {
  auto reference = ref::ReferenceData::LoadDefaults();
  ASSERT_TRUE(reference.ok());
  gen::Zone zone = gen::demo_zone();
  gen::Options opt;
  opt.seed = 20260510;
  opt.count = 10000;
  opt.fault_share = 0.05;
  auto generated = gen::generate(zone, opt, **reference);
  ASSERT_TRUE(generated.ok()) << generated.status().ToString();
  const auto& sets = generated->sets;
  ASSERT_EQ(sets.size(), 10000u);

  // Every list that passes review goes green here: this test is about matching, review and tax.
  // Lanes, risk rules and the automated-release share are tested in
  // clearance_test_supervision.cc.
  clearance::Engine engine(clearance::EngineOptions{
      *reference, [](const clearance::LaneContext&) { return clearance::Lane::kGreen; }});
  ceb::Receipts receipts;
  uint64_t seq = 0;
  TimeMs now = *parse_datetime14(sets.front().order.head.appTime);
  Fen need = 0;
  for (const auto& [code, fen] : generated->tax_by_guarantor_fen) need += fen;
  for (auto& body : demo::setup_commands(zone, need))
    ASSERT_TRUE(engine.apply({++seq, now, std::move(body)}, &receipts).ok());
  for (auto& sub : demo::submissions(zone, sets)) {
    now += 100;
    ASSERT_TRUE(engine
                    .apply({++seq, now, clearance::SubmitMessage{sub.sender, std::move(sub.message)}},
                           &receipts)
                    .ok());
  }
  now += 25 * kMsPerHour;  // lists whose order was refused at intake expire
  ASSERT_TRUE(engine.apply({++seq, now, clearance::Tick{}}, &receipts).ok());

  // The order receipts of M1/M5 faults: those are refused at intake.
  std::map<std::string, const ceb::Receipt*> order_refusals;
  for (const auto& r : receipts)
    if (r.answers == ceb::MessageType::kCEB311 && r.returnStatus < 0) order_refusals[r.orderNo] = &r;

  int good = 0, faulty = 0, hand_checked = 0;
  std::map<std::string, int> faults_seen;
  for (const auto& s : sets) {
    auto L = engine.list_by_cop_no(s.inventory.head.agentCode, s.inventory.head.copNo);
    ASSERT_NE(L, nullptr) << s.inventory.head.copNo;
    if (s.expected.rule.empty()) {
      ++good;
      ASSERT_EQ(L->state, ListState::kReleased)
          << s.inventory.head.copNo << ": " << (L->history.empty() ? "" : L->history.back().info);
      ASSERT_TRUE(L->tax.has_value());
      EXPECT_EQ(L->tax->total_fen(), s.expected.tax.total_fen()) << s.inventory.head.copNo;
      EXPECT_EQ(fen_to_decimal(L->tax->total_fen()).units, s.order.head.taxTotal.units);
      if (L->tax->regime == tax::Regime::kPreferential) {
        double hand = hand_tax_yuan(s.inventory, **reference);
        double engine_yuan = L->tax->total_fen() / 100.0;
        EXPECT_LE(std::fabs(hand - engine_yuan), 0.02 * s.inventory.lists.size() + 1e-9)
            << s.inventory.head.copNo << " engine " << engine_yuan << " hand " << hand;
        ++hand_checked;
      }
      continue;
    }
    ++faulty;
    ++faults_seen[s.expected.rule];
    ASSERT_EQ(L->state, ListState::kRejected) << s.inventory.head.copNo << " " << s.expected.rule;
    if (s.expected.rule == "M1" || s.expected.rule == "M5") {
      // The order was refused at intake naming the rule; the list expired without it (M0).
      auto it = order_refusals.find(s.order.head.orderNo);
      ASSERT_NE(it, order_refusals.end()) << s.order.head.orderNo;
      bool named = false;
      for (const auto& f : it->second->findings) named |= f.rule == s.expected.rule;
      EXPECT_TRUE(named) << it->second->returnInfo;
      ASSERT_FALSE(L->findings.empty());
      EXPECT_EQ(L->findings[0].rule, "M0");
      continue;
    }
    bool named = false;
    for (const auto& f : L->findings) named |= f.rule == s.expected.rule;
    EXPECT_TRUE(named) << s.inventory.head.copNo << " expected " << s.expected.rule << ", got "
                       << (L->history.empty() ? "" : L->history.back().info);
  }
  EXPECT_EQ(faulty, 500);
  EXPECT_EQ(good, 9500);
  EXPECT_GT(hand_checked, 9000);
  EXPECT_EQ(faults_seen.size(), static_cast<size_t>(gen::kFaultKinds));  // every kind occurred
  // Ledger invariants after the day.
  engine.stock().check_invariants();
  engine.quota().check_invariants();
  engine.guarantees().check_invariants();
  size_t bills = 0;
  engine.for_each_tax_bill([&](const clearance::TaxBill&) { ++bills; });
  EXPECT_EQ(bills, 9500u);
}

}  // namespace
}  // namespace cbec
