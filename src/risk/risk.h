// Risk monitor: R8 price sanity and the R10 risk patterns of DOMAIN.md §9.
//
// Public face of src/risk/. The clearance engine calls Monitor::evaluate for every list that
// passed review, before lane selection, and Monitor::on_release when a list is released. The
// monitor keeps sliding windows of what it has seen and answers with findings (ceb::Finding,
// rule "R8" or "R10") that explain themselves with the numbers that triggered them; the engine
// decides what a finding does (DOMAIN.md §6: manual review).
//
// Contract
// - Deterministic: the same sequence of calls gives the same findings and the same dump(). The
//   monitor reads no clock (times come from the caller, i.e. the command log), iterates no
//   unordered container into its output and decides with integers only (fen, basis points,
//   counts, 1e-5 quantity units).
// - Bounded memory: every table has a named limit (Limits) and every per-key window a fixed
//   capacity (the k* constants below). Entries expire by time when their key is touched; a full
//   table evicts its least recently touched key. A full event window folds its two oldest events
//   into one (keeping the sum and the later time), so sums and counts never under-count; they
//   may count a folded event a little longer than its own age allows. A full distinct set (IDs
//   per phone, ...) forgets its least recently seen member; thresholds are capped at the set's
//   capacity (policy parsing enforces it), so the count stays at or above any threshold.
// - No personal data in state: identities (buyer ID, phone, address) and item and list keys are
//   kept as 64-bit (table keys) or 32-bit (members of a window) hashes. Hashing ignores ASCII
//   whitespace and ASCII case, so "11010519491231002x" and "... 002X" are one buyer.
// - Windows slide: an event of time t counts at time now while now - t < window (an event exactly
//   one window old has expired). Identity windows have one-second resolution, the payment-company
//   window counts whole Beijing calendar days (today and the window - 1 days before) and the
//   platform-volume window counts the current and the previous 59 whole minutes.
// - Re-evaluating a list (same invtNo, e.g. after a hold or a modification) replaces its earlier
//   contribution to the per-buyer, per-address and per-item windows instead of adding to it. The
//   payment company's list count is the exception: it counts evaluations.
// - Cheap: evaluate and on_release do a bounded amount of work per list (one hash probe per key,
//   at most a few dozen window entries per key) and allocate nothing once the tables are full.
//   Not thread-safe: the engine calls it from its single apply thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/decimal.h"
#include "common/money.h"
#include "common/time.h"
#include "messages/receipt.h"
#include "reference/reference.h"

namespace cbec {
class ByteWriter;
class ByteReader;
}  // namespace cbec

