// The lobby's half that speaks with the other nodes (CLUSTER.md).
//
// Protocol sketch:
//   linked:  peer_links -> lobby: node K's lobby is reachable; register and
//            monitor it, send it our roster (once per link)
//   roster:  the first message each way: the sender's clients (announced
//            here as connected), who is in a private chat, who pages (we
//            page ours for them), the highest number each node handed out
//            (a restarted node skips past its old numbers)
//   joined, left, private, relay, typed, page: what happens to the
//            sender's clients; relay is one main-room line, fanned out to
//            this node's room
//   invite:  a client of the sender invites one of ours: we decide, and
//            start the pair here
//   room, tell, end (from a pair): a client of ours enters its chat, gets
//            a private line, leaves its chat
//   ack, drop: the sender acknowledges what it received; a peer whose
//            unacknowledged bytes pass the cap is dropped (a node loss for
//            now) and introduced to again once it has caught up
//   down:    the peer's lobby is gone (reset, or silent past the
//            middleman's timeout): its clients are gone, their pages stop,
//            private chats with them end

#include <algorithm>
#include <utility>

#include <caf/send.hpp>

#include "actors/lobby_rules.hpp"
#include "actors/private_pair_actor.hpp"

namespace chat::lobby_rules {

namespace {

// Received bytes are acknowledged in steps of this, or of an eighth of the
// cap if that is less (the cap should be alike on every node).
uint64_t ack_step(const lobby_config& config) {
  return std::min<uint64_t>(64 * 1024, config.max_peer_backlog_bytes / 8);
}

void note_highest(lobby_state& st, node_index node, client_id id) {
  if (node >= 1 && node <= st.highest.size())
    st.highest[node - 1] = std::max(st.highest[node - 1], id);
}

// Registers node `node`'s lobby; replaces an older one of the same node (a
// restart the middleman has not noticed yet).
peer& register_peer(lobby_ptr self, node_index node, const peer_actor& lobby) {
  auto& st = self->state;
  if (auto i = st.peers.find(node);
      i != st.peers.end() && i->second.lobby.address() != lobby.address())
    lose_peer(self, node, false);
  auto [i, added] = st.peers.try_emplace(node);
  if (added) {
    i->second.lobby = lobby;
    self->monitor(lobby);
    st.by_peer.emplace(lobby.address(), node);
  }
  return i->second;
}

} // namespace

void introduce(lobby_ptr self, node_index node) {
  auto& st = self->state;
  auto& p = st.peers.at(node);
  client_ids clients;
  client_ids in_private;
  client_ids paging;
  for (auto& [id, m] : st.members) {
    if (m.gone)
      continue;
    clients.push_back(id);
    if (m.pair)
      in_private.push_back(id);
    if (st.pagers.count(id) != 0)
      paging.push_back(id);
  }
  p.introduced = true;
  tell_peer(self, node, roster_atom_v, st.config.node, clients, in_private,
            paging, st.highest);
}

node_index peer_sender(lobby_ptr self, size_t bytes) {
  auto& st = self->state;
  auto addr = caf::actor_cast<caf::actor_addr>(self->current_sender());
  auto i = st.by_peer.find(addr);
  if (i == st.by_peer.end())
    return 0;
  auto& p = st.peers.at(i->second);
  if (!p.known)
    return 0;
  p.received += bytes;
  auto& stats = *st.config.stats;
  stats.peer_messages_received.fetch_add(1, std::memory_order_relaxed);
  stats.peer_bytes_received.fetch_add(bytes, std::memory_order_relaxed);
  if (p.received - p.received_acked >= ack_step(st.config)) {
    p.received_acked = p.received;
    // Acknowledgements are not counted: they are what ends a backlog.
    self->send(p.lobby, peer_atom_v, ack_atom_v, p.received);
  }
  return i->second;
}

void on_linked(lobby_ptr self, node_index node, const peer_actor& lobby) {
  if (node == self->state.config.node || !lobby)
    return;
  auto& p = register_peer(self, node, lobby);
  if (!p.introduced)
    introduce(self, node);
}

void on_roster(lobby_ptr self, node_index node, const client_ids& clients,
               const client_ids& in_private, const client_ids& paging,
               const client_ids& highest) {
  auto& st = self->state;
  auto sender = caf::actor_cast<peer_actor>(self->current_sender());
  if (node == st.config.node || node > st.config.cluster_slots || !sender)
    return;
  auto& p = register_peer(self, node, sender);
  p.received += wire_size(roster_atom_v, node, clients, in_private, paging,
                          highest);
  if (p.known)
    return; // a second roster on the same link changes nothing
  p.known = true;
  if (!p.introduced)
    introduce(self, node);
  // Numbers: never hand out one that this node's slot handed out before.
  for (size_t k = 0; k < highest.size() && k < st.highest.size(); ++k)
    st.highest[k] = std::max(st.highest[k], highest[k]);
  auto& mine = st.highest[st.config.node - 1];
  if (mine >= st.next_id)
    st.next_id = mine + st.config.cluster_slots;
  for (auto id : clients) {
    if (st.members.count(id) != 0 || !st.remote.add(node, id))
      continue;
    note_highest(st, node, id);
    announce(self, id, true);
  }
  for (auto id : in_private)
    st.remote.set_private(node, id, true);
  for (auto id : paging)
    if (st.remote.contains(id))
      start_page(self, id);
  publish_gauges(self);
  start_numbering(self);
}

void on_joined(lobby_ptr self, node_index node, client_id id) {
  auto& st = self->state;
  if (st.members.count(id) != 0 || !st.remote.add(node, id))
    return;
  note_highest(st, node, id);
  announce(self, id, true);
}

void on_left(lobby_ptr self, node_index node, client_id id) {
  if (!self->state.remote.erase(node, id))
    return;
  stop_page(self, id);
  announce(self, id, false);
}

void on_private(lobby_ptr self, node_index node, client_id id,
                bool in_private) {
  self->state.remote.set_private(node, id, in_private);
}

void on_relay(lobby_ptr self, node_index, client_id from,
              std::string& line) {
  stop_pages_except(self, from);
  auto sent = tell_room(self, make_text(std::move(line)), 0);
  self->state.config.stats->deliveries.fetch_add(sent,
                                                 std::memory_order_relaxed);
}

void on_remote_typed(lobby_ptr self, node_index, client_id from) {
  stop_pages_except(self, from);
}

void on_remote_page(lobby_ptr self, node_index node, client_id from) {
  if (self->state.remote.contains(node, from))
    start_page(self, from);
}

std::string on_remote_invite(lobby_ptr self, client_id inviter,
                             client_id target, const std::string& arg) {
  auto& st = self->state;
  auto node = peer_sender(self, wire_size(invite_atom_v, inviter, target, arg));
  if (node == 0)
    return "Error: no such client: " + arg;
  auto b = st.members.find(target);
  if (b == st.members.end() || b->second.gone)
    return "Error: no such client: " + arg;
  auto& invite = b->second.invite;
  auto crossing = invite && !b->second.pair && invite->target == inviter;
  if (crossing && inviter > target) {
    // Both invited each other at once: the lower number's invite wins,
    // ours; theirs is answered as if typed after ours had started the chat.
    return "Error: you are already in a private chat; type leave first";
  }
  if (b->second.pair || (invite && !crossing))
    return "Error: " + name_of(target) + " is already in a private chat";
  if (crossing)
    invite->crossed = true;
  // The pair runs here, beside the invitee; it brings both their notices.
  auto pair = self->spawn(private_pair,
                          pair_member{inviter, st.peers.at(node).lobby},
                          pair_member{target,
                                      caf::actor_cast<peer_actor>(self)},
                          st.config.stats);
  self->monitor(pair);
  st.pairs.emplace(pair.address(), pair);
  set_pair(self, target, pair, inviter);
  publish_gauges(self);
  return {};
}

void on_ack(lobby_ptr self, uint64_t total) {
  // Also while dropped: acknowledgements are how a peer catches up.
  auto& st = self->state;
  auto addr = caf::actor_cast<caf::actor_addr>(self->current_sender());
  auto i = st.by_peer.find(addr);
  if (i == st.by_peer.end())
    return;
  auto node = i->second;
  auto& p = st.peers.at(node);
  p.acked = std::max(p.acked, std::min(total, p.sent));
  auto& gauges = st.config.stats->peer_backlog_bytes;
  if (node - 1 < gauges.size())
    gauges[node - 1].store(p.sent - p.acked, std::memory_order_relaxed);
}

void on_dropped(lobby_ptr self, node_index node) {
  lose_peer(self, node, true);
}

void on_pair_room(lobby_ptr self, client_id id,
                  const private_pair_actor& pair, client_id partner) {
  auto& st = self->state;
  // Ended on this side already: its partner's node was lost meanwhile.
  if (st.ended_pairs.count(pair.address()) != 0)
    return;
  auto i = st.members.find(id);
  // Gone meanwhile, or taken by another chat: this one ends at once.
  if (i == st.members.end() || i->second.gone
      || (i->second.pair && i->second.pair != pair)) {
    caf::anon_send(pair, end_atom_v, id);
    return;
  }
  set_pair(self, id, pair, partner);
  auto& m = i->second;
  // The session first: a line typed after the notice goes to the pair.
  self->send(m.session, room_atom_v, pair);
  m.link->send(make_text("Private chatting with " + name_of(partner)));
  tell_peers(self, private_atom_v, id, true);
  if (m.invite && m.invite->crossed) {
    // In the chat its target started; its own invite's refusal follows.
    m.invite->crossed = false;
    if (auto answer = std::exchange(m.invite->early_answer, std::nullopt))
      invite_answered(self, id, *answer);
    return;
  }
  // What it typed after its invite goes to the chat now.
  invite_answered(self, id, {});
}

void on_pair_tell(lobby_ptr self, client_id id, const std::string& line) {
  tell(self, id, line);
}

void on_pair_end(lobby_ptr self, client_id id,
                 const private_pair_actor& pair) {
  auto i = self->state.members.find(id);
  if (i != self->state.members.end() && i->second.pair == pair)
    end_chat_here(self, id);
}

void lose_peer(lobby_ptr self, node_index node, bool keep) {
  auto& st = self->state;
  auto i = st.peers.find(node);
  if (i == st.peers.end())
    return;
  auto was_linked = i->second.known;
  i->second.known = false;
  i->second.introduced = false;
  if (!keep) {
    st.by_peer.erase(i->second.lobby.address());
    st.peers.erase(i);
    if (node - 1 < st.config.stats->peer_backlog_bytes.size())
      st.config.stats->peer_backlog_bytes[node - 1].store(
        0, std::memory_order_relaxed);
  }
  if (was_linked)
    st.config.stats->peer_losses.fetch_add(1, std::memory_order_relaxed);
  // Private chats with its clients end on this side now; a pair of ours
  // is told its remote member is gone, and quits.
  std::vector<client_id> ending;
  for (auto& [id, m] : st.members) {
    if (!m.pair)
      continue;
    auto pair_here = st.pairs.count(m.pair.address()) != 0;
    if (st.remote.contains(node, m.partner)) {
      if (pair_here) {
        caf::anon_send(m.pair, end_atom_v, m.partner);
        st.ended_pairs.insert(m.pair.address());
      }
      ending.push_back(id);
    }
  }
  for (auto id : ending)
    end_chat_here(self, id);
  // Invites waiting for its answer get none: the target is gone.
  std::vector<client_id> waiting;
  for (auto& [id, m] : st.members)
    if (m.invite && m.invite->node == node)
      waiting.push_back(id);
  for (auto id : waiting)
    invite_answered(self, id,
                    "Error: no such client: " + st.members.at(id).invite->arg);
  // Its clients are gone.
  st.remote.erase_node(node, [self](client_id id) {
    stop_page(self, id);
    announce(self, id, false);
  });
  publish_gauges(self);
}

void drop_peer(lobby_ptr self, node_index node) {
  auto& st = self->state;
  auto& p = st.peers.at(node);
  st.config.stats->peer_backlog_drops.fetch_add(1, std::memory_order_relaxed);
  // The last thing it hears from us until it has caught up.
  self->send(p.lobby, peer_atom_v, drop_atom_v);
  self->delayed_send(self, p.retry, drop_atom_v, node);
  lose_peer(self, node, true);
}

void on_retry(lobby_ptr self, node_index node) {
  auto& st = self->state;
  auto i = st.peers.find(node);
  if (i == st.peers.end() || i->second.introduced)
    return;
  auto& p = i->second;
  // Still behind: wait longer, up to the cluster's timeout ten times.
  if (p.sent - p.acked > st.config.max_peer_backlog_bytes / 2) {
    p.retry = std::min(p.retry * 2, st.config.cluster_timeout * 10);
    self->delayed_send(self, p.retry, drop_atom_v, node);
    return;
  }
  introduce(self, node);
}

void on_peer_down(lobby_ptr self, node_index node) {
  lose_peer(self, node, false);
}

} // namespace chat::lobby_rules
