// `cbec demo`: a generated day of the demo zone through the clearance core, in-process.
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "demo/demo.h"
#include "fmt/format.h"
#include "gen/gen.h"

namespace cbec::cli {

int demo(const DemoArgs& args) {
  auto reference = ref::ReferenceData::LoadDefaults();
  if (!reference.ok()) {
    std::cerr << reference.status().ToString() << "\n";
    return 1;
  }
  gen::Zone zone = gen::demo_zone();
  gen::Options opt;
  opt.seed = args.seed;
  opt.count = args.count;
  opt.fault_share = args.fault_share;
  opt.share_full_tax = 0.01;
  auto generated = gen::generate(zone, opt, **reference);
  if (!generated.ok()) {
    std::cerr << generated.status().ToString() << "\n";
    return 1;
  }
  clearance::Engine engine(clearance::EngineOptions{*reference, {}});
  uint64_t seq = 0;
  TimeMs now = generated->sets.front().order.head.appTime.empty()
                   ? 0
                   : *parse_datetime14(generated->sets.front().order.head.appTime);
  ceb::Receipts receipts;
  Fen guarantee_needed = 0;
  for (const auto& [code, fen] : generated->tax_by_guarantor_fen) guarantee_needed += fen;
  for (auto& body : demo::setup_commands(zone, guarantee_needed * 2)) {
    Status s = engine.apply(clearance::Command{++seq, now, std::move(body)}, &receipts);
    if (!s.ok()) {
      std::cerr << "setup: " << s.ToString() << "\n";
      return 1;
    }
  }
  receipts.clear();
  for (auto& sub : demo::submissions(zone, generated->sets)) {
    now += 200;  // a message every 0.2 s
    Status s = engine.apply(
        clearance::Command{++seq, now, clearance::SubmitMessage{sub.sender, std::move(sub.message)}},
        &receipts);
    if (!s.ok()) std::cerr << s.ToString() << "\n";
  }
  now += 25 * kMsPerHour;  // let waiting lists expire
  (void)engine.apply(clearance::Command{++seq, now, clearance::Tick{}}, &receipts);  // cannot fail

  std::map<std::string, int> by_state, by_rule;
  Fen tax_fen = 0, value_fen = 0;
  int released = 0;
  engine.for_each_list([&](const clearance::ListRecord& L) {
    ++by_state[std::string(clearance::list_state_name(L.state))];
    if (L.state == clearance::ListState::kReleased) {
      ++released;
      tax_fen += L.tax->total_fen();
      value_fen += L.tax->dutiable_fen;
    }
    for (const auto& f : L.findings) ++by_rule[f.rule];
  });
  int expected_faults = 0;
  for (const auto& s : generated->sets) expected_faults += !s.expected.rule.empty();
  std::cout << fmt::format("cbec demo zone {} (customs {}): {} document sets, {} with a fault\n",
                           zone.emsNo, zone.customsCode, generated->sets.size(), expected_faults);
  std::cout << fmt::format("  receipts issued: {}\n", receipts.size());
  for (const auto& [state, n] : by_state) std::cout << fmt::format("  lists {:<14} {}\n", state, n);
  std::cout << fmt::format("  released value {} RMB, tax {} RMB\n", format_fen(value_fen),
                           format_fen(tax_fen));
  std::cout << "  rejection findings by rule:";
  for (const auto& [rule, n] : by_rule) std::cout << " " << rule << "=" << n;
  std::cout << "\n";
  int good = static_cast<int>(generated->sets.size()) - expected_faults;
  std::cout << fmt::format("  automated release of well-formed lists: {}/{} ({:.1f}%)\n", released,
                           good, good ? 100.0 * released / good : 0.0);
  for (const auto& r : receipts) {
    if (r.answers == ceb::MessageType::kCEB621 && r.returnStatus == 100) {
      std::cout << "  example rejection: " << r.copNo << " " << r.returnInfo << "\n";
      break;
    }
  }
  return 0;
}

}  // namespace cbec::cli
