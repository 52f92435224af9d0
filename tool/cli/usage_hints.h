// What to tell a person whose command line did not parse: the nearest subcommand or option to a
// mistyped one, or the missing `--` with the corrected command, instead of CLI11's raw message
// (which blames the wrong word and points at the wrong help). Pure: it reads the parser's option
// table and the words as typed, and never touches the process.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace buildlock::cli {

// The message for a failed parse of `words` (argv without argv[0], before the first `--`) by
// `app`; `parser_message` is CLI11's own, used where no better one is known. `has_separator`: a
// `--` followed the words.
std::string explain_parse_error(const CLI::App& app, const std::vector<std::string>& words,
                                bool has_separator, const std::string& parser_message);

// The candidate closest to `typed` by edit distance, if it is close enough to be what was meant
// (at most a third of the longer word's letters differ, and at least one letter is shared); empty
// otherwise. A unique candidate that starts with `typed` also counts.
std::string nearest_word(const std::string& typed, const std::vector<std::string>& candidates);

} // namespace buildlock::cli
