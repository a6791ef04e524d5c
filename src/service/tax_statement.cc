// The guarantor statement as JSON and CSV (see tax_statement.h).
#include "service/tax_statement.h"

#include <map>

#include "fmt/format.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace cbec::service {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using clearance::TaxBill;
using clearance::TaxJournalEntry;

void s(Writer& w, const char* key, std::string_view v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

// The last day a bill may be paid without being overdue.
std::string due_by(const TaxBill& b) { return format_iso_date(beijing_date(b.overdue_at - 1)); }

void write_line(Writer& w, const tax::LineTax& l) {
  w.StartObject();
  w.Key("gnum");
  w.Int64(l.gnum);
  s(w, "gcode", l.gcode);
  s(w, "taxPrice", format_fen(l.dutiable_fen));
  s(w, "customsTax", format_fen(l.tariff_fen));
  s(w, "consumptionTax", format_fen(l.ct_fen));
  s(w, "valueAddedTax", format_fen(l.vat_fen));
  s(w, "total", format_fen(l.total_fen()));
  w.EndObject();
}

void write_lines(Writer& w, const char* key, const tax::ListTax& t) {
  w.Key(key);
  w.StartArray();
  for (const auto& l : t.lines) write_line(w, l);
  w.EndArray();
}

std::string csv_field(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

std::string tax_statement_json(const clearance::TaxStatement& st) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  s(w, "assureCode", st.assureCode);
  s(w, "from", format_iso_date(st.from));
  s(w, "to", format_iso_date(st.to));
  s(w, "openingBalance", format_fen(st.opening_fen));
  s(w, "bills", format_fen(st.bills_fen));
  s(w, "reinstated", format_fen(st.reinstated_fen));
  s(w, "reductions", format_fen(st.reductions_fen));
  s(w, "voids", format_fen(st.voids_fen));
  s(w, "payments", format_fen(st.payments_fen));
  s(w, "closingBalance", format_fen(st.closing_fen));
  s(w, "deposits", format_fen(st.deposits_fen));
  w.Key("guarantee");
  w.StartObject();
  s(w, "deposited", format_fen(st.guarantee.deposited_fen));
  s(w, "openBills", format_fen(st.guarantee.open_bills_fen));
  s(w, "reserved", format_fen(st.guarantee.reserved_fen));
  s(w, "remaining", format_fen(st.guarantee.remaining_fen()));
  w.EndObject();
  w.Key("taxBills");
  w.StartArray();
  for (const auto& found : st.bills) {
    const TaxBill* bill = found.get();
    w.StartObject();
    s(w, "invtNo", bill->invtNo);
    s(w, "taxNo", bill->taxNo);
    s(w, "releasedAt", format_datetime14(bill->released_at));
    s(w, "state", clearance::tax_bill_state_name(bill->state));
    s(w, "payableFrom", format_iso_date(beijing_date(bill->payable_at)));
    s(w, "dueBy", due_by(*bill));
    s(w, "tax", format_fen(bill->tax.total_fen()));
    s(w, "levied", format_fen(bill->levied.total_fen()));
    s(w, "paid", format_fen(bill->paid_fen));
    s(w, "pendingReturns", format_fen(bill->pending_return_fen));
    s(w, "outstanding", format_fen(bill->outstanding_fen()));
    write_lines(w, "lines", bill->tax);
    write_lines(w, "leviedLines", bill->levied);
    w.EndObject();
  }
  w.EndArray();
  w.Key("entries");
  w.StartArray();
  Fen balance = st.opening_fen;
  for (const TaxJournalEntry& e : st.entries) {
    balance += e.signed_fen();
    w.StartObject();
    s(w, "time", format_datetime14(e.time));
    s(w, "kind", clearance::journal_kind_name(e.kind));
    s(w, "invtNo", e.invtNo);
    s(w, "reference", e.reference);
    s(w, "amount", format_fen(e.amount_fen));
    s(w, "balance", format_fen(balance));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return b.GetString();
}

std::string tax_statement_csv(const clearance::TaxStatement& st) {
  std::map<std::string_view, const TaxBill*> bills;
  for (const auto& b : st.bills) bills.emplace(b->invtNo, b.get());
  std::string out =
      "record,time,invtNo,taxNo,gnum,gcode,taxPrice,customsTax,consumptionTax,valueAddedTax,"
      "amount,balance,reference\r\n";
  auto row = [&](std::string_view record, std::string_view time, std::string_view invt,
                 std::string_view tax_no, std::string_view gnum, std::string_view gcode,
                 std::string_view price, std::string_view tariff, std::string_view ct,
                 std::string_view vat, std::string_view amount, std::string_view balance,
                 std::string_view reference) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n", csv_field(record),
                       csv_field(time), csv_field(invt), csv_field(tax_no), csv_field(gnum),
                       csv_field(gcode), csv_field(price), csv_field(tariff), csv_field(ct),
                       csv_field(vat), csv_field(amount), csv_field(balance), csv_field(reference));
  };
  Fen balance = st.opening_fen;
  row("opening", format_iso_date(st.from), "", "", "", "", "", "", "", "",
      format_fen(st.opening_fen), format_fen(balance), st.assureCode);
  for (const TaxJournalEntry& e : st.entries) {
    balance += e.signed_fen();
    auto b = bills.find(e.invtNo);
    const TaxBill* bill = b == bills.end() ? nullptr : b->second;
    if (e.kind == TaxJournalEntry::Kind::kBill && bill != nullptr) {
      const auto& t = bill->tax;
      row("bill", format_datetime14(e.time), e.invtNo, bill->taxNo, "", "",
          format_fen(t.dutiable_fen), format_fen(t.tariff_fen), format_fen(t.ct_fen),
          format_fen(t.vat_fen), format_fen(e.amount_fen), format_fen(balance), e.reference);
      for (const auto& l : t.lines)
        row("bill_line", format_datetime14(e.time), e.invtNo, bill->taxNo, std::to_string(l.gnum),
            l.gcode, format_fen(l.dutiable_fen), format_fen(l.tariff_fen), format_fen(l.ct_fen),
            format_fen(l.vat_fen), format_fen(l.total_fen()), "", "");
      continue;
    }
    row(clearance::journal_kind_name(e.kind), format_datetime14(e.time), e.invtNo,
        bill ? bill->taxNo : "", "", "", "", "", "", "", format_fen(e.amount_fen),
        format_fen(balance), e.reference);
  }
  row("closing", format_iso_date(st.to), "", "", "", "", "", "", "", "", format_fen(st.closing_fen),
      format_fen(balance), st.assureCode);
  row("guarantee", "", "", "", "", "", "", "", "", "", format_fen(st.guarantee.remaining_fen()), "",
      fmt::format("deposited {} open bills {} reserved {}", format_fen(st.guarantee.deposited_fen),
                  format_fen(st.guarantee.open_bills_fen), format_fen(st.guarantee.reserved_fen)));
  return out;
}

}  // namespace cbec::service
