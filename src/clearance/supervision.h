// Supervision: lanes, the verifiable random draw (双随机), officers and their queues, control
// orders (布控) and credit management (DOMAIN.md §8).
//
// Part of the clearance core and as deterministic: every input comes from a logged command
// (seeds included), containers that reach output are ordered, and no clock is read.
//
// Where each rule lives:
//   inspection rate matrix (grade × goods risk) .... inspection_rate_bp()
//   the draw: HMAC-SHA-256(day seed, "lane|"+invtNo) draw_hmac_hex(), draw_selects()
//   lane choice: control order > risk finding > draw Supervisor::choose_lane()
//   inspector assignment (weighted by workload) .... Supervisor::enqueue()
//   who may decide a queued list .................... Supervisor::check_decider()
//   credit score and grade proposals ................ Supervisor::credit_event()
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto.h"
#include "common/money.h"
#include "common/status.h"
#include "common/time.h"
#include "messages/receipt.h"
#include "reference/reference.h"

namespace cbec {
class ByteWriter;
class ByteReader;
}  // namespace cbec

namespace cbec::clearance {

enum class Lane : uint8_t;
struct SetDrawSeed;
struct RegisterOfficer;
struct ClaimList;
struct SetControlOrder;
struct ConfirmGrade;
enum class ControlTarget : uint8_t;

inline constexpr size_t kDrawSeedBytes = 32;
inline constexpr size_t kMaxOfficers = 10000;
inline constexpr size_t kMaxIdBytes = 64;          // officer ids, control order ids
inline constexpr size_t kMaxReasonBytes = 1000;    // reasons and categories
inline constexpr size_t kMaxControlOrders = 10000;  // active and expired-but-listed
inline constexpr size_t kMaxControlPatternBytes = 256;
// A credit check for upgrade proposals runs every this many releases of an enterprise (the
// downgrade checks run on every adverse event).
inline constexpr uint64_t kCreditCheckEveryReleases = 100;

// ---- The draw: pure functions, shared with `cbec audit verify-draws` ----------------------
// Lower-case hex of HMAC-SHA-256(key = seed, message = label).
std::string draw_hmac_hex(std::string_view seed, std::string_view label);
std::string seed_sha256_hex(std::string_view seed);
std::string lane_draw_label(std::string_view invtNo);    // "lane|" + invtNo
std::string assign_draw_label(std::string_view invtNo);  // "assign|" + invtNo
// The first 8 bytes of the HMAC read big-endian: uniform on [0, 2^64).
uint64_t draw_value(std::string_view hmac_hex);
// Selected iff value < rate × 2^64 exactly (128-bit arithmetic): rate 0 never, 10000 always.
bool draw_selects(uint64_t value, BasisPoints rate_bp);
// The 双分级 matrix: base × grade factor × goods-risk factor, capped at 100 %; dishonest grades
// use their fixed rates whatever the goods. Products are rounded half-up to the basis point.
BasisPoints inspection_rate_bp(const ref::Policy& p, ref::CreditGrade grade, ref::RiskClass risk);

struct SeedRecord {
  CivilDate day;
  std::string seed;        // never shown before the day is over
  std::string sha256_hex;  // published from the moment it is logged
  TimeMs logged_at = 0;
};

// One lane decision of a list that passed review, as the audit publishes it.
struct DrawRecord {
  uint64_t seq = 0;  // the command that decided it
  TimeMs time = 0;
  CivilDate day;     // Beijing day of `time`: whose seed drew
  std::string invtNo;
  std::string enterprise;  // whose grade set the rate
  ref::CreditGrade grade = ref::CreditGrade::kRegular;
  ref::RiskClass risk = ref::RiskClass::kMedium;
  BasisPoints rate_bp = 0;
  bool seeded = false;    // false: the day had no seed, so no random selection was possible
  std::string hmac_hex;   // "" when not seeded
  bool selected = false;  // the draw alone would send the list to inspection
  Lane lane{};            // the lane finally chosen
  std::string decided_by;  // "draw", "control_order:<id>", "risk:<rule>", "override"
  std::string inspector;   // officer assigned (yellow/red), "" if none on duty
};
// {"seq":..,"day":"yyyyMMdd","invtNo":..,...}: as the API serves and the verifier reads.
std::string draw_record_json(const DrawRecord& d);
Result<DrawRecord> parse_draw_record_json(std::string_view json);

struct Officer {
  std::string officer_id;
  std::string name;
  std::string site;
  bool on_duty = true;
  uint32_t open = 0;  // queued lists assigned to or claimed by this officer
};

struct QueueItem {
  std::string invtNo;
  std::string site;
  Lane lane{};
  TimeMs queued_at = 0;
  std::string assigned;    // drawn inspector ("" = none was on duty)
  std::string claimed_by;  // "" = not claimed
  std::vector<ceb::Finding> reasons;  // why the list is in the queue
  const std::string& owner() const { return claimed_by.empty() ? assigned : claimed_by; }
};

struct ControlOrder {
  std::string order_id;
  std::string officer_id;
  ControlTarget target{};
  std::string pattern;
  Lane action{};
  TimeMs set_at = 0;
  TimeMs expires_at = 0;
  std::string reason;
  bool revoked = false;
  uint64_t hits = 0;
  bool active(TimeMs now) const { return !revoked && now < expires_at; }
};

// What a list offers to control orders and the draw.
struct LaneFacts {
  std::string_view invtNo;
  std::string_view site;         // customsCode
  std::string_view enterprise;   // whose grade sets the rate (the stricter of ebc and agent)
  ref::CreditGrade grade = ref::CreditGrade::kRegular;
  ref::RiskClass risk = ref::RiskClass::kMedium;  // the highest of its lines
  std::span<const std::string_view> gcodes;
  std::span<const std::string_view> enterprises;  // ebp, ebc, agent, logistics, pay ...
  std::string_view buyerIdNumber;
  std::string_view address;
  std::string_view phone;
};

enum class CreditEventKind : uint8_t { kRelease, kFinding, kRejection, kLateTax, kReturn };
inline constexpr size_t kCreditEventKinds = 5;
std::string_view credit_event_name(CreditEventKind k);

struct CreditSummary {
  std::string code;
  std::array<int64_t, kCreditEventKinds> counts{};  // in the window
  int64_t score = 0;  // weighted adverse events per 1,000 lists released
  std::string explanation_zh;
  std::string explanation_en;
};

struct GradeProposal {
  uint64_t id = 0;
  std::string code;
  ref::CreditGrade from = ref::CreditGrade::kRegular;
  ref::CreditGrade to = ref::CreditGrade::kRegular;
  int64_t score = 0;
  std::string explanation_zh;
  std::string explanation_en;
  TimeMs proposed_at = 0;
  enum class State : uint8_t { kOpen, kConfirmed, kSuperseded } state = State::kOpen;
};

struct GradeChange {
  std::string code;
  ref::CreditGrade grade = ref::CreditGrade::kRegular;
  TimeMs effective_from = 0;
  std::string officer_id;
  std::string reason;
  uint64_t proposal_id = 0;  // 0 = a direct decision
  bool applied = false;
};

class Supervisor {
 public:
  // ---- commands (state unchanged on error) ----
  Status set_seed(const SetDrawSeed& s, TimeMs now);
  Status register_officer(const RegisterOfficer& o);
  Status set_control_order(const SetControlOrder& c, TimeMs now);
  Status claim(const ClaimList& c);
  // current: the enterprise's grade now (the proposal being confirmed must start from it).
  Status confirm_grade(const ConfirmGrade& c, TimeMs now, ref::CreditGrade current);

