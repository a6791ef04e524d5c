// Test support for the clearance core (see clearance_fixture.h).
#include <fstream>
#include <sstream>

#include "clearance_fixture.h"
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "messages/ceb.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace cbec::testing {

using clearance::Command;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::vector<CatalogItem>& fixture_catalog() {
  static const std::vector<CatalogItem> kItems = {
      {"1", "1901101090", "爱他美婴儿配方奶粉1段800g", "800克/罐，牛奶基配方", "122", "035", "303",
       "298.00", "0.8", "1000"},
      {"2", "3304990099", "雅诗兰黛特润修护精华露50ml", "50毫升/瓶，精华", "142", "095", "502",
       "650.00", "0.05", "500"},
      {"3", "3304990099", "妮维雅润肤乳液100ml", "100毫升/瓶，乳液", "142", "095", "303", "80.00",
       "0.1", "500"},
      {"4", "2204210000", "奔富Bin389红葡萄酒750ml", "750毫升/瓶，干红", "142", "095", "601",
       "300.00", "0.75", "500"},
      {"5", "9004100000", "雷朋经典太阳镜RB3025", "金属框，偏光", "007", "007", "307", "6000.00",
       "1", "50"},
      {"6", "1701991000", "日本白砂糖1kg", "1千克/包", "125", "035", "116", "25.00", "1", "500"},
      {"7", "0306170000", "阿根廷红虾2kg", "2千克/包，冷冻", "125", "035", "502", "180.00", "2",
       "500"},
      {"8", "2402200000", "万宝路香烟", "20支/包", "125", "007", "502", "30.00", "1", "100"},
      {"9", "0409000000", "新西兰麦卢卡蜂蜜UMF20+ 250g", "250克/罐", "122", "035", "609",
       "899.00", "0.25", "2"},
      {"10", "0802320000", "美国加州核桃仁500g", "500克/包", "125", "035", "502", "69.00", "0.5",
       "1000"},
      {"11", "3303000000", "香奈儿五号香水50ml", "50毫升/瓶，香水", "142", "095", "305", "1100.00",
       "0.05", "100"},
  };
  return kItems;
}

namespace {

const CatalogItem& catalog_item(const std::string& record_no) {
  for (const auto& i : fixture_catalog())
    if (i.itemRecordNo == record_no) return i;
  throw std::runtime_error("no catalogue item " + record_no);
}

Decimal dec(const std::string& text) {
  Decimal d;
  if (parse_decimal(text, &d) != DecimalError::kOk) throw std::runtime_error("bad decimal " + text);
  return d;
}

Decimal mul(Decimal a, Decimal b) {
  __int128 p = static_cast<__int128>(a.units) * b.units / kDecimalScale;
  return Decimal::of_units(static_cast<int64_t>(p));
}

std::string json_text(const rapidjson::Value& v) {
  if (v.IsString()) return v.GetString();
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return b.GetString();
}

// Sets one field of a record struct by its CEB name, using the generated field table.
template <class T>
void set_field(T* rec, std::string_view name, const std::string& text) {
  for (const auto& f : ceb::kFields<T>) {
    if (f.name != name) continue;
    switch (f.kind) {
      case ceb::FieldKind::kString: rec->*(f.str) = text; return;
      case ceb::FieldKind::kDecimal:
        rec->*(f.dec) = text.empty() ? Decimal{} : dec(text);
        return;
      case ceb::FieldKind::kInt: rec->*(f.num) = std::stoll(text); return;
    }
  }
  throw std::runtime_error(fmt::format("no field {} in {}", name, ceb::kElementName<T>));
}

// "OrderHead.buyerName" / "OrderList[2].qty" on a head+lines record.
template <class Head, class Line, class Rec>
void set_path(Rec* rec, const std::string& path, const rapidjson::Value& v) {
  auto dot = path.find('.');
  if (dot == std::string::npos) throw std::runtime_error("bad path " + path);
  std::string node = path.substr(0, dot), field = path.substr(dot + 1);
  std::string text = json_text(v);
  if (node == ceb::kElementName<Head>) return set_field(&rec->head, field, text);
  auto br = node.find('[');
  if (br != std::string::npos && node.substr(0, br) == ceb::kElementName<Line>) {
    size_t index = std::stoul(node.substr(br + 1)) - 1;
    if constexpr (!std::is_same_v<Line, void>) {
      if (index >= rec->lists.size()) throw std::runtime_error("no line in " + path);
      return set_field(&rec->lists[index], field, text);
    }
  }
  throw std::runtime_error("bad path " + path);
}

}  // namespace

