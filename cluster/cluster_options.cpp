#include "cluster/cluster_options.hpp"

namespace cluster {

namespace {

const char* const no_tls
  = "is not a loopback address: links between nodes are not encrypted "
    "without TLS (--cluster-cert, --cluster-key and --cluster-ca), so they "
    "stay on 127.0.0.0/8 or ::1";

} // namespace

cluster_plan check_cluster_options(const cluster_options& opts) {
  cluster_plan plan;
  auto refuse = [&](std::string why) {
    plan.error = std::move(why);
    return plan;
  };
  if (opts.cluster_slots == 0)
    return refuse("--cluster-slots must be at least 1");
  if (opts.node_index < 1 || opts.node_index > opts.cluster_slots)
    return refuse("--node-index=" + std::to_string(opts.node_index)
                  + " is outside 1.." + std::to_string(opts.cluster_slots)
                  + " (--cluster-slots)");
  auto peers = parse_peer_list(opts.peers);
  if (!peers.error.empty())
    return refuse("--peers: " + peers.error);
  if (!opts.cluster_port) {
    if (!peers.addresses.empty())
      return refuse("--peers needs --cluster-port: a node joins a cluster "
                    "through its own cluster port");
    return plan;
  }
  plan.clustered = true;
  auto tls_files = !opts.cluster_cert.empty() + !opts.cluster_key.empty()
                   + !opts.cluster_ca.empty();
  if (tls_files != 0 && tls_files != 3)
    return refuse("--cluster-cert, --cluster-key and --cluster-ca go "
                  "together: TLS between nodes needs all three");
  plan.tls = tls_files == 3;
  plan.host = normalize_host(opts.cluster_host);
  // Our address is what we tell the other nodes to reach us on.
  if (plan.tls && (plan.host == "0.0.0.0" || plan.host == "::"))
    return refuse("--cluster-host=" + opts.cluster_host
                  + " is no address other nodes can reach this one on: "
                    "name this host's own address (the nodes tell each "
                    "other where they are)");
  if (!plan.tls && !is_loopback_host(plan.host))
    return refuse("--cluster-host=" + opts.cluster_host + ' ' + no_tls);
  for (auto& peer : peers.addresses)
    if (!plan.tls && !is_loopback_host(peer.host))
      return refuse("--peers: " + to_string(peer) + ' ' + no_tls);
  if (opts.cluster_timeout < min_cluster_timeout)
    return refuse("--cluster-timeout must be at least 100ms");
  if (opts.max_peer_backlog_bytes == 0)
    return refuse("--max-peer-backlog-bytes must be at least 1");
  plan.peers = std::move(peers.addresses);
  return plan;
}

caf::timespan heartbeat_interval(caf::timespan cluster_timeout) {
  return cluster_timeout / 4;
}

caf::timespan connection_timeout(caf::timespan cluster_timeout) {
  return cluster_timeout - heartbeat_interval(cluster_timeout);
}

} // namespace cluster
