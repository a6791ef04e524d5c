// Names the calling thread for top, perf and /proc/<pid>/task/*/comm.
//
// cbec serve runs a command-log writer, the core's applier, a receipt storer, the HTTP I/O
// threads and a few pushers; unnamed they all show as "cbec", and a profile cannot tell the
// apply stage from an I/O thread. Linux keeps at most 15 bytes: longer names are cut there.
#pragma once

#include <string_view>

namespace cbec {

inline constexpr size_t kMaxThreadNameBytes = 15;

// Best effort: a name the system refuses leaves the thread as it was.
void name_this_thread(std::string_view name);

}  // namespace cbec
