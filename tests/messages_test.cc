// CEB message codecs: the official samples, round trips through XML and JSON, XSD validity of what
// we write, names, Base64 detection and record digests.
#include <string>

#include "messages/ceb.h"
#include "messages_test_util.h"

namespace cbec::ceb {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace cbec::ceb::testing;

struct SampleCase {
  const char* file;
  MessageType type;
  size_t records;
  size_t lines;  // lines over all records (0 for head-only and flat records)
  bool signature;
};

size_t line_count(const Message& m) {
  size_t n = 0;
  for (const auto& r : m.orders) n += r.lists.size();
  for (const auto& r : m.inventories) n += r.lists.size();
  for (const auto& r : m.refunds) n += r.lists.size();
  for (const auto& r : m.deliveries) n += r.lists.size();
  return n;
}

// Every official request sample parses without a single violation, into the expected records.
TEST(MessagesSamples, OfficialRequestSamplesParseCleanly) {
  const SampleCase cases[] = {
      {"CEB311Message.xml", MessageType::kCEB311, 6, 12, true},
      {"CEB411Message.xml", MessageType::kCEB411, 10, 0, true},
      {"CEB511Message.xml", MessageType::kCEB511, 6, 0, true},
      {"CEB621Message.xml", MessageType::kCEB621, 10, 20, true},
      {"CEB711Message.xml", MessageType::kCEB711, 1, 1, true},
  };
  for (const SampleCase& c : cases) {
    SCOPED_TRACE(c.file);
    ReadResult r = read_message_xml(sample(c.file));
    ASSERT_TRUE(r.message.has_value()) << violations_text(r);
    EXPECT_THAT(r.violations, IsEmpty()) << violations_text(r);
    EXPECT_EQ(r.message->type, c.type);
    EXPECT_EQ(r.message->record_count(), c.records);
    EXPECT_EQ(line_count(*r.message), c.lines);
    EXPECT_EQ(r.message->has_signature, c.signature);
    EXPECT_EQ(r.message->version, "1.0");
  }
}

// Spot checks of converted values: decimals, ints, trimmed strings, Chinese text, the BOM.
TEST(MessagesSamples, Ceb311ValuesAreConverted) {
  std::string xml = sample("CEB311Message.xml");
  ASSERT_TRUE(xml.starts_with("\xEF\xBB\xBF")) << "the 311 sample carries a BOM";
  ReadResult r = read_message_xml(xml);
  ASSERT_TRUE(r.ok()) << violations_text(r);
  const Message& m = *r.message;
  EXPECT_EQ(m.guid, "4CDE1CFD-EDED-46B1-946C-B8022E42FC94");
  const OrderHead& h = m.orders[0].head;
  EXPECT_EQ(h.orderNo, "order20160321116421002");  // the sample indents it with spaces
  EXPECT_EQ(h.ebpName, "东方物通科技(北京)有限公司");
  EXPECT_EQ(h.goodsValue, Decimal::of_int(14000));
  EXPECT_EQ(h.acturalPaid, Decimal::of_int(19050));
  EXPECT_EQ(h.consigneeDistrict, "072750");
  ASSERT_EQ(m.orders[0].lists.size(), 2u);
  EXPECT_EQ(m.orders[0].lists[1].gnum, 2);
  EXPECT_EQ(m.orders[0].lists[1].totalPrice, Decimal::of_int(12000));
  EXPECT_EQ(m.transfer.dxpMode, "DXP");
}

TEST(MessagesSamples, Ceb711DeliveryAndSkippedSignature) {
  ReadResult r = read_message_xml(sample("CEB711Message.xml"));
  ASSERT_TRUE(r.ok()) << violations_text(r);
  ASSERT_EQ(r.message->deliveries.size(), 1u);
  const Delivery& d = r.message->deliveries[0];
  EXPECT_EQ(d.head.guid, "5923DGGB-9940-415B-B666-C09BOO7F40B2");
  EXPECT_EQ(d.head.unloadLocation, "");
  EXPECT_EQ(d.lists.at(0).logisticsNo, "L201603081138001");
}

// The CEB622 sample is a receipt: a request reader refuses it with one clear violation.
TEST(MessagesSamples, ReceiptSampleIsRejectedAsNotARequest) {
  ReadResult r = read_message_xml(sample("CEB622Message.xml"));
  EXPECT_FALSE(r.message.has_value());
  EXPECT_THAT(r.violations, ElementsAre(Violation{0, "CEB622Message", "not a request message"}));
}

// The signature is optional even where the XSD requires it (identity comes from API keys).
TEST(MessagesSamples, SignatureIsOptional) {
  std::string xml = sample("CEB621Message.xml");
  size_t start = xml.find("<ds:Signature");
  size_t end = xml.find("</ds:Signature>");
  ASSERT_NE(start, std::string::npos);
  xml.erase(start, end + std::string("</ds:Signature>").size() - start);
  ReadResult r = read_message_xml(xml);
  ASSERT_TRUE(r.ok()) << violations_text(r);
  EXPECT_FALSE(r.message->has_signature);
}

// ---- prefixes and namespaces ----------------------------------------------------------------

// The namespace decides, not the prefix: default namespace and another prefix read the same.
TEST(MessagesNamespaces, AnyPrefixOrNoneReadsTheSame) {
  std::string xml = sample("CEB511Message.xml");
  ReadResult base = read_message_xml(xml);
  ASSERT_TRUE(base.ok());

  std::string other = xml;
  for (size_t p; (p = other.find("ceb:")) != std::string::npos;) other.replace(p, 4, "x:");
  other = replace_nth(other, "xmlns:ceb=", "xmlns:x=");
  ReadResult r1 = read_message_xml(other);
  ASSERT_TRUE(r1.ok()) << violations_text(r1);
  EXPECT_EQ(*r1.message, *base.message);

  std::string deflt = xml;
  for (size_t p; (p = deflt.find("ceb:")) != std::string::npos;) deflt.erase(p, 4);
  deflt = replace_nth(deflt, "xmlns:ceb=", "xmlns=");
  ReadResult r2 = read_message_xml(deflt);
  ASSERT_TRUE(r2.ok()) << violations_text(r2);
  EXPECT_EQ(*r2.message, *base.message);
}

// A namespace declared on an inner element applies there (scoping, not text matching).
TEST(MessagesNamespaces, DeclarationsAreScoped) {
  Message m = message(MessageType::kCEB513, 1);
  std::string xml = write_message_xml(m);
  xml = replace_nth(xml, "<ceb:LogisticsStatus>",
                    "<q:LogisticsStatus xmlns:q=\"http://www.chinaport.gov.cn/ceb\">");
  xml = replace_nth(xml, "</ceb:LogisticsStatus>", "</q:LogisticsStatus>");
  ReadResult r = read_message_xml(xml);
  ASSERT_TRUE(r.ok()) << violations_text(r);
  EXPECT_EQ(*r.message, m);
}

// ---- round trips ----------------------------------------------------------------------------

// Every message type survives write → read unchanged, in XML and in JSON, and the two forms
// read into the same Message.
TEST(MessagesRoundTrip, EveryTypeThroughXmlAndJson) {
  for (MessageType t : kAllTypes) {
    SCOPED_TRACE(std::string(message_root_name(t)));
    Message m = message(t, 3, 4);
    std::string xml = write_message_xml(m);
    ReadResult from_xml = read_message_xml(xml);
    ASSERT_TRUE(from_xml.ok()) << violations_text(from_xml) << xml;
    EXPECT_EQ(*from_xml.message, m);

    std::string json = write_message_json(m);
    ReadResult from_json = read_message_json(json);
    ASSERT_TRUE(from_json.ok()) << violations_text(from_json) << json;
    EXPECT_EQ(*from_json.message, m);

    EXPECT_EQ(read_message_auto(xml).message, from_xml.message);
    EXPECT_EQ(read_message_auto(json).message, from_json.message);
  }
}

TEST(MessagesRoundTrip, OfficialSamplesThroughXmlAndJson) {
  for (const char* file : {"CEB311Message.xml", "CEB411Message.xml", "CEB511Message.xml",
                           "CEB621Message.xml", "CEB711Message.xml"}) {
    SCOPED_TRACE(file);
    ReadResult r = read_message_xml(sample(file));
    ASSERT_TRUE(r.ok());
    Message m = *r.message;
    m.has_signature = false;  // writers never sign
    ReadResult again = read_message_xml(write_message_xml(m));
    ASSERT_TRUE(again.ok()) << violations_text(again);
    EXPECT_EQ(*again.message, m);
    ReadResult json = read_message_json(write_message_json(m));
    ASSERT_TRUE(json.ok()) << violations_text(json);
    EXPECT_EQ(*json.message, m);
  }
}

// A hand-written JSON message (numbers as tokens, keys in any order, one line as an object)
// reads into exactly the Message of the equivalent XML.
TEST(MessagesRoundTrip, HandWrittenJsonEqualsXml) {
  std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<CEB625Message guid="A1B2C3D4-0000-4000-8000-000000000000" version="1.0"
    xmlns="http://www.chinaport.gov.cn/ceb">
  <InvtRefund>
    <InvtRefundHead>
      <guid>A1B2C3D4-0000-4000-8000-000000000001</guid><appType>1</appType>
      <appTime>20230120090000</appTime><appStatus>2</appStatus><customsCode>4606</customsCode>
      <orderNo>ORD1</orderNo><ebpCode>4101961234</ebpCode><ebpName>平台</ebpName>
      <ebcCode>4101965678</ebcCode><ebcName>企业</ebcName><logisticsNo>LN1</logisticsNo>
      <logisticsCode>4101968888</logisticsCode><logisticsName>物流</logisticsName>
      <invtNo>46062023I000000001</invtNo><buyerIdType>1</buyerIdType>
      <buyerIdNumber>410101199001011234</buyerIdNumber><buyerName>张三</buyerName>
      <buyerTelephone>13800000000</buyerTelephone><agentCode>4101965678</agentCode>
      <agentName>企业</agentName><reason>质量问题</reason>
    </InvtRefundHead>
    <InvtRefundList>
      <gnum>1</gnum><gcode>0402290000</gcode><gname>奶粉</gname><qty>12345678901234.12345</qty>
      <unit>122</unit>
    </InvtRefundList>
  </InvtRefund>
  <BaseTransfer><copCode>4101961234</copCode><copName>企业</copName><dxpMode>DXP</dxpMode>
    <dxpId>DXPENT0000000001</dxpId></BaseTransfer>
</CEB625Message>)";
  std::string json = R"({"CEB625Message": {
    "version": "1.0", "guid": "A1B2C3D4-0000-4000-8000-000000000000",
    "BaseTransfer": {"copName": "企业", "copCode": 4101961234, "dxpMode": "DXP",
                     "dxpId": "DXPENT0000000001", "note": null},
    "InvtRefund": [{
      "InvtRefundList": {"gnum": 1, "gcode": "0402290000", "gname": "奶粉",
                         "qty": 12345678901234.12345, "unit": "122"},
      "InvtRefundHead": {
        "appType": 1, "guid": "A1B2C3D4-0000-4000-8000-000000000001", "appTime": 20230120090000,
        "appStatus": "2", "customsCode": "4606", "orderNo": "ORD1", "ebpCode": "4101961234",
        "ebpName": "平台", "ebcCode": "4101965678", "ebcName": "\u4f01\u4e1a",
        "logisticsNo": "LN1", "logisticsCode": "4101968888", "logisticsName": "物流",
        "invtNo": "46062023I000000001", "buyerIdType": "1",
        "buyerIdNumber": "410101199001011234", "buyerName": "张三",
        "buyerTelephone": "13800000000", "agentCode": "4101965678", "agentName": "企业",
        "reason": "质量问题"}}]}})";
  ReadResult rx = read_message_xml(xml);
  ReadResult rj = read_message_json(json);
  ASSERT_TRUE(rx.ok()) << violations_text(rx);
  ASSERT_TRUE(rj.ok()) << violations_text(rj);
  EXPECT_EQ(*rx.message, *rj.message);
  // The 19-digit decimal is exact: it never went through a double.
  EXPECT_EQ(rj.message->refunds[0].lists[0].qty, Decimal::of_units(1234567890123412345));
}

