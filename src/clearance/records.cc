#include "clearance/records.h"

#include <limits>

namespace cbec::clearance {
namespace {
// Bounds for damaged bytes only (real records are far smaller).
constexpr uint64_t kMaxDecodedItems = 1000000;

template <class T, class F>
void get_vector(ByteReader& in, std::vector<T>* v, F&& get_one) {
  uint64_t n = in.u64();
  if (n > kMaxDecodedItems) return in.fail();
  v->resize(n);
  for (T& x : *v) get_one(x);
}
}  // namespace

void encode_cap_key(ByteWriter& w, const CapKey& k) {
  w.str(std::get<0>(k));
  w.i64(std::get<1>(k));
  w.str(std::get<2>(k));
}
void decode_cap_key(ByteReader& in, CapKey* k) {
  in.str(&std::get<0>(*k));
  std::get<1>(*k) = static_cast<int>(in.i64());
  in.str(&std::get<2>(*k));
}
void encode_civil_date(ByteWriter& w, CivilDate d) {
  w.i64(d.year);
  w.i64(d.month);
  w.i64(d.day);
}
void decode_civil_date(ByteReader& in, CivilDate* d) {
  for (int* part : {&d->year, &d->month, &d->day}) {
    int64_t v = in.i64();
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) in.fail();
    *part = static_cast<int>(v);
  }
}
void encode_caps(ByteWriter& w, const CapUse& caps) {
  w.u64(caps.size());
  for (const auto& [k, units] : caps) encode_cap_key(w, k), w.i64(units);
}
void decode_caps(ByteReader& in, CapUse* caps) {
  get_vector(in, caps, [&](std::pair<CapKey, int64_t>& c) {
    decode_cap_key(in, &c.first);
    c.second = in.i64();
  });
}

void encode_doc_record(ByteWriter& w, const DocRecord& r) {
  w.str(r.sender);
  w.i64(r.returnStatus);
  w.i64(r.received_at);
  w.u64(r.list_id);
}
void decode_doc_record(ByteReader& in, DocRecord* r) {
  in.str(&r->sender);
  r->returnStatus = static_cast<int>(in.i64());
  r->received_at = in.i64();
  r->list_id = in.u64();
}

void encode_list_tax(ByteWriter& w, const tax::ListTax& t) {
  w.u8(static_cast<uint8_t>(t.regime));
  w.u8(static_cast<uint8_t>(t.rounding));
  w.i64(t.dutiable_fen);
  w.i64(t.tariff_fen);
  w.i64(t.ct_fen);
  w.i64(t.vat_fen);
  w.u64(t.lines.size());
  for (const tax::LineTax& l : t.lines) {
    w.i64(l.gnum);
    w.str(l.gcode);
    w.i64(l.dutiable_fen);
    w.i64(l.tariff_fen);
    w.i64(l.ct_fen);
    w.i64(l.vat_fen);
    w.boolean(l.ct_high_end);
    w.i64(l.tariff_bp);
    w.i64(l.vat_bp);
    w.i64(l.ct_bp);
  }
}
void decode_list_tax(ByteReader& in, tax::ListTax* t) {
  t->regime = static_cast<tax::Regime>(in.u8());
  t->rounding = static_cast<ref::TaxRounding>(in.u8());
  t->dutiable_fen = in.i64();
  t->tariff_fen = in.i64();
  t->ct_fen = in.i64();
  t->vat_fen = in.i64();
  get_vector(in, &t->lines, [&](tax::LineTax& l) {
    l.gnum = in.i64();
    in.str(&l.gcode);
    l.dutiable_fen = in.i64();
    l.tariff_fen = in.i64();
    l.ct_fen = in.i64();
    l.vat_fen = in.i64();
    l.ct_high_end = in.boolean();
    l.tariff_bp = in.i64();
    l.vat_bp = in.i64();
    l.ct_bp = in.i64();
  });
}

void encode_list_record(ByteWriter& w, const ListRecord& L) {
  w.u64(L.id);
  ceb::encode_record(w, L.doc);
  w.str(L.sender);
  w.str(L.preNo);
  w.str(L.invtNo);
  w.u8(static_cast<uint8_t>(L.state));
  w.i64(L.returnStatus);
  w.str(L.hold_reason);
  w.i64(L.declared_at);
  w.i64(L.expires_at);
  w.u64(L.findings.size());
  for (const auto& f : L.findings) ceb::encode_finding(w, f);
  w.boolean(L.tax.has_value());
  if (L.tax) encode_list_tax(w, *L.tax);
  w.boolean(L.reserved);
  w.u64(L.history.size());
  for (const StatusEvent& h : L.history) {
    w.i64(h.time);
    w.i64(h.returnStatus);
    w.str(h.info);
  }
}
void decode_list_record(ByteReader& in, ListRecord* L) {
  L->id = in.u64();
  ceb::decode_record(in, &L->doc);
  in.str(&L->sender);
  in.str(&L->preNo);
  in.str(&L->invtNo);
  uint8_t state = in.u8();
  if (state > static_cast<uint8_t>(ListState::kCancelled)) return in.fail();
  L->state = static_cast<ListState>(state);
  L->returnStatus = static_cast<int>(in.i64());
  in.str(&L->hold_reason);
  L->declared_at = in.i64();
  L->expires_at = in.i64();
  get_vector(in, &L->findings, [&](ceb::Finding& f) { ceb::decode_finding(in, &f); });
  if (in.boolean()) {
    L->tax.emplace();
    decode_list_tax(in, &*L->tax);
  } else {
    L->tax.reset();
  }
  L->reserved = in.boolean();
  get_vector(in, &L->history, [&](StatusEvent& h) {
    h.time = in.i64();
    h.returnStatus = static_cast<int>(in.i64());
    in.str(&h.info);
  });
}

void encode_list_extra(ByteWriter& w, const ListExtra& x) {
  w.u8(static_cast<uint8_t>(x.hold));
  ceb::encode_receipt(w, x.last);
  encode_caps(w, x.caps);
  w.boolean(x.lane.has_value());
  if (x.lane) w.u8(static_cast<uint8_t>(*x.lane));
  w.u64(x.lane_findings.size());
  for (const auto& f : x.lane_findings) ceb::encode_finding(w, f);
}
void decode_list_extra(ByteReader& in, ListExtra* x) {
  uint8_t hold = in.u8();
  if (hold > static_cast<uint8_t>(HoldKind::kArrival)) return in.fail();
  x->hold = static_cast<HoldKind>(hold);
  ceb::decode_receipt(in, &x->last);
  decode_caps(in, &x->caps);
  if (in.boolean()) {
    uint8_t lane = in.u8();
    if (lane > static_cast<uint8_t>(Lane::kRed)) return in.fail();
    x->lane = static_cast<Lane>(lane);
  } else {
    x->lane.reset();
  }
  get_vector(in, &x->lane_findings, [&](ceb::Finding& f) { ceb::decode_finding(in, &f); });
}

}  // namespace cbec::clearance
