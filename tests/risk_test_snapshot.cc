// Snapshots of the risk monitor (issue #3): a monitor loaded from another's save_state behaves
// exactly like it from then on (same findings, same evictions, same dump), saving it again gives
// the same bytes, and damaged or foreign blobs (truncated, another version, other limits, any
// byte changed) are refused or at worst load into a monitor that still works, never crash.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/bytes.h"
#include "risk/risk.h"

namespace cbec::risk {
namespace {

const TimeMs kT0 = beijing_midnight({2024, 6, 1}) + 10 * kMsPerHour;

// Small tables, so the traffic below fills every one of them and keeps evicting.
Limits SmallLimits() {
  Limits l;
  l.buyers = 8;
  l.addresses = 6;
  l.phones = 5;
  l.bulk_keys = 7;
  l.price_codes = 3;
  l.pay_companies = 2;
  l.platforms = 2;
  return l;
}

// Thresholds low enough that most patterns fire on the traffic below.
RiskPolicy TestPolicy(int price_history = 5) {
  RiskPolicy p;
  p.risk_split_lists = 2;
  p.risk_identity_ids_per_contact = 2;
  p.risk_identity_addresses_per_id = 2;
  p.risk_velocity_fen = 300000;
  p.risk_price_min_observations = 3;
  p.risk_price_history = price_history;
  p.risk_bulk_qty = 8;
  p.risk_payco_platforms = 2;
  p.risk_payco_window_days = 3;
  p.risk_platform_releases_per_hour = 3;
  return p;
}

// The strings one list's facts view.
struct Owned {
  std::string invtNo, ebp, pay, buyer, phone, address;
  std::vector<std::string> items;
  std::vector<LineFacts> lines;
  ListFacts facts;
};

// Mixed traffic from a fixed PRNG: a small pool of buyers, phones, addresses, items, platforms
// and payment companies (more than the tables hold), near-limit values, cheap prices, releases,
// and times that mostly advance but sometimes step back (the caller's times need not be
// monotonic, so recency order and touch times are not the same thing).
class Traffic {
 public:
  explicit Traffic(uint64_t seed) : state_(seed) {}

  void Next(Owned* o) {
    const int i = n_++;
    t_ += below(7) == 0 ? -static_cast<TimeMs>(below(40)) * kMsPerSecond
                        : static_cast<TimeMs>(below(600)) * kMsPerSecond;
    if (below(50) == 0) t_ += kMsPerDay;  // old keys expire, payco days roll over
    o->invtNo = "INV-" + std::to_string(below(6) == 0 ? i / 2 : i);  // some re-evaluations
    o->buyer = below(15) == 0 ? "" : "ID-" + std::to_string(below(14));
    o->phone = "1390000" + std::to_string(below(9));
    o->address = "地址" + std::to_string(below(11));
    o->ebp = "EBP-" + std::to_string(below(4));
    o->pay = "PAY-" + std::to_string(below(4));
    static const char* kCodes[] = {"3304990099", "1901101090", "2106909090", "3401110000"};
    const int64_t nlines = 1 + below(3);
    o->items.clear();
    o->lines.clear();
    for (int64_t j = 0; j < nlines; ++j) o->items.push_back("ITEM-" + std::to_string(below(5)));
    for (int64_t j = 0; j < nlines; ++j) {
      LineFacts l;
      l.gcode = kCodes[below(4)];
      l.itemRecordNo = below(3) == 0 ? std::string_view() : std::string_view(o->items[j]);
      l.qty = Decimal::of_int(1 + below(4));
      l.unit = "011";
      l.price_fen = below(12) == 0 ? 100 + below(50) : 5000 + below(3000);
      l.total_fen = l.price_fen;
      o->lines.push_back(l);
    }
    ListFacts& f = o->facts;
    f = ListFacts{};
    f.time = t_;
    f.invtNo = o->invtNo;
    f.ebpCode = o->ebp;
    f.ebcCode = "EBC";
    f.payCode = o->pay;
    f.logisticsCode = "LOG";
    f.buyerIdNumber = o->buyer;
    f.buyerTelephone = o->phone;
    f.consigneeAddress = o->address;
    f.dutiable_fen = below(3) == 0 ? 420000 + below(50000) : 1000 + below(100000);
    f.transaction_limit_fen = 500000;
    f.lines = o->lines;
    f.order_time = t_ - kMsPerHour;
    f.payment_time = f.order_time + (below(20) == 0 ? -3 * kMsPerHour : 60 * kMsPerSecond);
    f.waybill_time = f.payment_time + (below(20) == 0 ? -3 * kMsPerHour : 60 * kMsPerSecond);
  }
  bool Release() { return below(10) < 7; }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }

