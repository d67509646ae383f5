#pragma once

#include <istream>
#include <string>
#include <vector>

#include <caf/config_option_set.hpp>
#include <caf/settings.hpp>

namespace runtime {

/// Checks a config file's keys against the options the node knows and
/// returns what is wrong, one line each (empty: all fine).
///
/// Why: CAF 0.17.6 drops an unknown key or a value of the wrong type
/// without a word, so a typo in a service's config runs it with a default.
/// One mistake CAF makes too easily is also mended: an integer for a
/// real-number option (`frame-burst=200`) is stored as the real number,
/// unless the command line set that option (it is then in `content`).
std::vector<std::string> check_config_file(std::istream& file,
                                           const caf::config_option_set& opts,
                                           caf::settings& content);

} // namespace runtime
