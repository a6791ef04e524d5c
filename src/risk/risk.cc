// Risk monitor (risk.h): bounded sliding windows keyed by hashed identities.
//
// Layout: one LruTable per key kind (buyer, address, phone, (address, item), (gcode, unit),
// payment company, platform). A table is a slot array with an intrusive recency list and an
// open-addressing index; slots are reserved up front (the memory is committed as slots are first
// used) and reused after eviction, so a full table never allocates again. Every per-key window
// is a fixed-size array inside the slot.
#include "risk/risk.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>

#include "common/bytes.h"
#include "common/status.h"

namespace cbec::risk {

namespace {

// ---------------------------------------------------------------------------------------------
// Hashing. Keys are deterministic across runs and machines (no std::hash, no random seed), so a
// replay builds the same tables.

constexpr uint64_t mix64(uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// Domain separation: the same text as a phone and as an address must not be one key.
enum Seed : uint64_t {
  kSeedBuyer = 1,
  kSeedAddress,
  kSeedPhone,
  kSeedItem,
  kSeedUnit,
  kSeedCode,
  kSeedList,
  kSeedParty
};

// ' ', '\t', '\n', '\v', '\f', '\r' (32, 9..13) as one bit test: hash_text runs it per byte.
bool is_space(unsigned char c) {
  constexpr uint64_t kSpaces = (uint64_t{1} << ' ') | (uint64_t{0x1F} << '\t');
  return c <= ' ' && ((kSpaces >> c) & 1) != 0;
}

// False for empty or blank text: an identity that is not there keys nothing.
bool present(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return !is_space(static_cast<unsigned char>(c)); });
}

// FNV-1a over the text without ASCII whitespace and with ASCII letters upper-cased, so spacing
// and an 'x' for 'X' in an ID number do not make a new identity; then mixed.
uint64_t hash_text(std::string_view s, Seed seed) {
  uint64_t h = 0xcbf29ce484222325ull ^ mix64(seed);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (is_space(c)) continue;
    if (static_cast<unsigned char>(c - 'a') < 26) c = static_cast<unsigned char>(c - 'a' + 'A');
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return mix64(h);
}

uint64_t combine(uint64_t a, uint64_t b) {
  return mix64(a ^ (b * 0x9e3779b97f4a7c15ull) ^ (b >> 17));
}

// The 32-bit member tag of a hash (members of a window need less than table keys). 0 is kept
// for "no single list" (a folded event), so it never names a list.
uint32_t tag32(uint64_t h) {
  auto t = static_cast<uint32_t>(h >> 32);
  return t == 0 ? 1 : t;
}

// Identity windows keep seconds in 32 bits; times outside 1970..2106 are clamped.
uint32_t to_seconds(TimeMs t) {
  if (t <= 0) return 0;
  int64_t s = t / kMsPerSecond;
  return s > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                  : static_cast<uint32_t>(s);
}

int64_t beijing_day_index(TimeMs t) { return floor_div(t + kBeijingOffsetMs, kMsPerDay); }

// ---------------------------------------------------------------------------------------------
// Fixed-capacity windows.

struct Event {
  TimeMs t_ms = 0;
  int64_t amount = 0;  // fen (split, velocity) or 1e-5 quantity units (bulk)
  uint32_t tag = 0;    // list tag; 0 after folding
  uint32_t count = 0;  // lists in this event (1, more after folding)
};

template <size_t N>
struct EventWindow {
  static_assert(N >= 2 && N <= 255);
  std::array<Event, N> ev{};  // arrival order
  uint8_t n = 0;

  // Drops events a window old or older. Scans all: the caller's times need not be monotonic.
  void prune(TimeMs now, TimeMs window) {
    uint8_t k = 0;
    for (uint8_t i = 0; i < n; ++i) {
      if (now - ev[i].t_ms < window) ev[k++] = ev[i];
    }
    n = k;
  }
  // A re-evaluated list replaces its own earlier event instead of adding a second one.
  void drop_tag(uint32_t tag) {
    uint8_t k = 0;
    for (uint8_t i = 0; i < n; ++i) {
      if (ev[i].tag != tag) ev[k++] = ev[i];
    }
    n = k;
  }
  // When full, the two oldest events become one with their sums and the later time: the window
  // keeps every list's contribution (never under-counts) at the price of keeping the older
  // one's a little too long.
  void add(const Event& e) {
    if (n == N) {
      ev[1].amount += ev[0].amount;
      ev[1].count += ev[0].count;
      ev[1].t_ms = std::max(ev[0].t_ms, ev[1].t_ms);
      ev[1].tag = 0;
      std::copy(ev.begin() + 1, ev.begin() + n, ev.begin());
      --n;
    }
    ev[n++] = e;
  }
  int64_t amount() const {
    int64_t s = 0;
    for (uint8_t i = 0; i < n; ++i) s += ev[i].amount;
    return s;
  }
  int64_t count() const {
    int64_t s = 0;
    for (uint8_t i = 0; i < n; ++i) s += ev[i].count;
    return s;
  }
};

// Distinct members (IDs, addresses, platforms) with the time each was last seen, in whatever
// unit the caller uses consistently (seconds, days).
struct Seen {
  uint32_t tag = 0;
  uint32_t last = 0;
};

template <size_t N>
struct DistinctSet {
  static_assert(N >= 1 && N <= 255);
  std::array<Seen, N> m{};
  uint8_t n = 0;

  void prune(int64_t now, int64_t window) {
    uint8_t k = 0;
    for (uint8_t i = 0; i < n; ++i) {
      if (now - static_cast<int64_t>(m[i].last) < window) m[k++] = m[i];
    }
    n = k;
  }
  void see(uint32_t tag, uint32_t now) {
    for (uint8_t i = 0; i < n; ++i) {
      if (m[i].tag == tag) {
        m[i].last = std::max(m[i].last, now);
        return;
      }
    }
    if (n < N) {
      m[n++] = {tag, now};
      return;
    }
    // Full: forget the least recently seen member (ties: the lowest tag, to stay deterministic).
    uint8_t victim = 0;
    for (uint8_t i = 1; i < n; ++i) {
      if (m[i].last < m[victim].last || (m[i].last == m[victim].last && m[i].tag < m[victim].tag)) {
        victim = i;
      }
    }
    m[victim] = {tag, now};
  }
};

// Released unit prices of one (gcode, unit): a ring of the latest kPriceHistoryMax in arrival
// order and, sorted, the latest `window` of them for the median (insert and erase by binary
// search and a short move: at most kPriceHistoryMax elements, no allocation).
struct PriceHistory {
  static constexpr size_t kCap = kPriceHistoryMax;
  std::array<Fen, kCap> ring{};
  std::array<Fen, kCap> sorted{};
  uint64_t total = 0;    // releases ever observed
  uint16_t head = 0;     // next write position in ring
  uint16_t stored = 0;   // prices in ring
  uint16_t window = 0;   // prices in sorted: the latest `window` of ring
  uint16_t history = 0;  // the risk_price_history that sorted was built for

