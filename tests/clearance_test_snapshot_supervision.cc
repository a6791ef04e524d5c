// Snapshots of the Supervisor (issue #3): a supervisor loaded from another's save_state has the
// same views and dump, and behaves exactly like it under the same further commands (lanes, the
// draw's HMACs, findings, inspector assignment, claims, grade changes); saving it again gives the
// same bytes; truncated, wrongly versioned or damaged blobs are refused or at worst load into a
// supervisor that still works, never crash (a wrong open count would trip dequeue's assertion).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "clearance/clearance.h"
#include "clearance/supervision.h"
#include "common/bytes.h"
#include "fmt/format.h"

namespace cbec::testing {
namespace {

using clearance::ControlTarget;
using clearance::CreditEventKind;
using clearance::Lane;
using clearance::Supervisor;
using ref::CreditGrade;
using ref::RiskClass;

constexpr CivilDate kDay{2026, 5, 10};
const TimeMs kT0 = beijing_midnight(kDay) + 9 * kMsPerHour;
constexpr TimeMs kMinute = 60 * kMsPerSecond;

std::string Seed(char c) { return std::string(clearance::kDrawSeedBytes, c); }

ref::Policy TestPolicy() {
  ref::Policy p;
  p.inspection_base_bp = 3000;  // many red lanes, so queues fill
  return p;
}

// One list's facts with the strings they view.
struct TestList {
  std::string invtNo, site, enterprise, gcode, buyer, address, phone;
  std::vector<std::string_view> gcodes, enterprises;
  CreditGrade grade = CreditGrade::kRegular;
  RiskClass risk = RiskClass::kMedium;
  bool risky = false;  // comes with an R10 finding

