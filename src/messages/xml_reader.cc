// read_message_xml: CEB request messages from XML.
//
// pugixml parses (it is fast and never recurses, so deep input cannot exhaust the stack) but it
// is neither namespace-aware nor a validator, and it passes bytes through unchecked. This file
// adds what the XSD and XML 1.0 require on top: namespaces resolved from the in-scope xmlns
// declarations (any prefix or none), element order and occurrence, UTF-8 and character checks,
// and limits on size, depth, records and lines. Field facets are checked by RecordFields<T>
// (validate.h), shared with the JSON reader.
//
// ds:Signature is accepted where the XSD puts it (last child of the root) and only sets
// Message::has_signature; it is not verified, and it is optional even for CEB621/623/625/711
// whose XSD requires it: a sender's identity comes from its API key, not from the XML signature.
#include <cstring>
#include <optional>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <utility>
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
using internal::trim_xml_space;
using internal::ViolationList;

constexpr std::string_view kDsigNamespace = "http://www.w3.org/2000/09/xmldsig#";
constexpr std::string_view kXsiNamespace = "http://www.w3.org/2001/XMLSchema-instance";
constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";
constexpr std::string_view kMessagePath = "message";  // path of problems found before the root

std::string_view view(const char* s) { return {s, std::strlen(s)}; }

// Prefix and local part of a qualified name.
std::pair<std::string_view, std::string_view> split_qname(std::string_view qname) {
  size_t colon = qname.find(':');
  if (colon == std::string_view::npos) return {{}, qname};
  return {qname.substr(0, colon), qname.substr(colon + 1)};
}

bool is_xml_char(uint64_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

// The problem with a reference starting at doc[amp] ('&'), or "" when it is one of the five
// predefined entities or a character reference to a character XML allows; *next is the offset
// after it.
std::string check_reference(std::string_view doc, size_t amp, size_t* next) {
  constexpr size_t kMaxReferenceChars = 32;  // "&#x" + digits (leading zeros allowed) + ";"
  std::string_view rest = doc.substr(amp, kMaxReferenceChars);
  size_t semi = rest.find(';');
  std::string_view ref =
      semi == std::string_view::npos ? std::string_view{} : rest.substr(1, semi - 1);
  bool ok = ref == "lt" || ref == "gt" || ref == "amp" || ref == "quot" || ref == "apos";
  if (!ok && ref.size() >= 2 && ref[0] == '#') {
    bool hex = ref[1] == 'x';
    std::string_view digits = ref.substr(hex ? 2 : 1);
    uint64_t cp = 0;
    ok = !digits.empty();
    for (char d : digits) {
      int v = d >= '0' && d <= '9'          ? d - '0'
              : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
              : hex && d >= 'A' && d <= 'F' ? d - 'A' + 10
                                            : -1;
      if (v < 0) ok = false;
      if (cp <= 0x10FFFF) cp = cp * (hex ? 16 : 10) + static_cast<uint64_t>(v < 0 ? 0 : v);
    }
    if (ok && !is_xml_char(cp)) return "character reference to a character XML does not allow";
  }
  if (!ok) return "undefined entity or malformed reference";
  *next = amp + semi + 1;
  return {};
}

// Offset of the first byte at or after `from` that equals one of Cs, or doc.size(). Eight bytes
// at a time (a byte equal to c makes (w ^ c·0x01…01) have a zero byte, found by the classic
// has-zero-byte test): the prescan passes over every byte of the message, and most are
// neither markup nor references.
// With SSE2 (part of x86-64) sixteen bytes at a time, and the first match in a block taken from
// the compare mask instead of a byte loop: CEB elements are short, so most blocks hold a '<'.
template <char... Cs>
size_t find_any(std::string_view doc, size_t from) {
  size_t i = from;
#if defined(__SSE2__)
  while (doc.size() - i >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(doc.data() + i));
    __m128i eq = _mm_setzero_si128();
    ((eq = _mm_or_si128(eq, _mm_cmpeq_epi8(x, _mm_set1_epi8(Cs)))), ...);
    if (const auto mask = static_cast<unsigned>(_mm_movemask_epi8(eq)); mask != 0) {
      return i + static_cast<size_t>(__builtin_ctz(mask));
    }
    i += 16;
  }
#endif
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighBits = 0x8080808080808080ull;
  auto has_zero_byte = [](uint64_t x) { return ((x - kOnes) & ~x & kHighBits) != 0; };
  while (doc.size() - i >= 8) {
    uint64_t w;
    std::memcpy(&w, doc.data() + i, 8);
    if ((has_zero_byte(w ^ (kOnes * static_cast<unsigned char>(Cs))) || ...)) break;
    i += 8;
  }
  while (i < doc.size() && ((doc[i] != Cs) && ...)) ++i;
  return i;
}

