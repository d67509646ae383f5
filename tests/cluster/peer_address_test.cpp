#include <catch2/catch.hpp>

#include "cluster/peer_address.hpp"

using cluster::parse_peer_address;
using cluster::parse_peer_list;
using cluster::peer_address;

TEST_CASE("a cluster address is host:port or [v6]:port", "[cluster-address]") {
  CHECK(parse_peer_address("127.0.0.1:9765")
        == peer_address{"127.0.0.1", 9765});
  CHECK(parse_peer_address(" 127.0.0.2:1 ") == peer_address{"127.0.0.2", 1});
  CHECK(parse_peer_address("[::1]:9765") == peer_address{"::1", 9765});
  CHECK(parse_peer_address("node7.example:65535")
        == peer_address{"node7.example", 65535});
  // One spelling per node: localhost is what the node binds.
  CHECK(parse_peer_address("LocalHost:9765")
        == peer_address{"127.0.0.1", 9765});
  for (auto bad : {"", "127.0.0.1", "127.0.0.1:", ":9765", "127.0.0.1:0",
                   "127.0.0.1:65536", "127.0.0.1:97x5", "127.0.0.1:+9765",
                   "127.0.0.1:-1", "::1:9765", "[::1]9765", "[::1]:",
                   "[127.0.0.1]:9765", "[::1:9765", "a b:9765", "[]:9765",
                   "127.0.0.1:9765:1"}) {
    INFO(bad);
    CHECK(!parse_peer_address(bad));
  }
}

TEST_CASE("an address prints the way it parses", "[cluster-address]") {
  for (auto text : {"127.0.0.1:9765", "[::1]:80", "node7.example:1"}) {
    auto parsed = parse_peer_address(text);
    REQUIRE(parsed);
    CHECK(to_string(*parsed) == text);
  }
  CHECK(to_string(peer_address{"::1", 9765}) == "[::1]:9765");
}

TEST_CASE("the peers option is a comma-separated list", "[cluster-address]") {
  CHECK(parse_peer_list("").addresses.empty());
  CHECK(parse_peer_list("  ").error.empty());
  auto list = parse_peer_list("127.0.0.1:9765, [::1]:9766 ,localhost:9765");
  CHECK(list.error.empty());
  // localhost:9765 is 127.0.0.1:9765 again.
  CHECK(list.addresses
        == std::vector<peer_address>{{"127.0.0.1", 9765}, {"::1", 9766}});
  CHECK(parse_peer_list("127.0.0.1:9765,").error == "an empty entry");
  CHECK(parse_peer_list(",127.0.0.1:9765").error == "an empty entry");
  auto bad = parse_peer_list("127.0.0.1:9765,127.0.0.1");
  CHECK(bad.error == "'127.0.0.1' is not host:port or [v6]:port");
  CHECK(bad.addresses.empty());
}

TEST_CASE("loopback hosts are 127/8, ::1 and localhost", "[cluster-address]") {
  for (auto host : {"127.0.0.1", "127.255.0.9", "localhost", "LOCALHOST",
                    "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"})
    CHECK(cluster::is_loopback_host(host));
  for (auto host : {"0.0.0.0", "10.0.0.1", "128.0.0.1", "::", "::2",
                    "::ffff:10.0.0.1", "example.com", "localhost.evil", "",
                    "127.0.0.1.nip.io"})
    CHECK(!cluster::is_loopback_host(host));
}
