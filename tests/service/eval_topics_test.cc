// `whoknows eval topics` (service/eval_topics.cc) on a real Stack Exchange
// site from ../shared/data and on the mail fixture (no tags).
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "whoknows/base/testing.h"
#include "whoknows/service/eval_topics.h"

namespace whoknows::service {
namespace {

const std::string kAi = std::string(WK_SHARED_DATA_DIR) + "/stackexchange/ai.stackexchange.com";
const std::string kCoffee = std::string(WK_SHARED_DATA_DIR) + "/stackexchange/coffee.stackexchange.com";

TEST(EvalTopicsTest, JsonShapeAndMethods) {
  ASSERT_OK_AND_ASSIGN(TopicsEvalReport r, RunTopicsEval({kAi, kCoffee}, TopicsEvalOptions{}));
  const nlohmann::json j = TopicsEvalReportToJson(r);
  EXPECT_EQ(j["task"], "topics");
  EXPECT_DOUBLE_EQ(j["split_fraction"].get<double>(), 0.8);
  ASSERT_EQ(j["datasets"].size(), 2u);
  size_t n = 0;
  for (const auto& d : j["datasets"]) {
    EXPECT_TRUE(d["path"].is_string());
    EXPECT_GT(d["n"].get<size_t>(), 10u);
    n += d["n"].get<size_t>();
    std::set<std::string> names;
    for (const auto& m : d["methods"]) {
      names.insert(m["method"].get<std::string>());
      for (const char* metric : {"p_at_5", "recall_at_5"}) {
        ASSERT_TRUE(m[metric].is_number()) << metric;
        EXPECT_GE(m[metric].get<double>(), 0.0);
        EXPECT_LE(m[metric].get<double>(), 1.0);
      }
    }
    EXPECT_EQ(names, (std::set<std::string>{"whoknows", "whoknows-no-vocab", "tfidf"}));
  }
  EXPECT_EQ(j["pooled"]["n"].get<size_t>(), n);
  // Pooled = micro-average over threads.
  const auto& pooled = r.pooled.methods;
  double p = 0;
  for (const auto& d : r.datasets) p += d.methods[0].p_at_5 * static_cast<double>(d.n);
  EXPECT_NEAR(pooled[0].p_at_5, p / static_cast<double>(n), 1e-12);
  // The vocabulary of the corpus's tags is what lifts whoknows above tf-idf.
  EXPECT_GT(pooled[0].p_at_5, pooled[2].p_at_5);
  EXPECT_GT(pooled[0].p_at_5, pooled[1].p_at_5);
  EXPECT_FALSE(j.contains("validation"));
}

TEST(EvalTopicsTest, MailWithoutTagsIsAnError) {
  absl::StatusOr<TopicsEvalReport> r =
      RunTopicsEval({std::string(WK_TEST_DATA_DIR) + "/topics/devlist/devlist-1.mbox"}, TopicsEvalOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("tagged"), absl::string_view::npos);
  EXPECT_EQ(RunTopicsEval({"/nonexistent/site"}, TopicsEvalOptions{}).status().code(), absl::StatusCode::kNotFound);
  TopicsEvalOptions bad;
  bad.split_fraction = 1.5;
  EXPECT_EQ(RunTopicsEval({kAi}, bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EvalTopicsTest, ParamsByName) {
  indexer::TopicOptions o;
  EXPECT_OK(SetTopicParam("known_boost", 2, &o));
  EXPECT_DOUBLE_EQ(o.known_boost, 2);
  EXPECT_OK(SetTopicParam("min_df", 4, &o));
  EXPECT_EQ(o.min_df, 4u);
  EXPECT_FALSE(SetTopicParam("nope", 1, &o).ok());
  EXPECT_FALSE(SetTopicParam("known_boost", -1, &o).ok());
}

}  // namespace
}  // namespace whoknows::service
