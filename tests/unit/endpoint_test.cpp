// Specification of common/endpoint and common/main_guard: every address a
// program is given is checked before ZeroMQ sees it, and is refused with a
// one-line message that quotes it, says what is wrong and what is expected;
// an exception nothing caught ends a program with one line and exit 1.
#include "common/endpoint.hpp"

#include <gtest/gtest.h>
#include <kj/debug.h>
#include <kj/exception.h>

#include <new>
#include <stdexcept>
#include <string>

#include "common/escape.hpp"
#include "common/limits.hpp"
#include "common/main_guard.hpp"

namespace cadre {
namespace {

const std::string kExpected = std::string("(") + kEndpointForms + ")";

Endpoint accepted(std::string_view text, EndpointRole role = EndpointRole::connect) {
  auto e = parse_endpoint(text, role);
  EXPECT_TRUE(e.ok()) << text << ": " << (e.ok() ? "" : e.error());
  return e.ok() ? *e : Endpoint{};
}

// The refusal's message, checked for the shape every refusal has: it starts
// with the value quoted, and ends with the forms that are expected.
std::string refused(std::string_view text, EndpointRole role = EndpointRole::connect) {
  auto e = parse_endpoint(text, role);
  if (e.ok()) {
    ADD_FAILURE() << "'" << text << "' was accepted as " << e->to_string();
    return "";
  }
  const std::string& m = e.error();
  EXPECT_TRUE(m.starts_with("'" + escape_control(text.substr(0, 120)))) << m;
  EXPECT_TRUE(m.ends_with(kExpected)) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  return m;
}

bool same(const Endpoint& a, const Endpoint& b) {
  return a.transport == b.transport && a.host == b.host && a.port == b.port && a.path == b.path;
}

TEST(Endpoint, AcceptsTcpHostsAndPorts) {
  Endpoint e = accepted("tcp://127.0.0.1:7700");
  EXPECT_TRUE(e.is_tcp());
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 7700);
  e = accepted("tcp://localhost:1");
  EXPECT_EQ(e.host, "localhost");
  EXPECT_EQ(e.port, 1);
  e = accepted("tcp://node-1.example.org:65535");
  EXPECT_EQ(e.host, "node-1.example.org");
  EXPECT_EQ(e.port, 65535);
}

TEST(Endpoint, AcceptsBracketedIpv6AndKeepsTheHostWithoutBrackets) {
  Endpoint e = accepted("tcp://[::1]:7700");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 7700);
  e = accepted("tcp://[fe80::1]:7700");
  EXPECT_EQ(e.host, "fe80::1");
}

TEST(Endpoint, AcceptsIpcPathsAndAbstractNames) {
  Endpoint e = accepted("ipc:///run/cadre/cadre.sock");
  EXPECT_FALSE(e.is_tcp());
  EXPECT_EQ(e.path, "/run/cadre/cadre.sock");
  e = accepted("ipc://@abstract");
  EXPECT_EQ(e.path, "@abstract");
}

TEST(Endpoint, ABindMayUseAnyInterfaceAndPortZero) {
  Endpoint e = accepted("tcp://*:0", EndpointRole::bind);
  EXPECT_EQ(e.host, "*");
  EXPECT_EQ(e.port, 0);
  e = accepted("tcp://*:7700", EndpointRole::bind);
  EXPECT_EQ(e.port, 7700);
  accepted("tcp://127.0.0.1:0", EndpointRole::bind);
}

TEST(Endpoint, ToStringParsesBackToTheSameEndpoint) {
  for (const char* text : {"tcp://127.0.0.1:7700", "tcp://localhost:1", "tcp://node-1.example.org:65535",
                           "tcp://[::1]:7700", "tcp://[fe80::1]:7700", "ipc:///run/cadre/cadre.sock",
                           "ipc://@abstract"}) {
    Endpoint e = accepted(text);
    EXPECT_EQ(e.to_string(), text);
    auto again = parse_endpoint(e.to_string());
    ASSERT_TRUE(again.ok()) << again.error();
    EXPECT_TRUE(same(*again, e)) << text;
  }
  EXPECT_EQ(accepted("tcp://*:0", EndpointRole::bind).to_string(), "tcp://*:0");
}

