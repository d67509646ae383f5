// Protocol sketch:
//   hello:   spawner -> lobby; number the client, welcome its session, greet
//            the client, announce it to the main room, add it to running
//            pages; monitor the session
//   say, typed, page, invite, leave, who: a frame from a client; each first
//            stops the pages of all other clients (client_frame)
//   say:     a main-room line: to every other main-room member
//   invite:  checks, then spawns a private pair; both leave the main room
//   leave, session down: the pair is ended (request, awaited) before its
//            members count as main-room members again, or a gone one as gone
//   summary: timer armed by the first large-room arrival or departure
//   stats:   deliveries, running pages and private chats are published to
//            config.stats (relaxed atomics) for /metrics; nobody waits on them

#include "actors/lobby_actor.hpp"

#include <cassert>
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

// Returns how many members the main room has: every member but those of
// the running private chats, which keep both members in `members` until
// they have ended. Derived in O(1): large-room arrivals check it.
size_t main_room_size(const lobby_state& st) {
  return st.members.size() - 2 * st.chats.size();
}

// add_member, remove_member, start_chat and end_chat are the only writers of
// who is where. Each drops the main room's link group when the room changes;
// the room's next line rebuilds it.

// Adds a newcomer to the main room.
void add_member(lobby_state& st, client_id id, member m) {
  st.by_session.emplace(m.session.address(), id);
  st.members.emplace(id, std::move(m));
  st.room = nullptr;
}

// Removes a client that disconnected; it must not be in a private chat.
void remove_member(lobby_state& st, client_id id) {
  auto i = st.members.find(id);
  assert(i != st.members.end() && !i->second.pair);
  st.by_session.erase(i->second.session.address());
  st.members.erase(i);
  st.room = nullptr;
}

// Moves two main-room members into private chat `pair`.
void start_chat(lobby_state& st, client_id inviter, client_id invitee,
                const private_pair_actor& pair) {
  st.members.at(inviter).pair = pair;
  st.members.at(invitee).pair = pair;
  st.chats.emplace(pair.address(), private_chat{inviter, invitee});
  st.room = nullptr;
}

// Moves the members of private chat `pair` back to the main room.
void end_chat(lobby_state& st, const private_pair_actor& pair) {
  auto i = st.chats.find(pair.address());
  assert(i != st.chats.end());
  for (auto id : {i->second.inviter, i->second.invitee})
    st.members.at(id).pair = nullptr;
  st.chats.erase(i);
  st.room = nullptr;
}

