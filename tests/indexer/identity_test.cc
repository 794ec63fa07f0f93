// One person per human (issue 9.3): mail identities with the same normalised
// full name merge within one source, whatever order they arrive in, unless
// evidence contradicts it; the aliases file wins; merges are durable; what
// is not merged is offered by SuggestMerges. Real Xapian in a temp dir.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <xapian.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "../service/cli_run.h"
#include "test_util.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/aliases.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/merge_suggestions.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/service/cli.h"
#include "nlohmann/json.hpp"

namespace whoknows::indexer {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

TEST(NormalizeDisplayNameTest, FoldsAccentsCaseOrderAndPunctuation) {
  EXPECT_EQ(NormalizeDisplayName("Duncan Murdoch"), "duncan murdoch");
  EXPECT_EQ(NormalizeDisplayName("Murdoch, Duncan"), "duncan murdoch");
  EXPECT_EQ(NormalizeDisplayName("  DUNCAN   murdoch "), "duncan murdoch");
  EXPECT_EQ(NormalizeDisplayName("José Pérez"), NormalizeDisplayName("Jose Perez"));
  EXPECT_EQ(NormalizeDisplayName("Pérez, José"), "jose perez");
  EXPECT_EQ(NormalizeDisplayName("Søren Højsgaard"), "soren hojsgaard");
  EXPECT_EQ(NormalizeDisplayName("Łukasz Żółć"), "lukasz zolc");
  EXPECT_EQ(NormalizeDisplayName("Martin Mächler"), "martin machler");
  EXPECT_EQ(NormalizeDisplayName("Jean-Luc O'Brien"), "jean luc o brien");
  EXPECT_EQ(NormalizeDisplayName("Smith, John, Jr."), "john smith");
  EXPECT_EQ(NormalizeDisplayName("Dr. Jane Roe (ACME Corp)"), "jane roe");
  EXPECT_EQ(NormalizeDisplayName("Ann, Bob, Carl"), "");  // a list, not a name
  EXPECT_EQ(NormalizeDisplayName("murdoch@stats.uwo.ca"), "");
  EXPECT_EQ(NormalizeDisplayName("Ripley"), "ripley");
}

TEST(MailNameKeyTest, AtLeastTwoWordsNotAllInitials) {
  EXPECT_EQ(MailNameKey("Murdoch, Duncan"), "duncan murdoch");
  EXPECT_EQ(MailNameKey("Duncan"), "");
  EXPECT_EQ(MailNameKey("J. S."), "");
  EXPECT_EQ(MailNameKey("J. Smith"), "j smith");
  EXPECT_EQ(MailNameKey("a@b.org"), "");
}

Record Mail(const std::string& id, const std::string& author, const std::string& name, int64_t ts,
            const std::string& source = "mbox:r-devel") {
  Record r;
  r.id = source + ":" + id;
  r.kind = RecordKind::kMail;
  r.source = source;
  r.author_key = author;
  r.author_name = name;
  r.timestamp = ts;
  r.title = "subject " + id;
  r.text = "text of message " + id;
  r.thread_id = r.id;
  r.topics = {"r-devel"};
  r.community = "r-devel";
  r.visibility = "public";
  return r;
}

class IdentityTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  std::string db() const { return tmp_.Sub("db"); }

