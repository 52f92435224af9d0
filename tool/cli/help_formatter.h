// How `--help` lays out a subcommand: CLI11's layout, with the usage line completed by what the
// parser never sees (`-- COMMAND [ARG...]` of `run`), and option constraints said in words in the
// description instead of as `Excludes:` badges that push the description onto the next line.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>

namespace buildlock::cli {

class HelpFormatter : public CLI::Formatter {
public:
  // `usage_tails`: per subcommand name, what its usage line ends with after the positionals.
  explicit HelpFormatter(std::map<std::string, std::string> usage_tails);

  std::string make_usage(const CLI::App* app, std::string name) const override;
  std::string make_option_opts(const CLI::Option* option) const override;
  std::string make_option_desc(const CLI::Option* option) const override;

private:
  std::map<std::string, std::string> usage_tails_;
};

} // namespace buildlock::cli
