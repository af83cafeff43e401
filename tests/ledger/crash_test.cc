// Crash and corruption tests: what the ledger promises about durability.
//
// CrashTest forks a child that appends batches to a ledger and acknowledges
// each one on a pipe once Append has returned, then SIGKILLs it at a random
// moment: during Open and replay, or in the middle of appending. The parent
// reopens the log after each kill and checks that every acknowledged event is
// still at its acknowledged seq, that no batch is half-written, and that the
// log verifies. The log grows across kill points, so later cycles also replay
// the debris of earlier kills.
//
// CorruptionTest damages a closed log, through RocksDB or on the file system,
// and checks that Open names the damaged seq, or at least fails cleanly
// (never crashes, never serves a log that does not verify).
//
// The harness is deterministic given a seed (printed, and in every failure):
// set TALLY_CRASH_SEED to replay one. Only the kill timing depends on the
// machine. The corruption tests are deterministic.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "events/codec.h"
#include "ledger/internal/keys.h"
#include "ledger/internal/record.h"
#include "ledger/ledger.h"
#include "tests/crash_support.h"
#include "tests/events/event_fixtures.h"
#include "tests/temp_dir.h"

namespace tally {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr int kKillPoints = 200;
constexpr int kAccountCount = 10;
constexpr int kBatchEventsMax = 50;
constexpr int64_t kNowMicros = 1'772'359'200'000'000;  // 2026-03-01T10:00:00Z
constexpr uint64_t kDefaultSeed = 20260301;
// Kills come 0-15 ms after their starting point, skewed early (15 ms * u^3:
// mean 3.75 ms, median 1.9 ms). The child appends a batch every ~0.7 ms, so
// early kills still land at every phase of a write, and the log, which every
// cycle replays four times, stays small enough for 200 kills in ~15 s.
constexpr microseconds kKillDelayMax{15'000};
// A child that has not acknowledged its first batch by then is stuck.
constexpr milliseconds kFirstAckTimeout{10'000};
// A reopen of a damaged log that takes longer than this is a hang.
constexpr milliseconds kReopenTimeout{30'000};

// ---------------------------------------------------------------------------
// Shared helpers

std::string SeedNote(uint64_t seed) {
  return "seed " + std::to_string(seed) + " (rerun with TALLY_CRASH_SEED=" + std::to_string(seed) +
         ")";
}

LedgerOptions OptionsFor(const std::string& dir) {
  LedgerOptions options;
  options.data_dir = dir;
  return options;
}

std::string IdOf(const LoggedEvent& record) {
  auto id = record.event.reader().getId();
  return std::string(id.cStr(), id.size());
}

std::string Describe(const Status& status) { return status.ToString(); }

// Collects problems instead of failing on each, so that one lost batch gives
// one readable failure instead of thousands.
class Problems {
 public:
  void Add(std::string problem) {
    if (problems_.size() < kShown) problems_.push_back(std::move(problem));
    ++count_;
  }
  bool empty() const { return count_ == 0; }
  std::string ToString() const {
    std::string text = std::to_string(count_) + " problem(s):";
    for (const std::string& problem : problems_) text += "\n  " + problem;
    if (count_ > problems_.size()) text += "\n  ...";
    return text;
  }

 private:
  static constexpr size_t kShown = 10;
  std::vector<std::string> problems_;
  size_t count_ = 0;
};

enum class ReadResult { kData, kEof, kTimeout };

// Appends what `fd` has to `out`, waiting until `deadline` for something.
ReadResult ReadSome(int fd, std::string* out, SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
  pollfd pfd{fd, POLLIN, 0};
  int ready = poll(&pfd, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
  if (ready == 0) return ReadResult::kTimeout;
  if (ready < 0) {
    TALLY_CHECK(errno == EINTR);
    return ReadResult::kData;  // nothing yet: ask again
  }
  char buffer[4096];
  ssize_t n = read(fd, buffer, sizeof(buffer));
  if (n == 0) return ReadResult::kEof;
  if (n < 0) return errno == EINTR ? ReadResult::kData : ReadResult::kEof;
  out->append(buffer, static_cast<size_t>(n));
  return ReadResult::kData;
}

// ---------------------------------------------------------------------------
// The kill-point harness: batches

// The id of event `index` of `batch` in `cycle`; ParseBatchId inverts it.
std::string EventId(int cycle, int batch, int index) {
  return "c" + std::to_string(cycle) + "-b" + std::to_string(batch) + "-e" + std::to_string(index);
}

struct BatchId {
  int cycle = 0;
  int batch = 0;
  bool operator<(const BatchId& other) const {
    return std::tie(cycle, batch) < std::tie(other.cycle, other.batch);
  }
};

// The batch of a harness event id; nullopt for ledger-made ids ("tally:<seq>").
std::optional<BatchId> ParseBatchId(const std::string& id) {
  BatchId batch;
  int index = 0;
  if (std::sscanf(id.c_str(), "c%d-b%d-e%d", &batch.cycle, &batch.batch, &index) != 3) {
    return std::nullopt;
  }
  return batch;
}

// The events of one batch as producer JSON, in order. A pure function of
// (seed, cycle, batch), so the parent rebuilds what a killed child sent.
// Every event is one the ledger accepts whatever the balances: top ups and
// grants always are, usage is never rejected (a shortfall is receivable), and
// task_submitted always appends a hold decision (accepted or rejected) that
// the task_succeeded right after it releases. A quarter of the batches share
// a link_group, making them all-or-nothing by rule as well as by write.
std::vector<std::string> MakeBatch(uint64_t seed, int cycle, int batch) {
  std::seed_seq seeds{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                      static_cast<uint32_t>(cycle), static_cast<uint32_t>(batch)};
  std::mt19937_64 rng(seeds);
  auto pick = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng); };
  // Sizes 1-50, mostly small (1 + 49 u^4: mean ~11), for the same reason as
  // kKillDelayMax's skew.
  const double u = std::uniform_real_distribution<double>(0, 1)(rng);
  const int size = 1 + static_cast<int>(std::lround((kBatchEventsMax - 1) * u * u * u * u));
  const std::string link = pick(0, 3) == 0 ? R"("link_group":"c)" + std::to_string(cycle) + "-b" +
                                                 std::to_string(batch) + R"(",)"
                                           : "";
  std::vector<std::string> events;
  while (static_cast<int>(events.size()) < size) {
    const std::string id = EventId(cycle, batch, static_cast<int>(events.size()));
    const std::string account = "acct-" + std::to_string(pick(0, kAccountCount - 1));
    const std::string credits = std::to_string(pick(1, 100));
    int kind = pick(0, 3);
    if (kind == 3 && static_cast<int>(events.size()) + 2 > size) kind = 2;  // no room for a pair
    switch (kind) {
      case 0:
        events.push_back(testing::JsonEvent(
            id, account, "top_up_settled",
            R"({"provider":"stripe","reference":"pi_)" + id +
                R"(","amount":{"currency":"USD","value":"10.00"},"credits":")" + credits + R"("})",
            link));
        break;
      case 1:
        events.push_back(testing::JsonEvent(
            id, account, "credits_granted",
            R"({"credits":")" + credits + R"(","kind":"promotional","reason":"crash test"})",
            link));
        break;
      case 2:
        events.push_back(testing::JsonEvent(
            id, account, "usage_recorded",
            R"({"usage_id":")" + id + R"(","credits":")" + credits + R"("})", link));
        break;
      default: {
        const std::string task = "task-" + id;
        events.push_back(testing::JsonEvent(
            id, account, "task_submitted",
            R"({"task_id":")" + task + R"(","model":"image-xl","estimate":")" + credits + R"("})",
            link));
        events.push_back(testing::JsonEvent(
            EventId(cycle, batch, static_cast<int>(events.size())), account, "task_succeeded",
            R"({"task_id":")" + task + R"(","cost":")" + std::to_string(pick(1, 100)) +
                R"(","model":"image-xl"})",
            link));
      }
    }
  }
  return events;
}

