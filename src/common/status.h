// Status and Result<T> for expected failures (bad input, missing partner, no stock).
//
// Codes follow absl's meaning so the caller knows what to do; the service maps them once to HTTP
// statuses and customs return codes. An OK status holds no string and costs one comparison.
#pragma once

#include <cassert>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cbec {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,     // fix the input and resend
  kNotFound,            // the referenced thing does not exist (yet)
  kAlreadyExists,       // duplicate key with different content
  kFailedPrecondition,  // state does not allow this now (e.g. modify after decision)
  kResourceExhausted,   // stock, quota, guarantee or a size limit
  kPermissionDenied,    // sender not registered or wrong role
  kUnavailable,         // retry later (e.g. intake stopped)
  kInternal,            // a bug or corrupt state
};

const char* status_code_name(StatusCode c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : rep_(code == StatusCode::kOk ? nullptr
                                     : std::make_shared<Rep>(Rep{code, std::move(message)})) {}
  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }
  std::string ToString() const;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status s) : v_(std::move(s)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cbec

#define CBEC_CONCAT_INNER(a, b) a##b
#define CBEC_CONCAT(a, b) CBEC_CONCAT_INNER(a, b)

// TRY(expr): returns the Status of expr from the enclosing function if it is not OK.
#define TRY(expr)                                 \
  do {                                            \
    ::cbec::Status _st = (expr);                  \
    if (!_st.ok()) return _st;                    \
  } while (0)

// TRY_ASSIGN(lhs, expr): evaluates a Result<T>; returns its Status on failure, else assigns.
#define TRY_ASSIGN(lhs, expr) TRY_ASSIGN_IMPL(CBEC_CONCAT(_res_, __LINE__), lhs, expr)
#define TRY_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                    \
  if (!tmp.ok()) return tmp.status();   \
  lhs = std::move(tmp).value()

// Invariant checks stay on in release builds (TigerBeetle style): a broken invariant in the
// clearance core means corrupt state, and stopping is better than acknowledging wrong data.
#define CBEC_ASSERT(cond)                                                   \
  do {                                                                      \
    if (!(cond)) ::cbec::assert_fail(#cond, __FILE__, __LINE__);            \
  } while (0)

namespace cbec {
[[noreturn]] void assert_fail(const char* expr, const char* file, int line);
}
