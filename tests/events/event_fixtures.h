// Builders of valid JSON events for tests.
#pragma once

#include <string>

namespace tally::testing {

// A JSON event with the given envelope values and payload.
inline std::string JsonEvent(const std::string& id, const std::string& account,
                             const std::string& type, const std::string& data,
                             const std::string& extra = "") {
  return R"({"id":")" + id + R"(","account":")" + account +
         R"(","occurred_at":"2026-03-01T10:00:00Z","producer":"test",)" + extra + R"("type":")" +
         type + R"(","data":)" + data + "}";
}

inline std::string TopUp(const std::string& id, const std::string& account,
                         const std::string& credits, const std::string& usd = "10.00") {
  return JsonEvent(id, account, "top_up_settled",
                   R"({"provider":"stripe","reference":"pi_)" + id +
                       R"(","amount":{"currency":"USD","value":")" + usd + R"("},"credits":")" +
                       credits + R"("})");
}

inline std::string Usage(const std::string& id, const std::string& account,
                         const std::string& credits) {
  return JsonEvent(id, account, "usage_recorded",
                   R"({"usage_id":")" + id + R"(","credits":")" + credits + R"("})");
}

}  // namespace tally::testing