// ---------------------------------------------------------------------------
// The kill-point harness: the child

// Tells the parent why the child gave up ("!<why>" on the ack pipe) and exits
// without running the parent's atexit handlers or gtest's teardown.
[[noreturn]] void ChildFails(int ack_fd, const std::string& why) {
  std::string line = "!" + why + "\n";
  [[maybe_unused]] ssize_t ignored = write(ack_fd, line.data(), line.size());
  _exit(3);
}

// The child's life: open the shared log, then append batch after batch until
// killed, acknowledging each ("<batch> <seq>...\n", one write(2), so a kill
// never leaves half a line) only after Append returned ok.
// The source of the child's batches: partition = cycle, offset = batches taken.
constexpr const char* kCrashTopic = "crash.batches";

[[noreturn]] void AppendUntilKilled(const std::string& dir, uint64_t seed, int cycle, int ack_fd) {
  ManualClock clock(kNowMicros);
  auto ledger = Ledger::Open(OptionsFor(dir), &clock);
  if (!ledger.ok()) ChildFails(ack_fd, "open: " + Describe(ledger.status()));
  EventCodec codec;
  for (int batch = 0;; ++batch) {
    std::vector<Event> events;
    for (const std::string& json : MakeBatch(seed, cycle, batch)) {
      auto event = codec.ParseJson(json);
      if (!event.ok()) ChildFails(ack_fd, "bad event " + json + ": " + Describe(event.status()));
      events.push_back(std::move(event).value());
    }
    // As a Kafka consumer would: the batch's next offset, and a dead letter
    // for a message that did not parse, in the same write.
    const SourceOffset offset{kCrashTopic, cycle, batch + 1};
    DeadLetter letter;
    letter.reason = "did not parse";
    letter.key = std::to_string(cycle);
    letter.value = "garbage of batch " + std::to_string(batch);
    auto outcomes =
        (*ledger)->AppendFrom(events, {.offsets = std::span<const SourceOffset>(&offset, 1),
                                       .dead_letters = std::span<const DeadLetter>(&letter, 1)});
    if (!outcomes.ok()) ChildFails(ack_fd, "append: " + Describe(outcomes.status()));
    std::string ack = std::to_string(batch);
    for (const AppendOutcome& outcome : *outcomes) {
      if (outcome.kind != AppendOutcome::Kind::kAppended) {
        ChildFails(ack_fd, "batch " + std::to_string(batch) + ": " +
                               AppendOutcomeName(outcome.kind) + " " + outcome.reason);
      }
      ack += ' ' + std::to_string(outcome.seq);
    }
    ack += '\n';
    if (write(ack_fd, ack.data(), ack.size()) != static_cast<ssize_t>(ack.size())) _exit(4);
  }
}

