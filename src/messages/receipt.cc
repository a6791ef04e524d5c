// Receipt texts (join_return_info, status meanings) and the Receipt / FormatError mapping onto
// the generated *Return records used by both receipt writers.
#include "messages/receipt.h"

#include <array>
#include <cinttypes>
#include <cstdio>

#include "messages/receipt_map.h"
#include "messages/text.h"
#include "messages/validate.h"

namespace cbec::ceb {
namespace {

constexpr std::string_view kSeparator = "; ";

struct StatusText {
  int status;
  std::string_view text;
};
// DOMAIN.md §10 and ceb-messages.md §3.9.
constexpr std::array<StatusText, 17> kStatusTexts = {{
    {1, "电子口岸已暂存 / saved as draft"},
    {2, "电子口岸申报中 / accepted, declaring"},
    {3, "发送海关成功 / sent to customs"},
    {4, "发送海关失败 / sending to customs failed"},
    {status::kRejected, "海关退单 / rejected by customs"},
    {status::kAccepted, "海关入库 / accepted by customs"},
    {status::kManualReview, "人工审核 / manual review"},
    {status::kConcluded, "海关审结 / decision concluded"},
    {status::kInspection, "查验 / inspection"},
    {status::kDetainedClearance, "扣留移送通关 / detained, transferred to clearance"},
    {status::kDetainedAntiSmuggling, "扣留移送缉私 / detained, transferred to anti-smuggling"},
    {status::kDetainedLegal, "扣留移送法规 / detained, transferred to legal"},
    {status::kDetainedOther, "其它扣留 / detained (other)"},
    {status::kReturnedAbroad, "退运 / returned abroad"},
    {status::kReleased, "放行 / released"},
    {status::kClosed, "结关 / closed"},
    {kFormatErrorStatus, "报文格式错误 / message format error"},
}};

struct StringMember {
  std::string_view name;
  std::string Receipt::*member;
};
// Receipt fields carried as they are; the names are those of the *Return records in the XSD.
constexpr std::array<StringMember, 16> kStringMembers = {{
    {"guid", &Receipt::guid},
    {"customsCode", &Receipt::customsCode},
    {"ebpCode", &Receipt::ebpCode},
    {"ebcCode", &Receipt::ebcCode},
    {"agentCode", &Receipt::agentCode},
    {"orderNo", &Receipt::orderNo},
    {"payCode", &Receipt::payCode},
    {"payTransactionId", &Receipt::payTransactionId},
    {"logisticsCode", &Receipt::logisticsCode},
    {"logisticsNo", &Receipt::logisticsNo},
    {"logisticsStatus", &Receipt::logisticsStatus},
    {"copNo", &Receipt::copNo},
    {"preNo", &Receipt::preNo},
    {"invtNo", &Receipt::invtNo},
    {"operatorCode", &Receipt::operatorCode},
    {"rkdNo", &Receipt::rkdNo},
}};

// A CEB900 must carry a 36-character guid even when the rejected message had none or a wrong
// one. We derive it from the message content, so resending the same bytes gets the same id.
std::string derived_guid(const FormatError& e) {
  uint64_t h1 = internal::fnv1a(internal::kFnvOffsetBasis, e.guid);
  h1 = internal::fnv1a(h1, "\x1f");
  h1 = internal::fnv1a(h1, e.original);
  uint64_t h2 = internal::fnv1a(h1, "CEB900Message");
  char buf[40];
  std::snprintf(buf, sizeof buf,
                "%08" PRIX64 "-%04" PRIX64 "-%04" PRIX64 "-%04" PRIX64 "-%012" PRIX64, h1 >> 32,
                (h1 >> 16) & 0xFFFF, h1 & 0xFFFF, h2 >> 48, h2 & uint64_t{0xFFFFFFFFFFFF});
  return buf;
}

}  // namespace

Receipt same_record(const Receipt& r) {
  Receipt out;
  out.answers = r.answers;
  out.receiver = r.receiver;
  out.guid = r.guid;
  out.customsCode = r.customsCode;
  out.ebpCode = r.ebpCode;
  out.ebcCode = r.ebcCode;
  out.agentCode = r.agentCode;
  out.orderNo = r.orderNo;
  out.payCode = r.payCode;
  out.payTransactionId = r.payTransactionId;
  out.logisticsCode = r.logisticsCode;
  out.logisticsNo = r.logisticsNo;
  out.logisticsStatus = r.logisticsStatus;
  out.copNo = r.copNo;
  out.preNo = r.preNo;
  out.invtNo = r.invtNo;
  out.operatorCode = r.operatorCode;
  out.rkdNo = r.rkdNo;
  return out;
}

std::string return_status_text(int returnStatus) {
  for (const StatusText& s : kStatusTexts) {
    if (s.status == returnStatus) return std::string(s.text);
  }
  std::string n = std::to_string(returnStatus);
  if (returnStatus < 0) return "处理失败 " + n + " / error " + n;
  return "状态 " + n + " / status " + n;
}

std::string join_return_info(std::string_view prefix, std::span<const Finding> findings) {
  std::string out(prefix);
  for (const Finding& f : findings) {
    if (!out.empty()) out += kSeparator;
    out += '[';
    out += f.rule;
    out += "] ";
    out += f.zh;
    if (!f.zh.empty() && !f.en.empty()) out += " / ";
    out += f.en;
    // Far past the limit (4 bytes per character at most): the rest would be cut anyway.
    if (out.size() > 4 * kMaxReturnInfoChars + 4) break;
  }
  return internal::cut_chars(internal::sanitize_text(out), kMaxReturnInfoChars);
}

namespace internal {

std::string receipt_field(const Receipt& r, std::string_view name) {
  for (const StringMember& m : kStringMembers) {
    if (m.name == name) return sanitize_text(r.*m.member);
  }
  if (name == "returnStatus") return std::to_string(r.returnStatus);
  if (name == "returnTime") return format_return_time(r.returnTime);
  if (name == "returnInfo") {
    // XSD: 1..1000 characters. An empty text says what the status means.
    std::string info = sanitize_text(trim_xml_space(r.returnInfo));
    if (info.empty()) info = return_status_text(r.returnStatus);
    return cut_chars(info, kMaxReturnInfoChars);
  }
  CBEC_ASSERT(false && "a *Return field without a Receipt member");
  return {};
}

void check_receipt_batch(std::span<const Receipt* const> receipts) {
  CBEC_ASSERT(!receipts.empty() && receipts.size() <= kMaxReceiptsPerMessage);
  for (const Receipt* r : receipts)
    CBEC_ASSERT(r != nullptr && r->answers == receipts.front()->answers);
}

std::vector<const Receipt*> receipt_pointers(std::span<const Receipt> receipts) {
  std::vector<const Receipt*> out;
  out.reserve(receipts.size());
  for (const Receipt& r : receipts) out.push_back(&r);
  return out;
}

MessageReturn make_message_return(const FormatError& e) {
  MessageReturn ret;
  CharScan guid_scan = scan_chars(e.guid);
  ret.guid = guid_scan.issue == CharIssue::kNone && guid_scan.code_points == kGuidChars
                 ? e.guid
                 : derived_guid(e);
  ret.returnStatus = std::to_string(kFormatErrorStatus);
  std::string info;
  for (const Violation& v : e.violations) {
    if (!info.empty()) info += kSeparator;
    info += v.ToString();
    if (info.size() > 4 * kMaxCeb900ReturnInfoChars + 4) break;
  }
  ret.returnInfo = cut_chars(sanitize_text(info), kMaxCeb900ReturnInfoChars);
  ret.returnTime = format_return_time(e.returnTime);
  ret.oriCopMsgId = cut_chars(sanitize_text(e.ori_cop_msg_id), kMaxOriCopMsgIdChars);
  std::string type = sanitize_text(e.ori_message_type);
  // XSD: at most 15 characters, "Unknown" when the type could not be told.
  ret.oriMessageType =
      type.empty() || scan_chars(type).code_points > kMaxOriMessageTypeChars ? "Unknown" : type;
  // The original as far as a message may be long; bytes XML cannot carry become U+FFFD (they
  // are often the very reason the message was rejected).
  ret.oriBizMessage = sanitize_text(cut_bytes(strip_bom(e.original), kMaxMessageBytes));
  return ret;
}

}  // namespace internal
}  // namespace cbec::ceb
