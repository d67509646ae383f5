#include "cluster/peer_links.hpp"

#include <algorithm>
#include <charconv>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

namespace cluster {

std::string known_entry(chat::node_index node, const std::string& address) {
  return std::to_string(node) + '@' + address;
}

std::optional<std::pair<chat::node_index, peer_address>>
parse_known_entry(std::string_view text) {
  auto at = text.find('@');
  if (at == std::string_view::npos)
    return std::nullopt;
  chat::node_index node = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + at, node);
  if (ec != std::errc{} || end != text.data() + at || node == 0)
    return std::nullopt;
  auto where = parse_peer_address(text.substr(at + 1));
  if (!where)
    return std::nullopt;
  return std::make_pair(node, std::move(*where));
}

bool connects_to_learned(chat::node_index us, chat::node_index them) {
  return them == 0 || us < them;
}

caf::timespan retry_delay(unsigned failures, caf::timespan first,
                          caf::timespan max, double u) {
  auto delay = first;
  for (unsigned i = 0; i < failures && delay < max; ++i)
    delay *= 2;
  delay = std::min(delay, max);
  auto scale = 0.5 + 0.5 * std::clamp(u, 0.0, 1.0);
  return caf::timespan{
    static_cast<caf::timespan::rep>(static_cast<double>(delay.count()) * scale)};
}

