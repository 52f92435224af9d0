// FuzzBytes: hands out the bytes of one fuzz input piece by piece, like LLVM's
// FuzzedDataProvider, but without needing clang's headers, so that the same target also builds
// with g++ for the corpus replay in the default suite. Past the end every choice is choice 0, so
// every input, even an empty one, describes a complete scenario.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace buildlock::fuzz {

class FuzzBytes {
public:
  explicit FuzzBytes(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  // One of `count` choices (count > 0). Bytes are counted from '0', so that a seed file can spell
  // its choices as digits: '0' is choice 0, '1' choice 1, and so on; any other byte still picks
  // one.
  std::size_t choice(std::size_t count) {
    const std::uint8_t byte = next_byte();
    return static_cast<std::uint8_t>(byte - '0') % count;
  }

  template <class T, std::size_t N> const T& pick(const T (&options)[N]) {
    return options[choice(N)];
  }

  // Everything not taken yet.
  std::string_view rest() const {
    const auto* first = reinterpret_cast<const char*>(bytes_.data()) + offset_;
    return {first, bytes_.size() - offset_};
  }

private:
  std::uint8_t next_byte() {
    if (offset_ == bytes_.size()) {
      return '0';
    }
    return bytes_[offset_++];
  }

  std::span<const std::uint8_t> bytes_;
  std::size_t offset_ = 0;
};

} // namespace buildlock::fuzz