  IndexSummary Write(const std::vector<Record>& recs, IndexOptions options = {},
                     const std::vector<AliasGroup>& aliases = {}) {
    IndexSummary s;
    absl::StatusOr<std::unique_ptr<IndexWriter>> w = IndexWriter::Open(db(), options);
    EXPECT_TRUE(w.ok()) << w.status();
    if (!w.ok()) return s;
    if (!aliases.empty()) EXPECT_OK((*w)->ApplyAliases(aliases));
    for (const Record& r : recs) EXPECT_OK((*w)->Add(r));
    EXPECT_OK((*w)->Commit());
    return (*w)->summary();
  }
  std::string PersonOf(const std::string& key) {
    absl::StatusOr<std::unique_ptr<IndexReader>> r = IndexReader::Open(db());
    EXPECT_TRUE(r.ok()) << r.status();
    absl::StatusOr<std::string> p = (*r)->ResolvePerson(key);
    return p.ok() ? *p : "?";
  }
  // Person ids whose name normalises to `name`.
  std::vector<std::string> PersonsNamed(const std::string& name) {
    std::vector<std::string> out;
    absl::StatusOr<std::unique_ptr<IndexReader>> r = IndexReader::Open(db());
    EXPECT_TRUE(r.ok()) << r.status();
    absl::StatusOr<std::vector<Person>> ps = (*r)->ListPersons();
    EXPECT_TRUE(ps.ok());
    for (const Person& p : *ps) {
      if (NormalizeDisplayName(p.name) == NormalizeDisplayName(name)) out.push_back(p.id);
    }
    return out;
  }
  std::vector<MergeCandidate> Suggestions() {
    absl::StatusOr<std::unique_ptr<IndexReader>> r = IndexReader::Open(db());
    EXPECT_TRUE(r.ok()) << r.status();
    absl::StatusOr<std::vector<MergeCandidate>> c = SuggestMerges(r->get());
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : std::vector<MergeCandidate>{};
  }
};

// The r-devel case: an address first seen with no display name (so no name
// to merge on) is later written as "Duncan Murdoch" or "Murdoch, Duncan":
// it joins the person who holds that name. Accents and case do not matter.
TEST_F(IdentityTest, KnownKeyJoinsWhenItsFullNameAppearsLater) {
  IndexSummary s = Write({Mail("1", "mail:dmurdoch@pair.com", "Duncan Murdoch", 1000),
                          Mail("2", "mail:murdoch@stats.uwo.ca", "murdoch", 2000),  // name = local part
                          Mail("3", "mail:murdoch@stats.uwo.ca", "Murdoch, Duncan", 3000),
                          Mail("4", "mail:murdoch.duncan@gmail.com", "DUNCAN MÜRDOCH", 4000),
                          Mail("5", "mailname:duncan murdoch", "Duncan Murdoch", 5000),
                          Mail("6", "mail:ripley@stats.ox.ac.uk", "Brian Ripley", 6000)});
  const std::string p = PersonOf("mail:dmurdoch@pair.com");
  EXPECT_EQ(p, "mail:dmurdoch@pair.com");
  EXPECT_EQ(PersonOf("mail:murdoch@stats.uwo.ca"), p);
  EXPECT_EQ(PersonOf("mail:murdoch.duncan@gmail.com"), p);
  EXPECT_EQ(PersonOf("mailname:duncan murdoch"), p);
  EXPECT_EQ(PersonOf("mail:ripley@stats.ox.ac.uk"), "mail:ripley@stats.ox.ac.uk");
  EXPECT_EQ(PersonsNamed("Duncan Murdoch").size(), 1u);
  // Reported: the known address brought its person along, the new ones joined.
  std::set<std::string> merged;
  for (const NameMerge& m : s.name_merges) {
    EXPECT_EQ(m.into, p);
    EXPECT_EQ(m.source, "mbox:r-devel");
    merged.insert(m.merged);
  }
  EXPECT_EQ(merged, (std::set<std::string>{"mail:murdoch@stats.uwo.ca", "mail:murdoch.duncan@gmail.com",
                                           "mailname:duncan murdoch"}));
  EXPECT_TRUE(s.name_merges_blocked.empty());
}

// Merges are durable (identity table): a later run adds a new address that
// joins by name, and re-reading the same records changes nothing.
TEST_F(IdentityTest, DurableAcrossRunsAndIdempotent) {
  Write({Mail("1", "mail:a@x.org", "Jane Roe", 1000), Mail("2", "mail:b@y.org", "Jane Roe", 2000)});
  EXPECT_EQ(PersonOf("mail:b@y.org"), "mail:a@x.org");
  IndexSummary again =
      Write({Mail("1", "mail:a@x.org", "Jane Roe", 1000), Mail("2", "mail:b@y.org", "Jane Roe", 2000)});
  EXPECT_EQ(again.duplicates, 2u);
  EXPECT_TRUE(again.name_merges.empty());
  IndexSummary later = Write({Mail("3", "mail:c@z.org", "Roe, Jane", 3000)});
  ASSERT_EQ(later.name_merges.size(), 1u);
  EXPECT_EQ(later.name_merges[0].merged, "mail:c@z.org");
  EXPECT_EQ(PersonOf("mail:c@z.org"), "mail:a@x.org");
  EXPECT_EQ(PersonsNamed("Jane Roe").size(), 1u);
}

