// The lock file metadata: what serialize_metadata() writes must be read back exactly, and anything
// else a lock file may contain (a crash half-way, another program's file, a future version) must
// be refused with a reason, never a crash or an exception.
#include "core/metadata.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace buildlock::core;
using nlohmann::json;

namespace {

LockMetadata full_metadata() {
  LockMetadata metadata;
  metadata.mode = LockMode::exclusive;
  metadata.pid = 31337;
  metadata.start_time = 123456789012ULL;
  metadata.boot_id = "0f5e7a2c-4b1d-4c33-9a8e-2f6b1d0c9e77";
  metadata.pid_namespace = "pid:[4026531836]";
  metadata.host = "builder-7";
  metadata.user = "dev";
  metadata.uid = 1000;
  metadata.command = {"cmake", "--build", "b", "--", "-j2", "two words", ""};
  metadata.acquired_at = "2026-11-23T10:37:22.123Z";
  return metadata;
}

void expect_same(const LockMetadata& actual, const LockMetadata& expected) {
  EXPECT_EQ(actual.mode, expected.mode);
  EXPECT_EQ(actual.pid, expected.pid);
  EXPECT_EQ(actual.start_time, expected.start_time);
  EXPECT_EQ(actual.boot_id, expected.boot_id);
  EXPECT_EQ(actual.pid_namespace, expected.pid_namespace);
  EXPECT_EQ(actual.host, expected.host);
  EXPECT_EQ(actual.user, expected.user);
  EXPECT_EQ(actual.uid, expected.uid);
  EXPECT_EQ(actual.command, expected.command);
  EXPECT_EQ(actual.acquired_at, expected.acquired_at);
}

// Valid metadata as a JSON document, to be spoiled one field at a time.
json valid_document() {
  return json::parse(serialize_metadata(full_metadata()));
}

// The reason parse_metadata() gives for refusing `text`; fails the test if it is accepted.
std::string refusal(std::string_view text) {
  auto parsed = parse_metadata(text);
  if (parsed) {
    ADD_FAILURE() << "accepted: " << text.substr(0, 200);
    return "";
  }
  EXPECT_FALSE(parsed.error().message.empty());
  EXPECT_EQ(parsed.error().message.find('\n'), std::string::npos) << parsed.error().message;
  return parsed.error().message;
}

std::string refusal_of(const json& document) {
  return refusal(std::string_view(document.dump()));
}

json with(json document, const std::string& field, json value) {
  document[field] = std::move(value);
  return document;
}

json without(json document, const std::string& field) {
  document.erase(field);
  return document;
}

#define EXPECT_CONTAINS(haystack, needle)                                                          \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

} // namespace

// --- Round trip ---------------------------------------------------------------------------------

TEST(Metadata, SerializedMetadataParsesBackUnchanged) {
  auto parsed = parse_metadata(serialize_metadata(full_metadata()));
  ASSERT_TRUE(parsed) << parsed.error().message;
  expect_same(*parsed, full_metadata());
}

TEST(Metadata, AbsentStartTimeAndUidRoundTripAsNull) {
  LockMetadata metadata = full_metadata();
  metadata.start_time.reset();
  metadata.uid.reset();
  metadata.pid_namespace.clear();
  metadata.command.clear();
  const std::string text = serialize_metadata(metadata);
  const json document = json::parse(text);
  EXPECT_TRUE(document.at("start_time").is_null());
  EXPECT_TRUE(document.at("uid").is_null());
  auto parsed = parse_metadata(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  expect_same(*parsed, metadata);
}

TEST(Metadata, SerializedFormIsOneTaggedJsonLine) {
  const std::string text = serialize_metadata(full_metadata());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line, so `cat` shows it whole";
  const json document = json::parse(text);
  EXPECT_EQ(document.at("format"), "buildlock");
  EXPECT_EQ(document.at("version"), 1);
  EXPECT_EQ(document.at("mode"), "exclusive");
  for (const char* field : {"format", "version", "mode", "pid", "start_time", "boot_id",
                            "pid_namespace", "host", "user", "uid", "command", "acquired_at"}) {
    EXPECT_TRUE(document.contains(field)) << field;
  }
  EXPECT_EQ(document.size(), 12U) << document.dump();
}

TEST(Metadata, LargestStartTimeRoundTrips) {
  LockMetadata metadata = full_metadata();
  metadata.start_time = std::numeric_limits<std::uint64_t>::max();
  auto parsed = parse_metadata(serialize_metadata(metadata));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->start_time, metadata.start_time);
}

