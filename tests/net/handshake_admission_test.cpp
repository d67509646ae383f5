#include <catch2/catch.hpp>

#include "net/handshake_admission.hpp"

using net::handshake_admission;

namespace {

std::string admission_header(const net::http_response& res,
                             const std::string& key) {
  for (auto& [k, v] : res.headers)
    if (k == key)
      return v;
  return "";
}

} // namespace

TEST_CASE("an RFC 6455 upgrade is admitted", "[admission]") {
  handshake_admission admission{"", 0};
  CHECK_FALSE(admission.refusal("13", "", 0));
  CHECK_FALSE(admission.refusal("13", "http://anywhere.example", 10000));
}

TEST_CASE("an upgrade without a version (hixie-76) gets 426 and the "
          "versions we speak",
          "[admission]") {
  handshake_admission admission{"", 0};
  auto refusal = admission.refusal("", "", 0);
  REQUIRE(refusal);
  CHECK(refusal->status == 426);
  CHECK(admission_header(*refusal, "Sec-WebSocket-Version") == "13, 8, 7");
}

TEST_CASE("an Origin not on the list gets 403", "[admission][origins]") {
  handshake_admission admission{"http://localhost:8765", 0};
  CHECK_FALSE(admission.refusal("13", "http://localhost:8765", 0));
  CHECK_FALSE(admission.refusal("13", "", 0)); // no browser page
  auto refusal = admission.refusal("13", "https://evil.example", 0);
  REQUIRE(refusal);
  CHECK(refusal->status == 403);
}

TEST_CASE("a full node refuses with 503 and says why", "[admission]") {
  handshake_admission admission{"", 2};
  CHECK_FALSE(admission.refusal("13", "", 1));
  auto refusal = admission.refusal("13", "", 2);
  REQUIRE(refusal);
  CHECK(refusal->status == 503);
  CHECK(refusal->body
        == "chat-node is full: 2 clients connected; try again later\n");
}
