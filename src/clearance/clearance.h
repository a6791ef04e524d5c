// The clearance core: a deterministic, single-writer state machine.
//
// Public face of src/clearance/. Input is a Command carrying its log sequence number and time
// (both assigned by the durable command log, never read from a clock here); output is the
// receipts the command causes. The core does no I/O. Feeding the same commands in the same
// order always gives the same state and the same receipts (tests/clearance_test_replay.cc).
//
// Where each rule lives (DOMAIN.md IDs):
//   intake, idempotency, appType 1/2/3, R1 ........ engine.cc  (Engine::apply_*)
//   matching M1–M9 ................................ matching.cc
//   review R2–R7, tax regime (R4) ................. review.cc
//   annual quota (R5), stock (R6), guarantee (R7) . src/ledger/ (reserve/commit/release)
//   tax amounts ................................... src/tax/
//   status transitions and receipts (§10) ......... engine.cc (transition_list, emit_*)
//   cancel CEB623, return CEB625 (§4.4) ........... returns.cc (ReturnBook)
//   tax bills, payments, statements (§4.1 step 7) . tax_bills.cc (TaxBook)
//   error codes ................................... error_codes.h
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "archive/found.h"
#include "common/money.h"
#include "common/status.h"
#include "common/time.h"
#include "ledger/ledger.h"
#include "messages/ceb.h"
#include "messages/receipt.h"
#include "reference/reference.h"
#include "tax/tax.h"

namespace cbec::archive {
class Archive;
}

