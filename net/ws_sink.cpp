#include "net/ws_sink.hpp"

#include <cassert>

#include "net/ws_config.hpp"

namespace net {

void ws_sink::attach(ws_connection& con) {
  con_ = &con;
}

bool ws_sink::taking() const {
  assert(con_);
  return !dropping_ && !con_->broken()
         && con_->get_state() == websocketpp::session::state::open;
}

size_t ws_sink::backlog() const {
  assert(con_);
  // websocketpp's own queue holds only control frames (pings, pongs, the
  // close frame) waiting for the outbox.
  return con_->get_buffered_amount() + con_->unsent_bytes();
}

bool ws_sink::append(std::string_view frames) {
  assert(con_);
  return con_->append(frames);
}

void ws_sink::flush() {
  assert(con_);
  con_->flush();
}

void ws_sink::drop(const std::string& why) {
  assert(con_);
  dropping_ = true;
  // The client would not read the backlog anyway: forget it (the write in
  // flight finishes), so the close frame that says why leaves next. If it
  // is not answered, the close timeout resets the connection. The only
  // refusal is a connection already closing: ending anyway.
  con_->discard();
  std::error_code ignored;
  con_->close(websocketpp::close::status::policy_violation, why, ignored);
}

std::shared_ptr<chat::link_sink> sink_of(ws_connection_ptr con) {
  auto* sink = &con->sink;
  return {std::move(con), sink};
}

} // namespace net
