#pragma once

#include <string>
#include <vector>

namespace net {

/// Splits a comma-separated list of Origins, trimming white space and any
/// trailing `/`, lowercased; empty entries are dropped.
std::vector<std::string> parse_origins(const std::string& list);

/// Whether an upgrade request with this Origin header ("" when absent) may
/// open a WebSocket, given the parsed allow-list (empty: any). A request
/// without an Origin does not come from a browser page: a browser always
/// sends one, so the list cannot protect against anything else.
bool origin_allowed(const std::vector<std::string>& allowed,
                    const std::string& origin);

} // namespace net
