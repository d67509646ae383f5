#pragma once

#include <memory>

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/connection.hpp>

// Names for websocketpp's connection of our configuration, for headers that
// only pass connections around (net/ws_config.hpp defines the config).
namespace net {

struct ws_config;

using ws_connection = websocketpp::connection<ws_config>;
using ws_connection_ptr = std::shared_ptr<ws_connection>;
using ws_message_ptr = websocketpp::config::asio::message_type::ptr;

} // namespace net