// Checks on the raw text, before pugixml builds a tree: no NUL byte; no DOCTYPE (CEB messages
// have none, and refusing it rules out entity tricks); only the predefined entities and
// character references to characters XML allows (pugixml would keep "&foo;" as text and decode
// "&#0;" to a NUL that silently truncates the value); and the nesting depth, so a hostile deep
// document is refused before any tree is allocated for it. Comments, CDATA sections and
// processing instructions are skipped: '&' and '<' are literal there. Returns the problem or "";
// malformed markup is left to pugixml to describe.
std::string prescan_xml(std::string_view doc, size_t base_offset) {
  auto at = [&](size_t i) { return " at offset " + std::to_string(base_offset + i); };
  if (size_t nul = doc.find('\0'); nul != std::string_view::npos) return "NUL byte" + at(nul);
  int depth = 0;
  size_t i = 0;
  while (i < doc.size()) {
    char c = doc[i];
    if (c == '&') {
      std::string problem = check_reference(doc, i, &i);
      if (!problem.empty()) return problem + at(i);
      continue;
    }
    if (c != '<') {
      i = find_any<'<', '&'>(doc, i + 1);
      continue;
    }
    // Most markup is a start or end tag: the character after '<' tells them from the rest
    // without comparing every prefix.
    const char after = i + 1 < doc.size() ? doc[i + 1] : '\0';
    if (after == '/') {
      --depth;
      i += 2;
      continue;
    }
    std::string_view close;
    if (after == '!' || after == '?') {
      std::string_view rest = doc.substr(i);
      if (rest.starts_with("<!--")) {
        close = "-->";
      } else if (rest.starts_with("<![CDATA[")) {
        close = "]]>";
      } else if (rest.starts_with("<?")) {
        close = "?>";
      } else if (rest.starts_with("<!DOCTYPE")) {
        return "DOCTYPE not allowed" + at(i);
      }
    }
    if (!close.empty()) {
      size_t end = doc.find(close, i + 2);
      if (end == std::string_view::npos) return {};
      i = end + close.size();
      continue;
    }
    // A start tag: find its '>' outside quoted attribute values, checking references in them.
    size_t j = i + 1;
    char quote = 0;
    for (; j < doc.size(); ++j) {
      if (quote == 0) j = find_any<'>', '"', '\''>(doc, j);  // skip the name and separators
      if (j >= doc.size()) break;
      char d = doc[j];
      if (quote != 0) {
        if (d == quote) {
          quote = 0;
        } else if (d == '&') {
          size_t next = j;
          std::string problem = check_reference(doc, j, &next);
          if (!problem.empty()) return problem + at(j);
          j = next - 1;
        }
      } else if (d == '"' || d == '\'') {
        quote = d;
      } else if (d == '>') {
        break;
      }
    }
    if (j >= doc.size()) return {};
    if (doc[j - 1] != '/' && ++depth > kMaxXmlDepth) {
      return "nesting deeper than " + std::to_string(kMaxXmlDepth) + " levels";
    }
    i = j + 1;
  }
  return {};
}

