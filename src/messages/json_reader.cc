// read_message_json: CEB request messages in their JSON form.
//
//   {"CEB311Message": {"guid": "..", "version": "1.0",
//                      "Order": [{"OrderHead": {..}, "OrderList": [{..}, ..]}],
//                      "BaseTransfer": {..}}}
//
// Element names and nesting are those of the XML. A repeated node may also be given as a single
// object (XML-to-JSON converters emit that for one element); Delivery, exactly one in the XSD,
// is usually sent that way. Field values are strings or numbers; numbers are taken as the exact
// token text, so "12.50" and 12.50 read alike and no decimal ever passes through a double. A
// null field is treated as absent. Key order is not checked: JSON objects are unordered.
//
// simdjson's On-Demand API gives the raw number tokens, but it only validates what it visits;
// a strict syntax pass (check_json_syntax) runs first, so the message is rejected as a whole when
// any part of it is malformed, nested too deep or not UTF-8, also in the parts we skip.
#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/ceb.h"
#include "messages/shape.h"
#include "messages/text.h"
#include "messages/validate.h"

namespace cbec::ceb {
namespace {

using internal::indexed;
using internal::kMaxBaseSubscribe;
using internal::printable_name;
using internal::RecordFields;
using internal::RecordShape;
using internal::TextChars;
using internal::too_many;
using internal::ViolationList;
namespace od = simdjson::ondemand;

constexpr std::string_view kMessagePath = "message";

// ---- strict syntax (RFC 8259) ---------------------------------------------------------------

class JsonSyntax {
 public:
  JsonSyntax(std::string_view s, int max_depth) : s_(s), max_depth_(max_depth) {}

  // Empty when s is one well-formed JSON value nested at most max_depth deep.
  std::string check(size_t base_offset) {
    bool ok = value(0);
    if (ok) {
      skip_ws();
      if (i_ != s_.size()) ok = fail("trailing content");
    }
    if (ok) return {};
    if (too_deep_) return "nesting deeper than " + std::to_string(max_depth_) + " levels";
    return "malformed JSON: " + std::string(what_) + " at offset " +
           std::to_string(base_offset + where_);
  }

 private:
  bool fail(const char* what) {
    what_ = what;
    where_ = i_;
    return false;
  }
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return s_[i_]; }
  void skip_ws() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
      ++i_;
    }
  }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  // Recursion is bounded by max_depth_ (checked before descending).
  bool value(int depth) {
    skip_ws();
    if (at_end()) return fail("unexpected end");
    switch (peek()) {
      case '{':
        return container(depth + 1, '}');
      case '[':
        return container(depth + 1, ']');
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        if (peek() == '-' || is_digit(peek())) return number();
        return fail("unexpected character");
    }
  }

  bool container(int depth, char close) {
    if (depth > max_depth_) {
      too_deep_ = true;
      return fail("too deep");
    }
    ++i_;  // '{' or '['
    skip_ws();
    if (!at_end() && peek() == close) {
      ++i_;
      return true;
    }
    while (true) {
      if (close == '}') {
        skip_ws();
        if (at_end() || peek() != '"') return fail("expected a key");
        if (!string()) return false;
        skip_ws();
        if (at_end() || peek() != ':') return fail("expected ':'");
        ++i_;
      }
      if (!value(depth)) return false;
      skip_ws();
      if (at_end()) return fail("unexpected end");
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() == close) {
        ++i_;
        return true;
      }
      return fail(close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }

  bool string() {
    ++i_;  // opening quote
    while (!at_end()) {
      char c = peek();
      if (c == '"') {
        ++i_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
      if (c == '\\') {
        ++i_;
        if (at_end()) break;
        char e = peek();
        if (e == 'u') {
          for (int k = 1; k <= 4; ++k) {
            if (i_ + k >= s_.size() || !is_hex(s_[i_ + k])) return fail("bad \\u escape");
          }
          i_ += 4;
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return fail("bad escape");
        }
      }
      ++i_;
    }
    return fail("unterminated string");
  }

  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return fail("unexpected character");
    i_ += word.size();
    return true;
  }

  bool number() {
    if (peek() == '-') ++i_;
    if (at_end() || !is_digit(peek())) return fail("bad number");
    if (peek() == '0') {
      ++i_;
    } else {
      while (!at_end() && is_digit(peek())) ++i_;
    }
    if (!at_end() && peek() == '.') {
      ++i_;
      if (at_end() || !is_digit(peek())) return fail("bad number");
      while (!at_end() && is_digit(peek())) ++i_;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      ++i_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++i_;
      if (at_end() || !is_digit(peek())) return fail("bad number");
      while (!at_end() && is_digit(peek())) ++i_;
    }
    return true;
  }

  std::string_view s_;
  int max_depth_;
  size_t i_ = 0;
  const char* what_ = "";
  size_t where_ = 0;
  bool too_deep_ = false;
};

