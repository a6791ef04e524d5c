#include "service/board.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "fmt/format.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace cbec::service {

namespace {

// Splits UTF-8 into code points (a malformed byte counts as one code point: names come from
// validated messages, and masking must never fail).
std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
    n = std::min(n, s.size() - i);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

bool is_latin(std::string_view s) {
  bool letter = false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
    if (std::isalpha(static_cast<unsigned char>(c))) letter = true;
  }
  return letter;
}

std::string tail(std::string_view s, size_t n) {
  return std::string(s.size() <= n ? s : s.substr(s.size() - n));
}

}  // namespace

std::string_view board_stage_name(BoardStage s) {
  switch (s) {
    case BoardStage::kOrdered: return "ordered";
    case BoardStage::kDeclared: return "declared";
    case BoardStage::kReview: return "review";
    case BoardStage::kReady: return "ready";
    case BoardStage::kPickedUp: return "picked_up";
    case BoardStage::kRejected: return "rejected";
  }
  return "?";
}

std::string mask_name(std::string_view raw) {
  std::string_view name = raw;
  while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  if (name.empty()) return "*";
  if (is_latin(name)) {
    // Each word: its first letter, then one star per further letter ("John Smith" → "J*** S****").
    std::string out;
    size_t i = 0;
    while (i < name.size()) {
      while (i < name.size() && name[i] == ' ') ++i;
      size_t j = name.find(' ', i);
      if (j == std::string_view::npos) j = name.size();
      if (j > i) {
        if (!out.empty()) out += ' ';
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(name[i])));
        out.append(j - i - 1, '*');
      }
      i = j;
    }
    return out;
  }
  std::vector<std::string_view> cps = code_points(name);
  std::string out(cps.front());
  if (cps.size() <= 2) return out + "*";
  for (size_t i = 1; i + 1 < cps.size(); ++i) out += '*';
  out += cps.back();
  return out;
}

Board::Board(BoardOptions options) : options_(options) {}

BoardItem* Board::item_for_waybill(const clearance::Engine& e, std::string_view logisticsCode,
                                   std::string_view logisticsNo, TimeMs time) {
  std::string id = fmt::format("{}/{}", logisticsCode, logisticsNo);
  auto it = items_.find(id);
  if (it != items_.end()) return &it->second;
  BoardItem item;
  item.id = id;
  item.hall = std::string(logisticsCode);
  item.stage = BoardStage::kOrdered;
  item.stage_ms[static_cast<size_t>(BoardStage::kOrdered)] = time;
  item.updated_ms = time;
  if (auto w = e.waybill(logisticsCode, logisticsNo)) {
    item.order_short = tail(w->head.orderNo, kBoardShortOrderDigits);
    item.masked_name = mask_name(w->head.consignee);
    by_order_.emplace(w->head.orderNo, id);
  }
  by_time_.insert({time, id});
  return &items_.emplace(id, std::move(item)).first->second;
}

void Board::advance(BoardItem* item, BoardStage stage, TimeMs time) {
  auto idx = static_cast<size_t>(stage);
  if (item->stage == stage && item->stage_ms[idx] != 0) return;
  item->stage = stage;
  if (stage == BoardStage::kRejected) {
    if (item->stage_ms[idx] == 0) item->stage_ms[idx] = time;
  } else {
    // Stages passed within one command (green lane: declared → review → ready at once) get the
    // same time; stages after this one are cleared (a modified list goes back to waiting).
    for (size_t i = 0; i <= idx; ++i)
      if (item->stage_ms[i] == 0) item->stage_ms[i] = time;
    for (size_t i = idx + 1; i < kBoardStages; ++i) item->stage_ms[i] = 0;
  }
  touched_.insert(item->id);
}

