#pragma once

#include <memory>

#include "actors/client_link.hpp"
#include "net/ws_server.hpp"

namespace net {

/// A client_link to one websocketpp connection. Actors call it from their
/// threads; the server hands each line over to the Asio thread, the only
/// thread that touches websocketpp objects.
class ws_link : public chat::client_link {
public:
  ws_link(ws_server& server, std::weak_ptr<ws_endpoint::connection_type> con)
    : server_(server), con_(std::move(con)) {
    // nop
  }

  void send(chat::shared_text text) override;

  const std::weak_ptr<ws_endpoint::connection_type>& connection() const {
    return con_;
  }

private:
  ws_server& server_;
  std::weak_ptr<ws_endpoint::connection_type> con_;
};

/// Hands each broadcast to the server as a whole, for the Asio thread to
/// fan out. Every link in the groups it gets must be a ws_link of `server`.
class ws_broadcaster : public chat::broadcaster {
public:
  explicit ws_broadcaster(ws_server& server) : server_(server) {
    // nop
  }

  void broadcast(const chat::link_group& group, const chat::client_link* except,
                 const chat::shared_text& text) override;

private:
  ws_server& server_;
};

} // namespace net