// True when an element is nested deeper than limit (the root element is depth 1). The prescan
// already counts depth on the text; this is the authoritative check on the tree pugixml built.
// pugixml's traverse walks the tree iteratively inside the library (no stack whatever the input,
// and one callback per node instead of several calls to step through it).
bool deeper_than(pugi::xml_document& doc, int limit) {
  struct Walker : pugi::xml_tree_walker {
    int limit;
    bool deeper = false;
    explicit Walker(int l) : limit(l) {}
    bool for_each(pugi::xml_node& node) override {
      // depth() is 0 for the document's children, where the root element is depth 1.
      if (depth() + 1 > limit && node.type() == pugi::node_element) {
        deeper = true;
        return false;
      }
      return true;
    }
  };
  Walker walker(limit);
  doc.traverse(walker);
  return walker.deeper;
}

// Text content of a leaf element: its pcdata and CDATA children concatenated (the usual single
// child is returned without copying); nullopt when it has an element child.
std::optional<std::string_view> leaf_text(pugi::xml_node el, std::string* scratch) {
  pugi::xml_node first = el.first_child();
  if (!first) return std::string_view{};
  if (first.type() == pugi::node_element) return std::nullopt;
  pugi::xml_node next = first.next_sibling();
  if (!next) return view(first.value());
  scratch->assign(first.value());
  for (pugi::xml_node c = next; c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) return std::nullopt;
    scratch->append(c.value());
  }
  return *scratch;
}

// What attributes an element may carry besides namespace declarations and xsi:*.
enum class Attributes : uint8_t {
  kNone,     // record and field elements
  kRoot,     // guid and version, read by the caller
  kAnything  // skipped content (Signature, BaseSubscribe, ExtendMessage): only checked for chars
};

class XmlMessageReader {
 public:
  // chars: whether texts still need their characters checked (kValid once the whole document
  // passed scan_chars).
  XmlMessageReader(ViolationList* violations, TextChars chars) : v_(violations), chars_(chars) {}

  // Reads the root element into *m. Returns false when it is not a CEB request at all.
  bool read(pugi::xml_node root, Message* m) {
    std::string raw_name = printable_name(view(root.name()));
    size_t mark = push_namespaces(root, 0, raw_name);
    auto [prefix, local] = split_qname(view(root.name()));
    std::optional<std::string_view> uri = resolve(prefix);
    std::string name = printable_name(local);
    if (!uri) {
      v_->add(0, name, "unbound namespace prefix '" + printable_name(prefix) + "'");
      return false;
    }
    if (*uri != kCebNamespace) {
      v_->add(0, name,
              "namespace '" + printable_name(*uri) + "' is not " + std::string(kCebNamespace));
      return false;
    }
    std::optional<MessageType> type = message_type_from_root(local);
    if (!type) {
      v_->add(0, name, is_receipt_root(local) ? "not a request message" : "unknown message type");
      return false;
    }
    m->type = *type;
    internal::with_record_type(*type,
                               [&](auto tag) { read_root<typename decltype(tag)::type>(root, m); });
    pop_namespaces(mark);
    return true;
  }

 private:
  // ---- namespaces -------------------------------------------------------------------------

  // Pushes the xmlns declarations of el; returns the mark to restore with pop_namespaces.
  size_t push_namespaces(pugi::xml_node el, int record, const std::string& path) {
    size_t mark = ns_.size();
    if (!el.first_attribute()) return mark;  // the usual case, without an attribute range
    for (pugi::xml_attribute a : el.attributes()) {
      std::string_view name = view(a.name());
      if (name == "xmlns") {
        ns_.emplace_back(std::string_view{}, view(a.value()));
      } else if (name.starts_with("xmlns:")) {
        ns_.emplace_back(name.substr(6), view(a.value()));
      } else {
        continue;
      }
      check_attribute_chars(a, record, path);
    }
    if (ns_.size() != mark) refresh_default_is_ceb();
    return mark;
  }
  void pop_namespaces(size_t mark) {
    if (ns_.size() == mark) return;
    ns_.resize(mark);
    refresh_default_is_ceb();
  }
  // Whether an unprefixed name is in the CEB namespace here: true for almost every element of
  // a message, so ceb_local answers those without resolving.
  // Also forgets the cached prefix, which the changed declarations may bind differently.
  void refresh_default_is_ceb() {
    std::optional<std::string_view> uri = resolve({});
    default_is_ceb_ = uri && *uri == kCebNamespace;
    cached_prefix_ = {};
    cached_uri_ = std::nullopt;
    cached_is_ceb_ = false;
    cache_valid_ = false;
  }

