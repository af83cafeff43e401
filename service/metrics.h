// The service's metrics in the Prometheus text format (GET /metrics):
// counters and latency histograms with a few labels of bounded
// cardinality (route templates, event types, outcomes, reason classes;
// never an account, an id or a personal value). Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tally::service {

// Label pairs in order, e.g. {{"route", "/v1/holds"}, {"status", "200"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

// The buckets of a histogram: latencies in seconds, or sizes (counts).
enum class Buckets { kSeconds, kCount };

class Metrics {
 public:
  // Adds `by` to the counter `name` with `labels`; `help` describes it.
  void Count(const std::string& name, const std::string& help, const Labels& labels,
             uint64_t by = 1);
  // Records one observation in the histogram `name`: seconds, or (kCount)
  // a size such as the events of a group commit.
  void Observe(const std::string& name, const std::string& help, const Labels& labels, double value,
               Buckets buckets = Buckets::kSeconds);
  // Sets the gauge `name` (values read at scrape time).
  void Set(const std::string& name, const std::string& help, const Labels& labels, double value);

  // Everything, in the Prometheus text exposition format 0.0.4.
  std::string Render() const;

 private:
  struct Histogram {
    const std::vector<double>* bounds = nullptr;
    std::vector<uint64_t> buckets;  // cumulative counts per upper bound
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    std::string help;
    std::string type;                             // counter, histogram, gauge
    std::map<std::string, double> values;         // by rendered labels
    std::map<std::string, Histogram> histograms;  // by rendered labels
  };
  Family& FamilyOf(const std::string& name, const std::string& help, const char* type);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

}  // namespace tally::service
