// Internal: the rule checks of matching (M1–M9) and review (R2–R4), as pure functions that
// append findings. Ledger rules (R5–R7) are reservations, applied by the engine.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "clearance/clearance.h"

namespace cbec::clearance {

ceb::Finding make_finding(std::string_view rule, std::string field, std::string zh,
                          std::string en);

// Collapses whitespace runs to one space and trims (names, addresses, phones, M3/M4).
std::string normalize_text(std::string_view s);

// M1 and M5: checks the order can make on its own, at intake.
void check_order_intake(const ceb::Order& order, std::vector<ceb::Finding>* findings);

struct MatchInput {
  const ceb::Inventory* list;
  const ceb::Order* order;
  const ceb::Payment* payment;
  const ceb::Logistics* waybill;
};
// M2–M4, M6–M9 (M1/M5 are re-checked too, in case policy changed). `guarantor_ok` says whether
// assureCode is a registered enterprise with the guarantor role.
void match_documents(const MatchInput& in, const ref::Policy& policy, bool guarantor_registered,
                     std::vector<ceb::Finding>* findings);

struct ReviewOutcome {
  tax::Regime regime = tax::Regime::kPreferential;
  Fen dutiable_fen = 0;
  std::optional<tax::ListTax> tax;  // set when no finding prevented computing it
};
// R2 (buyer ID), R3 (positive list and remarks, except yearly caps which need buyer history),
// R4 (transaction limit / full-tax single item), and the tax.
void review_list(const ceb::Inventory& list, CivilDate decl_date, CivilDate today,
                 const ref::ReferenceData& ref, std::vector<ceb::Finding>* findings,
                 ReviewOutcome* outcome);

// The tax input of a list (views into `list`; `lines` is storage the caller keeps alive).
tax::ListInput tax_input(const ceb::Inventory& list, CivilDate date,
                         std::vector<tax::LineInput>* lines);

}  // namespace cbec::clearance
