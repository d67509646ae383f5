// chat-node: options, actor system, lobby, bridge, signals.

#include <algorithm>
#include <csignal>
#include <functional>
#include <iostream>
#include <thread>

#include <sched.h>
#include <sys/resource.h>

#include <asio/signal_set.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>

#include "actors/lobby_actor.hpp"
#include "actors/session_actor.hpp"
#include "net/http_service.hpp"
#include "net/metrics.hpp"
#include "net/web_files.hpp"
#include "net/ws_link.hpp"
#include "net/ws_server.hpp"
#include "runtime/prompt_sharing.hpp"

namespace {

// The CPUs this process may run on (taskset, cgroup cpusets), at least 1.
size_t usable_cpus() {
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0)
    return std::max(1u, std::thread::hardware_concurrency());
  return static_cast<size_t>(std::max(1, CPU_COUNT(&cpus)));
}

// Every option works on the command line (`--port=9000`) and in a config
// file (`port=9000` in caf-application.ini, or --config-file=PATH).
class node_config : public caf::actor_system_config {
public:
  net::ws_server_config server;
  chat::lobby_config lobby;

  node_config() {
    // Idle work-stealing workers poll with 50 us sleeps: on a small machine
    // that is tens of thousands of context switches a second taken from the
    // Asio thread. Sharing workers block until there is work (and main()
    // makes them runtime::prompt_sharing).
    set("scheduler.policy", caf::atom("sharing"));
    // CAF starts at least 4 workers, whatever the cores: one per CPU this
    // process may run on is enough, and each extra worker on a shared core
    // is one more wake-up per line handed between threads.
    set("scheduler.max-threads", usable_cpus());
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
           "summed up once a second (default: 1000)")
      .add(server.max_backlog_bytes, "max-backlog-bytes",
           "a client whose unsent frames pass this is disconnected "
           "(default: 1048576)")
      .add(server.max_frames_per_second, "max-frames-per-second",
           "frames read per second and client, 0 for no limit; faster "
           "clients are read later (default: 100)")
      .add(server.frame_burst, "frame-burst",
           "frames a client may send at once before the rate applies "
           "(default: 200)")
      .add(server.max_clients, "max-clients",
           "more connections are refused with HTTP 503, 0 for no limit "
           "(default: 0)")
      .add(server.ping_interval, "ping-interval",
           "idle clients are pinged this often (default: 30s)")
      .add(server.pong_timeout, "pong-timeout",
           "clients that do not answer a ping within this are dropped "
           "(default: 10s)")
      .add(server.handshake_timeout, "handshake-timeout",
           "connections must finish the WebSocket handshake within this "
           "(default: 5s)");
  }
};

// Every client is a socket: allow as many as the hard limit does.
void raise_file_limit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0
      && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

} // namespace

int main(int argc, char** argv) {
  node_config config;
  if (auto err = config.parse(argc, argv)) {
    std::cerr << "chat-node: " << to_string(err) << '\n';
    return EXIT_FAILURE;
  }
  if (config.cli_helptext_printed)
    return EXIT_SUCCESS;
  raise_file_limit();
  // The figures for /healthz and /metrics: the bridge counts its own, the
  // lobby publishes the chat's; the HTTP handler only reads atomics.
  net::bridge_stats bridge_stats;
  net::http_service http{net::web_files(),
                         net::node_metrics(bridge_stats, *config.lobby.stats),
                         bridge_stats, net::http_service::clock::now()};
  // CAF's profiled variant, when asked for, is CAF's own.
  if (caf::get_or(config, "scheduler.policy", caf::atom("stealing"))
        == caf::atom("sharing")
      && !caf::get_or(config, "scheduler.enable-profiling", false))
    runtime::use_prompt_sharing(config);
  caf::actor_system system{config};
  chat::lobby_actor lobby; // spawned below, before the first connection
  net::ws_server server{config.server,
                        [&](chat::client_link_ptr link) {
                          return chat::spawn_session(system, std::move(link),
                                                     lobby);
                        },
                        bridge_stats, http};
  // Main-room lines go to the bridge as one hand-off per line.
  config.lobby.fan_out
    = std::make_shared<net::ws_broadcaster>(server.outgoing());
  lobby = system.spawn(chat::lobby, config.lobby);
  if (auto ec = server.listen()) {
    std::cerr << "chat-node: cannot listen on " << config.server.host << ':'
              << config.server.port << ": " << ec.message() << '\n';
    caf::anon_send_exit(lobby, caf::exit_reason::user_shutdown);
    return EXIT_FAILURE;
  }
  auto bound = server.local_endpoint();
  std::cout << "chat-node listening on ws://" << bound.address().to_string()
            << ':' << bound.port() << '/' << std::endl;
  // SIGUSR1 prints a line of figures, for operators and soak tests.
  asio::signal_set usr1{server.io(), SIGUSR1};
  asio::signal_set signals{server.io(), SIGINT, SIGTERM};
  signals.async_wait([&](const std::error_code& ec, int) {
    if (ec)
      return;
    usr1.cancel();
    server.shutdown("Server shutting down");
  });
  std::function<void()> print_stats = [&] {
    usr1.async_wait([&](const std::error_code& ec, int) {
      if (ec)
        return;
      auto& st = bridge_stats;
      std::cout << "chat-node stats: connections=" << st.sessions_connected
                << " actors=" << system.registry().running()
                << " accepted=" << st.connections_accepted
                << " refused=" << st.connections_refused
                << " slow_consumer_drops=" << st.slow_consumer_drops
                << " rate_limited_clients=" << st.rate_limited_clients
                << " ping_timeouts=" << st.ping_timeouts << std::endl;
      print_stats();
    });
  };
  print_stats();
  server.run();
  // Every connection is closed. Stop the lobby and wait for every actor
  // while the bridge, which the links and the broadcaster hand lines to,
  // still exists.
  caf::anon_send_exit(lobby, caf::exit_reason::user_shutdown);
  system.await_all_actors_done();
  return EXIT_SUCCESS;
}
