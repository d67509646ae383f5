#include <catch2/catch.hpp>

#include "net/origins.hpp"

using net::origin_allowed;
using net::parse_origins;
using list = std::vector<std::string>;

TEST_CASE("an Origin list is split, trimmed and lowercased", "[origins]") {
  CHECK(parse_origins("") == list{});
  CHECK(parse_origins(" , ,") == list{});
  CHECK(parse_origins("http://localhost:8765")
        == list{"http://localhost:8765"});
  CHECK(parse_origins(" HTTPS://Chat.Example.com/ , http://a:1,")
        == list{"https://chat.example.com", "http://a:1"});
}

TEST_CASE("without a list every Origin may connect", "[origins]") {
  CHECK(origin_allowed({}, "https://evil.example"));
  CHECK(origin_allowed({}, ""));
}

TEST_CASE("with a list only listed Origins may connect", "[origins]") {
  auto allowed
    = parse_origins("https://chat.example.com,http://localhost:8765");
  CHECK(origin_allowed(allowed, "https://chat.example.com"));
  CHECK(origin_allowed(allowed, "https://CHAT.example.com"));
  CHECK(origin_allowed(allowed, "http://localhost:8765"));
  CHECK_FALSE(origin_allowed(allowed, "http://chat.example.com"));
  CHECK_FALSE(origin_allowed(allowed, "https://chat.example.com:444"));
  CHECK_FALSE(origin_allowed(allowed, "https://chat.example.com.evil"));
  CHECK_FALSE(origin_allowed(allowed, "http://localhost:8766"));
  CHECK_FALSE(origin_allowed(allowed, "null"));
}

TEST_CASE("a request without an Origin is not a browser page: accepted",
          "[origins]") {
  CHECK(origin_allowed(parse_origins("https://chat.example.com"), ""));
}
