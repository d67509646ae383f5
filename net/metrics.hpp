#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/chat_stats.hpp"
#include "net/bridge_stats.hpp"

namespace net {

/// One figure on /metrics, read from an atomic that someone else owns.
struct metric {
  /// Follows Prometheus naming: `chat_` prefix, `_total` on counters.
  std::string name;
  /// "counter" or "gauge".
  std::string type;
  /// One line for `# HELP`.
  std::string help;
  const std::atomic<uint64_t>* value;
};

/// Every figure of the node: the bridge's and the lobby's. Both objects
/// must outlive the result.
std::vector<metric> node_metrics(const bridge_stats& bridge,
                                 const chat::chat_stats& chat);

/// Renders `metrics` in Prometheus' text exposition format 0.0.4.
std::string prometheus_text(const std::vector<metric>& metrics);

} // namespace net
