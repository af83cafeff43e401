// The HTTP/JSON API over real HTTP on loopback: a Service on a temporary
// data directory, its HttpServer on a free port, and a client that sends
// what a billing service would, and what a hostile one would.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/cli/commands.h"
#include "ledger/clock.h"
#include "ledger/export.h"
#include "service/http_client.h"
#include "service/http_server.h"
#include "tests/ledger/ledger_fixture.h"
#include "tests/temp_dir.h"

namespace tally::service {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using testing::Grant;
using testing::JsonEvent;
using testing::Submit;

struct Reply {
  int status = 0;
  std::string content_type;
  std::string allow;
  std::string link;
  std::string body;
};

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LedgerOptions options{dir_.path(), true};
    options.master_key = master_key_;
    auto service = Service::Open(options, &clock_, &metrics_);
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(service).value();
    tokens_ = std::make_unique<TokenStore>(dir_.path(), &clock_);
    limiter_ = std::make_unique<RateLimiter>(0, 0, &clock_);
    api_ = std::make_unique<HttpApi>(*service_, *tokens_, *limiter_, metrics_);
    auto made = tokens_->Create("tests", Role::kOperator);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    token_ = made->text;
    auto server = HttpServer::Start(*api_, {});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }
  void TearDown() override {
    server_.reset();
    api_.reset();
    limiter_.reset();
    tokens_.reset();
    service_.reset();
  }

  Reply Send(const std::string& method, const std::string& target, const std::string& body = "",
             const std::string& content_type = "application/json", const std::string& accept = "") {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port_ ? port_ : server_->port()});
    http::request<http::string_body> request(http::string_to_verb(method), target, 11);
    request.set(http::field::host, "127.0.0.1");
    if (!body.empty() || method == "POST") request.set(http::field::content_type, content_type);
    if (!accept.empty()) request.set(http::field::accept, accept);
    if (!token_.empty()) request.set(http::field::authorization, "Bearer " + token_);
    request.body() = body;
    request.prepare_payload();
    http::write(socket, request);
    return ReadReply(socket);
  }

  // Sends `bytes` as they are and reads what comes back (empty if the
  // server closed without an answer).
  std::string SendRaw(const std::string& bytes) {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    asio::write(socket, asio::buffer(bytes));
    socket.shutdown(tcp::socket::shutdown_send);
    std::string reply;
    beast::error_code error;
    char chunk[4096];
    while (true) {
      size_t n = socket.read_some(asio::buffer(chunk), error);
      if (error) break;
      reply.append(chunk, n);
    }
    return reply;
  }

  static Reply ReadReply(tcp::socket& socket) {
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(socket, buffer, parser);
    auto& response = parser.get();
    return {static_cast<int>(response.result_int()),
            std::string(response[http::field::content_type]),
            std::string(response[http::field::allow]), std::string(response[http::field::link]),
            response.body()};
  }

  uint64_t head() const { return service_->ledger().head_seq(); }

  testing::TempDir dir_;
  ManualClock clock_{testing::kStart};
  std::optional<MasterKey> master_key_;  // set before SetUp for personal fields
  std::unique_ptr<Service> service_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<RateLimiter> limiter_;
  Metrics metrics_;
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<HttpServer> server_;
  std::string token_;  // sent as the bearer token; empty: none
  uint16_t port_ = 0;  // where Send sends; 0: server_
};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(HttpTest, EventsAreAppendedOnceAndAConflictIsNamed) {
  const std::string body = Grant("g1", "acct-1", "100") + "\n" + Grant("g2", "acct-1", "5") + "\n";
  Reply first = Send("POST", "/v1/events", body, "application/x-ndjson");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.content_type, "application/json");
  EXPECT_EQ(first.body, R"({"outcomes":[{"id":"g1","outcome":"appended","seq":1},)"
                        R"({"id":"g2","outcome":"appended","seq":2}]})"
                        "\n");
  Reply again = Send("POST", "/v1/events", body, "application/x-ndjson");
  EXPECT_EQ(again.body, R"({"outcomes":[{"id":"g1","outcome":"duplicate","seq":1},)"
                        R"({"id":"g2","outcome":"duplicate","seq":2}]})"
                        "\n");
  Reply conflict = Send("POST", "/v1/events", "[" + Grant("g1", "acct-1", "999") + "]");
  ASSERT_EQ(conflict.status, 200) << conflict.body;
  EXPECT_TRUE(Contains(conflict.body, R"("outcome":"rejected")")) << conflict.body;
  EXPECT_TRUE(Contains(conflict.body, R"("conflict":true)")) << conflict.body;
  EXPECT_EQ(head(), 2u);
  Reply balance = Send("GET", "/v1/accounts/acct-1/balance");
  EXPECT_EQ(balance.body,
            R"({"account":"acct-1","available_credits":"105.000000","held_credits":"0.000000",)"
            R"("receivable_credits":"0.000000","version":2})"
            "\n");
}

// Escaped and literal text name the same account; the path takes it
// percent-encoded.
TEST_F(HttpTest, EscapesDecodeToTheSameAccount) {
  Reply escaped = Send("POST", "/v1/events", "[" + Grant("e1", "acct-\\u00e9", "7") + "]");
  ASSERT_EQ(escaped.status, 200) << escaped.body;
  Reply literal =
      Send("POST", "/v1/events", Grant("e2", "acct-\xc3\xa9", "3"), "application/x-ndjson");
  ASSERT_EQ(literal.status, 200) << literal.body;
  Reply balance = Send("GET", "/v1/accounts/acct-%C3%A9/balance");
  EXPECT_TRUE(Contains(balance.body, R"("available_credits":"10.000000")")) << balance.body;
}

