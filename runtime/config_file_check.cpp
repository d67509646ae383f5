#include "runtime/config_file_check.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>
#include <caf/settings.hpp>

namespace runtime {

namespace {

// An integer written where a real number is wanted, as that real number.
caf::optional<caf::config_value> as_real(const caf::config_option& opt,
                                         const caf::config_value& value) {
  auto i = caf::get_if<caf::config_value::integer>(&value);
  if (!i)
    return caf::none;
  caf::config_value real{static_cast<caf::config_value::real>(*i)};
  if (opt.check(real))
    return caf::none;
  return real;
}

// Judges one `key=value` of `category` ("global" above every section).
void check_key(const std::string& category, const std::string& key,
               const caf::config_value& value,
               const caf::config_option_set& opts, caf::settings& content,
               std::vector<std::string>& problems) {
  auto name = category == "global" ? key : category + "." + key;
  auto opt = opts.qualified_name_lookup(category, key);
  if (!opt) {
    problems.push_back("unknown option " + name);
    return;
  }
  if (!opt->check(value))
    return;
  if (auto real = as_real(*opt, value)) {
    // CAF keeps global options at the top of its settings.
    if (!caf::get_if(&content, name)) {
      opt->store(*real);
      caf::put(content, name, std::move(*real));
    }
    return;
  }
  auto type = opt->type_name();
  problems.push_back(name + " needs a value of type "
                     + std::string{type.begin(), type.end()} + ", not "
                     + caf::to_string(value));
}

} // namespace

std::vector<std::string> check_config_file(std::istream& file,
                                           const caf::config_option_set& opts,
                                           caf::settings& content) {
  std::vector<std::string> problems;
  auto keys = caf::actor_system_config::parse_config(file);
  if (!keys) {
    // CAF has already refused a file it cannot read.
    problems.push_back(caf::to_string(keys.error()));
    return problems;
  }
  for (auto& [key, value] : *keys) {
    if (auto section = caf::get_if<caf::settings>(&value))
      for (auto& [inner, inner_value] : *section)
        check_key(key, inner, inner_value, opts, content, problems);
    else
      check_key("global", key, value, opts, content, problems);
  }
  return problems;
}

} // namespace runtime
