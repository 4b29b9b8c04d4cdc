#include "beatbook/http/server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "beatbook/http/gzip.h"
#include "beatbook/tunables.h"
#include "connection_limiter.h"

namespace beatbook::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection: read a request, answer it, repeat while the client keeps the connection alive.
// `Stream` is beast::tcp_stream (plain HTTP, loopback) or an ssl_stream over one (TLS). The
// ConnectionLimiter knows whether it is waiting for a request (and may then ask it to close).
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  // Plain HTTP. `draining` is the server's: once set, no connection is kept alive.
  Session(tcp::socket&& socket, Handler* api, ConnectionLimiter* limits,
          const std::atomic<bool>* draining)
      : stream_(std::move(socket)), api_(api), limits_(limits), draining_(draining) {}
  // TLS. The session keeps the context it started with alive (a reload makes a new one).
  Session(tcp::socket&& socket, std::shared_ptr<ssl::context> tls, Handler* api,
          ConnectionLimiter* limits, const std::atomic<bool>* draining)
      : tls_(std::move(tls)),
        stream_(std::move(socket), *tls_),
        api_(api),
        limits_(limits),
        draining_(draining) {}
  ~Session() {
    if (id_) limits_->Release(*id_);
  }

  // Admits the connection from `peer` and starts serving it; false (and nothing started) when
  // the limits refuse it.
  bool Start(const std::string& peer) {
    peer_ = peer;
    std::weak_ptr<Session> weak = this->shared_from_this();
    id_ = limits_->Admit(peer, [weak] {
      if (auto self = weak.lock()) {
        net::post(self->stream_.get_executor(), [self] {
          // A shutdown lets a request whose body is still arriving finish; room for a new
          // connection is made by closing it all the same.
          if (self->draining_->load() && self->reading_body_) return;
          beast::error_code ec;
          beast::get_lowest_layer(self->stream_).socket().close(ec);
        });
      }
    });
    if (!id_) return false;
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::Handshake, this->shared_from_this()));
    return true;
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

  // Reads the header first: how large a body may be depends on who sends it and where.
  void Read() {
    if (draining_->load()) return Close();
    limits_->SetIdle(*id_, true);
    parser_.emplace();
    parser_->header_limit(tunables::kMaxRequestHeaderBytes);
    // Beast checks a Content-Length against the body limit as the header ends: the largest any
    // request may have here, and the request's own limit once the header is known (OnHeader).
    parser_->body_limit(tunables::kMaxRequestBodyBytes);
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::seconds(tunables::kRequestReadTimeoutSec));
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session::OnHeader, this->shared_from_this()));
  }

  void OnHeader(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::end_of_stream) return Close();
    body_limit_ = tunables::kMaxRequestBodyBytes;
    if (ec == bhttp::error::body_limit) return TooLarge();
    if (ec) return;  // timeout, reset, garbage or an oversized header: drop the connection
    body_limit_ = api_->BodyLimit(RequestFromParser(false));
    // A declared length over the limit is refused before a byte of the body is read; chunks are
    // counted against the limit as they come.
    if (auto length = parser_->content_length(); length && *length > body_limit_) {
      return TooLarge();
    }
    parser_->body_limit(body_limit_);
    reading_body_ = true;
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnRead, this->shared_from_this()));
  }

  // 413, counted like any failed request when it came without a good credential.
  void TooLarge() {
    limits_->SetIdle(*id_, false);
    Send(api_->Refuse(RequestFromParser(false),
                      Response(413, {{"error",
                                      {{"code", "too_large"},
                                       {"message", "the request body is over the limit of " +
                                                       std::to_string(body_limit_) +
                                                       " bytes for this request"}}}})),
         /*keep_alive=*/false, 11);
  }

  void OnRead(beast::error_code ec, std::size_t) {
    reading_body_ = false;
    if (ec == bhttp::error::end_of_stream) return Close();
    if (ec == bhttp::error::body_limit) return TooLarge();
    if (ec) return;  // timeout, reset or garbage: drop the connection
    limits_->SetIdle(*id_, false);
    const auto& req = parser_->get();
    accepts_gzip_ = AcceptsGzip(std::string(req[bhttp::field::accept_encoding]));
    Request request = RequestFromParser(true);
    if (std::optional<Response> refused = DecodeBody(&request)) {
      return Send(api_->Refuse(request, *refused), /*keep_alive=*/false, req.version());
    }
    Send(api_->Handle(request), req.keep_alive(), req.version());
  }

  // Replaces a gzip body (Content-Encoding: gzip) with what it inflates to, never beyond the
  // request's body limit. The refusal to send instead, if the body cannot be taken.
  std::optional<Response> DecodeBody(Request* request) {
    std::string coding(parser_->get()[bhttp::field::content_encoding]);
    for (char& c : coding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (coding.empty() || coding == "identity") return std::nullopt;
    if (coding != "gzip" && coding != "x-gzip") {
      return Response(415, {{"error",
                             {{"code", "unsupported_encoding"},
                              {"message", "the request body's Content-Encoding '" + coding +
                                              "' is not one this server reads; send gzip or "
                                              "no encoding"}}}});
    }
    std::string plain;
    switch (Gunzip(request->body, body_limit_, &plain)) {
      case GunzipResult::kOk:
        request->body = std::move(plain);
        return std::nullopt;
      case GunzipResult::kTooLarge:
        return Response(
            413, {{"error",
                   {{"code", "too_large"},
                    {"message", "the request body inflates past the limit of " +
                                    std::to_string(body_limit_) + " bytes for this request"}}}});
      case GunzipResult::kCorrupt:
        break;
    }
    return Response(400, {{"error",
                           {{"code", "bad_encoding"},
                            {"message",
                             "the request body says Content-Encoding: gzip but is "
                             "not valid gzip"}}}});
  }

  Request RequestFromParser(bool with_body) {
    const auto& req = parser_->get();
    Request request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    if (with_body) request.body = req.body();
    request.authorization = std::string(req[bhttp::field::authorization]);
    request.peer = peer_;
    // What handlers check besides the credential (the app: its host, origin and session).
    for (const char* name :
         {"host", "origin", "cookie", "content-type", "x-beatbook-key", "x-request-id"}) {
      auto it = req.find(name);  // header names match whatever their case
      if (it != req.end()) request.headers[name] = std::string(it->value());
    }
    return request;
  }

  void Send(const Response& r, bool keep_alive, unsigned version) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(r.status), version);
    res->set(bhttp::field::server, "beatbook-sync/1");
    res->set(bhttp::field::content_type,
             r.content_type.empty() ? "application/json" : r.content_type);
    res->set("X-Content-Type-Options", "nosniff");
    // API replies hold records and credentials: never kept by a browser or a proxy.
    if (r.content_type.empty()) res->set(bhttp::field::cache_control, "no-store");
    for (const auto& [name, value] : r.headers) res->set(name, value);
    if (r.retry_after_sec > 0)
      res->set(bhttp::field::retry_after, std::to_string(r.retry_after_sec));
    res->keep_alive(keep_alive && !draining_->load());
    res->body() = r.Text();
    // Requests may come gzip-compressed (RFC 7694: said in every reply), and replies go
    // compressed to a client that accepts it.
    res->set(bhttp::field::accept_encoding, "gzip");
    res->set(bhttp::field::vary, "Accept-Encoding");
    if (accepts_gzip_ && res->body().size() >= tunables::kGzipMinBytes) {
      res->body() = Gzip(res->body());
      res->set(bhttp::field::content_encoding, "gzip");
    }
    accepts_gzip_ = false;
    res->prepare_payload();
    response_ = res;
    bhttp::async_write(
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

  std::shared_ptr<ssl::context> tls_;  // TLS only; declared first, so it outlives stream_
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<void> response_;
  Handler* api_;
  ConnectionLimiter* limits_;
  std::optional<std::uint64_t> id_;  // set once admitted
  const std::atomic<bool>* draining_;
  std::string peer_;
  std::size_t body_limit_ = 0;
  bool accepts_gzip_ = false;  // the request being answered accepts a gzip reply
  bool reading_body_ = false;  // a request's header has come and its body is being read
};

}  // namespace