// One bad line: nothing of the body is appended, and the answer names the
// line and the field.
TEST_F(HttpTest, ABadLineAppendsNothingAndIsNamed) {
  const std::string body = Grant("ok-1", "a", "1") + "\n" +
                           R"({"id":"bad","account":"a","occurred_at":"2026-03-01T10:00:00Z",)"
                           R"("producer":"t","type":"credits_granted","data":{"credits":"1",)"
                           R"("credits":"5000000","kind":"promotional","reason":"r"}})" +
                           "\n{not json\n";
  Reply reply = Send("POST", "/v1/events", body, "application/x-ndjson");
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_EQ(reply.content_type, "application/problem+json");
  EXPECT_TRUE(Contains(reply.body, R"("status":400)")) << reply.body;
  EXPECT_TRUE(Contains(reply.body, R"("line":2,"field":"data.credits")")) << reply.body;
  EXPECT_TRUE(Contains(reply.body, R"("line":3)")) << reply.body;
  EXPECT_EQ(head(), 0u);
}

TEST_F(HttpTest, WrongMediaTypeRouteAndMethodAreRefused) {
  EXPECT_EQ(Send("POST", "/v1/events", Grant("x", "a", "1"), "text/plain").status, 415);
  EXPECT_EQ(Send("GET", "/v1/nothing").status, 404);
  Reply method = Send("DELETE", "/v1/events");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.allow, "POST");
  EXPECT_EQ(Send("POST", "/v1/events", "", "application/json").status, 400);
  EXPECT_EQ(Send("POST", "/v1/events", "[]").status, 400);
  EXPECT_EQ(Send("POST", "/v1/events", "42").status, 400);
  EXPECT_EQ(head(), 0u);
}

TEST_F(HttpTest, ReadsTakeAValidSeqOrInstant) {
  ASSERT_EQ(Send("POST", "/v1/events", Grant("g1", "a", "10"), "application/x-ndjson").status, 200);
  ASSERT_EQ(Send("POST", "/v1/events", Grant("g2", "a", "5"), "application/x-ndjson").status, 200);
  Reply past = Send("GET", "/v1/accounts/a/balance?at_seq=1");
  EXPECT_TRUE(Contains(past.body, R"("available_credits":"10.000000")")) << past.body;
  EXPECT_TRUE(Contains(past.body, R"("version":null)")) << past.body;
  for (const char* query : {"at_seq=0", "at_seq=-1", "at_seq=3", "at_seq=x", "as_of=yesterday",
                            "at_seq=1&as_of=2026-03-01T10:00:00Z", "at_seq=%zz"}) {
    SCOPED_TRACE(query);
    Reply bad = Send("GET", std::string("/v1/accounts/a/balance?") + query);
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_EQ(bad.content_type, "application/problem+json");
  }
}

TEST_F(HttpTest, AHoldIsAnsweredOnceDurableAndTheSameAgain) {
  ASSERT_EQ(Send("POST", "/v1/events", Grant("g1", "a", "100"), "application/x-ndjson").status,
            200);
  Reply held = Send("POST", "/v1/holds", Submit("t1-sub", "a", "t1", "30"));
  ASSERT_EQ(held.status, 200) << held.body;
  EXPECT_TRUE(Contains(held.body, R"("decision":"accepted")")) << held.body;
  EXPECT_TRUE(Contains(held.body, R"("held_credits":"30.000000")")) << held.body;
  EXPECT_TRUE(Contains(held.body, R"("available_credits":"70.000000")")) << held.body;
  Reply again = Send("POST", "/v1/holds", Submit("t1-sub", "a", "t1", "30"));
  EXPECT_EQ(again.body, std::string(held.body).replace(held.body.find("appended"), 8, "duplicate"));
  Reply refused = Send("POST", "/v1/holds", Submit("t2-sub", "a", "t2", "500"));
  ASSERT_EQ(refused.status, 200) << refused.body;
  EXPECT_TRUE(Contains(refused.body, R"("decision":"rejected")")) << refused.body;
  EXPECT_TRUE(Contains(refused.body, R"("available_credits":"70.000000")")) << refused.body;
  Reply conflict = Send("POST", "/v1/holds", Submit("t1-sub", "a", "t1", "31"));
  EXPECT_EQ(conflict.status, 409) << conflict.body;
  Reply not_a_task = Send("POST", "/v1/holds", Grant("g9", "a", "1"));
  EXPECT_EQ(not_a_task.status, 400) << not_a_task.body;
  EXPECT_TRUE(Contains(not_a_task.body, R"("field":"type")")) << not_a_task.body;
}

