// Fuzzes the text sanitizer and trim (actors/text.hpp). Invariants:
// - the output of make_terminal_safe has no C0 control but tab, no DEL and
//   no C1 control, whatever the input;
// - for valid UTF-8 input, the output is the input with each control code
//   point replaced by U+FFFD and nothing else changed (so valid UTF-8 too);
// - it is idempotent, and at most three times as long as its input;
// - trim returns a piece of its input with no white space at either end,
//   and trimming again changes nothing.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "actors/text.hpp"
#include "fuzz/fuzz_check.hpp"

using chat::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};

  auto safe = chat::make_terminal_safe(input);
  require(!chat::fuzz::has_control_bytes(safe), "control byte in output");
  require(safe.size() <= 3 * input.size(), "output more than 3x input");
  require(chat::make_terminal_safe(safe) == safe, "not idempotent");

  if (auto cps = chat::fuzz::decode_utf8(input)) {
    for (auto& cp : *cps)
      if (chat::fuzz::is_control(cp))
        cp = 0xFFFD;
    require(safe == chat::fuzz::encode_utf8(*cps),
            "output is not the input with controls replaced by U+FFFD");
  }

  auto trimmed = chat::trim(input);
  require(chat::trim(trimmed) == trimmed, "trim not idempotent");
  // Whatever trim cut off is white space; what it kept starts and ends with
  // something else.
  size_t head = input.size();
  size_t tail = input.size();
  if (!trimmed.empty()) {
    require(trimmed.data() >= input.data()
              && trimmed.data() + trimmed.size() <= input.data() + size,
            "trim returned text outside its input");
    require(!chat::fuzz::is_space(trimmed.front())
              && !chat::fuzz::is_space(trimmed.back()),
            "white space left at an end");
    head = static_cast<size_t>(trimmed.data() - input.data());
    tail = head + trimmed.size();
  }
  for (size_t i = 0; i < input.size(); ++i)
    if (i < head || i >= tail)
      require(chat::fuzz::is_space(input[i]), "trim cut off a non-space");
  return 0;
}
