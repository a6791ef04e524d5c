#include "common/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

#include "common/status.h"

namespace cbec {

std::string hex_encode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * bytes.size(), '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kHex[c >> 4];
    out[2 * i + 1] = kHex[c & 15];
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = val(hex[2 * i]), lo = val(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

void HmacSha256::CtxFree::operator()(evp_md_ctx_st* c) const { EVP_MD_CTX_free(c); }

// RFC 2104: H((K ^ opad) || H((K ^ ipad) || m)), K padded to the 64-byte block (hashed first when
// longer). OpenSSL failing on SHA-256 in memory cannot happen after start-up: asserted.
HmacSha256::HmacSha256(std::string_view key)
    : inner_(EVP_MD_CTX_new()), outer_(EVP_MD_CTX_new()), scratch_(EVP_MD_CTX_new()) {
  constexpr size_t kBlock = 64;
  CBEC_ASSERT(inner_ && outer_ && scratch_);
  unsigned char k[kBlock] = {};
  if (key.size() > kBlock) {
    unsigned int len = 0;
    CBEC_ASSERT(EVP_Digest(key.data(), key.size(), k, &len, EVP_sha256(), nullptr) == 1);
  } else {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char ipad[kBlock], opad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) {
    ipad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
    opad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
  }
  CBEC_ASSERT(EVP_DigestInit_ex(inner_.get(), EVP_sha256(), nullptr) == 1);
  CBEC_ASSERT(EVP_DigestUpdate(inner_.get(), ipad, kBlock) == 1);
  CBEC_ASSERT(EVP_DigestInit_ex(outer_.get(), EVP_sha256(), nullptr) == 1);
  CBEC_ASSERT(EVP_DigestUpdate(outer_.get(), opad, kBlock) == 1);
}

HmacSha256::~HmacSha256() = default;

HmacSha256::Mac HmacSha256::mac(std::string_view data) {
  Mac inner_hash{}, out{};
  unsigned int len = 0;
  CBEC_ASSERT(EVP_MD_CTX_copy_ex(scratch_.get(), inner_.get()) == 1);
  CBEC_ASSERT(EVP_DigestUpdate(scratch_.get(), data.data(), data.size()) == 1);
  CBEC_ASSERT(EVP_DigestFinal_ex(scratch_.get(), inner_hash.data(), &len) == 1 && len == kBytes);
  CBEC_ASSERT(EVP_MD_CTX_copy_ex(scratch_.get(), outer_.get()) == 1);
  CBEC_ASSERT(EVP_DigestUpdate(scratch_.get(), inner_hash.data(), inner_hash.size()) == 1);
  CBEC_ASSERT(EVP_DigestFinal_ex(scratch_.get(), out.data(), &len) == 1 && len == kBytes);
  return out;
}

}  // namespace cbec
