// The risk monitor (src/risk/): every §9 pattern fires on a generated scenario and stays quiet on
// its near misses (one below each threshold, one just outside the window); the same calls give
// the same findings and dump; and the tables never outgrow their limits, even under a million
// distinct buyers.
#include "risk/risk.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace cbec::risk {
namespace {

using ::testing::HasSubstr;

const TimeMs kT0 = beijing_midnight({2024, 6, 1}) + 10 * kMsPerHour;
constexpr TimeMs kMinute = 60 * kMsPerSecond;

// A list as the test writes it; facts() views its strings, so it must outlive the call.
struct TestList {
  std::string invtNo;
  std::string ebp = "4101960001";
  std::string pay = "4101960007";
  std::string buyer;
  std::string phone;
  std::string address;
  Fen dutiable_fen = 10000;
  Fen limit_fen = 500000;
  TimeMs time = kT0;
  TimeMs order_time = 0, payment_time = 0, waybill_time = 0;
  std::vector<LineFacts> lines;

  ListFacts facts() const {
    ListFacts f;
    f.time = time;
    f.invtNo = invtNo;
    f.ebpCode = ebp;
    f.ebcCode = "4101960004";
    f.payCode = pay;
    f.logisticsCode = "4101960009";
    f.buyerIdNumber = buyer;
    f.buyerTelephone = phone;
    f.consigneeAddress = address;
    f.dutiable_fen = dutiable_fen;
    f.transaction_limit_fen = limit_fen;
    f.lines = lines;
    f.order_time = order_time;
    f.payment_time = payment_time;
    f.waybill_time = waybill_time;
    return f;
  }
};

LineFacts Line(std::string_view gcode, Fen price_fen, int64_t qty = 1,
               std::string_view item = "ITEM-0001", std::string_view unit = "011") {
  LineFacts l;
  l.gcode = gcode;
  l.itemRecordNo = item;
  l.qty = Decimal::of_int(qty);
  l.unit = unit;
  l.price_fen = price_fen;
  l.total_fen = price_fen * qty;
  return l;
}

// Distinct identities for scenario number n, so unrelated patterns stay quiet.
TestList Person(int n, TimeMs t) {
  TestList l;
  l.invtNo = "INV" + std::to_string(n) + "-" + std::to_string(t);
  l.buyer = "ID-" + std::to_string(n);
  l.phone = "1380000" + std::to_string(1000 + n);
  l.address = "郑州市金水区测试路" + std::to_string(n) + "号";
  l.time = t;
  return l;
}

std::vector<ceb::Finding> Eval(Monitor& m, const TestList& l, const RiskPolicy& p = {}) {
  std::vector<ceb::Finding> out;
  m.evaluate(l.facts(), p, &out);
  return out;
}

int CountOf(const std::vector<ceb::Finding>& fs, Pattern want) {
  int n = 0;
  for (const auto& f : fs) {
    Pattern p;
    if (pattern_of(f, &p) && p == want) ++n;
  }
  return n;
}
bool Has(const std::vector<ceb::Finding>& fs, Pattern p) { return CountOf(fs, p) > 0; }

const ceb::Finding* Find(const std::vector<ceb::Finding>& fs, Pattern want) {
  for (const auto& f : fs) {
    Pattern p;
    if (pattern_of(f, &p) && p == want) return &f;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Order splitting.

// Three lists of one buyer, each at 80 % of the limit, within 24 h: the third is flagged.
TEST(RiskSplit, BuyerWithListsJustUnderTheLimit) {
  Monitor m;
  std::vector<ceb::Finding> last;
  for (int i = 0; i < 3; ++i) {
    TestList l = Person(1, kT0 + i * kMsPerHour);
    l.address += std::to_string(i);  // different addresses: only the buyer pattern
    l.dutiable_fen = 400000;
    last = Eval(m, l);
    if (i < 2) {
      EXPECT_TRUE(last.empty()) << i;
    }
  }
  ASSERT_TRUE(Has(last, Pattern::kSplitBuyer));
  EXPECT_FALSE(Has(last, Pattern::kSplitAddress));
  const ceb::Finding* f = Find(last, Pattern::kSplitBuyer);
  EXPECT_EQ(f->rule, "R10");
  EXPECT_EQ(f->field, "Inventory/InventoryHead/buyerIdNumber");
  EXPECT_THAT(f->en, HasSubstr("3 lists (together 12000.00) within 24 h"));
  EXPECT_THAT(f->en, HasSubstr("80% of the 5000.00 transaction limit"));
  EXPECT_THAT(f->zh, HasSubstr("拆单"));
}

TEST(RiskSplit, NearMisses) {
  // Two lists only.
  {
    Monitor m;
    for (int i = 0; i < 2; ++i) {
      TestList l = Person(1, kT0 + i * kMsPerHour);
      l.dutiable_fen = 400000;
      EXPECT_FALSE(Has(Eval(m, l), Pattern::kSplitBuyer));
    }
  }
  // The third list one fen below 80 %.
  {
    Monitor m;
    for (int i = 0; i < 3; ++i) {
      TestList l = Person(1, kT0 + i * kMsPerHour);
      l.dutiable_fen = i == 2 ? 399999 : 400000;
      EXPECT_FALSE(Has(Eval(m, l), Pattern::kSplitBuyer)) << i;
    }
  }
  // The first list exactly one window before the third: expired. One ms later it still counts.
  for (TimeMs third : {kT0 + 24 * kMsPerHour, kT0 + 24 * kMsPerHour - 1}) {
    Monitor m;
    for (TimeMs t : {kT0, kT0 + kMsPerHour, third}) {
      TestList l = Person(1, t);
      l.dutiable_fen = 400000;
      auto fs = Eval(m, l);
      if (t == third) {
        EXPECT_EQ(Has(fs, Pattern::kSplitBuyer), third < kT0 + 24 * kMsPerHour);
      }
    }
  }
}

// A list evaluated again (after a hold or a modification) is not a second list.
TEST(RiskSplit, ReEvaluationDoesNotCountTwice) {
  Monitor m;
  TestList a = Person(1, kT0);
  a.dutiable_fen = 450000;
  TestList b = Person(1, kT0 + kMsPerHour);
  b.dutiable_fen = 450000;
  EXPECT_TRUE(Eval(m, a).empty());
  EXPECT_TRUE(Eval(m, b).empty());
  b.time += kMsPerHour;
  EXPECT_FALSE(Has(Eval(m, b), Pattern::kSplitBuyer));
  a.time = kT0 + 3 * kMsPerHour;
  EXPECT_FALSE(Has(Eval(m, a), Pattern::kSplitBuyer));
}

TEST(RiskSplit, AddressShared) {
  Monitor m;
  std::vector<ceb::Finding> fs;
  for (int i = 0; i < 3; ++i) {
    TestList l = Person(10 + i, kT0 + i * kMsPerHour);
    l.address = "郑州市二七区同一路1号";
    l.dutiable_fen = 480000;
    fs = Eval(m, l);
    if (i < 2) {
      EXPECT_FALSE(Has(fs, Pattern::kSplitAddress));
    }
  }
  EXPECT_TRUE(Has(fs, Pattern::kSplitAddress));
  EXPECT_FALSE(Has(fs, Pattern::kSplitBuyer));
  EXPECT_EQ(Find(fs, Pattern::kSplitAddress)->field, "Inventory/InventoryHead/consigneeAddress");
}

TEST(RiskSplit, ZeroSwitchesThePatternOff) {
  Monitor m;
  RiskPolicy p;
  p.risk_split_lists = 0;
  for (int i = 0; i < 5; ++i) {
    TestList l = Person(1, kT0 + i * kMsPerHour);
    l.dutiable_fen = 490000;
    EXPECT_FALSE(Has(Eval(m, l, p), Pattern::kSplitBuyer));
  }
}

// ---------------------------------------------------------------------------------------------
// Identity reuse.

TEST(RiskIdentity, OnePhoneManyBuyerIds) {
  RiskPolicy p;
  // Five IDs on one phone within 30 days: the fifth is flagged; four are not.
  Monitor m;
  std::vector<ceb::Finding> fs;
  for (int i = 0; i < 5; ++i) {
    TestList l = Person(100 + i, kT0 + i * kMsPerDay);
    l.phone = "13912345678";
    fs = Eval(m, l, p);
    if (i < 4) {
      EXPECT_FALSE(Has(fs, Pattern::kIdentityPhone)) << i;
    }
  }
  ASSERT_TRUE(Has(fs, Pattern::kIdentityPhone));
  EXPECT_THAT(Find(fs, Pattern::kIdentityPhone)->en,
              HasSubstr("used by 5 distinct buyer IDs within 30 days; threshold 5"));
  // The same ID again does not add a sixth.
  TestList again = Person(100, kT0 + 5 * kMsPerDay);
  again.phone = "13912345678";
  EXPECT_THAT(Find(Eval(m, again, p), Pattern::kIdentityPhone)->en, HasSubstr("by 5 distinct"));

  // Just outside the window: the first ID was seen 30 days (to the second) before the fifth.
  Monitor late;
  for (int i = 0; i < 5; ++i) {
    TestList l = Person(200 + i, i == 4 ? kT0 + 30 * kMsPerDay : kT0 + i * kMsPerHour);
    l.phone = "13912345678";
    fs = Eval(late, l, p);
  }
  EXPECT_FALSE(Has(fs, Pattern::kIdentityPhone));
}

TEST(RiskIdentity, SpacingAndLetterCaseDoNotMakeANewIdentity) {
  // Proves: a buyer ID written with ASCII whitespace (space, \t \n \v \f \r) anywhere, or with
  // a lower-case check letter, keys exactly what its plain form keys (the monitors' dumps, keys
  // as hashes, are equal), while a different letter, a full-width 'Ｘ', a control byte that is
  // not whitespace or an underscore keys another identity (the dumps differ).
  auto dump_after = [](const std::string& buyer) {
    Monitor m;
    TestList l = Person(300, kT0);
    l.buyer = buyer;
    Eval(m, l);
    m.on_release(l.facts(), RiskPolicy{});
    return m.dump();
  };
  const std::string plain = dump_after("41010519900101123X");
  for (const std::string same : {"410105 19900101 123x", "\t410105199001011 23X",
                                 "410105\n19900101\r123\v\fX", " 41010519900101123x "}) {
    EXPECT_EQ(dump_after(same), plain) << same;
  }
  for (const std::string other : {"41010519900101123Y", "41010519900101123\x01X",
                                  "41010519900101123Ｘ", "41010519900101123_X"}) {
    EXPECT_NE(dump_after(other), plain) << other;
  }
}

TEST(RiskIdentity, KeysHashedOnceAnswerAsKeysHashedPerCall) {
  // Proves: evaluate and on_release given keys_of(f) find and record exactly what they do when
  // they hash f themselves (the engine hashes a released list once for both), and the keys
  // tell blank identities from present ones.
  Monitor per_call, once;
  for (int i = 0; i < 6; ++i) {
    TestList l = Person(500 + i % 2, kT0 + i * kMinute);
    l.invtNo += "-" + std::to_string(i);
    l.phone = "13912345681";
    l.dutiable_fen = 400000;
    l.lines = {Line("3304990099", 10000 + 1000 * i)};
    if (i == 5) l.address = " ";  // blank: keys nothing
    const ListFacts f = l.facts();
    const ListKeys k = keys_of(f);
    EXPECT_TRUE(k.buyer && k.phone && k.payco && k.platform) << i;
    EXPECT_EQ(k.address, i != 5) << i;
    std::vector<ceb::Finding> a, b;
    per_call.evaluate(f, RiskPolicy{}, &a);
    once.evaluate(f, k, RiskPolicy{}, &b);
    ASSERT_EQ(a.size(), b.size()) << i;
    for (size_t j = 0; j < a.size(); ++j) EXPECT_EQ(a[j].en, b[j].en) << i;
    per_call.on_release(f, RiskPolicy{});
    once.on_release(f, k, RiskPolicy{});
  }
  EXPECT_EQ(per_call.dump(), once.dump());
  EXPECT_NE(per_call.dump(), Monitor().dump());
}

TEST(RiskIdentity, OneAddressManyBuyerIds) {
  Monitor m;
  std::vector<ceb::Finding> fs;
  for (int i = 0; i < 5; ++i) {
    TestList l = Person(300 + i, kT0 + i * kMsPerHour);
    l.address = "郑州市中原区共享小区1号楼";
    fs = Eval(m, l);
    if (i < 4) {
      EXPECT_FALSE(Has(fs, Pattern::kIdentityAddress)) << i;
    }
  }
  EXPECT_TRUE(Has(fs, Pattern::kIdentityAddress));
  EXPECT_FALSE(Has(fs, Pattern::kIdentityPhone));
}

TEST(RiskIdentity, OneBuyerManyAddresses) {
  Monitor m;
  std::vector<ceb::Finding> fs;
  for (int i = 0; i < 5; ++i) {
    TestList l = Person(400, kT0 + i * kMsPerDay);
    l.invtNo = "INV-ADDR-" + std::to_string(i);
    l.address = "郑州市管城区地址" + std::to_string(i);
    fs = Eval(m, l);
    if (i < 4) {
      EXPECT_FALSE(Has(fs, Pattern::kIdentityBuyer)) << i;
    }
  }
  EXPECT_TRUE(Has(fs, Pattern::kIdentityBuyer));
  EXPECT_THAT(Find(fs, Pattern::kIdentityBuyer)->en, HasSubstr("5 distinct addresses"));
  // Spacing and case do not make a new address or a new buyer.
  TestList same = Person(400, kT0 + 5 * kMsPerDay);
  same.buyer = " id-400 ";
  same.address = "郑州市管城区 地址4";
  EXPECT_THAT(Find(Eval(m, same), Pattern::kIdentityBuyer)->en, HasSubstr("5 distinct"));
}

// More distinct IDs than a set holds: the count stays at the capacity, above any threshold.
TEST(RiskIdentity, FullSetStillCountsAtCapacity) {
  Monitor m;
  RiskPolicy p;
  p.risk_identity_ids_per_contact = static_cast<int>(kDistinctPerKey);
  std::vector<ceb::Finding> fs;
  for (int i = 0; i < 40; ++i) {
    TestList l = Person(500 + i, kT0 + i * kMinute);
    l.phone = "13700000000";
    fs = Eval(m, l, p);
    EXPECT_EQ(Has(fs, Pattern::kIdentityPhone), i + 1 >= static_cast<int>(kDistinctPerKey)) << i;
  }
}

// ---------------------------------------------------------------------------------------------
// Quota velocity.

TEST(RiskVelocity, ReleasedValueWithinTheWindow) {
  auto run = [](Fen fourth_fen, TimeMs fourth_at) {
    Monitor m;
    for (int i = 0; i < 3; ++i) {
      TestList l = Person(600, kT0 + i * kMsPerHour);
      l.invtNo = "INV-V" + std::to_string(i);
      l.dutiable_fen = 300000;
      EXPECT_FALSE(Has(Eval(m, l), Pattern::kVelocity));
      m.on_release(l.facts(), RiskPolicy{});
    }
    TestList l = Person(600, fourth_at);
    l.invtNo = "INV-V3";
    l.dutiable_fen = fourth_fen;
    return Eval(m, l);
  };
  // 9,000.00 released + 1,000.01 = 10,000.01 > 10,000.00.
  auto fs = run(100001, kT0 + 3 * kMsPerHour);
  ASSERT_TRUE(Has(fs, Pattern::kVelocity));
  EXPECT_THAT(Find(fs, Pattern::kVelocity)->en,
              HasSubstr("9000.00 released within 24 h; with this list's 1000.01 that is "
                        "10000.01, above 10000.00"));
  EXPECT_FALSE(Has(run(100000, kT0 + 3 * kMsPerHour), Pattern::kVelocity));  // exactly 10,000
  // The first release is exactly 24 h old: only 6,000.00 counts.
  EXPECT_FALSE(Has(run(100001, kT0 + 24 * kMsPerHour), Pattern::kVelocity));
  EXPECT_TRUE(Has(run(100001, kT0 + 24 * kMsPerHour - 1), Pattern::kVelocity));
}

// ---------------------------------------------------------------------------------------------
// R8 under-valuation.

// Releases n lists of one line at price_fen for the code.
void Release(Monitor& m, int n, Fen price_fen, std::string_view gcode = "3304990099",
             std::string_view unit = "011", int first_person = 1000) {
  for (int i = 0; i < n; ++i) {
    TestList l = Person(first_person + i, kT0 + i * kMinute);
    l.lines = {Line(gcode, price_fen, 1, "ITEM-0001", unit)};
    m.on_release(l.facts(), RiskPolicy{});
  }
}

TEST(RiskUnderValuation, BelowThirtyPercentOfTheMedian) {
  Monitor m;
  Release(m, 20, 10000);
  TestList l = Person(1, kT0 + kMsPerDay);
  l.lines = {Line("1901101090", 5000), Line("3304990099", 2999)};
  auto fs = Eval(m, l);
  ASSERT_EQ(CountOf(fs, Pattern::kUnderValuation), 1);
  const ceb::Finding* f = Find(fs, Pattern::kUnderValuation);
  EXPECT_EQ(f->rule, "R8");
  EXPECT_EQ(f->field, "Inventory/InventoryList[2]/price");
  EXPECT_THAT(f->en, HasSubstr("unit price 29.99 is below 30% (30.00) of the reference price "
                               "100.00 for 3304990099 per unit 011 (median of the last 20"));
  EXPECT_THAT(f->zh, HasSubstr("低报价格"));

  l.lines = {Line("3304990099", 3000)};  // exactly 30 %: not below
  EXPECT_FALSE(Has(Eval(m, l), Pattern::kUnderValuation));
  l.lines = {Line("3304990099", 100, 1, "ITEM-R8", "035")};  // another unit: no reference
  EXPECT_FALSE(Has(Eval(m, l), Pattern::kUnderValuation));
}

TEST(RiskUnderValuation, NeedsEnoughObservations) {
  Monitor m;
  Release(m, 19, 10000);
  TestList l = Person(1, kT0 + kMsPerDay);
  l.lines = {Line("3304990099", 1)};
  EXPECT_FALSE(Has(Eval(m, l), Pattern::kUnderValuation));
  Release(m, 1, 10000, "3304990099", "011", 5000);
  EXPECT_TRUE(Has(Eval(m, l), Pattern::kUnderValuation));
}

// The reference is the median of the latest risk_price_history releases: old prices leave it.
TEST(RiskUnderValuation, MedianFollowsRecentReleases) {
  Monitor m;
  Release(m, 101, 10000);
  TestList l = Person(1, kT0 + kMsPerDay);
  l.lines = {Line("3304990099", 500)};
  EXPECT_TRUE(Has(Eval(m, l), Pattern::kUnderValuation));  // 5.00 < 30 % of 100.00
  Release(m, 50, 1000, "3304990099", "011", 3000);
  EXPECT_TRUE(Has(Eval(m, l), Pattern::kUnderValuation));  // 51 of 101 still at 100.00
  Release(m, 1, 1000, "3304990099", "011", 4000);
  // Now 51 of the latest 101 are 10.00: the median is 10.00 and 5.00 is above its 30 %.
  EXPECT_FALSE(Has(Eval(m, l), Pattern::kUnderValuation));

  // A policy with a shorter history reads the latest 11 only (all 10.00); a longer one all 152.
  RiskPolicy shorter;
  shorter.risk_price_history = 11;
  shorter.risk_price_min_observations = 11;
  l.lines = {Line("3304990099", 299)};
  EXPECT_TRUE(Has(Eval(m, l, shorter), Pattern::kUnderValuation));
  RiskPolicy longer;
  longer.risk_price_history = 255;
  l.lines = {Line("3304990099", 2999)};
  EXPECT_TRUE(Has(Eval(m, l, longer), Pattern::kUnderValuation));  // median 100.00 of 152
  // Releasing under the shorter policy rebuilds the window and keeps the median right.
  TestList r = Person(9, kT0 + 2 * kMsPerDay);
  r.lines = {Line("3304990099", 1000, 1, "ITEM-R8")};
  m.on_release(r.facts(), shorter);
  l.lines = {Line("3304990099", 299)};
  EXPECT_TRUE(Has(Eval(m, l, shorter), Pattern::kUnderValuation));
  l.lines = {Line("3304990099", 300)};
  EXPECT_FALSE(Has(Eval(m, l, shorter), Pattern::kUnderValuation));
}

TEST(RiskUnderValuation, MedianOfDistinctPrices) {
  Monitor m;
  // Prices 1.00 .. 21.00 in a scrambled order: the median is 11.00, 30 % of it 3.30.
  for (int i = 0; i < 21; ++i) {
    TestList l = Person(7000 + i, kT0 + i * kMinute);
    l.lines = {Line("3304990099", ((i * 8) % 21 + 1) * 100, 1, "ITEM-0001")};
    m.on_release(l.facts(), RiskPolicy{});
  }
  TestList l = Person(1, kT0 + kMsPerDay);
  l.lines = {Line("3304990099", 329)};
  auto fs = Eval(m, l);
  ASSERT_TRUE(Has(fs, Pattern::kUnderValuation));
  EXPECT_THAT(Find(fs, Pattern::kUnderValuation)->en, HasSubstr("reference price 11.00"));
  l.lines = {Line("3304990099", 330)};
  EXPECT_FALSE(Has(Eval(m, l), Pattern::kUnderValuation));
}

// ---------------------------------------------------------------------------------------------
TEST(RiskUnderValuation, BondedItemsAreComparedWithTheirOwnReleases) {
  // Proves: one HS code covers products far apart in price: a cheap bonded item is not
  // "under-valued" against an expensive item of the same code, but is against its own history;
  // a 9610 line (no item record) is compared at code level.
  Monitor m;
  for (int i = 0; i < 20; ++i) {
    TestList r = Person(2000 + i, kT0 + i * kMinute);
    r.lines = {Line("3304990099", 60000, 1, "SERUM"), Line("3304990099", 9000, 1, "")};
    m.on_release(r.facts(), RiskPolicy{});
  }
  TestList cream = Person(1, kT0 + kMsPerDay);
  cream.lines = {Line("3304990099", 5000, 1, "HAND-CREAM")};
  EXPECT_FALSE(Has(Eval(m, cream), Pattern::kUnderValuation));
  TestList cheap_serum = Person(2, kT0 + kMsPerDay);
  cheap_serum.lines = {Line("3304990099", 15000, 1, "SERUM")};
  EXPECT_TRUE(Has(Eval(m, cheap_serum), Pattern::kUnderValuation));
  TestList direct_mail = Person(3, kT0 + kMsPerDay);
  direct_mail.lines = {Line("3304990099", 2000, 1, "")};
  EXPECT_TRUE(Has(Eval(m, direct_mail), Pattern::kUnderValuation));
}

// Bulk beyond personal use.

TEST(RiskBulk, UnitsOfOneItemToOneAddress) {
  Monitor m;
  TestList a = Person(800, kT0);
  a.lines = {Line("1901101090", 29800, 10, "ITEM-MILK")};
  EXPECT_FALSE(Has(Eval(m, a), Pattern::kBulk));
  TestList b = Person(801, kT0 + kMsPerDay);  // another buyer, the same address
  b.address = a.address;
  b.lines = {Line("3304990099", 100, 3, "ITEM-OTHER"), Line("1901101090", 29800, 9, "ITEM-MILK")};
  EXPECT_FALSE(Has(Eval(m, b), Pattern::kBulk));  // 19 < 20
  TestList c = Person(800, kT0 + 2 * kMsPerDay);
  c.lines = {Line("1901101090", 29800, 1, "ITEM-MILK")};
  auto fs = Eval(m, c);
  ASSERT_TRUE(Has(fs, Pattern::kBulk));
  EXPECT_EQ(Find(fs, Pattern::kBulk)->field, "Inventory/InventoryList[1]/qty");
  EXPECT_THAT(Find(fs, Pattern::kBulk)->en,
              HasSubstr("20 units of item ITEM-MILK to this consignee address within 30 days "
                        "(this list 1); personal-use threshold 20"));
}

TEST(RiskBulk, LinesOfOneItemAddUpAndTheWindowExpires) {
  Monitor m;
  TestList a = Person(810, kT0);
  a.lines = {Line("1901101090", 100, 5, ""), Line("3304990099", 100, 1, ""),
             Line("1901101090", 100, 15, "")};  // 9610: keyed by code and unit
  auto fs = Eval(m, a);
  ASSERT_EQ(CountOf(fs, Pattern::kBulk), 1);
  EXPECT_EQ(Find(fs, Pattern::kBulk)->field, "Inventory/InventoryList[1]/qty");

  // 19 units, then 1 more exactly one window later (expired) or one ms inside it.
  for (TimeMs at : {kT0 + 30 * kMsPerDay, kT0 + 30 * kMsPerDay - 1}) {
    Monitor late;
    TestList x = Person(811, kT0);
    x.lines = {Line("1901101090", 100, 19)};
    EXPECT_FALSE(Has(Eval(late, x), Pattern::kBulk));
    TestList y = Person(811, at);
    y.lines = {Line("1901101090", 100, 1)};
    EXPECT_EQ(Has(Eval(late, y), Pattern::kBulk), at < kT0 + 30 * kMsPerDay);
  }
}

// ---------------------------------------------------------------------------------------------
// Timing anomalies.

TEST(RiskTiming, PaymentBeforeOrderAndWaybillBeforePayment) {
  Monitor m;
  TestList l = Person(900, kT0);
  l.order_time = kT0 - kMsPerHour;
  l.payment_time = l.order_time - 61 * kMinute;
  l.waybill_time = l.payment_time + kMinute;
  auto fs = Eval(m, l);
  ASSERT_TRUE(Has(fs, Pattern::kTimingPayment));
  EXPECT_FALSE(Has(fs, Pattern::kTimingWaybill));
  EXPECT_THAT(Find(fs, Pattern::kTimingPayment)->en,
              HasSubstr("is 61 min before the order's 2024-06-01 09:00:00; tolerance 60 min"));
  EXPECT_THAT(Find(fs, Pattern::kTimingPayment)->zh, HasSubstr("达61分钟，容差60分钟"));
  l.payment_time = l.order_time - 60 * kMinute;  // exactly the tolerance
  EXPECT_FALSE(Has(Eval(m, l), Pattern::kTimingPayment));

  l.payment_time = l.order_time;
  l.waybill_time = l.payment_time - 60 * kMinute - kMsPerSecond;
  fs = Eval(m, l);
  ASSERT_TRUE(Has(fs, Pattern::kTimingWaybill));
  EXPECT_EQ(Find(fs, Pattern::kTimingWaybill)->field, "Logistics/LogisticsHead/appTime");
  EXPECT_THAT(Find(fs, Pattern::kTimingWaybill)->en, HasSubstr("60 min 1 s before"));
  l.waybill_time = l.payment_time - 60 * kMinute;
  EXPECT_FALSE(Has(Eval(m, l), Pattern::kTimingWaybill));
  // Unknown times (0) are not anomalies.
  l.payment_time = 0;
  l.waybill_time = 1;
  EXPECT_TRUE(Eval(m, l).empty());
}

// ---------------------------------------------------------------------------------------------
// Platform and payment-company concentration.

TEST(RiskConcentration, SmallPaymentCompanySharedByPlatforms) {
  Monitor m;
  std::vector<ceb::Finding> fs;
  const std::string platforms[] = {"EBP-A", "EBP-B", "EBP-C"};
  for (int i = 0; i < 3; ++i) {
    TestList l = Person(1100 + i, kT0 + i * kMsPerHour);
    l.pay = "PAY-SMALL";
    l.ebp = platforms[i];
    fs = Eval(m, l);
    if (i < 2) {
      EXPECT_FALSE(Has(fs, Pattern::kPaymentCompany)) << i;
    }
  }
  ASSERT_TRUE(Has(fs, Pattern::kPaymentCompany));
  EXPECT_THAT(Find(fs, Pattern::kPaymentCompany)->en,
              HasSubstr("payment company PAY-SMALL carried only 3 lists in 30 days but serves 3 "
                        "platforms"));
}

TEST(RiskConcentration, PaymentCompanyNearMisses) {
  // Not small: 1,000 lists before the other two platforms come (1,002 > 1,000).
  {
    Monitor m;
    for (int i = 0; i < 1000; ++i) {
      TestList l = Person(20000 + i, kT0 + i * kMsPerSecond);
      l.pay = "PAY-BIG";
      l.ebp = "EBP-A";
      Eval(m, l);
    }
    std::vector<ceb::Finding> fs;
    for (int i = 0; i < 2; ++i) {
      TestList l = Person(30000 + i, kT0 + kMsPerHour + i);
      l.pay = "PAY-BIG";
      l.ebp = i == 0 ? "EBP-B" : "EBP-C";
      fs = Eval(m, l);
    }
    EXPECT_FALSE(Has(fs, Pattern::kPaymentCompany));
  }
  // 998 lists before: exactly 1,000 with the third platform's list, still small: flagged.
  {
    Monitor m;
    for (int i = 0; i < 998; ++i) {
      TestList l = Person(20000 + i, kT0 + i * kMsPerSecond);
      l.pay = "PAY-MID";
      l.ebp = "EBP-A";
      Eval(m, l);
    }
    std::vector<ceb::Finding> fs;
    for (int i = 0; i < 2; ++i) {
      TestList l = Person(30000 + i, kT0 + kMsPerHour + i);
      l.pay = "PAY-MID";
      l.ebp = i == 0 ? "EBP-B" : "EBP-C";
      fs = Eval(m, l);
    }
    EXPECT_TRUE(Has(fs, Pattern::kPaymentCompany));
  }
  // The first platform's list 30 calendar days before: outside the window; 29 days: inside.
  for (int days : {30, 29}) {
    Monitor m;
    std::vector<ceb::Finding> fs;
    const TimeMs at[] = {kT0, kT0 + days * kMsPerDay, kT0 + days * kMsPerDay + 1};
    const char* ebp[] = {"EBP-A", "EBP-B", "EBP-C"};
    for (int i = 0; i < 3; ++i) {
      TestList l = Person(1200 + i, at[i]);
      l.pay = "PAY-SMALL";
      l.ebp = ebp[i];
      fs = Eval(m, l);
    }
    EXPECT_EQ(Has(fs, Pattern::kPaymentCompany), days == 29) << days;
  }
}

TEST(RiskConcentration, PlatformReleasesPerHour) {
  RiskPolicy p;
  p.risk_platform_releases_per_hour = 100;
  auto run = [&](int releases, TimeMs first_release_at) {
    Monitor m;
    for (int i = 0; i < releases; ++i) {
      TestList l = Person(40000 + i, first_release_at + i);
      l.ebp = "EBP-FLOOD";
      m.on_release(l.facts(), p);
    }
    TestList l = Person(1, kT0 + kMsPerHour);
    l.ebp = "EBP-FLOOD";
    return Eval(m, l, p);
  };
  auto fs = run(101, kT0 + kMinute);
  ASSERT_TRUE(Has(fs, Pattern::kPlatformVolume));
  EXPECT_THAT(Find(fs, Pattern::kPlatformVolume)->en,
              HasSubstr("platform EBP-FLOOD had 101 lists released in the last hour, above 100"));
  EXPECT_FALSE(Has(run(100, kT0 + kMinute), Pattern::kPlatformVolume));
  // Released 60 minutes before (in the minute that has just left the window).
  EXPECT_FALSE(Has(run(101, kT0), Pattern::kPlatformVolume));
  // Other platforms are not affected.
  Monitor m;
  for (int i = 0; i < 200; ++i) {
    TestList l = Person(40000 + i, kT0 + i);
    l.ebp = "EBP-FLOOD";
    m.on_release(l.facts(), p);
  }
  TestList other = Person(2, kT0 + kMinute);
  other.ebp = "EBP-QUIET";
  EXPECT_FALSE(Has(Eval(m, other, p), Pattern::kPlatformVolume));
}

// ---------------------------------------------------------------------------------------------
// Determinism and bounds.

// A day of mixed traffic from a fixed PRNG: regulars, shared phones and addresses, splitting,
// bulk, cheap prices and late waybills, with releases in between.
struct Traffic {
  uint64_t state;
  explicit Traffic(uint64_t seed) : state(seed) {}
  uint64_t next() {
    state += 0x9e3779b97f4a7c15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }

  TestList list(int i) {
    TestList l = Person(static_cast<int>(below(300)), kT0 + i * 5 * kMsPerSecond);
    l.invtNo = "INV-" + std::to_string(i);
    if (below(10) == 0) l.phone = "1390000000" + std::to_string(below(3));
    if (below(10) == 0) l.address = "共享地址" + std::to_string(below(3));
    l.dutiable_fen = below(4) == 0 ? 400000 + below(100000) : 1000 + below(200000);
    l.ebp = "EBP-" + std::to_string(below(4));
    l.pay = "PAY-" + std::to_string(below(5));
    static const char* kCodes[] = {"3304990099", "1901101090", "2106909090"};
    const int64_t nlines = 1 + below(3);
    for (int64_t j = 0; j < nlines; ++j) {
      l.lines.push_back(Line(kCodes[below(3)], below(20) == 0 ? 100 : 5000 + below(5000),
                             1 + below(6), below(2) ? "ITEM-A" : "ITEM-B"));
    }
    l.order_time = l.time - kMsPerHour;
    l.payment_time = l.order_time + (below(50) == 0 ? -2 * kMsPerHour : kMinute);
    l.waybill_time = l.payment_time + kMinute;
    return l;
  }
};

std::string RunTraffic(Monitor& m, std::vector<ceb::Finding>* all) {
  Traffic gen(7);
  for (int i = 0; i < 20000; ++i) {
    TestList l = gen.list(i);
    m.evaluate(l.facts(), RiskPolicy{}, all);
    if (gen.below(10) < 8) {
      l.time += kMinute;
      m.on_release(l.facts(), RiskPolicy{});
    }
  }
  return m.dump();
}

TEST(RiskDeterminism, SameCallsSameFindingsAndDump) {
  Monitor a, b;
  std::vector<ceb::Finding> fa, fb;
  std::string da = RunTraffic(a, &fa);
  std::string db = RunTraffic(b, &fb);
  EXPECT_EQ(fa, fb);
  EXPECT_EQ(da, db);
  // The traffic exercises the patterns (otherwise the comparison proves little).
  for (Pattern p :
       {Pattern::kSplitBuyer, Pattern::kIdentityPhone, Pattern::kIdentityAddress,
        Pattern::kVelocity, Pattern::kUnderValuation, Pattern::kBulk, Pattern::kTimingPayment}) {
    EXPECT_GT(CountOf(fa, p), 0) << pattern_code(p);
  }
  // A small-table monitor is just as deterministic (evictions included).
  Limits small;
  small.buyers = small.addresses = small.phones = small.bulk_keys = 50;
  small.price_codes = 2;
  small.pay_companies = small.platforms = 3;
  Monitor c(small), d(small);
  std::vector<ceb::Finding> fc, fd;
  EXPECT_EQ(RunTraffic(c, &fc), RunTraffic(d, &fd));
  EXPECT_EQ(fc, fd);
  EXPECT_EQ(c.sizes().buyers, 50u);
  // The dump carries no identity in clear.
  EXPECT_EQ(da.find("ID-"), std::string::npos);
  EXPECT_EQ(da.find("共享地址"), std::string::npos);
  EXPECT_EQ(da.find("PAY-"), std::string::npos);
}

void ExpectWithin(const Sizes& s, const Limits& l) {
  ASSERT_LE(s.buyers, l.buyers);
  ASSERT_LE(s.addresses, l.addresses);
  ASSERT_LE(s.phones, l.phones);
  ASSERT_LE(s.bulk_keys, l.bulk_keys);
  ASSERT_LE(s.price_codes, l.price_codes);
  ASSERT_LE(s.pay_companies, l.pay_companies);
  ASSERT_LE(s.platforms, l.platforms);
}

// A million distinct buyers, addresses, phones and items within one day: every table stays
// within its limit, the tables fill to it, and the patterns still work on recent traffic.
TEST(RiskBounds, MillionDistinctBuyers) {
  Monitor m;
  const Limits& lim = m.limits();
  LineFacts line = Line("3304990099", 5000, 1);
  std::string buyer, phone, address, item, invt;
  for (int i = 0; i < 1000000; ++i) {
    buyer = "B" + std::to_string(i);
    phone = "P" + std::to_string(i);
    address = "A" + std::to_string(i);
    item = "I" + std::to_string(i % 5000);
    invt = "L" + std::to_string(i);
    line.itemRecordNo = item;
    ListFacts f;
    f.time = kT0 + i * 50;  // 20 lists a second
    f.invtNo = invt;
    f.ebpCode = "EBP";
    f.payCode = "PAY";
    f.buyerIdNumber = buyer;
    f.buyerTelephone = phone;
    f.consigneeAddress = address;
    f.dutiable_fen = 5000;
    f.transaction_limit_fen = 500000;
    f.lines = std::span<const LineFacts>(&line, 1);
    std::vector<ceb::Finding> out;
    m.evaluate(f, RiskPolicy{}, &out);
    ASSERT_TRUE(out.empty()) << i << ": " << out.front().en;
    if (i % 3 == 0) m.on_release(f, RiskPolicy{});
    if (i % 1000 == 0) ExpectWithin(m.sizes(), lim);
  }
  ExpectWithin(m.sizes(), lim);
  EXPECT_EQ(m.sizes().buyers, lim.buyers);
  EXPECT_EQ(m.sizes().addresses, lim.addresses);
  EXPECT_EQ(m.sizes().phones, lim.phones);
  EXPECT_EQ(m.sizes().bulk_keys, lim.bulk_keys);
  EXPECT_EQ(m.sizes().price_codes, lim.price_codes);  // 5,000 bonded items > the table
  // Recent traffic is still tracked: the latest buyer splitting is caught.
  std::vector<ceb::Finding> fs;
  for (int i = 0; i < 3; ++i) {
    TestList l = Person(999, kT0 + 1000000 * 50 + i);
    l.invtNo = "LAST-" + std::to_string(i);
    l.dutiable_fen = 450000;
    fs = Eval(m, l);
  }
  EXPECT_TRUE(Has(fs, Pattern::kSplitBuyer));
}

// A full table forgets the least recently touched key, not a recent one.
TEST(RiskBounds, EvictionForgetsTheLeastRecentlyTouched) {
  Limits l;
  l.buyers = 2;
  Monitor m(l);
  auto split = [&](int person, int n, TimeMs t) {
    TestList x = Person(person, t);
    x.invtNo = "S" + std::to_string(person) + "-" + std::to_string(n);
    x.dutiable_fen = 450000;
    return Eval(m, x);
  };
  split(1, 0, kT0);
  split(2, 0, kT0 + 1);
  split(1, 1, kT0 + 2);  // buyer 1 is now the most recent
  split(3, 0, kT0 + 3);  // evicts buyer 2
  EXPECT_EQ(m.sizes().buyers, 2u);
  EXPECT_TRUE(Has(split(1, 2, kT0 + 4), Pattern::kSplitBuyer));   // still remembered
  EXPECT_FALSE(Has(split(2, 1, kT0 + 5), Pattern::kSplitBuyer));  // forgotten: 2 lists seen
}

// Keys idle for longer than every window of their table are freed as traffic goes on.
TEST(RiskBounds, IdleKeysExpire) {
  Monitor m;
  for (int i = 0; i < 100; ++i) Eval(m, Person(i, kT0 + i));
  EXPECT_EQ(m.sizes().buyers, 100u);
  const TimeMs later = kT0 + 31 * kMsPerDay;
  for (int i = 0; i < 60; ++i) Eval(m, Person(1000 + i, later + i));
  // Each call frees up to two idle keys: 100 old buyers are gone after 50 calls.
  EXPECT_EQ(m.sizes().buyers, 60u);
  EXPECT_EQ(m.sizes().addresses, 60u);
  EXPECT_EQ(m.sizes().phones, 60u);
}

TEST(RiskFindings, PatternCodesRoundTrip) {
  for (size_t i = 0; i < kPatternCount; ++i) {
    auto p = static_cast<Pattern>(i);
    ceb::Finding f{p == Pattern::kUnderValuation ? "R8" : "R10", "x", "zh",
                   std::string(pattern_code(p)) + ": text"};
    Pattern back;
    ASSERT_TRUE(pattern_of(f, &back)) << pattern_code(p);
    EXPECT_EQ(back, p);
  }
  Pattern back;
  EXPECT_FALSE(pattern_of(ceb::Finding{"R3", "", "", "split.buyer: x"}, &back));
  EXPECT_FALSE(pattern_of(ceb::Finding{"R10", "", "", "split.buyers: x"}, &back));
}

}  // namespace
}  // namespace cbec::risk
