// Protocol sketch:
//   on start:  pair -> each member's lobby (peer room): the lobby routes
//              the member's chat lines here, then tells the client whom it
//              is chatting with
//   say:       session -> pair; the line goes to the other member's lobby
//              (peer tell), which writes it to that client only
//   end:       lobby -> pair (request); each member still connected is
//              moved back to the main room by its lobby (peer end) and told
//              `Private chat ended.`, then the pair replies and quits. The
//              requester acts on the reply only after the notices went out.

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
  self->send(st.a.home, peer_atom_v, room_atom_v, st.a.id, handle, st.b.id);
  self->send(st.b.home, peer_atom_v, room_atom_v, st.b.id, handle, st.a.id);
  return {
    [self](say_atom, client_id from, std::string& line) {
      auto& st = self->state;
      auto& to = from == st.a.id ? st.b : st.a;
      self->send(to.home, peer_atom_v, tell_atom_v, to.id, std::move(line));
      st.stats->deliveries.fetch_add(1, std::memory_order_relaxed);
      return caf::ok_atom_v;
    },
    [self](end_atom, client_id gone) {
      auto handle = caf::actor_cast<private_pair_actor>(self);
      for (auto* member : {&self->state.a, &self->state.b})
        if (member->id != gone)
          self->send(member->home, peer_atom_v, end_atom_v, member->id,
                     handle);
      self->quit();
      return caf::ok_atom_v;
    },
  };
}

} // namespace chat
