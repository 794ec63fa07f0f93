// Tests for ReadMbox: hand-written fixtures in tests/data/mbox/testlist/ (one
// quirk each, asserted below) and the real r-devel archive from
// ../shared/data/mbox/r-devel (counts from MANIFEST.md; skipped if absent).

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/indexer/record.h"

namespace whoknows::indexer {
namespace {

namespace fs = std::filesystem;

const std::string kFixtures = std::string(WK_TEST_DATA_DIR) + "/mbox/testlist/";

struct Bad {
  SourcePos pos;
  std::string reason;
  absl::Status status;
};

class CollectingSink : public RecordSink {
 public:
  absl::Status OnRecord(Record record) override {
    records.push_back(std::move(record));
    return absl::OkStatus();
  }
  void OnBadRecord(const SourcePos& pos, std::string_view reason, const absl::Status& status) override {
    bad.push_back({pos, std::string(reason), status});
  }
  void OnProgress(std::string_view, uint64_t done, uint64_t total) override {
    ++progress_calls;
    last_done = done;
    last_total = total;
  }
  const Record* Find(const std::string& id) const {
    for (const Record& r : records) {
      if (r.id == id) return &r;
    }
    return nullptr;
  }
  std::vector<Record> records;
  std::vector<Bad> bad;
  int progress_calls = 0;
  uint64_t last_done = 0, last_total = 0;
};

int64_t Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::ToUnixSeconds(absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone()));
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mbox_test_XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (p != nullptr) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(MboxTest, BasicFixtureRecords) {
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "basic.mbox", ReadOptions(), &sink));
  EXPECT_TRUE(sink.bad.empty()) << sink.bad.front().reason << " " << sink.bad.front().status;
  // 10 messages as stored (one a duplicate Message-ID); body "From " lines
  // that are not followed by a From: header do not split messages.
  ASSERT_EQ(sink.records.size(), 10u);
  std::set<std::string> ids;
  for (const Record& r : sink.records) {
    ids.insert(r.id);
    EXPECT_EQ(r.kind, RecordKind::kMail);
    EXPECT_EQ(r.source, "mbox:testlist");
    EXPECT_EQ(r.community, "testlist");
    EXPECT_EQ(r.visibility, "public");
    EXPECT_TRUE(r.topics.empty()) << "the list name is the community, not a topic";
    EXPECT_FALSE(r.author_key.empty()) << r.id;
    EXPECT_FALSE(r.thread_id.empty()) << r.id;
  }
  EXPECT_EQ(ids.size(), 9u);  // the duplicate is emitted; the writer de-duplicates
  EXPECT_GE(sink.progress_calls, 1);
}

TEST(MboxTest, PlainAddressSeparatorsEscapesSignature) {
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "basic.mbox", ReadOptions(), &sink));
  const Record* r = sink.Find("mbox:testlist:msg1@stats.ox.ac.uk");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->author_key, "mail:ripley@stats.ox.ac.uk");
  EXPECT_EQ(r->author_name, "Brian Ripley");
  EXPECT_EQ(r->timestamp, Utc(1997, 4, 1, 8, 28, 56));  // 2-digit year, +0200
  EXPECT_EQ(r->title, "Hello world");
  EXPECT_EQ(r->thread_id, r->id);
  EXPECT_TRUE(r->reply_to.empty());
  EXPECT_NE(r->text.find("first message about lazy loading"), std::string::npos);
  EXPECT_NE(r->text.find("From the docs I read"), std::string::npos);
  EXPECT_NE(r->text.find("From somebody in the body  Tue Apr  1 09:30:00 1997\nstill in the body"), std::string::npos);
  EXPECT_NE(r->text.find("\nFrom here it was escaped in mboxrd."), std::string::npos);  // >From unescaped
  EXPECT_EQ(r->text.find(">From"), std::string::npos);
  EXPECT_EQ(r->text.find("Professor"), std::string::npos);  // signature dropped
  EXPECT_EQ(r->text.find("mailing list"), std::string::npos);
}

