// buildlock: run commands under a lock that reclaims orphaned locks on the spot.
// This file only wires the command line; each subcommand lives in cli/.
#include "cli/break_command.h"
#include "cli/clean_command.h"
#include "cli/common_options.h"
#include "cli/help_formatter.h"
#include "cli/report_command.h"
#include "cli/run_command.h"
#include "cli/status_command.h"
#include "cli/usage_hints.h"
#include "core/messages.h"
#include "etcd/keeper.h"

#include <CLI/CLI.hpp>
#include <cstring>
#include <exception>
#include <iostream>

#ifndef BUILDLOCK_VERSION
#define BUILDLOCK_VERSION "unknown"
#endif

namespace {

using namespace buildlock;

// Everything after the first `--` is the command, passed on byte for byte; CLI11 never sees it.
struct SplitArguments {
  std::vector<std::string> ours;
  std::vector<std::string> command;
  bool has_separator = false;
};

SplitArguments split_at_separator(int argc, char** argv) {
  SplitArguments split;
  for (int i = 1; i < argc; ++i) {
    if (!split.has_separator && std::strcmp(argv[i], "--") == 0) {
      split.has_separator = true;
    } else if (split.has_separator) {
      split.command.emplace_back(argv[i]);
    } else {
      split.ours.emplace_back(argv[i]);
    }
  }
  return split;
}

int main_with_exceptions(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], etcd::keeper_argument) == 0) {
    // Not a subcommand for people: the lease keeper of an etcd hold (etcd/keeper.h).
    return etcd::run_keeper(std::vector<std::string>(argv + 2, argv + argc));
  }
  CLI::App app(
      "buildlock: run commands under a lock in a shared lock directory; stale locks (whose "
      "holder is gone) are reclaimed on the spot.",
      "buildlock");
  app.set_version_flag("--version", "buildlock " BUILDLOCK_VERSION);
  app.require_subcommand(1);
  // Before the subcommands are added: each takes a copy of the formatter it is created with.
  app.formatter(std::make_shared<cli::HelpFormatter>(
      std::map<std::string, std::string>{{"run", "-- COMMAND [ARG...]"}}));
  // `run` is started hundreds of times per build: do not build the other subcommands' parsers
  // for it (a sixth of its start-up instructions).
  const bool only_run = argc > 1 && std::strcmp(argv[1], "run") == 0;
  cli::RunOptions run_options;
  add_run_command(app, run_options);
  cli::StatusOptions status_options;
  cli::CleanOptions clean_options;
  cli::BreakOptions break_options;
  cli::ReportOptions report_options;
  if (!only_run) {
    add_status_command(app, status_options);
    add_clean_command(app, clean_options);
    add_break_command(app, break_options);
    add_report_command(app, report_options);
  }

  SplitArguments split = split_at_separator(argc, argv);
  try {
    // CLI11 takes argv-style input; hand it our part only, in the order it was typed.
    std::vector<char*> our_argv{argv[0]};
    for (std::string& word : split.ours) {
      our_argv.push_back(word.data());
    }
    app.parse(static_cast<int>(our_argv.size()), our_argv.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return cli::report(
        Error{ErrorKind::usage,
              cli::explain_parse_error(app, split.ours, split.has_separator, e.what())});
  }

  if (app.got_subcommand("run")) {
    run_options.command = std::move(split.command);
    return cli::run_command(run_options);
  }
  if (split.has_separator) {
    return cli::report(Error{ErrorKind::usage, "`--` (a command) is only for `buildlock run`"});
  }
  if (app.got_subcommand("status")) {
    return cli::status_command(status_options);
  }
  if (app.got_subcommand("clean")) {
    return cli::clean_command(clean_options);
  }
  if (app.got_subcommand("break")) {
    return cli::break_command(break_options);
  }
  if (app.got_subcommand("report")) {
    return cli::report_command(report_options);
  }
  return cli::report(Error{ErrorKind::usage, "unknown subcommand (see `buildlock --help`)"});
}

} // namespace

int main(int argc, char** argv) {
  try {
    return main_with_exceptions(argc, argv);
  } catch (const std::exception& e) {
    buildlock::core::Messages{}.error(std::string("internal error: ") + e.what());
    return buildlock::cli::exit_software;
  }
}
