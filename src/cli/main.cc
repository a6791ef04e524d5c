// cbec: the command-line face of the clearance platform.
#include <iostream>

#include "CLI/CLI.hpp"
#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"cbec — single-window clearance for cross-border e-commerce retail imports"};
  app.require_subcommand(1);

  std::vector<std::string> files;
  auto* validate = app.add_subcommand("validate", "Validate CEB messages (XML, Base64 or JSON)");
  validate->add_option("files", files, "message files")->required()->check(CLI::ExistingFile);

  auto* tax = app.add_subcommand("tax", "Tax tools");
  tax->require_subcommand(1);
  std::string tax_file, tax_date;
  auto* estimate = tax->add_subcommand(
      "estimate", "Tax of a CEB621 list (XML/JSON) or of a JSON order whose lines carry gcode");
  estimate->add_option("file", tax_file, "message file")->required()->check(CLI::ExistingFile);
  estimate->add_option("--date", tax_date, "rates in force on this date (yyyy-mm-dd)");

  cbec::cli::GenArgs g;
  auto* gen = app.add_subcommand("gen", "Generate consistent document sets for the demo zone");
  gen->add_option("--seed", g.seed, "random seed (same seed, same output)");
  gen->add_option("--count", g.count, "number of document sets")->check(CLI::Range(1, 10000000));
  gen->add_option("--faults", g.fault_share, "share of faulty sets (0..1)")
      ->check(CLI::Range(0.0, 1.0));
  gen->add_option("--direct-mail", g.direct_mail_share, "share of 9610 direct-mail sets (0..1)")
      ->check(CLI::Range(0.0, 1.0));
  gen->add_option("--hall", g.hall_share, "share of bonded sets bought at the O2O hall (0..1)")
      ->check(CLI::Range(0.0, 1.0));
  gen->add_option("--out", g.out_dir, "output directory");
  gen->add_option("--format", g.format, "xml or json")->check(CLI::IsMember({"xml", "json"}));
  gen->add_option("--start", g.start, "first day (yyyy-mm-dd)");

  cbec::cli::DemoArgs d;
  auto* demo = app.add_subcommand("demo", "Clear a generated day of the demo zone in-process");
  demo->add_option("--seed", d.seed, "random seed");
  demo->add_option("--count", d.count, "number of document sets")->check(CLI::Range(1, 10000000));
  demo->add_option("--faults", d.fault_share, "share of faulty sets")->check(CLI::Range(0.0, 1.0));

  cbec::cli::ServeArgs sv;
  auto* serve = app.add_subcommand("serve", "Run the durable clearance service over HTTP");
  serve->add_option("--data-dir", sv.data_dir, "command log and state directory");
  serve->add_option("--listen", sv.listen, "HOST:PORT (port 0 picks a free one)");
  serve->add_option("--config", sv.config, "TOML configuration file")->check(CLI::ExistingFile);
  serve->add_flag("--demo", sv.demo, "register the demo zone with documented keys");
  serve->add_option("--feed", sv.feed_rate, "with --demo: feed generated lists per second");
  serve->add_option("--hall-share", sv.hall_share,
                    "with --feed: share of bonded orders bought at the O2O hall (0..1)")
      ->check(CLI::Range(0.0, 1.0));
  serve->add_option("--port-file", sv.port_file, "write the bound port to this file");
  serve->add_option("--fixed-draw-seed", sv.fixed_draw_seed,
                    "tests only: this 64-hex seed for every day's random draws (predictable)");

  std::string url = "http://127.0.0.1:8080", key;
  std::vector<std::string> submit_files;
  bool submit_xml = false;
  auto* submit = app.add_subcommand("submit", "Post CEB message files and print the receipts");
  submit->add_option("--url", url, "service URL");
  submit->add_option("--key", key, "the enterprise's API key")->required();
  submit->add_flag("--xml", submit_xml, "ask for CEB receipt XML instead of JSON");
  submit->add_option("files", submit_files, "message files")->required()->check(CLI::ExistingFile);

  cbec::cli::AuditArgs au;
  auto* audit = app.add_subcommand("audit", "Audit tools");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand(
      "verify-draws", "Recompute a day's random draws from the revealed seed and the log");
  verify->add_option("--day", au.day, "the day, yyyyMMdd or yyyy-MM-dd")->required();
  verify->add_option("--url", au.url, "service URL to fetch the published seeds and draws from");
  verify->add_option("--key", au.key, "API key for /api/v1/audit/draws");
  verify->add_option("--seeds", au.seeds_file, "saved GET /api/v1/audit/seeds answer");
  verify->add_option("--draws", au.draws_file, "saved GET /api/v1/audit/draws answer");
  verify->add_option("--data-dir", au.data_dir, "replay this command log and compare");
  verify->add_option("--reference-dir", au.reference_dir, "the zone's reference data files");

  CLI11_PARSE(app, argc, argv);
  if (verify->parsed()) return cbec::cli::audit_verify_draws(au);
  if (serve->parsed()) return cbec::cli::serve(sv);
  if (submit->parsed()) return cbec::cli::submit(url, key, submit_files, submit_xml);
  if (validate->parsed()) return cbec::cli::validate(files);
  if (estimate->parsed()) return cbec::cli::tax_estimate(tax_file, tax_date);
  if (gen->parsed()) return cbec::cli::gen(g);
  if (demo->parsed()) return cbec::cli::demo(d);
  return 2;
}
