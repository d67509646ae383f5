#include <catch2/catch.hpp>

#include "node_fixture.hpp"

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

const lines paging = {"PAGING"};

} // namespace

TEST_CASE("page sends PAGING to every other client at once and every second",
          "[page]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.type(cs[0], "page");
  CHECK(cs[0].received().empty());
  CHECK(cs[1].received() == paging);
  CHECK(cs[2].received() == paging);
  node.advance(999ms);
  CHECK(cs[1].received().empty());
  node.advance(1ms);
  CHECK(cs[1].received() == paging);
  CHECK(cs[2].received() == paging);
  for (int i = 0; i < 5; ++i)
    node.advance(1s);
  CHECK(cs[1].received() == lines(5, "PAGING"));
  CHECK(cs[0].received().empty());
}

TEST_CASE("the pager keeps chatting and its own lines do not stop the page",
          "[page]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.type(cs[0], "page");
  node.type(cs[0], "anyone?");
  node.type(cs[0], "");
  CHECK(cs[1].received() == lines{"PAGING", "0 anyone?"});
  node.advance(1s);
  CHECK(cs[1].received() == paging);
  CHECK(cs[0].received().empty());
}

TEST_CASE("any frame from another client stops the page", "[page]") {
  auto frame = GENERATE(as<std::string>{}, "here!", "", "   ", "/help", "/who",
                        "/nope", "leave", "invite 9", "invite");
  node_fixture node;
  auto cs = node.connect_all(3);
  node.type(cs[0], "page");
  node.type(cs[2], frame);
  cs[1].received();
  cs[2].received();
  node.advance(5s);
  CHECK(cs[1].received().empty());
  CHECK(cs[2].received().empty());
}

TEST_CASE("a binary frame from another client stops the page too", "[page]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.type(cs[0], "page");
  node.send_binary(cs[1]);
  cs[1].received();
  node.advance(3s);
  CHECK(cs[1].received().empty());
}

TEST_CASE("a client that connects during a page is paged too", "[page]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.type(cs[0], "page");
  auto late = node.connect();
  CHECK(late.received() == lines{"You are Client 3"});
  node.advance(1s);
  CHECK(late.received() == paging);
}

TEST_CASE("page again by the same pager changes nothing", "[page]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.type(cs[0], "page");
  node.advance(500ms);
  node.type(cs[0], "page");
  CHECK(cs[1].received() == paging);
  node.advance(500ms);
  CHECK(cs[1].received() == paging);
  node.advance(1s);
  CHECK(cs[1].received() == paging);
}

TEST_CASE("a second client's page ends the first page and starts its own",
          "[page]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.type(cs[0], "page");
  node.type(cs[1], "page");
  CHECK(cs[0].received() == paging);
  CHECK(cs[1].received() == paging);
  CHECK(cs[2].received() == lines{"PAGING", "PAGING"});
  node.advance(1s);
  CHECK(cs[0].received() == paging);
  CHECK(cs[1].received().empty());
  CHECK(cs[2].received() == paging);
}

TEST_CASE("a page ends when its pager disconnects", "[page]") {
  node_fixture node;
  auto cs = node.connect_all(2);
  node.type(cs[0], "page");
  node.disconnect(cs[0]);
  CHECK(cs[1].received() == lines{"PAGING", "Client 1 disconnected"});
  node.advance(3s);
  CHECK(cs[1].received().empty());
}

TEST_CASE("a client that disconnects is no longer paged", "[page]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.type(cs[0], "page");
  cs[1].received();
  cs[2].received();
  // Disconnecting sends no frame, so the page goes on for the others.
  node.disconnect(cs[1]);
  node.advance(1s);
  CHECK(cs[1].received().empty());
  CHECK(cs[2].received() == lines{"Client 2 disconnected", "PAGING"});
}

TEST_CASE("clients in a private chat are paged too", "[page]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.start_private_chat(cs[1], cs[2]);
  node.type(cs[0], "page");
  CHECK(cs[1].received() == paging);
  CHECK(cs[2].received() == paging);
}

TEST_CASE("a private line stops the pages of other clients", "[page]") {
  node_fixture node;
  auto cs = node.connect_all(3);
  node.type(cs[1], "invite 3");
  node.type(cs[0], "page");
  node.type(cs[2], "psst");
  for (auto& c : cs)
    c.received();
  node.advance(3s);
  CHECK(cs[1].received().empty());
}
