// The document-set generator (see gen.h for the contract).
//
// One pass in generation order. A plan fixed up front says which sets are faulty and how; the
// pass keeps the state the rules depend on (each buyer's yearly totals and capped quantities,
// the remaining bonded stock) for good sets only, because faulty sets are rejected and change
// nothing. R5 faults need a buyer who has already used most of the annual limit: for each one,
// a dedicated buyer is loaded with large good baskets spread over the good sets before it.
#include "gen/gen.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <utility>

namespace cbec::gen {
namespace {

// ---- Deterministic randomness -------------------------------------------------------------

// std::mt19937_64's output sequence is fixed by the standard; the std:: distributions are not,
// so ranges and probabilities are derived here with plain integer arithmetic.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t next() { return engine_(); }
  // Uniform in [lo, hi] by rejection sampling (no modulo bias).
  int64_t uniform(int64_t lo, int64_t hi) {
    const uint64_t range = static_cast<uint64_t>(hi - lo) + 1;
    if (range == 0) return static_cast<int64_t>(next());
    const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    uint64_t x;
    do x = next();
    while (x >= limit);
    return lo + static_cast<int64_t>(x % range);
  }
  size_t index(size_t n) { return static_cast<size_t>(uniform(0, static_cast<int64_t>(n) - 1)); }
  // True with probability p (53-bit resolution).
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[index(v.size())];
  }
  template <class T, size_t N>
  const T& pick(const std::array<T, N>& v) {
    return v[index(N)];
  }

 private:
  std::mt19937_64 engine_;
};

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::string uuid_from(uint64_t hi, uint64_t lo) {
  // Version-4 shape (8-4-4-4-12, uppercase), as the CEB samples use.
  hi = (hi & ~0xF000ull) | 0x4000ull;
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);
  return fmt::format("{:08X}-{:04X}-{:04X}-{:04X}-{:012X}", hi >> 32, (hi >> 16) & 0xFFFF,
                     hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFull);
}

// ---- Buyers -------------------------------------------------------------------------------

constexpr std::array<std::string_view, 60> kSurnames = {
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高",
    "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧",
    "程", "曹", "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾",
    "丁", "魏", "薛", "叶", "阎", "余", "潘", "杜", "戴", "夏", "钟", "汪", "田", "任", "姜"};
constexpr std::array<std::string_view, 64> kGivenChars = {
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "萍", "红", "鹏", "辉", "建", "文", "斌",
    "宇", "浩", "凯", "晨", "欣", "怡", "佳", "琳", "雪", "梅", "婷", "慧", "颖", "子", "涵", "轩",
    "博", "思", "雨", "嘉", "俊", "峰", "亮", "新", "志", "国", "海", "波", "晓", "燕", "春", "冬"};

struct District {
  std::string_view code;    // GB/T 2260 county-level code
  std::string_view prefix;  // province + city + district
  std::array<std::string_view, 4> streets;
};
// Henan first: most buyers of a Zhengzhou zone live in the province.
constexpr std::array<District, 19> kDistricts = {{
    {"410105", "河南省郑州市金水区", {"花园路", "农业路", "经三路", "文化路"}},
    {"410102", "河南省郑州市中原区", {"建设西路", "中原中路", "桐柏路", "秦岭路"}},
    {"410103", "河南省郑州市二七区", {"大学路", "航海中路", "长江路", "嵩山南路"}},
    {"410104", "河南省郑州市管城回族区", {"紫荆山南路", "商城路", "城东路", "航海东路"}},
    {"410305", "河南省洛阳市涧西区", {"中州西路", "南昌路", "天津路", "建设路"}},
    {"410202", "河南省开封市龙亭区", {"西门大街", "北书店街", "中山路", "龙亭北路"}},
    {"410702", "河南省新乡市红旗区", {"平原路", "人民路", "新中大道", "劳动路"}},
    {"411002", "河南省许昌市魏都区", {"七一路", "建安大道", "八一路", "延安路"}},
    {"411302", "河南省南阳市宛城区", {"仲景路", "中州路", "工业路", "独山大道"}},
    {"410502", "河南省安阳市文峰区", {"文峰大道", "中华路", "紫薇大道", "德隆街"}},
    {"110105", "北京市朝阳区", {"建国路", "朝阳北路", "望京街", "东三环中路"}},
    {"310115", "上海市浦东新区", {"张杨路", "世纪大道", "浦东南路", "锦绣路"}},
    {"440305", "广东省深圳市南山区", {"南海大道", "深南大道", "科技南路", "后海大道"}},
    {"440106", "广东省广州市天河区", {"天河路", "体育西路", "黄埔大道", "中山大道"}},
    {"330106", "浙江省杭州市西湖区", {"文三路", "天目山路", "教工路", "古墩路"}},
    {"420106", "湖北省武汉市武昌区", {"中北路", "武珞路", "中南路", "和平大道"}},
    {"510107", "四川省成都市武侯区", {"人民南路", "科华北路", "武侯祠大街", "一环路"}},
    {"610113", "陕西省西安市雁塔区", {"小寨东路", "长安南路", "雁塔路", "含光路"}},
    {"370102", "山东省济南市历下区", {"泺源大街", "经十路", "解放路", "文化东路"}},
}};
constexpr size_t kHenanDistricts = 10;
constexpr std::array<std::string_view, 12> kCompounds = {
    "锦绣花园", "阳光小区", "森林半岛", "正商城", "百合公寓", "永威城",
    "金色港湾", "和谐家园", "幸福里",   "翡翠城", "紫荆苑",   "滨河花园"};

std::string make_name(Rng& rng, std::string_view surname) {
  std::string name(surname);
  name += rng.pick(kGivenChars);
  if (rng.chance(0.7)) name += rng.pick(kGivenChars);
  return name;
}

// ---- Generation state ---------------------------------------------------------------------

struct BuyerState {
  Buyer buyer;
  std::string consignee;  // usually the buyer; sometimes a family member at the same address
  std::map<int, Fen> year_total_fen;                      // R5, good sets only
  std::map<std::pair<int, std::string>, int64_t> capped;  // R3 caps: (year, tariff8) → units
  Fen total(int year) const {
    auto it = year_total_fen.find(year);
    return it == year_total_fen.end() ? 0 : it->second;
  }
};