// Holds from many connections at once never hold more than there is.
TEST_F(HttpTest, ConcurrentHoldsNeverHoldMoreThanAvailable) {
  ASSERT_EQ(Send("POST", "/v1/events", Grant("g1", "a", "100"), "application/x-ndjson").status,
            200);
  constexpr int kClients = 16;
  std::atomic<int> accepted{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      const std::string task = "t" + std::to_string(i);
      Reply reply = Send("POST", "/v1/holds", Submit(task + "-sub", "a", task, "10"));
      if (reply.status != 200) ++failures;
      if (Contains(reply.body, R"("decision":"accepted")")) ++accepted;
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(accepted.load(), 10);
  Reply balance = Send("GET", "/v1/accounts/a/balance");
  EXPECT_TRUE(
      Contains(balance.body, R"("available_credits":"0.000000","held_credits":"100.000000")"))
      << balance.body;
}

// Stop under keep-alive load: requests read after it are refused (503) or
// find their connection closed, so Stop ends while clients keep sending
// instead of serving them for as long as they send.
TEST_F(HttpTest, StopEndsKeepAliveClientsThatKeepSending) {
  constexpr int kClients = 4;
  constexpr int kRequestsEach = 5000;
  std::atomic<int> answered{0};
  std::atomic<int> ended{0};
  auto client = [&] {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    beast::flat_buffer buffer;
    for (int i = 0; i < kRequestsEach; ++i) {
      http::request<http::string_body> request(http::verb::get, "/healthz", 11);
      request.set(http::field::host, "127.0.0.1");
      request.keep_alive(true);
      beast::error_code error;
      http::write(socket, request, error);
      http::response<http::string_body> response;
      if (!error) http::read(socket, buffer, response, error);
      if (error || response.result_int() != 200) break;  // closed, or 503 "stopping"
      ++answered;
      if (!response.keep_alive()) break;
    }
    ++ended;
  };
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) clients.emplace_back(client);
  while (answered.load() < 100) std::this_thread::yield();
  server_->Stop();
  for (auto& thread : clients) thread.join();
  EXPECT_EQ(ended.load(), kClients);
  EXPECT_LT(answered.load(), kClients * kRequestsEach);
}

// Garbage, oversized headers and bodies get an answer or a closed
// connection, and the server keeps serving.
TEST_F(HttpTest, HostileHttpIsRefusedAndTheServerKeepsServing) {
  EXPECT_TRUE(Contains(SendRaw("\x16\x03\x01 garbage\r\n\r\n"), "400")) << "garbage";
  EXPECT_TRUE(
      Contains(SendRaw("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n"), "431"));
  EXPECT_TRUE(Contains(SendRaw("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: "
                               "application/json\r\nContent-Length: 99999999\r\n\r\n[]"),
                       "413"));
  SendRaw("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[");  // truncated
  Reply health = Send("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(Send("POST", "/v1/events", Grant("g1", "a", "1"), "application/x-ndjson").status, 200);
  EXPECT_EQ(head(), 1u);
  Reply ready = Send("GET", "/readyz");
  EXPECT_EQ(ready.body, R"({"status":"ready","head_seq":1,"projected_seq":1})"
                        "\n");
}

// A statement read page by page through the cursor equals the whole list,
// and every page reads the prefix of the first one even as the log grows.
TEST_F(HttpTest, PagesFollowTheCursorOverOnePrefixOfTheLog) {
  std::string body;
  for (int i = 1; i <= 7; ++i) body += Grant("g" + std::to_string(i), "a", "1") + "\n";
  ASSERT_EQ(Send("POST", "/v1/events", body, "application/x-ndjson").status, 200);
  Reply whole = Send("GET", "/v1/accounts/a/statement?limit=100");
  ASSERT_EQ(whole.status, 200) << whole.body;
  EXPECT_TRUE(Contains(whole.body, R"("at_seq":7,"next_cursor":null})")) << whole.body;
  std::string target = "/v1/accounts/a/statement?limit=3";
  std::vector<std::string> pages;
  for (int page = 0; page < 5 && !target.empty(); ++page) {
    Reply reply = Send("GET", target);
    ASSERT_EQ(reply.status, 200) << reply.body;
    pages.push_back(reply.body);
    if (page == 0) {  // the log grows between pages
      ASSERT_EQ(Send("POST", "/v1/events", Grant("g8", "a", "1"), "application/x-ndjson").status,
                200);
    }
    target = reply.link.empty() ? "" : reply.link.substr(1, reply.link.find('>') - 1);
  }
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_TRUE(Contains(pages[0], R"("seq":1,)")) << pages[0];
  EXPECT_TRUE(Contains(pages[1], R"("seq":4,)")) << pages[1];
  EXPECT_TRUE(Contains(pages[2], R"("seq":7,)")) << pages[2];
  EXPECT_FALSE(Contains(pages[2], R"("seq":8,)")) << pages[2];
  EXPECT_TRUE(Contains(pages[2], R"("next_cursor":null)")) << pages[2];
  EXPECT_TRUE(Contains(Send("GET", "/v1/accounts/a/statement").body, R"("seq":8,)"));
}

TEST_F(HttpTest, ReportsAnswerAsCsvWhenAskedAndNameBadParameters) {
  ASSERT_EQ(Send("POST", "/v1/events", Grant("g1", "a", "5"), "application/x-ndjson").status, 200);
  Reply csv = Send("GET", "/v1/balances", "", "", "text/csv");
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(csv.body,
            "account,available_credits,held_credits,receivable_credits,version\r\n"
            "a,5.000000,0.000000,0.000000,1\r\n");
  EXPECT_EQ(Send("GET", "/v1/reports/trial-balance?format=csv").content_type,
            "text/csv; charset=utf-8");
  for (const char* route :
       {"trial-balance", "revenue", "subscriptions", "recurring-revenue", "tasks", "open-holds"}) {
    Reply reply = Send("GET", std::string("/v1/reports/") + route + "?at_seq=1");
    EXPECT_EQ(reply.status, 200) << route << " " << reply.body;
  }
  struct Bad {
    const char* target;
    const char* field;
  };
  for (Bad bad :
       {Bad{"/v1/balances?limt=3", "limt"}, Bad{"/v1/balances?limit=0", "limit"},
        Bad{"/v1/balances?limit=10001", "limit"}, Bad{"/v1/balances?format=xml", "format"},
        Bad{"/v1/balances?cursor=1.2", "cursor"}, Bad{"/v1/balances?cursor=99.0.0", "cursor"},
        Bad{"/v1/balances?cursor=1.0.0&at_seq=1", "cursor"},
        Bad{"/v1/accounts/a/statement?from=yesterday", "from"},
        Bad{"/v1/reports/revenue?at_seq=2", "at_seq"}}) {
    Reply reply = Send("GET", bad.target);
    EXPECT_EQ(reply.status, 400) << bad.target;
    EXPECT_EQ(reply.content_type, "application/problem+json") << bad.target;
    EXPECT_TRUE(Contains(reply.body, std::string(R"("field":")") + bad.field + "\""))
        << bad.target << " " << reply.body;
  }
  EXPECT_EQ(Send("GET", "/v1/reports/nothing").status, 404);
  EXPECT_EQ(Send("GET", "/v1/invoices/INV-404").status, 404);
  Reply post = Send("POST", "/v1/reports/revenue", "{}");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.allow, "GET");
}

