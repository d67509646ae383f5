#include "net/metrics.hpp"

namespace net {

namespace {

// `# HELP` text escapes backslash and line feed, nothing else.
std::string escape_help(const std::string& text) {
  std::string result;
  for (auto c : text) {
    if (c == '\\')
      result += "\\\\";
    else if (c == '\n')
      result += "\\n";
    else
      result += c;
  }
  return result;
}

} // namespace

std::vector<metric> node_metrics(const bridge_stats& bridge,
                                 const chat::chat_stats& chat) {
  return {
    {"chat_sessions_connected", "gauge", "WebSocket sessions open now.",
     &bridge.sessions_connected},
    {"chat_connections_accepted_total", "counter",
     "WebSocket handshakes completed.", &bridge.connections_accepted},
    {"chat_connections_refused_total", "counter",
     "WebSocket upgrade requests refused: Origin not allowed "
     "(--allowed-origins) or a failed handshake.",
     &bridge.connections_refused},
    {"chat_frames_received_total", "counter",
     "WebSocket frames received from clients, text and binary.",
     &bridge.frames_in},
    {"chat_frames_sent_total", "counter",
     "WebSocket text frames sent to clients.", &bridge.frames_out},
    {"chat_http_requests_total", "counter",
     "Plain HTTP requests answered (page, /healthz, /metrics, 404).",
     &bridge.http_requests},
    {"chat_deliveries_total", "counter",
     "Chat lines handed to a recipient: one per other main-room member for "
     "a room line, one per private line.",
     &chat.deliveries},
    {"chat_pages_active", "gauge", "Clients paging now.", &chat.active_pages},
    {"chat_private_chats_active", "gauge", "Private chats running now.",
     &chat.private_chats},
    {"chat_slow_consumer_drops_total", "counter",
     "Clients disconnected because their unsent backlog passed the cap.",
     &bridge.slow_consumer_drops},
    {"chat_rate_limited_clients_total", "counter",
     "Clients slowed down, at least once, for sending faster than the "
     "allowed rate.",
     &bridge.rate_limited_clients},
    {"chat_ping_timeouts_total", "counter",
     "Clients dropped as gone: no pong and no TCP acknowledgement from "
     "their host, or reset by the kernel's TCP_USER_TIMEOUT.",
     &bridge.ping_timeouts},
    {"chat_busy_clients_kept_total", "counter",
     "Unanswered pings of clients whose host's TCP still acknowledged: the "
     "client stayed.",
     &bridge.busy_clients_kept},
    {"chat_address_limit_refusals_total", "counter",
     "WebSocket upgrade requests refused with 429 because their IP address "
     "already had --max-clients-per-address clients (also counted in "
     "chat_connections_refused_total).",
     &bridge.address_limit_refusals},
  };
}

std::vector<metric> cluster_metrics(const chat::chat_stats& chat,
                                    uint32_t self) {
  std::vector<metric> result{
    {"chat_peers_connected", "gauge", "Other nodes of the cluster linked now.",
     &chat.peers},
    {"chat_peer_losses_total", "counter",
     "Links to other nodes lost: reset, silent, or dropped for falling "
     "behind.",
     &chat.peer_losses},
    {"chat_peer_backlog_drops_total", "counter",
     "Links to other nodes dropped because their backlog passed the cap.",
     &chat.peer_backlog_drops},
    {"chat_peer_messages_sent_total", "counter",
     "Messages sent to other nodes' lobbies.", &chat.peer_messages_sent},
    {"chat_peer_messages_received_total", "counter",
     "Messages received from other nodes' lobbies.",
     &chat.peer_messages_received},
    {"chat_peer_bytes_sent_total", "counter",
     "Payload bytes sent to other nodes' lobbies.", &chat.peer_bytes_sent},
    {"chat_peer_bytes_received_total", "counter",
     "Payload bytes received from other nodes' lobbies.",
     &chat.peer_bytes_received},
  };
  for (size_t i = 0; i < chat.peer_backlog_bytes.size(); ++i) {
    auto node = i + 1;
    if (node == self)
      continue;
    result.push_back({"chat_peer_backlog_bytes", "gauge",
                      "Bytes sent to a node that it has not acknowledged yet "
                      "(0 while not linked).",
                      &chat.peer_backlog_bytes[i],
                      "node=\"" + std::to_string(node) + '"'});
  }
  return result;
}

std::string prometheus_text(const std::vector<metric>& metrics) {
  std::string result;
  result.reserve(metrics.size() * 160);
  const std::string* family = nullptr;
  for (auto& m : metrics) {
    if (family == nullptr || *family != m.name) {
      result += "# HELP " + m.name + ' ' + escape_help(m.help) + '\n';
      result += "# TYPE " + m.name + ' ' + m.type + '\n';
      family = &m.name;
    }
    result += m.name;
    if (!m.labels.empty())
      result += '{' + m.labels + '}';
    result += ' ' + std::to_string(m.value->load(std::memory_order_relaxed))
              + '\n';
  }
  return result;
}

} // namespace net