namespace cbec::clearance {

// A record looked up in the core: in memory, or decoded from the archive (archive/found.h).
template <class T>
using Found = archive::Found<T>;

// ---- Parties -------------------------------------------------------------------------------
enum Role : uint32_t {
  kRoleEbp = 1u << 0,        // e-commerce platform: sends orders
  kRoleEbc = 1u << 1,        // e-commerce enterprise: orders, lists
  kRoleAgent = 1u << 2,      // declaring agent: lists, cancels, returns
  kRolePay = 1u << 3,        // payment company: payments
  kRoleLogistics = 1u << 4,  // logistics company: waybills, signed-for status
  kRoleOperator = 1u << 5,   // supervised-site / warehouse operator: entries, stock-in
  kRoleGuarantor = 1u << 6,  // tax guarantor (assureCode)
  kRoleHall = 1u << 7,       // O2O pickup hall
};
using Roles = uint32_t;
// "ebp,pay" <-> bits; unknown names are an error.
Result<Roles> parse_roles(std::string_view comma_separated);
std::string format_roles(Roles r);

struct Enterprise {
  std::string code;
  std::string name;
  Roles roles = 0;
  ref::CreditGrade grade = ref::CreditGrade::kRegular;
};

class Supervisor;
struct DrawRecord;

// ---- Commands ------------------------------------------------------------------------------
// A CEB message whose format was already validated (ceb::read_message_*). `sender` is the
// authenticated enterprise (API key, later certificate); R1 compares it with the documents.
struct SubmitMessage {
  std::string sender;
  ceb::Message message;
};
struct RegisterEnterprise {
  Enterprise enterprise;  // re-registering a code updates name, roles and grade
};
// Stock-in of bonded goods into an account book (入区, DOMAIN.md §4.1 step 1).
struct StockIn {
  std::string operatorCode;  // the warehouse operator declaring it
  std::string emsNo;
  std::string itemRecordNo;
  std::string gcode;
  std::string name;
  std::string unit;
  Decimal qty;
  // Overrides the goods risk class of the HS code for this item (§8 双分级), kept until changed.
  std::optional<ref::RiskClass> risk;
};
struct GuaranteeDeposit {
  std::string assureCode;
  Fen amount_fen = 0;
};
// An officer's decision on a list under manual review (300), inspection (500) or detention.
enum class OfficerAction : uint8_t {
  kRelease,          // → 800
  kReject,           // → 100
  kInspect,          // 300 → 500
  kDetainClearance,  // → 501
  kDetainAntiSmuggling,  // → 502
  kDetainLegal,      // → 503
  kDetainOther,      // → 599
  kRequestModification,  // → 120 waiting: the declarer corrects the list (appType 2)
};
// "release", "reject", "inspect", "detain_501", "detain_502", "detain_503", "detain_599",
// "modify".
std::optional<OfficerAction> parse_officer_action(std::string_view name);

struct OfficerDecision {
  std::string officer_id;
  std::string invtNo;
  OfficerAction action = OfficerAction::kRelease;
  std::string reason;
};
// Nothing but time: lets waiting lists expire when no document arrives.
struct Tick {};
// New reference data and policy (a zone's files, validated before they were logged). Every
// version inside carries its effective date, so lists keep the rates of their declaration date;
// lists still waiting are evaluated with the new data when they next move.
struct LoadReference {
  std::shared_ptr<const ref::ReferenceData> data;  // REQUIRED non-null
};

// ---- Supervision commands (DOMAIN.md §8; rules in supervision.h) ---------------------------
// The secret seed of one Beijing day for the random draws (双随机). The service generates it
// with a CSPRNG and logs it before the day starts; its SHA-256 is published at once and the seed
// itself after the day, so anyone can recompute that day's draws. A day's seed never changes.
struct SetDrawSeed {
  CivilDate day;
  std::string seed;  // kDrawSeedBytes raw bytes
};
// An officer of a site (customs code), on duty or not; re-registering updates name/site/duty.
struct RegisterOfficer {
  std::string officer_id;
  std::string name;
  std::string site;  // customsCode of the lists the officer works
  bool on_duty = true;
};
// An officer takes a list of the site's yellow or red queue (or gives it back).
struct ClaimList {
  std::string officer_id;
  std::string invtNo;
  bool unclaim = false;
};
// The result of a physical inspection (500): no finding releases; a finding feeds the
// enterprise's credit record and takes the action given (reject, detain, modify).
struct InspectionResult {
  std::string officer_id;
  std::string invtNo;
  bool finding = false;
  std::string category;  // finding category, e.g. "misdeclared_goods", "quantity", "prohibited"
  OfficerAction action = OfficerAction::kRelease;  // for a finding: anything but kRelease/kInspect
  std::string reason;
};
// 布控: officers target lists by HS code prefix, enterprise, buyer ID, address or phone; a match
// sends the list to the order's lane until it expires or is revoked.
enum class ControlTarget : uint8_t { kHsCode, kEnterprise, kBuyerId, kAddress, kPhone };
std::optional<ControlTarget> parse_control_target(std::string_view name);
std::string_view control_target_name(ControlTarget t);
enum class Lane : uint8_t { kGreen, kYellow, kRed };
std::string_view lane_name(Lane l);  // "green" / "yellow" / "red"
struct SetControlOrder {
  std::string officer_id;
  std::string order_id;  // chosen by the officer's client; re-using an id updates that order
  ControlTarget target = ControlTarget::kHsCode;
  std::string pattern;   // HS code prefix, exact code/ID/phone, or address substring
  Lane action = Lane::kYellow;  // kYellow or kRed
  TimeMs expires_at = 0;
  std::string reason;
  bool revoke = false;
};
// An officer confirms a grade change (a proposal of the credit rules, or a direct decision with
// its reason); it takes effect at effective_from (≥ the command's time; 0 = at once).
struct ConfirmGrade {
  std::string officer_id;
  std::string code;
  ref::CreditGrade grade = ref::CreditGrade::kRegular;
  TimeMs effective_from = 0;
  std::string reason;
};
// The O2O hall's counter hands a released list's goods to the buyer (DOMAIN.md §4.3; rules in
// hall.cc). The consumer shows the payment voucher reference as pickup code and the last
// characters of the ID number; the list closes (899) only if both match a released O2O list of
// this hall, else the command is refused with the reason (state unchanged).
struct Pickup {
  std::string hallCode;     // the hall enterprise (authenticated by its API key)
  std::string pickup_code;  // the payment's payTransactionId
  std::string id_suffix;    // last kPickupIdSuffixMin..kPickupIdSuffixMax characters of buyerIdNumber
  std::string clerk;        // who handed the goods over (kept in the receipt text)
};
// The warehouse operator confirms that the goods of a return (CEB625, keyed by the return's
// agentCode and copNo) are back in the supervised zone (DOMAIN.md §4.4). Whole returns only: the
// goods of one CEB625 arrive together. Bonded (1210) goods go back into the account book.
struct ReturnArrival {
  std::string operatorCode;  // the confirming warehouse operator (for 1210: the list's areaCode)
  std::string agentCode;     // key of the CEB625
  std::string copNo;
};
// A guarantor pays tax bills (DOMAIN.md §4.1 step 7): one bill (invtNo) or every payable and
// overdue bill of the guarantor (invtNo empty). amount_fen must equal the outstanding amount of
// what it pays (a payer's figure that disagrees with ours is refused, not half-applied).
// paymentRef is the payer's reference (bank transfer / entDutyNo), unique per guarantor: the
// same payment sent again is answered OK and changes nothing.
struct TaxPayment {
  std::string assureCode;
  std::string invtNo;
  std::string paymentRef;
  Fen amount_fen = 0;
};
inline constexpr size_t kMaxPaymentRefChars = 64;

struct Command {
  uint64_t seq = 0;  // log sequence number, strictly increasing
  TimeMs time = 0;   // log time, non-decreasing
  using Body = std::variant<SubmitMessage, RegisterEnterprise, StockIn, GuaranteeDeposit,
                            OfficerDecision, Tick, LoadReference, SetDrawSeed, RegisterOfficer,
                            ClaimList, InspectionResult, SetControlOrder, ConfirmGrade, Pickup,
                            ReturnArrival, TaxPayment>;
  Body body;
};

// ---- Lanes (DOMAIN.md §8) ------------------------------------------------------------------
// Overrides the lane of a list that passed review (tests force lanes with it). Empty: the
// supervision rules decide (control orders, risk findings, the verifiable random draw).
struct LaneContext {
  const ceb::Inventory* inventory;
  const Enterprise* declarer;
  TimeMs time;
};
using LaneSelector = std::function<Lane(const LaneContext&)>;

// Lists the core no longer works with (rejected, released, closed, cancelled, drafts) move to
// the archive with their documents, receipts and index entries once no command touched them for
// this long (log time); they come back on their next access. Checked at the start of every
// command (a Tick only moves the time on when nothing else comes), so that what became idle
// since the previous command leaves in a steady trickle, not in one burst per Tick. Short,
// because what follows a release (a signed-for status, a pickup, a return) comes hours or days
// later and restores the list once, while memory holds about this long × the list rate.
inline constexpr TimeMs kDefaultArchiveAfterMs = 20 * kMsPerSecond;

struct EngineOptions {
  std::shared_ptr<const ref::ReferenceData> reference;  // REQUIRED
  LaneSelector lane_selector;  // empty = the supervision rules choose (see LaneSelector)
  // The cold store (src/archive/archive.h); nullptr keeps everything in memory. The engine
  // writes to it only inside apply(); it must start empty (a replay rebuilds it). With
  // archive_after_ms 0 every command first archives everything not in work (tests use it).
  archive::Archive* archive = nullptr;
  TimeMs archive_after_ms = kDefaultArchiveAfterMs;
};

// ---- Read-only views -----------------------------------------------------------------------
enum class ListState : uint8_t {
  kDraft,        // appStatus 1 (暂存)
  kWaiting,      // 120, waiting for partner documents
  kHeld,         // 120, passed review but held (guarantee / stock / arrival)
  kRejected,     // 100
  kManualReview, // 300
  kInspection,   // 500
  kDetained,     // 501/502/503/599
  kReleased,     // 800
  kClosed,       // 899
  kCancelled,    // 399 in the CEB624: cancelled (CEB623) after release, tax bill void
};
std::string_view list_state_name(ListState s);

struct StatusEvent {
  TimeMs time = 0;
  int returnStatus = 0;
  std::string info;
};

struct ListRecord {
  uint64_t id = 0;  // internal, in order of first declaration
  ceb::Inventory doc;
  std::string sender;
  std::string preNo;
  std::string invtNo;
  ListState state = ListState::kDraft;
  int returnStatus = 0;      // the status of the last receipt
  std::string hold_reason;   // kWaiting / kHeld: what it waits for
  TimeMs declared_at = 0;
  TimeMs expires_at = 0;     // kWaiting / kHeld: rejected at this time if still waiting
  std::vector<ceb::Finding> findings;
  std::optional<tax::ListTax> tax;
  bool reserved = false;     // holds reservations in the three ledgers
  std::vector<StatusEvent> history;
};

struct DocRecord {  // an order, payment or waybill as stored
  std::string sender;
  int returnStatus = 0;  // 1 draft, 120 accepted, 399 concluded
  TimeMs received_at = 0;
  uint64_t list_id = 0;  // the list that uses it (0 = none)
};

struct TaxBill {  // CEB816 shape, one per released list
  std::string invtNo;
  std::string assureCode;
  TimeMs released_at = 0;
  tax::ListTax tax;
  // kOpen: within the cancel/return window (days 0..tax_payable_days), not yet payable.
  // kPayable: from day tax_payable_days + 1; kOverdue: from day tax_due_days + 1 with tax still
  // outstanding. kPaid: nothing outstanding. kVoid: cancelled, or every line returned.
  enum class State : uint8_t { kOpen, kPaid, kVoid, kPayable, kOverdue } state = State::kOpen;

