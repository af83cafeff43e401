// The accesses projection: every read of personal fields in plaintext
// (personal_data_accessed), for auditors. Records never change, so rows are
// written once.
//   row key: 's' seq:u64be                  value: the AccessRow fields
#include "events/big_endian.h"
#include "projections/internal/all.h"
#include "projections/internal/row_codec.h"
#include "projections/reports.h"
#include "projections/store.h"

namespace tally {
namespace internal {
namespace {

const char* PurposeName(schema::ErasurePurpose purpose) {
  switch (purpose) {
    case schema::ErasurePurpose::PROFILE: return "profile";
    case schema::ErasurePurpose::BILLING: return "billing";
    case schema::ErasurePurpose::ALL: return "all";
    default: return "unspecified";
  }
}

std::string EncodeAccess(const AccessRow& row) {
  return RowBuilder()
      .Add(row.subject)
      .Add(row.recorded_at_micros)
      .Add(row.accessed_by)
      .Add(row.purpose)
      .Add(row.via)
      .Take();
}

Result<AccessRow> DecodeAccess(uint64_t seq, std::string_view value) {
  RowReader reader(value, "accesses seq " + std::to_string(seq));
  AccessRow row;
  row.seq = seq;
  row.subject = reader.Text();
  row.recorded_at_micros = reader.I64();
  row.accessed_by = reader.Text();
  row.purpose = reader.Text();
  row.via = reader.Text();
  if (auto status = reader.Finish(); !status.ok()) return status;
  return row;
}

class Accesses final : public Projection {
 public:
  std::string_view name() const override { return kAccesses; }
  bool keeps_snapshots() const override { return false; }
  bool Consumes(const LoggedEvent& event) const override {
    return event.event.reader().which() == schema::Event::PERSONAL_DATA_ACCESSED;
  }
  Status Apply(const LoggedEvent& logged, Rows& rows) const override {
    auto e = logged.event.reader();
    auto d = e.getPersonalDataAccessed();
    AccessRow row;
    row.seq = logged.seq;
    row.subject = TextOf(e.getAccount());
    row.recorded_at_micros = logged.recorded_at_micros;
    row.accessed_by = TextOf(d.getAccessedBy());
    row.purpose = PurposeName(d.getPurpose());
    row.via = TextOf(d.getVia());
    rows.Put('s' + SeqKey(logged.seq), EncodeAccess(row));
    return Status::Ok();
  }
};

}  // namespace

const Projection& AccessesProjection() {
  static const Accesses kProjection;
  return kProjection;
}

}  // namespace internal

Result<std::vector<AccessRow>> ReadAccesses(const ProjectionStore& store,
                                            const std::string& subject, const LogRange& range) {
  std::vector<AccessRow> rows;
  Status result;
  auto status =
      store.ScanRows(internal::kAccesses, "s", [&](std::string_view key, std::string_view value) {
        auto row = internal::DecodeAccess(ReadU64(key.substr(1)), value);
        if (!row.ok()) {
          result = row.status();
          return false;
        }
        if (row->seq > range.at_seq || row->recorded_at_micros > range.as_of_micros) return false;
        if (subject.empty() || row->subject == subject) rows.push_back(std::move(row).value());
        return true;
      });
  if (!status.ok()) return status;
  if (!result.ok()) return result;
  return rows;
}

}  // namespace tally
