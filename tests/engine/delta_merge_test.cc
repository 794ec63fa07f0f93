// MergeDeltaExperts (a writable server's FindExperts over documents ingested
// since the base snapshot) keeps RankExperts' order rule: people with a
// matching document before everyone without one, whatever the scores.

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "whoknows/engine/delta.h"

namespace whoknows::engine {
namespace {

Expert Make(const std::string& id, double score, double vote_raw, const std::string& reason) {
  Expert e;
  e.id = id;
  e.score = score;
  e.components = {{"vote", vote_raw > 0 ? 1.0 : 0.0}, {"ppr", 0}, {"prior", 0}, {"recent", 0}, {"topic", 0},
                  {"contact", 0}, {"vote_raw", vote_raw}, {"ppr_raw", 0}};
  e.reason = reason;
  return e;
}

std::vector<std::string> Ids(const std::vector<Expert>& v) {
  std::vector<std::string> out;
  for (const Expert& e : v) out.push_back(e.id);
  return out;
}

TEST(DeltaMergeTest, PeopleWithAMatchingDocumentStayAboveThoseWithout) {
  // The base as RankExperts orders it: Bea has a matching document, Al and Cy
  // none (higher learned scores). The delta: Dee's new message matches, and so
  // does a new one by Cy.
  const std::vector<Expert> base = {Make("m:bea", 0.3, 2.0, "wrote 1 matching message"),
                                    Make("m:al", 0.9, 0, "no matching document; writes on the question's topics"),
                                    Make("m:cy", 0.8, 0, "no matching document; writes on the question's topics")};
  const std::vector<Expert> delta = {Make("m:dee", 1.0, 1.0, "wrote 1 matching message"),
                                     Make("m:cy", 0.5, 0.5, "wrote 1 matching message")};
  DeltaMerge m;
  m.base_best = m.delta_best = 10;
  std::vector<Expert> out = MergeDeltaExperts(base, delta, m);
  // Scores: Bea 0.3, Dee 1 * 1.0 / 2.0 = 0.5, Cy 0.8 + 0.25; Al keeps 0.9 but has no evidence.
  EXPECT_EQ(Ids(out), (std::vector<std::string>{"m:cy", "m:dee", "m:bea", "m:al"}));
  // Cy's "no matching document" no longer holds.
  EXPECT_EQ(out[0].reason.find("no matching document"), std::string::npos) << out[0].reason;
  EXPECT_NE(out[0].reason.find("wrote 1 matching message"), std::string::npos) << out[0].reason;

  m.evidence_first = false;  // one list by score
  out = MergeDeltaExperts(base, delta, m);
  EXPECT_EQ(Ids(out), (std::vector<std::string>{"m:cy", "m:al", "m:dee", "m:bea"}));
}

TEST(DeltaMergeTest, WeakVotesGoToTheLowerTierAndScoresNeverRiseDownTheList) {
  // Bea's base vote is the best (2.0); the delta brings Dee (1.0: half of it)
  // and Ed (0.1: 5 %, under min_vote_share). Al has no evidence.
  const std::vector<Expert> base = {Make("m:bea", 0.3, 2.0, "wrote 1 matching message"),
                                    Make("m:al", 0.9, 0, "no matching document; writes on the question's topics")};
  const std::vector<Expert> delta = {Make("m:ed", 1.0, 0.1, "wrote 1 matching message"),
                                     Make("m:dee", 1.0, 1.0, "wrote 1 matching message")};
  DeltaMerge m;
  m.base_best = m.delta_best = 10;
  m.min_vote_share = 0.1;
  std::vector<Expert> out = MergeDeltaExperts(base, delta, m);
  // Upper tier: Dee 0.5, Bea 0.3; lower: Al (0.9 capped at 0.3), Ed 0.05.
  EXPECT_EQ(Ids(out), (std::vector<std::string>{"m:dee", "m:bea", "m:al", "m:ed"}));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_DOUBLE_EQ(out[2].score, 0.3);
  EXPECT_DOUBLE_EQ(out[3].score, 0.05);
  for (size_t i = 1; i < out.size(); ++i) EXPECT_LE(out[i].score, out[i - 1].score) << out[i].id;

  // The reasons say so, as RankExperts' do.
  const std::string suffix = "; listed after everyone with more matching evidence (vote at least 10 % of the best)";
  EXPECT_EQ(out[0].reason, "wrote 1 matching message (documents ingested since the last snapshot merge)");
  EXPECT_EQ(out[1].reason, "wrote 1 matching message");
  EXPECT_EQ(out[2].reason, "no matching document; writes on the question's topics" + suffix);
  EXPECT_EQ(out[3].reason, "little matching evidence (vote 5 % of the best); wrote 1 matching message (documents "
                           "ingested since the last snapshot merge)" + suffix);

  m.min_vote_share = 0;  // any vote counts: Ed above Al, whose score is capped at Ed's
  out = MergeDeltaExperts(base, delta, m);
  EXPECT_EQ(Ids(out), (std::vector<std::string>{"m:dee", "m:bea", "m:ed", "m:al"}));
  EXPECT_DOUBLE_EQ(out[3].score, 0.05);
}

TEST(DeltaMergeTest, TheTierWordsFollowTheMergedVotes) {
  // RankExperts' words for a weak vote, for a share of min_vote_share.
  auto suffix = [](int pc) {
    return "; listed after everyone with more matching evidence (vote at least " + std::to_string(pc) +
           " % of the best)";
  };
  auto weak = [](int pc) { return "little matching evidence (vote " + std::to_string(pc) + " % of the best); "; };
  for (const int min_pc : {30, 10}) {
    SCOPED_TRACE(min_pc);
    // The base: Bea's vote is the best, Fay's 5 % of it. The delta: Fay
    // writes more on it, Dee far more than anyone (so RankExperts on the
    // delta wrote Fay's as weak against Dee's).
    const std::vector<Expert> base = {
        Make("m:bea", 0.3, 2.0, "wrote 1 matching message"),
        Make("m:fay", 0.3, 0.1, weak(5) + "wrote 1 matching message" + suffix(min_pc))};
    const std::vector<Expert> delta = {
        Make("m:dee", 5.0, 40.0, "wrote 9 matching messages"),
        Make("m:fay", 0.2, 8.0, weak(20) + "wrote 2 matching messages" + suffix(min_pc))};
    DeltaMerge m;
    m.base_best = m.delta_best = 10;
    m.min_vote_share = min_pc / 100.0;
    const std::vector<Expert> out = MergeDeltaExperts(base, delta, m);
    ASSERT_EQ(Ids(out), (std::vector<std::string>{"m:dee", "m:fay", "m:bea"}));
    EXPECT_EQ(out[0].reason, "wrote 9 matching messages (documents ingested since the last snapshot merge)");
    // Fay's merged vote, 8.1 of Dee's 40 (20 %), is weak at 30 % and strong at 10 %.
    const std::string fay = "wrote 1 matching message; also wrote 2 matching messages (ingested since the last "
                            "snapshot merge)";
    EXPECT_EQ(out[1].reason, min_pc == 30 ? weak(20) + fay + suffix(min_pc) : fay);
    // Bea's vote, the base's best, is 5 % of Dee's.
    EXPECT_EQ(out[2].reason, weak(5) + "wrote 1 matching message" + suffix(min_pc));
  }
}

}  // namespace
}  // namespace whoknows::engine
