// Protocol sketch:
//   on start:  both sessions route their chat lines here from now on, then
//              both clients learn whom they are chatting with
//   say:       session -> pair; the line goes to the other member only
//   end:       lobby -> pair (request); the members still connected route
//              their lines to the main room again and are told `Private chat
//              ended.`, then the pair replies and quits. The lobby waits for
//              that reply before it puts them back in the main room, so
//              nothing from the room overtakes the notice.

#include "actors/private_pair_actor.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace chat {

private_pair_actor::behavior_type
private_pair(private_pair_actor::stateful_pointer<private_pair_state> self,
             pair_member inviter, pair_member invitee, chat_stats_ptr stats) {
  auto& st = self->state;
  st.a = std::move(inviter);
  st.b = std::move(invitee);
  st.stats = std::move(stats);
  auto handle = caf::actor_cast<private_pair_actor>(self);
  for (auto* member : {&st.a, &st.b})
    self->send(member->session, room_atom_v, handle);
  st.a.link->send(
    make_text("Private chatting with Client " + std::to_string(st.b.id)));
  st.b.link->send(
    make_text("Private chatting with Client " + std::to_string(st.a.id)));
  return {
    [self](say_atom, client_id from, shared_text& line) {
      auto& st = self->state;
      auto& to = from == st.a.id ? st.b : st.a;
      to.link->send(std::move(line));
      st.stats->deliveries.fetch_add(1, std::memory_order_relaxed);
      return caf::ok_atom_v;
    },
    [self](end_atom, client_id gone) {
      auto ended = make_text("Private chat ended.");
      for (auto* member : {&self->state.a, &self->state.b}) {
        if (member->id == gone)
          continue;
        self->send(member->session, room_atom_v, private_pair_actor{});
        member->link->send(ended);
      }
      self->quit();
      return caf::ok_atom_v;
    },
  };
}

} // namespace chat
