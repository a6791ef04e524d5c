// The O2O pickup hall (DOMAIN.md §4.3): which lists are pickup lists, what a pickup code leads
// to, and why a pickup is refused.
//
// Everything here reads the engine through its public queries, so the rules of the counter are
// in one place and the engine only applies the outcome (Engine::apply, Pickup). Deterministic:
// the lookups iterate ordered maps and the times come from the list history (command log time).
#include <algorithm>
#include <cctype>

#include "clearance/clearance.h"
#include "clearance/id_number.h"
#include "fmt/format.h"

namespace cbec::clearance {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// "2026-05-10 10:03:00" (Beijing), for people.
std::string beijing_text(TimeMs t) {
  std::string s = format_datetime14(t);
  return fmt::format("{}-{}-{} {}:{}:{}", s.substr(0, 4), s.substr(4, 2), s.substr(6, 2),
                     s.substr(8, 2), s.substr(10, 2), s.substr(12, 2));
}

}  // namespace

std::string_view pickup_refusal_name(PickupRefusal r) {
  switch (r) {
    case PickupRefusal::kBadInput: return "bad_input";
    case PickupRefusal::kUnknownCode: return "unknown_code";
    case PickupRefusal::kNotPickupOrder: return "not_pickup_order";
    case PickupRefusal::kOtherHall: return "other_hall";
    case PickupRefusal::kNotReleased: return "not_released";
    case PickupRefusal::kAlreadyPickedUp: return "already_picked_up";
    case PickupRefusal::kWrongId: return "wrong_id";
  }
  return "?";
}

Status pickup_refusal(PickupRefusal r, std::string_view zh, std::string_view en) {
  // The status code tells an API client what to do: fix the input, or accept that the list is
  // not (or no longer) in a state to hand over.
  StatusCode code = StatusCode::kFailedPrecondition;
  switch (r) {
    case PickupRefusal::kBadInput: code = StatusCode::kInvalidArgument; break;
    case PickupRefusal::kUnknownCode: code = StatusCode::kNotFound; break;
    case PickupRefusal::kNotPickupOrder:
    case PickupRefusal::kOtherHall:
    case PickupRefusal::kWrongId: code = StatusCode::kPermissionDenied; break;
    case PickupRefusal::kNotReleased:
    case PickupRefusal::kAlreadyPickedUp: code = StatusCode::kFailedPrecondition; break;
  }
  return Status(code, fmt::format("[{}] {} / {}", pickup_refusal_name(r), zh, en));
}

std::optional<PickupRefusalText> parse_pickup_refusal(std::string_view m) {
  if (m.empty() || m.front() != '[') return std::nullopt;
  size_t close = m.find("] ");
  size_t slash = m.find(" / ");
  if (close == std::string_view::npos || slash == std::string_view::npos || slash < close)
    return std::nullopt;
  return PickupRefusalText{std::string(m.substr(1, close - 1)),
                           std::string(m.substr(close + 2, slash - close - 2)),
                           std::string(m.substr(slash + 3))};
}

std::string o2o_hall_of(const Engine& e, const ceb::Inventory& list) {
  const Enterprise* carrier = e.enterprise(list.head.logisticsCode);
  if (carrier == nullptr || (carrier->roles & kRoleHall) == 0) return {};
  return carrier->code;
}

std::optional<PickupTarget> find_pickup(const Engine& e, std::string_view code) {
  // Two payment companies may use the same reference; a hall means the one whose list is a
  // pickup list (the first such company in code order: ordered map, deterministic).
  std::optional<PickupTarget> first;
  for (const auto& [pay_code, ent] : e.enterprises()) {
    if ((ent.roles & kRolePay) == 0) continue;
    auto p = e.payment(pay_code, code);
    if (p == nullptr) continue;
    PickupTarget t;
    t.payment = p;
    t.order = e.order(p->head.ebpCode, p->head.orderNo);
    t.list = e.list_by_order(p->head.ebpCode, p->head.orderNo);
    if (t.list != nullptr) t.hall = o2o_hall_of(e, t.list->doc);
    if (!t.hall.empty()) return t;
    if (!first) first = t;
  }
  return first;
}

TimeMs closed_at(const ListRecord& L) {
  if (L.state != ListState::kClosed) return 0;
  for (auto it = L.history.rbegin(); it != L.history.rend(); ++it)
    if (it->returnStatus == ceb::status::kClosed) return it->time;
  return 0;
}

