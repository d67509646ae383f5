#include "net/token_bucket.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using net::token_bucket;

TEST_CASE("a token bucket admits a burst, then the steady rate",
          "[rate-limit]") {
  auto t0 = token_bucket::clock::time_point{};
  token_bucket bucket{10, 3, t0};
  CHECK(bucket.try_take(t0));
  CHECK(bucket.try_take(t0));
  CHECK(bucket.try_take(t0));
  CHECK_FALSE(bucket.try_take(t0));
  CHECK(bucket.wait_time(t0) == 100ms);
  CHECK_FALSE(bucket.try_take(t0 + 99ms));
  CHECK(bucket.try_take(t0 + 100ms));
  CHECK_FALSE(bucket.try_take(t0 + 100ms));
}

TEST_CASE("a token bucket never saves more than its burst", "[rate-limit]") {
  auto t0 = token_bucket::clock::time_point{};
  token_bucket bucket{10, 2, t0};
  auto later = t0 + 1h;
  CHECK(bucket.try_take(later));
  CHECK(bucket.try_take(later));
  CHECK_FALSE(bucket.try_take(later));
}

TEST_CASE("a token bucket with rate 0 admits everything", "[rate-limit]") {
  auto t0 = token_bucket::clock::time_point{};
  token_bucket bucket{0, 1, t0};
  for (int i = 0; i < 1000; ++i)
    REQUIRE(bucket.try_take(t0));
  CHECK(bucket.wait_time(t0) == token_bucket::clock::duration::zero());
}
