#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace net {

const char* const tls12_ciphers
  = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

namespace {

// OpenSSL's reason: Asio takes the first of OpenSSL's queued errors (the
// later ones only say where it was passed up, "PEM lib").
std::string reason(const std::error_code& ec) {
  ERR_clear_error();
  return ec.message();
}

} // namespace

tls_context::tls_context(std::string cert_file, std::string key_file)
  : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {
  // Nothing loaded yet.
}

tls_context::context_ptr tls_context::make(const std::string& cert_file,
                                           const std::string& key_file,
                                           std::string& error) {
  ERR_clear_error();
  auto ctx = std::make_shared<asio::ssl::context>(
    asio::ssl::context::tls_server);
  auto* native = ctx->native_handle();
  auto fail = [&](const std::string& what) {
    error = what;
    ERR_clear_error();
    return context_ptr{};
  };
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1
      || SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION) != 1)
    return fail("cannot restrict TLS to versions 1.2 and 1.3");
  if (SSL_CTX_set_cipher_list(native, tls12_ciphers) != 1)
    return fail("cannot set the TLS 1.2 cipher list");
  // No compression (CRIME), no renegotiation (a client could make us pay
  // for handshakes on an open connection).
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  std::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec)
    return fail("TLS certificate " + cert_file + ": " + reason(ec));
  ctx->use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec)
    return fail("TLS key " + key_file + ": " + reason(ec));
  if (SSL_CTX_check_private_key(native) != 1)
    return fail("TLS key " + key_file + " does not belong to certificate "
                + cert_file);
  return ctx;
}

std::optional<std::string> tls_context::reload() {
  std::string error;
  auto ctx = make(cert_file_, key_file_, error);
  if (!ctx)
    return error;
  current_ = std::move(ctx);
  return std::nullopt;
}

} // namespace net
