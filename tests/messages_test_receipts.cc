// Receipts (CEB312 … CEB712), CEB900 and returnInfo texts: what we send back validates against
// the official XSD and carries the fields, findings and limits the contract promises.
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "common/time.h"
#include "messages/receipt.h"
#include "messages_test_util.h"

namespace cbec::ceb {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace cbec::ceb::testing;

const TimeMs kReturnTime = *parse_datetime14("20230115103000") + 123;

Receipt receipt(MessageType answers, int i) {
  Receipt r;
  r.answers = answers;
  r.receiver = "4101961234";
  r.guid = guid(i);
  r.customsCode = "4606";
  r.ebpCode = "4101961234";
  r.ebcCode = "4101965678";
  r.agentCode = "4101965678";
  r.orderNo = "ORD" + std::to_string(i);
  r.payCode = "4101960001";
  r.payTransactionId = "PAY" + std::to_string(i);
  r.logisticsCode = "4101968888";
  r.logisticsNo = "LN" + std::to_string(i);
  r.logisticsStatus = "S";
  r.copNo = "COP" + std::to_string(i);
  r.preNo = "B2023011500000000" + std::to_string(i % 10);
  r.invtNo = "46062023I00000000" + std::to_string(i % 10);
  r.operatorCode = "4101967777";
  r.rkdNo = "46062023000000000" + std::to_string(i % 10);
  r.returnStatus = status::kAccepted;
  r.returnTime = kReturnTime;
  r.returnInfo = "新增申报成功 <ok> & done";
  r.findings.push_back(Finding{"M2", "Order/acturalPaid",
                               "订单实付金额 100.00 与支付金额 99.00 不一致",
                               "order acturalPaid 100.00 differs from payment amountPaid 99.00"});
  return r;
}

TEST(MessagesReceipts, EveryReceiptTypeValidatesAgainstTheXsd) {
  for (MessageType t : kAllTypes) {
    std::string root(receipt_root_name(t));
    SCOPED_TRACE(root);
    std::vector<Receipt> receipts = {receipt(t, 1), receipt(t, 2)};
    receipts[1].returnStatus = -621004;
    std::string xml = write_receipts_xml(receipts);
    EXPECT_EQ(xmllint_errors(xml, "receipt_" + root), "");
    EXPECT_TRUE(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<" +
                                root + " guid=\"" + guid(1) +
                                "\" version=\"1.0\" xmlns=\"http://www.chinaport.gov.cn/ceb\">"))
        << xml;
    std::string record(receipt_record_name(t));
    EXPECT_NE(xml.find("<" + record + ">"), std::string::npos);
    EXPECT_NE(xml.find("<returnStatus>120</returnStatus>"), std::string::npos);
    EXPECT_NE(xml.find("<returnStatus>-621004</returnStatus>"), std::string::npos);
    EXPECT_NE(xml.find("<returnTime>20230115103000123</returnTime>"), std::string::npos);
    EXPECT_NE(xml.find("<returnInfo>新增申报成功 &lt;ok&gt; &amp; done</returnInfo>"),
              std::string::npos);
    // Only the fields of this receipt type: a 712 carries no orderNo, a 312 no copNo.
    EXPECT_EQ(xml.find("<orderNo>") != std::string::npos, t == MessageType::kCEB311);
    EXPECT_EQ(xml.find("<rkdNo>") != std::string::npos, t == MessageType::kCEB711);
  }
}

TEST(MessagesReceipts, SameRecordKeepsEveryFieldButTheStatusAndItsText) {
  const Receipt r = receipt(MessageType::kCEB621, 7);  // every field set
  Receipt want = r;
  want.returnStatus = 0;
  want.returnTime = 0;
  want.returnInfo.clear();
  want.findings.clear();
  EXPECT_EQ(same_record(r), want);
}

