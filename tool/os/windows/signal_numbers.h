// The numbers os/signals.h's vocabulary has on Windows. Windows has no signals between processes:
// console control events (which reach every process of a console, or one process group) and
// termination. They get the POSIX numbers of the same meaning, so that messages and exit codes
// read the same on both.
#pragma once

namespace buildlock::os::windows_signal {

inline constexpr int hangup = 1;    // CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT
inline constexpr int interrupt = 2; // CTRL_C_EVENT
inline constexpr int kill = 9;      // TerminateProcess, TerminateJobObject
inline constexpr int terminate = 15;
inline constexpr int ctrl_break = 21; // CTRL_BREAK_EVENT (MinGW's SIGBREAK)

// The exit status of a process that a console control event ended (the default handler calls
// ExitProcess with it); what cmd.exe and ninja see from a command stopped by Ctrl+C.
inline constexpr unsigned long control_c_exit = 0xC000013AUL; // STATUS_CONTROL_C_EXIT

// What TerminateJobObject and TerminateProcess make a killed process exit with: 1, like Task
// Manager's "End task" and `taskkill /F`.
inline constexpr unsigned int killed_exit_code = 1;

} // namespace buildlock::os::windows_signal
