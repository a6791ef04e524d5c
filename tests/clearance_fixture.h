// Test support for the clearance core: a fixture zone (enterprises, bonded stock, guarantee),
// document sets built from tests/cases/base/*.json with field overrides, and a harness that
// feeds commands to an Engine and keeps every receipt.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "archive/archive.h"
#include "clearance/clearance.h"
#include "rapidjson/document.h"

namespace cbec::testing {

// Codes of the fixture zone (tests/cases/base/*.json use the same).
inline constexpr const char* kPlatform = "4101960001";
inline constexpr const char* kEbc = "4101960002";
inline constexpr const char* kAgent = "4101960003";  // agent, warehouse operator, guarantor
inline constexpr const char* kPay = "4101960101";
inline constexpr const char* kLogistics = "4101960201";
inline constexpr const char* kEmsNo = "T4612W000001";
inline constexpr Fen kFixtureGuaranteeFen = 100'000'000;  // 1,000,000.00

struct CatalogItem {
  std::string itemRecordNo, gcode, name, gmodel, unit, unit1, country;
  std::string price;          // RMB text
  std::string qty1_per_unit;  // legal quantity per unit, text
  std::string stock;          // initial stock
};
const std::vector<CatalogItem>& fixture_catalog();

struct DocSet {
  ceb::Order order;
  ceb::Payment payment;
  ceb::Logistics waybill;
  ceb::Inventory list;
};

// Builds a document set from a case object: {"base": "formula_1210", "goods": [...],
// "freight": "..", "buyer": {...}, "set": {...}, "break": {...}} (see tests/cases/README.md).
// `suffix` makes the keys unique when a case has several sets.
DocSet build_set(const rapidjson::Value& spec, const std::string& suffix,
                 const ref::ReferenceData& ref);
DocSet load_base(const std::string& name);

// Applies {"order": {"OrderHead.buyerName": "李四", "OrderList[1].qty": "3"}, "payment": {...},
// "waybill": {...}, "list": {...}} to a set.
void apply_overrides(DocSet* set, const rapidjson::Value& spec);

// Fills the derived amounts so that a set is consistent (M1, M2, M5, M6, taxTotal = the tax).
void make_consistent(DocSet* set, const ref::ReferenceData& ref);

ceb::Message message_of(const ceb::Order& r);
ceb::Message message_of(const ceb::Payment& r);
ceb::Message message_of(const ceb::Logistics& r);
ceb::Message message_of(const ceb::Inventory& r);

class Harness {
 public:
  explicit Harness(clearance::LaneSelector lanes = {}, bool setup_zone = true,
                   std::shared_ptr<const ref::ReferenceData> reference = nullptr);
  // With CBEC_TEST_ARCHIVE_EVERY_COMMAND=1 (ctest runs the clearance tests a second time so,
  // as "archived.*"), the engine has an archive and a Tick after every command moves everything
  // not in work into it: every rule then reaches its records through restore-on-access.
  static bool archive_every_command();
  // With CBEC_TEST_SNAPSHOT_EVERY_COMMAND=1 ("snapshot.*"), after every command the engine saves
  // a snapshot and loads it back (Engine::save_snapshot / load_snapshot), checking that the
  // dump is unchanged and that saving again gives the same bytes: every rule then runs on state
  // that went through the snapshot codecs.
  static bool snapshot_every_command();

  const ref::ReferenceData& ref() const { return *reference_; }
  clearance::Engine& engine() { return *engine_; }
  TimeMs now() const { return now_; }
  void advance_ms(TimeMs ms) { now_ += ms; }

  Status apply(clearance::Command::Body body);
  void submit(const std::string& sender, ceb::Message m);
  void submit_order(const DocSet& s) { submit(s.order.head.ebpCode, message_of(s.order)); }
  void submit_payment(const DocSet& s) { submit(s.payment.head.payCode, message_of(s.payment)); }
  void submit_waybill(const DocSet& s) {
    submit(s.waybill.head.logisticsCode, message_of(s.waybill));
  }
  void submit_list(const DocSet& s) { submit(s.list.head.agentCode, message_of(s.list)); }
  void submit_all(const DocSet& s) {
    submit_order(s);
    submit_payment(s);
    submit_waybill(s);
    submit_list(s);
  }
  void setup_zone();

  const ceb::Receipts& receipts() const { return receipts_; }
  // Receipts answering one record, oldest first.
  std::vector<const ceb::Receipt*> list_receipts(const std::string& copNo) const;
  std::vector<const ceb::Receipt*> order_receipts(const std::string& orderNo) const;
  std::vector<const ceb::Receipt*> payment_receipts(const std::string& payTransactionId) const;
  std::vector<const ceb::Receipt*> waybill_receipts(const std::string& logisticsNo) const;
  clearance::Found<clearance::ListRecord> list(const DocSet& s) const {
    return engine_->list_by_cop_no(s.list.head.agentCode, s.list.head.copNo);
  }

 private:
  std::shared_ptr<const ref::ReferenceData> reference_;
  std::unique_ptr<archive::MemoryArchive> archive_;  // before engine_, which uses it
  std::unique_ptr<clearance::Engine> engine_;
  ceb::Receipts receipts_;
  uint64_t seq_ = 0;
  TimeMs now_;
};

std::string read_file(const std::string& path);

}  // namespace cbec::testing
