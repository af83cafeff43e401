// The finance reads of the HTTP API: every projection the CLI reports, with
// the same columns (reports/finance.h), as JSON pages or CSV.
#include <charconv>
#include <functional>
#include <set>

#include "events/limits.h"
#include "events/timestamp.h"
#include "reports/finance.h"
#include "reports/privacy.h"
#include "service/event_body.h"
#include "service/http_api.h"
#include "service/http_util.h"

namespace tally::service {
namespace {

using Params = std::map<std::string, std::string>;

// A list read's query: its range pinned to a seq of the log (so that every
// page of a list reads the same prefix), the page, and the format.
struct ReadQuery {
  Params params;
  LogRange range;
  bool now = true;  // neither at_seq nor as_of (nor a cursor) was given
  size_t offset = 0;
  size_t limit = limits::kHttpPageRowsDefault;
  bool csv = false;
};

// The cursor of the page after `offset`: "<at_seq>.<as_of_micros>.<offset>".
// Opaque to clients; documented only as "pass it back".
std::string CursorOf(const LogRange& range, size_t offset) {
  return std::to_string(range.at_seq) + "." + std::to_string(range.as_of_micros) + "." +
         std::to_string(offset);
}

template <typename Number>
bool ParseNumber(std::string_view text, Number& out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

Status ReadCursor(const std::string& cursor, uint64_t head_seq, ReadQuery& query) {
  auto parts = Split(cursor, '.');
  if (parts.size() != 3 || !ParseNumber(parts[0], query.range.at_seq) ||
      !ParseNumber(parts[1], query.range.as_of_micros) || !ParseNumber(parts[2], query.offset) ||
      query.range.at_seq > head_seq) {
    return Status::InvalidArgument("cursor: not a cursor this service gave");
  }
  query.now = false;
  return Status::Ok();
}

Status ReadPage(const Params& params, ReadQuery& query) {
  if (auto limit = params.find("limit"); limit != params.end()) {
    if (!ParseNumber(limit->second, query.limit) || query.limit == 0 ||
        query.limit > limits::kHttpPageRowsMax) {
      return Status::InvalidArgument("limit: a whole number from 1 to " +
                                     std::to_string(limits::kHttpPageRowsMax));
    }
  }
  if (auto format = params.find("format"); format != params.end()) {
    if (format->second != "json" && format->second != "csv") {
      return Status::InvalidArgument("format: json or csv");
    }
    query.csv = format->second == "csv";
  }
  return Status::Ok();
}

// The query of a read that takes `extra` parameters beyond the range and
// the page; an unknown parameter is an error, not silently ignored.
Result<ReadQuery> ParseRead(const HttpRequest& request, std::string_view query_text,
                            uint64_t head_seq, const std::set<std::string>& extra) {
  auto params = ParseQuery(query_text);
  if (!params) return Status::InvalidArgument("query: a parameter is badly escaped");
  static const std::set<std::string> kCommon = {"at_seq", "as_of", "cursor", "limit", "format"};
  for (const auto& [name, value] : *params) {
    if (!kCommon.contains(name) && !extra.contains(name)) {
      return Status::InvalidArgument(name + ": not a parameter of this read");
    }
  }
  ReadQuery query;
  query.params = *params;
  query.csv = MediaTypeIs(request.accept, "text/csv");
  if (auto status = ReadPage(*params, query); !status.ok()) return status;
  if (auto cursor = params->find("cursor"); cursor != params->end()) {
    if (params->contains("at_seq") || params->contains("as_of")) {
      return Status::InvalidArgument("cursor: the cursor carries the range; drop at_seq and as_of");
    }
    if (auto status = ReadCursor(cursor->second, head_seq, query); !status.ok()) return status;
    return query;
  }
  auto range = RangeOf(*params, head_seq);
  if (!range.ok()) return range.status();
  query.now = !params->contains("at_seq") && !params->contains("as_of");
  query.range = *range;
  query.range.at_seq = std::min(query.range.at_seq, head_seq);
  return query;
}

HttpResponse BadQuery(const Status& status) {
  return Problem(400, "invalid-query", status.message(), FieldNamedIn(status.message()));
}

// One page of `table`: JSON {data, at_seq, next_cursor} or CSV with a Link
// header to the next page.
HttpResponse PageOf(const Report& table, const ReadQuery& query, const std::string& path) {
  Report page{table.columns, {}};
  const size_t end = std::min(table.rows.size(), query.offset + query.limit);
  for (size_t i = query.offset; i < end; ++i) page.rows.push_back(table.rows[i]);
  const bool more = end < table.rows.size();
  const std::string next = more ? CursorOf(query.range, end) : "";
  HttpResponse response;
  if (query.csv) {
    std::ostringstream csv;
    Render(page, OutputFormat::kCsv, csv);
    response = HttpResponse{200, "text/csv; charset=utf-8", csv.str(), {}};
  } else {
    Json body = Json::Object();
    body.Add("data", ReportJson(page))
        .Add("at_seq", Json::Integer(static_cast<int64_t>(query.range.at_seq)))
        .Add("next_cursor", more ? Json::String(next) : Json());
    response = JsonResponse(200, body);
  }
  if (more) {
    std::string link = "<" + path + "?cursor=" + next + "&limit=" + std::to_string(query.limit);
    if (query.csv) link += "&format=csv";
    response.headers.emplace_back("Link", link + ">; rel=\"next\"");
  }
  return response;
}

using TableRead =
    std::function<Result<Report>(const ProjectionStore& store, const ReadQuery& query)>;

// The list reads by path (after /v1/), with the parameters each takes
// beyond the range and the page.
struct ListRoute {
  TableRead read;
  std::set<std::string> extra = {};
};

Result<Report> Wrap(const Status& status) { return status; }

std::optional<ListRoute> ReportRoute(std::string_view name) {
  if (name == "trial-balance") {
    return ListRoute{[](const ProjectionStore& store, const ReadQuery& q) -> Result<Report> {
      auto lines = ReadTrialBalance(store, q.range);
      return lines.ok() ? Result<Report>(TrialBalanceTable(*lines)) : Wrap(lines.status());
    }};
  }
  if (name == "revenue") {
    return ListRoute{[](const ProjectionStore& store, const ReadQuery& q) -> Result<Report> {
      auto lines = ReadRevenue(store, q.range);
      return lines.ok() ? Result<Report>(RevenueTable(*lines)) : Wrap(lines.status());
    }};
  }
  if (name == "subscriptions" || name == "recurring-revenue") {
    const bool totals = name == "recurring-revenue";
    return ListRoute{[totals](const ProjectionStore& store, const ReadQuery& q) -> Result<Report> {
      auto report = ReadSubscriptions(store, q.range);
      if (!report.ok()) return report.status();
      return totals ? RecurringRevenueTable(*report) : SubscriptionsTable(*report);
    }};
  }
  if (name == "tasks" || name == "open-holds") {
    const bool holds = name == "open-holds";
    return ListRoute{[holds](const ProjectionStore& store, const ReadQuery& q) -> Result<Report> {
      auto report = ReadTasks(store, q.range);
      if (!report.ok()) return report.status();
      return holds ? OpenHoldsTable(*report) : ModelUsageTable(*report);
    }};
  }
  return std::nullopt;
}

std::optional<ListRoute> AccountRoute(const std::string& account, std::string_view name) {
  if (name == "statement") {
    return ListRoute{[account](const ProjectionStore& store, const ReadQuery& q) -> Result<Report> {
                       int64_t from = 0;
                       if (auto given = q.params.find("from"); given != q.params.end()) {
                         auto parsed = ParseTimestamp(given->second);
                         if (!parsed.ok()) return parsed.status().WithContext("from");
                         from = *parsed;
                       }
                       auto lines = ReadStatement(store, account, q.range, from);
                       return lines.ok() ? Result<Report>(StatementTable(*lines))
                                         : Wrap(lines.status());
                     },
                     {"from"}};
  }
  if (name == "invoices") {
    return ListRoute{[account](const ProjectionStore& store, const ReadQuery& q) -> Result<Report> {
      auto rows = ReadInvoices(store, account, q.range);
      return rows.ok() ? Result<Report>(InvoicesTable(*rows)) : Wrap(rows.status());
    }};
  }
  return std::nullopt;
}

// The list route `path` names (decoded segments after "", "v1").
std::optional<ListRoute> ListRouteOf(const std::vector<std::string>& path) {
  if (path.size() == 3 && path[2] == "balances") {
    return ListRoute{[](const ProjectionStore& store, const ReadQuery& q) -> Result<Report> {
      auto balances = ReadAllBalances(store, q.range);
      return balances.ok() ? Result<Report>(BalancesTable(*balances, q.now))
                           : Wrap(balances.status());
    }};
  }
  if (path.size() == 3 && path[2] == "invoices") return AccountRoute("", "invoices");
  if (path.size() == 4 && path[2] == "reports") return ReportRoute(path[3]);
  if (path.size() == 4 && path[2] == "audit" && path[3] == "accesses") {
    return ListRoute{
        [](const ProjectionStore& store, const ReadQuery& q) -> Result<Report> {
          auto subject = q.params.find("subject");
          auto rows =
              ReadAccesses(store, subject == q.params.end() ? "" : subject->second, q.range);
          return rows.ok() ? Result<Report>(AccessesTable(*rows)) : Wrap(rows.status());
        },
        {"subject"}};
  }
  if (path.size() == 5 && path[2] == "accounts" && !path[3].empty()) {
    return AccountRoute(path[3], path[4]);
  }
  return std::nullopt;
}

}  // namespace

std::optional<HttpResponse> HttpApi::GetRead(const std::vector<std::string>& path,
                                             const HttpRequest& request) const {
  auto route = ListRouteOf(path);
  if (!route) return std::nullopt;
  if (request.method != "GET") {
    HttpResponse wrong = Problem(405, "method-not-allowed", "use GET");
    wrong.headers.emplace_back("Allow", "GET");
    return wrong;
  }
  std::string_view target(request.target);
  const size_t question = target.find('?');
  std::string_view query_text =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  auto query = ParseRead(request, query_text, service_.ledger().head_seq(), route->extra);
  if (!query.ok()) return BadQuery(query.status());
  auto table = service_.WithProjections(
      [&](const ProjectionStore& store) { return route->read(store, *query); });
  if (!table.ok()) {
    if (table.status().code() == StatusCode::kInvalidArgument) return BadQuery(table.status());
    if (table.status().code() == StatusCode::kNotFound) {
      return Problem(404, "not-found", table.status().message());
    }
    return Unavailable(table.status());
  }
  return PageOf(*table, *query, std::string(target.substr(0, question)));
}

HttpResponse HttpApi::GetBalance(const std::string& account, const std::string& query) const {
  auto params = ParseQuery(query);
  if (!params) return Problem(400, "invalid-query", "a query parameter is badly escaped");
  auto range = RangeOf(*params, service_.ledger().head_seq());
  if (!range.ok()) return BadQuery(range.status());
  auto balance = service_.Balance(account, *range);
  if (!balance.ok()) return Unavailable(balance.status());
  const bool now = params->empty();
  Json json = Json::Object();
  json.Add("account", Json::String(balance->account))
      .Add("available_credits", Json::String(balance->available.ToString()))
      .Add("held_credits", Json::String(balance->held.ToString()))
      .Add("receivable_credits", Json::String(balance->receivable.ToString()))
      .Add("version", now ? Json::Integer(static_cast<int64_t>(balance->version)) : Json());
  return JsonResponse(200, json);
}

HttpResponse HttpApi::GetLots(const std::string& account) const {
  Report table = LotsTable();
  AddLots(account, service_.ledger().Account(account).lots, table);
  return JsonResponse(200, Json::Object().Add("data", ReportJson(table)));
}

HttpResponse HttpApi::GetInvoice(const std::string& number, const TokenInfo& caller) const {
  auto document = service_.WithProjections(
      [&](const ProjectionStore& store) { return ReadInvoice(store, number, LogRange{}); });
  if (!document.ok()) {
    if (document.status().code() == StatusCode::kNotFound) {
      return Problem(404, "not-found", document.status().message(), "number");
    }
    return Unavailable(document.status());
  }
  Json row = ReportJson(InvoicesTable({document->row})).items().front();
  Json json = Json::Object();
  json.Add("invoice", std::move(row)).Add("lines", ReportJson(InvoiceLinesTable(*document)));
  if (Allows(caller.role, Permission::kReadPersonal)) {
    // The bill-to party as it stood at issue, for roles that may read it,
    // each read recorded before it is shown.
    auto identity = service_.IdentityOf(document->row.account, document->row.seq);
    if (!identity.ok()) return Unavailable(identity.status());
    Status recorded = service_.RecordAccess(document->row.account, CallerName(caller), "billing",
                                            "GET /v1/invoices/" + number);
    if (!recorded.ok()) return Unavailable(recorded);
    Json bill_to = Json::Object();
    for (const char* field : {"legal_name", "invoice_title", "tax_id", "billing_address"}) {
      const PersonalValue* value = identity->Find(field);
      if (value != nullptr && value->kind != PersonalValue::Kind::kUnset) {
        bill_to.Add(field, Json::String(value->Display()));
      }
    }
    json.Add("bill_to", std::move(bill_to));
  }
  return JsonResponse(200, json);
}

}  // namespace tally::service
