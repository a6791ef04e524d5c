// CEB messages (海关跨境电商统一版 202205) as cbec reads and writes them.
//
// Public face of src/messages/: the record types (generated from the XSD, see
// ceb_types.gen.h), the message container, and the readers/writers. Readers are
// namespace-aware (http://www.chinaport.gov.cn/ceb, any prefix or none), accept a UTF-8 BOM,
// and report every XSD facet violation with its record index and field path.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "messages/ceb_types.gen.h"

namespace cbec::ceb {

inline constexpr std::string_view kCebNamespace = "http://www.chinaport.gov.cn/ceb";

// Limits on untrusted input (TigerBeetle style: a limit on everything).
inline constexpr int kMaxRecordsPerMessage = 100;  // XSD maxOccurs of every business node
inline constexpr int kMaxLinesPerRecord = 99;      // OrderList / InventoryList / InvtRefundList
inline constexpr int kMaxDeliveryLines = 10000;    // DeliveryList is unbounded in the XSD
inline constexpr size_t kMaxMessageBytes = 8 * 1024 * 1024;
inline constexpr int kMaxXmlDepth = 32;
inline constexpr int kMaxJsonDepth = kMaxXmlDepth;  // objects and arrays, root object = 1
// Base64-wrapped XML (read_message_auto): 4/3 of the decoded limit plus line breaks (MIME
// encoders break every 76 characters); the decoded XML is then held to kMaxMessageBytes.
inline constexpr size_t kMaxBase64MessageBytes = kMaxMessageBytes / 2 * 3;
static_assert(kMaxBase64MessageBytes >= kMaxMessageBytes / 3 * 4 * 78 / 76 + 4);
inline constexpr size_t kMaxViolationsReported = 200;

// Business records: a head plus its lines, as nested in the message.
struct Order {
  OrderHead head;
  std::vector<OrderList> lists;
  bool operator==(const Order&) const = default;
};
struct Payment {
  PaymentHead head;
  bool operator==(const Payment&) const = default;
};
struct Logistics {  // waybill 运单
  LogisticsHead head;
  bool operator==(const Logistics&) const = default;
};
struct Inventory {  // inventory list 清单
  InventoryHead head;
  std::vector<InventoryList> lists;
  bool operator==(const Inventory&) const = default;
};
struct InvtRefund {
  InvtRefundHead head;
  std::vector<InvtRefundList> lists;
  bool operator==(const InvtRefund&) const = default;
};
struct Delivery {
  DeliveryHead head;
  std::vector<DeliveryList> lists;
  bool operator==(const Delivery&) const = default;
};
// LogisticsStatus (CEB513) and InvtCancel (CEB623) are flat records, used as they are.

enum class MessageType : uint8_t {
  kCEB311,  // order
  kCEB411,  // payment
  kCEB511,  // waybill
  kCEB513,  // waybill signed-for status
  kCEB621,  // inventory list
  kCEB623,  // cancel
  kCEB625,  // return (refund)
  kCEB711,  // warehouse entry (delivery)
};
inline constexpr int kMessageTypeCount = 8;

// "CEB311Message" etc.; the receipt message name ("CEB312Message") and its record element
// ("OrderReturn"); the business node name ("Order").
std::string_view message_root_name(MessageType t);
std::string_view receipt_root_name(MessageType t);
std::string_view receipt_record_name(MessageType t);
std::string_view record_node_name(MessageType t);
std::optional<MessageType> message_type_from_root(std::string_view root_name);
// True for the root names of messages customs sends (CEB312Message … CEB712Message, CEB816,
// CEB818, CEB900Message): not requests, so the readers reject them with a clear violation.
bool is_receipt_root(std::string_view root_name);

struct Message {
  MessageType type = MessageType::kCEB311;
  std::string guid;     // root attribute, 36 chars
  std::string version;  // root attribute
  BaseTransfer transfer;
  bool has_signature = false;  // ds:Signature present (not verified here)
  // Exactly the vector matching `type` is filled, with 1..100 records.
  std::vector<Order> orders;
  std::vector<Payment> payments;
  std::vector<Logistics> waybills;
  std::vector<LogisticsStatus> waybill_statuses;
  std::vector<Inventory> inventories;
  std::vector<InvtCancel> cancels;
  std::vector<InvtRefund> refunds;
  std::vector<Delivery> deliveries;

  size_t record_count() const;
  bool operator==(const Message&) const = default;
};

// One facet violation. record is 1-based (0 = the message as a whole); path names the field
// as in the XML, e.g. "Order[3]/OrderHead/buyerIdNumber"; problem is short English
// ("required", "length 37, maximum 36", "not one of 1, 2, 3", "more than 5 fraction digits").
struct Violation {
  int record = 0;
  std::string path;
  std::string problem;
  std::string ToString() const { return path + ": " + problem; }
  bool operator==(const Violation&) const = default;
};

struct ReadResult {
  std::optional<Message> message;    // set when the structure could be read at all
  std::vector<Violation> violations;  // empty means valid
  bool ok() const { return message.has_value() && violations.empty(); }
};

// Reads a CEB request message from XML bytes (UTF-8, optional BOM). Never throws; every
// problem, including malformed XML, invalid UTF-8, wrong namespace, too many records, excessive
// depth or size, becomes a Violation. Problems found before the root element could be read
// (size, encoding, malformed XML, depth) have record 0 and path "message" and leave `message`
// unset. A ds:Signature is accepted and sets has_signature; it is neither verified nor required
// (sender identity comes from API keys), also where the XSD requires it.
ReadResult read_message_xml(std::string_view bytes);
// Same for the JSON form: {"CEB311Message": {"guid": ..., "version": ..., "Order": [
//   {"OrderHead": {...}, "OrderList": [{...}]}], "BaseTransfer": {...}}}. Decimals may be JSON
// numbers or strings; they are read from their exact text, never through a double.
ReadResult read_message_json(std::string_view bytes);
// Detects XML (optionally Base64-wrapped, as regional gateways send it) or JSON and reads it.
ReadResult read_message_auto(std::string_view bytes);

// Writes a request message as XML (prefix "ceb:"), as an enterprise would send it. Used by the
// generator and tests; the output validates against the XSD when the records are valid.
std::string write_message_xml(const Message& m);
std::string write_message_json(const Message& m);

// Canonical content digest of one record (all fields, in order), for idempotency: the same
// record resent byte-for-byte or reformatted gives the same digest.
uint64_t record_digest(const Order& r);
uint64_t record_digest(const Payment& r);
uint64_t record_digest(const Logistics& r);
uint64_t record_digest(const LogisticsStatus& r);
uint64_t record_digest(const Inventory& r);
uint64_t record_digest(const InvtCancel& r);
uint64_t record_digest(const InvtRefund& r);
uint64_t record_digest(const Delivery& r);

}  // namespace cbec::ceb
