#include "cluster/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace cluster {

namespace {

// OpenSSL's reason for the last failure, or `fallback`.
std::string ssl_reason(const std::string& fallback) {
  auto code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0)
    return fallback;
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

// Why our own certificate does not verify against the CA, or "".
std::string verify_own(asio::ssl::context& context) {
  auto native = context.native_handle();
  auto cert = SSL_CTX_get0_certificate(native);
  auto store = SSL_CTX_get_cert_store(native);
  if (cert == nullptr || store == nullptr)
    return "no certificate loaded";
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(native, &chain);
  auto ctx = X509_STORE_CTX_new();
  if (ctx == nullptr)
    return "out of memory";
  std::string why;
  if (X509_STORE_CTX_init(ctx, store, cert, chain) != 1)
    why = ssl_reason("cannot check it");
  else if (X509_verify_cert(ctx) != 1)
    why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  return why;
}

} // namespace

namespace {

// One context with our files, requiring the other end's certificate.
std::shared_ptr<asio::ssl::context>
make_context(asio::ssl::context::method method, const tls_files& files,
             std::string& error) {
  auto context = std::make_shared<asio::ssl::context>(method);
  auto fail = [&](const std::string& what, const std::string& path,
                  const std::error_code& ec) {
    error = what + ' ' + path + ": "
            + ssl_reason(ec ? ec.message() : "not loaded");
    return nullptr;
  };
  std::error_code ec;
  context->set_options(asio::ssl::context::default_workarounds
                         | asio::ssl::context::no_sslv2
                         | asio::ssl::context::no_sslv3
                         | asio::ssl::context::no_tlsv1
                         | asio::ssl::context::no_tlsv1_1,
                       ec);
  if (ec)
    return fail("cannot configure TLS for", files.cert, ec);
  context->use_certificate_chain_file(files.cert, ec);
  if (ec)
    return fail("cannot load --cluster-cert", files.cert, ec);
  context->use_private_key_file(files.key, asio::ssl::context::pem, ec);
  if (ec)
    return fail("cannot load --cluster-key", files.key, ec);
  if (SSL_CTX_check_private_key(context->native_handle()) != 1)
    return fail("--cluster-key does not match --cluster-cert:", files.key,
                {});
  context->load_verify_file(files.ca, ec);
  if (ec)
    return fail("cannot load --cluster-ca", files.ca, ec);
  // Both ends check the other: one without a certificate is refused.
  context->set_verify_mode(asio::ssl::verify_peer
                             | asio::ssl::verify_fail_if_no_peer_cert,
                           ec);
  if (ec)
    return fail("cannot require certificates with", files.ca, ec);
  return context;
}

} // namespace

tls_setup load_tls(const tls_files& files) {
  tls_setup result;
  auto context = make_context(asio::ssl::context::tls_server, files,
                              result.error);
  if (!context)
    return result;
  result.client = make_context(asio::ssl::context::tls_client, files,
                               result.error);
  if (!result.client)
    return result;
  auto why = verify_own(*context);
  if (!why.empty())
    result.warning = "--cluster-cert " + files.cert
                     + " does not verify against --cluster-ca " + files.ca
                     + " (" + why + "): the other nodes will refuse this one";
  result.context = std::move(context);
  return result;
}

} // namespace cluster