TEST(MboxTest, AtAddressAsctimeDateReplyAndFooter) {
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "basic.mbox", ReadOptions(), &sink));
  const Record* r = sink.Find("mbox:testlist:msg2@stats.ox.ac.uk");
  ASSERT_NE(r, nullptr);
  const Record* first = sink.Find("mbox:testlist:msg1@stats.ox.ac.uk");
  ASSERT_NE(first, nullptr);
  // `ripley at stats.ox.ac.uk` and `ripley@stats.ox.ac.uk` are one identity.
  EXPECT_EQ(r->author_key, first->author_key);
  EXPECT_EQ(r->author_name, "Prof Brian Ripley");
  EXPECT_EQ(r->timestamp, Utc(1997, 4, 2, 10, 0, 0));  // asctime, no zone: UTC
  EXPECT_EQ(r->title, "Hello world");
  // First <id> of In-Reply-To despite the free text around it.
  EXPECT_EQ(r->reply_to, "mbox:testlist:msg1@stats.ox.ac.uk");
  EXPECT_EQ(r->thread_id, "mbox:testlist:root@x.org");  // first of References
  // Attribution, quote block and list footer removed.
  EXPECT_EQ(r->text, "My own reply text about serialization.");
}

TEST(MboxTest, FreeTextInReplyToUnparseableDateAndWrappedAttribution) {
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "basic.mbox", ReadOptions(), &sink));
  const Record* r = sink.Find("mbox:testlist:msg3@wu.ac.at");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->author_key, "mail:kurt.hornik@wu.ac.at");
  EXPECT_EQ(r->author_name, "Kurt Hornik");
  // "mer., 25 oct. 2000" -> the separator line's date.
  EXPECT_EQ(r->timestamp, Utc(1997, 4, 3, 11, 0, 0));
  EXPECT_EQ(r->title, "Hello world");
  // No <id> in In-Reply-To: last <id> of References.
  EXPECT_EQ(r->reply_to, "mbox:testlist:msg2@stats.ox.ac.uk");
  EXPECT_EQ(r->thread_id, "mbox:testlist:root@x.org");
  EXPECT_EQ(r->text, "Kurt's words.");  // two-line attribution and pipermail stub dropped
}

TEST(MboxTest, EncodedWordsAndLatin1Body) {
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "basic.mbox", ReadOptions(), &sink));
  const Record* r = sink.Find("mbox:testlist:msg4@gmail.com");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->author_key, "mail:lluis.revilla@gmail.com");
  EXPECT_EQ(r->author_name, "Llu\xC3\xADs Revilla");
  EXPECT_EQ(r->title, "Caf\xC3\xA9 au lait");
  EXPECT_EQ(r->text, "Latin-1 body: na\xC3\xAFve caf\xC3\xA9.");
  // No blank line before the next separator: it still splits.
  EXPECT_NE(sink.Find("mbox:testlist:msg5@gmail.com"), nullptr);
}

TEST(MboxTest, ObfuscatedAddresses) {
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "basic.mbox", ReadOptions(), &sink));
  const Record* named = sink.Find("mbox:testlist:msg5@gmail.com");
  ASSERT_NE(named, nullptr);
  EXPECT_EQ(named->author_key, "mailname:duncan murdoch");
  EXPECT_EQ(named->author_name, "Duncan Murdoch");
  EXPECT_EQ(named->title, "obfuscated");
  EXPECT_EQ(named->timestamp, Utc(2019, 4, 5, 13, 0, 0));
  const Record* unnamed = sink.Find("mbox:testlist:msg6@localhost");
  ASSERT_NE(unnamed, nullptr);
  EXPECT_EQ(unnamed->author_key, "mail:irederik m@iii@g oii oib@@et");
  EXPECT_EQ(unnamed->author_name, "irederik");
}

TEST(MboxTest, DuplicateAndMissingMessageId) {
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "basic.mbox", ReadOptions(), &sink));
  int copies = 0;
  for (const Record& r : sink.records) copies += r.id == "mbox:testlist:msg2@stats.ox.ac.uk";
  EXPECT_EQ(copies, 2);
  std::vector<const Record*> nomid;
  for (const Record& r : sink.records) {
    if (r.id.rfind("mbox:testlist:nomid:", 0) == 0) nomid.push_back(&r);
  }
  ASSERT_EQ(nomid.size(), 1u);
  EXPECT_GT(nomid[0]->id.size(), std::string("mbox:testlist:nomid:").size());
  EXPECT_EQ(nomid[0]->author_key, "mail:jane@example.org");
  EXPECT_EQ(nomid[0]->thread_id, nomid[0]->id);
  // Synthetic ids are stable across runs.
  CollectingSink again;
  ASSERT_OK(ReadMbox(kFixtures + "basic.mbox", ReadOptions(), &again));
  EXPECT_NE(again.Find(nomid[0]->id), nullptr);
}

