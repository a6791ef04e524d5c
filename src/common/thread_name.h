// Names a thread for top, perf and /proc/<pid>/task/*/comm.
//
// cbec serve runs a command-log writer, the core's applier, a receipt storer, the HTTP I/O
// threads and a few pushers; unnamed they all show as "cbec", and a profile cannot tell the
// apply stage from an I/O thread. The creator names the thread right after starting it, so the
// name is there before anyone can look. Linux keeps at most 15 bytes: longer names are cut there.
#pragma once

#include <string_view>
#include <thread>

namespace cbec {

inline constexpr size_t kMaxThreadNameBytes = 15;

// Best effort: a name the system refuses leaves the thread as it was. REQUIRES t.joinable().
void name_thread(std::thread& t, std::string_view name);

}  // namespace cbec
