#include "actors/remote_roster.hpp"

#include <initializer_list>
#include <vector>

#include <catch2/catch.hpp>

using chat::client_id;
using chat::remote_roster;

namespace {

// The roster's numbers in its own order.
std::vector<client_id> roster_ids(const remote_roster& r) {
  std::vector<client_id> ids;
  for (auto& e : r)
    ids.push_back(e.id);
  return ids;
}

// Client numbers `ids`, told by `node`, in that order.
void add_all(remote_roster& r, chat::node_index node,
             std::initializer_list<client_id> ids) {
  for (auto id : ids)
    r.add(node, id);
}

} // namespace

TEST_CASE("an empty roster knows no one", "[remote-roster]") {
  remote_roster r;
  CHECK(r.empty());
  CHECK(r.size() == 0);
  CHECK(r.in_private() == 0);
  CHECK(r.begin() == r.end());
  CHECK_FALSE(r.find(1));
  CHECK_FALSE(r.erase(2, 2));
  r.set_private(2, 2, true);
  CHECK(r.in_private() == 0);
}

TEST_CASE("a client is found with the node that told us and in the main "
          "room",
          "[remote-roster]") {
  remote_roster r;
  CHECK(r.add(2, 8));
  auto e = r.find(8);
  REQUIRE(e);
  CHECK(e->id == 8);
  CHECK(e->node == 2);
  CHECK_FALSE(e->in_private);
  CHECK(r.contains(8));
  CHECK(r.contains(2, 8));
  CHECK_FALSE(r.contains(3, 8));
  CHECK_FALSE(r.contains(2, 14));
  CHECK(r.size() == 1);
}

TEST_CASE("a number is known once, from whichever node told it first",
          "[remote-roster]") {
  remote_roster r;
  CHECK(r.add(2, 8));
  CHECK_FALSE(r.add(2, 8));
  CHECK_FALSE(r.add(3, 8));
  CHECK(r.find(8)->node == 2);
  CHECK(r.size() == 1);
}

TEST_CASE("arrivals out of order still list in number order",
          "[remote-roster]") {
  remote_roster r;
  for (client_id id : {20, 2, 14, 8, 26})
    CHECK(r.add(2, id));
  CHECK(roster_ids(r) == std::vector<client_id>{2, 8, 14, 20, 26});
}

TEST_CASE("the iteration merges the nodes in number order",
          "[remote-roster]") {
  remote_roster r;
  // Nodes 2, 3 and 5 of 6, told in turn: a roster each, then joins.
  add_all(r, 2, {2, 8, 14});
  add_all(r, 5, {5, 11});
  add_all(r, 3, {3, 9, 15, 21});
  r.add(5, 17);
  r.set_private(3, 9, true);
  std::vector<client_id> ids;
  std::vector<chat::node_index> nodes;
  std::vector<client_id> in_private;
  for (auto i = r.begin(); i != r.end(); ++i) {
    ids.push_back(i->id);
    nodes.push_back((*i).node);
    if (i->in_private)
      in_private.push_back(i->id);
  }
  CHECK(ids == std::vector<client_id>{2, 3, 5, 8, 9, 11, 14, 15, 17, 21});
  CHECK(nodes
        == std::vector<chat::node_index>{2, 3, 5, 2, 3, 5, 2, 3, 5, 3});
  CHECK(in_private == std::vector<client_id>{9});
}

TEST_CASE("the private count follows changes, once each", "[remote-roster]") {
  remote_roster r;
  r.add(2, 2);
  r.add(3, 3);
  r.set_private(2, 2, true);
  r.set_private(2, 2, true);
  CHECK(r.in_private() == 1);
  CHECK(r.find(2)->in_private);
  CHECK_FALSE(r.find(3)->in_private);
  r.set_private(2, 3, true); // not from the node that told us: nothing
  CHECK(r.in_private() == 1);
  r.set_private(3, 3, true);
  CHECK(r.in_private() == 2);
  r.set_private(2, 2, false);
  r.set_private(2, 2, false);
  CHECK(r.in_private() == 1);
  CHECK_FALSE(r.find(2)->in_private);
  r.set_private(2, 99, true); // unknown: nothing
  CHECK(r.in_private() == 1);
  CHECK(r.size() == 2);
}