// Upgrading: an index whose identities were written apart (name merge off)
// gets the merge when the same archive is indexed again with it on.
TEST_F(IdentityTest, ReindexingAppliesTheRuleToAnExistingIndex) {
  const std::vector<Record> recs = {Mail("1", "mail:a@x.org", "Jane Roe", 1000),
                                    Mail("2", "mail:b@y.org", "Jane Roe", 2000)};
  Write(recs, {.name_merge = false});
  EXPECT_EQ(PersonsNamed("Jane Roe").size(), 2u);
  IndexSummary s = Write(recs);
  EXPECT_EQ(s.name_merges.size(), 1u);
  EXPECT_EQ(PersonsNamed("Jane Roe").size(), 1u);
}

// An index written before the name table existed (simulated by deleting it):
// opening it seeds the table from the documents, so a new address joins.
TEST_F(IdentityTest, IndexWithoutNameTableIsSeededOnOpen) {
  Write({Mail("1", "mail:a@x.org", "Jane Roe", 1000)});
  {
    Xapian::WritableDatabase xdb(db());
    std::vector<std::string> keys;
    for (auto it = xdb.metadata_keys_begin("name:"); it != xdb.metadata_keys_end("name:"); ++it) keys.push_back(*it);
    ASSERT_EQ(keys.size(), 1u);
    for (const std::string& k : keys) xdb.set_metadata(k, "");
    xdb.set_metadata("whoknows:name-table", "");
    xdb.commit();
  }
  IndexSummary s = Write({Mail("2", "mail:b@y.org", "Jane Roe", 2000)});
  EXPECT_EQ(s.name_merges.size(), 1u);
  EXPECT_EQ(PersonOf("mail:b@y.org"), "mail:a@x.org");
}

// Only within one source; across sources and for one-word names, a
// suggestion for the admin instead.
TEST_F(IdentityTest, OtherSourcesAndOneWordNamesAreSuggestedNotMerged) {
  IndexSummary s = Write({Mail("1", "mail:a@x.org", "Jane Roe", 1000, "mbox:r-devel"),
                          Mail("2", "mail:b@y.org", "Jane Roe", 2000, "mbox:r-help"),
                          Mail("3", "mail:c@x.org", "Duncan", 3000), Mail("4", "mail:d@y.org", "Duncan", 4000),
                          Mail("5", "mail:sam@x.org", "sam", 5000), Mail("6", "mail:sam@y.org", "sam", 6000)});
  EXPECT_TRUE(s.name_merges.empty());
  EXPECT_NE(PersonOf("mail:a@x.org"), PersonOf("mail:b@y.org"));
  EXPECT_NE(PersonOf("mail:c@x.org"), PersonOf("mail:d@y.org"));
  std::map<std::string, MergeCandidate> by_kind;
  for (MergeCandidate& c : Suggestions()) by_kind[c.kind] = c;
  ASSERT_EQ(by_kind.size(), 2u);  // sam is only the addresses' local part: not a name
  const MergeCandidate& across = by_kind["across-sources"];
  EXPECT_EQ(across.name, "Jane Roe");
  ASSERT_EQ(across.persons.size(), 2u);
  EXPECT_THAT(across.persons[0].sources, ElementsAre("mbox:r-devel"));
  EXPECT_THAT(across.persons[1].sources, ElementsAre("mbox:r-help"));
  EXPECT_EQ(across.aliases_line, "Jane Roe = mail:a@x.org, mail:b@y.org");
  const MergeCandidate& one = by_kind["one-word"];
  EXPECT_EQ(one.name, "Duncan");
  std::vector<std::string> ids;
  for (const auto& m : one.persons) ids.push_back(m.person);
  EXPECT_THAT(ids, UnorderedElementsAre("mail:c@x.org", "mail:d@y.org"));
  // The suggested line, given to the aliases parser and the writer, merges them.
  ASSERT_OK_AND_ASSIGN(std::vector<AliasGroup> groups, ParseAliases(across.aliases_line, "suggested"));
  Write({}, {}, groups);
  EXPECT_EQ(PersonOf("mail:b@y.org"), PersonOf("mail:a@x.org"));
}