struct Line {
  const BookItem* item;
  int64_t qty;
};

enum class Mode : uint8_t { k1210, k9610 };

struct Platform {
  const Enterprise* e;
  std::string_view order_prefix;
};

class Generator {
 public:
  Generator(const Zone& zone, const Options& options, const ref::ReferenceData& ref)
      : zone_(zone), opt_(options), ref_(ref), rng_(options.seed) {}

  Result<Generated> run();

 private:
  Status setup();
  void plan_faults();
  BuyerState make_buyer();
  BuyerState* pick_pool_buyer(int year, Fen headroom_min_fen);
  bool eligible(const BookItem& item, Mode mode, CivilDate date) const;
  bool fits(const BookItem& item, int64_t qty, const BuyerState& b, int year, CivilDate date,
            Mode mode) const;
  bool build_basket(Mode mode, const BuyerState& b, int year, CivilDate date, Fen min_goods_fen,
                    Fen max_goods_fen, int max_lines, bool big, std::vector<Line>* out);
  Status make_set(size_t index, Fault fault, DocSet* out);
  Status fill_documents(size_t index, Fault fault, Mode mode, const BuyerState& b,
                        const std::vector<Line>& lines, Fen freight_fen, Fen discount_fen, TimeMs t,
                        bool full_tax, DocSet* out);
  void commit_good(const DocSet& set, BuyerState* b, Mode mode, const std::vector<Line>& lines,
                   int year);
  std::string next_guid() { return uuid_from(rng_.next(), rng_.next()); }

  const Zone& zone_;
  const Options& opt_;
  const ref::ReferenceData& ref_;
  Rng rng_;

  std::vector<Platform> platforms_;
  std::vector<const Enterprise*> ebcs_, pays_, logistics_;
  const Enterprise* hall_ = nullptr;  // the O2O hall (carrier of hall sets), if the zone has one
  const Enterprise* agent_ = nullptr;
  const BookItem* limited_ = nullptr;
  const BookItem* premium_ = nullptr;
  const BookItem* off_list_ = nullptr;
  const BookItem* sunglasses_ = nullptr;  // the R4 fault's expensive everyday item
  std::string run_tag_;

  std::vector<Fault> plan_;
  std::vector<size_t> good_before_;  // good_before_[i] = good sets in [0, i)
  std::vector<size_t> r5_indices_;
  size_t next_r5_ = 0;
  // Deques: pointers to buyers stay valid while buyers are added.
  std::deque<BuyerState> r5_buyers_;  // one per R5 fault, loaded before it

  std::deque<BuyerState> pool_;
  size_t pool_target_ = 0;
  std::set<std::string> used_ids_, used_phones_;
  std::map<std::string, int64_t> stock_left_;  // itemRecordNo → units not yet released
  std::map<std::string, int64_t> units_used_;
  std::map<std::string, Fen> tax_by_guarantor_;
  TimeMs time_ = 0;
};

Status Generator::setup() {
  if (opt_.count < 1 || opt_.count > kMaxCount)
    return InvalidArgument(fmt::format("count {} out of range 1..{}", opt_.count, kMaxCount));
  auto share_ok = [](double s) { return s >= 0.0 && s <= 1.0; };
  if (!(opt_.fault_share >= 0.0 && opt_.fault_share <= 0.5))
    return InvalidArgument(fmt::format("fault_share {} out of range 0..0.5", opt_.fault_share));
  if (!share_ok(opt_.share_9610) || !share_ok(opt_.share_full_tax) ||
      !share_ok(opt_.share_discount) || !share_ok(opt_.share_hall))
    return InvalidArgument("shares must be within 0..1");

  for (const Enterprise* e : zone_.with_role(kRoleEbp))
    platforms_.push_back({e, platforms_.empty() ? "YX" : "QQG"});
  ebcs_ = zone_.with_role(kRoleEbc);
  pays_ = zone_.with_role(kRolePay);
  // A hall carries only its own pickup orders, never an ordinary parcel.
  for (const Enterprise* e : zone_.with_role(kRoleLogistics))
    if (!e->has(kRoleHall)) logistics_.push_back(e);
  if (const Enterprise* h = zone_.find(zone_.hallCode); h != nullptr && h->has(kRoleHall))
    hall_ = h;
  if (opt_.share_hall > 0 && hall_ == nullptr)
    return InvalidArgument("share_hall needs a zone with an O2O hall (hallCode, hall role)");
  for (const Enterprise* e : zone_.with_role(kRoleAgent))
    if (e->has(kRoleGuarantor) && agent_ == nullptr) agent_ = e;
  if (platforms_.empty() || ebcs_.empty() || pays_.empty() || logistics_.empty() || !agent_)
    return InvalidArgument("zone lacks a platform, ebc, payment, logistics or guarantor agent");
  for (const BookItem& it : zone_.items) {
    stock_left_[it.itemRecordNo] = it.initial_stock;
    if (it.limited) limited_ = &it;
    if (it.premium) premium_ = &it;
    if (it.off_list) off_list_ = &it;
    if (it.gcode == "9004100000" && !it.premium) sunglasses_ = &it;
  }
  if (!limited_ || !premium_ || !off_list_ || !sunglasses_)
    return InvalidArgument("zone book lacks the limited, premium, off-list or sunglasses item");

  run_tag_ = fmt::format("{:06}", splitmix64(opt_.seed) % 1000000);
  if (opt_.start_time != 0) {
    time_ = opt_.start_time;
  } else {
    time_ = beijing_midnight(CivilDate{2025, 6, 18}) + 8 * kMsPerHour;
  }
  pool_target_ = std::max<size_t>(8, static_cast<size_t>(opt_.count) / 2);
  return Status::Ok();
}

