// etcd/keeper.cpp: what a holder tells its lease keeper when it attaches it. The keeper follows
// the holder's schedule from the send time of the holder's last successful renewal (or grant):
// told "now" instead, it would count its jeopardy late, by as much as the holder waited since.
#include "etcd/hold.h"
#include "etcd/keeper.h"
#include "etcd/location.h"

#include <gtest/gtest.h>
#include <string>
#include <unistd.h>

namespace buildlock::etcd {
namespace {

TEST(EtcdKeeper, IsToldTheHoldersLastRenewalNotTheTimeOfAttaching) {
  int ends[2] = {-1, -1};
  ASSERT_EQ(::pipe(ends), 0);
  {
    // Nothing listens on port 1: the hold's release at the end of the scope fails at once.
    auto location = parse_location("etcd://127.0.0.1:1/ci");
    ASSERT_TRUE(location);
    EtcdHold hold(std::make_unique<Client>(std::move(*location)), Lease{42, 3});
    hold.set_key("/ci/L/000000000000002a", 7);
    hold.set_last_renewal_sent(std::chrono::nanoseconds(12345));
    attach_keeper(hold, os::Fd(ends[1]));
  }
  std::string told;
  char buffer[256];
  ssize_t n = 0;
  while ((n = ::read(ends[0], buffer, sizeof buffer)) > 0) {
    told.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(ends[0]);
  EXPECT_EQ(told.substr(0, told.find('\n')), "hold 42 3 7 12345 /ci/L/000000000000002a") << told;
}

} // namespace
} // namespace buildlock::etcd