TEST(MboxTest, ListRewrittenSenderAndTruncatedLastMessage) {
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "basic.mbox", ReadOptions(), &sink));
  const Record* via = sink.Find("mbox:testlist:msg8@example.org");
  ASSERT_NE(via, nullptr);
  EXPECT_EQ(via->author_key, "mail:jane@example.org");  // X-Original-From, not the list address
  EXPECT_EQ(via->author_name, "Jane Doe");
  const Record* last = sink.Find("mbox:testlist:msg9@example.org");
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->author_key, "mail:john@example.org");
  EXPECT_EQ(last->author_name, "John Smith");
  EXPECT_EQ(last->reply_to, "mbox:testlist:msg8@example.org");
  EXPECT_EQ(last->text, "This last message is cut off in the mid");
}

TEST(MboxTest, MultipartTransferEncodingsAndCharsets) {
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "multipart.mbox", ReadOptions(), &sink));
  EXPECT_TRUE(sink.bad.empty());
  ASSERT_EQ(sink.records.size(), 2u);
  const Record* r = sink.Find("mbox:testlist:mp1@ethz.ch");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->author_key, "mail:maechler@stat.math.ethz.ch");
  EXPECT_EQ(r->timestamp, Utc(2010, 1, 4, 9, 0, 0));
  EXPECT_NE(r->text.find("Base64 part: Gr\xC3\xBC\xC3\x9F"
                         "e aus Z\xC3\xBCrich."),
            std::string::npos)
      << r->text;
  EXPECT_NE(r->text.find("Quoted-printable latin-1: d\xC3\xA9j\xC3\xA0 vu, a softbreak here."), std::string::npos)
      << r->text;
  EXPECT_EQ(r->text.find("HTML alternative"), std::string::npos);
  EXPECT_EQ(r->text.find("Attached text file"), std::string::npos);
  EXPECT_EQ(r->text.find("multi-part message"), std::string::npos);
  const Record* reply = sink.Find("mbox:testlist:mp2@example.org");
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->reply_to, r->id);
  EXPECT_EQ(reply->thread_id, r->id);
  EXPECT_EQ(reply->author_name, "Someone Else");
  EXPECT_EQ(reply->author_key, "mail:noone@example.org");
}

// Broken From lines, a bare Message-ID and ids split by header folding.
TEST(MboxTest, BrokenHeaders) {
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "broken.mbox", ReadOptions(), &sink));
  EXPECT_TRUE(sink.bad.empty());
  ASSERT_EQ(sink.records.size(), 4u);
  const Record& encoded = sink.records[0];  // RFC 2047 name and no address
  EXPECT_EQ(encoded.author_key, "mailname:jette halkj\xC3\xA6r jakobsen");
  EXPECT_EQ(encoded.author_name, "Jette Halkj\xC3\xA6r Jakobsen");
  EXPECT_EQ(encoded.timestamp, Utc(1999, 2, 16, 14, 48, 40));  // Date header wins over the envelope
  const Record& quotes = sink.records[1];                      // `Name" <addr (Name)`, Message-ID without <>
  EXPECT_EQ(quotes.id, "mbox:testlist:PM20007:12:28 PM");
  EXPECT_EQ(quotes.author_key, "mail:thoffman@zappa.sax.de");
  EXPECT_EQ(quotes.author_name, "Thomas Hoffmann");
  EXPECT_EQ(quotes.timestamp, Utc(2002, 4, 11, 14, 40, 27));  // "Thu, 11 Apr 2 10:40:27 EDT"
  const Record& addr_name = sink.records[2];                  // the comment repeats the address
  EXPECT_EQ(addr_name.author_key, "mail:marquardt.christian@gmail.com");
  EXPECT_EQ(addr_name.author_name, "marquardt.christian");
  EXPECT_EQ(addr_name.thread_id, "mbox:testlist:b1@example.org");
  EXPECT_EQ(addr_name.reply_to, "mbox:testlist:x@mail.uni-bayreuth.de");  // folded inside the id
  const Record& open = sink.records[3];                                   // unterminated comment
  EXPECT_EQ(open.author_key, "mail:thorn.thaler@rdls.nestle.com");
  EXPECT_EQ(open.author_name, "Thaler, Thorn, LAUSANNE");
  EXPECT_EQ(open.reply_to, "mbox:testlist:x@mail.uni-bayreuth.de");
}

