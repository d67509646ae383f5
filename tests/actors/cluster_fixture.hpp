#pragma once

// Several chat nodes in one test actor system, on the test coordinator: the
// lobbies are linked through the peer interface as cluster/peer_links links
// them, but without sockets; the test steps scheduler and clock, cuts and
// heals links, and kills nodes.

#include <map>
#include <string>
#include <vector>

#include "node_fixture.hpp"

namespace chat::test {

class cluster_fixture : public test_system {
public:
  /// `nodes` lobbies, node K (1-based) with index K of `nodes` slots, every
  /// one linked to every other.
  explicit cluster_fixture(size_t nodes, lobby_config config = {})
    : base_(config), slots_(nodes) {
    for (node_index k = 1; k <= nodes; ++k)
      start(k);
    link_all();
  }

  ~cluster_fixture() {
    for (auto& lobby : lobbies)
      caf::anon_send_exit(lobby, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// Starts node `k` (again, after kill()): a new lobby, not yet linked.
  /// `await_cluster`: it waits for a peer's numbers before numbering.
  void start(node_index k, bool await_cluster = false) {
    auto config = base_;
    config.node = k;
    config.cluster_slots = static_cast<uint32_t>(slots());
    config.await_cluster = await_cluster;
    config.stats = std::make_shared<chat_stats>(slots());
    if (lobbies.size() < k) {
      lobbies.resize(k);
      stats.resize(k);
    }
    stats[k - 1] = config.stats;
    lobbies[k - 1] = sys.spawn(chat::lobby, config);
    run();
  }

  /// Tells lobbies `a` and `b` that they are linked, as peer_links does on
  /// both nodes once they have joined.
  void link(node_index a, node_index b) {
    caf::anon_send(lobby(a), linked_atom_v, b, peer_of(b));
    caf::anon_send(lobby(b), linked_atom_v, a, peer_of(a));
    run();
  }

  void link_all() {
    for (node_index a = 1; a <= slots(); ++a)
      for (node_index b = a + 1; b <= slots(); ++b)
        link(a, b);
  }

  /// The link between `a` and `b` drops, as when the middleman loses the
  /// connection (a partition): each lobby sees the other's down message.
  void cut(node_index a, node_index b) {
    down(a, b);
    down(b, a);
    run();
  }

  /// Node `k` dies: its lobby (with its pairs and pagers) and its sessions
  /// stop, and every other lobby sees it go.
  void kill(node_index k) {
    for (auto& c : clients_of_[k])
      caf::anon_send(c, closed_atom_v);
    caf::anon_send_exit(lobby(k), caf::exit_reason::user_shutdown);
    run();
  }

  /// Completes a client's handshake with node `k` and runs the cluster.
  /// Its number is the one the node greeted it with.
  client connect(node_index k) {
    auto c = handshake_with(lobby(k));
    clients_of_[k].push_back(c.session);
    run();
    c.number = greeted_number(c);
    return c;
  }

  /// Connects one client to each node in `nodes`, in order, and drops what
  /// they received while connecting.
  std::vector<client> connect_all(std::vector<node_index> nodes) {
    std::vector<client> result;
    for (auto k : nodes)
      result.push_back(connect(k));
    for (auto& c : result)
      c.received();
    return result;
  }

  lobby_actor& lobby(node_index k) {
    return lobbies.at(k - 1);
  }

  peer_actor peer_of(node_index k) {
    return caf::actor_cast<peer_actor>(lobby(k));
  }

  size_t slots() const {
    return slots_;
  }

  std::vector<lobby_actor> lobbies;
  /// What each node's lobby publishes for /metrics.
  std::vector<chat_stats_ptr> stats;

private:
  void down(node_index at, node_index gone) {
    caf::anon_send(caf::actor_cast<caf::actor>(lobby(at)),
                   caf::down_msg{lobby(gone).address(),
                                 caf::make_error(
                                   caf::exit_reason::remote_link_unreachable)});
  }

  static client_id greeted_number(client& c) {
    auto frames = c.link->peek();
    const std::string greeting = "You are Client ";
    for (auto& f : frames)
      if (f.rfind(greeting, 0) == 0)
        return std::stoull(f.substr(greeting.size()));
    return 0;
  }

  lobby_config base_;
  size_t slots_;
  std::map<node_index, std::vector<session_actor>> clients_of_;
};

} // namespace chat::test
