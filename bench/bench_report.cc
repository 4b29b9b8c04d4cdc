// The quarterly return over a large central store: records merged with their indicator
// contributions (as pushes do), then the time to assemble the return from the running totals.
//   bench_report [RECORDS]      (default 1000000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "beatbook/indicators.h"
#include "bench_util.h"
#include "record_generator.h"
#include "report/quarterly_return.h"
#include "store/sqlite_central_store.h"

using namespace beatbook;
using bench::Steady;

int main(int argc, char** argv) {
  std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1'000'000;
  Catalogue catalogue;
  if (Status s =
          Catalogue::LoadFile(std::string(BEATBOOK_SCHEMA_DIR) + "/indicators.json", &catalogue);
      !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::string dir = bench::TempDir();
  std::unique_ptr<server::SqliteCentralStore> store;
  if (!server::SqliteCentralStore::Open(dir, &store).ok()) return 1;

  auto load_start = Steady::now();
  const std::size_t kBatch = 20'000;
  for (std::size_t done = 0; done < n; done += kBatch) {
    auto inputs = bench::GenerateRecords(std::min(kBatch, n - done), done + 1);
    Status s = store->Write([&](server::WriteTxn& txn) {
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        RecordState r;
        r.id = "rec-" + std::to_string(done + i);
        r.form = inputs[i].form;
        r.form_version = 1;
        r.org = (done + i) % 3 ? "police" : "street_pastors";
        r.author = "amy";
        r.device = "dev-bench";
        HlcStamp t = static_cast<HlcStamp>(done + i + 1);
        r.occurred_at = Register{*inputs[i].occurred_at, t, r.device, 0};
        r.deleted = Register{false, t, r.device, 0};
        for (const auto& [k, v] : inputs[i].fields.items())
          r.fields[k] = Register{v, t, r.device, 0};
        BB_RETURN_IF_ERROR(txn.SaveRecord(r));
        BB_RETURN_IF_ERROR(txn.SetContributions(r.id, ContributionsOf(catalogue, r), t, 0));
      }
      return Status::OK();
    });
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  }
  double load_s = std::chrono::duration<double>(Steady::now() - load_start).count();

  std::vector<double> ms;
  for (int i = 0; i < 21; ++i) {
    auto start = Steady::now();
    nlohmann::json report;
    if (!server::AssembleReturn(store.get(), catalogue, 2023, std::nullopt, 0, &report).ok()) {
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  bench::PrintHeader();
  bench::PrintRate("merging records with their indicator contributions (bench load)",
                   static_cast<double>(n) / load_s, "-", 0);
  bench::PrintRow("quarterly return over " + std::to_string(n) + " records (median of 21)",
                  bench::Format("%.2f ms", ms[ms.size() / 2]), "<= 50 ms");
  store.reset();
  bench::RemoveDir(dir);
  return 0;
}
