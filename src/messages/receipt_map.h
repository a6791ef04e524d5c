// Receipts and format errors mapped onto the generated *Return records. Internal.
//
// Both receipt writers (XML and JSON) build the official record struct (OrderReturn, …,
// MessageReturn) from the neutral Receipt / FormatError here, then walk its kFields table, so
// element names, order and optionality come from the XSD in one place.
#pragma once

#include <span>
#include <string>
#include <type_traits>

#include "common/status.h"
#include "messages/receipt.h"

namespace cbec::ceb::internal {

inline constexpr size_t kMaxCeb900ReturnInfoChars = 5000;  // XSD maxLength of returnInfo
inline constexpr size_t kMaxOriCopMsgIdChars = 255;
inline constexpr size_t kMaxOriMessageTypeChars = 15;
inline constexpr size_t kMaxReceiptsPerMessage = 100;  // XSD maxOccurs of every *Return

// The value of the Receipt field that the XSD names `name` in a *Return record, as text.
std::string receipt_field(const Receipt& r, std::string_view name);

// The record struct of the receipt type answering r.answers, filled from r.
template <class F>
decltype(auto) with_return_record(const Receipt& r, F&& f) {
  auto build = [&](auto tag) -> decltype(auto) {
    using Ret = typename decltype(tag)::type;
    Ret ret;
    for (const FieldSpec<Ret>& spec : kFields<Ret>) {
      CBEC_ASSERT(spec.kind == FieldKind::kString);  // every *Return field is an xs:string
      ret.*spec.str = receipt_field(r, spec.name);
    }
    return f(static_cast<const Ret&>(ret));
  };
  switch (r.answers) {
    case MessageType::kCEB311:
      return build(std::type_identity<OrderReturn>{});
    case MessageType::kCEB411:
      return build(std::type_identity<PaymentReturn>{});
    case MessageType::kCEB511:
      return build(std::type_identity<LogisticsReturn>{});
    case MessageType::kCEB513:
      return build(std::type_identity<LogisticsStatusReturn>{});
    case MessageType::kCEB621:
      return build(std::type_identity<InventoryReturn>{});
    case MessageType::kCEB623:
      return build(std::type_identity<InvtCancelReturn>{});
    case MessageType::kCEB625:
      return build(std::type_identity<InvtRefundReturn>{});
    case MessageType::kCEB711:
      return build(std::type_identity<DeliveryReturn>{});
  }
  CBEC_ASSERT(false && "unknown MessageType");
  return build(std::type_identity<OrderReturn>{});
}

// REQUIRES (asserted): 1..100 receipts, all answering the same request type.
void check_receipt_batch(std::span<const Receipt* const> receipts);
std::vector<const Receipt*> receipt_pointers(std::span<const Receipt> receipts);

// The MessageReturn record of a CEB900 with every facet of the XSD met: a 36-character guid,
// returnInfo ≤ 5000 characters, texts sanitised to valid XML characters.
MessageReturn make_message_return(const FormatError& e);

}  // namespace cbec::ceb::internal
