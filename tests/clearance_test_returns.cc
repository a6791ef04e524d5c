// Cancel (CEB623), return (CEB625) and tax settlement in the clearance core, DOMAIN.md §4.4 and
// §4.1 step 7: the day 29/31 and 44/46 boundaries, partial returns by line, ledgers restored to
// the fen and unit, bills voided and reduced, guarantees exhausted and replenished, payments,
// overdue bills on the credit record, statements that balance, and replay determinism.
#include <numeric>

#include "clearance/error_codes.h"
#include "clearance/supervision.h"
#include "clearance_fixture.h"
#include "clearance_returns_fixture.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace cbec::testing {
namespace {

using clearance::ListState;
using clearance::Problem;
using clearance::ReturnArrival;
using clearance::ReturnRecord;
using clearance::TaxBill;
using clearance::TaxPayment;
using MT = ceb::MessageType;

// The fixture's lists are released on 2026-05-10 (Beijing), day 0.
constexpr CivilDate kReleaseDate{2026, 5, 10};
constexpr char kBuyer[] = "410102200108150037";
constexpr char kSmallGuarantor[] = "4101960301";

TimeMs day_start(int n) {
  return beijing_midnight(civil_from_days(days_from_civil(kReleaseDate) + n));
}
// The next command the harness applies happens exactly at t.
void go_to(Harness& h, TimeMs t) {
  ASSERT_GT(t, h.now());
  h.advance_ms(t - h.now() - kMsPerSecond);
}
void tick_at(Harness& h, TimeMs t) {
  go_to(h, t);
  ASSERT_TRUE(h.apply(clearance::Tick{}).ok());
}

int code(MT t, Problem p) { return clearance::error_code(t, p); }

ceb::Message wrap_msg(MT t, const std::string& sender) {
  ceb::Message m;
  m.type = t;
  m.guid = "A1B2C3D4-0000-4000-8000-000000000623";
  m.version = "1.0";
  m.transfer = {sender, "test", "DXP", "DXPENT0000000001", ""};
  return m;
}

// Sends a CEB623 and returns its receipt.
ceb::Receipt send_cancel(Harness& h, const ceb::InvtCancel& c, std::string sender = "") {
  if (sender.empty()) sender = c.agentCode;
  auto m = wrap_msg(MT::kCEB623, sender);
  m.cancels.push_back(c);
  size_t before = h.receipts().size();
  h.submit(sender, m);
  for (size_t i = before; i < h.receipts().size(); ++i)
    if (h.receipts()[i].answers == MT::kCEB623) return h.receipts()[i];
  ADD_FAILURE() << "no CEB624";
  return {};
}
ceb::Receipt send_return(Harness& h, const ceb::InvtRefund& r, std::string sender = "") {
  if (sender.empty()) sender = r.head.agentCode;
  auto m = wrap_msg(MT::kCEB625, sender);
  m.refunds.push_back(r);
  size_t before = h.receipts().size();
  h.submit(sender, m);
  for (size_t i = before; i < h.receipts().size(); ++i)
    if (h.receipts()[i].answers == MT::kCEB625) return h.receipts()[i];
  ADD_FAILURE() << "no CEB626";
  return {};
}
std::vector<const ceb::Receipt*> return_receipts(const Harness& h, const std::string& copNo) {
  std::vector<const ceb::Receipt*> out;
  for (const auto& r : h.receipts())
    if (r.answers == MT::kCEB625 && r.copNo == copNo) out.push_back(&r);
  return out;
}

bool has_field(const ceb::Receipt& r, const std::string& field) {
  for (const auto& f : r.findings)
    if (f.field == field) return true;
  return false;
}

// Releases the base list (2 × infant formula, V 606.00, VAT 55.15) and returns its invtNo.
std::string release_base(Harness& h, const DocSet& s) {
  h.submit_all(s);
  auto L = h.list(s);
  EXPECT_NE(L, nullptr);
  EXPECT_EQ(L->state, ListState::kReleased);
  return L ? L->invtNo : "";
}

int64_t on_hand(Harness& h, const char* item) {
  return h.engine().stock().find({kEmsNo, item})->on_hand_units;
}
Fen quota_of(Harness& h, const char* id = kBuyer) {
  return h.engine().quota().totals({id, 2026}).committed_fen;
}
Fen open_bills(Harness& h, const char* code = kAgent) {
  return h.engine().guarantees().find(code)->open_bills_fen;
}
constexpr int64_t kUnit = kDecimalScale;

// The state dump without its first line (sequence number and time).
std::string state_body(Harness& h) {
  std::string d = h.engine().dump_state();
  return d.substr(d.find('\n') + 1);
}

// ---- Cancel ---------------------------------------------------------------------------------

TEST(Cancel, Day29VoidsTheBillAndRestoresStockQuotaAndGuarantee) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  ASSERT_EQ(on_hand(h, "1"), 998 * kUnit);
  ASSERT_EQ(quota_of(h), 60600);
  ASSERT_EQ(open_bills(h), 5515);
  ASSERT_EQ(h.engine().tax_bill(invt)->state, TaxBill::State::kOpen);

  go_to(h, day_start(29) + 12 * kMsPerHour);
  ceb::Receipt r = send_cancel(h, cancel_of(s, invt));
  EXPECT_EQ(r.returnStatus, 399) << r.returnInfo;
  EXPECT_EQ(r.copNo, "CX0001");
  EXPECT_EQ(r.invtNo, invt);
  EXPECT_EQ(r.preNo.size(), 18u);
  EXPECT_EQ(r.receiver, kAgent);
  EXPECT_NE(r.returnInfo.find("55.15"), std::string::npos) << r.returnInfo;

  auto L = h.list(s);
  EXPECT_EQ(L->state, ListState::kCancelled);
  EXPECT_EQ(L->returnStatus, 399);
  auto b = h.engine().tax_bill(invt);
  EXPECT_EQ(b->state, TaxBill::State::kVoid);
  EXPECT_EQ(b->outstanding_fen(), 0);
  EXPECT_EQ(open_bills(h), 0);
  EXPECT_EQ(h.engine().guarantees().find(kAgent)->remaining_fen(), kFixtureGuaranteeFen);
  EXPECT_EQ(quota_of(h), 0);
  EXPECT_EQ(on_hand(h, "1"), 1000 * kUnit);
  auto rec = h.engine().cancel_record(kAgent, "CX0001");
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->state, ReturnRecord::State::kCancelled);
  EXPECT_EQ(rec->tax_fen, 5515);
  EXPECT_EQ(rec->quota_fen, 60600);
  // A void bill is never payable, not even after day 45.
  tick_at(h, day_start(50));
  EXPECT_EQ(h.engine().tax_bill(invt)->state, TaxBill::State::kVoid);
  EXPECT_EQ(h.engine().tax_credit_record(kAgent), nullptr);
}

