// Internal: how the clearance core stores documents and lists, and how they are written to the
// archive (src/archive/) when the core evicts them. The tables themselves are in engine.cc.
#pragma once

#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "archive/cold_map.h"
#include "common/ordered_append.h"
#include "clearance/clearance.h"
#include "messages/record_codec.h"

namespace cbec::clearance {

using Key = std::pair<std::string, std::string>;
using KeyView = archive::StringPairView;  // a Key borrowed: for lookups

// What a list waits for while kWaiting / kHeld.
enum class HoldKind : uint8_t { kNone, kPartners, kGuarantee, kStock, kArrival };

// Yearly per-person quantity caps of positive-list remarks (e.g. sugar 2 kg).
using CapKey = std::tuple<std::string, int, std::string>;  // buyer id, year, tariff8
// Units counted per cap (a released list's, a return's).
using CapUse = std::vector<std::pair<CapKey, int64_t>>;

template <class Doc>
struct Stored {
  Doc doc;
  DocRecord rec;
  ceb::ReceiptPtr last;  // the latest receipt issued for this record (answer to a replay)
};

struct ListExtra {
  HoldKind hold = HoldKind::kNone;
  ceb::ReceiptPtr last;
  CapUse caps;  // counted on release
  std::optional<Lane> lane;                 // decided once (cleared when the list is modified)
  std::vector<ceb::Finding> lane_findings;  // what chose a yellow or red lane
};

// Field-by-field codecs (records.cc). Every field is written, so decode(encode(x)) == x; the
// round trip of each is tested in tests/archive_test.cc.
void encode_doc_record(ByteWriter& w, const DocRecord& r);
void decode_doc_record(ByteReader& in, DocRecord* r);
void encode_list_tax(ByteWriter& w, const tax::ListTax& t);
void decode_list_tax(ByteReader& in, tax::ListTax* t);
void encode_list_record(ByteWriter& w, const ListRecord& L);
void decode_list_record(ByteReader& in, ListRecord* L);
void encode_list_extra(ByteWriter& w, const ListExtra& x);
void encode_cap_key(ByteWriter& w, const CapKey& k);
void decode_cap_key(ByteReader& in, CapKey* k);
void encode_caps(ByteWriter& w, const CapUse& caps);
void decode_caps(ByteReader& in, CapUse* caps);
void decode_list_extra(ByteReader& in, ListExtra* x);
// A date as three numbers; decoding checks only that each fits an int, not the calendar.
void encode_civil_date(ByteWriter& w, CivilDate d);
void decode_civil_date(ByteReader& in, CivilDate* d);

// Timer sets of the books' snapshots (TaxBook::timers_, ReturnBook::lapses_): (time, key) in set
// order. Decoding fails unless the entries come strictly in order, as a set writes them, so one
// set has exactly one encoding; it allocates no more entries than the bytes can hold.
template <class K>
void encode_timers(ByteWriter& w, const std::set<std::pair<TimeMs, K>>& timers) {
  w.u64(timers.size());
  for (const auto& [t, k] : timers) {
    w.i64(t);
    archive::KeyCodec<K>::put(w, k);
  }
}
template <class K>
void decode_timers(ByteReader& in, std::set<std::pair<TimeMs, K>>* timers) {
  for (uint64_t i = 0, n = in.count(); i < n && in.ok(); ++i) {
    std::pair<TimeMs, K> timer;
    timer.first = in.i64();
    archive::KeyCodec<K>::get(in, &timer.second);
    if (!in.ok() || !append_in_order(timers, std::move(timer))) return in.fail();
  }
}

}  // namespace cbec::clearance

namespace cbec::archive {

template <class Doc>
struct ValueCodec<clearance::Stored<Doc>> {
  static void put(ByteWriter& w, const clearance::Stored<Doc>& s) {
    ceb::encode_record(w, s.doc);
    clearance::encode_doc_record(w, s.rec);
    ceb::encode_receipt(w, s.last);
  }
  static void get(ByteReader& in, clearance::Stored<Doc>* s) {
    ceb::decode_record(in, &s->doc);
    clearance::decode_doc_record(in, &s->rec);
    ceb::decode_receipt(in, &s->last);
  }
};
template <>
struct ValueCodec<clearance::ListRecord> {
  static void put(ByteWriter& w, const clearance::ListRecord& L) {
    clearance::encode_list_record(w, L);
  }
  static void get(ByteReader& in, clearance::ListRecord* L) { clearance::decode_list_record(in, L); }
};
template <>
struct ValueCodec<clearance::ListExtra> {
  static void put(ByteWriter& w, const clearance::ListExtra& x) { clearance::encode_list_extra(w, x); }
  static void get(ByteReader& in, clearance::ListExtra* x) { clearance::decode_list_extra(in, x); }
};
template <>
struct KeyCodec<clearance::CapKey> {
  static void put(ByteWriter& w, const clearance::CapKey& k) { clearance::encode_cap_key(w, k); }
  static void get(ByteReader& in, clearance::CapKey* k) { clearance::decode_cap_key(in, k); }
};

}  // namespace cbec::archive

namespace cbec::clearance {
// Units counted per yearly cap so far (R3), per buyer, year and tariff8: one entry per buyer and
// capped good for ever, so the table is a ColdMap (issue #3).
using CapTable = archive::ColdMap<CapKey, int64_t, archive::Hashed>;
}  // namespace cbec::clearance