TEST(Endpoint, RefusesWhatIsNotAnEndpoint) {
  EXPECT_NE(refused("").find("empty"), std::string::npos);
  EXPECT_NE(refused("garbage").find("no transport"), std::string::npos);
  EXPECT_NE(refused("inproc://x").find("inproc"), std::string::npos);
  EXPECT_NE(refused("pgm://x").find("'pgm' is not one cadre uses"), std::string::npos);
}

TEST(Endpoint, RefusesATcpEndpointWithoutHostOrPort) {
  EXPECT_NE(refused("tcp://").find("no host and port"), std::string::npos);
  EXPECT_NE(refused("tcp://127.0.0.1").find("no port"), std::string::npos);
  EXPECT_NE(refused("tcp://:7700").find("no host"), std::string::npos);
  EXPECT_NE(refused("tcp://127.0.0.1:").find("no port"), std::string::npos);
}

TEST(Endpoint, RefusesPortsOutsideOneTo65535) {
  EXPECT_NE(refused("tcp://127.0.0.1:-5").find("'-5' is not a number from 1 to 65535"), std::string::npos);
  EXPECT_NE(refused("tcp://127.0.0.1:99999").find("'99999' is above 65535"), std::string::npos);
  EXPECT_NE(refused("tcp://127.0.0.1:65536").find("above 65535"), std::string::npos);
  EXPECT_NE(refused("tcp://127.0.0.1:123456").find("above 65535"), std::string::npos);
  EXPECT_NE(refused("tcp://127.0.0.1:99999999999999999999999").find("above 65535"), std::string::npos);
  EXPECT_EQ(cadre::parse_endpoint("tcp://127.0.0.1:007700")->port, 7700);
  EXPECT_NE(refused("tcp://127.0.0.1:0").find("port 0"), std::string::npos);
}

TEST(Endpoint, RefusesAnyInterfaceForAConnect) {
  EXPECT_NE(refused("tcp://*:7700").find("'*' is for listening"), std::string::npos);
}

TEST(Endpoint, RefusesMalformedIpv6) {
  EXPECT_NE(refused("tcp://[::1").find("without its ']'"), std::string::npos);
  EXPECT_NE(refused("tcp://[::1]").find("no port"), std::string::npos);
  EXPECT_NE(refused("tcp://[::1]7700").find("expected ':'"), std::string::npos);
  EXPECT_NE(refused("tcp://[zz]:1").find("'zz' is not an IPv6 address"), std::string::npos);
  EXPECT_NE(refused("tcp://[1.2.3.4]:1").find("not an IPv6 address"), std::string::npos);
  EXPECT_NE(refused("tcp://::1:7700").find("in brackets"), std::string::npos);
}

TEST(Endpoint, RefusesBadHosts) {
  EXPECT_NE(refused("tcp://999.1.1.1:5").find("'999.1.1.1' is not an IPv4 address"), std::string::npos);
  EXPECT_NE(refused("tcp://a..b:5").find("'a..b' is not a host name"), std::string::npos);
  EXPECT_NE(refused("tcp://a/b:5").find("not a host name"), std::string::npos);
  EXPECT_NE(refused("tcp://" + std::string(64, 'a') + ":5").find("not a host name"), std::string::npos);
}

TEST(Endpoint, RefusesASourceAddress) {
  EXPECT_NE(refused("tcp://h:5;x").find("source address"), std::string::npos);
}

TEST(Endpoint, RefusesAnIpcPathTooLongForASocket) {
  EXPECT_NE(refused("ipc://").find("no path"), std::string::npos);
  const std::string longest = "/" + std::string(limits::kMaxIpcPathBytes - 1, 'p');
  ASSERT_EQ(longest.size(), 107u);
  EXPECT_EQ(accepted("ipc://" + longest).path, longest);
  EXPECT_NE(refused("ipc://" + longest + "p").find("the path is 108 bytes"), std::string::npos);
}

