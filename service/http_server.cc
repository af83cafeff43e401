#include "service/http_server.h"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

namespace tally::service {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// What every connection shares.
struct Shared {
  const HttpApi& api;
  asio::thread_pool& workers;
  std::chrono::milliseconds request_timeout;
  std::chrono::milliseconds idle_timeout;
  size_t connections_max;
  std::atomic<size_t> connections{0};
  // Set by Stop: requests read from now on are refused (503) and every
  // connection closes after its answer, so that the requests in flight end.
  std::atomic<bool> stopping{false};
};

// One connection: reads a request, has a worker answer it, writes the
// answer, and again while the client keeps the connection alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Shared& shared) : stream_(std::move(socket)), shared_(shared) {
    ++shared_.connections;
  }
  ~Session() { --shared_.connections; }

  void Read(std::chrono::milliseconds wait) {
    parser_.emplace();
    parser_->body_limit(limits::kHttpBodyBytesMax);
    parser_->header_limit(static_cast<uint32_t>(limits::kHttpHeaderBytesMax));
    stream_.expires_after(wait);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code error, size_t) { self->OnRead(error); });
  }

 private:
  void OnRead(beast::error_code error) {
    if (error == http::error::end_of_stream || error == beast::error::timeout ||
        error == asio::error::operation_aborted || error == asio::error::connection_reset) {
      return Close();
    }
    if (error) return Refuse(error);
    auto request = parser_->release();
    keep_alive_ = request.keep_alive() && !shared_.stopping.load();
    if (shared_.stopping.load()) {
      return Write(Problem(503, "stopping", "the service is stopping; nothing was done"));
    }
    HttpRequest input{std::string(request.method_string()),
                      std::string(request.target()),
                      std::string(request[http::field::content_type]),
                      std::move(request.body()),
                      std::string(request[http::field::accept]),
                      std::string(request[http::field::authorization]),
                      std::string(request["Idempotency-Key"])};
    asio::post(shared_.workers, [self = shared_from_this(), input = std::move(input)] {
      HttpResponse output = self->shared_.api.Handle(input);
      asio::post(self->stream_.get_executor(),
                 [self, output = std::move(output)] { self->Write(output); });
    });
  }

  // A request that could not be read whole: answered, then the connection closes.
  void Refuse(beast::error_code error) {
    keep_alive_ = false;
    if (error == http::error::body_limit) {
      return Write(Problem(413, "body-too-large",
                           "the body is over " + std::to_string(limits::kHttpBodyBytesMax) +
                               " bytes; nothing was read"));
    }
    if (error == http::error::header_limit) {
      return Write(Problem(431, "headers-too-large",
                           "the request line and headers are over " +
                               std::to_string(limits::kHttpHeaderBytesMax) + " bytes"));
    }
    Write(Problem(400, "malformed-http", "the request is not valid HTTP/1.1: " + error.message()));
  }

  void Write(const HttpResponse& output) {
    if (!output.file.empty()) return WriteFile(output);
    auto response = std::make_shared<http::response<http::string_body>>();
    Head(output, *response);
    response->body() = output.body;
    response->prepare_payload();
    stream_.expires_after(shared_.request_timeout);
    Send(response);
  }

  // A file's bytes streamed from disk (an export's records can be larger
  // than memory). The time to send it grows with it: no deadline but the
  // connection cap.
  void WriteFile(const HttpResponse& output) {
    auto response = std::make_shared<http::response<http::file_body>>();
    beast::error_code error;
    response->body().open(output.file.c_str(), beast::file_mode::scan, error);
    if (error) {
      return Write(
          Problem(503, "unavailable", "cannot read " + output.file + ": " + error.message()));
    }
    Head(output, *response);
    response->prepare_payload();
    stream_.expires_never();
    Send(response);
  }

  template <typename Body>
  void Head(const HttpResponse& output, http::response<Body>& response) const {
    response.result(static_cast<unsigned>(output.status));
    response.version(11);
    response.set(http::field::content_type, output.content_type);
    for (const auto& [name, value] : output.headers) response.set(name, value);
    response.keep_alive(keep_alive_);
  }

  template <typename Response>
  void Send(const std::shared_ptr<Response>& response) {
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](beast::error_code error, size_t) {
                        if (error || !self->keep_alive_ || self->shared_.stopping.load()) {
                          return self->Close();
                        }
                        self->Read(self->shared_.idle_timeout);
                      });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = false;
};

}  // namespace

struct HttpServer::Impl {
  Impl(const HttpApi& api, const HttpServerOptions& options)
      : worker_pool(static_cast<size_t>(options.worker_threads)),
        shared{api,
               worker_pool,
               std::chrono::milliseconds(options.request_timeout_ms),
               std::chrono::milliseconds(options.idle_timeout_ms),
               options.connections_max,
               {}},
        acceptor(io) {}

  void Accept() {
    acceptor.async_accept(
        asio::make_strand(io), [this](beast::error_code error, tcp::socket socket) {
          if (error) {
            if (error == asio::error::operation_aborted) return;  // stopping
          } else if (shared.connections.load() >= shared.connections_max) {
            beast::error_code ignored;
            socket.close(ignored);  // over the limit: closed at once
          } else {
            std::make_shared<Session>(std::move(socket), shared)->Read(shared.request_timeout);
          }
          Accept();
        });
  }

  // In this order: the context's destructor destroys the handlers that own
  // sessions, which reach `shared`.
  asio::thread_pool worker_pool;
  Shared shared;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::vector<std::thread> io_threads;
  bool stopped = false;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpApi& api,
                                                      const HttpServerOptions& options) {
  auto impl = std::make_unique<Impl>(api, options);
  beast::error_code error;
  auto address = asio::ip::make_address(options.host, error);
  if (error)
    return Status::InvalidArgument("listen: \"" + options.host + "\" is not an IP address");
  tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), error);
  if (!error) impl->acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) impl->acceptor.bind(endpoint, error);
  if (!error) impl->acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return Status::IoError("listening on " + options.host + ":" + std::to_string(options.port) +
                           ": " + error.message());
  }
  impl->Accept();
  for (int i = 0; i < options.io_threads; ++i) {
    impl->io_threads.emplace_back([io = &impl->io] { io->run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->shared.stopping.store(true);
  asio::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->worker_pool.join();  // the requests in flight are answered ...
  impl_->io.stop();           // ... their writes may be cut short here
  for (auto& thread : impl_->io_threads) thread.join();
}

}  // namespace tally::service
