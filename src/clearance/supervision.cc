#include "clearance/supervision.h"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "clearance/clearance.h"
#include "clearance/rules.h"
#include "common/bytes.h"
#include "common/crypto.h"
#include "messages/record_codec.h"

namespace cbec::clearance {

namespace {

// Inspector weights: kWorkloadScale / (1 + open) keeps integer weights that halve as the
// officer's open workload doubles.
constexpr uint64_t kWorkloadScale = 1u << 20;


BasisPoints scale(BasisPoints rate, BasisPoints factor) {
  return round_half_up(static_cast<__int128>(rate) * factor, kBasisPointsOne);
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// A control order's pattern against one value. HS codes match by prefix; addresses by
// substring; enterprises, buyer IDs and phones exactly, or by prefix when the pattern ends in '*'.
bool pattern_matches(ControlTarget t, std::string_view pattern, std::string_view value) {
  if (value.empty() || pattern.empty()) return false;
  switch (t) {
    case ControlTarget::kHsCode: return starts_with(value, pattern);
    case ControlTarget::kAddress: return value.find(pattern) != std::string_view::npos;
    default:
      if (pattern.back() == '*') return starts_with(value, pattern.substr(0, pattern.size() - 1));
      return value == pattern;
  }
}

}  // namespace

// ---- the draw ---------------------------------------------------------------------------------

std::string draw_hmac_hex(std::string_view seed, std::string_view label) {
  return hmac_sha256_hex(seed, label);
}

std::string seed_sha256_hex(std::string_view seed) { return sha256_hex(seed); }

namespace {
constexpr std::string_view kLaneLabel = "lane|";
constexpr std::string_view kAssignLabel = "assign|";

// The first 8 bytes of a MAC, big-endian: what draw_value reads from its hex.
uint64_t mac_value(const HmacSha256::Mac& mac) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | mac[i];
  return v;
}
}  // namespace

std::string lane_draw_label(std::string_view invtNo) {
  return std::string(kLaneLabel).append(invtNo);
}
std::string assign_draw_label(std::string_view invtNo) {
  return std::string(kAssignLabel).append(invtNo);
}

uint64_t draw_value(std::string_view hmac_hex) {
  auto bytes = hex_decode(hmac_hex.substr(0, 16));
  CBEC_ASSERT(bytes.has_value() && bytes->size() == 8);  // an HMAC-SHA-256 in hex
  uint64_t v = 0;
  for (unsigned char b : *bytes) v = (v << 8) | b;
  return v;
}

HmacSha256::Mac Supervisor::draw_mac(const SeedRecord& s, std::string_view prefix,
                                     std::string_view invtNo) {
  if (!draw_key_ || draw_key_seed_ != s.seed) {
    draw_key_ = std::make_unique<HmacSha256>(s.seed);
    draw_key_seed_ = s.seed;
  }
  draw_label_.assign(prefix).append(invtNo);
  return draw_key_->mac(draw_label_);
}

bool draw_selects(uint64_t value, BasisPoints rate_bp) {
  if (rate_bp <= 0) return false;
  if (rate_bp >= kBasisPointsOne) return true;
  unsigned __int128 threshold =
      (static_cast<unsigned __int128>(rate_bp) << 64) / static_cast<unsigned>(kBasisPointsOne);
  return static_cast<unsigned __int128>(value) < threshold;
}

BasisPoints inspection_rate_bp(const ref::Policy& p, ref::CreditGrade grade,
                               ref::RiskClass risk) {
  using G = ref::CreditGrade;
  if (grade == G::kSeriouslyDishonest) return p.inspection_seriously_dishonest_rate_bp;
  if (grade == G::kDishonest) return p.inspection_dishonest_rate_bp;
  BasisPoints rate = p.inspection_base_bp;
  if (grade == G::kAdvancedCertified) rate = scale(rate, p.inspection_advanced_certified_factor_bp);
  if (grade == G::kCertified) rate = scale(rate, p.inspection_certified_factor_bp);
  if (risk == ref::RiskClass::kLow) rate = scale(rate, p.inspection_low_risk_factor_bp);
  if (risk == ref::RiskClass::kHigh) rate = scale(rate, p.inspection_high_risk_factor_bp);
  return std::min(rate, kBasisPointsOne);
}

std::string draw_record_json(const DrawRecord& d) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const char* k, std::string_view v) {
    w.Key(k);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  w.Key("seq");
  w.Uint64(d.seq);
  w.Key("time");
  w.Int64(d.time);
  str("day", format_date8(d.day));
  str("invtNo", d.invtNo);
  str("enterprise", d.enterprise);
  str("grade", ref::credit_grade_name(d.grade));
  str("risk", ref::risk_class_name(d.risk));
  w.Key("rate_bp");
  w.Int64(d.rate_bp);
  w.Key("seeded");
  w.Bool(d.seeded);
  str("hmac", d.hmac_hex);
  w.Key("selected");
  w.Bool(d.selected);
  str("lane", lane_name(d.lane));
  str("decided_by", d.decided_by);
  str("inspector", d.inspector);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<DrawRecord> parse_draw_record_json(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return InvalidArgument("draw record is not JSON");
  auto str = [&](const char* k) -> std::string {
    return d.HasMember(k) && d[k].IsString() ? std::string(d[k].GetString()) : std::string();
  };
  auto num = [&](const char* k) -> int64_t {
    return d.HasMember(k) && d[k].IsInt64() ? d[k].GetInt64() : 0;
  };
  auto flag = [&](const char* k) { return d.HasMember(k) && d[k].IsBool() && d[k].GetBool(); };
  DrawRecord r;
  r.seq = static_cast<uint64_t>(num("seq"));
  r.time = num("time");
  auto day = parse_date8(str("day"));
  auto grade = ref::parse_credit_grade(str("grade"));
  auto risk = ref::parse_risk_class(str("risk"));
  std::string lane = str("lane");
  if (!day || !grade || !risk || (lane != "green" && lane != "yellow" && lane != "red"))
    return InvalidArgument("draw record: bad day, grade, risk or lane");
  r.day = *day;
  r.invtNo = str("invtNo");
  r.enterprise = str("enterprise");
  r.grade = *grade;
  r.risk = *risk;
  r.rate_bp = num("rate_bp");
  r.seeded = flag("seeded");
  r.hmac_hex = str("hmac");
  r.selected = flag("selected");
  r.lane = lane == "green" ? Lane::kGreen : lane == "yellow" ? Lane::kYellow : Lane::kRed;
  r.decided_by = str("decided_by");
  r.inspector = str("inspector");
  return r;
}

std::string_view credit_event_name(CreditEventKind k) {
  switch (k) {
    case CreditEventKind::kRelease: return "release";
    case CreditEventKind::kFinding: return "finding";
    case CreditEventKind::kRejection: return "rejection";
    case CreditEventKind::kLateTax: return "late_tax";
    case CreditEventKind::kReturn: return "return";
  }
  return "?";
}

// ---- commands ---------------------------------------------------------------------------------

Status Supervisor::set_seed(const SetDrawSeed& s, TimeMs now) {
  if (s.seed.size() != kDrawSeedBytes)
    return InvalidArgument(fmt::format("a draw seed has {} bytes, not {}", kDrawSeedBytes,
                                       s.seed.size()));
  if (beijing_midnight(s.day) + kMsPerDay <= now)
    return FailedPrecondition(
        fmt::format("day {} is over: its seed can no longer be set", format_iso_date(s.day)));
  if (seeds_.count(s.day) != 0)
    return AlreadyExists(fmt::format("the seed of {} is already committed (sha256 {})",
                                     format_iso_date(s.day), seeds_.at(s.day).sha256_hex));
  seeds_[s.day] = SeedRecord{s.day, s.seed, seed_sha256_hex(s.seed), now};
  return Status::Ok();
}

Status Supervisor::register_officer(const RegisterOfficer& o) {
  if (o.officer_id.empty() || o.officer_id.size() > kMaxIdBytes)
    return InvalidArgument(fmt::format("officer_id must be 1..{} characters", kMaxIdBytes));
  if (o.site.empty() || o.site.size() > kMaxIdBytes)
    return InvalidArgument("an officer needs a site (customs code)");
  auto it = officers_.find(o.officer_id);
  if (it == officers_.end()) {
    if (officers_.size() >= kMaxOfficers)
      return ResourceExhausted(fmt::format("at most {} officers", kMaxOfficers));
    officers_[o.officer_id] = Officer{o.officer_id, o.name, o.site, o.on_duty, 0};
    return Status::Ok();
  }
  Officer& off = it->second;
  if (off.site != o.site && off.open != 0)
    return FailedPrecondition(fmt::format(
        "officer {} still has {} open lists at site {}: hand them back before moving",
        o.officer_id, off.open, off.site));
  off.name = o.name;
  off.site = o.site;
  off.on_duty = o.on_duty;
  return Status::Ok();
}

Status Supervisor::set_control_order(const SetControlOrder& c, TimeMs now) {
  const Officer* off = officer(c.officer_id);
  if (off == nullptr) return PermissionDenied(fmt::format("{} is not an officer", c.officer_id));
  if (c.order_id.empty() || c.order_id.size() > kMaxIdBytes)
    return InvalidArgument(fmt::format("order_id must be 1..{} characters", kMaxIdBytes));
  auto it = control_orders_.find(c.order_id);
  if (c.revoke) {
    if (it == control_orders_.end())
      return NotFound(fmt::format("control order {} is unknown", c.order_id));
    it->second.revoked = true;
    return Status::Ok();
  }
  if (c.pattern.empty() || c.pattern.size() > kMaxControlPatternBytes)
    return InvalidArgument(
        fmt::format("pattern must be 1..{} characters", kMaxControlPatternBytes));
  if (c.action != Lane::kYellow && c.action != Lane::kRed)
    return InvalidArgument("a control order's action is yellow (review) or red (inspection)");
  if (c.expires_at <= now) return InvalidArgument("expires_at must be in the future");
  if (c.reason.empty() || c.reason.size() > kMaxReasonBytes)
    return InvalidArgument("a control order needs a reason");
  if (it == control_orders_.end()) {
    // Make room by forgetting the oldest order that no longer acts (expired or revoked).
    if (control_orders_.size() >= kMaxControlOrders) {
      auto victim = control_orders_.end();
      for (auto o = control_orders_.begin(); o != control_orders_.end(); ++o)
        if (!o->second.active(now) &&
            (victim == control_orders_.end() || o->second.set_at < victim->second.set_at))
          victim = o;
      if (victim == control_orders_.end())
        return ResourceExhausted(
            fmt::format("{} control orders are active: revoke some first", kMaxControlOrders));
      control_orders_.erase(victim);
    }
    it = control_orders_.emplace(c.order_id, ControlOrder{}).first;
  }
  ControlOrder& o = it->second;
  uint64_t hits = o.hits;
  o = ControlOrder{c.order_id, c.officer_id, c.target, c.pattern, c.action, now,
                   c.expires_at, c.reason, false, hits};
  return Status::Ok();
}

Status Supervisor::claim(const ClaimList& c) {
  const Officer* off = officer(c.officer_id);
  if (off == nullptr) return PermissionDenied(fmt::format("{} is not an officer", c.officer_id));
  auto it = queue_.find(c.invtNo);
  if (it == queue_.end())
    return NotFound(fmt::format("list {} is in no officer queue", c.invtNo));
  QueueItem& q = it->second;
  if (c.unclaim) {
    if (q.claimed_by != c.officer_id)
      return FailedPrecondition(fmt::format("list {} is not claimed by {}", c.invtNo,
                                            c.officer_id));
    add_open(q.claimed_by, -1);
    q.claimed_by.clear();
    add_open(q.owner(), +1);
    return Status::Ok();
  }
  if (!off->on_duty) return FailedPrecondition(fmt::format("officer {} is off duty", c.officer_id));
  if (off->site != q.site)
    return PermissionDenied(fmt::format("list {} belongs to site {}, officer {} works at {}",
                                        c.invtNo, q.site, c.officer_id, off->site));
  if (!q.claimed_by.empty()) {
    if (q.claimed_by == c.officer_id) return Status::Ok();
    return FailedPrecondition(fmt::format("list {} is already claimed by {}", c.invtNo,
                                          q.claimed_by));
  }
  add_open(q.owner(), -1);
  q.claimed_by = c.officer_id;
  add_open(q.owner(), +1);
  return Status::Ok();
}

Status Supervisor::confirm_grade(const ConfirmGrade& c, TimeMs now, ref::CreditGrade current) {
  if (officer(c.officer_id) == nullptr)
    return PermissionDenied(fmt::format("{} is not an officer", c.officer_id));
  TimeMs effective = c.effective_from == 0 ? now : c.effective_from;  // 0 = at once
  if (effective < now) return InvalidArgument("a grade change cannot take effect in the past");
  if (c.reason.empty() || c.reason.size() > kMaxReasonBytes)
    return InvalidArgument("a grade change needs a reason");
  if (c.grade == current)
    return FailedPrecondition(fmt::format("{} is already {}", c.code,
                                          ref::credit_grade_name(current)));
  uint64_t proposal = 0;
  for (auto& [id, p] : proposals_) {
    if (p.code != c.code || p.state != GradeProposal::State::kOpen) continue;
    p.state = p.to == c.grade ? GradeProposal::State::kConfirmed
                              : GradeProposal::State::kSuperseded;
    if (p.to == c.grade) proposal = id;
  }
  grade_changes_.push_back(
      GradeChange{c.code, c.grade, effective, c.officer_id, c.reason, proposal, false});
  return Status::Ok();
}

// ---- lanes ------------------------------------------------------------------------------------

Lane Supervisor::decide(const LaneFacts& f, Lane lane, std::string decided_by,
                        const ref::Policy* p, uint64_t seq, TimeMs now) {
  DrawRecord d;
  d.seq = seq;
  d.time = now;
  d.day = beijing_date(now);
  d.invtNo = std::string(f.invtNo);
  d.enterprise = std::string(f.enterprise);
  d.grade = f.grade;
  d.risk = f.risk;
  if (p != nullptr) {
    d.rate_bp = inspection_rate_bp(*p, f.grade, f.risk);
    if (const SeedRecord* s = seed(d.day)) {
      d.seeded = true;
      HmacSha256::Mac mac = draw_mac(*s, kLaneLabel, f.invtNo);
      d.hmac_hex =
          hex_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
      d.selected = draw_selects(mac_value(mac), d.rate_bp);
    }
    if (decided_by.empty()) {
      lane = d.selected ? Lane::kRed : Lane::kGreen;
      decided_by = "draw";
    }
  }
  d.lane = lane;
  d.decided_by = std::move(decided_by);
  pending_draws_.push_back(std::move(d));
  ++draws_total_;
  return lane;
}

Lane Supervisor::choose_lane(const LaneFacts& f, const ref::Policy& p,
                             std::span<const ceb::Finding> risk, uint64_t seq, TimeMs now,
                             std::vector<ceb::Finding>* findings) {
  // Control orders (R9): every active order that matches adds a finding; red beats yellow.
  Lane lane = Lane::kGreen;
  std::string by;
  for (auto& [id, o] : control_orders_) {
    if (!o.active(now)) continue;
    auto hit = [&](std::string_view value) { return pattern_matches(o.target, o.pattern, value); };
    std::string_view matched;
    switch (o.target) {
      case ControlTarget::kHsCode:
        for (auto g : f.gcodes)
          if (hit(g)) matched = g;
        break;
      case ControlTarget::kEnterprise:
        for (auto e : f.enterprises)
          if (hit(e)) matched = e;
        break;
      case ControlTarget::kBuyerId:
        if (hit(f.buyerIdNumber)) matched = f.buyerIdNumber;
        break;
      case ControlTarget::kAddress:
        if (hit(f.address)) matched = o.pattern;  // never echo a whole address
        break;
      case ControlTarget::kPhone:
        if (hit(f.phone)) matched = o.pattern;
        break;
    }
    if (matched.empty()) continue;
    ++o.hits;
    findings->push_back(make_finding(
        "R9", "Inventory",
        fmt::format("布控{}命中({} {}): {},转{}", id, control_target_name(o.target), matched,
                    o.reason, o.action == Lane::kRed ? "查验" : "人工审核"),
        fmt::format("control order {} hit ({} {}): {}; sent to {}", id,
                    control_target_name(o.target), matched, o.reason,
                    o.action == Lane::kRed ? "inspection" : "manual review")));
    if (o.action > lane) {
      lane = o.action;
      by = "control_order:" + id;
    }
  }
  // Risk findings (R8, R10): manual review unless a control order asked for more.
  if (!risk.empty()) {
    findings->insert(findings->end(), risk.begin(), risk.end());
    if (lane == Lane::kGreen) {
      lane = Lane::kYellow;
      by = "risk:" + risk.front().rule;
    }
  }
  // The draw is made and recorded for every list, also when a rule already chose the lane, so
  // the audit sees every list of the day.
  return decide(f, lane, std::move(by), &p, seq, now);
}

void Supervisor::record_override(const LaneFacts& f, Lane lane, uint64_t seq, TimeMs now) {
  decide(f, lane, "override", nullptr, seq, now);
}

void Supervisor::take_draws(std::vector<DrawRecord>* out) {
  if (out != nullptr)
    out->insert(out->end(), std::make_move_iterator(pending_draws_.begin()),
                std::make_move_iterator(pending_draws_.end()));
  pending_draws_.clear();
}

// ---- queues -----------------------------------------------------------------------------------

void Supervisor::add_open(const std::string& officer_id, int delta) {
  if (officer_id.empty()) return;
  auto it = officers_.find(officer_id);
  if (it == officers_.end()) return;
  CBEC_ASSERT(delta > 0 || it->second.open > 0);
  it->second.open = static_cast<uint32_t>(static_cast<int64_t>(it->second.open) + delta);
}

void Supervisor::enqueue(std::string_view invtNo, std::string_view site, Lane lane, TimeMs now,
                         std::vector<ceb::Finding> reasons) {
  CBEC_ASSERT(lane != Lane::kGreen);
  std::string key(invtNo);
  if (auto old = queue_.find(key); old != queue_.end()) {  // yellow → red keeps its owner
    old->second.lane = lane;
    old->second.queued_at = now;
    old->second.reasons.insert(old->second.reasons.end(), reasons.begin(), reasons.end());
    return;
  }
  QueueItem q{key, std::string(site), lane, now, "", "", std::move(reasons)};
  // Weighted draw among the site's officers on duty, in id order (deterministic).
  uint64_t total = 0;
  for (const auto& [id, o] : officers_)
    if (o.on_duty && o.site == site) total += kWorkloadScale / (1 + o.open);
  if (total != 0) {
    uint64_t v = 0;
    if (const SeedRecord* s = seed(beijing_date(now)))
      v = mac_value(draw_mac(*s, kAssignLabel, invtNo)) % total;
    for (const auto& [id, o] : officers_) {
      if (!o.on_duty || o.site != site) continue;
      uint64_t w = kWorkloadScale / (1 + o.open);
      if (v < w) {
        q.assigned = id;
        break;
      }
      v -= w;
    }
  }
  add_open(q.assigned, +1);
  for (auto& d : pending_draws_)
    if (d.invtNo == invtNo) d.inspector = q.assigned;
  queue_.emplace(std::move(key), std::move(q));
}

void Supervisor::dequeue(std::string_view invtNo) {
  auto it = queue_.find(invtNo);
  if (it == queue_.end()) return;
  add_open(it->second.owner(), -1);
  queue_.erase(it);
}

Status Supervisor::check_decider(std::string_view officer_id, std::string_view invtNo) const {
  const Officer* off = officer(officer_id);
  if (off == nullptr) return PermissionDenied(fmt::format("{} is not an officer", officer_id));
  if (!off->on_duty) return FailedPrecondition(fmt::format("officer {} is off duty", officer_id));
  const QueueItem* q = queued(invtNo);
  if (q == nullptr) return Status::Ok();  // detained lists leave the queue; any officer decides
  if (off->site != q->site)
    return PermissionDenied(fmt::format("list {} belongs to site {}, officer {} works at {}",
                                        invtNo, q->site, officer_id, off->site));
  if (!q->claimed_by.empty() && q->claimed_by != officer_id)
    return FailedPrecondition(fmt::format("list {} is claimed by {}", invtNo, q->claimed_by));
  return Status::Ok();
}

// ---- credit -----------------------------------------------------------------------------------

std::array<int64_t, kCreditEventKinds> Supervisor::window_counts(const CreditBook& b, TimeMs now,
                                                                 const ref::Policy& p) const {
  std::array<int64_t, kCreditEventKinds> c{};
  int64_t today = days_from_civil(beijing_date(now));
  for (auto it = b.by_day.lower_bound(today - p.credit_window_days + 1); it != b.by_day.end();
       ++it)
    for (size_t k = 0; k < kCreditEventKinds; ++k) c[k] += it->second[k];
  return c;
}

CreditSummary Supervisor::credit(std::string_view code, TimeMs now, const ref::Policy& p) const {
  CreditSummary s;
  s.code = std::string(code);
  auto it = credit_.find(code);
  if (it != credit_.end()) s.counts = window_counts(it->second, now, p);
  auto n = [&](CreditEventKind k) { return s.counts[static_cast<size_t>(k)]; };
  int64_t weighted = n(CreditEventKind::kFinding) * p.credit_weight_finding +
                     n(CreditEventKind::kRejection) * p.credit_weight_rejection +
                     n(CreditEventKind::kLateTax) * p.credit_weight_late_tax +
                     n(CreditEventKind::kReturn) * p.credit_weight_return;
  int64_t lists = std::max<int64_t>(n(CreditEventKind::kRelease), p.credit_min_lists);
  s.score = weighted * 1000 / lists;
  s.explanation_en = fmt::format(
      "last {} days: findings {}×{} + rejections {}×{} + late tax {}×{} + lapsed returns {}×{} = {} "
      "per {} lists (released {}, floor {}) = score {} per 1,000",
      p.credit_window_days, n(CreditEventKind::kFinding), p.credit_weight_finding,
      n(CreditEventKind::kRejection), p.credit_weight_rejection, n(CreditEventKind::kLateTax),
      p.credit_weight_late_tax, n(CreditEventKind::kReturn), p.credit_weight_return, weighted,
      lists, n(CreditEventKind::kRelease), p.credit_min_lists, s.score);
  s.explanation_zh = fmt::format(
      "近{}天: 查验发现{}×{} + 退单{}×{} + 税款逾期{}×{} + 退货逾期未运回{}×{} = {}, 按{}票计(放行{}票,"
      "下限{}), 风险分{}(每千票)",
      p.credit_window_days, n(CreditEventKind::kFinding), p.credit_weight_finding,
      n(CreditEventKind::kRejection), p.credit_weight_rejection, n(CreditEventKind::kLateTax),
      p.credit_weight_late_tax, n(CreditEventKind::kReturn), p.credit_weight_return, weighted,
      lists, n(CreditEventKind::kRelease), p.credit_min_lists, s.score);
  return s;
}

void Supervisor::credit_event(std::string_view code, CreditEventKind kind, TimeMs now,
                              const ref::Policy& p, ref::CreditGrade current) {
  if (code.empty()) return;
  auto it = credit_.find(code);
  if (it == credit_.end()) it = credit_.emplace(std::string(code), CreditBook{}).first;
  CreditBook& b = it->second;
  int64_t today = days_from_civil(beijing_date(now));
  b.by_day[today][static_cast<size_t>(kind)] += 1;
  // Days that left the window are dropped: the book holds at most credit_window_days entries.
  while (!b.by_day.empty() && b.by_day.begin()->first <= today - p.credit_window_days)
    b.by_day.erase(b.by_day.begin());
  if (kind == CreditEventKind::kRelease) {
    if (++b.releases_total % kCreditCheckEveryReleases != 0) return;
  }
  check_grade(code, now, p, current);
}

void Supervisor::check_grade(std::string_view code, TimeMs now, const ref::Policy& p,
                             ref::CreditGrade current) {
  using G = ref::CreditGrade;
  CreditSummary s = credit(code, now, p);
  int64_t adverse = s.counts[1] + s.counts[2] + s.counts[3] + s.counts[4];
  std::optional<G> to;
  switch (current) {
    case G::kAdvancedCertified:
      if (s.score >= p.credit_downgrade_score) to = G::kCertified;
      break;
    case G::kCertified:
      if (s.score >= p.credit_downgrade_score) to = G::kRegular;
      break;
    case G::kRegular:
      if (s.score >= p.credit_dishonest_score) to = G::kDishonest;
      break;
    case G::kDishonest:
      // Credit restoration: a clean record over enough lists. Certification is applied for,
      // never proposed; 严重失信 is a legal decision and only an officer sets or lifts it.
      if (adverse == 0 && s.counts[0] >= p.credit_upgrade_min_lists) to = G::kRegular;
      break;
    case G::kSeriouslyDishonest: break;
  }
  if (!to) return;
  for (auto& [id, prop] : proposals_) {
    if (prop.code != code || prop.state != GradeProposal::State::kOpen) continue;
    if (prop.to == *to && prop.from == current) {  // refresh the open proposal's numbers
      prop.score = s.score;
      prop.explanation_zh = s.explanation_zh;
      prop.explanation_en = s.explanation_en;
      return;
    }
    prop.state = GradeProposal::State::kSuperseded;
  }
  uint64_t id = next_proposal_id_++;
  proposals_[id] = GradeProposal{id, std::string(code), current, *to, s.score, s.explanation_zh,
                                 s.explanation_en, now, GradeProposal::State::kOpen};
}

std::vector<GradeChange> Supervisor::take_due_grade_changes(TimeMs now) {
  std::vector<GradeChange> due;
  for (auto& g : grade_changes_) {
    if (g.applied || g.effective_from > now) continue;
    g.applied = true;
    due.push_back(g);
  }
  return due;
}

std::vector<std::string> Supervisor::credit_codes() const {
  std::vector<std::string> out;
  for (const auto& [code, b] : credit_) out.push_back(code);
  return out;
}

// ---- views ------------------------------------------------------------------------------------

const SeedRecord* Supervisor::seed(CivilDate day) const {
  auto it = seeds_.find(day);
  return it == seeds_.end() ? nullptr : &it->second;
}
const Officer* Supervisor::officer(std::string_view id) const {
  auto it = officers_.find(id);
  return it == officers_.end() ? nullptr : &it->second;
}
const QueueItem* Supervisor::queued(std::string_view invtNo) const {
  auto it = queue_.find(invtNo);
  return it == queue_.end() ? nullptr : &it->second;
}

std::string Supervisor::dump() const {
  std::ostringstream o;
  for (const auto& [day, s] : seeds_)
    o << "seed " << format_date8(day) << " " << s.sha256_hex << " " << s.logged_at << "\n";
  o << "draws " << draws_total_ << "\n";
  for (const auto& [id, off] : officers_)
    o << "officer " << id << " " << off.site << " " << off.on_duty << " " << off.open << "\n";
  for (const auto& [inv, q] : queue_)
    o << "queued " << inv << " " << q.site << " " << lane_name(q.lane) << " " << q.queued_at
      << " " << q.assigned << " " << q.claimed_by << " " << q.reasons.size() << "\n";
  for (const auto& [id, c] : control_orders_)
    o << "control " << id << " " << control_target_name(c.target) << " " << c.pattern << " "
      << lane_name(c.action) << " " << c.expires_at << " " << c.revoked << " " << c.hits << "\n";
  for (const auto& [code, b] : credit_) {
    o << "credit " << code << " " << b.releases_total;
    for (const auto& [day, counts] : b.by_day) {
      o << " " << day << ":";
      for (auto n : counts) o << n << ",";
    }
    o << "\n";
  }
  for (const auto& [id, p] : proposals_)
    o << "proposal " << id << " " << p.code << " " << ref::credit_grade_name(p.from) << ">"
      << ref::credit_grade_name(p.to) << " " << p.score << " " << static_cast<int>(p.state)
      << "\n";
  for (const auto& g : grade_changes_)
    o << "grade " << g.code << " " << ref::credit_grade_name(g.grade) << " " << g.effective_from
      << " " << g.officer_id << " " << g.proposal_id << " " << g.applied << "\n";
  return o.str();
}

// ---- snapshot ---------------------------------------------------------------------------------

namespace {

constexpr uint8_t kSupervisorFormat = 1;
// Credit counts are sums of single events: far above any real count, low enough that window
// sums times the policy's weights stay within int64 whatever damaged bytes say.
constexpr int64_t kMaxCreditCount = int64_t{1} << 40;

template <class E>
void put_enum(ByteWriter& w, E e) {
  w.u8(static_cast<uint8_t>(e));
}
// An enum value; fails the reader above `last`, the enum's last enumerator.
template <class E>
E get_enum(ByteReader& in, E last) {
  uint8_t v = in.u8();
  if (v > static_cast<uint8_t>(last)) return in.fail(), E{};
  return static_cast<E>(v);
}

// A yellow or red lane: the only lanes a queue item or a control order's action can hold.
Lane get_manual_lane(ByteReader& in) {
  Lane l = get_enum(in, Lane::kRed);
  if (l == Lane::kGreen) in.fail();
  return l;
}

// A date as its day number; on load, years 0..9999 only (what yyyyMMdd can show).
void put_date(ByteWriter& w, CivilDate d) { w.i64(days_from_civil(d)); }
CivilDate get_date(ByteReader& in) {
  int64_t days = in.i64();
  if (days < -800000 || days > 3000000) return in.fail(), CivilDate{};
  CivilDate d = civil_from_days(days);
  if (d.year < 0 || d.year > 9999) return in.fail(), CivilDate{};
  return d;
}

uint32_t get_u32(ByteReader& in) {
  uint64_t v = in.u64();
  if (v > UINT32_MAX) in.fail();
  return static_cast<uint32_t>(v);
}

void put_findings(ByteWriter& w, const std::vector<ceb::Finding>& fs) {
  w.u64(fs.size());
  for (const ceb::Finding& f : fs) ceb::encode_finding(w, f);
}
void get_findings(ByteReader& in, std::vector<ceb::Finding>* fs) {
  fs->resize(in.count());
  for (ceb::Finding& f : *fs) ceb::decode_finding(in, &f);
}

void put_draw(ByteWriter& w, const DrawRecord& d) {
  w.u64(d.seq);
  w.i64(d.time);
  put_date(w, d.day);
  w.str(d.invtNo);
  w.str(d.enterprise);
  put_enum(w, d.grade);
  put_enum(w, d.risk);
  w.i64(d.rate_bp);
  w.boolean(d.seeded);
  w.str(d.hmac_hex);
  w.boolean(d.selected);
  put_enum(w, d.lane);
  w.str(d.decided_by);
  w.str(d.inspector);
}
void get_draw(ByteReader& in, DrawRecord* d) {
  d->seq = in.u64();
  d->time = in.i64();
  d->day = get_date(in);
  in.str(&d->invtNo);
  in.str(&d->enterprise);
  d->grade = get_enum(in, ref::CreditGrade::kSeriouslyDishonest);
  d->risk = get_enum(in, ref::RiskClass::kHigh);
  d->rate_bp = in.i64();
  d->seeded = in.boolean();
  in.str(&d->hmac_hex);
  d->selected = in.boolean();
  d->lane = get_enum(in, Lane::kRed);
  in.str(&d->decided_by);
  in.str(&d->inspector);
}

// Inserts a decoded map entry; a key seen twice fails the reader (the writer wrote map keys,
// so a repeat means damage, and dropping it would not be canonical).
template <class M, class K, class V>
void put_unique(ByteReader& in, M* m, K&& key, V&& value) {
  if (!m->emplace(std::forward<K>(key), std::forward<V>(value)).second) in.fail();
}

}  // namespace

void Supervisor::save_state(ByteWriter& w) const {
  w.u8(kSupervisorFormat);
  w.u64(seeds_.size());
  for (const auto& [day, s] : seeds_) {  // sha256_hex is recomputed from the seed on load
    put_date(w, day);
    w.str(s.seed);
    w.i64(s.logged_at);
  }
  w.u64(officers_.size());
  for (const auto& [id, o] : officers_) {
    w.str(id);
    w.str(o.name);
    w.str(o.site);
    w.boolean(o.on_duty);
    w.u64(o.open);
  }
  w.u64(queue_.size());
  for (const auto& [invtNo, q] : queue_) {
    w.str(invtNo);
    w.str(q.site);
    put_enum(w, q.lane);
    w.i64(q.queued_at);
    w.str(q.assigned);
    w.str(q.claimed_by);
    put_findings(w, q.reasons);
  }
  w.u64(control_orders_.size());
  for (const auto& [id, c] : control_orders_) {
    w.str(id);
    w.str(c.officer_id);
    put_enum(w, c.target);
    w.str(c.pattern);
    put_enum(w, c.action);
    w.i64(c.set_at);
    w.i64(c.expires_at);
    w.str(c.reason);
    w.boolean(c.revoked);
    w.u64(c.hits);
  }
  w.u64(credit_.size());
  for (const auto& [code, b] : credit_) {
    w.str(code);
    w.u64(b.releases_total);
    w.u64(b.by_day.size());
    for (const auto& [day, counts] : b.by_day) {
      w.i64(day);
      for (int64_t n : counts) w.i64(n);
    }
  }
  w.u64(next_proposal_id_);
  w.u64(proposals_.size());
  for (const auto& [id, p] : proposals_) {
    w.u64(id);
    w.str(p.code);
    put_enum(w, p.from);
    put_enum(w, p.to);
    w.i64(p.score);
    w.str(p.explanation_zh);
    w.str(p.explanation_en);
    w.i64(p.proposed_at);
    put_enum(w, p.state);
  }
  w.u64(grade_changes_.size());
  for (const GradeChange& g : grade_changes_) {
    w.str(g.code);
    put_enum(w, g.grade);
    w.i64(g.effective_from);
    w.str(g.officer_id);
    w.str(g.reason);
    w.u64(g.proposal_id);
    w.boolean(g.applied);
  }
  w.u64(pending_draws_.size());
  for (const DrawRecord& d : pending_draws_) put_draw(w, d);
  w.u64(draws_total_);
}

bool Supervisor::load_state(ByteReader& in) {
  if (in.u8() != kSupervisorFormat) return false;
  for (uint64_t n = in.count(); n > 0 && in.ok(); --n) {
    SeedRecord s;
    s.day = get_date(in);
    in.str(&s.seed);
    s.logged_at = in.i64();
    if (s.seed.size() != kDrawSeedBytes) return false;  // set_seed accepts no other size
    s.sha256_hex = seed_sha256_hex(s.seed);
    put_unique(in, &seeds_, s.day, std::move(s));
  }
  const uint64_t officers = in.count();
  if (officers > kMaxOfficers) return false;
  for (uint64_t n = officers; n > 0 && in.ok(); --n) {
    Officer o;
    in.str(&o.officer_id);
    in.str(&o.name);
    in.str(&o.site);
    o.on_duty = in.boolean();
    o.open = get_u32(in);
    put_unique(in, &officers_, o.officer_id, std::move(o));
  }
  for (uint64_t n = in.count(); n > 0 && in.ok(); --n) {
    QueueItem q;
    in.str(&q.invtNo);
    in.str(&q.site);
    q.lane = get_manual_lane(in);
    q.queued_at = in.i64();
    in.str(&q.assigned);
    in.str(&q.claimed_by);
    get_findings(in, &q.reasons);
    put_unique(in, &queue_, q.invtNo, std::move(q));
  }
  const uint64_t orders = in.count();
  if (orders > kMaxControlOrders) return false;
  for (uint64_t n = orders; n > 0 && in.ok(); --n) {
    ControlOrder c;
    in.str(&c.order_id);
    in.str(&c.officer_id);
    c.target = get_enum(in, ControlTarget::kPhone);
    in.str(&c.pattern);
    c.action = get_manual_lane(in);
    c.set_at = in.i64();
    c.expires_at = in.i64();
    in.str(&c.reason);
    c.revoked = in.boolean();
    c.hits = in.u64();
    put_unique(in, &control_orders_, c.order_id, std::move(c));
  }
  for (uint64_t n = in.count(); n > 0 && in.ok(); --n) {
    std::string code = in.str();
    CreditBook b;
    b.releases_total = in.u64();
    for (uint64_t d = in.count(); d > 0 && in.ok(); --d) {
      int64_t day = in.i64();
      std::array<int64_t, kCreditEventKinds> counts{};
      for (int64_t& c : counts) {
        c = in.i64();
        if (c < 0 || c > kMaxCreditCount) in.fail();
      }
      // Day numbers come from Beijing dates of log times; bounded so window arithmetic holds.
      if (day < -kMaxCreditCount || day > kMaxCreditCount) in.fail();
      put_unique(in, &b.by_day, day, counts);
    }
    if (code.empty()) in.fail();  // credit_event ignores an empty code
    put_unique(in, &credit_, std::move(code), std::move(b));
  }
  next_proposal_id_ = in.u64();
  if (next_proposal_id_ == 0) return false;
  for (uint64_t n = in.count(); n > 0 && in.ok(); --n) {
    GradeProposal p;
    p.id = in.u64();
    in.str(&p.code);
    p.from = get_enum(in, ref::CreditGrade::kSeriouslyDishonest);
    p.to = get_enum(in, ref::CreditGrade::kSeriouslyDishonest);
    p.score = in.i64();
    in.str(&p.explanation_zh);
    in.str(&p.explanation_en);
    p.proposed_at = in.i64();
    p.state = get_enum(in, GradeProposal::State::kSuperseded);
    if (p.id == 0 || p.id >= next_proposal_id_) return false;  // ids are handed out in order
    put_unique(in, &proposals_, p.id, std::move(p));
  }
  grade_changes_.resize(in.count());
  for (GradeChange& g : grade_changes_) {
    in.str(&g.code);
    g.grade = get_enum(in, ref::CreditGrade::kSeriouslyDishonest);
    g.effective_from = in.i64();
    in.str(&g.officer_id);
    in.str(&g.reason);
    g.proposal_id = in.u64();
    g.applied = in.boolean();
  }
  pending_draws_.resize(in.count());
  for (DrawRecord& d : pending_draws_) get_draw(in, &d);
  draws_total_ = in.u64();
  if (!in.ok()) return false;
  // Every officer's open count is the number of queued lists it owns (add_open keeps it so, and
  // dequeue and claim assert on it): a blob where they disagree is damaged.
  std::map<std::string_view, uint64_t> owned;
  for (const auto& [invtNo, q] : queue_)
    if (officers_.count(q.owner()) != 0) ++owned[q.owner()];
  for (const auto& [id, o] : officers_) {
    auto it = owned.find(id);
    if (o.open != (it == owned.end() ? 0 : it->second)) return false;
  }
  return true;
}

}  // namespace cbec::clearance