  Fen at_age(size_t age) const { return ring[(head + kCap - 1 - age) % kCap]; }  // 0 = latest

  void rebuild(uint16_t h) {
    history = h;
    window = std::min(stored, h);
    for (size_t i = 0; i < window; ++i) sorted[i] = at_age(i);
    std::sort(sorted.begin(), sorted.begin() + window);
  }

  void push(Fen price, uint16_t h) {
    CBEC_ASSERT(h >= 1 && h <= kCap);
    if (h == history && window == h) {  // the oldest price of the window leaves it
      Fen leaving = at_age(h - 1);
      auto it = std::lower_bound(sorted.begin(), sorted.begin() + window, leaving);
      CBEC_ASSERT(it != sorted.begin() + window && *it == leaving);
      std::copy(it + 1, sorted.begin() + window, it);
      --window;
    }
    ring[head] = price;
    head = static_cast<uint16_t>((head + 1) % kCap);
    stored = static_cast<uint16_t>(std::min<size_t>(stored + 1u, kCap));
    ++total;
    if (h != history) {  // the policy changed the history length: rare, rebuild
      rebuild(h);
      return;
    }
    auto it = std::upper_bound(sorted.begin(), sorted.begin() + window, price);
    std::copy_backward(it, sorted.begin() + window, sorted.begin() + window + 1);
    *it = price;
    ++window;
  }

  size_t observations(uint16_t h) const { return std::min<size_t>(stored, h); }

  // The lower median of the latest min(stored, h) prices. REQUIRES: observations(h) > 0.
  Fen median(uint16_t h) const {
    size_t n = observations(h);
    CBEC_ASSERT(n > 0);
    if (h == history) {
      CBEC_ASSERT(n == window);
      return sorted[(n - 1) / 2];
    }
    std::array<Fen, kCap> tmp;  // a policy version with another history length: sort a copy
    for (size_t i = 0; i < n; ++i) tmp[i] = at_age(i);
    std::nth_element(tmp.begin(), tmp.begin() + (n - 1) / 2, tmp.begin() + n);
    return tmp[(n - 1) / 2];
  }
};

struct DayCount {
  int64_t day = 0;
  uint32_t count = 0;
};

struct MinuteCount {
  int64_t minute = 0;
  uint32_t count = 0;
};

struct BuyerState {
  EventWindow<kEventsPerKey> split;     // this buyer's lists near the R4 limit
  EventWindow<kEventsPerKey> released;  // this buyer's released values (velocity)
  DistinctSet<kDistinctPerKey> addresses;
};
struct AddressState {
  EventWindow<kEventsPerKey> split;
  DistinctSet<kDistinctPerKey> buyers;
};
struct PhoneState {
  DistinctSet<kDistinctPerKey> buyers;
};
struct BulkState {
  EventWindow<kEventsPerKey> qty;
};
struct PaycoState {
  std::array<DayCount, kPaycoDays> days{};    // ring by day index
  DistinctSet<kPlatformsPerPayco> platforms;  // `last` in Beijing day indexes
};
struct PlatformState {
  std::array<MinuteCount, kPlatformMinutes> minutes{};  // ring by minute index
};

// ---------------------------------------------------------------------------------------------
// A bounded map from 64-bit key to V with least-recently-touched eviction.

template <class V>
class LruTable {
 public:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

  explicit LruTable(size_t capacity) : capacity_(capacity) {
    CBEC_ASSERT(capacity >= 1 && capacity <= kMaxTableKeys);
    size_t n = 2;
    while (n < 2 * capacity) n <<= 1;  // load factor <= 1/2 keeps linear probes short
    index_.assign(n, kNone);
    mask_ = n - 1;
    slots_.reserve(capacity);  // address space only until slots are constructed
    free_.reserve(capacity);
  }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }

  // The value of key, made most recently touched; nullptr (and nothing changes) if absent.
  V* refresh(uint64_t key, TimeMs now) {
    uint32_t s = lookup(key);
    if (s == kNone) return nullptr;
    move_to_front(s, now);
    return &slots_[s].value;
  }
  const V* find(uint64_t key) const {
    uint32_t s = lookup(key);
    return s == kNone ? nullptr : &slots_[s].value;
  }

  // The value of key, made most recently touched; a new key starts from V{} and, when the table
  // is full, takes the place of the least recently touched key. The reference stays valid until
  // the next touch of this table.
  V& touch(uint64_t key, TimeMs now) {
    uint32_t s = lookup(key);
    if (s != kNone) {
      move_to_front(s, now);
      return slots_[s].value;
    }
    if (size_ == capacity_) remove(tail_);
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
    } else {
      CBEC_ASSERT(slots_.size() < capacity_);
      s = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    Slot& sl = slots_[s];
    sl.key = key;
    sl.value = V{};
    insert_index(key, s);
    link_front(s, now);
    ++size_;
    CBEC_ASSERT(size_ <= capacity_);
    return sl.value;
  }

  // Forgets up to max_steps least recently touched keys last touched at or before cutoff: keys
  // nobody asked about for longer than every window of the table hold nothing that counts.
  void expire(TimeMs cutoff, int max_steps) {
    while (max_steps-- > 0 && tail_ != kNone && slots_[tail_].touched <= cutoff) remove(tail_);
  }

  // For loading a snapshot: adds key as the least recently touched key, with its touch time,
  // so keys given most recent first (for_each's order) rebuild the same recency list. nullptr
  // (and nothing changes) if the key is already present or the table is full.
  V* append_oldest(uint64_t key, TimeMs touched) {
    if (size_ == capacity_ || lookup(key) != kNone) return nullptr;
    uint32_t s;
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
    } else {
      s = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    Slot& sl = slots_[s];
    sl.key = key;
    sl.touched = touched;
    sl.value = V{};
    sl.next = kNone;
    sl.prev = tail_;
    (tail_ == kNone ? head_ : slots_[tail_].next) = s;
    tail_ = s;
    insert_index(key, s);
    ++size_;
    return &sl.value;
  }

  // Most recently touched first.
  template <class F>
  void for_each(F&& f) const {
    for (uint32_t s = head_; s != kNone; s = slots_[s].next) {
      f(slots_[s].key, slots_[s].touched, slots_[s].value);
    }
  }

 private:
  struct Slot {
    uint64_t key = 0;
    TimeMs touched = 0;
    uint32_t prev = kNone, next = kNone;
    V value{};
  };

