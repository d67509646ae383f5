#include "actors/text.hpp"

#include <catch2/catch.hpp>

TEST_CASE("trim drops surrounding white space", "[text]") {
  CHECK(chat::trim("  hi \t") == "hi");
}
