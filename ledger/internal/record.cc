#include "ledger/internal/record.h"

#include <sodium.h>

#include "ledger/internal/keys.h"

namespace tally::internal {
namespace {

void AppendU16(std::string* out, uint16_t value) {
  out->push_back(static_cast<char>(value >> 8));
  out->push_back(static_cast<char>(value));
}

void AppendAmount(std::string* out, const Int128& amount) {
  Int128 magnitude = amount < 0 ? Int128(-amount) : amount;
  out->push_back(amount < 0 ? 1 : 0);
  AppendU64(out, static_cast<uint64_t>(magnitude >> 64));
  AppendU64(out, static_cast<uint64_t>(magnitude & Int128(UINT64_MAX)));
}

// Reads fixed-size fields from a record; any overrun marks it bad.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == bytes_.size(); }
  std::string_view Take(size_t n) {
    if (!ok_ || bytes_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    pos_ += n;
    return bytes_.substr(pos_ - n, n);
  }
  uint64_t Uint(size_t n) {
    uint64_t value = 0;
    for (char c : Take(n)) value = value << 8 | static_cast<uint8_t>(c);
    return value;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  bool ok_ = true;
};

bool ReadPosting(Reader& in, Posting* posting) {
  posting->account = std::string(in.Take(in.Uint(2)));
  posting->asset = std::string(in.Take(in.Uint(1)));
  uint64_t sign = in.Uint(1);
  Int128 magnitude = Int128(in.Uint(8)) << 64;
  magnitude |= Int128(in.Uint(8));
  posting->amount = sign == 1 ? Int128(-magnitude) : magnitude;
  return in.ok() && sign <= 1 && posting->amount != 0;
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
  Reader in(bytes);
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
