// Protocol sketch:
//   hello:   spawner -> lobby; number the client (node K of M slots: K, K+M,
//            …), welcome its session, greet the client, announce it here
//            and to the other nodes, add it to running pages; monitor the
//            session. A clustered node first waits for a peer's roster
//            (or cluster_timeout): it may have been restarted, and the
//            roster says which numbers its slot handed out.
//   say, typed, page, invite, leave, who: a frame from a client; each first
//            stops the pages of all other clients, cluster-wide
//            (client_frame)
//   say:     a main-room line: to every other main-room member here, and
//            once to each other node, which fans it out to its own
//   invite:  the target's node (this one or another) decides and starts
//            the private pair; while another node decides, the inviter's
//            next frames wait (member::held). Two clients that invite each
//            other at once: the lower number's invite wins
//   pair:    a pair only decides; the member's own lobby moves it in and
//            out of the room and writes to its client (peer room/tell/end,
//            lobby_peers.cpp), so pairs work the same across nodes
//   leave, session down: the pair is asked to end (never awaited: it may
//            be on another node); a gone member stays until it has ended
//   peers:   lobby_peers.cpp
//   summary: timer armed by the first large-room arrival or departure
//   stats:   deliveries, running pages, private chats and the cluster's
//            figures go to config.stats (relaxed atomics) for /metrics

#include "actors/lobby_actor.hpp"

#include <cassert>
#include <string>

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/lobby_rules.hpp"
#include "actors/pager_actor.hpp"
#include "actors/private_pair_actor.hpp"

