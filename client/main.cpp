// chat-client: options, the console, the connection, signals, exit codes.

#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <websocketpp/uri.hpp>
#include <websocketpp/utf8_validator.hpp>

#include "client/connection.hpp"
#include "client/console.hpp"

namespace {

constexpr const char* default_url = "ws://localhost:8765/";

constexpr const char* usage_text = R"(Usage: chat-client [--url ws://HOST:PORT/] [--ca-file PEM]

Chats with a chat-node: each line you type is sent as one message, each
message that arrives is shown as `< message`. /quit or Ctrl-D leaves.
On a terminal: line editing and history; else plain lines for scripts.

Options:
  --url URL   the server, ws://HOST:PORT/ or wss://HOST:PORT/ (TLS)
              (default: ws://localhost:8765/); also accepted as the only
              argument
  --ca-file PEM  for wss://: trust the CAs in this file (a private CA)
              instead of the system's
  --help      show this and exit

Exit codes:
  0  you left: /quit or end of input (Ctrl-D)
  1  internal error
  2  bad command line
  3  server unreachable
  4  server refused the WebSocket handshake
  5  connection lost
  6  server closed the connection
  128+N  ended by signal N: 130 Ctrl-C (SIGINT), 129 SIGHUP, 143 SIGTERM
)";

/// Exit statuses, one per way the client ends (README: "Exit codes").
enum exit_code : int {
  exit_left = 0,
  exit_internal_error = 1,
  exit_usage = 2,
  exit_unreachable = 3,
  exit_refused = 4,
  exit_lost = 5,
  exit_server_closed = 6,
  exit_signal_base = 128,
};

// The close codes of RFC 6455, section 7.4.1, in words.
std::string close_code_text(uint16_t code) {
  switch (code) {
    case 1000:
      return "normal closure";
    case 1001:
      return "going away";
    case 1002:
      return "protocol error";
    case 1003:
      return "unsupported data";
    case 1005:
      return "no status code";
    case 1007:
      return "invalid UTF-8";
    case 1008:
      return "policy violation";
    case 1009:
      return "message too big";
    case 1011:
      return "server error";
    case 1012:
      return "service restart";
    case 1013:
      return "try again later";
    default:
      return "unknown code";
  }
}

const char* signal_name(int signo) {
  switch (signo) {
    case SIGINT:
      return "interrupted (Ctrl-C)";
    case SIGHUP:
      return "hung up (SIGHUP)";
    default:
      return "terminated (SIGTERM)";
  }
}

/// The server's URL from the command line, or the exit status if there is
/// nothing to run (after --help, or a bad command line).
struct command_line {
  std::string url = default_url;
  std::string ca_file;
  std::optional<int> exit_now;
};

command_line parse(int argc, char** argv) {
  command_line result;
  auto bad = [&](const std::string& why) {
    std::fprintf(stderr, "chat-client: %s (try --help)\n", why.c_str());
    result.exit_now = exit_usage;
    return result;
  };
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string url;
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage_text, stdout);
      result.exit_now = exit_left;
      return result;
    } else if (arg == "--url") {
      if (i + 1 == argc)
        return bad("--url needs a value");
      url = argv[++i];
    } else if (arg.rfind("--url=", 0) == 0) {
      url = arg.substr(6);
    } else if (arg == "--ca-file") {
      if (i + 1 == argc)
        return bad("--ca-file needs a value");
      result.ca_file = argv[++i];
      continue;
    } else if (arg.rfind("--ca-file=", 0) == 0) {
      result.ca_file = arg.substr(10);
      continue;
    } else if (!arg.empty() && arg[0] == '-') {
      return bad("unknown option " + arg);
    } else {
      url = arg;
    }
    if (have_url)
      return bad("more than one URL");
    have_url = true;
    result.url = url;
  }
  websocketpp::uri uri{result.url};
  if (!uri.get_valid())
    return bad("not a URL: " + result.url);
  if (uri.get_scheme() != "ws" && uri.get_scheme() != "wss")
    return bad("not a ws:// or wss:// URL: " + result.url);
  if (!result.ca_file.empty() && !uri.get_secure())
    return bad("--ca-file is for wss:// URLs: " + result.url);
  return result;
}

