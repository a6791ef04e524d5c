// How clearance commands are written into the command log, and read back on replay.
//
// A document submission is logged as the bytes the enterprise sent (XML, Base64 or JSON) with
// the authenticated sender: that is the legal record of what was declared, and replay parses it
// again (parsing is deterministic). Administrative and officer commands are small JSON objects.
//
// Service-level commands (kSetWebhook) are logged like every other command, so their effect is
// replayable, but the Service applies them itself: the clearance core never sees them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "clearance/clearance.h"
#include "common/status.h"

namespace cbec::service {

enum class CommandKind : uint8_t {
  kSubmitMessage = 1,
  kRegisterEnterprise = 2,
  kStockIn = 3,
  kGuaranteeDeposit = 4,
  kOfficerDecision = 5,
  kTick = 6,
  kSetWebhook = 7,  // service-level: applied by Service, not by the clearance engine
  kLoadReference = 8,
  // Supervision (DOMAIN.md §8)
  kSetDrawSeed = 9,
  kRegisterOfficer = 10,
  kClaimList = 11,
  kInspectionResult = 12,
  kSetControlOrder = 13,
  kConfirmGrade = 14,
  kPickup = 15,  // O2O hall counter (clearance::Pickup)
  kReturnArrival = 16,  // warehouse confirms a return's goods are back (CEB625, DOMAIN.md §4.4)
  kTaxPayment = 17,     // a guarantor pays tax bills (DOMAIN.md §4.1 step 7)
};

// The receipt push target of one enterprise (see service/webhooks.h). An empty url removes it.
struct WebhookSetting {
  std::string code;
  std::string url;
  // Kept in the log as sent: the HMAC needs the secret itself, not a hash of it.
  std::string secret;
};

// A command ready for the log (kind + payload) together with its decoded body, so the live path
// does not parse twice.
struct EncodedCommand {
  CommandKind kind = CommandKind::kTick;
  std::string payload;
  clearance::Command::Body body;
  // kRegisterEnterprise / kRegisterOfficer: the hash of the enterprise's or officer's key
  std::string api_key_sha256;
  WebhookSetting webhook;      // kSetWebhook only (body is then an unused Tick)
};

// REQUIRES: raw is a message that read_message_auto accepts; `message` is what it read.
EncodedCommand encode_submit(std::string_view sender, std::string_view raw, ceb::Message message);
// Administrative commands (everything but SubmitMessage).
EncodedCommand encode_admin(clearance::Command::Body body, std::string api_key_sha256 = "");
// A service-level command: sets (or, with an empty url, removes) an enterprise's webhook.
EncodedCommand encode_set_webhook(WebhookSetting setting);

// New reference data and policy from a zone's file texts; an empty text means the embedded
// default of that file. Fails with kInvalidArgument naming file, line and reason if the texts do
// not load, so nothing invalid is ever logged.
Result<EncodedCommand> encode_load_reference(std::string_view policy_toml,
                                             std::string_view goods_csv,
                                             std::string_view positive_list_csv);

// Back from the log. kInternal if the payload does not decode (a corrupt or foreign log).
Result<EncodedCommand> decode_command(uint8_t kind, std::string_view payload);

}  // namespace cbec::service