TEST(Metadata, InvalidUtf8InCommandOrHostIsReplacedNotThrown) {
  LockMetadata metadata = full_metadata();
  metadata.command = {"printf", std::string("caf\xe9\n", 5), std::string("\xff\xfe", 2)};
  metadata.host = std::string("h\xc3", 2);
  std::string text;
  ASSERT_NO_THROW(text = serialize_metadata(metadata));
  auto parsed = parse_metadata(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->command.size(), 3U);
  EXPECT_EQ(parsed->command[0], "printf");
  EXPECT_EQ(parsed->command[1], "caf\xEF\xBF\xBD\n"); // U+FFFD for the stray byte
  EXPECT_NE(parsed->command[2].find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(parsed->pid, metadata.pid);
}

// --- Tolerated variations (forward compatibility) -----------------------------------------------

TEST(Metadata, UnknownExtraFieldsAreIgnored) {
  json document = valid_document();
  document["lease_host_generation"] = 3;
  document["future"] = {{"nested", json::array({1, "two", nullptr})}};
  auto parsed = parse_metadata(document.dump());
  ASSERT_TRUE(parsed) << parsed.error().message;
  expect_same(*parsed, full_metadata());
}

TEST(Metadata, OnlyFormatVersionPidBootIdAndHostAreRequired) {
  const json minimal = {
      {"format", "buildlock"}, {"version", 1}, {"pid", 9}, {"boot_id", "b"}, {"host", "h"}};
  auto parsed = parse_metadata(minimal.dump());
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->pid, 9);
  EXPECT_EQ(parsed->mode, LockMode::exclusive);
  EXPECT_FALSE(parsed->start_time);
  EXPECT_FALSE(parsed->uid);
  EXPECT_TRUE(parsed->command.empty());
  EXPECT_TRUE(parsed->pid_namespace.empty());
}

TEST(Metadata, NullOptionalFieldsAreTreatedAsAbsent) {
  json document = valid_document();
  for (const char* field :
       {"mode", "pid_namespace", "user", "acquired_at", "start_time", "uid", "command"}) {
    document[field] = nullptr;
  }
  auto parsed = parse_metadata(document.dump());
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->mode, LockMode::exclusive);
  EXPECT_FALSE(parsed->start_time);
  EXPECT_TRUE(parsed->command.empty());
}

TEST(Metadata, WhitespaceAroundTheDocumentIsAccepted) {
  auto parsed = parse_metadata("\n  " + valid_document().dump(2) + "\n\n");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->pid, 31337);
}

// --- Refused: not JSON at all -------------------------------------------------------------------

TEST(Metadata, EmptyIsRefused) {
  EXPECT_EQ(refusal(""), "empty");
}

TEST(Metadata, GarbageIsRefused) {
  EXPECT_CONTAINS(refusal("hello"), "not JSON");
  EXPECT_CONTAINS(refusal(std::string("\0\0\0\x7f"
                                      "ELF",
                                      7)),
                  "not JSON");
  EXPECT_CONTAINS(refusal("   "), "not JSON");
  EXPECT_CONTAINS(refusal("{\"format\": \"buildlock\",}"), "not JSON");
}

TEST(Metadata, EveryTruncationOfValidMetadataIsRefused) {
  // What a writer killed half-way would leave (buildlock itself never links a partial file).
  const std::string text = serialize_metadata(full_metadata());
  const std::string document = text.substr(0, text.size() - 1); // without the final newline
  for (std::size_t length = 1; length < document.size(); ++length) {
    auto parsed = parse_metadata(std::string_view(document).substr(0, length));
    EXPECT_FALSE(parsed) << "accepted a prefix of " << length << " bytes";
  }
}

TEST(Metadata, InvalidUtf8InsideTheFileIsRefused) {
  std::string text = valid_document().dump();
  text.replace(text.find("builder-7"), 9, "bu\xff\xfe");
  EXPECT_CONTAINS(refusal(text), "not JSON");
}

TEST(Metadata, JsonThatIsNotAnObjectIsRefused) {
  for (const char* text : {"[1, 2, 3]", "42", "\"buildlock\"", "null", "true"}) {
    EXPECT_EQ(refusal(text), "not a JSON object") << text;
  }
}

TEST(Metadata, DeeplyNestedJsonIsRefusedWithoutBuildingIt) {
  for (std::size_t depth : {64U, 30000U}) {
    const std::string text = "{\"x\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
    EXPECT_CONTAINS(refusal(text), "nested deeper than") << depth;
  }
  // Deep nesting that is not even closed must not take longer or crash either.
  EXPECT_CONTAINS(refusal(std::string(60000, '[')), "nested deeper than");
}

