// mbox files as other tools write them, each generated at test time: mail
// clients (Received chains before From:), public-inbox (mboxrd, `From
// mboxrd@z` envelopes), mboxcl2 (Content-Length, unescaped `From ` in a body),
// CRLF line ends, Python's mailbox.mbox; and the warnings that make a split
// failure visible. The acceptance run indexes a 5,000-message Python mbox
// with the `whoknows` binary: count in == records out.

#include <stdio.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_util.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/readers.h"

namespace whoknows::indexer {
namespace {

namespace fs = std::filesystem;
using testing::CollectSink;
using testing::TempDir;

const std::string kPython = "/usr/bin/python3";

int64_t Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::ToUnixSeconds(absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone()));
}

void Write(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string Crlf(const std::string& s) { return absl::StrReplaceAll(s, {{"\n", "\r\n"}}); }

// Thunderbird and mutt: the envelope line is followed by Return-Path,
// Received chains, Delivered-To... and From: comes somewhere later.
const char kClientMbox[] =
    "From - Mon Jan 01 10:00:00 2024\n"
    "X-Mozilla-Status: 0001\n"
    "X-Mozilla-Status2: 00000000\n"
    "Return-Path: <alice@example.org>\n"
    "Delivered-To: bob@example.net\n"
    "Received: from mx.example.org (mx.example.org [192.0.2.1])\n"
    "\tby mail.example.net (Postfix) with ESMTPS id 4T1\n"
    "\tfor <bob@example.net>; Mon, 1 Jan 2024 10:00:01 +0000 (UTC)\n"
    "Received: from [10.0.0.2] (unknown [198.51.100.7])\n"
    "\tby mx.example.org (Postfix) with ESMTPSA id 5A2;\n"
    "\tMon, 1 Jan 2024 10:00:00 +0000 (UTC)\n"
    "Date: Mon, 1 Jan 2024 11:00:00 +0100\n"
    "From: Alice Example <alice@example.org>\n"
    "To: dev@lists.example.org\n"
    "Subject: Build fails on ARM\n"
    "Message-ID: <t1@example.org>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "\n"
    "The build fails on ARM since yesterday.\n"
    "From the log it is the linker.\n"
    "\n"
    "From alice@example.org Mon Jan  1 10:05:00 2024\n"
    "as the machine printed it, this line is body text.\n"
    "\n"
    "From bob@example.net  Tue Jan  2 09:30:00 2024\n"
    "Return-Path: <bob@example.net>\n"
    "Received: from mail.example.net (mail.example.net [203.0.113.5])\n"
    "\tby mx.example.org (Postfix) with ESMTPS id 9B3\n"
    "\tfor <dev@lists.example.org>; Tue, 2 Jan 2024 09:30:02 +0000 (UTC)\n"
    "Date: Tue, 2 Jan 2024 09:30:00 +0000\n"
    "From: \"Bob Builder\" <Bob@Example.NET>\n"
    "To: dev@lists.example.org\n"
    "Subject: Re: Build fails on ARM\n"
    "Message-ID: <t2@example.net>\n"
    "In-Reply-To: <t1@example.org>\n"
    "References: <t1@example.org>\n"
    "\n"
    "Alice Example wrote:\n"
    "> The build fails on ARM since yesterday.\n"
    "\n"
    "Try the gold linker.\n"
    "\n"
    "From carol@example.com Wed Jan  3 13:00:00 +0000 2024\n"
    "Delivered-To: bob@example.net\n"
    "Received: by 2002:a05:6402:1234 with SMTP id x1csp1;\n"
    "        Wed, 3 Jan 2024 05:00:01 -0800 (PST)\n"
    "From: Carol <carol@example.com>\n"
    "Date: Wed, 3 Jan 2024 08:00:00 -0500\n"
    "Subject: Re: Build fails on ARM\n"
    "Message-ID: <t3@example.com>\n"
    "In-Reply-To: <t2@example.net>\n"
    "References: <t1@example.org> <t2@example.net>\n"
    "\n"
    "That fixed it, thanks.\n"
    "\n"
    "From dave@example.com Thu Jan  4 12:00:00 2024\n"
    "X-GM-THRID: 1787\n"
    "Subject: A separate topic\n"
    "From: dave@example.com\n"
    "Date: Thu, 04 Jan 2024 12:00:00 +0000\n"
    "Message-ID: <t4@example.com>\n"
    "\n"
    "Unrelated.\n";

void ExpectClientRecords(const CollectSink& sink, const std::string& prefix) {
  EXPECT_TRUE(sink.bad.empty()) << sink.bad.front().pos << " " << sink.bad.front().message;
  EXPECT_TRUE(sink.warnings.empty()) << sink.warnings.front().message;
  ASSERT_EQ(sink.records.size(), 4u);
  const Record& a = sink.records[0];
  EXPECT_EQ(a.id, prefix + "t1@example.org");
  EXPECT_EQ(a.author_key, "mail:alice@example.org");
  EXPECT_EQ(a.author_name, "Alice Example");
  EXPECT_EQ(a.timestamp, Utc(2024, 1, 1, 10, 0, 0));
  EXPECT_EQ(a.title, "Build fails on ARM");
  EXPECT_EQ(a.thread_id, a.id);
  EXPECT_TRUE(a.reply_to.empty());
  EXPECT_NE(a.text.find("From the log it is the linker."), std::string::npos) << a.text;
  // An envelope-form body line followed by text is body text.
  EXPECT_NE(a.text.find("From alice@example.org Mon Jan  1 10:05:00 2024\nas the machine printed it"),
            std::string::npos)
      << a.text;
  const Record& b = sink.records[1];
  EXPECT_EQ(b.id, prefix + "t2@example.net");
  EXPECT_EQ(b.author_key, "mail:bob@example.net");
  EXPECT_EQ(b.author_name, "Bob Builder");
  EXPECT_EQ(b.timestamp, Utc(2024, 1, 2, 9, 30, 0));
  EXPECT_EQ(b.reply_to, a.id);
  EXPECT_EQ(b.thread_id, a.id);
  EXPECT_EQ(b.text, "Try the gold linker.");
  const Record& c = sink.records[2];
  EXPECT_EQ(c.id, prefix + "t3@example.com");
  EXPECT_EQ(c.author_key, "mail:carol@example.com");
  EXPECT_EQ(c.author_name, "Carol");
  EXPECT_EQ(c.timestamp, Utc(2024, 1, 3, 13, 0, 0));
  EXPECT_EQ(c.reply_to, b.id);
  EXPECT_EQ(c.thread_id, a.id);
  const Record& d = sink.records[3];
  EXPECT_EQ(d.id, prefix + "t4@example.com");
  EXPECT_EQ(d.author_key, "mail:dave@example.com");
  EXPECT_EQ(d.timestamp, Utc(2024, 1, 4, 12, 0, 0));
  EXPECT_EQ(d.thread_id, d.id);
  EXPECT_EQ(d.text, "Unrelated.");
}

TEST(MboxVariantsTest, MailClientHeadersInAnyOrder) {
  TempDir tmp;
  const std::string file = tmp.Sub("inbox/client.mbox");
  Write(file, kClientMbox);
  CollectSink sink;
  ASSERT_OK(ReadMbox(file, ReadOptions(), &sink));
  ExpectClientRecords(sink, "mbox:inbox:");
}

// public-inbox's mboxrd export: every envelope is `From mboxrd@z Thu Jan  1
// 00:00:00 1970` and body `From ` lines are escaped with one more '>'.
TEST(MboxVariantsTest, PublicInboxMboxrd) {
  TempDir tmp;
  const std::string file = tmp.Sub("lkml/public-inbox.mbox");
  Write(file,
        "From mboxrd@z Thu Jan  1 00:00:00 1970\n"
        "Return-Path: <eve@example.org>\n"
        "From: Eve Hacker <eve@example.org>\n"
        "To: lkml@example.org\n"
        "Subject: [PATCH 1/2] mm: fix the leak\n"
        "Date: Fri, 5 Jan 2024 10:00:00 +0000\n"
        "Message-Id: <p1@example.org>\n"
        "\n"
        "The patch fixes the leak.\n"
        ">From now on the pool is freed.\n"
        "\n"
        "From mboxrd@z Thu Jan  1 00:00:00 1970\n"
        "Subject: Re: [PATCH 1/2] mm: fix the leak\n"
        "Date: Sat, 6 Jan 2024 11:00:00 +0100\n"
        "From: Frank <frank@example.org>\n"
        "Message-Id: <p2@example.org>\n"
        "In-Reply-To: <p1@example.org>\n"
        "References: <p1@example.org>\n"
        "\n"
        "Reviewed, one nit:\n"
        ">>From a quoted mbox line, escaped twice.\n"
        "Looks good.\n"
        "\n"
        "From mboxrd@z Thu Jan  1 00:00:00 1970\n"
        "Date: Sun, 7 Jan 2024 12:00:00 +0000\n"
        "Message-Id: <p3@example.org>\n"
        "From: Eve Hacker <eve@example.org>\n"
        "In-Reply-To: <p2@example.org>\n"
        "References: <p1@example.org> <p2@example.org>\n"
        "Subject: Re: [PATCH 1/2] mm: fix the leak\n"
        "\n"
        "Thanks, v2 soon.\n");
  CollectSink sink;
  ASSERT_OK(ReadMbox(file, ReadOptions(), &sink));
  EXPECT_TRUE(sink.bad.empty());
  EXPECT_TRUE(sink.warnings.empty());
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.records[0].id, "mbox:lkml:p1@example.org");
  EXPECT_EQ(sink.records[0].author_key, "mail:eve@example.org");
  EXPECT_EQ(sink.records[0].timestamp, Utc(2024, 1, 5, 10, 0, 0));  // the Date header, not 1970
  EXPECT_EQ(sink.records[0].title, "mm: fix the leak");
  EXPECT_EQ(sink.records[0].text, "The patch fixes the leak.\nFrom now on the pool is freed.");
  EXPECT_EQ(sink.records[1].author_key, "mail:frank@example.org");
  EXPECT_EQ(sink.records[1].author_name, "Frank");
  EXPECT_EQ(sink.records[1].timestamp, Utc(2024, 1, 6, 10, 0, 0));
  EXPECT_EQ(sink.records[1].reply_to, "mbox:lkml:p1@example.org");
  EXPECT_EQ(sink.records[1].thread_id, "mbox:lkml:p1@example.org");
  EXPECT_EQ(sink.records[1].text.find(">>From"), std::string::npos);
  EXPECT_EQ(sink.records[2].author_key, "mail:eve@example.org");
  EXPECT_EQ(sink.records[2].timestamp, Utc(2024, 1, 7, 12, 0, 0));
  EXPECT_EQ(sink.records[2].reply_to, "mbox:lkml:p2@example.org");
  EXPECT_EQ(sink.records[2].thread_id, "mbox:lkml:p1@example.org");
  EXPECT_EQ(sink.records[2].text, "Thanks, v2 soon.");
}