// Cancels the base list at time t; returns the CEB624 status.
int cancel_status_at(TimeMs t, ceb::Receipt* out = nullptr) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  go_to(h, t);
  ceb::Receipt r = send_cancel(h, cancel_of(s, invt));
  if (out) *out = r;
  return r.returnStatus;
}

TEST(Cancel, WindowIsThirtyBeijingCalendarDaysFromTheReleaseDate) {
  EXPECT_EQ(cancel_status_at(day_start(29) + 9 * kMsPerHour), 399);
  EXPECT_EQ(cancel_status_at(day_start(31) - kMsPerSecond), 399);  // day 30, 23:59:59
  ceb::Receipt r;
  EXPECT_EQ(cancel_status_at(day_start(31), &r), code(MT::kCEB623, Problem::kOutsideWindow));
  EXPECT_EQ(r.returnStatus, -623020);
  EXPECT_TRUE(has_field(r, "InvtCancel/invtNo")) << r.returnInfo;
  EXPECT_NE(r.returnInfo.find("today is day 31"), std::string::npos) << r.returnInfo;
  EXPECT_NE(r.returnInfo.find("by day 30 (2026-06-09)"), std::string::npos) << r.returnInfo;
  EXPECT_EQ(cancel_status_at(day_start(31) + 12 * kMsPerHour), -623020);
}

TEST(Cancel, RefusedOutsideTheWindowChangesNothing) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  go_to(h, day_start(31));
  ASSERT_EQ(send_cancel(h, cancel_of(s, invt)).returnStatus, -623020);
  EXPECT_EQ(h.list(s)->state, ListState::kReleased);
  EXPECT_EQ(on_hand(h, "1"), 998 * kUnit);
  EXPECT_EQ(quota_of(h), 60600);
  EXPECT_EQ(open_bills(h), 5515);
  EXPECT_EQ(h.engine().cancel_record(kAgent, "CX0001"), nullptr);
}

TEST(Cancel, ReplayGivesTheSameReceiptAndANewContentIsADuplicate) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  ceb::InvtCancel c = cancel_of(s, invt);
  ceb::Receipt first = send_cancel(h, c);
  ASSERT_EQ(first.returnStatus, 399);
  h.advance_ms(kMsPerHour);
  ceb::Receipt again = send_cancel(h, c);
  EXPECT_EQ(again, first);                   // the receipt already issued, time included
  EXPECT_EQ(on_hand(h, "1"), 1000 * kUnit);  // restored once, not twice
  EXPECT_EQ(open_bills(h), 0);

  c.reason = "另一个原因";
  ceb::Receipt dup = send_cancel(h, c);
  EXPECT_EQ(dup.returnStatus, -623004);
  EXPECT_TRUE(has_field(dup, "InvtCancel/copNo")) << dup.returnInfo;
  EXPECT_EQ(dup.preNo, first.preNo);  // the record keeps its preNo

  // Another copNo for the same list: the list is already cancelled.
  ceb::Receipt second = send_cancel(h, cancel_of(s, invt, "CX0002"));
  EXPECT_EQ(second.returnStatus, -623022);
  EXPECT_NE(second.returnInfo.find("already cancelled"), std::string::npos);
}

TEST(Cancel, RefusalsNameRecordAndField) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);

  // R1: unregistered sender, wrong role, and a registered agent that is not the declarer.
  ceb::InvtCancel c = cancel_of(s, invt);
  EXPECT_EQ(send_cancel(h, c, "4109999999").returnStatus, -623001);
  EXPECT_EQ(send_cancel(h, c, kPlatform).returnStatus, -623002);
  ASSERT_TRUE(
      h.apply(clearance::RegisterEnterprise{clearance::Enterprise{
                  kSmallGuarantor, "其他代理", clearance::kRoleAgent, ref::CreditGrade::kRegular}})
          .ok());
  ceb::InvtCancel other = c;
  other.agentCode = kSmallGuarantor;
  ceb::Receipt r = send_cancel(h, other, kSmallGuarantor);
  EXPECT_EQ(r.returnStatus, -623002);
  EXPECT_TRUE(has_field(r, "InvtCancel/agentCode")) << r.returnInfo;

  ceb::InvtCancel no_cop = cancel_of(s, invt, "");
  r = send_cancel(h, no_cop);
  EXPECT_EQ(r.returnStatus, -623007);
  EXPECT_TRUE(has_field(r, "InvtCancel/copNo"));

  r = send_cancel(h, cancel_of(s, "46122026I999999999", "CX0003"));
  EXPECT_EQ(r.returnStatus, -623003);
  EXPECT_TRUE(has_field(r, "InvtCancel/invtNo"));

  ceb::InvtCancel wrong_order = cancel_of(s, invt, "CX0004");
  wrong_order.orderNo = "ZZ-OTHER";
  r = send_cancel(h, wrong_order);
  EXPECT_EQ(r.returnStatus, -623009);
  EXPECT_TRUE(has_field(r, "InvtCancel/orderNo")) << r.returnInfo;

  // A list still waiting for its partners is deleted with appType 3, not cancelled.
  DocSet w = set_from("{}", "-W", h);
  h.submit_list(w);
  ASSERT_EQ(h.list(w)->state, ListState::kWaiting);
  r = send_cancel(h, cancel_of(w, h.list(w)->invtNo, "CX0005"));
  EXPECT_EQ(r.returnStatus, -623021);
  EXPECT_NE(r.returnInfo.find("is waiting"), std::string::npos) << r.returnInfo;
  EXPECT_EQ(h.list(s)->state, ListState::kReleased);
}

TEST(Cancel, DraftDoesNothingUntilDeclared) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  ceb::InvtCancel c = cancel_of(s, invt);
  c.appStatus = "1";
  EXPECT_EQ(send_cancel(h, c).returnStatus, 1);
  EXPECT_EQ(h.list(s)->state, ListState::kReleased);
  c.appStatus = "2";
  EXPECT_EQ(send_cancel(h, c).returnStatus, 399);
  EXPECT_EQ(h.list(s)->state, ListState::kCancelled);
}

