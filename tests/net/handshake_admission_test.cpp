#include <catch2/catch.hpp>

#include "net/handshake_admission.hpp"

using net::handshake_admission;
using net::upgrade_headers;

namespace {

std::string admission_header(const net::http_response& res,
                             const std::string& key) {
  for (auto& [k, v] : res.headers)
    if (k == key)
      return v;
  return "";
}

// A complete RFC 6455 upgrade (the key of RFC 6455 1.3), from `origin`.
upgrade_headers rfc6455(std::string_view origin = "") {
  return {"websocket", "Upgrade", "dGhlIHNhbXBsZSBub25jZQ==", "13", origin};
}

} // namespace

TEST_CASE("an RFC 6455 upgrade is admitted", "[admission]") {
  handshake_admission admission{"", 0};
  CHECK_FALSE(admission.refusal(rfc6455(), 0));
  CHECK_FALSE(admission.refusal(rfc6455("http://anywhere.example"), 10000));
  // Browsers list more than one Connection token; the drafts 7 and 8 frame
  // as RFC 6455 does.
  auto firefox = rfc6455();
  firefox.connection = "keep-alive, Upgrade";
  firefox.upgrade = "WebSocket";
  CHECK_FALSE(admission.refusal(firefox, 0));
  for (auto version : {"8", "7"}) {
    auto draft = rfc6455();
    draft.version = version;
    CHECK_FALSE(admission.refusal(draft, 0));
  }
}

TEST_CASE("an upgrade without a version (hixie-76) or with another gets 426 "
          "and the versions we speak",
          "[admission]") {
  handshake_admission admission{"", 0};
  for (auto version : {"", "0", "12", "14", "13abc", "99"}) {
    INFO(version);
    auto request = rfc6455();
    request.version = version;
    request.key = ""; // hixie-76 has Sec-WebSocket-Key1 and Key2 instead
    auto refusal = admission.refusal(request, 0);
    REQUIRE(refusal);
    CHECK(refusal->status == 426);
    CHECK(admission_header(*refusal, "Sec-WebSocket-Version") == "13, 8, 7");
    CHECK(refusal->body.find("Sec-WebSocket-Version: 13") != std::string::npos);
  }
}

TEST_CASE("a key that is not the base64 of 16 bytes gets 400 (RFC 6455 "
          "4.2.1)",
          "[admission]") {
  handshake_admission admission{"", 0};
  for (auto key :
       {"abc", "!!!!!!!!!!!!!!!!!!!!!!!!", "", "dGhlIHNhbXBsZSBub25jZQ=",
        "dGhlIHNhbXBsZSBub25jZQ===", "dGhlIHNhbXBsZSBub25jZQ",
        "dGhlIHNhbXBsZSBub25jZSE=", "dGhlIHNhbXBsZSBub25j ZQ==",
        "dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ=="}) {
    INFO(key);
    auto request = rfc6455();
    request.key = key;
    auto refusal = admission.refusal(request, 0);
    REQUIRE(refusal);
    CHECK(refusal->status == 400);
    CHECK(refusal->body.find("Sec-WebSocket-Key") != std::string::npos);
  }
  CHECK(net::valid_websocket_key("AAAAAAAAAAAAAAAAAAAAAA=="));
  CHECK(net::valid_websocket_key("+/+/+/+/+/+/+/+/+/+/+w=="));
}

TEST_CASE("Upgrade and Connection must name websocket and upgrade as "
          "tokens",
          "[admission]") {
  handshake_admission admission{"", 0};
  // websocketpp looks for the words anywhere in the header.
  for (auto [upgrade, connection] : {std::pair{"websocketx", "Upgrade"},
                                     std::pair{"notwebsocket", "Upgrade"},
                                     std::pair{"websocket", "Upgraded"},
                                     std::pair{"websocket", "noupgrade"}}) {
    INFO(upgrade << " / " << connection);
    auto request = rfc6455();
    request.upgrade = upgrade;
    request.connection = connection;
    auto refusal = admission.refusal(request, 0);
    REQUIRE(refusal);
    CHECK(refusal->status == 400);
  }
  CHECK(net::has_token("keep-alive,\tUpgrade ", "upgrade"));
  CHECK_FALSE(net::has_token("keep-alive", "upgrade"));
  CHECK_FALSE(net::has_token("", "upgrade"));
}

