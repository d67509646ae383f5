#pragma once

// The cluster's options as main() reads them, checked before anything
// starts, and the BASP timings derived from them.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/timespan.hpp>

#include "actors/messages.hpp"
#include "cluster/peer_address.hpp"

namespace cluster {

/// What the command line and the config file say (CLUSTER.md).
struct cluster_options {
  chat::node_index node_index = 1;
  uint32_t cluster_slots = 1;
  /// Absent: a node of its own, no middleman. 0 picks a free port.
  std::optional<uint16_t> cluster_port;
  std::string cluster_host = "127.0.0.1";
  /// Comma-separated host:port list of running nodes to join.
  std::string peers;
  caf::timespan cluster_timeout = std::chrono::seconds{3};
  uint64_t max_peer_backlog_bytes = 16 * 1024 * 1024;
  /// PEM files for mutual TLS between nodes: this node's certificate
  /// (chain), its private key, and the CA both ends check the other's
  /// certificate against. All three or none.
  std::string cluster_cert;
  std::string cluster_key;
  std::string cluster_ca;
};

/// The options, checked.
struct cluster_plan {
  /// Empty when the options hold, else why not (one line for stderr, no
  /// "chat-node: " prefix).
  std::string error;
  bool clustered = false;
  /// Where the cluster port listens, normalized (see peer_address).
  std::string host;
  std::vector<peer_address> peers;
  /// Links use TLS (--cluster-cert, --cluster-key, --cluster-ca): the
  /// cluster port and the peers may be on any address.
  bool tls = false;
};

/// Below this, heartbeats would be a busy loop and every hiccup a loss.
constexpr caf::timespan min_cluster_timeout = std::chrono::milliseconds{100};

/// Checks `opts`: the node index within the slots, the TLS files all
/// three or none, a loopback cluster host and loopback peers unless links
/// use TLS, peers that parse, a usable timeout and backlog cap. Whether
/// the files hold what they should is cluster/tls_files' part.
cluster_plan check_cluster_options(const cluster_options& opts);

/// BASP sends a heartbeat every `heartbeat_interval` and, on its next tick,
/// drops a connection silent for longer than `connection_timeout`: a
/// frozen peer is dropped at most connection_timeout + heartbeat_interval
/// after it last spoke. Both are derived from --cluster-timeout alike on
/// every node, so that this sum is the cluster timeout and a healthy peer
/// may miss two heartbeats in a row.
caf::timespan heartbeat_interval(caf::timespan cluster_timeout);
caf::timespan connection_timeout(caf::timespan cluster_timeout);

} // namespace cluster