TEST(Cancel, ClosedListKeepsItsStockButFreesQuotaAndTax) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  ceb::Message m = wrap_msg(MT::kCEB513, kLogistics);
  ceb::LogisticsStatus st;
  st.guid = "A1B2C3D4-0513-4000-8000-000000000001";
  st.appType = "1";
  st.appTime = "20260511090000";
  st.appStatus = "2";
  st.logisticsCode = kLogistics;
  st.logisticsName = s.waybill.head.logisticsName;
  st.logisticsNo = s.waybill.head.logisticsNo;
  st.logisticsStatus = "S";
  st.logisticsTime = "20260511085500";
  m.waybill_statuses.push_back(st);
  h.submit(kLogistics, m);
  ASSERT_EQ(h.list(s)->state, ListState::kClosed);
  ceb::Receipt r = send_cancel(h, cancel_of(s, invt));
  EXPECT_EQ(r.returnStatus, 399);
  EXPECT_NE(r.returnInfo.find("stock not restored"), std::string::npos) << r.returnInfo;
  EXPECT_EQ(on_hand(h, "1"), 998 * kUnit);  // the parcel was delivered: the goods left
  EXPECT_EQ(quota_of(h), 0);
  EXPECT_EQ(open_bills(h), 0);
}

TEST(Cancel, FreesTheYearlyQuantityCap) {
  // Sugar is capped at 2 kg per person per year: 2 kg released, cancelled, 2 kg again passes.
  Harness h;
  DocSet a = set_from(R"({"goods":[{"item":"6","qty":"2"}],"freight":"0"})", "", h);
  DocSet b = set_from(R"({"goods":[{"item":"6","qty":"2"}],"freight":"0"})", "-B", h);
  std::string invt = release_base(h, a);
  ASSERT_EQ(send_cancel(h, cancel_of(a, invt)).returnStatus, 399);
  EXPECT_EQ(on_hand(h, "6"), 500 * kUnit);
  h.submit_all(b);
  EXPECT_EQ(h.list(b)->state, ListState::kReleased)
      << h.list_receipts(b.list.head.copNo).back()->returnInfo;
}

TEST(Cancel, CapStaysUsedWithoutTheCancel) {
  // The control of the test above: without the cancel the second 2 kg are refused (R3).
  Harness h;
  DocSet a = set_from(R"({"goods":[{"item":"6","qty":"2"}],"freight":"0"})", "", h);
  DocSet b = set_from(R"({"goods":[{"item":"6","qty":"2"}],"freight":"0"})", "-B", h);
  release_base(h, a);
  h.submit_all(b);
  EXPECT_EQ(h.list(b)->state, ListState::kRejected);
}

// ---- Return ---------------------------------------------------------------------------------

int return_status_at(TimeMs t) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  go_to(h, t);
  return send_return(h, refund_of(s, invt, "RT0001", {{1, "2"}})).returnStatus;
}

TEST(Return, ApplicationWindowIsThirtyDays) {
  EXPECT_EQ(return_status_at(day_start(29) + 15 * kMsPerHour), 120);
  EXPECT_EQ(return_status_at(day_start(31) - kMsPerSecond), 120);
  EXPECT_EQ(return_status_at(day_start(31)), -625020);
  EXPECT_EQ(return_status_at(day_start(31) + 15 * kMsPerHour), -625020);
}