TEST_CASE("a request websocketpp takes for plain HTTP but that carries part "
          "of a WebSocket handshake gets 400",
          "[admission]") {
  auto request = rfc6455();
  request.upgrade = "";
  auto broken = handshake_admission::half_upgrade(request);
  REQUIRE(broken);
  CHECK(broken->status == 400);
  CHECK(broken->body.find("Upgrade: websocket") != std::string::npos);
  request = rfc6455();
  request.connection = "keep-alive";
  CHECK(handshake_admission::half_upgrade(request));
  request = upgrade_headers{"h2c", "Upgrade, HTTP2-Settings", "", "13", ""};
  CHECK(handshake_admission::half_upgrade(request));
  // Plain HTTP, even asking for another protocol, is served.
  CHECK_FALSE(handshake_admission::half_upgrade({}));
  CHECK_FALSE(handshake_admission::half_upgrade(
    {"h2c", "Upgrade, HTTP2-Settings", "", "", ""}));
}

TEST_CASE("an Origin not on the list gets 403", "[admission][origins]") {
  handshake_admission admission{"http://localhost:8765", 0};
  CHECK_FALSE(admission.refusal(rfc6455("http://localhost:8765"), 0));
  CHECK_FALSE(admission.refusal(rfc6455(), 0)); // no browser page
  auto refusal = admission.refusal(rfc6455("https://evil.example"), 0);
  REQUIRE(refusal);
  CHECK(refusal->status == 403);
  CHECK_FALSE(refusal->body.empty());
}

TEST_CASE("a full node refuses with 503 and says why", "[admission]") {
  handshake_admission admission{"", 2};
  CHECK_FALSE(admission.refusal(rfc6455(), 1));
  auto refusal = admission.refusal(rfc6455(), 2);
  REQUIRE(refusal);
  CHECK(refusal->status == 503);
  CHECK(refusal->body
        == "chat-node is full: 2 clients connected; try again later\n");
}

TEST_CASE("an address at its limit is refused with 429 and told why",
          "[admission][per-address]") {
  handshake_admission admission{"", 0, 2};
  CHECK(admission.limits_addresses());
  CHECK_FALSE(admission.refusal(rfc6455(), 100, 0, "192.0.2.7"));
  CHECK_FALSE(admission.refusal(rfc6455(), 100, 1, "192.0.2.7"));
  auto refusal = admission.refusal(rfc6455(), 100, 2, "192.0.2.7");
  REQUIRE(refusal);
  CHECK(refusal->status == 429);
  CHECK(refusal->body
        == "too many connections from 192.0.2.7: 2 open, the most one "
           "address may have; close one and try again\n");
  // 0: no limit, and nobody need count.
  handshake_admission unlimited{"", 0, 0};
  CHECK_FALSE(unlimited.limits_addresses());
  CHECK_FALSE(unlimited.refusal(rfc6455(), 100, 100000, "192.0.2.7"));
}

TEST_CASE("a broken handshake is told so before the node's limits",
          "[admission][per-address]") {
  handshake_admission admission{"http://good.example", 1, 1};
  auto request = rfc6455("https://evil.example");
  request.key = "abc";
  auto refusal = admission.refusal(request, 5, 5, "192.0.2.7");
  REQUIRE(refusal);
  CHECK(refusal->status == 400);
  refusal = admission.refusal(rfc6455("https://evil.example"), 5, 5, "x");
  REQUIRE(refusal);
  CHECK(refusal->status == 403);
  refusal = admission.refusal(rfc6455(), 5, 5, "x");
  REQUIRE(refusal);
  CHECK(refusal->status == 503);
}
