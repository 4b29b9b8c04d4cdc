// The server's merge path and the quarterly return over a large central store:
// 1. pushes merged as the server merges them (the body's text decoded, then ApplyPush: permission,
//    merge, validation, indicator contributions, batch reply and audit, one transaction per push
//    batch), without HTTP;
// 2. a bulk load of RECORDS records straight into the store with their contributions (no merge:
//    only to build a large store quickly), then the time to assemble the return from the running
//    totals.
//   bench_report [RECORDS] [MERGED]      (defaults 1000000 and 100000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "beatbook/indicators.h"
#include "beatbook/tunables.h"
#include "bench_util.h"
#include "record_generator.h"
#include "sync_server/api/push.h"
#include "sync_server/api/push_decoder.h"
#include "sync_server/report/quarterly_return.h"
#include "sync_server/store/sql_central_store.h"

using namespace beatbook;
using bench::Steady;

namespace {

// `records` as one push body from `device`, each a new record's first change.
nlohmann::json PushBody(const std::vector<RecordInput>& records, std::size_t first,
                        const server::DeviceInfo& device, std::size_t batch_no,
                        std::int64_t now_ms) {
  nlohmann::json changes = nlohmann::json::array();
  for (std::size_t i = 0; i < records.size(); ++i) {
    RecordState r;
    r.id = "merged-" + std::to_string(first + i);
    r.form = records[i].form;
    r.form_version = 1;
    r.org = device.org;
    r.author = device.user;
    r.device = device.id;
    HlcStamp t = HybridClock::FromPhysical(now_ms) + static_cast<HlcStamp>(first + i);
    r.occurred_at = Register{*records[i].occurred_at, t, r.device, 0};
    r.deleted = Register{false, t, r.device, 0};
    for (const auto& [k, v] : records[i].fields.items()) r.fields[k] = Register{v, t, r.device, 0};
    nlohmann::json change = r.ToJson(true);
    change["change_id"] = "c-" + std::to_string(first + i);
    changes.push_back(std::move(change));
  }
  return {{"batch_id", device.id + ":" + std::to_string(batch_no)},
          {"pending_after", 0},
          {"changes", std::move(changes)}};
}

// Merges `n` generated records through ApplyPush, in push batches; records per second, or 0 if a
// batch failed or rejected anything.
double MergeRate(const Catalogue& catalogue, std::size_t n) {
  FormSet forms;
  if (Status s = FormSet::LoadDir(BEATBOOK_SCHEMA_DIR, &forms); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 0;
  }
  std::string dir = bench::TempDir();
  std::unique_ptr<server::SqlCentralStore> store;
  if (!server::SqlCentralStore::OpenSqlite(dir, &store).ok()) return 0;
  server::DeviceInfo device;
  device.id = "dev-bench";
  device.user = "amy";
  device.org = "csp";  // may log every generated form
  device.role = Role::kFieldWorker;
  auto records = bench::GenerateRecords(n, 11);
  // Stamped as a device would stamp them now: the server refuses stamps far from its clock.
  std::int64_t now = SystemClock::Default()->NowMs();
  // The bodies' texts are built first: decoding them is part of the merge path, building them
  // is not.
  std::vector<std::string> bodies;
  for (std::size_t at = 0; at < n; at += tunables::kPushBatchSize) {
    std::vector<RecordInput> batch(
        records.begin() + static_cast<long>(at),
        records.begin() + static_cast<long>(std::min(n, at + tunables::kPushBatchSize)));
    bodies.push_back(PushBody(batch, at, device, bodies.size(), now).dump());
  }
  std::int64_t applied = 0;
  auto start = Steady::now();
  for (const auto& body : bodies) {
    nlohmann::json reply;
    server::PushRequest request;
    Status s = server::DecodePushBody(forms, body, &request);
    if (s.ok()) s = server::ApplyPush(store.get(), forms, catalogue, device, request, now, &reply);
    if (!s.ok() || reply["rejected"] != 0) {
      std::string why = s.ToString();
      for (const auto& r : reply.value("results", nlohmann::json::array())) {
        if (r.contains("reason")) why += "; " + r["reason"].get<std::string>();
        if (why.size() > 400) break;
      }
      std::fprintf(stderr, "merge: %s\n", why.c_str());
      return 0;
    }
    applied += reply["applied"].get<std::int64_t>();
  }
  double rate = static_cast<double>(applied) / bench::Seconds(start);
  store.reset();
  bench::RemoveDir(dir);
  return applied == static_cast<std::int64_t>(n) ? rate : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1'000'000;
  std::size_t merged = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 100'000;
  Catalogue catalogue;
  if (Status s =
          Catalogue::LoadFile(std::string(BEATBOOK_SCHEMA_DIR) + "/indicators.json", &catalogue);
      !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  double raw = bench::RawSqliteInsertRate(bench::GenerateRecords(merged, 11));
  double merge_rate = MergeRate(catalogue, merged);
  if (merge_rate == 0) return 1;

  std::string dir = bench::TempDir();
  std::unique_ptr<server::SqlCentralStore> store;
  if (!server::SqlCentralStore::OpenSqlite(dir, &store).ok()) return 1;

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
  bench::PrintRate("server merge of " + std::to_string(merged) +
                       " pushed records (ApplyPush in batches of " +
                       std::to_string(tunables::kPushBatchSize) + ", no HTTP)",
                   merge_rate, "-", raw);
  bench::PrintRate("bulk load of " + std::to_string(n) +
                       " records with their contributions (no merge; builds the store below)",
                   static_cast<double>(n) / load_s, "-", raw);
  bench::PrintRow("quarterly return over " + std::to_string(n) + " records (median of 21)",
                  bench::Format("%.2f ms", ms[ms.size() / 2]), "<= 50 ms");
  store.reset();
  bench::RemoveDir(dir);
  return 0;
}