// One mboxcl2 message: envelope, headers, Content-Length of the body (in the
// file's own line ends), blank line, body; not From-escaped. `length_delta`
// makes the Content-Length wrong.
std::string Cl2Message(const std::string& envelope, const std::string& headers, const std::string& body, bool crlf,
                       int length_delta = 0) {
  const std::string eol_body = crlf ? Crlf(body) : body;
  std::string m = envelope + "\n" + headers +
                  absl::StrFormat("Content-Length: %d\n\n", static_cast<int64_t>(eol_body.size()) + length_delta);
  m = crlf ? Crlf(m) : m;
  return m + eol_body;
}

// Two messages; the first one's body quotes a bounce that starts with an
// unescaped envelope line followed by a From: header, which every other rule
// would take for a new message.
std::string Cl2Mbox(bool crlf, int length_delta) {
  const std::string sep = crlf ? "\r\n" : "\n";
  return Cl2Message("From alice@example.org Mon Jan  8 10:00:00 2024",
                    "Return-Path: <alice@example.org>\n"
                    "From: Alice <alice@example.org>\n"
                    "Date: Mon, 8 Jan 2024 10:00:00 +0000\n"
                    "Subject: bounce seen\n"
                    "Message-ID: <c1@example.org>\n",
                    "Here is the bounce I got:\n"
                    "\n"
                    "From MAILER-DAEMON Mon Jan  8 09:59:00 2024\n"
                    "From: Mail Delivery System <mailer-daemon@example.org>\n"
                    "Subject: Undelivered Mail Returned to Sender\n"
                    "\n"
                    "The address was wrong.\n",
                    crlf, length_delta) +
         sep +
         Cl2Message("From bob@example.net Mon Jan  8 11:00:00 2024",
                    "Return-Path: <bob@example.net>\n"
                    "From: Bob <bob@example.net>\n"
                    "Date: Mon, 8 Jan 2024 11:00:00 +0000\n"
                    "Subject: Re: bounce seen\n"
                    "Message-ID: <c2@example.net>\n"
                    "In-Reply-To: <c1@example.org>\n",
                    "Looks like a typo in the address.\n", crlf);
}

