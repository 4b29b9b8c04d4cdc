// The indicator ledger's four statements (store/ledger.h) in SQL, over a session: what
// SqlCentralStore hands a BufferedLedger in each write transaction and in a rebuild.
#pragma once

#include <set>
#include <string>

#include "sync_server/store/ledger.h"
#include "sync_server/store/sql_rows.h"
#include "sync_server/store/sql_session.h"

namespace beatbook::server {

class SqlLedgerStatements final : public LedgerStatements {
 public:
  explicit SqlLedgerStatements(SqlSession* session) : session_(session), inserts_(10) {}

  Status TakeContributions(const std::string& record_id, std::vector<Contribution>* old) override;
  Status InsertContribution(const std::string& record_id, const Contribution& c, HlcStamp stamp,
                            std::int64_t at_ms) override;
  Status AddKeyRefs(const std::vector<KeyRefDelta>& deltas,
                    std::vector<std::int64_t>* after) override;
  Status AddTotals(const std::string& indicator, int fy, int quarter, double value, double n,
                   std::int64_t records) override;
  Status FlushContributions() override;

 private:
  SqlSession* session_;
  // Contributions not yet written (multi-row inserts), and whose they are.
  RowBuffer inserts_;
  std::set<std::string> buffered_for_;
};

}  // namespace beatbook::server
