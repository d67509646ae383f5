#pragma once

// The PEM files of mutual TLS between nodes (--cluster-cert, --cluster-key,
// --cluster-ca), loaded and checked once at start, as the TLS contexts of
// the cluster port (server) and of the dialer (client).

#include <memory>
#include <string>

#include <asio/ssl/context.hpp>

namespace cluster {

struct tls_files {
  std::string cert;
  std::string key;
  std::string ca;
};

/// What loading the files gave: the server context of the cluster port
/// (TLS 1.2 or later; the peer must present a certificate that verifies
/// against the CA), or why not.
struct tls_setup {
  std::shared_ptr<asio::ssl::context> context;
  /// The same files as a TLS client (cluster/link_dialer): presents our
  /// certificate and requires the other node's to verify against the CA.
  std::shared_ptr<asio::ssl::context> client;
  /// Why the files do not load (one line), empty when they do.
  std::string error;
  /// Why our own certificate does not verify against the CA (the other
  /// nodes will refuse us), empty when it does. Not fatal: said on stderr.
  std::string warning;
};

/// Loads `files`: the certificate chain, the key (which must match it)
/// and the CA.
tls_setup load_tls(const tls_files& files);

} // namespace cluster