TEST(Return, WholeReturnArrivingOnDay44RestoresEverything) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  go_to(h, day_start(29) + 9 * kMsPerHour);
  ceb::Receipt r = send_return(h, refund_of(s, invt, "RT0001", {{1, "2"}}));
  ASSERT_EQ(r.returnStatus, 120) << r.returnInfo;
  EXPECT_NE(r.returnInfo.find("by 2026-06-24 (day 45)"), std::string::npos) << r.returnInfo;
  // Applied: no tax levied, annual total reduced; the guarantee still covers it until arrival.
  auto b = h.engine().tax_bill(invt);
  EXPECT_EQ(b->levied.total_fen(), 0);
  EXPECT_EQ(b->pending_return_fen, 5515);
  EXPECT_EQ(quota_of(h), 0);
  EXPECT_EQ(open_bills(h), 5515);
  EXPECT_EQ(on_hand(h, "1"), 998 * kUnit);

  go_to(h, day_start(44) + 10 * kMsPerHour);
  ASSERT_TRUE(h.apply(ReturnArrival{kAgent, kAgent, "RT0001"}).ok());
  auto rs = return_receipts(h, "RT0001");
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs.back()->returnStatus, 399) << rs.back()->returnInfo;
  EXPECT_EQ(on_hand(h, "1"), 1000 * kUnit);
  EXPECT_EQ(open_bills(h), 0);
  EXPECT_EQ(h.engine().tax_bill(invt)->state, TaxBill::State::kVoid);
  EXPECT_EQ(quota_of(h), 0);
  EXPECT_EQ(h.engine().return_record(kAgent, "RT0001")->state, ReturnRecord::State::kArrived);
  // Confirming twice is refused; nothing is restored twice.
  EXPECT_EQ(h.apply(ReturnArrival{kAgent, kAgent, "RT0001"}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(on_hand(h, "1"), 1000 * kUnit);
  tick_at(h, day_start(60));
  EXPECT_EQ(h.engine().tax_credit_record(kAgent), nullptr);
}

TEST(Return, ArrivalOnDay45IsInTimeAndTheReturnLapsesAtTheStartOfDay46) {
  {
    Harness h;
    DocSet s = load_base("formula_1210");
    std::string invt = release_base(h, s);
    ASSERT_EQ(send_return(h, refund_of(s, invt, "RT0001", {{1, "2"}})).returnStatus, 120);
    go_to(h, day_start(46) - kMsPerSecond);
    EXPECT_TRUE(h.apply(ReturnArrival{kAgent, kAgent, "RT0001"}).ok());
  }
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  go_to(h, day_start(29) + 9 * kMsPerHour);
  ASSERT_EQ(send_return(h, refund_of(s, invt, "RT0001", {{1, "2"}})).returnStatus, 120);
  tick_at(h, day_start(46) - kMsPerSecond);
  EXPECT_EQ(h.engine().return_record(kAgent, "RT0001")->state, ReturnRecord::State::kPending);
  tick_at(h, day_start(46));  // any command at or after the lapse time applies it first
  auto rec = h.engine().return_record(kAgent, "RT0001");
  EXPECT_EQ(rec->state, ReturnRecord::State::kLapsed);
  auto rs = return_receipts(h, "RT0001");
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs.back()->returnStatus, 100);
  EXPECT_EQ(rs.back()->returnTime, day_start(46));
  // Tax and annual total reinstated exactly; the unpaid bill is overdue from the same moment.
  auto b = h.engine().tax_bill(invt);
  EXPECT_EQ(b->levied.total_fen(), 5515);
  EXPECT_EQ(b->pending_return_fen, 0);
  EXPECT_EQ(b->state, TaxBill::State::kOverdue);
  EXPECT_EQ(quota_of(h), 60600);
  EXPECT_EQ(open_bills(h), 5515);
  EXPECT_EQ(on_hand(h, "1"), 998 * kUnit);
  auto credit = h.engine().tax_credit_record(kAgent);
  ASSERT_NE(credit, nullptr);
  EXPECT_EQ(credit->lapsed_returns, 1u);
  EXPECT_EQ(credit->overdue_bills, 1u);
  EXPECT_EQ(credit->overdue_fen, 5515);
  // Both count in the enterprise's credit score (§8): one lapsed return, one late bill.
  auto score = h.engine().supervision().credit(kAgent, h.now(), h.ref().policy_at({2026, 6, 1}));
  EXPECT_EQ(score.counts[static_cast<size_t>(clearance::CreditEventKind::kReturn)], 1);
  EXPECT_EQ(score.counts[static_cast<size_t>(clearance::CreditEventKind::kLateTax)], 1);
  // Goods arriving on day 46 are too late.
  go_to(h, day_start(46) + 10 * kMsPerHour);
  Status late = h.apply(ReturnArrival{kAgent, kAgent, "RT0001"});
  EXPECT_EQ(late.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(late.message().find("lapsed"), std::string::npos) << late.message();
  EXPECT_EQ(on_hand(h, "1"), 998 * kUnit);
}

TEST(Return, TwoPartialReturnsAddUpToTheLineAndAThirdIsRefused) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  // First: 1 of 2 cans. The remaining can bears VAT on 303.00: 303.00 × 13 % × 70 % = 27.57,
  // so 55.15 − 27.57 = 27.58 is not levied; the annual total loses 303.00.
  ceb::Receipt r1 = send_return(h, refund_of(s, invt, "RT0001", {{1, "1"}}));
  ASSERT_EQ(r1.returnStatus, 120) << r1.returnInfo;
  auto a = h.engine().return_record(kAgent, "RT0001");
  EXPECT_EQ(a->tax_fen, 2758);
  EXPECT_EQ(a->quota_fen, 30300);
  ASSERT_EQ(a->lines.size(), 1u);
  EXPECT_EQ(a->lines[0].vat_fen, 2758);
  EXPECT_EQ(a->lines[0].dutiable_fen, 30300);
  auto b = h.engine().tax_bill(invt);
  EXPECT_EQ(b->levied.total_fen(), 2757);
  EXPECT_EQ(b->levied.lines[0].vat_fen, 2757);
  EXPECT_EQ(b->levied.lines[0].dutiable_fen, 30300);
  EXPECT_EQ(quota_of(h), 30300);

  // One more than is left is refused, naming the line and the field.
  ceb::Receipt over = send_return(h, refund_of(s, invt, "RT0002", {{1, "2"}}));
  EXPECT_EQ(over.returnStatus, -625023);
  EXPECT_TRUE(has_field(over, "InvtRefund/InvtRefundList[1]/qty")) << over.returnInfo;
  EXPECT_NE(over.returnInfo.find("declared 2, already returned 1, this return 2, at most 1 left"),
            std::string::npos)
      << over.returnInfo;

  // Second: the other can. Nothing remains: everything still levied goes.
  ceb::Receipt r2 = send_return(h, refund_of(s, invt, "RT0003", {{1, "1"}}));
  ASSERT_EQ(r2.returnStatus, 120) << r2.returnInfo;
  EXPECT_EQ(h.engine().return_record(kAgent, "RT0003")->tax_fen, 2757);
  EXPECT_EQ(h.engine().return_record(kAgent, "RT0003")->quota_fen, 30300);
  EXPECT_EQ(h.engine().tax_bill(invt)->levied.total_fen(), 0);
  EXPECT_EQ(quota_of(h), 0);

  ceb::Receipt r3 = send_return(h, refund_of(s, invt, "RT0004", {{1, "1"}}));
  EXPECT_EQ(r3.returnStatus, -625023);
  EXPECT_NE(r3.returnInfo.find("at most 0 left"), std::string::npos) << r3.returnInfo;

  // The guarantee is released return by return as the goods arrive; stock unit by unit.
  EXPECT_EQ(open_bills(h), 5515);
  ASSERT_TRUE(h.apply(ReturnArrival{kAgent, kAgent, "RT0001"}).ok());
  EXPECT_EQ(open_bills(h), 2757);
  EXPECT_EQ(on_hand(h, "1"), 999 * kUnit);
  EXPECT_EQ(h.engine().tax_bill(invt)->state, TaxBill::State::kOpen);
  ASSERT_TRUE(h.apply(ReturnArrival{kAgent, kAgent, "RT0003"}).ok());
  EXPECT_EQ(open_bills(h), 0);
  EXPECT_EQ(on_hand(h, "1"), 1000 * kUnit);
  EXPECT_EQ(h.engine().tax_bill(invt)->state, TaxBill::State::kVoid);
}

