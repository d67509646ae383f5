#include <catch2/catch.hpp>

#include "cluster/cluster_options.hpp"

using namespace std::chrono_literals;
using cluster::check_cluster_options;
using cluster::cluster_options;

namespace cluster_test {

cluster_options clustered(std::string peers = "") {
  cluster_options opts;
  opts.node_index = 2;
  opts.cluster_slots = 3;
  opts.cluster_port = 9766;
  opts.peers = std::move(peers);
  return opts;
}

} // namespace cluster_test

TEST_CASE("no --cluster-port: a node of its own", "[cluster-options]") {
  auto plan = check_cluster_options({});
  CHECK(plan.error.empty());
  CHECK(!plan.clustered);
  // Numbering in a slot of its own still needs a valid slot.
  cluster_options slot_only;
  slot_only.node_index = 2;
  slot_only.cluster_slots = 3;
  CHECK(check_cluster_options(slot_only).error.empty());
  cluster_options peers_only;
  peers_only.peers = "127.0.0.1:9765";
  CHECK(check_cluster_options(peers_only).error
        == "--peers needs --cluster-port: a node joins a cluster through "
           "its own cluster port");
}

TEST_CASE("a clustered node's options", "[cluster-options]") {
  auto plan = check_cluster_options(
    cluster_test::clustered("127.0.0.1:9765,[::1]:9767"));
  CHECK(plan.error.empty());
  CHECK(plan.clustered);
  CHECK(plan.host == "127.0.0.1");
  CHECK(plan.peers.size() == 2);
  auto opts = cluster_test::clustered();
  opts.cluster_host = "localhost";
  CHECK(check_cluster_options(opts).host == "127.0.0.1");
  opts.cluster_host = "[::1]";
  CHECK(check_cluster_options(opts).host == "::1");
  // Port 0 picks a free port.
  opts.cluster_port = 0;
  CHECK(check_cluster_options(opts).clustered);
}

TEST_CASE("the node index lies within the slots", "[cluster-options]") {
  auto opts = cluster_test::clustered();
  opts.node_index = 4;
  CHECK(check_cluster_options(opts).error
        == "--node-index=4 is outside 1..3 (--cluster-slots)");
  opts.node_index = 0;
  CHECK(check_cluster_options(opts).error
        == "--node-index=0 is outside 1..3 (--cluster-slots)");
  opts.cluster_slots = 0;
  CHECK(check_cluster_options(opts).error
        == "--cluster-slots must be at least 1");
}

TEST_CASE("links stay on loopback without TLS", "[cluster-options]") {
  auto opts = cluster_test::clustered();
  for (auto host : {"0.0.0.0", "10.1.2.3", "::", "example.com"}) {
    opts.cluster_host = host;
    auto error = check_cluster_options(opts).error;
    INFO(error);
    CHECK(error.rfind(std::string{"--cluster-host="} + host, 0) == 0);
    CHECK(error.find("not encrypted without TLS (--cluster-cert, "
                     "--cluster-key and --cluster-ca)")
          != std::string::npos);
  }
  auto remote = cluster_test::clustered("127.0.0.1:9765,10.0.0.7:9765");
  auto error = check_cluster_options(remote).error;
  CHECK(error.rfind("--peers: 10.0.0.7:9765 is not a loopback address", 0)
        == 0);
}

TEST_CASE("with TLS a cluster port and peers may be on any address",
          "[cluster-options]") {
  auto opts = cluster_test::clustered("10.0.0.7:9765,example.com:9765");
  opts.cluster_host = "10.0.0.9";
  opts.cluster_cert = "node.pem";
  opts.cluster_key = "node.key";
  opts.cluster_ca = "ca.pem";
  auto plan = check_cluster_options(opts);
  CHECK(plan.error.empty());
  CHECK(plan.tls);
  CHECK(plan.host == "10.0.0.9");
  CHECK(plan.peers.size() == 2);
  // The other nodes are told our address: it must be one they can reach.
  opts.cluster_host = "0.0.0.0";
  CHECK(check_cluster_options(opts).error.rfind(
          "--cluster-host=0.0.0.0 is no address other nodes can reach", 0)
        == 0);
  opts.cluster_host = "10.0.0.9";
  // Two of three is a mistake, not plain links.
  opts.cluster_ca.clear();
  CHECK(check_cluster_options(opts).error
        == "--cluster-cert, --cluster-key and --cluster-ca go together: TLS "
           "between nodes needs all three");
  opts.cluster_host = "127.0.0.1";
  opts.peers.clear();
  CHECK(!check_cluster_options(opts).error.empty());
  CHECK(!check_cluster_options(cluster_test::clustered()).tls);
}

TEST_CASE("unparsable peers, timeouts and caps are refused",
          "[cluster-options]") {
  CHECK(check_cluster_options(cluster_test::clustered("127.0.0.1")).error
        == "--peers: '127.0.0.1' is not host:port or [v6]:port");
  auto opts = cluster_test::clustered();
  opts.cluster_timeout = 99ms;
  CHECK(check_cluster_options(opts).error
        == "--cluster-timeout must be at least 100ms");
  opts.cluster_timeout = 3s;
  opts.max_peer_backlog_bytes = 0;
  CHECK(check_cluster_options(opts).error
        == "--max-peer-backlog-bytes must be at least 1");
}

TEST_CASE("BASP's heartbeat and timeout add up to the cluster timeout",
          "[cluster-options]") {
  CHECK(cluster::heartbeat_interval(3s) == 750ms);
  CHECK(cluster::connection_timeout(3s) == 2250ms);
  for (auto t : {caf::timespan{100ms}, caf::timespan{3s},
                 caf::timespan{1001ms}}) {
    auto beat = cluster::heartbeat_interval(t);
    auto timeout = cluster::connection_timeout(t);
    CHECK(beat + timeout == t);
    // A healthy peer may miss two heartbeats in a row.
    CHECK(timeout >= 3 * beat);
  }
}
