#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cluster/basp_filter.hpp"

namespace cluster_test {

// A BASP 0.17 header: type, flags, payload size, operation data, source
// and destination actor, big-endian.
std::string basp_header(unsigned char type, uint32_t payload,
                        uint64_t operation_data = 0, uint64_t source = 0,
                        uint64_t dest = 0) {
  std::string h(32, '\0');
  h[0] = static_cast<char>(type);
  auto put = [&](size_t at, uint64_t value, size_t size) {
    for (size_t i = 0; i < size; ++i)
      h[at + i] = static_cast<char>(value >> (8 * (size - 1 - i)));
  };
  put(4, payload, 4);
  put(8, operation_data, 8);
  put(16, source, 8);
  put(24, dest, 8);
  return h;
}

std::string handshake() {
  return basp_header(1, 5) + "hello";
}

struct fed {
  bool ok;
  std::string passed;
};

fed feed(cluster::basp_filter& filter, const std::string& bytes) {
  std::vector<char> out;
  auto ok = filter.feed(bytes.data(), bytes.size(), out);
  return {ok, std::string{out.begin(), out.end()}};
}

} // namespace cluster_test

TEST_CASE("BASP from a node passes whole, header by header", "[basp-filter]") {
  using namespace cluster_test;
  cluster::basp_filter filter;
  auto stream = handshake() + basp_header(6, 0)
                + basp_header(2, 3, 0, 7, 9) + "abc"
                + basp_header(5, 2, 0, 7, 0) + "xy"
                + basp_header(4, 1) + "m"
                + basp_header(3, 4, 0, 0, 9) + "wxyz";
  auto all = feed(filter, stream);
  CHECK(all.ok);
  CHECK(all.passed == stream);
  CHECK(filter.handshake_passed());
  CHECK(filter.refusal().empty());
}

TEST_CASE("a header passes only once it is whole, payload as it comes",
          "[basp-filter]") {
  using namespace cluster_test;
  cluster::basp_filter filter;
  auto stream = handshake() + basp_header(2, 6, 0, 1, 2) + "abcdef";
  std::string passed;
  for (char c : stream) {
    auto step = feed(filter, std::string(1, c));
    REQUIRE(step.ok);
    passed += step.passed;
    // Never a part of a header on its own.
    if (passed.size() < 32)
      CHECK(passed.empty());
  }
  CHECK(passed == stream);
  cluster::basp_filter split;
  CHECK(feed(split, handshake().substr(0, 31)).passed.empty());
  CHECK(!split.handshake_passed());
  CHECK(feed(split, handshake().substr(31)).passed == handshake().substr(0, 32)
                                                        + "hello");
  CHECK(split.handshake_passed());
}

TEST_CASE("what is not BASP from a node is refused at once, and named",
          "[basp-filter]") {
  using namespace cluster_test;
  auto refusal = [](const std::string& bytes) {
    cluster::basp_filter filter;
    auto result = feed(filter, bytes);
    CHECK(!result.ok);
    CHECK(result.passed.empty());
    return filter.refusal();
  };
  CHECK(refusal("GET / HTTP/1.1\r\n\r\n") == "an HTTP request");
  CHECK(refusal("POST /x HTTP/1.1\r\n") == "an HTTP request");
  CHECK(refusal(std::string{"\x16\x03\x01\x02\x00", 5})
        == "a TLS handshake (links between nodes are not encrypted)");
  CHECK(refusal(std::string{"\xff\x00\x10garbage", 10})
        == "not BASP (first bytes ff 00 10 67 61 72 62 61)");
  CHECK(refusal("G") == "not BASP (first bytes 47)");
  // A node's first message is its client handshake.
  CHECK(refusal(basp_header(2, 3, 0, 1, 2) + "abc")
        == "not BASP (first bytes 02 00 00 00 00 00 00 03)");
  CHECK(refusal(basp_header(0, 3, 1)).rfind("not BASP", 0) == 0);
  CHECK(refusal(basp_header(1, 5, 0, 1, 0) + "hello")
        == "an invalid BASP header (type 1)");
  CHECK(refusal(basp_header(1, 4294967295u))
        == "a BASP header announcing 4294967295 bytes (at most 16777216 pass)");
}