// ---------------------------------------------------------------------------
// The kill-point harness: the parent

using Acks = std::map<int, std::vector<uint64_t>>;  // batch -> seqs, in event order

// Reads the child's acknowledgements from the pipe as they come.
class AckReader {
 public:
  explicit AckReader(int fd) : fd_(fd) {}

  // Reads until `done()`, the deadline or the end of the pipe.
  void ReadUntil(SteadyClock::time_point deadline, const std::function<bool()>& done) {
    while (!eof_ && !done() && SteadyClock::now() < deadline) {
      ReadResult result = ReadSome(fd_, &pending_, deadline);
      if (result == ReadResult::kTimeout) return;
      eof_ = result == ReadResult::kEof;
      ParseLines();
    }
  }
  // Reads what is left; the child must be dead.
  void ReadToEnd() {
    ReadUntil(SteadyClock::now() + kReopenTimeout, [] { return false; });
  }

  const Acks& acks() const { return acks_; }
  const std::string& child_error() const { return child_error_; }

 private:
  void ParseLines() {
    for (size_t end; (end = pending_.find('\n')) != std::string::npos;) {
      std::string line = pending_.substr(0, end);
      pending_.erase(0, end + 1);
      if (line.starts_with("!")) {
        child_error_ += line.substr(1);
        continue;
      }
      std::istringstream in(line);
      int batch = 0;
      in >> batch;
      std::vector<uint64_t>& seqs = acks_[batch];
      for (uint64_t seq; in >> seq;) seqs.push_back(seq);
    }
  }

  int fd_;
  bool eof_ = false;
  std::string pending_;
  Acks acks_;
  std::string child_error_;
};

// When to kill the child.
struct KillPlan {
  bool after_first_ack = true;  // else counted from fork: may hit Open or replay
  microseconds delay{0};
};

// One kill in ten is right after fork, two are 0-15 ms after it (during Open
// and replay, which grow with the log), the rest 0-15 ms after the child's
// first acknowledgement (in the middle of appending).
KillPlan NextKillPlan(std::mt19937_64& rng) {
  const int mode = std::uniform_int_distribution<int>(0, 9)(rng);
  const double u = std::uniform_real_distribution<double>(0, 1)(rng);
  const microseconds delay{static_cast<int64_t>(kKillDelayMax.count() * u * u * u)};
  if (mode == 0) return {false, microseconds(0)};
  if (mode <= 2) return {false, delay};
  return {true, delay};
}

struct CycleOutcome {
  Acks acks;
  std::string child_error;  // empty unless the child failed or died otherwise than by SIGKILL
};

// Forks a child that appends to `dir`, kills it as `plan` says and reaps it.
// The parent must not have the ledger open: the child needs the DB lock.
CycleOutcome RunKillCycle(const std::string& dir, uint64_t seed, int cycle, const KillPlan& plan) {
  int fds[2];
  TALLY_CHECK(pipe2(fds, O_CLOEXEC) == 0);
  const pid_t pid = fork();
  TALLY_CHECK(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    AppendUntilKilled(dir, seed, cycle, fds[1]);
  }
  close(fds[1]);
  AckReader reader(fds[0]);
  if (plan.after_first_ack) {
    reader.ReadUntil(SteadyClock::now() + kFirstAckTimeout, [&] { return !reader.acks().empty(); });
  }
  reader.ReadUntil(SteadyClock::now() + plan.delay, [] { return false; });
  kill(pid, SIGKILL);
  int status = 0;
  TALLY_CHECK(waitpid(pid, &status, 0) == pid);
  reader.ReadToEnd();
  close(fds[0]);
  CycleOutcome outcome{reader.acks(), ""};
  const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (!killed || !reader.child_error().empty()) {
    outcome.child_error =
        "child " + testing::DescribeWaitStatus(status) + ": " + reader.child_error();
  } else if (plan.after_first_ack && reader.acks().empty()) {
    outcome.child_error =
        "child acknowledged nothing within " + std::to_string(kFirstAckTimeout.count()) + " ms";
  }
  return outcome;
}

// What the parent knows the log must hold, and the checks after each kill.
class LogModel {
 public:
  LogModel(std::string dir, uint64_t seed) : dir_(std::move(dir)), seed_(seed) {}

  // Records the acknowledgements of `cycle`; each must cover its whole batch.
  void AddAcks(int cycle, const Acks& acks, Problems& problems) {
    for (const auto& [batch, seqs] : acks) {
      const size_t size = BatchSize({cycle, batch});
      if (seqs.size() != size) {
        problems.Add("batch " + std::to_string(batch) + " acknowledged " +
                     std::to_string(seqs.size()) + " seqs for " + std::to_string(size) + " events");
      }
      for (size_t i = 0; i < seqs.size(); ++i) {
        acked_.emplace_back(EventId(cycle, batch, static_cast<int>(i)), seqs[i]);
      }
      last_acked_batch_[cycle] = batch;  // acks come in batch order
    }
  }

