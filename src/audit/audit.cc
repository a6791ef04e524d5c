#include "audit/audit.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "clearance/clearance.h"
#include "common/crypto.h"

namespace cbec::audit {

namespace {

struct Reporter {
  VerifyReport* r;
  void operator()(std::string msg) {
    ++r->mismatch_count;
    if (r->mismatches.size() < kMaxMismatchesReported) r->mismatches.push_back(std::move(msg));
  }
};

bool same_decision(const clearance::DrawRecord& a, const clearance::DrawRecord& b) {
  return a.seq == b.seq && a.time == b.time && a.invtNo == b.invtNo &&
         a.enterprise == b.enterprise && a.grade == b.grade && a.risk == b.risk &&
         a.rate_bp == b.rate_bp && a.seeded == b.seeded && a.hmac_hex == b.hmac_hex &&
         a.selected == b.selected && a.lane == b.lane && a.decided_by == b.decided_by &&
         a.inspector == b.inspector;
}

}  // namespace

VerifyReport verify_draws(const PublishedDay& p,
                          const std::vector<clearance::DrawRecord>* replayed,
                          const ref::ReferenceData& reference) {
  VerifyReport report;
  Reporter bad{&report};
  std::string day = format_iso_date(p.day);
  if (p.seed.empty()) {
    bad(fmt::format("{}: the seed is not revealed yet (only after the day)", day));
  } else if (sha256_hex(p.seed) != p.seed_sha256) {
    bad(fmt::format("{}: the revealed seed hashes to {}, not to the published {}", day,
                    sha256_hex(p.seed), p.seed_sha256));
  }
  const ref::Policy& policy = reference.policy_at(p.day);
  for (const auto& d : p.draws) {
    ++report.checked;
    if (d.day != p.day) bad(fmt::format("{}: decided on {}", d.invtNo, format_iso_date(d.day)));
    if (d.decided_by == "override") continue;  // a test-only lane selector, no draw
    BasisPoints rate = clearance::inspection_rate_bp(policy, d.grade, d.risk);
    if (d.rate_bp != rate)
      bad(fmt::format("{}: rate {} bp, but the matrix gives {} bp for {} × {}", d.invtNo,
                      d.rate_bp, rate, ref::credit_grade_name(d.grade),
                      ref::risk_class_name(d.risk)));
    if (!d.seeded) {
      bad(fmt::format("{}: decided without a seed", d.invtNo));
      continue;
    }
    if (!p.seed.empty()) {
      std::string h = clearance::draw_hmac_hex(p.seed, clearance::lane_draw_label(d.invtNo));
      if (h != d.hmac_hex) bad(fmt::format("{}: HMAC {} does not recompute ({})", d.invtNo,
                                           d.hmac_hex, h));
      bool sel = clearance::draw_selects(clearance::draw_value(h), rate);
      if (sel != d.selected)
        bad(fmt::format("{}: published selected={} but the draw gives {}", d.invtNo, d.selected,
                        sel));
    }
    report.selected += d.selected;
    if (d.decided_by == "draw" &&
        d.lane != (d.selected ? clearance::Lane::kRed : clearance::Lane::kGreen))
      bad(fmt::format("{}: the draw decided, but the lane {} does not follow selected={}",
                      d.invtNo, clearance::lane_name(d.lane), d.selected));
  }
  if (replayed != nullptr) {
    size_t n = std::max(p.draws.size(), replayed->size());
    if (p.draws.size() != replayed->size())
      bad(fmt::format("{}: {} decisions published, {} in the replayed log", day, p.draws.size(),
                      replayed->size()));
    for (size_t i = 0; i < n && i < p.draws.size() && i < replayed->size(); ++i) {
      const auto& a = p.draws[i];
      const auto& b = (*replayed)[i];
      if (!same_decision(a, b))
        bad(fmt::format("decision {}: published {} differs from the log's {}", i + 1,
                        clearance::draw_record_json(a), clearance::draw_record_json(b)));
    }
  }
  if (report.mismatch_count > report.mismatches.size())
    report.mismatches.push_back(fmt::format("... and {} more",
                                            report.mismatch_count - report.mismatches.size()));
  return report;
}

Result<PublishedDay> parse_published(CivilDate day, std::string_view seeds_json,
                                     std::string_view draws_json) {
  PublishedDay p;
  p.day = day;
  rapidjson::Document s;
  s.Parse(seeds_json.data(), seeds_json.size());
  if (s.HasParseError() || !s.IsObject() || !s.HasMember("seeds") || !s["seeds"].IsArray())
    return InvalidArgument("seeds: expected {\"seeds\":[...]}");
  std::string day8 = format_date8(day);
  for (const auto& e : s["seeds"].GetArray()) {
    if (!e.IsObject() || !e.HasMember("day") || !e["day"].IsString()) continue;
    if (day8 != e["day"].GetString()) continue;
    if (e.HasMember("sha256") && e["sha256"].IsString()) p.seed_sha256 = e["sha256"].GetString();
    if (e.HasMember("seed") && e["seed"].IsString()) {
      auto raw = hex_decode(e["seed"].GetString());
      if (!raw) return InvalidArgument("seeds: the seed is not hex");
      p.seed = std::move(*raw);
    }
  }
  if (p.seed_sha256.empty())
    return NotFound(fmt::format("no seed was published for {}", format_iso_date(day)));
  rapidjson::Document d;
  d.Parse(draws_json.data(), draws_json.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("draws") || !d["draws"].IsArray())
    return InvalidArgument("draws: expected {\"draws\":[...]}");
  for (const auto& e : d["draws"].GetArray()) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    e.Accept(w);
    TRY_ASSIGN(clearance::DrawRecord r,
               clearance::parse_draw_record_json(std::string_view(buf.GetString(), buf.GetSize())));
    p.draws.push_back(std::move(r));
  }
  return p;
}

}  // namespace cbec::audit