  clearance::LaneFacts facts() {
    gcodes = {gcode};
    enterprises = {enterprise, "EBP-1"};
    clearance::LaneFacts f;
    f.invtNo = invtNo;
    f.site = site;
    f.enterprise = enterprise;
    f.grade = grade;
    f.risk = risk;
    f.gcodes = gcodes;
    f.enterprises = enterprises;
    f.buyerIdNumber = buyer;
    f.address = address;
    f.phone = phone;
    return f;
  }
};

TestList MakeList(const std::string& prefix, int i) {
  TestList l;
  l.invtNo = fmt::format("{}{:06d}", prefix, i);
  l.site = i % 3 == 0 ? "4605" : "4604";
  l.enterprise = fmt::format("ENT-{}", static_cast<char>('A' + i % 5));
  l.gcode = i % 7 == 0 ? "3304990099" : "1901101090";
  l.buyer = fmt::format("ID-{}", i % 11);
  l.address = fmt::format("海口市测试路{}号", i % 13);
  l.phone = fmt::format("1380000{:04d}", i % 17);
  l.grade = static_cast<CreditGrade>(i % 5);
  l.risk = static_cast<RiskClass>(i % 3);
  l.risky = i % 9 == 4;
  return l;
}

// Lanes for `n` lists at `t`, `step` apart, queued like the engine does; everything observable
// goes to *log.
void Lanes(Supervisor& s, const std::string& prefix, int n, TimeMs t, TimeMs step,
           std::string* log) {
  const ref::Policy p = TestPolicy();
  for (int i = 0; i < n; ++i) {
    TestList l = MakeList(prefix, i);
    std::vector<ceb::Finding> risk;
    if (l.risky) risk.push_back({"R10", "Inventory/InventoryHead/buyerIdNumber", "风险", "risk"});
    std::vector<ceb::Finding> findings;
    const TimeMs now = t + i * step;
    Lane lane = s.choose_lane(l.facts(), p, risk, 1000 + i, now, &findings);
    *log += fmt::format("{} {} {}\n", l.invtNo, clearance::lane_name(lane), findings.size());
    for (const auto& f : findings) *log += f.rule + " " + f.en + "\n";
    if (lane != Lane::kGreen) s.enqueue(l.invtNo, l.site, lane, now, findings);
  }
}

std::string Draws(Supervisor& s) {
  std::vector<clearance::DrawRecord> draws;
  s.take_draws(&draws);
  std::string out;
  for (const auto& d : draws) out += clearance::draw_record_json(d) + "\n";
  return out;
}

std::string Changes(Supervisor& s, TimeMs now) {
  std::string out;
  for (const auto& g : s.take_due_grade_changes(now)) {
    out += fmt::format("{} {} {} {} {}\n", g.code, ref::credit_grade_name(g.grade),
                       g.effective_from, g.proposal_id, g.applied);
  }
  return out;
}

// A supervisor with every kind of state: two seeds, officers on and off duty at two sites,
// queued lists (claimed and not), control orders (active, revoked, expired), credit records with
// proposals (open, confirmed, superseded), grade changes (applied and due later) and draws not
// yet taken.
void Build(Supervisor& s) {
  const ref::Policy p = TestPolicy();
  ASSERT_TRUE(s.set_seed({kDay, Seed('a')}, kT0).ok());
  ASSERT_TRUE(s.set_seed({{2026, 5, 11}, Seed('b')}, kT0 + 1).ok());
  ASSERT_TRUE(s.register_officer({"O1", "张三", "4604", true}).ok());
  ASSERT_TRUE(s.register_officer({"O2", "李四", "4604", true}).ok());
  ASSERT_TRUE(s.register_officer({"O3", "王五", "4605", true}).ok());
  ASSERT_TRUE(s.register_officer({"O4", "赵六", "4604", false}).ok());
  ASSERT_TRUE(s.set_control_order({"O1", "C-HS", ControlTarget::kHsCode, "3304", Lane::kRed,
                                   kT0 + 30 * kMsPerDay, "化妆品专项", false},
                                  kT0)
                  .ok());
  ASSERT_TRUE(s.set_control_order({"O1", "C-ENT", ControlTarget::kEnterprise, "ENT-B",
                                   Lane::kYellow, kT0 + 30 * kMsPerDay, "企业复核", false},
                                  kT0)
                  .ok());
  ASSERT_TRUE(s.set_control_order({"O2", "C-PHONE", ControlTarget::kPhone, "13800000003",
                                   Lane::kRed, kT0 + 30 * kMsPerDay, "电话", false},
                                  kT0)
                  .ok());
  ASSERT_TRUE(
      s.set_control_order({"O2", "C-PHONE", ControlTarget::kPhone, "", Lane::kRed, 0, "", true},
                          kT0)
          .ok());  // revoked
  ASSERT_TRUE(s.set_control_order({"O3", "C-ADDR", ControlTarget::kAddress, "测试路5号",
                                   Lane::kYellow, kT0 + 2 * kMsPerHour, "短期", false},
                                  kT0)
                  .ok());  // expires during the further operations
  std::string log;
  Lanes(s, "A", 60, kT0, kMinute, &log);
  Draws(s);                                                // the service took these
  Lanes(s, "B", 20, kT0 + 2 * kMsPerHour, kMinute, &log);  // pending
  // Claims: a few lists of each site.
  int claimed = 0;
  for (const auto& [inv, q] : s.queue()) {
    if (claimed >= 4) break;
    const char* who = q.site == "4605" ? "O3" : (claimed % 2 ? "O1" : "O2");
    if (s.claim({who, inv, false}).ok()) ++claimed;
  }
  ASSERT_GE(claimed, 3);
  // Credit: ENT-C (regular) collects findings → a proposal to dishonest; ENT-D (certified) a
  // downgrade proposal, confirmed for later; ENT-E a proposal superseded by a direct decision.
  for (int i = 0; i < 30; ++i) {
    s.credit_event("ENT-C", CreditEventKind::kRelease, kT0 + i, p, CreditGrade::kRegular);
    s.credit_event("ENT-D", CreditEventKind::kRelease, kT0 + i, p, CreditGrade::kCertified);
  }
  for (int i = 0; i < 3; ++i) {
    s.credit_event("ENT-C", CreditEventKind::kFinding, kT0 + 100 + i, p, CreditGrade::kRegular);
    s.credit_event("ENT-D", CreditEventKind::kRejection, kT0 + 100 + i, p, CreditGrade::kCertified);
    s.credit_event("ENT-E", CreditEventKind::kLateTax, kT0 - 2 * kMsPerDay + i, p,
                   CreditGrade::kAdvancedCertified);
  }
  s.credit_event("ENT-E", CreditEventKind::kReturn, kT0, p, CreditGrade::kAdvancedCertified);
  ASSERT_GE(s.proposals().size(), 3u);
  ASSERT_TRUE(
      s.confirm_grade({"O1", "ENT-D", CreditGrade::kRegular, kT0 + 3 * kMsPerHour, "确认降级"}, kT0,
                      CreditGrade::kCertified)
          .ok());
  ASSERT_TRUE(s.confirm_grade({"O2", "ENT-E", CreditGrade::kDishonest, 0, "直接决定"}, kT0,
                              CreditGrade::kAdvancedCertified)
                  .ok());
  ASSERT_TRUE(s.confirm_grade({"O2", "ENT-A", CreditGrade::kCertified, kT0 + kMsPerDay, "认证"},
                              kT0, CreditGrade::kRegular)
                  .ok());
  ASSERT_EQ(Changes(s, kT0 + 1).size() > 0, true);  // ENT-E's, at once
  ASSERT_FALSE(s.queue().empty());
}

std::string Save(const Supervisor& s) {
  std::string blob;
  ByteWriter w(&blob);
  s.save_state(w);
  return blob;
}

bool Load(Supervisor& s, std::string_view blob) {
  ByteReader r(blob);
  return s.load_state(r);
}

// The same commands on any supervisor built by Build; everything they return goes to the log.
std::string Continue(Supervisor& s) {
  const ref::Policy p = TestPolicy();
  std::string log;
  Lanes(s, "B", 10, kT0 + 3 * kMsPerHour, kMinute, &log);       // re-decided lists (yellow→red)
  Lanes(s, "C", 80, kT0 + 4 * kMsPerHour, 20 * kMinute, &log);  // into the second seed's day
  Lanes(s, "D", 20, kT0 + 3 * kMsPerDay, kMinute, &log);        // a day without a seed
  log += Draws(s);
  std::vector<std::string> queued;
  for (const auto& [inv, q] : s.queue()) queued.push_back(inv);
  for (size_t i = 0; i < queued.size(); ++i) {
    for (const char* who : {"O1", "O2", "O3", "O4", "nobody"}) {
      log += fmt::format("{} {} decide:{}\n", queued[i], who, s.check_decider(who, queued[i]).ok());
    }
    if (i % 4 == 0) log += fmt::format("claim:{}\n", s.claim({"O1", queued[i], false}).ok());
    if (i % 4 == 1) log += fmt::format("unclaim:{}\n", s.claim({"O2", queued[i], true}).ok());
    if (i % 3 == 2) s.dequeue(queued[i]);
  }
  for (int i = 0; i < 200; ++i) {
    s.credit_event("ENT-A", CreditEventKind::kRelease, kT0 + 5 * kMsPerHour + i, p,
                   CreditGrade::kRegular);
  }
  s.credit_event("ENT-C", CreditEventKind::kFinding, kT0 + 6 * kMsPerHour, p,
                 CreditGrade::kRegular);
  log += Changes(s, kT0 + 4 * kMsPerHour);
  log += Changes(s, kT0 + 2 * kMsPerDay);
  for (const auto& code : s.credit_codes()) {
    log += s.credit(code, kT0 + 7 * kMsPerHour, p).explanation_en + "\n";
  }
  log += Draws(s);
  return log;
}

TEST(SupervisionSnapshot, LoadedSupervisorBehavesLikeTheOriginal) {
  Supervisor a;
  Build(a);
  const std::string blob = Save(a);
  Supervisor b;
  ASSERT_TRUE(Load(b, blob));
  EXPECT_EQ(b.dump(), a.dump());
  EXPECT_EQ(Save(b), blob);  // canonical encoding

  // The views, field by field (dump leaves some out).
  ASSERT_EQ(b.seeds().size(), 2u);
  for (const auto& [day, s] : a.seeds()) {
    const clearance::SeedRecord* o = b.seed(day);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->day, s.day);
    EXPECT_EQ(o->seed, s.seed);
    EXPECT_EQ(o->sha256_hex, s.sha256_hex);
    EXPECT_EQ(o->logged_at, s.logged_at);
  }
  ASSERT_EQ(b.officers().size(), a.officers().size());
  for (const auto& [id, o] : a.officers()) {
    const clearance::Officer* x = b.officer(id);
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->name, o.name);
    EXPECT_EQ(x->site, o.site);
    EXPECT_EQ(x->on_duty, o.on_duty);
    EXPECT_EQ(x->open, o.open);
  }
  ASSERT_EQ(b.queue().size(), a.queue().size());
  int claimed = 0, with_reasons = 0;
  for (const auto& [inv, q] : a.queue()) {
    const clearance::QueueItem* x = b.queued(inv);
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->site, q.site);
    EXPECT_EQ(x->lane, q.lane);
    EXPECT_EQ(x->queued_at, q.queued_at);
    EXPECT_EQ(x->assigned, q.assigned);
    EXPECT_EQ(x->claimed_by, q.claimed_by);
    EXPECT_EQ(x->reasons, q.reasons);
    claimed += !q.claimed_by.empty();
    with_reasons += !q.reasons.empty();
  }
  EXPECT_GT(claimed, 0);
  EXPECT_GT(with_reasons, 0);
  ASSERT_EQ(b.control_orders().size(), a.control_orders().size());
  for (const auto& [id, c] : a.control_orders()) {
    const auto& x = b.control_orders().at(id);
    EXPECT_EQ(x.officer_id, c.officer_id);
    EXPECT_EQ(x.target, c.target);
    EXPECT_EQ(x.pattern, c.pattern);
    EXPECT_EQ(x.action, c.action);
    EXPECT_EQ(x.set_at, c.set_at);
    EXPECT_EQ(x.expires_at, c.expires_at);
    EXPECT_EQ(x.reason, c.reason);
    EXPECT_EQ(x.revoked, c.revoked);
    EXPECT_EQ(x.hits, c.hits);
  }
  EXPECT_TRUE(a.control_orders().at("C-PHONE").revoked);
  EXPECT_GT(a.control_orders().at("C-HS").hits, 0u);
  EXPECT_GT(a.control_orders().at("C-ADDR").hits, 0u);
  ASSERT_EQ(b.proposals().size(), a.proposals().size());
  std::set<clearance::GradeProposal::State> states;
  for (const auto& [id, p] : a.proposals()) {
    const auto& x = b.proposals().at(id);
    EXPECT_EQ(x.code, p.code);
    EXPECT_EQ(x.from, p.from);
    EXPECT_EQ(x.to, p.to);
    EXPECT_EQ(x.score, p.score);
    EXPECT_EQ(x.explanation_zh, p.explanation_zh);
    EXPECT_EQ(x.explanation_en, p.explanation_en);
    EXPECT_EQ(x.proposed_at, p.proposed_at);
    EXPECT_EQ(x.state, p.state);
    states.insert(p.state);
  }
  EXPECT_EQ(states.size(), 3u);  // open, confirmed and superseded proposals
  ASSERT_EQ(b.grade_changes().size(), 3u);
  for (size_t i = 0; i < a.grade_changes().size(); ++i) {
    const auto& g = a.grade_changes()[i];
    const auto& x = b.grade_changes()[i];
    EXPECT_EQ(std::tie(x.code, x.grade, x.effective_from, x.officer_id, x.reason, x.proposal_id,
                       x.applied),
              std::tie(g.code, g.grade, g.effective_from, g.officer_id, g.reason, g.proposal_id,
                       g.applied));
  }
  EXPECT_EQ(b.credit_codes(), a.credit_codes());

  // The same further commands: identical lanes, HMACs, findings, assignments, grade changes.
  // b starts with an empty HMAC key cache, a with the key of its last seed.
  const std::string la = Continue(a);
  const std::string lb = Continue(b);
  EXPECT_EQ(la, lb);
  EXPECT_NE(la.find("\"seeded\":true"), std::string::npos);
  EXPECT_NE(la.find("\"seeded\":false"), std::string::npos);
  EXPECT_NE(la.find(" red "), std::string::npos);
  EXPECT_NE(la.find("control order C-HS hit"), std::string::npos);
  EXPECT_EQ(la.find("control order C-ADDR"), std::string::npos);  // expired before these
  EXPECT_EQ(b.dump(), a.dump());
  EXPECT_EQ(Save(b), Save(a));
}

