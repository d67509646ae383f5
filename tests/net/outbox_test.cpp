// The outbox's order of bytes on one socket, with a wire that records the
// writes it is asked for and completes them when the test says so.

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "net/outbox.hpp"

namespace {

// A write of the transport's own (a pong, a close frame).
struct their_write {
  std::string bytes;
  std::function<void(const std::error_code&)> handler;
};

// A socket that records each write it starts; complete() finishes the one
// in flight.
class recording_wire : public net::outbox<recording_wire, their_write> {
public:
  friend net::outbox<recording_wire, their_write>;

  /// Every write started, in order.
  std::vector<std::string> writes;
  /// What the transport's handlers were told.
  std::vector<std::error_code> told;
  bool shut = false;

  /// Finishes the write in flight with `ec`.
  void complete(std::error_code ec = {}) {
    REQUIRE(in_flight_ != none);
    auto which = std::exchange(in_flight_, none);
    if (which == ours) {
      bytes_written(ec);
      return;
    }
    auto handler = std::move(theirs_handler_);
    theirs_written(ec, handler);
  }

  /// Finishes every write until none is in flight; at most `limit`.
  void complete_all(int limit = 100) {
    while (in_flight_ != none && limit-- > 0)
      complete();
  }

  /// A transport write whose handler records what it was told.
  void write_theirs_now(std::string bytes) {
    write({std::move(bytes),
           [this](const std::error_code& ec) { told.push_back(ec); }});
  }

private:
  enum which { none, ours, theirs };

  void write_bytes(const std::string& bytes) {
    REQUIRE(in_flight_ == none); // one write at a time
    writes.push_back(bytes);
    in_flight_ = ours;
  }

  void write_theirs(their_write w) {
    REQUIRE(in_flight_ == none);
    writes.push_back(w.bytes);
    theirs_handler_ = std::move(w.handler);
    in_flight_ = theirs;
  }

  void refuse_theirs(their_write w) {
    w.handler(std::make_error_code(std::errc::broken_pipe));
  }

  void shut_down() {
    shut = true;
  }

  which in_flight_ = none;
  std::function<void(const std::error_code&)> theirs_handler_;
};

using strings = std::vector<std::string>;

} // namespace

TEST_CASE("frames appended in one turn leave in one write", "[outbox]") {
  recording_wire wire;
  CHECK(wire.append("a"));
  CHECK_FALSE(wire.append("b")); // one flush is enough for both
  CHECK(wire.unsent_bytes() == 2);
  wire.flush();
  wire.complete_all();
  CHECK(wire.writes == strings{"ab"});
  CHECK(wire.unsent_bytes() == 0);
}

TEST_CASE("frames appended during a write leave next, in order", "[outbox]") {
  recording_wire wire;
  wire.append("1");
  wire.flush();
  CHECK_FALSE(wire.append("2")); // the write in flight takes them along
  wire.append("3");
  CHECK(wire.unsent_bytes() == 3);
  wire.complete_all();
  CHECK(wire.writes == strings{"1", "23"});
}

TEST_CASE("a transport write on an idle socket leaves at once", "[outbox]") {
  recording_wire wire;
  wire.write_theirs_now("pong");
  CHECK(wire.writes == strings{"pong"});
  wire.complete();
  CHECK(wire.told == std::vector<std::error_code>{std::error_code{}});
}

TEST_CASE("a close frame goes after the lines queued before it", "[outbox]") {
  recording_wire wire;
  wire.append("line 1");
  wire.flush(); // in flight
  wire.append("line 2");
  wire.append("line 3");
  wire.write_theirs_now("close");
  wire.append("line 4");
  wire.complete_all();
  CHECK(wire.writes == strings{"line 1", "line 2line 3", "close", "line 4"});
}

TEST_CASE("a pong waits only for what was queued before it", "[outbox]") {
  recording_wire wire;
  wire.append("line 1");
  wire.flush();
  wire.write_theirs_now("pong"); // nothing queued behind line 1 yet
  wire.append("line 2");
  wire.complete_all();
  CHECK(wire.writes == strings{"line 1", "pong", "line 2"});
}

TEST_CASE("after a failed write the outbox takes nothing more", "[outbox]") {
  recording_wire wire;
  wire.append("line 1");
  wire.flush();
  wire.append("line 2");
  wire.complete(std::make_error_code(std::errc::connection_reset));
  CHECK(wire.broken());
  CHECK(wire.unsent_bytes() == 0);
  CHECK(wire.shut); // so that the transport's read ends too
  CHECK_FALSE(wire.append("line 3"));
  wire.flush();
  CHECK(wire.writes == strings{"line 1"});
}

TEST_CASE("a failed write tells the transport write waiting behind it",
          "[outbox]") {
  recording_wire wire;
  wire.append("line 1");
  wire.flush();
  wire.write_theirs_now("close");
  wire.complete(std::make_error_code(std::errc::connection_reset));
  CHECK(wire.broken());
  REQUIRE(wire.told.size() == 1);
  CHECK(wire.told[0]);    // an error
  CHECK_FALSE(wire.shut); // the transport learnt it from its write
  CHECK(wire.writes == strings{"line 1"});
}

TEST_CASE("a failed transport write breaks the outbox", "[outbox]") {
  recording_wire wire;
  wire.write_theirs_now("ping");
  wire.append("line 1");
  wire.complete(std::make_error_code(std::errc::broken_pipe));
  CHECK(wire.broken());
  CHECK(wire.unsent_bytes() == 0);
  CHECK(wire.writes == strings{"ping"});
}

TEST_CASE("a discard keeps the write in flight and sends the close next",
          "[outbox]") {
  recording_wire wire;
  wire.append("line 1");
  wire.flush(); // in flight: it finishes whole
  wire.append("line 2");
  wire.append("line 3");
  CHECK(wire.discard() == 12);
  CHECK(wire.unsent_bytes() == 6); // line 1, still in flight
  wire.write_theirs_now("close");
  wire.complete_all();
  CHECK(wire.writes == strings{"line 1", "close"});
  CHECK(wire.told == std::vector<std::error_code>{std::error_code{}});
}

TEST_CASE("a discard moves a waiting transport write to the front",
          "[outbox]") {
  recording_wire wire;
  wire.append("line 1");
  wire.flush();
  wire.append("line 2");
  wire.write_theirs_now("close"); // waits behind line 2
  wire.append("line 3");
  CHECK(wire.discard() == 12);
  wire.complete_all();
  CHECK(wire.writes == strings{"line 1", "close"});
  CHECK(wire.unsent_bytes() == 0);
}

TEST_CASE("a discard on an idle outbox lets the close leave at once",
          "[outbox]") {
  recording_wire wire;
  wire.append("line 1"); // appended, not flushed yet
  CHECK(wire.discard() == 6);
  wire.flush(); // the flush the append asked for: nothing to write
  CHECK(wire.writes.empty());
  wire.write_theirs_now("close");
  CHECK(wire.writes == strings{"close"});
}

TEST_CASE("an outbox is idle only with nothing queued or in flight",
          "[outbox]") {
  recording_wire wire;
  CHECK(wire.idle());
  wire.append("line 1");
  CHECK_FALSE(wire.idle()); // queued
  wire.flush();
  CHECK_FALSE(wire.idle()); // ours in flight
  wire.write_theirs_now("close");
  wire.complete();
  CHECK_FALSE(wire.idle()); // the close frame in flight
  wire.complete();
  CHECK(wire.idle());
}
