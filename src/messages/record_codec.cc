#include "messages/record_codec.h"

#include "messages/shape.h"

namespace cbec::ceb {
namespace {

template <class T>
void put_struct(ByteWriter& w, const T& rec) {
  for (const FieldSpec<T>& f : kFields<T>) {
    switch (f.kind) {
      case FieldKind::kString:
        w.str(rec.*f.str);
        break;
      case FieldKind::kDecimal:
        w.boolean((rec.*f.dec).present);
        w.i64((rec.*f.dec).units);
        break;
      case FieldKind::kInt:
        w.i64(rec.*f.num);
        break;
    }
  }
}

template <class T>
void get_struct(ByteReader& in, T* rec) {
  for (const FieldSpec<T>& f : kFields<T>) {
    switch (f.kind) {
      case FieldKind::kString:
        in.str(&(rec->*f.str));
        break;
      case FieldKind::kDecimal:
        (rec->*f.dec).present = in.boolean();
        (rec->*f.dec).units = in.i64();
        break;
      case FieldKind::kInt:
        rec->*f.num = in.i64();
        break;
    }
  }
}

template <class R>
void put(ByteWriter& w, const R& r) {
  put_struct(w, internal::head_of(r));
  if constexpr (internal::kHasLines<R>) {
    w.u64(r.lists.size());
    for (const auto& line : r.lists) put_struct(w, line);
  }
}

template <class R>
void get(ByteReader& in, R* r) {
  get_struct(in, &internal::head_of(*r));
  if constexpr (internal::kHasLines<R>) {
    uint64_t n = in.u64();
    // A record never has more lines than a message may carry; more means corrupt bytes.
    if (n > static_cast<uint64_t>(kMaxDeliveryLines)) return in.fail();
    r->lists.resize(n);
    for (auto& line : r->lists) get_struct(in, &line);
  }
}

}  // namespace

void encode_record(ByteWriter& w, const Order& r) { put(w, r); }
void encode_record(ByteWriter& w, const Payment& r) { put(w, r); }
void encode_record(ByteWriter& w, const Logistics& r) { put(w, r); }
void encode_record(ByteWriter& w, const LogisticsStatus& r) { put(w, r); }
void encode_record(ByteWriter& w, const Inventory& r) { put(w, r); }
void encode_record(ByteWriter& w, const InvtCancel& r) { put(w, r); }
void encode_record(ByteWriter& w, const InvtRefund& r) { put(w, r); }
void encode_record(ByteWriter& w, const Delivery& r) { put(w, r); }
void decode_record(ByteReader& in, Order* r) { get(in, r); }
void decode_record(ByteReader& in, Payment* r) { get(in, r); }
void decode_record(ByteReader& in, Logistics* r) { get(in, r); }
void decode_record(ByteReader& in, LogisticsStatus* r) { get(in, r); }
void decode_record(ByteReader& in, Inventory* r) { get(in, r); }
void decode_record(ByteReader& in, InvtCancel* r) { get(in, r); }
void decode_record(ByteReader& in, InvtRefund* r) { get(in, r); }
void decode_record(ByteReader& in, Delivery* r) { get(in, r); }

void encode_finding(ByteWriter& w, const Finding& f) {
  w.str(f.rule);
  w.str(f.field);
  w.str(f.zh);
  w.str(f.en);
}
void decode_finding(ByteReader& in, Finding* f) {
  in.str(&f->rule);
  in.str(&f->field);
  in.str(&f->zh);
  in.str(&f->en);
}

namespace {
// A bound for corrupt bytes only: real receipts carry a few findings.
constexpr uint64_t kMaxDecodedFindings = 100000;
// The receipt's string fields in one table, so encode and decode cannot drift apart.
constexpr std::string Receipt::*kReceiptStrings[] = {
    &Receipt::receiver,        &Receipt::guid,          &Receipt::customsCode,
    &Receipt::ebpCode,         &Receipt::ebcCode,       &Receipt::agentCode,
    &Receipt::orderNo,         &Receipt::payCode,       &Receipt::payTransactionId,
    &Receipt::logisticsCode,   &Receipt::logisticsNo,   &Receipt::logisticsStatus,
    &Receipt::copNo,           &Receipt::preNo,         &Receipt::invtNo,
    &Receipt::operatorCode,    &Receipt::rkdNo,         &Receipt::returnInfo,
};
}  // namespace

void encode_receipt(ByteWriter& w, const Receipt& r) {
  w.u8(static_cast<uint8_t>(r.answers));
  for (auto field : kReceiptStrings) w.str(r.*field);
  w.i64(r.returnStatus);
  w.i64(r.returnTime);
  w.u64(r.findings.size());
  for (const Finding& f : r.findings) encode_finding(w, f);
}
void decode_receipt(ByteReader& in, Receipt* r) {
  uint8_t t = in.u8();
  if (t >= kMessageTypeCount) return in.fail();
  r->answers = static_cast<MessageType>(t);
  for (auto field : kReceiptStrings) in.str(&(r->*field));
  r->returnStatus = static_cast<int>(in.i64());
  r->returnTime = in.i64();
  uint64_t n = in.u64();
  if (n > kMaxDecodedFindings) return in.fail();
  r->findings.resize(n);
  for (Finding& f : r->findings) decode_finding(in, &f);
}

void encode_receipt(ByteWriter& w, const ReceiptPtr& r) {
  static const Receipt kNone;
  encode_receipt(w, r ? *r : kNone);
}
void decode_receipt(ByteReader& in, ReceiptPtr* r) {
  Receipt x;
  decode_receipt(in, &x);
  *r = x == Receipt{} ? nullptr : std::make_shared<const Receipt>(std::move(x));
}

}  // namespace cbec::ceb