TEST(Metadata, ModestNestingInUnknownFieldsIsAccepted) {
  json document = valid_document();
  document["future"] = json::parse("[[{\"a\": [1]}]]");
  auto parsed = parse_metadata(document.dump());
  EXPECT_TRUE(parsed) << parsed.error().message;
}

TEST(Metadata, MoreThan64KiBIsRefused) {
  const std::string document = valid_document().dump();
  std::string at_limit = document + std::string(max_metadata_bytes - document.size(), ' ');
  ASSERT_EQ(at_limit.size(), 64U * 1024U);
  EXPECT_TRUE(parse_metadata(at_limit)) << "exactly 64 KiB is still read";
  EXPECT_CONTAINS(refusal(at_limit + " "), "larger than 65536 bytes");
}

// --- Refused: JSON, but not buildlock metadata v1 -----------------------------------------------

TEST(Metadata, MissingOrOtherFormatTagIsRefused) {
  EXPECT_CONTAINS(refusal_of(without(valid_document(), "format")), "not buildlock metadata");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "format", "filelock")),
                  "not buildlock metadata");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "format", 1)), "not buildlock metadata");
  EXPECT_CONTAINS(refusal_of(json::object()), "not buildlock metadata");
}

TEST(Metadata, MissingOrMistypedVersionIsRefused) {
  EXPECT_CONTAINS(refusal_of(without(valid_document(), "version")),
                  "field `version` is missing or not an integer");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "version", "1")), "field `version`");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "version", 1.0)), "field `version`");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "version", nullptr)), "field `version`");
}

TEST(Metadata, OtherVersionIsRefusedAndNamed) {
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "version", 3)),
                  "written by protocol version 3");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "version", 0)),
                  "written by protocol version 0");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "version", -1)),
                  "written by protocol version -1");
}

TEST(Metadata, MissingRequiredStringsAreRefused) {
  for (const char* field : {"boot_id", "host"}) {
    EXPECT_CONTAINS(refusal_of(without(valid_document(), field)),
                    std::string("field `") + field + "` is missing or not a string");
    EXPECT_CONTAINS(refusal_of(with(valid_document(), field, 7)), std::string("field `") + field);
    EXPECT_CONTAINS(refusal_of(with(valid_document(), field, nullptr)),
                    std::string("field `") + field);
  }
}

TEST(Metadata, MistypedOptionalStringsAreRefused) {
  for (const char* field : {"mode", "pid_namespace", "user", "acquired_at"}) {
    EXPECT_CONTAINS(refusal_of(with(valid_document(), field, 1)),
                    std::string("field `") + field + "` is not a string");
    EXPECT_CONTAINS(refusal_of(with(valid_document(), field, json::array({"x"}))),
                    std::string("field `") + field);
  }
}

TEST(Metadata, MissingOrMistypedPidIsRefused) {
  EXPECT_CONTAINS(refusal_of(without(valid_document(), "pid")),
                  "field `pid` is missing or not an integer");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "pid", "31337")), "field `pid`");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "pid", 31337.5)), "field `pid`");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "pid", nullptr)), "field `pid`");
}

TEST(Metadata, PidThatIsNotAProcessIdIsRefused) {
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "pid", 0)),
                  "field `pid` is 0, not a process id");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "pid", -1)), "field `pid` is -1");
  // kill(-1, 0) would address every process: such a pid must never reach a probe.
  EXPECT_CONTAINS(
      refusal_of(with(valid_document(), "pid", std::numeric_limits<std::int64_t>::min())),
      "not a process id");
}

TEST(Metadata, NegativeOrMistypedStartTimeIsRefused) {
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "start_time", -1)),
                  "field `start_time` is not a non-negative integer");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "start_time", "123")), "field `start_time`");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "start_time", 1.5)), "field `start_time`");
}

TEST(Metadata, MistypedUidIsRefused) {
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "uid", "1000")),
                  "field `uid` is not an integer");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "uid", 1000.5)), "field `uid`");
}

TEST(Metadata, CommandThatIsNotAListOfStringsIsRefused) {
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "command", "cmake --build b")),
                  "field `command` is not an array");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "command", json::array({"cmake", 1}))),
                  "field `command` holds a non-string");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "command", json::array({"cmake", nullptr}))),
                  "field `command` holds a non-string");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "command", json::array({json::array({"x"})}))),
                  "field `command` holds a non-string");
}

// --- Version 2: shared and slotted holds -------------------------------------------------------

