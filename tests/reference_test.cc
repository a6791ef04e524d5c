// Reference data: the shipped defaults load and answer by date, the CSV reader follows RFC 4180,
// and every kind of bad input is refused with a message that names file, line and field.
#include "reference/reference.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "reference/csv.h"

namespace cbec {
std::string_view embedded_file(std::string_view name);
}

namespace cbec::ref {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kMinimalPolicy = "[[policy]]\neffective_from = 2019-01-01\n";
constexpr std::string_view kGoodsHeader =
    "code10,name,name_en,risk,effective_from,tariff_bp,vat_bp,ct_bp,ct_rule\n";
constexpr std::string_view kPositiveHeader =
    "list_version,effective_from,tariff8,name,bonded_only,name_must_contain,yearly_cap_qty,"
    "yearly_cap_unit,remark\n";
constexpr std::string_view kFormulaRow =
    "1901101090,配方奶粉,formula,medium,2019-04-01,1500,1300,0,none\n";

const ReferenceData& Defaults() {
  auto r = ReferenceData::LoadDefaults();
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return **r;
}

// The status of loading the given texts; OK texts are not the point of these tests.
Status LoadStatus(std::string_view policy, std::string_view goods, std::string_view positive) {
  return ReferenceData::LoadTexts(policy, goods, positive).status();
}
Status GoodsStatus(std::string_view rows) {
  return LoadStatus(kMinimalPolicy, std::string(kGoodsHeader) + std::string(rows), kPositiveHeader);
}
Status PositiveStatus(std::string_view rows) {
  return LoadStatus(kMinimalPolicy, kGoodsHeader, std::string(kPositiveHeader) + std::string(rows));
}
Status PolicyStatus(std::string_view policy) {
  return LoadStatus(policy, kGoodsHeader, kPositiveHeader);
}

// ---------------------------------------------------------------------------------------------
// Defaults and lookups by date.

TEST(ReferenceDefaults, LoadAndCoverTheDemoZone) {
  const ReferenceData& ref = Defaults();
  EXPECT_EQ(ref.policies().size(), 2u);
  EXPECT_GE(ref.all_goods().size(), 45u);
  for (std::string_view code :
       {"1901101090", "3304990099", "3303000000", "2204210000", "2106909090", "0409000000",
        "0802320000", "3306101000", "9619001100", "9004100000", "1701991000", "1006302000",
        "0306170000", "2402200000", "3215190000"}) {
    EXPECT_NE(ref.goods(code), nullptr) << code;
    EXPECT_NE(ref.tax_rate(code, CivilDate{2024, 5, 1}), nullptr) << code;
  }
  const GoodsCode* formula = ref.goods("1901101090");
  ASSERT_NE(formula, nullptr);
  EXPECT_EQ(formula->name, "婴幼儿配方奶粉");
  EXPECT_EQ(formula->name_en, "infant formula");
  EXPECT_EQ(ref.goods("2106909090")->risk, RiskClass::kHigh);
  EXPECT_EQ(ref.goods("0802320000")->risk, RiskClass::kLow);
  // The embedded texts parse only once per process: both calls see the same object.
  EXPECT_EQ(ReferenceData::LoadDefaults()->get(), ReferenceData::LoadDefaults()->get());
}

TEST(ReferenceDefaults, RatesOfTheDemoExamples) {
  const ReferenceData& ref = Defaults();
  CivilDate d{2024, 5, 1};
  const TaxRate* formula = ref.tax_rate("1901101090", d);
  EXPECT_EQ(formula->tariff_bp, 1500);
  EXPECT_EQ(formula->vat_bp, 1300);
  EXPECT_EQ(formula->ct_rule, CtRule::kNone);
  const TaxRate* serum = ref.tax_rate("3304990099", d);
  EXPECT_EQ(serum->tariff_bp, 100);
  EXPECT_EQ(serum->ct_bp, 1500);
  EXPECT_EQ(serum->ct_rule, CtRule::kCosmeticsHighEnd);
  EXPECT_EQ(ref.tax_rate("3303000000", d)->ct_rule, CtRule::kCosmeticsHighEnd);
  const TaxRate* wine = ref.tax_rate("2204210000", d);
  EXPECT_EQ(wine->tariff_bp, 1400);
  EXPECT_EQ(wine->ct_bp, 1000);
  EXPECT_EQ(wine->ct_rule, CtRule::kAlways);
  EXPECT_EQ(ref.tax_rate("2106909090", d)->tariff_bp, 2000);
  EXPECT_EQ(ref.tax_rate("9004100000", d)->tariff_bp, 1000);
  for (std::string_view nine :
       {"0409000000", "0802320000", "1701991000", "1006302000", "0306170000"}) {
    EXPECT_EQ(ref.tax_rate(nine, d)->vat_bp, 900) << nine;
  }
}

TEST(ReferenceDefaults, VatFollowsTheRateChanges) {
  const ReferenceData& ref = Defaults();
  auto vat = [&](std::string_view code, CivilDate d) {
    const TaxRate* r = ref.tax_rate(code, d);
    return r == nullptr ? -1 : r->vat_bp;
  };
  EXPECT_EQ(vat("1901101090", {2016, 4, 7}), -1);  // before CBEC tax existed
  EXPECT_EQ(vat("1901101090", {2016, 4, 8}), 1700);
  EXPECT_EQ(vat("1901101090", {2018, 4, 30}), 1700);
  EXPECT_EQ(vat("1901101090", {2018, 5, 1}), 1600);
  EXPECT_EQ(vat("1901101090", {2019, 3, 31}), 1600);
  EXPECT_EQ(vat("1901101090", {2019, 4, 1}), 1300);
  // Low rate: 13 -> 11 -> 10 -> 9.
  EXPECT_EQ(vat("0802320000", {2017, 6, 30}), 1300);
  EXPECT_EQ(vat("0802320000", {2017, 7, 1}), 1100);
  EXPECT_EQ(vat("0802320000", {2018, 5, 1}), 1000);
  EXPECT_EQ(vat("0802320000", {2019, 4, 1}), 900);
  // Cosmetics: 30 % CT on all cosmetics until 2016-09-30, 15 % on high-end ones after.
  const TaxRate* before = ref.tax_rate("3304990099", {2016, 9, 30});
  EXPECT_EQ(before->ct_bp, 3000);
  EXPECT_EQ(before->ct_rule, CtRule::kAlways);
  const TaxRate* after = ref.tax_rate("3304990099", {2016, 10, 1});
  EXPECT_EQ(after->ct_bp, 1500);
  EXPECT_EQ(after->ct_rule, CtRule::kCosmeticsHighEnd);
  // A code renumbered in HS 2022 has no rate before its first version.
  EXPECT_EQ(ref.tax_rate("1509200000", {2021, 12, 31}), nullptr);
  EXPECT_NE(ref.tax_rate("1509200000", {2022, 1, 1}), nullptr);
  EXPECT_EQ(ref.tax_rate("9999999999", {2024, 1, 1}), nullptr);
  EXPECT_EQ(ref.goods("9999999999"), nullptr);
}

TEST(ReferenceDefaults, PolicyVersionsByDate) {
  const ReferenceData& ref = Defaults();
  const Policy& p2016 = ref.policy_at({2018, 12, 31});
  EXPECT_EQ(p2016.effective_from, (CivilDate{2016, 4, 8}));
  EXPECT_EQ(p2016.transaction_limit_fen, 200000);
  EXPECT_EQ(p2016.annual_limit_fen, 2000000);
  const Policy& p2019 = ref.policy_at({2019, 1, 1});
  EXPECT_EQ(p2019.transaction_limit_fen, 500000);
  EXPECT_EQ(p2019.annual_limit_fen, 2600000);
  EXPECT_EQ(&ref.policy_at({2030, 1, 1}), &p2019);
  // Before the first version the first version applies: there is always a policy.
  EXPECT_EQ(&ref.policy_at({2000, 1, 1}), &p2016);
  // Every other number is the DOMAIN.md default.
  const Policy defaults;
  EXPECT_EQ(p2019.cbec_reduction_bp, 7000);
  EXPECT_EQ(p2019.match_window_ms, 24 * kMsPerHour);
  EXPECT_EQ(p2019.buyer_must_equal_payer, defaults.buyer_must_equal_payer);
  EXPECT_FALSE(p2019.discount_reduces_dutiable);
  EXPECT_EQ(p2019.rounding, TaxRounding::kPerLine);
  EXPECT_EQ(p2019.guarantee_shortfall, ShortfallAction::kHold);
  EXPECT_EQ(p2019.stock_shortfall, ShortfallAction::kReject);
  EXPECT_TRUE(p2019.require_arrival_9610);
  EXPECT_EQ(p2019.cosmetics_threshold_per_ml_g_fen, 1000);
  EXPECT_EQ(p2019.cosmetics_threshold_per_piece_fen, 1500);
  EXPECT_EQ(p2019.cancel_window_days, 30);
  EXPECT_EQ(p2019.return_apply_days, 30);
  EXPECT_EQ(p2019.return_arrival_days, 45);
  EXPECT_EQ(p2019.tax_payable_days, 30);
  EXPECT_EQ(p2019.tax_due_days, 45);
  EXPECT_EQ(p2019.min_buyer_age_years, 0);
}

TEST(ReferenceDefaults, PositiveListVersionsByDate) {
  const ReferenceData& ref = Defaults();
  EXPECT_EQ(ref.positive_list("19011010", {2018, 12, 31}), nullptr);  // no list before 2019
  EXPECT_NE(ref.positive_list("19011010", {2019, 1, 1}), nullptr);
  EXPECT_NE(ref.positive_list("19011010", {2024, 1, 1}), nullptr);
  // HS 2022 renumbering of olive oil, and goods added in 2022 only.
  EXPECT_NE(ref.positive_list("15091000", {2022, 2, 28}), nullptr);
  EXPECT_EQ(ref.positive_list("15091000", {2022, 3, 1}), nullptr);
  EXPECT_EQ(ref.positive_list("15092000", {2022, 2, 28}), nullptr);
  EXPECT_NE(ref.positive_list("15092000", {2022, 3, 1}), nullptr);
  for (std::string_view added : {"84221100", "95061100", "20095000"}) {
    EXPECT_EQ(ref.positive_list(added, {2021, 6, 1}), nullptr) << added;
    EXPECT_NE(ref.positive_list(added, {2022, 6, 1}), nullptr) << added;
  }
  // Cigarettes have tax rates but are on no list.
  EXPECT_EQ(ref.positive_list("24022000", {2019, 6, 1}), nullptr);
  EXPECT_EQ(ref.positive_list("24022000", {2022, 6, 1}), nullptr);
}

TEST(ReferenceDefaults, PositiveListRemarksAreEncoded) {
  const ReferenceData& ref = Defaults();
  for (CivilDate d : {CivilDate{2019, 6, 1}, CivilDate{2022, 6, 1}}) {
    const PositiveListEntry* shrimp = ref.positive_list("03061700", d);
    ASSERT_NE(shrimp, nullptr);
    EXPECT_TRUE(shrimp->bonded_only);
    EXPECT_EQ(shrimp->remark, "仅限网购保税商品");
    const PositiveListEntry* ink = ref.positive_list("32151900", d);
    ASSERT_NE(ink, nullptr);
    EXPECT_EQ(ink->name_must_contain, "墨盒");
    EXPECT_FALSE(ink->bonded_only);
    const PositiveListEntry* sugar = ref.positive_list("17019910", d);
    ASSERT_NE(sugar, nullptr);
    EXPECT_EQ(sugar->yearly_cap_units, 2 * kDecimalScale);
    EXPECT_EQ(sugar->yearly_cap_unit, "035");
    const PositiveListEntry* rice = ref.positive_list("10063020", d);
    ASSERT_NE(rice, nullptr);
    EXPECT_EQ(rice->yearly_cap_units, 20 * kDecimalScale);
    EXPECT_EQ(rice->yearly_cap_unit, "035");
    const PositiveListEntry* formula = ref.positive_list("19011010", d);
    EXPECT_FALSE(formula->bonded_only);
    EXPECT_EQ(formula->yearly_cap_units, 0);
    EXPECT_TRUE(formula->name_must_contain.empty());
  }
}

// Data integrity of the shipped files: every goods code but cigarettes is on a positive list
// while it has rates, so the demo zone can clear everything it stocks.
TEST(ReferenceDefaults, EveryGoodsCodeButCigarettesIsListed) {
  const ReferenceData& ref = Defaults();
  for (const auto& [code, g] : ref.all_goods()) {
    ASSERT_FALSE(g.rates.empty()) << code;
    for (size_t i = 1; i < g.rates.size(); ++i) {
      EXPECT_LT(g.rates[i - 1].effective_from, g.rates[i].effective_from) << code;
    }
    std::string_view tariff8 = std::string_view(code).substr(0, 8);
    bool listed = ref.positive_list(tariff8, {2019, 6, 1}) != nullptr ||
                  ref.positive_list(tariff8, {2022, 6, 1}) != nullptr;
    EXPECT_EQ(listed, code != "2402200000") << code;
  }
}

// ---------------------------------------------------------------------------------------------
// Credit grades and risk classes.

TEST(ReferenceNames, CreditGradesRoundTrip) {
  for (CreditGrade g :
       {CreditGrade::kAdvancedCertified, CreditGrade::kCertified, CreditGrade::kRegular,
        CreditGrade::kDishonest, CreditGrade::kSeriouslyDishonest}) {
    EXPECT_EQ(parse_credit_grade(credit_grade_name(g)), g);
    EXPECT_EQ(parse_credit_grade(credit_grade_zh(g)), g);
  }
  EXPECT_EQ(credit_grade_name(CreditGrade::kAdvancedCertified), "advanced_certified");
  EXPECT_EQ(credit_grade_zh(CreditGrade::kSeriouslyDishonest), "严重失信");
  EXPECT_EQ(parse_credit_grade("Regular"), std::nullopt);
  EXPECT_EQ(parse_credit_grade(""), std::nullopt);
}

TEST(ReferenceNames, RiskClassesRoundTrip) {
  for (RiskClass r : {RiskClass::kLow, RiskClass::kMedium, RiskClass::kHigh}) {
    EXPECT_EQ(parse_risk_class(risk_class_name(r)), r);
  }
  EXPECT_EQ(risk_class_name(RiskClass::kMedium), "medium");
  EXPECT_EQ(parse_risk_class("severe"), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// CSV reader.

TEST(Csv, QuotesBomCrlfCommentsAndEmbeddedNewlines) {
  std::string text =
      "\xEF\xBB\xBF"
      "a,b,c\r\n"
      "# a comment, with \"quotes\"\r\n"
      "\r\n"
      "1,\"x, y\",\"say \"\"hi\"\"\"\r\n"
      "2,\"two\nlines\",\n"
      "3,,\"\"";  // last record unterminated, empty fields
  auto r = parse_csv(text, "t.csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& rec = *r;
  ASSERT_EQ(rec.size(), 4u);
  EXPECT_EQ(rec[0].fields, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rec[0].line, 1);
  EXPECT_EQ(rec[1].fields, (std::vector<std::string>{"1", "x, y", "say \"hi\""}));
  EXPECT_EQ(rec[1].line, 4);
  EXPECT_EQ(rec[2].fields, (std::vector<std::string>{"2", "two\nlines", ""}));
  EXPECT_EQ(rec[2].line, 5);
  EXPECT_EQ(rec[3].fields, (std::vector<std::string>{"3", "", ""}));
  EXPECT_EQ(rec[3].line, 7);  // the quoted line break moved the count on
}

TEST(Csv, MalformedQuotesNameLineAndColumn) {
  auto bare = parse_csv("a,b\n1,ab\"c\n", "t.csv");
  ASSERT_FALSE(bare.ok());
  EXPECT_THAT(bare.status().message(), HasSubstr("t.csv:2:5: unexpected '\"' inside an unquoted"));
  auto trailing = parse_csv("a,b\n\"x\"y,2\n", "t.csv");
  ASSERT_FALSE(trailing.ok());
  EXPECT_THAT(trailing.status().message(),
              HasSubstr("t.csv:2:4: unexpected text after the closing quote"));
  auto open = parse_csv("a,b\n1,\"never\nclosed\n", "t.csv");
  ASSERT_FALSE(open.ok());
  EXPECT_THAT(open.status().message(), HasSubstr("t.csv:2:3: quoted field is never closed"));
  auto cr = parse_csv("a,b\r1,2\n", "t.csv");
  ASSERT_FALSE(cr.ok());
  EXPECT_THAT(cr.status().message(), HasSubstr("t.csv:1:4: carriage return"));
  // Columns count characters, not bytes, so they match an editor on Chinese text.
  auto zh = parse_csv("名称,b\"\n", "t.csv");
  ASSERT_FALSE(zh.ok());
  EXPECT_THAT(zh.status().message(), HasSubstr("t.csv:1:5:"));
}

TEST(Csv, LimitsAreEnforced) {
  std::string wide(kCsvMaxFields, ',');  // kCsvMaxFields + 1 fields
  auto r = parse_csv(wide + "\n", "t.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("more than 64 fields"));
  auto long_field = parse_csv(std::string(kCsvMaxFieldBytes + 1, 'x'), "t.csv");
  ASSERT_FALSE(long_field.ok());
  EXPECT_THAT(long_field.status().message(), HasSubstr("field longer than 4096 bytes"));
}

// ---------------------------------------------------------------------------------------------
// goods.csv errors.

TEST(GoodsCsv, BasisPointsOutOfRange) {
  Status s = GoodsStatus("1901101090,配方奶粉,formula,medium,2019-04-01,1500,10001,0,none\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr("goods.csv:2: field 7 (vat_bp): '10001' is not a rate in basis points"));
  EXPECT_THAT(GoodsStatus("1901101090,n,n,medium,2019-04-01,-5,1300,0,none\n").message(),
              HasSubstr("field 6 (tariff_bp): '-5'"));
  EXPECT_THAT(GoodsStatus("1901101090,n,n,medium,2019-04-01,15.5,1300,0,none\n").message(),
              HasSubstr("field 6 (tariff_bp): '15.5'"));
  // 100 % consumption tax would divide by zero in the formulas.
  EXPECT_THAT(GoodsStatus("2204210000,n,n,medium,2019-04-01,0,1300,10000,always\n").message(),
              HasSubstr("field 8 (ct_bp): a consumption tax rate must be below 10000"));
}

TEST(GoodsCsv, BadDatesAndCodes) {
  EXPECT_THAT(GoodsStatus("1901101090,n,n,medium,2019-02-30,0,1300,0,none\n").message(),
              HasSubstr("goods.csv:2: field 5 (effective_from): '2019-02-30' is not a real date"));
  EXPECT_THAT(GoodsStatus("1901101090,n,n,medium,2019/04/01,0,1300,0,none\n").message(),
              HasSubstr("'2019/04/01' is not a real date"));
  EXPECT_THAT(GoodsStatus("19011010,n,n,medium,2019-04-01,0,1300,0,none\n").message(),
              HasSubstr("field 1 (code10): '19011010' is not a commodity code (10 digits)"));
  EXPECT_THAT(GoodsStatus("1901101090,n,n,severe,2019-04-01,0,1300,0,none\n").message(),
              HasSubstr("field 4 (risk): 'severe' is not low, medium or high"));
  EXPECT_THAT(GoodsStatus("1901101090,,n,low,2019-04-01,0,1300,0,none\n").message(),
              HasSubstr("field 2 (name): must not be empty"));
}

TEST(GoodsCsv, CtRuleMustFitTheRate) {
  EXPECT_THAT(GoodsStatus("3304990099,n,n,low,2019-04-01,0,1300,1500,none\n").message(),
              HasSubstr("field 9 (ct_rule): ct_rule none does not fit ct_bp 1500"));
  EXPECT_THAT(GoodsStatus("3304990099,n,n,low,2019-04-01,0,1300,0,cosmetics_high_end\n").message(),
              HasSubstr("does not fit ct_bp 0"));
  EXPECT_THAT(GoodsStatus("3304990099,n,n,low,2019-04-01,0,1300,1500,luxury\n").message(),
              HasSubstr("'luxury' is not none, always or cosmetics_high_end"));
}

TEST(GoodsCsv, DuplicateRateVersion) {
  Status s = GoodsStatus(
      "1901101090,配方奶粉,formula,medium,2019-04-01,1500,1300,0,none\n"
      "1901101090,配方奶粉,formula,medium,2018-05-01,1500,1600,0,none\n"
      "1901101090,配方奶粉,formula,medium,2019-04-01,1500,900,0,none\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("goods.csv:4: duplicate rate version for 1901101090 "
                                     "effective 2019-04-01 (first on line 2)"));
}

TEST(GoodsCsv, DescriptionMustAgreeAcrossVersions) {
  Status s = GoodsStatus(
      "1901101090,配方奶粉,formula,medium,2019-04-01,1500,1300,0,none\n"
      "1901101090,配方奶粉,formula,high,2018-05-01,1500,1600,0,none\n");
  EXPECT_THAT(s.message(),
              HasSubstr("goods.csv:3: field 4 (risk): 'high' differs from 'medium' on line 2"));
}

TEST(GoodsCsv, RowsInAnyOrderAreSortedByDate) {
  auto r = ReferenceData::LoadTexts(
      kMinimalPolicy,
      std::string(kGoodsHeader) + std::string(kFormulaRow) +
          "1901101090,配方奶粉,formula,medium,2016-04-08,1500,1700,0,none\n",
      kPositiveHeader);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->tax_rate("1901101090", {2017, 1, 1})->vat_bp, 1700);
  EXPECT_EQ((*r)->tax_rate("1901101090", {2020, 1, 1})->vat_bp, 1300);
}

TEST(GoodsCsv, HeaderAndShape) {
  EXPECT_THAT(LoadStatus(kMinimalPolicy, "", kPositiveHeader).message(),
              HasSubstr("goods.csv: no header line"));
  EXPECT_THAT(LoadStatus(kMinimalPolicy,
                         "code10,name,name_en,risk,effective_from,tarif_bp,vat_bp,ct_bp,ct_rule\n",
                         kPositiveHeader)
                  .message(),
              HasSubstr("goods.csv:1: header field 6: unknown column 'tarif_bp'"));
  EXPECT_THAT(
      LoadStatus(kMinimalPolicy, "code10,name,name_en,risk,effective_from\n", kPositiveHeader)
          .message(),
      HasSubstr("header lacks column 'tariff_bp'"));
  EXPECT_THAT(GoodsStatus("1901101090,n,n,medium,2019-04-01,0,1300,0\n").message(),
              HasSubstr("goods.csv:2: 8 fields, but the header has 9"));
  // A malformed quote in a data file reaches the caller with file, line and column.
  EXPECT_THAT(GoodsStatus("1901101090,\"配方\"奶粉,n,medium,2019-04-01,0,1300,0,none\n").message(),
              HasSubstr("goods.csv:2:16: unexpected text after the closing quote"));
}

// ---------------------------------------------------------------------------------------------
// positive_list.csv errors.

TEST(PositiveListCsv, Errors) {
  EXPECT_THAT(PositiveStatus("2019,2019-01-01,1901101,奶粉,0,,,,\n").message(),
              HasSubstr("positive_list.csv:2: field 3 (tariff8): '1901101' is not a tariff "
                        "number (8 digits)"));
  EXPECT_THAT(PositiveStatus("2019,2019-01-01,19011010,奶粉,yes,,,,\n").message(),
              HasSubstr("field 5 (bonded_only): 'yes' is not 0 or 1"));
  EXPECT_THAT(PositiveStatus("2019,2019-01-01,17019910,砂糖,0,,2,,\n").message(),
              HasSubstr("field 8 (yearly_cap_unit): '' is not a JGS-20 unit code"));
  EXPECT_THAT(PositiveStatus("2019,2019-01-01,17019910,砂糖,0,,two,035,\n").message(),
              HasSubstr("field 7 (yearly_cap_qty): 'two' is not a positive quantity"));
  EXPECT_THAT(PositiveStatus("2019,2019-01-01,17019910,砂糖,0,,,035,\n").message(),
              HasSubstr("a unit without yearly_cap_qty"));
  EXPECT_THAT(PositiveStatus("2019,2019-01-01,19011010,奶粉,0,,,,\n"
                             "2019,2019-01-01,19011010,奶粉,0,,,,\n")
                  .message(),
              HasSubstr("positive_list.csv:3: duplicate 19011010 in list version 2019 (first on "
                        "line 2)"));
  EXPECT_THAT(PositiveStatus("2019,2019-01-01,19011010,奶粉,0,,,,\n"
                             "2019,2019-02-01,04090000,蜂蜜,0,,,,\n")
                  .message(),
              HasSubstr("list version 2019 is effective 2019-01-01 on line 2, not 2019-02-01"));
  EXPECT_THAT(PositiveStatus("2019,2019-01-01,19011010,奶粉,0,,,,\n"
                             "2020,2019-01-01,04090000,蜂蜜,0,,,,\n")
                  .message(),
              HasSubstr("list versions 2019 and 2020 are both effective 2019-01-01"));
}

TEST(PositiveListCsv, VersionsInAnyOrder) {
  auto r = ReferenceData::LoadTexts(kMinimalPolicy, kGoodsHeader,
                                    std::string(kPositiveHeader) +
                                        "2022,2022-03-01,84221100,洗碟机,0,,,,\n"
                                        "2019,2019-01-01,19011010,奶粉,0,,,,\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE((*r)->positive_list("19011010", {2020, 1, 1}), nullptr);
  EXPECT_EQ((*r)->positive_list("19011010", {2022, 3, 1}), nullptr);  // each version is complete
  EXPECT_NE((*r)->positive_list("84221100", {2022, 3, 1}), nullptr);
}

// ---------------------------------------------------------------------------------------------
// policy.toml errors and versioning.

TEST(PolicyToml, UnknownKeyIsAnError) {
  Status s = PolicyStatus(
      "[[policy]]\n"
      "effective_from = 2019-01-01\n"
      "transaction_limt_yuan = \"5000.00\"\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr("policy.toml:3:1: unknown policy key 'transaction_limt_yuan'"));
  EXPECT_THAT(PolicyStatus("title = \"x\"\n[[policy]]\neffective_from = 2019-01-01\n").message(),
              HasSubstr("policy.toml:1:1: unknown top-level key 'title'"));
  EXPECT_THAT(
      PolicyStatus("[[policy]]\neffective_from = 2019-01-01\n[policy.extra]\na = 1\n").message(),
      HasSubstr("unknown policy key 'extra'"));
}

TEST(PolicyToml, BadValues) {
  EXPECT_THAT(
      PolicyStatus("[[policy]]\neffective_from = 2019-01-01\ntransaction_limit_yuan = 5000.0\n")
          .message(),
      HasSubstr("policy.toml:3:26: transaction_limit_yuan: expected money in yuan as a string like "
                "\"5000.00\", found a floating-point number"));
  EXPECT_THAT(
      PolicyStatus("[[policy]]\neffective_from = 2019-01-01\nannual_limit_yuan = \"26000.001\"\n")
          .message(),
      HasSubstr("annual_limit_yuan: '26000.001' must be a non-negative amount with at most two"));
  EXPECT_THAT(
      PolicyStatus("[[policy]]\neffective_from = 2019-01-01\ncbec_reduction_bp = 10001\n")
          .message(),
      HasSubstr(
          "policy.toml:3:21: cbec_reduction_bp: 10001 is outside the allowed range 0..10000"));
  EXPECT_THAT(
      PolicyStatus("[[policy]]\neffective_from = 2019-01-01\nrounding = \"twice\"\n").message(),
      HasSubstr("rounding: 'twice' is not \"per_line\" or \"once\""));
  EXPECT_THAT(PolicyStatus("[[policy]]\neffective_from = 2019-01-01\nbuyer_must_equal_payer = 1\n")
                  .message(),
              HasSubstr("buyer_must_equal_payer: expected true or false, found an integer"));
}

TEST(PolicyToml, BadDates) {
  EXPECT_THAT(PolicyStatus("[[policy]]\neffective_from = 2019-02-30\n").message(),
              HasSubstr("policy.toml:2:"));
  EXPECT_THAT(PolicyStatus("[[policy]]\neffective_from = 2019-02-30\n").message(),
              HasSubstr("day"));
  EXPECT_THAT(PolicyStatus("[[policy]]\neffective_from = \"2019-01-01\"\n").message(),
              HasSubstr("policy.toml:2:18: effective_from: expected a TOML date like 2019-01-01"));
  EXPECT_THAT(PolicyStatus("[[policy]]\ntransaction_limit_yuan = \"1.00\"\n").message(),
              HasSubstr("policy.toml:1:1: policy version lacks effective_from"));
}

TEST(PolicyToml, StructureErrors) {
  EXPECT_THAT(PolicyStatus("").message(), HasSubstr("policy.toml: no [[policy]] version"));
  EXPECT_THAT(PolicyStatus("[policy]\neffective_from = 2019-01-01\n").message(),
              HasSubstr("policy must be an array of tables"));
  EXPECT_THAT(PolicyStatus("[[policy]]\neffective_from = 2019-01-01\n"
                           "[[policy]]\neffective_from = 2019-01-01\n")
                  .message(),
              HasSubstr("policy.toml:3:1: a second policy version effective 2019-01-01 (the "
                        "first is on line 1)"));
  // toml++ syntax errors surface with their position.
  EXPECT_THAT(PolicyStatus("[[policy]]\neffective_from = 2019-01-01\nrounding = \n").message(),
              HasSubstr("policy.toml:3:"));
  EXPECT_THAT(PolicyStatus("[[policy]]\neffective_from = 2019-01-01\n"
                           "transaction_limit_yuan = \"30000.00\"\n")
                  .message(),
              HasSubstr("transaction_limit_yuan 30000.00 exceeds annual_limit_yuan 26000.00"));
}

TEST(PolicyToml, LaterVersionsInheritWhatTheyOmit) {
  auto r = ReferenceData::LoadTexts(
      // Written newest first: versions are ordered by date, not by position in the file.
      "[[policy]]\neffective_from = 2021-01-01\nannual_limit_yuan = \"30000.00\"\n"
      "[[policy]]\neffective_from = 2020-01-01\nrounding = \"once\"\n"
      "cosmetics_threshold_per_piece_yuan = \"20.50\"\nmatch_window_hours = 48\n",
      kGoodsHeader, kPositiveHeader);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ReferenceData& ref = **r;
  ASSERT_EQ(ref.policies().size(), 2u);
  const Policy& first = ref.policy_at({2020, 6, 1});
  EXPECT_EQ(first.effective_from, (CivilDate{2020, 1, 1}));
  EXPECT_EQ(first.rounding, TaxRounding::kOnce);
  EXPECT_EQ(first.cosmetics_threshold_per_piece_fen, 2050);
  EXPECT_EQ(first.match_window_ms, 48 * kMsPerHour);
  EXPECT_EQ(first.annual_limit_fen, Policy{}.annual_limit_fen);  // built-in default
  const Policy& second = ref.policy_at({2021, 6, 1});
  EXPECT_EQ(second.annual_limit_fen, 3000000);
  EXPECT_EQ(second.rounding, TaxRounding::kOnce);  // inherited from 2020
  EXPECT_EQ(second.cosmetics_threshold_per_piece_fen, 2050);
}

// ---------------------------------------------------------------------------------------------
// LoadDir.

class LoadDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(CBEC_BINARY_DIR) / "reference_test_dir" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void Write(std::string_view name, std::string_view text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  std::filesystem::path dir_;
};

TEST_F(LoadDirTest, AbsentFilesFallBackToDefaults) {
  Write("policy.toml", "[[policy]]\neffective_from = 2019-01-01\nrounding = \"once\"\n");
  auto r = ReferenceData::LoadDir(dir_.string());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->policies().size(), 1u);
  EXPECT_EQ((*r)->policy_at({2024, 1, 1}).rounding, TaxRounding::kOnce);
  EXPECT_EQ((*r)->all_goods().size(), Defaults().all_goods().size());
  EXPECT_NE((*r)->positive_list("19011010", {2024, 1, 1}), nullptr);
}

TEST_F(LoadDirTest, ZoneFilesReplaceDefaultsAndErrorsNameThePath) {
  Write("goods.csv", std::string(kGoodsHeader) + std::string(kFormulaRow));
  auto r = ReferenceData::LoadDir(dir_.string());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->all_goods().size(), 1u);
  EXPECT_EQ((*r)->policies().size(), 2u);  // default policy

  Write("positive_list.csv", std::string(kPositiveHeader) + "2019,2019-01-01,1901101,x,0,,,,\n");
  auto bad = ReferenceData::LoadDir(dir_.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr((dir_ / "positive_list.csv").string() + ":2: field 3 (tariff8)"));
}

TEST_F(LoadDirTest, MissingDirectoryIsNotFound) {
  auto r = ReferenceData::LoadDir((dir_ / "nope").string());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

// The shipped files load through LoadDir too (the path a zone copies them from).
TEST(ReferenceDefaults, ShippedFilesLoadFromDisk) {
  auto r = ReferenceData::LoadDir(std::string(CBEC_SOURCE_DIR) + "/config/defaults");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->all_goods().size(), Defaults().all_goods().size());
  EXPECT_EQ(
      embedded_file("goods.csv").size(),
      std::filesystem::file_size(std::string(CBEC_SOURCE_DIR) + "/config/defaults/goods.csv"));
}

}  // namespace
}  // namespace cbec::ref
