// Shared set-up of the in-process service tests: a fresh data directory, the embedded reference
// data, service options with a fixed clock and no ticks, and the demo zone registered with keys
// "key-<code>".
#pragma once

#include <filesystem>
#include <string>

#include "demo/demo.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "service/api.h"
#include "service/service.h"

namespace cbec::service::testing {

inline std::string temp_dir(const std::string& name) {
  std::filesystem::path p = std::filesystem::path(CBEC_BINARY_DIR) / "test-data" / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

inline std::shared_ptr<const ref::ReferenceData> reference() {
  static auto r = *ref::ReferenceData::LoadDefaults();
  return r;
}

inline ServiceOptions base_options(const std::string& dir) {
  ServiceOptions o;
  o.data_dir = dir;
  o.reference = reference();
  o.ticks = false;
  o.draw_seeds = false;  // every list green unless a test forces a lane
  o.clock = [] { return beijing_midnight(CivilDate{2025, 6, 18}) + 9 * kMsPerHour; };
  return o;
}

inline void setup_zone(Service& s) {
  Status st = demo::register_zone(
      s, gen::demo_zone(), 100'000'000'00,
      [](std::string_view code) { return "key-" + std::string(code); },
      [](std::string_view id) { return "officer-key-" + std::string(id); });
  ASSERT_TRUE(st.ok()) << st.ToString();
}

}  // namespace cbec::service::testing
