// Sub-commands of the `cbec` command-line tool. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "server/http.h"

namespace cbec::cli {

// cbec validate FILE...: one line per record with its key and findings; exit 0 only if every
// record of every file is valid.
int validate(const std::vector<std::string>& files);

// cbec tax estimate FILE: the tax of each list (CEB621 XML or JSON), or of an order in JSON
// whose lines carry "gcode", per line and total, as JSON on stdout.
int tax_estimate(const std::string& file, const std::string& date_iso);

struct GenArgs {
  uint64_t seed = 1;
  int count = 100;
  double fault_share = 0.05;
  double direct_mail_share = 0.0;
  double hall_share = 0.0;  // bonded sets bought at the O2O hall
  std::string out_dir = "gen-out";
  std::string format = "xml";  // xml | json
  std::string start = "2026-05-10";
};
// cbec gen: writes generated document sets as CEB messages (≤100 records each) and a manifest.
int gen(const GenArgs& args);

struct DemoArgs {
  uint64_t seed = 1;
  int count = 2000;
  double fault_share = 0.05;
};
// cbec demo: runs a generated day of the demo zone through the clearance core in-process and
// prints what happened (until the service exists, this is what `make run` shows).
int demo(const DemoArgs& args);

struct ServeArgs {
  std::string data_dir = "data";
  std::string listen = "127.0.0.1:8080";
  std::string config;
  bool demo = false;
  double feed_rate = 0;      // with --demo: generated lists per second fed over HTTP
  double hall_share = 0.2;   // with --feed: share of bonded orders bought at the O2O hall
  std::string port_file;     // write the bound port here (tests use port 0)
  std::string fixed_draw_seed;  // 64 hex: the same draw seed every day (tests only)
};
// cbec serve: the durable service; blocks until SIGTERM/SIGINT, then drains and stops.
int serve(const ServeArgs& args);
// The documented key of a demo-zone enterprise: "demo-key-<code>".
std::string demo_key(std::string_view code);
std::string demo_officer_key(std::string_view officer_id);  // "demo-officer-key-<id>"

struct AuditArgs {
  std::string day;          // yyyyMMdd or yyyy-MM-dd
  std::string url;          // fetch what the zone published from this service
  std::string key;          // any key (an enterprise sees its own decisions only)
  std::string seeds_file;   // or: saved answers of GET /api/v1/audit/seeds ...
  std::string draws_file;   // ... and GET /api/v1/audit/draws
  std::string data_dir;     // the command log to replay (a copy, or a stopped service)
  std::string reference_dir;
};
// cbec audit verify-draws: exit 0 if every draw of the day recomputes, 1 on a mismatch.
int audit_verify_draws(const AuditArgs& args);

// A keep-alive client for "http://HOST:PORT" (the tools that talk to a running cbec serve).
Result<std::unique_ptr<server::HttpClient>> connect_url(const std::string& url);

// cbec submit: posts message files and prints the receipts.
int submit(const std::string& url, const std::string& key, const std::vector<std::string>& files,
           bool xml);

}  // namespace cbec::cli