// Accounts of other kinds take part in cross-source suggestions (never in
// merges); a Stack Exchange placeholder "user <id>" is not a name.
TEST_F(IdentityTest, AccountsOfOtherSourcesAreSuggested) {
  Record se = Mail("1", "se:x.stackexchange.com:user:5", "Jane Roe", 1000, "se:x.stackexchange.com");
  se.kind = RecordKind::kAnswer;
  Record anon1 = Mail("2", "se:x.stackexchange.com:user:9", "user 9", 1000, "se:x.stackexchange.com");
  Record anon2 = Mail("3", "se:y.stackexchange.com:user:9", "user 9", 1000, "se:y.stackexchange.com");
  Record slack1 = Mail("4", "slack:w:U1", "Ann Lee", 1000, "slack:w");
  Record slack2 = Mail("5", "slack:w:U2", "Ann Lee", 1000, "slack:w");
  IndexSummary s = Write({se, anon1, anon2, slack1, slack2, Mail("6", "mail:a@x.org", "Roe, Jane", 2000)});
  EXPECT_TRUE(s.name_merges.empty());  // the rule is for mail identities only
  EXPECT_NE(PersonOf("slack:w:U1"), PersonOf("slack:w:U2"));
  std::map<std::string, std::string> kind_by_name;
  for (const MergeCandidate& c : Suggestions()) kind_by_name[NormalizeDisplayName(c.name)] = c.kind;
  EXPECT_EQ(kind_by_name, (std::map<std::string, std::string>{{"jane roe", "across-sources"},
                                                              {"ann lee", "same-source"}}));
}

TEST_F(IdentityTest, NoNameMergeKeepsThemApartAndSuggestsThem) {
  IndexSummary s = Write({Mail("1", "mail:a@x.org", "Jane Roe", 1000), Mail("2", "mail:b@y.org", "Jane Roe", 2000)},
                         {.name_merge = false});
  EXPECT_TRUE(s.name_merges.empty());
  EXPECT_NE(PersonOf("mail:a@x.org"), PersonOf("mail:b@y.org"));
  std::vector<MergeCandidate> c = Suggestions();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, "same-source");
}

// Contradicting evidence: one wrote to the other (a mention), so two people
// who happen to share a name stay apart, and the summary says why.
TEST_F(IdentityTest, IdentitiesThatAddressEachOtherStayApart) {
  Record to_b = Mail("1", "mail:a@x.org", "Jane Roe", 1000);
  to_b.mentions = {"mail:b@y.org"};
  IndexSummary s = Write({to_b, Mail("2", "mail:b@y.org", "Jane Roe", 2000)});
  EXPECT_TRUE(s.name_merges.empty());
  EXPECT_NE(PersonOf("mail:a@x.org"), PersonOf("mail:b@y.org"));
  ASSERT_EQ(s.name_merges_blocked.size(), 1u);
  EXPECT_EQ(s.name_merges_blocked[0].reason, "addressed each other");
}

// The aliases file wins: two lines separate what the name rule had merged,
// and the rule never merges them again.
TEST_F(IdentityTest, AliasesFileWinsOverNameMerge) {
  Write({Mail("1", "mail:a@x.org", "Jane Roe", 1000), Mail("2", "mail:b@y.org", "Jane Roe", 2000)});
  ASSERT_EQ(PersonOf("mail:b@y.org"), "mail:a@x.org");
  ASSERT_OK_AND_ASSIGN(std::vector<AliasGroup> groups,
                       ParseAliases("Jane Roe = a@x.org\nJane Roe = b@y.org\n", "people.aliases"));
  IndexSummary s = Write({Mail("3", "mail:b@y.org", "Jane Roe", 3000)}, {}, groups);
  EXPECT_EQ(PersonOf("mail:a@x.org"), "mail:a@x.org");
  EXPECT_EQ(PersonOf("mail:b@y.org"), "mail:b@y.org");
  EXPECT_TRUE(s.name_merges.empty());
  ASSERT_EQ(s.name_merges_blocked.size(), 1u);
  EXPECT_EQ(s.name_merges_blocked[0].reason, "aliases file lists them apart");
  // A third address with the name joins the first holder; the two lines stay apart.
  Write({Mail("4", "mail:c@z.org", "Jane Roe", 4000)});
  EXPECT_EQ(PersonOf("mail:c@z.org"), "mail:a@x.org");
  EXPECT_EQ(PersonOf("mail:b@y.org"), "mail:b@y.org");
  int by_b = 0;
  ASSERT_OK_AND_ASSIGN(auto reader, IndexReader::Open(db()));
  ASSERT_OK(reader->ForEachDocument([&](const StoredDoc& d) { by_b += d.author == "mail:b@y.org"; }));
  EXPECT_EQ(by_b, 2);
}