void ExpectCl2Records(const CollectSink& sink) {
  EXPECT_TRUE(sink.bad.empty()) << sink.bad.front().message;
  ASSERT_EQ(sink.records.size(), 2u);
  const Record& a = sink.records[0];
  EXPECT_EQ(a.id, "mbox:cl2:c1@example.org");
  EXPECT_EQ(a.author_key, "mail:alice@example.org");
  EXPECT_EQ(a.timestamp, Utc(2024, 1, 8, 10, 0, 0));
  EXPECT_EQ(a.thread_id, a.id);
  // The quoted bounce stays in the body, verbatim.
  EXPECT_NE(a.text.find("From MAILER-DAEMON Mon Jan  8 09:59:00 2024\nFrom: Mail Delivery System"), std::string::npos)
      << a.text;
  EXPECT_NE(a.text.find("The address was wrong."), std::string::npos) << a.text;
  const Record& b = sink.records[1];
  EXPECT_EQ(b.id, "mbox:cl2:c2@example.net");
  EXPECT_EQ(b.author_key, "mail:bob@example.net");
  EXPECT_EQ(b.timestamp, Utc(2024, 1, 8, 11, 0, 0));
  EXPECT_EQ(b.reply_to, a.id);
  EXPECT_EQ(b.thread_id, a.id);
  EXPECT_EQ(b.text, "Looks like a typo in the address.");
}

