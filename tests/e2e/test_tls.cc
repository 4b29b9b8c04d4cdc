// HTTPS: sync_server with --tls-cert/--tls-key, field_client verifying the server against the
// partnership's own CA (--ca), and every way that can go wrong. Certificates are made for each run
// with the openssl command-line tool (a test CA, and a server certificate for IP 127.0.0.1).
#include <curl/curl.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fault_site.h"
#include "raw_http.h"

using namespace beatbook;
using namespace beatbook::test;

namespace {

// A CA and a server certificate it signed, in `dir`.
struct Pki {
  explicit Pki(const std::string& dir, const std::string& name) {
    ca = dir + "/" + name + "-ca.pem";
    ca_key = dir + "/" + name + "-ca.key";
    cert = dir + "/" + name + "-server.pem";
    key = dir + "/" + name + "-server.key";
    std::string csr = dir + "/" + name + "-server.csr", ext = dir + "/" + name + "-ext.cnf";
    std::ofstream(ext) << "subjectAltName=IP:127.0.0.1\n";
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:prime256v1", "-nodes"};
    auto openssl = [](std::vector<std::string> args) {
      args.insert(args.begin(), "/usr/bin/openssl");
      CommandResult r = Run(args);
      INFO("openssl " << args[1] << ": " << r.err);
      REQUIRE(r.exit_code == 0);
    };
    std::vector<std::string> make_ca = {
        "req", "-x509", "-keyout", ca_key,  "-out",
        ca,    "-days", "2",       "-subj", "/CN=" + name + " test CA"};
    make_ca.insert(make_ca.begin() + 2, ec.begin(), ec.end());
    openssl(make_ca);
    std::vector<std::string> make_csr = {"req",   "-keyout",      key, "-out", csr,
                                         "-subj", "/CN=127.0.0.1"};
    make_csr.insert(make_csr.begin() + 1, ec.begin(), ec.end());
    openssl(make_csr);
    openssl({"x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out",
             cert, "-days", "2", "-extfile", ext});
  }
  std::string ca, ca_key, cert, key;
};

std::string Https(const ServerProcess& server) {
  return "https://127.0.0.1:" + std::to_string(server.port());
}

std::string Token(const std::string& central, const std::string& user) {
  CommandResult t = SyncServer(
      {"token", "--data", central, "--user", user, "--org", "police", "--role", "field_worker"});
  REQUIRE(t.exit_code == 0);
  return t.out.substr(0, t.out.find('\n'));
}

}  // namespace

TEST_CASE("devices sync over HTTPS, trusting the partnership's CA and nothing else") {
  TempDir dir;
  Pki pki(dir.path(), "partnership");
  Pki stranger(dir.path(), "stranger");
  std::string central = dir / "central";
  ServerProcess server(central, {}, {"--tls-cert", pki.cert, "--tls-key", pki.key});
  REQUIRE(server.Start());

  // Enrolled with --ca, the device remembers it for every sync.
  Ok({"init", "--data", dir / "amy", "--server", Https(server), "--token", Token(central, "amy"),
      "--ca", pki.ca});
  Ok({"log", "--data", dir / "amy", "street_brief", "--set", "place=Jewry Street", "--set",
      "attendees=3"});
  CHECK(OkJson({"sync", "--data", dir / "amy", "--json"})["pushed"] == 1);

  // Without the CA, or with another one, the server is not trusted: nothing is sent.
  for (std::vector<std::string> ca : {std::vector<std::string>{}, {"--ca", stranger.ca}}) {
    CAPTURE(ca.size());
    std::vector<std::string> args = {"init",
                                     "--data",
                                     dir / ("bob" + std::to_string(ca.size())),
                                     "--server",
                                     Https(server),
                                     "--token",
                                     Token(central, "bob")};
    args.insert(args.end(), ca.begin(), ca.end());
    CommandResult r = FieldClient(args);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("certificate") != std::string::npos);
  }
  // Plain HTTP to the HTTPS port gets no answer.
  CommandResult plain = FieldClient({"init", "--data", dir / "carl", "--server",
                                     "http://127.0.0.1:" + std::to_string(server.port()), "--token",
                                     Token(central, "carl")});
  CHECK(plain.exit_code == 3);
  // The server is unharmed by all that.
  CHECK(OkJson({"sync", "--data", dir / "amy", "--json"})["pending"] == 0);
  CHECK(server.Stop() == 0);
}

