// One account's month, made in time order: what it pays, what it runs, and
// a model of its credits good enough that its tasks are mostly affordable
// (the ledger decides; the model only keeps rejections rare).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "workload/internal/builders.h"
#include "workload/workload.h"

namespace tally::workload::internal {

// How much an account does, and what happens to it.
struct Persona {
  int tasks_per_100_days = 0;
  bool pays = true;  // tops up when its credits run short
  bool subscribes = false;
  int64_t pack_credits = 1000;  // a top-up buys this many credits
  int refund_permille = 0;      // of its top-ups, refunded
  bool chargeback = false;      // its first top-up is disputed
  bool chargeback_won = false;
  bool erasure = false;     // asks to be erased
  bool legal_hold = false;  // ... while a legal hold stands
};

Persona PersonaFor(Rng& rng, int index, int accounts);

class AccountMonth {
 public:
  AccountMonth(std::string account, Persona persona, const Market& market, uint64_t seed,
               const WorkloadOptions& options);
  // Every event of the account in the window, in time order.
  std::vector<WorkloadEvent> Make();

 private:
  struct Lot {
    int64_t starts = 0;
    int64_t expires = INT64_MAX;
    int64_t centi = 0;  // credits left, in hundredths
  };
  struct OpenTask {
    int64_t releases = 0;
    int64_t estimate = 0;
    int64_t cost = 0;  // burned when it releases; 0 if it failed or timed out
    bool burned = false;
  };
  struct PendingRefund {  // decided once the month reaches it
    int64_t at = 0;
    int64_t credits = 0;
    Json data;
  };

  void Open();
  void Subscribe();
  void Upgrade(const std::string& id, int64_t at, int64_t period_end, int n);
  int64_t PlanPrice(int64_t credits, int discount_percent) const;
  Json Period(int64_t from, int64_t credits, int64_t price, const std::string& reference);
  void RunTasks();
  void Task(int64_t at);
  void Finish(int64_t at, const char* model, int64_t estimate, int64_t min_seconds,
              int64_t max_seconds, const std::string& task_id);
  bool TopUpFor(int64_t at, int64_t needed);
  void TopUp(int64_t at, int64_t credits);
  void Erase();

  void Add(int64_t at, Channel channel, const std::string& type, Json data,
           const std::string& producer, const std::string& task_id = "");
  std::string NextId(const char* kind);
  int64_t Available(int64_t at);
  int64_t Ceiling(int64_t at) const;
  void SettleRefunds(int64_t until);
  void Burn(int64_t at, int64_t centi);
  void ReleaseUntil(int64_t at);

  std::string account_;
  Persona persona_;
  const Market& market_;
  Rng rng_;
  WorkloadOptions options_;
  int64_t end_ = 0;
  int64_t opened_ = 0;
  int serial_ = 0;
  int payments_ = 0;
  int tasks_ = 0;
  int64_t erase_at_ = 0;  // when it asks for erasure (persona.erasure)
  std::vector<Lot> lots_;
  std::vector<OpenTask> open_;
  std::vector<PendingRefund> refunds_;
  std::vector<WorkloadEvent> events_;
};

// The account of an older billing system: years of history, imported.
std::vector<WorkloadEvent> ImportedHistory(const std::string& account, int64_t until_micros);

}  // namespace tally::workload::internal