TEST(MessagesReceipts, ReceiptsShareWhatIsIssuedAndCompareByValue) {
  Receipts a, b;
  ReceiptPtr first = std::make_shared<const Receipt>(receipt(MessageType::kCEB311, 1));
  EXPECT_EQ(a.push_back(first), first);  // the same object, not a copy
  a.push_back(nullptr);                  // a replay of a record that never got a receipt
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(&a[0], first.get());
  EXPECT_EQ(a[1], Receipt{});
  EXPECT_EQ(a.end() - a.begin(), 2);
  EXPECT_EQ(a.begin()->guid, first->guid);
  b.push_back(std::make_shared<const Receipt>(*first));
  EXPECT_FALSE(a == b);
  b.push_back(std::make_shared<const Receipt>());
  EXPECT_TRUE(a == b);  // other objects, equal receipts
  std::vector<Receipt> copied(a.begin(), a.end());
  EXPECT_EQ(copied[0], *first);
}

TEST(MessagesReceipts, OptionalEmptyFieldsAreOmittedAndOrderFollowsTheXsd) {
  Receipt r = receipt(MessageType::kCEB621, 1);
  r.invtNo.clear();
  r.agentCode.clear();
  std::string xml = write_receipts_xml(std::vector<Receipt>{r});
  EXPECT_EQ(xmllint_errors(xml, "receipt_622_optional"), "");
  EXPECT_EQ(xml.find("<invtNo>"), std::string::npos);
  EXPECT_EQ(xml.find("<agentCode>"), std::string::npos);
  // InventoryReturn: guid, customsCode, ebpCode, ebcCode, (agentCode), copNo, preNo, ...
  EXPECT_LT(xml.find("<ebcCode>"), xml.find("<copNo>"));
  EXPECT_LT(xml.find("<preNo>"), xml.find("<returnStatus>"));
}

TEST(MessagesReceipts, EmptyReturnInfoSaysWhatTheStatusMeans) {
  Receipt r = receipt(MessageType::kCEB621, 1);
  r.returnInfo.clear();
  r.returnStatus = status::kReleased;
  std::string xml = write_receipts_xml(std::vector<Receipt>{r});
  EXPECT_NE(xml.find("<returnInfo>放行 / released</returnInfo>"), std::string::npos) << xml;
  EXPECT_EQ(xmllint_errors(xml, "receipt_622_status_text"), "");
  EXPECT_EQ(return_status_text(status::kDetainedOther), "其它扣留 / detained (other)");
  EXPECT_EQ(return_status_text(-621004), "处理失败 -621004 / error -621004");
}

TEST(MessagesReceipts, LongReturnInfoIsCutToTheXsdLimit) {
  Receipt r = receipt(MessageType::kCEB311, 1);
  r.returnInfo.clear();
  for (int i = 0; i < 1500; ++i) r.returnInfo += "错";
  std::string xml = write_receipts_xml(std::vector<Receipt>{r});
  EXPECT_EQ(xmllint_errors(xml, "receipt_312_long_info"), "");
  std::string expected;
  for (int i = 0; i < 999; ++i) expected += "错";
  EXPECT_NE(xml.find("<returnInfo>" + expected + "…</returnInfo>"), std::string::npos);
}

// The xmllint check itself can fail: a receipt missing a required value is refused, and so is a
// request without the Signature its XSD requires. (Guards against a check that always passes.)
TEST(MessagesReceipts, XsdCheckRejectsInvalidDocuments) {
  Receipt r = receipt(MessageType::kCEB311, 1);
  r.orderNo.clear();  // required: written as an empty element
  std::string xml = write_receipts_xml(std::vector<Receipt>{r});
  EXPECT_NE(xml.find("<orderNo"), std::string::npos);
  EXPECT_THAT(xmllint_errors(xml, "receipt_312_invalid"), HasSubstr("orderNo"));
  EXPECT_THAT(xmllint_errors(write_message_xml(message(MessageType::kCEB621, 1, 1)),
                             "request_621_unsigned"),
              HasSubstr("Signature"));
}

