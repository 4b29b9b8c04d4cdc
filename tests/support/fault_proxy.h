// FaultProxy: a TCP proxy on 127.0.0.1 that sits between field_client and sync_server and breaks
// connections the way a field network does, so tests can prove that syncs survive it.
//
// Each accepted connection gets one fate, drawn from a seeded generator (the same seed replays the
// same fates in the same order of connections):
//   - pass:          bytes flow both ways untouched;
//   - cut request:   both sides are closed once N bytes have gone client -> server (mid-request);
//   - cut response:  both sides are closed once N bytes have come server -> client (mid-response,
//                    which for a push is usually after the server committed the batch);
//   - stall:         the request reaches the server but nothing comes back, until the client's
//                    own timeout gives up;
//   - slow:          everything arrives, in small pieces with pauses between them.
//
// Usage:
//   FaultProxy proxy(server.port(), seed);
//   REQUIRE(proxy.Start());
//   field_client init --server proxy.url() ...     (passes: no plan yet)
//   proxy.SetPlan({.cut_request = 0.2, .cut_response = 0.2});
//   field_client sync ...                          (meets faults)
// The proxy stops, and closes every connection, when destroyed. Loopback only.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace beatbook::test {

enum class NetFault { kPass, kCutRequest, kCutResponse, kStall, kSlow };

// Which fates connections meet: first the `scripted` ones, one per connection in order (so a test
// can be sure each fault happens at least once: a scripted fault that did not act, because its
// connection ended first, is given to the next connection), then drawn with these probabilities;
// what is left over passes untouched.
struct FaultPlan {
  double cut_request = 0;
  double cut_response = 0;
  double stall = 0;
  double slow = 0;
  std::vector<NetFault> scripted;
};

// How many connections met each fate (a cut that never came because the connection carried fewer
// bytes than its threshold counts as a pass).
struct FaultCounts {
  int connections = 0;
  int cut_requests = 0;
  int cut_responses = 0;
  int stalls = 0;
  int slow = 0;
};

class FaultProxy {
 public:
  FaultProxy(int upstream_port, std::uint64_t seed);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Listens on 127.0.0.1 with a port the OS picks. False if it could not.
  bool Start();
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Applies to connections accepted from now on.
  void SetPlan(FaultPlan plan);
  FaultCounts counts() const;

 private:
  using Fate = NetFault;
  struct Decision {
    Fate fate = Fate::kPass;
    std::size_t cut_at = 0;  // bytes, for the cuts
    bool scripted = false;   // from FaultPlan::scripted (passed on if it does not act)
  };

  void AcceptLoop();
  void Serve(int client_fd, Decision decision);
  Decision Decide();
  void Count(Fate fate);
  void Requeue(Fate fate);

  int upstream_port_;
  FaultPlan plan_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;  // guards plan_, next_scripted_, rng_, counts_, workers_
  std::size_t next_scripted_ = 0;
  std::mt19937_64 rng_;
  FaultCounts counts_;
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace beatbook::test