void Generator::plan_faults() {
  const size_t n = static_cast<size_t>(opt_.count);
  plan_.assign(n, Fault::kNone);
  auto kind = [](int k) { return static_cast<Fault>(1 + k % kFaultKinds); };
  if (opt_.faults_round_robin) {
    const size_t faults =
        static_cast<size_t>(std::llround(static_cast<double>(n) * opt_.fault_share));
    int k = 0;
    for (size_t i = 0; i < n; ++i) {
      // Evenly spread: set i is faulty when the running share crosses an integer.
      if ((i + 1) * faults / n > i * faults / n) plan_[i] = kind(k++);
    }
  } else {
    for (size_t i = 0; i < n; ++i)
      if (rng_.chance(opt_.fault_share)) plan_[i] = kind(static_cast<int>(rng_.index(kFaultKinds)));
  }
  // An R5 fault needs enough good sets since the previous one to load its buyer; where there
  // are too few (random plans, tiny runs) it becomes an M1 fault instead.
  constexpr size_t kLoadingSetsMin = 8;
  size_t good_since = 0;
  for (size_t i = 0; i < n; ++i) {
    if (plan_[i] == Fault::kNone) {
      ++good_since;
    } else if (plan_[i] == Fault::kR5) {
      if (good_since < kLoadingSetsMin) {
        plan_[i] = Fault::kM1;
      } else {
        r5_indices_.push_back(i);
        good_since = 0;
      }
    }
  }
  good_before_.assign(n + 1, 0);
  for (size_t i = 0; i < n; ++i)
    good_before_[i + 1] = good_before_[i] + (plan_[i] == Fault::kNone ? 1 : 0);
}

BuyerState Generator::make_buyer() {
  BuyerState s;
  Buyer& b = s.buyer;
  const std::string_view surname = rng_.pick(kSurnames);
  b.name = make_name(rng_, surname);
  const District& home =
      rng_.chance(0.75) ? kDistricts[rng_.index(kHenanDistricts)] : rng_.pick(kDistricts);
  // Where one was born is usually, not always, where one lives.
  const District& born = rng_.chance(0.6) ? home : rng_.pick(kDistricts);
  do {
    const int64_t first = days_from_civil({1960, 1, 1});
    const int64_t last = days_from_civil({2004, 12, 31});
    const CivilDate birth = civil_from_days(rng_.uniform(first, last));
    std::string body = fmt::format("{}{:04}{:02}{:02}{:03}", born.code, birth.year, birth.month,
                                   birth.day, rng_.uniform(1, 999));
    b.idNumber = body + id_check_char(body);
  } while (!used_ids_.insert(b.idNumber).second);
  static constexpr std::array<std::string_view, 14> kMobilePrefixes = {
      "130", "131", "132", "135", "136", "137", "138",
      "139", "150", "158", "177", "186", "188", "199"};
  do {
    b.phone = fmt::format("{}{:08}", rng_.pick(kMobilePrefixes), rng_.uniform(0, 99999999));
  } while (!used_phones_.insert(b.phone).second);
  b.regNo = fmt::format("U{:012}", rng_.uniform(1, 999999999999));
  b.address = fmt::format("{}{}{}号{}{}号楼{}单元{}室", home.prefix, rng_.pick(home.streets),
                          rng_.uniform(1, 299), rng_.pick(kCompounds), rng_.uniform(1, 36),
                          rng_.uniform(1, 4), rng_.uniform(1, 32) * 100 + rng_.uniform(1, 4));
  b.district = std::string(home.code);
  s.consignee = rng_.chance(0.85) ? b.name : make_name(rng_, surname);
  return s;
}

// A buyer from the pool, so that some buyers come back several times; grows the pool until it
// reaches its target size. Buyers without the headroom are passed over. Returning buyers are
// drawn uniformly: a consumer buys a few times a day at most, while a handful of buyers with
// dozens of lists a day would be the professional shoppers (代购) that the risk rules flag (§9),
// which is not what well-formed demo traffic should look like.
BuyerState* Generator::pick_pool_buyer(int year, Fen headroom_min_fen) {
  const Fen annual = ref_.policy_at({year, 1, 1}).annual_limit_fen;
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (pool_.size() < pool_target_ && (pool_.empty() || rng_.chance(0.55))) {
      pool_.push_back(make_buyer());
      return &pool_.back();
    }
    const uint64_t u = rng_.next() >> 32;
    const size_t idx = static_cast<size_t>(u * pool_.size() >> 32);
    BuyerState& b = pool_[std::min(idx, pool_.size() - 1)];
    if (annual - b.total(year) >= headroom_min_fen) return &b;
  }
  pool_.push_back(make_buyer());
  return &pool_.back();
}

bool Generator::eligible(const BookItem& item, Mode mode, CivilDate date) const {
  if (item.limited && mode == Mode::k9610) return false;  // bonded stock only
  if (item.premium || item.off_list) return false;
  const ref::PositiveListEntry* pl =
      ref_.positive_list(std::string_view(item.gcode).substr(0, 8), date);
  if (pl == nullptr || ref_.tax_rate(item.gcode, date) == nullptr) return false;
  if (pl->bonded_only && mode == Mode::k9610) return false;
  if (!pl->name_must_contain.empty() && item.name.find(pl->name_must_contain) == std::string::npos)
    return false;
  return true;
}

bool Generator::fits(const BookItem& item, int64_t qty, const BuyerState& b, int year,
                     CivilDate date, Mode mode) const {
  if (mode == Mode::k1210 && stock_left_.at(item.itemRecordNo) < qty) return false;
  const ref::PositiveListEntry* pl =
      ref_.positive_list(std::string_view(item.gcode).substr(0, 8), date);
  if (pl != nullptr && pl->yearly_cap_units > 0) {
    if (pl->yearly_cap_unit != item.unit1) return false;  // cannot compare: keep clear of it
    auto it = b.capped.find({year, pl->tariff8});
    const int64_t used = it == b.capped.end() ? 0 : it->second;
    if (used + qty * item.qty1_per_unit_units > pl->yearly_cap_units) return false;
  }
  return true;
}

