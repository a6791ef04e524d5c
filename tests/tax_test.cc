// Tax engine: the golden cases in tests/cases/tax/*.json (every worked example of DOMAIN.md §7
// and the edges around it; a new case is a new file), plus unit tests for the rounding and
// allocation arithmetic the cases rest on.
#include "tax/tax.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

namespace cbec {
std::string_view embedded_file(std::string_view name);
}

namespace cbec::tax {
namespace {

using ::testing::HasSubstr;

const ref::ReferenceData& Defaults() {
  auto r = ref::ReferenceData::LoadDefaults();
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return **r;
}

Decimal Dec(std::string_view s) {
  Decimal d;
  EXPECT_EQ(parse_decimal(s, &d), DecimalError::kOk) << s;
  return d;
}

// ---------------------------------------------------------------------------------------------
// Golden cases.

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  std::filesystem::path dir = std::filesystem::path(CBEC_CASES_DIR) / "tax";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string StatusCodeKey(StatusCode c) {
  switch (c) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kNotFound:
      return "not_found";
    default:
      return status_code_name(c);
  }
}

// One parsed case. The strings own what LineInput's string_views point at.
struct Case {
  std::string description, date_text, regime_text, rounding_text = "per_line";
  bool discount_reduces_dutiable = false;
  struct Line {
    int64_t gnum = 0;
    std::string gcode, unit, unit1;
    Decimal qty, qty1, total_price;
  };
  std::vector<Line> lines;
  Decimal freight, insured_fee, discount;
  const rapidjson::Value* expected = nullptr;
};

// Reads a case strictly: an unknown key is a typo in the case, and a typo must not turn an
// expectation into a no-op.
class CaseReader {
 public:
  explicit CaseReader(std::vector<std::string>* errors) : errors_(errors) {}

  void Keys(const rapidjson::Value& obj, std::string_view where,
            std::initializer_list<std::string_view> allowed) {
    for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
      std::string_view k(it->name.GetString(), it->name.GetStringLength());
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        errors_->push_back(std::string(where) + ": unknown key '" + std::string(k) + "'");
      }
    }
  }
  std::string String(const rapidjson::Value& obj, const char* key, bool required = true) {
    if (!obj.HasMember(key)) {
      if (required) errors_->push_back(std::string("missing ") + key);
      return {};
    }
    if (!obj[key].IsString()) {
      errors_->push_back(std::string(key) + " must be a string");
      return {};
    }
    return obj[key].GetString();
  }
  Decimal Amount(const rapidjson::Value& obj, const char* key, bool required) {
    std::string s = String(obj, key, required);
    if (s.empty()) return Decimal{};
    Decimal d;
    if (parse_decimal(s, &d) != DecimalError::kOk) {
      errors_->push_back(std::string(key) + ": '" + s + "' is not a decimal");
    }
    return d;
  }

 private:
  std::vector<std::string>* errors_;
};

bool ParseCase(const rapidjson::Document& doc, Case* c, std::vector<std::string>* errors) {
  CaseReader r(errors);
  if (!doc.IsObject()) {
    errors->push_back("top level must be an object");
    return false;
  }
  r.Keys(doc, "case",
         {"description", "date", "regime", "rounding", "discount_reduces_dutiable", "freight",
          "insured_fee", "discount", "lines", "expected"});
  c->description = r.String(doc, "description");
  c->date_text = r.String(doc, "date");
  c->regime_text = r.String(doc, "regime");
  if (doc.HasMember("rounding")) c->rounding_text = r.String(doc, "rounding");
  if (doc.HasMember("discount_reduces_dutiable")) {
    c->discount_reduces_dutiable = doc["discount_reduces_dutiable"].IsTrue();
  }
  c->freight = r.Amount(doc, "freight", false);
  c->insured_fee = r.Amount(doc, "insured_fee", false);
  c->discount = r.Amount(doc, "discount", false);
  if (!doc.HasMember("lines") || !doc["lines"].IsArray() || doc["lines"].Empty()) {
    errors->push_back("lines must be a non-empty array");
    return false;
  }
  for (const auto& l : doc["lines"].GetArray()) {
    r.Keys(l, "line", {"gnum", "gcode", "qty", "unit", "qty1", "unit1", "total_price"});
    Case::Line line;
    if (!l.HasMember("gnum") || !l["gnum"].IsInt64()) {
      errors->push_back("line without an integer gnum");
      return false;
    }
    line.gnum = l["gnum"].GetInt64();
    line.gcode = r.String(l, "gcode");
    line.qty = r.Amount(l, "qty", true);
    line.unit = r.String(l, "unit");
    line.qty1 = r.Amount(l, "qty1", false);
    line.unit1 = r.String(l, "unit1", line.qty1.present);
    line.total_price = r.Amount(l, "total_price", true);
    c->lines.push_back(std::move(line));
  }
  if (!doc.HasMember("expected") || !doc["expected"].IsObject()) {
    errors->push_back("expected must be an object");
    return false;
  }
  c->expected = &doc["expected"];
  return errors->empty();
}

