// The small codecs of the etcd client: base64, the location URL, the key layout, JSON fields.
#include "etcd/base64.h"
#include "etcd/json_fields.h"
#include "etcd/key_layout.h"
#include "etcd/kv.h"
#include "etcd/location.h"

#include <gtest/gtest.h>

namespace buildlock::etcd {
namespace {

TEST(EtcdBase64, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes) << i;
    bytes += static_cast<char>(i * 37);
  }
  EXPECT_EQ(base64_encode("a"), "YQ==");
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_EQ(base64_encode("abc"), "YWJj");
}

TEST(EtcdBase64, RefusesWhatIsNotBase64) {
  EXPECT_FALSE(base64_decode("YQ="));
  EXPECT_FALSE(base64_decode("Y=Q="));
  EXPECT_FALSE(base64_decode("YQ!="));
}

TEST(EtcdLocation, ParsesEndpointsAndPrefix) {
  auto location = parse_location("etcd://10.0.0.1:2379,etcd-2.ci:2379/ci/locks/");
  ASSERT_TRUE(location) << location.error().message;
  EXPECT_EQ(location->endpoints,
            (std::vector<std::string>{"http://10.0.0.1:2379", "http://etcd-2.ci:2379"}));
  EXPECT_EQ(location->prefix, "/ci/locks");
  auto tls = parse_location("etcds://[::1]:2379/x");
  ASSERT_TRUE(tls) << tls.error().message;
  EXPECT_EQ(tls->endpoints, (std::vector<std::string>{"https://[::1]:2379"}));
}

TEST(EtcdLocation, RefusesWhatIsNotALocation) {
  for (const char* url : {"etcd://h:2379", "etcd://h:2379/", "etcd:///p", "etcd://h/p",
                          "etcd://h:port/p", "etcd://h:1,/p", "etcd://h:1/p\x01"}) {
    auto location = parse_location(url);
    ASSERT_FALSE(location) << url;
    EXPECT_EQ(location.error().kind, ErrorKind::usage);
  }
  EXPECT_TRUE(is_etcd_location("etcds://h:1/p"));
  EXPECT_FALSE(is_etcd_location("/var/lock/etcd://"));
}

TEST(EtcdKeyLayout, NamesAndReadsKeys) {
  EXPECT_EQ(holder_key("/ci", "link", 0x1234), "/ci/link/0000000000001234");
  EXPECT_EQ(lock_name_of("/ci", "/ci/link/0000000000001234"), "link");
  EXPECT_FALSE(lock_name_of("/ci", "/cx/link/1"));
  EXPECT_FALSE(lock_name_of("/ci", "/ci/link"));
  EXPECT_FALSE(lock_name_of("/ci", "/ci/link/1/2"));
  EXPECT_EQ(prefix_end("/ci/a/"), "/ci/a0");
}

TEST(EtcdJsonFields, ReadsIntegersAsStringsAndZeroAsAbsent) {
  const nlohmann::json object = {{"a", "9223372036854775807"}, {"b", 12}, {"c", "x"}};
  EXPECT_EQ(integer_field(object, "a"), INT64_MAX);
  EXPECT_EQ(integer_field(object, "b"), 12);
  EXPECT_EQ(integer_field(object, "c"), 0);
  EXPECT_EQ(integer_field(object, "missing"), 0);
}

} // namespace
} // namespace buildlock::etcd