// Fills *out with 1..max_lines distinct items whose goods value lies in
// [min_goods_fen, max_goods_fen]. Small baskets take 1–4 lines of mostly single units; big
// baskets (loading a buyer) take as much as fits.
bool Generator::build_basket(Mode mode, const BuyerState& b, int year, CivilDate date,
                             Fen min_goods_fen, Fen max_goods_fen, int max_lines, bool big,
                             std::vector<Line>* out) {
  std::vector<const BookItem*> candidates;
  for (const BookItem& it : zone_.items)
    if (eligible(it, mode, date)) candidates.push_back(&it);
  if (candidates.empty()) return false;
  Fen price_sum = 0;
  for (const BookItem* c : candidates) price_sum += c->price_fen;
  auto pick_by_price = [&](const std::vector<const BookItem*>& v) {
    Fen r = rng_.uniform(0, price_sum - 1);
    size_t i = 0;
    while (r >= v[i]->price_fen) r -= v[i++]->price_fen;
    return i;
  };
  for (int attempt = 0; attempt < 30; ++attempt) {
    out->clear();
    Fen goods = 0;
    int want = max_lines;
    if (!big) {
      const int64_t r = rng_.uniform(1, 100);
      want = std::min<int>(max_lines, r <= 45 ? 1 : r <= 75 ? 2 : r <= 92 ? 3 : 4);
    }
    for (int tries = 0; tries < 24 && static_cast<int>(out->size()) < want; ++tries) {
      if (big && goods >= min_goods_fen) break;
      // Big baskets favour dear items (chance ∝ price) so that a few lines reach the target.
      const BookItem* item = big ? candidates[pick_by_price(candidates)] : rng_.pick(candidates);
      if (std::any_of(out->begin(), out->end(), [&](const Line& l) { return l.item == item; }))
        continue;
      const int64_t room = (max_goods_fen - goods) / item->price_fen;
      if (room < 1) continue;
      int64_t qty;
      if (big) {
        qty = rng_.uniform(1, std::min<int64_t>(3, room));
      } else {
        const int64_t r = rng_.uniform(1, 100);
        qty = std::min<int64_t>(room, r <= 72 ? 1 : r <= 93 ? 2 : 3);
      }
      while (qty > 0 && !fits(*item, qty, b, year, date, mode)) --qty;
      if (qty == 0) continue;
      out->push_back({item, qty});
      goods += item->price_fen * qty;
    }
    if (!out->empty() && goods >= min_goods_fen && goods <= max_goods_fen) return true;
  }
  out->clear();
  return false;
}

Fen goods_fen(const std::vector<Line>& lines) {
  Fen sum = 0;
  for (const Line& l : lines) sum += l.item->price_fen * l.qty;
  return sum;
}

std::string tariff8(const BookItem& item) { return item.gcode.substr(0, 8); }