void apply_overrides(DocSet* s, const rapidjson::Value& spec) {
  for (auto doc = spec.MemberBegin(); doc != spec.MemberEnd(); ++doc) {
    std::string which = doc->name.GetString();
    for (auto f = doc->value.MemberBegin(); f != doc->value.MemberEnd(); ++f) {
      std::string path = f->name.GetString();
      if (which == "order") {
        set_path<ceb::OrderHead, ceb::OrderList>(&s->order, path, f->value);
      } else if (which == "payment") {
        if (path.rfind("PaymentHead.", 0) != 0) throw std::runtime_error("bad path " + path);
        set_field(&s->payment.head, path.substr(12), json_text(f->value));
      } else if (which == "waybill") {
        if (path.rfind("LogisticsHead.", 0) != 0) throw std::runtime_error("bad path " + path);
        set_field(&s->waybill.head, path.substr(14), json_text(f->value));
      } else if (which == "list") {
        set_path<ceb::InventoryHead, ceb::InventoryList>(&s->list, path, f->value);
      } else {
        throw std::runtime_error("unknown document " + which);
      }
    }
  }
}

namespace {

template <class Rec>
Rec read_record(const rapidjson::Value& v, const char* root, const char* node,
                std::vector<Rec> ceb::Message::*field) {
  rapidjson::Document wrapper;
  wrapper.SetObject();
  auto& a = wrapper.GetAllocator();
  rapidjson::Value msg(rapidjson::kObjectType);
  msg.AddMember("guid", "A1B2C3D4-0000-4000-8000-000000000000", a);
  msg.AddMember("version", "1.0", a);
  rapidjson::Value arr(rapidjson::kArrayType);
  arr.PushBack(rapidjson::Value(v, a), a);
  msg.AddMember(rapidjson::StringRef(node), arr, a);
  rapidjson::Value bt(rapidjson::kObjectType);
  bt.AddMember("copCode", "4101960001", a);
  bt.AddMember("copName", "test", a);
  bt.AddMember("dxpMode", "DXP", a);
  bt.AddMember("dxpId", "DXPENT0000000001", a);
  msg.AddMember("BaseTransfer", bt, a);
  wrapper.AddMember(rapidjson::StringRef(root), msg, a);
  std::string text = json_text(wrapper);
  ceb::ReadResult r = ceb::read_message_json(text);
  if (!r.ok()) {
    std::string why;
    for (const auto& viol : r.violations) why += viol.ToString() + "; ";
    throw std::runtime_error(fmt::format("base record {} invalid: {}", node, why));
  }
  return ((*r.message).*field).at(0);
}

ceb::Message wrap(ceb::MessageType t, const std::string& guid, const std::string& sender) {
  ceb::Message m;
  m.type = t;
  m.guid = guid;
  m.version = "1.0";
  m.transfer.copCode = sender;
  m.transfer.copName = "test";
  m.transfer.dxpMode = "DXP";
  m.transfer.dxpId = "DXPENT0000000001";
  return m;
}

}  // namespace

