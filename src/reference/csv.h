// A small RFC 4180 CSV reader for reference data (internal to src/reference/).
//
// Accepts: fields separated by commas; records ended by CRLF or LF (the last one may be
// unterminated); fields in double quotes holding commas, line breaks and doubled quotes ("");
// a UTF-8 byte-order mark at the start. Two extensions for hand-edited data files: a line that
// starts with '#' outside a quoted field is a comment, and an empty line is skipped.
// Rejects, naming file, line and column: a quote inside an unquoted field, text after a closing
// quote, an unterminated quoted field, a carriage return not followed by a line feed, and
// anything beyond the limits below.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cbec::ref {

inline constexpr size_t kCsvMaxBytes = 64u << 20;  // whole file
inline constexpr size_t kCsvMaxFields = 64;        // per record
inline constexpr size_t kCsvMaxFieldBytes = 4096;  // per field

struct CsvRecord {
  int line = 0;  // 1-based line on which the record starts
  std::vector<std::string> fields;
};

// Parses text into records. file_name only labels error messages ("goods.csv:12:7: ...").
Result<std::vector<CsvRecord>> parse_csv(std::string_view text, std::string_view file_name);

}  // namespace cbec::ref
