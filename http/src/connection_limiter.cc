#include "connection_limiter.h"

#include <vector>

namespace beatbook::http {

ConnectionLimiter::ConnectionLimiter(std::size_t max_total, std::size_t max_per_address)
    : max_total_(max_total), max_per_address_(max_per_address) {}

std::optional<std::uint64_t> ConnectionLimiter::Admit(const std::string& address,
                                                      std::function<void()> close) {
  std::function<void()> evict;
  std::optional<std::uint64_t> admitted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::size_t& mine = per_address_[address];
    if (mine >= max_per_address_) return std::nullopt;
    if (entries_.size() >= max_total_) {
      if (idle_order_.empty()) {
        if (mine == 0) per_address_.erase(address);
        return std::nullopt;
      }
      // Room is made by the connection that has waited longest: it is forgotten now (its
      // Release later finds nothing), so a flood cannot grow past the cap while it closes.
      auto oldest = idle_order_.begin();
      auto victim = entries_.find(oldest->second);
      evict = std::move(victim->second.close);
      if (--per_address_[victim->second.address] == 0) per_address_.erase(victim->second.address);
      entries_.erase(victim);
      idle_order_.erase(oldest);
    }
    std::uint64_t id = next_id_++;
    ++per_address_[address];
    std::uint64_t since = ++clock_;
    entries_[id] = Entry{address, std::move(close), true, since};
    idle_order_[since] = id;
    admitted = id;
  }
  if (evict) evict();  // outside the lock: it may call back in
  return admitted;
}

void ConnectionLimiter::SetIdle(std::uint64_t id, bool idle) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.idle == idle) return;
  Entry& e = it->second;
  if (e.idle) idle_order_.erase(e.idle_since);
  e.idle = idle;
  if (idle) {
    e.idle_since = ++clock_;
    idle_order_[e.idle_since] = id;
  }
}

void ConnectionLimiter::Release(std::uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;  // already evicted
  if (it->second.idle) idle_order_.erase(it->second.idle_since);
  if (--per_address_[it->second.address] == 0) per_address_.erase(it->second.address);
  entries_.erase(it);
}

void ConnectionLimiter::CloseIdle() {
  std::vector<std::function<void()>> closes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [since, id] : idle_order_) {
      auto& close = entries_[id].close;
      if (close) closes.push_back(std::move(close));
      close = nullptr;  // asked once; it stays counted until it is released
    }
  }
  for (auto& close : closes) close();  // outside the lock: it may call back in
}

std::size_t ConnectionLimiter::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace beatbook::http
