#include "cli/run_command.h"

#include "cli/run_settings.h"
#include "cli/run_tracing.h"
#include "core/acquire.h"
#include "core/command_mark.h"
#include "core/lock_directory.h"
#include "core/lock_name.h"
#include "core/nesting.h"
#include "core/supervise.h"
#include "etcd/acquire.h"
#include "etcd/holder_check.h"
#include "etcd/keeper.h"
#include "etcd/location.h"
#include "etcd/nesting.h"
#include "os/child_process.h"
#include "os/filesystem.h"
#include "os/process_mark.h"
#include "os/process_tree.h"
#include "os/signals.h"

#include <CLI/CLI.hpp>
#include <cstdlib>

namespace buildlock::cli {
namespace {

// Names what a command that exited normally left running (--verbose): those processes keep
// running, but no longer under the lock.
void name_leftovers(const core::SuperviseOutcome& outcome, const std::string& lock,
                    const core::Messages& messages) {
  if (outcome.leftovers.empty()) {
    return;
  }
  std::string names;
  for (const os::Descendant& process : outcome.leftovers) {
    names += (names.empty() ? "" : ", ") + std::string("pid ") + std::to_string(process.pid) +
             " (" + process.name + ")";
  }
  messages.explain(
      "the command exited normally and left " + std::to_string(outcome.leftovers.size()) +
      " process(es) running, which keep running without lock `" + lock + "`: " + names);
}

// `lock` (core::HeldLock or etcd::EtcdHold) and `trace` (cli/run_tracing.h): null if there is none.
template <class Lock>
[[noreturn]] void die_like(int signal, Lock* lock, const core::Messages& messages,
                           core::RunTrace* trace) {
  trace_release(trace, true, signal);
  if (lock != nullptr) {
    lock->release(&messages);
  }
  os::die_by_signal(signal);
}

// Ends buildlock the way the command ended.
template <class Lock>
int finish(const core::SuperviseOutcome& outcome, Lock* lock, const core::Messages& messages,
           core::RunTrace* trace = nullptr) {
  if (outcome.status.signaled) {
    die_like(outcome.status.code, lock, messages, trace);
  }
  trace_release(trace, false, outcome.status.code);
  if (lock != nullptr) {
    lock->release(&messages);
  }
  return outcome.status.code;
}

void report_lock_lost(const RunOptions& options, const std::string& why,
                      const core::Messages& messages, core::RunTrace* trace) {
  trace_lost(trace, why);
  messages.warning("LOCK LOST: lock `" + options.lock + "` was taken from this process while `" +
                   options.command.front() + "` ran (" + why +
                   "); what it protects is no longer protected" +
                   (options.keep_running_if_lost
                        ? "; the command runs on (--keep-running-if-lost), and buildlock will "
                          "exit 76"
                        : "; stopping the command"));
}

// Runs the command under `lock` (core::HeldLock or etcd::EtcdHold: both release(&messages)) and
// ends the way the command ended.
template <class Lock>
int supervise_holding(Lock& lock, core::SuperviseRequest& supervise_request,
                      os::SignalHandling& signals, const core::Messages& messages,
                      const RunOptions& options, core::RunTrace* trace) {
  supervise_request.stop_if_lost = !options.keep_running_if_lost;
  auto outcome = core::supervise(supervise_request, signals);
  if (!outcome) {
    return traced_release(lock, report(outcome.error()), messages, trace);
  }
  if (outcome->parent_gone) {
    trace_release(trace, outcome->status.signaled, outcome->status.code);
    lock.release(&messages); // first: stderr may be a pipe that died with the build
    messages.warning("the build that started `" + options.command.front() +
                     "` is gone; stopped it and released lock `" + options.lock + "`");
  }
  if (outcome->lock_lost) {
    // Never the command's status, 0 included: what it did was not protected (docs/cli.md).
    return traced_release(lock, exit_lock_lost, messages, trace);
  }
  if (outcome->descendants_stopped != 0) {
    messages.explain("stopped " + std::to_string(outcome->descendants_stopped) +
                     " process(es) the command left running (" +
                     std::to_string(outcome->descendants_killed) + " with " +
                     os::kill_signal_name() + ") before releasing lock `" + options.lock + "`");
  }
  name_leftovers(*outcome, options.lock, messages);
  if (outcome->interrupting_signal != 0 && !outcome->status.signaled) {
    // Interrupted, but the command chose to exit normally: end with its status.
    messages.explain("command exited with status " + std::to_string(outcome->status.code) +
                     " after signal " + std::to_string(outcome->interrupting_signal));
  }
  return finish(*outcome, &lock, messages, trace);
}

// The lock held in etcd (etcd/acquire.h): the lease TTL is --stale-after when given (the time
// after which a holder nobody can vouch for loses the lock), else etcd::default_ttl.
int run_in_etcd(const core::AcquireRequest& request, const RunOptions& options,
                core::SuperviseRequest& supervise_request, os::SignalHandling& signals,
                const core::Messages& messages, core::RunTrace* trace) {
  const char* from_environment = std::getenv("BUILDLOCK_STALE_AFTER");
  const bool ttl_given =
      options.stale_after || (from_environment != nullptr && *from_environment != '\0');
  const std::int64_t ttl = ttl_given ? etcd::ttl_for(request.stale_after) : etcd::default_ttl;
  // The keeper first, then the adoption of orphans: the keeper must not become ours. Started on
  // arrival, so that its fork and exec are not on the handoff's critical path.
  std::optional<os::Fd> keeper = etcd::start_keeper(request.directory, request.name, messages);
  os::adopt_orphaned_descendants();
  auto lock = etcd::acquire(request, ttl, signals, messages);
  trace_acquisition(trace, lock);
  if (!lock) {
    return report(lock.error());
  }
  if (keeper) {
    etcd::attach_keeper(*lock, std::move(*keeper));
  }
  // The lease's mark on the command's processes besides BUILDLOCK_ETCD_LEASES, there from the
  // start of its first process (os/process_mark.h). Held until buildlock ends.
  const auto mark = os::create_mark_descriptor(etcd::lease_mark_name(lock->lease().id));
  if (!mark) {
    return traced_release(*lock, report(mark.error()), messages, trace);
  }
  supervise_request.environment = {
      {"BUILDLOCK_FENCING_TOKEN", std::to_string(lock->fencing_token())},
      {etcd::held_leases_variable,
       etcd::held_leases_value(std::getenv(etcd::held_leases_variable), lock->lease().id)}};
  // acquired_at rewritten once the command runs, off the handoff's critical path (etcd/hold.h).
  supervise_request.started = [&lock] {
    lock->publish_acquisition();
  };
  supervise_request.heartbeat = [&lock, &messages, &options, trace] {
    std::string why;
    if (lock->keep(why)) {
      return true;
    }
    report_lock_lost(options, why, messages, trace);
    return false;
  };
  // Looked at often enough to stop the command, SIGKILL included, well before the TTL ends
  // (etcd/hold.h, docs/protocol.md "Stopping before the lease ends").
  supervise_request.heartbeat_interval = lock->check_interval();
  supervise_request.kill_after_if_lost = lock->kill_window();
  return supervise_holding(*lock, supervise_request, signals, messages, options, trace);
}

} // namespace

void add_run_command(CLI::App& app, RunOptions& options) {
  CLI::App* run = app.add_subcommand(
      "run", "Run COMMAND while holding the lock LOCK (usage: run [OPTIONS] LOCK -- "
             "COMMAND [ARG...])");
  options.common.add_to(*run);
  run->add_option("--timeout", options.timeout,
                  "Give up after SECONDS (fractions allowed; 0 = try once) and exit 75; default: "
                  "$BUILDLOCK_TIMEOUT, else wait forever")
      ->type_name("SECONDS");
  run->add_option("--stale-after", options.stale_after,
                  "Age after which a lock nobody can vouch for is reclaimed; default: "
                  "$BUILDLOCK_STALE_AFTER, else 120")
      ->type_name("SECONDS");
  run->add_option("--sequence", options.sequence,
                  "Split COMMAND into commands of these word counts, run in order under one hold, "
                  "stopping at the first failure (used by the CMake module)")
      ->type_name("N,N,...")
      ->delimiter(',');
  auto* shared = run->add_flag(
      "--shared", options.shared,
      "Hold LOCK shared: any number of --shared runs at once, or one exclusive run (which new "
      "--shared runs queue behind)");
  run->add_option("--slots", options.slots,
                  "Let at most N runs hold LOCK at once; every user of LOCK must give the same N "
                  "(1 to 64)")
      ->type_name("N")
      ->excludes(shared);
  run->add_option("--kill-after", options.kill_after,
                  std::string("When COMMAND ends by a signal or is stopped, how long every "
                              "process it started gets between that signal and ") +
                      os::kill_signal_name() +
                      "; the lock is released only once none is left; default: "
                      "$BUILDLOCK_KILL_AFTER, else 5")
      ->type_name("SECONDS");
  run->add_option("--trace", options.trace,
                  "Append this run's wait and hold to the trace FILE; default: $BUILDLOCK_TRACE")
      ->type_name("FILE");
  run->add_flag("--die-with-parent", options.die_with_parent,
                std::string("Stop COMMAND (") + os::own_stop_description() +
                    ") and release the lock when the process that started buildlock, or that "
                    "process's parent, exits (a killed ninja or make)");
  auto* stop_if_lost = run->add_flag(
      "--stop-if-lost", options.stop_if_lost,
      std::string("When the lock is taken away while COMMAND runs (`break`, reclaimed after this "
                  "process was frozen too long, an etcd lease that could not be renewed), stop "
                  "COMMAND (") +
          os::own_stop_description() + ") and exit 76; the default, accepted for older scripts");
  run->add_flag("--keep-running-if-lost", options.keep_running_if_lost,
                "When the lock is taken away while COMMAND runs, only warn (LOCK LOST) and let "
                "COMMAND run on, unprotected; exit 76 when it ends")
      ->excludes(stop_if_lost);
  run->add_flag("--json", options.json,
                "Write buildlock's own messages to stderr as JSON lines, for scripts (COMMAND's "
                "output is left as it is)");
  run->add_option("LOCK", options.lock, "Lock name: a letter or digit, then letters, digits, . _ -")
      ->required();
  run->footer(
      "COMMAND and its arguments follow `--` and are passed on exactly.\n"
      "Example: buildlock run --timeout 60 downloads -- ./fetch.sh --all\n"
      "Exit status: the command's own (a command killed by a signal: buildlock dies of the same "
      "signal); 2 usage, 65 lock held in another mode or slot count, 70 internal error, 71 system "
      "error, 74 lock directory unusable, 75 timeout, 76 lock lost while COMMAND ran, "
      "126 not executable, 127 not found.");
}

int run_command(const RunOptions& options) {
  if (options.json) {
    core::set_message_format(core::MessageFormat::json_lines);
  }
  const core::Messages messages = options.common.messages();
  auto settings = settings_from(options);
  if (!settings) {
    return report(settings.error());
  }
  const bool is_etcd = etcd::is_etcd_location(settings->directory);
  if (auto prepared =
          is_etcd ? ok_status() : core::prepare_lock_directory(settings->directory, messages);
      !prepared) {
    return report(prepared.error());
  }

  os::SignalHandling signals;
  // Before anything can start: orphans of the command come to us, so that none escapes the rule
  // that nothing it started runs on after the release (core/supervise.h). For etcd once its
  // lease keeper runs (run_in_etcd), which must not be adopted.
  if (!is_etcd) {
    os::adopt_orphaned_descendants();
  }
  core::SuperviseRequest supervise_request;
  supervise_request.commands = settings->commands;
  supervise_request.die_with_parent = options.die_with_parent;
  supervise_request.kill_after = settings->kill_after;
  supervise_request.list_leftovers = messages.verbose;
  const char* inherited = std::getenv(core::held_locks_variable);

  auto ancestor_found = is_etcd
                            ? etcd::ancestor_hold(std::getenv(etcd::held_leases_variable),
                                                  settings->directory, options.lock, settings->mode)
                            : Result<core::AncestorHold>(core::ancestor_hold(
                                  inherited, settings->directory, options.lock, settings->mode,
                                  settings->kernel_locks != core::KernelLockUse::never));
  if (!ancestor_found) {
    return report(ancestor_found.error());
  }
  const core::AncestorHold ancestor = *ancestor_found;
  if (ancestor == core::AncestorHold::conflicting) {
    return report(Error{ErrorKind::mode_conflict,
                        "lock `" + options.lock +
                            "` is held shared or in a slot by a parent buildlock; taking it "
                            "again in another mode would wait for that parent forever"});
  }
  if (ancestor == core::AncestorHold::covering) {
    messages.explain("lock `" + options.lock +
                     "` is already held by a parent buildlock; running "
                     "without taking it again");
    signals.set_mode(os::TerminationMode::record);
    os::adopt_orphaned_descendants();
    auto outcome = core::supervise(supervise_request, signals);
    if (!outcome) {
      return report(outcome.error());
    }
    name_leftovers(*outcome, options.lock, messages);
    return finish(*outcome, static_cast<core::HeldLock*>(nullptr), messages);
  }

  core::AcquireRequest request{settings->directory, options.lock,          options.command,
                               settings->timeout,   settings->stale_after, settings->mode,
                               settings->slots,     settings->kernel_locks};
  std::optional<core::RunTrace> trace = start_trace(options, request, messages);
  core::RunTrace* const traced = attach_trace(trace, request);
  if (is_etcd) {
    return run_in_etcd(request, options, supervise_request, signals, messages, traced);
  }
  auto lock = core::acquire(request, signals, messages);
  trace_acquisition(traced, lock);
  if (!lock) {
    return report(lock.error());
  }
  for (os::NativeHandle fd : lock->descriptors()) {
    if (auto inheritable = os::make_inheritable(fd); !inheritable) {
      return traced_release(*lock, report(inheritable.error()), messages, traced);
    }
  }
  // The lock's mark on the command's processes besides BUILDLOCK_HELD, there from the start of
  // its first process (os/process_mark.h). Held until buildlock ends.
  const auto mark = os::create_mark_descriptor(core::lock_mark_name(lock->own().identity()));
  if (!mark) {
    return traced_release(*lock, report(mark.error()), messages, traced);
  }
  supervise_request.environment = {
      {core::held_locks_variable,
       core::held_locks_value(inherited, lock->own().fd().get(), lock->own().identity())}};
  supervise_request.heartbeat = [&lock, &messages, &options, traced] {
    if (lock->heartbeat(messages)) {
      return true;
    }
    report_lock_lost(options,
                     "its file was removed or replaced: someone ran `buildlock break`, or this "
                     "process was stopped longer than --stale-after and the lock was reclaimed",
                     messages, traced);
    return false;
  };
  supervise_request.heartbeat_interval = settings->stale_after / 4;
  return supervise_holding(*lock, supervise_request, signals, messages, options, traced);
}

} // namespace buildlock::cli