// ---- what we write validates against the official XSD ---------------------------------------

TEST(MessagesXsd, WrittenRequestsValidate) {
  // CEB621/623/625/711 need a ds:Signature in the XSD, which we never write.
  for (MessageType t :
       {MessageType::kCEB311, MessageType::kCEB411, MessageType::kCEB511, MessageType::kCEB513}) {
    std::string name(message_root_name(t));
    SCOPED_TRACE(name);
    std::string xml = write_message_xml(message(t, 3, 3));
    EXPECT_EQ(xmllint_errors(xml, "request_" + name), "");
  }
  for (const char* file : {"CEB311Message.xml", "CEB411Message.xml", "CEB511Message.xml"}) {
    SCOPED_TRACE(file);
    ReadResult r = read_message_xml(sample(file));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(xmllint_errors(write_message_xml(*r.message), std::string("sample_") + file), "");
  }
}

TEST(MessagesXsd, WrittenRequestFormat) {
  Message m = message(MessageType::kCEB311, 1, 1);
  m.orders[0].head.payName = "";                          // optional and empty: omitted
  m.orders[0].head.discount = Decimal::of_units(150000);  // 1.50 written canonically
  std::string xml = write_message_xml(m);
  EXPECT_TRUE(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ceb:CEB311Message "));
  EXPECT_NE(xml.find("xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\""), std::string::npos);
  EXPECT_EQ(xml.find("payName"), std::string::npos);
  EXPECT_NE(xml.find("<ceb:discount>1.5</ceb:discount>"), std::string::npos);
  EXPECT_NE(xml.find("&lt;A&amp;B&gt;"), std::string::npos);
  EXPECT_EQ(xml.find("Signature"), std::string::npos);
}

// ---- names ------------------------------------------------------------------------------------

TEST(MessagesNames, RootAndRecordNames) {
  EXPECT_EQ(message_root_name(MessageType::kCEB513), "CEB513Message");
  EXPECT_EQ(receipt_root_name(MessageType::kCEB513), "CEB514Message");
  EXPECT_EQ(receipt_record_name(MessageType::kCEB625), "InvtRefundReturn");
  EXPECT_EQ(record_node_name(MessageType::kCEB711), "Delivery");
  for (MessageType t : kAllTypes) {
    EXPECT_EQ(message_type_from_root(message_root_name(t)), t);
    EXPECT_FALSE(message_type_from_root(receipt_root_name(t)).has_value());
    EXPECT_TRUE(is_receipt_root(receipt_root_name(t)));
  }
  EXPECT_TRUE(is_receipt_root("CEB900Message"));
  EXPECT_FALSE(message_type_from_root("CEB999Message").has_value());
}

TEST(MessagesNames, RecordCountFollowsType) {
  Message m = message(MessageType::kCEB625, 7);
  EXPECT_EQ(m.record_count(), 7u);
  m.orders.push_back(order(1, 1));  // not the vector of this type
  EXPECT_EQ(m.record_count(), 7u);
}

// ---- read_message_auto
// ---------------------------------------------------------------------------

std::string base64(const std::string& in, bool line_breaks) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int k = 3; k >= 0; --k) out += kAlphabet[(v >> (6 * k)) & 63];
    if (line_breaks && out.size() % 78 == 76) out += "\r\n";
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

