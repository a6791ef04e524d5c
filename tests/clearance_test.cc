// Unit tests of the clearance core beyond the golden cases: the ID checksum vectors (R2), all 24
// arrival orders of the four documents, replay determinism, and the receipts' shape.
#include <algorithm>
#include <array>

#include "clearance/error_codes.h"
#include "clearance/id_number.h"
#include "clearance_fixture.h"
#include "gtest/gtest.h"

namespace cbec::testing {
namespace {

using clearance::check_resident_id;
using clearance::ListState;

TEST(ResidentId, ChecksumVectors) {
  // The standard's own example, and the body 12345678901234567 whose check digit is 7.
  EXPECT_EQ(clearance::resident_id_check_char("11010519491231002"), 'X');
  EXPECT_EQ(clearance::resident_id_check_char("12345678901234567"), '7');
  EXPECT_EQ(clearance::resident_id_check_char("41010220010815003"), '7');
  CivilDate today{2026, 5, 10};
  EXPECT_FALSE(check_resident_id("11010519491231002X", today).has_value());
  EXPECT_FALSE(check_resident_id("11010519491231002x", today).has_value());  // x normalised
  EXPECT_FALSE(check_resident_id(" 410102200108150037 ", today).has_value());
  auto wrong = check_resident_id("110105194912310021", today);
  ASSERT_TRUE(wrong.has_value());
  EXPECT_NE(wrong->en.find("expected X"), std::string::npos) << wrong->en;
  EXPECT_TRUE(check_resident_id("11010519490231002X", today).has_value());  // 31 Feb
  EXPECT_TRUE(check_resident_id("1101051949123100", today).has_value());    // 16 characters
  EXPECT_TRUE(check_resident_id("11010519491231A02X", today).has_value());  // letter inside
  EXPECT_TRUE(check_resident_id("110105202606010012", today).has_value());  // born in the future
}

TEST(ResidentId, SameIdNumberAgreesWithComparingTheNormalisedForms) {
  // Proves: same_id_number is normalize_id_number(a) == normalize_id_number(b) for blanks on
  // either side, a lower-case x at the end only, different lengths, and empty numbers.
  const char* ids[] = {"11010519491231002X", "11010519491231002x", " 11010519491231002x\t",
                       "11010519491231002", "1101051949123100x2", "1101051949123100X2",
                       "410102200108150037", "410102200108150037 ", "", " ", "x", "X", "y"};
  for (const char* a : ids) {
    for (const char* b : ids) {
      EXPECT_EQ(clearance::same_id_number(a, b),
                clearance::normalize_id_number(a) == clearance::normalize_id_number(b))
          << "'" << a << "' '" << b << "'";
    }
  }
  EXPECT_TRUE(clearance::same_id_number(" 11010519491231002x", "11010519491231002X"));
  EXPECT_FALSE(clearance::same_id_number("1101051949123100x2", "1101051949123100X2"));
}

TEST(ErrorCodes, FamiliesAndProblems) {
  EXPECT_EQ(clearance::error_code(ceb::MessageType::kCEB621, clearance::Problem::kDuplicate),
            -621004);
  EXPECT_EQ(clearance::error_code(ceb::MessageType::kCEB621,
                                  clearance::Problem::kOverAnnualLimit),
            -621018);
  EXPECT_EQ(clearance::error_code(ceb::MessageType::kCEB311, clearance::Problem::kInvalidValue),
            -301009);
  EXPECT_EQ(clearance::error_code(ceb::MessageType::kCEB511, clearance::Problem::kNotFound),
            -504003);
}

// What an arrival order must not change: the final list state, tax and ledger effects.
struct Outcome {
  ListState state;
  Fen tax_fen;
  int64_t stock_units;
  Fen quota_fen;
  Fen open_bills_fen;
  int order_status, payment_status, waybill_status;
  bool operator==(const Outcome&) const = default;
};

Outcome run_in_order(const std::array<int, 4>& order) {
  Harness h;
  DocSet s = load_base("formula_1210");
  for (int doc : order) {
    switch (doc) {
      case 0: h.submit_order(s); break;
      case 1: h.submit_payment(s); break;
      case 2: h.submit_waybill(s); break;
      case 3: h.submit_list(s); break;
    }
  }
  auto L = h.list(s);
  EXPECT_NE(L, nullptr);
  return Outcome{L->state,
                 L->tax ? L->tax->total_fen() : -1,
                 h.engine().stock().find({kEmsNo, "1"})->on_hand_units,
                 h.engine().quota().totals({s.list.head.buyerIdNumber, 2026}).committed_fen,
                 h.engine().guarantees().find(kAgent)->open_bills_fen,
                 h.order_receipts(s.order.head.orderNo).back()->returnStatus,
                 h.payment_receipts(s.payment.head.payTransactionId).back()->returnStatus,
                 h.waybill_receipts(s.waybill.head.logisticsNo).back()->returnStatus};
}

TEST(Matching, AllTwentyFourArrivalOrdersGiveTheSameOutcome) {
  std::array<int, 4> order = {0, 1, 2, 3};
  const Outcome expected{ListState::kReleased, 5515, 998 * kDecimalScale, 60600, 5515,
                         399, 399, 399};
  int permutations = 0;
  do {
    SCOPED_TRACE(::testing::Message() << order[0] << order[1] << order[2] << order[3]);
    EXPECT_EQ(run_in_order(order), expected);
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 24);
}

TEST(Matching, ListWaitsWithReasonAndIsReleasedWhenTheLastPartnerArrives) {
  Harness h;
  DocSet s = load_base("formula_1210");
  h.submit_list(s);
  h.submit_order(s);
  auto rs = h.list_receipts(s.list.head.copNo);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0]->returnStatus, 120);
  EXPECT_NE(rs[0]->returnInfo.find("waiting for order, payment, waybill"), std::string::npos)
      << rs[0]->returnInfo;
  EXPECT_EQ(rs[0]->invtNo.size(), 18u);
  EXPECT_EQ(rs[0]->preNo.size(), 18u);
  EXPECT_EQ(h.list(s)->state, ListState::kWaiting);
  h.submit_payment(s);
  EXPECT_EQ(h.list(s)->state, ListState::kWaiting);
  EXPECT_NE(h.list(s)->hold_reason.find("waybill"), std::string::npos);
  h.submit_waybill(s);
  EXPECT_EQ(h.list(s)->state, ListState::kReleased);
  EXPECT_EQ(h.list_receipts(s.list.head.copNo).back()->returnStatus, 800);
}

