#include "net/frame.hpp"

#include <catch2/catch.hpp>

using net::text_frame_header;

namespace {

std::string bytes(std::initializer_list<int> xs) {
  std::string result;
  for (auto x : xs)
    result.push_back(static_cast<char>(x));
  return result;
}

} // namespace

TEST_CASE("a short text frame has its length in the second byte", "[frame]") {
  CHECK(text_frame_header(0) == bytes({0x81, 0}));
  CHECK(text_frame_header(125) == bytes({0x81, 125}));
}

TEST_CASE("a text frame up to 64 KiB has a 16-bit length", "[frame]") {
  CHECK(text_frame_header(126) == bytes({0x81, 126, 0, 126}));
  CHECK(text_frame_header(16 * 1024 + 7) == bytes({0x81, 126, 0x40, 0x07}));
  CHECK(text_frame_header(0xFFFF) == bytes({0x81, 126, 0xFF, 0xFF}));
}

TEST_CASE("a larger text frame has a 64-bit length", "[frame]") {
  CHECK(text_frame_header(0x10000)
        == bytes({0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
}
