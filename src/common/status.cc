#include "common/status.h"

#include <cstdio>
#include <cstdlib>

namespace cbec {

const char* status_code_name(StatusCode c) {
  switch (c) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kInternal: return "INTERNAL";
  }
  return "?";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(status_code_name(code())) + ": " + std::string(message());
}

void assert_fail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "cbec: invariant violated: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace cbec