// The reference data a case runs against: the shipped defaults, plus, if the case asks for a
// non-default rounding or discount rule, one more policy version from the case's date that
// changes only that (everything else inherits from the version in force before it).
Result<std::shared_ptr<const ref::ReferenceData>> CaseReference(const Case& c) {
  if (c.rounding_text == "per_line" && !c.discount_reduces_dutiable) {
    return ref::ReferenceData::LoadDefaults();
  }
  std::string policy(embedded_file("policy.toml"));
  policy += "\n[[policy]]\neffective_from = " + c.date_text + "\n";
  policy += "rounding = \"" + c.rounding_text + "\"\n";
  policy += std::string("discount_reduces_dutiable = ") +
            (c.discount_reduces_dutiable ? "true" : "false") + "\n";
  return ref::ReferenceData::LoadTexts(policy, embedded_file("goods.csv"),
                                       embedded_file("positive_list.csv"));
}

class GoldenTaxCase : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTaxCase, MatchesExpected) {
  const std::string& path = GetParam();
  SCOPED_TRACE(path);
  std::string text = ReadFile(path);
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  ASSERT_FALSE(doc.HasParseError()) << path << ": JSON error at offset " << doc.GetErrorOffset()
                                    << ": " << rapidjson::GetParseError_En(doc.GetParseError());
  Case c;
  std::vector<std::string> errors;
  bool parsed = ParseCase(doc, &c, &errors);
  ASSERT_TRUE(parsed && errors.empty()) << path << ": " << ::testing::PrintToString(errors);
  ASSERT_FALSE(c.description.empty()) << path << ": every case says what it proves";
  auto date = parse_iso_date(c.date_text);
  ASSERT_TRUE(date.has_value()) << path << ": bad date " << c.date_text;
  ASSERT_TRUE(c.regime_text == "preferential" || c.regime_text == "full") << c.regime_text;
  ASSERT_TRUE(c.rounding_text == "per_line" || c.rounding_text == "once") << c.rounding_text;
  Regime regime = c.regime_text == "full" ? Regime::kFull : Regime::kPreferential;

  auto ref = CaseReference(c);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  const ref::Policy& policy = (*ref)->policy_at(*date);
  ASSERT_EQ(rounding_name(policy.rounding), c.rounding_text);
  ASSERT_EQ(policy.discount_reduces_dutiable, c.discount_reduces_dutiable);

  std::vector<LineInput> inputs;
  for (const Case::Line& l : c.lines) {
    inputs.push_back(LineInput{l.gnum, l.gcode, l.qty, l.unit, l.qty1, l.unit1, l.total_price});
  }
  ListInput in{inputs, c.freight, c.insured_fee, c.discount, *date};
  Result<ListTax> result = compute(in, regime, **ref);