TEST(Return, ByLineOnATwoLineList) {
  // Formula 2 × 298.00 and lotion 1 × 80.00, freight 0: returning the lotion leaves the
  // formula's 55.15 (VAT on 596.00 = 54.24 with no freight; computed, not assumed).
  Harness h;
  DocSet s =
      set_from(R"({"goods":[{"item":"1","qty":"2"},{"item":"3","qty":"1"}],"freight":"0"})", "", h);
  std::string invt = release_base(h, s);
  auto b = h.engine().tax_bill(invt);
  ASSERT_EQ(b->tax.lines.size(), 2u);
  Fen line1 = b->tax.lines[0].total_fen(), line2 = b->tax.lines[1].total_fen();
  EXPECT_EQ(line1, 5424);  // 596.00 × 13 % × 70 % = 54.236
  EXPECT_EQ(line2, 728);   // 80.00 × 13 % × 70 % = 7.28 (DOMAIN.md §7 worked example)

  // A line over its quantity and a wrong gcode are refused, each naming its line.
  ceb::InvtRefund bad = refund_of(s, invt, "RT0001", {{1, "1"}, {2, "5"}});
  ceb::Receipt r = send_return(h, bad);
  EXPECT_EQ(r.returnStatus, -625023);
  EXPECT_TRUE(has_field(r, "InvtRefund/InvtRefundList[2]/qty")) << r.returnInfo;
  bad = refund_of(s, invt, "RT0001", {{2, "1"}});
  bad.lists[0].gcode = "1901101090";
  r = send_return(h, bad);
  EXPECT_EQ(r.returnStatus, -625009);
  EXPECT_TRUE(has_field(r, "InvtRefund/InvtRefundList[1]/gcode")) << r.returnInfo;
  bad = refund_of(s, invt, "RT0001", {{3, "1"}});
  r = send_return(h, bad);
  EXPECT_EQ(r.returnStatus, -625009);
  EXPECT_TRUE(has_field(r, "InvtRefund/InvtRefundList[1]/gnum")) << r.returnInfo;
  EXPECT_EQ(h.engine().tax_bill(invt)->levied.total_fen(), line1 + line2);

  ASSERT_EQ(send_return(h, refund_of(s, invt, "RT0001", {{2, "1"}})).returnStatus, 120);
  b = h.engine().tax_bill(invt);
  EXPECT_EQ(b->levied.total_fen(), line1);
  EXPECT_EQ(b->levied.lines[1].total_fen(), 0);
  EXPECT_EQ(b->levied.lines[0].total_fen(), line1);
  EXPECT_EQ(quota_of(h), 59600);  // 676.00 − 80.00
  ASSERT_TRUE(h.apply(ReturnArrival{kAgent, kAgent, "RT0001"}).ok());
  EXPECT_EQ(on_hand(h, "3"), 500 * kUnit);
  EXPECT_EQ(on_hand(h, "1"), 998 * kUnit);
  EXPECT_EQ(open_bills(h), line1);
}

TEST(Return, FreesTheReturnedQuantityOfACappedGoodAndALapseTakesItBack) {
  // Sugar, 2 kg a year: 2 kg released, 1 kg returned; 1 kg more passes R3, a second kg does not.
  Harness h;
  DocSet a = set_from(R"({"goods":[{"item":"6","qty":"2"}],"freight":"0"})", "", h);
  DocSet b = set_from(R"({"goods":[{"item":"6","qty":"1"}],"freight":"0"})", "-B", h);
  DocSet c = set_from(R"({"goods":[{"item":"6","qty":"1"}],"freight":"0"})", "-C", h);
  std::string invt = release_base(h, a);
  ceb::Receipt r = send_return(h, refund_of(a, invt, "RT0001", {{1, "1"}}));
  ASSERT_EQ(r.returnStatus, 120) << r.returnInfo;
  EXPECT_EQ(h.engine().return_record(kAgent, "RT0001")->lines[0].cap_units, 1 * kUnit);
  h.submit_all(b);
  EXPECT_EQ(h.list(b)->state, ListState::kReleased)
      << h.list_receipts(b.list.head.copNo).back()->returnInfo;
  h.submit_all(c);
  EXPECT_EQ(h.list(c)->state, ListState::kRejected);
  EXPECT_EQ(h.list_receipts(c.list.head.copNo).back()->findings.at(0).rule, "R3");
  // The return lapses: the kilogram counts again (3 kg this year, over the cap: the buyer did
  // buy them), the annual total too.
  Fen before = quota_of(h);
  tick_at(h, day_start(46));
  EXPECT_EQ(h.engine().return_record(kAgent, "RT0001")->state, ReturnRecord::State::kLapsed);
  EXPECT_EQ(quota_of(h), before + h.engine().return_record(kAgent, "RT0001")->quota_fen);
  EXPECT_NE(h.engine().dump_state().find("cap " + std::string(kBuyer) + "/2026/17019910 " +
                                         std::to_string(3 * kUnit)),
            std::string::npos);
}

TEST(Return, ListRoundedOnceEndsAtExactlyNothingAfterPartialReturns) {
  // Policy rounding "once": the list's taxes are rounded on the list, not summed from lines.
  // Three partial returns of wine (CT 10 %) and serum take off exactly what was levied.
  std::string dir = std::string(CBEC_SOURCE_DIR) + "/config/defaults/";
  std::string policy = read_file(dir + "policy.toml");
  const std::string per_line = "rounding = \"per_line\"";
  for (size_t at; (at = policy.find(per_line)) != std::string::npos;)
    policy.replace(at, per_line.size(), "rounding = \"once\"");
  auto reference = ref::ReferenceData::LoadTexts(policy, read_file(dir + "goods.csv"),
                                                 read_file(dir + "positive_list.csv"));
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  Harness h({}, true, *reference);
  DocSet s = set_from(R"({"goods":[{"item":"4","qty":"3"},{"item":"2","qty":"1"}],
                         "freight":"7.00"})",
                      "", h);
  std::string invt = release_base(h, s);
  auto b = h.engine().tax_bill(invt);
  ASSERT_EQ(b->tax.rounding, ref::TaxRounding::kOnce);
  const Fen total = b->tax.total_fen();
  ASSERT_EQ(send_return(h, refund_of(s, invt, "RT0001", {{1, "1"}})).returnStatus, 120);
  ASSERT_EQ(send_return(h, refund_of(s, invt, "RT0002", {{1, "1"}, {2, "1"}})).returnStatus, 120);
  ASSERT_EQ(send_return(h, refund_of(s, invt, "RT0003", {{1, "1"}})).returnStatus, 120);
  Fen taken = 0;
  for (const char* cop : {"RT0001", "RT0002", "RT0003"})
    taken += h.engine().return_record(kAgent, cop)->tax_fen;
  b = h.engine().tax_bill(invt);
  EXPECT_EQ(taken, total);
  EXPECT_EQ(b->levied.total_fen(), 0);
  EXPECT_EQ(b->levied.tariff_fen + b->levied.ct_fen + b->levied.vat_fen, 0);
  EXPECT_EQ(quota_of(h), 0);
  h.engine().check_tax_invariants();
  // The middle return lapses: exactly its amounts come back.
  ASSERT_TRUE(h.apply(ReturnArrival{kAgent, kAgent, "RT0001"}).ok());
  ASSERT_TRUE(h.apply(ReturnArrival{kAgent, kAgent, "RT0003"}).ok());
  tick_at(h, day_start(46));
  EXPECT_EQ(h.engine().tax_bill(invt)->levied.total_fen(),
            h.engine().return_record(kAgent, "RT0002")->tax_fen);
  h.engine().check_tax_invariants();
}