  // resolve() through a one-entry cache: nearly every element of a message carries the same
  // prefix ("ceb:"), so the declarations are searched once per message instead of per element.
  // The cache is dropped whenever the declarations in scope change (refresh_default_is_ceb).
  std::optional<std::string_view> resolve_cached(std::string_view prefix) {
    if (cache_valid_ && same_short(prefix, cached_prefix_)) return cached_uri_;
    cached_uri_ = resolve(prefix);
    cached_prefix_ = prefix;
    cached_is_ceb_ = cached_uri_ && *cached_uri_ == kCebNamespace;
    cache_valid_ = true;
    return cached_uri_;
  }

  // Byte equality of two short names without a call to memcmp.
  static bool same_short(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }

  // split_qname(view(qname)), without searching for the colon when the name starts with the
  // cached prefix and a colon (a prefix has no colon, so that colon is the first one).
  std::pair<std::string_view, std::string_view> split_name(const char* qname) const {
    if (size_t n = prefix_length(qname); n != 0) return {{qname, n}, view(qname + n + 1)};
    return split_qname(view(qname));
  }
  // The length of the cached prefix when qname starts with it and a colon, else 0.
  size_t prefix_length(const char* qname) const {
    const size_t n = cached_prefix_.size();
    if (n == 0) return 0;
    size_t k = 0;
    while (k < n && qname[k] == cached_prefix_[k]) ++k;  // stops at the NUL at the latest
    return k == n && qname[n] == ':' ? n : 0;
  }

  // The namespace URI a prefix is bound to ("" = no namespace); nullopt when unbound.
  std::optional<std::string_view> resolve(std::string_view prefix) const {
    if (prefix == "xml") return kXmlNamespace;
    for (auto it = ns_.rbegin(); it != ns_.rend(); ++it) {
      if (it->first == prefix) return it->second;
    }
    if (prefix.empty()) return std::string_view{};
    return std::nullopt;
  }

  void check_attribute_chars(pugi::xml_attribute a, int record, const std::string& path) {
    if (chars_ == TextChars::kValid) return;
    std::string problem = internal::check_chars(view(a.value()));
    if (problem.empty()) return;
    v_->note_char_problem();
    v_->add(record, path + "/@" + printable_name(view(a.name())), std::move(problem));
  }

  // Checks the attributes of an element other than namespace declarations.
  void check_attributes(pugi::xml_node el, int record, const std::string& path,
                        Attributes allowed) {
    for (pugi::xml_attribute a : el.attributes()) {
      std::string_view name = view(a.name());
      if (name == "xmlns" || name.starts_with("xmlns:")) continue;
      // guid and version are checked, chars included, when the root is read.
      if (allowed == Attributes::kRoot && (name == "guid" || name == "version")) continue;
      check_attribute_chars(a, record, path);
      auto [prefix, local] = split_qname(name);
      if (!prefix.empty()) {
        std::optional<std::string_view> uri = resolve(prefix);
        if (!uri) {
          v_->add(record, path + "/@" + printable_name(name),
                  "unbound namespace prefix '" + printable_name(prefix) + "'");
        } else if (*uri != kXsiNamespace && allowed != Attributes::kAnything) {
          v_->add(record, path + "/@" + printable_name(name), "attribute not allowed");
        }
        continue;
      }
      if (allowed == Attributes::kAnything) continue;
      v_->add(record, path + "/@" + printable_name(name), "attribute not allowed");
    }
  }

