// Hostile and broken input: each case names the exact violation (record, path, problem) the
// readers must report, and none may crash (this binary also runs under ASan and UBSan).
#include <chrono>
#include <random>
#include <string>

#include "messages/ceb.h"
#include "messages_test_util.h"

namespace cbec::ceb {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;
using namespace cbec::ceb::testing;

std::string order_xml(int records = 3, int lines = 2) {
  return write_message_xml(message(MessageType::kCEB311, records, lines));
}

// Reads xml and expects exactly one violation.
void expect_only(const std::string& xml, const Violation& expected, bool message_set = true) {
  ReadResult r = read_message_xml(xml);
  EXPECT_THAT(r.violations, ElementsAre(expected)) << violations_text(r);
  EXPECT_EQ(r.message.has_value(), message_set);
}

std::string order_json(int records = 2, int lines = 2) {
  return write_message_json(message(MessageType::kCEB311, records, lines));
}

void expect_only_json(const std::string& json, const Violation& expected, bool message_set = true) {
  ReadResult r = read_message_json(json);
  EXPECT_THAT(r.violations, ElementsAre(expected)) << violations_text(r) << json.substr(0, 300);
  EXPECT_EQ(r.message.has_value(), message_set);
}

// ---- whole-message problems ------------------------------------------------------------------

TEST(MessagesBadInput, EmptyBody) {
  for (std::string body : {"", "   \n\t", "\xEF\xBB\xBF"}) {
    EXPECT_THAT(read_message_xml(body).violations,
                ElementsAre(Violation{0, "message", "empty message"}));
    EXPECT_THAT(read_message_json(body).violations,
                ElementsAre(Violation{0, "message", "empty message"}));
    EXPECT_THAT(read_message_auto(body).violations,
                ElementsAre(Violation{0, "message", "empty message"}));
  }
}

TEST(MessagesBadInput, BinaryGarbage) {
  std::mt19937 rng(42);
  std::string garbage(4096, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  garbage[0] = '\x01';
  ReadResult r = read_message_auto(garbage);
  EXPECT_FALSE(r.message.has_value());
  EXPECT_THAT(r.violations,
              ElementsAre(Violation{0, "message", "not XML, JSON or Base64-encoded XML"}));
  ReadResult x = read_message_xml(garbage);
  EXPECT_FALSE(x.message.has_value());
  EXPECT_THAT(x.violations, SizeIs(1));
  ReadResult j = read_message_json(garbage);
  EXPECT_FALSE(j.message.has_value());
  EXPECT_THAT(j.violations, SizeIs(1));
}

TEST(MessagesBadInput, TruncatedXml) {
  std::string xml = sample("CEB311Message.xml");
  std::string cut = xml.substr(0, xml.find("<ceb:OrderList>") + 9);  // inside a tag
  ReadResult r = read_message_xml(cut);
  EXPECT_FALSE(r.message.has_value());
  // pugixml's description and the byte offset in the original (BOM included).
  EXPECT_THAT(r.violations,
              ElementsAre(Violation{0, "message",
                                    "malformed XML: Error parsing start element tag at offset " +
                                        std::to_string(cut.size() - 1)}));
  // Every prefix of a message is handled, none crashes, none is accepted.
  for (size_t n = 1; n < xml.size(); n += 97) {
    ReadResult p = read_message_xml(xml.substr(0, n));
    EXPECT_FALSE(p.ok()) << n;
  }
}

TEST(MessagesBadInput, TenMegabyteFieldIsRejectedBySizeAlone) {
  std::string xml = order_xml(1, 1);
  xml = replace_nth(xml, "<ceb:note>", "<ceb:note>" + std::string(10 * 1024 * 1024, 'x'));
  auto start = std::chrono::steady_clock::now();
  ReadResult r = read_message_xml(xml);
  ReadResult a = read_message_auto(xml);
  auto elapsed = std::chrono::steady_clock::now() - start;
  std::string problem = "size " + std::to_string(xml.size()) + " bytes, maximum 8388608";
  EXPECT_THAT(r.violations, ElementsAre(Violation{0, "message", problem}));
  EXPECT_THAT(a.violations, ElementsAre(Violation{0, "message", problem}));
  EXPECT_FALSE(r.message.has_value());
  // Rejected before any parsing: far below what parsing 10 MB would take.
  EXPECT_LT(elapsed, std::chrono::milliseconds(50));
  ReadResult j = read_message_json(std::string(kMaxMessageBytes + 1, ' '));
  EXPECT_THAT(j.violations,
              ElementsAre(Violation{0, "message", "size 8388609 bytes, maximum 8388608"}));
}

TEST(MessagesBadInput, DeepNesting) {
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "<ceb:note>";
  for (int i = 0; i < 10000; ++i) deep += "</ceb:note>";
  std::string xml = replace_nth(order_xml(1, 1), "<ceb:note>", "<ceb:note>" + deep);
  expect_only(xml, Violation{0, "message", "nesting deeper than 32 levels"}, false);

  // Exactly at the limit is fine for the depth check (the field then has element content).
  std::string ok_depth;
  for (int i = 0; i < 28; ++i) ok_depth += "<ceb:x>";
  for (int i = 0; i < 28; ++i) ok_depth += "</ceb:x>";
  std::string at_limit = replace_nth(order_xml(1, 1), "<ceb:note>", "<ceb:note>" + ok_depth);
  // root(1)/Order(2)/OrderHead(3)/note(4)/x(5..32)
  expect_only(at_limit, Violation{1, "Order[1]/OrderHead/note", "element content not allowed"});
}

TEST(MessagesBadInput, InvalidUtf8InAField) {
  std::string xml = replace_nth(order_xml(), "<ceb:buyerName>张三", "<ceb:buyerName>\xC3\x28", 2);
  expect_only(xml, Violation{2, "Order[2]/OrderHead/buyerName", "invalid UTF-8"});
  // Overlong encoding and a UTF-16 surrogate are invalid too.
  expect_only(replace_nth(order_xml(), "<ceb:buyerName>张三", "<ceb:buyerName>\xC0\xAF"),
              Violation{1, "Order[1]/OrderHead/buyerName", "invalid UTF-8"});
  expect_only(replace_nth(order_xml(), "<ceb:buyerName>张三", "<ceb:buyerName>\xED\xA0\x80"),
              Violation{1, "Order[1]/OrderHead/buyerName", "invalid UTF-8"});
}

TEST(MessagesBadInput, InvalidUtf8OutsideFields) {
  // In an attribute value, in an element name, in a comment: always reported.
  expect_only(replace_nth(order_xml(), "version=\"1.0\" xmlns", "version=\"1.\xFF\" xmlns"),
              Violation{0, "CEB311Message/@version", "invalid UTF-8"});
  std::string in_comment = replace_nth(order_xml(), "<ceb:Order>", "<!-- \xFE --><ceb:Order>");
  ReadResult r = read_message_xml(in_comment);
  EXPECT_THAT(r.violations,
              ElementsAre(Field(&Violation::problem, StartsWith("invalid UTF-8 at offset "))));
}

TEST(MessagesBadInput, ControlCharactersAndNul) {
  expect_only(replace_nth(order_xml(), "<ceb:buyerName>张三", "<ceb:buyerName>a&#1;b"),
              Violation{0, "message",
                        "character reference to a character XML does not allow at offset " +
                            std::to_string(order_xml().find("<ceb:buyerName>") + 16)},
              false);
  std::string nul = order_xml();
  nul[nul.find("张三")] = '\0';
  EXPECT_THAT(read_message_xml(nul).violations,
              ElementsAre(Field(&Violation::problem, StartsWith("NUL byte at offset "))));
  // "&#0;" would silently truncate the text in pugixml: it must be refused.
  EXPECT_FALSE(read_message_xml(replace_nth(order_xml(), "张三", "a&#0;b")).ok());
  // Literal inside CDATA it is just text.
  ReadResult cdata =
      read_message_xml(replace_nth(order_xml(), "<ceb:note>", "<ceb:note><![CDATA[&#0;]]>"));
  EXPECT_TRUE(cdata.ok()) << violations_text(cdata);
}

TEST(MessagesBadInput, WrongNamespace) {
  std::string xml = order_xml();
  expect_only(
      replace_nth(xml, "\"http://www.chinaport.gov.cn/ceb\"", "\"http://example.com/ceb\""),
      Violation{0, "CEB311Message",
                "namespace 'http://example.com/ceb' is not http://www.chinaport.gov.cn/ceb"},
      false);
  // No namespace at all.
  std::string plain = replace_nth(xml, " xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\"", "");
  for (size_t p; (p = plain.find("ceb:")) != std::string::npos;) plain.erase(p, 4);
  expect_only(plain,
              Violation{0, "CEB311Message", "namespace '' is not " + std::string(kCebNamespace)},
              false);
  // One field in a foreign namespace.
  expect_only(replace_nth(xml, "<ceb:note>", "<x:extra xmlns:x=\"urn:x\">1</x:extra><ceb:note>"),
              Violation{1, "Order[1]/OrderHead/extra", "namespace 'urn:x' not allowed"});
  // An undeclared prefix.
  expect_only(replace_nth(xml, "<ceb:note>", "<y:extra>1</y:extra><ceb:note>"),
              Violation{1, "Order[1]/OrderHead/extra", "unbound namespace prefix 'y'"});
}

// The reader remembers the last prefix it resolved; a declaration on one element must still
// change what that prefix means there, and only there.
TEST(MessagesBadInput, PrefixRedeclaredOnOneElement) {
  std::string xml = order_xml();
  expect_only(replace_nth(xml, "<ceb:note>", "<ceb:note xmlns:ceb=\"urn:x\">", 2),
              Violation{2, "Order[2]/OrderHead/note", "namespace 'urn:x' not allowed"});
  EXPECT_THAT(read_message_xml(
                  replace_nth(xml, "<ceb:OrderHead>", "<ceb:OrderHead xmlns:ceb=\"urn:x\">", 3))
                  .violations,
              ElementsAre(Violation{3, "Order[3]/OrderHead", "namespace 'urn:x' not allowed"},
                          Violation{3, "Order[3]/OrderHead", "required"}));
  // Another prefix bound to the CEB namespace, or the default namespace, is the same element.
  std::string other =
      replace_nth(xml, "<ceb:note>", "<c:note xmlns:c=\"" + std::string(kCebNamespace) + "\">");
  other = replace_nth(other, "</ceb:note>", "</c:note>");
  ReadResult r = read_message_xml(other);
  EXPECT_TRUE(r.ok()) << violations_text(r);
  EXPECT_EQ(r.message, read_message_xml(xml).message);
  std::string dflt =
      replace_nth(xml, "<ceb:note>", "<note xmlns=\"" + std::string(kCebNamespace) + "\">");
  dflt = replace_nth(dflt, "</ceb:note>", "</note>");
  EXPECT_TRUE(read_message_xml(dflt).ok());
  // A prefix that only starts like the bound one is another prefix.
  expect_only(replace_nth(xml, "<ceb:note>", "<cebx:extra>1</cebx:extra><ceb:note>"),
              Violation{1, "Order[1]/OrderHead/extra", "unbound namespace prefix 'cebx'"});
  expect_only(replace_nth(xml, "<ceb:note>", "<ce:extra>1</ce:extra><ceb:note>"),
              Violation{1, "Order[1]/OrderHead/extra", "unbound namespace prefix 'ce'"});
  // Attributes on a field and on a record element.
  expect_only(replace_nth(xml, "<ceb:note>", "<ceb:note a=\"1\">"),
              Violation{1, "Order[1]/OrderHead/note/@a", "attribute not allowed"});
  expect_only(replace_nth(xml, "<ceb:Order>", "<ceb:Order b=\"1\">", 2),
              Violation{2, "Order[2]/@b", "attribute not allowed"});
}

// Length facets count characters; the reader skips counting when the byte length alone settles
// them (a text of B bytes has ceil(B / 4) to B characters), and counts otherwise.
TEST(MessagesBadInput, LengthFacetsWithMultiByteCharacters) {
  std::string xml = order_xml();
  std::string han12;  // 36 bytes, 12 characters: the byte length of a guid, not its length
  for (int i = 0; i < 12; ++i) han12 += "中";
  expect_only(replace_nth(xml, "<ceb:guid>" + guid(1) + "<", "<ceb:guid>" + han12 + "<"),
              Violation{1, "Order[1]/OrderHead/guid", "length 12, must be 36"});
  expect_only(replace_nth(xml, "<ceb:currency>142<", "<ceb:currency>\xF0\x9F\x98\x80<"),
              Violation{1, "Order[1]/OrderHead/currency", "length 1, must be 3"});
  expect_only(replace_nth(xml, "<ceb:currency>142<", "<ceb:currency>\xC3\xA9\xC3\xA9<"),
              Violation{1, "Order[1]/OrderHead/currency", "length 2, must be 3"});
  std::string han18;  // 54 bytes, 18 characters
  for (int i = 0; i < 18; ++i) han18 += "中";
  EXPECT_TRUE(
      read_message_xml(replace_nth(xml, "<ceb:buyerRegNo>", "<ceb:buyerRegNo>" + han18)).ok());
  expect_only(replace_nth(xml, "<ceb:ebpCode>", "<ceb:ebpCode>" + han18),
              Violation{1, "Order[1]/OrderHead/ebpCode", "length 28, maximum 18"});
  std::string inv = write_message_xml(message(MessageType::kCEB621, 2, 2));
  expect_only(replace_nth(inv, "<ceb:customsCode>4606<", "<ceb:customsCode>中<", 2),
              Violation{2, "Inventory[2]/InventoryHead/customsCode", "length 1, must be 4"});
  expect_only(replace_nth(inv, "<ceb:gcode>0402290000<", "<ceb:gcode>中文中文中文中文中文<", 3),
              Violation{2, "Inventory[2]/InventoryList[1]/gcode", "not digits only"});
  EXPECT_TRUE(
      read_message_xml(replace_nth(inv, "<ceb:customsCode>4606<", "<ceb:customsCode>中文中文<", 1))
          .ok());
  // An enum or lexical check still runs after lengths that need no count.
  expect_only(replace_nth(xml, "<ceb:appTime>", "<ceb:appTime>中文"),
              Violation{1, "Order[1]/OrderHead/appTime", "length 16, must be 14"});
}

TEST(MessagesBadInput, NotUtf8Declared) {
  std::string xml = replace_nth(order_xml(), "encoding=\"UTF-8\"", "encoding=\"GBK\"");
  expect_only(xml, Violation{0, "message", "encoding 'GBK' not supported (UTF-8 only)"}, false);
}

TEST(MessagesBadInput, DoctypeAndEntities) {
  std::string xml = order_xml(1, 1);
  size_t root = xml.find("<ceb:CEB311Message");
  expect_only(xml.substr(0, root) + "<!DOCTYPE x [<!ENTITY e \"zz\">]>" + xml.substr(root),
              Violation{0, "message", "DOCTYPE not allowed at offset " + std::to_string(root)},
              false);
  std::string entity = replace_nth(xml, "张三", "&e;");
  expect_only(entity,
              Violation{0, "message",
                        "undefined entity or malformed reference at offset " +
                            std::to_string(xml.find("张三"))},
              false);
  // The predefined entities and character references are fine and decoded.
  ReadResult r = read_message_xml(replace_nth(xml, "张三", "&lt;&#x5F20;&#19977;&quot;&apos;"));
  ASSERT_TRUE(r.ok()) << violations_text(r);
  EXPECT_EQ(r.message->orders[0].head.buyerName, "<张三\"'");
}

// BaseSubscribe (0..5) and ExtendMessage (0..1) are accepted and ignored, but their content is
// still held to the character rules; a sixth BaseSubscribe is refused.
TEST(MessagesBadInput, SkippedNodes) {
  std::string subscribe =
      "<ceb:BaseSubscribe><ceb:status>ALL</ceb:status><ceb:dxpMode>DXP</ceb:dxpMode>"
      "<ceb:dxpAddress>DXPENT01</ceb:dxpAddress></ceb:BaseSubscribe>";
  std::string extend =
      "<ceb:ExtendMessage><ceb:name>x</ceb:name><ceb:version>1</ceb:version><ceb:Message>"
      "<any:thing xmlns:any=\"urn:any\" a=\"1\">free <b/> form</any:thing></ceb:Message>"
      "</ceb:ExtendMessage>";
  std::string xml = order_xml(1, 1);
  std::string tail = "</ceb:CEB311Message>";
  std::string two = replace_nth(xml, tail, subscribe + subscribe + extend + tail);
  ReadResult r = read_message_xml(two);
  ASSERT_TRUE(r.ok()) << violations_text(r);
  EXPECT_EQ(*r.message, *read_message_xml(xml).message);

  std::string six;
  for (int i = 0; i < 6; ++i) six += subscribe;
  expect_only(replace_nth(xml, tail, six + tail),
              Violation{0, "CEB311Message/BaseSubscribe", "6 elements, maximum 5"});
  expect_only(replace_nth(xml, tail,
                          replace_nth(extend, "free",
                                      "fr\xFF"
                                      "ee") +
                              tail),
              Violation{0, "CEB311Message/ExtendMessage", "invalid UTF-8"});
  expect_only(replace_nth(xml, tail, extend + extend + tail),
              Violation{0, "CEB311Message/ExtendMessage", "duplicated"});
  // The signature comes last.
  std::string sig = "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>";
  ReadResult signed_ok = read_message_xml(replace_nth(xml, tail, extend + sig + tail));
  EXPECT_TRUE(signed_ok.ok()) << violations_text(signed_ok);
  EXPECT_TRUE(signed_ok.message->has_signature);
  expect_only(replace_nth(xml, tail, sig + extend + tail),
              Violation{0, "CEB311Message/ExtendMessage", "out of order: expected end"});

  // JSON: the same nodes are accepted and ignored.
  std::string json = order_json(1, 1);
  std::string with = replace_nth(json, "\"BaseTransfer\":",
                                 "\"BaseSubscribe\":[{\"status\":\"ALL\"}],"
                                 "\"ExtendMessage\":{\"name\":\"x\",\"Message\":{\"a\":[1]}},"
                                 "\"BaseTransfer\":");
  ReadResult j = read_message_json(with);
  ASSERT_TRUE(j.ok()) << violations_text(j);
  std::string six_json = replace_nth(
      json, "\"BaseTransfer\":", "\"BaseSubscribe\":[{},{},{},{},{},{}],\"BaseTransfer\":");
  expect_only_json(six_json, Violation{0, "CEB311Message/BaseSubscribe", "6 elements, maximum 5"});
}

TEST(MessagesBadInput, LeadingWhitespaceBeforeTheDeclaration) {
  std::string xml = order_xml(1, 1);
  ReadResult r = read_message_auto("\r\n  " + xml);
  ASSERT_TRUE(r.ok()) << violations_text(r);
}

// ---- counts
// --------------------------------------------------------------------------------------

TEST(MessagesBadInput, HundredRecordsOkHundredAndOneNot) {
  ReadResult ok = read_message_xml(order_xml(100, 1));
  EXPECT_TRUE(ok.ok()) << violations_text(ok);
  EXPECT_EQ(ok.message->record_count(), 100u);

  Message m = message(MessageType::kCEB311, 101, 1);
  ReadResult r = read_message_xml(write_message_xml(m));
  EXPECT_THAT(r.violations,
              ElementsAre(Violation{0, "CEB311Message/Order", "101 elements, maximum 100"}));
  ASSERT_TRUE(r.message.has_value());
  EXPECT_EQ(r.message->record_count(), 100u);  // the first 100 were read
  ReadResult j = read_message_json(write_message_json(m));
  EXPECT_THAT(j.violations,
              ElementsAre(Violation{0, "CEB311Message/Order", "101 elements, maximum 100"}));
}

TEST(MessagesBadInput, NinetyNineLinesOkHundredNot) {
  EXPECT_TRUE(read_message_xml(order_xml(1, 99)).ok());
  // 100 lines in total over two records are fine; 100 in one record are not.
  EXPECT_TRUE(read_message_xml(order_xml(2, 50)).ok());
  Message m = message(MessageType::kCEB311, 2, 99);
  m.orders[1].lists.push_back(m.orders[1].lists.back());
  m.orders[1].lists.back().gnum = 100;
  ReadResult r = read_message_xml(write_message_xml(m));
  EXPECT_THAT(r.violations,
              ElementsAre(Violation{2, "Order[2]/OrderList", "100 elements, maximum 99"}));
  ReadResult j = read_message_json(write_message_json(m));
  EXPECT_THAT(j.violations,
              ElementsAre(Violation{2, "Order[2]/OrderList", "100 elements, maximum 99"}));
  // Delivery has its own, larger line limit.
  EXPECT_TRUE(read_message_xml(write_message_xml(message(MessageType::kCEB711, 1, 500))).ok());
}

TEST(MessagesBadInput, DeliveryIsExactlyOne) {
  Message m = message(MessageType::kCEB711, 1, 1);
  m.deliveries.push_back(m.deliveries[0]);
  EXPECT_THAT(read_message_xml(write_message_xml(m)).violations,
              ElementsAre(Violation{0, "CEB711Message/Delivery", "2 elements, maximum 1"}));
}

TEST(MessagesBadInput, MissingNodes) {
  std::string xml = order_xml(1, 1);
  size_t a = xml.find("<ceb:BaseTransfer>");
  size_t b = xml.find("</ceb:BaseTransfer>") + std::string("</ceb:BaseTransfer>").size();
  expect_only(xml.substr(0, a) + xml.substr(b),
              Violation{0, "CEB311Message/BaseTransfer", "required"});
  a = xml.find("<ceb:OrderList>");
  b = xml.find("</ceb:OrderList>") + std::string("</ceb:OrderList>").size();
  expect_only(xml.substr(0, a) + xml.substr(b), Violation{1, "Order[1]/OrderList", "required"});
  a = xml.find("<ceb:Order>");
  b = xml.find("</ceb:Order>") + std::string("</ceb:Order>").size();
  expect_only(xml.substr(0, a) + xml.substr(b), Violation{0, "CEB311Message/Order", "required"});
}

// ---- field facets -------------------------------------------------------------------------------

TEST(MessagesBadInput, MissingRequiredFieldAtRecordThree) {
  std::string xml = remove_nth_element(sample("CEB311Message.xml"), "ceb:buyerIdNumber", 3);
  expect_only(xml, Violation{3, "Order[3]/OrderHead/buyerIdNumber", "required"});
}

TEST(MessagesBadInput, DecimalWithSixFractionDigits) {
  std::string xml = replace_nth(sample("CEB311Message.xml"), "<ceb:goodsValue>14000<",
                                "<ceb:goodsValue>14000.123456<", 2);
  expect_only(xml, Violation{2, "Order[2]/OrderHead/goodsValue", "more than 5 fraction digits"});
  // Trailing zeros are not significant; 20 digits are too many; text is not a number.
  EXPECT_TRUE(
      read_message_xml(replace_nth(sample("CEB311Message.xml"), ">14000<", ">14000.1234500000<"))
          .ok());
  expect_only(replace_nth(sample("CEB311Message.xml"), ">14000<", ">12345678901234567890<"),
              Violation{1, "Order[1]/OrderHead/goodsValue", "more than 19 digits"});
  expect_only(replace_nth(sample("CEB311Message.xml"), ">14000<", ">1e5<"),
              Violation{1, "Order[1]/OrderHead/goodsValue", "not a decimal number"});
}

TEST(MessagesBadInput, IntFacets) {
  std::string xml = sample("CEB511Message.xml");
  expect_only(replace_nth(xml, "<ceb:packNo>6000<", "<ceb:packNo>1234567890<"),
              Violation{1, "Logistics[1]/LogisticsHead/packNo", "more than 9 digits"});
  expect_only(replace_nth(xml, "<ceb:packNo>6000<", "<ceb:packNo>1.5<"),
              Violation{1, "Logistics[1]/LogisticsHead/packNo", "not an integer"});
  std::string order = order_xml(1, 1);
  expect_only(replace_nth(order, "<ceb:gnum>1<", "<ceb:gnum>2147483648<"),
              Violation{1, "Order[1]/OrderList[1]/gnum", "out of range for xs:int"});
}

TEST(MessagesBadInput, ChildOutOfOrder) {
  // XSD order: guid, appType, appTime, appStatus. Moving appType after appTime leaves the content
  // unchanged, so only the order is wrong.
  std::string xml = order_xml();
  std::string swapped = replace_nth(xml, "<ceb:appType>1</ceb:appType>", "");
  swapped = replace_nth(swapped, "<ceb:appStatus>", "<ceb:appType>1</ceb:appType><ceb:appStatus>");
  expect_only(swapped,
              Violation{1, "Order[1]/OrderHead/appType", "out of order: expected appStatus"});
  // The head after its lines.
  std::string head_last =
      replace_nth(xml, "<ceb:OrderHead>",
                  "<ceb:OrderList><ceb:gnum>9</ceb:gnum>"
                  "<ceb:itemName>a</ceb:itemName><ceb:gmodel>b</ceb:gmodel><ceb:unit>122</ceb:unit>"
                  "<ceb:qty>1</ceb:qty><ceb:price>1</ceb:price><ceb:totalPrice>1</ceb:totalPrice>"
                  "<ceb:currency>142</ceb:currency><ceb:country>502</ceb:country></ceb:OrderList>"
                  "<ceb:OrderHead>");
  expect_only(head_last, Violation{1, "Order[1]/OrderHead", "out of order: expected OrderList"});
  // A record after BaseTransfer.
  std::string root_order = order_xml(1, 1);
  size_t a = root_order.find("<ceb:BaseTransfer>");
  size_t b = root_order.find("</ceb:BaseTransfer>") + std::string("</ceb:BaseTransfer>").size();
  std::string transfer = root_order.substr(a, b - a);
  std::string reordered = root_order.substr(0, a) + root_order.substr(b);
  reordered = replace_nth(reordered, "<ceb:Order>", transfer + "<ceb:Order>");
  expect_only(reordered, Violation{0, "CEB311Message/Order",
                                   "out of order: expected BaseSubscribe, ExtendMessage, "
                                   "Signature or end"});
}

TEST(MessagesBadInput, UnknownAndDuplicatedElements) {
  std::string xml = order_xml();
  expect_only(replace_nth(xml, "<ceb:note>", "<ceb:foo>1</ceb:foo><ceb:note>", 2),
              Violation{2, "Order[2]/OrderHead/foo", "unknown element"});
  expect_only(replace_nth(xml, "<ceb:appStatus>2</ceb:appStatus>",
                          "<ceb:appStatus>2</ceb:appStatus><ceb:appStatus>2</ceb:appStatus>"),
              Violation{1, "Order[1]/OrderHead/appStatus", "duplicated"});
  expect_only(replace_nth(xml, "<ceb:BaseTransfer>", "<ceb:Bogus/><ceb:BaseTransfer>"),
              Violation{0, "CEB311Message/Bogus", "unknown element"});
  expect_only(replace_nth(xml, "<ceb:OrderHead>", "<ceb:OrderHead id=\"1\">"),
              Violation{1, "Order[1]/OrderHead/@id", "attribute not allowed"});
  expect_only(replace_nth(xml, "<ceb:OrderList>", "text<ceb:OrderList>"),
              Violation{1, "Order[1]", "unexpected text"});
}

TEST(MessagesBadInput, BadEnumAndLengths) {
  std::string xml = order_xml();
  expect_only(replace_nth(xml, "<ceb:appType>1<", "<ceb:appType>4<", 3),
              Violation{3, "Order[3]/OrderHead/appType", "not one of 1, 2, 3"});
  expect_only(replace_nth(xml, "<ceb:currency>142<", "<ceb:currency>840<"),
              Violation{1, "Order[1]/OrderHead/currency", "not one of 142"});
  // Lengths count characters: 60 Chinese characters fit buyerName (maxLength 60), 61 do not.
  std::string name60;
  for (int i = 0; i < 60; ++i) name60 += "张";
  EXPECT_TRUE(
      read_message_xml(replace_nth(xml, "<ceb:buyerName>张三", "<ceb:buyerName>" + name60)).ok());
  expect_only(replace_nth(xml, "<ceb:buyerName>张三", "<ceb:buyerName>" + name60 + "张"),
              Violation{1, "Order[1]/OrderHead/buyerName", "length 61, maximum 60"});
  std::string inv = write_message_xml(message(MessageType::kCEB621, 2, 2));
  expect_only(replace_nth(inv, "<ceb:customsCode>4606<", "<ceb:customsCode>460<", 2),
              Violation{2, "Inventory[2]/InventoryHead/customsCode", "length 3, must be 4"});
  expect_only(replace_nth(inv, "<ceb:gcode>0402290000<", "<ceb:gcode>04022900AB<", 4),
              Violation{2, "Inventory[2]/InventoryList[2]/gcode", "not digits only"});
  expect_only(replace_nth(inv, "<ceb:buyerName>张三<", "<ceb:buyerName><"),
              Violation{1, "Inventory[1]/InventoryHead/buyerName", "length 0, minimum 1"});
}

TEST(MessagesBadInput, BadDates) {
  std::string inv = write_message_xml(message(MessageType::kCEB621, 1, 1));
  expect_only(replace_nth(inv, "<ceb:declTime>20230115<", "<ceb:declTime>20230230<"),
              Violation{1, "Inventory[1]/InventoryHead/declTime", "not a valid date (yyyyMMdd)"});
  expect_only(
      replace_nth(inv, "<ceb:appTime>20230115120000<", "<ceb:appTime>20230115246000<"),
      Violation{1, "Inventory[1]/InventoryHead/appTime", "not a valid time (yyyyMMddHHmmss)"});
  // A leap day is a real date.
  EXPECT_TRUE(
      read_message_xml(replace_nth(inv, "<ceb:declTime>20230115<", "<ceb:declTime>20240229<"))
          .ok());
}

TEST(MessagesBadInput, RootAttributes) {
  std::string xml = order_xml();
  std::string g = guid(0);
  expect_only(replace_nth(xml, "guid=\"" + g + "\"", "guid=\"" + g.substr(1) + "\""),
              Violation{0, "CEB311Message/@guid", "length 35, must be 36"});
  expect_only(replace_nth(xml, " version=\"1.0\" xmlns", " xmlns"),
              Violation{0, "CEB311Message/@version", "required"});
  expect_only(replace_nth(xml, "version=\"1.0\" xmlns", "version=\"12345678901\" xmlns"),
              Violation{0, "CEB311Message/@version", "length 11, maximum 10"});
  expect_only(replace_nth(xml, "version=\"1.0\" xmlns", "version=\"1.0\" extra=\"1\" xmlns"),
              Violation{0, "CEB311Message/@extra", "attribute not allowed"});
  // xsi attributes are harmless (some senders add schemaLocation).
  EXPECT_TRUE(read_message_xml(replace_nth(xml, "version=\"1.0\" xmlns",
                                           "version=\"1.0\" xmlns:xsi=\"http://www.w3.org/2001/"
                                           "XMLSchema-instance\" xsi:schemaLocation=\"a b\" xmlns"))
                  .ok());
}

TEST(MessagesBadInput, ViolationsAreCapped) {
  Message m = message(MessageType::kCEB311, 100, 5);
  for (Order& o : m.orders) {
    o.head.appType = "9";
    o.head.currency = "000";
    o.head.buyerIdType = "7";
  }
  ReadResult r = read_message_xml(write_message_xml(m));
  EXPECT_THAT(r.violations, SizeIs(kMaxViolationsReported));
}

// ---- JSON -------------------------------------------------------------------------------------

TEST(MessagesBadJson, NumberDecimalWithSixDigits) {
  std::string json =
      replace_nth(order_json(), "\"taxTotal\":\"1.23456\"", "\"taxTotal\":1.234567", 2);
  expect_only_json(json,
                   Violation{2, "Order[2]/OrderHead/taxTotal", "more than 5 fraction digits"});
  // A number with 5 digits is exact.
  ReadResult r = read_message_json(
      replace_nth(order_json(), "\"taxTotal\":\"1.23456\"", "\"taxTotal\":1.23456"));
  ASSERT_TRUE(r.ok()) << violations_text(r);
  EXPECT_EQ(r.message->orders[0].head.taxTotal, Decimal::of_units(123456));
}

TEST(MessagesBadJson, UnknownKeyAndWrongTypes) {
  std::string json = order_json();
  expect_only_json(replace_nth(json, "\"note\":", "\"foo\":1,\"note\":"),
                   Violation{1, "Order[1]/OrderHead/foo", "unknown element"});
  expect_only_json(replace_nth(json, "\"buyerName\":\"张三\"", "\"buyerName\":{\"a\":1}", 2),
                   Violation{2, "Order[2]/OrderHead/buyerName",
                             "wrong type: object, expected string or number"});
  expect_only_json(replace_nth(json, "\"buyerName\":\"张三\"", "\"buyerName\":true"),
                   Violation{1, "Order[1]/OrderHead/buyerName",
                             "wrong type: boolean, expected string or number"});
  expect_only_json(replace_nth(json, "\"buyerName\":\"张三\"", "\"buyerName\":null"),
                   Violation{1, "Order[1]/OrderHead/buyerName", "required"});
  expect_only_json(replace_nth(json, "\"BaseTransfer\":{", "\"Extra\":[1,2],\"BaseTransfer\":{"),
                   Violation{0, "CEB311Message/Extra", "unknown element"});
  expect_only_json(replace_nth(json, "\"OrderHead\":{", "\"OrderHead\":{\"gnum\":1,"),
                   Violation{1, "Order[1]/OrderHead/gnum", "unknown element"});
  ReadResult r = read_message_json(replace_nth(json, "\"Order\":[", "\"Order\":\"x\",\"y\":["));
  EXPECT_THAT(r.violations,
              Contains(Violation{0, "CEB311Message/Order", "wrong type: string, expected array"}));
  EXPECT_THAT(read_message_json("[1,2]").violations,
              ElementsAre(Violation{0, "message",
                                    "malformed JSON: The JSON element does not have the requested "
                                    "type."}));
}

TEST(MessagesBadJson, DuplicatedAndMissing) {
  std::string json = order_json(1, 1);
  expect_only_json(replace_nth(json, "\"appType\":\"1\"", "\"appType\":\"1\",\"appType\":\"1\""),
                   Violation{1, "Order[1]/OrderHead/appType", "duplicated"});
  expect_only_json(replace_nth(json, "\"buyerIdNumber\":\"410101199001011234\",", ""),
                   Violation{1, "Order[1]/OrderHead/buyerIdNumber", "required"});
  expect_only_json(replace_nth(json, "\"guid\":\"" + guid(0) + "\",", ""),
                   Violation{0, "CEB311Message/@guid", "required"});
}

TEST(MessagesBadJson, DeepNestingAndMalformed) {
  std::string deep(10000, '[');
  deep += std::string(10000, ']');
  std::string json = replace_nth(order_json(), "\"BaseTransfer\":{",
                                 "\"ExtendMessage\":" + deep + ",\"BaseTransfer\":{");
  expect_only_json(json, Violation{0, "message", "nesting deeper than 32 levels"}, false);
  // Malformed anywhere, even in a part that is skipped, rejects the whole message.
  std::string skipped =
      replace_nth(order_json(), "\"BaseTransfer\":{", "\"ExtendMessage\":[1,},\"BaseTransfer\":{");
  ReadResult r = read_message_json(skipped);
  EXPECT_FALSE(r.message.has_value());
  EXPECT_THAT(r.violations, ElementsAre(Field(&Violation::problem,
                                              StartsWith("malformed JSON: unexpected character"))));
  for (std::string bad : {"{", "{\"CEB311Message\":{}", "{\"a\":01}", "{\"a\":1}x",
                          "{\"a\":\"\x01\"}", "{\"a\":tru}", "{\"a\":\"\\q\"}", "{\"a\":-}",
                          "{\"a\":1.}", "{\"a\" 1}", "{\"a\":1,}", "{\"a\":\"\\ud800\"}"}) {
    ReadResult b = read_message_json(bad);
    EXPECT_FALSE(b.message.has_value()) << bad;
    EXPECT_THAT(b.violations, SizeIs(1)) << bad;
  }
  // Every prefix of a valid message is handled.
  std::string full = order_json(2, 2);
  for (size_t n = 1; n < full.size(); n += 37)
    EXPECT_FALSE(read_message_json(full.substr(0, n)).ok());
}

TEST(MessagesBadJson, InvalidUtf8) {
  std::string json = replace_nth(order_json(), "张三", "\xC3\x28");
  ReadResult r = read_message_json(json);
  EXPECT_THAT(r.violations, ElementsAre(Violation{0, "message",
                                                  "invalid UTF-8 at offset " +
                                                      std::to_string(json.find("\xC3\x28"))}));
  // An escaped control character is decoded and then refused by the field check.
  expect_only_json(replace_nth(order_json(), "\"张三\"", "\"a\\u0001b\""),
                   Violation{1, "Order[1]/OrderHead/buyerName", "control character not allowed"});
}

TEST(MessagesBadJson, RootProblems) {
  EXPECT_THAT(read_message_json("{\"CEB312Message\":{}}").violations,
              ElementsAre(Violation{0, "CEB312Message", "not a request message"}));
  EXPECT_THAT(read_message_json("{\"Foo\":{}}").violations,
              ElementsAre(Violation{0, "Foo", "unknown message type"}));
  EXPECT_THAT(read_message_json("{\"CEB311Message\":[]}").violations,
              ElementsAre(Violation{0, "CEB311Message", "wrong type: array, expected object"}));
  ReadResult empty = read_message_json("{\"CEB311Message\":{}}");
  EXPECT_THAT(empty.violations,
              ElementsAre(Violation{0, "CEB311Message/@guid", "required"},
                          Violation{0, "CEB311Message/@version", "required"},
                          Violation{0, "CEB311Message/Order", "required"},
                          Violation{0, "CEB311Message/BaseTransfer", "required"}));
}

// ---- random damage
// ---------------------------------------------------------------------------------

// Byte flips, insertions and deletions in valid messages: every reader answers, none crashes.
TEST(MessagesBadInput, RandomMutationsNeverCrash) {
  std::mt19937 rng(20240601);
  const std::string inputs[] = {sample("CEB311Message.xml"), sample("CEB621Message.xml"),
                                order_json(3, 3),
                                write_message_json(message(MessageType::kCEB711, 1, 3))};
  const char kSpecial[] = {'<', '>', '/',  '"',  '{',    '}',    '[', ']', ':',
                           ',', '&', '\\', '\0', '\xFF', '\xE4', ' ', '='};
  for (const std::string& input : inputs) {
    for (int round = 0; round < 400; ++round) {
      std::string s = input;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        size_t pos = rng() % s.size();
        char c = kSpecial[rng() % sizeof kSpecial];
        switch (rng() % 3) {
          case 0:
            s[pos] = c;
            break;
          case 1:
            s.insert(pos, 1, c);
            break;
          case 2:
            s.erase(pos, 1 + rng() % 8);
            break;
        }
        if (s.empty()) s = "x";
      }
      ReadResult r = read_message_auto(s);
      // Either a message or at least one violation; never an "ok" without a message.
      EXPECT_TRUE(r.message.has_value() || !r.violations.empty());
      for (const Violation& v : r.violations) {
        EXPECT_GE(v.record, 0);
        EXPECT_FALSE(v.problem.empty());
      }
    }
  }
}

}  // namespace
}  // namespace cbec::ceb