DocSet load_base(const std::string& name) {
  std::string text = read_file(std::string(CBEC_CASES_DIR) + "/base/" + name + ".json");
  rapidjson::Document d;
  d.Parse(text.c_str());
  if (d.HasParseError()) throw std::runtime_error("bad JSON in base " + name);
  DocSet s;
  s.order = read_record(d["order"], "CEB311Message", "Order", &ceb::Message::orders);
  s.payment = read_record(d["payment"], "CEB411Message", "Payment", &ceb::Message::payments);
  s.waybill = read_record(d["waybill"], "CEB511Message", "Logistics", &ceb::Message::waybills);
  s.list = read_record(d["list"], "CEB621Message", "Inventory", &ceb::Message::inventories);
  return s;
}

void make_consistent(DocSet* s, const ref::ReferenceData& ref) {
  auto& oh = s->order.head;
  int64_t goods = 0;
  for (auto& l : s->order.lists) {
    l.totalPrice = mul(l.price, l.qty);
    goods += l.totalPrice.units;
  }
  oh.goodsValue = Decimal::of_units(goods);
  for (size_t i = 0; i < s->list.lists.size() && i < s->order.lists.size(); ++i) {
    auto& ll = s->list.lists[i];
    const auto& ol = s->order.lists[i];
    ll.gnum = ol.gnum;
    ll.gname = ol.itemName;
    ll.itemName = ol.itemName;
    ll.qty = ol.qty;
    ll.price = ol.price;
    ll.totalPrice = ol.totalPrice;
  }
  s->list.head.freight = oh.freight;
  s->waybill.head.freight = oh.freight;
  std::vector<tax::LineInput> lines;
  for (const auto& l : s->list.lists)
    lines.push_back({l.gnum, l.gcode, l.qty, l.unit, l.qty1, l.unit1, l.totalPrice});
  tax::ListInput in;
  in.lines = lines;
  in.freight = s->list.head.freight;
  in.insured_fee = s->list.head.insuredFee;
  in.date = *parse_date8(s->list.head.declTime);
  const ref::Policy& policy = ref.policy_at(in.date);
  Fen v = tax::dutiable_value_fen(in, policy);
  tax::Regime regime = tax::Regime::kPreferential;
  if (v > policy.transaction_limit_fen && lines.size() == 1 &&
      lines[0].qty.units == kDecimalScale)
    regime = tax::Regime::kFull;
  auto t = tax::compute(in, regime, ref);
  oh.taxTotal = t.ok() ? fen_to_decimal(t->total_fen()) : Decimal::of_units(0);
  oh.acturalPaid = Decimal::of_units(oh.goodsValue.units + oh.freight.units + oh.taxTotal.units -
                                     oh.discount.units);
  s->payment.head.amountPaid = oh.acturalPaid;
}