namespace chat {

namespace lobby_rules {

std::string name_of(client_id id) {
  return "Client " + std::to_string(id);
}

void tell(lobby_ptr self, client_id id, std::string line) {
  auto i = self->state.members.find(id);
  if (i != self->state.members.end() && !i->second.gone)
    i->second.link->send(make_text(std::move(line)));
}

size_t main_room_size(const lobby_state& st) {
  return st.members.size() - st.members_in_private + st.remote.size()
         - st.remote.in_private();
}

size_t online(const lobby_state& st) {
  return st.members.size() + st.remote.size();
}

// set_pair, add_member and remove_member are the only writers of who is
// where on this node (st.remote's calls are, for the other nodes). Each
// drops the main room's link group when this node's room changes; the
// room's next line rebuilds it.

void set_pair(lobby_ptr self, client_id id, const private_pair_actor& pair,
              client_id partner) {
  auto& st = self->state;
  auto& m = st.members.at(id);
  if (static_cast<bool>(m.pair) != static_cast<bool>(pair))
    pair ? ++st.members_in_private : --st.members_in_private;
  m.pair = pair;
  m.partner = pair ? partner : 0;
  st.room = nullptr;
}

void invite_answered(lobby_ptr self, client_id id, const std::string& error) {
  auto i = self->state.members.find(id);
  if (i == self->state.members.end() || !i->second.invite)
    return;
  auto held = std::move(i->second.invite->held);
  i->second.invite.reset();
  if (!error.empty())
    tell(self, id, error);
  for (size_t k = 0; k < held.size(); ++k) {
    // A held invite may start another wait: the rest waits again.
    auto j = self->state.members.find(id);
    if (j != self->state.members.end() && j->second.invite) {
      auto& again = j->second.invite->held;
      again.insert(again.end(), std::make_move_iterator(held.begin() + k),
                   std::make_move_iterator(held.end()));
      return;
    }
    held[k]();
  }
}

void invite_answer_arrived(lobby_ptr self, client_id id,
                           const std::string& error) {
  auto i = self->state.members.find(id);
  if (i == self->state.members.end() || !i->second.invite)
    return;
  // The crossing's chat has not reached it yet: the refusal comes after.
  if (auto& invite = *i->second.invite; invite.crossed) {
    invite.early_answer = error;
    return;
  }
  if (!error.empty())
    invite_answered(self, id, error);
}

size_t tell_room(lobby_ptr self, const shared_text& line, client_id except) {
  auto& st = self->state;
  if (!st.room) {
    std::vector<client_link_ptr> links;
    links.reserve(st.members.size() - st.members_in_private);
    for (auto& [id, m] : st.members)
      if (!m.pair)
        links.push_back(m.link);
    st.room
      = std::make_shared<const std::vector<client_link_ptr>>(std::move(links));
  }
  if (st.room->empty())
    return 0;
  const client_link* skip = nullptr;
  if (auto i = st.members.find(except);
      i != st.members.end() && !i->second.pair)
    skip = i->second.link.get();
  st.config.fan_out->broadcast(st.room, skip, line);
  return st.room->size() - (skip ? 1 : 0);
}

void publish_gauges(lobby_ptr self) {
  auto& st = self->state;
  auto& stats = *st.config.stats;
  stats.active_pages.store(st.pagers.size(), std::memory_order_relaxed);
  stats.private_chats.store(st.pairs.size(), std::memory_order_relaxed);
  size_t linked = 0;
  for (auto& [node, p] : st.peers)
    if (p.known)
      ++linked;
  stats.peers.store(linked, std::memory_order_relaxed);
}

void announce(lobby_ptr self, client_id id, bool arrived) {
  auto& st = self->state;
  // A room is large when it has more than `announce_limit` members,
  // counting the client in question.
  auto room_size = main_room_size(st) + (arrived ? 0 : 1);
  if (room_size <= st.config.announce_limit) {
    auto what = arrived ? " connected" : " disconnected";
    tell_room(self, make_text(name_of(id) + what), id);
    return;
  }
  // The first since the last summary arms the timer for the next.
  if (st.arrivals == 0 && st.departures == 0)
    self->delayed_send(self, std::chrono::seconds{1}, summary_atom_v);
  ++(arrived ? st.arrivals : st.departures);
}

// Stops a pager at once: the exit message goes ahead of a pending tick.
void stop_pager(lobby_ptr self, const pager_actor& pager) {
  caf::anon_send<caf::message_priority::high>(
    caf::actor_cast<caf::actor>(pager),
    caf::exit_msg{self->address(), caf::exit_reason::user_shutdown});
}

void start_page(lobby_ptr self, client_id pager_id) {
  auto& st = self->state;
  if (st.pagers.count(pager_id) != 0)
    return;
  std::map<client_id, client_link_ptr> recipients;
  for (auto& [other, m] : st.members)
    if (other != pager_id && !m.gone)
      recipients.emplace(other, m.link);
  st.pagers.emplace(pager_id, self->spawn(pager, std::move(recipients),
                                          st.config.page_interval));
  publish_gauges(self);
}

void stop_page(lobby_ptr self, client_id id) {
  auto& pagers = self->state.pagers;
  if (auto i = pagers.find(id); i != pagers.end()) {
    stop_pager(self, i->second);
    pagers.erase(i);
    publish_gauges(self);
  }
}

bool stop_pages_except(lobby_ptr self, client_id id) {
  auto& pagers = self->state.pagers;
  auto stopped = false;
  for (auto i = pagers.begin(); i != pagers.end();) {
    if (i->first == id) {
      ++i;
    } else {
      stop_pager(self, i->second);
      i = pagers.erase(i);
      stopped = true;
    }
  }
  if (stopped)
    publish_gauges(self);
  return stopped;
}

void end_chat_here(lobby_ptr self, client_id id) {
  auto i = self->state.members.find(id);
  if (i == self->state.members.end() || !i->second.pair)
    return;
  set_pair(self, id, {}, 0);
  auto& m = i->second;
  if (m.gone) {
    finish_departure(self, id);
    return;
  }
  self->send(m.session, room_atom_v, private_pair_actor{});
  m.link->send(make_text("Private chat ended."));
  tell_peers(self, private_atom_v, id, false);
}

void finish_departure(lobby_ptr self, client_id id) {
  auto& st = self->state;
  auto i = st.members.find(id);
  if (i == st.members.end())
    return;
  if (i->second.pair)
    set_pair(self, id, {}, 0);
  st.by_session.erase(i->second.session.address());
  st.members.erase(i);
  st.room = nullptr;
  announce(self, id, false);
  tell_peers(self, left_atom_v, id);
}

} // namespace lobby_rules

namespace {

using namespace lobby_rules;

// Numbers a client whose handshake completed and lets everyone know.
void admit(lobby_ptr self, session_actor& session, client_link_ptr& link) {
  auto& st = self->state;
  auto id = st.next_id;
  st.next_id += st.config.cluster_slots;
  st.highest[st.config.node - 1] = id;
  self->monitor(session);
  self->send(session, welcome_atom_v, id);
  link->send(make_text("You are " + name_of(id)));
  for (auto& [pager_id, pager] : st.pagers)
    self->send(pager, add_atom_v, id, link);
  st.by_session.emplace(session.address(), id);
  member m;
  m.session = std::move(session);
  m.link = std::move(link);
  st.members.emplace(id, std::move(m));
  st.room = nullptr;
  announce(self, id, true);
  tell_peers(self, joined_atom_v, id);
}

void on_hello(lobby_ptr self, session_actor& session, client_link_ptr& link) {
  auto& st = self->state;
  if (!st.numbering) {
    st.waiting.emplace_back(std::move(session), std::move(link));
    return;
  }
  admit(self, session, link);
}

// Asks private chat `pair` to end; `gone` is a member whose connection is
// gone, or 0. Never awaited: the pair may be on another node, which may
// not answer. The pair tells each remaining member's lobby (peer end); if
// it cannot be reached, this node ends its members' side itself.
void end_pair(lobby_ptr self, client_id id, client_id gone) {
  auto pair = self->state.members.at(id).pair;
  self->request(pair, self->state.config.cluster_timeout, end_atom_v, gone)
    .then([self, gone](caf::ok_atom) {
            if (gone != 0)
              finish_departure(self, gone);
          },
          [self, id, gone, pair](caf::error&) {
            auto i = self->state.members.find(id);
            if (i == self->state.members.end())
              return;
            if (i->second.pair == pair)
              end_chat_here(self, id);
            else if (gone == 0) // the leave came after the end
              tell(self, id, "Error: you are not in a private chat");
          });
}

// The handlers of frames from clients; client_frame() below stops the
// other clients' pages before each.

void on_say(lobby_ptr self, client_id id, const shared_text& line) {
  auto& st = self->state;
  auto i = st.members.find(id);
  if (i == st.members.end())
    return;
  // Sent before its session heard of the pair: the line belongs there.
  if (i->second.pair) {
    say_in_private(self, i->second.pair, id, *line,
                   [self, id](std::string x) { tell(self, id, std::move(x)); });
    return;
  }
  auto sent = tell_room(self, line, id);
  st.config.stats->deliveries.fetch_add(sent, std::memory_order_relaxed);
  tell_peers(self, relay_atom_v, id, *line);
}

// A frame that asks nothing of the lobby: it only stops the pages.
void on_typed(lobby_ptr, client_id) {
  // nop
}

void on_page(lobby_ptr self, client_id id) {
  if (self->state.pagers.count(id) != 0)
    return;
  start_page(self, id);
  tell_peers(self, page_atom_v, id);
}

void on_invite(lobby_ptr self, client_id id, client_id target,
               const std::string& arg) {
  auto& st = self->state;
  auto inviter = st.members.find(id);
  if (inviter == st.members.end())
    return;
  if (inviter->second.pair || inviter->second.invite) {
    tell(self, id,
         "Error: you are already in a private chat; type leave first");
    return;
  }
  auto local = st.members.find(target);
  auto remote = st.remote.find(target);
  if (local == st.members.end() && !remote) {
    tell(self, id, "Error: no such client: " + arg);
    return;
  }
  if (target == id) {
    tell(self, id, "Error: you cannot invite yourself");
    return;
  }
  auto busy = "Error: " + name_of(target) + " is already in a private chat";
  if (local != st.members.end()) {
    auto& b = local->second;
    if (b.pair || b.invite || b.gone) {
      tell(self, id, busy);
      return;
    }
    // Both are taken at once; the pair brings them their notices.
    auto home = caf::actor_cast<peer_actor>(self);
    auto pair = self->spawn(private_pair, pair_member{id, home},
                            pair_member{target, home}, st.config.stats);
    self->monitor(pair);
    st.pairs.emplace(pair.address(), pair);
    set_pair(self, id, pair, target);
    set_pair(self, target, pair, id);
    publish_gauges(self);
    return;
  }
  if (remote->in_private) {
    tell(self, id, busy);
    return;
  }
  // The target's node decides and starts the pair; its room message
  // brings this client in.
  auto node = remote->node;
  auto& p = st.peers.at(node);
  auto& invite = *(inviter->second.invite = std::make_unique<pending_invite>());
  invite.node = node;
  invite.target = target;
  invite.arg = arg;
  p.sent += wire_size(invite_atom_v, id, target, arg);
  self
    ->request(p.lobby, st.config.cluster_timeout, peer_atom_v, invite_atom_v,
              id, target, arg)
    .then(
      [self, id](const std::string& error) {
        invite_answer_arrived(self, id, error);
      },
      [self, id, arg](caf::error&) {
        invite_answer_arrived(self, id, "Error: no such client: " + arg);
      });
}

void on_leave(lobby_ptr self, client_id id) {
  auto i = self->state.members.find(id);
  if (i == self->state.members.end())
    return;
  if (!i->second.pair)
    tell(self, id, "Error: you are not in a private chat");
  else
    end_pair(self, id, 0);
}

void on_who(lobby_ptr self, client_id id) {
  auto& st = self->state;
  auto total = online(st);
  tell(self, id, "Online: " + std::to_string(total));
  // Both the members and the roster are in number order: merge them.
  auto local = st.members.begin();
  auto remote = st.remote.begin();
  for (size_t listed = 0;
       local != st.members.end() || remote != st.remote.end(); ++listed) {
    if (listed == st.config.who_limit) {
      auto rest = total - st.config.who_limit;
      tell(self, id, "\u2026 and " + std::to_string(rest) + " more");
      break;
    }
    auto take_local = remote == st.remote.end()
                      || (local != st.members.end()
                          && local->first < remote->id);
    auto other = take_local ? local->first : remote->id;
    auto in_private = take_local ? static_cast<bool>(local->second.pair)
                                 : remote->in_private;
    if (take_local)
      ++local;
    else
      ++remote;
    auto line = name_of(other);
    if (other == id)
      line += " (you)";
    if (in_private)
      line += " (private chat)";
    tell(self, id, std::move(line));
  }
}

// Returns the handler of one kind of frame from a client: `Atom`, the
// client's number, then `Ts`. Any frame from a client, whatever it asks
// for, first stops the pages of every other client, on every node: this
// is where.
template <class Atom, class... Ts>
auto client_frame(lobby_ptr self, void (*handle)(lobby_ptr, client_id, Ts...)) {
  return [self, handle](Atom, client_id id, Ts... xs) {
    if (stop_pages_except(self, id))
      tell_peers(self, typed_atom_v, id);
    auto i = self->state.members.find(id);
    if (i != self->state.members.end() && i->second.invite) {
      i->second.invite->held.emplace_back(
        [self, handle, id, xs...] { handle(self, id, xs...); });
      return;
    }
    handle(self, id, xs...);
  };
}

void on_summary(lobby_ptr self) {
  auto& st = self->state;
  auto line = std::to_string(st.arrivals) + " clients connected, "
              + std::to_string(st.departures) + " disconnected ("
              + std::to_string(online(st)) + " online)";
  tell_room(self, make_text(std::move(line)), 0);
  st.arrivals = 0;
  st.departures = 0;
}

void on_session_down(lobby_ptr self, client_id id) {
  auto& st = self->state;
  // A page ends when its pager disconnects.
  stop_page(self, id);
  for (auto& [pager_id, pager] : st.pagers)
    self->send(pager, remove_atom_v, id);
  auto& m = st.members.at(id);
  m.gone = true;
  // A member of a private chat stays a member until its pair has ended.
  if (m.pair) {
    end_pair(self, id, id); // then removes it and announces the departure
    return;
  }
  finish_departure(self, id);
}

void on_down(lobby_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  if (auto i = st.by_session.find(msg.source); i != st.by_session.end()) {
    auto id = i->second;
    // Its frames before the disconnect wait for its invite's answer.
    if (auto& m = st.members.at(id); m.invite)
      m.invite->held.emplace_back([self, id] { on_session_down(self, id); });
    else
      on_session_down(self, id);
    return;
  }
  if (st.pairs.erase(msg.source) != 0) {
    st.ended_pairs.erase(msg.source);
    publish_gauges(self);
    return;
  }
  if (auto i = st.by_peer.find(msg.source); i != st.by_peer.end())
    on_peer_down(self, i->second);
}

} // namespace

void lobby_rules::start_numbering(lobby_ptr self) {
  auto& st = self->state;
  if (st.numbering)
    return;
  st.numbering = true;
  auto waiting = std::move(st.waiting);
  for (auto& [session, link] : waiting)
    admit(self, session, link);
}

lobby_actor::behavior_type lobby(lobby_ptr self, lobby_config config) {
  auto& st = self->state;
  st.config = config;
  assert(config.node >= 1 && config.node <= config.cluster_slots);
  st.next_id = config.node;
  st.highest.assign(config.cluster_slots, 0);
  if (config.await_cluster) {
    st.numbering = false;
    self->delayed_send(self, config.cluster_timeout, ready_atom_v);
  }
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  // Children with timers would outlive us, pairs would wait for us: stop
  // them when we stop.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [id, pager] : self->state.pagers)
      stop_pager(self, pager);
    for (auto& [addr, pair] : self->state.pairs)
      self->send_exit(pair, msg.reason);
    self->quit(msg.reason);
  });
  return {
    // This node's clients.
    [self](hello_atom, session_actor& session, client_link_ptr& link) {
      on_hello(self, session, link);
    },
    client_frame<say_atom>(self, on_say),
    client_frame<typed_atom>(self, on_typed),
    client_frame<page_atom>(self, on_page),
    client_frame<invite_atom>(self, on_invite),
    client_frame<leave_atom>(self, on_leave),
    client_frame<who_atom>(self, on_who),
    [self](summary_atom) { on_summary(self); },
    [self](ready_atom) { start_numbering(self); },
    // The cluster: peer_links, the other nodes' lobbies, private pairs.
    [self](linked_atom, node_index node, const peer_actor& lobby) {
      on_linked(self, node, lobby);
    },
    [self](peer_atom, roster_atom, node_index node, const client_ids& clients,
           const client_ids& in_private, const client_ids& paging,
           const client_ids& highest) {
      on_roster(self, node, clients, in_private, paging, highest);
    },
    from_peer<joined_atom>(self, on_joined),
    from_peer<left_atom>(self, on_left),
    from_peer<private_atom>(self, on_private),
    from_peer<relay_atom>(self, on_relay),
    from_peer<typed_atom>(self, on_remote_typed),
    from_peer<page_atom>(self, on_remote_page),
    [self](peer_atom, ack_atom, uint64_t total) { on_ack(self, total); },
    from_peer<drop_atom>(self, on_dropped),
    [self](peer_atom, invite_atom, client_id inviter, client_id target,
           const std::string& arg) {
      return on_remote_invite(self, inviter, target, arg);
    },
    [self](peer_atom, room_atom, client_id id, const private_pair_actor& pair,
           client_id partner) { on_pair_room(self, id, pair, partner); },
    [self](peer_atom, tell_atom, client_id id, const std::string& line) {
      on_pair_tell(self, id, line);
    },
    [self](peer_atom, end_atom, client_id id, const private_pair_actor& pair) {
      on_pair_end(self, id, pair);
    },
    [self](drop_atom, node_index node) { on_retry(self, node); },
  };
}

} // namespace chat
