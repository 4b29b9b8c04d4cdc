#include "support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace beatbook::test {

namespace {

constexpr int kPollMs = 50;  // how quickly workers notice the proxy stopping
constexpr std::size_t kBufferBytes = 16 * 1024;
// Where a cut falls: in the first bytes, which every request and reply has (its headers), or
// anywhere in the first few KiB (a body: pushes and pull pages go gzip-compressed, tens of KiB
// at most).
constexpr std::size_t kMaxCutInHeaders = 200;
constexpr std::size_t kMaxCutRequest = 16 * 1024;
constexpr std::size_t kMaxCutResponse = 4 * 1024;
constexpr std::size_t kSlowChunkBytes = 4 * 1024;
constexpr auto kSlowPause = std::chrono::milliseconds(2);

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

bool SendAll(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool SendSlowly(int fd, const char* data, std::size_t n) {
  for (std::size_t off = 0; off < n; off += kSlowChunkBytes) {
    if (!SendAll(fd, data + off, std::min(kSlowChunkBytes, n - off))) return false;
    std::this_thread::sleep_for(kSlowPause);
  }
  return true;
}

}  // namespace

FaultProxy::FaultProxy(int upstream_port, std::uint64_t seed)
    : upstream_port_(upstream_port), rng_(seed) {}

void FaultProxy::SetPlan(FaultPlan plan) {
  std::lock_guard<std::mutex> lock(mu_);
  plan_ = std::move(plan);
  next_scripted_ = 0;
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& w : workers) w.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool FaultProxy::Start() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return false;
  sockaddr_in addr = Loopback(0);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
  if (::listen(listen_fd_, 64) != 0) return false;
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return true;
}

FaultCounts FaultProxy::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

FaultProxy::Decision FaultProxy::Decide() {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_.connections;
  Fate fate = Fate::kPass;
  bool scripted = next_scripted_ < plan_.scripted.size();
  if (scripted) {
    fate = plan_.scripted[next_scripted_++];
  } else {
    double x = std::uniform_real_distribution<double>(0, 1)(rng_);
    for (auto [p, f] : {std::pair{plan_.cut_request, Fate::kCutRequest},
                        std::pair{plan_.cut_response, Fate::kCutResponse},
                        std::pair{plan_.stall, Fate::kStall}, std::pair{plan_.slow, Fate::kSlow}}) {
      if ((x -= p) < 0) {
        fate = f;
        break;
      }
    }
  }
  // A scripted cut falls in the headers, which every request and reply has: it happens on its
  // own connection. A drawn one may fall anywhere in the first KiB of a body too.
  auto cut_at = [&](std::size_t max) {
    return 1 + rng_() % (scripted || rng_() % 2 ? kMaxCutInHeaders : max);
  };
  Decision d{fate, 0, scripted};
  if (fate == Fate::kCutRequest) d.cut_at = cut_at(kMaxCutRequest);
  if (fate == Fate::kCutResponse) d.cut_at = cut_at(kMaxCutResponse);
  return d;
}

void FaultProxy::Requeue(Fate fate) {
  std::lock_guard<std::mutex> lock(mu_);
  plan_.scripted.insert(plan_.scripted.begin() + static_cast<std::ptrdiff_t>(next_scripted_), fate);
}

void FaultProxy::Count(Fate fate) {
  std::lock_guard<std::mutex> lock(mu_);
  switch (fate) {
    case Fate::kCutRequest:
      ++counts_.cut_requests;
      break;
    case Fate::kCutResponse:
      ++counts_.cut_responses;
      break;
    case Fate::kStall:
      ++counts_.stalls;
      break;
    case Fate::kSlow:
      ++counts_.slow;
      break;
    case Fate::kPass:
      break;
  }
}

void FaultProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    Decision d = Decide();
    std::lock_guard<std::mutex> lock(mu_);
    workers_.emplace_back([this, client, d] { Serve(client, d); });
  }
}

void FaultProxy::Serve(int client, Decision d) {
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(upstream_port_);
  if (server < 0 || ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (server >= 0) ::close(server);
    ::close(client);  // the server is down: the client sees a reset, as it would
    return;
  }
  std::size_t up = 0, down = 0;  // bytes forwarded each way
  bool counted = d.fate == Fate::kPass;
  auto count_once = [&] {
    if (!counted) Count(d.fate);
    counted = true;
  };
  char buf[kBufferBytes];
  while (!stopping_) {
    pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    // A stalled connection leaves the response unread in the server's socket.
    nfds_t n = d.fate == Fate::kStall ? 1 : 2;
    if (::poll(p, n, kPollMs) <= 0) continue;
    if (p[0].revents != 0) {
      ssize_t r = ::recv(client, buf, sizeof buf, 0);
      if (r <= 0) break;
      std::size_t len = static_cast<std::size_t>(r);
      if (d.fate == Fate::kCutRequest && up + len >= d.cut_at) {
        SendAll(server, buf, d.cut_at - up);
        count_once();
        break;
      }
      if (!SendAll(server, buf, len)) break;
      up += len;
      if (d.fate == Fate::kStall) count_once();
    }
    if (n == 2 && p[1].revents != 0) {
      ssize_t r = ::recv(server, buf, sizeof buf, 0);
      if (r <= 0) break;
      std::size_t len = static_cast<std::size_t>(r);
      if (d.fate == Fate::kCutResponse && down + len >= d.cut_at) {
        SendAll(client, buf, d.cut_at - down);
        count_once();
        break;
      }
      bool sent = d.fate == Fate::kSlow ? SendSlowly(client, buf, len) : SendAll(client, buf, len);
      if (!sent) break;
      down += len;
      if (d.fate == Fate::kSlow) count_once();
    }
  }
  ::close(server);
  ::close(client);
  // A scripted fault that never acted (the client gave up first) goes to the next connection, so
  // every scripted fault really happens.
  if (!counted && d.scripted) Requeue(d.fate);
}

}  // namespace beatbook::test
