#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "net/link_sink.hpp"
#include "net/ws_types.hpp"

namespace net {

/// One websocketpp connection as the fan-out sees it: its outbox, its
/// state and its close. Lives inside the connection it speaks for, so a
/// shared_ptr to the connection keeps it alive.
class ws_sink final : public chat::link_sink {
public:
  /// Speaks for `con` from now on; before this no other call is allowed.
  void attach(ws_connection& con);

  bool taking() const override;
  size_t backlog() const override;
  bool append(std::string_view frames) override;
  void flush() override;
  void drop(const std::string& why) override;

  /// Whether drop() was called.
  bool dropping() const {
    return dropping_;
  }

private:
  ws_connection* con_ = nullptr;
  bool dropping_ = false;
};

/// The sink of `con` (attached), sharing the connection's ownership.
std::shared_ptr<chat::link_sink> sink_of(ws_connection_ptr con);

} // namespace net
