#include "cluster/basp_filter.hpp"

#include <algorithm>
#include <cstdio>

namespace cluster {

namespace {

// Bytes of a handshake's payload kept to compare node ids: 0.17.6 writes
// a node id in well under this.
constexpr size_t node_id_bytes = 256;

// BASP 0.17's message types (caf/io/basp/message_type.hpp).
enum : unsigned char {
  server_handshake = 0,
  client_handshake = 1,
  direct_message = 2,
  routed_message = 3,
  monitor_message = 4,
  down_message = 5,
  heartbeat = 6,
};

uint64_t big_endian(const unsigned char* bytes, size_t size) {
  uint64_t result = 0;
  for (size_t i = 0; i < size; ++i)
    result = (result << 8) | bytes[i];
  return result;
}

// Names what a stream that is not BASP looks like, from its first bytes.
std::string describe(const std::string& first) {
  for (auto method : {"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ",
                      "PATCH ", "CONNECT ", "TRACE ", "PRI "}) {
    std::string m{method};
    auto n = std::min(first.size(), m.size());
    if (n >= 3 && first.compare(0, n, m, 0, n) == 0)
      return "an HTTP request";
  }
  if (first.size() >= 2 && first[0] == '\x16' && first[1] == '\x03')
    return "a TLS handshake (links between nodes are not encrypted)";
  std::string hex;
  for (size_t i = 0; i < first.size() && i < 8; ++i) {
    char byte[4];
    std::snprintf(byte, sizeof(byte), "%02x", static_cast<unsigned char>(first[i]));
    hex += (i == 0 ? "" : " ");
    hex += byte;
  }
  return "not BASP (first bytes " + hex + ")";
}

} // namespace

basp_filter::basp_filter(uint32_t max_payload) : max_payload_(max_payload) {
  // nop
}

bool basp_filter::refuse(std::string why) {
  refusal_ = std::move(why);
  return false;
}

bool basp_filter::check_header() {
  auto* h = header_.data();
  auto operation = h[0];
  auto payload = big_endian(h + 4, 4);
  auto operation_data = big_endian(h + 8, 8);
  auto source = big_endian(h + 16, 8);
  auto dest = big_endian(h + 24, 8);
  if (handshakes_ == 0 && operation != client_handshake)
    return refuse(describe(first_bytes_));
  bool valid = false;
  switch (operation) {
    case client_handshake:
      valid = source == 0 && dest == 0;
      break;
    case direct_message:
    case routed_message:
      valid = dest != 0 && payload != 0;
      break;
    case monitor_message:
      valid = payload != 0 && operation_data == 0;
      break;
    case down_message:
      valid = source != 0 && dest == 0 && payload != 0 && operation_data == 0;
      break;
    case heartbeat:
      valid = source == 0 && dest == 0 && payload == 0 && operation_data == 0;
      break;
    default:
      // A server handshake never comes from the node that connects.
      break;
  }
  if (!valid)
    return refuse("an invalid BASP header (type "
                  + std::to_string(operation) + ")");
  if (payload > max_payload_)
    return refuse("a BASP header announcing " + std::to_string(payload)
                  + " bytes (at most " + std::to_string(max_payload_)
                  + " pass)");
  if (operation == client_handshake)
    ++handshakes_;
  ++messages_;
  payload_left_ = payload;
  return true;
}

bool basp_filter::feed(const char* data, size_t size,
                       std::vector<char>& out) {
  if (!refusal_.empty())
    return false;
  if (first_bytes_.size() < 8)
    first_bytes_.append(data, std::min(size, 8 - first_bytes_.size()));
  // Until the handshake header is whole, its first byte already tells:
  // an HTTP request or a TLS handshake is refused before it is complete.
  if (handshakes_ == 0 && header_fill_ == 0 && size > 0
      && static_cast<unsigned char>(data[0]) != client_handshake)
    return refuse(describe(first_bytes_));
  while (size > 0) {
    if (payload_left_ > 0) {
      auto n = static_cast<size_t>(std::min<uint64_t>(payload_left_, size));
      if (messages_ == 1 && client_node_.size() < node_id_bytes)
        client_node_.append(data,
                            std::min(n, node_id_bytes - client_node_.size()));
      out.insert(out.end(), data, data + n);
      payload_left_ -= n;
      data += n;
      size -= n;
      continue;
    }
    auto n = std::min(size, header_size - header_fill_);
    std::copy(data, data + n, header_.begin() + header_fill_);
    header_fill_ += n;
    data += n;
    size -= n;
    if (header_fill_ < header_size)
      break;
    header_fill_ = 0;
    if (!check_header())
      return false;
    out.insert(out.end(), header_.begin(), header_.end());
  }
  return true;
}

void basp_watch::feed(const char* data, size_t size) {
  while (size > 0) {
    if (payload_left_ > 0) {
      auto n = static_cast<size_t>(std::min<uint64_t>(payload_left_, size));
      if (messages_ == 1 && server_handshake_
          && server_payload_.size() < node_id_bytes)
        server_payload_.append(
          data, std::min(n, node_id_bytes - server_payload_.size()));
      payload_left_ -= n;
      data += n;
      size -= n;
      continue;
    }
    auto n = std::min(size, basp_filter::header_size - header_fill_);
    std::copy(data, data + n, header_.begin() + header_fill_);
    header_fill_ += n;
    data += n;
    size -= n;
    if (header_fill_ < basp_filter::header_size)
      break;
    header_fill_ = 0;
    if (++messages_ == 1)
      server_handshake_ = header_[0] == server_handshake;
    payload_left_ = big_endian(header_.data() + 4, 4);
  }
}

bool foreign_app_closed(const basp_filter& in, const basp_watch& out) {
  if (!in.refusal().empty() || in.messages() != 1 || in.partial()
      || !out.server_handshake_sent() || out.messages() < 2)
    return false;
  // Our own node connecting to itself: its node id leads our handshake.
  auto& ours = out.server_payload();
  auto& theirs = in.client_node();
  return theirs.empty() || ours.compare(0, theirs.size(), theirs) != 0;
}

} // namespace cluster