TEST(Endpoint, RefusesBlanksAndControlCharactersAndEscapesThem) {
  EXPECT_NE(refused("tcp://a b:5").find("blank"), std::string::npos);
  EXPECT_NE(refused(" tcp://a:5").find("blank"), std::string::npos);
  const std::string newline = refused("tcp://a:5\nx");
  EXPECT_NE(newline.find("'tcp://a:5\\nx'"), std::string::npos) << newline;
  // The message quotes the value escaped, so it does not start with it raw.
  auto e = parse_endpoint("tcp://a\x1b[2J:5");
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.error().starts_with("'tcp://a\\e[2J:5': a blank or control character")) << e.error();
  EXPECT_TRUE(e.error().ends_with(kExpected));
  for (unsigned char c : e.error()) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << int(c);
  e = parse_endpoint(std::string("tcp://a\0:5", 10));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().find("\\x00"), std::string::npos) << e.error();
  for (unsigned char c : e.error()) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << int(c);
}

TEST(Endpoint, AHugeValueGivesAShortMessage) {
  const std::string huge = "tcp://" + std::string(5000 - 6, 'a');
  const std::string m = refused(huge);
  EXPECT_LT(m.size(), 300u) << m;
  EXPECT_NE(m.find("5000 bytes long"), std::string::npos) << m;
  EXPECT_NE(m.find("...'"), std::string::npos) << m;
}

TEST(EndpointList, SplitsOnCommas) {
  auto list = parse_endpoint_list("tcp://a:1,tcp://b:2");
  ASSERT_TRUE(list.ok()) << list.error();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].to_string(), "tcp://a:1");
  EXPECT_EQ((*list)[1].to_string(), "tcp://b:2");
  auto one = parse_endpoint_list("ipc:///run/cadre.sock");
  ASSERT_TRUE(one.ok()) << one.error();
  EXPECT_EQ(one->size(), 1u);
}

TEST(EndpointList, RefusesAnEmptyElementAndSaysWhich) {
  for (auto [text, which] : {std::pair{"tcp://a:1,", "endpoint 2 of the list is empty"},
                             std::pair{",tcp://a:1", "endpoint 1 of the list is empty"},
                             std::pair{"tcp://a:1,,tcp://b:2", "endpoint 2 of the list is empty"},
                             std::pair{"", "empty"}}) {
    auto list = parse_endpoint_list(text);
    ASSERT_FALSE(list.ok()) << text;
    EXPECT_TRUE(list.error().starts_with("'" + std::string(text) + "'")) << list.error();
    EXPECT_NE(list.error().find(which), std::string::npos) << list.error();
    EXPECT_TRUE(list.error().ends_with(kExpected)) << list.error();
  }
}

TEST(EndpointList, NamesTheBadElement) {
  auto list = parse_endpoint_list("tcp://a:1,tcp://b");
  ASSERT_FALSE(list.ok());
  EXPECT_TRUE(list.error().starts_with("'tcp://a:1,tcp://b': endpoint 2 of the list: 'tcp://b': no port"))
      << list.error();
  EXPECT_TRUE(list.error().ends_with(kExpected)) << list.error();
  // A list of one bad endpoint reads as that endpoint's refusal.
  auto single = parse_endpoint_list("tcp://b");
  ASSERT_FALSE(single.ok());
  EXPECT_TRUE(single.error().starts_with("'tcp://b': no port")) << single.error();
}

TEST(EndpointList, TheRoleAppliesToEveryElement) {
  EXPECT_TRUE(parse_endpoint_list("tcp://*:0,ipc://@x", EndpointRole::bind).ok());
  EXPECT_FALSE(parse_endpoint_list("tcp://a:1,tcp://*:7700").ok());
}

