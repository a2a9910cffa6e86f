// Specification of Outbox: every client request gets exactly one reply.
#include "master/server/outbox.hpp"

#include <gtest/gtest.h>

#include <map>

#include "common/codec.hpp"

namespace cadre {
namespace {

std::string error_text(const std::string& bytes) {
  auto decoded = decode(bytes);
  if (!decoded || !(*decoded)->envelope().isError()) return "";
  return (*decoded)->envelope().getError().getMessage();
}

TEST(Outbox, AnAnsweredRequestGetsItsAnswerAlone) {
  Outbox out;
  out.open("p", 7);
  out.answer("p", 7, encode_error(7, "fine"));
  auto frames = out.take("unanswered");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0][0], "p");
  EXPECT_EQ(error_text(frames[0][1]), "fine");
  EXPECT_EQ(out.unanswered(), 0u);
}

TEST(Outbox, ARequestLeftOpenIsAnsweredWithTheErrorAtTheEndOfTheTurn) {
  Outbox out;
  out.open("p", 1);
  out.open("q", 2);
  out.answer("q", 2, encode_error(2, "q's answer"));
  auto frames = out.take("could not read it");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1][0], "p");
  EXPECT_EQ(error_text(frames[1][1]), "could not read it");
  EXPECT_EQ(out.unanswered(), 1u);
  EXPECT_TRUE(out.take("again").empty());
}

TEST(Outbox, ADeferredRequestWaitsForItsAnswerAcrossTurns) {
  Outbox out;
  out.open("p", 1);
  out.defer("p", 1);
  EXPECT_TRUE(out.take("x").empty());
  out.answer("p", 1, encode_error(1, "done"));
  auto frames = out.take("x");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(error_text(frames[0][1]), "done");
}

TEST(Outbox, AFailedCommitReplacesEveryAnswerOfTheTurnWithTheError) {
  Outbox out;
  out.open("a", 1);
  out.answer("a", 1, encode_error(1, "accepted"));
  out.send("agent", "ack bytes");
  out.open("b", 2);
  out.defer("b", 2);
  auto frames = out.fail("disk full", "partly done");
  ASSERT_EQ(frames.size(), 2u);  // one per request; the agent's ack is dropped
  for (const Frames& f : frames) EXPECT_EQ(error_text(f[1]), "disk full");
  EXPECT_TRUE(out.take("x").empty());
}

TEST(Outbox, AFailedCommitTellsARequestThatOutlivedACommittedTurnThatPartOfItMayBeDone) {
  Outbox out;
  out.open("slow", 1);
  out.defer("slow", 1);
  out.open("queued", 2);  // waits behind "slow": it cannot tell whether it began
  out.defer("queued", 2);
  EXPECT_TRUE(out.take("x").empty());  // a turn committed: slow's first slice
  out.defer("slow", 1);                // its next slice
  out.open("new", 3);
  out.defer("new", 3);
  auto frames = out.fail("nothing was changed", "part of it may be done");
  ASSERT_EQ(frames.size(), 3u);
  std::map<std::string, std::string> said;
  for (const Frames& f : frames) said[f[0]] = error_text(f[1]);
  EXPECT_EQ(said["slow"], "part of it may be done");
  EXPECT_EQ(said["queued"], "part of it may be done");
  EXPECT_EQ(said["new"], "nothing was changed");
  EXPECT_TRUE(out.take("x").empty());
}

}  // namespace
}  // namespace cadre