Status Generator::make_set(size_t index, Fault fault, DocSet* out) {
  const TimeMs t = time_;
  time_ += rng_.uniform(1, 6) * kMsPerSecond;
  const TimeMs list_time = t + 3 * kMsPerSecond;
  const CivilDate date = beijing_date(list_time);
  const int year = date.year;
  const ref::Policy& policy = ref_.policy_at(date);
  const Fen limit = policy.transaction_limit_fen;
  const Fen annual = policy.annual_limit_fen;

  // Faults that concern the account book are bonded; the rest follow the configured mix.
  const bool needs_book = fault == Fault::kM8 || fault == Fault::kR3 || fault == Fault::kR6 ||
                          fault == Fault::kR5 || fault == Fault::kR4;
  Mode mode = (!needs_book && rng_.chance(opt_.share_9610)) ? Mode::k9610 : Mode::k1210;
  const Fen freight_fen = rng_.chance(0.4) ? 0 : rng_.uniform(5, 20) * 100;
  // Ordinary baskets stay well clear of the transaction limit.
  const Fen small_max_fen = limit - 20000 - freight_fen;

  BuyerState* buyer = nullptr;
  BuyerState scratch;  // buyers that must not enter the pool (R2)
  std::vector<Line> lines;
  bool full_tax = false;
  bool loading = false;

  // Is this good set one of the loads of the next R5 fault's buyer?
  const Fen r5_target_fen = annual - limit * 7 / 10;
  if (fault == Fault::kNone && next_r5_ < r5_indices_.size()) {
    if (r5_buyers_.size() <= next_r5_) r5_buyers_.push_back(make_buyer());
    BuyerState& rb = r5_buyers_[next_r5_];
    const Fen missing = r5_target_fen - rb.total(year);
    if (missing > 0) {
      const size_t j = r5_indices_[next_r5_];
      const size_t slots_left = good_before_[j] - good_before_[index];  // including this set
      const size_t loads_needed = static_cast<size_t>((missing + limit / 2 - 1) / (limit / 2));
      if (slots_left <= loads_needed + 1 || rng_.chance(0.3)) {
        const Fen max_goods = std::min(limit - 30000, annual - rb.total(year)) - freight_fen;
        if (build_basket(Mode::k1210, rb, year, date, limit * 7 / 10, max_goods, 4, true, &lines)) {
          buyer = &rb;
          mode = Mode::k1210;  // 9610 lists wait for arrival; the load must be released
          loading = true;
        }
      }
    }
  }

  if (!loading) switch (fault) {
      case Fault::kNone: {
        if (rng_.chance(opt_.share_full_tax) && stock_left_.at(premium_->itemRecordNo) > 0 &&
            premium_->price_fen + freight_fen > limit) {
          const Fen v = premium_->price_fen + freight_fen;
          buyer = pick_pool_buyer(year, v);
          if (annual - buyer->total(year) >= v) {
            lines = {{premium_, 1}};
            full_tax = true;
            mode = Mode::k1210;
            break;
          }
        }
        buyer = pick_pool_buyer(year, 50000);
        const Fen max_goods = std::min(small_max_fen, annual - buyer->total(year) - freight_fen);
        if (!build_basket(mode, *buyer, year, date, 1, max_goods, 4, false, &lines))
          return Internal(fmt::format("set {}: no goods fit a good basket", index + 1));
        break;
      }
      case Fault::kR2: {
        scratch = make_buyer();
        std::string& id = scratch.buyer.idNumber;
        static constexpr std::string_view kChecks = "10X98765432";
        const size_t right = kChecks.find(id.back());
        id.back() = kChecks[(right + 1 + rng_.index(10)) % 11];
        buyer = &scratch;
        if (!build_basket(mode, *buyer, year, date, 1, small_max_fen, 4, false, &lines))
          return Internal("no goods fit an R2 basket");
        break;
      }
      case Fault::kR4: {
        // More than one item, together over the limit (DOMAIN §7: 2 × 3,000.00 is rejected).
        buyer = pick_pool_buyer(year, limit + 200000);
        const int64_t qty = rng_.uniform(2, 3);
        lines = {{sunglasses_, qty}};
        Fen goods = sunglasses_->price_fen * qty;
        // Dearer everyday items top the basket up, a few units at a time, so it stays short.
        std::vector<const BookItem*> others;
        for (const BookItem& it : zone_.items)
          if (&it != sunglasses_ && !it.limited && it.price_fen >= 15000 &&
              eligible(it, mode, date))
            others.push_back(&it);
        for (int tries = 0; goods + freight_fen <= limit && tries < 200; ++tries) {
          const BookItem* item = rng_.pick(others);
          if (std::any_of(lines.begin(), lines.end(),
                          [&](const Line& l) { return l.item == item; }))
            continue;
          const int64_t needed = limit - goods - freight_fen;
          const int64_t units = std::min<int64_t>(3, needed / item->price_fen + 1);
          if (!fits(*item, units, *buyer, year, date, mode)) continue;
          lines.push_back({item, units});
          goods += item->price_fen * units;
        }
        if (goods + freight_fen <= limit || annual - buyer->total(year) < goods + freight_fen)
          return Internal("cannot build an R4 basket within the annual limit");
        break;
      }
      case Fault::kR5: {
        BuyerState& rb = r5_buyers_.at(next_r5_);
        ++next_r5_;
        buyer = &rb;
        const Fen min_goods = std::max<Fen>(1, annual - rb.total(year) - freight_fen + 1);
        const Fen max_goods = limit - 10000 - freight_fen;
        if (min_goods > max_goods ||
            !build_basket(mode, rb, year, date, min_goods, max_goods, 4, true, &lines))
          return Internal(fmt::format("set {}: R5 buyer holds {} of {}, no basket crosses it",
                                      index + 1, format_fen(rb.total(year)), format_fen(annual)));
        break;
      }
      case Fault::kR6: {
        buyer = pick_pool_buyer(year, 100000);
        // One more than remains: the lists before this one have taken the rest.
        lines = {{limited_, stock_left_.at(limited_->itemRecordNo) + 1}};
        if (goods_fen(lines) + freight_fen > small_max_fen)
          return Internal("the limited item is too expensive for an R6 basket");
        break;
      }
      default: {  // M1–M9, R3: an ordinary basket, spoiled below
        buyer = pick_pool_buyer(year, 50000);
        const Fen max_goods =
            std::min(small_max_fen - off_list_->price_fen,
                     annual - buyer->total(year) - freight_fen - off_list_->price_fen);
        if (!build_basket(mode, *buyer, year, date, 1, max_goods, 3, false, &lines))
          return Internal("no goods fit a basket");
        if (fault == Fault::kR3) {
          lines.insert(lines.begin() + static_cast<ptrdiff_t>(rng_.index(lines.size() + 1)),
                       Line{off_list_, 1});
        }
        break;
      }
    }

  Fen discount_fen = 0;
  if (fault == Fault::kNone && !full_tax && rng_.chance(opt_.share_discount)) {
    static constexpr std::array<Fen, 4> kCoupons = {500, 1000, 2000, 5000};
    discount_fen = rng_.pick(kCoupons);
    if (discount_fen * 2 > goods_fen(lines)) discount_fen = 0;
  }

  TRY(fill_documents(index, fault, mode, *buyer, lines, freight_fen, discount_fen, t, full_tax,
                     out));
  out->expected.fault = fault;
  if (fault == Fault::kNone) commit_good(*out, buyer, mode, lines, year);
  return Status::Ok();
}

