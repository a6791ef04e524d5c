// The O2O hall's LED board as a projection of the clearance core (DOMAIN.md §4.3).
//
// The writer thread feeds Board::Observe with every applied command's receipts (live and on
// replay), so the board is rebuilt from the log like everything else and its event numbers are
// the same after a restart: a browser resuming with Last-Event-ID gets exactly what it missed.
// An item carries only what the hall may show in public: the masked buyer name (张*三), the last
// digits of the order number, the stage and when each stage was reached. No ID number, phone or
// address ever enters it.
//
// Memory is bounded: the board keeps the most recent kBoardMaxOrders orders of the last
// kBoardMaxAgeMs (of log time) and the last kBoardMaxEvents events; older ones are dropped with
// a "remove" event. A reader further behind than the retained events gets a fresh snapshot.
//
// Thread-safety: Observe on the writer thread; every other method from any thread (own mutex).
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "clearance/clearance.h"
#include "common/bytes.h"

namespace cbec::service {

inline constexpr size_t kBoardMaxOrders = 400;
inline constexpr TimeMs kBoardMaxAgeMs = 12 * kMsPerHour;
inline constexpr size_t kBoardMaxEvents = 20000;
inline constexpr size_t kBoardShortOrderDigits = 6;
static_assert(kBoardMaxEvents >= 2 * kBoardMaxOrders, "a snapshot's worth of events is retained");

enum class BoardStage : uint8_t {
  kOrdered = 0,   // 已下单: the hall's waybill (or the order) is known
  kDeclared,      // 四单申报: the list arrived, documents still arriving
  kReview,        // 海关审核: all four matched; review, hold, manual review or inspection
  kReady,         // 已放行(请取货): released (800)
  kPickedUp,      // 已提货: closed at the counter (899)
  kRejected,      // 退单: rejected (100)
};
inline constexpr size_t kBoardStages = 6;
std::string_view board_stage_name(BoardStage s);  // "ordered", "declared", ...

struct BoardItem {
  std::string id;           // stable: "<logisticsCode>/<logisticsNo>" of the hall waybill
  std::string hall;         // hall enterprise code
  std::string order_short;  // last kBoardShortOrderDigits characters of orderNo
  std::string masked_name;  // mask_name(buyerName or consignee)
  BoardStage stage = BoardStage::kOrdered;
  std::array<TimeMs, kBoardStages> stage_ms{};  // when each stage was reached (0 = not)
  TimeMs updated_ms = 0;
};

struct BoardEvent {
  uint64_t id = 0;
  bool removed = false;  // the item left the board (bounded memory), else an upsert
  BoardItem item;        // for a removal only id and hall are set
};

struct BoardOptions {
  size_t max_orders = kBoardMaxOrders;
  TimeMs max_age_ms = kBoardMaxAgeMs;
  size_t max_events = kBoardMaxEvents;
};

// 张三丰 → 张*丰, 张三 → 张*, 欧阳娜娜 → 欧**娜, "John Smith" → "J*** S****" (first letter of
// each word), anything else: first character and stars. Works on UTF-8 code points.
std::string mask_name(std::string_view name);

class Board {
 public:
  explicit Board(BoardOptions options = {});

  // Writer: the receipts one command caused, at its log time. `engine` is the state after it.
  void Observe(const clearance::Engine& engine, TimeMs time,
               const ceb::Receipts& receipts);

  struct Snapshot {
    uint64_t version = 0;  // the id of the last event included
    std::vector<BoardItem> items;  // most recently updated first
  };
  Snapshot snapshot(std::string_view hall) const;  // hall "" = every hall
  // The events after `after` for that hall, at most `max`; nullopt if `after` is older than
  // what is retained (the reader must take a snapshot instead).
  std::optional<std::vector<BoardEvent>> events_after(uint64_t after, std::string_view hall,
                                                      size_t max) const;
  uint64_t version() const;
  // Blocks until version() > after or timeout; returns version().
  uint64_t WaitForVersionAfter(uint64_t after, int timeout_ms) const;

  // Snapshot (issue #3): the options, every item, the order index, the retained events and the
  // version, in a deterministic order (so equal boards give equal bytes). Takes the board's
  // mutex.
  void save_state(ByteWriter& w) const;
  // REQUIRES: a freshly constructed board with the same options (they are in the snapshot and
  // checked: a board rebuilt with other bounds would not be the one a full replay gives).
  // Reads what save_state wrote; false on malformed input (the board is then unspecified but
  // safe to destroy). Never asserts on input and allocates only for what the bytes hold.
  [[nodiscard]] bool load_state(ByteReader& in);

 private:
  BoardItem* item_for_waybill(const clearance::Engine& e, std::string_view logisticsCode,
                              std::string_view logisticsNo, TimeMs time);
  void advance(BoardItem* item, BoardStage stage, TimeMs time);
  void emit(const BoardItem& item, bool removed);
  void evict(TimeMs now);

  BoardOptions options_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, BoardItem> items_;            // by id
  std::set<std::pair<TimeMs, std::string>> by_time_;  // (updated_ms, id): eviction order
  std::multimap<std::string, std::string> by_order_;  // orderNo -> id
  std::deque<BoardEvent> events_;
  uint64_t version_ = 0;
  std::set<std::string> touched_;  // ids changed by the command being observed
};

std::string board_item_json(const BoardItem& item);

}  // namespace cbec::service