namespace {

using self_pointer = cluster_actor::stateful_pointer<peer_links_state>;
using phase = address_phase;

// Past this many failures in a row the delay is at its cap anyway.
constexpr unsigned max_counted_failures = 32;

std::string describe(chat::node_index node, const std::string& address) {
  return "node " + std::to_string(node) + " at " + address;
}

void say(self_pointer self, const std::string& line) {
  if (self->state.config.log)
    self->state.config.log(line);
}

// Says `line` about `address` unless it is what was said about it last:
// a retry that fails the same way says nothing.
void say_once(self_pointer self, const std::string& address,
              const std::string& line) {
  auto& last = self->state.last_said[address];
  if (last == line)
    return;
  last = line;
  say(self, line);
}

std::string render(self_pointer self, const caf::error& err) {
  return self->system().render(err);
}

// The nodes linked now, as known entries.
std::vector<std::string> known_list(self_pointer self) {
  std::vector<std::string> result;
  for (auto& [addr, peer] : self->state.peers)
    if (peer.linked)
      result.push_back(known_entry(peer.node, peer.address));
  return result;
}

node_facts our_facts(self_pointer self) {
  auto& st = self->state;
  return {st.config.node, st.config.slots, st.self_address,
          chat::peer_actor{st.config.lobby}, known_list(self)};
}

// Why we refuse to link the node whose peer links are `links`, with these
// facts; "" when we accept. The same rules on both ends of a join.
std::string refusal(self_pointer self, const caf::actor_addr& links,
                    const node_facts& them) {
  auto& st = self->state;
  auto node = std::to_string(them.node);
  if (them.node == st.config.node)
    return "both are node " + node
           + " (each node needs its own --node-index)";
  if (them.slots != st.config.slots)
    return "different --cluster-slots: "
           + describe(st.config.node, st.self_address) + " has "
           + std::to_string(st.config.slots) + ", "
           + describe(them.node, them.address) + " has "
           + std::to_string(them.slots);
  if (them.node < 1 || them.node > them.slots)
    return "node index " + node + " is outside 1.."
           + std::to_string(them.slots);
  // A node we accepted and wait for counts: its index is reserved.
  for (auto& [addr, peer] : st.peers)
    if (addr != links && peer.node == them.node)
      return "node " + node + " is already linked at " + peer.address
             + " (each node needs its own --node-index)";
  return "";
}

// Monitors another node's peer links once, however many ways we know it.
void watch(self_pointer self, const cluster_actor& links) {
  if (self->state.watched.insert(links.address()).second)
    self->monitor(links);
}

bool should_connect(self_pointer self, const address_entry& entry) {
  return entry.configured
         || connects_to_learned(self->state.config.node, entry.node);
}

void try_address(self_pointer self, const std::string& key);

// Waits, with backoff and jitter, then tries `key` again.
void schedule_retry(self_pointer self, const std::string& key) {
  auto& st = self->state;
  auto& entry = st.addresses[key];
  entry.phase = phase::waiting;
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  auto delay = retry_delay(entry.failures, st.config.first_retry,
                           st.config.max_retry, unit(st.rng));
  entry.failures = std::min(entry.failures + 1, max_counted_failures);
  self->delayed_send(self, delay, retry_atom_v, key, entry.attempt);
}

// Attempt `attempt` on `key` failed: say why (once), retry later.
void attempt_failed(self_pointer self, const std::string& key,
                    uint64_t attempt, const std::string& why) {
  auto& entry = self->state.addresses[key];
  // Each attempt fails once: its loss and its timeout may both report it.
  if (entry.attempt != attempt
      || (entry.phase != phase::connecting && entry.phase != phase::joining))
    return;
  say_once(self, key, why + "; retrying");
  schedule_retry(self, key);
}

// `key` leads to node `node`, whose peer links are `links`.
void mark_linked(self_pointer self, const std::string& key,
                 chat::node_index node, const caf::actor_addr& links) {
  if (key == self->state.self_address)
    return;
  auto& entry = self->state.addresses[key];
  if (entry.where.port == 0) {
    auto parsed = parse_peer_address(key);
    if (!parsed)
      return;
    entry.where = *parsed;
  }
  entry.node = node;
  entry.phase = phase::linked;
  entry.links = links;
  entry.failures = 0;
  // Whatever attempt was on its way is moot now.
  ++entry.attempt;
  self->state.last_said.erase(key);
}

// Nodes another node is linked to: connect to those we do not know yet,
// where we are the one to connect.
void learn(self_pointer self, const std::vector<std::string>& known) {
  auto& st = self->state;
  for (auto& text : known) {
    auto parsed = parse_known_entry(text);
    // Without TLS links are not encrypted: the same rule as for --peers.
    if (!parsed || (!st.config.tls && !is_loopback_host(parsed->second.host)))
      continue;
    auto key = to_string(parsed->second);
    if (key == st.self_address)
      continue;
    auto& entry = st.addresses[key];
    entry.where = parsed->second;
    if (entry.node == 0)
      entry.node = parsed->first;
    if (!should_connect(self, entry))
      continue;
    // A node in its backoff is up again if a linked node says so: no need
    // to wait out the rest of the delay.
    if (entry.phase == phase::waiting)
      entry.failures = 0;
    if (entry.phase == phase::idle || entry.phase == phase::waiting)
      try_address(self, key);
  }
}

// Both ends agreed: the node is linked. Our lobby hears of it once per
// node, whichever way (or both ways at once) the join went.
void link(self_pointer self, const cluster_actor& links,
          const node_facts& them) {
  auto& st = self->state;
  auto addr = links.address();
  auto& peer = st.peers[addr];
  watch(self, links);
  if (peer.linked)
    return;
  peer.node = them.node;
  peer.address = them.address;
  peer.lobby = them.lobby;
  peer.links = links;
  peer.linked = true;
  caf::anon_send(st.config.lobby, chat::linked_atom_v, them.node, them.lobby);
  say(self, "linked " + describe(them.node, them.address));
  mark_linked(self, them.address, them.node, addr);
  learn(self, them.known);
  // Every node we are linked to learns of every other: a full mesh, also
  // when several nodes joined us at the same moment.
  auto known = known_list(self);
  for (auto& [other, p] : st.peers)
    if (p.linked)
      self->send(p.links, known_atom_v, known);
}

void on_join_answer(self_pointer self, const std::string& key,
                    uint64_t attempt, const cluster_actor& links,
                    const std::string& their_refusal, const node_facts& them) {
  auto who = describe(them.node, them.address);
  if (!their_refusal.empty()) {
    attempt_failed(self, key, attempt, who + " refuses us: " + their_refusal);
    return;
  }
  // It accepted and reserved our node index; our rules decide our end.
  auto why = refusal(self, links.address(), them);
  if (!why.empty()) {
    self->send(links, refuse_atom_v, why);
    attempt_failed(self, key, attempt, "refusing " + who + ": " + why);
    return;
  }
  self->send(links, confirm_atom_v);
  link(self, links, them);
  mark_linked(self, key, them.node, links.address());
}

void on_connected(self_pointer self, const std::string& key, uint64_t attempt,
                  const caf::strong_actor_ptr& ptr,
                  const std::set<std::string>& ifs) {
  auto& st = self->state;
  auto& entry = st.addresses[key];
  if (entry.attempt != attempt)
    return;
  if (!ptr) {
    attempt_failed(self, key, attempt,
                   key + " is no chat-node cluster port (nothing published)");
    return;
  }
  if (caf::actor_cast<caf::actor_addr>(ptr) == self->address()) {
    entry.phase = phase::self;
    say_once(self, key, key + " is this node's own cluster port; skipped");
    return;
  }
  if (!self->system().assignable<cluster_actor>(ifs)) {
    attempt_failed(self, key, attempt,
                   key + " is no chat-node cluster port (another interface)");
    return;
  }
  auto links = caf::actor_cast<cluster_actor>(ptr);
  auto i = st.peers.find(links.address());
  if (i != st.peers.end() && i->second.linked) {
    mark_linked(self, key, i->second.node, links.address());
    return;
  }
  // Two nodes that connect to each other at the same moment may see BASP
  // close both connections (each side keeps the other's): the join would
  // never be answered. Its loss ends the attempt at once.
  entry.phase = phase::joining;
  entry.links = links.address();
  watch(self, links);
  auto us = our_facts(self);
  self
    ->request(links, st.config.timeout, join_atom_v, us.node, us.slots,
              us.address, us.lobby, us.known)
    .then(
      [=](std::string& their_refusal, chat::node_index node, uint32_t slots,
          std::string& address, chat::peer_actor& lobby,
          std::vector<std::string>& known) {
        on_join_answer(self, key, attempt, links, their_refusal,
                       {node, slots, std::move(address), std::move(lobby),
                        std::move(known)});
      },
      [=](caf::error& err) {
        attempt_failed(self, key, attempt,
                       "no answer to our join from " + key + ": "
                         + render(self, err));
      });
}

// Connects to `key` (asynchronously: the middleman actor does the blocking
// part) and joins the node there.
void try_address(self_pointer self, const std::string& key) {
  auto& st = self->state;
  auto& entry = st.addresses[key];
  if (entry.phase != phase::waiting && entry.phase != phase::idle)
    return;
  entry.phase = phase::connecting;
  auto attempt = ++entry.attempt;
  self
    ->request(st.config.connector, st.config.timeout, caf::connect_atom_v,
              entry.where.host, entry.where.port)
    .then(
      [=](caf::node_id&, caf::strong_actor_ptr& ptr,
          std::set<std::string>& ifs) {
        on_connected(self, key, attempt, ptr, ifs);
      },
      [=](caf::error& err) {
        attempt_failed(self, key, attempt,
                       "cannot reach " + key + ": " + render(self, err));
      });
}

// A join from the node whose peer links sent it: accepted, reserving its
// node index until it confirms or refuses (or is lost), or refused.
std::pair<std::string, node_facts>
answer_join(self_pointer self, const caf::strong_actor_ptr& sender,
            node_facts them) {
  auto& st = self->state;
  auto links = caf::actor_cast<cluster_actor>(sender);
  if (!links)
    return {"a join needs a sender", our_facts(self)};
  auto why = refusal(self, links.address(), them);
  if (!why.empty()) {
    say_once(self, them.address,
             "refusing " + describe(them.node, them.address) + ": " + why);
    return {why, our_facts(self)};
  }
  auto& peer = st.peers[links.address()];
  watch(self, links);
  if (!peer.linked) {
    peer.node = them.node;
    peer.address = std::move(them.address);
    peer.lobby = std::move(them.lobby);
    peer.links = links;
    peer.known = std::move(them.known);
  }
  return {"", our_facts(self)};
}

void on_down(self_pointer self, const caf::down_msg& dm) {
  auto& st = self->state;
  st.watched.erase(dm.source);
  // Joins on their way to it end now.
  for (auto& [key, entry] : st.addresses)
    if (entry.phase == phase::joining && entry.links == dm.source)
      attempt_failed(self, key, entry.attempt,
                     "lost " + key + " during our join: "
                       + render(self, dm.reason));
  auto i = st.peers.find(dm.source);
  if (i == st.peers.end())
    return;
  auto peer = std::move(i->second);
  st.peers.erase(i);
  // A node we accepted but that never confirmed leaves without a word.
  if (!peer.linked)
    return;
  say(self, "lost " + describe(peer.node, peer.address) + ": "
              + render(self, dm.reason));
  for (auto& [key, entry] : st.addresses)
    if (entry.phase == phase::linked && entry.links == dm.source) {
      entry.links = caf::actor_addr{};
      entry.failures = 0;
      if (should_connect(self, entry))
        schedule_retry(self, key);
      else
        entry.phase = phase::idle;
    }
}

// start and retry come from main() and our own timers: the cluster port
// publishes them too, so a message from another node is ignored.
bool from_this_node(self_pointer self) {
  auto& sender = self->current_sender();
  return !sender || sender->node() == self->node();
}

} // namespace

