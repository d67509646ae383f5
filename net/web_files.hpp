#pragma once

#include <vector>

#include "net/http_service.hpp"

namespace net {

/// The browser client of web/, embedded into the binary at build time
/// (cmake/embed_files.cmake generates the definition), so the node serves
/// it from any working directory.
const std::vector<static_file>& web_files();

} // namespace net
