// Status: the result of an operation that can fail, in the style of LevelDB.
//
//   Status s = store->Log(input, &id);
//   if (!s.ok()) std::cerr << s.ToString() << "\n";
//
// A Status is either OK or carries a code and a one-sentence message naming what was wrong (the
// field, the value, the path). Functions that return a Status never throw for expected failures;
// they change nothing stored when they fail unless their header says otherwise.
#pragma once

#include <string>
#include <utility>

namespace beatbook {

// [[nodiscard]]: a Status thrown away is a failure nobody hears of; the build refuses it. Where a
// failure is deliberately ignored, say why and write IgnoreError().
class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,     // the caller's input is wrong (bad field, value, JSON); do not retry
    kNotFound,            // the thing named does not exist
    kAlreadyExists,       // an id or name is already taken
    kIoError,             // the filesystem or database failed; the operation was rolled back
    kCorruption,          // stored data is unreadable or inconsistent
    kUnavailable,         // a peer or resource is unreachable or busy; retrying later may work
    kPermissionDenied,    // the caller is not allowed to do this
    kUnauthenticated,     // the caller's credential is missing or wrong
    kFailedPrecondition,  // the store is not in a state that allows this (e.g. not enrolled)
    kResourceExhausted    // over a limit on what the caller may keep (a quota); do not retry now
  };

  Status() = default;
  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return {Code::kInvalidArgument, std::move(msg)};
  }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Status IoError(std::string msg) { return {Code::kIoError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) {
    return {Code::kPermissionDenied, std::move(msg)};
  }
  static Status Unauthenticated(std::string msg) {
    return {Code::kUnauthenticated, std::move(msg)};
  }
  static Status FailedPrecondition(std::string msg) {
    return {Code::kFailedPrecondition, std::move(msg)};
  }
  static Status ResourceExhausted(std::string msg) {
    return {Code::kResourceExhausted, std::move(msg)};
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsUnavailable() const { return code_ == Code::kUnavailable; }
  bool IsPermissionDenied() const { return code_ == Code::kPermissionDenied; }
  bool IsUnauthenticated() const { return code_ == Code::kUnauthenticated; }
  bool IsFailedPrecondition() const { return code_ == Code::kFailedPrecondition; }

  // "invalid argument: field 'attendees': value -3 is below the minimum 0"
  std::string ToString() const;
  // Marks a Status as deliberately ignored (with a comment saying why at the call).
  void IgnoreError() const {}

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Returns early from the enclosing function if `expr` is not OK.
#define BB_RETURN_IF_ERROR(expr)       \
  do {                                 \
    ::beatbook::Status _bb_s = (expr); \
    if (!_bb_s.ok()) return _bb_s;     \
  } while (0)

}  // namespace beatbook
