#include "net/ws_link.hpp"

namespace net {

void ws_link::send(chat::shared_text text) {
  server_.deliver(con_, std::move(text));
}

void ws_broadcaster::broadcast(const chat::link_group& group,
                               const chat::client_link* except,
                               const chat::shared_text& text) {
  server_.deliver(group, except, text);
}

} // namespace net
