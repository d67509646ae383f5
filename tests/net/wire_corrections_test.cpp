// What websocketpp 0.8.2 writes for a client's mistake, and what leaves
// the node instead. The close frames are made by websocketpp's own
// processor, so the test breaks if websocketpp's bytes change.

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/processors/hybi13.hpp>

#include "net/wire_corrections.hpp"

namespace {

using wire_buffers = std::vector<websocketpp::transport::buffer>;
namespace pe = websocketpp::processor::error;

// websocketpp's hybi13 processor, as a server connection has it.
struct server_processor {
  using config = websocketpp::config::asio;
  std::shared_ptr<config::con_msg_manager_type> manager
    = std::make_shared<config::con_msg_manager_type>();
  config::rng_type rng;
  websocketpp::processor::hybi13<config> processor{false, true, manager, rng};

  // The close frame websocketpp's connection sends when consume() fails
  // with `ec`: to_ws(ec) and ec.message() (connection_impl.hpp).
  config::message_type::ptr close_for(std::error_code ec) {
    auto msg = manager->get_message(websocketpp::frame::opcode::close, 128);
    REQUIRE_FALSE(processor.prepare_close(pe::to_ws(ec), ec.message(), msg));
    return msg;
  }
};

wire_buffers buffers_of(const server_processor::config::message_type::ptr& m) {
  auto& header = m->get_header();
  auto& payload = m->get_payload();
  return {{header.data(), header.size()}, {payload.data(), payload.size()}};
}

int close_code_in(const wire_buffers& bufs) {
  auto& payload = bufs.at(1);
  REQUIRE(payload.len >= 2);
  return static_cast<unsigned char>(payload.buf[0]) * 256
         + static_cast<unsigned char>(payload.buf[1]);
}

std::string reason_in(const wire_buffers& bufs) {
  return std::string{bufs.at(1).buf + 2, bufs.at(1).len - 2};
}

} // namespace

TEST_CASE("websocketpp reads a non-minimal length as non_minimal_encoding "
          "and would close with 1011",
          "[wire]") {
  server_processor p;
  // A masked text frame of 5 bytes whose length takes 64 bits.
  std::string frame = "\x81\xff";
  frame += std::string(7, '\0') + "\x05";
  frame += std::string(4, '\0') + "hello";
  std::error_code ec;
  p.processor.consume(reinterpret_cast<uint8_t*>(frame.data()), frame.size(),
                      ec);
  CHECK(ec == pe::make_error_code(pe::non_minimal_encoding));
  CHECK(pe::to_ws(ec) == websocketpp::close::status::internal_endpoint_error);
}

TEST_CASE("a close for a non-minimal length leaves as 1002, its reason "
          "kept",
          "[wire]") {
  server_processor p;
  auto msg = p.close_for(pe::make_error_code(pe::non_minimal_encoding));
  auto bufs = buffers_of(msg);
  REQUIRE(close_code_in(bufs) == 1011);
  CHECK(net::correct_close_frames(bufs) == 1);
  CHECK(close_code_in(bufs) == 1002);
  CHECK(reason_in(bufs) == "Payload length was not minimally encoded");
  // The frame header still says the payload's length.
  CHECK(static_cast<size_t>(bufs[0].buf[1]) == bufs[1].len);
}

TEST_CASE("a close for a frame too long for 32 bits leaves as 1009", "[wire]") {
  server_processor p;
  auto msg = p.close_for(pe::make_error_code(pe::requires_64bit));
  auto bufs = buffers_of(msg);
  REQUIRE(close_code_in(bufs) == 1011);
  CHECK(net::correct_close_frames(bufs) == 1);
  CHECK(close_code_in(bufs) == 1009);
}

TEST_CASE("every other close, and every other frame, leaves as it is",
          "[wire]") {
  server_processor p;
  for (auto error : {pe::general, pe::invalid_utf8, pe::masking_required,
                     pe::message_too_big}) {
    INFO(error);
    auto msg = p.close_for(pe::make_error_code(error));
    auto bufs = buffers_of(msg);
    auto before = close_code_in(bufs);
    CHECK(net::correct_close_frames(bufs) == 0);
    CHECK(close_code_in(bufs) == before);
  }
  // A text frame that reads like the close payload is no close frame.
  std::string header = "\x81\x2a";
  std::string payload = "\x03\xf3Payload length was not minimally encoded";
  wire_buffers bufs{{header.data(), header.size()},
                    {payload.data(), payload.size()}};
  CHECK(net::correct_close_frames(bufs) == 0);
  CHECK(bufs[1].buf == payload.data());
}

TEST_CASE("websocketpp's 500 and its version list to a handshake become "
          "426 naming 13, 8, 7",
          "[wire]") {
  // What websocketpp 0.8.2 wrote (captured from the node before this fix):
  // no Sec-WebSocket-Version (hixie-76 without its key bytes), and an
  // unknown version.
  for (std::string raw :
       {"HTTP/1.1 500 Internal Server Error\r\nServer: chat-node\r\n\r\n",
        "HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 0,7,8,13\r\n"
        "Server: chat-node\r\n\r\n"}) {
    INFO(raw);
    auto fixed = net::corrected_http_answer(raw);
    REQUIRE(fixed);
    std::string answer{*fixed};
    CHECK(answer.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0) == 0);
    CHECK(answer.find("\r\nSec-WebSocket-Version: 13, 8, 7\r\n")
          != std::string::npos);
    CHECK(answer.find("\r\nConnection: close\r\n") != std::string::npos);
    auto body = answer.substr(answer.find("\r\n\r\n") + 4);
    CHECK(body.find("Sec-WebSocket-Version: 13") != std::string::npos);
    CHECK(
      answer.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n")
      != std::string::npos);
  }
}

TEST_CASE("the bridge's own answers and websocketpp's other ones pass as "
          "they are",
          "[wire]") {
  for (std::string raw :
       {"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 400 Bad Request\r\nServer: chat-node\r\n\r\n",
        "HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 13\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ""}) {
    INFO(raw);
    CHECK_FALSE(net::corrected_http_answer(raw));
  }
}
