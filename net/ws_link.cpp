#include "net/ws_link.hpp"

#include "net/ws_config.hpp"

namespace net {

void ws_link::send(chat::shared_text text) {
  // Thread-safe: the connection is only locked here, never touched.
  if (auto to = sink())
    out_.hand_over(to, std::move(text));
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