  // Opens the log and checks it against everything acknowledged so far.
  // Returns how many records it holds.
  uint64_t Check(Problems& problems) {
    ManualClock clock(kNowMicros);
    auto opened = Ledger::Open(OptionsFor(dir_), &clock);
    if (!opened.ok()) {
      problems.Add("open: " + Describe(opened.status()));
      return 0;
    }
    const Ledger& ledger = **opened;
    ScanNewRecords(ledger, problems);
    CheckAcknowledged(problems);
    CheckWholeBatches(problems);
    CheckOffsets(ledger, problems);
    CheckIntegrity(ledger, problems);
    return log_.last_seq;
  }

  size_t acknowledged_events() const { return acked_.size(); }

 private:
  // What the log held at the last check.
  struct LogContents {
    std::unordered_map<std::string, uint64_t> seq_of;  // event id -> seq
    std::map<BatchId, size_t> batch_events;            // harness events present per batch
    uint64_t last_seq = 0;
    Hash last_hash{};
  };

  // Reads what was appended since the last check, checking that seqs run on
  // without gaps. The record that ended the log then must still be there with
  // the same chain hash: as Verify checks the chain from seq 1, that proves
  // every earlier record unchanged, so they need no second scan.
  void ScanNewRecords(const Ledger& ledger, Problems& problems) {
    const uint64_t known_seq = log_.last_seq;
    const Hash known_hash = log_.last_hash;
    bool known_seen = known_seq == 0;
    Status status = ledger.Scan(std::max<uint64_t>(known_seq, 1), [&](const LoggedEvent& record) {
      if (!known_seen) {
        known_seen = true;
        if (record.seq != known_seq || record.hash != known_hash) {
          problems.Add("seq " + std::to_string(known_seq) + ", the last one at the last check, " +
                       "changed (found seq " + std::to_string(record.seq) + ")");
        }
        return true;
      }
      AddRecord(record, problems);
      return true;
    });
    if (!status.ok()) problems.Add("scan: " + Describe(status));
    if (!known_seen) {
      problems.Add("the log no longer reaches seq " + std::to_string(known_seq));
    }
  }

  void AddRecord(const LoggedEvent& record, Problems& problems) {
    if (record.seq != log_.last_seq + 1) {
      problems.Add("scan: seq " + std::to_string(record.seq) + " follows seq " +
                   std::to_string(log_.last_seq));
    }
    log_.last_seq = record.seq;
    log_.last_hash = record.hash;
    const std::string id = IdOf(record);
    if (!log_.seq_of.emplace(id, record.seq).second) {
      problems.Add("id " + id + " is in the log twice");
    }
    if (auto batch = ParseBatchId(id)) ++log_.batch_events[*batch];
  }

  // (a) Every acknowledged event is in the log at its acknowledged seq.
  void CheckAcknowledged(Problems& problems) const {
    for (const auto& [id, seq] : acked_) {
      auto found = log_.seq_of.find(id);
      if (found == log_.seq_of.end()) {
        problems.Add("acknowledged " + id + " (seq " + std::to_string(seq) + ") is lost");
      } else if (found->second != seq) {
        problems.Add("acknowledged " + id + " at seq " + std::to_string(seq) + " is at seq " +
                     std::to_string(found->second));
      }
    }
  }

  // (b) Every batch in the log is whole, and only the batch after the last
  // acknowledged one may be there unacknowledged (killed before its ack).
  void CheckWholeBatches(Problems& problems) {
    for (const auto& [batch, present] : log_.batch_events) {
      const std::string name =
          "c" + std::to_string(batch.cycle) + "-b" + std::to_string(batch.batch);
      if (present != BatchSize(batch)) {
        problems.Add("batch " + name + " is partial: " + std::to_string(present) + " of " +
                     std::to_string(BatchSize(batch)) + " events");
      }
      auto last = last_acked_batch_.find(batch.cycle);
      const int last_acked = last == last_acked_batch_.end() ? -1 : last->second;
      if (batch.batch > last_acked + 1) {
        problems.Add("batch " + name + " is in the log but batch " +
                     std::to_string(batch.batch - 1) + " was never acknowledged");
      }
    }
  }

  // Exactly once: each cycle's stored source offset counts exactly the
  // batches of it in the log, so a consumer resuming there neither skips
  // nor repeats one.
  // The offsets and dead letters stored with the batches: one of each per batch.
  void CheckOffsets(const Ledger& ledger, Problems& problems) const {
    std::map<int, int64_t> batches;  // cycle -> batches in the log
    for (const auto& [batch, present] : log_.batch_events) ++batches[batch.cycle];
    std::map<int, int64_t> dead_letters;  // cycle -> dead letters stored
    auto letters = ledger.DeadLetters(SIZE_MAX);
    if (!letters.ok()) problems.Add("dead letters: " + letters.status().ToString());
    for (const DeadLetter& letter : letters.ok() ? *letters : std::vector<DeadLetter>()) {
      ++dead_letters[std::stoi(letter.key)];
    }
    for (const auto& [cycle, count] : batches) {
      auto stored = ledger.StoredOffset(kCrashTopic, cycle);
      const int64_t offset = stored.ok() && *stored ? **stored : -1;
      if (offset != count || dead_letters[cycle] != count) {
        problems.Add("cycle " + std::to_string(cycle) + ": stored offset " +
                     std::to_string(offset) + " and " + std::to_string(dead_letters[cycle]) +
                     " dead letters but " + std::to_string(count) + " batches in the log");
      }
    }
  }

