#pragma once

// A chat node without sockets, on CAF's deterministic test coordinator: the
// test steps the scheduler and the clock; nothing sleeps.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include "actors/lobby_actor.hpp"
#include "actors/session_actor.hpp"

namespace chat::test {

using lines = std::vector<std::string>;

/// A client_link that records what the node sends.
class fake_link : public client_link {
public:
  void send(shared_text text) override {
    frames_.push_back(*text);
  }

  /// Returns the frames received since the last call.
  lines take() {
    return std::exchange(frames_, {});
  }

  /// The frames received since the last take(), kept.
  const lines& peek() const {
    return frames_;
  }

private:
  lines frames_;
};

/// One connected client as a test drives it.
struct client {
  session_actor session;
  std::shared_ptr<fake_link> link;
  /// Its number: handshakes are numbered in order, from 1.
  client_id number = 0;

  lines received() {
    return link->take();
  }
};

inline caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  return cfg;
}

/// An actor system on the test coordinator and the clients a test drives;
/// node_fixture and cluster_fixture add the lobbies.
class test_system {
public:
  test_system()
    : sys(testing_config(cfg)),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    // Actors outlive the test; do not wait for them on shutdown.
    sys.await_actors_before_shutdown(false);
  }

  /// Disconnects every client, as the node does on shutdown.
  ~test_system() {
    for (auto& session : sessions_)
      caf::anon_send(session, closed_atom_v);
    sched.run();
  }

  /// Completes a client's handshake with `lobby` without running the node.
  client handshake_with(const lobby_actor& lobby) {
    auto link = std::make_shared<fake_link>();
    auto session = chat::spawn_session(sys, link, lobby);
    sessions_.push_back(session);
    return {session, link, sessions_.size()};
  }

  /// Delivers one text frame from `c` without running the node.
  void enqueue(client& c, std::string line) {
    caf::anon_send(c.session, text_atom_v, std::move(line));
  }

  /// Delivers one text frame from `c` and runs until the node is quiet.
  void type(client& c, std::string line) {
    enqueue(c, std::move(line));
    run();
  }

  /// `inviter` invites `invitee` into a private chat; both must be told
  /// so, and nothing else.
  void start_private_chat(client& inviter, client& invitee) {
    auto with = [](const client& c) {
      return lines{"Private chatting with Client " + std::to_string(c.number)};
    };
    type(inviter, "invite " + std::to_string(invitee.number));
    REQUIRE(inviter.received() == with(invitee));
    REQUIRE(invitee.received() == with(inviter));
  }

  /// Delivers one binary frame from `c` without running the node.
  void enqueue_binary(client& c) {
    caf::anon_send(c.session, binary_atom_v);
  }

  void send_binary(client& c) {
    enqueue_binary(c);
    run();
  }

  /// Delivers `c`'s disconnect without running the node.
  void enqueue_disconnect(client& c) {
    caf::anon_send(c.session, closed_atom_v);
  }

  void disconnect(client& c) {
    enqueue_disconnect(c);
    run();
  }

  /// `leaver` types `leave` while its partner `gone` disconnects, in the
  /// order given, both before the node runs; then runs it.
  void leave_as_partner_disconnects(client& leaver, client& gone,
                                    bool leave_first) {
    if (leave_first)
      enqueue(leaver, "leave");
    enqueue_disconnect(gone);
    if (!leave_first)
      enqueue(leaver, "leave");
    run();
  }

  /// Runs until the node is quiet.
  void run() {
    sched.run();
  }

  /// Runs `c`'s session once, ahead of every other actor: a busy node where
  /// that session got a thread first.
  void run_first(const client& c) {
    REQUIRE(sched.prioritize(c.session));
    sched.run_once();
  }

  /// Runs every actor but `c`'s session until they are quiet: a busy node
  /// where that session gets no thread meanwhile. What reaches it waits in
  /// its mailbox for the next `run`.
  void run_all_but(const client& c) {
    auto held = caf::actor_cast<caf::abstract_actor*>(c.session);
    sched.run_jobs_filtered([held](caf::resumable* job) {
      return dynamic_cast<caf::abstract_actor*>(job) != held;
    });
  }

  /// Moves the clock forward, fires due timers and runs the node.
  void advance(caf::timespan dt) {
    sched.advance_time(dt);
    run();
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;

private:
  std::vector<session_actor> sessions_;
};

/// One chat node: a lobby and its clients.
class node_fixture : public test_system {
public:
  explicit node_fixture(lobby_config config = {}) : stats(config.stats) {
    lobby = sys.spawn(chat::lobby, config);
    sched.run();
  }

  /// Stops the lobby, as the node does on shutdown. Stopping the lobby
  /// stops every pager: a pager re-arms its timer forever and would keep
  /// the coordinator's shutdown busy.
  ~node_fixture() {
    caf::anon_send_exit(lobby, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// Completes a client's handshake without running the node.
  client handshake() {
    return handshake_with(lobby);
  }

  /// Connects a new client and runs until the node is quiet.
  client connect() {
    auto c = handshake();
    run();
    return c;
  }

  /// Connects `n` clients and drops what they received while connecting.
  std::vector<client> connect_all(size_t n) {
    std::vector<client> result;
    for (size_t i = 0; i < n; ++i)
      result.push_back(connect());
    for (auto& c : result)
      c.received();
    return result;
  }

  /// What the lobby publishes for /metrics.
  chat_stats_ptr stats;
  lobby_actor lobby;
};

} // namespace chat::test