void Board::Observe(const clearance::Engine& e, TimeMs time,
                    const ceb::Receipts& receipts) {
  using ceb::MessageType;
  namespace st = ceb::status;
  std::unique_lock lk(mu_);
  touched_.clear();
  for (const ceb::Receipt& r : receipts) {
    if (r.answers == MessageType::kCEB511 && r.returnStatus == st::kAccepted) {
      const clearance::Enterprise* carrier = e.enterprise(r.logisticsCode);
      if (carrier == nullptr || (carrier->roles & clearance::kRoleHall) == 0) continue;
      auto w = e.waybill(r.logisticsCode, r.logisticsNo);
      if (w == nullptr) continue;
      BoardItem* item = item_for_waybill(e, r.logisticsCode, r.logisticsNo, time);
      if (item->order_short.empty()) {
        item->order_short = tail(w->head.orderNo, kBoardShortOrderDigits);
        by_order_.emplace(w->head.orderNo, item->id);
      }
      if (item->stage == BoardStage::kOrdered || item->masked_name.empty())
        item->masked_name = mask_name(w->head.consignee);
      touched_.insert(item->id);
    } else if (r.answers == MessageType::kCEB311 && r.returnStatus == st::kAccepted) {
      // The order names the buyer; it belongs to a hall only through the hall's waybill.
      auto [b, end] = by_order_.equal_range(r.orderNo);
      for (auto it = b; it != end; ++it) {
        auto o = e.order(r.ebpCode, r.orderNo);
        auto item = items_.find(it->second);
        if (o == nullptr || item == items_.end()) continue;
        item->second.masked_name = mask_name(o->head.buyerName);
        touched_.insert(item->first);
      }
    } else if (r.answers == MessageType::kCEB621 && !r.invtNo.empty()) {
      auto L = e.list_by_invt_no(r.invtNo);
      if (L == nullptr) continue;
      if (clearance::o2o_hall_of(e, L->doc).empty()) continue;
      const auto& h = L->doc.head;
      BoardItem* item = item_for_waybill(e, h.logisticsCode, h.logisticsNo, time);
      if (item->order_short.empty()) {
        item->order_short = tail(h.orderNo, kBoardShortOrderDigits);
        by_order_.emplace(h.orderNo, item->id);
      }
      item->masked_name = mask_name(h.buyerName);
      using LS = clearance::ListState;
      switch (L->state) {
        case LS::kDraft: break;
        case LS::kWaiting: advance(item, BoardStage::kDeclared, time); break;
        case LS::kHeld:
        case LS::kManualReview:
        case LS::kInspection:
        case LS::kDetained: advance(item, BoardStage::kReview, time); break;
        case LS::kReleased: advance(item, BoardStage::kReady, time); break;
        case LS::kClosed: advance(item, BoardStage::kPickedUp, time); break;
        case LS::kRejected: advance(item, BoardStage::kRejected, time); break;
        // A cancelled order (CEB623) will not be collected: it leaves the hall's flow like a
        // rejected one (the board's 未通过 column).
        case LS::kCancelled: advance(item, BoardStage::kRejected, time); break;
      }
      touched_.insert(item->id);
    }
  }
  uint64_t before = version_;
  for (const std::string& id : touched_) {
    BoardItem& item = items_.at(id);
    by_time_.erase({item.updated_ms, id});
    item.updated_ms = time;
    by_time_.insert({time, id});
    emit(item, false);
  }
  evict(time);
  bool changed = version_ != before;
  lk.unlock();
  if (changed) cv_.notify_all();
}

void Board::emit(const BoardItem& item, bool removed) {
  BoardEvent ev;
  ev.id = ++version_;
  ev.removed = removed;
  if (removed) {
    ev.item.id = item.id;
    ev.item.hall = item.hall;
  } else {
    ev.item = item;
  }
  events_.push_back(std::move(ev));
  while (events_.size() > options_.max_events) events_.pop_front();
}

void Board::evict(TimeMs now) {
  while (!by_time_.empty() && (items_.size() > options_.max_orders ||
                               by_time_.begin()->first < now - options_.max_age_ms)) {
    std::string id = by_time_.begin()->second;
    by_time_.erase(by_time_.begin());
    auto it = items_.find(id);
    if (it == items_.end()) continue;
    for (auto o = by_order_.begin(); o != by_order_.end();)
      o = o->second == id ? by_order_.erase(o) : std::next(o);
    emit(it->second, true);
    items_.erase(it);
  }
}

Board::Snapshot Board::snapshot(std::string_view hall) const {
  std::lock_guard lk(mu_);
  Snapshot s;
  s.version = version_;
  for (auto it = by_time_.rbegin(); it != by_time_.rend(); ++it) {
    const BoardItem& item = items_.at(it->second);
    if (hall.empty() || item.hall == hall) s.items.push_back(item);
  }
  return s;
}

std::optional<std::vector<BoardEvent>> Board::events_after(uint64_t after, std::string_view hall,
                                                           size_t max) const {
  std::lock_guard lk(mu_);
  if (after > version_) return std::nullopt;  // a cursor from another data directory
  std::vector<BoardEvent> out;
  if (after == version_) return out;
  if (events_.empty() || after + 1 < events_.front().id) return std::nullopt;
  for (size_t i = after + 1 - events_.front().id; i < events_.size() && out.size() < max; ++i) {
    const BoardEvent& ev = events_[i];
    if (hall.empty() || ev.item.hall == hall) out.push_back(ev);
  }
  return out;
}

uint64_t Board::version() const {
  std::lock_guard lk(mu_);
  return version_;
}

uint64_t Board::WaitForVersionAfter(uint64_t after, int timeout_ms) const {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return version_ > after; });
  return version_;
}

// ---- Snapshot codec (issue #3) --------------------------------------------------------------
//
// Format 1: u8 1; the options (u64 max_orders, i64 max_age_ms, u64 max_events); u64 version_;
// the items in id order; by_order_ in its iteration order (orderNo, id); the retained events,
// oldest first, without their ids (they are consecutive and end at version_, which is what
// events_after relies on, so the format cannot express anything else). A removal event holds
// only the item's id and hall, as emit() builds it.
//
// by_time_ is not stored: it is exactly {(item.updated_ms, item.id)} for every item (an item
// enters it when created and moves in it when its updated_ms changes; both leave together in
// evict), so load rebuilds it from items_. by_order_ is stored: it keys the full orderNo, which
// an item keeps only the tail of. touched_ is Observe's scratch.

