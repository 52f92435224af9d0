// Long text cut for one-line messages: where the cut falls, what marks it, and that a UTF-8
// character is never split.
#include "core/shortened.h"

#include <gtest/gtest.h>

using namespace buildlock::core;

namespace {

TEST(Shortened, TextWithinTheLimitIsUnchanged) {
  EXPECT_EQ(shortened("", 10), "");
  EXPECT_EQ(shortened("0123456789", 10), "0123456789");
}

TEST(Shortened, LongerTextEndsWithTheMarkerAtTheLimit) {
  EXPECT_EQ(shortened("0123456789A", 10), "0123456...");
  EXPECT_EQ(cut_marker, "...");
  const std::string long_text(2000, 'x');
  EXPECT_EQ(shortened(long_text, 60), std::string(57, 'x') + "...");
}

TEST(Shortened, ALimitShorterThanTheMarkerGivesTheMarkerAlone) {
  EXPECT_EQ(shortened("abcdef", 2), "...");
  EXPECT_EQ(shortened("abcdef", 0), "...");
}

TEST(Shortened, AUtf8CharacterIsNeverCut) {
  // "é" is two bytes (C3 A9), "€" three (E2 82 AC), "😀" four (F0 9F 98 80).
  EXPECT_EQ(shortened("abcdé-tail", 8), "abcd...") << "the cut would split é";
  EXPECT_EQ(shortened("abcdé-tail", 9), "abcdé...");
  EXPECT_EQ(shortened("ab€€€€", 7), "ab...");
  EXPECT_EQ(shortened("ab€€€€", 8), "ab€...");
  EXPECT_EQ(shortened("😀😀😀", 6), "...");
  EXPECT_EQ(shortened("😀😀😀", 7), "😀...");
  EXPECT_EQ(shortened("aé", 2), "...") << "two bytes of three would be cut: marker only";
}

TEST(Shortened, CommandsAreJoinedBySpacesThenShortened) {
  EXPECT_EQ(shortened_command({}, 10), "");
  EXPECT_EQ(shortened_command({"cc", "-c", "a.c"}, 10), "cc -c a.c");
  EXPECT_EQ(shortened_command({"cc", "-c", "a.c", "-o", "a.o"}, 10), "cc -c a...");
  EXPECT_EQ(shortened_command({"cc", std::string(100000, 'I')}, 20),
            "cc " + std::string(14, 'I') + "...");
  EXPECT_EQ(shortened_command({"cc", "-c", "é"}, 8), "cc -c é");
  EXPECT_EQ(shortened_command({"cc", "-c", "ééé"}, 10), "cc -c ...") << "é split by the cut";
  // As long as the limit, exactly: nothing is cut, even with words after an empty one.
  EXPECT_EQ(shortened_command({"0123", "", "5678"}, 10), "0123  5678");
  EXPECT_EQ(shortened_command({"0123", "", "56789"}, 10), "0123  5...");
}

} // namespace
