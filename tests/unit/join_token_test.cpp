// Specification of common/join_token: the word enroll-agent prints and join reads.
#include "common/join_token.hpp"

#include <gtest/gtest.h>

#include "common/curve_keys.hpp"

namespace cadre {
namespace {

JoinToken sample() {
  auto master = generate_curve_keypair();
  auto node = generate_curve_keypair();
  EXPECT_TRUE(master.ok() && node.ok());
  return {"tcp://head.example.org:7700", master->public_key, "node9", node->secret_key};
}

TEST(JoinToken, RoundTripsAsOneShellSafeWord) {
  const JoinToken t = sample();
  const std::string word = encode_join_token(t);
  EXPECT_TRUE(word.starts_with("cadre1:"));
  EXPECT_EQ(word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:"),
            std::string::npos);
  auto back = decode_join_token(word);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->endpoint, t.endpoint);
  EXPECT_EQ(back->master_public, t.master_public);
  EXPECT_EQ(back->name, t.name);
  EXPECT_EQ(back->node_secret, t.node_secret);
}

TEST(JoinToken, EveryChangedCharacterIsRefused) {
  const std::string word = encode_join_token(sample());
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 7; i < word.size(); ++i) {
    std::string bad = word;
    bad[i] = alphabet[(alphabet.find(bad[i]) + 17) % alphabet.size()];
    EXPECT_FALSE(decode_join_token(bad).ok()) << "changed at " << i;
  }
}

TEST(JoinToken, CutOrPaddedTokensAreRefused) {
  const std::string word = encode_join_token(sample());
  for (size_t keep : {word.size() - 1, word.size() - 2, word.size() - 10, size_t{7}, size_t{0}})
    EXPECT_FALSE(decode_join_token(word.substr(0, keep)).ok()) << keep;
  EXPECT_FALSE(decode_join_token(word + "=").ok());
  EXPECT_FALSE(decode_join_token(word + " ").ok());
}

TEST(JoinToken, ErrorsSayWhatIsWrong) {
  auto e = decode_join_token("cadre2:abc");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().find("does not start with 'cadre1:'"), std::string::npos) << e.error();
  e = decode_join_token("cadre1:ab*c");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().find("'*'"), std::string::npos) << e.error();
  std::string word = encode_join_token(sample());
  word[word.size() / 2] = word[word.size() / 2] == 'A' ? 'B' : 'A';
  e = decode_join_token(word);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().find("check does not match"), std::string::npos) << e.error();
}

TEST(JoinToken, FieldsAreChecked) {
  JoinToken t = sample();
  t.endpoint = "ipc:///run/cadre.sock";
  EXPECT_FALSE(decode_join_token(encode_join_token(t)).ok());
  t = sample();
  t.name = "node 9";
  EXPECT_FALSE(decode_join_token(encode_join_token(t)).ok());
  t = sample();
  t.node_secret = "short";
  EXPECT_FALSE(decode_join_token(encode_join_token(t)).ok());
  t = sample();
  t.master_public = std::string(40, 'A') + "\nextra=1";
  EXPECT_FALSE(decode_join_token(encode_join_token(t)).ok());
}

}  // namespace
}  // namespace cadre