TEST_CASE("after the handshake, invalid or oversized headers are refused "
          "and nothing passes after",
          "[basp-filter]") {
  using namespace cluster_test;
  struct bad {
    std::string header;
    std::string why;
  };
  for (auto& [header, why] : std::vector<bad>{
         {basp_header(2, 0, 0, 1, 2), "an invalid BASP header (type 2)"},
         {basp_header(2, 3, 0, 1, 0), "an invalid BASP header (type 2)"},
         {basp_header(6, 1), "an invalid BASP header (type 6)"},
         {basp_header(5, 2, 0, 0, 0), "an invalid BASP header (type 5)"},
         {basp_header(4, 2, 1), "an invalid BASP header (type 4)"},
         {basp_header(0, 2, 1), "an invalid BASP header (type 0)"},
         {basp_header(7, 0), "an invalid BASP header (type 7)"},
         {basp_header(2, 1000, 0, 1, 2),
          "a BASP header announcing 1000 bytes (at most 999 pass)"},
       }) {
    INFO(why);
    cluster::basp_filter filter{999};
    auto first = feed(filter, handshake() + header + "more");
    CHECK(!first.ok);
    CHECK(first.passed == handshake());
    CHECK(filter.refusal() == why);
    auto after = feed(filter, basp_header(6, 0));
    CHECK(!after.ok);
    CHECK(after.passed.empty());
  }
}

namespace cluster_test {

// What CAF 0.17.6's BASP sends a connecting program: its server handshake
// (payload: our node id first, then app identifiers, ...), then, to a node
// new to it, a direct message at once.
std::string server_handshake(const std::string& node) {
  return basp_header(0, static_cast<uint32_t>(node.size() + 4)) + node
         + "apps";
}

struct closing {
  cluster::basp_filter in;
  cluster::basp_watch out;
  void from_client(const std::string& bytes) {
    REQUIRE(feed(in, bytes).ok);
  }
  void from_basp(const std::string& bytes) {
    out.feed(bytes.data(), bytes.size());
  }
};

} // namespace cluster_test

TEST_CASE("a CAF program that closes after our server handshake, new to "
          "BASP, had another application identifier",
          "[basp-filter]") {
  using namespace cluster_test;
  closing c;
  c.from_client(basp_header(1, 5) + "their");
  CHECK_FALSE(cluster::foreign_app_closed(c.in, c.out));
  auto ours = server_handshake("ours!");
  // A byte at a time: the watch follows whole headers only.
  for (char byte : ours)
    c.from_basp(std::string(1, byte));
  CHECK(c.out.server_handshake_sent());
  CHECK(c.out.messages() == 1);
  // Redundant so far: BASP sent it nothing else.
  CHECK_FALSE(cluster::foreign_app_closed(c.in, c.out));
  c.from_basp(basp_header(2, 3, 0, 7, 9) + "abc");
  CHECK(c.out.messages() == 2);
  CHECK(cluster::foreign_app_closed(c.in, c.out));
}

TEST_CASE("a node of ours, a redundant connection or our own node closing "
          "after the server handshake is no foreign program",
          "[basp-filter]") {
  using namespace cluster_test;
  auto spawn_serv = basp_header(2, 3, 0, 7, 9) + "abc";
  SECTION("a node repeats its handshake before it closes") {
    closing c;
    c.from_client(basp_header(1, 5) + "their");
    c.from_basp(server_handshake("ours!") + spawn_serv);
    c.from_client(basp_header(1, 5) + "their");
    CHECK(c.in.messages() == 2);
    CHECK_FALSE(cluster::foreign_app_closed(c.in, c.out));
  }
  SECTION("closed half through its next header") {
    closing c;
    c.from_client(basp_header(1, 5) + "their" + std::string(3, '\1'));
    c.from_basp(server_handshake("ours!") + spawn_serv);
    CHECK_FALSE(cluster::foreign_app_closed(c.in, c.out));
  }
  SECTION("our own node: its node id leads our handshake") {
    closing c;
    c.from_client(basp_header(1, 5) + "ours!");
    c.from_basp(server_handshake("ours!") + spawn_serv);
    CHECK_FALSE(cluster::foreign_app_closed(c.in, c.out));
  }
  SECTION("BASP sent something other than a server handshake first") {
    closing c;
    c.from_client(basp_header(1, 5) + "their");
    c.from_basp(spawn_serv + spawn_serv);
    CHECK_FALSE(c.out.server_handshake_sent());
    CHECK_FALSE(cluster::foreign_app_closed(c.in, c.out));
  }
  SECTION("a refused stream") {
    closing c;
    std::string get = "GET / HTTP/1.1\r\n";
    std::vector<char> out;
    CHECK_FALSE(c.in.feed(get.data(), get.size(), out));
    c.from_basp(server_handshake("ours!") + spawn_serv);
    CHECK_FALSE(cluster::foreign_app_closed(c.in, c.out));
  }
}
