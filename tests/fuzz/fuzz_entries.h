#ifndef WHOKNOWS_TESTS_FUZZ_FUZZ_ENTRIES_H_
#define WHOKNOWS_TESTS_FUZZ_FUZZ_ENTRIES_H_

// One entry point per parser, shared by the libFuzzer targets
// (tests/fuzz/<parser>_fuzz.cc) and the regression replay test
// (tests/indexer/fuzz_regressions_test.cc). Each takes arbitrary bytes, must
// never crash, leak or hang, and aborts through WK_FUZZ_CHECK when a reader
// breaks its contract. Not thread-safe (one scratch directory per process).
//
// Multi-file inputs (se, slack) are split on kPartSeparator:
//   se:    Posts.xml [sep Users.xml [sep Comments.xml]]; a Posts.xml that starts
//          with the zstd or xz magic is written as Posts.xml.zst / .xz.
//   slack: day file [sep users.json [sep channels.json]]; missing parts come
//          from tests/data/slack/acme.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "whoknows/engine/rank.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/aliases.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/pipeline.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/service/tokens.h"

#ifndef WK_TEST_DATA_DIR
#error "WK_TEST_DATA_DIR must name tests/data"
#endif

namespace whoknows::fuzz {

inline std::string ReadFixture(const std::string& rel) {
  std::ifstream in(std::string(WK_TEST_DATA_DIR) + "/" + rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void FuzzStackExchange(std::string_view data) {
  const std::filesystem::path dir = ProcessTempDir() / "se" / "fuzz.stackexchange.com";
  for (const char* name : {"Posts.xml", "Posts.xml.zst", "Posts.xml.xz", "Users.xml", "Comments.xml"}) {
    RemoveFile(dir / name);
  }
  std::vector<std::string_view> parts = SplitParts(data, 3);
  std::string posts_name = "Posts.xml";
  if (parts[0].starts_with("\x28\xB5\x2F\xFD")) posts_name = "Posts.xml.zst";
  if (parts[0].starts_with(std::string_view("\xFD" "7zXZ\0", 6))) posts_name = "Posts.xml.xz";
  WriteFile(dir / posts_name, parts[0]);
  if (parts.size() > 1) WriteFile(dir / "Users.xml", parts[1]);
  if (parts.size() > 2) WriteFile(dir / "Comments.xml", parts[2]);
  CheckingSink sink;
  indexer::ReadOptions options;
  options.max_record_bytes = 1 << 20;
  (void)indexer::ReadStackExchange(dir.string(), options, &sink);
}

inline void FuzzMbox(std::string_view data) {
  const std::filesystem::path file = ProcessTempDir() / "mbox" / "fuzzlist" / "fuzz.mbox";
  WriteFile(file, data);
  CheckingSink sink;
  indexer::ReadOptions options;
  options.max_record_bytes = 1 << 20;
  (void)indexer::ReadMbox(file.string(), options, &sink);
}

inline void FuzzSlack(std::string_view data) {
  static const std::string kUsers = ReadFixture("slack/acme/users.json");
  static const std::string kChannels = ReadFixture("slack/acme/channels.json");
  const std::filesystem::path dir = ProcessTempDir() / "slack" / "fuzzspace";
  std::vector<std::string_view> parts = SplitParts(data, 3);
  WriteFile(dir / "general" / "2016-01-01.json", parts[0]);
  WriteFile(dir / "users.json", parts.size() > 1 ? parts[1] : std::string_view(kUsers));
  WriteFile(dir / "channels.json", parts.size() > 2 ? parts[2] : std::string_view(kChannels));
  CheckingSink sink;
  indexer::ReadOptions options;
  options.max_record_bytes = 1 << 20;
  (void)indexer::ReadSlackExport(dir.string(), options, &sink);
}

inline void FuzzJsonl(std::string_view data) {
  indexer::ReadOptions options;
  options.max_record_bytes = 1 << 20;
  // The gRPC ingest path: one object, no file.
  absl::StatusOr<indexer::Record> r = indexer::ParseJsonRecord(data, options, "jsonl:fuzz");
  if (r.ok()) {
    CheckingSink check;
    (void)check.OnRecord(*std::move(r));
  }
  const std::filesystem::path file = ProcessTempDir() / "jsonl" / "fuzz.jsonl";
  WriteFile(file, data);
  CheckingSink sink;
  (void)indexer::ReadJsonl(file.string(), options, &sink);
}

inline void FuzzAliases(std::string_view data) {
  absl::StatusOr<std::vector<indexer::AliasGroup>> groups = indexer::ParseAliases(data, "fuzz.aliases");
  if (groups.ok()) {
    for (const indexer::AliasGroup& g : *groups) {
      WK_FUZZ_CHECK(!g.keys.empty(), g.name);
      for (const std::string& k : g.keys) WK_FUZZ_CHECK(!k.empty(), g.name);
    }
  }
  (void)indexer::NormalizeIdentityKey(data);
  (void)indexer::NormalizeMailAddress(data);
}

inline void FuzzTokens(std::string_view data) {
  absl::StatusOr<service::TokenTable> table = service::TokenTable::Parse(data, "fuzz.tokens");
  if (table.ok()) {
    // Every token of the table authenticates; arbitrary headers must not crash.
    (void)service::Authenticate(*table, data);
    std::string_view first_line = data.substr(0, data.find('\n'));
    (void)service::Authenticate(*table, absl::StrFormat("Bearer %s", first_line));
  }
  constexpr uint64_t kFingerprint = 0x1234567890abcdefULL;
  absl::StatusOr<uint64_t> offset = service::DecodePageToken(data, kFingerprint);
  if (offset.ok()) {
    absl::StatusOr<uint64_t> again = service::DecodePageToken(service::EncodePageToken(*offset, kFingerprint),
                                                              kFingerprint);
    WK_FUZZ_CHECK(again.ok() && *again == *offset, "page token round trip");
  }
}

// A small index of the tests/data fixtures, built once per process, with the
// engine snapshot over it.
struct QueryFixture {
  std::unique_ptr<indexer::IndexReader> reader;
  std::shared_ptr<const engine::Snapshot> snapshot;
};

inline QueryFixture* GetQueryFixture() {
  static QueryFixture* fixture = [] {
    auto* f = new QueryFixture;
    const std::string db = (ProcessTempDir() / "query-index").string();
    const std::string data = WK_TEST_DATA_DIR;
    indexer::PipelineOptions options;
    absl::StatusOr<indexer::PipelineResult> result = indexer::IndexPaths(
        db,
        {data + "/stackexchange/mini.stackexchange.com", data + "/mbox/testlist/basic.mbox",
         data + "/jsonl/team-chat.jsonl", data + "/slack/acme", data + "/eval/hand.stackexchange.com"},
        options);
    WK_FUZZ_CHECK(result.ok(), result.status().ToString());
    absl::StatusOr<std::unique_ptr<indexer::IndexReader>> reader = indexer::IndexReader::Open(db);
    WK_FUZZ_CHECK(reader.ok(), reader.status().ToString());
    f->reader = *std::move(reader);
    std::vector<indexer::StoredDoc> docs;
    absl::Status st = f->reader->ForEachDocument([&](const indexer::StoredDoc& d) { docs.push_back(d); });
    WK_FUZZ_CHECK(st.ok(), st.ToString());
    WK_FUZZ_CHECK(!docs.empty(), "fixture index is empty");
    absl::StatusOr<std::vector<indexer::Person>> persons = f->reader->ListPersons();
    WK_FUZZ_CHECK(persons.ok(), persons.status().ToString());
    absl::StatusOr<std::shared_ptr<const engine::Snapshot>> snap = engine::BuildSnapshot(docs, *persons);
    WK_FUZZ_CHECK(snap.ok(), snap.status().ToString());
    f->snapshot = *std::move(snap);
    return f;
  }();
  return fixture;
}

inline void FuzzQuery(std::string_view data) {
  QueryFixture* f = GetQueryFixture();
  indexer::SearchFilter filter;
  absl::StatusOr<std::vector<indexer::SearchHit>> hits = f->reader->Search(data, filter, 50);
  if (!hits.ok()) return;
  for (const indexer::SearchHit& h : *hits) WK_FUZZ_CHECK(h.docid >= 1, "hit with docid 0");
  engine::AskOptions ask;
  absl::StatusOr<std::vector<engine::Expert>> experts = engine::RankExperts(*f->snapshot, *hits, ask);
  WK_FUZZ_CHECK(experts.ok(), experts.status().ToString());
  WK_FUZZ_CHECK(experts->size() <= ask.k, "more than k experts");
  if (!hits->empty()) {
    absl::StatusOr<indexer::DocText> doc = f->reader->GetDoc((*hits)[0].docid);
    if (doc.ok()) (void)f->reader->Snippet(*doc, data, 200);
  }
}

}  // namespace whoknows::fuzz

#endif  // WHOKNOWS_TESTS_FUZZ_FUZZ_ENTRIES_H_
