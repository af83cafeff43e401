// HTTP/1.1 over TCP for the API (service/http_api.h), on Boost.Beast:
// header-only in Debian's libboost-dev (already a dependency), with
// per-operation deadlines and parser limits built in (docs/api.md, "Why
// Beast"). A few threads run the sockets; a pool of workers runs the
// requests, which block on the ledger's group commit, so concurrent
// requests share one fsync.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "events/limits.h"
#include "events/status.h"
#include "service/http_api.h"

namespace tally::service {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port (see HttpServer::port)
  int io_threads = 2;
  int worker_threads = limits::kHttpWorkerThreads;
  // How long a request may take to arrive whole, and a kept-alive
  // connection may stay idle; connections beyond the most are closed at once.
  int64_t request_timeout_ms = limits::kHttpRequestTimeoutMs;
  int64_t idle_timeout_ms = limits::kHttpIdleTimeoutMs;
  size_t connections_max = limits::kHttpConnectionsMax;
};

class HttpServer {
 public:
  // Listens on `options.host:port` and serves `api`, which must outlive the
  // server. InvalidArgument for a bad address, IoError if it cannot bind.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpApi& api,
                                                   const HttpServerOptions& options);
  // Stops (as Stop) if still running.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port it listens on.
  uint16_t port() const;
  // Stops taking connections, lets the requests in flight finish and be
  // answered, then closes every connection. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tally::service