TEST(MboxVariantsTest, Mboxcl2ContentLengthKeepsUnescapedFromInBody) {
  TempDir tmp;
  const std::string file = tmp.Sub("cl2/mail.mbox");
  Write(file, Cl2Mbox(false, 0));
  CollectSink sink;
  ASSERT_OK(ReadMbox(file, ReadOptions(), &sink));
  ExpectCl2Records(sink);
  // A trailing blank line after the last body is fine too.
  Write(file, Cl2Mbox(false, 0) + "\n");
  CollectSink trailing;
  ASSERT_OK(ReadMbox(file, ReadOptions(), &trailing));
  ExpectCl2Records(trailing);
}

// A Content-Length that does not end at a message boundary is ignored: the
// envelope rules split the body, so the quoted bounce becomes a message.
TEST(MboxVariantsTest, Mboxcl2WrongContentLengthFallsBackToEnvelopeRules) {
  TempDir tmp;
  const std::string file = tmp.Sub("cl2/mail.mbox");
  for (int delta : {-3, 5, 100000}) {
    Write(file, Cl2Mbox(false, delta));
    CollectSink sink;
    ASSERT_OK(ReadMbox(file, ReadOptions(), &sink));
    ASSERT_EQ(sink.records.size(), 3u) << delta;
    EXPECT_EQ(sink.records[0].id, "mbox:cl2:c1@example.org");
    EXPECT_EQ(sink.records[0].text, "Here is the bounce I got:");
    EXPECT_EQ(sink.records[1].author_key, "mail:mailer-daemon@example.org");
    EXPECT_EQ(sink.records[1].timestamp, Utc(2024, 1, 8, 9, 59, 0));  // envelope date: no Date header
    EXPECT_EQ(sink.records[2].id, "mbox:cl2:c2@example.net");
    EXPECT_EQ(sink.records[2].reply_to, "mbox:cl2:c1@example.org");
  }
}

TEST(MboxVariantsTest, CrlfLineEnds) {
  TempDir tmp;
  {
    const std::string file = tmp.Sub("inbox/client-crlf.mbox");
    Write(file, Crlf(kClientMbox));
    CollectSink sink;
    ASSERT_OK(ReadMbox(file, ReadOptions(), &sink));
    ExpectClientRecords(sink, "mbox:inbox:");
  }
  {
    const std::string file = tmp.Sub("cl2/crlf.mbox");
    Write(file, Cl2Mbox(true, 0));  // Content-Length counts the CRs
    CollectSink sink;
    ASSERT_OK(ReadMbox(file, ReadOptions(), &sink));
    ExpectCl2Records(sink);
  }
}