  size_t home(uint64_t key) const {
    return static_cast<size_t>(mix64(key ^ 0x5851f42d4c957f2dull)) & mask_;
  }

  uint32_t lookup(uint64_t key) const {
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      uint32_t s = index_[i];
      if (s == kNone) return kNone;
      if (slots_[s].key == key) return s;
    }
  }
  void insert_index(uint64_t key, uint32_t s) {
    size_t i = home(key);
    while (index_[i] != kNone) i = (i + 1) & mask_;
    index_[i] = s;
  }
  // Linear probing with backward-shift deletion: no tombstones, so probes stay short forever.
  void erase_index(uint64_t key) {
    size_t i = home(key);
    while (slots_[index_[i]].key != key) i = (i + 1) & mask_;
    for (size_t j = (i + 1) & mask_; index_[j] != kNone; j = (j + 1) & mask_) {
      size_t k = home(slots_[index_[j]].key);
      bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (stays) continue;
      index_[i] = index_[j];
      i = j;
    }
    index_[i] = kNone;
  }
  void unlink(uint32_t s) {
    Slot& sl = slots_[s];
    (sl.prev == kNone ? head_ : slots_[sl.prev].next) = sl.next;
    (sl.next == kNone ? tail_ : slots_[sl.next].prev) = sl.prev;
    sl.prev = sl.next = kNone;
  }
  void link_front(uint32_t s, TimeMs now) {
    Slot& sl = slots_[s];
    sl.touched = now;
    sl.prev = kNone;
    sl.next = head_;
    (head_ == kNone ? tail_ : slots_[head_].prev) = s;
    head_ = s;
  }
  void move_to_front(uint32_t s, TimeMs now) {
    unlink(s);
    link_front(s, now);
  }
  void remove(uint32_t s) {
    CBEC_ASSERT(s != kNone && size_ > 0);
    erase_index(slots_[s].key);
    unlink(s);
    free_.push_back(s);
    --size_;
  }

  size_t capacity_;
  size_t mask_ = 0;
  size_t size_ = 0;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::vector<uint32_t> index_;  // slot number or kNone
  uint32_t head_ = kNone, tail_ = kNone;
};

// How many keys an expiry pass may forget per call: enough to keep up with one new key per call,
// small enough to keep every call bounded.
constexpr int kExpireSteps = 2;

// ---------------------------------------------------------------------------------------------
// Text of findings.

// "80 %", "80.5 %" from basis points.
std::string percent(BasisPoints bp) {
  if (bp % 100 == 0) return fmt::format("{}%", bp / 100);
  std::string frac = fmt::format("{:02}", bp % 100);
  if (frac.back() == '0') frac.pop_back();
  return fmt::format("{}.{}%", bp / 100, frac);
}

std::string qty_text(int64_t units) { return format_decimal(Decimal::of_units(units)); }

std::string time_text(TimeMs t) {
  std::string s = format_datetime14(t);  // yyyyMMddHHmmss, Beijing
  return fmt::format("{}-{}-{} {}:{}:{}", s.substr(0, 4), s.substr(4, 2), s.substr(6, 2),
                     s.substr(8, 2), s.substr(10, 2), s.substr(12, 2));
}

// "95 min" or "95 min 30 s".
std::string duration_text(TimeMs ms) {
  TimeMs s = ms / kMsPerSecond;
  if (s % 60 == 0) return fmt::format("{} min", s / 60);
  return fmt::format("{} min {} s", s / 60, s % 60);
}

// "95分钟" or "95分30秒".
std::string duration_zh(TimeMs ms) {
  TimeMs s = ms / kMsPerSecond;
  if (s % 60 == 0) return fmt::format("{}分钟", s / 60);
  return fmt::format("{}分{}秒", s / 60, s % 60);
}

constexpr std::array<std::string_view, kPatternCount> kCodes = {
    "split.buyer",    "split.address",  "identity.phone",      "identity.address",
    "identity.buyer", "velocity",       "undervalue",          "bulk",
    "timing.payment", "timing.waybill", "concentration.payco", "concentration.platform"};
constexpr std::array<std::string_view, kPatternCount> kZhNames = {
    "拆单",     "拆单",         "身份冒用", "身份冒用", "身份冒用",     "额度快速消耗",
    "低报价格", "超出自用数量", "时间异常", "时间异常", "支付企业集中", "平台放行量异常"};

void emit(std::vector<ceb::Finding>* out, Pattern p, std::string field, std::string_view zh,
          std::string_view en) {
  auto i = static_cast<size_t>(p);
  out->push_back(ceb::Finding{p == Pattern::kUnderValuation ? "R8" : "R10", std::move(field),
                              fmt::format("{}（{}）：{}", kZhNames[i], kCodes[i], zh),
                              fmt::format("{}: {}", kCodes[i], en)});
}

constexpr std::string_view kFieldBuyer = "Inventory/InventoryHead/buyerIdNumber";
constexpr std::string_view kFieldPhone = "Inventory/InventoryHead/buyerTelephone";
constexpr std::string_view kFieldAddress = "Inventory/InventoryHead/consigneeAddress";
constexpr std::string_view kFieldPayCode = "Inventory/InventoryHead/payCode";
constexpr std::string_view kFieldEbpCode = "Inventory/InventoryHead/ebpCode";

}  // namespace

std::string_view pattern_code(Pattern p) { return kCodes[static_cast<size_t>(p)]; }

