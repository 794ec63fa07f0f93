#include "whoknows/engine/connect.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "fixtures.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/engine/profile.h"

namespace whoknows::engine {
namespace {

using indexer::RecordKind;
using testing::Corpus;
using testing::kDay;
using testing::kT0;

// A mail-like corpus: root messages and replies in threads.
//   ann <-> ben (reply), ben <-> cat (reply), cat <-> dan (reply),
//   ann and eve share a thread, eve <-> fay (reply), opt (opted out) <-> ben,
//   hid <-> ben only in internal mail; gus talks about "gpu" in another community.
class ConnectTest : public ::testing::Test {
 protected:
  void Mail(const std::string& id, const std::string& author, const std::string& thread, const std::string& parent,
            std::vector<std::string> topics, const std::string& vis = "public", const std::string& community = "r-devel",
            int64_t ts = kT0) {
    c_.Add(RecordKind::kMail, id, author, ts, thread, parent, std::move(topics), vis, false, {}, community);
  }
  void SetUp() override {
    for (const char* p : {"ann", "ben", "cat", "dan", "eve", "fay", "gus", "hid"}) c_.Person(p, absl::StrCat("Name-", p));
    c_.Person("opt", "Opted", /*opted_out=*/true);
    Mail("m1", "ann", "m1", "", {"packages"});
    Mail("m2", "ben", "m1", "m1", {"packages"});
    Mail("m3", "ben", "m3", "", {"gpu"});
    Mail("m4", "cat", "m3", "m3", {"gpu"}, "public", "r-help");
    Mail("m5", "cat", "m5", "", {"gpu"}, "public", "r-help");
    Mail("m6", "dan", "m5", "m5", {"gpu"}, "public", "r-help");
    Mail("m7", "ann", "m7", "", {"graphics"});
    Mail("m8", "eve", "m7", "", {"graphics"});  // same thread, no reply_to
    Mail("m9", "eve", "m9", "", {"graphics"});
    Mail("m10", "fay", "m9", "m9", {"graphics"});
    Mail("m11", "opt", "m3", "m3", {"gpu"});
    Mail("m12", "hid", "m12", "", {"secret"}, "internal");
    Mail("m13", "ben", "m12", "m12", {"secret"}, "internal");
    Mail("m14", "gus", "m14", "", {"gpu"}, "public", "bioc");
    ASSERT_OK_AND_ASSIGN(snap_, BuildSnapshot(c_.docs, c_.persons));
    const std::vector<std::string> pub = {"public"};
    public_ = snap_->GroupMask(pub);
  }
  std::vector<std::string> Names(const std::vector<uint32_t>& ps) {
    std::vector<std::string> out;
    for (uint32_t p : ps) out.push_back(snap_->person(p).id);
    std::sort(out.begin(), out.end());
    return out;
  }
  Corpus c_;
  std::shared_ptr<const Snapshot> snap_;
  GroupBits public_ = 0;
};

TEST_F(ConnectTest, ContactsRespectVisibility) {
  const uint32_t ben = snap_->FindPerson("ben");
  EXPECT_EQ(Names(ContactsOf(*snap_, ben, kAllGroups)), std::vector<std::string>({"ann", "cat", "hid", "opt"}));
  EXPECT_EQ(Names(ContactsOf(*snap_, ben, public_)), std::vector<std::string>({"ann", "cat", "opt"}));
  EXPECT_EQ(Names(ContactsOf(*snap_, snap_->FindPerson("ann"), public_)), std::vector<std::string>({"ben", "eve"}));
  EXPECT_TRUE(ContactsOf(*snap_, kNone, public_).empty());
  const uint32_t ann = snap_->FindPerson("ann"), cat = snap_->FindPerson("cat");
  EXPECT_EQ(CommonNeighbors(*snap_, ann, cat, public_), 1.0);  // ben
  // ben's public degree is 3 (ann, cat, opt).
  EXPECT_NEAR(AdamicAdar(*snap_, ann, cat, public_), 1.0 / std::log(3.0), 1e-12);
  EXPECT_NEAR(AdamicAdar(*snap_, ann, cat, kAllGroups), 1.0 / std::log(4.0), 1e-12);
}

TEST_F(ConnectTest, SuggestsFriendsOfFriendsWithReasons) {
  ConnectOptions o;
  o.group_mask = public_;
  ASSERT_OK_AND_ASSIGN(auto out, SuggestConnections(*snap_, "ann", {}, o));
  ASSERT_FALSE(out.empty());
  std::set<std::string> ids;
  for (const Connection& c : out) ids.insert(c.id);
  for (const char* never : {"ann", "ben", "eve", "opt", "hid"}) EXPECT_EQ(ids.count(never), 0u) << never;
  EXPECT_TRUE(ids.count("cat"));
  EXPECT_TRUE(ids.count("fay"));
  for (const Connection& c : out) {
    if (c.id == "cat") {
      EXPECT_EQ(c.mutual_contacts, std::vector<std::string>({"Name-ben"}));
      EXPECT_NE(c.reason.find("1 mutual contact (Name-ben)"), std::string::npos) << c.reason;
      EXPECT_EQ(c.communities_bridged, std::vector<std::string>({"r-help"}));
    }
    if (c.id == "fay") {
      EXPECT_EQ(c.shared_topics, std::vector<std::string>({"graphics"}));
    }
    EXPECT_GT(c.score, 0);
  }
  // The about text pulls in gus (gpu), who is not reachable in the graph.
  const uint32_t m14 = 14;
  const std::vector<indexer::SearchHit> about = {{m14, 3.0}};
  ASSERT_OK_AND_ASSIGN(auto with_about, SuggestConnections(*snap_, "ann", about, o));
  bool has_gus = false;
  for (const Connection& c : with_about) has_gus |= c.id == "gus";
  EXPECT_TRUE(has_gus);
  EXPECT_EQ(SuggestConnections(*snap_, "nobody", {}, o).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ConnectTest, HiddenContactsDoNotLeak) {
  ConnectOptions o;
  o.group_mask = public_;
  // hid is only connected through internal mail: never suggested to a public caller.
  for (const char* who : {"ann", "cat", "dan", "ben"}) {
    ASSERT_OK_AND_ASSIGN(auto out, SuggestConnections(*snap_, who, {}, o));
    for (const Connection& c : out) {
      EXPECT_NE(c.id, "hid");
      for (const std::string& t : c.shared_topics) EXPECT_NE(t, "secret");
    }
  }
  o.method = ConnectMethod::kAdamicAdar;
  ASSERT_OK_AND_ASSIGN(auto aa, SuggestConnections(*snap_, "ann", {}, o));
  ASSERT_FALSE(aa.empty());
  for (const Connection& c : aa) EXPECT_NE(c.id, "hid");
  o.group_mask = kAllGroups;
  ASSERT_OK_AND_ASSIGN(auto aa_all, SuggestConnections(*snap_, "ann", {}, o));
  bool has_hid = false;
  for (const Connection& c : aa_all) has_hid |= c.id == "hid";
  EXPECT_TRUE(has_hid);
  o.method = ConnectMethod::kCommonNeighbors;
  ASSERT_OK_AND_ASSIGN(auto cn, SuggestConnections(*snap_, "ann", {}, o));
  ASSERT_FALSE(cn.empty());
}

TEST_F(ConnectTest, ProfileAndTopicStats) {
  ProfileOptions po;
  po.group_mask = public_;
  ASSERT_OK_AND_ASSIGN(PersonProfile ben, ProfileOf(*snap_, "ben", po));
  EXPECT_EQ(ben.docs, 2u);  // m13 is internal
  EXPECT_EQ(ben.activity_per_year, (std::vector<std::pair<int, uint32_t>>{{2016, 2}}));
  std::vector<std::string> contacts;
  for (const auto& [id, w] : ben.contacts) contacts.push_back(id);
  std::sort(contacts.begin(), contacts.end());
  EXPECT_EQ(contacts, std::vector<std::string>({"ann", "cat"}));  // opt is opted out, hid hidden
  ASSERT_EQ(ben.topics.size(), 2u);
  EXPECT_DOUBLE_EQ(ben.topics[0].second, 0.5);
  EXPECT_EQ(ProfileOf(*snap_, "opt", po).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ProfileOf(*snap_, "zzz", po).status().code(), absl::StatusCode::kNotFound);

  TopicStatsOptions to;
  to.group_mask = public_;
  const auto stats = TopicStats(*snap_, to);
  ASSERT_GE(stats.size(), 3u);
  EXPECT_EQ(stats[0].topic, "gpu");
  EXPECT_EQ(stats[0].docs, 6u);
  for (const TopicStat& t : stats) {
    EXPECT_NE(t.topic, "secret");
    for (const auto& [id, n] : t.top_people) EXPECT_NE(id, "opt");
  }
  EXPECT_EQ(stats[0].top_people[0].first, "cat");  // 2 gpu mails
  EXPECT_EQ(stats[0].recent, 6u);
}

TEST(AdamicAdarTest, MatchesNetworkx) {
  if (std::system("/usr/bin/python3 -c 'import networkx' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 lacks networkx";
  }
  // 40 people, 120 two-message threads (root by u, reply by v).
  Corpus c;
  std::mt19937_64 rng(5);
  std::set<std::pair<int, int>> pairs;
  for (int i = 0; i < 120; ++i) {
    const int u = static_cast<int>(rng() % 40), v = static_cast<int>(rng() % 40);
    const std::string root = absl::StrCat("r", i);
    c.Add(RecordKind::kMail, root, absl::StrCat("p", u), kT0 + i, root, "", {"t"});
    c.Add(RecordKind::kMail, absl::StrCat("x", i), absl::StrCat("p", v), kT0 + i, root, root, {"t"});
    if (u != v) pairs.insert({std::min(u, v), std::max(u, v)});
  }
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, {}));
  char dir[] = "/tmp/wk_aaXXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string in = std::string(dir) + "/edges.txt", out = std::string(dir) + "/aa.txt";
  {
    std::ofstream f(in);
    for (const auto& [u, v] : pairs) f << u << ' ' << v << '\n';
  }
  const std::string cmd = absl::StrCat(
      "/usr/bin/python3 -c \"import networkx as nx,sys\n"
      "g=nx.read_edgelist(sys.argv[1],nodetype=int)\n"
      "open(sys.argv[2],'w').write(''.join('%d %d %r\\n'%(u,v,p) for u,v,p in nx.adamic_adar_index(g)))\" ",
      in, " ", out);
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream f(out);
  int u, v;
  double expected;
  int checked = 0, nonzero = 0;
  while (f >> u >> v >> expected) {
    const uint32_t pu = snap->FindPerson(absl::StrCat("p", u)), pv = snap->FindPerson(absl::StrCat("p", v));
    ASSERT_NE(pu, kNone);
    ASSERT_NE(pv, kNone);
    EXPECT_NEAR(AdamicAdar(*snap, pu, pv, kAllGroups), expected, 1e-9) << u << " " << v;
    ++checked;
    nonzero += expected > 0;
  }
  EXPECT_GT(checked, 500);
  EXPECT_GT(nonzero, 50);
  const int rc = std::system(absl::StrCat("rm -rf ", dir).c_str());
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace whoknows::engine
