#include "net/address_counts.hpp"

#include <cassert>

namespace net {

asio::ip::address address_counts::normalized(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  return address;
}

address_counts::key address_counts::key_of(const asio::ip::address& address) {
  auto ip = normalized(address);
  return ip.is_v4() ? asio::ip::make_address_v6(asio::ip::v4_mapped, ip.to_v4())
                        .to_bytes()
                    : ip.to_v6().to_bytes();
}

size_t address_counts::count(const key& k) const {
  auto i = counts_.find(k);
  return i == counts_.end() ? 0 : i->second;
}

void address_counts::add(const key& k) {
  ++counts_[k];
}

void address_counts::remove(const key& k) {
  auto i = counts_.find(k);
  assert(i != counts_.end() && i->second > 0);
  if (i == counts_.end())
    return;
  // An address whose last client left takes no memory.
  if (--i->second == 0)
    counts_.erase(i);
}

} // namespace net
