// Verification of the random draws (双随机, DOMAIN.md §8) by anyone holding the published data.
//
// Public face of src/audit/. The zone publishes each day's seed hash in advance
// (GET /api/v1/audit/seeds), and after the day the seed and every lane decision of the day
// (GET /api/v1/audit/draws). verify_draws() checks, without trusting the zone:
//   1. the revealed seed hashes to the hash published before the day (the seed was not changed);
//   2. every decision's rate is the matrix rate of the policy in force that day for its grade and
//      goods risk class (the rate was not bent);
//   3. every decision's HMAC and selection recompute from the seed (the draw was not bent);
//   4. a draw-decided lane follows the selection;
//   5. the decisions equal those that replaying the command log produces (no decision was
//      added, dropped or altered, and the log itself says the same).
#pragma once

#include <string>
#include <vector>

#include "clearance/supervision.h"
#include "common/status.h"
#include "reference/reference.h"

namespace cbec::audit {

inline constexpr size_t kMaxMismatchesReported = 100;

struct PublishedDay {
  CivilDate day;
  std::string seed_sha256;  // as published before the day
  std::string seed;         // raw bytes, revealed after the day
  std::vector<clearance::DrawRecord> draws;
};

struct VerifyReport {
  size_t checked = 0;
  size_t selected = 0;
  std::vector<std::string> mismatches;  // at most kMaxMismatchesReported, then a count line
  size_t mismatch_count = 0;
  bool ok() const { return mismatch_count == 0; }
};

// replayed: the day's decisions from a replay of the log (nullptr: skip check 5).
VerifyReport verify_draws(const PublishedDay& published,
                          const std::vector<clearance::DrawRecord>* replayed,
                          const ref::ReferenceData& reference);

// Reads the answers of GET /api/v1/audit/seeds and GET /api/v1/audit/draws (all pages joined
// into one "draws" array) for one day.
Result<PublishedDay> parse_published(CivilDate day, std::string_view seeds_json,
                                     std::string_view draws_json);

}  // namespace cbec::audit
