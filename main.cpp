// chat-node: options, actor system, lobby, bridge, signals.

#include <csignal>
#include <iostream>

#include <asio/signal_set.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>

#include "actors/lobby_actor.hpp"
#include "actors/session_actor.hpp"
#include "net/http_service.hpp"
#include "net/metrics.hpp"
#include "net/web_files.hpp"
#include "net/ws_server.hpp"

namespace {

// Every option works on the command line (`--port=9000`) and in a config
// file (`port=9000` in caf-application.ini, or --config-file=PATH).
class node_config : public caf::actor_system_config {
public:
  net::ws_server_config server;
  chat::lobby_config lobby;

  node_config() {
    opt_group{custom_options_, "global"}
      .add(server.host, "host", "address to listen on (default: localhost)")
      .add(server.port, "port",
           "port to listen on, 0 picks one (default: 8765)")
      .add(server.max_message_bytes, "max-message-bytes",
           "larger frames are refused with close code 1009 (default: 16384)")
      .add(server.allowed_origins, "allowed-origins",
           "comma-separated Origins whose pages may open a WebSocket, e.g. "
           "http://localhost:8765 (default: any)")
      .add(lobby.page_interval, "page-interval",
           "time between two PAGING lines (default: 1s)")
      .add(lobby.announce_limit, "announce-limit",
           "above this many main-room members, arrivals and departures are "
           "summed up once a second (default: 1000)");
  }
};

} // namespace

int main(int argc, char** argv) {
  node_config config;
  if (auto err = config.parse(argc, argv)) {
    std::cerr << "chat-node: " << to_string(err) << '\n';
    return EXIT_FAILURE;
  }
  if (config.cli_helptext_printed)
    return EXIT_SUCCESS;
  // The figures for /healthz and /metrics: the bridge counts its own, the
  // lobby publishes the chat's; the HTTP handler only reads atomics.
  net::bridge_stats bridge_stats;
  net::http_service http{net::web_files(),
                         net::node_metrics(bridge_stats, *config.lobby.stats),
                         bridge_stats, net::http_service::clock::now()};
  caf::actor_system system{config};
  auto lobby = system.spawn(chat::lobby, config.lobby);
  net::ws_server server{config.server,
                        [&](chat::client_link_ptr link) {
                          return system.spawn(chat::session, std::move(link),
                                              lobby);
                        },
                        bridge_stats, http};
  if (auto ec = server.listen()) {
    std::cerr << "chat-node: cannot listen on " << config.server.host << ':'
              << config.server.port << ": " << ec.message() << '\n';
    caf::anon_send_exit(lobby, caf::exit_reason::user_shutdown);
    return EXIT_FAILURE;
  }
  auto bound = server.local_endpoint();
  std::cout << "chat-node listening on ws://" << bound.address().to_string()
            << ':' << bound.port() << '/' << std::endl;
  asio::signal_set signals{server.io(), SIGINT, SIGTERM};
  signals.async_wait([&](const std::error_code& ec, int) {
    if (!ec)
      server.shutdown("Server shutting down");
  });
  server.run();
  // Every connection is closed. Stop the lobby and wait for every actor
  // while the bridge, whose io_context the links post to, still exists.
  caf::anon_send_exit(lobby, caf::exit_reason::user_shutdown);
  system.await_all_actors_done();
  return EXIT_SUCCESS;
}
