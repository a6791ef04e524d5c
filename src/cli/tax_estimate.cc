#include <fstream>
#include <iostream>
#include <sstream>

#include "clearance/clearance.h"
#include "cli/commands.h"
#include "fmt/format.h"
#include "messages/ceb.h"
#include "rapidjson/document.h"

namespace cbec::cli {

namespace {

bool parse_dec(const rapidjson::Value& v, Decimal* out) {
  std::string text;
  if (v.IsString()) text = v.GetString();
  else if (v.IsInt64()) text = std::to_string(v.GetInt64());
  else if (v.IsNumber()) text = fmt::format("{}", v.GetDouble());
  else return false;
  return parse_decimal(text, out) == DecimalError::kOk;
}

// An order in the JSON form whose OrderList entries carry "gcode" (and optionally "qty1",
// "unit1"): what a platform has before it declares.
int estimate_order_json(const rapidjson::Value& order, CivilDate date,
                        const ref::ReferenceData& ref) {
  const auto& head = order["OrderHead"];
  std::vector<std::string> gcodes, units, units1;
  std::vector<tax::LineInput> lines;
  const auto& list = order["OrderList"];
  gcodes.reserve(list.Size());
  units.reserve(list.Size());
  units1.reserve(list.Size());
  for (const auto& l : list.GetArray()) {
    if (!l.HasMember("gcode") || !l["gcode"].IsString()) {
      std::cerr << "every OrderList entry needs a \"gcode\" (10-digit HS code) for a tax estimate\n";
      return 2;
    }
    tax::LineInput in;
    in.gnum = l.HasMember("gnum") && l["gnum"].IsInt64() ? l["gnum"].GetInt64()
                                                          : static_cast<int64_t>(lines.size() + 1);
    gcodes.push_back(l["gcode"].GetString());
    units.push_back(l.HasMember("unit") && l["unit"].IsString() ? l["unit"].GetString() : "");
    units1.push_back(l.HasMember("unit1") && l["unit1"].IsString() ? l["unit1"].GetString() : "");
    if (!l.HasMember("qty") || !parse_dec(l["qty"], &in.qty) || !l.HasMember("totalPrice") ||
        !parse_dec(l["totalPrice"], &in.total_price)) {
      std::cerr << "OrderList entry " << in.gnum << ": qty and totalPrice are required\n";
      return 2;
    }
    if (l.HasMember("qty1")) parse_dec(l["qty1"], &in.qty1);
    lines.push_back(in);
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    lines[i].gcode = gcodes[i];
    lines[i].unit = units[i];
    lines[i].unit1 = units1[i];
  }
  tax::ListInput in;
  in.lines = lines;
  if (head.HasMember("freight")) parse_dec(head["freight"], &in.freight);
  if (head.HasMember("discount")) parse_dec(head["discount"], &in.discount);
  in.date = date;
  auto t = clearance::estimate_tax(in, ref);
  if (!t.ok()) {
    std::cerr << t.status().ToString() << "\n";
    return 1;
  }
  std::cout << tax::to_json(*t) << "\n";
  return 0;
}

}  // namespace

int tax_estimate(const std::string& file, const std::string& date_iso) {
  auto loaded = ref::ReferenceData::LoadDefaults();
  if (!loaded.ok()) {
    std::cerr << loaded.status().ToString() << "\n";
    return 2;
  }
  const ref::ReferenceData& ref = **loaded;
  std::ifstream f(file, std::ios::binary);
  if (!f) {
    std::cerr << file << ": cannot read\n";
    return 2;
  }
  std::ostringstream buf;
  buf << f.rdbuf();
  std::string text = buf.str();

  std::optional<CivilDate> date;
  if (!date_iso.empty()) {
    date = parse_iso_date(date_iso);
    if (!date) {
      std::cerr << "--date must be yyyy-mm-dd\n";
      return 2;
    }
  }

  // The order form (JSON with gcode per line) is not a valid CEB message: handle it first.
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("CEB311Message")) {
    const auto& m = doc["CEB311Message"];
    if (!m.HasMember("Order") || !m["Order"].IsArray() || m["Order"].Empty()) {
      std::cerr << "CEB311Message needs an Order array\n";
      return 2;
    }
    CivilDate d = date ? *date : CivilDate{2026, 1, 1};
    if (!date) {
      const auto& h = m["Order"][0]["OrderHead"];
      if (h.HasMember("appTime") && h["appTime"].IsString()) {
        if (auto t = parse_datetime14(h["appTime"].GetString())) d = beijing_date(*t);
      }
    }
    int rc = 0;
    for (const auto& order : m["Order"].GetArray()) rc |= estimate_order_json(order, d, ref);
    return rc;
  }

  ceb::ReadResult r = ceb::read_message_auto(text);
  if (!r.ok()) {
    std::cerr << file << ": not a valid message\n";
    for (const auto& v : r.violations) std::cerr << "  " << v.ToString() << "\n";
    return 2;
  }
  if (r.message->type != ceb::MessageType::kCEB621) {
    std::cerr << file << ": expected an inventory list (CEB621) or an order with gcode per line\n";
    return 2;
  }
  int rc = 0;
  for (const auto& inv : r.message->inventories) {
    std::vector<tax::LineInput> lines;
    for (const auto& l : inv.lists)
      lines.push_back({l.gnum, l.gcode, l.qty, l.unit, l.qty1, l.unit1, l.totalPrice});
    tax::ListInput in;
    in.lines = lines;
    in.freight = inv.head.freight;
    in.insured_fee = inv.head.insuredFee;
    in.date = date ? *date : parse_date8(inv.head.declTime).value_or(CivilDate{2026, 1, 1});
    auto t = clearance::estimate_tax(in, ref);
    if (!t.ok()) {
      std::cerr << inv.head.copNo << ": " << t.status().ToString() << "\n";
      rc = 1;
      continue;
    }
    std::cout << tax::to_json(*t) << "\n";
  }
  return rc;
}

}  // namespace cbec::cli
