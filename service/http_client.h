// A blocking HTTP/1.1 client over one kept-alive TCP connection (Beast),
// for `tally demo` and `tally load`: the API as a platform calls it.
// One client per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "events/status.h"

namespace tally::service {

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

struct HttpEndpoint {
  std::string host;
  uint16_t port = 0;
};

// "http://HOST:PORT" or "http://[IPV6]:PORT" (a path after it is ignored);
// InvalidArgument otherwise.
Result<HttpEndpoint> ParseHttpUrl(const std::string& url);

class HttpClient {
 public:
  // Sends "Authorization: Bearer `token`" with every request.
  HttpClient(HttpEndpoint endpoint, std::string token);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads its answer; connects (again) when needed.
  // Unavailable when the server cannot be reached or the connection broke.
  Result<HttpReply> Send(const std::string& method, const std::string& target,
                         const std::string& body = "",
                         const std::string& content_type = "application/json",
                         const std::string& idempotency_key = "");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tally::service
