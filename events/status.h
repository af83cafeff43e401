// Status and Result: the channel for environment failures and bad input.
//
// Three channels for failure in Tally:
//   1. A bug trips an always-on assertion (TALLY_CHECK) and stops the process.
//   2. An environment failure (disk, RocksDB, Kafka) or bad input is a Status
//      whose code tells the caller whether retrying can help.
//   3. A business rejection (insufficient credits, version conflict) is a
//      value in the per-event result, never a Status and never an exception.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "events/check.h"

namespace tally {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad input; the same input will fail again
  kNotFound,         // the thing asked for does not exist
  kConflict,         // the input contradicts what is stored (same id, other content)
  kCorruption,       // stored bytes failed a check; stop and call an operator
  kIoError,          // disk or store failure; retry once the environment is fixed
  kUnavailable,      // transient (busy, broker down); retry with backoff
};

// Returns the lower-case name of `code`, e.g. "invalid_argument".
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string message) {
    return Status(StatusCode::kInvalidArgument, std::move(message));
  }
  static Status NotFound(std::string message) {
    return Status(StatusCode::kNotFound, std::move(message));
  }
  static Status Conflict(std::string message) {
    return Status(StatusCode::kConflict, std::move(message));
  }
  static Status Corruption(std::string message) {
    return Status(StatusCode::kCorruption, std::move(message));
  }
  static Status IoError(std::string message) {
    return Status(StatusCode::kIoError, std::move(message));
  }
  static Status Unavailable(std::string message) {
    return Status(StatusCode::kUnavailable, std::move(message));
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // True when the same call may succeed later without changing its input.
  bool retryable() const {
    return code_ == StatusCode::kIoError || code_ == StatusCode::kUnavailable;
  }
  // "invalid_argument: line 3: data.amount.value: ..." or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "prefix: message" (for adding context).
  Status WithContext(const std::string& prefix) const;

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : value_(std::move(status)) {  // NOLINT: implicit by design
    TALLY_CHECK(!std::get<Status>(value_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(value_); }
  // REQUIRES: ok()
  const T& value() const& { return Get(); }
  T& value() & {
    TALLY_CHECK(ok());
    return std::get<T>(value_);
  }
  T&& value() && {
    TALLY_CHECK(ok());
    return std::get<T>(std::move(value_));
  }
  const T& operator*() const { return Get(); }
  const T* operator->() const { return &Get(); }
  // Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(value_); }

 private:
  const T& Get() const {
    TALLY_CHECK(ok());
    return std::get<T>(value_);
  }
  std::variant<T, Status> value_;
};

}  // namespace tally
