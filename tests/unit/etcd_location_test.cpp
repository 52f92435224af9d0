// Finding 8 of issue 21: what is an etcd location, what is a typo of one (a usage error, never a
// local directory), and which keys of a range belong to a lock (etcd/location.h,
// etcd/key_layout.h).
#include "etcd/key_layout.h"
#include "etcd/location.h"

#include <gtest/gtest.h>

namespace buildlock::etcd {
namespace {

TEST(EtcdMistypedLocation, TyposOfALocationAreNotDirectories) {
  for (const char* dir :
       {"ETCD://127.0.0.1:2379/ci", "Etcds://h:1/p", "etcd:/127.0.0.1:2379/ci",
        "etcd:127.0.0.1:2379/ci", "etcds:/h:1/p", " etcd://127.0.0.1:2379/ci", "\tetcds://h:1/p",
        "http://127.0.0.1:2379/ci", "https://h:1/p", "grpc+tls://h:1/p"}) {
    const auto typo = mistyped_location(dir);
    ASSERT_TRUE(typo) << dir;
    EXPECT_NE(typo->find("etcd://HOST:PORT"), std::string::npos) << *typo;
  }
  EXPECT_NE(mistyped_location(" etcd://h:1/p")->find("starts with a blank"), std::string::npos);
}

TEST(EtcdMistypedLocation, DirectoriesAndLocationsPass) {
  for (const char* dir :
       {"/var/lock/buildlock", "locks", "C:/locks", "C:\\locks", "./etcd:x", "etcd", "etcdlocks/a",
        "/srv/http://x", "etcd://h:1/p", "etcds://h:1/p", "a:b"}) {
    EXPECT_FALSE(mistyped_location(dir)) << dir << ": " << *mistyped_location(dir);
  }
}

TEST(EtcdLocation, RefusesBadHostsPortsAndPrefixes) {
  for (const char* url :
       {"etcd://::1:2379/ci", "etcd://fe80::1/ci", "etcd://127.0.0.1:99999/ci",
        "etcd://127.0.0.1:65536/ci", "etcd://127.0.0.1:0/ci", "etcd://127.0.0.1:2379/ci?x=1",
        "etcd://127.0.0.1:2379/ci#x", "etcd://[::1/ci", "etcd://h[1]:1/ci", "etcd://h h:1/ci"}) {
    auto location = parse_location(url);
    ASSERT_FALSE(location) << url;
    EXPECT_EQ(location.error().kind, ErrorKind::usage) << url;
  }
  EXPECT_NE(parse_location("etcd://::1:2379/ci").error().message.find("brackets"),
            std::string::npos);
  for (const char* url : {"etcd://[::1]:2379/ci", "etcd://h:65535/ci", "etcd://h:1/ci/a-b_c.d"}) {
    EXPECT_TRUE(parse_location(url)) << url;
  }
}

// Prefix /ci with lock L and prefix /ci/L share the range /ci/L/: the keys of /ci/L's locks are
// never holders of /ci's lock L, nor the reverse.
TEST(EtcdKeyLayout, NestedPrefixesDoNotShareALock) {
  EXPECT_TRUE(is_holder_key("/ci", "L", "/ci/L/00000000000000ab"));
  EXPECT_FALSE(is_holder_key("/ci", "L", "/ci/L/X/00000000000000ab"));
  EXPECT_FALSE(is_holder_key("/ci", "L", "/ci/L/00000000000000AB"));
  EXPECT_FALSE(is_holder_key("/ci", "L", "/ci/L/00000000000000ab0"));
  EXPECT_FALSE(is_holder_key("/ci", "L", "/ci/L/"));
  EXPECT_FALSE(is_holder_key("/ci/L", "X", "/ci/L/00000000000000ab"));
  EXPECT_FALSE(lock_name_of("/ci", "/ci/L/X/00000000000000ab"));
  EXPECT_FALSE(lock_name_of("/ci", "/ci/L/not-a-lease"));
  EXPECT_EQ(lock_name_of("/ci/L", "/ci/L/X/00000000000000ab"), "X");
}

} // namespace
} // namespace buildlock::etcd
