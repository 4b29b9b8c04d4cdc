// Sync over loopback against the real sync_server binary:
//   1. one device pushing RECORDS records (the device's sync engine in this process, libcurl);
//   2. a second device of the same org pulling them;
//   3. `field_client sync` as a separate process on a device holding RECORDS new records (it
//      pushes them and pulls the org's records back): its wall time and peak memory;
//   4. DEVICES devices at once, each pushing PER_DEVICE records and pulling its org's records:
//   every
//      request's latency (p50/p99/max), no record lost, and the server's peak memory.
//   1b. the same records pushed and pulled by PouchDB to a PouchDB server over loopback (a
//      CouchDB-style peer, bench/pouchdb), when Node and its packages are installed: the ratio.
//   5. with BEATBOOK_BENCH_PG_URL set (bench/run_all.sh starts a throw-away PostgreSQL): 4. again
//      with two sync_server processes on that PostgreSQL store, devices split between them.
//   bench_sync [RECORDS] [DEVICES] [PER_DEVICE]      (defaults 100000 500 200)
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "beatbook/crypto.h"
#include "beatbook/permissions.h"
#include "bench_util.h"
#include "field_client/sync/curl_transport.h"
#include "field_client/sync/sync_engine.h"
#include "record_generator.h"
#include "support/process.h"
#include "sync_server/store/open_store.h"

using namespace beatbook;
using namespace beatbook::bench;

namespace {

// A Transport that records how long each request took (including its retries).
class TimedTransport final : public sync::Transport {
 public:
  explicit TimedTransport(sync::Transport* inner) : inner_(inner) {}
  Status Send(const sync::HttpRequest& request, sync::HttpResponse* response) override {
    auto start = Steady::now();
    Status s = inner_->Send(request, response);
    ms_.push_back(Seconds(start) * 1000);
    if (request.target.rfind("/v1/push", 0) == 0) push_ms_.push_back(ms_.back());
    return s;
  }
  const std::vector<double>& ms() const { return ms_; }
  // The pushes' alone (a subset of ms()).
  const std::vector<double>& push_ms() const { return push_ms_; }

 private:
  sync::Transport* inner_;
  std::vector<double> ms_, push_ms_;
};

// Every simulated device connects from 127.0.0.1: the per-address connection cap is raised as
// it would be behind a load balancer.
std::vector<std::string> StoreArgs(const std::string& store_url) {
  std::vector<std::string> args = {"--max-connections-per-address", "5000"};
  if (!store_url.empty()) args.insert(args.end(), {"--store", store_url});
  return args;
}

// A server data directory with its process, on the embedded store or `store_url`; tokens are
// written straight into its store.
struct Server {
  explicit Server(std::string url = "")
      : store_url(std::move(url)), process(dir + "/central", {}, StoreArgs(store_url)) {}
  std::string dir = TempDir();
  std::string store_url;
  test::ServerProcess process;

  Status OpenStore(std::unique_ptr<server::CentralStore>* out) {
    return server::OpenCentralStore(dir + "/central", store_url, out);
  }