TEST(MessagesAuto, Base64WrappedXmlIsDecoded) {
  std::string xml = sample("CEB311Message.xml");  // with its BOM
  ReadResult direct = read_message_xml(xml);
  ASSERT_TRUE(direct.ok());
  for (bool breaks : {false, true}) {
    ReadResult r = read_message_auto("\n  " + base64(xml, breaks) + "\n");
    ASSERT_TRUE(r.ok()) << violations_text(r);
    EXPECT_EQ(*r.message, *direct.message);
  }
  // Every tail length (0, 1 and 2 padding characters) decodes.
  Message m = message(MessageType::kCEB513, 1);
  std::string small = write_message_xml(m);
  for (int extra = 0; extra < 3; ++extra) {
    std::string x = small + std::string(static_cast<size_t>(extra), '\n');
    ReadResult r = read_message_auto(base64(x, false));
    ASSERT_TRUE(r.ok()) << violations_text(r);
    EXPECT_EQ(*r.message, m);
  }
}

TEST(MessagesAuto, Base64OfSomethingElseIsRejected) {
  ReadResult r = read_message_auto(base64("hello, not xml", false));
  EXPECT_FALSE(r.message.has_value());
  EXPECT_THAT(r.violations,
              ElementsAre(Violation{0, "message", "not XML, JSON or Base64-encoded XML"}));
}