Status Generator::fill_documents(size_t index, Fault fault, Mode mode, const BuyerState& bs,
                                 const std::vector<Line>& lines, Fen freight_fen, Fen discount_fen,
                                 TimeMs t, bool full_tax, DocSet* out) {
  const Buyer& b = bs.buyer;
  const Platform& platform = platforms_[rng_.index(platforms_.size())];
  const Enterprise* ebp = platform.e;
  const Enterprise* ebc = rng_.pick(ebcs_);
  const Enterprise* pay = rng_.pick(pays_);
  const Enterprise* logi = rng_.pick(logistics_);
  // Bonded goods only: the hall shows and hands over stock of the account book.
  const bool at_hall =
      opt_.share_hall > 0 && mode == Mode::k1210 && rng_.chance(opt_.share_hall);
  if (at_hall) logi = hall_;
  // The agent usually guarantees; an ebc or logistics company that is a guarantor sometimes.
  const Enterprise* assure = agent_;
  if (rng_.chance(0.3)) {
    const Enterprise* other = rng_.chance(0.5) ? ebc : logi;
    if (other->has(kRoleGuarantor)) assure = other;
  }

  const std::string seq = fmt::format("{:07}", index + 1);
  const TimeMs pay_time = t + 1 * kMsPerSecond;
  const TimeMs waybill_time = t + 2 * kMsPerSecond;
  const TimeMs list_time = t + 3 * kMsPerSecond;
  const CivilDate decl_date = beijing_date(list_time);
  // A hall order's number ends in six digits that differ from order to order: the hall's board
  // and counter show only those (DOMAIN.md §4.3), so they must not repeat within a run.
  const std::string orderNo =
      at_hall ? fmt::format("{}{}{}{:06}", platform.order_prefix, format_date8(beijing_date(t)),
                            seq, splitmix64(opt_.seed * 1000003 + index) % 1000000)
              : fmt::format("{}{}{}{}", platform.order_prefix, format_date8(beijing_date(t)),
                            run_tag_, seq);
  const std::string payTransactionId =
      fmt::format("{}{}{}{}", pay == pays_.front() ? "ZYYF" : "ZYT", format_datetime14(pay_time),
                  run_tag_, seq);
  const std::string logisticsNo =
      fmt::format("{}{}{}", at_hall ? "O2O" : logi == logistics_.front() ? "ZYSY" : "HKG",
                  run_tag_, seq);
  const std::string copNo = fmt::format("BS{}{}", run_tag_, seq);

  // ---- Order
  ceb::Order& order = out->order;
  ceb::OrderHead& oh = order.head;
  oh.guid = next_guid();
  oh.appType = "1";
  oh.appTime = format_datetime14(t);
  oh.appStatus = "2";
  oh.orderType = "I";
  oh.orderNo = orderNo;
  oh.ebpCode = ebp->code;
  oh.ebpName = ebp->name;
  oh.ebcCode = ebc->code;
  oh.ebcName = ebc->name;
  oh.currency = "142";
  oh.buyerRegNo = b.regNo;
  oh.buyerName = b.name;
  oh.buyerTelephone = b.phone;
  oh.buyerIdType = "1";
  oh.buyerIdNumber = b.idNumber;
  oh.payCode = pay->code;
  oh.payName = pay->name;
  oh.payTransactionId = payTransactionId;
  // A hall buyer collects in person: the consignee is the buyer, the address the hall's.
  oh.consignee = at_hall ? b.name : bs.consignee;
  oh.consigneeTelephone = b.phone;
  oh.consigneeAddress = at_hall ? zone_.hallAddress : b.address;
  oh.consigneeDistrict = b.district;

  ceb::Inventory& list = out->inventory;
  ceb::InventoryHead& ih = list.head;
  Fen goods = 0;
  int64_t net_g = 0;
  std::string goods_info;
  // M5 spoils one order line's total before the sums and the tax are taken, and the list
  // repeats the order's figures: so M6 and M1 hold and only price × qty is wrong.
  const size_t m5_line = fault == Fault::kM5 ? rng_.index(lines.size()) : lines.size();
  if (fault == Fault::kM5) {
    out->expected.field = fmt::format("Order/OrderList[{}]/totalPrice", m5_line + 1);
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const BookItem& it = *lines[i].item;
    const int64_t qty = lines[i].qty;
    const Fen total = it.price_fen * qty + (i == m5_line ? 100 : 0);
    goods += total;
    net_g += it.net_weight_g * qty;
    ceb::OrderList ol;
    ol.gnum = static_cast<int64_t>(i + 1);
    ol.itemNo = fmt::format("SKU{}-{}", it.gcode, it.itemRecordNo);
    ol.itemName = it.name;
    ol.gmodel = it.gmodel;
    ol.barCode = it.barCode;
    ol.unit = it.unit;
    ol.qty = Decimal::of_int(qty);
    ol.price = fen_to_decimal(it.price_fen);
    ol.totalPrice = fen_to_decimal(total);
    ol.currency = "142";
    ol.country = it.country;
    order.lists.push_back(ol);

    ceb::InventoryList il;
    il.gnum = ol.gnum;
    if (mode == Mode::k1210) il.itemRecordNo = it.itemRecordNo;
    il.itemNo = ol.itemNo;
    il.itemName = it.name;
    il.gcode = it.gcode;
    il.gname = it.name;
    il.gmodel = it.gmodel;
    il.barCode = it.barCode;
    il.country = it.country;
    il.currency = "142";
    il.qty = ol.qty;
    il.unit = it.unit;
    il.qty1 = Decimal::of_units(it.qty1_per_unit_units * qty);
    il.unit1 = it.unit1;
    il.price = ol.price;
    il.totalPrice = ol.totalPrice;
    list.lists.push_back(il);
    if (i == 0) goods_info = it.name;
  }
  if (lines.size() > 1) goods_info += fmt::format("等{}种商品", lines.size());
  const int64_t gross_g = net_g + net_g * 15 / 100 + 150;  // carton, filling, ice packs

  ih.guid = next_guid();
  ih.appType = "1";
  ih.appTime = format_datetime14(list_time);
  ih.appStatus = "2";
  ih.orderNo = orderNo;
  ih.ebpCode = ebp->code;
  ih.ebpName = ebp->name;
  ih.ebcCode = ebc->code;
  ih.ebcName = ebc->name;
  ih.logisticsNo = logisticsNo;
  ih.logisticsCode = logi->code;
  ih.logisticsName = logi->name;
  ih.copNo = copNo;
  ih.assureCode = assure->code;
  ih.ieFlag = "I";
  ih.declTime = format_date8(decl_date);
  ih.customsCode = zone_.customsCode;
  ih.portCode = zone_.portCode;
  ih.buyerIdType = "1";
  ih.buyerIdNumber = b.idNumber;
  ih.buyerName = b.name;
  ih.buyerTelephone = b.phone;
  ih.consigneeAddress = oh.consigneeAddress;
  ih.agentCode = agent_->code;
  ih.agentName = agent_->name;
  ih.freight = fen_to_decimal(freight_fen);
  ih.insuredFee = fen_to_decimal(0);
  ih.currency = "142";
  ih.wrapType = "2";  // carton
  ih.packNo = 1;
  ih.grossWeight = Decimal::of_units(gross_g * (kDecimalScale / 1000));
  ih.netWeight = Decimal::of_units(net_g * (kDecimalScale / 1000));
  std::string billNo;
  if (mode == Mode::k1210) {
    ih.emsNo = zone_.emsNo;
    ih.areaCode = zone_.areaCode;
    ih.areaName = zone_.areaName;
    ih.tradeMode = "1210";
    ih.trafMode = "4";  // the second-line exit leg leaves the zone by road
    ih.country = "142";
  } else {
    // Direct mail arrives by air at Zhengzhou airport under a master air waybill.
    ih.tradeMode = "9610";
    ih.trafMode = "5";
    ih.trafNo = fmt::format("CK{}", 200 + rng_.uniform(0, 99));
    ih.voyageNo = fmt::format("{}{}", ih.trafNo, format_date8(decl_date).substr(4));
    billNo = fmt::format("112-{:08}", rng_.uniform(0, 99999999));
    ih.billNo = billNo;
    ih.ieDate = format_date8(decl_date);
    ih.country = lines.front().item->country;
  }

  // ---- Tax: what the list will bear, which the order declares as taxTotal (M1).
  std::vector<tax::LineInput> tax_lines;
  for (const ceb::InventoryList& il : list.lists)
    tax_lines.push_back({il.gnum, il.gcode, il.qty, il.unit, il.qty1, il.unit1, il.totalPrice});
  tax::ListInput in{tax_lines, ih.freight, ih.insuredFee, fen_to_decimal(discount_fen), decl_date};
  const ref::Policy& policy = ref_.policy_at(decl_date);
  const Fen dutiable = tax::dutiable_value_fen(in, policy);
  const tax::Regime regime = full_tax ? tax::Regime::kFull : tax::Regime::kPreferential;
  Result<tax::ListTax> tax = tax::compute(in, regime, ref_);
  if (!tax.ok())
    return Internal(fmt::format("set {}: tax: {}", index + 1, tax.status().ToString()));
  const Fen tax_fen = tax->total_fen();
  const Fen paid_fen = goods + freight_fen + tax_fen - discount_fen;

  oh.goodsValue = fen_to_decimal(goods);
  oh.freight = fen_to_decimal(freight_fen);
  oh.discount = fen_to_decimal(discount_fen);
  oh.taxTotal = fen_to_decimal(tax_fen);
  oh.acturalPaid = fen_to_decimal(paid_fen);

  // ---- Payment
  ceb::PaymentHead& ph = out->payment.head;
  ph.guid = next_guid();
  ph.appType = "1";
  ph.appTime = format_datetime14(pay_time);
  ph.appStatus = "2";
  ph.payCode = pay->code;
  ph.payName = pay->name;
  ph.payTransactionId = payTransactionId;
  ph.orderNo = orderNo;
  ph.ebpCode = ebp->code;
  ph.ebpName = ebp->name;
  ph.payerIdType = "1";
  ph.payerIdNumber = b.idNumber;
  ph.payerName = b.name;
  ph.telephone = b.phone;
  ph.amountPaid = oh.acturalPaid;
  ph.currency = "142";
  ph.payTime = format_datetime14(pay_time);

  // ---- Waybill
  ceb::LogisticsHead& lh = out->waybill.head;
  lh.guid = next_guid();
  lh.appType = "1";
  lh.appTime = format_datetime14(waybill_time);
  lh.appStatus = "2";
  lh.logisticsCode = logi->code;
  lh.logisticsName = logi->name;
  lh.logisticsNo = logisticsNo;
  lh.billNo = billNo;
  lh.orderNo = orderNo;
  lh.freight = oh.freight;
  lh.insuredFee = ih.insuredFee;
  lh.currency = "142";
  lh.weight = ih.grossWeight;
  lh.packNo = 1;
  lh.goodsInfo = goods_info;
  lh.consignee = oh.consignee;
  lh.consigneeAddress = oh.consigneeAddress;
  lh.consigneeTelephone = oh.consigneeTelephone;

  out->expected.tax = std::move(tax).value();
  out->expected.dutiable_fen = dutiable;
  return Status::Ok();
}

