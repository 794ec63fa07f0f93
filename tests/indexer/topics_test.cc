// Topics derived from text (indexer/topics.cc) and stored by the IndexWriter,
// on the mail fixtures in tests/data/topics/devlist/ (list "devlist"):
//   devlist-1.mbox  11 messages, five threads: LAPACK linking on Windows,
//                   the png graphics device, a Sweave vignette, external
//                   pointers and the garbage collector, date parsing. Every
//                   message has greetings, sign-offs, some signatures and the
//                   list footer, and several name the list in their text.
//   devlist-2.mbox  3 later messages: a UTF-8 locale/encoding thread and a
//                   late reply in the LAPACK thread.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "whoknows/base/testing.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/pipeline.h"
#include "whoknows/indexer/topics.h"

namespace whoknows::indexer {
namespace {

namespace fs = std::filesystem;

const std::string kDir = std::string(WK_TEST_DATA_DIR) + "/topics/devlist";

bool Has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

class TopicsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wk_topics_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void Index(const std::string& file) {
    ASSERT_OK_AND_ASSIGN(PipelineResult r, IndexPaths(dir_ + "/db", {kDir + "/" + file}, PipelineOptions{}));
    ASSERT_TRUE(r.failed_paths.empty());
  }
  // Record id -> topics, for every document of the index.
  std::map<std::string, std::vector<std::string>> Topics() {
    std::map<std::string, std::vector<std::string>> out;
    auto reader = IndexReader::Open(dir_ + "/db");
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return out;
    EXPECT_OK((*reader)->ForEachDocument([&](const StoredDoc& d) { out[d.id] = d.topics; }));
    return out;
  }
  std::string dir_;
};

TEST(TopicKeyTest, TagAndPhraseAreOneTopic) {
  TopicExtractor ex;
  EXPECT_EQ(ex.Key("neural-networks"), "neural network");
  EXPECT_EQ(ex.Key("Neural network"), ex.Key("neural-networks"));
  EXPECT_EQ(ex.Key("graphics devices"), ex.Key("graphics-device"));
  EXPECT_NE(ex.Key("graphics"), ex.Key("graphics-device"));
  EXPECT_EQ(ex.Key("c++"), "c++");
  EXPECT_EQ(ex.Key(" -- "), "");

  TopicVocabulary v;
  EXPECT_EQ(v.Add("neural-networks", /*tag=*/true), "neural-networks");
  // A derived phrase with the same key takes the tag's spelling.
  EXPECT_EQ(v.Add("neural-network", /*tag=*/false), "neural-networks");
  EXPECT_EQ(v.Add("Neural Networks", /*tag=*/false), "neural-networks");
  EXPECT_EQ(v.size(), 1u);
  ASSERT_NE(v.Find("neural network"), nullptr);
  EXPECT_EQ(v.Find("neural network")->display, "neural-networks");
  EXPECT_TRUE(v.Find("neural network")->established());
  EXPECT_EQ(v.Find("neural"), nullptr);
  // A derived topic is established only after several documents.
  v.Add("graphics-device", /*tag=*/false);
  EXPECT_FALSE(v.Find("graphic devic")->established());
  v.Add("graphics-devices", /*tag=*/false, TopicVocabulary::kEstablishedDocs);
  EXPECT_TRUE(v.Find("graphic devic")->established());
  EXPECT_EQ(v.Find("graphic devic")->display, "graphics-device");
}

TEST(TopicExtractTest, PhraseUnifiesWithVocabularyTag) {
  // A corpus where "neural" and "network" are moderately common.
  std::map<std::string, uint64_t> df = {{"neural", 20}, {"network", 30}, {"networks", 25}, {"training", 40},
                                        {"weights", 15}, {"layer", 12}, {"layers", 12}};
  DocFreqSource f;
  f.num_docs = 1000;
  f.df = [&](std::string_view w) -> uint64_t {
    auto it = df.find(std::string(w));
    return it == df.end() ? 0 : it->second;
  };
  TopicVocabulary vocab;
  vocab.Add("neural-networks", /*tag=*/true);
  TopicExtractor ex;
  auto topics = ex.Extract("Training neural networks", "How do the layers of a neural network share weights? "
                           "My neural network has three layers; training the weights of each layer is slow.",
                           f, &vocab, {});
  ASSERT_FALSE(topics.empty());
  std::vector<std::string> shown;
  for (const auto& t : topics) shown.push_back(t.display);
  EXPECT_EQ(topics[0].display, "neural-networks") << testing::PrintToString(shown);
  // The words of the chosen phrase are not repeated as topics of their own.
  EXPECT_FALSE(Has(shown, "neural")) << testing::PrintToString(shown);
  EXPECT_FALSE(Has(shown, "network")) << testing::PrintToString(shown);
  EXPECT_TRUE(Has(shown, "layers") || Has(shown, "layer")) << testing::PrintToString(shown);
}

TEST(TopicExtractTest, ShortMessageGetsItsSubjectNotCountsOrGenericVerbs) {
  // One line in a corpus where every word is moderately rare: only the
  // words that name a subject are topics.
  DocFreqSource f;
  f.num_docs = 1000;
  f.df = [](std::string_view) -> uint64_t { return 5; };
  TopicExtractor ex;
  auto topics = ex.Extract("", "Calibrating the burr grinder takes two passes.", f, nullptr, {});
  std::vector<std::string> shown;
  for (const auto& t : topics) shown.push_back(t.display);
  EXPECT_TRUE(Has(shown, "grinder")) << testing::PrintToString(shown);
  EXPECT_FALSE(Has(shown, "two")) << testing::PrintToString(shown);
  EXPECT_FALSE(Has(shown, "passes")) << testing::PrintToString(shown);
}

TEST(TopicExtractTest, GreetingAndSignOffAreNotRead) {
  EXPECT_EQ(StripGreetingAndSignOff("Hi Bob,\n\nThe lapack build fails.\n\nThanks a lot,\nAnn Lee\nSpringfield\n"),
            "\nThe lapack build fails.\n\n");
  EXPECT_EQ(StripGreetingAndSignOff("The png device.\n-------------- next part --------------\n"
                                    "An embedded and charset-unspecified text was scrubbed...\nName: x.R\n"),
            "The png device.\n");
  // A "thanks" far from the end is text, not a sign-off.
  const std::string body = "Thanks for the patch.\nIt fixes the build of the LAPACK sources on every platform we "
                           "test, including the old compilers that we still need to support.\n";
  EXPECT_EQ(StripGreetingAndSignOff(body), body);
  // A signature without a sign-off word or "-- ": the author's name, then an affiliation.
  const std::string signed_body = "The lapack build fails on Windows.\n\nMartin Maechler,\nETH Zurich\n";
  const std::vector<std::string> author = {TopicKey("Martin"), TopicKey("Maechler")};
  EXPECT_EQ(StripGreetingAndSignOff(signed_body, author), "The lapack build fails on Windows.\n\n");
  EXPECT_EQ(StripGreetingAndSignOff("The build fails.\n--\nMartin Maechler, ETH Zurich\n", author),
            "The build fails.\n--\n");
  EXPECT_EQ(StripGreetingAndSignOff(signed_body), signed_body);  // whose name it is must be known
  // The author's name far from the end is text.
  const std::string named = "Maechler's patch fixes the build of the LAPACK sources on every platform we test, "
                            "including the old compilers that we still need to support.\n";
  EXPECT_EQ(StripGreetingAndSignOff(named, author), named);
}

TEST_F(TopicsTest, MailThreadsGetTheirSubjectsNotBoilerplate) {
  Index("devlist-1.mbox");
  const auto topics = Topics();
  ASSERT_EQ(topics.size(), 11u);
  auto of = [&](const std::string& mid) { return topics.at("mbox:devlist:" + mid); };
  // Each thread's first message names its subject.
  EXPECT_TRUE(Has(of("a1@x"), "lapack")) << testing::PrintToString(of("a1@x"));
  EXPECT_TRUE(Has(of("b1@x"), "graphics-device") || Has(of("b1@x"), "cairo")) << testing::PrintToString(of("b1@x"));
  EXPECT_TRUE(Has(of("c1@x"), "sweave") || Has(of("c1@x"), "vignette")) << testing::PrintToString(of("c1@x"));
  EXPECT_TRUE(Has(of("d1@x"), "external-pointers") || Has(of("d1@x"), "finalizer"))
      << testing::PrintToString(of("d1@x"));
  // Replies too.
  EXPECT_TRUE(Has(of("a2@x"), "lapack")) << testing::PrintToString(of("a2@x"));
  // Never the list name, greetings, sign-offs, signatures, footers or authors.
  const std::set<std::string> banned = {"devlist", "hi", "hello", "thanks", "regards", "cheers", "best", "list",
                                        "springfield", "university", "department", "analytics", "listinfo",
                                        "mailing", "ann", "bob", "carl", "dora", "erik", "lee", "stone"};
  for (const auto& [id, ts] : topics) {
    EXPECT_FALSE(ts.empty()) << id;
    for (const std::string& t : ts) {
      EXPECT_FALSE(banned.contains(t)) << id << ": " << t;
      EXPECT_EQ(t.find("devlist"), std::string::npos) << id << ": " << t;
    }
  }
}

TEST_F(TopicsTest, IncrementalIndexKeepsOldTopicsAndAddsNew) {
  Index("devlist-1.mbox");
  const auto before = Topics();
  Index("devlist-1.mbox");  // re-running adds nothing and changes nothing
  EXPECT_EQ(Topics(), before);
  Index("devlist-2.mbox");
  const auto after = Topics();
  ASSERT_EQ(after.size(), before.size() + 3);
  for (const auto& [id, ts] : before) EXPECT_EQ(after.at(id), ts) << id;
  const auto& f1 = after.at("mbox:devlist:f1@x");
  EXPECT_TRUE(Has(f1, "encoding") || Has(f1, "locale")) << testing::PrintToString(f1);
  // The late LAPACK reply joins the existing topic.
  EXPECT_TRUE(Has(after.at("mbox:devlist:a4@x"), "lapack")) << testing::PrintToString(after.at("mbox:devlist:a4@x"));
  // The stored T terms serve the --topic filter.
  auto reader = IndexReader::Open(dir_ + "/db");
  ASSERT_TRUE(reader.ok()) << reader.status();
  SearchFilter filter;
  filter.topics = {"lapack"};
  ASSERT_OK_AND_ASSIGN(std::vector<SearchHit> hits, (*reader)->Search("windows library", filter, 50));
  EXPECT_GE(hits.size(), 2u);
  for (const SearchHit& h : hits) {
    ASSERT_OK_AND_ASSIGN(DocText d, (*reader)->GetDoc(h.docid));
    EXPECT_TRUE(Has(after.at(d.id), "lapack")) << d.id;
  }
}

TEST_F(TopicsTest, DerivationCanBeTurnedOff) {
  PipelineOptions o;
  o.index.derive_topics = false;
  ASSERT_OK_AND_ASSIGN(PipelineResult r, IndexPaths(dir_ + "/db", {kDir + "/devlist-1.mbox"}, o));
  (void)r;
  for (const auto& [id, ts] : Topics()) EXPECT_TRUE(ts.empty()) << id;
}

}  // namespace
}  // namespace whoknows::indexer
