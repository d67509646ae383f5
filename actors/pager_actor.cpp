// Protocol sketch:
//   on start, tick: PAGING to every recipient; arm the next tick
//   add, remove:    lobby -> pager as clients come and go
//   stop:           the lobby sends an exit message, which overtakes a
//                   pending tick, so no PAGING follows another client's frame

#include "actors/pager_actor.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace chat {

namespace {

using pager_ptr = pager_actor::stateful_pointer<pager_state>;

void page_everyone(pager_ptr self) {
  for (auto& [id, link] : self->state.recipients)
    link->send(self->state.paging);
  self->delayed_send(self, self->state.interval, tick_atom_v);
}

} // namespace

pager_actor::behavior_type
pager(pager_ptr self, std::map<client_id, client_link_ptr> recipients,
      caf::timespan interval) {
  self->state.recipients = std::move(recipients);
  self->state.interval = interval;
  page_everyone(self);
  return {
    [self](add_atom, client_id id, client_link_ptr& link) {
      self->state.recipients.emplace(id, std::move(link));
    },
    [self](remove_atom, client_id id) { self->state.recipients.erase(id); },
    [self](tick_atom) { page_everyone(self); },
  };
}

} // namespace chat
