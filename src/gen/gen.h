// The demo zone and a generator of realistic, mutually consistent CEB document sets.
//
// Public face of src/gen/. demo_zone() describes a Zhengzhou-style bonded zone: its registered
// enterprises, officers and one bonded account book. generate() builds document sets (order
// CEB311, payment CEB411, waybill CEB511, inventory list CEB621) for that zone, deterministic
// under Options::seed: the same zone, options and reference data give identical records on every
// run and platform (own integer RNG arithmetic; no std::random_device, clock or std::
// distributions, whose results differ between standard libraries).
//
// Good sets pass every rule of DOMAIN.md §5–§6: M1–M9, valid buyer IDs (R2), goods on the
// positive list with their remarks and yearly caps (R3), dutiable value within the transaction
// limit (R4, except the optional full-tax single items, which R4 accepts at full tax), buyer
// annual totals within the limit (R5), bonded stock available (R6), assuming the lists are
// released in generation order and faulty sets are rejected. A share of sets carries exactly one
// fault each, with the rule it breaks and the field concerned (Expected).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/decimal.h"
#include "common/money.h"
#include "common/status.h"
#include "common/time.h"
#include "messages/ceb.h"
#include "reference/reference.h"
#include "tax/tax.h"

namespace cbec::gen {

// ---- The demo zone ------------------------------------------------------------------------

// Role bits. Names (role_names) are those the clearance core's registration parses:
// "ebp", "ebc", "agent", "pay", "logistics", "operator", "guarantor", "hall".
enum Role : uint32_t {
  kRoleEbp = 1u << 0,
  kRoleEbc = 1u << 1,
  kRoleAgent = 1u << 2,
  kRolePay = 1u << 3,
  kRoleLogistics = 1u << 4,
  kRoleOperator = 1u << 5,
  kRoleGuarantor = 1u << 6,
  kRoleHall = 1u << 7,
};
std::string role_names(uint32_t roles);  // "agent,operator,guarantor" (bit order)

struct Enterprise {
  std::string code;  // 10 characters
  std::string name;
  uint32_t roles = 0;
  ref::CreditGrade grade = ref::CreditGrade::kRegular;
  Fen guarantee_fen = 0;  // guarantee to lodge at start-up (guarantors only)
  bool has(Role r) const { return (roles & r) != 0; }
};

struct Officer {
  std::string id;
  std::string name;
};

// One item of the bonded account book (账册表体).
struct BookItem {
  std::string itemRecordNo;         // "1", "2", ...
  std::string gcode;                // 10-digit HS code
  std::string name;                 // Chinese goods name: order itemName and list gname
  std::string gmodel;               // 规格型号: brand, spec, composition
  std::string barCode;              // EAN-13
  std::string unit;                 // JGS-20 declared unit ("122" 罐, "142" 瓶, ...)
  std::string unit1;                // legal first unit ("035" kg, "095" L, "007" 个)
  int64_t qty1_per_unit_units = 0;  // legal quantity of one declared unit, Decimal units
  int64_t net_weight_g = 0;         // net weight of one declared unit
  Fen price_fen = 0;                // unit price
  std::string country;              // origin, JGS-20 numeric (502 USA, 303 Germany, ...)
  int64_t initial_stock = 0;        // declared units at stock-in
  // Roles in generation: a limited item has little stock (R6 faults draw on it); a premium item
  // is a single item over the transaction limit (full tax); an off-list item is not on the
  // positive list (R3 faults only).
  bool limited = false;
  bool premium = false;
  bool off_list = false;
};

struct Zone {
  std::string customsCode;  // "4612"
  std::string portCode;     // "4612"
  std::string emsNo;        // bonded account book, "T4612W000001"
  std::string areaCode;     // warehouse enterprise inside the zone (the agent)
  std::string areaName;
  std::string hallCode;  // O2O pickup hall operator
  std::string hallAddress;  // where O2O buyers collect (the consignee address of hall orders)
  std::vector<Enterprise> enterprises;
  std::vector<Officer> officers;
  std::vector<BookItem> items;