  std::string Token(const std::string& user, const std::string& org) {
    std::unique_ptr<server::CentralStore> store;
    std::string token = RandomSecret(24);
    std::int64_t now = SystemClock::Default()->NowMs();
    Status s = OpenStore(&store);
    if (s.ok())
      s = store->CreateToken(token, {user, org, Role::kFieldWorker, now + 3600'000}, now, nullptr);
    if (!s.ok()) std::fprintf(stderr, "token: %s\n", s.ToString().c_str());
    return token;
  }
  ~Server() {
    process.Stop();
    RemoveDir(dir);
  }
};

Status EnrolDevice(const std::string& url, const std::string& token, const std::string& dir,
                   std::unique_ptr<LocalStore>* out) {
  sync::CurlTransport transport(url, {});
  sync::Enrolment enrolment;
  BB_RETURN_IF_ERROR(sync::Enrol(&transport, token, "bench", nullptr, &enrolment));
  FormSet forms;
  BB_RETURN_IF_ERROR(FormSet::FromJson(enrolment.forms, &forms));
  enrolment.identity.server_url = url;
  enrolment.identity.server_reads_gzip = transport.server_reads_gzip();
  BB_RETURN_IF_ERROR(LocalStore::Create(dir, enrolment.identity, forms, {}, out));
  return (*out)->SetClockOffset(enrolment.clock_offset_ms);
}

// Peak resident memory of a process still running, from /proc (VmHWM), in MiB.
double PeakMiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// CPU time (user + system) a process has used so far, from /proc, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Where a phase's time went: this process's CPU, the server's CPU, and the wall time.
struct CpuSplit {
  pid_t server;
  double client0 = CpuSeconds(::getpid()), server0 = CpuSeconds(server);
  Steady::time_point start = Steady::now();
  std::string Report() const {
    return Format("wall %.2f s", Seconds(start)) +
           Format(", device CPU %.2f s", CpuSeconds(::getpid()) - client0) +
           Format(", server CPU %.2f s", CpuSeconds(server) - server0);
  }
};

// Runs a program to completion; returns its exit code, wall seconds and peak memory (MiB). The peak
// is VmHWM polled from exec on: getrusage's ru_maxrss (and VmHWM before exec) would also count the
// pages the child inherited from this large process.
int RunMeasured(const std::vector<std::string>& argv, double* seconds, double* peak_mib) {
  auto start = Steady::now();
  int exec_pipe[2];  // closed by exec (O_CLOEXEC): tells the parent the program has started
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(exec_pipe[0]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(exec_pipe[1]);
  char byte;
  while (::read(exec_pipe[0], &byte, 1) > 0) {
  }
  ::close(exec_pipe[0]);
  int status = 0;
  *peak_mib = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    *peak_mib = std::max(*peak_mib, PeakMiB(pid));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  *seconds = Seconds(start);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

bool Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  return false;
}

// 1b: the same records replicated by PouchDB to a PouchDB server over loopback (bench/pouchdb): its
// push and pull rates, or nullopt (with why on stderr) when Node or its packages are missing.
struct PeerRates {
  double push = 0, pull = 0;
  std::string name;
};
std::optional<PeerRates> CouchStylePeer(const std::vector<RecordInput>& records,
                                        const std::vector<std::string>& ids,
                                        const std::string& dir) {
  const std::string script = BEATBOOK_POUCHDB_BENCH;
  const std::string modules = script.substr(0, script.rfind('/')) + "/node_modules";
  if (::access(modules.c_str(), F_OK) != 0) {
    std::fprintf(stderr, "PouchDB peer skipped: run `npm ci` in bench/pouchdb (run_all.sh does)\n");
    return std::nullopt;
  }
  const std::string file = dir + "/records.jsonl";
  {
    std::ofstream out(file);
    for (std::size_t i = 0; i < records.size(); ++i) {
      json doc = {{"id", ids[i]}, {"form", records[i].form}, {"fields", records[i].fields}};
      if (records[i].occurred_at) doc["occurred_at"] = *records[i].occurred_at;
      out << doc.dump() << '\n';
    }
  }
  std::string command = "node '" + script + "' '" + file + "' --pull";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string output;
  char buf[4096];
  while (std::size_t got = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, got);
  int rc = ::pclose(pipe);
  json result = json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (rc != 0 || !result.is_object() ||
      result.value("records", 0) != static_cast<int>(records.size())) {
    std::fprintf(stderr, "PouchDB peer failed (exit %d): %s\n", rc, output.c_str());
    return std::nullopt;
  }
  return PeerRates{result.value("push_per_second", 0.0), result.value("pull_per_second", 0.0),
                   "PouchDB " + result.value("pouchdb", std::string("?")) + " to " +
                       result.value("server", std::string("?"))};
}

// 1-3: one device pushing, one pulling, field_client syncing as a process; then 1b.
bool OneDevice(std::size_t n, double raw) {
  Server server;
  if (!server.process.Start()) return Fail("server", Status::Unavailable("did not start"));
  const std::string url = server.process.url();
  auto records = GenerateRecords(n, 7);

  std::unique_ptr<LocalStore> pusher, puller, child;
  Status s = EnrolDevice(url, server.Token("amy", "csp"), server.dir + "/pusher", &pusher);
  if (s.ok()) s = EnrolDevice(url, server.Token("bob", "csp"), server.dir + "/puller", &puller);
  if (s.ok()) s = EnrolDevice(url, server.Token("cat", "csp"), server.dir + "/child", &child);
  std::vector<std::string> ids;
  if (s.ok()) s = pusher->LogAll(records, &ids);
  if (s.ok()) s = child->LogAll(GenerateRecords(n, 8), &ids);
  if (!s.ok()) return Fail("setting up devices", s);
  child.reset();  // the field_client process opens it

  sync::CurlTransport transport(url, {"", -1, -1, false, pusher->identity().server_reads_gzip});
  sync::SyncSummary pushed, pulled;
  CpuSplit push_split{server.process.pid()};
  s = sync::SyncEngine(pusher.get(), &transport).Push(&pushed);
  const std::size_t push_wire = transport.bytes_sent(), push_body = transport.body_bytes_sent();
  double push_rate = static_cast<double>(pushed.pushed) / Seconds(push_split.start);
  std::fprintf(stderr, "push: %s\n", push_split.Report().c_str());
  if (!s.ok() || pushed.pushed != static_cast<std::int64_t>(n)) return Fail("push", s);

  CpuSplit pull_split{server.process.pid()};
  const std::size_t received0 = transport.bytes_received();
  const std::size_t body_received0 = transport.body_bytes_received();
  s = sync::SyncEngine(puller.get(), &transport).Pull(&pulled);
  double pull_rate = static_cast<double>(pulled.pulled) / Seconds(pull_split.start);
  const std::size_t pull_wire = transport.bytes_received() - received0;
  const std::size_t pull_body = transport.body_bytes_received() - body_received0;
  std::fprintf(stderr, "pull: %s\n", pull_split.Report().c_str());
  if (!s.ok() || pulled.pulled != static_cast<std::int64_t>(n)) return Fail("pull", s);

  double child_s = 0, child_mib = 0;
  int rc = RunMeasured({test::FieldClientBin(), "sync", "--data", server.dir + "/child", "--json"},
                       &child_s, &child_mib);
  if (rc != 0) return Fail("field_client sync", Status::IoError("exit " + std::to_string(rc)));
  std::string count = std::to_string(n);
  PrintRate("one device pushing " + count + " records over loopback", push_rate, ">= 100,000/s",
            raw);
  PrintRate("one device pulling " + count + " records", pull_rate, ">= 100,000/s", raw);
  // Bytes per record as they crossed the network (gzip), against the same bodies uncompressed.
  auto per_record = [n](std::size_t wire, std::size_t body) {
    double records = static_cast<double>(n);
    return Format("%.0f B", static_cast<double>(wire) / records) +
           Format(" (uncompressed %.0f B): ", static_cast<double>(body) / records) +
           Format("%.2f of it", body ? static_cast<double>(wire) / static_cast<double>(body) : 0.0);
  };
  PrintRow("bytes on the wire per record, push", per_record(push_wire, push_body), "<= 0.25");
  PrintRow("bytes on the wire per record, pull", per_record(pull_wire, pull_body), "<= 0.25");
  PrintRow("`field_client sync`: push " + count + ", pull " + std::to_string(2 * n) + " (wall)",
           Format("%.1f s", child_s), "-");
  PrintRow("peak memory of that `field_client sync`", Format("%.0f MiB", child_mib), "<= 64 MB");

  // The pusher's records are the first n ids LogAll returned.
  if (auto peer = CouchStylePeer(records, ids, server.dir)) {
    auto versus = [](double ours, double theirs) {
      return Format("Beatbook %.0f/s, ", ours) + Format("peer %.0f/s: ", theirs) +
             Format("%.1fx", theirs > 0 ? ours / theirs : 0.0);
    };
    PrintRow("push against a CouchDB-style peer (" + peer->name + ", loopback), same " + count +
                 " records, same run",
             versus(push_rate, peer->push), ">= 20x");
    PrintRow("pull against that peer, same records, same run", versus(pull_rate, peer->pull), "-");
  }
  return true;
}

// A simulated device's pull: every page of its org's records, read and dropped. Applying them to
// its store is the device's own work, measured by the pull figure above; 500 devices doing it in
// this process would take the CPU the server is being measured on.
Status PullAndDiscard(sync::Transport* transport, const Identity& id, std::int64_t* pages) {
  std::string cursor = "0";
  for (;;) {
    sync::HttpResponse response;
    BB_RETURN_IF_ERROR(transport->Send(
        {"GET", "/v1/pull?cursor=" + cursor + "&limit=1000", "", id.device_id + "." + id.secret},
        &response));
    if (response.status != 200) return sync::StatusFromHttp(response);
    ++*pages;
    // The page ends with its cursor and "more" (the server writes them after the records).
    const std::string& body = response.body;
    std::size_t at = body.rfind("\"cursor\":\"");
    if (at == std::string::npos) return Status::Corruption("a pull page without a cursor");
    at += 10;
    cursor = body.substr(at, body.find('"', at) - at);
    if (body.find("\"more\":true", at) == std::string::npos) return Status::OK();
  }
}

// 4: many devices at once.
// `pg_url` empty: one server on the embedded store; else two servers on that PostgreSQL store,
// devices alternating between them.
bool ManyDevices(int devices, std::size_t per_device, const std::string& pg_url = "") {
  std::vector<std::unique_ptr<Server>> servers;
  servers.push_back(std::make_unique<Server>(pg_url));
  if (!pg_url.empty()) servers.push_back(std::make_unique<Server>(pg_url));
  std::vector<std::string> urls;
  for (auto& server : servers) {
    if (!server->process.Start()) return Fail("server", Status::Unavailable("did not start"));
    urls.push_back(server->process.url());
  }
  Server& server = *servers[0];
  FormSet schema;
  if (Status s = FormSet::LoadDir(BEATBOOK_SCHEMA_DIR, &schema); !s.ok()) return Fail("forms", s);
  const auto& orgs = *schema.List("org");

  std::vector<std::unique_ptr<LocalStore>> stores(static_cast<std::size_t>(devices));
  for (int d = 0; d < devices; ++d) {
    auto i = static_cast<std::size_t>(d);
    const std::string& org = orgs[i % orgs.size()].code;
    std::string token = server.Token("w" + std::to_string(d), org);
    std::vector<std::string> ids;
    Status s = EnrolDevice(urls[i % urls.size()], token, server.dir + "/d" + std::to_string(d),
                           &stores[i]);
    auto may_log = [&](const std::string& form) {
      const FormDef* def = schema.Latest(form);
      return def != nullptr && MayLogForm(schema, Role::kFieldWorker, org, *def);
    };
    if (s.ok()) s = stores[i]->LogAll(GenerateRecords(per_device, 1000 + i, may_log), &ids);
    if (!s.ok()) return Fail("device " + std::to_string(d), s);
  }

  // Every device starts its sync at the same moment.
  std::mutex mu;
  std::condition_variable go;
  bool started = false;
  std::vector<double> latencies, push_latencies;
  std::atomic<std::int64_t> pushed{0}, failures{0};
  std::vector<std::thread> threads;
  for (auto& store : stores) {
    threads.emplace_back([&, store = store.get()] {
      sync::CurlTransport curl(store->identity().server_url, {});
      TimedTransport timed(&curl);
      sync::SyncSummary summary;
      {
        std::unique_lock<std::mutex> lock(mu);
        go.wait(lock, [&] { return started; });
      }
      Status s = sync::SyncEngine(store, &timed).Push(&summary);
      std::int64_t pages = 0;
      if (s.ok()) s = PullAndDiscard(&timed, store->identity(), &pages);
      // Done means every change acknowledged: the device's outbox is empty.
      StoreSummary after;
      if (s.ok()) s = store->Summary(&after);
      if (s.ok() && after.pending_changes != 0) {
        s = Status::FailedPrecondition(std::to_string(after.pending_changes) +
                                       " changes still in the outbox");
      }
      if (!s.ok() || summary.pushed != static_cast<std::int64_t>(per_device)) {
        ++failures;
        std::fprintf(stderr, "sync: %s\n", s.ToString().c_str());
      }
      pushed += summary.pushed;
      std::lock_guard<std::mutex> lock(mu);
      latencies.insert(latencies.end(), timed.ms().begin(), timed.ms().end());
      push_latencies.insert(push_latencies.end(), timed.push_ms().begin(), timed.push_ms().end());
    });
  }
  CpuSplit split{server.process.pid()};
  auto start = Steady::now();
  {
    std::lock_guard<std::mutex> lock(mu);
    started = true;
  }
  go.notify_all();
  for (auto& t : threads) t.join();
  double wall = Seconds(start);
  // Where the burst's time went (the first server's CPU), and the pushes' latency apart.
  std::fprintf(stderr, "burst: %s; push p50 / p99 %.0f / %.0f ms over %zu pushes\n",
               split.Report().c_str(), Percentile(push_latencies, 0.5),
               Percentile(push_latencies, 0.99), push_latencies.size());
  double server_mib = 0;
  for (auto& each : servers) {
    server_mib = std::max(server_mib, PeakMiB(each->process.pid()));
    each->process.Stop();
  }

  // No loss: the central store holds every record once.
  std::unique_ptr<server::CentralStore> central;
  std::vector<RecordState> all;
  Status s = server.OpenStore(&central);
  if (s.ok()) s = central->AllRecords(&all);
  if (!s.ok()) return Fail("reading the central store", s);
  std::size_t expected = per_device * static_cast<std::size_t>(devices);
  std::string what = (pg_url.empty() ? "" : "two servers on PostgreSQL: ") +
                     std::to_string(devices) + " devices at once, " + std::to_string(per_device) +
                     " records each, push + pull of their org's records";
  PrintRow(
      what + ": records on the server / failed syncs (a sync fails unless its outbox ends empty)",
      std::to_string(all.size()) + " of " + std::to_string(expected) + " / " +
          std::to_string(failures.load()),
      "no loss");
  PrintRow(what + ": request latency p50 / p99 / max (" + std::to_string(latencies.size()) +
               " requests, " + Format("%.1f s", wall) + " wall)",
           Format("%.0f", Percentile(latencies, 0.5)) + " / " +
               Format("%.0f", Percentile(latencies, 0.99)) + " / " +
               Format("%.0f ms", Percentile(latencies, 1.0)),
           pg_url.empty() ? "p99 <= 1 s" : "p99 <= 2 s");
  PrintRow(std::string("peak memory of ") + (pg_url.empty() ? "sync_server" : "each sync_server") +
               " under that load",
           Format("%.0f MiB", server_mib), "unchanged or lower (103 MiB)");
  return all.size() == expected && failures == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100'000;
  int devices = argc > 2 ? std::atoi(argv[2]) : 500;
  std::size_t per_device = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 200;
  // Each simulated device holds a SQLite store (3 files) and a socket.
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);

  double raw = RawSqliteInsertRate(GenerateRecords(n, 7));
  PrintHeader();
  PrintRate("raw SQLite insert of " + std::to_string(n) + " rows (reference)", raw, "-", raw);
  bool ok = OneDevice(n, raw);
  ok = ManyDevices(devices, per_device) && ok;
  if (const char* pg = std::getenv("BEATBOOK_BENCH_PG_URL"); pg && *pg) {
    ok = ManyDevices(devices, per_device, pg) && ok;
  }
  return ok ? 0 : 1;
}