  // (c) Verify, (d) TrialBalance and (e) the head agree with the scan.
  void CheckIntegrity(const Ledger& ledger, Problems& problems) const {
    VerifyReport report = ledger.Verify();
    if (!report.status.ok() || report.first_bad_seq != 0 ||
        report.events_checked != log_.last_seq) {
      problems.Add("verify: " + Describe(report.status) + " at seq " +
                   std::to_string(report.first_bad_seq) + " after " +
                   std::to_string(report.events_checked) + " events");
    }
    auto trial = ledger.TrialBalance();
    if (!trial.ok()) problems.Add("trial balance: " + Describe(trial.status()));
    if (ledger.head_seq() != log_.last_seq || ledger.head_hash() != log_.last_hash) {
      problems.Add("head is seq " + std::to_string(ledger.head_seq()) +
                   " but the log ends at seq " + std::to_string(log_.last_seq));
    }
  }

  size_t BatchSize(const BatchId& batch) {
    auto [it, added] = batch_sizes_.try_emplace(batch, 0);
    if (added) it->second = MakeBatch(seed_, batch.cycle, batch.batch).size();
    return it->second;
  }

  const std::string dir_;
  const uint64_t seed_;
  std::vector<std::pair<std::string, uint64_t>> acked_;  // every acknowledged id and its seq
  std::map<int, int> last_acked_batch_;                  // cycle -> last acknowledged batch
  std::map<BatchId, size_t> batch_sizes_;                // cache of MakeBatch(...).size()
  LogContents log_;
};

TEST(CrashTest, NoAcknowledgedEventIsLostAcrossKillPoints) {
  const auto seed = testing::CrashSeed(kDefaultSeed);
  ASSERT_TRUE(seed.has_value()) << "TALLY_CRASH_SEED is not a number";
  SCOPED_TRACE(SeedNote(*seed));
  std::cout << "[ crash    ] " << SeedNote(*seed) << std::endl;
  const auto start = SteadyClock::now();
  testing::TempDir dir;
  std::mt19937_64 rng(*seed);
  LogModel model(dir.path(), *seed);
  int cycles_with_acks = 0;
  uint64_t records = 0;
  for (int cycle = 0; cycle < kKillPoints; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    const KillPlan plan = NextKillPlan(rng);
    const CycleOutcome outcome = RunKillCycle(dir.path(), *seed, cycle, plan);
    ASSERT_TRUE(outcome.child_error.empty()) << outcome.child_error;
    if (!outcome.acks.empty()) ++cycles_with_acks;
    Problems problems;
    model.AddAcks(cycle, outcome.acks, problems);
    records = model.Check(problems);
    ASSERT_TRUE(problems.empty()) << problems.ToString();
  }
  // Most kills must land mid-append, after the child acknowledged something.
  EXPECT_GT(cycles_with_acks * 2, kKillPoints);
  const auto elapsed = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
  std::cout << "[ crash    ] " << kKillPoints << " kills, " << cycles_with_acks << " after an ack, "
            << model.acknowledged_events() << " events acknowledged, " << records << " records, "
            << elapsed.count() << " ms\n";
}

// ---------------------------------------------------------------------------
// Corruption: helpers that reach under the ledger

// Opens a closed ledger's RocksDB directly, as a failing disk or a tamperer
// would. Without compression, so that records can be found in .sst files.
std::unique_ptr<rocksdb::DB> OpenRaw(const std::string& dir) {
  rocksdb::Options options;
  options.compression = rocksdb::kNoCompression;
  rocksdb::DB* db = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(options, dir, &db);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return std::unique_ptr<rocksdb::DB>(db);
}

// Applies `edit` to the stored record at `seq` (deleting it if `edit` returns
// false), through RocksDB only.
void EditRecord(const std::string& dir, uint64_t seq,
                const std::function<bool(std::string&)>& edit) {
  auto db = OpenRaw(dir);
  ASSERT_NE(db, nullptr);
  const std::string key = internal::EventKey(seq);
  std::string record;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &record).ok());
  rocksdb::WriteOptions sync;
  sync.sync = true;
  const bool keep = edit(record);
  ASSERT_TRUE((keep ? db->Put(sync, key, record) : db->Delete(sync, key)).ok());
  ASSERT_TRUE(db->Close().ok());
}

// Byte offsets inside a record (ledger/internal/record.h).
constexpr size_t kRecordedAtOffset = 1;
constexpr size_t kHashOffset = 9;
constexpr size_t kEventLengthOffset = 41;

size_t EventLength(const std::string& record) {
  return static_cast<size_t>(
      internal::ReadU64(std::string(4, '\0') + record.substr(kEventLengthOffset, 4)));
}

void FlipByte(std::string& bytes, size_t offset) {
  ASSERT_LT(offset, bytes.size());
  bytes[offset] = static_cast<char>(bytes[offset] ^ 0x5a);
}

void FlipFileByte(const fs::path& path, size_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(file.is_open()) << path;
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5a);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(&byte, 1);
  ASSERT_TRUE(file.good()) << path;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

// The largest file in `dir` whose name ends with `suffix`.
fs::path LargestFile(const std::string& dir, const std::string& suffix) {
  fs::path largest;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(suffix)) continue;
    if (largest.empty() || entry.file_size() > fs::file_size(largest)) largest = entry.path();
  }
  return largest;
}

