#include "common/thread_name.h"

#include <pthread.h>

#include <algorithm>
#include <cstring>

namespace cbec {

void name_thread(std::thread& t, std::string_view name) {
  char buf[kMaxThreadNameBytes + 1];
  const size_t n = std::min(name.size(), kMaxThreadNameBytes);
  std::memcpy(buf, name.data(), n);
  buf[n] = '\0';
  (void)pthread_setname_np(t.native_handle(), buf);
}

}  // namespace cbec
