#pragma once

#include <memory>

#include "actors/client_link.hpp"
#include "net/fan_out.hpp"
#include "net/ws_types.hpp"

namespace net {

/// A client_link to one websocketpp connection. Actors call send() from
/// their threads; the fan-out takes each line over to the Asio thread, the
/// only thread that touches (or owns) websocketpp objects.
class ws_link final : public chat::client_link,
                      public std::enable_shared_from_this<ws_link> {
public:
  ws_link(fan_out& out, std::weak_ptr<ws_connection> con)
    : out_(out), con_(std::move(con)) {
    // nop
  }

  void send(chat::shared_text text) override;

  /// The connection's sink, sharing the connection's ownership: for the
  /// fan-out, on the Asio thread only.
  std::shared_ptr<chat::link_sink> sink() const override;

private:
  fan_out& out_;
  std::weak_ptr<ws_connection> con_;
};

/// Hands each broadcast to the fan-out as a whole: one hand-over per line,
/// not one per recipient.
class ws_broadcaster final : public chat::broadcaster {
public:
  explicit ws_broadcaster(fan_out& out) : out_(out) {
    // nop
  }

  void broadcast(const chat::link_group& group, const chat::client_link* except,
                 const chat::shared_text& text) override;

private:
  fan_out& out_;
};

} // namespace net