// ---- extraction -----------------------------------------------------------------------------

const char* type_name(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "array";
    case od::json_type::object:
      return "object";
    case od::json_type::number:
      return "number";
    case od::json_type::string:
      return "string";
    case od::json_type::boolean:
      return "boolean";
    case od::json_type::null:
      return "null";
  }
  return "?";
}

std::string wrong_type(od::json_type t, std::string_view expected) {
  return "wrong type: " + std::string(type_name(t)) + ", expected " + std::string(expected);
}

using simdjson::error_code;
using simdjson::SUCCESS;

class JsonMessageReader {
 public:
  // chars: whether field texts still need their characters checked (see read_message_json).
  JsonMessageReader(ViolationList* violations, TextChars chars) : v_(violations), chars_(chars) {}

  // Reads the document into *m; *is_message is false when it is not a CEB request at all.
  // A simdjson error (not expected after the syntax pass) is returned to the caller.
  error_code read(od::document& doc, Message* m, bool* is_message) {
    *is_message = false;
    od::object root;
    if (error_code e = doc.get_object().get(root)) return e;
    size_t keys = 0;
    for (auto field : root) {
      std::string_view key_view;
      if (error_code e = field.unescaped_key().get(key_view)) return e;
      std::string key(key_view);
      od::value value;
      if (error_code e = field.value().get(value)) return e;
      if (++keys > 1) {
        *is_message = false;
        v_->add(0, std::string(kMessagePath), "more than one root element");
        return SUCCESS;
      }
      std::optional<MessageType> type = message_type_from_root(key);
      if (!type) {
        v_->add(0, printable_name(key),
                is_receipt_root(key) ? "not a request message" : "unknown message type");
        return SUCCESS;
      }
      od::json_type t;
      if (error_code e = value.type().get(t)) return e;
      if (t != od::json_type::object) {
        v_->add(0, key, wrong_type(t, "object"));
        return SUCCESS;
      }
      m->type = *type;
      *is_message = true;
      error_code e = internal::with_record_type(
          *type, [&](auto tag) { return read_root<typename decltype(tag)::type>(value, m); });
      if (e) return e;
    }
    if (keys == 0) v_->add(0, std::string(kMessagePath), "no message element");
    return SUCCESS;
  }

 private:
  template <class T>
  error_code scalar(od::value& value, std::string_view key, RecordFields<T>* fields) {
    od::json_type t;
    if (error_code e = value.type().get(t)) return e;
    switch (t) {
      case od::json_type::string: {
        std::string_view s;
        if (error_code e = value.get_string().get(s)) return e;
        fields->text(key, s);
        break;
      }
      case od::json_type::number:
        // The exact token (raw_json_token includes the whitespace up to the next token).
        fields->text(key, internal::trim_xml_space(value.raw_json_token()));
        break;
      case od::json_type::null:
        fields->absent(key);
        break;
      default:
        fields->wrong_shape(key, wrong_type(t, "string or number"));
        break;
    }
    return SUCCESS;
  }

  // The fields of one record object (a head, a line, a flat record or BaseTransfer).
  template <class T>
  error_code read_fields(od::value& value, T* out, int record, const std::string& path) {
    od::json_type t;
    if (error_code e = value.type().get(t)) return e;
    if (t != od::json_type::object) {
      v_->add(record, path, wrong_type(t, "object"));
      return SUCCESS;
    }
    od::object obj;
    if (error_code e = value.get_object().get(obj)) return e;
    RecordFields<T> fields(out, v_, record, path, /*enforce_order=*/false, chars_);
    for (auto field : obj) {
      // The parser keeps unescaped keys until it parses the next document: no copy needed.
      std::string_view key;
      if (error_code e = field.unescaped_key().get(key)) return e;
      od::value v;
      if (error_code e = field.value().get(v)) return e;
      if (error_code e = scalar(v, key, &fields)) return e;
    }
    fields.finish();
    return SUCCESS;
  }

