// How each business record nests inside its message. Internal to src/messages/.
//
// The readers, writers and the digest are written once as templates over the record type and
// take from RecordShape<R> what differs: the head and line types (void when absent), the line
// limit, the node name and the Message vector that holds the records.
#pragma once

#include <type_traits>
#include <vector>

#include "common/status.h"
#include "messages/ceb.h"

namespace cbec::ceb::internal {

template <class R>
struct RecordShape;

// Head + lines (Order, Inventory, InvtRefund, Delivery), head only (Payment, Logistics), or a flat
// record whose own children are the fields (LogisticsStatus, InvtCancel): then Head is void.
template <>
struct RecordShape<Order> {
  using Head = OrderHead;
  using Line = OrderList;
  static constexpr MessageType kType = MessageType::kCEB311;
  static constexpr int kMaxRecords = kMaxRecordsPerMessage;
  static constexpr int kMaxLines = kMaxLinesPerRecord;
  static constexpr std::vector<Order> Message::*kRecords = &Message::orders;
};
template <>
struct RecordShape<Payment> {
  using Head = PaymentHead;
  using Line = void;
  static constexpr MessageType kType = MessageType::kCEB411;
  static constexpr int kMaxRecords = kMaxRecordsPerMessage;
  static constexpr int kMaxLines = 0;
  static constexpr std::vector<Payment> Message::*kRecords = &Message::payments;
};
template <>
struct RecordShape<Logistics> {
  using Head = LogisticsHead;
  using Line = void;
  static constexpr MessageType kType = MessageType::kCEB511;
  static constexpr int kMaxRecords = kMaxRecordsPerMessage;
  static constexpr int kMaxLines = 0;
  static constexpr std::vector<Logistics> Message::*kRecords = &Message::waybills;
};
template <>
struct RecordShape<LogisticsStatus> {
  using Head = void;
  using Line = void;
  static constexpr MessageType kType = MessageType::kCEB513;
  static constexpr int kMaxRecords = kMaxRecordsPerMessage;
  static constexpr int kMaxLines = 0;
  static constexpr std::vector<LogisticsStatus> Message::*kRecords = &Message::waybill_statuses;
};
template <>
struct RecordShape<Inventory> {
  using Head = InventoryHead;
  using Line = InventoryList;
  static constexpr MessageType kType = MessageType::kCEB621;
  static constexpr int kMaxRecords = kMaxRecordsPerMessage;
  static constexpr int kMaxLines = kMaxLinesPerRecord;
  static constexpr std::vector<Inventory> Message::*kRecords = &Message::inventories;
};
template <>
struct RecordShape<InvtCancel> {
  using Head = void;
  using Line = void;
  static constexpr MessageType kType = MessageType::kCEB623;
  static constexpr int kMaxRecords = kMaxRecordsPerMessage;
  static constexpr int kMaxLines = 0;
  static constexpr std::vector<InvtCancel> Message::*kRecords = &Message::cancels;
};
template <>
struct RecordShape<InvtRefund> {
  using Head = InvtRefundHead;
  using Line = InvtRefundList;
  static constexpr MessageType kType = MessageType::kCEB625;
  static constexpr int kMaxRecords = kMaxRecordsPerMessage;
  static constexpr int kMaxLines = kMaxLinesPerRecord;
  static constexpr std::vector<InvtRefund> Message::*kRecords = &Message::refunds;
};
template <>
struct RecordShape<Delivery> {
  using Head = DeliveryHead;
  using Line = DeliveryList;
  static constexpr MessageType kType = MessageType::kCEB711;
  static constexpr int kMaxRecords = 1;  // XSD: exactly one Delivery per CEB711Message
  static constexpr int kMaxLines = kMaxDeliveryLines;
  static constexpr std::vector<Delivery> Message::*kRecords = &Message::deliveries;
};

template <class R>
inline constexpr bool kIsFlat = std::is_void_v<typename RecordShape<R>::Head>;
template <class R>
inline constexpr bool kHasLines = !std::is_void_v<typename RecordShape<R>::Line>;

static_assert(kMaxLinesPerRecord < kMaxDeliveryLines);
static_assert(kMaxRecordsPerMessage >= 1 && kMaxLinesPerRecord >= 1);

// The head fields of a record: its head struct, or the record itself when flat.
template <class R>
auto& head_of(R& r) {
  if constexpr (kIsFlat<R>) {
    return r;
  } else {
    return r.head;
  }
}
template <class R>
const auto& head_of(const R& r) {
  if constexpr (kIsFlat<R>) {
    return r;
  } else {
    return r.head;
  }
}

// Calls f(std::type_identity<R>{}) with the record type R of message type t.
template <class F>
decltype(auto) with_record_type(MessageType t, F&& f) {
  switch (t) {
    case MessageType::kCEB311:
      return f(std::type_identity<Order>{});
    case MessageType::kCEB411:
      return f(std::type_identity<Payment>{});
    case MessageType::kCEB511:
      return f(std::type_identity<Logistics>{});
    case MessageType::kCEB513:
      return f(std::type_identity<LogisticsStatus>{});
    case MessageType::kCEB621:
      return f(std::type_identity<Inventory>{});
    case MessageType::kCEB623:
      return f(std::type_identity<InvtCancel>{});
    case MessageType::kCEB625:
      return f(std::type_identity<InvtRefund>{});
    case MessageType::kCEB711:
      return f(std::type_identity<Delivery>{});
  }
  CBEC_ASSERT(false && "unknown MessageType");
  return f(std::type_identity<Order>{});
}

}  // namespace cbec::ceb::internal
