#pragma once

// The connector of peer links (cluster/peer_links) on a node with TLS: the
// dialer (cluster/link_dialer, the TLS client) connects, CAF's middleman
// actor links over the dialer's loopback relay.

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/timespan.hpp>

#include "cluster/link_dialer.hpp"
#include "cluster/peer_links.hpp"

namespace cluster {

/// Spawns the connector. `middleman` is `system.middleman().actor_handle()`;
/// every answer comes within `timeout`.
connector_actor spawn_tls_connector(caf::actor_system& system,
                                    std::shared_ptr<link_dialer> dialer,
                                    caf::io::middleman_actor middleman,
                                    caf::timespan timeout);

} // namespace cluster
