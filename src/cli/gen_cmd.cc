#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "demo/demo.h"
#include "fmt/format.h"
#include "gen/gen.h"

namespace cbec::cli {

int gen(const GenArgs& args) {
  auto start = parse_iso_date(args.start);
  if (!start) {
    std::cerr << "--start must be yyyy-mm-dd\n";
    return 2;
  }
  gen::Zone zone = gen::demo_zone();
  gen::Options opt;
  opt.seed = args.seed;
  opt.count = args.count;
  opt.fault_share = args.fault_share;
  opt.share_9610 = args.direct_mail_share;
  opt.share_hall = args.hall_share;
  opt.start_time = beijing_midnight(*start) + 8 * kMsPerHour;
  auto generated = gen::generate(zone, opt);
  if (!generated.ok()) {
    std::cerr << generated.status().ToString() << "\n";
    return 1;
  }
  std::filesystem::create_directories(args.out_dir);
  auto subs = demo::submissions(zone, generated->sets);
  int n = 0;
  for (const auto& s : subs) {
    std::string name = fmt::format("{}/{:05d}-{}-{}.{}", args.out_dir, ++n,
                                   ceb::message_root_name(s.message.type), s.sender, args.format);
    std::ofstream out(name, std::ios::binary);
    out << (args.format == "json" ? ceb::write_message_json(s.message)
                                  : ceb::write_message_xml(s.message));
    if (!out) {
      std::cerr << name << ": cannot write\n";
      return 1;
    }
  }
  // A manifest of what each set is and what it should come to, for tests and demos.
  std::ofstream manifest(args.out_dir + "/manifest.csv");
  manifest << "orderNo,copNo,buyerIdNumber,tradeMode,fault_rule,fault_field,dutiable,tax,"
              "payTransactionId,logisticsCode,logisticsNo,buyerName\n";
  for (const auto& s : generated->sets) {
    manifest << s.order.head.orderNo << "," << s.inventory.head.copNo << ","
             << s.inventory.head.buyerIdNumber << "," << s.inventory.head.tradeMode << ","
             << s.expected.rule << "," << s.expected.field << ","
             << format_fen(s.expected.dutiable_fen) << ","
             << format_fen(s.expected.tax.total_fen()) << "," << s.payment.head.payTransactionId
             << "," << s.waybill.head.logisticsCode << "," << s.waybill.head.logisticsNo << ","
             << s.inventory.head.buyerName << "\n";
  }
  std::cout << fmt::format("wrote {} messages for {} document sets to {} (manifest.csv lists the "
                           "expected outcome of each set)\n",
                           subs.size(), generated->sets.size(), args.out_dir);
  return 0;
}

}  // namespace cbec::cli
