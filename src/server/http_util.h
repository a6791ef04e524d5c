// Internal to src/server/: small, Beast-free helpers shared by the server and the client
// (target and query decoding, header names, SSE framing and parsing). Kept apart so that tests
// can check them without a socket and so that they compile without Boost.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cbec::server::internal {

// Decodes %XX escapes (and '+' as a space when plus_is_space). A '%' not followed by two hex
// digits is kept as written, so a malformed escape never loses bytes.
std::string PercentDecode(std::string_view in, bool plus_is_space);

// Splits a request target at the first '?': the path as sent, and the decoded parameters of
// the query ("a=1&b&c=" gives a="1", b="", c=""; empty segments are skipped).
void SplitTarget(std::string_view target, std::string* path,
                 std::vector<std::pair<std::string, std::string>>* query);

std::string AsciiLower(std::string_view s);
bool AsciiIEquals(std::string_view a, std::string_view b);

// A JSON string literal (with the quotes) for s; escapes quotes, backslashes and control bytes.
std::string JsonQuote(std::string_view s);

// The wire form of one SSE event: "id: ..\nevent: ..\ndata: ..\n..\n\n". An empty id or event
// leaves its line out; data is split on CR, LF and CRLF so it cannot end the event early; CR
// and LF in id and event are dropped for the same reason.
std::string FormatSseEvent(std::string_view id, std::string_view event, std::string_view data);

// An incremental parser of a text/event-stream body, as the HTML standard specifies it: lines
// end with CR, LF or CRLF (possibly split across Feed calls), ':' starts a comment, data lines
// are joined with '\n', an event without data is not dispatched, the last id persists across
// events, and the event type defaults to "message".
class SseParser {
 public:
  // Longest line accepted; a longer one is a protocol error (Feed returns false).
  static constexpr size_t kMaxLineBytes = 16 * 1024 * 1024;

  using Callback =
      std::function<bool(std::string_view id, std::string_view event, std::string_view data)>;
  // Parses bytes and calls on_event for every complete event. Returns false as soon as
  // on_event returns false or the input is malformed; the parser must not be fed again then.
  bool Feed(std::string_view bytes, const Callback& on_event);

 private:
  bool Line(std::string_view line, const Callback& on_event);

  std::string line_;  // the incomplete line carried over from the previous Feed
  std::string data_;
  std::string event_;
  std::string last_id_;
  bool after_cr_ = false;  // the previous byte was a CR: a following LF belongs to it
  bool started_ = false;   // a UTF-8 BOM is skipped at the very start only
};

}  // namespace cbec::server::internal
