#include <catch2/catch.hpp>

#include <asio/ip/address.hpp>

#include "net/address_counts.hpp"
#include "net/handshake_admission.hpp"

using net::address_counts;

namespace {

address_counts::key key_for(const char* text) {
  return address_counts::key_of(asio::ip::make_address(text));
}

} // namespace

TEST_CASE("addresses count as IPs: IPv4-mapped IPv6 is IPv4", "[per-address]") {
  CHECK(key_for("127.0.0.2") == key_for("::ffff:127.0.0.2"));
  CHECK(key_for("192.0.2.1") == key_for("::ffff:c000:201"));
  CHECK(key_for("2001:db8::1") == key_for("2001:0db8:0:0::0001"));
  CHECK(key_for("fe80::1%1") == key_for("fe80::1%2")); // the zone is ignored
  CHECK(key_for("127.0.0.2") != key_for("127.0.0.3"));
  CHECK(key_for("::1") != key_for("127.0.0.1"));
  // Only ::ffff:0:0/96 is IPv4; the deprecated compatible form is not.
  CHECK(key_for("::127.0.0.2") != key_for("127.0.0.2"));
  auto named = [](const char* text) {
    return address_counts::normalized(asio::ip::make_address(text)).to_string();
  };
  CHECK(named("::ffff:127.0.0.2") == "127.0.0.2");
  CHECK(named("2001:db8::1") == "2001:db8::1");
  CHECK(named("192.0.2.1") == "192.0.2.1");
}

TEST_CASE("each address counts its own clients and forgets one that left",
          "[per-address]") {
  address_counts counts;
  auto a = key_for("127.0.0.2");
  auto a_mapped = key_for("::ffff:127.0.0.2");
  auto b = key_for("2001:db8::1");
  CHECK(counts.count(a) == 0);
  counts.add(a);
  counts.add(a_mapped);
  counts.add(b);
  CHECK(counts.count(a) == 2);
  CHECK(counts.count(b) == 1);
  CHECK(counts.addresses() == 2);
  counts.remove(a_mapped);
  CHECK(counts.count(a) == 1);
  counts.remove(a);
  counts.remove(b);
  CHECK(counts.count(a) == 0);
  CHECK(counts.addresses() == 0); // nothing kept for addresses gone
}

TEST_CASE("a limit of two: the third from one address is refused, a "
          "neighbour is not, and a leaver makes room",
          "[per-address][admission]") {
  // What the bridge does at each handshake and each end of a connection.
  net::handshake_admission admission{"", 0, 2};
  address_counts counts;
  net::upgrade_headers request{"websocket", "Upgrade",
                               "dGhlIHNhbXBsZSBub25jZQ==", "13", ""};
  auto connect = [&](const char* from) {
    auto k = key_for(from);
    if (auto refusal = admission.refusal(request, 0, counts.count(k), from))
      return refusal->status;
    counts.add(k);
    return 101;
  };
  CHECK(connect("127.0.0.2") == 101);
  CHECK(connect("::ffff:127.0.0.2") == 101);
  CHECK(connect("127.0.0.2") == 429);
  CHECK(connect("::ffff:127.0.0.2") == 429);
  CHECK(connect("127.0.0.3") == 101);
  counts.remove(key_for("127.0.0.2"));
  CHECK(connect("127.0.0.2") == 101);
  CHECK(connect("127.0.0.2") == 429);
}
