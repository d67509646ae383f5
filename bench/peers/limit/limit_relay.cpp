// limit-relay: the least work a chat relay can do here, a peer for bench/run.
// One thread on Asio, a bare RFC 6455 handshake, no actors and no WebSocket
// library. Each line is framed once and waits for the end of the turn of the
// loop; then the turn's frames, joined, are copied once into the buffer of
// every client that said none of them (the others get theirs one by one),
// and each client's buffer leaves in one write. Not a product: no limits,
// no ping, no page.

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <sys/resource.h>

#include <asio.hpp>

#include "net/frame.hpp"

namespace {

using asio::ip::tcp;

// SHA-1 (RFC 3174), only for Sec-WebSocket-Accept.
std::array<uint8_t, 20> sha1(const std::string& msg) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string m = msg;
  uint64_t bits = uint64_t{msg.size()} * 8;
  m.push_back(static_cast<char>(0x80));
  while (m.size() % 64 != 56)
    m.push_back(0);
  for (int i = 7; i >= 0; --i)
    m.push_back(static_cast<char>((bits >> (i * 8)) & 0xff));
  auto rol = [](uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  for (size_t off = 0; off < m.size(); off += 64) {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      auto* p = reinterpret_cast<const uint8_t*>(m.data() + off + i * 4);
      w[i] = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16)
             | (uint32_t{p[2]} << 8) | p[3];
    }
    for (int i = 16; i < 80; ++i)
      w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rol(b, 30);
      b = a;
      a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  std::array<uint8_t, 20> out;
  for (int i = 0; i < 20; ++i)
    out[i] = static_cast<uint8_t>(h[i / 4] >> (24 - 8 * (i % 4)));
  return out;
}

std::string base64(const uint8_t* p, size_t n) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
                           "wxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (i + 1 < n)
      v |= uint32_t{p[i + 1]} << 8;
    if (i + 2 < n)
      v |= p[i + 2];
    out.push_back(tbl[(v >> 18) & 63]);
    out.push_back(tbl[(v >> 12) & 63]);
    out.push_back(i + 1 < n ? tbl[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < n ? tbl[v & 63] : '=');
  }
  return out;
}

class session;

// A frame said this turn, and who said it (0: the room; else not to them).
struct said_line {
  int sender;
  std::string frame;
};

// The room: every open session, the large-room summary counters, the lines
// said this turn and the sessions with bytes to write at its end.
struct room {
  explicit room(asio::io_context& io) : io(io) {
  }
  asio::io_context& io;
  std::unordered_set<session*> members;
  int next_id = 1;
  size_t announce_limit = 1000;
  int arrived = 0;
  int left = 0;
  std::vector<said_line> said;
  std::string joined;
  std::vector<std::shared_ptr<session>> to_flush;
  bool flush_posted = false;
  void to_others(session* sender, std::string frame);
  void flush_later(std::shared_ptr<session> s);
  void end_turn_later();
  void end_of_turn();
  void fan_out();
};

// One client: handshake, then masked frames in, shared frames out.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket s, room& r) : socket_(std::move(s)), room_(r) {
  }

  void start() {
    std::error_code ec;
    if (socket_.set_option(tcp::no_delay(true), ec); ec)
      std::cerr << "limit-relay: TCP_NODELAY: " << ec.message() << '\n';
    read_handshake();
  }

  int id() const {
    return id_;
  }

  // Said one of this turn's lines: gets the others' one by one.
  bool spoke = false;

  // Queues bytes (a frame, or the handshake's answer) for this turn's write.
  void deliver(std::string_view bytes) {
    if (!socket_.is_open())
      return;
    if (pending_.empty())
      room_.flush_later(shared_from_this());
    pending_ += bytes;
  }

  // Everything delivered since the last write leaves in one write.
  void flush() {
    if (writing_ || pending_.empty() || !socket_.is_open())
      return;
    writing_ = true;
    sending_.clear();
    sending_.swap(pending_);
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(sending_),
                      [this, self](std::error_code ec, size_t) {
                        writing_ = false;
                        if (ec)
                          return leave();
                        flush();
                      });
  }

