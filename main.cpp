// chat-node: options, actor system, lobby, bridge, cluster links, signals.

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <sched.h>
#include <sys/resource.h>

#include <asio/signal_set.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/publish.hpp>
#include <caf/send.hpp>

#include "actors/lobby_actor.hpp"
#include "actors/session_actor.hpp"
#include "cluster/cluster_options.hpp"
#include "cluster/link_dialer.hpp"
#include "cluster/peer_links.hpp"
#include "cluster/port_guard.hpp"
#include "cluster/tls_connector.hpp"
#include "cluster/tls_context.hpp"
#include "net/http_service.hpp"
#include "net/metrics.hpp"
#include "net/tls_context.hpp"
#include "net/web_files.hpp"
#include "net/ws_link.hpp"
#include "net/ws_server.hpp"
#include "runtime/config_file_check.hpp"
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
  cluster::cluster_options cluster;
  /// PEM files; both set: wss:// and https:// on --port.
  std::string tls_cert;
  std::string tls_key;

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
      .add(server.max_clients_per_address, "max-clients-per-address",
           "more WebSocket connections from one IP address are refused "
           "with HTTP 429, 0 for no limit (default: 0)")
      .add(server.ping_interval, "ping-interval",
           "idle clients are pinged this often (default: 30s)")
      .add(server.pong_timeout, "pong-timeout",
           "clients that do not answer a ping within this are dropped, "
           "unless their host's TCP still acknowledges (default: 10s)")
      .add(server.send_buffer_bytes, "send-buffer-bytes",
           "SO_SNDBUF of each client's socket, which Linux doubles and "
           "holds fixed: what the kernel may queue for a client beyond "
           "--max-backlog-bytes; 0 for the kernel's autotuning (default: "
           "65536)")
      .add(server.handshake_timeout, "handshake-timeout",
           "connections must finish the WebSocket handshake within this "
           "(default: 5s)")
      .add(tls_cert, "tls-cert",
           "PEM certificate (and chain) file: the port speaks TLS only, "
           "wss:// and https://; with --tls-key; SIGHUP reloads both "
           "(default: none, plain ws:// and http://)")
      .add(tls_key, "tls-key", "PEM private key file of --tls-cert")
      .add(server.reuse_port, "reuse-port",
           "SO_REUSEPORT on --port, so that several nodes on one host share "
           "it (default: off)")
      .add(cluster.node_index, "node-index",
           "this node's place in the cluster, 1 to --cluster-slots; node K "
           "of M numbers its clients K, K+M, K+2M, ... (default: 1)")
      .add(cluster.cluster_slots, "cluster-slots",
           "M, the nodes the cluster's numbering has room for (default: 1)")
      .add<uint16_t>("cluster-port",
                     "port where the other nodes of the cluster link to this "
                     "one, 0 picks one (default: none, no cluster)")
      .add(cluster.cluster_host, "cluster-host",
           "address the cluster port listens on and other nodes reach this "
           "one on; not loopback only with TLS (default: 127.0.0.1)")
      .add(cluster.cluster_cert, "cluster-cert",
           "PEM certificate (chain) of this node for TLS between nodes, "
           "signed by --cluster-ca (default: none, no TLS)")
      .add(cluster.cluster_key, "cluster-key",
           "PEM private key of --cluster-cert (default: none)")
      .add(cluster.cluster_ca, "cluster-ca",
           "PEM CA certificate every node's certificate must verify against "
           "(default: none)")
      .add(cluster.peers, "peers",
           "comma-separated host:port cluster ports of running nodes to "
           "join, e.g. 127.0.0.1:9765 (default: none)")
      .add(cluster.cluster_timeout, "cluster-timeout",
           "a silent node is dropped after this, and every request to "
           "another node gives up after it (default: 3s)")
      .add(cluster.max_peer_backlog_bytes, "max-peer-backlog-bytes",
           "a node that has not acknowledged this many bytes from us is "
           "dropped and retried (default: 16777216)");
  }

  /// The config file's mistakes, which CAF would pass over in silence
  /// (runtime/config_file_check.hpp); none without a file.
  std::vector<std::string> config_file_problems() {
    std::ifstream file{config_file_path};
    if (!file)
      return {};
    return runtime::check_config_file(file, custom_options_, content);
  }
};

// The middleman (BASP), only on a clustered node. The same timings on
// every node: a node with a timeout and a peer without heartbeats would
// drop a healthy peer.
void load_middleman(node_config& config) {
  auto timeout = config.cluster.cluster_timeout;
  config.load<caf::io::middleman>();
  config.set("middleman.app-identifiers",
             std::vector<std::string>{"chat-node-cluster-v1"});
  config.set("middleman.enable-automatic-connections", false);
  config.set("middleman.heartbeat-interval",
             cluster::heartbeat_interval(timeout));
  config.set("middleman.connection-timeout",
             cluster::connection_timeout(timeout));
  // What crosses nodes: unregistered types would arrive empty.
  config.add_message_types<caf::id_block::chat>();
}

