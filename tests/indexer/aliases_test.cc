#include "whoknows/indexer/aliases.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"

namespace whoknows::indexer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kDir = std::string(WK_TEST_DATA_DIR) + "/aliases";

TEST(NormalizeMailAddressTest, Forms) {
  EXPECT_EQ(NormalizeMailAddress("ripley@stats.ox.ac.uk"), "ripley@stats.ox.ac.uk");
  EXPECT_EQ(NormalizeMailAddress("  <Ripley@Stats.OX.ac.uk>  "), "ripley@stats.ox.ac.uk");
  EXPECT_EQ(NormalizeMailAddress("ripley at stats.ox.ac.uk"), "ripley@stats.ox.ac.uk");
  EXPECT_EQ(NormalizeMailAddress("Ripley AT Stats.ox.ac.uk"), "ripley@stats.ox.ac.uk");
  EXPECT_EQ(NormalizeMailAddress("ripley@stats.ox.ac.uk."), "ripley@stats.ox.ac.uk");
  EXPECT_EQ(NormalizeMailAddress("<a@b.org>."), "a@b.org");
  // Only " at " is undone; "dot" is left alone.
  EXPECT_EQ(NormalizeMailAddress("user at host dot org"), "user@host dot org");
  EXPECT_EQ(NormalizeMailAddress(""), "");
}

TEST(NormalizeIdentityKeyTest, Forms) {
  EXPECT_EQ(NormalizeIdentityKey("A@B.org"), "mail:a@b.org");
  EXPECT_EQ(NormalizeIdentityKey(" a at b.org "), "mail:a@b.org");
  EXPECT_EQ(NormalizeIdentityKey("mail:<A at B.org>"), "mail:a@b.org");
  EXPECT_EQ(NormalizeIdentityKey("mailto:A@B.org"), "mail:a@b.org");
  EXPECT_EQ(NormalizeIdentityKey(" slack:houstondatavis:U064KUGRJ "), "slack:houstondatavis:U064KUGRJ");
  EXPECT_EQ(NormalizeIdentityKey("se:ai.stackexchange.com:12"), "se:ai.stackexchange.com:12");
  EXPECT_EQ(NormalizeIdentityKey("mailname:Brian  Ripley "), "mailname:brian ripley");  // as the mbox reader
  EXPECT_EQ(NormalizeIdentityKey("jsonl:x:user:a@b.org"), "jsonl:x:user:a@b.org");  // prefixed: unchanged
  EXPECT_EQ(NormalizeIdentityKey("bob"), "bob");
}

TEST(ParseAliasesTest, File) {
  ASSERT_OK_AND_ASSIGN(std::vector<AliasGroup> groups, LoadAliasesFile(kDir + "/people.aliases"));
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].name, "Brian Ripley");
  EXPECT_THAT(groups[0].keys, ElementsAre("mail:ripley@stats.ox.ac.uk", "mailname:brian ripley"));
  EXPECT_EQ(groups[1].name, "Duncan Murdoch");
  EXPECT_THAT(groups[1].keys,
              ElementsAre("mail:murdoch@stats.uwo.ca", "mail:murdoch.duncan@gmail.com", "se:ai.stackexchange.com:42"));
  EXPECT_EQ(groups[2].name, "");
  EXPECT_THAT(groups[2].keys, ElementsAre("slack:houstondatavis:U064KUGRJ", "mail:timabram@example.org"));
}

TEST(ParseAliasesTest, EmptyAndCommentsOnly) {
  ASSERT_OK_AND_ASSIGN(std::vector<AliasGroup> groups, ParseAliases("\n# nothing\n   \n", "a.txt"));
  EXPECT_TRUE(groups.empty());
  ASSERT_OK_AND_ASSIGN(groups, ParseAliases("\xEF\xBB\xBFx@y.org\r\n", "bom.txt"));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_THAT(groups[0].keys, ElementsAre("mail:x@y.org"));
}

TEST(ParseAliasesTest, DuplicateKeyAcrossPeopleNamesBothLines) {
  absl::StatusOr<std::vector<AliasGroup>> r = LoadAliasesFile(kDir + "/duplicate.aliases");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("duplicate.aliases:2: "));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("line 1"));
}

TEST(ParseAliasesTest, ErrorPathsNameFileAndLine) {
  struct Case {
    const char* content;
    const char* want;
  };
  const Case cases[] = {
      {"ok@x.org\n = a@b.org\n", "f.txt:2: empty display name"},
      {"Name =\n", "f.txt:1: no identity keys"},
      {"Name = # only a comment\n", "f.txt:1: no identity keys"},
      {"A = a@b.org = c@d.org\n", "f.txt:1: more than one '='"},
      {"\n\nA = a@b.org, , c@d.org\n", "f.txt:3: empty key between commas"},
      {"A = bob\n", "f.txt:1: key \"bob\" is neither"},
      {"A = at x.org\n", "f.txt:1: 'at' without"},
      {"A = user at\n", "f.txt:1: 'at' without"},
      {"A = mail:\n", "f.txt:1: key \"mail:\" is empty"},
      {"A = @x.org\n", "f.txt:1: key \"@x.org\" is empty or not a complete address"},
      {"A = slack:\n", "f.txt:1: key \"slack:\" is empty"},
      {"A = a@b.org\nB = A@B.ORG\n", "f.txt:2: key \"mail:a@b.org\" already belongs to the person on line 1"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<AliasGroup>> r = ParseAliases(c.content, "f.txt");
    ASSERT_FALSE(r.ok()) << c.content;
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << c.content;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.want)) << c.content;
  }
}

TEST(ParseAliasesTest, SameKeyTwiceOnOneLineIsHarmless) {
  ASSERT_OK_AND_ASSIGN(std::vector<AliasGroup> groups, ParseAliases("A = a@b.org A@B.org\n", "f.txt"));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_THAT(groups[0].keys, ElementsAre("mail:a@b.org"));
}

TEST(LoadAliasesFileTest, MissingFile) {
  absl::StatusOr<std::vector<AliasGroup>> r = LoadAliasesFile(kDir + "/nope.aliases");
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace whoknows::indexer