  // Calls each(element, one_based_index) for an array's elements, or once for a single object.
  // Reports other types at path.
  template <class F>
  error_code for_each_element(od::value& value, int record, const std::string& path, F&& each) {
    od::json_type t;
    if (error_code e = value.type().get(t)) return e;
    if (t == od::json_type::object) return each(value, size_t{1});
    if (t != od::json_type::array) {
      v_->add(record, path, wrong_type(t, "array"));
      return SUCCESS;
    }
    od::array arr;
    if (error_code e = value.get_array().get(arr)) return e;
    size_t n = 0;
    for (auto element : arr) {
      od::value ev;
      if (error_code e = element.get(ev)) return e;
      if (error_code e = each(ev, ++n)) return e;
    }
    return SUCCESS;
  }

  template <class R>
  error_code read_record(od::value& value, R* out, int record) {
    using Shape = RecordShape<R>;
    std::string path = indexed(record_node_name(Shape::kType), static_cast<size_t>(record));
    if constexpr (internal::kIsFlat<R>) {
      return read_fields(value, out, record, path);
    } else {
      od::json_type t;
      if (error_code e = value.type().get(t)) return e;
      if (t != od::json_type::object) {
        v_->add(record, path, wrong_type(t, "object"));
        return SUCCESS;
      }
      od::object obj;
      if (error_code e = value.get_object().get(obj)) return e;
      using Head = typename Shape::Head;
      const std::string head_name(kElementName<Head>);
      int heads = 0;
      int line_keys = 0;
      size_t lines = 0;
      for (auto field : obj) {
        std::string_view key_view;
        if (error_code e = field.unescaped_key().get(key_view)) return e;
        std::string key(key_view);
        od::value v;
        if (error_code e = field.value().get(v)) return e;
        if (key == head_name) {
          if (++heads > 1) {
            v_->add(record, path + "/" + head_name, "duplicated");
            continue;
          }
          if (error_code e = read_fields(v, &out->head, record, path + "/" + head_name)) return e;
          continue;
        }
        if constexpr (internal::kHasLines<R>) {
          using Line = typename Shape::Line;
          const std::string line_name(kElementName<Line>);
          if (key == line_name) {
            if (++line_keys > 1) {
              v_->add(record, path + "/" + line_name, "duplicated");
              continue;
            }
            error_code e = for_each_element(
                v, record, path + "/" + line_name, [&](od::value& lv, size_t index) {
                  lines = index;
                  if (index > static_cast<size_t>(Shape::kMaxLines)) return SUCCESS;
                  return read_fields(lv, &out->lists.emplace_back(), record,
                                     path + "/" + indexed(line_name, index));
                });
            if (e) return e;
            continue;
          }
        }
        v_->add(record, path + "/" + printable_name(key), "unknown element");
      }
      if (heads == 0) v_->add(record, path + "/" + head_name, "required");
      if constexpr (internal::kHasLines<R>) {
        std::string lines_path = path + "/" + std::string(kElementName<typename Shape::Line>);
        if (lines == 0 && line_keys <= 1) v_->add(record, lines_path, "required");
        if (lines > static_cast<size_t>(Shape::kMaxLines)) {
          v_->add(record, lines_path, too_many(lines, Shape::kMaxLines));
        }
      }
      return SUCCESS;
    }
  }