bool pattern_of(const ceb::Finding& f, Pattern* out) {
  if (f.rule != "R8" && f.rule != "R10") return false;
  for (size_t i = 0; i < kPatternCount; ++i) {
    std::string_view en = f.en;
    if (en.size() > kCodes[i].size() && en.substr(0, kCodes[i].size()) == kCodes[i] &&
        en[kCodes[i].size()] == ':') {
      *out = static_cast<Pattern>(i);
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------

struct Monitor::State {
  explicit State(const Limits& l)
      : buyers(l.buyers),
        addresses(l.addresses),
        phones(l.phones),
        bulk(l.bulk_keys),
        prices(l.price_codes),
        paycos(l.pay_companies),
        platforms(l.platforms) {
    scratch.reserve(64);
  }

  LruTable<BuyerState> buyers;
  LruTable<AddressState> addresses;
  LruTable<PhoneState> phones;
  LruTable<BulkState> bulk;
  LruTable<PriceHistory> prices;
  LruTable<PaycoState> paycos;
  LruTable<PlatformState> platforms;

  // One entry per line of the list being evaluated, aggregated by (address, item); kept across
  // calls so a list allocates only when it has more lines than any list before it.
  struct ItemQty {
    uint64_t key;
    int64_t qty_units;
    size_t first_line;
  };
  std::vector<ItemQty> scratch;
};

Monitor::Monitor(const Limits& limits) : limits_(limits), s_(std::make_unique<State>(limits)) {}
Monitor::~Monitor() = default;

ListKeys keys_of(const ListFacts& f) {
  ListKeys k;
  k.list_tag = tag32(hash_text(f.invtNo, kSeedList));
  if ((k.buyer = present(f.buyerIdNumber))) k.buyer_h = hash_text(f.buyerIdNumber, kSeedBuyer);
  if ((k.address = present(f.consigneeAddress))) {
    k.address_h = hash_text(f.consigneeAddress, kSeedAddress);
  }
  if ((k.phone = present(f.buyerTelephone))) k.phone_h = hash_text(f.buyerTelephone, kSeedPhone);
  if ((k.payco = present(f.payCode))) k.payco_h = hash_text(f.payCode, kSeedParty);
  if ((k.platform = present(f.ebpCode))) k.platform_h = hash_text(f.ebpCode, kSeedParty);
  return k;
}

namespace {

// R8's reference price: per (code, unit), and per bonded item record when there is one. One
// 10-digit code covers products far apart in price (a serum and a hand cream share 3304990099),
// so a bonded item is compared with its own releases; a 9610 line only has its code.
uint64_t price_key(const LineFacts& l) {
  uint64_t key = combine(hash_text(l.gcode, kSeedCode), hash_text(l.unit, kSeedUnit));
  return present(l.itemRecordNo) ? combine(key, hash_text(l.itemRecordNo, kSeedItem)) : key;
}

// Bonded items are keyed by their record number; a 9610 line (no record) by its code and unit.
uint64_t item_key(uint64_t address_h, const LineFacts& l) {
  uint64_t item = present(l.itemRecordNo)
                      ? hash_text(l.itemRecordNo, kSeedItem)
                      : combine(hash_text(l.gcode, kSeedCode), hash_text(l.unit, kSeedUnit));
  return combine(address_h, item);
}

void check_policy(const RiskPolicy& p) {
  // The loaders enforce these ranges (reference.cc); a policy built in code must respect them.
  CBEC_ASSERT(p.risk_identity_ids_per_contact >= 0 &&
              static_cast<size_t>(p.risk_identity_ids_per_contact) <= kDistinctPerKey);
  CBEC_ASSERT(p.risk_identity_addresses_per_id >= 0 &&
              static_cast<size_t>(p.risk_identity_addresses_per_id) <= kDistinctPerKey);
  CBEC_ASSERT(p.risk_payco_platforms >= 0 &&
              static_cast<size_t>(p.risk_payco_platforms) <= kPlatformsPerPayco);
  CBEC_ASSERT(p.risk_price_history >= 1 &&
              static_cast<size_t>(p.risk_price_history) <= kPriceHistoryMax);
  CBEC_ASSERT(p.risk_price_min_observations >= 1);
  CBEC_ASSERT(p.risk_payco_window_days >= 1 && p.risk_payco_window_days <= kPaycoDays);
  CBEC_ASSERT(p.risk_split_window_hours >= 1 && p.risk_identity_window_days >= 1 &&
              p.risk_velocity_window_hours >= 1 && p.risk_bulk_window_days >= 1);
}

struct Windows {
  TimeMs split_ms, identity_ms, velocity_ms, bulk_ms;
  int64_t identity_s;
  explicit Windows(const RiskPolicy& p)
      : split_ms(p.risk_split_window_hours * kMsPerHour),
        identity_ms(p.risk_identity_window_days * kMsPerDay),
        velocity_ms(p.risk_velocity_window_hours * kMsPerHour),
        bulk_ms(p.risk_bulk_window_days * kMsPerDay),
        identity_s(identity_ms / kMsPerSecond) {}
};

void split_finding(std::vector<ceb::Finding>* out, Pattern pat, const EventWindow<kEventsPerKey>& w,
                   const ListFacts& f, const RiskPolicy& p) {
  const bool buyer = pat == Pattern::kSplitBuyer;
  emit(out, pat, std::string(buyer ? kFieldBuyer : kFieldAddress),
       fmt::format("{}{}小时内有{}票清单（合计{}元）完税价格均不低于交易限值{}元的{}，本票{}元，"
                   "阈值{}票",
                   buyer ? "同一订购人" : "同一收货地址", p.risk_split_window_hours, w.count(),
                   format_fen(w.amount()), format_fen(f.transaction_limit_fen),
                   percent(p.risk_split_share_bp), format_fen(f.dutiable_fen), p.risk_split_lists),
       fmt::format("{} has {} lists (together {}) within {} h each at or above {} of the {} "
                   "transaction limit; this list {}; threshold {} lists",
                   buyer ? "this buyer" : "this consignee address", w.count(),
                   format_fen(w.amount()), p.risk_split_window_hours,
                   percent(p.risk_split_share_bp), format_fen(f.transaction_limit_fen),
                   format_fen(f.dutiable_fen), p.risk_split_lists));
}

}  // namespace

void Monitor::evaluate(const ListFacts& f, const RiskPolicy& p, std::vector<ceb::Finding>* out) {
  evaluate(f, keys_of(f), p, out);
}

void Monitor::evaluate(const ListFacts& f, const ListKeys& k, const RiskPolicy& p,
                       std::vector<ceb::Finding>* out) {
  CBEC_ASSERT(out != nullptr);
  check_policy(p);
  State& s = *s_;
  const TimeMs now = f.time;
  const Windows w(p);
  const uint32_t now_s = to_seconds(now);
  s.buyers.expire(now - std::max({w.split_ms, w.identity_ms, w.velocity_ms}), kExpireSteps);
  s.addresses.expire(now - std::max(w.split_ms, w.identity_ms), kExpireSteps);
  s.phones.expire(now - w.identity_ms, kExpireSteps);
  s.bulk.expire(now - w.bulk_ms, kExpireSteps);
  s.paycos.expire(now - (p.risk_payco_window_days + 1) * kMsPerDay, kExpireSteps);
  s.platforms.expire(now - kPlatformMinutes * 60 * kMsPerSecond, kExpireSteps);

  // R8: each line's unit price against the median of recent releases of its (code, unit).
  if (p.risk_price_floor_bp > 0) {
    const auto h = static_cast<uint16_t>(p.risk_price_history);
    for (size_t i = 0; i < f.lines.size(); ++i) {
      const LineFacts& l = f.lines[i];
      if (!present(l.gcode)) continue;
      const PriceHistory* ph = s.prices.refresh(price_key(l), now);
      if (ph == nullptr) continue;
      const size_t n = ph->observations(h);
      if (n < static_cast<size_t>(p.risk_price_min_observations)) continue;
      const Fen median = ph->median(h);
      if (static_cast<__int128>(l.price_fen) * kBasisPointsOne >=
          static_cast<__int128>(median) * p.risk_price_floor_bp) {
        continue;
      }
      const Fen floor_fen =
          round_half_up(static_cast<__int128>(median) * p.risk_price_floor_bp, kBasisPointsOne);
      emit(out, Pattern::kUnderValuation, fmt::format("Inventory/InventoryList[{}]/price", i + 1),
           fmt::format("单价{}元低于商品编码{}（单位{}）参考价{}元（近{}票放行单价中位数）的{}"
                       "（{}元）",
                       format_fen(l.price_fen), l.gcode, l.unit, format_fen(median), n,
                       percent(p.risk_price_floor_bp), format_fen(floor_fen)),
           fmt::format("unit price {} is below {} ({}) of the reference price {} for {} per unit "
                       "{} (median of the last {} released unit prices)",
                       format_fen(l.price_fen), percent(p.risk_price_floor_bp),
                       format_fen(floor_fen), format_fen(median), l.gcode, l.unit, n));
    }
  }

  const bool near_limit =
      f.transaction_limit_fen > 0 &&
      static_cast<__int128>(f.dutiable_fen) * kBasisPointsOne >=
          static_cast<__int128>(f.transaction_limit_fen) * p.risk_split_share_bp;
  const Event split_event{now, f.dutiable_fen, k.list_tag, 1};

  if (k.buyer) {
    BuyerState& b = s.buyers.touch(k.buyer_h, now);
    // Order splitting by buyer.
    b.split.prune(now, w.split_ms);
    b.split.drop_tag(k.list_tag);
    if (near_limit) {
      b.split.add(split_event);
      if (p.risk_split_lists > 0 && b.split.count() >= p.risk_split_lists) {
        split_finding(out, Pattern::kSplitBuyer, b.split, f, p);
      }
    }
    // One buyer ID at many addresses.
    b.addresses.prune(now_s, w.identity_s);
    if (k.address) b.addresses.see(tag32(k.address_h), now_s);
    if (k.address && p.risk_identity_addresses_per_id > 0 &&
        b.addresses.n >= p.risk_identity_addresses_per_id) {
      emit(
          out, Pattern::kIdentityBuyer, std::string(kFieldAddress),
          fmt::format("同一订购人身份证件{}天内使用{}个不同收货地址，阈值{}个",
                      p.risk_identity_window_days, b.addresses.n, p.risk_identity_addresses_per_id),
          fmt::format("this buyer ID shipped to {} distinct addresses within {} days; threshold "
                      "{}",
                      b.addresses.n, p.risk_identity_window_days,
                      p.risk_identity_addresses_per_id));
    }
    // Quota velocity: what was released in the window plus this list.
    b.released.prune(now, w.velocity_ms);
    b.released.drop_tag(k.list_tag);
    const Fen released = b.released.amount();
    if (p.risk_velocity_fen > 0 && released + f.dutiable_fen > p.risk_velocity_fen) {
      emit(out, Pattern::kVelocity, std::string(kFieldBuyer),
           fmt::format("同一订购人{}小时内已放行{}元，加本票{}元共{}元，超过{}元",
                       p.risk_velocity_window_hours, format_fen(released),
                       format_fen(f.dutiable_fen), format_fen(released + f.dutiable_fen),
                       format_fen(p.risk_velocity_fen)),
           fmt::format("this buyer had {} released within {} h; with this list's {} that is {}, "
                       "above {}",
                       format_fen(released), p.risk_velocity_window_hours,
                       format_fen(f.dutiable_fen), format_fen(released + f.dutiable_fen),
                       format_fen(p.risk_velocity_fen)));
    }
  }

  if (k.address) {
    AddressState& a = s.addresses.touch(k.address_h, now);
    a.split.prune(now, w.split_ms);
    a.split.drop_tag(k.list_tag);
    if (near_limit) {
      a.split.add(split_event);
      if (p.risk_split_lists > 0 && a.split.count() >= p.risk_split_lists) {
        split_finding(out, Pattern::kSplitAddress, a.split, f, p);
      }
    }
    a.buyers.prune(now_s, w.identity_s);
    if (k.buyer) a.buyers.see(tag32(k.buyer_h), now_s);
    if (k.buyer && p.risk_identity_ids_per_contact > 0 &&
        a.buyers.n >= p.risk_identity_ids_per_contact) {
      emit(out, Pattern::kIdentityAddress, std::string(kFieldAddress),
           fmt::format("同一收货地址{}天内被{}个不同订购人身份证件使用，阈值{}个",
                       p.risk_identity_window_days, a.buyers.n, p.risk_identity_ids_per_contact),
           fmt::format("this consignee address was used by {} distinct buyer IDs within {} days; "
                       "threshold {}",
                       a.buyers.n, p.risk_identity_window_days, p.risk_identity_ids_per_contact));
    }
  }

  if (k.phone) {
    PhoneState& ph = s.phones.touch(k.phone_h, now);
    ph.buyers.prune(now_s, w.identity_s);
    if (k.buyer) ph.buyers.see(tag32(k.buyer_h), now_s);
    if (k.buyer && p.risk_identity_ids_per_contact > 0 &&
        ph.buyers.n >= p.risk_identity_ids_per_contact) {
      emit(out, Pattern::kIdentityPhone, std::string(kFieldPhone),
           fmt::format("同一电话号码{}天内被{}个不同订购人身份证件使用，阈值{}个",
                       p.risk_identity_window_days, ph.buyers.n, p.risk_identity_ids_per_contact),
           fmt::format("this phone number was used by {} distinct buyer IDs within {} days; "
                       "threshold {}",
                       ph.buyers.n, p.risk_identity_window_days, p.risk_identity_ids_per_contact));
    }
  }

  // Bulk beyond personal use: quantity of one item to one address, this list's lines of the
  // same item added together first.
  if (k.address) {
    auto& items = s.scratch;
    items.clear();
    for (size_t i = 0; i < f.lines.size(); ++i) {
      items.push_back({item_key(k.address_h, f.lines[i]), f.lines[i].qty.units, i});
    }
    std::sort(items.begin(), items.end(), [](const State::ItemQty& a, const State::ItemQty& b) {
      return a.key != b.key ? a.key < b.key : a.first_line < b.first_line;
    });
    size_t merged = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      if (merged > 0 && items[merged - 1].key == items[i].key) {
        items[merged - 1].qty_units += items[i].qty_units;
      } else {
        items[merged++] = items[i];
      }
    }
    items.resize(merged);
    // Findings in line order, whatever the hash order of the keys.
    std::sort(items.begin(), items.end(), [](const State::ItemQty& a, const State::ItemQty& b) {
      return a.first_line < b.first_line;
    });
    for (const State::ItemQty& it : items) {
      BulkState& b = s.bulk.touch(it.key, now);
      b.qty.prune(now, w.bulk_ms);
      b.qty.drop_tag(k.list_tag);
      b.qty.add({now, it.qty_units, k.list_tag, 1});
      const int64_t total = b.qty.amount();
      if (p.risk_bulk_qty > 0 && total >= p.risk_bulk_qty * kDecimalScale) {
        const LineFacts& l = f.lines[it.first_line];
        std::string_view item = present(l.itemRecordNo) ? l.itemRecordNo : l.gcode;
        emit(out, Pattern::kBulk, fmt::format("Inventory/InventoryList[{}]/qty", it.first_line + 1),
             fmt::format("{}天内同一收货地址共申报商品{}数量{}（本票{}），达到个人自用阈值{}",
                         p.risk_bulk_window_days, item, qty_text(total), qty_text(it.qty_units),
                         p.risk_bulk_qty),
             fmt::format("{} units of item {} to this consignee address within {} days (this "
                         "list {}); personal-use threshold {}",
                         qty_text(total), item, p.risk_bulk_window_days, qty_text(it.qty_units),
                         p.risk_bulk_qty));
      }
    }
  }

  // Timing: documents declared in an implausible order.
  const TimeMs tolerance_ms = p.risk_timing_tolerance_minutes * 60 * kMsPerSecond;
  if (f.order_time > 0 && f.payment_time > 0 && f.order_time - f.payment_time > tolerance_ms) {
    const TimeMs gap = f.order_time - f.payment_time;
    emit(out, Pattern::kTimingPayment, "Payment/PaymentHead/appTime",
         fmt::format("支付单时间{}早于订单时间{}达{}，容差{}分钟", time_text(f.payment_time),
                     time_text(f.order_time), duration_zh(gap), p.risk_timing_tolerance_minutes),
         fmt::format("payment appTime {} is {} before the order's {}; tolerance {} min",
                     time_text(f.payment_time), duration_text(gap), time_text(f.order_time),
                     p.risk_timing_tolerance_minutes));
  }
  if (f.payment_time > 0 && f.waybill_time > 0 && f.payment_time - f.waybill_time > tolerance_ms) {
    const TimeMs gap = f.payment_time - f.waybill_time;
    emit(out, Pattern::kTimingWaybill, "Logistics/LogisticsHead/appTime",
         fmt::format("运单时间{}早于支付单时间{}达{}，容差{}分钟", time_text(f.waybill_time),
                     time_text(f.payment_time), duration_zh(gap), p.risk_timing_tolerance_minutes),
         fmt::format("waybill appTime {} is {} before the payment's {}; tolerance {} min",
                     time_text(f.waybill_time), duration_text(gap), time_text(f.payment_time),
                     p.risk_timing_tolerance_minutes));
  }

  // A small payment company shared by many platforms.
  if (k.payco && k.platform) {
    const int64_t today = beijing_day_index(now);
    const int64_t days = p.risk_payco_window_days;
    PaycoState& pc = s.paycos.touch(k.payco_h, now);
    DayCount& slot = pc.days[static_cast<size_t>(((today % kPaycoDays) + kPaycoDays) % kPaycoDays)];
    if (slot.day != today) slot = {today, 0};
    ++slot.count;
    int64_t lists = 0;
    for (const DayCount& d : pc.days) {
      if (d.day <= today && today - d.day < days) lists += d.count;
    }
    const auto today32 = static_cast<uint32_t>(std::clamp<int64_t>(today, 0, UINT32_MAX));
    pc.platforms.prune(today32, days);
    pc.platforms.see(tag32(k.platform_h), today32);
    if (p.risk_payco_platforms > 0 && pc.platforms.n >= p.risk_payco_platforms &&
        lists <= p.risk_payco_small_lists) {
      emit(out, Pattern::kPaymentCompany, std::string(kFieldPayCode),
           fmt::format("支付企业{}近{}天仅{}票清单，却为{}个电商平台提供支付（阈值：不超过{}票、"
                       "至少{}个平台）",
                       f.payCode, days, lists, pc.platforms.n, p.risk_payco_small_lists,
                       p.risk_payco_platforms),
           fmt::format("payment company {} carried only {} lists in {} days but serves {} "
                       "platforms (thresholds: at most {} lists, at least {} platforms)",
                       f.payCode, lists, days, pc.platforms.n, p.risk_payco_small_lists,
                       p.risk_payco_platforms));
    }
  }

  // A platform whose releases in the last hour are above its plausible traffic.
  if (k.platform && p.risk_platform_releases_per_hour > 0) {
    if (const PlatformState* ps = s.platforms.find(k.platform_h)) {
      const int64_t minute = floor_div(now, 60 * kMsPerSecond);
      int64_t released = 0;
      for (const MinuteCount& m : ps->minutes) {
        if (m.minute <= minute && minute - m.minute < kPlatformMinutes) released += m.count;
      }
      if (released > p.risk_platform_releases_per_hour) {
        emit(out, Pattern::kPlatformVolume, std::string(kFieldEbpCode),
             fmt::format("电商平台{}最近1小时放行{}票，超过{}票", f.ebpCode, released,
                         p.risk_platform_releases_per_hour),
             fmt::format("platform {} had {} lists released in the last hour, above {}", f.ebpCode,
                         released, p.risk_platform_releases_per_hour));
      }
    }
  }
}

void Monitor::on_release(const ListFacts& f, const RiskPolicy& p) {
  on_release(f, keys_of(f), p);
}

void Monitor::on_release(const ListFacts& f, const ListKeys& k, const RiskPolicy& p) {
  check_policy(p);
  State& s = *s_;
  const TimeMs now = f.time;
  const Windows w(p);
  s.buyers.expire(now - std::max({w.split_ms, w.identity_ms, w.velocity_ms}), kExpireSteps);
  s.platforms.expire(now - kPlatformMinutes * 60 * kMsPerSecond, kExpireSteps);

  if (k.buyer) {
    BuyerState& b = s.buyers.touch(k.buyer_h, now);
    b.released.prune(now, w.velocity_ms);
    b.released.drop_tag(k.list_tag);
    b.released.add({now, f.dutiable_fen, k.list_tag, 1});
  }
  // Zero prices (gifts, samples) would drag the reference down; they are not observations.
  const auto h = static_cast<uint16_t>(p.risk_price_history);
  for (const LineFacts& l : f.lines) {
    if (!present(l.gcode) || l.price_fen <= 0) continue;
    s.prices.touch(price_key(l), now).push(l.price_fen, h);
  }
  if (k.platform) {
    PlatformState& ps = s.platforms.touch(k.platform_h, now);
    const int64_t minute = floor_div(now, 60 * kMsPerSecond);
    MinuteCount& m = ps.minutes[static_cast<size_t>(
        ((minute % kPlatformMinutes) + kPlatformMinutes) % kPlatformMinutes)];
    if (m.minute != minute) m = {minute, 0};
    ++m.count;
  }
}

Sizes Monitor::sizes() const {
  const State& s = *s_;
  return Sizes{s.buyers.size(), s.addresses.size(), s.phones.size(),   s.bulk.size(),
               s.prices.size(), s.paycos.size(),    s.platforms.size()};
}

namespace {

template <size_t N>
void dump_events(std::string* o, std::string_view name, const EventWindow<N>& w) {
  fmt::format_to(std::back_inserter(*o), " {}=[", name);
  for (uint8_t i = 0; i < w.n; ++i) {
    const Event& e = w.ev[i];
    fmt::format_to(std::back_inserter(*o), "{}{}:{}:{:08x}:{}", i ? " " : "", e.t_ms, e.amount,
                   e.tag, e.count);
  }
  o->push_back(']');
}

template <size_t N>
void dump_seen(std::string* o, std::string_view name, const DistinctSet<N>& d) {
  fmt::format_to(std::back_inserter(*o), " {}=[", name);
  for (uint8_t i = 0; i < d.n; ++i) {
    fmt::format_to(std::back_inserter(*o), "{}{:08x}@{}", i ? " " : "", d.m[i].tag, d.m[i].last);
  }
  o->push_back(']');
}

template <class V, class F>
void dump_table(std::string* o, std::string_view name, const LruTable<V>& t, F&& body) {
  fmt::format_to(std::back_inserter(*o), "{} {}/{}\n", name, t.size(), t.capacity());
  t.for_each([&](uint64_t key, TimeMs touched, const V& v) {
    fmt::format_to(std::back_inserter(*o), "  {:016x} t={}", key, touched);
    body(v);
    o->push_back('\n');
  });
}

}  // namespace

std::string Monitor::dump() const {
  const State& s = *s_;
  std::string o = "risk-monitor v1\n";
  std::string* op = &o;
  dump_table(op, "buyers", s.buyers, [&](const BuyerState& b) {
    dump_events(op, "split", b.split);
    dump_events(op, "released", b.released);
    dump_seen(op, "addresses", b.addresses);
  });
  dump_table(op, "addresses", s.addresses, [&](const AddressState& a) {
    dump_events(op, "split", a.split);
    dump_seen(op, "buyers", a.buyers);
  });
  dump_table(op, "phones", s.phones,
             [&](const PhoneState& ph) { dump_seen(op, "buyers", ph.buyers); });
  dump_table(op, "bulk", s.bulk, [&](const BulkState& b) { dump_events(op, "qty", b.qty); });
  dump_table(op, "prices", s.prices, [&](const PriceHistory& ph) {
    fmt::format_to(std::back_inserter(o), " total={} history={} ring=[", ph.total, ph.history);
    for (size_t i = ph.stored; i > 0; --i) {  // oldest first
      fmt::format_to(std::back_inserter(o), "{}{}", i == ph.stored ? "" : " ", ph.at_age(i - 1));
    }
    o.push_back(']');
  });
  dump_table(op, "paycos", s.paycos, [&](const PaycoState& pc) {
    std::array<DayCount, kPaycoDays> days = pc.days;
    std::sort(days.begin(), days.end(),
              [](const DayCount& a, const DayCount& b) { return a.day < b.day; });
    o += " days=[";
    bool first = true;
    for (const DayCount& d : days) {
      if (d.count == 0) continue;
      fmt::format_to(std::back_inserter(o), "{}{}:{}", first ? "" : " ", d.day, d.count);
      first = false;
    }
    o.push_back(']');
    dump_seen(op, "platforms", pc.platforms);
  });
  dump_table(op, "platforms", s.platforms, [&](const PlatformState& ps) {
    std::array<MinuteCount, kPlatformMinutes> minutes = ps.minutes;
    std::sort(minutes.begin(), minutes.end(),
              [](const MinuteCount& a, const MinuteCount& b) { return a.minute < b.minute; });
    o += " minutes=[";
    bool first = true;
    for (const MinuteCount& m : minutes) {
      if (m.count == 0) continue;
      fmt::format_to(std::back_inserter(o), "{}{}:{}", first ? "" : " ", m.minute, m.count);
      first = false;
    }
    o.push_back(']');
  });
  return o;
}

// ---------------------------------------------------------------------------------------------
// Snapshot codec. Canonical: saving a loaded monitor gives the same bytes. Table keys are written
// most recently touched first with their touch times; price histories oldest price first (the
// ring's position is not state: only ages are read); day and minute rings as their non-empty
// buckets, whose position follows from their index.

namespace {

constexpr uint8_t kMonitorFormat = 1;

// Times, amounts, prices and day or minute indexes from a snapshot stay below 2^56 in
// magnitude (2 million years in ms, 7e11 units in 1e-5 units), so the differences and window
// sums that use them cannot overflow, whatever the bytes say.
constexpr int64_t kMaxLoadedMagnitude = int64_t{1} << 56;

int64_t get_i64(ByteReader& in) {
  int64_t v = in.i64();
  if (v >= kMaxLoadedMagnitude || v <= -kMaxLoadedMagnitude) in.fail();
  return v;
}

uint32_t get_u32(ByteReader& in) {
  uint64_t v = in.u64();
  if (v > std::numeric_limits<uint32_t>::max()) in.fail();
  return static_cast<uint32_t>(v);
}

template <size_t N>
void put(ByteWriter& w, const EventWindow<N>& e) {
  w.u64(e.n);
  for (uint8_t i = 0; i < e.n; ++i) {
    w.i64(e.ev[i].t_ms);
    w.i64(e.ev[i].amount);
    w.u64(e.ev[i].tag);
    w.u64(e.ev[i].count);
  }
}
template <size_t N>
void get(ByteReader& in, EventWindow<N>* e) {
  uint64_t n = in.count();
  if (n > N) return in.fail();
  e->n = static_cast<uint8_t>(n);
  for (uint8_t i = 0; i < e->n; ++i) {
    Event& ev = e->ev[i];
    ev.t_ms = get_i64(in);
    ev.amount = get_i64(in);
    ev.tag = get_u32(in);
    ev.count = get_u32(in);
    if (ev.count == 0) return in.fail();  // every event holds at least one list
  }
}

template <size_t N>
void put(ByteWriter& w, const DistinctSet<N>& d) {
  w.u64(d.n);
  for (uint8_t i = 0; i < d.n; ++i) {
    w.u64(d.m[i].tag);
    w.u64(d.m[i].last);
  }
}
template <size_t N>
void get(ByteReader& in, DistinctSet<N>* d) {
  uint64_t n = in.count();
  if (n > N) return in.fail();
  d->n = static_cast<uint8_t>(n);
  for (uint8_t i = 0; i < d->n; ++i) {
    d->m[i].tag = get_u32(in);
    d->m[i].last = get_u32(in);
    for (uint8_t j = 0; j < i; ++j) {
      if (d->m[j].tag == d->m[i].tag) return in.fail();  // members are distinct
    }
  }
}

void put(ByteWriter& w, const BuyerState& b) {
  put(w, b.split);
  put(w, b.released);
  put(w, b.addresses);
}
void get(ByteReader& in, BuyerState* b) {
  get(in, &b->split);
  get(in, &b->released);
  get(in, &b->addresses);
}
void put(ByteWriter& w, const AddressState& a) {
  put(w, a.split);
  put(w, a.buyers);
}
void get(ByteReader& in, AddressState* a) {
  get(in, &a->split);
  get(in, &a->buyers);
}
void put(ByteWriter& w, const PhoneState& p) { put(w, p.buyers); }
void get(ByteReader& in, PhoneState* p) { get(in, &p->buyers); }
void put(ByteWriter& w, const BulkState& b) { put(w, b.qty); }
void get(ByteReader& in, BulkState* b) { get(in, &b->qty); }

// sorted[] is rebuilt from the ring: it is the latest `window` = min(stored, history) prices in
// order, whatever sequence of pushes produced it.
void put(ByteWriter& w, const PriceHistory& ph) {
  w.u64(ph.total);
  w.u64(ph.history);
  w.u64(ph.stored);
  for (size_t age = ph.stored; age > 0; --age) w.i64(ph.at_age(age - 1));
}
void get(ByteReader& in, PriceHistory* ph) {
  const uint64_t total = in.u64();
  const uint64_t history = in.u64();
  const uint64_t stored = in.count();
  // stored = min(total, kCap); history is 0 only before the first price.
  if (history > PriceHistory::kCap || stored != std::min<uint64_t>(total, PriceHistory::kCap) ||
      (history == 0) != (total == 0)) {
    return in.fail();
  }
  for (size_t i = 0; i < stored; ++i) {
    ph->ring[i] = get_i64(in);
    if (ph->ring[i] <= 0) return in.fail();  // on_release keeps positive prices only
  }
  ph->total = total;
  ph->stored = static_cast<uint16_t>(stored);
  ph->head = static_cast<uint16_t>(stored % PriceHistory::kCap);
  ph->rebuild(static_cast<uint16_t>(history));
}

// A ring of buckets indexed by (index mod K): only the buckets that count are written, in ring
// order; a bucket of count 0 acts like an empty one (the next use resets it).
template <class Bucket, size_t K, class IndexOf>
void put_ring(ByteWriter& w, const std::array<Bucket, K>& ring, IndexOf index_of) {
  uint64_t used = 0;
  for (const Bucket& b : ring) used += b.count != 0;
  w.u64(used);
  for (const Bucket& b : ring) {
    if (b.count == 0) continue;
    w.i64(index_of(b));
    w.u64(b.count);
  }
}
template <class Bucket, size_t K, class IndexRef>
void get_ring(ByteReader& in, std::array<Bucket, K>* ring, IndexRef index_ref) {
  const uint64_t used = in.count();
  if (used > K) return in.fail();
  for (uint64_t i = 0; i < used && in.ok(); ++i) {
    const int64_t index = get_i64(in);
    const uint32_t count = get_u32(in);
    const auto k = static_cast<int64_t>(K);
    Bucket& b = (*ring)[static_cast<size_t>(((index % k) + k) % k)];
    if (count == 0 || b.count != 0) return in.fail();  // empty, or two in one bucket
    index_ref(b) = index;
    b.count = count;
  }
}

void put(ByteWriter& w, const PaycoState& pc) {
  put_ring(w, pc.days, [](const DayCount& d) { return d.day; });
  put(w, pc.platforms);
}
void get(ByteReader& in, PaycoState* pc) {
  get_ring(in, &pc->days, [](DayCount& d) -> int64_t& { return d.day; });
  get(in, &pc->platforms);
}
void put(ByteWriter& w, const PlatformState& ps) {
  put_ring(w, ps.minutes, [](const MinuteCount& m) { return m.minute; });
}
void get(ByteReader& in, PlatformState* ps) {
  get_ring(in, &ps->minutes, [](MinuteCount& m) -> int64_t& { return m.minute; });
}

template <class V>
void put_table(ByteWriter& w, const LruTable<V>& t) {
  w.u64(t.size());
  t.for_each([&](uint64_t key, TimeMs touched, const V& v) {
    w.be64(key);
    w.i64(touched);
    put(w, v);
  });
}
template <class V>
void get_table(ByteReader& in, LruTable<V>* t) {
  const uint64_t n = in.count();
  if (n > t->capacity()) return in.fail();
  for (uint64_t i = 0; i < n && in.ok(); ++i) {
    const uint64_t key = in.be64();
    const TimeMs touched = get_i64(in);
    if (!in.ok()) return;
    V* v = t->append_oldest(key, touched);
    if (v == nullptr) return in.fail();  // a key twice
    get(in, v);
  }
}

}  // namespace

void Monitor::save_state(ByteWriter& w) const {
  const State& s = *s_;
  w.u8(kMonitorFormat);
  for (size_t cap : {limits_.buyers, limits_.addresses, limits_.phones, limits_.bulk_keys,
                     limits_.price_codes, limits_.pay_companies, limits_.platforms}) {
    w.u64(cap);
  }
  put_table(w, s.buyers);
  put_table(w, s.addresses);
  put_table(w, s.phones);
  put_table(w, s.bulk);
  put_table(w, s.prices);
  put_table(w, s.paycos);
  put_table(w, s.platforms);
}

bool Monitor::load_state(ByteReader& in) {
  State& s = *s_;
  if (in.u8() != kMonitorFormat) return false;
  for (size_t cap : {limits_.buyers, limits_.addresses, limits_.phones, limits_.bulk_keys,
                     limits_.price_codes, limits_.pay_companies, limits_.platforms}) {
    if (in.u64() != cap) return false;  // taken under other limits
  }
  get_table(in, &s.buyers);
  get_table(in, &s.addresses);
  get_table(in, &s.phones);
  get_table(in, &s.bulk);
  get_table(in, &s.prices);
  get_table(in, &s.paycos);
  get_table(in, &s.platforms);
  return in.ok();
}

}  // namespace cbec::risk
