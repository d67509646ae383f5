#include "net/ws_link.hpp"

namespace net {

void ws_link::send(chat::shared_text text) {
  asio::post(io_, [con = con_, text = std::move(text), &stats = stats_] {
    if (auto ptr = con.lock()) {
      // An error here means the connection is closing: nothing to do.
      auto ec = ptr->send(*text, websocketpp::frame::opcode::text);
      if (!ec)
        bump(stats.frames_out);
    }
  });
}

void ws_link::close(uint16_t code, std::string reason) {
  asio::post(io_, [con = con_, code, reason = std::move(reason)] {
    if (auto ptr = con.lock()) {
      websocketpp::lib::error_code ec;
      ptr->close(code, reason, ec);
    }
  });
}

} // namespace net