  // The local name of a child element in the CEB namespace; other namespaces are reported.
  // The child's own declarations must already be pushed.
  std::optional<std::string_view> ceb_local(pugi::xml_node el, int record,
                                            const std::string& parent_path) {
    const char* qname = el.name();
    // The usual case: the prefix resolved last, bound to the CEB namespace.
    if (cached_is_ceb_ && !cached_prefix_.empty()) {
      if (size_t n = prefix_length(qname); n != 0) return view(qname + n + 1);
    }
    auto [prefix, local] = split_name(qname);
    if (prefix.empty() && default_is_ceb_) return local;
    std::optional<std::string_view> uri = resolve_cached(prefix);
    if (cached_is_ceb_) return local;  // uri is kCebNamespace
    std::string path = parent_path + "/" + printable_name(local);
    if (!uri) {
      v_->add(record, path, "unbound namespace prefix '" + printable_name(prefix) + "'");
    } else {
      v_->add(record, path, "namespace '" + printable_name(*uri) + "' not allowed");
    }
    return std::nullopt;
  }

  void unexpected_text(pugi::xml_node text, int record, const std::string& path) {
    if (!trim_xml_space(view(text.value())).empty()) v_->add(record, path, "unexpected text");
  }

  // ---- skipped content (Signature, BaseSubscribe, ExtendMessage) ---------------------------

  // Content we accept without interpreting is still held to the character and namespace rules.
  // Depth was checked for the whole document before, so this recursion is bounded.
  void walk_skipped(pugi::xml_node el, const std::string& path) {
    for (pugi::xml_node c : el.children()) {
      if (c.type() == pugi::node_element) {
        size_t mark = push_namespaces(c, 0, path);
        check_attributes(c, 0, path, Attributes::kAnything);
        auto [prefix, local] = split_qname(view(c.name()));
        if (!resolve(prefix)) {
          v_->add(0, path, "unbound namespace prefix '" + printable_name(prefix) + "'");
        }
        walk_skipped(c, path);
        pop_namespaces(mark);
      } else if ((c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) &&
                 chars_ == TextChars::kCheck) {
        std::string problem = internal::check_chars(view(c.value()));
        if (!problem.empty()) {
          v_->note_char_problem();
          v_->add(0, path, std::move(problem));
        }
      }
    }
  }

  // ---- records ------------------------------------------------------------------------------

  // The fields of one record element (a head, a line, a flat record or BaseTransfer).
  template <class T>
  void read_fields(pugi::xml_node el, T* out, int record, std::string path_in) {
    if (el.first_attribute()) check_attributes(el, record, path_in, Attributes::kNone);
    RecordFields<T> fields(out, v_, record, std::move(path_in), /*enforce_order=*/true, chars_);
    const std::string& path = fields.prefix();
    std::string scratch;
    for (pugi::xml_node c = el.first_child(); c; c = c.next_sibling()) {
      const pugi::xml_node_type type = c.type();
      if (type == pugi::node_pcdata || type == pugi::node_cdata) {
        unexpected_text(c, record, path);
        continue;
      }
      if (type != pugi::node_element) continue;
      // Field elements rarely carry attributes: ask pugixml once.
      const bool has_attributes = c.first_attribute();
      size_t mark = has_attributes ? push_namespaces(c, record, path) : ns_.size();
      if (std::optional<std::string_view> local = ceb_local(c, record, path)) {
        if (has_attributes) {
          check_attributes(c, record, path + "/" + printable_name(*local), Attributes::kNone);
        }
        if (std::optional<std::string_view> text = leaf_text(c, &scratch)) {
          fields.text(*local, *text);
        } else {
          fields.wrong_shape(*local, "element content not allowed");
        }
      }
      pop_namespaces(mark);
    }
    fields.finish();
  }

