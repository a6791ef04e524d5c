// Golden, data-driven cases for matching (M1–M9), review (R1–R7), idempotency and status
// transitions: every tests/cases/<rule>/*.json is one test. A case names document sets built
// from a base with overrides, the steps to run, and the receipts and ledger figures expected.
// The format is described in tests/cases/README.md; adding a case needs no code.
#include <algorithm>
#include <filesystem>
#include <set>

#include "clearance_fixture.h"
#include "fmt/format.h"
#include "gtest/gtest.h"

namespace cbec::testing {
namespace {

namespace fs = std::filesystem;
using clearance::Lane;

std::vector<std::string> case_files() {
  std::vector<std::string> files;
  for (const auto& dir : fs::directory_iterator(CBEC_CASES_DIR)) {
    if (!dir.is_directory()) continue;
    std::string name = dir.path().filename().string();
    if (name == "base" || name == "tax") continue;  // bases are inputs; tax has its own runner
    for (const auto& f : fs::directory_iterator(dir.path()))
      if (f.path().extension() == ".json") files.push_back(f.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string case_name(const std::string& path) {
  fs::path p(path);
  std::string n = p.parent_path().filename().string() + "_" + p.stem().string();
  for (char& c : n)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.HasMember(key)) throw std::runtime_error(fmt::format("missing key {}", key));
  return v[key].GetString();
}

Fen fen_of(const std::string& text) {
  Decimal d;
  if (parse_decimal(text, &d) != DecimalError::kOk) throw std::runtime_error("bad amount " + text);
  return round_half_up_fen(d);
}

class GoldenCase : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenCase, Run) {
  const std::string path = GetParam();
  rapidjson::Document c;
  std::string text = read_file(path);
  c.Parse(text.c_str());
  ASSERT_FALSE(c.HasParseError()) << path << ": JSON parse error at offset " << c.GetErrorOffset();
  SCOPED_TRACE(path + ": " + (c.HasMember("description") ? str(c, "description") : ""));

  // Document sets: "sets": {"A": {...}} or the case itself is set "A".
  std::vector<std::string> names;
  std::map<std::string, DocSet> sets;
  auto reference = ref::ReferenceData::LoadDefaults();
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  if (c.HasMember("sets")) {
    for (auto m = c["sets"].MemberBegin(); m != c["sets"].MemberEnd(); ++m) {
      std::string n = m->name.GetString();
      names.push_back(n);
      sets[n] = build_set(m->value, names.size() == 1 ? "" : "-" + n, **reference);
    }
  } else {
    names.push_back("A");
    sets["A"] = build_set(c, "", **reference);
  }

  // Lanes by set: {"lanes": {"A": "yellow"}}.
  std::map<std::string, Lane> lanes;  // copNo -> lane
  if (c.HasMember("lanes")) {
    for (auto m = c["lanes"].MemberBegin(); m != c["lanes"].MemberEnd(); ++m) {
      std::string lane = m->value.GetString();
      lanes[sets.at(m->name.GetString()).list.head.copNo] =
          lane == "yellow" ? Lane::kYellow : lane == "red" ? Lane::kRed : Lane::kGreen;
    }
  }
  Harness h(
      [lanes](const clearance::LaneContext& ctx) {
        auto it = lanes.find(ctx.inventory->head.copNo);
        return it == lanes.end() ? Lane::kGreen : it->second;
      },
      !c.HasMember("no_zone"), *reference);

  auto doc_of = [&](const std::string& ref_text) -> std::pair<DocSet*, std::string> {
    auto dot = ref_text.find('.');
    std::string set = dot == std::string::npos ? "A" : ref_text.substr(0, dot);
    std::string doc = dot == std::string::npos ? ref_text : ref_text.substr(dot + 1);
    return {&sets.at(set), doc};
  };
  auto submit = [&](DocSet* s, const std::string& doc, const std::string* sender) {
    if (doc == "order") h.submit(sender ? *sender : s->order.head.ebpCode, message_of(s->order));
    else if (doc == "payment")
      h.submit(sender ? *sender : s->payment.head.payCode, message_of(s->payment));
    else if (doc == "waybill")
      h.submit(sender ? *sender : s->waybill.head.logisticsCode, message_of(s->waybill));
    else if (doc == "list")
      h.submit(sender ? *sender : s->list.head.agentCode, message_of(s->list));
    else throw std::runtime_error("unknown document " + doc);
  };

  // Steps (default: every set's order, payment, waybill, list in turn).
  if (!c.HasMember("steps")) {
    for (const auto& n : names)
      for (const char* d : {"order", "payment", "waybill", "list"}) submit(&sets.at(n), d, nullptr);
  } else {
    for (const auto& step : c["steps"].GetArray()) {
      if (step.IsString()) {
        auto [s, doc] = doc_of(step.GetString());
        submit(s, doc, nullptr);
        continue;
      }
      if (step.HasMember("submit")) {
        auto [s, doc] = doc_of(str(step, "submit"));
        DocSet copy = *s;
        if (step.HasMember("set")) apply_overrides(&copy, step["set"]);
        std::string sender = step.HasMember("sender") ? str(step, "sender") : "";
        submit(&copy, doc, sender.empty() ? nullptr : &sender);
      } else if (step.HasMember("signed")) {
        // The logistics company's signed-for status (CEB513) of the set's parcel.
        const DocSet& s = sets.at(str(step, "signed"));
        ceb::Message m;
        m.type = ceb::MessageType::kCEB513;
        m.guid = "A1B2C3D4-0513-4000-8000-000000000001";
        m.version = "1.0";
        m.transfer = {s.waybill.head.logisticsCode, "test", "DXP", "DXPENT0000000001", ""};
        ceb::LogisticsStatus st;
        st.guid = m.guid;
        st.appType = "1";
        st.appTime = "20260511090000";
        st.appStatus = "2";
        st.logisticsCode = s.waybill.head.logisticsCode;
        st.logisticsName = s.waybill.head.logisticsName;
        st.logisticsNo = s.waybill.head.logisticsNo;
        st.logisticsStatus = "S";
        st.logisticsTime = "20260511085500";
        m.waybill_statuses.push_back(st);
        h.submit(s.waybill.head.logisticsCode, m);
      } else if (step.HasMember("arrival")) {
        // The warehouse operator's entry (CEB711) listing the set's parcel.
        const DocSet& s = sets.at(str(step, "arrival"));
        ceb::Message m;
        m.type = ceb::MessageType::kCEB711;
        m.guid = "A1B2C3D4-0711-4000-8000-000000000001";
        m.version = "1.0";
        m.transfer = {kAgent, "test", "DXP", "DXPENT0000000001", ""};
        ceb::Delivery d;
        d.head.guid = m.guid;
        d.head.appType = "1";
        d.head.appTime = "20260510120000";
        d.head.appStatus = "2";
        d.head.customsCode = "4612";
        d.head.copNo = "RK" + s.waybill.head.logisticsNo;
        d.head.operatorCode = kAgent;
        d.head.operatorName = "郑州保税物流园区仓储有限公司";
        d.head.ieFlag = "I";
        d.head.trafMode = "5";
        d.head.trafNo = "CA1234";
        d.head.voyageNo = "20260510";
        d.head.billNo = "999-12345678";
        d.head.logisticsCode = s.waybill.head.logisticsCode;
        d.head.logisticsName = s.waybill.head.logisticsName;
        d.lists.push_back(ceb::DeliveryList{1, s.waybill.head.logisticsNo, ""});
        m.deliveries.push_back(d);
        h.submit(kAgent, m);
      } else if (step.HasMember("modify") || step.HasMember("delete")) {
        bool del = step.HasMember("delete");
        auto [s, doc] = doc_of(str(step, del ? "delete" : "modify"));
        DocSet copy = *s;
        if (step.HasMember("set")) apply_overrides(&copy, step["set"]);
        const char* app_type = del ? "3" : "2";
        copy.order.head.appType = copy.payment.head.appType = app_type;
        copy.waybill.head.appType = copy.list.head.appType = app_type;
        if (step.HasMember("keep")) *s = copy;
        submit(&copy, doc, nullptr);
      } else if (step.HasMember("tick_hours")) {
        h.advance_ms(static_cast<TimeMs>(step["tick_hours"].GetDouble() * kMsPerHour));
        ASSERT_TRUE(h.apply(clearance::Tick{}).ok());
      } else if (step.HasMember("deposit")) {
        const auto& d = step["deposit"];
        ASSERT_TRUE(h.apply(clearance::GuaranteeDeposit{str(d, "assureCode"),
                                                        fen_of(str(d, "amount"))})
                        .ok());
      } else if (step.HasMember("stock_in")) {
        const auto& d = step["stock_in"];
        Decimal q;
        ASSERT_EQ(parse_decimal(str(d, "qty"), &q), DecimalError::kOk);
        ASSERT_TRUE(h.apply(clearance::StockIn{kAgent, kEmsNo, str(d, "itemRecordNo"), "", "",
                                               "", q})
                        .ok());
      } else if (step.HasMember("register")) {
        const auto& d = step["register"];
        auto roles = clearance::parse_roles(str(d, "roles"));
        ASSERT_TRUE(roles.ok());
        ASSERT_TRUE(h.apply(clearance::RegisterEnterprise{clearance::Enterprise{
                                str(d, "code"), str(d, "name"), *roles,
                                ref::CreditGrade::kRegular}})
                        .ok());
      } else if (step.HasMember("officer")) {
        const auto& d = step["officer"];
        auto L = h.list(sets.at(str(d, "list")));
        ASSERT_NE(L, nullptr);
        auto action = clearance::parse_officer_action(str(d, "action"));
        ASSERT_TRUE(action.has_value()) << "unknown officer action " << str(d, "action");
        // The deciding officer works at the list's site (registering again is harmless).
        ASSERT_TRUE(h.apply(clearance::RegisterOfficer{"OFF001", "王关员",
                                                       L->doc.head.customsCode, true})
                        .ok());
        Status s = h.apply(clearance::OfficerDecision{"OFF001", L->invtNo,
                                                      *action,
                                                      d.HasMember("reason") ? str(d, "reason")
                                                                            : "checked"});
        bool expect_error = d.HasMember("expect_error") && d["expect_error"].GetBool();
        EXPECT_EQ(s.ok(), !expect_error) << s.ToString();
      } else if (step.HasMember("pickup")) {
        // The hall counter (O2O): defaults are the set's pickup code (payTransactionId), the
        // last four ID characters and the set's own carrier as the hall.
        const auto& d = step["pickup"];
        const DocSet& s = sets.at(d.HasMember("set") ? str(d, "set") : "A");
        const std::string& id = s.list.head.buyerIdNumber;
        clearance::Pickup p{d.HasMember("hall") ? str(d, "hall") : s.list.head.logisticsCode,
                            d.HasMember("code") ? str(d, "code") : s.payment.head.payTransactionId,
                            d.HasMember("suffix") ? str(d, "suffix") : id.substr(id.size() - 4),
                            "C01"};
        std::string before = h.engine().dump_state();
        Status st = h.apply(p);
        if (d.HasMember("refused")) {
          ASSERT_FALSE(st.ok()) << "pickup should be refused: " << str(d, "refused");
          EXPECT_EQ(h.engine().dump_state().substr(h.engine().dump_state().find('\n')),
                    before.substr(before.find('\n')))
              << "a refused pickup must not change the state";
          auto why = clearance::parse_pickup_refusal(st.message());
          ASSERT_TRUE(why.has_value()) << st.ToString();
          EXPECT_EQ(why->reason, str(d, "refused")) << st.ToString();
          if (d.HasMember("says")) {
            for (const auto& v : d["says"].GetArray()) {
              EXPECT_NE(st.message().find(v.GetString()), std::string::npos)
                  << "refusal lacks '" << v.GetString() << "': " << st.message();
            }
          }
        } else if (d.HasMember("denied")) {
          EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.ToString();
        } else {
          EXPECT_TRUE(st.ok()) << st.ToString();
        }
      } else {
        FAIL() << "unknown step";
      }
    }
  }

  // Expectations per document.
  ASSERT_TRUE(c.HasMember("expect")) << "a case must expect something";
  for (auto e = c["expect"].MemberBegin(); e != c["expect"].MemberEnd(); ++e) {
    auto [s, doc] = doc_of(e->name.GetString());
    const rapidjson::Value& x = e->value;
    SCOPED_TRACE(std::string("expect ") + e->name.GetString());
    std::vector<const ceb::Receipt*> rs =
        doc == "list"      ? h.list_receipts(s->list.head.copNo)
        : doc == "order"   ? h.order_receipts(s->order.head.orderNo)
        : doc == "payment" ? h.payment_receipts(s->payment.head.payTransactionId)
                           : h.waybill_receipts(s->waybill.head.logisticsNo);
    ASSERT_FALSE(rs.empty()) << "no receipt for " << e->name.GetString();
    const ceb::Receipt& last = *rs.back();
    if (x.HasMember("status")) {
      EXPECT_EQ(last.returnStatus, x["status"].GetInt()) << last.returnInfo;
    }
    if (x.HasMember("statuses")) {
      std::vector<int> want, got;
      for (const auto& v : x["statuses"].GetArray()) want.push_back(v.GetInt());
      for (const auto* r : rs) got.push_back(r->returnStatus);
      EXPECT_EQ(got, want) << last.returnInfo;
    }
    if (x.HasMember("rules")) {
      std::set<std::string> want, got;
      for (const auto& v : x["rules"].GetArray()) want.insert(v.GetString());
      for (const auto& f : last.findings) got.insert(f.rule);
      EXPECT_EQ(got, want) << last.returnInfo;
    }
    if (x.HasMember("fields")) {
      for (const auto& v : x["fields"].GetArray()) {
        bool found = std::any_of(last.findings.begin(), last.findings.end(),
                                 [&](const ceb::Finding& f) { return f.field == v.GetString(); });
        EXPECT_TRUE(found) << "no finding on field " << v.GetString() << ": " << last.returnInfo;
      }
    }
    if (x.HasMember("info")) {
      for (const auto& v : x["info"].GetArray())
        EXPECT_NE(last.returnInfo.find(v.GetString()), std::string::npos)
            << "returnInfo lacks '" << v.GetString() << "': " << last.returnInfo;
    }
    if (doc == "list") {
      auto L = h.list(*s);
      if (x.HasMember("state")) {
        ASSERT_NE(L, nullptr);
        EXPECT_EQ(clearance::list_state_name(L->state), str(x, "state"));
      }
      if (x.HasMember("tax")) {
        ASSERT_NE(L, nullptr);
        ASSERT_TRUE(L->tax.has_value());
        EXPECT_EQ(format_fen(L->tax->total_fen()), str(x, "tax"));
      }
      if (x.HasMember("regime")) {
        ASSERT_TRUE(L && L->tax.has_value());
        EXPECT_EQ(L->tax->regime == tax::Regime::kFull ? "full" : "preferential", str(x, "regime"));
      }
    }
  }
  // Ledger expectations.
  if (c.HasMember("ledgers")) {
    const auto& l = c["ledgers"];
    if (l.HasMember("stock")) {
      for (auto m = l["stock"].MemberBegin(); m != l["stock"].MemberEnd(); ++m) {
        const auto* item = h.engine().stock().find({kEmsNo, m->name.GetString()});
        ASSERT_NE(item, nullptr);
        Decimal want;
        ASSERT_EQ(parse_decimal(m->value.GetString(), &want), DecimalError::kOk);
        EXPECT_EQ(item->on_hand_units, want.units) << "stock of item " << m->name.GetString();
      }
    }
    if (l.HasMember("quota")) {
      for (auto m = l["quota"].MemberBegin(); m != l["quota"].MemberEnd(); ++m) {
        std::string k = m->name.GetString();
        auto slash = k.find('/');
        auto t = h.engine().quota().totals({k.substr(0, slash), std::stoi(k.substr(slash + 1))});
        EXPECT_EQ(format_fen(t.committed_fen), m->value.GetString()) << "quota of " << k;
      }
    }
    if (l.HasMember("guarantee_open")) {
      for (auto m = l["guarantee_open"].MemberBegin(); m != l["guarantee_open"].MemberEnd(); ++m) {
        const auto* a = h.engine().guarantees().find(m->name.GetString());
        ASSERT_NE(a, nullptr);
        EXPECT_EQ(format_fen(a->open_bills_fen), m->value.GetString());
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenCase, ::testing::ValuesIn(case_files()),
                         [](const auto& info) { return case_name(info.param); });

}  // namespace
}  // namespace cbec::testing