// What reopening a damaged log gave.
struct ReopenReport {
  std::string crash;  // how the reopening process died; empty if it did not
  bool opened = false;
  StatusCode code = StatusCode::kOk;
  std::string message;
  uint64_t head_seq = 0;
  std::string verify;  // if opened: "ok", or what Verify/TrialBalance/Scan said

  std::string ToString() const {
    if (!crash.empty()) return "crashed: " + crash;
    if (!opened) return std::string("open failed: ") + StatusCodeName(code) + ": " + message;
    return "opened at seq " + std::to_string(head_seq) + ", verify " + verify;
  }
};

// In the reopening process: opens `dir`, and if that works, verifies it.
// Sends "<opened> <code> <head_seq>\n<verify>\n<message>" on `fd`.
[[noreturn]] void ReopenAndReport(const std::string& dir, int fd) {
  ManualClock clock(kNowMicros);
  auto ledger = Ledger::Open(OptionsFor(dir), &clock);
  std::string line;
  if (!ledger.ok()) {
    line = "0 " + std::to_string(static_cast<int>(ledger.status().code())) + " 0\n-\n" +
           ledger.status().message();
  } else {
    const Ledger& opened = **ledger;
    std::string verify = "ok";
    if (VerifyReport report = opened.Verify(); !report.status.ok()) {
      verify = Describe(report.status);
    } else if (auto trial = opened.TrialBalance(); !trial.ok()) {
      verify = "trial balance: " + Describe(trial.status());
    } else if (Status scan = opened.Scan(1, [](const LoggedEvent&) { return true; }); !scan.ok()) {
      verify = "scan: " + Describe(scan);
    }
    line = "1 0 " + std::to_string(opened.head_seq()) + "\n" + verify + "\n";
  }
  [[maybe_unused]] ssize_t ignored = write(fd, line.data(), line.size());
  _exit(0);
}

// Reopens the log in a child process, so that a crash (a failed TALLY_CHECK,
// a segfault) is reported here instead of ending the test binary.
ReopenReport ReopenIsolated(const std::string& dir) {
  int fds[2];
  TALLY_CHECK(pipe2(fds, O_CLOEXEC) == 0);
  const pid_t pid = fork();
  TALLY_CHECK(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    ReopenAndReport(dir, fds[1]);
  }
  close(fds[1]);
  std::string output;
  ReadResult result = ReadResult::kData;
  const auto deadline = SteadyClock::now() + kReopenTimeout;
  while (result == ReadResult::kData) result = ReadSome(fds[0], &output, deadline);
  close(fds[0]);
  if (result == ReadResult::kTimeout) kill(pid, SIGKILL);
  int status = 0;
  TALLY_CHECK(waitpid(pid, &status, 0) == pid);
  ReopenReport report;
  if (result == ReadResult::kTimeout) {
    report.crash = "hung for " + std::to_string(kReopenTimeout.count()) + " ms";
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    report.crash = testing::DescribeWaitStatus(status);
  } else {
    std::istringstream in(output);
    int code = 0;
    in >> report.opened >> code >> report.head_seq;
    in.ignore(1);
    std::getline(in, report.verify);
    std::getline(in, report.message, '\0');
    report.code = static_cast<StatusCode>(code);
  }
  return report;
}

class CorruptionTest : public ::testing::Test {
 protected:
  // Appends `count` events in batches of up to 100: top ups and usage only,
  // so that event i is at seq i.
  void Fill(int count) {
    auto ledger = Ledger::Open(OptionsFor(dir_.path()), &clock_);
    ASSERT_TRUE(ledger.ok()) << Describe(ledger.status());
    EventCodec codec;
    for (int first = 0; first < count; first += 100) {
      std::vector<Event> batch;
      for (int i = first; i < std::min(count, first + 100); ++i) {
        const std::string id = "e" + std::to_string(i + 1);
        const std::string account = "acct-" + std::to_string(i % kAccountCount);
        // Grants, not top-ups: a top-up is followed by its invoice, and these
        // tests count one record per event.
        auto event = codec.ParseJson(
            i % 3 == 0
                ? testing::JsonEvent(id, account, "credits_granted",
                                     R"({"credits":"100","kind":"promotional","reason":"r"})")
                : testing::Usage(id, account, "7.5"));
        ASSERT_TRUE(event.ok()) << Describe(event.status());
        batch.push_back(std::move(event).value());
      }
      auto outcomes = (*ledger)->Append(batch);
      ASSERT_TRUE(outcomes.ok()) << Describe(outcomes.status());
    }
    ASSERT_EQ((*ledger)->head_seq(), static_cast<uint64_t>(count));
  }

