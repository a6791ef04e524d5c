// Field descriptions shared by every CEB record type.
//
// Each record struct (generated from the XSD into ceb_types.gen.h) has a constexpr table
// kFields<T> that names its fields in XSD order with their facets. The XML and JSON readers,
// the validator and the writers all walk that table, so a facet is stated exactly once.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "common/decimal.h"

namespace cbec::ceb {

enum class FieldKind : uint8_t {
  kString,   // xs:string with length facets; stored as the text sent (whitespace-trimmed)
  kDecimal,  // xs:decimal totalDigits 19 fractionDigits 5; stored as Decimal
  kInt,      // xs:int / int(9); stored as int64_t
};

// Lexical form required on top of the length facets.
enum class Lexical : uint8_t {
  kAny,
  kDigits,      // [0-9]+
  kDate8,       // yyyyMMdd, a real calendar date
  kDateTime14,  // yyyyMMddHHmmss, a real calendar time
};

// A small fixed set of allowed values (the XSD leaves most codes as free strings).
struct EnumSet {
  std::array<std::string_view, 4> values{};
  uint8_t count = 0;
  constexpr EnumSet() = default;
  constexpr EnumSet(std::initializer_list<std::string_view> list) {
    for (auto v : list) values[count++] = v;
  }
  constexpr bool empty() const { return count == 0; }
  constexpr bool contains(std::string_view v) const {
    for (uint8_t i = 0; i < count; ++i)
      if (values[i] == v) return true;
    return false;
  }
};
inline constexpr EnumSet kNoEnum{};

template <class T>
struct FieldSpec {
  std::string_view name;
  FieldKind kind;
  bool required;
  // kString: min and max length in characters (UTF-8 code points); max 0 = unbounded.
  // kInt: max = number of digits allowed.
  uint16_t min_len;
  uint16_t max_len;
  EnumSet allowed;
  Lexical lexical;
  // Exactly one of these is set, according to kind.
  std::string T::*str;
  Decimal T::*dec;
  int64_t T::*num;
};

// Specialised for every record type in ceb_types.gen.h.
template <class T>
inline constexpr std::array<FieldSpec<T>, 0> kFields{};
template <class T>
inline constexpr std::string_view kElementName{};

}  // namespace cbec::ceb
