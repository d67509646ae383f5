#pragma once

#include <chrono>
#include <cstdint>

namespace net {

/// What the kernel knows of a client's TCP peer (TCP_INFO), as far as the
/// keepalive needs it.
struct tcp_facts {
  /// Segments sent and not yet acknowledged.
  uint32_t unacked = 0;
  /// Retransmissions in a row that no acknowledgement answered.
  uint32_t retransmits = 0;
  /// Window or keepalive probes in a row that nothing answered.
  uint32_t probes = 0;
  /// Since the peer's kernel last acknowledged anything.
  std::chrono::milliseconds since_last_ack{0};
};

/// Whether the peer's host still answers, for a client that did not answer
/// our ping, pinged `since_ping` ago: its kernel acknowledged something
/// since (the ping, or the lines before it), or nothing we sent waits for
/// an answer (the ping waits behind a window the client does not empty, and
/// the kernel's probes of it are answered). Then its program is only busy
/// (a terminal client blocked on its prompt cannot answer pings) and it
/// stays; its backlog cap still bounds what it costs. If not, the host is
/// gone or cut off.
inline bool peer_host_answers(const tcp_facts& facts,
                              std::chrono::milliseconds since_ping) {
  if (facts.since_last_ack < since_ping)
    return true;
  return facts.unacked == 0 && facts.retransmits == 0 && facts.probes == 0;
}

} // namespace net
