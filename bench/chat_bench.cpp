// chat-bench: a load generator for chat-node and its peers. One thread, one
// io_context, a minimal RFC 6455 client per connection (masked text frames
// out, unmasked frames in), connections spread over several loopback source
// addresses so that more than one address's ephemeral ports can be used.
// With --targets, the clients are spread round-robin over several servers
// (the nodes of one cluster), and every line counts at every node's clients.
// Progress goes to stderr, one JSON line per result to stdout. With
// --workers=W (hold, broadcast), W processes share the clients, each with
// its own loop; bench/shared_run.hpp holds what they share.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <asio.hpp>

#include "bench/latency_histogram.hpp"
#include "bench/shared_run.hpp"
#include "net/tls_stream.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using asio::ip::tcp;

using chat_bench::command;
using chat_bench::delivery;

// CLOCK_MONOTONIC by name: the workers' stamps are compared across
// processes, and it is one clock for the whole host.
int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Command-line options; every phase is bounded by a timeout.
struct options {
  std::string scenario = "broadcast";
  std::string server = "server";
  std::string host = "127.0.0.1";
  uint16_t port = 8765;
  // host:port of each server; client i goes to targets[i % size]. Empty:
  // the one server at host:port.
  std::vector<std::pair<std::string, uint16_t>> targets;
  int clients = 1000;
  int sources = 4;
  int concurrency = 128;
  int rounds = 64;
  int in_flight = 16;
  std::vector<int> steps;
  double max_p95_ms = 500;
  double duration_s = 5;
  double settle_s = 1;
  double timeout_s = 60;
  // wss://: every connection speaks TLS (the server's certificate is not
  // checked: this measures, it does not trust).
  bool tls = false;
  // Every server process (one per node): their RSS and CPU are summed.
  std::vector<int> server_pids;
  // loss: the node (1-based, in --targets) killed with SIGKILL once every
  // client is held, and its process.
  int kill_node = 0;
  int kill_pid = 0;
  // Departures each client must hear of: the killed node's clients, of
  // every chat-bench process; 0: this process's own.
  int64_t kill_expect = 0;
  // loss: a file holding that count, written by whoever kills the node
  // (it knows how many clients the node had); read once the node is gone.
  std::string kill_expect_file;
  // Processes sharing the clients (hold, broadcast): global client g is
  // worker g mod W's.
  int workers = 1;
  // broadcast: measure every step, also past the first that misses.
  bool all_steps = false;
  // Poll the sockets without sleeping: on loopback the sender's kernel
  // wakes a sleeping receiver, so a sleeping generator bills its wake-ups
  // to the server's core; a polling one is never asleep to be woken.
  bool busy_poll = false;
};

// "HOST:PORT" or "[V6]:PORT"; false if it is neither.
bool parse_target(const std::string& text,
                  std::pair<std::string, uint16_t>& out) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return false;
  auto host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto port = std::stoi(text.substr(colon + 1));
  if (port <= 0 || port > 65535)
    return false;
  out = {host, static_cast<uint16_t>(port)};
  return true;
}

void usage() {
  std::cerr
    << "usage: chat-bench --scenario=hold|broadcast|throughput|loss "
       "[options]\n"
       "  --host=ADDR --port=N     server (default 127.0.0.1:8765)\n"
       "  --targets=A:P,A:P,...    several servers (a cluster's nodes):\n"
       "                           client i connects to the (i mod K)-th;\n"
       "                           replaces --host/--port\n"
       "  --server=NAME            label in the JSON (default server)\n"
       "  --server-pid=PID[,PID]   read the servers' RSS and CPU from /proc\n"
       "                           (summed over every PID given)\n"
       "  --clients=N              connections (default 1000)\n"
       "  --sources=K              source addresses 127.0.0.2.. (default 4)\n"
       "  --concurrency=N          handshakes in progress at once (128),\n"
       "                           in each worker\n"
       "  --rounds=K               broadcasts per step (default 64)\n"
       "  --in-flight=M            broadcasts in flight at once (16)\n"
       "  --steps=N1,N2,...        broadcast: raise N until p95 > max\n"
       "  --max-p95-ms=MS          stepping stops above this (500)\n"
       "  --duration=S             throughput: measured seconds (5)\n"
       "  --settle=S               wait after connecting (1)\n"
       "  --timeout=S              bound of every phase (60)\n"
       "  --tls=1                  connect with TLS (wss://), unverified\n"
       "  --kill-node=K --kill-pid=PID\n"
       "                           loss: hold, then SIGKILL the K-th target\n"
       "                           (process PID) and time until every other\n"
       "                           client was told of all its clients;\n"
       "                           --kill-pid=0: someone else kills it, timed\n"
       "                           from the first of its clients to drop\n"
       "  --kill-expect=N          loss: departures to hear of (default:\n"
       "                           this process's clients of that node)\n"
       "  --kill-expect-file=F     loss: that number, read from F once the\n"
       "                           node is gone (its killer writes it)\n"
       "  --workers=W              hold, broadcast: W processes share the\n"
       "                           clients (each may open ~19,900 here)\n"
       "  --all-steps              broadcast: go on stepping after a miss\n"
       "  --busy-poll              poll the sockets without sleeping (takes\n"
       "                           the core; keeps wake-ups off the server's)\n";
}

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--all-steps") {
      o.all_steps = true;
      continue;
    }
    if (arg == "--busy-poll") {
      o.busy_poll = true;
      continue;
    }
    auto eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos)
      return false;
    auto key = arg.substr(2, eq - 2);
    auto val = arg.substr(eq + 1);
    if (key == "scenario")
      o.scenario = val;
    else if (key == "server")
      o.server = val;
    else if (key == "host")
      o.host = val;
    else if (key == "port")
      o.port = static_cast<uint16_t>(std::stoi(val));
    else if (key == "targets") {
      std::stringstream ss{val};
      std::string item;
      o.targets.clear();
      while (std::getline(ss, item, ',')) {
        std::pair<std::string, uint16_t> t;
        if (!parse_target(item, t))
          return false;
        o.targets.push_back(t);
      }
      if (o.targets.empty())
        return false;
    } else if (key == "clients")
      o.clients = std::stoi(val);
    else if (key == "sources")
      o.sources = std::max(1, std::min(250, std::stoi(val)));
    else if (key == "concurrency")
      o.concurrency = std::max(1, std::stoi(val));
    else if (key == "rounds")
      o.rounds = std::max(1, std::stoi(val));
    else if (key == "in-flight")
      o.in_flight = std::max(1, std::stoi(val));
    else if (key == "steps") {
      std::stringstream ss{val};
      std::string item;
      while (std::getline(ss, item, ','))
        o.steps.push_back(std::stoi(item));
    } else if (key == "max-p95-ms")
      o.max_p95_ms = std::stod(val);
    else if (key == "duration")
      o.duration_s = std::stod(val);
    else if (key == "settle")
      o.settle_s = std::stod(val);
    else if (key == "timeout")
      o.timeout_s = std::stod(val);
    else if (key == "tls")
      o.tls = val == "1";
    else if (key == "server-pid") {
      std::stringstream ss{val};
      std::string item;
      o.server_pids.clear();
      while (std::getline(ss, item, ','))
        if (auto pid = std::stoi(item); pid > 0)
          o.server_pids.push_back(pid);
    } else if (key == "kill-node")
      o.kill_node = std::stoi(val);
    else if (key == "kill-pid")
      o.kill_pid = std::stoi(val);
    else if (key == "kill-expect")
      o.kill_expect = std::stoll(val);
    else if (key == "kill-expect-file")
      o.kill_expect_file = val;
    else if (key == "workers")
      o.workers = std::max(1, std::min(64, std::stoi(val)));
    else if (key == "all-steps")
      o.all_steps = val == "1";
    else
      return false;
  }
  if (o.workers > 1 && o.scenario != "hold" && o.scenario != "broadcast")
    return false;
  if (o.scenario == "loss")
    return o.kill_node >= 1 && o.kill_pid >= 0
           && o.kill_node <= static_cast<int>(std::max<size_t>(
                1, o.targets.size()));
  return o.scenario == "hold" || o.scenario == "broadcast"
         || o.scenario == "throughput";
}