struct HttpServer::Impl {
  Impl(int threads, const HttpLimits& limits)
      : connections(MaxConnections(limits.max_connections), limits.max_connections_per_address),
        ioc(threads),
        acceptor(ioc),
        signals(ioc, SIGINT, SIGTERM, SIGHUP),
        retry_accept(ioc),
        drain_timer(ioc),
        thread_count(threads) {}

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // Out of descriptors or memory: wait before trying again, rather than spin on the error
        // (the waiting connection stays in the backlog).
        accept_backoff_ms = std::min<long>(accept_backoff_ms ? accept_backoff_ms * 2 : 10, 1000);
        retry_accept.expires_after(std::chrono::milliseconds(accept_backoff_ms));
        retry_accept.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec) Accept();
        });
        return;
      }
      accept_backoff_ms = 0;
      beast::error_code peer_ec;
      auto endpoint = socket.remote_endpoint(peer_ec);
      std::string peer = peer_ec ? "" : endpoint.address().to_string();
      // A session the limits refuse is dropped here: its socket closes with it.
      if (auto context = CurrentTls()) {
        std::make_shared<Session<TlsStream>>(std::move(socket), std::move(context), api,
                                             &connections, &draining)
            ->Start(peer);
      } else {
        std::make_shared<Session<beast::tcp_stream>>(std::move(socket), api, &connections,
                                                     &draining)
            ->Start(peer);
      }
      Accept();
    });
  }

  std::shared_ptr<ssl::context> CurrentTls() {
    std::lock_guard<std::mutex> lock(tls_mu);
    return tls;
  }

  void WaitForSignal() {
    signals.async_wait([this](beast::error_code ec, int signal) {
      if (ec) return;
      if (signal != SIGHUP) return BeginDrain();
      Status reloaded = ReloadTls();
      Tell("tls_reload", reloaded);
      WaitForSignal();
    });
  }

  // Stops accepting and closes idle connections; the I/O threads stop once every connection has
  // closed, or when the grace period is over.
  void BeginDrain() {
    if (draining.exchange(true)) return;
    beast::error_code ec;
    acceptor.close(ec);
    retry_accept.cancel();
    signals.cancel(ec);
    connections.CloseIdle();
    Tell("shutdown", Status::OK());
    drain_deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(tunables::kShutdownGraceSec);
    WatchDrain();
  }

  void WatchDrain() {
    if (connections.open() == 0 || std::chrono::steady_clock::now() >= drain_deadline) {
      ioc.stop();  // handlers already running finish first: stop() only prevents new ones
      return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(50));
    drain_timer.async_wait([this](beast::error_code) { WatchDrain(); });
  }

  Status LoadTls(std::shared_ptr<ssl::context>* out) const {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    // TLS 1.2 and later only.
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    beast::error_code ec;
    context->use_certificate_chain_file(cert_file, ec);
    if (ec) {
      return Status::InvalidArgument("cannot use the TLS certificate " + cert_file + ": " +
                                     ec.message() + " (a PEM certificate chain is expected)");
    }
    context->use_private_key_file(key_file, ssl::context::pem, ec);
    if (ec) {
      return Status::InvalidArgument("cannot use the TLS private key " + key_file + ": " +
                                     ec.message() + " (a PEM key matching the certificate)");
    }
    *out = std::move(context);
    return Status::OK();
  }

  // Loads cert_file and key_file into a new context and serves it to new connections.
  Status InstallTls() {
    std::shared_ptr<ssl::context> context;
    BB_RETURN_IF_ERROR(LoadTls(&context));
    std::lock_guard<std::mutex> lock(tls_mu);
    tls = std::move(context);
    return Status::OK();
  }

  Status ReloadTls() {
    if (!CurrentTls()) return Status::FailedPrecondition("serving plain HTTP: no TLS to reload");
    return InstallTls();
  }

  void Tell(const std::string& event, const Status& outcome) {
    if (listener) listener(event, outcome);
  }

  // The total cap: as configured, and below the process's open-file limit (raised to its hard
  // limit first), leaving room for the store's files, logs and the listening socket.
  static std::size_t MaxConnections(std::size_t configured) {
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {
      if (files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
        ::getrlimit(RLIMIT_NOFILE, &files);
      }
      if (files.rlim_cur != RLIM_INFINITY) {
        auto usable = static_cast<std::size_t>(files.rlim_cur);
        usable = usable > tunables::kReservedFileDescriptors * 2
                     ? usable - tunables::kReservedFileDescriptors
                     : usable / 2;
        return std::min(configured, usable);
      }
    }
    return configured;
  }

  // What sessions point to is declared before the I/O context, so it outlives it: sessions still
  // waiting when the server stops are destroyed with the context's handlers.
  ConnectionLimiter connections;
  std::atomic<bool> draining{false};
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::steady_timer retry_accept;
  net::steady_timer drain_timer;
  std::chrono::steady_clock::time_point drain_deadline;
  long accept_backoff_ms = 0;
  int thread_count;
  Handler* api = nullptr;
  std::string cert_file, key_file;
  std::mutex tls_mu;
  std::shared_ptr<ssl::context> tls;  // null: plain HTTP. Replaced whole by a reload.
  std::function<void(const std::string&, const Status&)> listener;
};

HttpServer::HttpServer(Handler* api, int threads, HttpLimits limits)
    : impl_(std::make_unique<Impl>(threads > 0 ? threads : tunables::kServerThreads, limits)) {
  impl_->api = api;
}

HttpServer::~HttpServer() = default;

Status HttpServer::UseTls(const std::string& cert_file, const std::string& key_file) {
  impl_->cert_file = cert_file;
  impl_->key_file = key_file;
  return impl_->InstallTls();
}

Status HttpServer::ReloadTls() { return impl_->ReloadTls(); }

void HttpServer::OnEvent(std::function<void(const std::string&, const Status&)> listener) {
  impl_->listener = std::move(listener);
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
  impl_->WaitForSignal();
  impl_->Accept();
  std::vector<std::thread> extra;
  for (int i = 1; i < impl_->thread_count; ++i) extra.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : extra) t.join();
}

void HttpServer::Stop() {
  net::post(impl_->ioc, [this] { impl_->BeginDrain(); });
}

}  // namespace beatbook::http