TEST(MessagesReceipts, JsonReceiptsCarryFindings) {
  std::vector<Receipt> receipts = {receipt(MessageType::kCEB411, 1),
                                   receipt(MessageType::kCEB411, 2)};
  receipts[1].findings.clear();
  receipts[1].payCode = "bad\xFFutf8";
  std::string json = write_receipts_json(receipts);
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  ASSERT_FALSE(d.HasParseError()) << json;
  const auto& msg = d["CEB412Message"];
  EXPECT_STREQ(msg["guid"].GetString(), guid(1).c_str());
  EXPECT_STREQ(msg["version"].GetString(), "1.0");
  const auto& list = msg["PaymentReturn"];
  ASSERT_EQ(list.Size(), 2u);
  EXPECT_STREQ(list[0]["payTransactionId"].GetString(), "PAY1");
  EXPECT_STREQ(list[0]["returnStatus"].GetString(), "120");
  EXPECT_STREQ(list[0]["returnTime"].GetString(), "20230115103000123");
  EXPECT_FALSE(list[0].HasMember("orderNo"));
  ASSERT_EQ(list[0]["findings"].Size(), 1u);
  EXPECT_STREQ(list[0]["findings"][0]["rule"].GetString(), "M2");
  EXPECT_STREQ(list[0]["findings"][0]["field"].GetString(), "Order/acturalPaid");
  EXPECT_STREQ(list[0]["findings"][0]["en"].GetString(),
               "order acturalPaid 100.00 differs from payment amountPaid 99.00");
  EXPECT_EQ(list[1]["findings"].Size(), 0u);
  EXPECT_STREQ(list[1]["payCode"].GetString(), "bad\xEF\xBF\xBDutf8");  // sanitised
  // Keys in XSD order.
  EXPECT_LT(json.find("\"payCode\""), json.find("\"payTransactionId\""));
  EXPECT_LT(json.find("\"returnTime\""), json.find("\"returnInfo\""));
}

// ---- CEB900
// ---------------------------------------------------------------------------------------

FormatError format_error() {
  FormatError e;
  e.guid = guid(5);
  e.ori_message_type = "CEB311Message";
  e.ori_cop_msg_id = "COPMSG-0001";
  e.original = "\xEF\xBB\xBF<ceb:CEB311Message>]]><bad \x01 \xFF bytes>]]></ceb:CEB311Message>";
  e.violations = {Violation{3, "Order[3]/OrderHead/buyerIdNumber", "required"},
                  Violation{0, "CEB311Message/@guid", "length 35, must be 36"}};
  e.returnTime = kReturnTime;
  return e;
}