cluster_actor::behavior_type
peer_links(cluster_actor::stateful_pointer<peer_links_state> self,
           peer_links_config config) {
  auto& st = self->state;
  st.config = std::move(config);
  st.rng.seed(st.config.seed != 0 ? st.config.seed : std::random_device{}());
  self->set_down_handler(
    [self](caf::down_msg& dm) { on_down(self, dm); });
  return {
    [self](join_atom, chat::node_index node, uint32_t slots,
           std::string& address, chat::peer_actor& lobby,
           std::vector<std::string>& known)
      -> caf::result<std::string, chat::node_index, uint32_t, std::string,
                     chat::peer_actor, std::vector<std::string>> {
      auto& st = self->state;
      node_facts them{node, slots, std::move(address), std::move(lobby),
                      std::move(known)};
      // Read before make_response_promise, which takes it from the message.
      auto sender = self->current_sender();
      if (st.self_address.empty()) {
        auto promise = self->make_response_promise<join_promise>();
        st.early_joins.push_back({sender, std::move(them), promise});
        return promise;
      }
      auto [why, us] = answer_join(self, sender, std::move(them));
      return {why, us.node, us.slots, us.address, us.lobby, us.known};
    },
    [self](confirm_atom) {
      auto& st = self->state;
      auto links = caf::actor_cast<cluster_actor>(self->current_sender());
      auto i = st.peers.find(links.address());
      if (i == st.peers.end() || i->second.linked)
        return;
      auto& peer = i->second;
      link(self, links,
           {peer.node, st.config.slots, peer.address, peer.lobby,
            std::exchange(peer.known, {})});
    },
    [self](refuse_atom, const std::string& why) {
      auto& st = self->state;
      auto addr = caf::actor_cast<caf::actor_addr>(self->current_sender());
      auto i = st.peers.find(addr);
      if (i == st.peers.end() || i->second.linked)
        return;
      auto peer = std::move(i->second);
      st.peers.erase(i);
      say_once(self, peer.address,
               describe(peer.node, peer.address) + " refuses us: " + why);
    },
    [self](known_atom, const std::vector<std::string>& known) {
      auto& st = self->state;
      auto addr = caf::actor_cast<caf::actor_addr>(self->current_sender());
      auto i = st.peers.find(addr);
      // Only a linked node speaks for the cluster.
      if (i != st.peers.end() && i->second.linked)
        learn(self, known);
    },
    [self](start_atom, uint16_t port) {
      auto& st = self->state;
      if (!st.self_address.empty() || !from_this_node(self))
        return;
      st.self_address = to_string(peer_address{st.config.host, port});
      st.addresses[st.self_address].phase = phase::self;
      for (auto& where : st.config.peers) {
        auto key = to_string(where);
        auto& entry = st.addresses[key];
        entry.where = where;
        entry.configured = true;
        try_address(self, key);
      }
      for (auto& early : std::exchange(st.early_joins, {})) {
        auto [why, us] = answer_join(self, early.sender,
                                     std::move(early.facts));
        early.promise.deliver(why, us.node, us.slots, us.address, us.lobby,
                              us.known);
      }
    },
    [self](retry_atom, const std::string& key, uint64_t attempt) {
      auto& st = self->state;
      if (!from_this_node(self))
        return;
      auto i = st.addresses.find(key);
      if (i == st.addresses.end() || i->second.attempt != attempt
          || i->second.phase != phase::waiting)
        return;
      try_address(self, key);
    },
  };
}

} // namespace cluster
