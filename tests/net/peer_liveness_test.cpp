// Telling a busy client from a vanished host by what its kernel answered.

#include <catch2/catch.hpp>

#include "net/peer_liveness.hpp"

using std::chrono::milliseconds;

namespace {

// The pong timeout: the ping went out this long ago.
constexpr milliseconds since_ping{10'000};

net::tcp_facts facts(uint32_t unacked, uint32_t retransmits, uint32_t probes,
                     milliseconds since_last_ack) {
  net::tcp_facts f;
  f.unacked = unacked;
  f.retransmits = retransmits;
  f.probes = probes;
  f.since_last_ack = since_last_ack;
  return f;
}

} // namespace

TEST_CASE("a host whose kernel acknowledged our ping is there", "[liveness]") {
  // The program blocks on its prompt: no pong, but the ping was ACKed.
  CHECK(
    net::peer_host_answers(facts(0, 0, 0, milliseconds{9'990}), since_ping));
  // Lines in flight to it at this moment, but it acknowledges.
  CHECK(net::peer_host_answers(facts(3, 0, 0, milliseconds{40}), since_ping));
  // Even while one segment is being retransmitted, an ACK since the ping
  // says it is there (TCP_USER_TIMEOUT ends it if it goes).
  CHECK(net::peer_host_answers(facts(1, 1, 0, milliseconds{300}), since_ping));
}

TEST_CASE("a host that acknowledged nothing since our ping is gone",
          "[liveness]") {
  // The ping is retransmitted unanswered.
  CHECK_FALSE(
    net::peer_host_answers(facts(1, 3, 0, milliseconds{10'200}), since_ping));
  // Not retransmitted yet (a long RTO), still unacknowledged.
  CHECK_FALSE(
    net::peer_host_answers(facts(1, 0, 0, milliseconds{60'000}), since_ping));
  // Its window is shut and the kernel's probes of it go unanswered.
  CHECK_FALSE(
    net::peer_host_answers(facts(0, 0, 2, milliseconds{12'000}), since_ping));
}

TEST_CASE("a host with nothing left to answer is there", "[liveness]") {
  // The ping waits behind a shut window; the kernel's last probe of the
  // window was answered, longer ago than the ping.
  CHECK(
    net::peer_host_answers(facts(0, 0, 0, milliseconds{25'000}), since_ping));
}

TEST_CASE("the last acknowledgement must come after the ping", "[liveness]") {
  auto at = [](milliseconds since_last_ack) {
    return net::peer_host_answers(facts(1, 1, 0, since_last_ack), since_ping);
  };
  CHECK(at(since_ping - milliseconds{1}));
  CHECK_FALSE(at(since_ping));
  CHECK_FALSE(at(since_ping + milliseconds{1}));
}
