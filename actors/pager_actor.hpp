#pragma once

#include <map>

#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"

namespace chat {

struct pager_state {
  static inline const char* name = "pager";

  std::map<client_id, client_link_ptr> recipients;
  caf::timespan interval;
  shared_text paging = make_text("PAGING");
};

/// Sends `PAGING` to its recipients right away and then once per interval,
/// until the lobby stops it. The lobby keeps the recipient set current: every
/// connected client except the pager.
pager_actor::behavior_type
pager(pager_actor::stateful_pointer<pager_state> self,
      std::map<client_id, client_link_ptr> recipients, caf::timespan interval);

} // namespace chat