TEST(MboxTest, CrlfLineEndings) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  fs::create_directories(tmp.path() + "/testlist");
  const std::string file = tmp.path() + "/testlist/crlf.mbox";
  {
    std::ifstream in(kFixtures + "basic.mbox", std::ios::binary);
    std::ofstream out(file, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) out << line << "\r\n";
  }
  CollectingSink lf, crlf;
  ASSERT_OK(ReadMbox(kFixtures + "basic.mbox", ReadOptions(), &lf));
  ASSERT_OK(ReadMbox(file, ReadOptions(), &crlf));
  ASSERT_EQ(crlf.records.size(), lf.records.size());
  for (size_t i = 0; i < lf.records.size(); ++i) {
    EXPECT_EQ(crlf.records[i].id, lf.records[i].id);
    EXPECT_EQ(crlf.records[i].author_key, lf.records[i].author_key);
    EXPECT_EQ(crlf.records[i].timestamp, lf.records[i].timestamp);
    EXPECT_EQ(crlf.records[i].title, lf.records[i].title);
    EXPECT_EQ(crlf.records[i].text, lf.records[i].text);
  }
}

TEST(MboxTest, MissingFromIsBadRecordWithPosition) {
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "nofrom.mbox", ReadOptions(), &sink));
  ASSERT_EQ(sink.bad.size(), 1u);
  EXPECT_EQ(sink.bad[0].reason, "no-from");
  EXPECT_EQ(sink.bad[0].pos.line, 1);
  EXPECT_NE(sink.bad[0].pos.ToString().find("nofrom.mbox:1"), std::string::npos);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].id, "mbox:testlist:ok@example.org");
}

// An empty message (a separator directly followed by the next one): gmime
// finds no message in it.
TEST(MboxTest, MalformedMimeIsBadRecord) {
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "malformed.mbox", ReadOptions(), &sink));
  ASSERT_EQ(sink.bad.size(), 1u);
  EXPECT_EQ(sink.bad[0].reason, "malformed-mime");
  EXPECT_EQ(sink.bad[0].pos.line, 1);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].text, "Fine message.");
}

TEST(MboxTest, OptionsOverrideSourceCommunityVisibility) {
  ReadOptions options;
  options.source = "mail:internal";
  options.community = "team";
  options.visibility = "internal";
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "multipart.mbox", options, &sink));
  ASSERT_EQ(sink.records.size(), 2u);
  const Record* r = sink.Find("mail:internal:mp2@example.org");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->source, "mail:internal");
  EXPECT_EQ(r->community, "team");
  EXPECT_EQ(r->visibility, "internal");
  EXPECT_EQ(r->reply_to, "mail:internal:mp1@ethz.ch");
}

TEST(MboxTest, MissingFileIsError) {
  CollectingSink sink;
  EXPECT_FALSE(ReadMbox(kFixtures + "does-not-exist.mbox", ReadOptions(), &sink).ok());
}

