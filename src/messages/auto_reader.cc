// read_message_auto: XML, JSON or Base64-wrapped XML, told apart by their first characters.
#include "messages/base64.h"
#include "messages/ceb.h"
#include "messages/text.h"

namespace cbec::ceb {

ReadResult read_message_auto(std::string_view bytes) {
  auto fail = [](std::string problem) {
    ReadResult r;
    r.violations.push_back(Violation{0, "message", std::move(problem)});
    return r;
  };
  if (bytes.size() > kMaxBase64MessageBytes) {
    return fail("size " + std::to_string(bytes.size()) + " bytes, maximum " +
                std::to_string(kMaxMessageBytes));
  }
  std::string_view body = internal::trim_xml_space(internal::strip_bom(bytes));
  if (body.empty()) return fail("empty message");
  if (body.front() == '<') return read_message_xml(bytes);
  if (body.front() == '{') return read_message_json(bytes);
  // Regional gateways send the whole XML message Base64-encoded.
  if (std::optional<std::string> xml = internal::decode_base64(body)) {
    std::string_view decoded = internal::trim_xml_space(internal::strip_bom(*xml));
    if (!decoded.empty() && decoded.front() == '<') return read_message_xml(*xml);
  }
  return fail("not XML, JSON or Base64-encoded XML");
}

}  // namespace cbec::ceb