// Writes `n` messages with Python's mailbox.mbox (mboxo: body `From ` lines
// become `>From `). Headers as a mail store keeps them: Return-Path and
// Received before From:. Every fifth message starts a thread; the others
// reply to the previous one. Returns false when python3 fails.
bool WritePythonMbox(const std::string& path, int n) {
  const std::string script = path + ".py";
  Write(script,
        "import email.utils, mailbox, sys\n"
        "box = mailbox.mbox(sys.argv[1], create=True)\n"
        "box.lock()\n"
        "for i in range(int(sys.argv[2])):\n"
        "    k = i % 37\n"
        "    d = email.utils.formatdate(1700000000 + i * 3600)\n"
        "    h = ['Return-Path: <p%d@example.org>' % k,\n"
        "         'Received: from mx.example.org by mail.example.org; ' + d,\n"
        "         'From: Person %d <p%d@example.org>' % (k, k), 'To: team@example.org',\n"
        "         'Subject: Topic %d' % (i // 5), 'Date: ' + d, 'Message-ID: <m%d@example.org>' % i]\n"
        "    if i % 5:\n"
        "        h += ['In-Reply-To: <m%d@example.org>' % (i - 1),\n"
        "              'References: <m%d@example.org> <m%d@example.org>' % (i - i % 5, i - 1)]\n"
        "    box.add('\\n'.join(h) + '\\n\\nMessage %d about topic %d.\\n'\n"
        "            'From the start this line began with From.\\n' % (i, i // 5))\n"
        "box.flush()\n"
        "box.unlock()\n"
        "box.close()\n");
  const std::string cmd = kPython + " " + script + " " + path + " " + std::to_string(n);
  return std::system(cmd.c_str()) == 0;
}

TEST(MboxVariantsTest, PythonMailboxModule) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  TempDir tmp;
  const std::string file = tmp.Sub("team/python.mbox");
  fs::create_directories(tmp.Sub("team"));
  constexpr int kMessages = 60;
  ASSERT_TRUE(WritePythonMbox(file, kMessages));
  CollectSink sink;
  ASSERT_OK(ReadMbox(file, ReadOptions(), &sink));
  EXPECT_TRUE(sink.bad.empty());
  EXPECT_TRUE(sink.warnings.empty());
  ASSERT_EQ(sink.records.size(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) {
    const Record& r = sink.records[i];
    const int k = i % 37;
    EXPECT_EQ(r.id, absl::StrFormat("mbox:team:m%d@example.org", i));
    EXPECT_EQ(r.author_key, absl::StrFormat("mail:p%d@example.org", k));
    EXPECT_EQ(r.author_name, absl::StrFormat("Person %d", k));
    EXPECT_EQ(r.timestamp, 1700000000 + int64_t{i} * 3600);
    EXPECT_EQ(r.title, absl::StrFormat("Topic %d", i / 5));
    EXPECT_EQ(r.thread_id, absl::StrFormat("mbox:team:m%d@example.org", i - i % 5));
    EXPECT_EQ(r.reply_to, i % 5 == 0 ? "" : absl::StrFormat("mbox:team:m%d@example.org", i - 1));
    EXPECT_EQ(r.text, absl::StrFormat("Message %d about topic %d.\nFrom the start this line began with From.", i, i / 5));
  }
}

// Envelope lines whose dates are not in asctime form cannot be split on:
// the whole file is one message, and that is reported, not silent.
TEST(MboxVariantsTest, UnsplittableFileWarnsWithFileAndOffset) {
  TempDir tmp;
  const std::string file = tmp.Sub("odd/odd.mbox");
  std::string content;
  for (int i = 0; i < 5; ++i) {
    content += absl::StrFormat(
        "From p%d@example.org Mon, %d Jan 2024 10:00:00 +0000\n"
        "Received: by mx.example.org; Mon, %d Jan 2024 10:00:00 +0000\n"
        "From: P%d <p%d@example.org>\n"
        "Date: Mon, %d Jan 2024 10:00:00 +0000\n"
        "Message-ID: <odd%d@example.org>\n"
        "\n"
        "Body %d.\n"
        "\n",
        i, i + 1, i + 1, i, i, i + 1, i, i);
  }
  Write(file, content);
  CollectSink sink;
  ASSERT_OK(ReadMbox(file, ReadOptions(), &sink));
  ASSERT_EQ(sink.records.size(), 1u);
  ASSERT_EQ(sink.warnings.size(), 1u);
  EXPECT_EQ(sink.warnings[0].reason, "suspect-split");
  EXPECT_EQ(sink.warnings[0].pos, file + ":1");
  EXPECT_NE(sink.warnings[0].message.find("byte offset 0"), std::string::npos) << sink.warnings[0].message;
  EXPECT_NE(sink.warnings[0].message.find("4 envelope-like"), std::string::npos) << sink.warnings[0].message;

  // The same lines after two real messages: the warning names the second,
  // which swallowed them, by line and byte offset.
  const std::string first =
      "From a@example.org Mon Jan  1 00:00:00 2024\nFrom: a@example.org\nMessage-ID: <a@example.org>\n\nA.\n\n"
      "From b@example.org Mon Jan  1 01:00:00 2024\nFrom: b@example.org\nMessage-ID: <b@example.org>\n\nB.\n\n";
  Write(file, first + content);
  CollectSink second;
  ASSERT_OK(ReadMbox(file, ReadOptions(), &second));
  ASSERT_EQ(second.records.size(), 2u);
  ASSERT_EQ(second.warnings.size(), 1u);
  EXPECT_EQ(second.warnings[0].pos, file + ":7");
  const size_t b_offset = first.find("From b@");
  EXPECT_NE(second.warnings[0].message.find(absl::StrFormat("byte offset %d", b_offset)), std::string::npos)
      << second.warnings[0].message;
  EXPECT_NE(second.warnings[0].message.find("5 envelope-like"), std::string::npos) << second.warnings[0].message;
}

