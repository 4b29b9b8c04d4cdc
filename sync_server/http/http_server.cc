#include "http/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

#include <iostream>
#include <thread>
#include <type_traits>
#include <vector>

#include "beatbook/tunables.h"

namespace beatbook::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection: read a request, answer it, repeat while the client keeps the connection alive.
// `Stream` is beast::tcp_stream (plain HTTP, loopback) or an ssl_stream over one (TLS).
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  // Plain HTTP.
  Session(tcp::socket&& socket, Api* api) : stream_(std::move(socket)), api_(api) {}
  // TLS.
  Session(tcp::socket&& socket, ssl::context& tls, Api* api)
      : stream_(std::move(socket), tls), api_(api) {}

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::Handshake, this->shared_from_this()));
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void Handshake() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(
          std::chrono::seconds(tunables::kRequestReadTimeoutSec));
      stream_.async_handshake(
          ssl::stream_base::server,
          beast::bind_front_handler(&Session::OnHandshake, this->shared_from_this()));
    } else {
      Read();
    }
  }

  void OnHandshake(beast::error_code ec) {
    if (ec) return;  // not TLS, or a certificate the client refused: drop the connection
    Read();
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(tunables::kMaxRequestBodyBytes);
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::seconds(tunables::kRequestReadTimeoutSec));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, this->shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return Close();
    if (ec == http::error::body_limit) {
      return Send(Api::Error(413, "the request body is over the limit of " +
                                      std::to_string(tunables::kMaxRequestBodyBytes) + " bytes"),
                  /*keep_alive=*/false, 11);
    }
    if (ec) return;  // timeout, reset or garbage: drop the connection
    const auto& req = parser_->get();
    ApiRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.body = req.body();
    request.authorization = std::string(req[http::field::authorization]);
    beast::error_code peer_ec;
    auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(peer_ec);
    if (!peer_ec) request.peer = peer.address().to_string();
    Send(api_->Handle(request), req.keep_alive(), req.version());
  }

  void Send(const ApiResponse& r, bool keep_alive, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version);
    res->set(http::field::server, "beatbook-sync/1");
    res->set(http::field::content_type,
             r.content_type.empty() ? "application/json" : r.content_type);
    res->set("X-Content-Type-Options", "nosniff");
    // API replies hold records and credentials: never kept by a browser or a proxy.
    if (r.content_type.empty()) res->set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : r.headers) res->set(name, value);
    if (r.retry_after_sec > 0)
      res->set(http::field::retry_after, std::to_string(r.retry_after_sec));
    res->keep_alive(keep_alive);
    res->body() = r.Text();
    res->prepare_payload();
    response_ = res;
    http::async_write(
        stream_, *res,
        beast::bind_front_handler(&Session::OnWrite, this->shared_from_this(), res->need_eof()));
  }

  void OnWrite(bool close, beast::error_code ec, std::size_t) {
    if (ec) return;
    if (close) return Close();
    response_.reset();
    Read();
  }

  void Close() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(
          std::chrono::seconds(tunables::kRequestReadTimeoutSec));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<void> response_;
  Api* api_;
};

}  // namespace

struct HttpServer::Impl {
  explicit Impl(int threads)
      : ioc(threads), acceptor(ioc), signals(ioc, SIGINT, SIGTERM), thread_count(threads) {}

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        if (tls) {
          std::make_shared<Session<TlsStream>>(std::move(socket), *tls, api)->Start();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(std::move(socket), api)->Start();
        }
      }
      Accept();
    });
  }

  net::io_context ioc;
  tcp::acceptor acceptor;
  net::signal_set signals;
  int thread_count;
  Api* api = nullptr;
  std::unique_ptr<ssl::context> tls;  // null: plain HTTP
};

HttpServer::HttpServer(Api* api, int threads)
    : impl_(std::make_unique<Impl>(threads > 0 ? threads : tunables::kServerThreads)) {
  impl_->api = api;
}

HttpServer::~HttpServer() = default;

Status HttpServer::UseTls(const std::string& cert_file, const std::string& key_file) {
  auto tls = std::make_unique<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 and later only.
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  beast::error_code ec;
  tls->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    return Status::InvalidArgument("cannot use the TLS certificate " + cert_file + ": " +
                                   ec.message() + " (a PEM certificate chain is expected)");
  }
  tls->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) {
    return Status::InvalidArgument("cannot use the TLS private key " + key_file + ": " +
                                   ec.message() + " (a PEM key matching the certificate)");
  }
  impl_->tls = std::move(tls);
  return Status::OK();
}

Status HttpServer::Listen(const std::string& host, std::uint16_t port, std::string* bound) {
  beast::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("'" + host + "' is not an IP address to listen on");
  tcp::endpoint endpoint(address, port);
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                               ec.message());
  }
  auto local = a.local_endpoint();
  std::string h = local.address().to_string();
  if (local.address().is_v6()) h = "[" + h + "]";
  *bound = h + ":" + std::to_string(local.port());
  return Status::OK();
}

void HttpServer::Run() {
  impl_->signals.async_wait([this](beast::error_code ec, int) {
    if (!ec) Stop();
  });
  impl_->Accept();
  std::vector<std::thread> extra;
  for (int i = 1; i < impl_->thread_count; ++i) extra.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : extra) t.join();
}

void HttpServer::Stop() {
  net::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->signals.cancel(ec);
    // Handlers already running finish first: io_context::stop() only prevents new ones.
    impl_->ioc.stop();
  });
}

}  // namespace beatbook::server