  const rapidjson::Value& exp = *c.expected;
  if (exp.HasMember("error")) {
    const rapidjson::Value& err = exp["error"];
    ASSERT_TRUE(err.IsObject() && err.HasMember("code") && err["code"].IsString() &&
                err.HasMember("message_contains") && err["message_contains"].IsArray())
        << path << ": expected.error needs a code and a message_contains array";
    ASSERT_FALSE(result.ok()) << path << ": expected an error, got " << to_json(*result);
    EXPECT_EQ(StatusCodeKey(result.status().code()), err["code"].GetString()) << path;
    for (const auto& needle : err["message_contains"].GetArray()) {
      ASSERT_TRUE(needle.IsString()) << path;
      EXPECT_THAT(std::string(result.status().message()), HasSubstr(needle.GetString())) << path;
    }
    return;
  }
  ASSERT_TRUE(result.ok()) << path << ": " << result.status().ToString();
  const ListTax& t = *result;
  CaseReader checker(&errors);
  checker.Keys(exp, "expected", {"dutiable", "tariff", "ct", "vat", "total", "lines"});
  ASSERT_TRUE(errors.empty()) << path << ": " << ::testing::PrintToString(errors);
  for (const char* key : {"dutiable", "tariff", "ct", "vat", "total"}) {
    ASSERT_TRUE(exp.HasMember(key) && exp[key].IsString()) << path << ": expected." << key;
  }
  EXPECT_EQ(format_fen(t.dutiable_fen), exp["dutiable"].GetString()) << path << ": dutiable";
  EXPECT_EQ(format_fen(t.tariff_fen), exp["tariff"].GetString()) << path << ": tariff";
  EXPECT_EQ(format_fen(t.ct_fen), exp["ct"].GetString()) << path << ": ct";
  EXPECT_EQ(format_fen(t.vat_fen), exp["vat"].GetString()) << path << ": vat";
  EXPECT_EQ(format_fen(t.total_fen()), exp["total"].GetString()) << path << ": total";

  std::map<int64_t, const LineTax*> by_gnum;
  for (const LineTax& l : t.lines) by_gnum[l.gnum] = &l;
  if (exp.HasMember("lines")) {
    for (const auto& el : exp["lines"].GetArray()) {
      checker.Keys(el, "expected line",
                   {"gnum", "dutiable", "tariff", "ct", "vat", "total", "ct_high_end"});
      ASSERT_TRUE(el.HasMember("gnum") && el["gnum"].IsInt64()) << path << ": line without gnum";
      int64_t gnum = el["gnum"].GetInt64();
      ASSERT_TRUE(by_gnum.count(gnum)) << path << ": no line gnum " << gnum;
      const LineTax& l = *by_gnum[gnum];
      auto money = [&](const char* key, Fen actual) {
        if (el.HasMember(key)) {
          ASSERT_TRUE(el[key].IsString()) << path << ": line " << gnum << " " << key;
          EXPECT_EQ(format_fen(actual), el[key].GetString())
              << path << ": line " << gnum << " " << key;
        }
      };
      money("dutiable", l.dutiable_fen);
      money("tariff", l.tariff_fen);
      money("ct", l.ct_fen);
      money("vat", l.vat_fen);
      money("total", l.total_fen());
      if (el.HasMember("ct_high_end")) {
        ASSERT_TRUE(el["ct_high_end"].IsBool()) << path;
        EXPECT_EQ(l.ct_high_end, el["ct_high_end"].GetBool()) << path << ": line " << gnum;
      }
    }
    EXPECT_TRUE(errors.empty()) << path << ": " << ::testing::PrintToString(errors);
  }