// A 2 MB header line (generated, not stored in the repo) and a message
// over the size cap: skipped as "too-large", the next message still read.
TEST(MboxTest, HostileSizes) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string dir = tmp.path() + "/hostile";
  fs::create_directories(dir);
  const std::string file = dir + "/big.mbox";
  {
    std::ofstream out(file, std::ios::binary);
    out << "From a at b.org  Mon Jan  4 10:00:00 2010\n"
        << "From: a at b.org (A B)\n"
        << "Date: Mon, 4 Jan 2010 10:00:00 +0000\n"
        << "Subject: big header\n"
        << "X-Junk: " << std::string(2 << 20, 'x') << "\n"
        << "Message-ID: <big@b.org>\n\nsmall body\n\n"
        << "From c at d.org  Mon Jan  4 11:00:00 2010\n"
        << "From: c at d.org (C D)\n"
        << "Date: Mon, 4 Jan 2010 11:00:00 +0000\n"
        << "Subject: big body\n"
        << "Message-ID: <bigbody@d.org>\n\n";
    for (int i = 0; i < 30000; ++i) out << "a line of body text that repeats to make the message large\n";
    out << "\nFrom e at f.org  Mon Jan  4 12:00:00 2010\n"
        << "From: e at f.org (E F)\n"
        << "Date: Mon, 4 Jan 2010 12:00:00 +0000\n"
        << "Subject: after\n"
        << "Message-ID: <after@f.org>\n\nstill read\n";
  }
  {
    CollectingSink sink;
    ASSERT_OK(ReadMbox(file, ReadOptions(), &sink));  // default cap 16 MB: all fit
    EXPECT_TRUE(sink.bad.empty());
    ASSERT_EQ(sink.records.size(), 3u);
    EXPECT_EQ(sink.records[0].id, "mbox:hostile:big@b.org");
    EXPECT_EQ(sink.records[0].text, "small body");
  }
  {
    ReadOptions options;
    options.max_record_bytes = 1 << 20;
    CollectingSink sink;
    ASSERT_OK(ReadMbox(file, options, &sink));
    ASSERT_EQ(sink.bad.size(), 2u);
    EXPECT_EQ(sink.bad[0].reason, "too-large");
    EXPECT_EQ(sink.bad[0].pos.line, 1);
    EXPECT_EQ(sink.bad[1].reason, "too-large");
    EXPECT_EQ(sink.bad[1].pos.line, 10);
    ASSERT_EQ(sink.records.size(), 1u);
    EXPECT_EQ(sink.records[0].id, "mbox:hostile:after@f.org");
    EXPECT_EQ(sink.records[0].text, "still read");
  }
}

// ---------------------------------------------------------------------------
// Real data: ../shared/data/mbox/r-devel/*.mbox.xz (MANIFEST.md section 3).

struct Totals {
  int64_t records = 0, bad = 0;
  std::vector<std::string> ids;
  int64_t min_ts = INT64_MAX, max_ts = INT64_MIN;
  int64_t ripley_early = 0, ripley_late = 0;  // `@` form (<= 2002) and ` at ` form (>= 2004)
  int64_t nomid = 0;
  int64_t warnings = 0;
  std::map<std::string, int64_t> bad_reasons;
};

class TotalsSink : public RecordSink {
 public:
  explicit TotalsSink(Totals* t) : t_(t) {}
  absl::Status OnRecord(Record r) override {
    ++t_->records;
    if (r.id.find(":nomid:") != std::string::npos) ++t_->nomid;
    t_->ids.push_back(std::move(r.id));
    t_->min_ts = std::min(t_->min_ts, r.timestamp);
    t_->max_ts = std::max(t_->max_ts, r.timestamp);
    if (r.author_key == "mail:ripley@stats.ox.ac.uk") {
      if (r.timestamp < Utc(2003, 1, 1, 0, 0, 0)) ++t_->ripley_early;
      if (r.timestamp >= Utc(2004, 1, 1, 0, 0, 0)) ++t_->ripley_late;
    }
    return absl::OkStatus();
  }
  void OnBadRecord(const SourcePos&, std::string_view reason, const absl::Status&) override {
    ++t_->bad;
    ++t_->bad_reasons[std::string(reason)];
  }
  void OnWarning(const SourcePos& pos, std::string_view reason, const absl::Status& status) override {
    ++t_->warnings;
    std::printf("warning %s %s: %s\n", pos.ToString().c_str(), std::string(reason).c_str(),
                std::string(status.message()).c_str());
  }

 private:
  Totals* t_;
};