TEST(Cancel, ListWithoutTaxCanBeCancelledAndReturned) {
  // A list whose only line is a free gift bears no tax: its bill has nothing to pay.
  Harness h;
  DocSet a = set_from(R"({"goods":[{"item":"1","qty":"1","price":"0"}],"freight":"0"})", "", h);
  DocSet b = set_from(R"({"goods":[{"item":"1","qty":"1","price":"0"}],"freight":"0"})", "-B", h);
  std::string ia = release_base(h, a), ib = release_base(h, b);
  EXPECT_EQ(h.engine().tax_bill(ia)->tax.total_fen(), 0);
  EXPECT_EQ(h.engine().tax_bill(ia)->state, TaxBill::State::kPaid);
  EXPECT_EQ(send_cancel(h, cancel_of(a, ia)).returnStatus, 399);
  EXPECT_EQ(h.engine().tax_bill(ia)->state, TaxBill::State::kVoid);
  EXPECT_EQ(send_return(h, refund_of(b, ib, "RT0001", {{1, "1"}})).returnStatus, 120);
  ASSERT_TRUE(h.apply(ReturnArrival{kAgent, kAgent, "RT0001"}).ok());
  EXPECT_EQ(on_hand(h, "1"), 1000 * kUnit);
  h.engine().check_tax_invariants();
}

TEST(Return, ModifyAndWithdrawAPendingReturnUndoItExactly) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  ASSERT_EQ(send_return(h, refund_of(s, invt, "RT0001", {{1, "1"}})).returnStatus, 120);
  EXPECT_EQ(h.engine().tax_bill(invt)->levied.total_fen(), 2757);
  // appType 2: the whole line instead.
  ceb::Receipt m = send_return(h, refund_of(s, invt, "RT0001", {{1, "2"}}, "2"));
  ASSERT_EQ(m.returnStatus, 120) << m.returnInfo;
  EXPECT_NE(m.returnInfo.find("return modified"), std::string::npos);
  EXPECT_EQ(h.engine().tax_bill(invt)->levied.total_fen(), 0);
  EXPECT_EQ(quota_of(h), 0);
  // appType 3: withdrawn, everything back as released.
  ceb::Receipt w = send_return(h, refund_of(s, invt, "RT0001", {{1, "2"}}, "3"));
  EXPECT_EQ(w.returnStatus, 2) << w.returnInfo;
  auto b = h.engine().tax_bill(invt);
  EXPECT_EQ(b->levied.total_fen(), 5515);
  EXPECT_EQ(b->levied.lines[0].dutiable_fen, 60600);
  EXPECT_EQ(b->pending_return_fen, 0);
  EXPECT_EQ(quota_of(h), 60600);
  EXPECT_EQ(open_bills(h), 5515);
  EXPECT_EQ(h.engine().return_record(kAgent, "RT0001"), nullptr);
  // With no return left, the list can be cancelled again.
  EXPECT_EQ(send_cancel(h, cancel_of(s, invt)).returnStatus, 399);
}

TEST(Return, ReplayIdempotencyAndConflicts) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  ceb::InvtRefund r = refund_of(s, invt, "RT0001", {{1, "1"}});
  ceb::Receipt first = send_return(h, r);
  ASSERT_EQ(first.returnStatus, 120);
  EXPECT_EQ(send_return(h, r), first);
  EXPECT_EQ(h.engine().tax_bill(invt)->levied.total_fen(), 2757);  // applied once
  r.head.reason = "改了原因";
  EXPECT_EQ(send_return(h, r).returnStatus, -625004);
  EXPECT_EQ(send_return(h, refund_of(s, invt, "RT0009", {{1, "1"}}, "2")).returnStatus, -625003);
  // A list with a return can no longer be cancelled; a cancelled list cannot be returned.
  ceb::Receipt c = send_cancel(h, cancel_of(s, invt));
  EXPECT_EQ(c.returnStatus, -623022);
  EXPECT_NE(c.returnInfo.find("RT0001"), std::string::npos);
  ASSERT_TRUE(h.apply(ReturnArrival{kAgent, kAgent, "RT0001"}).ok());
  EXPECT_EQ(send_return(h, refund_of(s, invt, "RT0001", {{1, "2"}}, "2")).returnStatus, -625006);

  DocSet other = set_from("{}", "-B", h);
  std::string invt_b = release_base(h, other);
  ASSERT_EQ(send_cancel(h, cancel_of(other, invt_b, "CX0002")).returnStatus, 399);
  EXPECT_EQ(send_return(h, refund_of(other, invt_b, "RT0002", {{1, "1"}})).returnStatus, -625022);
}