  // One business record: flat, or a head followed by its lines.
  template <class R>
  void read_record(pugi::xml_node el, R* out, int record) {
    using Shape = RecordShape<R>;
    std::string path = indexed(record_node_name(Shape::kType), static_cast<size_t>(record));
    if constexpr (internal::kIsFlat<R>) {
      read_fields(el, out, record, std::move(path));
    } else {
      if (el.first_attribute()) check_attributes(el, record, path, Attributes::kNone);
      using Head = typename Shape::Head;
      const std::string head_name(kElementName<Head>);
      if constexpr (internal::kHasLines<R>) {
        // Room for the lines at once (at most the children less the head) instead of growing
        // the vector line by line, which moves every line read so far.
        size_t children = 0;
        for (pugi::xml_node c = el.first_child();
             c && children <= static_cast<size_t>(Shape::kMaxLines); c = c.next_sibling()) {
          ++children;
        }
        if (children > 1)
          out->lists.reserve(std::min(children - 1, static_cast<size_t>(Shape::kMaxLines)));
      }
      int heads = 0;
      size_t lines = 0;
      for (pugi::xml_node c = el.first_child(); c; c = c.next_sibling()) {
        const pugi::xml_node_type type = c.type();
        if (type == pugi::node_pcdata || type == pugi::node_cdata) {
          unexpected_text(c, record, path);
          continue;
        }
        if (type != pugi::node_element) continue;
        size_t mark = c.first_attribute() ? push_namespaces(c, record, path) : ns_.size();
        std::optional<std::string_view> local = ceb_local(c, record, path);
        if (!local) {
          // reported
        } else if (*local == head_name) {
          if (++heads > 1) {
            v_->add(record, path + "/" + head_name, "duplicated");
          } else {
            if (lines > 0) {
              v_->add(record, path + "/" + head_name,
                      "out of order: expected " + std::string(line_name<R>()));
            }
            read_fields(c, &out->head, record, path + "/" + head_name);
          }
        } else if (internal::kHasLines<R> && *local == line_name<R>()) {
          if constexpr (internal::kHasLines<R>) {
            ++lines;
            if (lines <= static_cast<size_t>(Shape::kMaxLines)) {
              read_fields(c, &out->lists.emplace_back(), record,
                          path + "/" + indexed(line_name<R>(), lines));
            }
          }
        } else {
          v_->add(record, path + "/" + printable_name(*local), "unknown element");
        }
        pop_namespaces(mark);
      }
      if (heads == 0) v_->add(record, path + "/" + head_name, "required");
      if constexpr (internal::kHasLines<R>) {
        std::string lines_path = path + "/" + std::string(line_name<R>());
        if (lines == 0) v_->add(record, lines_path, "required");
        if (lines > static_cast<size_t>(Shape::kMaxLines)) {
          v_->add(record, lines_path, too_many(lines, Shape::kMaxLines));
        }
      }
    }
  }

  template <class R>
  static std::string_view line_name() {
    if constexpr (internal::kHasLines<R>) {
      return kElementName<typename RecordShape<R>::Line>;
    } else {
      return {};
    }
  }

  // ---- the root -----------------------------------------------------------------------------

  // Children of the root in XSD sequence order; a child may not come after a later one.
  enum Stage : int { kRecords, kBaseTransfer, kBaseSubscribe, kExtendMessage, kSignature };

  // "out of order: expected BaseSubscribe, ExtendMessage, Signature or end" after `stage`.
  static std::string expected_after(Stage stage) {
    static constexpr std::string_view kStageNames[] = {"", "BaseTransfer", "BaseSubscribe",
                                                       "ExtendMessage", "Signature"};
    std::string s = "out of order: expected ";
    // Only BaseSubscribe repeats among the elements after the records.
    for (int i = stage == kBaseSubscribe ? stage : stage + 1; i <= kSignature; ++i) {
      s += kStageNames[i];
      s += i < kSignature ? ", " : " ";
    }
    return s + (stage == kSignature ? "end" : "or end");
  }