// A file with no envelope line at all reads nothing, and says so.
TEST(MboxVariantsTest, NoEnvelopeLineWarns) {
  TempDir tmp;
  const std::string file = tmp.Sub("x/notes.mbox");
  Write(file, "Subject: not an mbox\n\njust text\n");
  CollectSink sink;
  ASSERT_OK(ReadMbox(file, ReadOptions(), &sink));
  EXPECT_TRUE(sink.records.empty());
  ASSERT_EQ(sink.warnings.size(), 1u);
  EXPECT_EQ(sink.warnings[0].reason, "no-messages");
}

TEST(MboxVariantsTest, ImplausiblyLargeMessageWarns) {
  TempDir tmp;
  const std::string file = tmp.Sub("big/big.mbox");
  std::string content =
      "From a@example.org Mon Jan  1 00:00:00 2024\nFrom: A <a@example.org>\nMessage-ID: <small@example.org>\n\n"
      "small\n\n";
  const size_t big_at = content.size();
  content += "From b@example.org Mon Jan  1 01:00:00 2024\nFrom: B <b@example.org>\nMessage-ID: <big@example.org>\n\n";
  const std::string line(99, 'x');
  while (content.size() < (size_t{9} << 20)) content += line + "\n";
  Write(file, content);
  CollectSink sink;
  ASSERT_OK(ReadMbox(file, ReadOptions(), &sink));
  ASSERT_EQ(sink.records.size(), 2u);  // kept, but reported
  ASSERT_EQ(sink.warnings.size(), 1u);
  EXPECT_EQ(sink.warnings[0].reason, "large-message");
  EXPECT_EQ(sink.warnings[0].pos, file + ":7");
  EXPECT_NE(sink.warnings[0].message.find(absl::StrFormat("byte offset %d", big_at)), std::string::npos)
      << sink.warnings[0].message;
}

// Acceptance: `whoknows index` over a 5,000-message mbox written by Python's
// mailbox.mbox reads every message.
TEST(MboxVariantsTest, IndexCommandReadsEveryMessageOfPythonMbox) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  const std::string bin = std::string(WK_BINARY_DIR) + "/service/whoknows";
  ASSERT_TRUE(fs::exists(bin)) << bin;
  TempDir tmp;
  const std::string file = tmp.Sub("team/archive.mbox");
  fs::create_directories(tmp.Sub("team"));
  constexpr int kMessages = 5000;
  ASSERT_TRUE(WritePythonMbox(file, kMessages));
  // The count in: one Python envelope line per message.
  {
    std::ifstream in(file, std::ios::binary);
    std::string l;
    int envelopes = 0;
    while (std::getline(in, l)) envelopes += l.rfind("From MAILER-DAEMON ", 0) == 0;
    ASSERT_EQ(envelopes, kMessages);
  }
  const std::string cmd = bin + " index --quiet --json --db " + tmp.Sub("db") + " " + file + " 2>" + tmp.Sub("err");
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char chunk[4096];
  for (size_t n; (n = fread(chunk, 1, sizeof chunk, p)) > 0;) out.append(chunk, n);
  ASSERT_EQ(pclose(p), 0) << out;
  const nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["read"].get<int>(), kMessages) << out;
  EXPECT_EQ(j["indexed"].get<int>(), kMessages) << out;
  EXPECT_EQ(j["skipped"].get<int>(), 0) << out;
  EXPECT_EQ(j["warnings"].get<int>(), 0) << out;
}

}  // namespace
}  // namespace whoknows::indexer
