#include "service/metrics.h"

#include <cstdio>

namespace tally::service {
namespace {

// Upper bounds (seconds) of the latency buckets: an fsync here costs
// 0.1-0.2 ms; a request over 5 s is a failure whatever it was.
const std::vector<double> kSecondsBounds = {0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                            0.05,   0.1,    0.2,   0.5,   1,     2,    5};
// Sizes: powers of two up to the largest group commit (limits.h).
const std::vector<double> kCountBounds = {1,   2,    4,    8,    16,   32,    64,    128,  256,
                                          512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};

// A label value as the text format wants it: \, " and newline escaped.
std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Rendered(const Labels& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    out += (out.empty() ? "" : ",") + name + "=\"" + Escape(value) + "\"";
  }
  return out;
}

std::string Number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

std::string Series(const std::string& name, const std::string& labels, const std::string& extra) {
  std::string all = labels.empty() ? extra : (extra.empty() ? labels : labels + "," + extra);
  return all.empty() ? name : name + "{" + all + "}";
}

}  // namespace

Metrics::Family& Metrics::FamilyOf(const std::string& name, const std::string& help,
                                   const char* type) {
  Family& family = families_[name];
  if (family.type.empty()) {
    family.help = help;
    family.type = type;
  }
  return family;
}

void Metrics::Count(const std::string& name, const std::string& help, const Labels& labels,
                    uint64_t by) {
  std::lock_guard lock(mutex_);
  FamilyOf(name, help, "counter").values[Rendered(labels)] += static_cast<double>(by);
}

void Metrics::Set(const std::string& name, const std::string& help, const Labels& labels,
                  double value) {
  std::lock_guard lock(mutex_);
  FamilyOf(name, help, "gauge").values[Rendered(labels)] = value;
}

void Metrics::Observe(const std::string& name, const std::string& help, const Labels& labels,
                      double value, Buckets buckets) {
  std::lock_guard lock(mutex_);
  Histogram& histogram = FamilyOf(name, help, "histogram").histograms[Rendered(labels)];
  if (histogram.bounds == nullptr) {
    histogram.bounds = buckets == Buckets::kSeconds ? &kSecondsBounds : &kCountBounds;
    histogram.buckets.assign(histogram.bounds->size(), 0);
  }
  const std::vector<double>& bounds = *histogram.bounds;
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (value <= bounds[i]) ++histogram.buckets[i];
  }
  ++histogram.count;
  histogram.sum += value;
}

std::string Metrics::Render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + family.help + "\n# TYPE " + name + " " + family.type + "\n";
    for (const auto& [labels, value] : family.values) {
      out += Series(name, labels, "") + " " + Number(value) + "\n";
    }
    for (const auto& [labels, histogram] : family.histograms) {
      for (size_t i = 0; i < histogram.bounds->size(); ++i) {
        out += Series(name + "_bucket", labels, "le=\"" + Number((*histogram.bounds)[i]) + "\"") +
               " " + std::to_string(histogram.buckets[i]) + "\n";
      }
      out += Series(name + "_bucket", labels, "le=\"+Inf\"") + " " +
             std::to_string(histogram.count) + "\n";
      out += Series(name + "_sum", labels, "") + " " + Number(histogram.sum) + "\n";
      out += Series(name + "_count", labels, "") + " " + std::to_string(histogram.count) + "\n";
    }
  }
  return out;
}

}  // namespace tally::service