  // Flushes the memtable (the ledger leaves its writes in the WAL) so that
  // the log is in .sst files only.
  void FlushToSst() {
    auto db = OpenRaw(dir_.path());
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Flush(rocksdb::FlushOptions()).ok());
    ASSERT_TRUE(db->Close().ok());
  }

  std::string StoredRecord(uint64_t seq) {
    std::string record;
    auto db = OpenRaw(dir_.path());
    if (db == nullptr) return record;
    EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), internal::EventKey(seq), &record).ok());
    EXPECT_TRUE(db->Close().ok());
    return record;
  }

  // Open must refuse the log with Corruption naming `needle`.
  void ExpectOpenFails(const std::string& needle) {
    auto ledger = Ledger::Open(OptionsFor(dir_.path()), &clock_);
    ASSERT_FALSE(ledger.ok()) << "a damaged log opened";
    EXPECT_EQ(ledger.status().code(), StatusCode::kCorruption) << Describe(ledger.status());
    EXPECT_NE(ledger.status().message().find(needle), std::string::npos)
        << "\"" << needle << "\" not in: " << Describe(ledger.status());
  }

  // Fills 20 events, flips the record byte of seq 7 that `offset` picks, and
  // expects Open to refuse the log naming `needle`.
  void FlipRecordByteAndExpect(const std::function<size_t(const std::string&)>& offset,
                               const std::string& needle) {
    ASSERT_NO_FATAL_FAILURE(Fill(20));
    ASSERT_NO_FATAL_FAILURE(EditRecord(dir_.path(), 7, [&](std::string& record) {
      FlipByte(record, offset(record));
      return true;
    }));
    ExpectOpenFails(needle);
  }

  testing::TempDir dir_;
  ManualClock clock_{kNowMicros};
};

TEST_F(CorruptionTest, AlteredEventIsNamedByVerify) {
  ASSERT_NO_FATAL_FAILURE(Fill(20));
  const std::string pristine = StoredRecord(7);
  const size_t length = EventLength(pristine);
  ASSERT_GT(length, 8u);
  // Bytes across the event: its header, pointers, text and the last byte.
  for (size_t at : {size_t{0}, size_t{5}, length / 4, length / 2, length * 3 / 4, length - 1}) {
    SCOPED_TRACE("event byte " + std::to_string(at) + " of " + std::to_string(length));
    ASSERT_NO_FATAL_FAILURE(EditRecord(dir_.path(), 7, [&](std::string& record) {
      record = pristine;
      FlipByte(record, internal::kRecordHeaderBytes + at);
      return true;
    }));
    ExpectOpenFails("seq 7");
  }
}

TEST_F(CorruptionTest, AlteredHashIsNamedByVerify) {
  FlipRecordByteAndExpect([](const std::string&) { return kHashOffset + 13; },
                          "seq 7: hash chain broken");
}

TEST_F(CorruptionTest, AlteredRecordedAtIsNamedByVerify) {
  FlipRecordByteAndExpect([](const std::string&) { return kRecordedAtOffset + 7; },
                          "seq 7: hash chain broken");
}

TEST_F(CorruptionTest, AlteredJournalEntryIsNamedByVerify) {
  // The last byte of a record is the low byte of its last posting's amount.
  FlipRecordByteAndExpect([](const std::string& record) { return record.size() - 1; },
                          "seq 7: stored journal entry differs from replay");
}

TEST_F(CorruptionTest, DeletedRecordIsAGap) {
  ASSERT_NO_FATAL_FAILURE(Fill(20));
  ASSERT_NO_FATAL_FAILURE(EditRecord(dir_.path(), 5, [](std::string&) { return false; }));
  ExpectOpenFails("seq 5 is missing");
}

TEST_F(CorruptionTest, DeletedLastRecordDisagreesWithTheHead) {
  ASSERT_NO_FATAL_FAILURE(Fill(20));
  ASSERT_NO_FATAL_FAILURE(EditRecord(dir_.path(), 20, [](std::string&) { return false; }));
  ExpectOpenFails("head says seq 20 but the log ends at seq 19");
}

TEST_F(CorruptionTest, FlippedByteOnDiskDoesNotCrash) {
  constexpr int kEvents = 2000;
  ASSERT_NO_FATAL_FAILURE(Fill(kEvents));
  ASSERT_NO_FATAL_FAILURE(FlushToSst());
  const std::string record = StoredRecord(kEvents / 2);
  const fs::path sst = LargestFile(dir_.path(), ".sst");
  ASSERT_FALSE(sst.empty()) << "no .sst file after a flush";
  const size_t at = ReadFile(sst).find(record);
  ASSERT_NE(at, std::string::npos) << "record not found in " << sst;
  ASSERT_NO_FATAL_FAILURE(
      FlipFileByte(sst, at + internal::kRecordHeaderBytes + EventLength(record) / 2));
  const ReopenReport report = ReopenIsolated(dir_.path());
  ASSERT_TRUE(report.crash.empty()) << report.ToString();
  ASSERT_FALSE(report.opened) << report.ToString();
  EXPECT_TRUE(report.code == StatusCode::kCorruption || report.code == StatusCode::kIoError)
      << report.ToString();
}

