// field_client's transport and a server that does not read gzip request bodies after all (an
// older server, or a proxy, behind an address that once said it did): the compressed request is
// sent again as it is, and no later request is compressed. The server here is a stand-in for
// that foreign server, on loopback, answering a bounded number of requests.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <atomic>
#include <cctype>
#include <string>
#include <thread>
#include <vector>

#include "field_client/sync/curl_transport.h"

using namespace beatbook;

namespace {

// Answers up to `max_requests` requests, one per connection: 415 to a body with a
// Content-Encoding, 200 to any other, each reply saying it reads gzip all the same (as a proxy
// that refuses what the server behind it advertises would). Notes each request's Content-Encoding
// ("" for none).
class OldServer {
 public:
  explicit OldServer(int max_requests) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, max_requests] {
      for (int i = 0; i < max_requests; ++i) Serve();
    });
  }
  ~OldServer() { Finish(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Stops listening and returns each request's Content-Encoding, in order.
  std::vector<std::string> Finish() {
    if (thread_.joinable()) {
      ::shutdown(fd_, SHUT_RDWR);  // an accept still waiting returns
      thread_.join();
      ::close(fd_);
    }
    return encodings_;
  }

 private:
  void Serve() {
    int client = ::accept(fd_, nullptr, nullptr);
    if (client < 0) return;
    std::string request;
    char buf[4096];
    std::size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
      ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
      header_end = request.find("\r\n\r\n");
    }
    std::string lower = request.substr(0, header_end);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t length = 0;
    if (auto at = lower.find("content-length:"); at != std::string::npos) {
      length = std::stoul(lower.substr(at + 15));
    }
    while (header_end != std::string::npos && request.size() < header_end + 4 + length) {
      ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    std::string coding;
    if (auto at = lower.find("content-encoding:"); at != std::string::npos) {
      coding = lower.substr(at + 17, lower.find("\r\n", at) - at - 17);
      coding.erase(0, coding.find_first_not_of(' '));
    }
    encodings_.push_back(coding);
    std::string body = coding.empty() ? "{\"ok\": true}" : "{\"error\": {\"code\": \"x\"}}";
    std::string reply = std::string(coding.empty() ? "HTTP/1.1 200 OK" : "HTTP/1.1 415 No") +
                        "\r\nContent-Type: application/json\r\nAccept-Encoding: gzip\r\n"
                        "Connection: close\r\n"
                        "Content-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
    ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(client);
  }

  int fd_ = -1;
  int port_ = 0;
  std::vector<std::string> encodings_;  // written by thread_ only, read after it ends
  std::thread thread_;
};

}  // namespace

TEST_CASE("a compressed request the server turns down is sent again as it is, and no more go") {
  OldServer server(3);
  sync::CurlTransport transport(server.url(), {"", 0, 5000, false, /*gzip_requests=*/true});
  const std::string body = "{\"batch_id\": \"b\", \"pad\": \"" + std::string(4000, 'x') + "\"}";
  sync::HttpResponse first;
  REQUIRE(transport.Send({"POST", "/v1/push", body, "dev.secret"}, &first).ok());
  CHECK(first.status == 200);
  CHECK_FALSE(transport.server_reads_gzip());
  sync::HttpResponse second;
  REQUIRE(transport.Send({"POST", "/v1/push", body, "dev.secret"}, &second).ok());
  CHECK(second.status == 200);
  // Compressed, refused, sent again as it was; the next one goes as it is from the start.
  CHECK(server.Finish() == std::vector<std::string>{"gzip", "", ""});
  CHECK(transport.body_bytes_sent() == 3 * body.size());
}
