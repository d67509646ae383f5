// Protocol sketch:
//   hello:   spawner -> lobby; number the client, welcome its session, greet
//            the client, announce it to the main room, add it to running
//            pages; monitor the session
//   say:     a main-room line: to every other main-room member
//   typed, page, invite, leave, who: every frame from a client first stops
//            the pages of all other clients
//   invite:  checks, then spawns a private pair; both leave the main room
//   leave, session down: the pair is ended (request, awaited) before its
//            members count as main-room members again
//   summary: timer armed by the first large-room arrival or departure
//   stats:   deliveries, running pages and private chats are published to
//            config.stats (relaxed atomics) for /metrics; nobody waits on them

#include "actors/lobby_actor.hpp"

#include <string>

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/pager_actor.hpp"
#include "actors/private_pair_actor.hpp"

namespace chat {

namespace {

using lobby_ptr = lobby_actor::stateful_pointer<lobby_state>;

std::string name_of(client_id id) {
  return "Client " + std::to_string(id);
}

// Sends one line to one client, if it is still connected.
void tell(lobby_ptr self, client_id id, std::string line) {
  auto i = self->state.members.find(id);
  if (i != self->state.members.end())
    i->second.link->send(make_text(std::move(line)));
}

// Records that `delta` members joined (or left) the main room; the room's
// link group is rebuilt on its next line.
void room_changed(lobby_state& st, int delta) {
  st.main_room_size += delta;
  st.room = nullptr;
}

// Sends one shared line to every main-room member except `except`; returns
// how many received it.
size_t tell_room(lobby_ptr self, const shared_text& line, client_id except) {
  auto& st = self->state;
  if (!st.room) {
    std::vector<client_link_ptr> links;
    links.reserve(st.main_room_size);
    for (auto& [id, m] : st.members)
      if (!m.pair)
        links.push_back(m.link);
    st.room
      = std::make_shared<const std::vector<client_link_ptr>>(std::move(links));
  }
  const client_link* skip = nullptr;
  if (auto i = st.members.find(except);
      i != st.members.end() && !i->second.pair)
    skip = i->second.link.get();
  st.config.fan_out->broadcast(st.room, skip, line);
  return st.room->size() - (skip ? 1 : 0);
}

// Publishes the gauges for /metrics after anything that may change them.
void publish_gauges(lobby_ptr self) {
  auto& st = self->state;
  auto& stats = *st.config.stats;
  stats.active_pages.store(st.pagers.size(), std::memory_order_relaxed);
  stats.private_chats.store(st.private_chats, std::memory_order_relaxed);
}

// Stops a pager at once: the exit message goes ahead of a pending tick.
void stop_pager(lobby_ptr self, const pager_actor& pager) {
  caf::anon_send<caf::message_priority::high>(
    caf::actor_cast<caf::actor>(pager),
    caf::exit_msg{self->address(), caf::exit_reason::user_shutdown});
}

// Any frame from a client stops the pages of every other client.
void stop_pages_except(lobby_ptr self, client_id id) {
  auto& pagers = self->state.pagers;
  for (auto i = pagers.begin(); i != pagers.end();) {
    if (i->first == id) {
      ++i;
    } else {
      stop_pager(self, i->second);
      i = pagers.erase(i);
    }
  }
  publish_gauges(self);
}

// Announces an arrival or departure to the main room: one by one in a small
// room, summed up once per second in a large one. A room is large when it
// has more than `announce_limit` members, counting the client in question.
void announce(lobby_ptr self, client_id id, bool arrived) {
  auto& st = self->state;
  auto room_size = st.main_room_size + (arrived ? 0 : 1);
  if (room_size <= st.config.announce_limit) {
    auto what = arrived ? " connected" : " disconnected";
    tell_room(self, make_text(name_of(id) + what), id);
    return;
  }
  ++(arrived ? st.arrivals : st.departures);
  if (!st.summary_due) {
    st.summary_due = true;
    self->delayed_send(self, std::chrono::seconds{1}, summary_atom_v);
  }
}

// Ends a private chat. `gone` is a member that disconnected, or 0. The other
// members return to the main room once the pair has told them.
void end_pair(lobby_ptr self, client_id id, client_id gone) {
  auto& member = self->state.members.at(id);
  auto pair = member.pair;
  auto ids = std::make_pair(id, member.partner);
  auto back_to_room = [self, pair, ids, gone] {
    for (auto x : {ids.first, ids.second}) {
      auto i = self->state.members.find(x);
      if (x == gone || i == self->state.members.end() || i->second.pair != pair)
        continue;
      i->second.pair = nullptr;
      i->second.partner = 0;
      room_changed(self->state, 1);
    }
    --self->state.private_chats;
    publish_gauges(self);
    if (gone != 0)
      announce(self, gone, false);
  };
  self->request(pair, caf::infinite, end_atom_v, gone)
    .await([back_to_room](caf::ok_atom) { back_to_room(); },
           [back_to_room](caf::error&) { back_to_room(); });
}

// Hands a line to the sender's private chat; if that ended meanwhile, the
// line reaches nobody and the sender is told.
void relay_to_pair(lobby_ptr self, const private_pair_actor& pair, client_id id,
                   const shared_text& line) {
  self->request(pair, caf::infinite, say_atom_v, id, line)
    .then([](caf::ok_atom) {},
          [self, id](caf::error&) { tell(self, id, line_lost_error); });
}

void on_hello(lobby_ptr self, session_actor& session, client_link_ptr& link) {
  auto& st = self->state;
  auto id = st.next_id++;
  self->monitor(session);
  self->send(session, welcome_atom_v, id);
  st.by_session.emplace(session.address(), id);
  link->send(make_text("You are " + name_of(id)));
  for (auto& [pager_id, pager] : st.pagers)
    self->send(pager, add_atom_v, id, link);
  st.members.emplace(id, member{std::move(session), std::move(link), {}, 0});
  room_changed(st, 1);
  announce(self, id, true);
}

void on_invite(lobby_ptr self, client_id id, client_id target,
               const std::string& arg) {
  auto& members = self->state.members;
  auto inviter = members.find(id);
  if (inviter == members.end())
    return;
  if (inviter->second.pair) {
    tell(self, id,
         "Error: you are already in a private chat; type leave "
         "first");
    return;
  }
  auto invitee = members.find(target);
  if (invitee == members.end()) {
    tell(self, id, "Error: no such client: " + arg);
    return;
  }
  if (target == id) {
    tell(self, id, "Error: you cannot invite yourself");
    return;
  }
  if (invitee->second.pair) {
    tell(self, id,
         "Error: " + name_of(target)
           + " is already in a private "
             "chat");
    return;
  }
  auto& a = inviter->second;
  auto& b = invitee->second;
  auto pair = self->spawn(private_pair, pair_member{id, a.session, a.link},
                          pair_member{target, b.session, b.link},
                          self->state.config.stats);
  a.pair = pair;
  a.partner = target;
  b.pair = pair;
  b.partner = id;
  room_changed(self->state, -2);
  ++self->state.private_chats;
  publish_gauges(self);
}

void on_page(lobby_ptr self, client_id id) {
  auto& st = self->state;
  if (st.pagers.count(id) != 0)
    return;
  std::map<client_id, client_link_ptr> recipients;
  for (auto& [other, m] : st.members)
    if (other != id)
      recipients.emplace(other, m.link);
  st.pagers.emplace(id, self->spawn(pager, std::move(recipients),
                                    st.config.page_interval));
  publish_gauges(self);
}

void on_who(lobby_ptr self, client_id id) {
  auto& st = self->state;
  tell(self, id, "Online: " + std::to_string(st.members.size()));
  size_t listed = 0;
  for (auto& [other, m] : st.members) {
    if (listed++ == st.config.who_limit) {
      auto rest = st.members.size() - st.config.who_limit;
      tell(self, id, "\u2026 and " + std::to_string(rest) + " more");
      break;
    }
    auto line = name_of(other);
    if (other == id)
      line += " (you)";
    if (m.pair)
      line += " (private chat)";
    tell(self, id, std::move(line));
  }
}

void on_session_down(lobby_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  auto i = st.by_session.find(msg.source);
  if (i == st.by_session.end())
    return;
  auto id = i->second;
  st.by_session.erase(i);
  // A page ends when its pager disconnects.
  if (auto p = st.pagers.find(id); p != st.pagers.end()) {
    stop_pager(self, p->second);
    st.pagers.erase(p);
    publish_gauges(self);
  }
  for (auto& [pager_id, pager] : st.pagers)
    self->send(pager, remove_atom_v, id);
  if (st.members.at(id).pair) {
    end_pair(self, id, id); // announces the departure once the pair ended
    st.members.erase(id);
    return;
  }
  st.members.erase(id);
  room_changed(st, -1);
  announce(self, id, false);
}

} // namespace

lobby_actor::behavior_type lobby(lobby_ptr self, lobby_config config) {
  self->state.config = config;
  self->set_down_handler(
    [self](caf::down_msg& msg) { on_session_down(self, msg); });
  // Children with timers would outlive us: stop them when we stop.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [id, pager] : self->state.pagers)
      stop_pager(self, pager);
    self->quit(msg.reason);
  });
  return {
    [self](hello_atom, session_actor& session, client_link_ptr& link) {
      on_hello(self, session, link);
    },
    [self](say_atom, client_id id, const shared_text& line) {
      stop_pages_except(self, id);
      // Sent before its session heard of the pair: the line belongs there.
      if (auto i = self->state.members.find(id);
          i != self->state.members.end() && i->second.pair) {
        relay_to_pair(self, i->second.pair, id, line);
        return;
      }
      auto sent = tell_room(self, line, id);
      self->state.config.stats->deliveries.fetch_add(sent,
                                                     std::memory_order_relaxed);
    },
    [self](typed_atom, client_id id) { stop_pages_except(self, id); },
    [self](page_atom, client_id id) {
      stop_pages_except(self, id);
      on_page(self, id);
    },
    [self](invite_atom, client_id id, client_id target,
           const std::string& arg) {
      stop_pages_except(self, id);
      on_invite(self, id, target, arg);
    },
    [self](leave_atom, client_id id) {
      stop_pages_except(self, id);
      auto i = self->state.members.find(id);
      if (i == self->state.members.end())
        return;
      if (!i->second.pair)
        tell(self, id, "Error: you are not in a private chat");
      else
        end_pair(self, id, 0);
    },
    [self](who_atom, client_id id) {
      stop_pages_except(self, id);
      on_who(self, id);
    },
    [self](summary_atom) {
      auto& st = self->state;
      auto line = std::to_string(st.arrivals) + " clients connected, "
                  + std::to_string(st.departures) + " disconnected ("
                  + std::to_string(st.members.size()) + " online)";
      tell_room(self, make_text(std::move(line)), 0);
      st.arrivals = 0;
      st.departures = 0;
      st.summary_due = false;
    },
  };
}

} // namespace chat