TEST_CASE("sync_server refuses unusable TLS settings, and plain HTTP beyond loopback") {
  TempDir dir;
  Pki pki(dir.path(), "partnership");
  Pki other(dir.path(), "other");
  std::string central = dir / "central";
  auto serve = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"serve", "--data", central, "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    return SyncServer(argv);
  };
  CommandResult r = serve({"--tls-cert", pki.cert});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("needs both --tls-cert and --tls-key") != std::string::npos);
  r = serve({"--tls-cert", dir / "nope.pem", "--tls-key", pki.key});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("cannot use the TLS certificate " + (dir / "nope.pem")) != std::string::npos);
  r = serve({"--tls-cert", pki.cert, "--tls-key", pki.ca});  // a certificate is not a key
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("cannot use the TLS private key") != std::string::npos);
  r = serve({"--tls-cert", pki.cert, "--tls-key", other.key});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("cannot use the TLS private key " + other.key) != std::string::npos);
  CHECK(r.err.find("mismatch") != std::string::npos);
  // Refused before anything is bound.
  r = SyncServer({"serve", "--data", central, "--listen", "0.0.0.0:0"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("refusing plain HTTP on 0.0.0.0") != std::string::npos);
}

namespace {

// GETs /v1/health over `curl` (kept between calls, so its connection is reused) trusting `ca`.
// The HTTP status (0: no answer, e.g. a certificate not trusted) and whether a new connection
// was made for it.
long HealthOver(CURL* curl, const std::string& url, const std::string& ca, long* new_connections) {
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, (url + "/v1/health").c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, new_connections);
  return status;
}

}  // namespace

TEST_CASE("SIGHUP reloads the TLS certificate without dropping open connections") {
  TempDir dir;
  Pki old_pki(dir.path(), "old");
  Pki new_pki(dir.path(), "new");
  // The server reads its certificate from fixed paths, which the administrator replaces.
  std::string cert = dir / "server.pem", key = dir / "server.key";
  std::filesystem::copy_file(old_pki.cert, cert);
  std::filesystem::copy_file(old_pki.key, key);
  ServerProcess server(dir / "central", {}, {"--tls-cert", cert, "--tls-key", key});
  std::string log = dir / "server.log";
  server.CaptureStderr(log);
  REQUIRE(server.Start());
  std::string url = Https(server);

  CURL* kept = curl_easy_init();
  long connects = 0;
  REQUIRE(HealthOver(kept, url, old_pki.ca, &connects) == 200);
  CHECK(connects == 1);

  auto replace = [&](const std::string& from_cert, const std::string& from_key) {
    std::filesystem::copy_file(from_cert, cert, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(from_key, key, std::filesystem::copy_options::overwrite_existing);
    REQUIRE(::kill(server.pid(), SIGHUP) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  };
  replace(new_pki.cert, new_pki.key);
  // The open connection goes on, on its old certificate.
  CHECK(HealthOver(kept, url, old_pki.ca, &connects) == 200);
  CHECK(connects == 0);
  curl_easy_cleanup(kept);
  // New connections get the new one.
  auto fresh = [&](const std::string& ca) {
    CURL* c = curl_easy_init();
    long n = 0;
    long status = HealthOver(c, url, ca, &n);
    curl_easy_cleanup(c);
    return status;
  };
  CHECK(fresh(new_pki.ca) == 200);
  CHECK(fresh(old_pki.ca) == 0);

  // A broken file is not taken: the server keeps serving the certificate it has, and says why.
  std::ofstream(cert) << "not a certificate\n";
  REQUIRE(::kill(server.pid(), SIGHUP) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(fresh(new_pki.ca) == 200);
  CHECK(server.Stop() == 0);
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text.find("previous certificate is still served") != std::string::npos);
}
