// Reference data and policy: versioned data with effective dates, never code.
//
// Public face of src/reference/. A zone's data lives in files (TOML for policy, CSV for goods and
// the positive list); cbec embeds a default set (config/defaults/) so it runs without any file.
// Every lookup takes the date that decides which version applies (the declaration date of a
// list, or the log time of a command): a rate change at midnight applies to what is declared
// after it, and replaying the log later gives the same answer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "common/time.h"

namespace cbec::ref {

// Decree 282 credit grades (in force 2026-04-01).
enum class CreditGrade : uint8_t {
  kAdvancedCertified,   // 高级认证
  kCertified,           // 认证
  kRegular,             // 常规
  kDishonest,           // 失信
  kSeriouslyDishonest,  // 严重失信
};
enum class RiskClass : uint8_t { kLow, kMedium, kHigh };

// How consumption tax applies to a 10-digit code.
enum class CtRule : uint8_t {
  kNone,               // no consumption tax
  kAlways,             // ct_bp always applies (wine, jewellery, ...)
  kCosmeticsHighEnd,   // ct_bp applies only at or above the high-end threshold (per ml/g/piece)
};

struct TaxRate {
  CivilDate effective_from;
  BasisPoints tariff_bp = 0;  // MFN/provisional tariff for full-tax (over-limit single item) lists
  BasisPoints vat_bp = 1300;
  BasisPoints ct_bp = 0;
  CtRule ct_rule = CtRule::kNone;
};

// One 10-digit commodity code as the zone's reference data knows it.
struct GoodsCode {
  std::string code10;
  std::string name;
  std::string name_en;
  RiskClass risk = RiskClass::kMedium;
  std::vector<TaxRate> rates;  // ascending effective_from
};

// One 8-digit line of the positive list (正面清单) with its remarks encoded.
struct PositiveListEntry {
  std::string tariff8;
  std::string name;
  bool bonded_only = false;            // remark "仅限网购保税商品" (1210 only)
  std::string name_must_contain;       // product-name restriction, empty = none
  int64_t yearly_cap_units = 0;        // per-person yearly cap in legal units ×1e5, 0 = none
  std::string yearly_cap_unit;         // JGS-20 unit of the cap, e.g. "035" (kg)
  std::string remark;                  // original remark text
};

enum class TaxRounding : uint8_t {
  kPerLine,  // each tax per line rounded half-up to the fen, list total = sum (default)
  kOnce,     // exact line taxes summed, rounded once on the list
};
enum class ShortfallAction : uint8_t { kHold, kReject };

// Policy numbers of DOMAIN.md; every one configurable with an effective date.
struct Policy {
  CivilDate effective_from{2019, 1, 1};
  Fen transaction_limit_fen = 500000;   // R4: 5,000.00
  Fen annual_limit_fen = 2600000;       // R5: 26,000.00
  BasisPoints cbec_reduction_bp = 7000; // VAT and CT levied at 70 %
  TimeMs match_window_ms = 24 * kMsPerHour;  // waiting for partner documents
  bool buyer_must_equal_payer = true;        // M3
  bool discount_reduces_dutiable = false;    // §7
  TaxRounding rounding = TaxRounding::kPerLine;
  ShortfallAction guarantee_shortfall = ShortfallAction::kHold;  // R7
  ShortfallAction stock_shortfall = ShortfallAction::kReject;    // R6
  bool require_arrival_9610 = true;  // §4.2: release a 9610 list only after its parcel arrived
  Fen cosmetics_threshold_per_ml_g_fen = 1000;  // 10 RMB per ml or g
  Fen cosmetics_threshold_per_piece_fen = 1500; // 15 RMB per piece
  int cancel_window_days = 30;
  int return_apply_days = 30;
  int return_arrival_days = 45;
  int tax_payable_days = 30;
  int tax_due_days = 45;
  int min_buyer_age_years = 0;  // 0 = no age rule (none found in law)
  // Risk monitor (R8, R10; DOMAIN.md §9; src/risk/risk.h). Windows slide: an event counts while
  // it is younger than the window. A count or amount threshold of 0 switches its pattern off.
  int risk_split_lists = 3;                // 拆单: this many lists of one buyer or one address,
  BasisPoints risk_split_share_bp = 8000;  // each at least this share of the R4 limit,
  int risk_split_window_hours = 24;        // within this window
  int risk_identity_ids_per_contact = 5;   // 刷单: one phone or address used by this many IDs
  int risk_identity_addresses_per_id = 5;  // or one buyer ID at this many addresses,
  int risk_identity_window_days = 30;      // within this window
  Fen risk_velocity_fen = 1000000;         // quota velocity: released + this list above 10,000.00
  int risk_velocity_window_hours = 24;     // within this window
  BasisPoints risk_price_floor_bp = 3000;  // R8: unit price below 30 % of the reference median
  int risk_price_min_observations = 20;    // R8 applies once a code has this many releases
  int risk_price_history = 101;            // reference = median of the last this many releases
  int64_t risk_bulk_qty = 20;              // bulk: this many units of one item to one address
  int risk_bulk_window_days = 30;          // within this window
  int risk_timing_tolerance_minutes = 60;  // payment before order / waybill before payment
  int risk_payco_platforms = 3;            // one payment company shared by this many platforms
  int64_t risk_payco_small_lists = 1000;   // while it carries at most this many lists
  int risk_payco_window_days = 30;         // within this window
  int64_t risk_platform_releases_per_hour = 500000;  // a platform's releases in the last hour
  // §8 lanes: the random-inspection rate of a list is inspection_base_bp scaled by its
  // enterprise's credit grade and its goods' risk class (双分级); dishonest grades use fixed
  // rates instead. Factors are basis points of ×1 (5000 = ×0.5).
  BasisPoints inspection_base_bp = 300;                      // regular enterprise, medium risk
  BasisPoints inspection_advanced_certified_factor_bp = 2000;  // ×0.2
  BasisPoints inspection_certified_factor_bp = 5000;           // ×0.5
  BasisPoints inspection_dishonest_rate_bp = 8000;             // 80 %, whatever the goods
  BasisPoints inspection_seriously_dishonest_rate_bp = 10000;  // 100 %
  BasisPoints inspection_low_risk_factor_bp = 5000;            // ×0.5
  BasisPoints inspection_high_risk_factor_bp = 20000;          // ×2
  // Credit management (§8): an enterprise's risk score is a weighted count of its record per
  // 1,000 lists released (at least credit_min_lists, so a new enterprise is not judged on one
  // parcel); crossing a threshold proposes a grade change that an officer confirms.
  int credit_window_days = 365;                 // events older than this no longer count
  int credit_min_lists = 100;                   // the denominator's floor
  int credit_weight_finding = 10;               // inspection finding
  int credit_weight_rejection = 5;              // officer rejection
  int credit_weight_late_tax = 3;               // tax bill paid after its due day
  int credit_weight_return = 5;                 // a return whose goods did not come back in time
  int credit_downgrade_score = 50;              // score ≥ this: propose one grade down
  int credit_dishonest_score = 200;             // score ≥ this: propose 失信 (dishonest)
  int credit_upgrade_min_lists = 1000;          // clean record over this many lists: one up
};

class ReferenceData {
 public:
  // The data shipped in config/defaults/ (embedded in the binary at build time).
  static Result<std::shared_ptr<const ReferenceData>> LoadDefaults();
  // A zone's own files: policy.toml, goods.csv, positive_list.csv in dir; a file that is
  // absent falls back to the embedded default. Errors name file, line and column.
  // File formats are described in the comments of the files in config/defaults/.
  static Result<std::shared_ptr<const ReferenceData>> LoadDir(const std::string& dir);
  // From texts (used by the two loaders and by tests).
  static Result<std::shared_ptr<const ReferenceData>> LoadTexts(std::string_view policy_toml,
                                                                std::string_view goods_csv,
                                                                std::string_view positive_list_csv);

