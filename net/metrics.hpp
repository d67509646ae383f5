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
  /// Labels of this sample, e.g. `node="2"`; empty for none. Samples of
  /// one name (one after the other) share their HELP and TYPE lines.
  std::string labels = {};
};

/// Every figure of the node: the bridge's and the lobby's. Both objects
/// must outlive the result.
std::vector<metric> node_metrics(const bridge_stats& bridge,
                                 const chat::chat_stats& chat);

/// The cluster's figures, for a clustered node only (an unclustered node's
/// /metrics stays as it was): peers linked, losses, traffic, and one
/// backlog gauge per other slot (`chat_peer_backlog_bytes{node="K"}`, K
/// from 1 to the slots `chat` was made for, but `self`). `chat` must
/// outlive the result.
std::vector<metric> cluster_metrics(const chat::chat_stats& chat,
                                    uint32_t self);

/// Renders `metrics` in Prometheus' text exposition format 0.0.4.
std::string prometheus_text(const std::vector<metric>& metrics);

} // namespace net
