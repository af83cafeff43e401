// A ledger for benchmarks: a fresh directory whose accounts each hold a paid
// lot, and the usage events that burn them.
#pragma once

#include <sodium.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "events/check.h"
#include "events/codec.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"

namespace tally {

inline constexpr int kAccounts = 1000;

// A usage event for account i % kAccounts with a unique id, as JSON.
inline std::string UsageJson(uint64_t i) {
  std::string n = std::to_string(i);
  return R"({"id":"u-)" + n + R"(","account":"acct-)" + std::to_string(i % kAccounts) +
         R"(","occurred_at":"2026-11-20T08:05:40Z","producer":"bench","type":"usage_recorded",)"
         R"("data":{"usage_id":"u-)" +
         n + R"(","credits":"1.5","model":"image-xl"}})";
}

inline Event UsageEvent(const EventCodec& codec, uint64_t i) {
  return *codec.ParseJson(UsageJson(i));
}

// A fresh ledger whose accounts each hold a paid lot, so usage burns lots
// and recognises revenue (three postings pairs per event at most).
class BenchLedger {
 public:
  BenchLedger() {
    dir_ = (std::filesystem::temp_directory_path() / "tally-bench-XXXXXX").string();
    TALLY_CHECK(mkdtemp(dir_.data()) != nullptr);
    LedgerOptions options{dir_, true};
    TALLY_CHECK(sodium_init() >= 0);
    options.on_group_commit = [this](const GroupCommit& group) {
      groups_.fetch_add(1, std::memory_order_relaxed);
      grouped_events_.fetch_add(group.events, std::memory_order_relaxed);
    };
    options.master_key = MasterKey{};
    randombytes_buf(options.master_key->bytes.data(), options.master_key->bytes.size());
    ledger_ = std::move(Ledger::Open(options, &clock_)).value();
    EventCodec codec;
    std::vector<Event> topups;
    for (int a = 0; a < kAccounts; ++a) {
      topups.push_back(*codec.ParseJson(
          R"({"id":"t-)" + std::to_string(a) + R"(","account":"acct-)" + std::to_string(a) +
          R"(","occurred_at":"2026-11-20T08:00:00Z","producer":"bench","type":"top_up_settled",)"
          R"("data":{"provider":"stripe","reference":"r-)" +
          std::to_string(a) +
          R"(","amount":{"currency":"USD","value":"1000000.00"},"credits":"100000000"}})"));
    }
    TALLY_CHECK(ledger_->Append(topups).ok());
  }
  ~BenchLedger() {
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }
  Ledger& ledger() { return *ledger_; }
  // Events per group commit since the ledger opened (the top-ups included).
  double EventsPerGroup() const {
    const uint64_t groups = groups_.load();
    return groups == 0 ? 0 : static_cast<double>(grouped_events_.load()) / groups;
  }

 private:
  std::atomic<uint64_t> groups_{0};
  std::atomic<uint64_t> grouped_events_{0};
  std::string dir_;
  SystemClock clock_;
  std::unique_ptr<Ledger> ledger_;
};

}  // namespace tally
