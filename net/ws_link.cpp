#include "net/ws_link.hpp"

namespace net {

void ws_link::send(chat::shared_text text) {
  server_.deliver(con_, std::move(text));
}

} // namespace net
