#include "net/read_pacer.hpp"

#include "net/ws_config.hpp"

namespace net {

using std::chrono::steady_clock;

read_pacer::read_pacer(asio::io_context& io, double frames_per_second,
                       double burst, bridge_stats& stats, pass_on_fn pass_on)
  : io_(io),
    frames_per_second_(frames_per_second),
    burst_(burst),
    stats_(stats),
    pass_on_(std::move(pass_on)) {
  // nop
}

void read_pacer::start(ws_connection& con, steady_clock::time_point now) {
  con.reads.tokens = token_bucket{frames_per_second_, burst_, now};
}

void read_pacer::on_frame(const ws_connection_ptr& con, ws_message_ptr msg,
                          steady_clock::time_point now) {
  auto& reads = con->reads;
  if (reads.held.empty() && reads.tokens.try_take(now)) {
    pass_on_(con, std::move(msg));
    return;
  }
  // Over its rate: hold the frame and stop reading this client. Its next
  // frames wait in its socket; nothing is dropped. Held frames are at most
  // one read buffer's worth.
  reads.held.push_back(std::move(msg));
  if (reads.held.size() > 1)
    return;
  if (!reads.rate_limited) {
    reads.rate_limited = true;
    bump(stats_.rate_limited_clients);
  }
  // pause_reading() would only post this, and the read websocketpp starts
  // when this handler returns would slip through. We are on its thread.
  con->handle_pause_reading();
  if (!reads.resume)
    reads.resume = std::make_unique<asio::steady_timer>(io_);
  // Not release_held(con) right here: resuming inside websocketpp's read
  // handler would start a second read.
  wait_for_token(con);
}

void read_pacer::on_close(const ws_connection_ptr& con) {
  auto& reads = con->reads;
  if (reads.resume)
    reads.resume->cancel();
  for (auto& msg : reads.held)
    pass_on_(con, std::move(msg));
  reads.held.clear();
}

// Passes on held frames as tokens come due; reads again once none are left.
void read_pacer::release_held(const ws_connection_ptr& con) {
  auto now = steady_clock::now();
  auto& reads = con->reads;
  auto due = reads.held.begin();
  while (due != reads.held.end() && reads.tokens.try_take(now))
    pass_on_(con, std::move(*due++));
  reads.held.erase(reads.held.begin(), due);
  if (reads.held.empty())
    con->handle_resume_reading(); // paused for sure: no read in flight
  else
    wait_for_token(con);
}

void read_pacer::wait_for_token(const ws_connection_ptr& con) {
  auto& reads = con->reads;
  reads.resume->expires_after(reads.tokens.wait_time(steady_clock::now()));
  // A paused connection has no read pending to keep it alive: this does.
  reads.resume->async_wait([this, con](const std::error_code& ec) {
    if (!ec && con->get_state() == websocketpp::session::state::open)
      release_held(con);
  });
}

} // namespace net
