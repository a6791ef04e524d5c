// The demo zone: a Zhengzhou-style bonded zone (customs 4612) with its parties and account book.
//
// Codes are 10-character customs registration codes of the 4101 (Zhengzhou) area; names are
// invented but shaped like real registrations. Prices, origins and legal quantities are
// realistic for the goods, and chosen so that the tax cases of DOMAIN.md §7 appear: infant
// formula 298.00 (VAT only), serum 50 ml at 650.00 (high-end cosmetics, CT 15 %), lotion 100 ml
// at 80.00 (not high-end), wine 300.00 (CT 10 %), premium sunglasses 6,000.00 (full tax).
#include <string>
#include <string_view>

#include "gen/gen.h"

namespace cbec::gen {
namespace {

constexpr int64_t kUnitsPerKg = kDecimalScale;  // qty1 in kg (035) or L (095), Decimal units

// EAN-13 from its first 12 digits: the check digit makes the weighted sum (1, 3, 1, 3, ...) a
// multiple of 10, so scanners and the platform's SKU checks accept it.
std::string ean13(std::string_view first12) {
  int sum = 0;
  for (size_t i = 0; i < first12.size(); ++i) sum += (first12[i] - '0') * (i % 2 == 0 ? 1 : 3);
  std::string out(first12);
  out += static_cast<char>('0' + (10 - sum % 10) % 10);
  return out;
}

BookItem make_item(std::string_view no, std::string_view gcode, std::string_view name,
                   std::string_view gmodel, std::string_view barCode, std::string_view unit,
                   std::string_view unit1, int64_t qty1_milli, int64_t net_weight_g, Fen price_fen,
                   std::string_view country, int64_t initial_stock) {
  BookItem it;
  it.itemRecordNo = no;
  it.gcode = gcode;
  it.name = name;
  it.gmodel = gmodel;
  it.barCode = ean13(barCode);
  it.unit = unit;
  it.unit1 = unit1;
  it.qty1_per_unit_units = qty1_milli * kUnitsPerKg / 1000;
  it.net_weight_g = net_weight_g;
  it.price_fen = price_fen;
  it.country = country;
  it.initial_stock = initial_stock;
  return it;
}

}  // namespace

std::string role_names(uint32_t roles) {
  static constexpr std::pair<Role, std::string_view> kNames[] = {{kRoleEbp, "ebp"},
                                                                 {kRoleEbc, "ebc"},
                                                                 {kRoleAgent, "agent"},
                                                                 {kRolePay, "pay"},
                                                                 {kRoleLogistics, "logistics"},
                                                                 {kRoleOperator, "operator"},
                                                                 {kRoleGuarantor, "guarantor"},
                                                                 {kRoleHall, "hall"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if ((roles & bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

const Enterprise* Zone::find(std::string_view code) const {
  for (const Enterprise& e : enterprises)
    if (e.code == code) return &e;
  return nullptr;
}

std::vector<const Enterprise*> Zone::with_role(Role r) const {
  std::vector<const Enterprise*> out;
  for (const Enterprise& e : enterprises)
    if (e.has(r)) out.push_back(&e);
  return out;
}

const BookItem* Zone::item(std::string_view itemRecordNo) const {
  for (const BookItem& it : items)
    if (it.itemRecordNo == itemRecordNo) return &it;
  return nullptr;
}

Zone demo_zone() {
  using ref::CreditGrade;
  Zone z;
  z.customsCode = "4612";
  z.portCode = "4612";
  z.emsNo = "T4612W000001";
  z.areaCode = "4101960003";
  z.areaName = "河南保税物流中心仓储服务有限公司";
  z.hallCode = "4101960011";
  z.hallAddress = "河南省郑州市经济技术开发区经北四路保税物流中心O2O体验中心自提点";
  z.enterprises = {
      {"4101960001", "郑州跨境优选平台有限公司", kRoleEbp, CreditGrade::kAdvancedCertified, 0},
      {"4101960002", "中原全球购电子商务有限公司", kRoleEbp, CreditGrade::kCertified, 0},
      // The declaring agent runs the bonded warehouse and guarantees the tax of its lists.
      {"4101960003", "河南保税物流中心仓储服务有限公司",
       kRoleAgent | kRoleOperator | kRoleGuarantor, CreditGrade::kAdvancedCertified,
       1000000000},  // 10,000,000.00
      {"4101960004", "郑州优选进口贸易有限公司", kRoleEbc, CreditGrade::kCertified, 0},
      {"4101960005", "河南海外直采贸易有限公司", kRoleEbc | kRoleGuarantor, CreditGrade::kRegular,
       200000000},  // 2,000,000.00
      {"4101960006", "中原环球母婴用品有限公司", kRoleEbc, CreditGrade::kRegular, 0},
      {"4101960007", "中原易付支付服务有限公司", kRolePay, CreditGrade::kCertified, 0},
      {"4101960008", "郑银通支付科技有限公司", kRolePay, CreditGrade::kRegular, 0},
      {"4101960009", "中原速运国际物流有限公司", kRoleLogistics | kRoleGuarantor,
       CreditGrade::kCertified, 200000000},
      {"4101960010", "郑州航空港国际快递有限公司", kRoleLogistics, CreditGrade::kRegular, 0},
      // The hall issues its own pickup waybill at checkout: it is the last-mile carrier too.
      {"4101960011", "郑州跨境O2O体验中心有限公司", kRoleHall | kRoleLogistics,
       CreditGrade::kRegular, 0},
  };
  z.officers = {
      {"461200101", "王建国"}, {"461200102", "李秀英"}, {"461200103", "张志强"},
      {"461200104", "刘慧敏"}, {"461200105", "陈立新"},
  };
  constexpr int64_t kStock = 300000;
  // clang-format off
  z.items = {
      make_item("1", "1901101090", "婴幼儿配方奶粉(3段)",
                "800克/罐|1-3岁|乳粉,乳清蛋白粉,植物油|德国产",
                "400897602234", "122", "035", 800, 800, 29800, "303", kStock),
      make_item("2", "1901101090", "婴幼儿配方奶粉(2段)",
                "900克/罐|6-12月龄|脱脂乳,乳糖,植物油|新西兰产",
                "942190296004", "122", "035", 900, 900, 26800, "609", kStock),
      make_item("3", "3304990099", "修护精华液", "50毫升/瓶|护肤用|水,二裂酵母发酵产物溶胞物",
                "361427204952", "142", "095", 50, 90, 65000, "305", kStock),
      make_item("4", "3304990099", "保湿乳液", "100毫升/瓶|护肤用|水,甘油,透明质酸钠",
                "490187207928", "142", "095", 100, 130, 8000, "116", kStock),
      make_item("5", "3303000000", "淡香水", "50毫升/瓶|香水|乙醇,香精,水", "334890125015",
                "142", "095", 50, 180, 72000, "305", kStock),
      make_item("6", "2204210000", "干红葡萄酒", "750毫升/瓶|酒精度14%|赤霞珠|澳大利亚产",
                "931104308888", "142", "095", 750, 1250, 30000, "601", kStock),
      make_item("7", "2204210000", "干白葡萄酒", "750毫升/瓶|酒精度12.5%|霞多丽|法国产",
                "326328010372", "142", "095", 750, 1250, 15800, "305", kStock),
      make_item("8", "2106909090", "深海鱼油软胶囊", "400粒/瓶|保健食品|鱼油,明胶,甘油",
                "930080728760", "142", "035", 300, 380, 15800, "601", kStock),
      make_item("9", "2106909090", "益生菌胶囊", "60粒/瓶|保健食品|嗜酸乳杆菌,菊粉",
                "003398401234", "142", "035", 60, 110, 19900, "502", kStock),
      make_item("10", "0409000000", "麦卢卡蜂蜜UMF10+", "500克/瓶|天然蜂蜜|新西兰产",
                "942190073101", "142", "035", 500, 500, 26800, "609", kStock),
      make_item("11", "0409000000", "椴树蜂蜜", "1千克/瓶|天然蜂蜜|德国产", "400604000118",
                "142", "035", 1000, 1000, 9800, "303", kStock),
      make_item("12", "0802320000", "去壳核桃仁", "454克/包|去壳|美国加州产", "007874204043",
                "125", "035", 454, 454, 6900, "502", kStock),
      make_item("13", "3306101000", "含氟牙膏", "100克/支|含氟|薄荷味", "880104627563", "140",
                "035", 100, 100, 3500, "133", kStock),
      make_item("14", "9619001100", "婴儿纸尿裤(L码)",
                "54片/包|9-14千克适用|无纺布,高分子吸水树脂",
                "490243079438", "125", "035", 1300, 1300, 12900, "116", kStock),
      make_item("15", "9619001100", "婴儿拉拉裤(XL码)",
                "38片/包|12-22千克适用|无纺布,高分子吸水树脂",
                "490243079439", "125", "035", 1100, 1100, 13900, "116", kStock),
      make_item("16", "9004100000", "偏光太阳镜", "1副/盒|偏光镜片|板材镜框|意大利产",
                "805367261137", "007", "007", 1000, 60, 158000, "307", kStock),
      make_item("17", "1701991000", "白砂糖", "1千克/包|精制白砂糖|澳大利亚产", "930063360315",
                "125", "035", 1000, 1000, 2500, "601", kStock),
      make_item("18", "0306170000", "冻虾仁", "1千克/盒|冷冻|去壳去肠线", "931234567890", "140",
                "035", 1000, 1000, 16800, "601", kStock),
      make_item("19", "3304990099", "补水面膜", "10片/盒|25克/片|水,甘油,透明质酸钠",
                "880953580123", "140", "035", 250, 260, 8900, "133", kStock),
      make_item("20", "3304990099", "护手霜礼盒(限量版)", "3支/盒|50毫升/支|乳木果油",
                "880953580999", "140", "095", 150, 180, 5900, "133", 8),
      make_item("21", "9004100000", "钛架太阳镜(限量款)", "1副/盒|钛合金镜架|手工打磨|意大利产",
                "805367299999", "007", "007", 1000, 80, 600000, "307", 50),
      make_item("22", "2402200000", "卷烟", "200支/条|烤烟型|韩国产", "880111601234", "140",
                "035", 250, 250, 21000, "133", 5000),
  };
  // clang-format on
  z.items[19].limited = true;
  z.items[20].premium = true;
  z.items[21].off_list = true;
  return z;
}

}  // namespace cbec::gen
