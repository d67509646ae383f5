#include "cluster/tls_connector.hpp"

#include <map>
#include <set>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

namespace cluster {

namespace {

struct tls_connector_state {
  static inline const char* name = "tls-connector";
  /// Attempts the dialer has not answered yet, by id.
  std::map<uint64_t, caf::response_promise> dialing;
};

using self_pointer = caf::stateful_actor<tls_connector_state>*;

// The dialer answered attempt `id`: link over its port, or fail.
void on_dialed(self_pointer self, const std::shared_ptr<link_dialer>& dialer,
               const caf::io::middleman_actor& middleman,
               caf::timespan timeout, uint64_t id, uint16_t port,
               const std::string& error) {
  auto i = self->state.dialing.find(id);
  if (i == self->state.dialing.end())
    return;
  auto rp = std::move(i->second);
  self->state.dialing.erase(i);
  if (port == 0) {
    rp.deliver(caf::make_error(caf::sec::cannot_connect_to_node, error));
    return;
  }
  self->request(middleman, timeout, caf::connect_atom_v,
                std::string{"127.0.0.1"}, port)
    .then(
      [=](caf::node_id& node, caf::strong_actor_ptr& ptr,
          std::set<std::string>& ifs) mutable {
        if (ptr)
          dialer->established(id);
        else
          dialer->abandon(id);
        rp.deliver(std::move(node), std::move(ptr), std::move(ifs));
      },
      [=](caf::error& err) mutable {
        // Also when the other node refused our certificate, or we its.
        dialer->abandon(id);
        rp.deliver(std::move(err));
      });
}

caf::behavior tls_connector(self_pointer self,
                            std::shared_ptr<link_dialer> dialer,
                            caf::io::middleman_actor middleman,
                            caf::timespan timeout) {
  return {
    [=](caf::connect_atom, std::string& host, uint16_t port) {
      auto rp = self->make_response_promise();
      auto me = caf::actor_cast<caf::actor>(self);
      auto id = dialer->dial(std::move(host), port,
                             [me](uint64_t id, uint16_t port,
                                  const std::string& error) {
                               caf::anon_send(me, caf::ok_atom_v, id, port,
                                              error);
                             });
      self->state.dialing.emplace(id, std::move(rp));
    },
    [=](caf::ok_atom, uint64_t id, uint16_t port, const std::string& error) {
      on_dialed(self, dialer, middleman, timeout, id, port, error);
    },
  };
}

} // namespace

connector_actor spawn_tls_connector(caf::actor_system& system,
                                    std::shared_ptr<link_dialer> dialer,
                                    caf::io::middleman_actor middleman,
                                    caf::timespan timeout) {
  auto actor = system.spawn(tls_connector, std::move(dialer),
                            std::move(middleman), timeout);
  return caf::actor_cast<connector_actor>(actor);
}

} // namespace cluster