  template <class R>
  error_code read_root(od::value& value, Message* m) {
    using Shape = RecordShape<R>;
    const std::string root_name(message_root_name(Shape::kType));
    const std::string node_name(record_node_name(Shape::kType));
    od::object obj;
    if (error_code e = value.get_object().get(obj)) return e;
    std::vector<R>& records = m->*Shape::kRecords;
    size_t record_count = 0;
    int guids = 0, versions = 0, nodes = 0, transfers = 0, subscribes = 0, extends = 0;
    for (auto field : obj) {
      std::string_view key_view;
      if (error_code e = field.unescaped_key().get(key_view)) return e;
      std::string key(key_view);
      od::value v;
      if (error_code e = field.value().get(v)) return e;
      std::string path = root_name + "/" + printable_name(key);
      if (key == "guid" || key == "version") {
        bool is_guid = key == "guid";
        std::string attr_path = root_name + "/@" + key;
        if (++(is_guid ? guids : versions) > 1) {
          v_->add(0, attr_path, "duplicated");
          continue;
        }
        od::json_type t;
        if (error_code e = v.type().get(t)) return e;
        std::string_view text;
        if (t == od::json_type::string) {
          if (error_code e = v.get_string().get(text)) return e;
        } else if (t == od::json_type::number) {
          text = internal::trim_xml_space(v.raw_json_token());
        } else {
          v_->add(0, attr_path, wrong_type(t, "string"));
          continue;
        }
        internal::read_root_attribute(text,
                                      is_guid ? internal::kGuidChars : internal::kVersionMinChars,
                                      is_guid ? internal::kGuidChars : internal::kVersionMaxChars,
                                      is_guid ? &m->guid : &m->version, v_, attr_path);
      } else if (key == node_name) {
        if (++nodes > 1) {
          v_->add(0, path, "duplicated");
          continue;
        }
        error_code e = for_each_element(v, 0, path, [&](od::value& rv, size_t index) {
          record_count = index;
          if (index > static_cast<size_t>(Shape::kMaxRecords)) return SUCCESS;
          return read_record(rv, &records.emplace_back(), static_cast<int>(index));
        });
        if (e) return e;
      } else if (key == "BaseTransfer") {
        if (++transfers > 1) {
          v_->add(0, path, "duplicated");
          continue;
        }
        if (error_code e = read_fields(v, &m->transfer, 0, "BaseTransfer")) return e;
      } else if (key == "BaseSubscribe") {
        // Accepted and ignored, as in XML; the syntax pass has already checked the content.
        if (++subscribes > 1) {
          v_->add(0, path, "duplicated");
          continue;
        }
        size_t count = 0;
        error_code e = for_each_element(v, 0, path, [&](od::value&, size_t index) {
          count = index;
          return SUCCESS;
        });
        if (e) return e;
        if (count > static_cast<size_t>(kMaxBaseSubscribe)) {
          v_->add(0, path, too_many(count, kMaxBaseSubscribe));
        }
      } else if (key == "ExtendMessage") {
        if (++extends > 1) v_->add(0, path, "duplicated");
      } else {
        v_->add(0, path, "unknown element");
      }
    }
    if (guids == 0) v_->add(0, root_name + "/@guid", "required");
    if (versions == 0) v_->add(0, root_name + "/@version", "required");
    if (record_count == 0 && nodes <= 1) v_->add(0, root_name + "/" + node_name, "required");
    if (record_count > static_cast<size_t>(Shape::kMaxRecords)) {
      v_->add(0, root_name + "/" + node_name, too_many(record_count, Shape::kMaxRecords));
    }
    if (transfers == 0) v_->add(0, root_name + "/BaseTransfer", "required");
    return SUCCESS;
  }

  ViolationList* v_;
  TextChars chars_;
};

}  // namespace

ReadResult read_message_json(std::string_view bytes) {
  ReadResult result;
  ViolationList v;
  auto fail = [&](std::string problem) {
    v.add(0, std::string(kMessagePath), std::move(problem));
    result.violations = v.take();
    return result;
  };
  if (bytes.size() > kMaxMessageBytes) {
    return fail("size " + std::to_string(bytes.size()) + " bytes, maximum " +
                std::to_string(kMaxMessageBytes));
  }
  std::string_view doc = internal::strip_bom(bytes);
  const size_t bom = bytes.size() - doc.size();
  if (internal::trim_xml_space(doc).empty()) return fail("empty message");
  const internal::CharScan scan = internal::scan_chars(doc);
  if (scan.issue == internal::CharIssue::kInvalidUtf8) {
    return fail("invalid UTF-8 at offset " + std::to_string(scan.offset + bom));
  }
  // Without a backslash, every string the parser hands over is a verbatim piece of the
  // document (numbers are ASCII): when the document's characters are all allowed, so are the
  // fields', and they are not scanned again. An escape may decode to a control character or a
  // non-character, so a document with escapes has each field checked.
  const TextChars chars = scan.issue == internal::CharIssue::kNone &&
                                  doc.find('\\') == std::string_view::npos
                              ? TextChars::kValid
                              : TextChars::kCheck;
  if (std::string problem = JsonSyntax(doc, kMaxJsonDepth).check(bom); !problem.empty()) {
    return fail(std::move(problem));
  }

  // One parser per thread: it keeps its buffers between messages.
  thread_local od::parser parser;
  simdjson::padded_string padded(doc);
  od::document json;
  Message m;
  bool is_message = false;
  error_code e = parser.iterate(padded).get(json);
  if (!e) {
    JsonMessageReader reader(&v, chars);
    e = reader.read(json, &m, &is_message);
  }
  if (e) {
    ViolationList fatal;
    fatal.add(0, std::string(kMessagePath),
              "malformed JSON: " + std::string(simdjson::error_message(e)));
    result.violations = fatal.take();
    return result;
  }
  if (is_message) result.message = std::move(m);
  result.violations = v.take();
  return result;
}

}  // namespace cbec::ceb
