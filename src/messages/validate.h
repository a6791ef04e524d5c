// The one validator of record fields, shared by the XML and the JSON reader. Internal.
//
// A reader hands RecordFields<T> the children of one record element (or the keys of one JSON
// object) as (name, text) pairs in document order; RecordFields walks kFields<T> to check
// unknown, duplicated, out-of-order and missing fields and every facet, converts the text into
// the struct, and reports problems as Violations with the record index and the field path.
//
// Problem texts (stable: tests and integrators match on them):
//   "required", "duplicated", "unknown element", "out of order: expected X",
//   "length N, maximum M", "length N, minimum M", "length N, must be M", "not one of 1, 2, 3",
//   "not a valid date (yyyyMMdd)", "not a valid time (yyyyMMddHHmmss)", "not digits only",
//   decimal_error_text() ("more than 5 fraction digits", ...), "not an integer",
//   "more than 9 digits", "out of range for xs:int", "invalid UTF-8",
//   "control character not allowed".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/ceb.h"
#include "messages/text.h"

namespace cbec::ceb::internal {

// Collects violations up to kMaxViolationsReported; later ones are dropped, so a
// hostile message cannot make the answer large.
class ViolationList {
 public:
  void add(int record, std::string path, std::string problem) {
    if (list_.size() < kMaxViolationsReported) {
      list_.push_back(Violation{record, std::move(path), std::move(problem)});
    }
  }
  // A text, attribute or name carried bytes that are not valid UTF-8 / XML characters.
  void note_char_problem() { char_problem_ = true; }
  bool char_problem() const { return char_problem_; }
  bool empty() const { return list_.empty(); }
  std::vector<Violation> take() { return std::move(list_); }

 private:
  std::vector<Violation> list_;
  bool char_problem_ = false;
};

// Facet checks. Each returns the problem text, or an empty string when the value is valid.
// `text` is already trimmed of XML whitespace; characters are checked separately (check_chars).
std::string check_chars(std::string_view text);
std::string check_string(std::string_view text, uint16_t min_len, uint16_t max_len,
                         const EnumSet& allowed, Lexical lexical);
// The same with the text's length in code points already known (from its character scan).
std::string check_string(std::string_view text, size_t code_points, uint16_t min_len,
                         uint16_t max_len, const EnumSet& allowed, Lexical lexical);
// The checks of check_string after the length facets: the allowed values, then the lexical form.
std::string check_string_value(std::string_view text, const EnumSet& allowed, Lexical lexical);
// xs:int with at most max_digits significant digits.
std::string parse_int_field(std::string_view text, uint16_t max_digits, int64_t* out);
std::string parse_decimal_field(std::string_view text, Decimal* out);

// Root attributes guid (exactly 36) and version (1..10), shared by both readers and the writers.
inline constexpr uint16_t kGuidChars = 36;
inline constexpr uint16_t kVersionMinChars = 1;
inline constexpr uint16_t kVersionMaxChars = 10;

// Checks a root attribute's text (guid / version) and stores it trimmed; reports with record 0.
void read_root_attribute(std::string_view raw, uint16_t min_len, uint16_t max_len, std::string* out,
                         ViolationList* violations, const std::string& path);

// "N elements, maximum M" for a repeated node over its limit.
std::string too_many(size_t count, size_t max);

inline constexpr int kMaxBaseSubscribe = 5;  // XSD maxOccurs of BaseSubscribe

// Path of a repeated node: "Order[3]" (1-based, as the violations count records).
std::string indexed(std::string_view name, size_t one_based);

// Whether the texts a reader hands over still need their characters checked. The XML reader
// checks the whole document once (texts are cut from it, and the only references it lets
// through decode to allowed characters); JSON unescapes \u sequences, so each text is checked.
enum class TextChars : uint8_t { kCheck, kValid };

template <class T>
class RecordFields {
  static constexpr const auto& kSpec = kFields<T>;
  static_assert(kSpec.size() > 0 && kSpec.size() <= 64, "seen_ is a 64-bit mask");

 public:
  // prefix is the path of the record element ("Order[3]/OrderHead"); enforce_order is false for
  // JSON, whose object keys carry no order.
  RecordFields(T* out, ViolationList* violations, int record, std::string prefix,
               bool enforce_order, TextChars chars = TextChars::kCheck)
      : out_(out),
        violations_(violations),
        record_(record),
        prefix_(std::move(prefix)),
        enforce_order_(enforce_order),
        chars_(chars) {}

  // A child element with text content (pcdata/CDATA concatenated), or a JSON string or the exact
  // token text of a JSON number.
  void text(std::string_view name, std::string_view raw) {
    int i = claim(name);
    if (i < 0) return;
    apply(kSpec[i], raw);
  }

