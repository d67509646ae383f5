#include "net/ws_link.hpp"

namespace net {

void ws_link::send(chat::shared_text text) {
  auto* server = &server_;
  asio::post(server->io(), [server, con = con_, text = std::move(text)] {
    if (auto ptr = con.lock())
      server->send(ptr, *text);
  });
}

void ws_link::close(uint16_t code, std::string reason) {
  asio::post(server_.io(), [con = con_, code, reason = std::move(reason)] {
    if (auto ptr = con.lock()) {
      websocketpp::lib::error_code ec;
      ptr->close(code, reason, ec);
    }
  });
}

} // namespace net
