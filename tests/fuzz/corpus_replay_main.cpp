// Runs every file of a fuzz corpus through the metadata and staleness target once, without
// libFuzzer, so that the default suite (any compiler) checks the invariants on the seeds.
//
//   buildlock_fuzz_replay [--require-coverage] FILE_OR_DIRECTORY...
//
// --require-coverage fails unless the inputs reach every documented reason code and include both
// usable and unusable metadata: a corpus that stops exercising a branch of judge() is caught
// here, not in a fuzzing session that happens to start from it.
#include "metadata_staleness_target.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

int fail(const std::string& message) {
  std::fprintf(stderr, "buildlock_fuzz_replay: error: %s\n", message.c_str());
  return 1;
}

// The files named, with directories replaced by their regular files, sorted for a stable order.
std::vector<fs::path> input_files(const std::vector<fs::path>& arguments) {
  std::vector<fs::path> files;
  for (const fs::path& argument : arguments) {
    if (!fs::is_directory(argument)) {
      files.push_back(argument);
      continue;
    }
    std::vector<fs::path> in_directory;
    for (const fs::directory_entry& entry : fs::directory_iterator(argument)) {
      if (entry.is_regular_file()) {
        in_directory.push_back(entry.path());
      }
    }
    std::sort(in_directory.begin(), in_directory.end());
    files.insert(files.end(), in_directory.begin(), in_directory.end());
  }
  return files;
}

} // namespace

int main(int argc, char** argv) {
  bool require_coverage = false;
  std::vector<fs::path> arguments;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    if (argument == "--require-coverage") {
      require_coverage = true;
    } else {
      arguments.emplace_back(argument);
    }
  }
  if (arguments.empty()) {
    return fail("usage: buildlock_fuzz_replay [--require-coverage] FILE_OR_DIRECTORY...");
  }

  std::set<std::string> reasons_reached;
  std::size_t usable = 0;
  std::size_t unusable = 0;
  const std::vector<fs::path> files = input_files(arguments);
  for (const fs::path& file : files) {
    std::ifstream stream(file, std::ios::binary);
    if (!stream) {
      return fail("cannot read `" + file.string() + "`");
    }
    const std::vector<std::uint8_t> input{std::istreambuf_iterator<char>(stream),
                                          std::istreambuf_iterator<char>()};
    // Named first, so that the file of an input that aborts is the last line printed.
    std::fprintf(stderr, "%s\n", file.string().c_str());
    const buildlock::fuzz::TargetOutcome outcome =
        buildlock::fuzz::check_metadata_and_staleness(input);
    ++(outcome.metadata_usable ? usable : unusable);
    reasons_reached.insert(outcome.reason);
  }
  std::printf("replayed %zu inputs: %zu with usable metadata, %zu without; %zu reason codes\n",
              files.size(), usable, unusable, reasons_reached.size());
  if (files.empty()) {
    return fail("no inputs to replay");
  }
  if (require_coverage) {
    std::string missing;
    for (std::string_view reason : buildlock::fuzz::documented_reasons()) {
      if (reasons_reached.count(std::string(reason)) == 0) {
        missing += " " + std::string(reason);
      }
    }
    if (!missing.empty()) {
      return fail("no input reaches the reason codes" + missing);
    }
    if (usable == 0 || unusable == 0) {
      return fail("the inputs need both usable and unusable metadata");
    }
  }
  return 0;
}