  // A child that is present but has the wrong shape (element content in XML; an object, array
  // or boolean in JSON). It counts as present so that "required" is not reported as well.
  void wrong_shape(std::string_view name, std::string_view problem) {
    int i = claim(name);
    if (i < 0) return;
    violations_->add(record_, field_path(kSpec[i].name), std::string(problem));
  }

  // A JSON null: the field is treated as absent (a common way to send an empty optional field).
  void absent(std::string_view name) {
    if (find(name) < 0) unknown(name);
  }

  // The path of the record element, as given to the constructor.
  const std::string& prefix() const { return prefix_; }

  // Reports required fields that never came.
  void finish() {
    for (size_t i = 0; i < kSpec.size(); ++i) {
      if (kSpec[i].required && (seen_ & bit(i)) == 0) {
        violations_->add(record_, field_path(kSpec[i].name), "required");
      }
    }
  }

 private:
  static uint64_t bit(size_t i) { return uint64_t{1} << i; }

  static int find(std::string_view name) {
    for (size_t i = 0; i < kSpec.size(); ++i) {
      if (kSpec[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }
  // Senders write fields in XSD order, so the field after the last one found is tried first
  // (names are unique, so the answer is find()'s).
  int find_from_hint(std::string_view name) {
    int i = hint_ < kSpec.size() && kSpec[hint_].name == name ? static_cast<int>(hint_)
                                                               : find(name);
    if (i >= 0) hint_ = static_cast<size_t>(i) + 1;
    return i;
  }

  std::string field_path(std::string_view name) const {
    std::string p = prefix_;
    p += '/';
    p += name;
    return p;
  }

  void unknown(std::string_view name) {
    violations_->add(record_, field_path(printable_name(name)), "unknown element");
  }

  // Index of the field, after the unknown/duplicate/order checks; -1 when it must be ignored.
  int claim(std::string_view name) {
    int i = find_from_hint(name);
    if (i < 0) {
      unknown(name);
      return -1;
    }
    auto idx = static_cast<size_t>(i);
    if (seen_ & bit(idx)) {
      violations_->add(record_, field_path(kSpec[idx].name), "duplicated");
      return -1;
    }
    seen_ |= bit(idx);
    if (enforce_order_) {
      if (idx < next_) {
        std::string expected = next_ < kSpec.size() ? std::string(kSpec[next_].name)
                                                    : "end of " + std::string(kElementName<T>);
        violations_->add(record_, field_path(kSpec[idx].name),
                         "out of order: expected " + expected);
      } else {
        next_ = idx + 1;
      }
    }
    return i;
  }

  void apply(const FieldSpec<T>& f, std::string_view raw) {
    std::string_view text = trim_xml_space(raw);
    // One pass over the text both checks its characters and counts them for the length facets.
    // Texts known valid are counted only where a length facet needs it (strings).
    size_t code_points = 0;
    if (chars_ != TextChars::kValid) {
      CharScan scan = scan_chars(text);
      if (scan.issue != CharIssue::kNone) {
        violations_->note_char_problem();
        violations_->add(record_, field_path(f.name), char_issue_text(scan.issue));
        return;  // never store bytes we could not print back
      }
      code_points = scan.code_points;
    }
    std::string problem;
    switch (f.kind) {
      case FieldKind::kString: {
        // check_string, in the same order (length facets, allowed values, lexical form), but
        // the characters are counted only when the byte length does not settle the length
        // facets: a text of B bytes has between ceil(B / 4) and B characters.
        bool lengths_ok;
        if (chars_ == TextChars::kValid && (f.max_len == 0 || text.size() <= f.max_len) &&
            (text.size() + 3) / 4 >= f.min_len) {
          lengths_ok = true;
        } else {
          if (chars_ == TextChars::kValid) code_points = count_code_points(text);
          lengths_ok = code_points >= f.min_len && (f.max_len == 0 || code_points <= f.max_len);
        }
        if (!lengths_ok) {
          problem = check_string(text, code_points, f.min_len, f.max_len, f.allowed, f.lexical);
        } else if (f.lexical != Lexical::kAny || !f.allowed.empty()) {
          problem = check_string_value(text, f.allowed, f.lexical);
        }
        (out_->*f.str).assign(text);
        break;
      }
      case FieldKind::kDecimal:
        problem = parse_decimal_field(text, &(out_->*f.dec));
        break;
      case FieldKind::kInt:
        problem = parse_int_field(text, f.max_len, &(out_->*f.num));
        break;
    }
    if (!problem.empty()) violations_->add(record_, field_path(f.name), std::move(problem));
  }

  T* out_;
  ViolationList* violations_;
  int record_;
  std::string prefix_;
  bool enforce_order_;
  TextChars chars_;
  uint64_t seen_ = 0;
  size_t next_ = 0;  // index after the last field accepted in order
  size_t hint_ = 0;  // index after the last field found
};

}  // namespace cbec::ceb::internal