  template <class R>
  void read_root(pugi::xml_node root, Message* m) {
    using Shape = RecordShape<R>;
    const std::string root_name(message_root_name(Shape::kType));
    const std::string node_name(record_node_name(Shape::kType));
    check_attributes(root, 0, root_name, Attributes::kRoot);
    for (const char* attr : {"guid", "version"}) {
      std::string path = root_name + "/@" + attr;
      pugi::xml_attribute a = root.attribute(attr);
      bool is_guid = attr[0] == 'g';
      if (!a) {
        v_->add(0, path, "required");
        continue;
      }
      internal::read_root_attribute(view(a.value()),
                                    is_guid ? internal::kGuidChars : internal::kVersionMinChars,
                                    is_guid ? internal::kGuidChars : internal::kVersionMaxChars,
                                    is_guid ? &m->guid : &m->version, v_, path);
    }

    std::vector<R>& records = m->*Shape::kRecords;
    Stage stage = kRecords;
    size_t record_count = 0;
    int transfers = 0, subscribes = 0, extends = 0, signatures = 0;
    {
      // Room for the records at once (at most the root's children) instead of growing the
      // vector record by record, which moves every record read so far.
      size_t children = 0;
      for (pugi::xml_node c = root.first_child();
           c && children < static_cast<size_t>(Shape::kMaxRecords); c = c.next_sibling()) {
        ++children;
      }
      records.reserve(children);
    }
    for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling()) {
      const pugi::xml_node_type type = c.type();
      if (type == pugi::node_pcdata || type == pugi::node_cdata) {
        unexpected_text(c, 0, root_name);
        continue;
      }
      if (type != pugi::node_element) continue;
      size_t mark = c.first_attribute() ? push_namespaces(c, 0, root_name) : ns_.size();
      const std::pair<std::string_view, std::string_view> qname = split_name(c.name());
      const std::string_view local = qname.second;
      std::optional<std::string_view> uri = resolve_cached(qname.first);
      // Built only when needed: a record or BaseTransfer has a path of its own.
      auto path = [&] { return root_name + "/" + printable_name(local); };
      Stage at;
      if (uri && *uri == kDsigNamespace && local == "Signature") {
        at = kSignature;
      } else if (!ceb_local(c, 0, root_name)) {
        pop_namespaces(mark);
        continue;
      } else if (local == node_name) {
        at = kRecords;
      } else if (local == "BaseTransfer") {
        at = kBaseTransfer;
      } else if (local == "BaseSubscribe") {
        at = kBaseSubscribe;
      } else if (local == "ExtendMessage") {
        at = kExtendMessage;
      } else {
        v_->add(0, path(), "unknown element");
        pop_namespaces(mark);
        continue;
      }
      if (at < stage) {
        v_->add(0, path(), expected_after(stage));
      } else {
        stage = at;
      }
      switch (at) {
        case kRecords:
          if (++record_count <= static_cast<size_t>(Shape::kMaxRecords)) {
            read_record(c, &records.emplace_back(), static_cast<int>(record_count));
          }
          break;
        case kBaseTransfer:
          if (++transfers == 1) {
            read_fields(c, &m->transfer, 0, "BaseTransfer");
          } else {
            v_->add(0, path(), "duplicated");
          }
          break;
        case kBaseSubscribe:
          ++subscribes;
          check_attributes(c, 0, path(), Attributes::kNone);
          walk_skipped(c, indexed(path(), static_cast<size_t>(subscribes)));
          break;
        case kExtendMessage:
          if (++extends > 1) v_->add(0, path(), "duplicated");
          check_attributes(c, 0, path(), Attributes::kNone);
          walk_skipped(c, path());
          break;
        case kSignature:
          if (++signatures > 1) v_->add(0, path(), "duplicated");
          m->has_signature = true;
          check_attributes(c, 0, path(), Attributes::kAnything);
          walk_skipped(c, path());
          break;
      }
      pop_namespaces(mark);
    }
    if (record_count == 0) v_->add(0, root_name + "/" + node_name, "required");
    if (record_count > static_cast<size_t>(Shape::kMaxRecords)) {
      v_->add(0, root_name + "/" + node_name, too_many(record_count, Shape::kMaxRecords));
    }
    if (transfers == 0) v_->add(0, root_name + "/BaseTransfer", "required");
    if (subscribes > kMaxBaseSubscribe) {
      v_->add(0, root_name + "/BaseSubscribe", too_many(subscribes, kMaxBaseSubscribe));
    }
  }

  ViolationList* v_;
  TextChars chars_;
  bool default_is_ceb_ = false;  // see refresh_default_is_ceb()
  // resolve_cached(): the last prefix resolved and its URI, while cache_valid_.
  bool cache_valid_ = false;
  std::string_view cached_prefix_;
  std::optional<std::string_view> cached_uri_;
  // cached_uri_ is kCebNamespace.
  bool cached_is_ceb_ = false;
  std::vector<std::pair<std::string_view, std::string_view>> ns_;  // prefix → URI, innermost last
};

