// A real crash test: a child `whoknows index` is killed with SIGKILL in the
// middle of a run; the database must open with every earlier commit intact,
// and a rerun must finish the job with no duplicates.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "test_util.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/index.h"

namespace whoknows::indexer {
namespace {

const std::string kBinary = std::string(WK_BINARY_DIR) + "/service/whoknows";

std::vector<std::string> Inputs() {
  std::vector<std::string> out;
  for (const char* year : {"1999", "2000", "2001"}) {
    std::string p = std::string(WK_SHARED_DATA_DIR) + "/mbox/r-devel/r-devel-" + year + ".mbox.xz";
    if (std::filesystem::exists(p)) out.push_back(p);
  }
  return out;
}

pid_t Spawn(const std::string& db, const std::vector<std::string>& inputs, const std::string& commit_every) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<std::string> args = {kBinary, "index", "--quiet", "--db", db, "--commit-every", commit_every};
    args.insert(args.end(), inputs.begin(), inputs.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stderr);
    freopen("/dev/null", "w", stdout);
    execv(kBinary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

std::multiset<std::string> Ids(const std::string& db) {
  std::multiset<std::string> ids;
  auto reader = IndexReader::Open(db);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return ids;
  EXPECT_OK((*reader)->ForEachDocument([&](const StoredDoc& d) { ids.insert(d.id); }));
  return ids;
}

TEST(CrashTest, KillNineMidRunThenRerunHasNoLossOrDuplicates) {
  std::vector<std::string> inputs = Inputs();
  if (inputs.size() < 3 || !std::filesystem::exists(kBinary)) GTEST_SKIP() << "needs ../shared/data and the whoknows binary";
  testing::TempDir tmp;
  const std::string ref = tmp.Sub("ref"), crash = tmp.Sub("crash");

  ASSERT_EQ(WaitExit(Spawn(ref, inputs, "2000")), 0);
  std::multiset<std::string> want = Ids(ref);
  ASSERT_GT(want.size(), 5000u);

  std::mt19937 rng(12345);
  int kills = 0;
  uint64_t seen_before_kill = 0;
  for (int round = 0; round < 3; ++round) {
    pid_t pid = Spawn(crash, inputs, "500");
    // Wait until the child made progress beyond what is already committed, then kill at a random moment.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    uint64_t base = 0;
    if (auto r = IndexReader::Open(crash); r.ok()) base = (*r)->doc_count();
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      auto r = IndexReader::Open(crash);
      if (r.ok() && (*r)->doc_count() > base) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (exited) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(rng)));
    kill(pid, SIGKILL);
    int status = WaitExit(pid);
    if (WIFSIGNALED(status)) {
      ++kills;
      // Every committed document is readable and none is duplicated.
      std::multiset<std::string> got = Ids(crash);
      std::set<std::string> uniq(got.begin(), got.end());
      EXPECT_EQ(uniq.size(), got.size());
      EXPECT_GE(got.size(), seen_before_kill);  // earlier commits intact
      for (const std::string& id : uniq) EXPECT_EQ(want.count(id), 1u) << id;
      seen_before_kill = got.size();
    }
  }
  EXPECT_GE(kills, 1);
  ASSERT_EQ(WaitExit(Spawn(crash, inputs, "500")), 0);
  EXPECT_EQ(Ids(crash), want);
}

}  // namespace
}  // namespace whoknows::indexer