  // Invariants every case must also satisfy.
  EXPECT_EQ(t.dutiable_fen, dutiable_value_fen(in, policy));
  EXPECT_EQ(t.rounding, policy.rounding);
  ASSERT_EQ(t.lines.size(), c.lines.size());
  Fen line_dutiable = 0, line_tariff = 0, line_ct = 0, line_vat = 0;
  for (const LineTax& l : t.lines) {
    line_dutiable += l.dutiable_fen;
    line_tariff += l.tariff_fen;
    line_ct += l.ct_fen;
    line_vat += l.vat_fen;
    if (regime == Regime::kPreferential) {
      EXPECT_EQ(l.tariff_fen, 0);
    }
  }
  EXPECT_LE(std::abs(line_dutiable - t.dutiable_fen), dutiable_drift_bound_fen(t.lines.size()));
  if (policy.rounding == ref::TaxRounding::kPerLine) {
    EXPECT_EQ(t.tariff_fen, line_tariff);
    EXPECT_EQ(t.ct_fen, line_ct);
    EXPECT_EQ(t.vat_fen, line_vat);
  } else {
    // Rounding once moves each kind by less than a fen per line.
    EXPECT_LE(std::abs(t.total_fen() - (line_tariff + line_ct + line_vat)),
              static_cast<Fen>(t.lines.size()));
  }
  rapidjson::Document json;
  std::string json_text = to_json(t);
  json.Parse(json_text.c_str());
  ASSERT_FALSE(json.HasParseError()) << json_text;
  EXPECT_STREQ(json["total"].GetString(), exp["total"].GetString());
  EXPECT_STREQ(json["regime"].GetString(), c.regime_text.c_str());
  EXPECT_STREQ(json["rounding"].GetString(), c.rounding_text.c_str());
  EXPECT_EQ(json["lines"].Size(), t.lines.size());
}

std::string CaseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = std::filesystem::path(info.param).stem().string();
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTaxCase, ::testing::ValuesIn(CaseFiles()), CaseName);

// The runner must not pass vacuously: the worked examples of DOMAIN.md §7 are all there.
TEST(GoldenTaxCases, DirectoryHoldsTheWorkedExamples) {
  std::vector<std::string> files = CaseFiles();
  EXPECT_GE(files.size(), 25u);
  for (std::string_view must :
       {"e1_infant_formula", "e2_serum_high_end", "e3_lotion_ordinary", "e4_wine_per_line",
        "e4_wine_once", "e5_sunglasses_full_tax", "e8_formula_vat17_2017"}) {
    bool found = std::any_of(files.begin(), files.end(), [&](const std::string& f) {
      return std::filesystem::path(f).stem() == must;
    });
    EXPECT_TRUE(found) << must;
  }
}

// ---------------------------------------------------------------------------------------------
// Rounding and allocation arithmetic.

TEST(RoundHalfUp, Edges) {
  EXPECT_EQ(round_half_up(5, 10), 1);  // exactly half rounds up
  EXPECT_EQ(round_half_up(4, 10), 0);
  EXPECT_EQ(round_half_up(15, 10), 2);
  EXPECT_EQ(round_half_up(25, 10), 3);   // not banker's rounding
  EXPECT_EQ(round_half_up(-5, 10), -1);  // half away from zero
  EXPECT_EQ(round_half_up(-4, 10), 0);
  EXPECT_EQ(round_half_up(0, 7), 0);
  EXPECT_EQ(round_half_up(1, 3), 0);
  EXPECT_EQ(round_half_up(2, 3), 1);
  // E1: 606.00 × 13 % × 70 % = 55.146 → 55.15 (fen: 60600·1300·7000 / 10^8).
  EXPECT_EQ(round_half_up(__int128{60600} * 1300 * 7000, __int128{100000000}), 5515);
  // Large exact values do not lose the half.
  __int128 big = __int128{1} << 90;
  EXPECT_EQ(round_half_up(big * 2 + 1, 2), static_cast<int64_t>(big + 1));
  EXPECT_EQ(round_half_up(big * 2 - 1, 2), static_cast<int64_t>(big));
}