private:
  void read_handshake() {
    auto self = shared_from_this();
    socket_.async_read_some(
      asio::buffer(buf_.data() + used_, buf_.size() - used_),
      [this, self](std::error_code ec, size_t n) {
        if (ec)
          return;
        used_ += n;
        std::string head(buf_.data(), used_);
        auto end = head.find("\r\n\r\n");
        if (end == std::string::npos)
          return used_ < buf_.size() ? read_handshake() : void();
        auto key_at = head.find("Sec-WebSocket-Key:");
        if (key_at == std::string::npos)
          key_at = head.find("sec-websocket-key:");
        if (key_at == std::string::npos)
          return;
        auto v = head.find_first_not_of(' ', key_at + 18);
        auto key = head.substr(v, head.find("\r\n", v) - v);
        auto digest = sha1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
        auto reply
          = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Accept: "
            + base64(digest.data(), digest.size()) + "\r\n\r\n";
        std::memmove(buf_.data(), buf_.data() + end + 4, used_ - end - 4);
        used_ -= end + 4;
        join(reply);
        parse();
        read();
      });
  }

  void join(const std::string& reply) {
    id_ = room_.next_id++;
    since_ = std::chrono::steady_clock::now();
    joined_ = true;
    deliver(reply);
    deliver(net::text_frame("You are Client " + std::to_string(id_)));
    room_.members.insert(this);
    if (room_.members.size() > room_.announce_limit)
      ++room_.arrived;
    else
      room_.to_others(
        this, net::text_frame("Client " + std::to_string(id_) + " connected"));
  }

  void leave() {
    if (!joined_)
      return;
    joined_ = false;
    room_.members.erase(this);
    pending_.clear();
    std::error_code ec;
    socket_.close(ec);
    if (room_.members.size() >= room_.announce_limit)
      ++room_.left;
    else
      room_.to_others(nullptr, net::text_frame("Client " + std::to_string(id_)
                                               + " disconnected"));
  }

  void read() {
    if (used_ == buf_.size())
      return leave(); // a frame larger than the buffer: not a chat line
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(buf_.data() + used_,
                                         buf_.size() - used_),
                            [this, self](std::error_code ec, size_t n) {
                              if (ec)
                                return leave();
                              used_ += n;
                              if (parse())
                                read();
                            });
  }

  // Handles every complete frame in buf_; false once the client is gone.
  bool parse() {
    size_t pos = 0;
    auto* p = reinterpret_cast<uint8_t*>(buf_.data());
    while (used_ - pos >= 6) {
      uint8_t opcode = p[pos] & 0x0f;
      uint64_t len = p[pos + 1] & 0x7f;
      size_t hdr = 2;
      if (len == 126) {
        len = (uint64_t{p[pos + 2]} << 8) | p[pos + 3];
        hdr = 4;
      } else if (len == 127) {
        leave();
        return false;
      }
      if (used_ - pos < hdr + 4 + len)
        break;
      uint8_t* mask = p + pos + hdr;
      char* data = buf_.data() + pos + hdr + 4;
      for (size_t i = 0; i < len; ++i)
        data[i] = static_cast<char>(data[i] ^ mask[i & 3]);
      pos += hdr + 4 + len;
      if (opcode == 0x8) {
        leave();
        return false;
      }
      if (opcode == 0x1) {
        std::string line(data, len);
        if (line.find_first_not_of(" \t\r\n") == std::string::npos)
          continue;
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::steady_clock::now() - since_)
                      .count();
        room_.to_others(this,
                        net::text_frame(std::to_string(secs) + ' ' + line));
      }
    }
    std::memmove(buf_.data(), buf_.data() + pos, used_ - pos);
    used_ -= pos;
    return true;
  }

  tcp::socket socket_;
  room& room_;
  std::array<char, 4096> buf_;
  size_t used_ = 0;
  int id_ = 0;
  bool joined_ = false;
  std::chrono::steady_clock::time_point since_;
  std::string pending_; // delivered, not yet written
  std::string sending_; // being written
  bool writing_ = false;
};

void room::to_others(session* sender, std::string frame) {
  if (sender)
    sender->spoke = true;
  said.push_back({sender ? sender->id() : 0, std::move(frame)});
  end_turn_later();
}

void room::flush_later(std::shared_ptr<session> s) {
  to_flush.push_back(std::move(s));
  end_turn_later();
}

// The first line or delivery of a turn asks for one end_of_turn() after
// the handlers that are ready now, so the lines of this turn leave together.
void room::end_turn_later() {
  if (!std::exchange(flush_posted, true))
    asio::post(io, [this] { end_of_turn(); });
}

void room::end_of_turn() {
  fan_out();
  auto flushing = std::exchange(to_flush, {});
  flush_posted = false;
  for (auto& s : flushing)
    s->flush();
}

void room::fan_out() {
  if (said.empty())
    return;
  std::string_view whole = said.front().frame;
  if (said.size() > 1) {
    joined.clear();
    for (auto& line : said)
      joined += line.frame;
    whole = joined;
  }
  for (auto* s : members) {
    if (!s->spoke) {
      s->deliver(whole);
      continue;
    }
    s->spoke = false;
    for (auto& line : said)
      if (line.sender != s->id())
        s->deliver(line.frame);
  }
  said.clear();
}

void accept_loop(tcp::acceptor& acceptor, room& r) {
  acceptor.async_accept([&](std::error_code ec, tcp::socket s) {
    if (!ec)
      std::make_shared<session>(std::move(s), r)->start();
    accept_loop(acceptor, r);
  });
}

void summarize(asio::steady_timer& timer, room& r) {
  timer.expires_after(std::chrono::seconds(1));
  timer.async_wait([&](std::error_code ec) {
    if (ec)
      return;
    if (r.arrived || r.left) {
      r.to_others(nullptr, net::text_frame(
                             std::to_string(r.arrived) + " clients connected, "
                             + std::to_string(r.left) + " disconnected ("
                             + std::to_string(r.members.size()) + " online)"));
      r.arrived = r.left = 0;
    }
    summarize(timer, r);
  });
}

} // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned short port = 8765;
  asio::io_context io{1};
  room r{io};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--host=", 0) == 0)
      host = arg.substr(7);
    else if (arg.rfind("--port=", 0) == 0)
      port = static_cast<unsigned short>(std::stoi(arg.substr(7)));
    else if (arg.rfind("--announce-limit=", 0) == 0)
      r.announce_limit = std::stoul(arg.substr(17));
  }
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  tcp::acceptor acceptor{io};
  tcp::endpoint ep{asio::ip::make_address(host), port};
  acceptor.open(ep.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen(4096);
  std::cout << "limit-relay listening on ws://" << host << ':'
            << acceptor.local_endpoint().port() << '/' << std::endl;
  accept_loop(acceptor, r);
  asio::steady_timer timer{io};
  summarize(timer, r);
  io.run();
}