TEST(Return, ArrivalNeedsTheListsWarehouse) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  ASSERT_EQ(send_return(h, refund_of(s, invt, "RT0001", {{1, "2"}})).returnStatus, 120);
  EXPECT_EQ(h.apply(ReturnArrival{kPlatform, kAgent, "RT0001"}).code(),
            StatusCode::kPermissionDenied);  // not an operator
  ASSERT_TRUE(h.apply(clearance::RegisterEnterprise{clearance::Enterprise{
                          kSmallGuarantor, "另一仓库", clearance::kRoleOperator,
                          ref::CreditGrade::kRegular}})
                  .ok());
  Status s2 = h.apply(ReturnArrival{kSmallGuarantor, kAgent, "RT0001"});
  EXPECT_EQ(s2.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s2.message().find("areaCode"), std::string::npos);
  EXPECT_EQ(h.apply(ReturnArrival{kAgent, kAgent, "RT9999"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(on_hand(h, "1"), 998 * kUnit);
}

// ---- Tax bills, payments, guarantees ---------------------------------------------------------

TEST(TaxBill, OpenPayableDueAndPaid) {
  Harness h;
  DocSet s = load_base("formula_1210");
  std::string invt = release_base(h, s);
  auto b = h.engine().tax_bill(invt);
  EXPECT_EQ(b->taxNo.size(), 18u);
  EXPECT_EQ(b->payable_at, day_start(31));
  EXPECT_EQ(b->overdue_at, day_start(46));
  // Not payable within the cancel/return window.
  go_to(h, day_start(30) + 10 * kMsPerHour);
  Status early = h.apply(TaxPayment{kAgent, invt, "BANK-001", 5515});
  EXPECT_EQ(early.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(early.message().find("payable from 2026-06-10"), std::string::npos) << early.message();
  tick_at(h, day_start(31));
  EXPECT_EQ(h.engine().tax_bill(invt)->state, TaxBill::State::kPayable);
  // The payer's figure must be ours.
  Status wrong = h.apply(TaxPayment{kAgent, invt, "BANK-001", 5514});
  EXPECT_EQ(wrong.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.message().find("55.15"), std::string::npos);
  EXPECT_EQ(h.apply(TaxPayment{kLogistics, invt, "BANK-001", 5515}).code(),
            StatusCode::kPermissionDenied);  // another guarantor's bill
  EXPECT_EQ(h.apply(TaxPayment{kEbc, invt, "BANK-001", 5515}).code(),
            StatusCode::kPermissionDenied);  // not a guarantor
  go_to(h, day_start(40));
  ASSERT_TRUE(h.apply(TaxPayment{kAgent, invt, "BANK-001", 5515}).ok());
  b = h.engine().tax_bill(invt);
  EXPECT_EQ(b->state, TaxBill::State::kPaid);
  EXPECT_EQ(b->paid_fen, 5515);
  EXPECT_EQ(open_bills(h), 0);
  // The same payment again changes nothing; the reference reused for another amount is refused.
  std::string before = state_body(h);
  EXPECT_TRUE(h.apply(TaxPayment{kAgent, invt, "BANK-001", 5515}).ok());
  EXPECT_EQ(state_body(h), before);
  EXPECT_EQ(h.apply(TaxPayment{kAgent, "", "BANK-001", 100}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(h.apply(TaxPayment{kAgent, invt, "BANK-002", 5515}).code(),
            StatusCode::kFailedPrecondition);  // nothing outstanding
  tick_at(h, day_start(47));
  EXPECT_EQ(h.engine().tax_bill(invt)->state, TaxBill::State::kPaid);
  EXPECT_EQ(h.engine().tax_credit_record(kAgent), nullptr);
}

TEST(TaxBill, UnpaidPastDay45IsOverdueAndCountedOnceOnTheCreditRecord) {
  Harness h;
  DocSet a = load_base("formula_1210");
  DocSet b = set_from("{}", "-B", h);
  std::string ia = release_base(h, a);
  std::string ib = release_base(h, b);
  tick_at(h, day_start(46) - 1);
  EXPECT_EQ(h.engine().tax_bill(ia)->state, TaxBill::State::kPayable);
  EXPECT_EQ(h.engine().tax_credit_record(kAgent), nullptr);
  tick_at(h, day_start(46));
  EXPECT_EQ(h.engine().tax_bill(ia)->state, TaxBill::State::kOverdue);
  EXPECT_EQ(h.engine().tax_bill(ib)->state, TaxBill::State::kOverdue);
  auto c = h.engine().tax_credit_record(kAgent);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->overdue_bills, 2u);
  EXPECT_EQ(c->overdue_fen, 2 * 5515);
  ASSERT_EQ(c->events.size(), 2u);
  EXPECT_EQ(c->events[0].kind, clearance::TaxCreditEvent::Kind::kOverdueBill);
  EXPECT_EQ(c->events[0].time, day_start(46));
  // A batch payment settles both overdue bills; the record keeps what happened.
  go_to(h, day_start(50));
  ASSERT_TRUE(h.apply(TaxPayment{kAgent, "", "BANK-BATCH-1", 2 * 5515}).ok());
  EXPECT_EQ(h.engine().tax_bill(ia)->state, TaxBill::State::kPaid);
  EXPECT_EQ(h.engine().tax_bill(ib)->state, TaxBill::State::kPaid);
  EXPECT_EQ(open_bills(h), 0);
  EXPECT_EQ(h.engine().tax_credit_record(kAgent)->overdue_bills, 2u);
  EXPECT_EQ(h.apply(TaxPayment{kAgent, "", "BANK-BATCH-2", 1}).code(),
            StatusCode::kFailedPrecondition);  // no payable bill left
}

// The small guarantor's documents: list declared and guaranteed by 4101960301.
const char* kSmallSet = R"({"break":{"list":{"InventoryHead.agentCode":"4101960301",
    "InventoryHead.assureCode":"4101960301"}}})";

void register_small_guarantor(Harness& h, Fen deposit_fen) {
  ASSERT_TRUE(
      h.apply(clearance::RegisterEnterprise{clearance::Enterprise{
                  kSmallGuarantor, "小额担保代理",
                  clearance::kRoleAgent | clearance::kRoleGuarantor, ref::CreditGrade::kRegular}})
          .ok());
  ASSERT_TRUE(h.apply(clearance::GuaranteeDeposit{kSmallGuarantor, deposit_fen}).ok());
}

TEST(Guarantee, ExhaustedGuaranteeHoldsAListAndAPaymentReleasesIt) {
  Harness h;
  register_small_guarantor(h, 6000);  // 60.00 covers one list of 55.15
  DocSet a = set_from(kSmallSet, "", h);
  DocSet b = set_from(kSmallSet, "-B", h);
  h.submit_all(a);
  std::string ia = h.list(a)->invtNo;
  ASSERT_EQ(h.list(a)->state, ListState::kReleased);
  EXPECT_EQ(h.engine().guarantees().find(kSmallGuarantor)->remaining_fen(), 485);
  go_to(h, day_start(31) + 9 * kMsPerHour);
  h.submit_all(b);
  ASSERT_EQ(h.list(b)->state, ListState::kHeld);
  EXPECT_NE(h.list(b)->hold_reason.find("remaining 4.85, needed 55.15"), std::string::npos)
      << h.list(b)->hold_reason;
  // Paying A's bill restores 55.15 of guarantee: B passes R7 and is released at once.
  ASSERT_TRUE(h.apply(TaxPayment{kSmallGuarantor, ia, "BANK-77", 5515}).ok());
  EXPECT_EQ(h.list(b)->state, ListState::kReleased);
  std::vector<int> statuses;
  for (const auto* r : h.list_receipts(b.list.head.copNo)) statuses.push_back(r->returnStatus);
  EXPECT_EQ(statuses, (std::vector<int>{120, 120, 800}));
  const auto* g = h.engine().guarantees().find(kSmallGuarantor);
  EXPECT_EQ(g->open_bills_fen, 5515);
  EXPECT_EQ(g->remaining_fen(), 485);
}

