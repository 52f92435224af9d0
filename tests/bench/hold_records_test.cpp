// The arithmetic behind the shared and slotted figures, on hand-made records (milliseconds).
#include "hold_records.h"

#include <gtest/gtest.h>

namespace buildlock::bench {
namespace {

HoldRecord hold(long worker, std::int64_t start_ms, std::int64_t end_ms) {
  return {worker, start_ms * 1'000'000, end_ms * 1'000'000};
}

TEST(HoldRecords, OverlappingHoldsCountTogether) {
  EXPECT_EQ(peak_holders({hold(0, 0, 10), hold(1, 5, 15), hold(2, 6, 7)}), 3);
}

TEST(HoldRecords, AHoldStartingAsAnotherEndsIsNoOverlap) {
  EXPECT_EQ(peak_holders({hold(0, 0, 10), hold(1, 10, 20), hold(2, 20, 30)}), 1);
}

TEST(HoldRecords, MeanHoldersIsHeldTimeOverTheSpan) {
  EXPECT_DOUBLE_EQ(mean_holders({hold(0, 0, 10), hold(1, 0, 10)}), 2.0);
  EXPECT_DOUBLE_EQ(mean_holders({hold(0, 0, 10), hold(1, 10, 20)}), 1.0);
  EXPECT_DOUBLE_EQ(mean_holders({hold(0, 0, 10), hold(1, 30, 40)}), 0.5);
}

TEST(HoldRecords, OneSlotIsRefilledByTheNextStart) {
  EXPECT_EQ(refill_gaps_ms({hold(0, 0, 10), hold(1, 12, 22), hold(2, 23, 33)}, 1),
            (std::vector<double>{2.0, 1.0}));
}

TEST(HoldRecords, TheKthReleaseIsRefilledByTheStartSlotsLater) {
  // Slots 2: the release at 10 is refilled by the third start (11), the one at 20 by the fourth.
  EXPECT_EQ(refill_gaps_ms({hold(0, 0, 10), hold(1, 0, 20), hold(2, 11, 30), hold(3, 21, 40)}, 2),
            (std::vector<double>{1.0, 1.0}));
}

TEST(HoldRecords, AReleaseNobodyElseWaitedForIsNoRefill) {
  // Only the releaser comes back: its own start-up is not a slot left empty.
  EXPECT_TRUE(refill_gaps_ms({hold(0, 0, 10), hold(0, 15, 25)}, 1).empty());
  // The other worker still holds its slot when worker 0 lets go: nobody waits for the free one.
  EXPECT_TRUE(refill_gaps_ms({hold(0, 0, 10), hold(1, 0, 20), hold(0, 12, 30)}, 2).empty());
}

} // namespace
} // namespace buildlock::bench
