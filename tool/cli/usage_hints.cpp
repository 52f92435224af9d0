#include "cli/usage_hints.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string_view>

namespace buildlock::cli {
namespace {

// Edits (insert, delete, replace, swap two neighbours) between two words: the optimal string
// alignment distance, so that `--dri` is one edit from `--dir`. Words here are a few letters long.
std::size_t edit_distance(const std::string& from, const std::string& to) {
  std::vector<std::vector<std::size_t>> table(from.size() + 1,
                                              std::vector<std::size_t>(to.size() + 1));
  for (std::size_t i = 0; i <= from.size(); ++i) {
    table[i][0] = i;
  }
  for (std::size_t j = 0; j <= to.size(); ++j) {
    table[0][j] = j;
  }
  for (std::size_t i = 1; i <= from.size(); ++i) {
    for (std::size_t j = 1; j <= to.size(); ++j) {
      const std::size_t replace = table[i - 1][j - 1] + (from[i - 1] == to[j - 1] ? 0 : 1);
      table[i][j] = std::min({table[i - 1][j] + 1, table[i][j - 1] + 1, replace});
      if (i > 1 && j > 1 && from[i - 1] == to[j - 2] && from[i - 2] == to[j - 1]) {
        table[i][j] = std::min(table[i][j], table[i - 2][j - 2] + 1);
      }
    }
  }
  return table[from.size()][to.size()];
}

// A flag takes no value; every other option takes the next word unless given as `--name=value`.
bool takes_value(const CLI::Option& option) {
  return option.get_expected_min() > 0;
}

bool looks_like_option(const std::string& word) {
  return word.size() > 1 && word[0] == '-';
}

// `--name=value` names `--name`.
std::string option_name(const std::string& word) {
  return word.substr(0, word.find('='));
}

const CLI::Option* find_option(const CLI::App& command, const std::string& name) {
  for (const CLI::Option* option : command.get_options()) {
    const auto& long_names = option->get_lnames();
    const auto& short_names = option->get_snames();
    if ((name.rfind("--", 0) == 0 &&
         std::find(long_names.begin(), long_names.end(), name.substr(2)) != long_names.end()) ||
        (name.size() == 2 &&
         std::find(short_names.begin(), short_names.end(), name.substr(1)) != short_names.end())) {
      return option;
    }
  }
  return nullptr;
}

// `-qv`: short flags given together, which CLI11 accepts.
bool is_known_short_flag_group(const CLI::App& command, const std::string& word) {
  if (word.size() <= 2 || word[1] == '-') {
    return false;
  }
  return std::all_of(word.begin() + 1, word.end(), [&](char letter) {
    const CLI::Option* option = find_option(command, std::string("-") + letter);
    return option != nullptr && !takes_value(*option);
  });
}

std::vector<std::string> long_option_names(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::Option* option : command.get_options()) {
    for (const std::string& name : option->get_lnames()) {
      names.push_back("--" + name);
    }
  }
  return names;
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(command->get_name());
  }
  return names;
}

std::string joined(const std::vector<std::string>& words, const std::string& separator) {
  std::string text;
  for (const std::string& word : words) {
    text += (text.empty() ? "" : separator) + word;
  }
  return text;
}

// A word as a POSIX shell would need it typed, for a command line the person can paste.
std::string shell_quoted(const std::string& word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("_-./:=,@%+").find(c) != std::string_view::npos;
  });
  if (plain) {
    return word;
  }
  std::string quoted = "'";
  for (char c : word) {
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return quoted + "'";
}

std::string command_line(const std::vector<std::string>& words) {
  std::vector<std::string> quoted{"buildlock"};
  for (const std::string& word : words) {
    quoted.push_back(shell_quoted(word));
  }
  return joined(quoted, " ");
}

std::string unknown_subcommand(const CLI::App& app, const std::string& typed) {
  const std::vector<std::string> names = subcommand_names(app);
  const std::string nearest = nearest_word(typed, names);
  return "unknown subcommand `" + typed + "`" +
         (nearest.empty() ? "" : "; did you mean `buildlock " + nearest + "`?") +
         " (subcommands: " + joined(names, ", ") + "; see `buildlock --help`)";
}