// Each connection is a socket: allow as many as the hard limit does.
uint64_t raise_file_limit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return 0;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

double own_cpu_s() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// VmRSS of a process in bytes, 0 when unknown.
int64_t rss_bytes(int pid) {
  if (pid <= 0)
    return 0;
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::atoll(line.c_str() + 6) * 1024;
  return 0;
}

// User plus system CPU seconds of a process, 0 when unknown.
double proc_cpu_s(int pid) {
  if (pid <= 0)
    return 0;
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string all;
  std::getline(in, all);
  auto paren = all.rfind(')');
  if (paren == std::string::npos)
    return 0;
  std::stringstream ss{all.substr(paren + 2)};
  std::string field;
  double ticks = 0;
  // Fields 3.. after the name; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && ss >> field; ++i)
    if (i >= 14)
      ticks += std::atof(field.c_str());
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int64_t rss_bytes(const std::vector<int>& pids) {
  int64_t sum = 0;
  for (auto pid : pids)
    sum += rss_bytes(pid);
  return sum;
}

double proc_cpu_s(const std::vector<int>& pids) {
  double sum = 0;
  for (auto pid : pids)
    sum += proc_cpu_s(pid);
  return sum;
}

// CPU of the generator and the servers, and wall time, at one moment.
struct cpu_mark {
  double cpu_s;
  double server_cpu_s;
  double wall_s;
};

class bench;

// One WebSocket client connection: handshake, then frames both ways.
class conn {
public:
  enum class state { idle, connecting, open, dead };

  conn(bench& b, asio::io_context& io, asio::ssl::context* tls, int index)
    : bench_(b),
      socket_(io, tls),
      index_(index),
      mask_seed_(index * 2654435761u) {
  }

  void start(const tcp::endpoint& server, const asio::ip::address& source);
  void send_text(const std::string& text);
  state st = state::idle;

private:
  void fail();
  void send_handshake(const tcp::endpoint& server);
  void read_handshake();
  void read_frames();
  void parse_frames();
  void flush();
  void send_frame(uint8_t opcode, const char* data, size_t len);

  bench& bench_;
  net::tls_stream socket_;
  int index_;
  uint32_t mask_seed_;
  std::vector<char> in_ = std::vector<char>(2048);
  size_t in_used_ = 0;
  std::string out_;
  std::string writing_;
  bool write_busy_ = false;
};

// Runs one scenario over a pool of connections.
class bench {
public:
  // Worker `worker` of run.workers(); worker 0 coordinates and prints.
  bench(options o, chat_bench::shared_run& run, int worker)
    : opt_(std::move(o)),
      run_(run),
      lines_(run.lines()),
      worker_(worker),
      workers_(run.workers()) {
    if (opt_.targets.empty())
      opt_.targets.emplace_back(opt_.host, opt_.port);
    for (auto& [host, port] : opt_.targets)
      servers_.emplace_back(asio::ip::make_address(host), port);
    if (opt_.tls) {
      tls_ = std::make_unique<asio::ssl::context>(
        asio::ssl::context::tls_client);
      tls_->set_verify_mode(asio::ssl::verify_none);
    }
  }

  int run();
  // Workers 1..W-1: carry out worker 0's commands until told to exit.
  int serve();
  int finish(int rc);
  void add_child(pid_t pid) {
    children_.push_back(pid);
  }

  // Callbacks from conn.
  void on_open(int) {
    --pending_;
    ++open_;
  }
  void on_fail(int index, bool was_open) {
    if (was_open) {
      --open_;
      ++dropped_;
      if (watching_ && node_of(global(index)) != opt_.kill_node - 1)
        ++survivors_dropped_;
      else if (watching_ && killed_ns_ == 0)
        killed_ns_ = now_ns();
    } else {
      --pending_;
      ++failed_;
    }
  }
  void on_text(int receiver, const char* data, size_t len, int64_t t);

private:
  int connect_to(int n);
  void pump();
  template <class Pred>
  bool run_until(Pred done, double timeout_s, const char* what);
  void send_stamped(int sender, bool broadcast);
  void complete(size_t id);
  void poll_lines();
  void settle();
  bool probe();
  void send_probe_lines();
  void reset_counts();
  void connect_all(int n);
  void settle_all();
  // The team of workers: every one carries out `c` over its own clients
  // and all wait for the slowest; false if one failed, timed out or died.
  // One worker: just `c`, as before there were workers.
  bool together(command c, int64_t arg, double timeout_s);
  bool carry_out(command c, int64_t arg);
  void publish();
  bool team_alive();
  // Counts summed over the workers (this one's own, with one worker).
  template <class T>
  int64_t
  total(int64_t own, std::atomic<T> chat_bench::worker_slot::*field) const {
    if (workers_ == 1)
      return own;
    int64_t sum = 0;
    for (int w = 0; w < workers_; ++w)
      sum += (run_.worker(w).*field).load(std::memory_order_relaxed);
    return sum;
  }
  int open_all() const {
    return static_cast<int>(total(open_, &chat_bench::worker_slot::open));
  }
  std::string head(const char* scenario, int clients);
  cpu_mark mark_now() const;
  std::string tail(const cpu_mark& from, const cpu_mark& to) const;
  int hold();
  int broadcast();
  bool broadcast_step(int n, double& p95);
  int throughput();
  int loss();
  int node_of(int g) const {
    return g % static_cast<int>(servers_.size());
  }
  // This worker's client `local` is global client local * W + worker.
  int global(int local) const {
    return local * workers_ + worker_;
  }
  // How many of clients 0..n-1 are this worker's.
  int share(int n) const {
    return n > worker_ ? (n - worker_ + workers_ - 1) / workers_ : 0;
  }
  void on_departures(int receiver, const char* data, size_t len, int64_t t);
  bool read_kill_expect();

  options opt_;
  chat_bench::shared_run& run_;
  // Stamped lines, shared by every worker.
  chat_bench::line_table lines_;
  int worker_;
  int workers_;
  std::vector<pid_t> children_;
  // Workers 1..W-1: worker 0's process, which they leave once it is gone.
  pid_t parent_ = getppid();
  // A worker died or left: the team cannot measure any more.
  bool broken_ = false;
  // broadcast: the lines in flight, that worker 0 watches.
  std::vector<size_t> in_flight_;
  asio::io_context io_{1};
  // Without work (a worker waiting for its first command) run_for() would
  // return at once and leave io_ stopped: the guard keeps it running.
  asio::executor_work_guard<asio::io_context::executor_type> keep_
    = asio::make_work_guard(io_);
  // The TLS settings of every connection, with --tls.
  std::unique_ptr<asio::ssl::context> tls_;
  // The servers; client i connects to servers_[i % servers_.size()].
  std::vector<tcp::endpoint> servers_;
  std::vector<std::unique_ptr<conn>> conns_;
  int next_ = 0;
  int pending_ = 0;
  int open_ = 0;
  int failed_ = 0;
  int dropped_ = 0;
  int target_ = 0;
  // What the receivers measured.
  chat_bench::latency_histogram latencies_;
  int64_t deliveries_ = 0;
  int64_t stray_ = 0;
  // Frames of a line beyond the N-1 it was owed: a duplicate delivery.
  int64_t extra_ = 0;
  bool broadcasting_ = false;
  bool closed_loop_ = false;
  int64_t stop_sending_ns_ = 0;
  int started_ = 0;
  int completed_ = 0;
  int next_sender_ = 0;
  // loss: while watching_, departures announced to each client (one-by-one
  // lines count 1, a summary its <D>), and when it had heard of all
  // told_need_ clients of the killed node.
  bool watching_ = false;
  int64_t killed_ns_ = 0;
  int64_t told_need_ = 0;
  std::vector<int64_t> told_sum_;
  int told_ = 0;
  int over_told_ = 0;
  int64_t first_told_ns_ = 0;
  int64_t last_told_ns_ = 0;
  int survivors_dropped_ = 0;
};

void conn::start(const tcp::endpoint& server, const asio::ip::address& source) {
  st = state::connecting;
  std::error_code ec;
  auto& raw = socket_.lowest_layer();
  raw.open(tcp::v4(), ec);
  if (!ec) {
#ifdef IP_BIND_ADDRESS_NO_PORT
    // Pick the port at connect time, by the whole 4-tuple.
    int one = 1;
    if (setsockopt(raw.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
                   &one, sizeof(one))
        != 0) {
      // Still works, with ports picked at bind time: fewer per address.
      static bool told = false;
      if (!std::exchange(told, true))
        std::cerr << "chat-bench: IP_BIND_ADDRESS_NO_PORT: "
                  << std::strerror(errno) << '\n';
    }
#endif
    raw.bind(tcp::endpoint{source, 0}, ec);
  }
  if (ec) {
    asio::post(socket_.get_executor(), [this] { fail(); });
    return;
  }
  raw.async_connect(server, [this, server](std::error_code ec) {
    if (ec)
      return fail();
    // Without it every line waits for Nagle: a client that cannot have it
    // would measure the kernel's 40 ms, not the server.
    if (socket_.lowest_layer().set_option(tcp::no_delay(true), ec); ec) {
      std::cerr << "chat-bench: TCP_NODELAY: " << ec.message() << '\n';
      return fail();
    }
    auto* tls = socket_.tls();
    if (!tls)
      return send_handshake(server);
    tls->async_handshake(asio::ssl::stream_base::client,
                         [this, server](std::error_code ec) {
                           if (ec)
                             return fail();
                           send_handshake(server);
                         });
  });
}

void conn::send_handshake(const tcp::endpoint& server) {
  {
    std::string req = "GET / HTTP/1.1\r\nHost: " + server.address().to_string()
                      + ':' + std::to_string(server.port())
                      + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n";
    out_ = std::move(req);
    flush();
    read_handshake();
  }
}

void conn::fail() {
  if (st == state::dead)
    return;
  bool was_open = st == state::open;
  st = state::dead;
  std::error_code ec;
  socket_.lowest_layer().close(ec);
  bench_.on_fail(index_, was_open);
}

void conn::read_handshake() {
  if (in_used_ == in_.size())
    return fail();
  socket_.async_read_some(
    asio::buffer(in_.data() + in_used_, in_.size() - in_used_),
    [this](std::error_code ec, size_t n) {
      if (ec)
        return fail();
      in_used_ += n;
      std::string_view view{in_.data(), in_used_};
      auto end = view.find("\r\n\r\n");
      if (end == std::string_view::npos)
        return read_handshake();
      if (view.substr(0, 12) != "HTTP/1.1 101")
        return fail();
      // What follows the header is already frames.
      std::memmove(in_.data(), in_.data() + end + 4, in_used_ - end - 4);
      in_used_ -= end + 4;
      st = state::open;
      bench_.on_open(index_);
      parse_frames();
      if (st == state::open)
        read_frames();
    });
}

void conn::read_frames() {
  if (in_used_ == in_.size())
    in_.resize(in_.size() * 2);
  socket_.async_read_some(asio::buffer(in_.data() + in_used_,
                                       in_.size() - in_used_),
                          [this](std::error_code ec, size_t n) {
                            if (ec)
                              return fail();
                            in_used_ += n;
                            parse_frames();
                            if (st == state::open)
                              read_frames();
                          });
}

void conn::parse_frames() {
  // Every frame of one read arrived at the same moment: one clock read for
  // all of them keeps the generator's cost per delivery low.
  auto t = now_ns();
  size_t pos = 0;
  auto* p = reinterpret_cast<const uint8_t*>(in_.data());
  while (in_used_ - pos >= 2) {
    uint8_t opcode = p[pos] & 0x0f;
    bool masked = p[pos + 1] & 0x80;
    uint64_t len = p[pos + 1] & 0x7f;
    size_t hdr = 2;
    if (len == 126) {
      if (in_used_ - pos < 4)
        break;
      len = (uint64_t{p[pos + 2]} << 8) | p[pos + 3];
      hdr = 4;
    } else if (len == 127) {
      if (in_used_ - pos < 10)
        break;
      len = 0;
      for (int i = 0; i < 8; ++i)
        len = (len << 8) | p[pos + 2 + i];
      hdr = 10;
    }
    if (masked || len > (1u << 24))
      return fail(); // servers never mask
    if (in_used_ - pos < hdr + len) {
      if (hdr + len > in_.size())
        in_.resize(hdr + len);
      break;
    }
    const char* payload = in_.data() + pos + hdr;
    if (opcode == 0x1 || opcode == 0x0)
      bench_.on_text(index_, payload, len, t);
    else if (opcode == 0x9)
      send_frame(0xA, payload, len);
    else if (opcode == 0x8)
      return fail();
    pos += hdr + len;
    if (st != state::open)
      return;
  }
  if (pos > 0) {
    std::memmove(in_.data(), in_.data() + pos, in_used_ - pos);
    in_used_ -= pos;
  }
}

void conn::send_text(const std::string& text) {
  send_frame(0x1, text.data(), text.size());
}

void conn::send_frame(uint8_t opcode, const char* data, size_t len) {
  if (st != state::open)
    return;
  out_.push_back(static_cast<char>(0x80 | opcode));
  if (len < 126) {
    out_.push_back(static_cast<char>(0x80 | len));
  } else {
    out_.push_back(static_cast<char>(0x80 | 126));
    out_.push_back(static_cast<char>((len >> 8) & 0xff));
    out_.push_back(static_cast<char>(len & 0xff));
  }
  // xorshift: a fresh mask per frame, as RFC 6455 asks of clients.
  mask_seed_ ^= mask_seed_ << 13;
  mask_seed_ ^= mask_seed_ >> 17;
  mask_seed_ ^= mask_seed_ << 5;
  char mask[4];
  std::memcpy(mask, &mask_seed_, 4);
  out_.append(mask, 4);
  for (size_t i = 0; i < len; ++i)
    out_.push_back(static_cast<char>(data[i] ^ mask[i & 3]));
  flush();
}

void conn::flush() {
  if (write_busy_ || out_.empty())
    return;
  write_busy_ = true;
  writing_.swap(out_);
  out_.clear();
  asio::async_write(socket_, asio::buffer(writing_),
                    [this](std::error_code ec, size_t) {
                      write_busy_ = false;
                      writing_.clear();
                      if (ec)
                        return fail();
                      flush();
                    });
}

// Frames look like `<S> <payload>`; ours are `B<id>` or `T<id>`. `t`: when
// the read that brought the frame completed.
void bench::on_text(int receiver, const char* data, size_t len, int64_t t) {
  if (watching_)
    on_departures(receiver, data, len, t);
  const char* end = data + len;
  const char* sp = static_cast<const char*>(std::memchr(data, ' ', len));
  if (!sp || sp + 2 >= end || (sp[1] != 'B' && sp[1] != 'T')) {
    ++stray_;
    return;
  }
  size_t id = 0;
  for (const char* c = sp + 2; c < end && *c >= '0' && *c <= '9'; ++c)
    id = id * 10 + static_cast<size_t>(*c - '0');
  auto got = lines_.deliver(id, global(receiver), t);
  if (got == delivery::stray) {
    ++stray_;
    return;
  }
  if (got == delivery::extra) {
    ++extra_;
    return;
  }
  ++deliveries_;
  if (!broadcasting_)
    latencies_.record(t - lines_[id].sent_ns.load(std::memory_order_relaxed));
  if (got != delivery::last)
    return;
  if (broadcasting_) {
    complete(id);
    return;
  }
  ++completed_;
  if (closed_loop_ && t < stop_sending_ns_)
    send_stamped(lines_[id].sender.load(std::memory_order_relaxed), false);
}

// A broadcast line worker 0 started reached every other client: its
// latency counts, and the next line leaves.
void bench::complete(size_t id) {
  auto at = std::find(in_flight_.begin(), in_flight_.end(), id);
  if (at == in_flight_.end())
    return;
  in_flight_.erase(at);
  ++completed_;
  latencies_.record(lines_.latency_ns(id));
  if (started_ < opt_.rounds)
    send_stamped(next_sender_++ % target_, true);
}

// Lines that other workers' clients completed, noticed once per turn (this
// paces the lines; their latency is the slots' own stamps).
void bench::poll_lines() {
  for (size_t i = 0; i < in_flight_.size();) {
    auto id = in_flight_[i];
    if (lines_.done(id))
      complete(id); // removes it: look at the same place again
    else
      ++i;
  }
}

// `sender`: this worker's client; a dead sender cannot send, the next live
// one does.
void bench::send_stamped(int sender, bool broadcast) {
  for (int i = 0; i < target_ && conns_[sender]->st != conn::state::open; ++i)
    sender = (sender + 1) % target_;
  auto id = lines_.start(global(sender), open_all() - 1, now_ns());
  if (id < 0) {
    static bool told = false;
    if (!std::exchange(told, true))
      std::cerr << "chat-bench: the table of lines is full\n";
    return;
  }
  ++started_;
  if (broadcast)
    in_flight_.push_back(static_cast<size_t>(id));
  auto text = std::string(broadcast ? "B" : "T") + std::to_string(id);
  conns_[sender]->send_text(text);
}

void bench::pump() {
  while (next_ < target_ && pending_ < opt_.concurrency) {
    auto idx = next_++;
    if (idx >= static_cast<int>(conns_.size()))
      conns_.push_back(std::make_unique<conn>(*this, io_, tls_.get(), idx));
    // 127.0.0.2, .3, ...: each has its own ephemeral port range. By the
    // global index, so that W workers spread as one process would.
    auto g = global(idx);
    asio::ip::address_v4::bytes_type b{
      {127, 0, 0, static_cast<unsigned char>(2 + g % opt_.sources)}};
    ++pending_;
    conns_[idx]->start(servers_[static_cast<size_t>(node_of(g))],
                       asio::ip::address_v4{b});
  }
}

template <class Pred>
bool bench::run_until(Pred done, double timeout_s, const char* what) {
  auto start = clock_type::now();
  auto deadline = start + std::chrono::duration<double>(timeout_s);
  auto next_report = start + std::chrono::seconds(1);
  auto& ctl = run_.ctl();
  auto next_check = start;
  while (!done()) {
    auto now = clock_type::now();
    if (now >= deadline) {
      std::cerr << "chat-bench: ";
      if (worker_ > 0)
        std::cerr << "worker " << worker_ << ": ";
      std::cerr << what << ": timed out\n";
      return false;
    }
    // A worker that died, or worker 0 gone: checked ten times a second.
    if (workers_ > 1 && now >= next_check) {
      next_check = now + std::chrono::milliseconds(100);
      if (ctl.abort.load() || !team_alive()) {
        broken_ = true;
        return false;
      }
    }
    // Progress from worker 0 only, summed over the workers.
    if (now >= next_report && worker_ == 0) {
      next_report += std::chrono::seconds(1);
      using ws = chat_bench::worker_slot;
      auto extra = total(extra_, &ws::extra);
      std::cerr << "chat-bench: " << what << ": open " << open_all()
                << ", failed " << total(failed_, &ws::failed) << ", dropped "
                << total(dropped_, &ws::dropped) << ", deliveries "
                << total(deliveries_, &ws::deliveries) << ", done "
                << completed_;
      if (extra > 0)
        std::cerr << ", extra " << extra;
      std::cerr << '\n';
    }
    pump();
    // Between two turns, worker 0 notices the lines that other workers
    // completed. 5 ms: a 1 ms turn cost the workers twice the CPU per
    // delivery (and worse latency) at N = 15,000.
    if (opt_.busy_poll)
      io_.poll();
    else
      io_.run_for(std::chrono::milliseconds(5));
    if (workers_ > 1) {
      publish();
      if (broadcasting_)
        poll_lines();
    }
  }
  return true;
}

// This worker's counts, for the others to sum.
void bench::publish() {
  auto& me = run_.worker(worker_);
  me.open.store(open_, std::memory_order_relaxed);
  me.failed.store(failed_, std::memory_order_relaxed);
  me.dropped.store(dropped_, std::memory_order_relaxed);
  me.deliveries.store(deliveries_, std::memory_order_relaxed);
  me.extra.store(extra_, std::memory_order_relaxed);
}

// Worker 0: false (and a line on stderr) once a worker has died or left.
// The others: false once worker 0 has.
bool bench::team_alive() {
  if (worker_ != 0)
    return getppid() == parent_ && !run_.ctl().abort.load();
  for (size_t k = 0; k < children_.size(); ++k) {
    auto& pid = children_[k];
    int status = 0;
    if (pid <= 0 || ::waitpid(pid, &status, WNOHANG) != pid)
      continue;
    std::cerr << "chat-bench: worker " << k + 1 << " (pid " << pid << ") ";
    if (WIFSIGNALED(status))
      std::cerr << "died of signal " << WTERMSIG(status) << '\n';
    else
      std::cerr << "exited with " << WEXITSTATUS(status) << '\n';
    pid = 0;
    run_.ctl().abort.store(1);
    return false;
  }
  return true;
}

bool bench::together(command c, int64_t arg, double timeout_s) {
  if (workers_ == 1)
    return carry_out(c, arg);
  if (broken_)
    return false;
  auto& ctl = run_.ctl();
  ctl.cmd.store(static_cast<int32_t>(c), std::memory_order_relaxed);
  ctl.arg.store(arg, std::memory_order_relaxed);
  auto seq = ctl.seq.load(std::memory_order_relaxed) + 1;
  ctl.seq.store(seq, std::memory_order_release);
  bool ok = carry_out(c, arg);
  // Every worker, this one too, has carried it out once its done_seq is
  // seq (worker 0's own, set here).
  run_.worker(0).ok.store(ok);
  run_.worker(0).done_seq.store(seq, std::memory_order_release);
  bool all = run_until(
    [&] {
      for (int w = 0; w < workers_; ++w)
        if (run_.worker(w).done_seq.load(std::memory_order_acquire) != seq)
          return false;
      return true;
    },
    timeout_s, "workers");
  if (!all) {
    broken_ = true;
    ctl.abort.store(1);
    return false;
  }
  for (int w = 0; w < workers_; ++w)
    ok = ok && run_.worker(w).ok.load();
  return ok;
}

// This worker's part of a command.
bool bench::carry_out(command c, int64_t arg) {
  bool ok = true;
  switch (c) {
    case command::connect:
      // Its outcome is the count of clients open, which the caller reads.
      connect_to(share(static_cast<int>(arg)));
      break;
    case command::settle:
      settle();
      break;
    case command::reset:
      reset_counts();
      break;
    case command::probe:
      send_probe_lines();
      break;
    case command::report:
    case command::none:
    case command::exit:
      break;
  }
  publish();
  return ok;
}

int bench::serve() {
  auto& ctl = run_.ctl();
  auto& me = run_.worker(worker_);
  int32_t seen = 0;
  // Worker 0 sends a command at least once per phase, each bounded.
  auto idle_s = 4 * opt_.timeout_s + opt_.settle_s + 30;
  for (;;) {
    if (!run_until(
          [&] { return ctl.seq.load(std::memory_order_acquire) != seen; },
          idle_s, "worker: waiting"))
      return 1;
    seen = ctl.seq.load(std::memory_order_acquire);
    auto c = static_cast<command>(ctl.cmd.load(std::memory_order_relaxed));
    bool ok = carry_out(c, ctl.arg.load(std::memory_order_relaxed));
    me.ok.store(ok);
    me.done_seq.store(seen, std::memory_order_release);
    if (c == command::exit)
      return 0;
  }
}

// Opens connections until n have been tried; returns how many are open.
int bench::connect_to(int n) {
  target_ = n;
  run_until([&] { return next_ >= target_ && pending_ == 0; }, opt_.timeout_s,
            "connect");
  return open_;
}

// Lets arrival announcements drain before anything is measured.
void bench::settle() {
  auto until = clock_type::now() + std::chrono::duration<double>(opt_.settle_s);
  run_until([&] { return clock_type::now() >= until; }, opt_.settle_s + 1,
            "settle");
}

// Clears what the receivers measured, before a measured phase.
void bench::reset_counts() {
  if (worker_ == 0)
    lines_.clear();
  in_flight_.clear();
  latencies_.clear();
  deliveries_ = started_ = completed_ = 0;
  extra_ = 0;
}

// Several servers: one line from a client of each, bounded, must reach every
// other client (so every node relays to every node) before anything is
// measured. Nothing to do for one server, which keeps its runs as before.
bool bench::probe() {
  auto nodes = static_cast<int>(servers_.size());
  if (nodes < 2)
    return true;
  const double quick_s = 10;
  together(command::reset, 0, quick_s);
  together(command::probe, 0, quick_s);
  auto done = [&] {
    size_t n = 0;
    for (size_t id = 0; id < lines_.size(); ++id)
      n += lines_.done(id);
    return n;
  };
  bool ok = run_until([&] { return done() >= lines_.size(); },
                      opt_.timeout_s, "probe")
            && lines_.size() == static_cast<size_t>(nodes);
  if (!ok) {
    std::cerr << "chat-bench: probe: " << done() << " of " << lines_.size()
              << " lines (one per node with an open client, of " << nodes
              << " nodes) reached every other client; missing:";
    for (size_t id = 0; id < lines_.size(); ++id)
      if (auto left = lines_[id].remaining.load(); left > 0)
        std::cerr << " node " << (node_of(lines_[id].sender.load()) + 1)
                  << "'s line at " << left << " clients;";
    std::cerr << '\n';
  }
  together(command::reset, 0, quick_s);
  return ok;
}

// This worker's probe lines: node k's is sent by worker k mod W, which holds
// client k and every k + jW, so some of node k's clients if any.
void bench::send_probe_lines() {
  auto nodes = static_cast<int>(servers_.size());
  // Only the connections started: after a connect timeout, fewer than asked.
  auto started = static_cast<int>(conns_.size());
  for (int k = worker_; k < nodes; k += workers_)
    for (int i = 0; i < started; ++i)
      if (node_of(global(i)) == k && conns_[i]->st == conn::state::open) {
        send_stamped(i, false);
        break;
      }
}

std::string bench::head(const char* scenario, int clients) {
  std::ostringstream os;
  os << "{\"scenario\":\"" << scenario << "\",\"server\":\"" << opt_.server
     << "\",\"nodes\":" << servers_.size() << ",\"clients\":" << clients
     << ",\"tls\":" << (opt_.tls ? "true" : "false")
     << ",\"open\":" << open_all()
     << ",\"failed\":" << total(failed_, &chat_bench::worker_slot::failed)
     << ",\"dropped\":" << total(dropped_, &chat_bench::worker_slot::dropped);
  if (workers_ > 1)
    os << ",\"workers\":" << workers_;
  if (opt_.busy_poll)
    os << ",\"busy_poll\":true";
  return os.str();
}

// The generator's CPU is every worker's: the others' read from /proc.
cpu_mark bench::mark_now() const {
  return {own_cpu_s() + proc_cpu_s(children_), proc_cpu_s(opt_.server_pids),
          static_cast<double>(now_ns()) / 1e9};
}

// CPU and wall time from `from` to `to`, the phase being measured.
std::string bench::tail(const cpu_mark& from, const cpu_mark& to) const {
  auto wall = to.wall_s - from.wall_s;
  auto cpu = to.cpu_s - from.cpu_s;
  std::ostringstream os;
  os << ",\"wall_s\":" << wall << ",\"bench_cpu_s\":" << cpu
     << ",\"bench_cpu_pct\":" << (wall > 0 ? 100 * cpu / wall : 0);
  if (!opt_.server_pids.empty()) {
    auto scpu = to.server_cpu_s - from.server_cpu_s;
    os << ",\"server_cpu_s\":" << scpu
       << ",\"server_cpu_pct\":" << (wall > 0 ? 100 * scpu / wall : 0);
  }
  os << "}";
  return os.str();
}

int bench::hold() {
  auto rss0 = rss_bytes(opt_.server_pids);
  auto from = mark_now();
  auto t0 = clock_type::now();
  connect_all(opt_.clients);
  double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  settle_all();
  auto rss1 = rss_bytes(opt_.server_pids);
  auto open = open_all();
  std::cout << head("hold", opt_.clients) << ",\"connect_s\":" << secs
            << ",\"connects_per_s\":" << (secs > 0 ? open / secs : 0)
            << ",\"server_rss_before\":" << rss0
            << ",\"server_rss_after\":" << rss1 << ",\"bytes_per_client\":"
            << (open > 0 ? (rss1 - rss0) / open : 0) << tail(from, mark_now())
            << std::endl;
  return open > 0 && !broken_ ? 0 : 1;
}

// Every worker opens its share of clients 0..n-1 (bounded as connect_to
// is, and a little more for the slowest to say so).
void bench::connect_all(int n) {
  together(command::connect, n, opt_.timeout_s + 10);
}

void bench::settle_all() {
  together(command::settle, 0, opt_.settle_s + 10);
}

// K broadcasts with M in flight over n clients; false if any never finished.
// Worker 0 sends every line, from its own clients in turn, and counts a
// line's latency once it reached every other client of every worker.
bool bench::broadcast_step(int n, double& p95) {
  auto t0 = clock_type::now();
  connect_all(n);
  double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  settle_all();
  bool reached = probe();
  together(command::reset, 0, 10);
  auto from = mark_now();
  broadcasting_ = true;
  for (int i = 0; i < opt_.in_flight && started_ < opt_.rounds; ++i)
    send_stamped(next_sender_++ % target_, true);
  bool ok = run_until([&] { return completed_ >= opt_.rounds; }, opt_.timeout_s,
                      "broadcast");
  broadcasting_ = false;
  auto to = mark_now();
  // The other workers' deliveries, as counted by the end.
  together(command::report, 0, 10);
  auto deliveries = total(deliveries_, &chat_bench::worker_slot::deliveries);
  auto extra = total(extra_, &chat_bench::worker_slot::extra);
  // A broadcast that never finished counts as infinitely late (1e9 ms).
  for (int i = completed_; i < opt_.rounds; ++i)
    latencies_.record(int64_t{1'000'000'000'000'000});
  p95 = latencies_.percentile_ms(0.95);
  auto wall = to.wall_s - from.wall_s;
  std::cout << head("broadcast", n) << ",\"connect_s\":" << secs
            << ",\"in_flight\":" << opt_.in_flight
            << ",\"rounds\":" << opt_.rounds << ",\"completed\":" << completed_
            << ",\"deliveries\":" << deliveries << ",\"deliveries_per_s\":"
            << (wall > 0 ? static_cast<double>(deliveries) / wall : 0)
            << ",\"p50_ms\":" << latencies_.percentile_ms(0.50)
            << ",\"p95_ms\":" << p95
            << ",\"p99_ms\":" << latencies_.percentile_ms(0.99)
            << ",\"max_ms\":" << latencies_.max_ms()
            << ",\"extra_deliveries\":" << extra << tail(from, to)
            << std::endl;
  return ok && reached && open_all() == n && !broken_;
}

int bench::broadcast() {
  if (opt_.steps.empty()) {
    double p95 = 0;
    return broadcast_step(opt_.clients, p95) ? 0 : 1;
  }
  // The largest N before the first miss; with --all-steps the steps past
  // it are measured too (a team that lost a worker cannot).
  int best = 0;
  bool missed = false;
  for (auto n : opt_.steps) {
    double p95 = 0;
    bool ok = broadcast_step(n, p95);
    if (!ok || p95 > opt_.max_p95_ms) {
      missed = true;
      if (!opt_.all_steps || broken_)
        break;
    }
    if (!missed)
      best = n;
  }
  std::cout << "{\"scenario\":\"broadcast-max\",\"server\":\"" << opt_.server
            << "\",\"nodes\":" << servers_.size()
            << ",\"max_p95_ms\":" << opt_.max_p95_ms
            << ",\"in_flight\":" << opt_.in_flight << ",\"largest_n\":" << best;
  if (workers_ > 1)
    std::cout << ",\"workers\":" << workers_;
  std::cout << "}" << std::endl;
  return broken_ ? 1 : 0;
}

int bench::throughput() {
  connect_to(opt_.clients);
  settle();
  probe();
  auto from = mark_now();
  reset_counts();
  closed_loop_ = true;
  auto start = now_ns();
  stop_sending_ns_ = start + static_cast<int64_t>(opt_.duration_s * 1e9);
  // Closed loop: each client has one line in flight; the next leaves when
  // every other client got the previous one.
  for (int i = 0; i < target_; ++i)
    if (conns_[i]->st == conn::state::open)
      send_stamped(i, false);
  run_until([&] { return now_ns() >= stop_sending_ns_; }, opt_.duration_s + 1,
            "throughput");
  // CPU is measured over the flat-out phase only, not the drain after it.
  auto to = mark_now();
  auto measured = deliveries_;
  auto secs = static_cast<double>(now_ns() - start) / 1e9;
  auto lat = latencies_;
  // Let what is in flight arrive (bounded), so that the server is idle again.
  closed_loop_ = false;
  auto extra = extra_;
  run_until([&] { return completed_ >= started_; }, 10, "drain");
  std::cout << head("throughput", opt_.clients) << ",\"duration_s\":" << secs
            << ",\"lines_sent\":" << started_ << ",\"deliveries\":" << measured
            << ",\"deliveries_per_s\":"
            << (secs > 0 ? static_cast<double>(measured) / secs : 0)
            << ",\"p50_ms\":" << lat.percentile_ms(0.50)
            << ",\"p99_ms\":" << lat.percentile_ms(0.99)
            << ",\"stray_frames\":" << stray_
            << ",\"extra_deliveries\":" << extra
            << ",\"unfinished\":" << (started_ - completed_) << tail(from, to)
            << std::endl;
  return measured > 0 ? 0 : 1;
}

// `Client N disconnected` (one departure) or the large-room summary
// `<A> clients connected, <D> disconnected (<K> online)` (D departures).
void bench::on_departures(int receiver, const char* data, size_t len,
                          int64_t t) {
  std::string_view text{data, len};
  auto at = text.find(" disconnected");
  if (at == std::string_view::npos)
    return;
  int64_t d = 0;
  if (text.rfind("Client ", 0) == 0) {
    d = 1;
  } else {
    auto comma = text.rfind(", ", at);
    if (comma == std::string_view::npos)
      return;
    for (auto i = comma + 2; i < at && text[i] >= '0' && text[i] <= '9'; ++i)
      d = d * 10 + (text[i] - '0');
  }
  if (told_need_ == 0 && !read_kill_expect())
    return;
  auto& sum = told_sum_[static_cast<size_t>(receiver)];
  auto before = sum;
  sum += d;
  if (before < told_need_ && sum >= told_need_) {
    ++told_;
    if (first_told_ns_ == 0)
      first_told_ns_ = t;
    last_told_ns_ = t;
    latencies_.record(t - killed_ns_);
  }
  if (before <= told_need_ && sum > told_need_)
    ++over_told_;
}

// --kill-expect-file: the killed node's clients, as its killer counted
// them just before; false while the file is not there yet.
bool bench::read_kill_expect() {
  std::ifstream in{opt_.kill_expect_file};
  int64_t n = 0;
  if (!(in >> n) || n <= 0)
    return false;
  told_need_ = n;
  return true;
}

// Holds every client, reports it as `hold` does, then kills one node and
// waits (bounded) until every client of the others has been told that all
// of that node's clients left.
int bench::loss() {
  hold();
  int doomed = 0;
  int survivors = 0;
  // After a connect that timed out, fewer than target_ were started.
  for (int i = 0; i < static_cast<int>(conns_.size()); ++i)
    if (conns_[i]->st == conn::state::open)
      ++(node_of(global(i)) == opt_.kill_node - 1 ? doomed : survivors);
  reset_counts();
  told_sum_.assign(conns_.size(), 0);
  told_need_ = opt_.kill_expect > 0             ? opt_.kill_expect
               : opt_.kill_expect_file.empty() ? doomed
                                               : 0; // read after the kill
  watching_ = true;
  // The killed node's CPU time vanishes with it: count the others only.
  opt_.server_pids.erase(std::remove(opt_.server_pids.begin(),
                                     opt_.server_pids.end(), opt_.kill_pid),
                         opt_.server_pids.end());
  auto from = mark_now();
  killed_ns_ = opt_.kill_pid > 0 ? now_ns() : 0;
  if (opt_.kill_pid > 0 && ::kill(opt_.kill_pid, SIGKILL) != 0) {
    std::cerr << "chat-bench: kill " << opt_.kill_pid << ": "
              << std::strerror(errno) << '\n';
    return 1;
  }
  bool ok = run_until(
    [&] { return told_ + survivors_dropped_ >= survivors; }, opt_.timeout_s,
    "loss");
  auto to = mark_now();
  watching_ = false;
  auto since = [&](int64_t t) {
    return t > 0 ? static_cast<double>(t - killed_ns_) / 1e6 : -1.0;
  };
  std::cout << head("loss", opt_.clients)
            << ",\"killed_node\":" << opt_.kill_node
            << ",\"killed_clients\":" << doomed
            << ",\"survivors\":" << survivors << ",\"told\":" << told_
            << ",\"over_told\":" << over_told_
            << ",\"survivors_dropped\":" << survivors_dropped_
            << ",\"all_told\":" << (ok ? "true" : "false")
            << ",\"first_told_ms\":" << since(first_told_ns_)
            << ",\"all_told_ms\":" << (ok ? since(last_told_ns_) : -1.0)
            << ",\"told_p50_ms\":" << latencies_.percentile_ms(0.50)
            << ",\"told_p95_ms\":" << latencies_.percentile_ms(0.95)
            << tail(from, to) << std::endl;
  return ok && survivors_dropped_ == 0 ? 0 : 1;
}

int bench::run() {
  auto limit = raise_file_limit();
  std::cerr << "chat-bench: " << opt_.scenario << " against " << opt_.server
            << " at";
  for (auto& ep : servers_)
    std::cerr << ' ' << ep;
  std::cerr << ", file limit " << limit << '\n';
  // Keep a few descriptors for /proc and the process itself: past the
  // limit, connects fail here, not on the server.
  auto most = static_cast<int>(std::min<uint64_t>(limit, 1u << 30)) - 16;
  if (limit > 0 && opt_.clients > most * workers_) {
    std::cerr << "chat-bench: only " << most * workers_
              << " connections fit under this process's file limit";
    if (workers_ > 1)
      std::cerr << " times " << workers_ << " workers";
    std::cerr << '\n';
    opt_.clients = most * workers_;
  }
  // Each worker holds its share under its own limit.
  if (workers_ > 1 && limit > 0)
    most = most * workers_;
  for (auto& n : opt_.steps)
    n = std::min(n, limit > 0 ? most : n);
  if (opt_.scenario == "hold")
    return hold();
  if (opt_.scenario == "broadcast")
    return broadcast();
  if (opt_.scenario == "loss")
    return loss();
  return throughput();
}

// Worker 0, once the scenario is over: every other worker is told to exit
// and reaped (killed if it does not within a few seconds); one that
// crashed fails the run.
int bench::finish(int rc) {
  if (workers_ == 1)
    return rc;
  auto& ctl = run_.ctl();
  ctl.cmd.store(static_cast<int32_t>(command::exit));
  ctl.seq.fetch_add(1, std::memory_order_release);
  auto deadline = clock_type::now() + std::chrono::seconds(5);
  for (size_t k = 0; k < children_.size(); ++k) {
    auto pid = children_[k];
    if (pid <= 0)
      continue; // reaped already, and told of
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (clock_type::now() >= deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        std::cerr << "chat-bench: worker " << k + 1 << " (pid " << pid
                  << ") did not exit: killed\n";
        rc = 1;
        break;
      }
      ::usleep(10'000);
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) {
      std::cerr << "chat-bench: worker " << k + 1 << " (pid " << pid
                << ") died of signal " << WTERMSIG(status) << '\n';
      rc = 1;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      std::cerr << "chat-bench: worker " << k + 1 << " (pid " << pid
                << ") exited with " << WEXITSTATUS(status) << '\n';
      rc = 1;
    }
  }
  return rc;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  try {
    if (!parse(argc, argv, opt)) {
      usage();
      return 2;
    }
  } catch (const std::exception&) {
    usage();
    return 2;
  }
  auto* shared = chat_bench::shared_run::create(opt.workers);
  if (!shared) {
    std::cerr << "chat-bench: mmap: " << std::strerror(errno) << '\n';
    return 1;
  }
  // Before fork(): every worker inherits it.
  raise_file_limit();
  auto parent = getpid();
  std::vector<pid_t> children;
  for (int w = 1; w < opt.workers; ++w) {
    auto pid = ::fork();
    if (pid < 0) {
      std::cerr << "chat-bench: fork: " << std::strerror(errno) << '\n';
      for (auto c : children)
        ::kill(c, SIGKILL);
      return 1;
    }
    if (pid == 0) {
      // A worker never outlives worker 0 (nor starts after it died).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent)
        _exit(1);
      bench b{opt, *shared, w};
      _exit(b.serve());
    }
    children.push_back(pid);
  }
  bench b{opt, *shared, 0};
  for (auto pid : children)
    b.add_child(pid);
  return b.finish(b.run());
}
