#pragma once

#include <memory>

#include "actors/client_link.hpp"
#include "net/ws_server.hpp"

namespace net {

/// A client_link to one websocketpp connection. Actors call it from their
/// threads; it posts each call onto the Asio thread, the only thread that
/// touches websocketpp objects.
class ws_link : public chat::client_link {
public:
  ws_link(asio::io_context& io, std::weak_ptr<ws_endpoint::connection_type> con,
          bridge_stats& stats)
    : io_(io), con_(std::move(con)), stats_(stats) {
    // nop
  }

  void send(chat::shared_text text) override;

  void close(uint16_t code, std::string reason) override;

private:
  asio::io_context& io_;
  std::weak_ptr<ws_endpoint::connection_type> con_;
  bridge_stats& stats_;
};

} // namespace net
