// Builders of cancels (CEB623) and returns (CEB625) for the clearance tests: a set from its JSON
// case, and the head fields a cancel or return copies from the list it names.
#pragma once

#include <string>
#include <vector>

#include "clearance_fixture.h"
#include "common/decimal.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace cbec::testing {

inline DocSet set_from(const char* json, const std::string& suffix, const Harness& h) {
  rapidjson::Document d;
  d.Parse(json);
  EXPECT_FALSE(d.HasParseError()) << json;
  return build_set(d, suffix, h.ref());
}

template <class Head>
inline void fill_head(Head* c, const DocSet& s, const std::string& invtNo, const std::string& copNo) {
  const auto& lh = s.list.head;
  c->guid = "A1B2C3D4-0623-4000-8000-000000000001";
  c->appType = "1";
  c->appTime = "20260515100000";
  c->appStatus = "2";
  c->customsCode = lh.customsCode;
  c->orderNo = lh.orderNo;
  c->ebpCode = lh.ebpCode;
  c->ebpName = lh.ebpName;
  c->ebcCode = lh.ebcCode;
  c->ebcName = lh.ebcName;
  c->logisticsNo = lh.logisticsNo;
  c->logisticsCode = lh.logisticsCode;
  c->logisticsName = lh.logisticsName;
  c->copNo = copNo;
  c->invtNo = invtNo;
  c->buyerIdType = "1";
  c->buyerIdNumber = lh.buyerIdNumber;
  c->buyerName = lh.buyerName;
  c->buyerTelephone = lh.buyerTelephone;
  c->agentCode = lh.agentCode;
  c->agentName = lh.agentName;
  c->reason = "消费者取消订单";
}

inline ceb::InvtCancel cancel_of(const DocSet& s, const std::string& invtNo,
                          const std::string& copNo = "CX0001") {
  ceb::InvtCancel c;
  fill_head(&c, s, invtNo, copNo);
  return c;
}

struct Ret {
  int64_t gnum;
  const char* qty;
};
inline ceb::InvtRefund refund_of(const DocSet& s, const std::string& invtNo, const std::string& copNo,
                          std::vector<Ret> lines, const char* app_type = "1") {
  ceb::InvtRefund r;
  fill_head(&r.head, s, invtNo, copNo);
  r.head.appType = app_type;
  r.head.reason = "七天无理由退货";
  for (const auto& l : lines) {
    const ceb::InventoryList* line = nullptr;
    for (const auto& x : s.list.lists)
      if (x.gnum == l.gnum) line = &x;
    ceb::InvtRefundList rl;
    rl.gnum = l.gnum;
    rl.gcode = line ? line->gcode : "1901101090";
    rl.gname = line ? line->gname : "?";
    EXPECT_EQ(parse_decimal(l.qty, &rl.qty), DecimalError::kOk);
    rl.unit = line ? line->unit : "122";
    r.lists.push_back(rl);
  }
  return r;
}

}  // namespace cbec::testing
