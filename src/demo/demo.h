// The demo zone as commands for the clearance core: registrations, stock-in, guarantees.
//
// Public face of src/demo/. `cbec demo`, `cbec serve --demo` and the end-to-end tests all set up
// the zone through these commands, so the zone is defined once (src/gen/zone.cc).
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "clearance/clearance.h"
#include "gen/gen.h"

namespace cbec::service {
class Service;
}

namespace cbec::demo {

// Registers every enterprise of the zone, stocks in every account-book item, registers the
// officers (on duty at the zone's customs code) and lodges each guarantor's guarantee, in that
// order. `guarantee_floor_fen` raises each guarantee to at least
// that amount (a long run needs more than the zone's default).
std::vector<clearance::Command::Body> setup_commands(const gen::Zone& zone,
                                                     Fen guarantee_floor_fen = 0);

// The four messages of each batch of up to 100 sets, in the order a real day brings them:
// orders, payments, waybills, then lists. Each entry is (sender, message).
struct Submission {
  std::string sender;
  ceb::Message message;
};
std::vector<Submission> submissions(const gen::Zone& zone, std::span<const gen::DocSet> sets);

// Sets the zone up in a running service (setup_commands, each durable before the next), with
// each enterprise's and officer's API key (the plain key from the functions; stored hashed).
using KeyOf = std::function<std::string(std::string_view code_or_officer_id)>;
Status register_zone(service::Service& s, const gen::Zone& zone, Fen guarantee_floor_fen,
                     const KeyOf& enterprise_key, const KeyOf& officer_key);

}  // namespace cbec::demo