  // ---- lanes ----
  // Control orders first (red beats yellow), then the risk findings given (yellow), then the
  // random draw (red). Appends the findings that chose the lane and records the decision (see
  // take_draws). `risk` are the R8/R10 findings of the list.
  Lane choose_lane(const LaneFacts& f, const ref::Policy& p, std::span<const ceb::Finding> risk,
                   uint64_t seq, TimeMs now, std::vector<ceb::Finding>* findings);
  // Records a lane that a LaneSelector override chose (tests), so queues still work.
  void record_override(const LaneFacts& f, Lane lane, uint64_t seq, TimeMs now);
  // Draw records decided since the last call, in order (the service stores them).
  void take_draws(std::vector<DrawRecord>* out);

  // ---- queues ----
  // Puts a yellow or red list into its site's queue and draws its inspector among the site's
  // officers on duty, weighted by open workload (weight = kWorkloadScale / (1 + open)).
  void enqueue(std::string_view invtNo, std::string_view site, Lane lane, TimeMs now,
               std::vector<ceb::Finding> reasons);
  void dequeue(std::string_view invtNo);
  // OK if the officer may decide the queued list: registered, on duty, at the list's site, and
  // not claimed by someone else. An unclaimed list is claimed by deciding it.
  Status check_decider(std::string_view officer_id, std::string_view invtNo) const;
  bool is_queued(std::string_view invtNo) const { return queue_.count(std::string(invtNo)) != 0; }

