#include "service/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace tally::service {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpClient::Impl {
  HttpEndpoint endpoint;
  std::string token;
  asio::io_context io;
  std::optional<tcp::socket> socket;
  beast::flat_buffer buffer;

  Status Connect() {
    beast::error_code error;
    tcp::resolver resolver(io);
    auto found = resolver.resolve(endpoint.host, std::to_string(endpoint.port), error);
    if (error) return Status::Unavailable("resolving " + endpoint.host + ": " + error.message());
    socket.emplace(io);
    asio::connect(*socket, found, error);
    if (error) {
      socket.reset();
      return Status::Unavailable("connecting to " + endpoint.host + ":" +
                                 std::to_string(endpoint.port) + ": " + error.message());
    }
    buffer.clear();
    return Status::Ok();
  }

  // One exchange on the open connection; false if the connection broke.
  bool Exchange(const http::request<http::string_body>& request, HttpReply* reply,
                beast::error_code& error) {
    http::write(*socket, request, error);
    if (error) return false;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    http::read(*socket, buffer, parser, error);
    if (error) return false;
    const auto& response = parser.get();
    reply->status = static_cast<int>(response.result_int());
    reply->content_type = std::string(response[http::field::content_type]);
    reply->body = response.body();
    if (!response.keep_alive()) socket.reset();
    return true;
  }
};

Result<HttpEndpoint> ParseHttpUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    return Status::InvalidArgument("--url: \"" + url + "\" is not http://HOST:PORT");
  }
  const std::string rest = url.substr(scheme.size(), url.find('/', scheme.size()) - scheme.size());
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
    return Status::InvalidArgument("--url: \"" + url + "\" names no port");
  }
  char* end = nullptr;
  const std::string port = rest.substr(colon + 1);
  const unsigned long value = std::strtoul(port.c_str(), &end, 10);
  if (*end != '\0' || value == 0 || value > 65535) {
    return Status::InvalidArgument("--url: \"" + port + "\" is not a port");
  }
  std::string host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return HttpEndpoint{host, static_cast<uint16_t>(value)};
}

HttpClient::HttpClient(HttpEndpoint endpoint, std::string token) : impl_(std::make_unique<Impl>()) {
  impl_->endpoint = std::move(endpoint);
  impl_->token = std::move(token);
}

HttpClient::~HttpClient() = default;

Result<HttpReply> HttpClient::Send(const std::string& method, const std::string& target,
                                   const std::string& body, const std::string& content_type,
                                   const std::string& idempotency_key) {
  http::request<http::string_body> request(http::string_to_verb(method), target, 11);
  request.set(http::field::host, impl_->endpoint.host);
  if (!body.empty()) request.set(http::field::content_type, content_type);
  if (!impl_->token.empty()) request.set(http::field::authorization, "Bearer " + impl_->token);
  if (!idempotency_key.empty()) request.set("Idempotency-Key", idempotency_key);
  request.keep_alive(true);
  request.body() = body;
  request.prepare_payload();
  // A kept-alive connection the server closed meanwhile: once more on a new one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = !impl_->socket;
    if (fresh) {
      if (Status status = impl_->Connect(); !status.ok()) return status;
    }
    HttpReply reply;
    beast::error_code error;
    if (impl_->Exchange(request, &reply, error)) return reply;
    impl_->socket.reset();
    if (fresh) return Status::Unavailable(method + " " + target + ": " + error.message());
  }
  return Status::Unavailable(method + " " + target + ": the connection keeps closing");
}

}  // namespace tally::service
