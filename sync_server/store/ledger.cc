#include "sync_server/store/ledger.h"

namespace beatbook::server {

Status BufferedLedger::Set(const std::string& record_id,
                           const std::vector<Contribution>& contributions, HlcStamp stamp,
                           std::int64_t at_ms, bool stored_before) {
  std::vector<Contribution> old;
  if (stored_before) BB_RETURN_IF_ERROR(statements_->TakeContributions(record_id, &old));
  for (const auto& c : old) Apply(c, -1);
  for (const auto& c : contributions) {
    BB_RETURN_IF_ERROR(statements_->InsertContribution(record_id, c, stamp, at_ms));
    Apply(c, +1);
  }
  return Status::OK();
}

void BufferedLedger::Apply(const Contribution& c, int sign) {
  if (!c.key.empty()) {
    // Distinct and repeat: a key counts once per quarter and once in the year (quarter 0).
    for (int q : {c.quarter, 0}) refs_[{c.indicator, c.fy, q, c.key}] += sign;
    return;
  }
  Total& t = totals_[{c.indicator, c.fy, c.quarter}];
  t.value += sign * c.value;
  t.n += sign * c.n;
  t.records += sign;
}

Status BufferedLedger::Flush() {
  BB_RETURN_IF_ERROR(statements_->FlushContributions());
  std::vector<KeyRefDelta> deltas;
  for (const auto& [k, delta] : refs_) {
    if (delta == 0) continue;
    const auto& [ind, fy, q, key] = k;
    deltas.push_back({ind, fy, q, key, delta});
  }
  std::vector<std::int64_t> refs_after;
  if (!deltas.empty()) BB_RETURN_IF_ERROR(statements_->AddKeyRefs(deltas, &refs_after));
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    std::int64_t after = refs_after[i];
    std::int64_t before = after - deltas[i].delta;
    Total& t = totals_[{deltas[i].indicator, deltas[i].fy, deltas[i].quarter}];
    // A distinct figure counts keys with any reference; a repeat figure (in n) keys with two
    // or more.
    if (before <= 0 && after > 0) t.value += 1;
    if (before > 0 && after <= 0) t.value -= 1;
    if (before < 2 && after >= 2) t.n += 1;
    if (before >= 2 && after < 2) t.n -= 1;
  }
  for (const auto& [k, t] : totals_) {
    if (t.value == 0 && t.n == 0 && t.records == 0) continue;
    const auto& [ind, fy, q] = k;
    BB_RETURN_IF_ERROR(statements_->AddTotals(ind, fy, q, t.value, t.n, t.records));
  }
  refs_.clear();
  totals_.clear();
  return Status::OK();
}

}  // namespace beatbook::server