// ---- record digests ---------------------------------------------------------------------------

// Reformatting (whitespace, prefix, "1.50" for "1.5", JSON instead of XML) keeps the digest.
TEST(MessagesDigest, StableUnderReformatting) {
  Message m = message(MessageType::kCEB311, 1, 2);
  m.orders[0].lists[0].price = Decimal::of_units(150000);
  std::string xml = write_message_xml(m);
  ASSERT_NE(xml.find("<ceb:price>1.5</ceb:price>"), std::string::npos);
  std::string reformatted =
      replace_nth(xml, "<ceb:price>1.5</ceb:price>", "<ceb:price>\n   1.50000 </ceb:price>");
  reformatted = replace_nth(reformatted, "<ceb:orderNo>", "<ceb:orderNo>  ");
  for (size_t p; (p = reformatted.find("ceb:")) != std::string::npos;) {
    reformatted.replace(p, 4, "c:");
  }
  reformatted = replace_nth(reformatted, "xmlns:ceb=", "xmlns:c=");
  ReadResult a = read_message_xml(xml);
  ReadResult b = read_message_xml(reformatted);
  ReadResult c = read_message_json(write_message_json(m));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << violations_text(b);
  uint64_t d = record_digest(a.message->orders[0]);
  EXPECT_EQ(record_digest(b.message->orders[0]), d);
  EXPECT_EQ(record_digest(c.message->orders[0]), d);
  EXPECT_EQ(record_digest(m.orders[0]), d);
}