DocSet build_set(const rapidjson::Value& spec, const std::string& suffix,
                 const ref::ReferenceData& ref) {
  std::string base = spec.HasMember("base") ? spec["base"].GetString() : "formula_1210";
  DocSet s = load_base(base);
  bool recompute = spec.HasMember("recompute") && spec["recompute"].GetBool();
  if (spec.HasMember("goods")) {
    recompute = true;
    ceb::OrderList order_proto = s.order.lists.at(0);
    ceb::InventoryList list_proto = s.list.lists.at(0);
    s.order.lists.clear();
    s.list.lists.clear();
    int64_t gnum = 0;
    for (const auto& g : spec["goods"].GetArray()) {
      const CatalogItem& item = catalog_item(g["item"].GetString());
      Decimal qty = dec(g.HasMember("qty") ? g["qty"].GetString() : "1");
      Decimal price = dec(g.HasMember("price") ? g["price"].GetString() : item.price);
      ceb::OrderList ol = order_proto;
      ol.gnum = ++gnum;
      ol.itemNo = "SKU-" + item.itemRecordNo;
      ol.itemName = item.name;
      ol.gmodel = item.gmodel;
      ol.barCode.clear();
      ol.unit = item.unit;
      ol.qty = qty;
      ol.price = price;
      ol.totalPrice = mul(price, qty);
      ol.country = item.country;
      s.order.lists.push_back(ol);
      ceb::InventoryList ll = list_proto;
      ll.gnum = gnum;
      ll.itemRecordNo = item.itemRecordNo;
      ll.itemNo = ol.itemNo;
      ll.itemName = item.name;
      ll.gcode = item.gcode;
      ll.gname = item.name;
      ll.gmodel = item.gmodel;
      ll.barCode.clear();
      ll.country = item.country;
      ll.qty = qty;
      ll.unit = item.unit;
      ll.qty1 = mul(dec(item.qty1_per_unit), qty);
      ll.unit1 = item.unit1;
      ll.price = price;
      ll.totalPrice = ol.totalPrice;
      s.list.lists.push_back(ll);
    }
  }
  if (spec.HasMember("freight")) {
    recompute = true;
    s.order.head.freight = dec(spec["freight"].GetString());
  }
  if (spec.HasMember("buyer")) {
    const auto& b = spec["buyer"];
    std::string name = b["name"].GetString(), id = b["id"].GetString();
    s.order.head.buyerName = s.order.head.consignee = s.waybill.head.consignee = name;
    s.payment.head.payerName = s.list.head.buyerName = name;
    s.order.head.buyerIdNumber = s.payment.head.payerIdNumber = id;
    s.list.head.buyerIdNumber = id;
  }
  if (!suffix.empty()) {
    for (std::string* f : {&s.order.head.orderNo, &s.payment.head.orderNo, &s.waybill.head.orderNo,
                           &s.list.head.orderNo, &s.order.head.payTransactionId,
                           &s.payment.head.payTransactionId, &s.waybill.head.logisticsNo,
                           &s.list.head.logisticsNo, &s.list.head.copNo})
      *f += suffix;
  }
  if (spec.HasMember("set")) apply_overrides(&s, spec["set"]);
  if (recompute) make_consistent(&s, ref);
  if (spec.HasMember("break")) apply_overrides(&s, spec["break"]);
  return s;
}

ceb::Message message_of(const ceb::Order& r) {
  auto m = wrap(ceb::MessageType::kCEB311, r.head.guid, r.head.ebpCode);
  m.orders.push_back(r);
  return m;
}
ceb::Message message_of(const ceb::Payment& r) {
  auto m = wrap(ceb::MessageType::kCEB411, r.head.guid, r.head.payCode);
  m.payments.push_back(r);
  return m;
}
ceb::Message message_of(const ceb::Logistics& r) {
  auto m = wrap(ceb::MessageType::kCEB511, r.head.guid, r.head.logisticsCode);
  m.waybills.push_back(r);
  return m;
}
ceb::Message message_of(const ceb::Inventory& r) {
  auto m = wrap(ceb::MessageType::kCEB621, r.head.guid, r.head.agentCode);
  m.inventories.push_back(r);
  return m;
}

Harness::Harness(clearance::LaneSelector lanes, bool setup,
                 std::shared_ptr<const ref::ReferenceData> reference)
    : now_(beijing_midnight(CivilDate{2026, 5, 10}) + 10 * kMsPerHour) {
  if (!reference) {
    auto loaded = ref::ReferenceData::LoadDefaults();
    if (!loaded.ok()) throw std::runtime_error(loaded.status().ToString());
    reference = *loaded;
  }
  reference_ = reference;
  clearance::EngineOptions options{reference_, std::move(lanes)};
  if (archive_every_command() || snapshot_every_command()) {
    archive_ = std::make_unique<archive::MemoryArchive>();
    options.archive = archive_.get();
    options.archive_after_ms = 0;
  }
  engine_ = std::make_unique<clearance::Engine>(std::move(options));
  if (setup) setup_zone();
}

bool Harness::archive_every_command() {
  const char* v = std::getenv("CBEC_TEST_ARCHIVE_EVERY_COMMAND");
  return v != nullptr && std::string_view(v) == "1";
}
bool Harness::snapshot_every_command() {
  const char* v = std::getenv("CBEC_TEST_SNAPSHOT_EVERY_COMMAND");
  return v != nullptr && std::string_view(v) == "1";
}

