// Receipts (回执) as the clearance core produces them, and their CEB/JSON writers.
//
// A Receipt answers one record of one request message. The writers turn a batch of receipts of
// the same request type into the official receipt message (CEB312 for CEB311, ... CEB712 for
// CEB711) that validates against the XSD, or into JSON with the same field names.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "messages/ceb.h"

namespace cbec::ceb {

// One finding of a rule: which rule, which field, what was wrong, in Chinese and English.
struct Finding {
  std::string rule;   // "M1" .. "M9", "R1" .. "R10", "F" (format), "A" (appType/idempotency)
  std::string field;  // e.g. "Order/acturalPaid" or "Inventory/InventoryList[2]/qty"
  std::string zh;     // 中文说明, naming the values
  std::string en;     // English, naming the values
  bool operator==(const Finding&) const = default;
};

// returnStatus values (DOMAIN.md §10). Negative codes are business errors (see error_codes.h).
namespace status {
inline constexpr int kDraft = 1;
inline constexpr int kDeclaring = 2;
inline constexpr int kAccepted = 120;
inline constexpr int kRejected = 100;
inline constexpr int kManualReview = 300;
inline constexpr int kConcluded = 399;
inline constexpr int kInspection = 500;
inline constexpr int kDetainedClearance = 501;
inline constexpr int kDetainedAntiSmuggling = 502;
inline constexpr int kDetainedLegal = 503;
inline constexpr int kDetainedOther = 599;
inline constexpr int kReturnedAbroad = 700;
inline constexpr int kReleased = 800;
inline constexpr int kClosed = 899;
}  // namespace status

struct Receipt {
  MessageType answers = MessageType::kCEB311;  // the request type; the receipt type follows
  std::string receiver;                        // enterprise code the receipt is delivered to
  // Fields of the official receipt records; those a type does not carry stay empty.
  std::string guid;
  std::string customsCode;
  std::string ebpCode;
  std::string ebcCode;
  std::string agentCode;
  std::string orderNo;
  std::string payCode;
  std::string payTransactionId;
  std::string logisticsCode;
  std::string logisticsNo;
  std::string logisticsStatus;
  std::string copNo;
  std::string preNo;
  std::string invtNo;
  std::string operatorCode;
  std::string rkdNo;
  int returnStatus = 0;
  TimeMs returnTime = 0;
  std::string returnInfo;  // ≤ 1000 characters; built from findings
  std::vector<Finding> findings;
  bool operator==(const Receipt&) const = default;
};

// A receipt is built once and then shared, never changed: the core keeps the latest of each
// record (to answer a replay) and hands the same object to the service, which encodes, stores
// and answers from it on other threads. Copying the 19 strings into the record and moving them
// through the answer was 18 % of the core's instructions (BENCHMARKS.md, session 8).
using ReceiptPtr = std::shared_ptr<const Receipt>;

// The receipts one command caused, in the order issued. Reads like a vector of Receipt.
class Receipts {
 public:
  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = Receipt;
    using difference_type = std::ptrdiff_t;
    using pointer = const Receipt*;
    using reference = const Receipt&;
    const_iterator() = default;
    explicit const_iterator(const ReceiptPtr* p) : p_(p) {}
    reference operator*() const { return **p_; }
    pointer operator->() const { return p_->get(); }
    reference operator[](difference_type n) const { return *p_[n]; }
    const_iterator& operator++() { ++p_; return *this; }
    const_iterator operator++(int) { auto t = *this; ++p_; return t; }
    const_iterator& operator--() { --p_; return *this; }
    const_iterator operator--(int) { auto t = *this; --p_; return t; }
    const_iterator& operator+=(difference_type n) { p_ += n; return *this; }
    const_iterator& operator-=(difference_type n) { p_ -= n; return *this; }
    friend const_iterator operator+(const_iterator i, difference_type n) { return i += n; }
    friend const_iterator operator+(difference_type n, const_iterator i) { return i += n; }
    friend const_iterator operator-(const_iterator i, difference_type n) { return i -= n; }
    friend difference_type operator-(const_iterator a, const_iterator b) { return a.p_ - b.p_; }
    friend auto operator<=>(const_iterator a, const_iterator b) = default;

   private:
    const ReceiptPtr* p_ = nullptr;
  };
  using iterator = const_iterator;
  using value_type = Receipt;

  size_t size() const { return v_.size(); }
  bool empty() const { return v_.empty(); }
  const Receipt& operator[](size_t i) const { return *v_[i]; }
  const Receipt& front() const { return *v_.front(); }
  const Receipt& back() const { return *v_.back(); }
  const_iterator begin() const { return const_iterator(v_.data()); }
  const_iterator end() const { return const_iterator(v_.data() + v_.size()); }
  // By value, receipt by receipt (replay tests compare two runs).
  friend bool operator==(const Receipts& a, const Receipts& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

  // Issues r and returns it (the record keeps it). A replay of a record that never got a
  // receipt passes null and issues an empty receipt.
  const ReceiptPtr& push_back(ReceiptPtr r) {
    v_.push_back(r ? std::move(r) : std::make_shared<const Receipt>());
    return v_.back();
  }
  void clear() { v_.clear(); }
  void reserve(size_t n) { v_.reserve(n); }

 private:
  std::vector<ReceiptPtr> v_;
};

inline constexpr size_t kMaxReturnInfoChars = 1000;

// A receipt for the same record as `r` (who gets it, which document: every field but
// returnStatus, returnTime, returnInfo and findings), for a new status of that record. Cheaper
// than copying r and overwriting its text.
Receipt same_record(const Receipt& r);

// What a returnStatus means, in Chinese and English ("放行 / released"); written as returnInfo
// when a receipt carries no text of its own.
std::string return_status_text(int returnStatus);

// Joins findings into returnInfo text: "[M2] 订单实付金额 100.00 与支付金额 99.00 不一致 / order
// acturalPaid 100.00 differs from payment amountPaid 99.00; [R2] ..." cut at 1000 characters
// (on a UTF-8 boundary) with "…" when longer.
std::string join_return_info(std::string_view prefix, std::span<const Finding> findings);

// Writes receipts that all answer the same request type as one receipt message
// (CEB312Message … CEB712Message), default namespace as customs sends them. REQUIRES: 1..100
// receipts, all with the same `answers`.
std::string write_receipts_xml(std::span<const Receipt* const> receipts);
std::string write_receipts_xml(std::span<const Receipt> receipts);
// {"CEB312Message":{"OrderReturn":[{...}]}} plus a "findings" array per receipt.
std::string write_receipts_json(std::span<const Receipt* const> receipts);
std::string write_receipts_json(std::span<const Receipt> receipts);

// CEB900 (format error) for a message that could not be accepted at all.
struct FormatError {
  std::string guid;             // the message guid if it could be read, else generated by caller
  std::string ori_message_type; // "CEB311Message" or "Unknown"
  std::string ori_cop_msg_id;
  std::string original;         // the original message text (written as CDATA, may be cut)
  std::vector<Violation> violations;
  TimeMs returnTime = 0;
};
inline constexpr int kFormatErrorStatus = -1;
std::string write_ceb900_xml(const FormatError& e);
std::string write_ceb900_json(const FormatError& e);

}  // namespace cbec::ceb
