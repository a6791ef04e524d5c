// XML writers: request messages (as an enterprise sends them), receipts and CEB900.
//
// pugixml builds the tree and does the escaping. Element order, names and optionality come from
// the kFields tables; decimals are written in canonical form (format_decimal).
#include <pugixml.hpp>
#include <string>

#include "messages/ceb.h"
#include "messages/receipt.h"
#include "messages/receipt_map.h"
#include "messages/shape.h"
#include "messages/text.h"

namespace cbec::ceb {
namespace {

constexpr const char* kIndent = "  ";

class StringSink : public pugi::xml_writer {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  void write(const void* data, size_t size) override {
    out_->append(static_cast<const char*>(data), size);
  }

 private:
  std::string* out_;
};

std::string save(const pugi::xml_document& doc) {
  std::string out;
  StringSink sink(&out);
  doc.save(sink, kIndent, pugi::format_default, pugi::encoding_utf8);
  return out;
}

void add_declaration(pugi::xml_document* doc, bool standalone) {
  pugi::xml_node decl = doc->append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  if (standalone) decl.append_attribute("standalone") = "yes";
}

// Text as pugixml needs it: valid UTF-8 of XML characters only (records that passed the reader
// already are; this guards programmatically built ones).
std::string xml_text(std::string_view s) {
  if (internal::scan_chars(s).issue == internal::CharIssue::kNone) return std::string(s);
  return internal::sanitize_text(s);
}

pugi::xml_node child(pugi::xml_node parent, std::string_view prefix, std::string_view name) {
  std::string qname(prefix);
  qname += name;
  return parent.append_child(qname.c_str());
}

// The fields of one record in XSD order. Optional fields that are empty (strings) or absent
// (decimals) are omitted; required ones are always written, so a gap shows when validating.
template <class T>
void append_fields(pugi::xml_node el, std::string_view prefix, const T& rec) {
  for (const FieldSpec<T>& f : kFields<T>) {
    std::string text;
    switch (f.kind) {
      case FieldKind::kString: {
        const std::string& s = rec.*f.str;
        if (s.empty() && !f.required) continue;
        text = xml_text(s);
        break;
      }
      case FieldKind::kDecimal: {
        const Decimal& d = rec.*f.dec;
        if (!d.present) continue;
        text = format_decimal(d);
        break;
      }
      case FieldKind::kInt:
        text = std::to_string(rec.*f.num);
        break;
    }
    pugi::xml_node field = child(el, prefix, f.name);
    if (!text.empty()) field.text().set(text.c_str());
  }
}

template <class R>
void append_records(pugi::xml_node root, const Message& m) {
  using Shape = internal::RecordShape<R>;
  constexpr std::string_view kPrefix = "ceb:";
  for (const R& r : m.*Shape::kRecords) {
    pugi::xml_node node = child(root, kPrefix, record_node_name(Shape::kType));
    if constexpr (internal::kIsFlat<R>) {
      append_fields(node, kPrefix, r);
    } else {
      append_fields(child(node, kPrefix, kElementName<typename Shape::Head>), kPrefix, r.head);
      if constexpr (internal::kHasLines<R>) {
        for (const auto& line : r.lists) {
          append_fields(child(node, kPrefix, kElementName<typename Shape::Line>), kPrefix, line);
        }
      }
    }
  }
}

// Root element of a message in the default CEB namespace, as customs writes its messages.
pugi::xml_node receipt_root(pugi::xml_document* doc, std::string_view name, std::string_view guid) {
  add_declaration(doc, /*standalone=*/true);
  pugi::xml_node root = child(*doc, "", name);
  root.append_attribute("guid") = xml_text(guid).c_str();
  root.append_attribute("version") = "1.0";
  root.append_attribute("xmlns") = std::string(kCebNamespace).c_str();
  return root;
}

}  // namespace

std::string write_message_xml(const Message& m) {
  pugi::xml_document doc;
  add_declaration(&doc, /*standalone=*/false);
  pugi::xml_node root = child(doc, "ceb:", message_root_name(m.type));
  root.append_attribute("guid") = xml_text(m.guid).c_str();
  root.append_attribute("version") = xml_text(m.version).c_str();
  root.append_attribute("xmlns:ceb") = std::string(kCebNamespace).c_str();
  internal::with_record_type(
      m.type, [&](auto tag) { append_records<typename decltype(tag)::type>(root, m); });
  append_fields(child(root, "ceb:", kElementName<BaseTransfer>), "ceb:", m.transfer);
  return save(doc);
}

std::string write_receipts_xml(std::span<const Receipt> receipts) {
  return write_receipts_xml(internal::receipt_pointers(receipts));
}

std::string write_receipts_xml(std::span<const Receipt* const> receipts) {
  internal::check_receipt_batch(receipts);
  pugi::xml_document doc;
  pugi::xml_node root =
      receipt_root(&doc, receipt_root_name(receipts.front()->answers), receipts.front()->guid);
  for (const Receipt* r : receipts) {
    internal::with_return_record(*r, [&](const auto& ret) {
      using Ret = std::decay_t<decltype(ret)>;
      append_fields(child(root, "", kElementName<Ret>), "", ret);
    });
  }
  return save(doc);
}

std::string write_ceb900_xml(const FormatError& e) {
  MessageReturn ret = internal::make_message_return(e);
  pugi::xml_document doc;
  pugi::xml_node root = receipt_root(&doc, "CEB900Message", ret.guid);
  pugi::xml_node record = child(root, "", kElementName<MessageReturn>);
  for (const FieldSpec<MessageReturn>& f : kFields<MessageReturn>) {
    pugi::xml_node field = child(record, "", f.name);
    const std::string& text = ret.*f.str;
    if (f.name == "oriBizMessage") {
      // CDATA keeps the original readable; pugixml splits any "]]>" inside it into two
      // sections, so the text cannot end the section early.
      field.append_child(pugi::node_cdata).set_value(text.c_str());
    } else if (!text.empty()) {
      field.text().set(text.c_str());
    }
  }
  return save(doc);
}

}  // namespace cbec::ceb