  // The policy version in force on that date (the latest with effective_from <= date); a date
  // before the first version gets the first version, so there is always a policy.
  const Policy& policy_at(CivilDate date) const;
  // nullptr if the code is unknown or no rate is in force on that date.
  const TaxRate* tax_rate(std::string_view code10, CivilDate date) const;
  const GoodsCode* goods(std::string_view code10) const;
  // nullptr if the 8-digit number is not on the list in force on that date.
  const PositiveListEntry* positive_list(std::string_view tariff8, CivilDate date) const;

  const std::vector<Policy>& policies() const { return policies_; }
  const std::map<std::string, GoodsCode, std::less<>>& all_goods() const { return goods_; }

 private:
  struct PositiveListVersion {
    std::string list_version;  // e.g. "2022", as named in positive_list.csv
    CivilDate effective_from;
    std::map<std::string, PositiveListEntry, std::less<>> entries;
  };
  std::vector<Policy> policies_;                      // ascending effective_from
  std::map<std::string, GoodsCode, std::less<>> goods_;
  std::vector<PositiveListVersion> positive_lists_;   // ascending effective_from
  friend class ReferenceLoader;
};

std::string_view credit_grade_name(CreditGrade g);  // "advanced_certified", ...
std::string_view credit_grade_zh(CreditGrade g);    // "高级认证", ...
std::optional<CreditGrade> parse_credit_grade(std::string_view s);
std::string_view risk_class_name(RiskClass r);      // "low" / "medium" / "high"
std::optional<RiskClass> parse_risk_class(std::string_view s);

}  // namespace cbec::ref
