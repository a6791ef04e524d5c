#include "demo/demo.h"

#include <algorithm>

namespace cbec::demo {

std::vector<clearance::Command::Body> setup_commands(const gen::Zone& zone,
                                                     Fen guarantee_floor_fen) {
  std::vector<clearance::Command::Body> out;
  for (const auto& e : zone.enterprises) {
    auto roles = clearance::parse_roles(gen::role_names(e.roles));
    CBEC_ASSERT(roles.ok());  // the zone is our own data: a bad role name is a bug
    out.push_back(clearance::RegisterEnterprise{clearance::Enterprise{e.code, e.name, *roles,
                                                                      e.grade}});
  }
  const gen::Enterprise* operator_ = nullptr;
  for (const auto& e : zone.enterprises)
    if (e.has(gen::kRoleOperator) && e.code == zone.areaCode) operator_ = &e;
  CBEC_ASSERT(operator_ != nullptr);
  for (const auto& item : zone.items) {
    out.push_back(clearance::StockIn{operator_->code, zone.emsNo, item.itemRecordNo, item.gcode,
                                     item.name, item.unit, Decimal::of_int(item.initial_stock)});
  }
  for (const auto& e : zone.enterprises) {
    if (!e.has(gen::kRoleGuarantor)) continue;
    Fen amount = std::max(e.guarantee_fen, guarantee_floor_fen);
    if (amount > 0) out.push_back(clearance::GuaranteeDeposit{e.code, amount});
  }
  return out;
}

std::vector<Submission> submissions(const gen::Zone& zone, std::span<const gen::DocSet> sets) {
  std::vector<Submission> out;
  for (size_t start = 0; start < sets.size(); start += ceb::kMaxRecordsPerMessage) {
    auto batch = sets.subspan(start, std::min<size_t>(ceb::kMaxRecordsPerMessage,
                                                      sets.size() - start));
    for (ceb::MessageType t : {ceb::MessageType::kCEB311, ceb::MessageType::kCEB411,
                               ceb::MessageType::kCEB511, ceb::MessageType::kCEB621}) {
      for (auto& m : gen::to_messages(zone, batch, t)) {
        std::string sender = m.transfer.copCode;
        out.push_back(Submission{std::move(sender), std::move(m)});
      }
    }
  }
  return out;
}

}  // namespace cbec::demo