TEST(Guarantee, CancelAndReturnArrivalAlsoReleaseHeldLists) {
  Harness h;
  register_small_guarantor(h, 6000);
  DocSet a = set_from(kSmallSet, "", h);
  DocSet b = set_from(kSmallSet, "-B", h);
  DocSet c = set_from(kSmallSet, "-C", h);
  h.submit_all(a);
  std::string ia = h.list(a)->invtNo;
  h.submit_all(b);
  ASSERT_EQ(h.list(b)->state, ListState::kHeld);
  ASSERT_EQ(send_cancel(h, cancel_of(a, ia)).returnStatus, 399);
  EXPECT_EQ(h.list(b)->state, ListState::kReleased);  // the voided bill freed the guarantee
  std::string ib = h.list(b)->invtNo;
  h.submit_all(c);
  ASSERT_EQ(h.list(c)->state, ListState::kHeld);
  // A return applied keeps the guarantee (it may lapse); the arrival frees it.
  ASSERT_EQ(send_return(h, refund_of(b, ib, "RT0001", {{1, "2"}})).returnStatus, 120);
  EXPECT_EQ(h.list(c)->state, ListState::kHeld);
  ASSERT_TRUE(h.apply(ReturnArrival{kAgent, kSmallGuarantor, "RT0001"}).ok());
  EXPECT_EQ(h.list(c)->state, ListState::kReleased);
}

// ---- Statement and determinism ---------------------------------------------------------------

// A month of a guarantor's business: bills, a partial return that arrives, a return that lapses,
// a cancel, payments, deposits.
void busy_month(Harness& h) {
  DocSet a = load_base("formula_1210");
  DocSet b = set_from("{}", "-B", h);
  DocSet c = set_from("{}", "-C", h);
  DocSet d = set_from(R"({"goods":[{"item":"2","qty":"1"},{"item":"4","qty":"2"}]})", "-D", h);
  std::string ia = release_base(h, a), ib = release_base(h, b), ic = release_base(h, c),
              id = release_base(h, d);
  go_to(h, day_start(3));
  ASSERT_EQ(send_return(h, refund_of(b, ib, "RT-B", {{1, "1"}})).returnStatus, 120);
  ASSERT_EQ(send_cancel(h, cancel_of(c, ic, "CX-C")).returnStatus, 399);
  ASSERT_EQ(send_return(h, refund_of(d, id, "RT-D", {{2, "1"}})).returnStatus, 120);
  ASSERT_TRUE(h.apply(clearance::GuaranteeDeposit{kAgent, 500000}).ok());
  go_to(h, day_start(10));
  ASSERT_TRUE(h.apply(ReturnArrival{kAgent, kAgent, "RT-B"}).ok());
  go_to(h, day_start(32));
  ASSERT_TRUE(h.apply(TaxPayment{kAgent, ia, "BANK-A", 5515}).ok());
  h.engine().check_tax_invariants();
  tick_at(h, day_start(47));  // RT-D lapsed at day 46
  h.engine().check_tax_invariants();
}

TEST(Statement, BalancesAndMatchesTheBills) {
  Harness h;
  busy_month(h);
  const auto& e = h.engine();
  Fen outstanding = 0, guaranteed = 0;
  e.for_each_tax_bill([&](const TaxBill& b) {
    if (b.assureCode != kAgent) return;
    outstanding += b.outstanding_fen();
    guaranteed += b.guaranteed_fen();
  });
  EXPECT_EQ(guaranteed, open_bills(h));  // the guarantee holds exactly what the bills hold
  e.check_tax_invariants();

  auto whole = e.tax_statement(kAgent, CivilDate{2026, 5, 1}, CivilDate{2026, 7, 31});
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->opening_fen, 0);
  EXPECT_EQ(whole->closing_fen, whole->opening_fen + whole->bills_fen + whole->reinstated_fen -
                                    whole->reductions_fen - whole->voids_fen - whole->payments_fen);
  EXPECT_EQ(whole->closing_fen, outstanding);
  EXPECT_EQ(whole->bills.size(), 4u);
  EXPECT_EQ(whole->bills_fen, 3 * 5515 + e.tax_bill(whole->bills[3]->invtNo)->tax.total_fen());
  EXPECT_EQ(whole->voids_fen, 5515);
  EXPECT_EQ(whole->payments_fen, 5515);
  EXPECT_EQ(whole->reductions_fen,
            2758 + e.return_record(kAgent, "RT-D")->tax_fen);  // RT-B and RT-D
  EXPECT_EQ(whole->reinstated_fen, e.return_record(kAgent, "RT-D")->tax_fen);
  EXPECT_EQ(whole->deposits_fen, kFixtureGuaranteeFen + 500000);  // the zone's, then ours
  EXPECT_EQ(whole->guarantee.open_bills_fen, open_bills(h));

  // Split in two periods: the first closing is the second opening.
  auto first = e.tax_statement(kAgent, CivilDate{2026, 5, 1}, CivilDate{2026, 6, 1});
  auto second = e.tax_statement(kAgent, CivilDate{2026, 6, 2}, CivilDate{2026, 7, 31});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->closing_fen, second->opening_fen);
  EXPECT_EQ(second->closing_fen, whole->closing_fen);
  EXPECT_EQ(first->payments_fen + second->payments_fen, whole->payments_fen);
  EXPECT_EQ(second->bills.size(), 0u);
  EXPECT_FALSE(e.tax_statement(kAgent, CivilDate{2026, 6, 2}, CivilDate{2026, 6, 1}).ok());
  EXPECT_FALSE(e.tax_statement(kAgent, CivilDate{2025, 1, 1}, CivilDate{2026, 6, 1}).ok());
}

TEST(Replay, SameCommandsGiveTheSameState) {
  Harness one, two;
  busy_month(one);
  busy_month(two);
  std::string d1 = one.engine().dump_state(), d2 = two.engine().dump_state();
  EXPECT_EQ(d1, d2);
  EXPECT_EQ(one.receipts(), two.receipts());
  // The dump covers the new state, so a difference in it would show.
  for (const char* what : {"\nbill ", "\njournal ", "\npayment ", "\ntax_credit ", "\ncancel ",
                           "\nreturn ", "\nreturnable "})
    EXPECT_NE(d1.find(what), std::string::npos) << what;
}

}  // namespace
}  // namespace cbec::testing