// The 64-bit fast paths of round_half_up and floor_div give the 128-bit answers, on both sides
// of the int64 boundary.
TEST(RoundHalfUp, SameAcrossTheInt64Boundary) {
  auto ref_round = [](__int128 num, __int128 den) {
    __int128 mag = num < 0 ? -num : num;
    __int128 q = (mag * 2 + den) / (den * 2);
    return num < 0 ? -q : q;
  };
  auto ref_floor = [](__int128 num, __int128 den) {
    __int128 q = num / den;
    return (num % den != 0 && num < 0) ? q - 1 : q;
  };
  const __int128 max64 = INT64_MAX;
  const __int128 nums[] = {0,         1,          -1,         7,          -7,        max64 / 2,
                           max64 / 2 + 1, max64 - 1, max64,     max64 + 1,  -max64,    -max64 - 1,
                           -max64 - 2, max64 * 3,  -max64 * 3, __int128{1} << 80};
  const __int128 dens[] = {1, 2, 3, 7, 1000, max64 / 2, max64 / 2 + 1, max64, max64 + 1, max64 * 5};
  for (__int128 n : nums) {
    for (__int128 d : dens) {
      __int128 r = ref_round(n, d), f = ref_floor(n, d);
      if (r >= INT64_MIN && r <= max64) {
        EXPECT_EQ(round_half_up(n, d), static_cast<int64_t>(r));
      }
      if (f >= INT64_MIN && f <= max64) {
        EXPECT_EQ(floor_div(n, d), static_cast<int64_t>(f));
      }
    }
  }
}

TEST(RoundHalfUp, DecimalToFen) {
  EXPECT_EQ(round_half_up_fen(Dec("0.005")), 1);
  EXPECT_EQ(round_half_up_fen(Dec("0.00499")), 0);
  EXPECT_EQ(round_half_up_fen(Dec("55.146")), 5515);
  EXPECT_EQ(round_half_up_fen(Dec("55.14499")), 5514);
  EXPECT_EQ(round_half_up_fen(Dec("-0.005")), -1);
  EXPECT_EQ(round_half_up_fen(Dec("606")), 60600);
}

TEST(Allocation, TiesGoToTheLowerGnum) {
  std::vector<int64_t> weights{100, 100}, gnums{2, 1};
  EXPECT_EQ(allocate_largest_remainder(1, weights, gnums), (std::vector<int64_t>{0, 1}));
  gnums = {1, 2};
  EXPECT_EQ(allocate_largest_remainder(1, weights, gnums), (std::vector<int64_t>{1, 0}));
  // Larger remainders win over lower gnums: 10 over 1:2 → 3.33 and 6.67 → 3 and 7.
  weights = {1, 2};
  EXPECT_EQ(allocate_largest_remainder(10, weights, gnums), (std::vector<int64_t>{3, 7}));
}

TEST(Allocation, ZeroWeightsShareEqually) {
  std::vector<int64_t> weights{0, 0, 0}, gnums{1, 2, 3};
  EXPECT_EQ(allocate_largest_remainder(100, weights, gnums), (std::vector<int64_t>{34, 33, 33}));
  // A zero-weight line beside a priced one gets nothing.
  weights = {0, 500};
  gnums = {1, 2};
  EXPECT_EQ(allocate_largest_remainder(99, weights, gnums), (std::vector<int64_t>{0, 99}));
}

TEST(Allocation, NegativeAmountsFloorAndStillSumExactly) {
  std::vector<int64_t> weights{1, 1, 1}, gnums{1, 2, 3};
  // −100 / 3 = −33.33: floors −34 each (−102), two units back to the lowest gnums.
  EXPECT_EQ(allocate_largest_remainder(-100, weights, gnums),
            (std::vector<int64_t>{-33, -33, -34}));
}

