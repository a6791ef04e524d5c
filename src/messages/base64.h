// Base64 (RFC 4648, standard alphabet) decoding for Base64-wrapped messages. Internal.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cbec::ceb::internal {

// Decodes Base64 text, ignoring XML whitespace anywhere (MIME encoders break lines). Padding is
// optional but, when present, must end the text. Returns nullopt for any other character, a
// misplaced '=', or a length that cannot be Base64. REQUIRES: text is bounded by the caller.
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace cbec::ceb::internal
