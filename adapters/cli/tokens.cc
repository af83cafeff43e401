// tally token create|list|revoke: the API tokens of a data directory
// (service/tokens.h, docs/api.md).
#include "service/tokens.h"

#include <filesystem>

#include "adapters/cli/commands.h"
#include "adapters/cli/exit_codes.h"
#include "adapters/cli/support.h"
#include "events/timestamp.h"
#include "ledger/clock.h"

namespace tally::cli {
namespace {

using service::TokenInfo;

Report TokensTable(const std::vector<TokenInfo>& tokens) {
  Report report{{{"id"}, {"name"}, {"role"}, {"created_at"}, {"revoked_at"}}, {}};
  for (const TokenInfo& token : tokens) {
    report.rows.push_back(
        {token.id, token.name, service::RoleName(token.role),
         FormatTimestamp(token.created_at_micros),
         token.revoked_at_micros == 0 ? "" : FormatTimestamp(token.revoked_at_micros)});
  }
  return report;
}

}  // namespace

int RunTokenCreate(const std::string& data_dir, const std::string& role_name,
                   const std::string& name, OutputFormat format, Io io) {
  auto role = service::RoleNamed(role_name);
  if (!role) {
    return Fail(Status::InvalidArgument("--role: publisher, finance, auditor or operator"), io);
  }
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) return Fail(Status::IoError("cannot create " + data_dir + ": " + error.message()), io);
  SystemClock clock;
  service::TokenStore tokens(data_dir, &clock);
  auto made = tokens.Create(name, *role);
  if (!made.ok()) return Fail(made.status(), io);
  if (format == OutputFormat::kTable) {
    io.out << made->text << '\n';
    io.err << "token " << made->info.id << " (" << name << ", " << role_name
           << "): shown once; only its hash is kept in " << data_dir << "/tokens.json\n";
    return kExitOk;
  }
  Report report = TokensTable({made->info});
  report.columns.push_back({"token"});
  report.rows.front().push_back(made->text);
  Render(report, format, io.out);
  return kExitOk;
}

int RunTokenList(const std::string& data_dir, OutputFormat format, Io io) {
  SystemClock clock;
  auto tokens = service::TokenStore(data_dir, &clock).List();
  if (!tokens.ok()) return Fail(tokens.status(), io);
  Render(TokensTable(*tokens), format, io.out);
  return kExitOk;
}

int RunTokenRevoke(const std::string& data_dir, const std::string& id, Io io) {
  SystemClock clock;
  service::TokenStore tokens(data_dir, &clock);
  if (auto revoked = tokens.Revoke(id); !revoked.ok()) return Fail(revoked, io);
  io.err << "token " << id << " revoked; a running service refuses it from its next request\n";
  return kExitOk;
}

}  // namespace tally::cli