// No token and a bad token are 401; a token of the wrong role is 403; a
// revoked one is refused from its next request; health needs none.
TEST_F(HttpTest, TokensAndRolesDecideWhoMayDoWhat) {
  const std::string grant = Grant("g1", "a", "5");
  auto finance = tokens_->Create("books", Role::kFinance);
  auto publisher = tokens_->Create("billing", Role::kPublisher);
  auto auditor = tokens_->Create("audit", Role::kAuditor);
  ASSERT_TRUE(finance.ok() && publisher.ok() && auditor.ok());
  token_ = "";
  Reply none = Send("GET", "/v1/balances");
  EXPECT_EQ(none.status, 401);
  EXPECT_TRUE(Contains(none.body, R"("field":"Authorization")")) << none.body;
  EXPECT_EQ(Send("GET", "/healthz").status, 200);
  token_ = finance->text.substr(0, finance->text.size() - 1) + "x";  // one character off
  EXPECT_EQ(Send("GET", "/v1/balances").status, 401);
  token_ = "tally_" + std::string(16, '0') + "_" + std::string(43, 'A');
  EXPECT_EQ(Send("GET", "/v1/balances").status, 401);
  token_ = finance->text;
  EXPECT_EQ(Send("GET", "/v1/balances").status, 200);
  EXPECT_EQ(Send("GET", "/v1/audit/head").status, 403);
  Reply refused = Send("POST", "/v1/events", grant, "application/x-ndjson");
  EXPECT_EQ(refused.status, 403) << refused.body;
  token_ = publisher->text;
  EXPECT_EQ(Send("POST", "/v1/events", grant, "application/x-ndjson").status, 200);
  EXPECT_EQ(Send("GET", "/v1/accounts/a/balance").status, 200);
  EXPECT_EQ(Send("GET", "/v1/reports/revenue").status, 403);
  EXPECT_EQ(Send("GET", "/v1/audit/head").status, 403);
  token_ = auditor->text;
  Reply head_reply = Send("GET", "/v1/audit/head");
  EXPECT_EQ(head_reply.status, 200);
  const std::string prefix = R"({"head_seq":1,"head_hash":")";
  const std::string suffix = R"(","first_seq":1})"
                             "\n";
  ASSERT_EQ(head_reply.body.size(), prefix.size() + 64 + suffix.size()) << head_reply.body;
  EXPECT_EQ(head_reply.body.substr(0, prefix.size()), prefix);
  EXPECT_EQ(head_reply.body.substr(prefix.size() + 64), suffix);
  EXPECT_EQ(Send("GET", "/v1/reports/revenue").status, 200);
  EXPECT_EQ(Send("POST", "/v1/events", grant, "application/x-ndjson").status, 403);
  token_ = publisher->text;
  ASSERT_TRUE(tokens_->Revoke(publisher->info.id).ok());
  EXPECT_EQ(Send("GET", "/v1/accounts/a/balance").status, 401);
  EXPECT_EQ(head(), 1u);
  auto listed = tokens_->List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 4u);
  for (const TokenInfo& token : *listed) {  // the file keeps no secret
    EXPECT_EQ(token.hash.size(), 64u);
    EXPECT_EQ(token.revoked_at_micros != 0, token.id == publisher->info.id);
  }
}