// Deterministic pseudo-random lists: the shares always add up to the amount exactly, and each
// share is within one unit of its exact proportional value.
TEST(Allocation, SharesSumExactlyAndStayProportional) {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state](uint64_t mod) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 17) % mod;
  };
  for (int round = 0; round < 2000; ++round) {
    size_t n = 1 + next(40);  // past the 16 lines whose scratch stays on the stack
    std::vector<int64_t> weights(n), gnums(n);
    for (size_t i = 0; i < n; ++i) {
      weights[i] = next(4) == 0 ? 0 : static_cast<int64_t>(next(100000000));
      gnums[i] = static_cast<int64_t>(n - i);
    }
    int64_t amount = static_cast<int64_t>(next(20000000)) - 5000000;
    std::vector<int64_t> shares = allocate_largest_remainder(amount, weights, gnums);
    ASSERT_EQ(std::accumulate(shares.begin(), shares.end(), int64_t{0}), amount);
    __int128 wsum = std::accumulate(weights.begin(), weights.end(), __int128{0});
    if (wsum == 0) continue;
    for (size_t i = 0; i < n; ++i) {
      __int128 exact_num = __int128{amount} * weights[i];  // share·wsum vs exact_num
      __int128 diff = __int128{shares[i]} * wsum - exact_num;
      ASSERT_TRUE(diff > -wsum && diff < wsum) << "round " << round << " line " << i;
    }
  }
}

// Σ line dutiable stays within the documented bound of V, over many random lists; and the bound
// is not vacuous: some lists really drift.
TEST(Allocation, LineDutiableDriftIsWithinTheDocumentedBound) {
  const ref::ReferenceData& ref = Defaults();
  uint64_t state = 42;
  auto next = [&state](uint64_t mod) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 17) % mod;
  };
  int drifted = 0;
  for (int round = 0; round < 3000; ++round) {
    size_t n = 1 + next(9);
    std::vector<LineInput> lines(n);
    for (size_t i = 0; i < n; ++i) {
      lines[i].gnum = static_cast<int64_t>(i + 1);
      lines[i].gcode = "3306101000";
      lines[i].qty = Decimal::of_int(1);
      lines[i].unit = "007";
      lines[i].total_price = Decimal::of_units(static_cast<int64_t>(next(50000000)));
    }
    ListInput in{lines,
                 Decimal::of_units(static_cast<int64_t>(next(3000000))),
                 Decimal::of_units(static_cast<int64_t>(next(1000))),
                 Decimal{},
                 {2024, 5, 1}};
    auto t = compute(in, Regime::kPreferential, ref);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    Fen sum = 0;
    for (const LineTax& l : t->lines) sum += l.dutiable_fen;
    Fen drift = std::abs(sum - t->dutiable_fen);
    ASSERT_LE(drift, dutiable_drift_bound_fen(n)) << "round " << round;
    if (drift > 0) ++drifted;
  }
  EXPECT_GT(drifted, 0);
  // A drift built by hand: three lines of half a fen each round to 1 fen apiece (3), while V is
  // 1.5 fen → 2.
  std::vector<LineInput> halves(3);
  for (size_t i = 0; i < 3; ++i) {
    halves[i] = LineInput{
        static_cast<int64_t>(i + 1), "3306101000", Decimal::of_int(1), "007", Decimal{}, "",
        Decimal::of_units(500)};
  }
  auto t = compute(ListInput{halves, {}, {}, {}, {2024, 5, 1}}, Regime::kPreferential, ref);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->dutiable_fen, 2);
  EXPECT_EQ(t->lines[0].dutiable_fen + t->lines[1].dutiable_fen + t->lines[2].dutiable_fen, 3);
  EXPECT_EQ(dutiable_drift_bound_fen(1), 1);
  EXPECT_EQ(dutiable_drift_bound_fen(3), 2);
}

// ---------------------------------------------------------------------------------------------
// Input validation and output.

ListInput OneLine(std::vector<LineInput>* storage, std::string_view gcode, std::string_view price) {
  storage->assign(1, LineInput{1, gcode, Decimal::of_int(1), "007", Decimal{}, "", Dec(price)});
  return ListInput{*storage, {}, {}, {}, {2024, 5, 1}};
}

