#include "etcd/queue.h"

#include <gtest/gtest.h>

namespace buildlock::etcd {
namespace {

using core::LockMode;

QueueEntry entry(std::int64_t revision, LockMode mode, int slots = 0) {
  core::LockMetadata metadata;
  metadata.mode = mode;
  metadata.slots = slots;
  return {"/p/L/" + std::to_string(revision), revision, revision * 10, metadata};
}

QueueEntry unreadable(std::int64_t revision) {
  return {"/p/L/" + std::to_string(revision), revision, revision * 10, std::nullopt};
}

TEST(EtcdQueue, AloneHolds) {
  EXPECT_EQ(decide({entry(5, LockMode::exclusive)}, 5, LockMode::exclusive, 0).state,
            QueueState::holds);
}

TEST(EtcdQueue, ExclusiveWaitsForTheNewestOlderKey) {
  const auto decision = decide({entry(3, LockMode::exclusive), entry(4, LockMode::exclusive),
                                entry(5, LockMode::exclusive), entry(6, LockMode::exclusive)},
                               5, LockMode::exclusive, 0);
  EXPECT_EQ(decision.state, QueueState::waits);
  EXPECT_EQ(decision.blockers, (std::vector<std::size_t>{0, 1}));
  ASSERT_TRUE(decision.watch);
  EXPECT_EQ(*decision.watch, std::size_t{1});
}

TEST(EtcdQueue, NewerKeysNeverBlock) {
  EXPECT_EQ(decide({entry(5, LockMode::exclusive), entry(9, LockMode::exclusive)}, 5,
                   LockMode::exclusive, 0)
                .state,
            QueueState::holds);
}

TEST(EtcdQueue, ReadersShareWithOlderReaders) {
  EXPECT_EQ(decide({entry(3, LockMode::shared), entry(5, LockMode::shared)}, 5, LockMode::shared, 0)
                .state,
            QueueState::holds);
}

TEST(EtcdQueue, ReaderWaitsForAnOlderWriterEvenWithReadersBetween) {
  const auto decision = decide({entry(2, LockMode::shared), entry(3, LockMode::exclusive),
                                entry(4, LockMode::shared), entry(5, LockMode::shared)},
                               5, LockMode::shared, 0);
  EXPECT_EQ(decision.state, QueueState::waits);
  EXPECT_EQ(decision.blockers, (std::vector<std::size_t>{1}));
  EXPECT_EQ(*decision.watch, std::size_t{1});
}

TEST(EtcdQueue, WriterWaitsForOlderReaders) {
  const auto decision = decide({entry(3, LockMode::shared), entry(5, LockMode::exclusive)}, 5,
                               LockMode::exclusive, 0);
  EXPECT_EQ(decision.state, QueueState::waits);
}

TEST(EtcdQueue, UnreadableKeyCountsAsAWriter) {
  const auto decision = decide({unreadable(3), entry(5, LockMode::shared)}, 5, LockMode::shared, 0);
  EXPECT_EQ(decision.state, QueueState::waits);
  EXPECT_EQ(decision.blockers, (std::vector<std::size_t>{0}));
}

TEST(EtcdQueue, SlotsHoldWhileFewerThanNAreOlder) {
  const std::vector<QueueEntry> entries = {
      entry(3, LockMode::slots, 2), entry(4, LockMode::slots, 2), entry(5, LockMode::slots, 2)};
  EXPECT_EQ(decide(entries, 4, LockMode::slots, 2).state, QueueState::holds);
  const auto third = decide(entries, 5, LockMode::slots, 2);
  EXPECT_EQ(third.state, QueueState::waits);
  EXPECT_FALSE(third.watch) << "a slot waiter watches every older key";
  EXPECT_EQ(third.blockers.size(), std::size_t{2});
}

TEST(EtcdQueue, SlotsDoNotMixWithOtherModesOrCounts) {
  EXPECT_EQ(
      decide({entry(3, LockMode::slots, 2), entry(5, LockMode::slots, 3)}, 5, LockMode::slots, 3)
          .state,
      QueueState::conflict);
  EXPECT_EQ(decide({entry(3, LockMode::slots, 2), entry(5, LockMode::exclusive)}, 5,
                   LockMode::exclusive, 0)
                .state,
            QueueState::conflict);
  EXPECT_EQ(
      decide({entry(3, LockMode::exclusive), entry(5, LockMode::slots, 2)}, 5, LockMode::slots, 2)
          .state,
      QueueState::conflict);
}

TEST(EtcdQueue, ANewcomerInAnotherModeDoesNotMakeAnOlderKeyFail) {
  EXPECT_EQ(decide({entry(5, LockMode::exclusive), entry(7, LockMode::slots, 2)}, 5,
                   LockMode::exclusive, 0)
                .state,
            QueueState::holds);
}

} // namespace
} // namespace buildlock::etcd
