#include "actors/remote_roster.hpp"

#include <algorithm>

namespace chat {

namespace {

// A departure is a memmove of the rest of its node's list: at 17,000
// clients a node that is ~130 KB at worst, some microseconds, and there is
// one per client. A list gives memory back once three quarters of it are
// empty, down to twice what it holds: the copy is paid for by the
// departures before it, and the next arrivals find room.
void shrink_if_sparse(std::vector<uint64_t>& entries) {
  constexpr size_t small = 64;
  if (entries.capacity() <= small || entries.size() >= entries.capacity() / 4)
    return;
  std::vector<uint64_t> copy;
  copy.reserve(std::max(small, 2 * entries.size()));
  copy.assign(entries.begin(), entries.end());
  entries.swap(copy);
}

// Grows a full list by half, not double: a list is most of what a node
// holds per client of the others, and std::vector's doubling leaves up to
// half of it empty (17,000 entries sit in room for 32,768).
void make_room(std::vector<uint64_t>& entries) {
  if (entries.size() == entries.capacity())
    entries.reserve(entries.size() + entries.size() / 2 + 16);
}

} // namespace

bool remote_roster::add(node_index node, client_id id) {
  if (id > max_id || contains(id))
    return false;
  auto l = list_of(node);
  if (!l) {
    auto at = std::find_if(lists_.begin(), lists_.end(),
                           [node](const list& x) { return x.node > node; });
    l = &*lists_.insert(at, list{node, {}});
  }
  auto& entries = l->entries;
  auto packed = id << 1;
  make_room(entries);
  // A node numbers in increasing order: its clients arrive at the end.
  if (entries.empty() || (entries.back() >> 1) < id)
    entries.push_back(packed);
  else
    entries.insert(std::lower_bound(entries.begin(), entries.end(), packed),
                   packed);
  ++size_;
  return true;
}

bool remote_roster::erase(node_index node, client_id id) {
  auto l = list_of(node);
  if (!l)
    return false;
  auto& entries = l->entries;
  auto e = find_in(entries, id);
  if (!e)
    return false;
  --size_;
  if (*e & private_bit)
    --in_private_;
  entries.erase(entries.begin() + (e - entries.data()));
  if (entries.empty())
    take(node);
  else
    shrink_if_sparse(entries);
  return true;
}

void remote_roster::set_private(node_index node, client_id id,
                                bool in_private) {
  auto l = list_of(node);
  auto e = l ? find_in(l->entries, id) : nullptr;
  if (!e || static_cast<bool>(*e & private_bit) == in_private)
    return;
  *e ^= private_bit;
  in_private ? ++in_private_ : --in_private_;
}

std::optional<remote_roster::entry>
remote_roster::find(client_id id) const {
  for (auto& l : lists_)
    if (auto e = find_in(l.entries, id))
      return entry{id, l.node, static_cast<bool>(*e & private_bit)};
  return std::nullopt;
}

bool remote_roster::contains(node_index node, client_id id) const {
  auto l = list_of(node);
  return l && find_in(l->entries, id);
}

size_t remote_roster::reserved() const {
  size_t n = 0;
  for (auto& l : lists_)
    n += l.entries.capacity();
  return n;
}

std::vector<uint64_t> remote_roster::take(node_index node) {
  auto i = std::find_if(lists_.begin(), lists_.end(),
                        [node](const list& l) { return l.node == node; });
  if (i == lists_.end())
    return {};
  auto entries = std::move(i->entries);
  lists_.erase(i);
  return entries;
}

const uint64_t* remote_roster::find_in(const std::vector<uint64_t>& entries,
                                       client_id id) {
  // Above max_id the shift would drop the top bit and find another number.
  if (id > max_id)
    return nullptr;
  auto packed = id << 1;
  auto i = std::lower_bound(entries.begin(), entries.end(), packed);
  if (i == entries.end() || (*i >> 1) != id)
    return nullptr;
  return &*i;
}

uint64_t* remote_roster::find_in(std::vector<uint64_t>& entries,
                                 client_id id) {
  return const_cast<uint64_t*>(
    find_in(static_cast<const std::vector<uint64_t>&>(entries), id));
}

remote_roster::list* remote_roster::list_of(node_index node) {
  return const_cast<list*>(
    static_cast<const remote_roster*>(this)->list_of(node));
}

const remote_roster::list* remote_roster::list_of(node_index node) const {
  for (auto& l : lists_)
    if (l.node == node)
      return &l;
  return nullptr;
}

// The iteration: a merge of the nodes' lists, the lowest head first.

remote_roster::iterator::iterator(const remote_roster& roster)
  : roster_(&roster), at_(roster.lists_.size(), 0) {
  settle();
}

remote_roster::iterator& remote_roster::iterator::operator++() {
  ++at_[from_];
  settle();
  return *this;
}

void remote_roster::iterator::settle() {
  from_ = none;
  auto& lists = roster_->lists_;
  for (size_t k = 0; k < lists.size(); ++k) {
    auto& entries = lists[k].entries;
    if (at_[k] == entries.size())
      continue;
    if (from_ == none || entries[at_[k]] < lists[from_].entries[at_[from_]])
      from_ = k;
  }
  if (from_ == none)
    return;
  auto e = lists[from_].entries[at_[from_]];
  current_ = entry{e >> 1, lists[from_].node,
                   static_cast<bool>(e & private_bit)};
}

bool remote_roster::iterator::operator==(const iterator& other) const {
  if (from_ == none || other.from_ == none)
    return from_ == other.from_;
  return roster_ == other.roster_ && at_ == other.at_;
}

} // namespace chat