  // ---- Settlement (tax_bills.cc) ----
  std::string taxNo;      // CEB816 taxNo: customs code + year + "T" + serial (18 characters)
  std::string agentCode;  // the declarer, and the e-commerce enterprise, for the credit record
  std::string ebcCode;
  TimeMs payable_at = 0;  // Beijing midnight starting day tax_payable_days + 1
  TimeMs overdue_at = 0;  // Beijing midnight starting day tax_due_days + 1
  // What is levied now: `tax` less the lines' tax taken off by returns (per line and in total).
  tax::ListTax levied;
  Fen paid_fen = 0;
  // Tax taken off by returns whose goods have not arrived yet. The guarantee keeps covering it
  // until the warehouse confirms arrival, because a lapsed return reinstates it.
  Fen pending_return_fen = 0;
  bool overdue_recorded = false;  // the credit record counted this bill once

  Fen outstanding_fen() const { return state == State::kVoid ? 0 : levied.total_fen() - paid_fen; }
  // What the bill holds of its guarantor's guarantee (GuaranteeAccount::open_bills_fen is the
  // sum of this over the guarantor's bills).
  Fen guaranteed_fen() const {
    return state == State::kVoid ? 0 : outstanding_fen() + pending_return_fen;
  }
};
std::string_view tax_bill_state_name(TaxBill::State s);  // "open", "payable", ...

// ---- Cancel (CEB623) and return (CEB625) records (returns.cc) -------------------------------
// Days are Beijing calendar days counted from the release: day 0 is the Beijing date of the
// release, day n the n-th date after it. "Within N days" means on or before day N, judged by the
// log time of the command that carries the request (never the sender's appTime). So a list
// released 2026-05-10 10:00 can be cancelled until 2026-06-09 23:59:59.999 (day 30) and a return
// of it lapses at 2026-06-25 00:00 (start of day 46) unless its goods arrived before.
int64_t days_since_release(TimeMs released_at, TimeMs t);

struct ReturnLine {  // one InvtRefundList line as applied
  int64_t gnum = 0;
  int64_t qty_units = 0;  // returned quantity (Decimal units of the list line's unit)
  Fen dutiable_fen = 0;   // taken off the buyer's annual total for this line
  Fen tariff_fen = 0, ct_fen = 0, vat_fen = 0;  // tax taken off this line of the bill
  int64_t cap_units = 0;  // taken off the buyer's yearly quantity cap (qty1 units)
};
struct ReturnRecord {
  enum class Kind : uint8_t { kCancel, kReturn } kind = Kind::kReturn;
  // kDraft: appStatus 1, no effect. kCancelled: a cancel that took effect. kPending: a return
  // applied, goods not yet back. kArrived: goods back in time (tax not levied). kLapsed: goods
  // not back by day return_arrival_days: tax and annual total reinstated.
  enum class State : uint8_t {
    kDraft,
    kCancelled,
    kPending,
    kArrived,
    kLapsed
  } state = State::kDraft;
  std::string agentCode, copNo;  // the key
  std::string invtNo;
  std::string preNo;  // assigned by us, carried by every receipt of the record
  std::string sender;
  uint64_t digest = 0;
  int returnStatus = 0;  // of the last receipt
  TimeMs applied_at = 0;
  TimeMs lapse_at = 0;  // returns: Beijing midnight starting day return_arrival_days + 1
  TimeMs arrived_at = 0;
  std::vector<ReturnLine> lines;  // returns only
  Fen tax_fen = 0;                // tax taken off the bill (cancel: voided)
  Fen quota_fen = 0;              // taken off the buyer's annual total
};
std::string_view return_state_name(ReturnRecord::State s);

// ---- Guarantor statement and credit record (tax_bills.cc) ----------------------------------
// Every change of what a guarantor owes, in log order. Signs: kBill and kReinstatement add to
// the balance, kReduction, kVoid and kPayment take off; kDeposit is a guarantee lodged and does
// not change the tax balance.
struct TaxJournalEntry {
  enum class Kind : uint8_t { kBill, kReduction, kReinstatement, kVoid, kPayment, kDeposit };
  Kind kind = Kind::kBill;
  TimeMs time = 0;
  std::string invtNo;     // "" for deposits
  std::string reference;  // return/cancel copNo, or the paymentRef
  Fen amount_fen = 0;     // ≥ 0; the kind gives the sign
  Fen signed_fen() const;
};
std::string_view journal_kind_name(TaxJournalEntry::Kind k);  // "bill", "reduction", ...

struct TaxStatement {
  std::string assureCode;
  CivilDate from, to;      // Beijing dates, inclusive
  Fen opening_fen = 0;     // owed at the start of `from`
  Fen bills_fen = 0;       // bills issued in the period
  Fen reinstated_fen = 0;  // lapsed returns
  Fen reductions_fen = 0;  // returns applied
  Fen voids_fen = 0;       // cancels
  Fen payments_fen = 0;
  Fen closing_fen = 0;   // = opening + bills + reinstated − reductions − voids − payments
  Fen deposits_fen = 0;  // guarantee lodged in the period
  std::vector<TaxJournalEntry> entries;  // of the period, in log order
  std::vector<Found<TaxBill>> bills;     // bills issued in the period (per list and per line)
  ledger::GuaranteeAccount guarantee;    // as of the engine's time
};
inline constexpr int64_t kMaxStatementDays = 366;

// What the credit work reads about an enterprise's tax behaviour: bills overdue (counted for the
// guarantor, once per bill, with the amount outstanding when it became overdue) and returns
// that lapsed (counted for the declaring agent).
struct TaxCreditEvent {
  enum class Kind : uint8_t { kOverdueBill, kLapsedReturn } kind = Kind::kOverdueBill;
  TimeMs time = 0;
  std::string invtNo;
  std::string reference;  // the return copNo for lapsed returns
  Fen amount_fen = 0;
};
struct TaxCreditRecord {
  uint32_t overdue_bills = 0;
  Fen overdue_fen = 0;
  uint32_t lapsed_returns = 0;
  std::vector<TaxCreditEvent> events;  // oldest first
};

// ---- Tax before declaration -------------------------------------------------------------
// The tax a list will bear, choosing the regime as review does (R4): preferential within the
// transaction limit, full tax for one indivisible item over it. Fails with kResourceExhausted
// (−621005) when several items exceed the limit, kNotFound when a code has no rate. Platforms use
// this (through `cbec tax estimate` and the API) to fill taxTotal before they declare.
Result<tax::ListTax> estimate_tax(const tax::ListInput& in, const ref::ReferenceData& ref);

// ---- The engine ----------------------------------------------------------------------------
class Engine {
 public:
  explicit Engine(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Applies one command; appends the receipts it causes to *out (in a deterministic order).
  // REQUIRES: cmd.seq > last seq, cmd.time >= last time.
  // Returns non-OK only for an administrative or officer command that was refused (state
  // unchanged); business errors in documents are receipts, not statuses.
  Status apply(const Command& cmd, ceb::Receipts* out) {
    return apply(cmd.seq, cmd.time, cmd.body, out);
  }
  // The same, for callers that hold the body elsewhere (the service applies it in place rather
  // than copying a parsed message of up to 100 records into a Command).
  Status apply(uint64_t seq, TimeMs time, const Command::Body& body,
               ceb::Receipts* out);
  // The same, moving the documents of a message into the state instead of copying them: the
  // body is left valid but unspecified.
  Status apply(uint64_t seq, TimeMs time, Command::Body&& body, ceb::Receipts* out);

  // Queries (read-only).
  const Enterprise* enterprise(std::string_view code) const;
  // Documents and lists are found in memory or in the archive, alike (Found<T>).
  Found<ListRecord> list_by_invt_no(std::string_view invtNo) const;
  Found<ListRecord> list_by_cop_no(std::string_view agentCode, std::string_view copNo) const;
  Found<ListRecord> list_by_order(std::string_view ebpCode, std::string_view orderNo) const;
  Found<ceb::Order> order(std::string_view ebpCode, std::string_view orderNo) const;
  Found<DocRecord> order_record(std::string_view ebpCode, std::string_view orderNo) const;
  Found<ceb::Payment> payment(std::string_view payCode, std::string_view payTransactionId) const;
  Found<ceb::Logistics> waybill(std::string_view logisticsCode,
                                std::string_view logisticsNo) const;
  const ledger::StockLedger& stock() const;
  const ledger::QuotaLedger& quota() const;
  const ledger::GuaranteeLedger& guarantees() const;
  // Every tax bill, in memory and archived, by invtNo (decodes the archive: tools and tests).
  void for_each_tax_bill(const std::function<void(const TaxBill&)>& f) const;
  // Every list, in memory and archived, in id order (decodes the archive: tools and tests).
  void for_each_list(const std::function<void(const ListRecord&)>& f) const;
  // What is in memory now (for the memory bound's tests and metrics).
  struct HotCounts {
    size_t lists = 0, orders = 0, payments = 0, waybills = 0;
    size_t buyer_totals = 0;  // annual totals per buyer and year (the quota ledger)
  };
  HotCounts hot_counts() const;
  uint64_t last_seq() const;
  TimeMs now() const;  // time of the last command applied
  const ref::ReferenceData& reference() const;
  // The buyer name last declared with this ID number ("" if none): the quota query checks it.
  std::string buyer_name(std::string_view buyerIdNumber) const;
  // Every registered enterprise by code (the hall looks pickup codes up over the payment
  // companies; the consumer query looks order numbers up over the platforms).
  const std::map<std::string, Enterprise, std::less<>>& enterprises() const;
  // Intake records of a payment / waybill (nullptr if unknown): when they arrived.
  Found<DocRecord> payment_record(std::string_view payCode,
                                 std::string_view payTransactionId) const;
  Found<DocRecord> waybill_record(std::string_view logisticsCode,
                                  std::string_view logisticsNo) const;
  // When the first of list L's documents arrived: L itself (its first status) or the order,
  // payment or waybill it names, those known. The start of the clearance clock (秒通关); one
  // lookup per partner.
  TimeMs first_document_ms(const ListRecord& L) const;

  // Supervision (DOMAIN.md §8): draws and seeds, officers and their queues, control orders,
  // credit records and grade proposals.
  const Supervisor& supervision() const;
  // The lane decisions made since the last call, in order (the service stores them for the
  // audit; without a caller they accumulate, so long-running users must drain them).
  void take_draws(std::vector<DrawRecord>* out);
  // What the last apply() did with each inventory (CEB621) it was given, in order: resent
  // unchanged (replay: answered with the receipt already issued), or stored as declared or
  // changed (first_declaration: it got its invtNo now). Inventories refused before that are
  // not listed. Cleared by every apply(); for the service's counters and statistics.
  struct ListIntake {
    std::string agentCode;
    std::string copNo;
    bool replay = false;
    bool first_declaration = false;
  };
  const std::vector<ListIntake>& list_intake() const;

  // A canonical text dump of the whole state, for replay comparisons and debugging.
  std::string dump_state() const;

  // ---- Snapshot (issue #3): a restart that need not replay the whole log ----
  // Moves every table entry (documents, lists, bills, ...) to the archive, so that the archive
  // then holds all of them, and writes everything else (ledgers, queues, credit, risk windows,
  // serials, ...) into *out. An engine with the same options whose archive is this one, or a
  // copy of it taken now, and that loads *out answers every later command exactly as this one
  // does. This engine goes on working; its tables refill from the archive as they are used.
  // REQUIRES: an archive is attached (EngineOptions::archive).
  void save_snapshot(std::string* out);
  // Replaces the whole state by a snapshot's (the archive must be the one it was saved with, as
  // it was then). kInternal if the bytes do not decode; the engine is then unchanged.
  Status load_snapshot(std::string_view snapshot);

  // ---- Cancel, return and tax settlement (returns.cc, tax_bills.cc) ----
  Found<TaxBill> tax_bill(std::string_view invtNo) const;
  // CEB623 / CEB625 records by their key (agentCode, copNo); nullptr if none.
  Found<ReturnRecord> cancel_record(std::string_view agentCode, std::string_view copNo) const;
  Found<ReturnRecord> return_record(std::string_view agentCode, std::string_view copNo) const;
  // nullptr if the enterprise has no tax credit event.
  const TaxCreditRecord* tax_credit_record(std::string_view code) const;
  // kInvalidArgument if to < from or the period is longer than kMaxStatementDays.
  Result<TaxStatement> tax_statement(std::string_view assureCode, CivilDate from,
                                     CivilDate to) const;
  // Asserts money conservation: per guarantor, the guarantee's open bills equal what the bills
  // hold (outstanding + pending returns), and the journal balance equals what is outstanding.
  // O(bills + journal): for tests and audits, not the hot path.
  void check_tax_invariants() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// ---- O2O pickup hall (DOMAIN.md §4.3; hall.cc) -----------------------------------------------
// The ID suffix the counter asks for: long enough that guessing is hopeless at a counter, short
// enough to read off a card.
inline constexpr size_t kPickupIdSuffixMin = 4;
inline constexpr size_t kPickupIdSuffixMax = 6;
inline constexpr size_t kMaxPickupCodeBytes = 60;  // payTransactionId is at most 60 characters
static_assert(kPickupIdSuffixMin <= kPickupIdSuffixMax && kPickupIdSuffixMax < 18);

// Why a pickup is refused. The refusal travels as a Status whose message is
// "[<name>] <中文> / <English>" (pickup_refusal), so that the log replays it like any refusal and
// the counter page can still show the reason in either language (parse_pickup_refusal).
enum class PickupRefusal : uint8_t {
  kBadInput,        // code or ID suffix malformed
  kUnknownCode,     // no payment with this voucher reference
  kNotPickupOrder,  // the order ships by courier, not through a hall
  kOtherHall,       // the order is for pickup at another hall
  kNotReleased,     // no list yet, or the list is not released (its state is named)
  kAlreadyPickedUp, // closed before (when is named)
  kWrongId,         // the ID suffix does not match the buyer's
};
std::string_view pickup_refusal_name(PickupRefusal r);  // "unknown_code", ...
Status pickup_refusal(PickupRefusal r, std::string_view zh, std::string_view en);
struct PickupRefusalText {
  std::string reason;  // pickup_refusal_name
  std::string zh;
  std::string en;
};
std::optional<PickupRefusalText> parse_pickup_refusal(std::string_view status_message);

// The hall whose waybill a list names ("" when the list's logistics company is not a hall): such
// a list is an O2O pickup list.
std::string o2o_hall_of(const Engine& e, const ceb::Inventory& list);
// What a pickup code (payTransactionId) leads to. The code is looked up at every registered
// payment company (a handful), so no index over payments is needed.
struct PickupTarget {
  Found<ceb::Payment> payment;
  Found<ceb::Order> order;     // empty if the order is not (yet) known
  Found<ListRecord> list;      // empty if no list was declared for the order
  std::string hall;                      // o2o_hall_of(list), "" if none or no list
};
std::optional<PickupTarget> find_pickup(const Engine& e, std::string_view pickup_code);
// The checks of a pickup, in the order the counter needs them; OK means the list may close.
// REQUIRES nothing: every failure is a pickup_refusal Status.
Result<PickupTarget> check_pickup(const Engine& e, const Pickup& p);
// Time the list was closed by a pickup or a signed-for status (0 if it is not closed).
TimeMs closed_at(const ListRecord& L);
// Chinese and English words for a list state, for people (the counter, the consumer page).
std::string_view list_state_zh(ListState s);
std::string_view list_state_en(ListState s);

}  // namespace cbec::clearance
