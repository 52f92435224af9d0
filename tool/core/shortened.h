// Long text cut to fit one line of a message or a table cell. A compiler's or linker's command
// line can run to kilobytes, and a wait line that repeats it for each holder is unreadable in a
// build log: people need its start to recognise it, never all of it (`status --json` keeps it
// whole, as the lock file recorded it).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace buildlock::core {

// What stands for the part that was cut off.
inline constexpr std::string_view cut_marker = "...";

// The longest command in a one-line message: wait lines, reclaim notices, `status`'s
// explanations (about a third of a terminal line, leaving room for the rest of the sentence).
inline constexpr std::size_t longest_command_in_message = 60;

// `text` itself when it has at most `limit` bytes; otherwise its start and `cut_marker`, `limit`
// bytes in all (at least the marker's), never cut inside a UTF-8 sequence: a terminal would show a
// broken character, and JSON output would replace it.
std::string shortened(std::string_view text, std::size_t limit);

// The words joined by single spaces, shortened to `limit` bytes; words far past the limit are
// never joined (a command of megabytes costs no more than a short one).
std::string shortened_command(const std::vector<std::string>& words, std::size_t limit);

} // namespace buildlock::core