// One line about the cluster on stderr, written at once: the peer links
// and the port guard write from threads of their own.
void say_cluster(const std::string& line) {
  auto text = "chat-node: cluster: " + line + '\n';
  std::fwrite(text.data(), 1, text.size(), stderr);
}

// The peer links, reached through the guard on the cluster port.
struct cluster_port {
  cluster::cluster_actor links;
  /// With TLS: the connector links use (cluster/tls_connector).
  cluster::connector_actor connector;
  std::unique_ptr<cluster::port_guard> guard;
  /// Where other nodes reach it, e.g. "127.0.0.1:9765".
  std::string address;
};

// Spawns the peer links, publishes them on a BASP port of their own and
// opens the cluster port in front of it; an invalid handle (after a line on
// stderr) when a port cannot be opened.
cluster_port open_cluster(caf::actor_system& system, const node_config& config,
                          const cluster::cluster_plan& plan,
                          const chat::lobby_actor& lobby) {
  auto& opts = config.cluster;
  auto port = *opts.cluster_port;
  auto where = cluster::to_string({plan.host, port});
  auto refuse = [&](const std::string& why) {
    std::cerr << "chat-node: cannot open cluster port " << where << ": " << why
              << '\n';
    return cluster_port{};
  };
  cluster::port_guard_config guard_config;
  cluster::tls_setup tls;
  if (plan.tls) {
    tls = cluster::load_tls(
      {opts.cluster_cert, opts.cluster_key, opts.cluster_ca});
    if (!tls.error.empty())
      return refuse(tls.error);
    if (!tls.warning.empty())
      say_cluster("warning: " + tls.warning);
    guard_config.tls = tls.context;
  }
  // With TLS the cluster port may face other hosts; BASP's own port stays
  // on loopback, reached only through the guard.
  auto basp_host = plan.tls ? std::string{"127.0.0.1"} : plan.host;
  std::error_code ec;
  auto listen_address = asio::ip::make_address(plan.host, ec);
  if (ec)
    return refuse("--cluster-host must be an IP address of this host ("
                  + ec.message() + ")");
  guard_config.listen = {listen_address, port};
  guard_config.handshake_timeout = opts.cluster_timeout;
  guard_config.log = say_cluster;
  auto guard = std::make_unique<cluster::port_guard>(std::move(guard_config));
  cluster::peer_links_config links_config;
  links_config.tls = plan.tls;
  links_config.node = opts.node_index;
  links_config.slots = opts.cluster_slots;
  links_config.host = plan.host;
  links_config.peers = plan.peers;
  links_config.timeout = opts.cluster_timeout;
  // A lost node that restarts must be found again before it stops waiting
  // for its peers' numbers (--cluster-timeout).
  links_config.max_retry
    = std::min(links_config.max_retry, opts.cluster_timeout / 3);
  links_config.lobby = lobby;
  if (plan.tls) {
    // The TLS client, on the guard's thread: connects asynchronously,
    // within the timeout (cluster/link_dialer.hpp says why not CAF's
    // OpenSSL module).
    auto dialer = std::make_shared<cluster::link_dialer>(
      guard->io(), opts.cluster_timeout, tls.client);
    links_config.connector = cluster::spawn_tls_connector(
      system, std::move(dialer), system.middleman().actor_handle(),
      opts.cluster_timeout);
  } else {
    links_config.connector = system.middleman().actor_handle();
  }
  links_config.log = say_cluster;
  // Ours to stop with TLS (the middleman stops itself).
  auto connector = plan.tls ? links_config.connector
                            : cluster::connector_actor{};
  auto links = system.spawn(cluster::peer_links, std::move(links_config));
  auto fail = [&](const std::string& why) {
    caf::anon_send_exit(links, caf::exit_reason::user_shutdown);
    if (connector)
      caf::anon_send_exit(connector, caf::exit_reason::user_shutdown);
    return refuse(why);
  };
  // BASP listens on a free port of the same host; only the guard speaks to
  // it. SO_REUSEADDR: a restarted node rebinds despite old TIME_WAITs.
  auto basp = caf::io::publish(links, 0, basp_host.c_str(), true);
  if (!basp)
    return fail(system.render(basp.error()));
  guard->set_basp({asio::ip::make_address(basp_host), *basp});
  if (auto ec = guard->open())
    return fail(ec.message());
  auto bound = guard->port();
  caf::anon_send(links, cluster::start_atom_v, bound);
  return {links, connector, std::move(guard),
          cluster::to_string({plan.host, bound})};
}

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
  // A SIGHUP (`systemctl reload`) before the handler below is in place must
  // not end the node either.
  std::signal(SIGHUP, SIG_IGN);
  node_config config;
  if (auto err = config.parse(argc, argv)) {
    std::cerr << "chat-node: " << to_string(err) << '\n';
    return EXIT_FAILURE;
  }
  if (config.cli_helptext_printed)
    return EXIT_SUCCESS;
  // Absent means no cluster; 0 picks a free port.
  if (auto port = caf::get_if<uint16_t>(&config, "cluster-port"))
    config.cluster.cluster_port = *port;
  auto plan = cluster::check_cluster_options(config.cluster);
  if (!plan.error.empty()) {
    std::cerr << "chat-node: " << plan.error << '\n';
    return EXIT_FAILURE;
  }
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    std::cerr << "chat-node: --tls-cert and --tls-key go together\n";
    return EXIT_FAILURE;
  }
  std::optional<net::tls_context> tls;
  if (!config.tls_cert.empty()) {
    tls.emplace(config.tls_cert, config.tls_key);
    if (auto error = tls->reload()) {
      std::cerr << "chat-node: " << *error << '\n';
      return EXIT_FAILURE;
    }
  }
  auto& opts = config.cluster;
  config.lobby.node = opts.node_index;
  config.lobby.cluster_slots = opts.cluster_slots;
  config.lobby.cluster_timeout = opts.cluster_timeout;
  config.lobby.max_peer_backlog_bytes = opts.max_peer_backlog_bytes;
  // A clustered node may be one that restarted (with or without --peers):
  // it learns the numbers its slot handed out before from the first peer
  // that links, and waits up to --cluster-timeout for one before it
  // numbers a client. The peers retry a lost node well within that.
  config.lobby.await_cluster = plan.clustered;
  config.lobby.stats = std::make_shared<chat::chat_stats>(opts.cluster_slots);
  if (plan.clustered)
    load_middleman(config);
  // After the middleman, whose options a file may set.
  if (auto problems = config.config_file_problems(); !problems.empty()) {
    for (auto& problem : problems)
      std::cerr << "chat-node: " << config.config_file_path << ": " << problem
                << '\n';
    return EXIT_FAILURE;
  }
  raise_file_limit();
  // The figures for /healthz and /metrics: the bridge counts its own, the
  // lobby publishes the chat's; the HTTP handler only reads atomics.
  net::bridge_stats bridge_stats;
  auto& chat_stats = *config.lobby.stats;
  auto metrics = net::node_metrics(bridge_stats, chat_stats);
  if (plan.clustered) {
    auto more = net::cluster_metrics(chat_stats, opts.node_index);
    metrics.insert(metrics.end(), more.begin(), more.end());
  }
  net::http_service http{net::web_files(), std::move(metrics), bridge_stats,
                         net::http_service::clock::now(),
                         plan.clustered ? &chat_stats.peers : nullptr};
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
  cluster_port cluster_side;
  auto& links = cluster_side.links;
  auto stop_actors = [&] {
    caf::anon_send_exit(lobby, caf::exit_reason::user_shutdown);
    if (links)
      caf::anon_send_exit(links, caf::exit_reason::user_shutdown);
    if (cluster_side.connector)
      caf::anon_send_exit(cluster_side.connector,
                          caf::exit_reason::user_shutdown);
  };
  if (plan.clustered) {
    cluster_side = open_cluster(system, config, plan, lobby);
    if (!links) {
      stop_actors();
      return EXIT_FAILURE;
    }
  }
  if (tls)
    server.use_tls(*tls);
  if (auto ec = server.listen()) {
    std::cerr << "chat-node: cannot listen on " << config.server.host << ':'
              << config.server.port << ": " << ec.message() << '\n';
    stop_actors();
    return EXIT_FAILURE;
  }
  // SIGHUP reloads the certificate and key; open connections keep theirs.
  asio::signal_set hup{server.io(), SIGHUP};
  std::function<void()> reload_tls = [&] {
    hup.async_wait([&](const std::error_code& ec, int) {
      if (ec)
        return;
      if (!tls)
        std::cerr << "chat-node: SIGHUP: no --tls-cert, nothing to reload\n";
      else if (auto error = tls->reload())
        std::cerr << "chat-node: SIGHUP: " << *error
                  << "; keeping the certificate and key loaded before\n";
      else
        std::cerr << "chat-node: SIGHUP: reloaded " << tls->cert_file()
                  << " and " << tls->key_file() << '\n';
      reload_tls();
    });
  };
  reload_tls();
  auto bound = server.local_endpoint();
  std::cout << "chat-node listening on " << (tls ? "wss://" : "ws://")
            << bound.address().to_string()
            << ':' << bound.port() << '/' << std::endl;
  if (plan.clustered)
    std::cout << "chat-node cluster node " << opts.node_index << " of "
              << opts.cluster_slots << " on " << cluster_side.address
              << std::endl;
  // SIGUSR1 prints a line of figures, for operators and soak tests.
  asio::signal_set usr1{server.io(), SIGUSR1};
  asio::signal_set signals{server.io(), SIGINT, SIGTERM};
  signals.async_wait([&](const std::error_code& ec, int) {
    if (ec)
      return;
    usr1.cancel();
    hup.cancel();
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
                << " ping_timeouts=" << st.ping_timeouts
                << " busy_clients_kept=" << st.busy_clients_kept << std::endl;
      print_stats();
    });
  };
  print_stats();
  server.run();
  // Every connection is closed. Stop the lobby (and the cluster links) and
  // wait for every actor while the bridge, which the links and the
  // broadcaster hand lines to, still exists.
  stop_actors();
  system.await_all_actors_done();
  if (cluster_side.guard)
    cluster_side.guard->stop();
  return EXIT_SUCCESS;
}