TEST(SupervisionSnapshot, EmptySupervisorRoundTrips) {
  Supervisor a, b;
  const std::string blob = Save(a);
  ASSERT_TRUE(Load(b, blob));
  EXPECT_EQ(Save(b), blob);
  EXPECT_EQ(b.dump(), a.dump());
}

TEST(SupervisionSnapshot, EveryStrictPrefixFails) {
  Supervisor a;
  Build(a);
  const std::string blob = Save(a);
  for (size_t n = 0; n < blob.size(); ++n) {
    Supervisor b;
    EXPECT_FALSE(Load(b, std::string_view(blob).substr(0, n))) << n;
  }
}

TEST(SupervisionSnapshot, BadVersionFails) {
  Supervisor a;
  Build(a);
  std::string blob = Save(a);
  for (uint8_t v : {0, 2, 255}) {
    blob[0] = static_cast<char>(v);
    Supervisor b;
    EXPECT_FALSE(Load(b, blob)) << int{v};
  }
}

TEST(SupervisionSnapshot, DamagedBytesNeverCrash) {
  // Proves: whatever one byte becomes, load_state returns, and a supervisor that accepted the
  // bytes survives claims, dequeues and draws (an open count that disagrees with the queue
  // would fail dequeue's assertion: load_state must have refused it).
  Supervisor a;
  Build(a);
  const std::string blob = Save(a);
  int accepted = 0;
  for (size_t i = 0; i < blob.size(); ++i) {
    for (uint8_t x : {0x01, 0x02, 0x80}) {
      std::string bad = blob;
      bad[i] = static_cast<char>(bad[i] ^ x);
      Supervisor b;
      if (!Load(b, bad)) continue;
      ++accepted;
      std::string log;
      Lanes(b, "E", 3, kT0 + 5 * kMsPerHour, kMinute, &log);
      std::vector<std::string> queued;
      for (const auto& [inv, q] : b.queue()) queued.push_back(inv);
      for (const auto& inv : queued) {
        (void)b.claim({"O1", inv, false});
        (void)b.claim({"O2", inv, true});
        b.dequeue(inv);
      }
      for (const auto& [id, o] : b.officers()) EXPECT_EQ(o.open, 0u) << i;
      (void)Changes(b, kT0 + 10 * kMsPerDay);
      (void)Draws(b);
      (void)b.dump();
    }
  }
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace cbec::testing
