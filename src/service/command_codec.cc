#include "service/command_codec.h"

#include "common/crypto.h"
#include "fmt/format.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace cbec {
std::string_view embedded_file(std::string_view name);  // config/defaults/* compiled in
}

namespace cbec::service {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void kv(Writer& w, const char* k, std::string_view v) {
  w.Key(k);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

std::string get(const rapidjson::Value& o, const char* k) {
  if (!o.HasMember(k) || !o[k].IsString()) return {};
  return std::string(o[k].GetString(), o[k].GetStringLength());
}

int64_t get_int(const rapidjson::Value& o, const char* k) {
  return o.HasMember(k) && o[k].IsInt64() ? o[k].GetInt64() : 0;
}

bool get_bool(const rapidjson::Value& o, const char* k) {
  return o.HasMember(k) && o[k].IsBool() && o[k].GetBool();
}

}  // namespace

EncodedCommand encode_submit(std::string_view sender, std::string_view raw, ceb::Message message) {
  EncodedCommand c;
  c.kind = CommandKind::kSubmitMessage;
  // u16 sender length | sender | raw message bytes
  c.payload.reserve(2 + sender.size() + raw.size());
  c.payload.push_back(static_cast<char>(sender.size() & 0xff));
  c.payload.push_back(static_cast<char>((sender.size() >> 8) & 0xff));
  c.payload.append(sender);
  c.payload.append(raw);
  c.body = clearance::SubmitMessage{std::string(sender), std::move(message)};
  return c;
}

EncodedCommand encode_admin(clearance::Command::Body body, std::string api_key_sha256) {
  EncodedCommand c;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, clearance::RegisterEnterprise>) {
          c.kind = CommandKind::kRegisterEnterprise;
          kv(w, "code", b.enterprise.code);
          kv(w, "name", b.enterprise.name);
          kv(w, "roles", clearance::format_roles(b.enterprise.roles));
          kv(w, "grade", ref::credit_grade_name(b.enterprise.grade));
          kv(w, "key_sha256", api_key_sha256);
        } else if constexpr (std::is_same_v<T, clearance::StockIn>) {
          c.kind = CommandKind::kStockIn;
          kv(w, "operatorCode", b.operatorCode);
          kv(w, "emsNo", b.emsNo);
          kv(w, "itemRecordNo", b.itemRecordNo);
          kv(w, "gcode", b.gcode);
          kv(w, "name", b.name);
          kv(w, "unit", b.unit);
          kv(w, "qty", format_decimal(b.qty));
          if (b.risk) kv(w, "risk", ref::risk_class_name(*b.risk));
        } else if constexpr (std::is_same_v<T, clearance::GuaranteeDeposit>) {
          c.kind = CommandKind::kGuaranteeDeposit;
          kv(w, "assureCode", b.assureCode);
          w.Key("amount_fen");
          w.Int64(b.amount_fen);
        } else if constexpr (std::is_same_v<T, clearance::OfficerDecision>) {
          c.kind = CommandKind::kOfficerDecision;
          kv(w, "officer", b.officer_id);
          kv(w, "invtNo", b.invtNo);
          w.Key("action");
          w.Int(static_cast<int>(b.action));
          kv(w, "reason", b.reason);
        } else if constexpr (std::is_same_v<T, clearance::SetDrawSeed>) {
          c.kind = CommandKind::kSetDrawSeed;
          kv(w, "day", format_date8(b.day));
          kv(w, "seed", hex_encode(b.seed));
        } else if constexpr (std::is_same_v<T, clearance::RegisterOfficer>) {
          c.kind = CommandKind::kRegisterOfficer;
          kv(w, "officer", b.officer_id);
          kv(w, "name", b.name);
          kv(w, "site", b.site);
          w.Key("on_duty");
          w.Bool(b.on_duty);
          kv(w, "key_sha256", api_key_sha256);
        } else if constexpr (std::is_same_v<T, clearance::ClaimList>) {
          c.kind = CommandKind::kClaimList;
          kv(w, "officer", b.officer_id);
          kv(w, "invtNo", b.invtNo);
          w.Key("unclaim");
          w.Bool(b.unclaim);
        } else if constexpr (std::is_same_v<T, clearance::InspectionResult>) {
          c.kind = CommandKind::kInspectionResult;
          kv(w, "officer", b.officer_id);
          kv(w, "invtNo", b.invtNo);
          w.Key("finding");
          w.Bool(b.finding);
          kv(w, "category", b.category);
          w.Key("action");
          w.Int(static_cast<int>(b.action));
          kv(w, "reason", b.reason);
        } else if constexpr (std::is_same_v<T, clearance::SetControlOrder>) {
          c.kind = CommandKind::kSetControlOrder;
          kv(w, "officer", b.officer_id);
          kv(w, "order_id", b.order_id);
          kv(w, "target", clearance::control_target_name(b.target));
          kv(w, "pattern", b.pattern);
          kv(w, "action", clearance::lane_name(b.action));
          w.Key("expires_at");
          w.Int64(b.expires_at);
          kv(w, "reason", b.reason);
          w.Key("revoke");
          w.Bool(b.revoke);
        } else if constexpr (std::is_same_v<T, clearance::ConfirmGrade>) {
          c.kind = CommandKind::kConfirmGrade;
          kv(w, "officer", b.officer_id);
          kv(w, "code", b.code);
          kv(w, "grade", ref::credit_grade_name(b.grade));
          w.Key("effective_from");
          w.Int64(b.effective_from);
          kv(w, "reason", b.reason);
        } else if constexpr (std::is_same_v<T, clearance::Tick>) {
          c.kind = CommandKind::kTick;
        } else if constexpr (std::is_same_v<T, clearance::Pickup>) {
          c.kind = CommandKind::kPickup;
          kv(w, "hallCode", b.hallCode);
          kv(w, "pickup_code", b.pickup_code);
          kv(w, "id_suffix", b.id_suffix);
          kv(w, "clerk", b.clerk);
        } else if constexpr (std::is_same_v<T, clearance::ReturnArrival>) {
          c.kind = CommandKind::kReturnArrival;
          kv(w, "operatorCode", b.operatorCode);
          kv(w, "agentCode", b.agentCode);
          kv(w, "copNo", b.copNo);
        } else if constexpr (std::is_same_v<T, clearance::TaxPayment>) {
          c.kind = CommandKind::kTaxPayment;
          kv(w, "assureCode", b.assureCode);
          kv(w, "invtNo", b.invtNo);
          kv(w, "paymentRef", b.paymentRef);
          w.Key("amount_fen");
          w.Int64(b.amount_fen);
        } else if constexpr (std::is_same_v<T, clearance::LoadReference>) {
          CBEC_ASSERT(false && "use encode_load_reference for reference data");
        } else {
          static_assert(std::is_same_v<T, clearance::SubmitMessage>);
          CBEC_ASSERT(false && "use encode_submit for messages");
        }
      },
      body);
  w.EndObject();
  c.payload.assign(buf.GetString(), buf.GetSize());
  c.body = std::move(body);
  c.api_key_sha256 = std::move(api_key_sha256);
  return c;
}

