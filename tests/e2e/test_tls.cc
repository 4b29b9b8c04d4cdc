// HTTPS: sync_server with --tls-cert/--tls-key, field_client verifying the server against the
// partnership's own CA (--ca), and every way that can go wrong. Certificates are made for each run
// with the openssl command-line tool (a test CA, and a server certificate for IP 127.0.0.1).
#include <fstream>

#include "fault_site.h"

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
