#include <catch2/catch.hpp>

#include "node_fixture.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

uint64_t read(const std::atomic<uint64_t>& x) {
  return x.load();
}

} // namespace

TEST_CASE("a room line counts one delivery per recipient", "[stats]") {
  node_fixture node;
  auto cs = node.connect_all(4);
  CHECK(read(node.stats->deliveries) == 0);
  node.type(cs[0], "hello all");
  CHECK(read(node.stats->deliveries) == 3);
  node.type(cs[3], "hi");
  CHECK(read(node.stats->deliveries) == 6);
}

TEST_CASE("arrivals, commands, errors and blank lines are not deliveries",
          "[stats]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.disconnect(cs[2]);
  for (auto line : {"", "  ", "/who", "/help", "/nope", "invite 9", "leave"})
    node.type(cs[0], line);
  node.send_binary(cs[1]);
  CHECK(read(node.stats->deliveries) == 0);
}

TEST_CASE("a private line counts one delivery, room lines skip the pair",
          "[stats]") {
  node_fixture node;
  auto cs = node.connect_all(4);
  node.type(cs[0], "invite 2");
  node.type(cs[0], "just us");
  CHECK(read(node.stats->deliveries) == 1);
  node.type(cs[2], "room line");
  CHECK(read(node.stats->deliveries) == 2);
}

TEST_CASE("the private chats gauge follows invite, leave and disconnect",
          "[stats]") {
  node_fixture node;
  auto cs = node.connect_all(5);
  CHECK(read(node.stats->private_chats) == 0);
  node.type(cs[0], "invite 2");
  CHECK(read(node.stats->private_chats) == 1);
  node.type(cs[2], "invite 4");
  CHECK(read(node.stats->private_chats) == 2);
  node.type(cs[4], "invite 1"); // refused: Client 1 is busy
  CHECK(read(node.stats->private_chats) == 2);
  node.type(cs[1], "leave");
  CHECK(read(node.stats->private_chats) == 1);
  node.disconnect(cs[3]);
  CHECK(read(node.stats->private_chats) == 0);
}

TEST_CASE("the pages gauge follows page, its stop rule and the pager leaving",
          "[stats]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  CHECK(read(node.stats->active_pages) == 0);
  node.type(cs[0], "page");
  node.type(cs[0], "page"); // again: still one page
  node.type(cs[0], "my own line does not stop it");
  CHECK(read(node.stats->active_pages) == 1);
  node.type(cs[1], "page"); // stops Client 1's page, starts its own
  CHECK(read(node.stats->active_pages) == 1);
  node.type(cs[2], "hi"); // stops Client 2's page
  CHECK(read(node.stats->active_pages) == 0);
  node.type(cs[2], "page");
  CHECK(read(node.stats->active_pages) == 1);
  node.disconnect(cs[2]);
  CHECK(read(node.stats->active_pages) == 0);
}

TEST_CASE("a chat ended by a leave and a disconnect at once counts once",
          "[stats]") {
  auto leave_first = GENERATE(true, false);
  node_fixture node;
  auto cs = node.connect_all(3);
  node.start_private_chat(cs[0], cs[1]);
  node.leave_as_partner_disconnects(cs[0], cs[1], leave_first);
  CHECK(read(node.stats->private_chats) == 0);
}
