#include "clearance/id_number.h"

#include <algorithm>
#include <cassert>

#include "fmt/format.h"

namespace cbec::clearance {

namespace {
constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
constexpr char kCheckChars[] = "10X98765432";
constexpr size_t kIdLength = 18;
}  // namespace

char resident_id_check_char(std::string_view body) {
  assert(body.size() == 17);
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) sum += (body[i] - '0') * kWeights[i];
  return kCheckChars[sum % 11];
}

namespace {
std::string_view trim_blanks(std::string_view id) {
  while (!id.empty() && (id.front() == ' ' || id.front() == '\t')) id.remove_prefix(1);
  while (!id.empty() && (id.back() == ' ' || id.back() == '\t')) id.remove_suffix(1);
  return id;
}
char upper_x(char c) { return c == 'x' ? 'X' : c; }
}  // namespace

std::string normalize_id_number(std::string_view id) {
  std::string out(trim_blanks(id));
  if (!out.empty()) out.back() = upper_x(out.back());
  return out;
}

bool same_id_number(std::string_view a, std::string_view b) {
  a = trim_blanks(a);
  b = trim_blanks(b);
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return a.substr(0, a.size() - 1) == b.substr(0, b.size() - 1) &&
         upper_x(a.back()) == upper_x(b.back());
}

std::optional<IdProblem> check_resident_id(std::string_view raw, CivilDate today) {
  const std::string_view trimmed = trim_blanks(raw);
  if (trimmed.size() != kIdLength) {
    std::string id = normalize_id_number(raw);
    return IdProblem{fmt::format("证件号码{}长度为{}位，应为18位", id, id.size()),
                     fmt::format("ID number {} has {} characters, expected 18", id, id.size())};
  }
  // Normalised in place of a string: every list is checked, and 18 characters are too long
  // for a short string.
  char normalized[kIdLength];
  std::copy(trimmed.begin(), trimmed.end(), normalized);
  normalized[kIdLength - 1] = upper_x(normalized[kIdLength - 1]);
  const std::string_view id(normalized, kIdLength);
  for (size_t i = 0; i < 17; ++i) {
    if (id[i] < '0' || id[i] > '9') {
      return IdProblem{fmt::format("证件号码{}第{}位不是数字", id, i + 1),
                       fmt::format("ID number {}: character {} is not a digit", id, i + 1)};
    }
  }
  char last = id[17];
  if (!((last >= '0' && last <= '9') || last == 'X')) {
    return IdProblem{fmt::format("证件号码{}校验位{}无效", id, last),
                     fmt::format("ID number {}: check character {} is not 0-9 or X", id, last)};
  }
  auto birth = parse_date8(std::string_view(id).substr(6, 8));
  if (!birth) {
    return IdProblem{fmt::format("证件号码{}出生日期{}无效", id, id.substr(6, 8)),
                     fmt::format("ID number {}: birth date {} is not a valid date", id,
                                 id.substr(6, 8))};
  }
  if (*birth > today) {
    return IdProblem{fmt::format("证件号码{}出生日期{}晚于当前日期", id, id.substr(6, 8)),
                     fmt::format("ID number {}: birth date {} is in the future", id,
                                 id.substr(6, 8))};
  }
  char expected = resident_id_check_char(std::string_view(id).substr(0, 17));
  if (expected != last) {
    return IdProblem{fmt::format("证件号码{}校验位为{}，应为{}", id, last, expected),
                     fmt::format("ID number {}: check character is {}, expected {}", id, last,
                                 expected)};
  }
  return std::nullopt;
}

}  // namespace cbec::clearance
