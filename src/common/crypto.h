// Hashes and hex, the few cryptographic primitives cbec uses (OpenSSL underneath): API keys
// are stored as SHA-256, webhooks are signed and random draws made with HMAC-SHA-256.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cbec {

std::string sha256_hex(std::string_view data);                           // lower-case hex
std::string hmac_sha256_hex(std::string_view key, std::string_view data);  // lower-case hex
std::string hex_encode(std::string_view bytes);                            // lower-case
std::optional<std::string> hex_decode(std::string_view hex);  // nullopt if not even-length hex

}  // namespace cbec
