#include "reports/report.h"

#include <algorithm>
#include <charconv>

#include "events/check.h"

namespace tally {
namespace {

void RenderTable(const Report& report, std::ostream& out) {
  std::vector<size_t> widths;
  for (const Column& column : report.columns) widths.push_back(column.name.size());
  for (const auto& row : report.rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      std::string pad(widths[i] - cells[i].size(), ' ');
      bool right = report.columns[i].kind != Column::Kind::kText;
      line += (i ? "  " : "") + (right ? pad + cells[i] : cells[i] + pad);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  };
  std::vector<std::string> header;
  std::vector<std::string> rule;
  for (size_t i = 0; i < report.columns.size(); ++i) {
    header.push_back(report.columns[i].name);
    rule.push_back(std::string(widths[i], '-'));
  }
  print_row(header);
  print_row(rule);
  for (const auto& row : report.rows) print_row(row);
}

std::string CsvQuote(const std::string& cell) {
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void RenderCsv(const Report& report, std::ostream& out) {
  for (size_t i = 0; i < report.columns.size(); ++i) {
    out << (i ? "," : "") << CsvQuote(report.columns[i].name);
  }
  out << "\r\n";  // RFC 4180
  for (const auto& row : report.rows) {
    for (size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << CsvQuote(row[i]);
    out << "\r\n";
  }
}

void RenderJson(const Report& report, std::ostream& out) {
  out << Encode(ReportJson(report)) << '\n';
}

}  // namespace

Json ReportJson(const Report& report) {
  Json rows = Json::Array();
  for (const auto& row : report.rows) {
    Json object = Json::Object();
    for (size_t i = 0; i < report.columns.size(); ++i) {
      const std::string& cell = row[i];
      if (report.columns[i].kind == Column::Kind::kInteger && !cell.empty()) {
        int64_t number = 0;
        auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), number);
        TALLY_CHECK(error == std::errc() && end == cell.data() + cell.size());
        object.Add(report.columns[i].name, Json::Integer(number));
      } else {
        object.Add(report.columns[i].name, Json::String(cell));
      }
    }
    rows.Push(std::move(object));
  }
  return rows;
}

std::string JsonQuote(const std::string& text) { return Encode(Json::String(text)); }

void Render(const Report& report, OutputFormat format, std::ostream& out) {
  for (const auto& row : report.rows) TALLY_CHECK(row.size() == report.columns.size());
  switch (format) {
    case OutputFormat::kTable: RenderTable(report, out); break;
    case OutputFormat::kJson: RenderJson(report, out); break;
    case OutputFormat::kCsv: RenderCsv(report, out); break;
  }
}

}  // namespace tally