// Names are compared after normalize_text (M3): a run of blanks inside is one space, leading
// and trailing blanks do not count; any other difference does.
TEST(Matching, NamesMatchUpToBlanksAndNothingElse) {
  struct Case {
    std::string name, payer;
    bool released;
  };
  for (const Case& c : std::vector<Case>{{"张三", "张三", true},
                                         {"张三", "  张三\t", true},
                                         {"张 三", "张 \t  三 ", true},
                                         {"张 三", "张三", false},
                                         {"张三", "张三x", false},
                                         {"张三", "x张三", false}}) {
    SCOPED_TRACE(c.name + "|" + c.payer);
    Harness h;
    DocSet s = load_base("formula_1210");
    s.order.head.buyerName = s.order.head.consignee = s.waybill.head.consignee = c.name;
    s.list.head.buyerName = c.name;
    s.payment.head.payerName = c.payer;
    h.submit_order(s);
    h.submit_payment(s);
    h.submit_waybill(s);
    h.submit_list(s);
    EXPECT_EQ(h.list(s)->state == ListState::kReleased, c.released);
  }
}

TEST(Matching, WaitingWindowIsConfiguredTwentyFourHours) {
  Harness h;
  DocSet s = load_base("formula_1210");
  h.submit_list(s);
  h.advance_ms(24 * kMsPerHour - 2 * kMsPerSecond);
  ASSERT_TRUE(h.apply(clearance::Tick{}).ok());
  EXPECT_EQ(h.list(s)->state, ListState::kWaiting);  // 1 s before the window closes
  ASSERT_TRUE(h.apply(clearance::Tick{}).ok());
  EXPECT_EQ(h.list(s)->state, ListState::kRejected);
  const auto& last = *h.list_receipts(s.list.head.copNo).back();
  EXPECT_EQ(last.returnStatus, 100);
  ASSERT_EQ(last.findings.size(), 1u);
  EXPECT_EQ(last.findings[0].rule, "M0");
}

// Builds a varied command stream: good sets, faulty ones, replays, a modification, a tick.
std::vector<ceb::Receipt> run_stream(Harness* h) {
  const auto& ref = h->ref();
  for (int i = 0; i < 40; ++i) {
    rapidjson::Document spec;
    spec.Parse(R"({"goods": [{"item": "1", "qty": "1"}, {"item": "4", "qty": "1"}], "freight": "8.00"})");
    DocSet s = build_set(spec, "-" + std::to_string(i), ref);
    if (i % 7 == 3) s.payment.head.amountPaid.units += 100;  // M2
    if (i % 5 == 0) {
      h->submit_list(s);
      h->submit_waybill(s);
      h->submit_payment(s);
      h->submit_order(s);
    } else {
      h->submit_all(s);
    }
    if (i % 9 == 0) h->submit_list(s);  // replay
  }
  h->advance_ms(30 * kMsPerHour);
  EXPECT_TRUE(h->apply(clearance::Tick{}).ok());
  return {h->receipts().begin(), h->receipts().end()};
}

