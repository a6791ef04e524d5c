// Resident identity numbers (GB 11643-1999), rule R2.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/time.h"

namespace cbec::clearance {

// The ISO 7064 MOD 11-2 check character of the first 17 digits ('0'..'9' or 'X').
// REQUIRES: body is 17 ASCII digits.
char resident_id_check_char(std::string_view body17);

// Upper-cases a trailing 'x' and strips surrounding whitespace (DOMAIN.md M3 normalisation).
std::string normalize_id_number(std::string_view id);
// normalize_id_number(a) == normalize_id_number(b), without building either (every list compares
// its buyer with the order's and the payer's: 18 characters do not fit a short string).
bool same_id_number(std::string_view a, std::string_view b);

// Why an ID number fails R2, or nullopt when it is valid: 18 characters, 17 digits and a check
// character, a real birth date (digits 7–14) not after `today`, and the right check character.
// The text names the problem and the values ("check character is 3, expected X").
struct IdProblem {
  std::string zh;
  std::string en;
};
std::optional<IdProblem> check_resident_id(std::string_view id, CivilDate today);

}  // namespace cbec::clearance
