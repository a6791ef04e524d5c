// Loading and looking up versioned reference data (reference.h).
//
// Reference data is configuration: it is read at start-up (or on a zone's explicit reload) and
// must be right before anything is cleared with it, so every check here fails loudly with file,
// line and field rather than guessing. Exceptions from toml++ stop at this boundary.
#include "reference/reference.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <ios>
#include <iterator>
#include <span>
#include <system_error>
#include <utility>

#include "common/decimal.h"
#include "reference/csv.h"

namespace cbec {
// Generated at build time from config/defaults/ (cmake/embed.cmake); empty if no such file.
std::string_view embedded_file(std::string_view name);
}  // namespace cbec

namespace cbec::ref {

namespace {

constexpr std::string_view kPolicyFile = "policy.toml";
constexpr std::string_view kGoodsFile = "goods.csv";
constexpr std::string_view kPositiveListFile = "positive_list.csv";
constexpr size_t kPolicyMaxBytes = 1u << 20;
constexpr size_t kPolicyMaxVersions = 1000;

// A text and the name its errors carry (a path for a zone's file, the bare name for a default).
struct Source {
  std::string name;
  std::string_view text;
};

bool is_digits(std::string_view s, size_t n) {
  return s.size() == n &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A non-negative decimal integer without sign or spaces.
std::optional<int64_t> parse_count(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<CtRule> parse_ct_rule(std::string_view s) {
  if (s == "none" || s.empty()) return CtRule::kNone;
  if (s == "always") return CtRule::kAlways;
  if (s == "cosmetics_high_end") return CtRule::kCosmeticsHighEnd;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// CSV tables with named columns.

// The records of a CSV file whose header names exactly the expected columns (in any order).
// Columns are addressed by their index in the expected list.
class CsvTable {
 public:
  static Result<CsvTable> Make(const Source& src, std::span<const std::string_view> columns) {
    auto parsed = parse_csv(src.text, src.name);
    if (!parsed.ok()) return parsed.status();
    std::vector<CsvRecord> records = std::move(parsed).value();
    std::string expected = fmt::format("{}", fmt::join(columns, ","));
    if (records.empty()) {
      return InvalidArgument(
          fmt::format("{}: no header line; expected the columns {}", src.name, expected));
    }
    CsvTable table(src.name, columns);
    const CsvRecord& header = records.front();
    for (size_t i = 0; i < header.fields.size(); ++i) {
      std::string_view name = header.fields[i];
      auto it = std::find(columns.begin(), columns.end(), name);
      if (it == columns.end()) {
        return InvalidArgument(
            fmt::format("{}:{}: header field {}: unknown column '{}'; expected {}", src.name,
                        header.line, i + 1, name, expected));
      }
      size_t c = static_cast<size_t>(it - columns.begin());
      if (table.index_[c] != kAbsent) {
        return InvalidArgument(fmt::format("{}:{}: header field {}: column '{}' appears twice",
                                           src.name, header.line, i + 1, name));
      }
      table.index_[c] = i;
    }
    for (size_t c = 0; c < columns.size(); ++c) {
      if (table.index_[c] == kAbsent) {
        return InvalidArgument(fmt::format("{}:{}: header lacks column '{}'; expected {}", src.name,
                                           header.line, columns[c], expected));
      }
    }
    for (size_t r = 1; r < records.size(); ++r) {
      if (records[r].fields.size() != header.fields.size()) {
        return InvalidArgument(fmt::format("{}:{}: {} fields, but the header has {}", src.name,
                                           records[r].line, records[r].fields.size(),
                                           header.fields.size()));
      }
    }
    records.erase(records.begin());
    table.rows_ = std::move(records);
    return table;
  }

  const std::vector<CsvRecord>& rows() const { return rows_; }
  std::string_view get(const CsvRecord& r, size_t column) const { return r.fields[index_[column]]; }
  Status FieldError(const CsvRecord& r, size_t column, std::string_view reason) const {
    return InvalidArgument(fmt::format("{}:{}: field {} ({}): {}", file_, r.line,
                                       index_[column] + 1, columns_[column], reason));
  }
  Status RowError(const CsvRecord& r, std::string_view reason) const {
    return InvalidArgument(fmt::format("{}:{}: {}", file_, r.line, reason));
  }

  // Typed field readers: each fails with the field named.
  Status GetDate(const CsvRecord& r, size_t column, CivilDate* out) const {
    auto d = parse_iso_date(get(r, column));
    if (!d) {
      return FieldError(
          r, column, fmt::format("'{}' is not a real date of the form yyyy-MM-dd", get(r, column)));
    }
    *out = *d;
    return Status::Ok();
  }
  Status GetBp(const CsvRecord& r, size_t column, BasisPoints* out) const {
    auto v = parse_count(get(r, column));
    if (!v || *v > kBasisPointsOne) {
      return FieldError(
          r, column,
          fmt::format("'{}' is not a rate in basis points between 0 and 10000", get(r, column)));
    }
    *out = *v;
    return Status::Ok();
  }
  Status GetDigits(const CsvRecord& r, size_t column, size_t n, std::string_view what,
                   std::string* out) const {
    if (!is_digits(get(r, column), n)) {
      return FieldError(r, column,
                        fmt::format("'{}' is not {} ({} digits)", get(r, column), what, n));
    }
    *out = std::string(get(r, column));
    return Status::Ok();
  }
  Status GetNonEmpty(const CsvRecord& r, size_t column, std::string* out) const {
    if (get(r, column).empty()) return FieldError(r, column, "must not be empty");
    *out = std::string(get(r, column));
    return Status::Ok();
  }

 private:
  static constexpr size_t kAbsent = static_cast<size_t>(-1);
  CsvTable(std::string file, std::span<const std::string_view> columns)
      : file_(std::move(file)), columns_(columns), index_(columns.size(), kAbsent) {}

  std::string file_;
  std::span<const std::string_view> columns_;
  std::vector<size_t> index_;  // expected column -> field index in the file
  std::vector<CsvRecord> rows_;
};

// ---------------------------------------------------------------------------------------------
// policy.toml

std::string_view toml_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "nothing";
  }
}

Status TomlError(std::string_view file, const toml::source_region& at, std::string_view what) {
  return InvalidArgument(fmt::format("{}:{}:{}: {}", file, at.begin.line, at.begin.column, what));
}

// Reads one key of a [[policy]] table into p. Every key of ref::Policy has exactly one spelling
// here; anything else is an error so a misspelt key cannot silently keep an old value.
class PolicyKeyReader {
 public:
  PolicyKeyReader(std::string_view file, std::string_view key, const toml::node& node)
      : file_(file), key_(key), node_(node) {}

  Status Error(std::string_view what) const {
    return TomlError(file_, node_.source(), fmt::format("{}: {}", key_, what));
  }

  Status Yuan(Fen* out) const {
    const auto* s = node_.as_string();
    if (s == nullptr) {
      return Error(fmt::format("expected money in yuan as a string like \"5000.00\", found {}",
                               toml_type_name(node_)));
    }
    Decimal d;
    DecimalError e = parse_decimal(s->get(), &d);
    if (e != DecimalError::kOk) {
      return Error(
          fmt::format("'{}' is not a decimal amount ({})", s->get(), decimal_error_text(e)));
    }
    if (d.units < 0 || d.units % kUnitsPerFen != 0) {
      return Error(
          fmt::format("'{}' must be a non-negative amount with at most two decimals", s->get()));
    }
    *out = d.units / kUnitsPerFen;
    return Status::Ok();
  }

  Status Integer(int64_t min, int64_t max, int64_t* out) const {
    const auto* i = node_.as_integer();
    if (i == nullptr)
      return Error(fmt::format("expected an integer, found {}", toml_type_name(node_)));
    if (i->get() < min || i->get() > max) {
      return Error(fmt::format("{} is outside the allowed range {}..{}", i->get(), min, max));
    }
    *out = i->get();
    return Status::Ok();
  }

  Status Int(int64_t min, int64_t max, int* out) const {
    int64_t v = 0;
    TRY(Integer(min, max, &v));
    *out = static_cast<int>(v);
    return Status::Ok();
  }

  Status Bool(bool* out) const {
    const auto* b = node_.as_boolean();
    if (b == nullptr) {
      return Error(fmt::format("expected true or false, found {}", toml_type_name(node_)));
    }
    *out = b->get();
    return Status::Ok();
  }

  template <class E, size_t N>
  Status Enum(const std::array<std::pair<std::string_view, E>, N>& names, E* out) const {
    const auto* s = node_.as_string();
    std::string allowed;
    for (const auto& [name, value] : names) {
      allowed += allowed.empty() ? "" : " or ";
      allowed += fmt::format("\"{}\"", name);
    }
    if (s == nullptr) {
      return Error(fmt::format("expected {}, found {}", allowed, toml_type_name(node_)));
    }
    for (const auto& [name, value] : names) {
      if (s->get() == name) {
        *out = value;
        return Status::Ok();
      }
    }
    return Error(fmt::format("'{}' is not {}", s->get(), allowed));
  }

 private:
  std::string_view file_;
  std::string_view key_;
  const toml::node& node_;
};

constexpr std::array<std::pair<std::string_view, TaxRounding>, 2> kRoundingNames{{
    {"per_line", TaxRounding::kPerLine},
    {"once", TaxRounding::kOnce},
}};
constexpr std::array<std::pair<std::string_view, ShortfallAction>, 2> kShortfallNames{{
    {"hold", ShortfallAction::kHold},
    {"reject", ShortfallAction::kReject},
}};

constexpr int kMaxWindowDays = 3650;

Status ApplyPolicyKey(std::string_view file, const toml::key& key, const toml::node& node,
                      Policy* p) {
  std::string_view k = key.str();
  PolicyKeyReader r(file, k, node);
  if (k == "effective_from") return Status::Ok();  // read before the versions are ordered
  if (k == "transaction_limit_yuan") return r.Yuan(&p->transaction_limit_fen);
  if (k == "annual_limit_yuan") return r.Yuan(&p->annual_limit_fen);
  if (k == "cbec_reduction_bp") return r.Integer(0, kBasisPointsOne, &p->cbec_reduction_bp);
  if (k == "match_window_hours") {
    int64_t hours = 0;
    TRY(r.Integer(1, 24 * 365, &hours));
    p->match_window_ms = hours * kMsPerHour;
    return Status::Ok();
  }
  if (k == "buyer_must_equal_payer") return r.Bool(&p->buyer_must_equal_payer);
  if (k == "discount_reduces_dutiable") return r.Bool(&p->discount_reduces_dutiable);
  if (k == "rounding") return r.Enum(kRoundingNames, &p->rounding);
  if (k == "guarantee_shortfall") return r.Enum(kShortfallNames, &p->guarantee_shortfall);
  if (k == "stock_shortfall") return r.Enum(kShortfallNames, &p->stock_shortfall);
  if (k == "require_arrival_9610") return r.Bool(&p->require_arrival_9610);
  if (k == "cosmetics_threshold_per_ml_g_yuan") {
    return r.Yuan(&p->cosmetics_threshold_per_ml_g_fen);
  }
  if (k == "cosmetics_threshold_per_piece_yuan") {
    return r.Yuan(&p->cosmetics_threshold_per_piece_fen);
  }
  if (k == "cancel_window_days") return r.Int(0, kMaxWindowDays, &p->cancel_window_days);
  if (k == "return_apply_days") return r.Int(0, kMaxWindowDays, &p->return_apply_days);
  if (k == "return_arrival_days") return r.Int(0, kMaxWindowDays, &p->return_arrival_days);
  if (k == "tax_payable_days") return r.Int(0, kMaxWindowDays, &p->tax_payable_days);
  if (k == "tax_due_days") return r.Int(0, kMaxWindowDays, &p->tax_due_days);
  if (k == "min_buyer_age_years") return r.Int(0, 150, &p->min_buyer_age_years);
  // Risk monitor (src/risk/). The upper bounds are the monitor's memory limits (risk.h).
  if (k == "risk_split_lists") return r.Int(0, 1000, &p->risk_split_lists);
  if (k == "risk_split_share_bp") return r.Integer(0, kBasisPointsOne, &p->risk_split_share_bp);
  if (k == "risk_split_window_hours") return r.Int(1, 24 * 31, &p->risk_split_window_hours);
  if (k == "risk_identity_ids_per_contact") return r.Int(0, 16, &p->risk_identity_ids_per_contact);
  if (k == "risk_identity_addresses_per_id") {
    return r.Int(0, 16, &p->risk_identity_addresses_per_id);
  }
  if (k == "risk_identity_window_days") return r.Int(1, 366, &p->risk_identity_window_days);
  if (k == "risk_velocity_yuan") return r.Yuan(&p->risk_velocity_fen);
  if (k == "risk_velocity_window_hours") return r.Int(1, 24 * 366, &p->risk_velocity_window_hours);
  if (k == "risk_price_floor_bp") return r.Integer(0, kBasisPointsOne, &p->risk_price_floor_bp);
  if (k == "risk_price_min_observations") return r.Int(1, 255, &p->risk_price_min_observations);
  if (k == "risk_price_history") return r.Int(1, 255, &p->risk_price_history);
  if (k == "risk_bulk_qty") return r.Integer(0, 1000000, &p->risk_bulk_qty);
  if (k == "risk_bulk_window_days") return r.Int(1, 366, &p->risk_bulk_window_days);
  if (k == "risk_timing_tolerance_minutes") {
    return r.Int(0, 7 * 24 * 60, &p->risk_timing_tolerance_minutes);
  }
  if (k == "risk_payco_platforms") return r.Int(0, 16, &p->risk_payco_platforms);
  if (k == "risk_payco_small_lists") return r.Integer(0, 100000000, &p->risk_payco_small_lists);
  if (k == "risk_payco_window_days") return r.Int(1, 90, &p->risk_payco_window_days);
  if (k == "risk_platform_releases_per_hour") {
    return r.Integer(0, 100000000, &p->risk_platform_releases_per_hour);
  }
  // §8 lanes and credit
  if (k == "inspection_base_bp") return r.Integer(0, kBasisPointsOne, &p->inspection_base_bp);
  if (k == "inspection_advanced_certified_factor_bp")
    return r.Integer(0, kBasisPointsOne, &p->inspection_advanced_certified_factor_bp);
  if (k == "inspection_certified_factor_bp")
    return r.Integer(0, kBasisPointsOne, &p->inspection_certified_factor_bp);
  if (k == "inspection_dishonest_rate_bp")
    return r.Integer(0, kBasisPointsOne, &p->inspection_dishonest_rate_bp);
  if (k == "inspection_seriously_dishonest_rate_bp")
    return r.Integer(0, kBasisPointsOne, &p->inspection_seriously_dishonest_rate_bp);
  if (k == "inspection_low_risk_factor_bp")
    return r.Integer(0, 10 * kBasisPointsOne, &p->inspection_low_risk_factor_bp);
  if (k == "inspection_high_risk_factor_bp")
    return r.Integer(0, 10 * kBasisPointsOne, &p->inspection_high_risk_factor_bp);
  if (k == "credit_window_days") return r.Int(1, kMaxWindowDays, &p->credit_window_days);
  if (k == "credit_min_lists") return r.Int(1, 1000000000, &p->credit_min_lists);
  if (k == "credit_weight_finding") return r.Int(0, 1000, &p->credit_weight_finding);
  if (k == "credit_weight_rejection") return r.Int(0, 1000, &p->credit_weight_rejection);
  if (k == "credit_weight_late_tax") return r.Int(0, 1000, &p->credit_weight_late_tax);
  if (k == "credit_weight_return") return r.Int(0, 1000, &p->credit_weight_return);
  if (k == "credit_downgrade_score") return r.Int(1, 1000000, &p->credit_downgrade_score);
  if (k == "credit_dishonest_score") return r.Int(1, 1000000, &p->credit_dishonest_score);
  if (k == "credit_upgrade_min_lists")
    return r.Int(1, 1000000000, &p->credit_upgrade_min_lists);
  return TomlError(file, key.source(), fmt::format("unknown policy key '{}'", k));
}

// Relations between the numbers of one version that no single key can check.
Status CheckPolicy(std::string_view file, const toml::table& t, const Policy& p) {
  auto fail = [&](std::string_view what) {
    return TomlError(
        file, t.source(),
        fmt::format("policy effective {}: {}", format_iso_date(p.effective_from), what));
  };
  if (p.transaction_limit_fen <= 0 || p.annual_limit_fen <= 0) {
    return fail("transaction and annual limits must be positive");
  }
  if (p.transaction_limit_fen > p.annual_limit_fen) {
    return fail(fmt::format("transaction_limit_yuan {} exceeds annual_limit_yuan {}",
                            format_fen(p.transaction_limit_fen), format_fen(p.annual_limit_fen)));
  }
  if (p.cosmetics_threshold_per_ml_g_fen <= 0 || p.cosmetics_threshold_per_piece_fen <= 0) {
    return fail("cosmetics thresholds must be positive");
  }
  if (p.tax_due_days < p.tax_payable_days) {
    return fail("tax_due_days must not be before tax_payable_days");
  }
  if (p.risk_price_min_observations > p.risk_price_history) {
    return fail(fmt::format("risk_price_min_observations {} exceeds risk_price_history {}",
                            p.risk_price_min_observations, p.risk_price_history));
  }
  if (p.credit_dishonest_score < p.credit_downgrade_score) {
    return fail("credit_dishonest_score must not be below credit_downgrade_score");
  }
  return Status::Ok();
}

Result<std::vector<Policy>> ParsePolicies(const Source& src) {
  if (src.text.size() > kPolicyMaxBytes) {
    return InvalidArgument(fmt::format("{}: file is {} bytes, larger than the limit of {}",
                                       src.name, src.text.size(), kPolicyMaxBytes));
  }
  toml::table root;
  try {
    root = toml::parse(src.text, src.name);
  } catch (const toml::parse_error& e) {
    return TomlError(src.name, e.source(), e.description());
  }

  struct Version {
    CivilDate date;
    const toml::table* table;
  };
  std::vector<Version> versions;
  for (const auto& [key, node] : root) {
    if (key.str() != "policy") {
      return TomlError(
          src.name, key.source(),
          fmt::format("unknown top-level key '{}' (versions go in [[policy]] tables)", key.str()));
    }
    const toml::array* arr = node.as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
      return TomlError(src.name, node.source(),
                       "policy must be an array of tables: write each version as [[policy]]");
    }
    if (arr->size() > kPolicyMaxVersions) {
      return TomlError(src.name, node.source(),
                       fmt::format("more than {} policy versions", kPolicyMaxVersions));
    }
    for (const toml::node& el : *arr) {
      const toml::table& t = *el.as_table();
      const toml::node* from = t.get("effective_from");
      if (from == nullptr) {
        return TomlError(src.name, t.source(), "policy version lacks effective_from");
      }
      const auto* date = from->as_date();
      if (date == nullptr) {
        return TomlError(src.name, from->source(),
                         fmt::format("effective_from: expected a TOML date like 2019-01-01 "
                                     "(no quotes, no time), found {}",
                                     toml_type_name(*from)));
      }
      toml::date d = date->get();
      if (!is_valid_date(d.year, d.month, d.day)) {
        return TomlError(src.name, from->source(), "effective_from: not a real calendar date");
      }
      versions.push_back({CivilDate{d.year, d.month, d.day}, &t});
    }
  }
  if (versions.empty()) {
    return InvalidArgument(fmt::format("{}: no [[policy]] version", src.name));
  }
  std::stable_sort(versions.begin(), versions.end(),
                   [](const Version& a, const Version& b) { return a.date < b.date; });
  for (size_t i = 1; i < versions.size(); ++i) {
    if (versions[i].date == versions[i - 1].date) {
      return TomlError(src.name, versions[i].table->source(),
                       fmt::format("a second policy version effective {} (the first is on line {})",
                                   format_iso_date(versions[i].date),
                                   versions[i - 1].table->source().begin.line));
    }
  }

  // Each version starts from the one before it (the first from the built-in defaults), so a
  // zone's new version needs only the keys it changes.
  std::vector<Policy> policies;
  Policy current;
  for (const Version& v : versions) {
    current.effective_from = v.date;
    for (const auto& [key, node] : *v.table) TRY(ApplyPolicyKey(src.name, key, node, &current));
    TRY(CheckPolicy(src.name, *v.table, current));
    policies.push_back(current);
  }
  return policies;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

class ReferenceLoader {
 public:
  static Result<std::shared_ptr<const ReferenceData>> Load(const Source& policy,
                                                           const Source& goods,
                                                           const Source& positive_list) {
    auto data = std::make_shared<ReferenceData>();
    TRY_ASSIGN(data->policies_, ParsePolicies(policy));
    TRY(ParseGoods(goods, &data->goods_));
    TRY(ParsePositiveList(positive_list, &data->positive_lists_));
    return std::shared_ptr<const ReferenceData>(std::move(data));
  }

 private:
  enum GoodsColumn : size_t {
    kCode10,
    kName,
    kNameEn,
    kRisk,
    kEffectiveFrom,
    kTariffBp,
    kVatBp,
    kCtBp,
    kCtRule
  };
  static constexpr std::array<std::string_view, 9> kGoodsColumns = {
      "code10",    "name",   "name_en", "risk",   "effective_from",
      "tariff_bp", "vat_bp", "ct_bp",   "ct_rule"};

  static Status ParseGoods(const Source& src, std::map<std::string, GoodsCode, std::less<>>* out) {
    TRY_ASSIGN(CsvTable table, CsvTable::Make(src, kGoodsColumns));
    std::map<std::string, int, std::less<>> first_line;             // code -> line of its first row
    std::map<std::pair<std::string, CivilDate>, int> version_line;  // (code, date) -> line
    for (const CsvRecord& row : table.rows()) {
      GoodsCode g;
      TaxRate rate;
      TRY(table.GetDigits(row, kCode10, 10, "a commodity code", &g.code10));
      TRY(table.GetNonEmpty(row, kName, &g.name));
      g.name_en = std::string(table.get(row, kNameEn));
      auto risk = parse_risk_class(table.get(row, kRisk));
      if (!risk) {
        return table.FieldError(
            row, kRisk, fmt::format("'{}' is not low, medium or high", table.get(row, kRisk)));
      }
      g.risk = *risk;
      TRY(table.GetDate(row, kEffectiveFrom, &rate.effective_from));
      TRY(table.GetBp(row, kTariffBp, &rate.tariff_bp));
      TRY(table.GetBp(row, kVatBp, &rate.vat_bp));
      TRY(table.GetBp(row, kCtBp, &rate.ct_bp));
      auto rule = parse_ct_rule(table.get(row, kCtRule));
      if (!rule) {
        return table.FieldError(
            row, kCtRule,
            fmt::format("'{}' is not none, always or cosmetics_high_end", table.get(row, kCtRule)));
      }
      rate.ct_rule = *rule;
      // The tax formulas divide by (1 - ct rate); a rate of 100 % is meaningless there.
      if (rate.ct_bp >= kBasisPointsOne) {
        return table.FieldError(row, kCtBp, "a consumption tax rate must be below 10000 (100 %)");
      }
      if ((rate.ct_rule == CtRule::kNone) != (rate.ct_bp == 0)) {
        return table.FieldError(row, kCtRule,
                                fmt::format("ct_rule {} does not fit ct_bp {} (none goes with 0, "
                                            "always and cosmetics_high_end with a positive rate)",
                                            table.get(row, kCtRule), rate.ct_bp));
      }

      auto [vit, fresh] = version_line.try_emplace({g.code10, rate.effective_from}, row.line);
      if (!fresh) {
        return table.RowError(
            row, fmt::format("duplicate rate version for {} effective {} (first on line {})",
                             g.code10, format_iso_date(rate.effective_from), vit->second));
      }
      auto it = out->find(g.code10);
      if (it == out->end()) {
        first_line.emplace(g.code10, row.line);
        it = out->emplace(g.code10, std::move(g)).first;
      } else {
        // A code's description is not versioned: rows disagreeing on it are a data error.
        int first = first_line.find(it->first)->second;
        GoodsCode& known = it->second;
        if (known.name != g.name) {
          return table.FieldError(
              row, kName,
              fmt::format("'{}' differs from '{}' on line {}", g.name, known.name, first));
        }
        if (known.name_en != g.name_en) {
          return table.FieldError(
              row, kNameEn,
              fmt::format("'{}' differs from '{}' on line {}", g.name_en, known.name_en, first));
        }
        if (known.risk != g.risk) {
          return table.FieldError(
              row, kRisk,
              fmt::format("'{}' differs from '{}' on line {}", risk_class_name(g.risk),
                          risk_class_name(known.risk), first));
        }
      }
      it->second.rates.push_back(rate);
    }
    for (auto& [code, g] : *out) {
      std::sort(g.rates.begin(), g.rates.end(), [](const TaxRate& a, const TaxRate& b) {
        return a.effective_from < b.effective_from;
      });
    }
    return Status::Ok();
  }

  enum PositiveColumn : size_t {
    kListVersion,
    kPlEffectiveFrom,
    kTariff8,
    kPlName,
    kBondedOnly,
    kNameMustContain,
    kYearlyCapQty,
    kYearlyCapUnit,
    kRemark
  };
  static constexpr std::array<std::string_view, 9> kPositiveColumns = {
      "list_version",      "effective_from", "tariff8",         "name",  "bonded_only",
      "name_must_contain", "yearly_cap_qty", "yearly_cap_unit", "remark"};

  static Status ParsePositiveList(const Source& src,
                                  std::vector<ReferenceData::PositiveListVersion>* out) {
    TRY_ASSIGN(CsvTable table, CsvTable::Make(src, kPositiveColumns));
    struct Pending {
      ReferenceData::PositiveListVersion version;
      int first_line = 0;
      std::map<std::string, int, std::less<>> entry_line;
    };
    std::map<std::string, Pending, std::less<>> versions;
    for (const CsvRecord& row : table.rows()) {
      std::string list_version;
      CivilDate from;
      PositiveListEntry e;
      TRY(table.GetNonEmpty(row, kListVersion, &list_version));
      TRY(table.GetDate(row, kPlEffectiveFrom, &from));
      TRY(table.GetDigits(row, kTariff8, 8, "a tariff number", &e.tariff8));
      TRY(table.GetNonEmpty(row, kPlName, &e.name));
      std::string_view bonded = table.get(row, kBondedOnly);
      if (bonded != "" && bonded != "0" && bonded != "1") {
        return table.FieldError(row, kBondedOnly, fmt::format("'{}' is not 0 or 1", bonded));
      }
      e.bonded_only = bonded == "1";
      e.name_must_contain = std::string(table.get(row, kNameMustContain));
      std::string_view cap = table.get(row, kYearlyCapQty);
      std::string_view cap_unit = table.get(row, kYearlyCapUnit);
      if (!cap.empty()) {
        Decimal d;
        DecimalError err = parse_decimal(cap, &d);
        if (err != DecimalError::kOk || d.units <= 0) {
          return table.FieldError(row, kYearlyCapQty,
                                  fmt::format("'{}' is not a positive quantity", cap));
        }
        e.yearly_cap_units = d.units;
        TRY(table.GetDigits(row, kYearlyCapUnit, 3, "a JGS-20 unit code", &e.yearly_cap_unit));
      } else if (!cap_unit.empty()) {
        return table.FieldError(row, kYearlyCapUnit, "a unit without yearly_cap_qty");
      }
      e.remark = std::string(table.get(row, kRemark));

      auto it = versions.find(list_version);
      if (it == versions.end()) {
        for (const auto& [name, p] : versions) {
          if (p.version.effective_from == from) {
            return table.FieldError(
                row, kPlEffectiveFrom,
                fmt::format("list versions {} and {} are both effective {} (first on line {})",
                            name, list_version, format_iso_date(from), p.first_line));
          }
        }
        Pending p;
        p.version.list_version = list_version;
        p.version.effective_from = from;
        p.first_line = row.line;
        it = versions.emplace(list_version, std::move(p)).first;
      } else if (it->second.version.effective_from != from) {
        return table.FieldError(
            row, kPlEffectiveFrom,
            fmt::format("list version {} is effective {} on line {}, not {}", list_version,
                        format_iso_date(it->second.version.effective_from), it->second.first_line,
                        format_iso_date(from)));
      }
      auto [lit, fresh] = it->second.entry_line.try_emplace(e.tariff8, row.line);
      if (!fresh) {
        return table.RowError(row, fmt::format("duplicate {} in list version {} (first on line {})",
                                               e.tariff8, list_version, lit->second));
      }
      std::string key = e.tariff8;
      it->second.version.entries.emplace(std::move(key), std::move(e));
    }
    out->clear();
    for (auto& [name, p] : versions) out->push_back(std::move(p.version));
    std::sort(out->begin(), out->end(),
              [](const auto& a, const auto& b) { return a.effective_from < b.effective_from; });
    return Status::Ok();
  }
};

// ---------------------------------------------------------------------------------------------

namespace {

Result<Source> EmbeddedSource(std::string_view name) {
  std::string_view text = embedded_file(name);
  if (text.empty()) {
    return Internal(fmt::format("embedded default {} is missing from this build", name));
  }
  return Source{std::string(name), text};
}

// Reads dir/name into *storage; absent -> the embedded default.
Result<Source> DirSource(const std::filesystem::path& dir, std::string_view name, size_t max_bytes,
                         std::string* storage) {
  std::filesystem::path path = dir / name;
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) return EmbeddedSource(name);
  if (ec || !std::filesystem::is_regular_file(status)) {
    return InvalidArgument(fmt::format("{}: not a readable regular file", path.string()));
  }
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return InvalidArgument(fmt::format("{}: {}", path.string(), ec.message()));
  if (size > max_bytes) {
    return InvalidArgument(fmt::format("{}: file is {} bytes, larger than the limit of {}",
                                       path.string(), size, max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  storage->resize(size);
  in.read(storage->data(), static_cast<std::streamsize>(size));
  if (!in || static_cast<size_t>(in.gcount()) != size) {
    return InvalidArgument(fmt::format("{}: read failed", path.string()));
  }
  return Source{path.string(), *storage};
}

}  // namespace

Result<std::shared_ptr<const ReferenceData>> ReferenceData::LoadDefaults() {
  // Parsed once per process: the embedded texts never change while it runs.
  static const Result<std::shared_ptr<const ReferenceData>> kDefaults =
      []() -> Result<std::shared_ptr<const ReferenceData>> {
    TRY_ASSIGN(Source policy, EmbeddedSource(kPolicyFile));
    TRY_ASSIGN(Source goods, EmbeddedSource(kGoodsFile));
    TRY_ASSIGN(Source positive_list, EmbeddedSource(kPositiveListFile));
    return ReferenceLoader::Load(policy, goods, positive_list);
  }();
  return kDefaults;
}

Result<std::shared_ptr<const ReferenceData>> ReferenceData::LoadDir(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return NotFound(fmt::format("reference data directory {} does not exist", dir));
  }
  std::string policy_text, goods_text, positive_text;
  TRY_ASSIGN(Source policy, DirSource(dir, kPolicyFile, kPolicyMaxBytes, &policy_text));
  TRY_ASSIGN(Source goods, DirSource(dir, kGoodsFile, kCsvMaxBytes, &goods_text));
  TRY_ASSIGN(Source positive_list, DirSource(dir, kPositiveListFile, kCsvMaxBytes, &positive_text));
  return ReferenceLoader::Load(policy, goods, positive_list);
}

Result<std::shared_ptr<const ReferenceData>> ReferenceData::LoadTexts(
    std::string_view policy_toml, std::string_view goods_csv, std::string_view positive_list_csv) {
  return ReferenceLoader::Load(Source{std::string(kPolicyFile), policy_toml},
                               Source{std::string(kGoodsFile), goods_csv},
                               Source{std::string(kPositiveListFile), positive_list_csv});
}

const Policy& ReferenceData::policy_at(CivilDate date) const {
  CBEC_ASSERT(!policies_.empty());  // every loader rejects a file without a version
  auto it = std::upper_bound(policies_.begin(), policies_.end(), date,
                             [](CivilDate d, const Policy& p) { return d < p.effective_from; });
  return it == policies_.begin() ? policies_.front() : *std::prev(it);
}

const TaxRate* ReferenceData::tax_rate(std::string_view code10, CivilDate date) const {
  const GoodsCode* g = goods(code10);
  if (g == nullptr) return nullptr;
  auto it = std::upper_bound(g->rates.begin(), g->rates.end(), date,
                             [](CivilDate d, const TaxRate& r) { return d < r.effective_from; });
  return it == g->rates.begin() ? nullptr : &*std::prev(it);
}

const GoodsCode* ReferenceData::goods(std::string_view code10) const {
  auto it = goods_.find(code10);
  return it == goods_.end() ? nullptr : &it->second;
}

const PositiveListEntry* ReferenceData::positive_list(std::string_view tariff8,
                                                      CivilDate date) const {
  auto it = std::upper_bound(
      positive_lists_.begin(), positive_lists_.end(), date,
      [](CivilDate d, const PositiveListVersion& v) { return d < v.effective_from; });
  if (it == positive_lists_.begin()) return nullptr;
  const auto& entries = std::prev(it)->entries;
  auto e = entries.find(tariff8);
  return e == entries.end() ? nullptr : &e->second;
}

// ---------------------------------------------------------------------------------------------

namespace {
struct GradeNames {
  CreditGrade grade;
  std::string_view name;
  std::string_view zh;
};
constexpr std::array<GradeNames, 5> kGrades{{
    {CreditGrade::kAdvancedCertified, "advanced_certified", "高级认证"},
    {CreditGrade::kCertified, "certified", "认证"},
    {CreditGrade::kRegular, "regular", "常规"},
    {CreditGrade::kDishonest, "dishonest", "失信"},
    {CreditGrade::kSeriouslyDishonest, "seriously_dishonest", "严重失信"},
}};
}  // namespace

std::string_view credit_grade_name(CreditGrade g) {
  for (const auto& n : kGrades) {
    if (n.grade == g) return n.name;
  }
  return "unknown";
}

std::string_view credit_grade_zh(CreditGrade g) {
  for (const auto& n : kGrades) {
    if (n.grade == g) return n.zh;
  }
  return "未知";
}

std::optional<CreditGrade> parse_credit_grade(std::string_view s) {
  for (const auto& n : kGrades) {
    if (s == n.name || s == n.zh) return n.grade;
  }
  return std::nullopt;
}

std::string_view risk_class_name(RiskClass r) {
  switch (r) {
    case RiskClass::kLow:
      return "low";
    case RiskClass::kMedium:
      return "medium";
    case RiskClass::kHigh:
      return "high";
  }
  return "unknown";
}

std::optional<RiskClass> parse_risk_class(std::string_view s) {
  if (s == "low") return RiskClass::kLow;
  if (s == "medium") return RiskClass::kMedium;
  if (s == "high") return RiskClass::kHigh;
  return std::nullopt;
}

}  // namespace cbec::ref