// Sends one shared line to every main-room member except `except`; returns
// how many received it.
size_t tell_room(lobby_ptr self, const shared_text& line, client_id except) {
  auto& st = self->state;
  if (!st.room) {
    std::vector<client_link_ptr> links;
    links.reserve(main_room_size(st));
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
  stats.private_chats.store(st.chats.size(), std::memory_order_relaxed);
}

// Stops a pager at once: the exit message goes ahead of a pending tick.
void stop_pager(lobby_ptr self, const pager_actor& pager) {
  caf::anon_send<caf::message_priority::high>(
    caf::actor_cast<caf::actor>(pager),
    caf::exit_msg{self->address(), caf::exit_reason::user_shutdown});
}

// Stops the pages of every client but `id`.
void stop_pages_except(lobby_ptr self, client_id id) {
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
}

// Announces an arrival or departure to the main room: one by one in a small
// room, summed up once per second in a large one. A room is large when it
// has more than `announce_limit` members, counting the client in question.
void announce(lobby_ptr self, client_id id, bool arrived) {
  auto& st = self->state;
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

// Ends private chat `pair`. `gone` is a member that disconnected, or 0. The
// lobby awaits the pair, which tells the members still connected, before
// they count as main-room members again and `gone` as gone; so no other
// message sees a chat half-ended.
void end_pair(lobby_ptr self, const private_pair_actor& pair, client_id gone) {
  auto back_to_room = [self, pair, gone] {
    end_chat(self->state, pair);
    publish_gauges(self);
    if (gone != 0) {
      remove_member(self->state, gone);
      announce(self, gone, false);
    }
  };
  self->request(pair, caf::infinite, end_atom_v, gone)
    .await([back_to_room](caf::ok_atom) { back_to_room(); },
           [back_to_room](caf::error&) { back_to_room(); });
}

void on_hello(lobby_ptr self, session_actor& session, client_link_ptr& link) {
  auto& st = self->state;
  auto id = st.next_id++;
  self->monitor(session);
  self->send(session, welcome_atom_v, id);
  link->send(make_text("You are " + name_of(id)));
  for (auto& [pager_id, pager] : st.pagers)
    self->send(pager, add_atom_v, id, link);
  add_member(st, id, member{std::move(session), std::move(link), {}});
  announce(self, id, true);
}

// The handlers of frames from clients; client_frame() below stops the
// other clients' pages before each.

void on_say(lobby_ptr self, client_id id, const shared_text& line) {
  auto& st = self->state;
  // Sent before its session heard of the pair: the line belongs there.
  if (auto i = st.members.find(id); i != st.members.end() && i->second.pair) {
    say_in_private(self, i->second.pair, id, line,
                   [self, id](std::string x) { tell(self, id, std::move(x)); });
    return;
  }
  auto sent = tell_room(self, line, id);
  st.config.stats->deliveries.fetch_add(sent, std::memory_order_relaxed);
}

// A frame that asks nothing of the lobby: it only stops the pages.
void on_typed(lobby_ptr, client_id) {
  // nop
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

void on_invite(lobby_ptr self, client_id id, client_id target,
               const std::string& arg) {
  auto& members = self->state.members;
  auto inviter = members.find(id);
  if (inviter == members.end())
    return;
  if (inviter->second.pair) {
    tell(self, id,
         "Error: you are already in a private chat; type leave first");
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
         "Error: " + name_of(target) + " is already in a private chat");
    return;
  }
  auto& a = inviter->second;
  auto& b = invitee->second;
  auto pair = self->spawn(private_pair, pair_member{id, a.session, a.link},
                          pair_member{target, b.session, b.link},
                          self->state.config.stats);
  start_chat(self->state, id, target, pair);
  publish_gauges(self);
}

void on_leave(lobby_ptr self, client_id id) {
  auto i = self->state.members.find(id);
  if (i == self->state.members.end())
    return;
  if (!i->second.pair)
    tell(self, id, "Error: you are not in a private chat");
  else
    end_pair(self, i->second.pair, 0);
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

// Returns the handler of one kind of frame from a client: `Atom`, the
// client's number, then `Ts`. Any frame from a client, whatever it asks
// for, first stops the pages of every other client: this is where.
template <class Atom, class... Ts>
auto client_frame(lobby_ptr self, void (*handle)(lobby_ptr, client_id, Ts...)) {
  return [self, handle](Atom, client_id id, Ts... xs) {
    stop_pages_except(self, id);
    handle(self, id, xs...);
  };
}

void on_summary(lobby_ptr self) {
  auto& st = self->state;
  auto line = std::to_string(st.arrivals) + " clients connected, "
              + std::to_string(st.departures) + " disconnected ("
              + std::to_string(st.members.size()) + " online)";
  tell_room(self, make_text(std::move(line)), 0);
  st.arrivals = 0;
  st.departures = 0;
}

void on_session_down(lobby_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  auto i = st.by_session.find(msg.source);
  if (i == st.by_session.end())
    return;
  auto id = i->second;
  // A page ends when its pager disconnects.
  if (auto p = st.pagers.find(id); p != st.pagers.end()) {
    stop_pager(self, p->second);
    st.pagers.erase(p);
    publish_gauges(self);
  }
  for (auto& [pager_id, pager] : st.pagers)
    self->send(pager, remove_atom_v, id);
  // A member of a private chat stays a member until its pair has ended.
  if (auto& pair = st.members.at(id).pair) {
    end_pair(self, pair, id); // then removes it and announces the departure
    return;
  }
  remove_member(st, id);
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
    client_frame<say_atom>(self, on_say),
    client_frame<typed_atom>(self, on_typed),
    client_frame<page_atom>(self, on_page),
    client_frame<invite_atom>(self, on_invite),
    client_frame<leave_atom>(self, on_leave),
    client_frame<who_atom>(self, on_who),
    [self](summary_atom) { on_summary(self); },
  };
}

} // namespace chat
