#include "reference/csv.h"

#include <fmt/format.h>

namespace cbec::ref {

namespace {

// Tracks the position of the scanner so that every error names line and column. Columns count
// UTF-8 characters (not bytes), which is what an editor shows for the Chinese names in the data.
class CsvScanner {
 public:
  CsvScanner(std::string_view text, std::string_view file_name)
      : text_(text), file_name_(file_name) {}

  Result<std::vector<CsvRecord>> Run() {
    if (text_.size() > kCsvMaxBytes) {
      return InvalidArgument(fmt::format("{}: file is {} bytes, larger than the limit of {}",
                                         file_name_, text_.size(), kCsvMaxBytes));
    }
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = line_start_ = 3;
    std::vector<CsvRecord> records;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '#') {  // comment line: skip to the end of the line
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
        if (pos_ < text_.size()) NewLine();
        continue;
      }
      if (c == '\n') {  // empty line
        NewLine();
        continue;
      }
      if (c == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
        ++pos_;
        NewLine();
        continue;
      }
      CsvRecord record;
      record.line = line_;
      Status st = ReadRecord(&record);
      if (!st.ok()) return st;
      records.push_back(std::move(record));
    }
    return records;
  }

 private:
  Status Error(std::string_view what) const {
    return InvalidArgument(fmt::format("{}:{}:{}: {}", file_name_, line_, Column(), what));
  }

  int Column() const {
    int column = 1;
    for (size_t i = line_start_; i < pos_ && i < text_.size(); ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
    }
    return column;
  }

  // pos_ is at a '\n'.
  void NewLine() {
    ++pos_;
    ++line_;
    line_start_ = pos_;
  }

  // Reads fields until the end of the record (line break or end of text), consuming the break.
  Status ReadRecord(CsvRecord* record) {
    while (true) {
      if (record->fields.size() == kCsvMaxFields) {
        return Error(fmt::format("more than {} fields in a record", kCsvMaxFields));
      }
      std::string field;
      Status st =
          pos_ < text_.size() && text_[pos_] == '"' ? ReadQuoted(&field) : ReadUnquoted(&field);
      if (!st.ok()) return st;
      record->fields.push_back(std::move(field));
      if (pos_ >= text_.size()) return Status::Ok();
      char c = text_[pos_];
      if (c == ',') {
        ++pos_;
        continue;
      }
      if (c == '\n') {
        NewLine();
        return Status::Ok();
      }
      // ReadQuoted/ReadUnquoted stop only at ',', '\n' or a CRLF pair.
      CBEC_ASSERT(c == '\r');
      ++pos_;
      NewLine();
      return Status::Ok();
    }
  }

  Status Append(std::string* field, char c) {
    if (field->size() == kCsvMaxFieldBytes) {
      return Error(fmt::format("field longer than {} bytes", kCsvMaxFieldBytes));
    }
    field->push_back(c);
    return Status::Ok();
  }

  Status ReadUnquoted(std::string* field) {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ',' || c == '\n') return Status::Ok();
      if (c == '\r') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') return Status::Ok();
        return Error("carriage return not followed by a line feed");
      }
      if (c == '"') {
        return Error(
            "unexpected '\"' inside an unquoted field (quote the whole field and double the "
            "quotes inside it)");
      }
      TRY(Append(field, c));
      ++pos_;
    }
    return Status::Ok();
  }

  Status ReadQuoted(std::string* field) {
    int open_line = line_;
    int open_column = Column();
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= text_.size()) {
        return InvalidArgument(fmt::format("{}:{}:{}: quoted field is never closed", file_name_,
                                           open_line, open_column));
      }
      char c = text_[pos_];
      if (c == '"') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {  // escaped quote
          TRY(Append(field, '"'));
          pos_ += 2;
          continue;
        }
        ++pos_;  // closing quote
        if (pos_ >= text_.size()) return Status::Ok();
        char next = text_[pos_];
        if (next == ',' || next == '\n') return Status::Ok();
        if (next == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
          return Status::Ok();
        }
        return Error("unexpected text after the closing quote of a field");
      }
      TRY(Append(field, c));
      if (c == '\n') {
        NewLine();
      } else {
        ++pos_;
      }
    }
  }

  std::string_view text_;
  std::string_view file_name_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int line_ = 1;
};

}  // namespace

Result<std::vector<CsvRecord>> parse_csv(std::string_view text, std::string_view file_name) {
  return CsvScanner(text, file_name).Run();
}

}  // namespace cbec::ref