TEST(EndpointList, HoldsAtMostSixteen) {
  std::string text;
  for (size_t i = 1; i <= limits::kMaxEndpoints; ++i) text += (i > 1 ? "," : "") + ("tcp://h:" + std::to_string(i));
  auto sixteen = parse_endpoint_list(text);
  ASSERT_TRUE(sixteen.ok()) << sixteen.error();
  EXPECT_EQ(sixteen->size(), limits::kMaxEndpoints);
  auto seventeen = parse_endpoint_list(text + ",tcp://h:17");
  ASSERT_FALSE(seventeen.ok());
  EXPECT_NE(seventeen.error().find("more than 16 endpoints"), std::string::npos) << seventeen.error();
  EXPECT_TRUE(seventeen.error().ends_with(kExpected)) << seventeen.error();
}

TEST(EndpointMaster, IsExactlyOneEndpoint) {
  auto master = parse_master_endpoint("tcp://master:7700");
  ASSERT_TRUE(master.ok()) << master.error();
  EXPECT_EQ(master->to_string(), "tcp://master:7700");
  auto two = parse_master_endpoint("tcp://m1:7700,tcp://m2:7700");
  ASSERT_FALSE(two.ok());
  EXPECT_TRUE(two.error().starts_with("'tcp://m1:7700,tcp://m2:7700': 2 masters listed")) << two.error();
  EXPECT_NE(two.error().find("one master"), std::string::npos) << two.error();
  auto bad = parse_master_endpoint("tcp://*:7700");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("'*' is for listening"), std::string::npos) << bad.error();
}

// Runs guarded_main and returns what it wrote on stderr; `status` gets its result.
template <typename Body>
std::string stderr_of(Body body, int& status) {
  testing::internal::CaptureStderr();
  status = guarded_main("cadre-test", body);
  return testing::internal::GetCapturedStderr();
}

void expect_one_line_naming_the_program(const std::string& err) {
  EXPECT_TRUE(err.starts_with("cadre-test: unexpected error: ")) << err;
  EXPECT_TRUE(err.ends_with("\n")) << err;
  EXPECT_EQ(err.find('\n'), err.size() - 1) << err;
}

TEST(MainGuard, ReturnsTheBodysValue) {
  int status = -1;
  EXPECT_EQ(stderr_of([] { return 0; }, status), "");
  EXPECT_EQ(status, 0);
  EXPECT_EQ(stderr_of([] { return 2; }, status), "");
  EXPECT_EQ(status, 2);
}

TEST(MainGuard, AStandardExceptionEndsWithStatusOneAndOneLine) {
  int status = -1;
  const std::string err = stderr_of([]() -> int { throw std::runtime_error("disk on fire\nsecond line"); }, status);
  EXPECT_EQ(status, 1);
  expect_one_line_naming_the_program(err);
  EXPECT_NE(err.find("disk on fire\\nsecond line"), std::string::npos) << err;
}

TEST(MainGuard, AKjExceptionEndsWithStatusOneAndOneLine) {
  int status = -1;
  std::string err = stderr_of([]() -> int { KJ_FAIL_REQUIRE("bad capnp message"); }, status);
  EXPECT_EQ(status, 1);
  expect_one_line_naming_the_program(err);
  EXPECT_NE(err.find("bad capnp message"), std::string::npos) << err;

  status = -1;
  err = stderr_of(
      []() -> int { throw kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::str("plain kj")); },
      status);
  EXPECT_EQ(status, 1);
  expect_one_line_naming_the_program(err);
  EXPECT_NE(err.find("plain kj"), std::string::npos) << err;
}

TEST(MainGuard, AnythingElseThrownEndsWithStatusOne) {
  int status = -1;
  std::string err = stderr_of([]() -> int { throw 42; }, status);
  EXPECT_EQ(status, 1);
  expect_one_line_naming_the_program(err);
  EXPECT_NE(err.find("an unknown exception"), std::string::npos) << err;

  status = -1;
  err = stderr_of([]() -> int { throw std::bad_alloc(); }, status);
  EXPECT_EQ(status, 1);
  expect_one_line_naming_the_program(err);
  EXPECT_NE(err.find("out of memory"), std::string::npos) << err;
}

}  // namespace
}  // namespace cadre
