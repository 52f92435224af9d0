#include "cli/help_formatter.h"

#include <utility>

namespace buildlock::cli {

HelpFormatter::HelpFormatter(std::map<std::string, std::string> usage_tails)
    : usage_tails_(std::move(usage_tails)) {
  // Wide enough for `--kernel-locks auto|on|off`, the longest option with its value.
  column_width(30);
}

std::string HelpFormatter::make_usage(const CLI::App* app, std::string name) const {
  std::string usage = CLI::Formatter::make_usage(app, std::move(name));
  const auto tail = usage_tails_.find(app->get_name());
  if (tail != usage_tails_.end() && !usage.empty() && usage.back() == '\n') {
    usage.insert(usage.size() - 1, " " + tail->second);
  }
  return usage;
}

std::string HelpFormatter::make_option_opts(const CLI::Option* option) const {
  // A positional's name says what it is (LOCK); an option shows the form of its value, if any.
  if (option->get_positional() || option->get_expected_min() == 0) {
    return {};
  }
  return " " + option->get_type_name();
}

std::string HelpFormatter::make_option_desc(const CLI::Option* option) const {
  std::string description = option->get_description();
  std::string excluded;
  for (const CLI::Option* other : option->get_excludes()) {
    excluded += (excluded.empty() ? "" : ", ") + other->get_name(false, true);
  }
  if (!excluded.empty()) {
    description += " (not with " + excluded + ")";
  }
  return description;
}

} // namespace buildlock::cli
