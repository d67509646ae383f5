#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "actors/messages.hpp"

namespace chat {

/// The clients of the other nodes, as their lobbies told us, with how many
/// of them are in a private chat.
///
/// Every node holds every other node's clients, so this is most of a
/// cluster's memory per client: one sorted vector of 8-byte entries per
/// telling node instead of a map node (~64 bytes with malloc's header)
/// per client. A node numbers its clients in increasing order, so its
/// arrivals and its roster are appends; departures take a memmove.
class remote_roster {
public:
  /// One client as a lookup or the iteration sees it.
  struct entry {
    client_id id;
    /// The node that told us about it.
    node_index node;
    bool in_private;
  };

  /// An entry packs the number above the private flag. No node reaches
  /// 2^63 (a million connections a second for 292,000 years), so a number
  /// above this one cannot be a client: `add` refuses it, `find` knows it
  /// is not there.
  static constexpr client_id max_id = (client_id{1} << 63) - 1;

  /// Adds client `id`, told by `node`, in the main room. False (and
  /// nothing changes) if it is known already, from any node, or above
  /// `max_id`.
  bool add(node_index node, client_id id);

  /// Removes client `id` if `node` told us about it (a message about a
  /// client counts only from the node that told us about it); returns
  /// whether it did.
  bool erase(node_index node, client_id id);

  /// Removes every client `node` told us about, in number order, calling
  /// `departed(id)` for each, and gives their memory back. The clients are
  /// all gone at once, the counts fall one by one, each before its call:
  /// a departure sees the room it leaves, as if they had left one by one.
  template <class F>
  void erase_node(node_index node, F&& departed) {
    for (auto e : take(node)) {
      --size_;
      if (e & private_bit)
        --in_private_;
      departed(e >> 1);
    }
  }

  /// Marks client `id` as in a private chat or not, if `node` told us
  /// about it (as a departure counts); nothing otherwise.
  void set_private(node_index node, client_id id, bool in_private);

  std::optional<entry> find(client_id id) const;
  bool contains(client_id id) const { return find(id).has_value(); }
  /// Whether `node` told us about client `id`.
  bool contains(node_index node, client_id id) const;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  /// How many are in a private chat.
  size_t in_private() const { return in_private_; }
  /// Entries allocated, 8 bytes each: what the lists hold on to (the
  /// tests read it).
  size_t reserved() const;

  /// Every client in number order, across the nodes (a merge of their
  /// lists): `/who` merges it with this node's members. Any change to the
  /// roster invalidates it.
  class iterator {
  public:
    using iterator_category = std::input_iterator_tag;
    using value_type = entry;
    using difference_type = std::ptrdiff_t;
    using pointer = const entry*;
    using reference = const entry&;

    iterator() = default;
    reference operator*() const { return current_; }
    pointer operator->() const { return &current_; }
    iterator& operator++();
    iterator operator++(int) {
      auto old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& other) const;
    bool operator!=(const iterator& other) const { return !(*this == other); }

  private:
    friend class remote_roster;
    explicit iterator(const remote_roster& roster);
    void settle();

    const remote_roster* roster_ = nullptr;
    /// Where each node's list is at, by the roster's list order.
    std::vector<size_t> at_;
    /// The list `current_` comes from; `none` at the end.
    size_t from_ = none;
    entry current_{};
    static constexpr size_t none = static_cast<size_t>(-1);
  };

  iterator begin() const { return iterator{*this}; }
  iterator end() const { return iterator{}; }

private:
  static constexpr uint64_t private_bit = 1;

  /// One telling node's clients, by number: id << 1 | in_private.
  struct list {
    node_index node;
    std::vector<uint64_t> entries;
  };

  /// Detaches `node`'s list, leaving the counts as they are.
  std::vector<uint64_t> take(node_index node);
  /// Where `id` is in the list, or null.
  static uint64_t* find_in(std::vector<uint64_t>& entries, client_id id);
  static const uint64_t* find_in(const std::vector<uint64_t>& entries,
                                 client_id id);
  list* list_of(node_index node);
  const list* list_of(node_index node) const;

  /// By node; a node's list goes when its last client does. A cluster has
  /// a handful of nodes: a lookup tries each list.
  std::vector<list> lists_;
  size_t size_ = 0;
  size_t in_private_ = 0;
};

} // namespace chat
