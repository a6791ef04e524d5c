#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "fmt/format.h"
#include "messages/ceb.h"

namespace cbec::cli {

namespace {

std::string record_key(const ceb::Message& m, size_t i) {
  using ceb::MessageType;
  switch (m.type) {
    case MessageType::kCEB311:
      return fmt::format("order {}/{}", m.orders[i].head.ebpCode, m.orders[i].head.orderNo);
    case MessageType::kCEB411:
      return fmt::format("payment {}/{}", m.payments[i].head.payCode,
                         m.payments[i].head.payTransactionId);
    case MessageType::kCEB511:
      return fmt::format("waybill {}/{}", m.waybills[i].head.logisticsCode,
                         m.waybills[i].head.logisticsNo);
    case MessageType::kCEB513:
      return fmt::format("waybill-status {}/{}", m.waybill_statuses[i].logisticsCode,
                         m.waybill_statuses[i].logisticsNo);
    case MessageType::kCEB621:
      return fmt::format("list {}/{}", m.inventories[i].head.agentCode,
                         m.inventories[i].head.copNo);
    case MessageType::kCEB623:
      return fmt::format("cancel {}", m.cancels[i].invtNo);
    case MessageType::kCEB625:
      return fmt::format("return {}", m.refunds[i].head.invtNo);
    case MessageType::kCEB711:
      return fmt::format("entry {}/{}", m.deliveries[i].head.operatorCode,
                         m.deliveries[i].head.copNo);
  }
  return "?";
}

}  // namespace

int validate(const std::vector<std::string>& files) {
  bool all_ok = true;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cout << file << ": cannot read\n";
      all_ok = false;
      continue;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    ceb::ReadResult r = ceb::read_message_auto(buf.str());
    std::map<int, std::vector<const ceb::Violation*>> by_record;
    for (const auto& v : r.violations) by_record[v.record].push_back(&v);
    if (!r.message) {
      all_ok = false;
      std::cout << file << ": INVALID message\n";
      for (const auto& v : r.violations) std::cout << "  " << v.ToString() << "\n";
      continue;
    }
    const ceb::Message& m = *r.message;
    std::cout << file << ": " << ceb::message_root_name(m.type) << ", " << m.record_count()
              << " record(s)\n";
    if (auto it = by_record.find(0); it != by_record.end()) {
      all_ok = false;
      for (const auto* v : it->second) std::cout << "  message INVALID " << v->ToString() << "\n";
    }
    for (size_t i = 0; i < m.record_count(); ++i) {
      auto it = by_record.find(static_cast<int>(i + 1));
      if (it == by_record.end()) {
        std::cout << "  [" << i + 1 << "] " << record_key(m, i) << " OK\n";
        continue;
      }
      all_ok = false;
      std::cout << "  [" << i + 1 << "] " << record_key(m, i) << " INVALID\n";
      for (const auto* v : it->second) std::cout << "      " << v->ToString() << "\n";
    }
  }
  return all_ok ? 0 : 1;
}

}  // namespace cbec::cli
