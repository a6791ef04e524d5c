// Negative returnStatus codes (DOMAIN.md §10): −FFFxxx where FFF names the document family
// (301 order, 401 payment, 504 waybill, 505 waybill status, 621 list, 623 cancel, 625 return,
// 800 warehouse entry) and xxx the problem. A record answered with a negative code was not
// stored (nothing changed); fix it and send it again.
#pragma once

#include "messages/ceb.h"

namespace cbec::clearance {

enum class Problem : int {
  kSenderNotRegistered = 1,   // R1: sender is not a registered enterprise
  kSenderNotPermitted = 2,    // R1: wrong role, or sender ≠ the document's own party code
  kNotFound = 3,              // modify/delete of an unknown key; referenced list unknown
  kDuplicate = 4,             // same key, different content, appType 1 (−621004)
  kOverTransactionLimit = 5,  // R4 (−621005), carried in the finding of a rejected list
  kNotModifiable = 6,         // appType 2/3 after a decision
  kMissingKey = 7,            // a field cbec needs as a key is empty (e.g. list copNo)
  kAlreadyLinked = 8,         // order already paid by another payment / declared on a list
  kInvalidValue = 9,          // intake logic check (M1, M5, packNo ...)
  kNotSupported = 10,         // message type not handled in this version
  kOverAnnualLimit = 18,      // R5 (−621018)
  // Cancel (623) and return (625), DOMAIN.md §4.4:
  kOutsideWindow = 20,        // after cancel_window_days / return_apply_days of the release
  kListNotReleased = 21,      // the list is not released (800) or closed (899)
  kConflicting = 22,          // list already cancelled, or has a return that excludes this
  kOverReturnable = 23,       // a line's qty exceeds what is left to return of it
  kTaxAlreadyPaid = 24,       // the bill has payments: refunds are not handled here
};

inline int family_code(ceb::MessageType t) {
  switch (t) {
    case ceb::MessageType::kCEB311: return 301;
    case ceb::MessageType::kCEB411: return 401;
    case ceb::MessageType::kCEB511: return 504;
    case ceb::MessageType::kCEB513: return 505;
    case ceb::MessageType::kCEB621: return 621;
    case ceb::MessageType::kCEB623: return 623;
    case ceb::MessageType::kCEB625: return 625;
    case ceb::MessageType::kCEB711: return 800;
  }
  return 900;
}

// e.g. error_code(kCEB621, kDuplicate) == -621004
inline int error_code(ceb::MessageType t, Problem p) {
  return -(family_code(t) * 1000 + static_cast<int>(p));
}

}  // namespace cbec::clearance