EncodedCommand encode_set_webhook(WebhookSetting setting) {
  EncodedCommand c;
  c.kind = CommandKind::kSetWebhook;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  kv(w, "code", setting.code);
  kv(w, "url", setting.url);
  if (!setting.secret.empty()) kv(w, "secret", setting.secret);
  w.EndObject();
  c.payload.assign(buf.GetString(), buf.GetSize());
  c.body = clearance::Tick{};
  c.webhook = std::move(setting);
  return c;
}

namespace {
Result<std::shared_ptr<const ref::ReferenceData>> load_texts(std::string_view policy,
                                                             std::string_view goods,
                                                             std::string_view positive) {
  // An empty text stands for the embedded default of that file.
  return ref::ReferenceData::LoadTexts(policy.empty() ? embedded_file("policy.toml") : policy,
                                       goods.empty() ? embedded_file("goods.csv") : goods,
                                       positive.empty() ? embedded_file("positive_list.csv")
                                                        : positive);
}
}  // namespace

Result<EncodedCommand> encode_load_reference(std::string_view policy_toml,
                                             std::string_view goods_csv,
                                             std::string_view positive_list_csv) {
  auto data = load_texts(policy_toml, goods_csv, positive_list_csv);
  if (!data.ok()) return InvalidArgument(std::string(data.status().message()));
  EncodedCommand c;
  c.kind = CommandKind::kLoadReference;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  kv(w, "policy_toml", policy_toml);
  kv(w, "goods_csv", goods_csv);
  kv(w, "positive_list_csv", positive_list_csv);
  w.EndObject();
  c.payload.assign(buf.GetString(), buf.GetSize());
  c.body = clearance::LoadReference{*data};
  return c;
}