namespace {

constexpr uint8_t kBoardFormat = 1;

void save_item(ByteWriter& w, const BoardItem& item) {
  w.str(item.id);
  w.str(item.hall);
  w.str(item.order_short);
  w.str(item.masked_name);
  w.u8(static_cast<uint8_t>(item.stage));
  for (TimeMs t : item.stage_ms) w.i64(t);
  w.i64(item.updated_ms);
}

bool load_item(ByteReader& in, BoardItem* item) {
  in.str(&item->id);
  in.str(&item->hall);
  in.str(&item->order_short);
  in.str(&item->masked_name);
  uint8_t stage = in.u8();
  if (stage >= kBoardStages) return false;
  item->stage = static_cast<BoardStage>(stage);
  for (TimeMs& t : item->stage_ms) t = in.i64();
  item->updated_ms = in.i64();
  return in.ok();
}

}  // namespace

void Board::save_state(ByteWriter& w) const {
  std::lock_guard lk(mu_);
  w.u8(kBoardFormat);
  w.u64(options_.max_orders);
  w.i64(options_.max_age_ms);
  w.u64(options_.max_events);
  w.u64(version_);
  w.u64(items_.size());
  for (const auto& [id, item] : items_) save_item(w, item);
  w.u64(by_order_.size());
  for (const auto& [order_no, id] : by_order_) {
    w.str(order_no);
    w.str(id);
  }
  w.u64(events_.size());
  for (const BoardEvent& ev : events_) {
    w.boolean(ev.removed);
    if (ev.removed) {
      w.str(ev.item.id);
      w.str(ev.item.hall);
    } else {
      save_item(w, ev.item);
    }
  }
}

bool Board::load_state(ByteReader& in) {
  std::unique_lock lk(mu_);
  items_.clear();
  by_time_.clear();
  by_order_.clear();
  events_.clear();
  touched_.clear();
  version_ = 0;
  if (in.u8() != kBoardFormat || !in.ok()) return false;
  uint64_t max_orders = in.u64();
  TimeMs max_age_ms = in.i64();
  uint64_t max_events = in.u64();
  if (!in.ok() || max_orders != options_.max_orders || max_age_ms != options_.max_age_ms ||
      max_events != options_.max_events)
    return false;
  uint64_t version = in.u64();
  uint64_t n_items = in.count();
  if (!in.ok() || n_items > options_.max_orders) return false;
  for (uint64_t i = 0; i < n_items; ++i) {
    BoardItem item;
    if (!load_item(in, &item)) return false;
    std::string id = item.id;
    TimeMs updated_ms = item.updated_ms;
    if (!items_.emplace(id, std::move(item)).second) return false;  // an id twice
    by_time_.emplace(updated_ms, std::move(id));
  }
  uint64_t n_orders = in.count();
  if (!in.ok()) return false;
  for (uint64_t i = 0; i < n_orders; ++i) {
    std::string order_no = in.str();
    std::string id = in.str();
    if (!in.ok() || items_.count(id) == 0) return false;  // evict() never leaves one behind
    by_order_.emplace(std::move(order_no), std::move(id));
  }
  uint64_t n_events = in.count();
  if (!in.ok() || n_events > version || n_events > options_.max_events) return false;
  for (uint64_t i = 0; i < n_events; ++i) {
    BoardEvent ev;
    ev.id = version - n_events + 1 + i;
    uint8_t removed = in.u8();
    if (removed > 1) return false;
    ev.removed = removed != 0;
    if (ev.removed) {
      in.str(&ev.item.id);
      in.str(&ev.item.hall);
    } else if (!load_item(in, &ev.item)) {
      return false;
    }
    if (!in.ok()) return false;
    events_.push_back(std::move(ev));
  }
  version_ = version;
  lk.unlock();
  cv_.notify_all();
  return true;
}

std::string board_item_json(const BoardItem& item) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  auto s = [&](const char* k, std::string_view v) {
    w.Key(k);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  s("id", item.id);
  s("hall", item.hall);
  s("order", item.order_short);
  s("name", item.masked_name);
  s("stage", board_stage_name(item.stage));
  w.Key("times");
  w.StartObject();
  for (size_t i = 0; i < kBoardStages; ++i) {
    if (item.stage_ms[i] == 0) continue;
    std::string_view n = board_stage_name(static_cast<BoardStage>(i));
    w.Key(n.data(), static_cast<rapidjson::SizeType>(n.size()));
    w.Int64(item.stage_ms[i]);
  }
  w.EndObject();
  w.Key("updated");
  w.Int64(item.updated_ms);
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}

}  // namespace cbec::service
