#include "net/frame.hpp"

#include <catch2/catch.hpp>

using net::text_frame;

namespace {

std::string bytes(std::initializer_list<int> xs) {
  std::string result;
  for (auto x : xs)
    result.push_back(static_cast<char>(x));
  return result;
}

} // namespace

TEST_CASE("a short text frame has its length in the second byte", "[frame]") {
  CHECK(text_frame("") == bytes({0x81, 0}));
  CHECK(text_frame("hi") == bytes({0x81, 2, 'h', 'i'}));
  auto line = std::string(125, 'x');
  CHECK(text_frame(line) == bytes({0x81, 125}) + line);
}

TEST_CASE("a text frame up to 64 KiB has a 16-bit length", "[frame]") {
  auto line = std::string(126, 'x');
  CHECK(text_frame(line) == bytes({0x81, 126, 0, 126}) + line);
  line = std::string(16 * 1024 + 7, 'x');
  CHECK(text_frame(line) == bytes({0x81, 126, 0x40, 0x07}) + line);
  line = std::string(0xFFFF, 'x');
  CHECK(text_frame(line) == bytes({0x81, 126, 0xFF, 0xFF}) + line);
}

TEST_CASE("a larger text frame has a 64-bit length", "[frame]") {
  auto line = std::string(0x10000, 'x');
  CHECK(text_frame(line) == bytes({0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}) + line);
}

TEST_CASE("frames appended to one buffer follow each other, each whole") {
  std::string out = "x";
  net::append_text_frame(out, "hi");
  net::append_text_frame(out, "");
  CHECK(out == "x" + bytes({0x81, 2, 'h', 'i'}) + bytes({0x81, 0}));
}