// The digest of every record type, lines included, with present and absent decimals, equals
// FNV-1a over the canonical serialization written out byte by byte (digest.cc jumps over the
// fixed text instead of hashing it).
template <class T>
void canonical_struct(const T& rec, std::string* out) {
  *out += kElementName<T>;
  *out += "\x1D";
  for (const auto& f : kFields<T>) {
    *out += f.name;
    *out += "\x1F";
    if (f.str) *out += rec.*f.str;
    if (f.dec && (rec.*f.dec).present) *out += format_decimal(rec.*f.dec);
    if (f.num) *out += std::to_string(rec.*f.num);
    *out += "\x1E";
  }
}
template <class R>
void canon_of_record(const R& r, std::string* out) {
  if constexpr (requires { r.head; }) {
    canonical_struct(r.head, out);
    if constexpr (requires { r.lists; }) {
      for (const auto& l : r.lists) canonical_struct(l, out);
    }
  } else {
    canonical_struct(r, out);
  }
}
template <class R>
uint64_t digest_by_definition(const R& r) {
  std::string canon;
  canon_of_record(r, &canon);
  uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : canon) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

TEST(MessagesDigest, EqualsTheByteByByteDefinition) {
  for (MessageType t : {MessageType::kCEB311, MessageType::kCEB411, MessageType::kCEB511,
                        MessageType::kCEB513, MessageType::kCEB621, MessageType::kCEB623,
                        MessageType::kCEB625, MessageType::kCEB711}) {
    Message m = message(t, 3, 2);
    // Vary the texts so that the fixed text is entered with many different low bytes.
    int k = 0;
    auto vary = [&](auto& rec) {
      using T = std::decay_t<decltype(rec)>;
      for (const auto& f : kFields<T>) {
        ++k;
        if (f.str) (rec.*f.str) += std::string(static_cast<size_t>(k % 7), 'a' + k % 26);
        if (f.dec && k % 3 == 0) rec.*f.dec = Decimal{};
        if (f.dec && k % 3 == 1) rec.*f.dec = Decimal::of_units(k * 12345);
        if (f.num) rec.*f.num = k;
      }
    };
    auto check = [&](auto& records) {
      for (auto& r : records) {
        if constexpr (requires { r.head; }) {
          vary(r.head);
          if constexpr (requires { r.lists; }) {
            for (auto& l : r.lists) vary(l);
          }
        } else {
          vary(r);
        }
        EXPECT_EQ(record_digest(r), digest_by_definition(r)) << message_root_name(t);
      }
    };
    check(m.orders);
    check(m.payments);
    check(m.waybills);
    check(m.waybill_statuses);
    check(m.inventories);
    check(m.cancels);
    check(m.refunds);
    check(m.deliveries);
  }
}