TEST_CASE("a departure counts only from the node that told us",
          "[remote-roster]") {
  remote_roster r;
  r.add(2, 8);
  r.add(2, 14);
  r.set_private(2, 8, true);
  CHECK_FALSE(r.erase(3, 8));
  CHECK(r.contains(8));
  CHECK(r.erase(2, 8));
  CHECK_FALSE(r.erase(2, 8));
  CHECK_FALSE(r.contains(8));
  CHECK(r.size() == 1);
  CHECK(r.in_private() == 0); // it left its private chat with it
  CHECK(roster_ids(r) == std::vector<client_id>{14});
  CHECK(r.erase(2, 14));
  CHECK(r.empty());
  CHECK(r.begin() == r.end());
}

TEST_CASE("departures from anywhere keep the rest in order",
          "[remote-roster]") {
  remote_roster r;
  for (client_id id = 2; id <= 62; id += 6)
    r.add(2, id);
  for (client_id id : {2, 32, 62, 20})
    CHECK(r.erase(2, id));
  CHECK(roster_ids(r) == std::vector<client_id>{8, 14, 26, 38, 44, 50, 56});
}

TEST_CASE("a lost node's clients go in number order, the counts falling "
          "one by one",
          "[remote-roster]") {
  remote_roster r;
  add_all(r, 2, {2, 8, 14});
  add_all(r, 3, {3, 9});
  r.set_private(2, 8, true);
  r.set_private(3, 9, true);
  std::vector<client_id> gone;
  std::vector<size_t> sizes;
  std::vector<size_t> in_private;
  r.erase_node(2, [&](client_id id) {
    gone.push_back(id);
    sizes.push_back(r.size());
    in_private.push_back(r.in_private());
    CHECK_FALSE(r.contains(id));
  });
  CHECK(gone == std::vector<client_id>{2, 8, 14});
  CHECK(sizes == std::vector<size_t>{4, 3, 2});
  CHECK(in_private == std::vector<size_t>{2, 1, 1});
  CHECK(roster_ids(r) == std::vector<client_id>{3, 9});
  CHECK(r.in_private() == 1);
  // A node it does not know: nothing.
  r.erase_node(4, [](client_id) { FAIL("no client of node 4"); });
  CHECK(r.size() == 2);
  // The node comes back with its roster.
  CHECK(r.add(2, 2));
  CHECK(r.find(2)->node == 2);
}

TEST_CASE("a lost node's memory is given back", "[remote-roster]") {
  remote_roster r;
  for (client_id id = 2; id < 2 + 6 * 10000; id += 6)
    r.add(2, id);
  r.add(3, 3);
  CHECK(r.reserved() >= 10001);
  size_t gone = 0;
  r.erase_node(2, [&](client_id) { ++gone; });
  CHECK(gone == 10000);
  CHECK(r.reserved() < 100);
}

TEST_CASE("a list three quarters empty shrinks", "[remote-roster]") {
  remote_roster r;
  for (client_id id = 1; id <= 4096; ++id)
    r.add(2, id);
  auto full = r.reserved();
  for (client_id id = 1; id <= 4000; ++id)
    r.erase(2, id);
  CHECK(r.reserved() <= full / 4);
  CHECK(r.reserved() >= r.size());
  CHECK(r.size() == 96);
  CHECK(roster_ids(r).front() == 4001);
  CHECK(roster_ids(r).back() == 4096);
}

TEST_CASE("a number no node can reach is refused, and aliases none",
          "[remote-roster]") {
  remote_roster r;
  CHECK(r.add(2, remote_roster::max_id));
  CHECK(r.find(remote_roster::max_id)->node == 2);
  CHECK_FALSE(r.add(2, remote_roster::max_id + 1));
  CHECK(r.size() == 1);
  r.add(3, 5);
  // 2^63 + 5 would read as 5 if the top bit were dropped.
  auto high = remote_roster::max_id + 6;
  CHECK_FALSE(r.find(high));
  CHECK_FALSE(r.contains(3, high));
  CHECK_FALSE(r.erase(3, high));
  r.set_private(3, high, true);
  CHECK(r.in_private() == 0);
  CHECK(r.size() == 2);
}