TEST(MboxRealDataTest, RDevelArchiveMatchesManifest) {
  const fs::path dir = fs::path(WK_SHARED_DATA_DIR) / "mbox" / "r-devel";
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().string().size() > 8 && e.path().string().ends_with(".mbox.xz")) files.push_back(e.path().string());
  }
  if (files.empty()) GTEST_SKIP() << "no r-devel archive under " << dir;
  ASSERT_EQ(files.size(), 30u);
  // Biggest first, so the two workers finish together.
  std::sort(files.begin(), files.end(),
            [](const std::string& a, const std::string& b) { return fs::file_size(a) > fs::file_size(b); });
  const int kThreads = 2;
  std::vector<Totals> totals(files.size());
  std::vector<absl::Status> statuses(files.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < files.size(); i = next++) {
        TotalsSink sink(&totals[i]);
        statuses[i] = ReadMbox(files[i], ReadOptions(), &sink);
      }
    });
  }
  for (std::thread& w : workers) w.join();
  Totals all;
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_OK(statuses[i]);
    const Totals& t = totals[i];
    all.records += t.records;
    all.bad += t.bad;
    all.nomid += t.nomid;
    all.warnings += t.warnings;
    all.min_ts = std::min(all.min_ts, t.min_ts);
    all.max_ts = std::max(all.max_ts, t.max_ts);
    all.ripley_early += t.ripley_early;
    all.ripley_late += t.ripley_late;
    for (const auto& [k, v] : t.bad_reasons) all.bad_reasons[k] += v;
    all.ids.insert(all.ids.end(), t.ids.begin(), t.ids.end());
  }
  for (const auto& [k, v] : all.bad_reasons) std::printf("bad %s: %lld\n", k.c_str(), static_cast<long long>(v));
  EXPECT_EQ(all.records + all.bad, 80696);  // messages as stored
  EXPECT_EQ(all.warnings, 0);               // no message looks like several
  std::sort(all.ids.begin(), all.ids.end());
  all.ids.erase(std::unique(all.ids.begin(), all.ids.end()), all.ids.end());
  const auto nomid_ids = std::count_if(all.ids.begin(), all.ids.end(),
                                       [](const std::string& id) { return id.find(":nomid:") != std::string::npos; });
  // 63,508 unique Message-IDs (one of them the bare `PM20007:12:28 PM`).
  EXPECT_EQ(static_cast<int64_t>(all.ids.size()) - nomid_ids, 63508);
  // The 3 messages without a Message-ID are one 1997 message stored 3 times
  // (byte-identical copies): the content hash gives them one synthetic id, so
  // 63,509 unique record ids, where MANIFEST's de-dup by Message-ID keeps all
  // 3 copies (63,511).
  EXPECT_EQ(all.nomid, 3);
  EXPECT_EQ(nomid_ids, 1);
  EXPECT_EQ(all.ids.size(), 63509u);
  const absl::CivilDay first = absl::ToCivilDay(absl::FromUnixSeconds(all.min_ts), absl::UTCTimeZone());
  const absl::CivilDay last = absl::ToCivilDay(absl::FromUnixSeconds(all.max_ts), absl::UTCTimeZone());
  EXPECT_EQ(first, absl::CivilDay(1997, 4, 1));
  EXPECT_EQ(last, absl::CivilDay(2026, 4, 19));
  EXPECT_GT(all.ripley_early, 0);  // from `ripley@stats.ox.ac.uk`
  EXPECT_GT(all.ripley_late, 0);   // from `ripley at stats.ox.ac.uk`
}

// pipermail replaces a removed part by a stub ("An embedded and charset-unspecified text was
// scrubbed...", Name:, URL: ...); without a "next part" line before it (a mail whose only
// part was HTML) the stub used to be the message's whole text, so every such mail matched
// every other one. The stub is not the author's words; the words around it are.
TEST(MboxTest, ScrubbedAttachmentStubsAreNotText) {
  CollectingSink sink;
  ASSERT_OK(ReadMbox(kFixtures + "scrubbed.mbox", ReadOptions(), &sink));
  const Record* only = sink.Find("mbox:testlist:scrub1@example.org");
  ASSERT_NE(only, nullptr);
  EXPECT_EQ(only->title, "Tab formatting in dummy.coef.R");
  EXPECT_EQ(only->text, "");
  const Record* mixed = sink.Find("mbox:testlist:scrub2@example.org");
  ASSERT_NE(mixed, nullptr);
  EXPECT_NE(mixed->text.find("The tabs come from the deparser."), std::string::npos);
  EXPECT_NE(mixed->text.find("Patch above; it replaces each tab by four spaces."), std::string::npos);
  for (const char* stub : {"scrubbed", "Name:", "URL:", "attachment", "tabs.patch", "Size:"}) {
    EXPECT_EQ(mixed->text.find(stub), std::string::npos) << stub;
  }
}

}  // namespace
}  // namespace whoknows::indexer