std::string unknown_option(const CLI::App& command, const std::string& typed) {
  // Without the dashes, which every candidate shares and which would make any two names look close.
  std::vector<std::string> bare_names;
  for (const std::string& name : long_option_names(command)) {
    bare_names.push_back(name.substr(2));
  }
  const std::string typed_name = option_name(typed);
  const std::string nearest =
      nearest_word(typed_name.substr(typed_name.find_first_not_of('-')), bare_names);
  const std::string name = command.get_name();
  return "unknown option `" + option_name(typed) + "` for `buildlock " + name + "`" +
         (nearest.empty() ? "" : "; did you mean `--" + nearest + "`?") + " (see `buildlock " +
         name + " --help`)";
}

std::string missing_separator(const std::vector<std::string>& words, std::size_t command_start) {
  std::vector<std::string> corrected(words.begin(),
                                     words.begin() + static_cast<std::ptrdiff_t>(command_start));
  corrected.emplace_back("--");
  corrected.insert(corrected.end(), words.begin() + static_cast<std::ptrdiff_t>(command_start),
                   words.end());
  return "missing `--` between the lock and the command; did you mean `" + command_line(corrected) +
         "`?";
}

} // namespace

std::string nearest_word(const std::string& typed, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = 0;
  std::vector<std::string> extensions;
  for (const std::string& candidate : candidates) {
    if (candidate.rfind(typed, 0) == 0 && typed.size() >= 3) {
      extensions.push_back(candidate);
    }
    const std::size_t distance = edit_distance(typed, candidate);
    const std::size_t longer = std::max(typed.size(), candidate.size());
    if (distance < longer && distance * 3 <= longer && (best.empty() || distance < best_distance)) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (best.empty() && extensions.size() == 1) {
    return extensions.front();
  }
  return best;
}

std::string explain_parse_error(const CLI::App& app, const std::vector<std::string>& words,
                                bool has_separator, const std::string& parser_message) {
  const auto subcommand_word = std::find_if(
      words.begin(), words.end(), [](const std::string& word) { return !looks_like_option(word); });
  if (subcommand_word != words.begin() && !words.empty() && looks_like_option(words.front()) &&
      find_option(app, option_name(words.front())) == nullptr) {
    return "`" + option_name(words.front()) +
           "` is not an option of buildlock itself: options go after the subcommand, as in "
           "`buildlock run --dir DIR LOCK -- COMMAND` (see `buildlock --help`)";
  }
  if (subcommand_word == words.end()) {
    return "missing subcommand: one of " + joined(subcommand_names(app), ", ") +
           " (see `buildlock --help`)";
  }
  const CLI::App* command = nullptr;
  for (const CLI::App* candidate : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (candidate->check_name(*subcommand_word)) {
      command = candidate;
    }
  }
  if (command == nullptr) {
    return unknown_subcommand(app, *subcommand_word);
  }
  const bool is_run = command->get_name() == "run";
  std::size_t positionals = 0;
  for (std::size_t i = static_cast<std::size_t>(subcommand_word - words.begin()) + 1;
       i < words.size(); ++i) {
    const std::string& word = words[i];
    if (!looks_like_option(word)) {
      // For `run`, the first word that is no option is LOCK; a second one starts a command that
      // was meant to follow `--`.
      if (is_run && !has_separator && ++positionals == 2) {
        return missing_separator(words, i);
      }
      continue;
    }
    const CLI::Option* option = find_option(*command, option_name(word));
    if (option == nullptr && find_option(app, option_name(word)) != nullptr) {
      return "`" + option_name(word) + "` is an option of buildlock itself, not of `buildlock " +
             command->get_name() + "`: use `buildlock " + option_name(word) + "`";
    }
    if (option == nullptr && !is_known_short_flag_group(*command, word)) {
      return unknown_option(*command, word);
    }
    if (option != nullptr && takes_value(*option) && word.find('=') == std::string::npos) {
      ++i; // its value
    }
  }
  return parser_message + " (see `buildlock " + command->get_name() + " --help`)";
}

} // namespace buildlock::cli