bool is_utf8_label(std::string_view enc) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  std::string e;
  for (char c : enc) e.push_back(lower(c));
  return e == "utf-8" || e == "utf8";
}

}  // namespace

ReadResult read_message_xml(std::string_view bytes) {
  ReadResult result;
  ViolationList v;
  auto fail = [&](std::string path, std::string problem) {
    v.add(0, std::move(path), std::move(problem));
    result.violations = v.take();
    return result;
  };
  if (bytes.size() > kMaxMessageBytes) {
    return fail(std::string(kMessagePath), "size " + std::to_string(bytes.size()) +
                                               " bytes, maximum " +
                                               std::to_string(kMaxMessageBytes));
  }
  std::string_view doc = internal::strip_bom(bytes);
  const size_t bom = bytes.size() - doc.size();
  if (trim_xml_space(doc).empty()) return fail(std::string(kMessagePath), "empty message");
  if (std::string problem = prescan_xml(doc, bom); !problem.empty()) {
    return fail(std::string(kMessagePath), std::move(problem));
  }

  pugi::xml_document xml;
  pugi::xml_parse_result parsed = xml.load_buffer(
      doc.data(), doc.size(), pugi::parse_default | pugi::parse_declaration, pugi::encoding_utf8);
  if (!parsed) {
    return fail(std::string(kMessagePath),
                "malformed XML: " + std::string(parsed.description()) + " at offset " +
                    std::to_string(static_cast<size_t>(parsed.offset) + bom));
  }
  if (deeper_than(xml, kMaxXmlDepth)) {
    return fail(std::string(kMessagePath),
                "nesting deeper than " + std::to_string(kMaxXmlDepth) + " levels");
  }

  pugi::xml_node root;
  int roots = 0;
  for (pugi::xml_node c : xml.children()) {
    if (c.type() == pugi::node_declaration) {
      std::string_view enc = view(c.attribute("encoding").value());
      if (!enc.empty() && !is_utf8_label(enc)) {
        return fail(std::string(kMessagePath),
                    "encoding '" + printable_name(enc) + "' not supported (UTF-8 only)");
      }
    } else if (c.type() == pugi::node_element) {
      if (roots++ == 0) root = c;
    } else if ((c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) &&
               !trim_xml_space(view(c.value())).empty()) {
      return fail(std::string(kMessagePath), "text outside the root element");
    }
  }
  if (roots != 1) return fail(std::string(kMessagePath), "more than one root element");

  // The characters of the whole document, checked once: when they are all valid, no text, name
  // or attribute cut from it needs checking again (references were checked by the prescan).
  const internal::CharScan scan = internal::scan_chars(doc);
  Message m;
  XmlMessageReader reader(
      &v, scan.issue == internal::CharIssue::kNone ? TextChars::kValid : TextChars::kCheck);
  if (!reader.read(root, &m)) {
    result.violations = v.take();
    return result;
  }
  // Invalid bytes where no field check saw them (element names, comments, skipped markup).
  if (!v.char_problem()) {
    if (scan.issue != internal::CharIssue::kNone) {
      v.add(0, std::string(kMessagePath),
            std::string(internal::char_issue_text(scan.issue)) + " at offset " +
                std::to_string(scan.offset + bom));
    }
  }
  result.message = std::move(m);
  result.violations = v.take();
  return result;
}

}  // namespace cbec::ceb