void Generator::commit_good(const DocSet& set, BuyerState* b, Mode mode,
                            const std::vector<Line>& lines, int year) {
  b->year_total_fen[year] += set.expected.dutiable_fen;
  const CivilDate date = *parse_date8(set.inventory.head.declTime);
  for (const Line& l : lines) {
    units_used_[l.item->itemRecordNo] += l.qty;
    if (mode == Mode::k1210) stock_left_[l.item->itemRecordNo] -= l.qty;
    const ref::PositiveListEntry* pl = ref_.positive_list(tariff8(*l.item), date);
    if (pl != nullptr && pl->yearly_cap_units > 0)
      b->capped[{year, pl->tariff8}] += l.qty * l.item->qty1_per_unit_units;
  }
  tax_by_guarantor_[set.inventory.head.assureCode] += set.expected.tax.total_fen();
}

// Spoils a finished set so that it breaks exactly the rule of `fault`.
void apply_fault(Fault fault, Rng& rng, const Zone& zone, DocSet* s) {
  ceb::OrderHead& oh = s->order.head;
  ceb::PaymentHead& ph = s->payment.head;
  ceb::InventoryHead& ih = s->inventory.head;
  Expected& e = s->expected;
  e.rule = std::string(fault_rule(fault));
  if (fault == Fault::kNone) return;
  const size_t k = rng.index(s->order.lists.size());  // the line a line fault concerns
  const std::string line = std::to_string(k + 1);
  switch (fault) {
    case Fault::kNone:
      break;
    case Fault::kM1:
      oh.acturalPaid.units += kUnitsPerFen;
      ph.amountPaid = oh.acturalPaid;
      e.field = "Order/OrderHead/acturalPaid";
      break;
    case Fault::kM2:
      ph.amountPaid.units += rng.uniform(1, 500) * kUnitsPerFen;
      e.field = "Payment/PaymentHead/amountPaid";
      break;
    case Fault::kM3: {
      std::string other;
      do other = make_name(rng, rng.pick(kSurnames));
      while (other == oh.buyerName);
      ph.payerName = other;
      e.field = "Payment/PaymentHead/payerName";
      break;
    }
    case Fault::kM4: {
      std::string& phone = s->waybill.head.consigneeTelephone;
      phone.back() = phone.back() == '9' ? '0' : static_cast<char>(phone.back() + 1);
      e.field = "Logistics/LogisticsHead/consigneeTelephone";
      break;
    }
    case Fault::kM5:  // applied while the documents were filled (fill_documents)
      break;
    case Fault::kM6:
      s->inventory.lists[k].gname += "(礼盒装)";
      e.field = "Inventory/InventoryList[" + line + "]/gname";
      break;
    case Fault::kM7: {
      std::string& id = oh.payTransactionId;
      id.back() = id.back() == '9' ? '0' : static_cast<char>(id.back() + 1);
      e.field = "Order/OrderHead/payTransactionId";
      break;
    }
    case Fault::kM8:
      ih.emsNo.clear();
      e.field = "Inventory/InventoryHead/emsNo";
      break;
    case Fault::kM9: {
      std::string code = "4101969999";
      while (zone.find(code) != nullptr) code.back() = static_cast<char>(code.back() - 1);
      ih.assureCode = code;
      e.field = "Inventory/InventoryHead/assureCode";
      break;
    }
    case Fault::kR2:
    case Fault::kR5:
      e.field = "Inventory/InventoryHead/buyerIdNumber";
      break;
    case Fault::kR3:
      for (size_t i = 0; i < s->inventory.lists.size(); ++i)
        if (s->inventory.lists[i].gcode == "2402200000")
          e.field = "Inventory/InventoryList[" + std::to_string(i + 1) + "]/gcode";
      break;
    case Fault::kR4:
      e.field = "Inventory/InventoryHead";
      break;
    case Fault::kR6:
      for (size_t i = 0; i < s->inventory.lists.size(); ++i)
        if (!s->inventory.lists[i].itemRecordNo.empty() &&
            zone.item(s->inventory.lists[i].itemRecordNo)->limited)
          e.field = "Inventory/InventoryList[" + std::to_string(i + 1) + "]/qty";
      break;
  }
}

