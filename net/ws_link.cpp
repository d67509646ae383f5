#include "net/ws_link.hpp"

namespace net {

void ws_link::send(chat::shared_text text) {
  auto* server = &server_;
  asio::post(server->io(), [server, con = con_, text = std::move(text)] {
    if (auto ptr = con.lock())
      server->send(ptr, *text);
  });
}

} // namespace net