  const Enterprise* find(std::string_view code) const;  // nullptr if not registered
  std::vector<const Enterprise*> with_role(Role r) const;
  const BookItem* item(std::string_view itemRecordNo) const;
};

// The Zhengzhou-style demo zone (customs 4612, two platforms, three e-commerce enterprises, an
// agent that runs the bonded warehouse and guarantees the tax, two payment and two logistics
// companies, an O2O hall, officers, and an account book of 22 items).
Zone demo_zone();

// ---- Buyers -------------------------------------------------------------------------------

struct Buyer {
  std::string name;
  std::string idNumber;  // 18-character resident ID with a valid check character
  std::string phone;     // 1[3-9]xxxxxxxxx
  std::string regNo;     // account id on the platform
  std::string address;   // full delivery address
  std::string district;  // 6-digit administrative code of the address
};

// ISO 7064 MOD 11-2 check character ('0'..'9' or 'X') of the first 17 digits of a resident ID.
// REQUIRES: body17 is 17 ASCII digits.
char id_check_char(std::string_view body17);

// ---- The generator ------------------------------------------------------------------------

// Faults, one per faulty set. Each breaks exactly the rule of its name:
//   M1 acturalPaid off by 0.01 (payment follows, so M2 holds); M2 amountPaid differs;
//   M3 payerName differs; M4 waybill consigneeTelephone differs; M5 an order line's totalPrice
//   ≠ price × qty (the list repeats the order's figures, so M6 holds); M6 a list gname differs
//   from the order itemName; M7 the order's payTransactionId differs from the payment's;
//   M8 a 1210 list without emsNo; M9 assureCode of an unregistered company; R2 buyer ID with a
//   wrong check character (the same in order, payment and list); R3 a line of cigarettes
//   (2402200000, not on the positive list); R4 more than one item over the transaction limit;
//   R5 a buyer whose earlier good sets in this run leave too little of the annual limit;
//   R6 more of the limited item than remains in stock.
enum class Fault : uint8_t {
  kNone,
  kM1,
  kM2,
  kM3,
  kM4,
  kM5,
  kM6,
  kM7,
  kM8,
  kM9,
  kR2,
  kR3,
  kR4,
  kR5,
  kR6,
};
inline constexpr int kFaultKinds = 14;  // kM1 .. kR6
std::string_view fault_rule(Fault f);   // "M1" .. "R6", "" for kNone

struct Expected {
  Fault fault = Fault::kNone;
  std::string rule;   // "" for a good set
  std::string field;  // receipt field path, e.g. "Order/OrderHead/acturalPaid"
  // The tax the list bears (tax::compute on the list, regime by R4), which is the order's
  // taxTotal; and V as R4/R5 see it.
  tax::ListTax tax;
  Fen dutiable_fen = 0;
};

struct DocSet {
  ceb::Order order;
  ceb::Payment payment;
  ceb::Logistics waybill;
  ceb::Inventory inventory;
  Expected expected;
};

struct Options {
  uint64_t seed = 1;
  int count = 100;  // document sets, 1 .. kMaxCount
  // appTime of the first set; each further set is 1–6 s later. 0 = 2025-06-18 08:00:00 Beijing.
  TimeMs start_time = 0;
  // Share of faulty sets, 0 .. 0.5 (R5 faults need good sets of the same buyer before them).
  // Round-robin: exactly round(count × share) faults, evenly spread, kinds in the order of
  // Fault (M1, M2, ..., R6, M1, ...). Random: each set is faulty with that probability, with a
  // kind drawn at random (R5 only once a buyer has been loaded for it, else another kind).
  double fault_share = 0.0;
  bool faults_round_robin = true;
  double share_9610 = 0.0;      // direct-mail sets (no account book), the rest are 1210
  double share_full_tax = 0.0;  // good sets of one premium item over the transaction limit
  double share_discount = 0.1;  // good sets with a non-cash discount (coupon)
  // Bonded sets bought at the zone's O2O hall (DOMAIN.md §4.3): the hall is the carrier (its
  // pickup waybill) and the buyer collects there. 0 draws nothing, so existing seeds are unchanged.
  double share_hall = 0.0;
};
inline constexpr int kMaxCount = 1000000;

struct Generated {
  std::vector<DocSet> sets;
  // What the run needs from the zone beyond demo_zone() defaults, for good sets: tax per
  // guarantor (to size deposits) and units per account-book item.
  std::vector<std::pair<std::string, Fen>> tax_by_guarantor_fen;
  std::vector<std::pair<std::string, int64_t>> units_by_item;  // itemRecordNo → units
};

// Generates with the embedded default reference data (ref::ReferenceData::LoadDefaults()).
// Fails with kInvalidArgument for options out of range, or kInternal if the zone cannot supply
// a good set (stock exhausted, no goods fit the limits).
Result<Generated> generate(const Zone& zone, const Options& options);
Result<Generated> generate(const Zone& zone, const Options& options,
                           const ref::ReferenceData& reference);

// ---- Messages -----------------------------------------------------------------------------

// Groups the records of one type into messages of at most 100 records, one sender per message
// (orders: ebpCode, payments: payCode, waybills: logisticsCode, lists: agentCode), senders in
// order of first appearance, records in generation order. Each message has a guid derived from
// its records (deterministic), version "1.0" and BaseTransfer {copCode = sender, copName from the
// zone (or the record), dxpMode "DXP", dxpId "DXPENT0000000001"}.
// REQUIRES: type is kCEB311, kCEB411, kCEB511 or kCEB621.
std::vector<ceb::Message> to_messages(const Zone& zone, std::span<const DocSet> sets,
                                      ceb::MessageType type);

}  // namespace cbec::gen
