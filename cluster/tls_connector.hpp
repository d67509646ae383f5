#pragma once

// The connector of peer links (cluster/peer_links) on a node with TLS: the
// dialer (cluster/link_dialer) connects, CAF's OpenSSL middleman actor
// links over the dialer's loopback relay (TLS client: it presents our
// certificate and checks the other node's against the CA).

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/timespan.hpp>

#include "cluster/link_dialer.hpp"
#include "cluster/peer_links.hpp"

namespace cluster {

/// Spawns the connector. `middleman` is
/// `system.openssl_manager().actor_handle()`; every answer comes within
/// `timeout`.
connector_actor spawn_tls_connector(caf::actor_system& system,
                                    std::shared_ptr<link_dialer> dialer,
                                    caf::io::middleman_actor middleman,
                                    caf::timespan timeout);

} // namespace cluster