// Real data: Duncan Murdoch's r-devel messages of 2000, indexed in archive
// order (his stats.uwo.ca address first appears without a display name),
// make one person, not two.
TEST_F(IdentityTest, RDevelDuncanMurdochIsOnePerson) {
  const std::string path = std::string(WK_SHARED_DATA_DIR) + "/mbox/r-devel/r-devel-2000.mbox.xz";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  testing::CollectSink sink;
  ASSERT_OK(ReadAny(path, {}, &sink));
  std::vector<Record> his;
  std::set<std::string> keys;
  for (Record& r : sink.records) {
    if (r.author_key.find("murdoch") == std::string::npos) continue;
    keys.insert(r.author_key);
    his.push_back(std::move(r));
  }
  ASSERT_GE(keys.size(), 2u);  // two addresses in 2000
  Write(his);
  std::set<std::string> persons;
  for (const std::string& k : keys) persons.insert(PersonOf(k));
  EXPECT_EQ(persons.size(), 1u);
  EXPECT_EQ(PersonsNamed("Duncan Murdoch").size(), 1u);
}

int RunCli(const std::vector<std::string>& args, std::string* out) {
  return testing::RunCli(service::RegisterIndexCommands, args, out);
}

// The CLI: `index` reports merges (text and --json), --no-name-merge keeps
// them apart, and `people --suggest-merges` then offers them.
TEST_F(IdentityTest, CliReportsMergesAndSuggests) {
  const std::string jsonl = tmp_.Sub("list.jsonl");
  std::ofstream(jsonl) << R"({"id": "1", "author": "jane@x.org", "author_name": "Jane Roe", "timestamp": 1000, "kind": "mail", "text": "hello"})"
                       << "\n"
                       << R"({"id": "2", "author": "roe@y.org", "author_name": "Roe, Jane", "timestamp": 2000, "kind": "mail", "text": "again"})"
                       << "\n";
  std::string out;
  ASSERT_EQ(RunCli({"index", "--quiet", "--json", "--db", tmp_.Sub("on"), jsonl}, &out), 0) << out;
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  ASSERT_EQ(j["name_merges"].size(), 1u) << out;
  EXPECT_EQ(j["name_merges"][0]["merged"], "mail:roe@y.org");
  EXPECT_EQ(j["name_merges"][0]["into"], "mail:jane@x.org");
  ASSERT_EQ(RunCli({"index", "--quiet", "--db", tmp_.Sub("on2"), jsonl}, &out), 0);
  EXPECT_NE(out.find("merged 1 identities by display name"), std::string::npos) << out;
  EXPECT_NE(out.find("Roe, Jane (jsonl:list): mail:roe@y.org -> mail:jane@x.org"), std::string::npos) << out;

  ASSERT_EQ(RunCli({"index", "--quiet", "--json", "--no-name-merge", "--db", tmp_.Sub("off"), jsonl}, &out), 0);
  j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_TRUE(j["name_merges"].empty()) << out;
  ASSERT_EQ(RunCli({"people", "--suggest-merges", "--json", "--db", tmp_.Sub("off")}, &out), 0);
  j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_EQ(j["candidates"].size(), 1u) << out;
  EXPECT_EQ(j["candidates"][0]["kind"], "same-source");
  EXPECT_EQ(j["candidates"][0]["aliases_line"], "Jane Roe = mail:jane@x.org, mail:roe@y.org");
  ASSERT_EQ(RunCli({"people", "--json", "--db", tmp_.Sub("on")}, &out), 0);
  j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_EQ(j["persons"].size(), 1u) << out;
}

}  // namespace
}  // namespace whoknows::indexer