TEST_F(HttpTest, ATokenOverItsRateIsToldWhenToComeBack) {
  RateLimiter limiter(2, 3, &clock_);
  HttpApi api(*service_, *tokens_, limiter, metrics_);
  HttpRequest request{"GET", "/v1/balances", "", "", "", "Bearer " + token_};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(api.Handle(request).status, 200) << i;
  HttpResponse limited = api.Handle(request);
  EXPECT_EQ(limited.status, 429);
  ASSERT_EQ(limited.headers.size(), 1u);
  EXPECT_EQ(limited.headers[0], (std::pair<std::string, std::string>{"Retry-After", "1"}));
  clock_.Advance(500'000);  // half a second: one more request at 2/s
  EXPECT_EQ(api.Handle(request).status, 200);
  EXPECT_EQ(api.Handle(request).status, 429);
}

// The metrics count what was asked and answered, with route templates
// (never an account) as labels, in the Prometheus text format.
TEST_F(HttpTest, MetricsCountRequestsEventsAndHolds) {
  ASSERT_EQ(
      Send("POST", "/v1/events", Grant("g1", "acct-secret", "5"), "application/x-ndjson").status,
      200);
  ASSERT_EQ(
      Send("POST", "/v1/events", Grant("g1", "acct-secret", "5"), "application/x-ndjson").status,
      200);
  ASSERT_EQ(Send("POST", "/v1/holds", Submit("s1", "acct-secret", "t1", "2")).status, 200);
  ASSERT_EQ(Send("POST", "/v1/holds", Submit("s2", "acct-secret", "t2", "50")).status, 200);
  ASSERT_EQ(Send("GET", "/v1/accounts/acct-secret/balance").status, 200);
  token_ = "";
  Reply metrics = Send("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  for (
      const char* line :
      {R"(tally_http_events_total{type="credits_granted",outcome="appended"} 1)",
       R"(tally_http_events_total{type="credits_granted",outcome="duplicate"} 1)",
       R"(tally_http_events_total{type="task_submitted",outcome="appended"} 2)",
       R"(tally_holds_total{decision="accepted"} 1)", R"(tally_holds_total{decision="rejected"} 1)",
       R"(tally_hold_decision_seconds_count{decision="accepted"} 1)",
       R"(tally_hold_decision_seconds_bucket{decision="rejected",le="+Inf"} 1)",
       R"(tally_http_requests_total{route="/v1/accounts/{account}/balance",method="GET",status="200"} 1)",
       R"(tally_http_requests_total{route="/v1/events",method="POST",status="200"} 2)",
       "tally_head_seq 5", "tally_projection_lag_events 0",
       "# TYPE tally_group_commit_events histogram",
       R"(tally_group_commit_events_bucket{outcome="ok",le="1"} 4)",
       R"(tally_group_commit_duration_seconds_count{outcome="ok"} 4)",
       "# TYPE tally_http_request_duration_seconds histogram"}) {
    EXPECT_TRUE(Contains(metrics.body, std::string(line) + "\n")) << line << "\n" << metrics.body;
  }
  EXPECT_FALSE(Contains(metrics.body, "acct-secret"));
}

// While the service owns the stores and takes appends, the CLI's reads
// and audit verify answer (read-only opens), and see what the service
// acknowledged.
TEST_F(HttpTest, CliReadsAndAuditWorkWhileTheServiceWrites) {
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::thread writer([&] {
    for (int i = 0; !stop.load() && i < 200; ++i) {
      if (Send("POST", "/v1/events", Grant("w" + std::to_string(i), "a", "1"),
               "application/x-ndjson")
              .status == 200) {
        ++appended;
      }
    }
  });
  for (int i = 0; i < 5; ++i) {
    std::ostringstream out;
    std::ostringstream err;
    const int before = appended.load();
    int code = cli::RunBalance(dir_.path(), {"a"}, {}, OutputFormat::kJson, {out, err});
    ASSERT_EQ(code, 0) << err.str();
    // At least what was acknowledged before the read began.
    const std::string text = out.str();
    const size_t at = text.find(R"("available_credits":")");
    ASSERT_NE(at, std::string::npos) << text;
    EXPECT_GE(std::stod(text.substr(at + 21)), before) << text;
    std::ostringstream statement;
    EXPECT_EQ(cli::RunTrialBalance(dir_.path(), {}, OutputFormat::kCsv, {statement, err}), 0)
        << err.str();
    // The lots replay the log read-only: one lot per grant acknowledged before.
    std::ostringstream lots;
    ASSERT_EQ(cli::RunLots(dir_.path(), {"a"}, OutputFormat::kCsv, {lots, err}), 0) << err.str();
    const std::string rows = lots.str();
    EXPECT_GE(std::count(rows.begin(), rows.end(), '\n') - 1, before) << rows;
  }
  std::ostringstream audit;
  std::ostringstream audit_err;
  EXPECT_EQ(cli::RunAuditVerify(dir_.path(), "", OutputFormat::kTable, {audit, audit_err}), 0)
      << audit.str() << audit_err.str();
  stop = true;
  writer.join();
}

// A flood of slow, truncated, garbage and oversized requests from many
// connections at once: each is refused or timed out, none holds the
// service, and every good request meanwhile is answered and appended once.
TEST_F(HttpTest, AFloodOfBadAndSlowRequestsLeavesGoodOnesServed) {
  HttpServerOptions options;
  options.request_timeout_ms = 400;
  options.idle_timeout_ms = 400;
  options.connections_max = 64;
  auto flooded = HttpServer::Start(*api_, options);
  ASSERT_TRUE(flooded.ok()) << flooded.status().ToString();
  const uint16_t port = (*flooded)->port();
  auto connect = [&](asio::io_context& io) {
    tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    return socket;
  };
  const std::vector<std::string> bad = {
      "POST /v1/events HTTP/1.1\r\nHost: x\r\n",  // headers never end
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n[{\"id\":",  // body cut
      "\x00\x01\x02\x03 not http\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n",
      "POST /v1/holds HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n"};
  std::atomic<bool> stop{false};
  std::atomic<int> closed_by_server{0};
  std::vector<std::thread> attackers;
  for (int a = 0; a < 8; ++a) {
    attackers.emplace_back([&, a] {
      for (int round = 0; !stop.load(); ++round) {
        asio::io_context io;
        beast::error_code error;
        tcp::socket socket = connect(io);
        asio::write(socket, asio::buffer(bad[(a + round) % bad.size()]), error);
        char chunk[512];
        while (!error) socket.read_some(asio::buffer(chunk), error);  // until the server closes
        ++closed_by_server;
      }
    });
  }
  port_ = port;  // the good requests go to the flooded server, over its timeouts
  int answered = 0;
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    Reply reply = Send("POST", "/v1/events", Grant("good" + std::to_string(i), "a", "1"),
                       "application/x-ndjson");
    answered += reply.status == 200;
  }
  stop = true;
  for (auto& attacker : attackers) attacker.join();
  EXPECT_EQ(answered, 40);
  EXPECT_EQ(head(), 40u);
  EXPECT_GE(closed_by_server.load(), 8);  // the slow ones too: none is left hanging
  Reply balance = Send("GET", "/v1/accounts/a/balance");
  EXPECT_TRUE(Contains(balance.body, R"("available_credits":"40.000000")")) << balance.body;
}

// A verification started over HTTP runs beside the service's writes and
// its result is read back: every check of `tally audit verify`.
TEST_F(HttpTest, AVerificationStartedOverHttpIsReadBack) {
  AuditJobs audits(
      [this](const AuditProgress& progress) -> Result<AuditRun> {
        auto outcome = cli::AuditVerify(dir_.path(), "", progress);
        if (!outcome.ok()) return outcome.status();
        return AuditRun{outcome->checks, outcome->status};
      },
      &clock_);
  HttpApi api(*service_, *tokens_, *limiter_, metrics_, &audits);
  auto server = HttpServer::Start(api, {});
  ASSERT_TRUE(server.ok());
  port_ = (*server)->port();
  ASSERT_EQ(Send("POST", "/v1/events", Grant("g1", "a", "5"), "application/x-ndjson").status, 200);
  Reply started = Send("POST", "/v1/audit/verify", "{}");
  ASSERT_EQ(started.status, 202) << started.body;
  EXPECT_EQ(started.body, R"({"id":"verify-1","state":"running"})"
                          "\n");
  std::string body;
  for (int i = 0; i < 600 && !Contains(body, R"("state":"done")"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    body = Send("GET", "/v1/audit/verify/verify-1").body;
  }
  EXPECT_TRUE(Contains(body, R"("result":"ok")")) << body;
  for (const char* check : {"log", "projections", "revenue", "archive"}) {
    EXPECT_TRUE(Contains(body, std::string(R"({"check":")") + check + R"(","result":"ok")"))
        << check << " " << body;
  }
  EXPECT_EQ(Send("GET", "/v1/audit/verify/verify-9").status, 404);
  EXPECT_EQ(Send("GET", "/v1/audit/verify/nonsense").status, 404);
  auto finance = tokens_->Create("books", Role::kFinance);
  ASSERT_TRUE(finance.ok());
  token_ = finance->text;
  EXPECT_EQ(Send("POST", "/v1/audit/verify", "{}").status, 403);
}

// While a verification runs, reading it back shows the checks finished so
// far (each as its final row), then all of them once done.
TEST_F(HttpTest, AVerificationShowsTheChecksFinishedWhileItRuns) {
  std::mutex mutex;
  std::condition_variable changed;
  bool release = false;
  AuditJobs audits(
      [&](const AuditProgress& progress) -> Result<AuditRun> {
        Report done{{{"check"}, {"result"}}, {{"log", "ok"}}};
        progress(done);
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return release; });
        done.rows.push_back({"projections", "ok"});
        return AuditRun{done, Status::Ok()};
      },
      &clock_);
  HttpApi api(*service_, *tokens_, *limiter_, metrics_, &audits);
  auto server = HttpServer::Start(api, {});
  ASSERT_TRUE(server.ok());
  port_ = (*server)->port();
  ASSERT_EQ(Send("POST", "/v1/audit/verify", "{}").status, 202);
  std::string body;
  for (int i = 0; i < 600 && !Contains(body, R"("checks")"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    body = Send("GET", "/v1/audit/verify/verify-1").body;
  }
  EXPECT_TRUE(Contains(body, R"("state":"running")")) << body;
  EXPECT_TRUE(Contains(body, R"("checks":[{"check":"log","result":"ok"}])")) << body;
  EXPECT_FALSE(Contains(body, R"("result":"ok","checks")")) << body;
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  changed.notify_all();
  for (int i = 0; i < 600 && !Contains(body, R"("state":"done")"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    body = Send("GET", "/v1/audit/verify/verify-1").body;
  }
  EXPECT_TRUE(Contains(
      body, R"("checks":[{"check":"log","result":"ok"},{"check":"projections","result":"ok"}])"))
      << body;
}

// A data directory with personal fields under a master key.
class HttpPrivacyTest : public HttpTest {
 protected:
  void SetUp() override {
    auto key = MasterKey::Generate(dir_.path() + "/master.key");
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    master_key_ = *key;
    HttpTest::SetUp();
    const std::string opened = JsonEvent(
        "o1", "alice", "account_opened",
        R"({"email":{"plaintext":"alice@example.test"},"legal_name":{"plaintext":"Alice Ltd"},)"
        R"("tax_id":{"plaintext":"DE123456789"},"country":"DE"})");
    const std::string paid = testing::PaidTopUp("p1", "alice", "100", "EUR", "11.90", "1.90");
    Reply appended =
        Send("POST", "/v1/events", opened + "\n" + paid + "\n", "application/x-ndjson");
    ASSERT_EQ(appended.status, 200) << appended.body;
    ASSERT_FALSE(Contains(appended.body, "rejected")) << appended.body;
  }

  std::string TokenFor(const std::string& name, Role role) {
    auto made = tokens_->Create(name, role);
    EXPECT_TRUE(made.ok());
    return made.ok() ? made->text : "";
  }

  // The number of alice's invoice, from the invoices list.
  std::string InvoiceNumber() {
    Reply list = Send("GET", "/v1/accounts/alice/invoices");
    const std::string key = R"("number":")";
    size_t at = list.body.find(key);
    if (at == std::string::npos) return "";
    at += key.size();
    return list.body.substr(at, list.body.find('"', at) - at);
  }
};

// Personal fields leave the service only for the operator, and only after
// the read is in the log, where an auditor lists it; the reads change no
// account's version.
TEST_F(HttpPrivacyTest, PersonalFieldsAreShownOnlyToTheOperatorAndEveryReadIsRecorded) {
  const std::string number = InvoiceNumber();
  ASSERT_FALSE(number.empty());
  const std::string version = Send("GET", "/v1/accounts/alice/balance").body;
  const std::string operator_token = token_;
  Reply profile = Send("GET", "/v1/subjects/alice/profile");
  ASSERT_EQ(profile.status, 200) << profile.body;
  EXPECT_TRUE(Contains(profile.body, R"("email":"alice@example.test")")) << profile.body;
  Reply invoice = Send("GET", "/v1/invoices/" + number);
  ASSERT_EQ(invoice.status, 200) << invoice.body;
  EXPECT_TRUE(
      Contains(invoice.body, R"("bill_to":{"legal_name":"Alice Ltd","tax_id":"DE123456789"})"))
      << invoice.body;
  EXPECT_EQ(Send("GET", "/v1/accounts/alice/balance").body, version);

  token_ = TokenFor("books", Role::kFinance);
  Reply seen_by_finance = Send("GET", "/v1/invoices/" + number);
  ASSERT_EQ(seen_by_finance.status, 200);
  EXPECT_FALSE(Contains(seen_by_finance.body, "bill_to")) << seen_by_finance.body;
  EXPECT_FALSE(Contains(seen_by_finance.body, "Alice Ltd"));
  EXPECT_EQ(Send("GET", "/v1/subjects/alice/profile").status, 403);
  EXPECT_EQ(Send("GET", "/v1/audit/accesses").status, 403);

  token_ = TokenFor("audit", Role::kAuditor);
  EXPECT_EQ(Send("GET", "/v1/subjects/alice/profile").status, 403);
  EXPECT_FALSE(Contains(Send("GET", "/v1/invoices/" + number).body, "Alice Ltd"));
  Reply accesses = Send("GET", "/v1/audit/accesses?subject=alice");
  ASSERT_EQ(accesses.status, 200) << accesses.body;
  EXPECT_TRUE(Contains(accesses.body, R"("subject":"alice","accessed_by":"token:tests ()"))
      << accesses.body;
  EXPECT_TRUE(Contains(accesses.body, R"("purpose":"all","via":"GET /v1/subjects/alice/profile"})"))
      << accesses.body;
  EXPECT_TRUE(
      Contains(accesses.body, R"("purpose":"billing","via":"GET /v1/invoices/)" + number + R"("})"))
      << accesses.body;
  EXPECT_FALSE(Contains(accesses.body, "alice@example.test"));
  Reply none = Send("GET", "/v1/audit/accesses?subject=bob");
  EXPECT_TRUE(Contains(none.body, R"("data":[])")) << none.body;
  // The CLI lists the same reads beside the running service.
  std::ostringstream out, err;
  EXPECT_EQ(cli::RunAuditAccesses(dir_.path(), "alice", {}, OutputFormat::kCsv, {out, err}), 0)
      << err.str();
  EXPECT_TRUE(Contains(out.str(), ",alice,token:tests (")) << out.str();
  EXPECT_TRUE(Contains(out.str(), ",billing,GET /v1/invoices/" + number + "\r\n")) << out.str();
  token_ = operator_token;
}

// Erasure and legal holds over the operator API: a hold blocks erasure, an
// Idempotency-Key makes a retry the same request, and bad input is named.
TEST_F(HttpPrivacyTest, ErasureAndLegalHoldsGoThroughTheOperatorApi) {
  Reply held = Send("PUT", "/v1/subjects/alice/legal-hold", R"({"reason":"case 7"})");
  ASSERT_EQ(held.status, 200) << held.body;
  EXPECT_TRUE(Contains(held.body, R"("legal_hold":"case 7")")) << held.body;
  EXPECT_EQ(Send("PUT", "/v1/subjects/alice/legal-hold", R"({"reason":"again"})").status, 409);
  Reply blocked = Send("POST", "/v1/subjects/alice/erasure", R"({"purpose":"all"})");
  EXPECT_EQ(blocked.status, 409) << blocked.body;
  EXPECT_TRUE(Contains(blocked.body, "legal hold")) << blocked.body;
  EXPECT_EQ(Send("DELETE", "/v1/subjects/alice/legal-hold").status, 400);  // no reason
  ASSERT_EQ(Send("DELETE", "/v1/subjects/alice/legal-hold?reason=closed").status, 200);

  const uint64_t before = head();
  for (const auto& [body, field] :
       std::vector<std::pair<std::string, std::string>>{{R"({"purpose":"everything"})", "purpose"},
                                                        {R"({"purpose":"all","why":"x"})", "why"},
                                                        {R"({"purpose":7})", "purpose"},
                                                        {R"({})", "purpose"},
                                                        {R"([1])", "body"},
                                                        {R"({"purpose":"all")", ""}}) {
    Reply bad = Send("POST", "/v1/subjects/alice/erasure", body);
    EXPECT_EQ(bad.status, 400) << body << " " << bad.body;
    if (!field.empty()) {
      EXPECT_TRUE(Contains(bad.body, R"("field":")" + field + "\"")) << body << " " << bad.body;
    }
  }
  EXPECT_EQ(Send("POST", "/v1/subjects/alice/erasure", "purpose=all", "text/plain").status, 415);
  EXPECT_EQ(Send("POST", "/v1/subjects/nobody/erasure", R"({"purpose":"all"})").status, 404);
  EXPECT_EQ(Send("GET", "/v1/subjects/alice/erasure").status, 405);
  EXPECT_EQ(head(), before);  // nothing of the bad requests was written

  HttpRequest erase{
      "POST", "/v1/subjects/alice/erasure", "application/json", R"({"purpose":"all"})",
      "",     "Bearer " + token_,           "dsar-41"};
  HttpResponse first = api_->Handle(erase);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_TRUE(Contains(first.body, R"("shredded":[{"purpose":"profile","seq":)")) << first.body;
  EXPECT_TRUE(Contains(first.body, R"("profile_shredded":true)")) << first.body;
  // The invoice keeps its billing identity until its retention horizon.
  EXPECT_TRUE(Contains(first.body, R"("billing_erasure_pending":true)")) << first.body;
  const uint64_t after = head();
  HttpResponse again = api_->Handle(erase);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(Contains(again.body, R"("outcome":"duplicate")")) << again.body;
  EXPECT_EQ(head(), after);
  erase.body = R"({"purpose":"profile"})";
  HttpResponse other = api_->Handle(erase);
  EXPECT_EQ(other.status, 409) << other.body;
  EXPECT_TRUE(Contains(other.body, "Idempotency-Key")) << other.body;

  Reply profile = Send("GET", "/v1/subjects/alice/profile");
  EXPECT_TRUE(Contains(profile.body, R"("email":"erased")")) << profile.body;
  EXPECT_FALSE(Contains(profile.body, "alice@example.test"));
  Reply state = Send("GET", "/v1/subjects/alice");
  EXPECT_TRUE(Contains(state.body, R"("legal_hold":null)")) << state.body;
  token_ = TokenFor("books", Role::kFinance);
  EXPECT_EQ(Send("POST", "/v1/subjects/alice/erasure", R"({"purpose":"all"})").status, 403);
  EXPECT_EQ(Send("GET", "/v1/retention/plan").status, 403);
}

TEST_F(HttpPrivacyTest, TheRetentionPlanIsReadByTheOperator) {
  Reply plan = Send("GET", "/v1/retention/plan");
  ASSERT_EQ(plan.status, 200) << plan.body;
  EXPECT_TRUE(Contains(plan.body, R"({"category":"accounts","years":)")) << plan.body;
  EXPECT_TRUE(Contains(plan.body, R"("head_seq":)" + std::to_string(head()) + ",")) << plan.body;
  EXPECT_TRUE(Contains(plan.body, R"("archivable_through":0)")) << plan.body;
}

// An export started over HTTP is downloaded and verifies offline, event for
// event, against the log's head.
TEST_F(HttpPrivacyTest, AnExportIsWrittenDownloadedAndVerifiesOffline) {
  Reply started = Send("POST", "/v1/audit/export", "{}");
  ASSERT_EQ(started.status, 202) << started.body;
  EXPECT_TRUE(Contains(started.body, R"("id":"export-1")")) << started.body;
  EXPECT_EQ(Send("GET", "/v1/audit/export/export-1/sideways").status, 404);
  std::string body;
  for (int i = 0; i < 600 && !Contains(body, R"("state":"done")"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    body = Send("GET", "/v1/audit/export/export-1").body;
  }
  ASSERT_TRUE(Contains(body, R"("result":"ok")")) << body;
  testing::TempDir copy;
  for (const char* file : {"manifest.json", "records"}) {
    Reply part = Send("GET", std::string("/v1/audit/export/export-1/") + file);
    ASSERT_EQ(part.status, 200) << file << " " << part.body;
    std::ofstream(copy.path() + "/" + file, std::ios::binary) << part.body;
  }
  ExportReport verified = VerifyExport(copy.path(), nullptr);
  EXPECT_TRUE(verified.status.ok()) << verified.status.ToString();
  EXPECT_EQ(verified.events_checked, head());
  EXPECT_EQ(Send("GET", "/v1/audit/export/export-2").status, 404);
  token_ = TokenFor("books", Role::kFinance);
  EXPECT_EQ(Send("POST", "/v1/audit/export", "{}").status, 403);
  EXPECT_EQ(Send("GET", "/v1/audit/export/export-1/records").status, 403);
}

// The client `tally demo` and `tally load` use: URLs that are not
// http://HOST:PORT are refused, naming the flag.
TEST(HttpClientTest, UrlsAreHttpHostAndPort) {
  auto plain = ParseHttpUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 8080);
  auto v6 = ParseHttpUrl("http://[::1]:9/ignored/path");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9);
  for (const char* bad : {"127.0.0.1:8080", "https://h:1", "http://h", "http://h:", "http://:80",
                          "http://h:0", "http://h:65536", "http://h:8x"}) {
    auto parsed = ParseHttpUrl(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().ToString().find("--url"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace tally::service
