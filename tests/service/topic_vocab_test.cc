// One topic vocabulary end to end, on tests/data/topics/vocab/:
//   mllist.mbox            a mail thread (Dan asks, Eve replies) about
//                          training a "neural network", plus an off-topic mail;
//                          indexed first, so the phrase is derived and stored
//                          as "neural-network" before any tag exists.
//   ml.stackexchange.com   a question tagged <neural-networks><overfitting>
//                          (Fay) with an accepted answer (Gus).
// The index then holds two spellings; the backend must serve them as one
// topic everywhere: `topics` listing and lookup, ask filters, profiles.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "whoknows/base/testing.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/pipeline.h"
#include "whoknows/indexer/topics.h"
#include "whoknows/service/api.h"
#include "whoknows/service/backend.h"
#include "whoknows/v1/whoknows.pb.h"

namespace whoknows::service {
namespace {

namespace fs = std::filesystem;

const std::string kDir = std::string(WK_TEST_DATA_DIR) + "/topics/vocab";

class TopicVocabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wk_topic_vocab_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    for (const char* input : {"mllist.mbox", "ml.stackexchange.com"}) {
      ASSERT_OK_AND_ASSIGN(indexer::PipelineResult r,
                           indexer::IndexPaths(dir_ + "/db", {kDir + "/" + input}, indexer::PipelineOptions{}));
      ASSERT_TRUE(r.failed_paths.empty());
    }
    ASSERT_OK_AND_ASSIGN(backend_, Backend::Open(dir_ + "/db", BackendOptions{}));
  }
  void TearDown() override {
    backend_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Experts for a fixed question filtered by `topic`; *matched = documents the filter let through.
  std::set<std::string> Experts(const std::string& topic, uint64_t* matched = nullptr) {
    ExpertsQuery q;
    q.text = "validation loss epochs";
    q.k = 10;
    q.topics = {topic};
    std::set<std::string> ids;
    auto a = backend_->FindExperts(q, Caller{});
    EXPECT_TRUE(a.ok()) << a.status();
    if (a.ok()) {
      for (const ExpertResult& e : a->experts) ids.insert(e.person_id);
      if (matched != nullptr) *matched = a->documents_matched;
    }
    return ids;
  }
  std::string dir_;
  std::unique_ptr<Backend> backend_;
};

TEST_F(TopicVocabTest, IndexHoldsBothSpellings) {
  // The premise: mail derived its own spelling, the tag kept its own.
  ASSERT_OK_AND_ASSIGN(auto reader, indexer::IndexReader::Open(dir_ + "/db"));
  std::set<std::string> spellings;
  ASSERT_OK(reader->ForEachDocument([&](const indexer::StoredDoc& d) {
    for (const std::string& t : d.topics) {
      if (indexer::TopicKey(t) == "neural network") spellings.insert(t);
    }
  }));
  EXPECT_EQ(spellings, (std::set<std::string>{"neural-network", "neural-networks"}));
}

TEST_F(TopicVocabTest, TopicsListsOneTopicWithTheTagSpelling) {
  ASSERT_OK_AND_ASSIGN(std::vector<TopicResult> all, backend_->ListTopics(0, Caller{}));
  std::set<std::string> keys;
  const TopicResult* nn = nullptr;
  for (const TopicResult& t : all) {
    EXPECT_TRUE(keys.insert(indexer::TopicKey(t.topic)).second) << "two entries for " << t.topic;
    if (indexer::TopicKey(t.topic) == "neural network") nn = &t;
  }
  ASSERT_NE(nn, nullptr);
  EXPECT_EQ(nn->topic, "neural-networks");
  EXPECT_EQ(nn->spellings, (std::vector<std::string>{"neural-network", "neural-networks"}));
  EXPECT_EQ(nn->documents, 4u);  // two mails, the question and its answer
  // Strongest first: the accepted answerer, then the mail replier, then the starter; the asker last.
  std::vector<std::string> people;
  for (const auto& [name, s] : nn->top_people) people.push_back(name);
  EXPECT_EQ(people, (std::vector<std::string>{"Gus Hale", "Eve Stone", "Dan Brown"}));
}

TEST_F(TopicVocabTest, LookupAndFiltersTakeAnySpelling) {
  for (const char* spelling : {"neural network", "Neural-Networks", "neural_networks", "neural-network"}) {
    TopicsQuery q;
    q.topics = {spelling};
    ASSERT_OK_AND_ASSIGN(std::vector<TopicResult> found, backend_->FindTopics(q, Caller{}));
    ASSERT_EQ(found.size(), 1u) << spelling;
    EXPECT_EQ(found[0].topic, "neural-networks") << spelling;
  }
  TopicsQuery none;
  none.topics = {"quantum gravity"};
  ASSERT_OK_AND_ASSIGN(std::vector<TopicResult> found, backend_->FindTopics(none, Caller{}));
  EXPECT_TRUE(found.empty());

  // ask --topic: either spelling lets the mails and the Q&A posts through and
  // finds the mail people and the Q&A people.
  uint64_t matched = 0;
  const std::set<std::string> by_phrase = Experts("neural network", &matched);
  EXPECT_EQ(matched, 4u);
  EXPECT_TRUE(by_phrase.contains("mail:eve@lab.example.org"));
  EXPECT_TRUE(by_phrase.contains("se:ml.stackexchange.com:user:21"));
  for (const char* spelling : {"neural-networks", "Neural Networks", "neural-network"}) {
    uint64_t m = 0;
    EXPECT_EQ(Experts(spelling, &m), by_phrase) << spelling;
    EXPECT_EQ(m, 4u) << spelling;
  }
  // A topic only the Q&A has lets only the question and its answer through.
  Experts("overfitting", &matched);
  EXPECT_EQ(matched, 2u);
}

TEST_F(TopicVocabTest, ProfileShowsStrengthRolesAndTrend) {
  ASSERT_OK_AND_ASSIGN(ProfileResult gus, backend_->GetPerson("se:ml.stackexchange.com:user:21", Caller{}));
  ASSERT_FALSE(gus.topics.empty());
  const TopicStrength& t = gus.topics[0];
  EXPECT_TRUE(t.topic == "neural-networks" || t.topic == "overfitting");
  EXPECT_GT(t.strength, 1.0);  // an accepted answer weighs 1.5
  EXPECT_EQ(t.by_role, (std::vector<std::pair<std::string, uint64_t>>{{"answered", 1}}));
  EXPECT_EQ(t.last_active, gus.last_active);
  EXPECT_EQ(t.trend, "steady");
  EXPECT_DOUBLE_EQ(t.share, 1.0);
  ASSERT_OK_AND_ASSIGN(ProfileResult dan, backend_->GetPerson("mail:dan@lab.example.org", Caller{}));
  bool has_nn = false;
  for (const TopicStrength& x : dan.topics) {
    if (x.topic == "neural-networks") {
      has_nn = true;
      EXPECT_EQ(x.by_role, (std::vector<std::pair<std::string, uint64_t>>{{"started", 1}}));
    }
  }
  EXPECT_TRUE(has_nn);
}

TEST_F(TopicVocabTest, ApiLooksTopicsUpAndChecksPeriod) {
  Api api(backend_.get(), nullptr);
  v1::ListTopicsRequest req;
  req.add_topics("neural network");
  req.set_period_days(30);
  v1::ListTopicsResponse resp;
  ASSERT_OK(api.ListTopics(Caller{}, req, &resp));
  ASSERT_EQ(resp.topics_size(), 1);
  EXPECT_EQ(resp.topics(0).topic(), "neural-networks");
  EXPECT_EQ(resp.topics(0).spellings_size(), 2);
  EXPECT_EQ(resp.topics(0).recent(), 4u);
  EXPECT_EQ(resp.topics(0).direction(), "rising");
  req.set_period_days(100000);
  EXPECT_EQ(api.ListTopics(Caller{}, req, &resp).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace whoknows::service