 private:
  uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ull;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
  int n_ = 0;
  TimeMs t_ = kT0;
};

// Feeds `count` lists (evaluation, then most of them released) to every monitor given; the
// findings of each monitor go to its own vector.
void Drive(Traffic& gen, int count, const RiskPolicy& p, std::vector<Monitor*> ms,
           std::vector<std::vector<ceb::Finding>>* out) {
  out->resize(ms.size());
  Owned o;
  for (int i = 0; i < count; ++i) {
    gen.Next(&o);
    const bool release = gen.Release();
    for (size_t k = 0; k < ms.size(); ++k) {
      ms[k]->evaluate(o.facts, p, &(*out)[k]);
      if (release) {
        o.facts.time += 30 * kMsPerSecond;
        ms[k]->on_release(o.facts, p);
        o.facts.time -= 30 * kMsPerSecond;
      }
    }
  }
}

std::string Save(const Monitor& m) {
  std::string blob;
  ByteWriter w(&blob);
  m.save_state(w);
  return blob;
}

bool Load(Monitor& m, std::string_view blob) {
  ByteReader r(blob);
  return m.load_state(r);
}

// A monitor after enough traffic to fill and evict every table, and its blob.
struct Saved {
  Monitor m{SmallLimits()};
  Traffic gen{11};
  std::string blob;
  Saved() {
    std::vector<std::vector<ceb::Finding>> f;
    Drive(gen, 3000, TestPolicy(), {&m}, &f);
    blob = Save(m);
  }
};

TEST(RiskSnapshot, LoadedMonitorBehavesLikeTheOriginalForever) {
  Saved s;
  const Sizes full = s.m.sizes();
  const Limits lim = SmallLimits();
  // The traffic filled the tables (so the continuation below evicts from full tables).
  EXPECT_EQ(full.buyers, lim.buyers);
  EXPECT_EQ(full.addresses, lim.addresses);
  EXPECT_EQ(full.phones, lim.phones);
  EXPECT_EQ(full.bulk_keys, lim.bulk_keys);
  EXPECT_EQ(full.price_codes, lim.price_codes);
  EXPECT_EQ(full.pay_companies, lim.pay_companies);
  EXPECT_EQ(full.platforms, lim.platforms);

  Monitor loaded(lim);
  ASSERT_TRUE(Load(loaded, s.blob));
  EXPECT_EQ(loaded.dump(), s.m.dump());
  EXPECT_EQ(Save(loaded), s.blob);  // canonical encoding

  // The same further traffic, partly under a policy with another price history length (the
  // sorted price windows are rebuilt on load and must answer like the original's).
  Traffic more = s.gen;
  std::vector<std::vector<ceb::Finding>> f;
  Drive(more, 2000, TestPolicy(), {&s.m, &loaded}, &f);
  Drive(more, 500, TestPolicy(9), {&s.m, &loaded}, &f);
  Drive(more, 500, TestPolicy(), {&s.m, &loaded}, &f);
  ASSERT_EQ(f[0].size(), f[1].size());
  EXPECT_TRUE(f[0] == f[1]);
  EXPECT_EQ(loaded.dump(), s.m.dump());
  EXPECT_EQ(Save(loaded), Save(s.m));
  // The comparison means something only if the patterns fired after the load.
  for (Pattern want : {Pattern::kSplitBuyer, Pattern::kSplitAddress, Pattern::kIdentityPhone,
                       Pattern::kIdentityAddress, Pattern::kIdentityBuyer, Pattern::kVelocity,
                       Pattern::kUnderValuation, Pattern::kBulk, Pattern::kPaymentCompany,
                       Pattern::kPlatformVolume}) {
    int n = 0;
    for (const auto& x : f[0]) {
      Pattern p;
      if (pattern_of(x, &p) && p == want) ++n;
    }
    EXPECT_GT(n, 0) << pattern_code(want);
  }
}

TEST(RiskSnapshot, RecencyOrderSurvivesTheLoad) {
  // Proves: the loaded table evicts the same key as the original. Buyers 1 and 2 fill a table of
  // two; buyer 1 is touched again (with an earlier time than buyer 2's); a new buyer then
  // evicts buyer 2 in both, so buyer 1's third near-limit list is a split in both.
  Limits l;
  l.buyers = 2;
  Monitor a(l);
  RiskPolicy p;
  std::vector<ceb::Finding> out;
  auto list = [&](Monitor& m, const std::string& buyer, const std::string& inv, TimeMs t) {
    ListFacts f;
    f.time = t;
    f.invtNo = inv;
    f.buyerIdNumber = buyer;
    f.dutiable_fen = 450000;
    f.transaction_limit_fen = 500000;
    std::vector<ceb::Finding> fs;
    m.evaluate(f, p, &fs);
    return fs;
  };
  list(a, "B1", "L1", kT0 + 10);
  list(a, "B2", "L2", kT0 + 20);
  list(a, "B1", "L3", kT0 + 5);  // most recent, with an older time
  Monitor b(l);
  ASSERT_TRUE(Load(b, Save(a)));
  for (Monitor* m : {&a, &b}) {
    list(*m, "B3", "L4", kT0 + 30);  // evicts B2
    const auto fs = list(*m, "B1", "L5", kT0 + 40);
    ASSERT_EQ(fs.size(), 1u);
    EXPECT_EQ(fs[0].en.substr(0, 12), "split.buyer:");
    EXPECT_TRUE(list(*m, "B2", "L6", kT0 + 50).empty());  // forgotten
  }
  EXPECT_EQ(a.dump(), b.dump());
}

TEST(RiskSnapshot, EveryStrictPrefixFails) {
  Saved s;
  ASSERT_GT(s.blob.size(), 100u);
  for (size_t n = 0; n < s.blob.size(); ++n) {
    Monitor m(SmallLimits());
    EXPECT_FALSE(Load(m, std::string_view(s.blob).substr(0, n))) << n;
  }
}

TEST(RiskSnapshot, BadVersionFails) {
  Saved s;
  for (uint8_t v : {0, 2, 255}) {
    std::string bad = s.blob;
    bad[0] = static_cast<char>(v);
    Monitor m(SmallLimits());
    EXPECT_FALSE(Load(m, bad)) << int{v};
  }
}

TEST(RiskSnapshot, OtherLimitsRefuseTheBlob) {
  Saved s;
  size_t Limits::*fields[] = {&Limits::buyers,    &Limits::addresses,   &Limits::phones,
                              &Limits::bulk_keys, &Limits::price_codes, &Limits::pay_companies,
                              &Limits::platforms};
  for (auto field : fields) {
    for (size_t delta : {size_t{1}, size_t{100}}) {
      Limits l = SmallLimits();
      l.*field += delta;  // even larger tables: the blob is another configuration's
      Monitor m(l);
      EXPECT_FALSE(Load(m, s.blob));
    }
  }
  Monitor defaults;
  EXPECT_FALSE(Load(defaults, s.blob));
  Monitor same(SmallLimits());
  EXPECT_TRUE(Load(same, s.blob));
}

TEST(RiskSnapshot, DamagedBytesNeverCrash) {
  // Proves: whatever one byte becomes, load_state returns (ASan/UBSan builds check the
  // rest), and a monitor that accepted the bytes keeps working under further traffic.
  Saved s;
  const std::string_view orig = s.blob;
  int accepted = 0;
  for (size_t i = 0; i < orig.size(); ++i) {
    for (uint8_t x : {0x01, 0x80, 0xff}) {
      std::string bad(orig);
      bad[i] = static_cast<char>(bad[i] ^ x);
      Monitor m(SmallLimits());
      if (!Load(m, bad)) continue;
      ++accepted;
      Traffic more(5);
      std::vector<std::vector<ceb::Finding>> f;
      Drive(more, 20, TestPolicy(), {&m}, &f);
      (void)m.dump();
    }
  }
  EXPECT_GT(accepted, 0);  // most bytes are free-form numbers: the check above did run
}

}  // namespace
}  // namespace cbec::risk
