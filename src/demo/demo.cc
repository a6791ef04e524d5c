#include "demo/demo.h"

#include <algorithm>

#include "common/crypto.h"
#include "service/command_codec.h"
#include "service/service.h"

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
  for (const auto& o : zone.officers)
    out.push_back(clearance::RegisterOfficer{o.id, o.name, zone.customsCode, true});
  for (const auto& e : zone.enterprises) {
    if (!e.has(gen::kRoleGuarantor)) continue;
    Fen amount = std::max(e.guarantee_fen, guarantee_floor_fen);
    if (amount > 0) out.push_back(clearance::GuaranteeDeposit{e.code, amount});
  }
  return out;
}

Status register_zone(service::Service& s, const gen::Zone& zone, Fen guarantee_floor_fen,
                     const KeyOf& enterprise_key, const KeyOf& officer_key) {
  for (auto& body : setup_commands(zone, guarantee_floor_fen)) {
    std::string hash;
    if (auto* r = std::get_if<clearance::RegisterEnterprise>(&body))
      hash = sha256_hex(enterprise_key(r->enterprise.code));
    if (auto* o = std::get_if<clearance::RegisterOfficer>(&body))
      hash = sha256_hex(officer_key(o->officer_id));
    auto a = s.SubmitAndWait(service::encode_admin(std::move(body), hash));
    if (!a.ok()) return a.status();
    if (!a->status.ok()) return a->status;
  }
  return Status::Ok();
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
