// JSON writers: the JSON form of request messages, receipts and CEB900, with the XML names.
//
// Decimals are written as JSON strings in canonical form ("12.5"): a JSON number would be read
// as a double by most consumers and lose digits of a 19-digit decimal; our reader accepts both.
// Integers (gnum, packNo) are JSON numbers.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

#include "messages/ceb.h"
#include "messages/receipt.h"
#include "messages/receipt_map.h"
#include "messages/shape.h"
#include "messages/text.h"

namespace cbec::ceb {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void put_string(JsonWriter* w, std::string_view s) {
  // RapidJSON copies bytes as they are; make sure they are valid UTF-8.
  if (internal::scan_chars(s).issue == internal::CharIssue::kInvalidUtf8) {
    std::string clean = internal::sanitize_text(s);
    w->String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
    return;
  }
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void put_key(JsonWriter* w, std::string_view k) {
  w->Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

// Fields in XSD order; empty optional strings and absent decimals are omitted, as in XML.
template <class T>
void put_fields(JsonWriter* w, const T& rec) {
  for (const FieldSpec<T>& f : kFields<T>) {
    switch (f.kind) {
      case FieldKind::kString: {
        const std::string& s = rec.*f.str;
        if (s.empty() && !f.required) break;
        put_key(w, f.name);
        put_string(w, s);
        break;
      }
      case FieldKind::kDecimal: {
        const Decimal& d = rec.*f.dec;
        if (!d.present) break;
        put_key(w, f.name);
        put_string(w, format_decimal(d));
        break;
      }
      case FieldKind::kInt:
        put_key(w, f.name);
        w->Int64(rec.*f.num);
        break;
    }
  }
}

template <class T>
void put_record(JsonWriter* w, const T& rec) {
  w->StartObject();
  put_fields(w, rec);
  w->EndObject();
}

template <class R>
void put_records(JsonWriter* w, const Message& m) {
  using Shape = internal::RecordShape<R>;
  put_key(w, record_node_name(Shape::kType));
  w->StartArray();
  for (const R& r : m.*Shape::kRecords) {
    if constexpr (internal::kIsFlat<R>) {
      put_record(w, r);
    } else {
      w->StartObject();
      put_key(w, kElementName<typename Shape::Head>);
      put_record(w, r.head);
      if constexpr (internal::kHasLines<R>) {
        put_key(w, kElementName<typename Shape::Line>);
        w->StartArray();
        for (const auto& line : r.lists) put_record(w, line);
        w->EndArray();
      }
      w->EndObject();
    }
  }
  w->EndArray();
}

// {"<root>": {"guid": .., "version": .., then the caller's members}}
template <class F>
std::string message_object(std::string_view root, std::string_view guid, std::string_view version,
                           F&& body) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put_key(&w, root);
  w.StartObject();
  put_key(&w, "guid");
  put_string(&w, guid);
  put_key(&w, "version");
  put_string(&w, version);
  body(&w);
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string write_message_json(const Message& m) {
  return message_object(message_root_name(m.type), m.guid, m.version, [&](JsonWriter* w) {
    internal::with_record_type(m.type,
                               [&](auto tag) { put_records<typename decltype(tag)::type>(w, m); });
    put_key(w, kElementName<BaseTransfer>);
    put_record(w, m.transfer);
  });
}

std::string write_receipts_json(std::span<const Receipt> receipts) {
  return write_receipts_json(internal::receipt_pointers(receipts));
}

std::string write_receipts_json(std::span<const Receipt* const> receipts) {
  internal::check_receipt_batch(receipts);
  MessageType type = receipts.front()->answers;
  return message_object(receipt_root_name(type), receipts.front()->guid, "1.0", [&](JsonWriter* w) {
    put_key(w, receipt_record_name(type));
    w->StartArray();
    for (const Receipt* p : receipts) {
      const Receipt& r = *p;
      w->StartObject();
      internal::with_return_record(r, [&](const auto& ret) { put_fields(w, ret); });
      put_key(w, "findings");
      w->StartArray();
      for (const Finding& f : r.findings) {
        w->StartObject();
        put_key(w, "rule");
        put_string(w, f.rule);
        put_key(w, "field");
        put_string(w, f.field);
        put_key(w, "zh");
        put_string(w, f.zh);
        put_key(w, "en");
        put_string(w, f.en);
        w->EndObject();
      }
      w->EndArray();
      w->EndObject();
    }
    w->EndArray();
  });
}

std::string write_ceb900_json(const FormatError& e) {
  MessageReturn ret = internal::make_message_return(e);
  return message_object("CEB900Message", ret.guid, "1.0", [&](JsonWriter* w) {
    put_key(w, kElementName<MessageReturn>);
    w->StartObject();
    put_fields(w, ret);
    // The violations one by one, for programs (returnInfo joins them for people).
    put_key(w, "violations");
    w->StartArray();
    for (const Violation& v : e.violations) {
      w->StartObject();
      put_key(w, "record");
      w->Int(v.record);
      put_key(w, "path");
      put_string(w, v.path);
      put_key(w, "problem");
      put_string(w, v.problem);
      w->EndObject();
    }
    w->EndArray();
    w->EndObject();
  });
}

}  // namespace cbec::ceb