TEST(Metadata, ExclusiveLocksAreStillWrittenAsVersionOne) {
  const json document = json::parse(serialize_metadata(full_metadata()));
  EXPECT_EQ(document.at("version"), 1);
  EXPECT_FALSE(document.contains("slots"));
}

TEST(Metadata, SharedAndSlottedHoldsAreWrittenAsVersionTwoAndRoundTrip) {
  for (auto [mode, slots] : {std::pair{LockMode::shared, 0}, std::pair{LockMode::slots, 3}}) {
    LockMetadata metadata = full_metadata();
    metadata.mode = mode;
    metadata.slots = slots;
    const std::string text = serialize_metadata(metadata);
    const json document = json::parse(text);
    EXPECT_EQ(document.at("version"), 2);
    EXPECT_EQ(document.at("mode"), std::string(mode_name(mode)));
    EXPECT_EQ(document.contains("slots"), mode == LockMode::slots);
    auto parsed = parse_metadata(text);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->mode, mode);
    EXPECT_EQ(parsed->slots, slots);
  }
}

TEST(Metadata, NewModesInVersionOneMetadataAreRefused) {
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "mode", "shared")),
                  "mode `shared` in protocol version 1 metadata");
}

TEST(Metadata, UnknownModeIsRefused) {
  json document = with(valid_document(), "version", 2);
  EXPECT_CONTAINS(refusal_of(with(document, "mode", "sometimes")),
                  "field `mode` is `sometimes`, not exclusive, shared or slots");
}

TEST(Metadata, SlotCountMustBeAnIntegerInRange) {
  json document = with(with(valid_document(), "version", 2), "mode", "slots");
  for (const json& bad : {json(nullptr), json(0), json(-1), json(65), json("2"), json(1.5)}) {
    EXPECT_CONTAINS(refusal_of(with(document, "slots", bad)),
                    "field `slots` is missing or not an integer from 1 to 64");
  }
  EXPECT_CONTAINS(refusal_of(document), "field `slots` is missing");
  auto parsed = parse_metadata(with(document, "slots", 64).dump());
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->slots, 64);
}

// --- Holders without kernel locks (issue 6) ------------------------------------------------------

TEST(Metadata, KernelLockFieldIsWrittenOnlyWhenFalseAndRoundTrips) {
  EXPECT_FALSE(json::parse(serialize_metadata(full_metadata())).contains("kernel_lock"));
  LockMetadata without = full_metadata();
  without.kernel_lock = false;
  const std::string text = serialize_metadata(without);
  EXPECT_EQ(json::parse(text).at("kernel_lock"), false);
  auto parsed = parse_metadata(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_FALSE(parsed->kernel_lock);
  auto absent = parse_metadata(valid_document().dump());
  ASSERT_TRUE(absent);
  EXPECT_TRUE(absent->kernel_lock);
}

TEST(Metadata, KernelLockFieldMustBeABoolean) {
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "kernel_lock", "no")),
                  "field `kernel_lock` is not true or false");
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "kernel_lock", 0)),
                  "field `kernel_lock` is not true or false");
}

TEST(Metadata, PidBeyondInt64IsNamedAsWritten) {
  EXPECT_CONTAINS(refusal_of(with(valid_document(), "pid", 18446744073709551615ULL)),
                  "field `pid` is 18446744073709551615, not a process id");
}

// A link step's command line can be megabytes; its lock must stay readable (and so reclaimable
// at once), so only the start of the command is recorded.
TEST(Metadata, AHugeCommandIsCutSoThatTheMetadataStaysReadable) {
  LockMetadata metadata = full_metadata();
  metadata.command = {"c++", "-o", "app"};
  for (int i = 0; i < 20000; ++i) {
    metadata.command.push_back("object_file_number_" + std::to_string(i) + ".o");
  }
  metadata.command.push_back(std::string(100000, '\x01')); // escaped as \u0001: six bytes each
  const std::string text = serialize_metadata(metadata);
  EXPECT_LT(text.size(), max_metadata_bytes);
  auto parsed = parse_metadata(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_GE(parsed->command.size(), 4U);
  EXPECT_EQ(parsed->command[0], "c++");
  EXPECT_NE(parsed->command.back().find("more arguments)"), std::string::npos)
      << parsed->command.back();

  LockMetadata one_huge_word = full_metadata();
  one_huge_word.command = {"sh", "-c", std::string(200000, '\n')};
  EXPECT_LT(serialize_metadata(one_huge_word).size(), max_metadata_bytes);
  EXPECT_TRUE(parse_metadata(serialize_metadata(one_huge_word)));

  // What was cut is recorded unchanged when read back and written again.
  EXPECT_EQ(serialize_metadata(*parsed), text);
}
