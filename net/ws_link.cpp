#include "net/ws_link.hpp"

#include "net/ws_config.hpp"

namespace net {

void ws_link::send(chat::shared_text text) {
  // Only looks at the connection: never takes a share of it here.
  if (!con_.expired())
    out_.hand_over(shared_from_this(), std::move(text));
}

std::shared_ptr<chat::link_sink> ws_link::sink() const {
  auto con = con_.lock();
  return con ? sink_of(std::move(con)) : nullptr;
}

void ws_broadcaster::broadcast(const chat::link_group& group,
                               const chat::client_link* except,
                               const chat::shared_text& text) {
  out_.hand_over(group, except, text);
}

} // namespace net