TEST(Replay, SameCommandsGiveIdenticalStateAndReceipts) {
  Harness a, b;
  auto ra = run_stream(&a);
  auto rb = run_stream(&b);
  EXPECT_EQ(ra, rb);
  EXPECT_EQ(a.engine().dump_state(), b.engine().dump_state());
  // The stream did something: releases and M2 rejections both happened, and the risk rules,
  // which are part of the replayed state, sent the one buyer's later lists to an officer
  // (34 lists of one buyer in a few seconds is order splitting and quota velocity).
  int released = 0, rejected = 0, review = 0;
  a.engine().for_each_list([&](const clearance::ListRecord& L) {
    released += L.state == ListState::kReleased;
    rejected += L.state == ListState::kRejected;
    review += L.state == ListState::kManualReview;
  });
  EXPECT_EQ(rejected, 6);  // i = 3, 10, 17, 24, 31, 38
  EXPECT_EQ(released + review, 34);
  EXPECT_GT(released, 0);
  EXPECT_GT(review, 0);
}

TEST(Receipts, ListReceiptCarriesItsKeysAndTime) {
  Harness h;
  DocSet s = load_base("formula_1210");
  h.submit_all(s);
  const auto& r = *h.list_receipts(s.list.head.copNo).back();
  EXPECT_EQ(r.answers, ceb::MessageType::kCEB621);
  EXPECT_EQ(r.receiver, kAgent);
  EXPECT_EQ(r.guid, s.list.head.guid);
  EXPECT_EQ(r.copNo, s.list.head.copNo);
  EXPECT_EQ(r.customsCode, "4612");
  EXPECT_EQ(r.invtNo.substr(0, 9), "46122026I");
  EXPECT_EQ(r.preNo.substr(0, 9), "B20260510");
  EXPECT_EQ(r.returnTime, h.now());
  EXPECT_NE(r.returnInfo.find("55.15"), std::string::npos) << r.returnInfo;
  // The order's sender learns the decision too (399).
  EXPECT_EQ(h.order_receipts(s.order.head.orderNo).back()->receiver, kPlatform);
}

// A rejected list is no longer the order's active list, but a query by order still finds it;
// a list deleted with appType 3 is found no more.
TEST(Queries, ListByOrderFindsRejectedButNotDeletedLists) {
  Harness h;
  DocSet s = load_base("formula_1210");
  s.payment.head.amountPaid.units += kUnitsPerFen;  // M2
  h.submit_all(s);
  auto L = h.engine().list_by_order(s.order.head.ebpCode, s.order.head.orderNo);
  ASSERT_NE(L, nullptr);
  EXPECT_EQ(L->state, ListState::kRejected);

  DocSet t = load_base("formula_1210");
  t.order.head.orderNo = t.payment.head.orderNo = t.waybill.head.orderNo = "ZZ-DELETE-1";
  t.list.head.orderNo = "ZZ-DELETE-1";
  t.list.head.copNo = "COP-DELETE-1";
  t.waybill.head.logisticsNo = t.list.head.logisticsNo = "ZY-DELETE-1";
  h.submit_list(t);
  ASSERT_NE(h.engine().list_by_order(t.order.head.ebpCode, "ZZ-DELETE-1"), nullptr);
  t.list.head.appType = "3";
  h.submit_list(t);
  EXPECT_EQ(h.engine().list_by_order(t.order.head.ebpCode, "ZZ-DELETE-1"), nullptr);
}

TEST(Ledgers, TaxBillRecordedOnRelease) {
  Harness h;
  DocSet s = load_base("formula_1210");
  h.submit_all(s);
  std::vector<clearance::TaxBill> bills;
  h.engine().for_each_tax_bill([&](const clearance::TaxBill& b) { bills.push_back(b); });
  ASSERT_EQ(bills.size(), 1u);
  const auto& bill = bills[0];
  EXPECT_EQ(bill.assureCode, kAgent);
  EXPECT_EQ(bill.tax.vat_fen, 5515);
  EXPECT_EQ(bill.invtNo, h.list(s)->invtNo);
}

}  // namespace
}  // namespace cbec::testing
