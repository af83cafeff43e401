// The statements projection: every movement of a customer's credits, with
// the running balances after it.
//   row key: 'l' account 0x00 seq:u64be line:u32be   value: StatementLine fields
//   row key: 'b' account                             value: available, held, receivable
#include "projections/statement.h"

#include <array>
#include <map>

#include "events/big_endian.h"
#include "projections/internal/all.h"
#include "projections/internal/row_codec.h"
#include "projections/store.h"

namespace tally {
namespace internal {
namespace {

using Balances = std::array<Int128, 3>;  // by CustomerBucket::Kind

std::string LinePrefix(std::string_view account) { return 'l' + std::string(account) + '\0'; }

Result<StatementLine> DecodeLine(std::string_view key, std::string_view value) {
  StatementLine line;
  line.seq = ReadU64(key.substr(key.size() - 12));
  RowReader reader(value, "statements seq " + std::to_string(line.seq));
  line.recorded_at_micros = reader.I64();
  line.type = reader.Text();
  line.bucket = reader.Text();
  line.change = Credits::FromMicros(reader.Int());
  line.available = Credits::FromMicros(reader.Int());
  line.held = Credits::FromMicros(reader.Int());
  line.receivable = Credits::FromMicros(reader.Int());
  if (auto status = reader.Finish(); !status.ok()) return status;
  return line;
}

class Statements final : public Projection {
 public:
  std::string_view name() const override { return kStatements; }
  bool keeps_snapshots() const override { return false; }
  bool Consumes(const LoggedEvent& event) const override { return TouchesCustomer(event); }
  Status Apply(const LoggedEvent& event, Rows& rows) const override {
    std::map<std::string, std::pair<Balances, uint32_t>> touched;  // balances, lines so far
    for (const Posting& posting : event.postings) {
      auto bucket = CustomerBucketOf(posting);
      if (!bucket) continue;
      auto it = touched.find(bucket->account);
      if (it == touched.end()) {
        Balances balances{};
        auto stored = rows.Get('b' + bucket->account);
        if (!stored.ok()) return stored.status();
        if (*stored) {
          RowReader reader(**stored, "statements balance " + bucket->account);
          for (Int128& balance : balances) balance = reader.Int();
          if (auto status = reader.Finish(); !status.ok()) return status;
        }
        it = touched.emplace(bucket->account, std::make_pair(balances, 0U)).first;
      }
      auto& [balances, lines] = it->second;
      balances[bucket->kind] += bucket->change;
      std::string key = LinePrefix(bucket->account) + SeqKey(event.seq);
      AppendU32(&key, lines++);
      rows.Put(key, RowBuilder()
                        .Add(event.recorded_at_micros)
                        .Add(event.event.type_name())
                        .Add(BucketName(bucket->kind))
                        .Add(bucket->change)
                        .Add(balances[0])
                        .Add(balances[1])
                        .Add(balances[2])
                        .Take());
    }
    for (const auto& [account, state] : touched) {
      const Balances& balances = state.first;
      rows.Put('b' + account,
               RowBuilder().Add(balances[0]).Add(balances[1]).Add(balances[2]).Take());
    }
    return Status::Ok();
  }
};

}  // namespace

const Projection& StatementsProjection() {
  static const Statements kProjection;
  return kProjection;
}

Result<std::optional<StatementLine>> LastStatementLine(const ProjectionStore& store,
                                                       const std::string& account,
                                                       const LogRange& range) {
  auto last_seq = LastSeqIn(store.log(), range);
  if (!last_seq.ok()) return last_seq.status();
  std::string prefix = LinePrefix(account);
  std::string key = prefix + SeqKey(*last_seq);
  AppendU32(&key, UINT32_MAX);
  auto row = store.LastRow(kStatements, prefix, key);
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<StatementLine>();
  auto line = DecodeLine((*row)->first, (*row)->second);
  if (!line.ok()) return line.status();
  return std::optional<StatementLine>(*line);
}

}  // namespace internal

Result<std::vector<StatementLine>> ReadStatement(const ProjectionStore& store,
                                                 const std::string& account, const LogRange& range,
                                                 int64_t from_micros) {
  auto last_seq = LastSeqIn(store.log(), range);
  if (!last_seq.ok()) return last_seq.status();
  uint64_t first_seq = 1;
  if (from_micros > 0) {
    auto before = LastSeqIn(store.log(), LogRange{*last_seq, from_micros - 1});
    if (!before.ok()) return before.status();
    first_seq = *before + 1;
  }
  std::vector<StatementLine> lines;
  Status result;
  auto status = store.ScanRows(
      internal::kStatements, internal::LinePrefix(account),
      [&](std::string_view key, std::string_view value) {
        auto line = internal::DecodeLine(key, value);
        if (!line.ok()) {
          result = line.status();
          return false;
        }
        if (line->seq > *last_seq) return false;
        lines.push_back(std::move(line).value());
        return true;
      },
      internal::SeqKey(first_seq));
  if (!status.ok()) return status;
  if (!result.ok()) return result;
  return lines;
}

}  // namespace tally
