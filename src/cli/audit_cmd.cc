// cbec audit verify-draws: recomputes a day's random draws from what the zone published and,
// with --data-dir, from the command log itself (src/audit/audit.h says what is checked).
#include <fstream>
#include <iostream>
#include <sstream>

#include "audit/audit.h"
#include "cli/commands.h"
#include "fmt/format.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "server/http.h"
#include "service/service.h"

namespace cbec::cli {

namespace {

constexpr int kDrawsPage = 1000;  // == kMaxReceiptPage, the API's page bound

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<std::string> get(server::HttpClient& c, const std::string& path, const std::string& key) {
  std::vector<std::pair<std::string, std::string>> h;
  if (!key.empty()) h.emplace_back("X-API-Key", key);
  TRY_ASSIGN(auto r, c.Request("GET", path, "", h));
  if (r.status != 200) return Internal(fmt::format("GET {}: HTTP {} {}", path, r.status, r.body));
  return r.body;
}

// Every page of /api/v1/audit/draws joined into one {"draws":[...]} document.
Result<std::string> fetch_draws(server::HttpClient& c, CivilDate day, const std::string& key) {
  std::string joined = "{\"draws\":[";
  uint64_t after = 0;
  bool first = true;
  for (;;) {
    TRY_ASSIGN(std::string page, get(c, fmt::format("/api/v1/audit/draws?day={}&after={}&limit={}",
                                                    format_date8(day), after, kDrawsPage),
                                     key));
    rapidjson::Document d;
    d.Parse(page.data(), page.size());
    if (d.HasParseError() || !d.HasMember("draws")) return Internal("draws page is not JSON");
    size_t n = 0;
    for (const auto& e : d["draws"].GetArray()) {
      rapidjson::StringBuffer b;
      rapidjson::Writer<rapidjson::StringBuffer> w(b);
      e.Accept(w);
      if (!first) joined += ",";
      joined.append(b.GetString(), b.GetSize());
      first = false;
      ++n;
    }
    if (n == 0) break;
    after = d["next"].GetUint64();
  }
  return joined + "]}";
}

}  // namespace

int audit_verify_draws(const AuditArgs& a) {
  auto day = parse_day(a.day);
  if (!day) {
    std::cerr << "--day: yyyyMMdd or yyyy-MM-dd\n";
    return 2;
  }
  std::string seeds, draws;
  if (!a.url.empty()) {
    auto c = connect_url(a.url);
    if (!c.ok()) {
      std::cerr << "cannot connect to " << a.url << ": " << c.status().message() << "\n";
      return 2;
    }
    auto s = get(**c, "/api/v1/audit/seeds", "");
    auto d = s.ok() ? fetch_draws(**c, *day, a.key) : Result<std::string>(s.status());
    if (!s.ok() || !d.ok()) {
      std::cerr << (s.ok() ? d.status() : s.status()).message() << "\n";
      return 2;
    }
    seeds = *s, draws = *d;
  } else {
    auto s = read_file(a.seeds_file);
    auto d = read_file(a.draws_file);
    if (!s.ok() || !d.ok()) {
      std::cerr << "give --url, or --seeds FILE and --draws FILE\n";
      return 2;
    }
    seeds = *s, draws = *d;
  }
  auto published = audit::parse_published(*day, seeds, draws);
  if (!published.ok()) {
    std::cerr << published.status().message() << "\n";
    return 2;
  }
  auto reference = a.reference_dir.empty() ? ref::ReferenceData::LoadDefaults()
                                           : ref::ReferenceData::LoadDir(a.reference_dir);
  if (!reference.ok()) {
    std::cerr << reference.status().message() << "\n";
    return 2;
  }
  std::optional<std::vector<clearance::DrawRecord>> replayed;
  if (!a.data_dir.empty()) {
    auto r = service::Service::ReplayDraws(a.data_dir, *reference, *day);
    if (!r.ok()) {
      std::cerr << "replay of " << a.data_dir << ": " << r.status().message() << "\n";
      return 2;
    }
    replayed = std::move(*r);
  }
  audit::VerifyReport rep =
      audit::verify_draws(*published, replayed ? &*replayed : nullptr, **reference);
  std::cout << fmt::format("{}: {} decisions checked, {} selected by the draw, log {}\n",
                           format_iso_date(*day), rep.checked, rep.selected,
                           replayed ? "replayed and compared" : "not given (--data-dir)");
  for (const auto& m : rep.mismatches) std::cout << "MISMATCH " << m << "\n";
  std::cout << (rep.ok() ? "OK: every draw recomputes\n"
                         : fmt::format("FAILED: {} mismatches\n", rep.mismatch_count));
  return rep.ok() ? 0 : 1;
}

}  // namespace cbec::cli