TEST(MessagesCeb900, ValidatesAndCarriesTheOriginal) {
  std::string xml = write_ceb900_xml(format_error());
  EXPECT_EQ(xmllint_errors(xml, "ceb900"), "");
  EXPECT_NE(xml.find("<CEB900Message guid=\"" + guid(5) +
                     "\" version=\"1.0\" "
                     "xmlns=\"http://www.chinaport.gov.cn/ceb\">"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<returnStatus>-1</returnStatus>"), std::string::npos);
  EXPECT_NE(xml.find("<returnInfo>Order[3]/OrderHead/buyerIdNumber: required; "
                     "CEB311Message/@guid: length 35, must be 36</returnInfo>"),
            std::string::npos);
  EXPECT_NE(xml.find("<oriCopMsgId>COPMSG-0001</oriCopMsgId>"), std::string::npos);
  EXPECT_NE(xml.find("<oriMessageType>CEB311Message</oriMessageType>"), std::string::npos);
  // "]]>" in the original is split across two CDATA sections; bytes XML cannot carry are U+FFFD.
  EXPECT_NE(xml.find("<oriBizMessage><![CDATA[<ceb:CEB311Message>]]]]><![CDATA[><bad \xEF\xBF\xBD "
                     "\xEF\xBF\xBD bytes>]]]]><![CDATA[></ceb:CEB311Message>]]></oriBizMessage>"),
            std::string::npos)
      << xml;
}

TEST(MessagesCeb900, LimitsAndDerivedGuid) {
  FormatError e = format_error();
  e.guid = "short";
  e.ori_message_type = "";
  e.ori_cop_msg_id = std::string(300, 'c');
  e.violations.clear();
  for (int i = 0; i < static_cast<int>(kMaxViolationsReported); ++i) {
    e.violations.push_back(Violation{i, "Order[" + std::to_string(i) + "]/OrderHead/备注",
                                     "length 1001, maximum 1000"});
  }
  std::string xml = write_ceb900_xml(e);
  EXPECT_EQ(xmllint_errors(xml, "ceb900_limits"), "");
  EXPECT_NE(xml.find("<oriMessageType>Unknown</oriMessageType>"), std::string::npos);
  EXPECT_NE(xml.find("<oriCopMsgId>" + std::string(254, 'c') + "…</oriCopMsgId>"),
            std::string::npos);
  // The same content gets the same derived guid; other content another one.
  std::string again = write_ceb900_xml(e);
  EXPECT_EQ(xml, again);
  size_t at = xml.find("guid=\"") + 6;
  std::string derived = xml.substr(at, 36);
  EXPECT_EQ(xml[at + 36], '"');
  FormatError other = e;
  other.original += " ";
  EXPECT_THAT(write_ceb900_xml(other), Not(HasSubstr(derived)));
  // returnInfo is cut at 5000 characters, on a character boundary.
  size_t info = xml.find("<returnInfo>") + 12;
  std::string text = xml.substr(info, xml.find("</returnInfo>") - info);
  size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  EXPECT_EQ(chars, 5000u);
  EXPECT_TRUE(text.ends_with("…"));
}

TEST(MessagesCeb900, Json) {
  std::string json = write_ceb900_json(format_error());
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  ASSERT_FALSE(d.HasParseError()) << json;
  const auto& ret = d["CEB900Message"]["MessageReturn"];
  EXPECT_STREQ(ret["returnStatus"].GetString(), "-1");
  EXPECT_STREQ(ret["oriMessageType"].GetString(), "CEB311Message");
  EXPECT_STREQ(ret["returnTime"].GetString(), "20230115103000123");
  ASSERT_EQ(ret["violations"].Size(), 2u);
  EXPECT_EQ(ret["violations"][0]["record"].GetInt(), 3);
  EXPECT_STREQ(ret["violations"][0]["path"].GetString(), "Order[3]/OrderHead/buyerIdNumber");
  EXPECT_STREQ(ret["violations"][1]["problem"].GetString(), "length 35, must be 36");
  EXPECT_THAT(std::string(ret["oriBizMessage"].GetString()), HasSubstr("<bad \xEF\xBF\xBD"));
}

// The CEB900 for a message our reader rejected: the whole path from bytes to answer.
TEST(MessagesCeb900, FromAReadResult) {
  std::string bad = remove_nth_element(sample("CEB311Message.xml"), "ceb:buyerIdNumber", 3);
  ReadResult r = read_message_xml(bad);
  ASSERT_TRUE(r.message.has_value());
  FormatError e{r.message->guid, std::string(message_root_name(r.message->type)),
                "id-1",          bad,
                r.violations,    kReturnTime};
  std::string xml = write_ceb900_xml(e);
  EXPECT_EQ(xmllint_errors(xml, "ceb900_from_read"), "");
  EXPECT_NE(xml.find("<returnInfo>Order[3]/OrderHead/buyerIdNumber: required</returnInfo>"),
            std::string::npos);
}

// ---- join_return_info ---------------------------------------------------------------------------

TEST(MessagesReturnInfo, JoinsFindings) {
  std::vector<Finding> findings = {
      {"M2", "Order/acturalPaid", "订单实付金额 100.00 与支付金额 99.00 不一致",
       "order acturalPaid 100.00 differs from payment amountPaid 99.00"},
      {"R2", "Inventory/InventoryList[2]/qty", "数量为 0", "qty is 0"},
  };
  EXPECT_EQ(join_return_info("", findings),
            "[M2] 订单实付金额 100.00 与支付金额 99.00 不一致 / order acturalPaid 100.00 differs "
            "from payment amountPaid 99.00; [R2] 数量为 0 / qty is 0");
  EXPECT_EQ(join_return_info("逻辑校验未通过", std::span(findings).subspan(1)),
            "逻辑校验未通过; [R2] 数量为 0 / qty is 0");
  EXPECT_EQ(join_return_info("新增申报成功", {}), "新增申报成功");
}

TEST(MessagesReturnInfo, CutAtThousandCharactersOnACharacterBoundary) {
  std::vector<Finding> findings;
  for (int i = 0; i < 200; ++i) findings.push_back({"R1", "f", "超过限额的订单", "over limit"});
  std::string info = join_return_info("", findings);
  size_t chars = 0;
  for (unsigned char c : info) chars += (c & 0xC0) != 0x80;
  EXPECT_EQ(chars, kMaxReturnInfoChars);
  EXPECT_TRUE(info.ends_with("…"));
  EXPECT_TRUE(info.starts_with("[R1] 超过限额的订单 / over limit; [R1] "));
}

}  // namespace
}  // namespace cbec::ceb
