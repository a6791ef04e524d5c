// The risk_* policy keys (src/risk/): the shipped versions carry the documented defaults, each key
// parses with its unit and range, later versions inherit them, and bad values are refused with
// the key, the position and the allowed range named.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "reference/reference.h"

namespace cbec::ref {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kGoods =
    "code10,name,name_en,risk,effective_from,tariff_bp,vat_bp,ct_bp,ct_rule\n";
constexpr std::string_view kPositive =
    "list_version,effective_from,tariff8,name,bonded_only,name_must_contain,yearly_cap_qty,"
    "yearly_cap_unit,remark\n";

Result<std::shared_ptr<const ReferenceData>> Load(std::string_view keys) {
  return ReferenceData::LoadTexts("[[policy]]\neffective_from = 2019-01-01\n" + std::string(keys),
                                  kGoods, kPositive);
}
std::string Error(std::string_view keys) {
  auto r = Load(keys);
  return std::string(r.status().message());
}

void ExpectRiskDefaults(const Policy& p) {
  EXPECT_EQ(p.risk_split_lists, 3);
  EXPECT_EQ(p.risk_split_share_bp, 8000);
  EXPECT_EQ(p.risk_split_window_hours, 24);
  EXPECT_EQ(p.risk_identity_ids_per_contact, 5);
  EXPECT_EQ(p.risk_identity_addresses_per_id, 5);
  EXPECT_EQ(p.risk_identity_window_days, 30);
  EXPECT_EQ(p.risk_velocity_fen, 1000000);
  EXPECT_EQ(p.risk_velocity_window_hours, 24);
  EXPECT_EQ(p.risk_price_floor_bp, 3000);
  EXPECT_EQ(p.risk_price_min_observations, 20);
  EXPECT_EQ(p.risk_price_history, 101);
  EXPECT_EQ(p.risk_bulk_qty, 20);
  EXPECT_EQ(p.risk_bulk_window_days, 30);
  EXPECT_EQ(p.risk_timing_tolerance_minutes, 60);
  EXPECT_EQ(p.risk_payco_platforms, 3);
  EXPECT_EQ(p.risk_payco_small_lists, 1000);
  EXPECT_EQ(p.risk_payco_window_days, 30);
  EXPECT_EQ(p.risk_platform_releases_per_hour, 500000);
}

TEST(PolicyRisk, ShippedVersionsCarryTheDefaults) {
  ExpectRiskDefaults(Policy{});
  auto r = ReferenceData::LoadDefaults();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_GE((*r)->policies().size(), 2u);
  for (const Policy& p : (*r)->policies()) ExpectRiskDefaults(p);
}

TEST(PolicyRisk, EveryKeyParsesAndLaterVersionsInherit) {
  auto r = ReferenceData::LoadTexts(
      "[[policy]]\neffective_from = 2019-01-01\n"
      "risk_split_lists = 4\nrisk_split_share_bp = 9000\nrisk_split_window_hours = 48\n"
      "risk_identity_ids_per_contact = 6\nrisk_identity_addresses_per_id = 7\n"
      "risk_identity_window_days = 60\nrisk_velocity_yuan = \"12000.50\"\n"
      "risk_velocity_window_hours = 72\nrisk_price_floor_bp = 2500\n"
      "risk_price_min_observations = 30\nrisk_price_history = 201\nrisk_bulk_qty = 0\n"
      "risk_bulk_window_days = 7\nrisk_timing_tolerance_minutes = 0\nrisk_payco_platforms = 16\n"
      "risk_payco_small_lists = 5000\nrisk_payco_window_days = 90\n"
      "risk_platform_releases_per_hour = 100000\n"
      "[[policy]]\neffective_from = 2020-01-01\nrisk_split_lists = 0\n",
      kGoods, kPositive);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Policy& p = (*r)->policy_at({2019, 6, 1});
  EXPECT_EQ(p.risk_split_lists, 4);
  EXPECT_EQ(p.risk_split_share_bp, 9000);
  EXPECT_EQ(p.risk_split_window_hours, 48);
  EXPECT_EQ(p.risk_identity_ids_per_contact, 6);
  EXPECT_EQ(p.risk_identity_addresses_per_id, 7);
  EXPECT_EQ(p.risk_identity_window_days, 60);
  EXPECT_EQ(p.risk_velocity_fen, 1200050);
  EXPECT_EQ(p.risk_velocity_window_hours, 72);
  EXPECT_EQ(p.risk_price_floor_bp, 2500);
  EXPECT_EQ(p.risk_price_min_observations, 30);
  EXPECT_EQ(p.risk_price_history, 201);
  EXPECT_EQ(p.risk_bulk_qty, 0);
  EXPECT_EQ(p.risk_bulk_window_days, 7);
  EXPECT_EQ(p.risk_timing_tolerance_minutes, 0);
  EXPECT_EQ(p.risk_payco_platforms, 16);
  EXPECT_EQ(p.risk_payco_small_lists, 5000);
  EXPECT_EQ(p.risk_payco_window_days, 90);
  EXPECT_EQ(p.risk_platform_releases_per_hour, 100000);
  const Policy& q = (*r)->policy_at({2020, 6, 1});
  EXPECT_EQ(q.risk_split_lists, 0);      // switched off from 2020
  EXPECT_EQ(q.risk_price_history, 201);  // inherited
  EXPECT_EQ(q.risk_velocity_fen, 1200050);
}

TEST(PolicyRisk, BadValuesNameKeyAndRange) {
  EXPECT_THAT(Error("risk_split_share_bp = 10001\n"),
              HasSubstr("policy.toml:3:23: risk_split_share_bp: 10001 is outside the allowed "
                        "range 0..10000"));
  EXPECT_THAT(Error("risk_split_window_hours = 0\n"),
              HasSubstr("risk_split_window_hours: 0 is outside the allowed range 1..744"));
  // Identity thresholds are capped by the monitor's distinct-set capacity.
  EXPECT_THAT(Error("risk_identity_ids_per_contact = 17\n"),
              HasSubstr("risk_identity_ids_per_contact: 17 is outside the allowed range 0..16"));
  EXPECT_THAT(Error("risk_identity_addresses_per_id = -1\n"),
              HasSubstr("risk_identity_addresses_per_id: -1 is outside the allowed range 0..16"));
  EXPECT_THAT(Error("risk_identity_window_days = 367\n"),
              HasSubstr("risk_identity_window_days: 367 is outside"));
  EXPECT_THAT(Error("risk_velocity_yuan = 10000\n"),
              HasSubstr("risk_velocity_yuan: expected money in yuan as a string like \"5000.00\", "
                        "found an integer"));
  EXPECT_THAT(Error("risk_velocity_yuan = \"-1.00\"\n"),
              HasSubstr("risk_velocity_yuan: '-1.00' must be a non-negative amount"));
  EXPECT_THAT(Error("risk_velocity_window_hours = \"24\"\n"),
              HasSubstr("risk_velocity_window_hours: expected an integer, found a string"));
  EXPECT_THAT(Error("risk_price_floor_bp = 3000.0\n"),
              HasSubstr("risk_price_floor_bp: expected an integer, found a floating-point number"));
  EXPECT_THAT(Error("risk_price_history = 256\n"),
              HasSubstr("risk_price_history: 256 is outside the allowed range 1..255"));
  EXPECT_THAT(Error("risk_price_min_observations = 0\n"),
              HasSubstr("risk_price_min_observations: 0 is outside the allowed range 1..255"));
  EXPECT_THAT(Error("risk_bulk_qty = 1000001\n"), HasSubstr("risk_bulk_qty: 1000001 is outside"));
  EXPECT_THAT(Error("risk_bulk_window_days = 0\n"), HasSubstr("risk_bulk_window_days: 0 is"));
  EXPECT_THAT(Error("risk_timing_tolerance_minutes = 10081\n"),
              HasSubstr("risk_timing_tolerance_minutes: 10081 is outside the allowed range "
                        "0..10080"));
  EXPECT_THAT(Error("risk_payco_platforms = 17\n"),
              HasSubstr("risk_payco_platforms: 17 is outside the allowed range 0..16"));
  EXPECT_THAT(Error("risk_payco_small_lists = true\n"),
              HasSubstr("risk_payco_small_lists: expected an integer, found a boolean"));
  EXPECT_THAT(Error("risk_payco_window_days = 91\n"),
              HasSubstr("risk_payco_window_days: 91 is outside the allowed range 1..90"));
  EXPECT_THAT(Error("risk_platform_releases_per_hour = -5\n"),
              HasSubstr("risk_platform_releases_per_hour: -5 is outside"));
  // Misspelt keys are not silently ignored.
  EXPECT_THAT(Error("risk_split_list = 3\n"), HasSubstr("unknown policy key 'risk_split_list'"));
  EXPECT_THAT(Error("risk_velocity_fen = 100\n"),
              HasSubstr("unknown policy key 'risk_velocity_fen'"));
}

TEST(PolicyRisk, MinimumObservationsWithinTheHistory) {
  EXPECT_THAT(Error("risk_price_history = 11\nrisk_price_min_observations = 12\n"),
              HasSubstr("policy effective 2019-01-01: risk_price_min_observations 12 exceeds "
                        "risk_price_history 11"));
  EXPECT_TRUE(Load("risk_price_history = 11\nrisk_price_min_observations = 11\n").ok());
  // The default minimum (20) is checked against a shorter history in the same version.
  EXPECT_THAT(Error("risk_price_history = 19\n"),
              HasSubstr("risk_price_min_observations 20 exceeds risk_price_history 19"));
}

}  // namespace
}  // namespace cbec::ref