Result<Generated> Generator::run() {
  TRY(setup());
  plan_faults();
  Generated g;
  g.sets.resize(static_cast<size_t>(opt_.count));
  for (size_t i = 0; i < g.sets.size(); ++i) {
    TRY(make_set(i, plan_[i], &g.sets[i]));
    apply_fault(plan_[i], rng_, zone_, &g.sets[i]);
  }
  g.tax_by_guarantor_fen.assign(tax_by_guarantor_.begin(), tax_by_guarantor_.end());
  g.units_by_item.assign(units_used_.begin(), units_used_.end());
  return g;
}

}  // namespace

char id_check_char(std::string_view body17) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  CBEC_ASSERT(body17.size() == 17);
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    CBEC_ASSERT(body17[i] >= '0' && body17[i] <= '9');
    sum += (body17[i] - '0') * kWeights[i];
  }
  return "10X98765432"[sum % 11];
}

std::string_view fault_rule(Fault f) {
  static constexpr std::array<std::string_view, kFaultKinds + 1> kRules = {
      "", "M1", "M2", "M3", "M4", "M5", "M6", "M7", "M8", "M9", "R2", "R3", "R4", "R5", "R6"};
  return kRules[static_cast<size_t>(f)];
}

Result<Generated> generate(const Zone& zone, const Options& options,
                           const ref::ReferenceData& reference) {
  Generator g(zone, options, reference);
  return g.run();
}

Result<Generated> generate(const Zone& zone, const Options& options) {
  auto ref = ref::ReferenceData::LoadDefaults();
  if (!ref.ok()) return ref.status();
  return generate(zone, options, **ref);
}

// ---- Messages -----------------------------------------------------------------------------

namespace {

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

template <class Rec>
void group(const Zone& zone, std::span<const DocSet> sets, ceb::MessageType type,
           const Rec* (*record)(const DocSet&), std::string (*sender)(const Rec&),
           std::string (*sender_name)(const Rec&), std::vector<Rec> ceb::Message::*field,
           std::vector<ceb::Message>* out) {
  std::vector<std::string> senders;  // in order of first appearance
  std::map<std::string, std::vector<const Rec*>> by_sender;
  for (const DocSet& s : sets) {
    const Rec* r = record(s);
    auto [it, fresh] = by_sender.try_emplace(sender(*r));
    if (fresh) senders.push_back(it->first);
    it->second.push_back(r);
  }
  for (const std::string& code : senders) {
    const std::vector<const Rec*>& recs = by_sender[code];
    for (size_t start = 0; start < recs.size(); start += ceb::kMaxRecordsPerMessage) {
      const size_t end = std::min(recs.size(), start + ceb::kMaxRecordsPerMessage);
      ceb::Message m;
      m.type = type;
      m.version = "1.0";
      uint64_t h1 = fnv1a(0xCBF29CE484222325ull, ceb::message_root_name(type));
      uint64_t h2 = fnv1a(0x84222325CBF29CE4ull, code);
      for (size_t i = start; i < end; ++i) {
        (m.*field).push_back(*recs[i]);
        h1 = fnv1a(h1, recs[i]->head.guid);
        h2 = fnv1a(h2, recs[i]->head.guid);
      }
      m.guid = uuid_from(splitmix64(h1), splitmix64(h2 ^ h1));
      const Enterprise* e = zone.find(code);
      m.transfer.copCode = code;
      m.transfer.copName = e ? e->name : sender_name(*recs[start]);
      m.transfer.dxpMode = "DXP";
      m.transfer.dxpId = "DXPENT0000000001";
      out->push_back(std::move(m));
    }
  }
}

}  // namespace

std::vector<ceb::Message> to_messages(const Zone& zone, std::span<const DocSet> sets,
                                      ceb::MessageType type) {
  std::vector<ceb::Message> out;
  switch (type) {
    case ceb::MessageType::kCEB311:
      group<ceb::Order>(
          zone, sets, type, [](const DocSet& s) { return &s.order; },
          [](const ceb::Order& r) { return r.head.ebpCode; },
          [](const ceb::Order& r) { return r.head.ebpName; }, &ceb::Message::orders, &out);
      break;
    case ceb::MessageType::kCEB411:
      group<ceb::Payment>(
          zone, sets, type, [](const DocSet& s) { return &s.payment; },
          [](const ceb::Payment& r) { return r.head.payCode; },
          [](const ceb::Payment& r) { return r.head.payName; }, &ceb::Message::payments, &out);
      break;
    case ceb::MessageType::kCEB511:
      group<ceb::Logistics>(
          zone, sets, type, [](const DocSet& s) { return &s.waybill; },
          [](const ceb::Logistics& r) { return r.head.logisticsCode; },
          [](const ceb::Logistics& r) { return r.head.logisticsName; }, &ceb::Message::waybills,
          &out);
      break;
    case ceb::MessageType::kCEB621:
      group<ceb::Inventory>(
          zone, sets, type, [](const DocSet& s) { return &s.inventory; },
          [](const ceb::Inventory& r) { return r.head.agentCode; },
          [](const ceb::Inventory& r) { return r.head.agentName; }, &ceb::Message::inventories,
          &out);
      break;
    default:
      CBEC_ASSERT(false && "to_messages: only CEB311/411/511/621");
  }
  return out;
}

}  // namespace cbec::gen
