// record_digest: a canonical content digest of one record: for the idempotency of cancels and
// returns, and for state dumps (orders, payments, waybills and lists are compared field by field).
//
// 64-bit FNV-1a (text.h) over, for each struct in the record (head, then every line in order):
// the struct's XSD name, then for each field in kFields order its name, 0x1F, its canonical
// text and 0x1E. Canonical text is the stored string (already trimmed of XML whitespace), the
// decimal in format_decimal form ("1.50" and "1.5" give "1.5"; absent gives ""), or the integer
// in decimal. The separators cannot occur in field text (the readers reject control characters),
// so different records cannot serialize alike. Only bytes and fixed constants go in: the digest
// is the same on every run and machine, and across XML and JSON.
#include <charconv>
#include <system_error>

#include "messages/ceb.h"
#include "messages/shape.h"
#include "messages/text.h"

namespace cbec::ceb {
namespace {

using internal::fnv1a;

template <class T>
uint64_t mix_struct(uint64_t h, const T& rec) {
  h = fnv1a(h, kElementName<T>);
  h = fnv1a(h, "\x1D");
  for (const FieldSpec<T>& f : kFields<T>) {
    h = fnv1a(h, f.name);
    h = fnv1a(h, "\x1F");
    switch (f.kind) {
      case FieldKind::kString:
        h = fnv1a(h, rec.*f.str);
        break;
      // Formatted on the stack: building a std::string per number was most of the digest's cost.
      case FieldKind::kDecimal:
        if ((rec.*f.dec).present) h = fnv1a(h, decimal_text(rec.*f.dec).view());
        break;
      case FieldKind::kInt: {
        char buf[24];  // an int64_t in decimal: at most 20 characters
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, rec.*f.num);
        CBEC_ASSERT(ec == std::errc());
        h = fnv1a(h, std::string_view(buf, static_cast<size_t>(end - buf)));
        break;
      }
    }
    h = fnv1a(h, "\x1E");
  }
  return h;
}

template <class R>
uint64_t digest(const R& r) {
  uint64_t h = mix_struct(internal::kFnvOffsetBasis, internal::head_of(r));
  if constexpr (internal::kHasLines<R>) {
    for (const auto& line : r.lists) h = mix_struct(h, line);
  }
  return h;
}

}  // namespace

uint64_t record_digest(const Order& r) { return digest(r); }
uint64_t record_digest(const Payment& r) { return digest(r); }
uint64_t record_digest(const Logistics& r) { return digest(r); }
uint64_t record_digest(const LogisticsStatus& r) { return digest(r); }
uint64_t record_digest(const Inventory& r) { return digest(r); }
uint64_t record_digest(const InvtCancel& r) { return digest(r); }
uint64_t record_digest(const InvtRefund& r) { return digest(r); }
uint64_t record_digest(const Delivery& r) { return digest(r); }

}  // namespace cbec::ceb
