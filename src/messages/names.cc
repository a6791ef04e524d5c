// Element names of the messages, and Message::record_count.
#include <array>

#include "messages/ceb.h"
#include "messages/shape.h"

namespace cbec::ceb {
namespace {

struct Names {
  std::string_view request_root;
  std::string_view receipt_root;
  std::string_view receipt_record;
  std::string_view record_node;
};

// Indexed by MessageType; XSD names (ceb-import-202205.xsd).
constexpr std::array<Names, kMessageTypeCount> kNames = {{
    {"CEB311Message", "CEB312Message", "OrderReturn", "Order"},
    {"CEB411Message", "CEB412Message", "PaymentReturn", "Payment"},
    {"CEB511Message", "CEB512Message", "LogisticsReturn", "Logistics"},
    {"CEB513Message", "CEB514Message", "LogisticsStatusReturn", "LogisticsStatus"},
    {"CEB621Message", "CEB622Message", "InventoryReturn", "Inventory"},
    {"CEB623Message", "CEB624Message", "InvtCancelReturn", "InvtCancel"},
    {"CEB625Message", "CEB626Message", "InvtRefundReturn", "InvtRefund"},
    {"CEB711Message", "CEB712Message", "DeliveryReturn", "Delivery"},
}};

const Names& names_of(MessageType t) {
  auto i = static_cast<size_t>(t);
  CBEC_ASSERT(i < kNames.size());
  return kNames[i];
}

}  // namespace

std::string_view message_root_name(MessageType t) { return names_of(t).request_root; }
std::string_view receipt_root_name(MessageType t) { return names_of(t).receipt_root; }
std::string_view receipt_record_name(MessageType t) { return names_of(t).receipt_record; }
std::string_view record_node_name(MessageType t) { return names_of(t).record_node; }

std::optional<MessageType> message_type_from_root(std::string_view root_name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i].request_root == root_name) return static_cast<MessageType>(i);
  }
  return std::nullopt;
}

bool is_receipt_root(std::string_view root_name) {
  for (const Names& n : kNames) {
    if (n.receipt_root == root_name) return true;
  }
  return root_name == "CEB900Message" || root_name == "CEB816Message" ||
         root_name == "CEB818Message";
}

size_t Message::record_count() const {
  return internal::with_record_type(type, [this](auto tag) -> size_t {
    using R = typename decltype(tag)::type;
    return (this->*internal::RecordShape<R>::kRecords).size();
  });
}

}  // namespace cbec::ceb