// A change in any one field, head or line, changes the digest.
TEST(MessagesDigest, EveryFieldCounts) {
  const Order base = order(1, 2);
  const uint64_t d = record_digest(base);
  auto changed = [&](auto&& mutate) {
    Order o = base;
    mutate(o);
    return record_digest(o) != d;
  };
  for (const auto& f : kFields<OrderHead>) {
    SCOPED_TRACE(std::string(f.name));
    EXPECT_TRUE(changed([&](Order& o) {
      if (f.str) (o.head.*f.str) += "x";
      if (f.dec) (o.head.*f.dec).units += 1;
    }));
  }
  for (const auto& f : kFields<OrderList>) {
    SCOPED_TRACE(std::string(f.name));
    EXPECT_TRUE(changed([&](Order& o) {
      if (f.str) (o.lists[1].*f.str) += "x";
      if (f.dec) (o.lists[1].*f.dec).units += 1;
      if (f.num) (o.lists[1].*f.num) += 1;
    }));
  }
  // Absent and zero differ; moving text between fields differs; dropping a line differs.
  EXPECT_TRUE(changed([](Order& o) { o.head.freight = Decimal{}; }));
  EXPECT_TRUE(changed([](Order& o) {
    o.head.payName = o.head.payCode;
    o.head.payCode.clear();
  }));
  EXPECT_TRUE(changed([](Order& o) { o.lists.pop_back(); }));
  EXPECT_TRUE(changed([](Order& o) { std::swap(o.lists[0], o.lists[1]); }));
}

// The digest is a fixed function of the content: pinned so that a change of algorithm (which
// would break idempotency across a restart or between machines) fails here.
TEST(MessagesDigest, PinnedValue) {
  LogisticsStatus s = waybill_status(1);
  EXPECT_EQ(record_digest(s), record_digest(waybill_status(1)));
  EXPECT_NE(record_digest(s), record_digest(waybill_status(2)));
  // FNV-1a of the canonical serialization, computed independently here.
  std::string canon = "LogisticsStatus\x1D";
  for (const auto& f : kFields<LogisticsStatus>) {
    canon += std::string(f.name) + "\x1F" + s.*f.str + "\x1E";
  }
  uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : canon) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  EXPECT_EQ(record_digest(s), h);
  // Every record type has a digest over its lines too.
  Message inv = message(MessageType::kCEB621, 1, 2);
  Inventory shorter = inv.inventories[0];
  shorter.lists.pop_back();
  EXPECT_NE(record_digest(inv.inventories[0]), record_digest(shorter));
}

}  // namespace
}  // namespace cbec::ceb
