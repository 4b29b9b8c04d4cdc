// The indicator ledger both central stores keep (docs/indicators.md, "Kept current, not
// recomputed"): each record's contributions, and running totals per (indicator, fy, quarter)
// moved by the difference when a record's contributions change. The arithmetic is here, once;
// a store supplies the four statements it runs them with (LedgerStatements).
//
//   BufferedLedger ledger(&statements);
//   BB_RETURN_IF_ERROR(ledger.Set(record_id, contributions, stamp, at_ms));  // per record
//   BB_RETURN_IF_ERROR(ledger.Flush());                                     // before commit
//
// Contributions are written as records are saved; what they change in the shared totals is
// summed in memory and written by Flush, in key order: the rows every push touches (an
// indicator's quarter) are then written once per batch, and always in the same order, so two
// servers' transactions never deadlock on them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "beatbook/hlc.h"
#include "beatbook/indicators.h"
#include "beatbook/status.h"

namespace beatbook::server {

// A change to the references of one distinct key (an indicator's quarter, or its year as quarter
// 0).
struct KeyRefDelta {
  std::string indicator;
  int fy = 0;
  int quarter = 0;
  std::string key;
  std::int64_t delta = 0;
};

// What a store runs for the ledger, inside its write transaction.
class LedgerStatements {
 public:
  virtual ~LedgerStatements() = default;
  // Deletes record `record_id`'s contributions, handing back what they were.
  virtual Status TakeContributions(const std::string& record_id,
                                   std::vector<Contribution>* old) = 0;
  // May be buffered until FlushContributions (TakeContributions still sees it).
  virtual Status InsertContribution(const std::string& record_id, const Contribution& c,
                                    HlcStamp stamp, std::int64_t at_ms) = 0;
  virtual Status FlushContributions() { return Status::OK(); }
  // Adds each delta to the references of its distinct key, deletes keys with none left, and sets
  // (*after)[i] to the references deltas[i]'s key has now. The keys are distinct.
  virtual Status AddKeyRefs(const std::vector<KeyRefDelta>& deltas,
                            std::vector<std::int64_t>* after) = 0;
  virtual Status AddTotals(const std::string& indicator, int fy, int quarter, double value,
                           double n, std::int64_t records) = 0;
};

class BufferedLedger {
 public:
  explicit BufferedLedger(LedgerStatements* statements) : statements_(statements) {}

  // Replaces what record `record_id` contributes; the totals move at Flush. `stored_before`
  // false says the record has no contributions stored (it is new, or they were all deleted):
  // nothing is looked up.
  Status Set(const std::string& record_id, const std::vector<Contribution>& contributions,
             HlcStamp stamp, std::int64_t at_ms, bool stored_before = true);
  // Writes the contributions still buffered, then the summed changes: distinct keys first (whether
  // a key appeared, vanished or reached two references changes its totals), then the totals, each
  // in key order.
  Status Flush();

 private:
  struct Total {
    double value = 0, n = 0;
    std::int64_t records = 0;
  };
  void Apply(const Contribution& c, int sign);

  LedgerStatements* statements_;
  std::map<std::tuple<std::string, int, int, std::string>, std::int64_t> refs_;
  std::map<std::tuple<std::string, int, int>, Total> totals_;
};

}  // namespace beatbook::server
