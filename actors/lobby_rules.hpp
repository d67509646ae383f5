#pragma once

// The lobby's helpers, shared by its two halves: lobby_actor.cpp (this
// node's clients) and lobby_peers.cpp (the other nodes). Internal to the
// lobby.

#include <string>
#include <type_traits>
#include <vector>

#include "actors/lobby_actor.hpp"

namespace chat::lobby_rules {

using lobby_ptr = lobby_actor::stateful_pointer<lobby_state>;

std::string name_of(client_id id);

/// Sends one line to one client of this node, if it is still connected.
void tell(lobby_ptr self, client_id id, std::string line);

/// The main room, cluster-wide: every client not in a private chat.
size_t main_room_size(const lobby_state& st);

/// Clients online, cluster-wide.
size_t online(const lobby_state& st);

/// Sends one shared line to every main-room member of this node except
/// `except`; returns how many received it.
size_t tell_room(lobby_ptr self, const shared_text& line, client_id except);

/// Announces an arrival or departure, of a client of any node, to this
/// node's main room: one by one in a small room, summed up once per second
/// in a large one.
void announce(lobby_ptr self, client_id id, bool arrived);

/// Publishes the gauges for /metrics after anything that may change them.
void publish_gauges(lobby_ptr self);

/// Starts paging for client `pager` (of any node): every client of this
/// node but `pager` gets PAGING until stopped. Nothing if it pages already.
void start_page(lobby_ptr self, client_id pager);

/// Stops the page of client `id`, if any.
void stop_page(lobby_ptr self, client_id id);

/// Stops the pages of every client but `id`; returns whether one ran.
bool stop_pages_except(lobby_ptr self, client_id id);

/// Puts member `id` of this node into private chat `pair` with `partner`
/// (of any node), or back into the main room (pair invalid).
void set_pair(lobby_ptr self, client_id id, const private_pair_actor& pair,
              client_id partner);

/// Ends member `id`'s private chat on this side: its session routes chat
/// lines to the main room again, the client is told, the other nodes too;
/// a gone member then leaves for good.
void end_chat_here(lobby_ptr self, client_id id);

/// Removes a member whose connection is gone, once it is in no private
/// chat; announces the departure here and to the other nodes.
void finish_departure(lobby_ptr self, client_id id);

/// Ends member `id`'s wait for another node's answer to its invite:
/// `error` (if not empty) goes to the client, then its held frames are
/// handled, in order.
void invite_answered(lobby_ptr self, client_id id, const std::string& error);

/// The answer to member `id`'s invite has come from the other node (""
/// when accepted: the pair's room message then ends the wait).
void invite_answer_arrived(lobby_ptr self, client_id id,
                           const std::string& error);

/// Sends one message to every linked peer, counting its bytes toward each
/// one's backlog; drops a peer whose backlog passes the cap.
template <class... Ts>
void tell_peers(lobby_ptr self, const Ts&... xs);

/// Sends one message to linked peer `node`, as tell_peers does.
template <class... Ts>
void tell_peer(lobby_ptr self, node_index node, const Ts&... xs);

/// Drops peer `node` for its backlog: a node loss for now, introduced to
/// again once it has caught up.
void drop_peer(lobby_ptr self, node_index node);

/// Forgets every client of peer `node` (a node loss): their departures are
/// announced, their pages stop, private chats with them end. Keeps the
/// peer registered, not linked, when `keep`.
void lose_peer(lobby_ptr self, node_index node, bool keep);

/// Sends our roster to peer `node`: the first message of each link.
void introduce(lobby_ptr self, node_index node);

/// The linked peer that sent the current message, counting the message's
/// bytes toward what we acknowledge to it; 0 for anyone else.
node_index peer_sender(lobby_ptr self, size_t bytes);

/// What a peer message costs on the wire, about: the same count on both
/// sides of a link, which is all that the backlog needs.
inline size_t payload_size(const std::string& x) {
  return x.size();
}
inline size_t payload_size(const client_ids& x) {
  return 8 * x.size();
}
template <class T>
size_t payload_size(const T&) {
  return 8;
}
template <class... Ts>
size_t wire_size(const Ts&... xs) {
  return 32 + (payload_size(xs) + ... + 0);
}

// The handlers of the peer interface and of the cluster's own messages
// (lobby_peers.cpp).
void on_linked(lobby_ptr self, node_index node, const peer_actor& lobby);
void on_roster(lobby_ptr self, node_index node, const client_ids& clients,
               const client_ids& in_private, const client_ids& paging,
               const client_ids& highest);
void on_joined(lobby_ptr self, node_index node, client_id id);
void on_left(lobby_ptr self, node_index node, client_id id);
void on_private(lobby_ptr self, node_index node, client_id id,
                bool in_private);
void on_relay(lobby_ptr self, node_index node, client_id from,
              std::string& line);
void on_remote_typed(lobby_ptr self, node_index node, client_id from);
void on_remote_page(lobby_ptr self, node_index node, client_id from);
std::string on_remote_invite(lobby_ptr self, client_id inviter,
                             client_id target, const std::string& arg);
void on_ack(lobby_ptr self, uint64_t total);
void on_dropped(lobby_ptr self, node_index node);
void on_pair_room(lobby_ptr self, client_id id,
                  const private_pair_actor& pair, client_id partner);
void on_pair_tell(lobby_ptr self, client_id id, const std::string& line);
void on_pair_end(lobby_ptr self, client_id id,
                 const private_pair_actor& pair);
void on_retry(lobby_ptr self, node_index node);
void on_peer_down(lobby_ptr self, node_index node);

/// Numbers the clients that waited for the cluster's numbers, in order.
void start_numbering(lobby_ptr self);

// -- templates ---------------------------------------------------------------

template <class... Ts>
void tell_peer(lobby_ptr self, node_index node, const Ts&... xs) {
  auto i = self->state.peers.find(node);
  if (i == self->state.peers.end() || !i->second.introduced)
    return;
  auto& p = i->second;
  auto bytes = wire_size(xs...);
  // A message that would take the backlog past the cap is not sent: the
  // peer is dropped instead, so the backlog never passes the cap.
  if (p.sent - p.acked + bytes > self->state.config.max_peer_backlog_bytes) {
    drop_peer(self, node);
    return;
  }
  self->send(p.lobby, peer_atom_v, xs...);
  p.sent += bytes;
  auto& stats = *self->state.config.stats;
  stats.peer_messages_sent.fetch_add(1, std::memory_order_relaxed);
  stats.peer_bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
  if (node - 1 < stats.peer_backlog_bytes.size())
    stats.peer_backlog_bytes[node - 1].store(p.sent - p.acked,
                                             std::memory_order_relaxed);
}

template <class... Ts>
void tell_peers(lobby_ptr self, const Ts&... xs) {
  if (self->state.peers.empty())
    return;
  // drop_peer may change the map: walk a copy of the keys.
  std::vector<node_index> nodes;
  for (auto& [node, p] : self->state.peers)
    if (p.introduced)
      nodes.push_back(node);
  for (auto node : nodes)
    tell_peer(self, node, xs...);
}

/// Returns the handler of a message from another node's lobby: `peer_atom`,
/// `Atom`, then `Ts`. Ignored unless a linked peer sent it. Takes the
/// message's own elements, so that a handler may move them on.
template <class Atom, class... Ts>
auto from_peer(lobby_ptr self, void (*handle)(lobby_ptr, node_index, Ts...)) {
  return [self, handle](peer_atom, Atom atom, std::decay_t<Ts>&... xs) {
    if (auto node = peer_sender(self, wire_size(atom, xs...)))
      handle(self, node, xs...);
  };
}

} // namespace chat::lobby_rules