namespace cbec::risk {

// The risk_* fields of the policy version in force (ref::Policy, config/defaults/policy.toml).
using RiskPolicy = ref::Policy;

struct LineFacts {
  std::string_view gcode;         // 10-digit HS code
  std::string_view itemRecordNo;  // bonded item record; empty for 9610 (gcode is used instead)
  Decimal qty;                    // declared quantity in `unit`
  std::string_view unit;          // JGS-20 unit code; prices are compared per (gcode, unit)
  Fen price_fen = 0;              // unit price
  Fen total_fen = 0;
};

struct ListFacts {
  TimeMs time = 0;  // log time of the evaluation or release (never the wall clock)
  std::string_view invtNo, ebpCode, ebcCode, payCode, logisticsCode;
  std::string_view buyerIdNumber, buyerTelephone, consigneeAddress;  // empty = not known
  Fen dutiable_fen = 0;                                              // the list's dutiable value
  Fen transaction_limit_fen = 0;  // the R4 limit in force for the list
  std::span<const LineFacts> lines;
  TimeMs order_time = 0, payment_time = 0, waybill_time = 0;  // appTime of each; 0 = unknown
};

// The hashes of a list's identities (invtNo, buyer ID, address, phone, payment company,
// platform) under which the monitor keeps its windows; a flag is false when the text is blank.
// keys_of(f) hashes them (about a thousand instructions: the address is long); a caller that
// shows one list to evaluate() and then to on_release() hashes once and passes them to both.
struct ListKeys {
  bool buyer = false, address = false, phone = false, payco = false, platform = false;
  uint64_t buyer_h = 0, address_h = 0, phone_h = 0, payco_h = 0, platform_h = 0;
  uint32_t list_tag = 0;
  bool operator==(const ListKeys&) const = default;
};
ListKeys keys_of(const ListFacts& f);

// The patterns, each a sub-code of R10 (kUnderValuation is R8). A finding's `en` text starts
// with the code ("split.buyer: ..."), and pattern_of() reads it back.
enum class Pattern : uint8_t {
  kSplitBuyer,       // split.buyer       拆单: one buyer, many lists just under the limit
  kSplitAddress,     // split.address     拆单: one address, many lists just under the limit
  kIdentityPhone,    // identity.phone    one phone used by many buyer IDs
  kIdentityAddress,  // identity.address  one address used by many buyer IDs
  kIdentityBuyer,    // identity.buyer    one buyer ID at many addresses
  kVelocity,         // velocity          a buyer's quota consumed fast
  kUnderValuation,   // undervalue        R8: unit price far below the reference
  kBulk,             // bulk              many units of one item to one address
  kTimingPayment,    // timing.payment    payment before the order
  kTimingWaybill,    // timing.waybill    waybill before the payment
  kPaymentCompany,   // concentration.payco     small payment company, many platforms
  kPlatformVolume,   // concentration.platform  platform releases above plausible traffic
};
inline constexpr size_t kPatternCount = 12;
std::string_view pattern_code(Pattern p);
// The pattern of a finding this module produced; false for any other finding.
bool pattern_of(const ceb::Finding& f, Pattern* out);

// Per-key window capacities. Policy parsing (reference.cc) caps the thresholds that depend on
// them: risk_identity_* <= kDistinctPerKey, risk_payco_platforms <= kPlatformsPerPayco,
// risk_price_history <= kPriceHistoryMax, risk_payco_window_days <= kPaycoDays.
inline constexpr size_t kEventsPerKey = 6;        // split / velocity / bulk events per key
inline constexpr size_t kDistinctPerKey = 16;     // IDs per phone or address, addresses per ID
inline constexpr size_t kPlatformsPerPayco = 16;  // platforms remembered per payment company
inline constexpr size_t kPriceHistoryMax = 255;   // released unit prices kept per (code, unit)
inline constexpr int kPaycoDays = 90;             // day buckets per payment company
inline constexpr int kPlatformMinutes = 60;       // minute buckets per platform (one hour)

// Table sizes (distinct keys). The defaults hold about 70 MB when every table is full: a
// tracked buyer costs ~450 bytes, an address ~300, a phone ~150, an (address, item) ~170, a
// price history ~4 KB. A zone sizes them to the number of distinct buyers it expects within its
// longest window; beyond it the least recently active keys are forgotten first.
struct Limits {
  size_t buyers = size_t{1} << 16;
  size_t addresses = size_t{1} << 16;
  size_t phones = size_t{1} << 16;
  size_t bulk_keys = size_t{1} << 16;    // (address, item) pairs
  size_t price_codes = size_t{1} << 12;  // (gcode, unit) pairs with a reference price
  size_t pay_companies = 1024;
  size_t platforms = 1024;
};
inline constexpr size_t kMaxTableKeys = size_t{1} << 26;  // what one table can index

// Current number of keys per table, for tests and metrics.
struct Sizes {
  size_t buyers = 0, addresses = 0, phones = 0, bulk_keys = 0, price_codes = 0, pay_companies = 0,
         platforms = 0;
};

class Monitor {
 public:
  // REQUIRES: every limit in 1..kMaxTableKeys.
  explicit Monitor(const Limits& limits = Limits{});
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Appends this list's findings to *out (R8 per line, R10 per pattern and key), then records
  // the list in the windows (splitting, identity, bulk, payment-company counts). REQUIRES: p is
  // a validated policy (ReferenceData loaders check the ranges).
  void evaluate(const ListFacts& f, const RiskPolicy& p, std::vector<ceb::Finding>* out);
  // The same with f's keys already hashed. REQUIRES: k == keys_of(f).
  void evaluate(const ListFacts& f, const ListKeys& k, const RiskPolicy& p,
                std::vector<ceb::Finding>* out);

  // A released list: its unit prices feed the reference price per (gcode, unit, and itemRecordNo
  // for bonded items: R8's median of the last risk_price_history releases), its value the
  // buyer's velocity window and it counts toward its platform's hourly volume.
  void on_release(const ListFacts& f, const RiskPolicy& p);
  // REQUIRES: k == keys_of(f).
  void on_release(const ListFacts& f, const ListKeys& k, const RiskPolicy& p);

  // Canonical text of the whole state (keys as hashes, most recently touched first), for replay
  // comparisons: two monitors given the same calls have byte-identical dumps.
  std::string dump() const;

  Sizes sizes() const;
  const Limits& limits() const { return limits_; }

  // Snapshot (issue #3): every table with its keys in recency order and their touch times, so
  // a loaded monitor evicts, expires and finds exactly as this one would. The limits are
  // configuration (the constructor's), not state: the blob carries them only so that a load
  // under other limits fails instead of misreading. The per-list scratch buffer is not state.
  void save_state(ByteWriter& w) const;
  // REQUIRES: a freshly constructed monitor. Reads what save_state wrote; false on malformed
  // input or other limits (the monitor is then unspecified but safe to destroy). Never asserts
  // on input; allocates at most what the limits allow.
  [[nodiscard]] bool load_state(ByteReader& in);

 private:
  struct State;
  Limits limits_;
  std::unique_ptr<State> s_;
};

}  // namespace cbec::risk