Status Harness::apply(Command::Body body) {
  Command c;
  c.seq = ++seq_;
  now_ += kMsPerSecond;
  c.time = now_;
  c.body = std::move(body);
  // As the service applies: the core takes the documents out of the body.
  Status s = engine_->apply(c.seq, c.time, std::move(c.body), &receipts_);
  if (snapshot_every_command()) {
    const std::string before = engine_->dump_state();
    std::string saved, again;
    engine_->save_snapshot(&saved);
    Status l = engine_->load_snapshot(saved);
    if (!l.ok()) throw std::runtime_error("snapshot does not load: " + l.ToString());
    engine_->save_snapshot(&again);
    if (again != saved) throw std::runtime_error("a loaded snapshot saves other bytes");
    if (engine_->dump_state() != before)
      throw std::runtime_error("the state after a snapshot round trip differs");
  }
  if (archive_) {
    // Everything not in work goes to the archive, so the next command finds it only by restore.
    Status t = engine_->apply({++seq_, now_, clearance::Tick{}}, &receipts_);
    if (!t.ok()) throw std::runtime_error(t.ToString());
  }
  return s;
}

void Harness::submit(const std::string& sender, ceb::Message m) {
  Status s = apply(clearance::SubmitMessage{sender, std::move(m)});
  if (!s.ok()) throw std::runtime_error(s.ToString());
}

void Harness::setup_zone() {
  using clearance::Enterprise;
  auto reg = [&](const char* code, const char* name, clearance::Roles roles) {
    Status s = apply(clearance::RegisterEnterprise{Enterprise{code, name, roles,
                                                              ref::CreditGrade::kRegular}});
    if (!s.ok()) throw std::runtime_error(s.ToString());
  };
  reg(kPlatform, "郑州跨境优选平台", clearance::kRoleEbp);
  reg(kEbc, "河南优选电子商务有限公司", clearance::kRoleEbc);
  reg(kAgent, "郑州保税物流园区仓储有限公司",
      clearance::kRoleAgent | clearance::kRoleOperator | clearance::kRoleGuarantor);
  reg(kPay, "中原支付有限公司", clearance::kRolePay);
  reg(kLogistics, "中原快递有限公司", clearance::kRoleLogistics | clearance::kRoleGuarantor);
  for (const auto& item : fixture_catalog()) {
    Status s = apply(clearance::StockIn{kAgent, kEmsNo, item.itemRecordNo, item.gcode, item.name,
                                        item.unit, dec(item.stock)});
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }
  for (const char* g : {kAgent, kLogistics}) {
    Status s = apply(clearance::GuaranteeDeposit{g, kFixtureGuaranteeFen});
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }
}

namespace {
template <class Pred>
std::vector<const ceb::Receipt*> select(const ceb::Receipts& all, Pred p) {
  std::vector<const ceb::Receipt*> out;
  for (const auto& r : all)
    if (p(r)) out.push_back(&r);
  return out;
}
}  // namespace

std::vector<const ceb::Receipt*> Harness::list_receipts(const std::string& copNo) const {
  return select(receipts_, [&](const ceb::Receipt& r) {
    return r.answers == ceb::MessageType::kCEB621 && r.copNo == copNo;
  });
}
std::vector<const ceb::Receipt*> Harness::order_receipts(const std::string& orderNo) const {
  return select(receipts_, [&](const ceb::Receipt& r) {
    return r.answers == ceb::MessageType::kCEB311 && r.orderNo == orderNo;
  });
}
std::vector<const ceb::Receipt*> Harness::payment_receipts(const std::string& id) const {
  return select(receipts_, [&](const ceb::Receipt& r) {
    return r.answers == ceb::MessageType::kCEB411 && r.payTransactionId == id;
  });
}
std::vector<const ceb::Receipt*> Harness::waybill_receipts(const std::string& no) const {
  return select(receipts_, [&](const ceb::Receipt& r) {
    return r.answers == ceb::MessageType::kCEB511 && r.logisticsNo == no;
  });
}

}  // namespace cbec::testing
