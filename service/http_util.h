// What the HTTP routes share: problem answers, JSON answers, media types,
// paths and queries, and the log range of a read.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "projections/log_range.h"
#include "reports/json.h"
#include "service/http_api.h"

namespace tally::service {

// An RFC 9457 problem object; `field` (if any) names the input at fault.
Json ProblemJson(int status, const std::string& slug, const std::string& detail,
                 const std::string& field);
HttpResponse ProblemResponse(int status, const Json& body);
HttpResponse JsonResponse(int status, const Json& body);
// A failure of the stores (not of the request): 503, safe to retry.
HttpResponse Unavailable(const Status& status);

// Whether a Content-Type or Accept value is `type` (lower case), ignoring parameters.
bool MediaTypeIs(const std::string& header, std::string_view type);
// Percent-decodes one path segment; nullopt if an escape is malformed.
std::optional<std::string> DecodeSegment(std::string_view segment);
std::vector<std::string_view> Split(std::string_view text, char separator);
// The query's parameters; nullopt if an escape is malformed.
std::optional<std::map<std::string, std::string>> ParseQuery(std::string_view query);

// The range of `at_seq` or `as_of` in `params` (at most one of them); an
// at_seq past `head_seq` is an error.
Result<LogRange> RangeOf(const std::map<std::string, std::string>& params, uint64_t head_seq);

// Who made a request, as the log records it: "token:<name> (<id>)".
std::string CallerName(const TokenInfo& caller);

// A request body that is one JSON object of string members, each named in
// `known` (`required` ones must be there). InvalidArgument naming the
// member at fault.
Result<std::map<std::string, std::string>> ReadStringMembers(std::string_view body,
                                                             const std::set<std::string>& known,
                                                             const std::set<std::string>& required);

}  // namespace tally::service
