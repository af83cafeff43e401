// A report: named columns and rows of exact strings, rendered as a
// human-readable table (default), JSON or CSV. Every command prints through it
// so that column names and formats stay consistent.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "reports/json.h"

namespace tally {

enum class OutputFormat { kTable, kJson, kCsv };

struct Column {
  enum class Kind {
    kText,     // left-aligned; JSON string
    kAmount,   // exact decimal, right-aligned; JSON string (never a float)
    kInteger,  // right-aligned; JSON number
  };
  std::string name;  // snake_case; the JSON key and CSV header
  Kind kind = Kind::kText;
};

struct Report {
  std::vector<Column> columns;
  std::vector<std::vector<std::string>> rows;  // each row has columns.size() cells
};

// Writes `report` to `out`. JSON is an array of objects, one per row, on one line.
void Render(const Report& report, OutputFormat format, std::ostream& out);

// The rows as a JSON array of objects: amounts and text as strings,
// integer columns as numbers (an empty integer cell is "").
Json ReportJson(const Report& report);

// Quotes `text` as a JSON string (with escapes).
std::string JsonQuote(const std::string& text);

}  // namespace tally
