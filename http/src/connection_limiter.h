// ConnectionLimiter: how many connections the server keeps open, in total and per client address,
// so that idle or slow connections (thousands of them, or a few addresses holding many) cannot
// exhaust its file descriptors and stop it answering (docs/security.md, "Floods").
//
//   ConnectionLimiter limits(/*max_total=*/1000, /*max_per_address=*/256);
//   auto id = limits.Admit("203.0.113.9", [weak] { /* close that session */ });
//   if (!id) { /* refuse: drop the socket */ }
//   limits.SetIdle(*id, true);    // waiting for a request
//   limits.SetIdle(*id, false);   // handling one
//   limits.Release(*id);          // the connection closed
//
// An address at its own cap is refused. At the total cap, the connection that has waited longest
// for a request is asked to close to make room (a busy one never is); with none waiting, the new
// one is refused. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace beatbook::http {

class ConnectionLimiter {
 public:
  ConnectionLimiter(std::size_t max_total, std::size_t max_per_address);

  // Admits a connection from `address`: its id, or nullopt if refused. `close` is called (from
  // any thread, at most once) to ask it to close when room is needed.
  std::optional<std::uint64_t> Admit(const std::string& address, std::function<void()> close);
  // Marks the connection waiting for a request (evictable) or handling one.
  void SetIdle(std::uint64_t id, bool idle);
  // The connection is gone.
  void Release(std::uint64_t id);

  // Asks every connection waiting for a request to close (the server is shutting down); busy
  // ones finish their request first and are not kept alive after it.
  void CloseIdle();

  std::size_t open() const;

 private:
  struct Entry {
    std::string address;
    std::function<void()> close;
    bool idle = true;
    std::uint64_t idle_since = 0;  // a sequence number: smaller waited longer
  };

  std::size_t max_total_;
  std::size_t max_per_address_;
  mutable std::mutex mu_;
  std::uint64_t next_id_ = 1;
  std::uint64_t clock_ = 0;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::unordered_map<std::string, std::size_t> per_address_;
  std::map<std::uint64_t, std::uint64_t> idle_order_;  // idle_since -> id, for eviction
};

}  // namespace beatbook::http
