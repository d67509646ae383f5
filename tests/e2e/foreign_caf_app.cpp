// A CAF program that is no chat-node: its application identifier is left
// at CAF's default ("generic-caf-app"). It connects to a cluster port
// (foreign_caf_app HOST PORT [TIMEOUT_MS]) as caf::io::remote_actor does,
// and says what came of it on stdout. Exit 0: refused; 1: it got an
// actor; 2: no answer in time; 3: usage.

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::cerr << "usage: foreign_caf_app HOST PORT [TIMEOUT_MS]\n";
    return 3;
  }
  std::string host = argv[1];
  auto port = static_cast<uint16_t>(std::strtoul(argv[2], nullptr, 10));
  auto timeout = std::chrono::milliseconds{
    argc == 4 ? std::strtol(argv[3], nullptr, 10) : 3000};
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  caf::actor_system system{cfg};
  int result = 2;
  {
    caf::scoped_actor self{system};
    self
      ->request(system.middleman().actor_handle(), timeout,
                caf::connect_atom_v, host, port)
      .receive(
        [&](const caf::node_id&, const caf::strong_actor_ptr& ptr,
            const std::set<std::string>&) {
          std::cout << "got " << (ptr ? "an actor" : "no actor") << " from "
                    << host << ':' << port << std::endl;
          result = 1;
        },
        [&](const caf::error& err) {
          if (err == caf::sec::request_timeout) {
            std::cout << "no answer from " << host << ':' << port
                      << std::endl;
            result = 2;
            return;
          }
          std::cout << "refused: " << system.render(err) << std::endl;
          result = 0;
        });
  }
  return result;
}