Result<EncodedCommand> decode_command(uint8_t kind_byte, std::string_view payload) {
  EncodedCommand c;
  c.kind = static_cast<CommandKind>(kind_byte);
  c.payload = std::string(payload);
  if (c.kind == CommandKind::kSubmitMessage) {
    if (payload.size() < 2) return Internal("submit record too short");
    size_t n = static_cast<unsigned char>(payload[0]) |
               (static_cast<size_t>(static_cast<unsigned char>(payload[1])) << 8);
    if (payload.size() < 2 + n) return Internal("submit record: sender cut off");
    std::string sender(payload.substr(2, n));
    ceb::ReadResult r = ceb::read_message_auto(payload.substr(2 + n));
    if (!r.ok()) {
      return Internal(fmt::format("logged message from {} no longer parses: {}", sender,
                                  r.violations.empty() ? "?" : r.violations[0].ToString()));
    }
    c.body = clearance::SubmitMessage{std::move(sender), std::move(*r.message)};
    return c;
  }
  rapidjson::Document d;
  d.Parse(payload.data(), payload.size());
  if (d.HasParseError() || !d.IsObject()) return Internal("admin record is not a JSON object");
  switch (c.kind) {
    case CommandKind::kRegisterEnterprise: {
      auto roles = clearance::parse_roles(get(d, "roles"));
      auto grade = ref::parse_credit_grade(get(d, "grade"));
      if (!roles.ok() || !grade) return Internal("register record: bad roles or grade");
      c.body = clearance::RegisterEnterprise{
          clearance::Enterprise{get(d, "code"), get(d, "name"), *roles, *grade}};
      c.api_key_sha256 = get(d, "key_sha256");
      return c;
    }
    case CommandKind::kStockIn: {
      Decimal qty;
      if (parse_decimal(get(d, "qty"), &qty) != DecimalError::kOk)
        return Internal("stock-in record: bad qty");
      clearance::StockIn in{get(d, "operatorCode"), get(d, "emsNo"), get(d, "itemRecordNo"),
                            get(d, "gcode"),        get(d, "name"),  get(d, "unit"),
                            qty,                    std::nullopt};
      if (d.HasMember("risk")) {
        in.risk = ref::parse_risk_class(get(d, "risk"));
        if (!in.risk) return Internal("stock-in record: bad risk");
      }
      c.body = std::move(in);
      return c;
    }
    case CommandKind::kGuaranteeDeposit:
      c.body = clearance::GuaranteeDeposit{get(d, "assureCode"), get_int(d, "amount_fen")};
      return c;
    case CommandKind::kOfficerDecision:
      c.body = clearance::OfficerDecision{
          get(d, "officer"), get(d, "invtNo"),
          static_cast<clearance::OfficerAction>(get_int(d, "action")), get(d, "reason")};
      return c;
    case CommandKind::kSetDrawSeed: {
      auto day = parse_date8(get(d, "day"));
      auto seed = hex_decode(get(d, "seed"));
      if (!day || !seed) return Internal("seed record: bad day or seed");
      c.body = clearance::SetDrawSeed{*day, std::move(*seed)};
      return c;
    }
    case CommandKind::kRegisterOfficer:
      c.body = clearance::RegisterOfficer{get(d, "officer"), get(d, "name"), get(d, "site"),
                                          get_bool(d, "on_duty")};
      c.api_key_sha256 = get(d, "key_sha256");
      return c;
    case CommandKind::kClaimList:
      c.body = clearance::ClaimList{get(d, "officer"), get(d, "invtNo"), get_bool(d, "unclaim")};
      return c;
    case CommandKind::kInspectionResult:
      c.body = clearance::InspectionResult{
          get(d, "officer"),
          get(d, "invtNo"),
          get_bool(d, "finding"),
          get(d, "category"),
          static_cast<clearance::OfficerAction>(get_int(d, "action")),
          get(d, "reason")};
      return c;
    case CommandKind::kSetControlOrder: {
      auto target = clearance::parse_control_target(get(d, "target"));
      std::string action = get(d, "action");
      if (!target || (action != "yellow" && action != "red"))
        return Internal("control order record: bad target or action");
      c.body = clearance::SetControlOrder{
          get(d, "officer"), get(d, "order_id"),     *target,
          get(d, "pattern"), action == "red" ? clearance::Lane::kRed : clearance::Lane::kYellow,
          get_int(d, "expires_at"), get(d, "reason"), get_bool(d, "revoke")};
      return c;
    }
    case CommandKind::kConfirmGrade: {
      auto grade = ref::parse_credit_grade(get(d, "grade"));
      if (!grade) return Internal("grade record: bad grade");
      c.body = clearance::ConfirmGrade{get(d, "officer"), get(d, "code"), *grade,
                                       get_int(d, "effective_from"), get(d, "reason")};
      return c;
    }
    case CommandKind::kTick:
      c.body = clearance::Tick{};
      return c;
    case CommandKind::kSetWebhook:
      if (!d.HasMember("code") || !d.HasMember("url"))
        return Internal("set-webhook record: code or url missing");
      c.body = clearance::Tick{};
      c.webhook = WebhookSetting{get(d, "code"), get(d, "url"), get(d, "secret")};
      return c;
    case CommandKind::kLoadReference: {
      auto data = load_texts(get(d, "policy_toml"), get(d, "goods_csv"),
                             get(d, "positive_list_csv"));
      if (!data.ok())
        return Internal(fmt::format("logged reference data no longer loads: {}",
                                    data.status().message()));
      c.body = clearance::LoadReference{*data};
      return c;
    }
    case CommandKind::kPickup:
      c.body = clearance::Pickup{get(d, "hallCode"), get(d, "pickup_code"), get(d, "id_suffix"),
                                 get(d, "clerk")};
      return c;
    case CommandKind::kReturnArrival:
      c.body =
          clearance::ReturnArrival{get(d, "operatorCode"), get(d, "agentCode"), get(d, "copNo")};
      return c;
    case CommandKind::kTaxPayment:
      c.body = clearance::TaxPayment{get(d, "assureCode"), get(d, "invtNo"), get(d, "paymentRef"),
                                     get_int(d, "amount_fen")};
      return c;
    default:
      return Internal(fmt::format("unknown command kind {}", kind_byte));
  }
}

}  // namespace cbec::service