  // ---- credit ----
  // Adds an event to the enterprise's record and re-checks its grade (may open a proposal).
  void credit_event(std::string_view code, CreditEventKind kind, TimeMs now,
                    const ref::Policy& p, ref::CreditGrade current);
  CreditSummary credit(std::string_view code, TimeMs now, const ref::Policy& p) const;
  // Confirmed grade changes whose effective time has come, in order; marks them applied.
  std::vector<GradeChange> take_due_grade_changes(TimeMs now);

  // ---- views ----
  const std::map<CivilDate, SeedRecord>& seeds() const { return seeds_; }
  const SeedRecord* seed(CivilDate day) const;
  const std::map<std::string, Officer, std::less<>>& officers() const { return officers_; }
  const Officer* officer(std::string_view id) const;
  const std::map<std::string, QueueItem, std::less<>>& queue() const { return queue_; }
  const QueueItem* queued(std::string_view invtNo) const;
  const std::map<std::string, ControlOrder, std::less<>>& control_orders() const {
    return control_orders_;
  }
  const std::map<uint64_t, GradeProposal>& proposals() const { return proposals_; }
  const std::vector<GradeChange>& grade_changes() const { return grade_changes_; }
  std::vector<std::string> credit_codes() const;  // enterprises with a record

  std::string dump() const;  // canonical text, for replay comparisons

  // Snapshot (issue #3): every member that is state, in a fixed order (maps in key order). The
  // draw's HMAC key cache is not state: a loaded supervisor re-keys on its first draw.
  void save_state(ByteWriter& w) const;
  // REQUIRES: a freshly constructed supervisor. Reads what save_state wrote; false on
  // malformed input (the supervisor is then unspecified but safe to destroy). Never asserts on
  // input, bounds every count by the bytes left, validates enum values and dates, and checks
  // that officers' open counts match the queue (later claims and dequeues rely on it).
  [[nodiscard]] bool load_state(ByteReader& in);

 private:
  struct CreditBook {
    std::map<int64_t, std::array<int64_t, kCreditEventKinds>> by_day;  // day number -> counts
    uint64_t releases_total = 0;
  };
  std::array<int64_t, kCreditEventKinds> window_counts(const CreditBook& b, TimeMs now,
                                                       const ref::Policy& p) const;
  void check_grade(std::string_view code, TimeMs now, const ref::Policy& p,
                   ref::CreditGrade current);
  void add_open(const std::string& officer_id, int delta);
  Lane decide(const LaneFacts& f, Lane lane, std::string decided_by, const ref::Policy* p,
              uint64_t seq, TimeMs now);
  // HMAC-SHA-256(seed, prefix + invtNo), with the keyed state of the seed kept between draws
  // (they come day by day): same bytes as draw_hmac_hex, without re-keying for every list.
  HmacSha256::Mac draw_mac(const SeedRecord& s, std::string_view prefix, std::string_view invtNo);

  std::map<CivilDate, SeedRecord> seeds_;
  std::map<std::string, Officer, std::less<>> officers_;
  std::map<std::string, QueueItem, std::less<>> queue_;  // invtNo -> item
  std::map<std::string, ControlOrder, std::less<>> control_orders_;
  std::map<std::string, CreditBook, std::less<>> credit_;
  std::map<uint64_t, GradeProposal> proposals_;
  uint64_t next_proposal_id_ = 1;
  std::vector<GradeChange> grade_changes_;  // in confirmation order
  std::vector<DrawRecord> pending_draws_;
  uint64_t draws_total_ = 0;
  // draw_mac's cache: the seed whose key is in draw_key_, and a buffer for the label.
  std::string draw_key_seed_;
  std::unique_ptr<HmacSha256> draw_key_;
  std::string draw_label_;
};

}  // namespace cbec::clearance
