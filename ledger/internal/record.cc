#include "ledger/internal/record.h"

#include <sodium.h>

#include "ledger/internal/bytes.h"
#include "ledger/internal/keys.h"

namespace tally::internal {
namespace {

bool ReadPosting(ByteReader& in, Posting* posting) {
  posting->account = std::string(in.Take(in.Uint(2)));
  posting->asset = std::string(in.Take(in.Uint(1)));
  posting->amount = in.Amount();
  return in.ok() && posting->amount != 0;
}

}  // namespace

Hash ChainHash(const Hash& previous, uint64_t seq, int64_t recorded_at_micros,
               std::string_view event_bytes) {
  std::string header;
  AppendU64(&header, seq);
  AppendU64(&header, static_cast<uint64_t>(recorded_at_micros));
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kHashBytes);
  crypto_generichash_update(&state, previous.data(), previous.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(header.data()),
                            header.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(event_bytes.data()),
                            event_bytes.size());
  Hash hash;
  crypto_generichash_final(&state, hash.data(), hash.size());
  return hash;
}

std::string EncodeRecord(const LoggedEvent& record) {
  std::string_view event = record.event.bytes();
  TALLY_CHECK(event.size() <= UINT32_MAX && record.postings.size() <= UINT16_MAX);
  std::string out;
  out.reserve(kRecordHeaderBytes + event.size() + 2 + record.postings.size() * 64);
  out.push_back(static_cast<char>(kRecordVersion));
  AppendU64(&out, static_cast<uint64_t>(record.recorded_at_micros));
  out.append(reinterpret_cast<const char*>(record.hash.data()), record.hash.size());
  AppendU32(&out, static_cast<uint32_t>(event.size()));
  out.append(event);
  AppendU16(&out, static_cast<uint16_t>(record.postings.size()));
  for (const Posting& posting : record.postings) {
    TALLY_CHECK(posting.account.size() <= UINT16_MAX && posting.asset.size() <= UINT8_MAX);
    AppendU16(&out, static_cast<uint16_t>(posting.account.size()));
    out.append(posting.account);
    out.push_back(static_cast<char>(posting.asset.size()));
    out.append(posting.asset);
    AppendAmount(&out, posting.amount);
  }
  return out;
}

Result<LoggedEvent> DecodeRecord(uint64_t seq, std::string_view bytes) {
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("seq " + std::to_string(seq) + ": " + what);
  };
  ByteReader in(bytes);
  if (in.Uint(1) != kRecordVersion) return corrupt("unknown record version");
  int64_t recorded_at = static_cast<int64_t>(in.Uint(8));
  std::string_view hash_bytes = in.Take(kHashBytes);
  std::string_view event_bytes = in.Take(in.Uint(4));
  uint64_t posting_count = in.Uint(2);
  if (!in.ok()) return corrupt("record is truncated");
  auto event = Event::FromCanonical(event_bytes);
  if (!event.ok()) return corrupt(event.status().message());
  LoggedEvent record{seq, recorded_at, {}, *event, {}};
  std::copy(hash_bytes.begin(), hash_bytes.end(), record.hash.begin());
  record.postings.resize(posting_count);
  for (Posting& posting : record.postings) {
    if (!ReadPosting(in, &posting)) return corrupt("bad posting");
  }
  if (!in.done()) return corrupt("trailing bytes");
  return record;
}

}  // namespace tally::internal