/// Wires the console to the connection and decides how the client ends.
class chat_client {
public:
  chat_client(asio::io_context& io, std::string url, std::string ca_file)
    : io_(io),
      url_(std::move(url)),
      ca_file_(std::move(ca_file)),
      console_(client::make_console(io)),
      connection_(
        io, {[this] { on_open(); },
             [this](const std::string& text) { console_->show_frame(text); },
             [this](size_t bytes) {
               console_->notice("ignored a binary frame of "
                                + std::to_string(bytes) + " bytes");
             },
             [this](const client::ending& e) { on_end(e); }}),
      signals_(io, SIGINT, SIGTERM, SIGHUP) {
  }

  /// Connects and chats until the end; returns the exit status.
  int run() {
    if (auto ec = connection_.connect(url_, ca_file_)) {
      console_->notice("cannot use " + url_
                       + (ca_file_.empty() ? "" : " with " + ca_file_) + ": "
                       + ec.message());
      return exit_usage;
    }
    signals_.async_wait([this](std::error_code ec, int signo) {
      if (!ec)
        leave(exit_signal_base + signo, signal_name(signo),
              websocketpp::close::status::going_away);
    });
    io_.run();
    console_->stop();
    console_->notice(words_);
    return status_;
  }

private:
  void on_open() {
    if (console_->interactive())
      console_->notice("connected to " + url_ + " (/quit or Ctrl-D leaves)");
    console_->start([this](std::string line) { on_line(std::move(line)); },
                    [this] {
                      leave(exit_left, "end of input",
                            websocketpp::close::status::normal);
                    });
  }

  void on_line(std::string line) {
    auto first = line.find_first_not_of(" \t");
    auto last = line.find_last_not_of(" \t");
    if (first != std::string::npos
        && line.compare(first, last - first + 1, "/quit") == 0) {
      leave(exit_left, "/quit", websocketpp::close::status::normal);
      return;
    }
    if (!websocketpp::utf8_validator::validate(line)) {
      console_->notice("not sent: the line is not valid UTF-8");
      return;
    }
    connection_.send(line);
  }

  // We end it, because of `why`: close politely, or just stop if the
  // session is not open yet.
  void leave(int status, const std::string& why, uint16_t close_code) {
    if (leaving_)
      return;
    leaving_ = true;
    status_ = status;
    stop_listening();
    if (connection_.close(close_code, "")) {
      words_ = why + "; left the chat";
    } else {
      words_ = why + "; gave up connecting to " + url_;
      io_.stop();
    }
  }

  // The connection ended; unless we ended it, say how.
  void on_end(const client::ending& e) {
    stop_listening();
    if (leaving_)
      return;
    switch (e.what) {
      case client::ending::unreachable:
        status_ = exit_unreachable;
        words_ = "cannot reach " + url_ + ": " + e.detail;
        break;
      case client::ending::refused:
        status_ = exit_refused;
        words_ = url_ + " did not accept the WebSocket handshake: " + e.detail;
        break;
      case client::ending::lost:
        status_ = exit_lost;
        words_ = "connection to " + url_ + " lost: " + e.detail;
        break;
      case client::ending::we_closed:
        break; // only after leave(), which has said why
      case client::ending::server_closed:
        status_ = exit_server_closed;
        words_ = "the server closed the connection: "
                 + std::to_string(e.close_code) + " ("
                 + close_code_text(e.close_code) + ")";
        if (!e.detail.empty())
          words_ += ", reason: " + e.detail;
        break;
    }
  }

  // Stops reading input and waiting for signals; a second Ctrl-C while the
  // server has not answered our close yet ends the process at once.
  void stop_listening() {
    console_->stop();
    std::error_code ec;
    signals_.cancel(ec);
    signals_.clear(ec);
  }

  asio::io_context& io_;
  std::string url_;
  std::string ca_file_;
  std::unique_ptr<client::console> console_;
  client::connection connection_;
  asio::signal_set signals_;
  bool leaving_ = false;
  int status_ = exit_internal_error;
  std::string words_ = "ended for no known reason";
};

} // namespace

int main(int argc, char** argv) {
  auto args = parse(argc, argv);
  if (args.exit_now)
    return *args.exit_now;
  try {
    asio::io_context io;
    chat_client client{io, args.url, args.ca_file};
    return client.run();
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "chat-client: internal error: %s\n", ex.what());
    return exit_internal_error;
  }
}