Result<PickupTarget> check_pickup(const Engine& e, const Pickup& p) {
  std::string code = trim(p.pickup_code);
  std::string suffix = normalize_id_number(trim(p.id_suffix));
  if (code.empty() || code.size() > kMaxPickupCodeBytes) {
    return pickup_refusal(PickupRefusal::kBadInput, "请输入提货码(支付凭证号)",
                          "enter the pickup code (the payment voucher reference)");
  }
  bool suffix_ok = suffix.size() >= kPickupIdSuffixMin && suffix.size() <= kPickupIdSuffixMax &&
                   std::all_of(suffix.begin(), suffix.end(), [](char c) {
                     return std::isdigit(static_cast<unsigned char>(c)) || c == 'X';
                   });
  if (!suffix_ok) {
    return pickup_refusal(
        PickupRefusal::kBadInput,
        fmt::format("请输入身份证号码后{}至{}位", kPickupIdSuffixMin, kPickupIdSuffixMax),
        fmt::format("enter the last {} to {} characters of the buyer's ID number",
                    kPickupIdSuffixMin, kPickupIdSuffixMax));
  }
  auto found = find_pickup(e, code);
  if (!found) {
    return pickup_refusal(PickupRefusal::kUnknownCode, fmt::format("提货码{}不存在", code),
                          fmt::format("unknown pickup code {}", code));
  }
  PickupTarget t = *found;
  if (t.list == nullptr) {
    return pickup_refusal(
        PickupRefusal::kNotReleased,
        fmt::format("订单{}尚未申报清单，未放行", t.payment->head.orderNo),
        fmt::format("not yet released: no inventory list declared for order {}",
                    t.payment->head.orderNo));
  }
  const ListRecord& L = *t.list;
  if (t.hall.empty()) {
    return pickup_refusal(PickupRefusal::kNotPickupOrder,
                          fmt::format("订单{}为快递配送订单，不在体验中心自提", L.doc.head.orderNo),
                          fmt::format("order {} is delivered by courier, not picked up at a hall",
                                      L.doc.head.orderNo));
  }
  if (t.hall != p.hallCode) {
    return pickup_refusal(PickupRefusal::kOtherHall,
                          fmt::format("订单{}属于其他提货点({})", L.doc.head.orderNo, t.hall),
                          fmt::format("order {} is for pickup at another hall ({})",
                                      L.doc.head.orderNo, t.hall));
  }
  if (L.state == ListState::kClosed) {
    std::string when = beijing_text(closed_at(L));
    return pickup_refusal(PickupRefusal::kAlreadyPickedUp,
                          fmt::format("清单{}已于{}提货结关，不能重复提货", L.invtNo, when),
                          fmt::format("already picked up: list {} was closed at {}", L.invtNo,
                                      when));
  }
  if (L.state != ListState::kReleased) {
    std::string zh = fmt::format("清单{}尚未放行(当前状态：{})", L.invtNo, list_state_zh(L.state));
    std::string en = fmt::format("not yet released: list {} is {}", L.invtNo,
                                 list_state_en(L.state));
    if (!L.hold_reason.empty()) {
      zh += "；" + L.hold_reason;
      en += "; " + L.hold_reason;
    }
    return pickup_refusal(PickupRefusal::kNotReleased, zh, en);
  }
  std::string id = normalize_id_number(L.doc.head.buyerIdNumber);
  if (id.size() < suffix.size() || id.compare(id.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return pickup_refusal(PickupRefusal::kWrongId,
                          fmt::format("身份证号码后{}位与订购人不符", suffix.size()),
                          fmt::format("the last {} ID characters do not match the buyer's",
                                      suffix.size()));
  }
  return t;
}

std::string_view list_state_zh(ListState s) {
  switch (s) {
    case ListState::kDraft: return "暂存";
    case ListState::kWaiting: return "单证未齐";
    case ListState::kHeld: return "暂挂";
    case ListState::kRejected: return "已退单";
    case ListState::kManualReview: return "人工审核中";
    case ListState::kInspection: return "查验中";
    case ListState::kDetained: return "扣留";
    case ListState::kReleased: return "已放行";
    case ListState::kClosed: return "已结关";
    case ListState::kCancelled: return "已撤销";
  }
  return "?";
}

std::string_view list_state_en(ListState s) {
  switch (s) {
    case ListState::kDraft: return "a draft";
    case ListState::kWaiting: return "waiting for documents";
    case ListState::kHeld: return "held";
    case ListState::kRejected: return "rejected";
    case ListState::kManualReview: return "under manual review";
    case ListState::kInspection: return "under inspection";
    case ListState::kDetained: return "detained";
    case ListState::kReleased: return "released";
    case ListState::kClosed: return "closed";
    case ListState::kCancelled: return "cancelled";
  }
  return "?";
}

}  // namespace cbec::clearance
