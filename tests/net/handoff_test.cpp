#include "net/handoff.hpp"

#include <thread>

#include <catch2/catch.hpp>

using net::handoff;

TEST_CASE("a handoff asks for one wake-up per batch", "[handoff]") {
  handoff<int> queue;
  CHECK(queue.push(1));
  CHECK_FALSE(queue.push(2));
  CHECK_FALSE(queue.push(3));
  std::vector<int> batch;
  queue.take(batch);
  CHECK(batch == std::vector<int>{1, 2, 3});
  batch.clear();
  CHECK(queue.push(4));
  queue.take(batch);
  CHECK(batch == std::vector<int>{4});
}

TEST_CASE("a handoff loses nothing and keeps each producer's order",
          "[handoff]") {
  handoff<std::pair<int, int>> queue;
  constexpr int per_producer = 20000;
  auto produce = [&](int who) {
    for (int k = 0; k < per_producer; ++k)
      queue.push({who, k});
  };
  std::thread a{produce, 0};
  std::thread b{produce, 1};
  int next[2] = {0, 0};
  std::vector<std::pair<int, int>> batch;
  while (next[0] + next[1] < 2 * per_producer) {
    queue.take(batch);
    for (auto [who, k] : batch)
      REQUIRE(k == next[who]++);
    batch.clear();
  }
  a.join();
  b.join();
}
