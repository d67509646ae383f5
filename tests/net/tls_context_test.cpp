#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net/tls_context.hpp"

using net::tls_context;

namespace {

// A self-signed P-256 certificate for `cn` and its key, as PEM files in a
// directory of their own (removed at the end).
struct pem_pair {
  std::string dir;
  std::string cert;
  std::string key;

  explicit pem_pair(const std::string& cn) {
    char tmpl[] = "/tmp/tls-context-test-XXXXXX";
    dir = mkdtemp(tmpl);
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    EVP_PKEY* pkey = EVP_EC_gen("prime256v1");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    auto* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(
                                 cn.c_str()),
                               -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, pkey);
    X509_sign(x, pkey, EVP_sha256());
    auto* f = std::fopen(cert.c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    f = std::fopen(key.c_str(), "w");
    PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x);
    EVP_PKEY_free(pkey);
  }

  ~pem_pair() {
    std::remove(cert.c_str());
    std::remove(key.c_str());
    std::remove((dir + "/junk.pem").c_str());
    rmdir(dir.c_str());
  }

  std::string junk() const {
    auto path = dir + "/junk.pem";
    std::ofstream{path} << "-----BEGIN CERTIFICATE-----\nnot base64\n";
    return path;
  }
};

// The common name of the certificate `ctx` serves.
std::string served_cn(const tls_context::context_ptr& ctx) {
  auto* x = SSL_CTX_get0_certificate(ctx->native_handle());
  if (!x)
    return {};
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf,
                            sizeof(buf));
  return buf;
}

// A TLS handshake between a client of `client_ctx` and a server of `ctx`,
// in memory (a BIO pair, no socket). Returns the version agreed, or 0.
int handshake(const tls_context::context_ptr& ctx, SSL_CTX* client_ctx) {
  SSL* server = SSL_new(ctx->native_handle());
  SSL* client = SSL_new(client_ctx);
  BIO *server_bio = nullptr, *client_bio = nullptr;
  BIO_new_bio_pair(&server_bio, 0, &client_bio, 0);
  SSL_set_bio(server, server_bio, server_bio);
  SSL_set_bio(client, client_bio, client_bio);
  SSL_set_accept_state(server);
  SSL_set_connect_state(client);
  int version = 0;
  for (int round = 0; round < 20; ++round) {
    int c = SSL_do_handshake(client);
    int s = SSL_do_handshake(server);
    if (c == 1 && s == 1) {
      version = SSL_version(server);
      break;
    }
    auto stuck = [](SSL* ssl, int rc) {
      auto err = SSL_get_error(ssl, rc);
      return rc != 1 && err != SSL_ERROR_WANT_READ
             && err != SSL_ERROR_WANT_WRITE;
    };
    if (stuck(client, c) || stuck(server, s))
      break;
  }
  SSL_free(client);
  SSL_free(server);
  return version;
}

} // namespace

TEST_CASE("a certificate and its key load", "[tls]") {
  pem_pair pair{"first.test"};
  tls_context tls{pair.cert, pair.key};
  CHECK(tls.current() == nullptr);
  REQUIRE_FALSE(tls.reload());
  REQUIRE(tls.current());
  CHECK(served_cn(tls.current()) == "first.test");
  auto* native = tls.current()->native_handle();
  CHECK(SSL_CTX_get_min_proto_version(native) == TLS1_2_VERSION);
  CHECK(SSL_CTX_get_max_proto_version(native) == TLS1_3_VERSION);
}

TEST_CASE("a reload serves the new pair; holders keep the old", "[tls]") {
  pem_pair first{"first.test"};
  pem_pair second{"second.test"};
  tls_context tls{first.cert, first.key};
  REQUIRE_FALSE(tls.reload());
  auto held = tls.current();
  // The operator replaces the files in place, then sends SIGHUP.
  std::rename(second.cert.c_str(), first.cert.c_str());
  std::rename(second.key.c_str(), first.key.c_str());
  REQUIRE_FALSE(tls.reload());
  CHECK(served_cn(tls.current()) == "second.test");
  CHECK(served_cn(held) == "first.test");
}

TEST_CASE("a bad file on reload keeps the old pair and says which",
          "[tls]") {
  pem_pair pair{"first.test"};
  pem_pair other{"other.test"};
  tls_context good{pair.cert, pair.key};
  REQUIRE_FALSE(good.reload());
  auto before = good.current();

  SECTION("a missing certificate") {
    tls_context tls{pair.dir + "/gone.pem", pair.key};
    auto error = tls.reload();
    REQUIRE(error);
    CHECK_THAT(*error, Catch::Contains(pair.dir + "/gone.pem"));
    CHECK(tls.current() == nullptr);
  }
  SECTION("a certificate that is not PEM") {
    std::rename(pair.junk().c_str(), pair.cert.c_str());
    auto error = good.reload();
    REQUIRE(error);
    CHECK_THAT(*error, Catch::Contains("certificate " + pair.cert));
    CHECK(good.current() == before);
  }
  SECTION("a key of another certificate") {
    std::rename(other.key.c_str(), pair.key.c_str());
    auto error = good.reload();
    REQUIRE(error);
    CHECK_THAT(*error, Catch::Contains("key " + pair.key));
    CHECK(good.current() == before);
  }
  SECTION("a missing key") {
    std::remove(pair.key.c_str());
    auto error = good.reload();
    REQUIRE(error);
    CHECK_THAT(*error, Catch::Contains("key " + pair.key));
    CHECK(good.current() == before);
  }
}

TEST_CASE("TLS 1.2 and 1.3 with AEAD ciphers only", "[tls]") {
  pem_pair pair{"first.test"};
  tls_context tls{pair.cert, pair.key};
  REQUIRE_FALSE(tls.reload());
  SSL_CTX* client = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(client, 0); // let it try the old versions
  SECTION("a current client gets TLS 1.3") {
    CHECK(handshake(tls.current(), client) == TLS1_3_VERSION);
  }
  SECTION("TLS 1.2 with an ECDHE AEAD suite") {
    SSL_CTX_set_max_proto_version(client, TLS1_2_VERSION);
    CHECK(handshake(tls.current(), client) == TLS1_2_VERSION);
  }
  SECTION("TLS 1.1 is refused") {
    SSL_CTX_set_min_proto_version(client, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(client, TLS1_1_VERSION);
    CHECK(handshake(tls.current(), client) == 0);
  }
  SECTION("TLS 1.2 with only a CBC suite is refused") {
    SSL_CTX_set_max_proto_version(client, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(client, "ECDHE-ECDSA-AES128-SHA");
    CHECK(handshake(tls.current(), client) == 0);
  }
  SSL_CTX_free(client);
}
