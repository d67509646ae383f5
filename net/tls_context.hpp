#pragma once

#include <memory>
#include <optional>
#include <string>

#include <asio/ssl/context.hpp>

namespace net {

/// The TLS 1.2 ciphers a server offers (TLS 1.3's are OpenSSL's default
/// three): ECDHE key exchange only (forward secrecy), AEAD only (GCM,
/// ChaCha20-Poly1305); Mozilla's "intermediate" list without DHE.
extern const char* const tls12_ciphers;

/// A server's TLS settings and its certificate and key, loaded from PEM
/// files and reloadable. Reloading builds a new context; connections that
/// hold the old one keep it until they end, new ones get the new one. Not
/// thread-safe: load and take on one thread.
class tls_context {
public:
  using context_ptr = std::shared_ptr<asio::ssl::context>;

  /// `cert_file` holds the certificate (and the chain after it),
  /// `key_file` its private key, both PEM. Loads nothing yet.
  tls_context(std::string cert_file, std::string key_file);

  /// (Re)loads both files. On success the new pair is current and the
  /// result is empty; otherwise the old pair (if any) stays current and the
  /// result says what is wrong, naming the file.
  std::optional<std::string> reload();

  /// The current context; null before the first successful reload().
  context_ptr current() const {
    return current_;
  }

  const std::string& cert_file() const {
    return cert_file_;
  }

  const std::string& key_file() const {
    return key_file_;
  }

  /// A context with our settings and `cert_file`/`key_file` loaded, or why
  /// not.
  static context_ptr make(const std::string& cert_file,
                          const std::string& key_file, std::string& error);

private:
  std::string cert_file_;
  std::string key_file_;
  context_ptr current_;
};

} // namespace net