TEST(TaxCompute, RejectsBadInput) {
  const ref::ReferenceData& ref = Defaults();
  std::vector<LineInput> lines;
  ListInput empty{{}, {}, {}, {}, {2024, 5, 1}};
  EXPECT_EQ(compute(empty, Regime::kPreferential, ref).status().code(),
            StatusCode::kInvalidArgument);

  ListInput in = OneLine(&lines, "1901101090", "100.00");
  in.freight = Dec("-1.00");
  EXPECT_THAT(std::string(compute(in, Regime::kPreferential, ref).status().message()),
              HasSubstr("freight -1 is negative"));

  in = OneLine(&lines, "1901101090", "-3");
  EXPECT_THAT(std::string(compute(in, Regime::kPreferential, ref).status().message()),
              HasSubstr("line gnum 1: totalPrice -3 is negative"));

  in = OneLine(&lines, "1901101090", "100.00");
  in.freight = Decimal::of_units(INT64_MAX);
  in.insured_fee = Decimal::of_units(INT64_MAX);
  EXPECT_THAT(std::string(compute(in, Regime::kPreferential, ref).status().message()),
              HasSubstr("beyond any plausible amount"));
}

TEST(TaxCompute, DiscountBeyondTheValueIsRejectedWhenItCounts) {
  std::string policy(embedded_file("policy.toml"));
  policy += "\n[[policy]]\neffective_from = 2024-01-01\ndiscount_reduces_dutiable = true\n";
  auto ref = ref::ReferenceData::LoadTexts(policy, embedded_file("goods.csv"),
                                           embedded_file("positive_list.csv"));
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  std::vector<LineInput> lines;
  ListInput in = OneLine(&lines, "1901101090", "100.00");
  in.discount = Dec("100.01");
  auto r = compute(in, Regime::kPreferential, **ref);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("discount 100.01 exceeds"));
  // Before the policy change the discount does not count, so the same list is fine.
  in.date = {2023, 12, 31};
  auto before = compute(in, Regime::kPreferential, **ref);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->dutiable_fen, 10000);
}

TEST(TaxCompute, FullRegimeAppliesTheTariffWithoutReduction) {
  std::vector<LineInput> lines;
  // Infant formula full tax: tariff 15 %, VAT 13 % on (V + tariff): 1000 → 150.00 + 149.50.
  ListInput in = OneLine(&lines, "1901101090", "1000.00");
  auto t = compute(in, Regime::kFull, Defaults());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->regime, Regime::kFull);
  EXPECT_EQ(t->tariff_fen, 15000);
  EXPECT_EQ(t->vat_fen, 14950);
  EXPECT_EQ(t->lines[0].tariff_bp, 1500);
  EXPECT_EQ(t->lines[0].vat_bp, 1300);
  // The same list within the limits: no tariff, VAT at 70 %.
  auto p = compute(in, Regime::kPreferential, Defaults());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->tariff_fen, 0);
  EXPECT_EQ(p->lines[0].tariff_bp, 0);
  EXPECT_EQ(p->vat_fen, 9100);
}

TEST(TaxCompute, ToJsonCarriesEveryFigure) {
  std::vector<LineInput> lines(
      1, LineInput{1, "1901101090", Decimal::of_int(2), "122", Dec("1.6"), "035", Dec("596.00")});
  auto t = compute(ListInput{lines, Dec("10.00"), {}, {}, {2024, 5, 1}}, Regime::kPreferential,
                   Defaults());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(to_json(*t),
            "{\"regime\":\"preferential\",\"rounding\":\"per_line\",\"dutiable\":\"606.00\","
            "\"tariff\":\"0.00\",\"ct\":\"0.00\",\"vat\":\"55.15\",\"total\":\"55.15\","
            "\"lines\":[{\"gnum\":1,\"gcode\":\"1901101090\",\"dutiable\":\"606.00\","
            "\"tariff\":\"0.00\",\"ct\":\"0.00\",\"vat\":\"55.15\",\"total\":\"55.15\","
            "\"tariff_bp\":0,\"ct_bp\":0,\"vat_bp\":1300,\"ct_high_end\":false}]}");
  EXPECT_EQ(regime_name(Regime::kFull), "full");
  EXPECT_EQ(rounding_name(ref::TaxRounding::kOnce), "once");
}

}  // namespace
}  // namespace cbec::tax
