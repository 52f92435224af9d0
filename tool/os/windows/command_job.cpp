#include "os/windows/command_job.h"

namespace buildlock::os {
namespace {

// Only the main thread starts and waits for commands; the console control handler thread never
// touches these.
HANDLE g_job = nullptr;
HANDLE g_process = nullptr;

} // namespace

void set_running_command(HANDLE job, HANDLE process) {
  g_job = job;
  g_process = process;
}

HANDLE running_job() {
  return g_job;
}

HANDLE running_process() {
  return g_process;
}

std::vector<std::uint32_t> job_processes(HANDLE job) {
  // The list is a header and a variable number of ids; grow until they all fit (a build's tree
  // can be hundreds of processes).
  std::vector<std::uint32_t> ids;
  for (DWORD capacity = 64; job != nullptr && capacity <= (1u << 20); capacity *= 4) {
    std::vector<unsigned char> buffer(sizeof(JOBOBJECT_BASIC_PROCESS_ID_LIST) +
                                      capacity * sizeof(ULONG_PTR));
    auto* list = reinterpret_cast<JOBOBJECT_BASIC_PROCESS_ID_LIST*>(buffer.data());
    const BOOL listed = QueryInformationJobObject(job, JobObjectBasicProcessIdList, list,
                                                  static_cast<DWORD>(buffer.size()), nullptr);
    if (!listed && GetLastError() != ERROR_MORE_DATA) {
      break;
    }
    if (listed && list->NumberOfProcessIdsInList == list->NumberOfAssignedProcesses) {
      for (DWORD i = 0; i < list->NumberOfProcessIdsInList; ++i) {
        ids.push_back(static_cast<std::uint32_t>(list->ProcessIdList[i]));
      }
      break;
    }
  }
  return ids;
}

} // namespace buildlock::os