TEST_F(CorruptionTest, FlippedByteAnywhereInSstFailsTheOpenCleanly) {
  constexpr int kEvents = 2000;
  constexpr int kOffsets = 24;
  ASSERT_NO_FATAL_FAILURE(Fill(kEvents));
  ASSERT_NO_FATAL_FAILURE(FlushToSst());
  const fs::path sst = LargestFile(dir_.path(), ".sst");
  ASSERT_FALSE(sst.empty()) << "no .sst file after a flush";
  const size_t size = fs::file_size(sst);
  testing::TempDir scratch;
  int opened = 0;
  int unnoticed = 0;
  for (int i = 0; i < kOffsets; ++i) {
    // Evenly spread over the file, shifted off block-aligned offsets.
    const size_t at = size * static_cast<size_t>(i) / kOffsets + 17;
    SCOPED_TRACE("byte " + std::to_string(at) + " of " + std::to_string(size));
    const fs::path copy = fs::path(scratch.path()) / std::to_string(i);
    fs::copy(dir_.path(), copy, fs::copy_options::recursive);
    ASSERT_NO_FATAL_FAILURE(FlipFileByte(copy / sst.filename(), at));
    const ReopenReport report = ReopenIsolated(copy.string());
    EXPECT_TRUE(report.crash.empty()) << report.ToString();
    if (report.opened) {
      // Every byte of these offsets lies in a block under a checksum, which
      // Open for writing checks: none may pass it (3 of 24 did while Open
      // read only the records and the head).
      ++opened;
      unnoticed += report.verify == "ok";
      ADD_FAILURE() << "a damaged table opened for writing: " << report.ToString();
    } else {
      EXPECT_TRUE(report.code == StatusCode::kCorruption || report.code == StatusCode::kIoError)
          << report.ToString();
    }
    fs::remove_all(copy);
  }
  std::cout << "[ corrupt  ] of " << kOffsets << " flipped .sst bytes, " << opened
            << " passed Open and " << unnoticed << " also passed Verify\n";
}

// A damaged block of the account index: replay reads only the records, so
// Open used to succeed and appends went on into a damaged store. Open for
// writing now checks every table block; `audit verify` does too.
TEST_F(CorruptionTest, DamagedAccountIndexBlockStopsAppend) {
  constexpr int kEvents = 2000;
  ASSERT_NO_FATAL_FAILURE(Fill(kEvents));
  ASSERT_NO_FATAL_FAILURE(FlushToSst());
  const fs::path sst = LargestFile(dir_.path(), ".sst");
  ASSERT_FALSE(sst.empty()) << "no .sst file after a flush";
  // A restart point of the index's blocks spells the whole key: 'A', account.
  const size_t at = ReadFile(sst).find(std::string(1, internal::kAccountPrefix) + "acct-5");
  ASSERT_NE(at, std::string::npos) << "no account index key in " << sst;
  ASSERT_NO_FATAL_FAILURE(FlipFileByte(sst, at + 24));
  ExpectOpenFails(sst.filename().string());
  auto log = Log::OpenForReading(dir_.path());
  ASSERT_TRUE(log.ok()) << Describe(log.status());
  VerifyReport report = (*log)->Verify();
  EXPECT_EQ(report.status.code(), StatusCode::kCorruption) << Describe(report.status);
}

// A byte flipped in the middle of the WAL must not silently drop the
// acknowledged events after it. RocksDB's default WAL recovery
// (kPointInTimeRecovery) ends replay at the first bad record without an
// error, and the head goes with the dropped writes, so Open used to succeed
// with 1000 of 2000 acknowledged events gone and Verify ok. The ledger now
// opens with kTolerateCorruptedTailRecords: only a torn last record (an
// unacknowledged write) is tolerated, other damage fails the open.
TEST_F(CorruptionTest, FlippedWalByteDoesNotSilentlyLoseAcknowledgedEvents) {
  constexpr int kEvents = 2000;
  ASSERT_NO_FATAL_FAILURE(Fill(kEvents));  // 20 synced batches of 100, all acknowledged
  const fs::path wal = LargestFile(dir_.path(), ".log");
  ASSERT_FALSE(wal.empty()) << "no WAL file";
  ASSERT_NO_FATAL_FAILURE(FlipFileByte(wal, fs::file_size(wal) / 2));
  const ReopenReport report = ReopenIsolated(dir_.path());
  ASSERT_TRUE(report.crash.empty()) << report.ToString();
  if (report.opened) {
    EXPECT_EQ(report.head_seq, uint64_t{kEvents})
        << "Open succeeded without the acknowledged events after the damage: " << report.ToString();
    EXPECT_EQ(report.verify, "ok") << report.ToString();
  } else {
    EXPECT_EQ(report.code, StatusCode::kCorruption) << report.ToString();
  }
}

}  // namespace
}  // namespace tally

namespace tally {
namespace {

// Verify reads the indexes too: an id index entry deleted behind the
// ledger's back would let the same id be appended twice.
TEST(IndexVerifyTest, AMissingIdIndexEntryIsNamed) {
  testing::TempDir dir;
  ManualClock clock(1'772'359'200'000'000);
  EventCodec codec;
  {
    auto ledger = std::move(Ledger::Open({dir.path(), true}, &clock)).value();
    std::vector<Event> events;
    for (int i = 1; i <= 9; ++i) {
      events.push_back(*codec.ParseJson(testing::Usage("e" + std::to_string(i), "a", "1")));
    }
    ASSERT_TRUE(ledger->Append(events).ok());
  }
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), internal::IdKey("e7")).ok());
  }
  auto ledger = std::move(Ledger::Open({dir.path(), true}, &clock)).value();
  VerifyReport report = ledger->Verify();
  EXPECT_EQ(report.first_bad_seq, 7u);
  EXPECT_NE(report.status.message().find("missing from the id index"), std::string::npos)
      << report.status.ToString();
}

}  // namespace
}  // namespace tally
