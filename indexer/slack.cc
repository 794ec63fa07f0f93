// Slack workspace export reader.
//
// Layout: <workspace>/users.json, <workspace>/channels.json and one directory
// per channel holding <YYYY-MM-DD>.json day files, each a JSON array of
// message objects. The workspace name is the directory name.
//
// One kChat Record per content message:
//   - content = no subtype (ordinary message), file_share, file_comment (the
//     author is comment.user and the text comment.comment), thread_broadcast
//     and me_message. Bot posts (a non-empty bot_id, or subtype bot_message)
//     and channel events (channel_join/leave/purpose/topic/name/archive,
//     pinned_item, bot_add, message_changed, ...) are skipped silently: they
//     are neither records nor bad records.
//   - id "<source>:<channel>:<ts>" (source defaults to "slack:<workspace>", so
//     "slack:houstondatavis:general:1433864707.943132"); timestamp = ts seconds.
//   - author_key "slack:<workspace>:<user id>"; author_name from users.json:
//     profile.real_name, then real_name, then name (real_name may be "").
//   - mentions: <@U123|name> and <@U123> as identity keys (the author's own
//     mention, as in "<@U1|x> uploaded a file", is dropped).
//   - text: mentions become "@name", links <url|label> become the label (or
//     the url), <#C1|chan> becomes "#chan", <!here> "@here"; then &amp; &lt;
//     &gt; are unescaped.
//   - topics: the channel name plus #hashtags in the text, lower-cased. The
//     workspace's default channels are not topics, as a list's name is not:
//     the one channels.json marks "is_general" (#general, where every member
//     is) and #random (named so, or still with Slack's default purpose "A
//     place for non-work-related flimflam...", whatever it was renamed to).
//
// Threads. With thread_ts (modern exports) thread_id is
// "<source>:<channel>:<thread_ts>" and reply_to is the same id when
// ts != thread_ts. Exports made before Slack had threads (houstondatavis, 2016)
// have no thread_ts, so conversations are inferred from time: a message within
// kConversationGap (30 minutes) of the previous content message in the same
// channel continues that conversation (thread_id = the conversation's first
// message id, reply_to = the previous message id); otherwise it starts a new
// one (thread_id = its own id, no reply_to). Messages are taken in channel
// order: day files by name (chronological), and by ts inside a file.
//
// Errors: a day file that is not valid JSON -> OnBadRecord("malformed-json",
// "<file>#0"); a JSON value that is not an array -> "malformed-record" <file>#0;
// an array element that is not an object -> "malformed-record" <file>#<index>;
// a content message with a missing or unparsable ts -> "missing-field" /
// "bad-field" <file>#<index>; a day file over max_record_bytes -> "too-large".
// Reading continues with the next message or file.

#include <algorithm>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "whoknows/base/source_pos.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/indexer/input.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/indexer/record.h"

namespace whoknows::indexer {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Gap that ends an inferred conversation in a thread-less export.
constexpr int64_t kConversationGapMicros = int64_t{30} * 60 * 1000000;
// users.json / channels.json may be large for big workspaces.
constexpr size_t kMinMetaFileBytes = 256 << 20;

struct SlackUser {
  std::string handle;        // "timabram"
  std::string display_name;  // real name, or the handle
};

struct Context {
  std::string workspace;
  std::string source;
  std::string community;
  std::string visibility;
  absl::flat_hash_map<std::string, SlackUser> users;
  absl::flat_hash_map<std::string, std::string> channel_names;  // id -> name
  absl::flat_hash_set<std::string> default_channels;            // names: not topics
};

const std::string* GetString(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

std::string StringOr(const json& obj, const char* key) {
  const std::string* s = GetString(obj, key);
  return s == nullptr ? std::string() : *s;
}

enum class ReadJsonResult { kOk, kSkipped };

// Reads and parses one JSON file. Unreadable (I/O) -> error status; a bad
// file -> reported to the sink and *result = kSkipped.
absl::Status ReadJsonFile(const std::string& path, size_t max_bytes, RecordSink* sink, json* out,
                          ReadJsonResult* result) {
  *result = ReadJsonResult::kSkipped;
  absl::StatusOr<std::unique_ptr<InputFile>> in = InputFile::Open(path);
  if (!in.ok()) return in.status();
  SourcePos pos{.file = path, .record = 0};
  absl::StatusOr<std::string> content = (*in)->ReadAll(max_bytes);
  if (!content.ok()) {
    if (absl::IsResourceExhausted(content.status())) {
      sink->OnBadRecord(
          pos, "too-large",
          absl::InvalidArgumentError(absl::StrFormat("%s: file larger than %d bytes", pos.ToString(), max_bytes)));
      return absl::OkStatus();
    }
    return content.status();
  }
  SanitizeUtf8(&*content);  // nlohmann rejects ill-formed UTF-8; keep the text instead
  *out = json::parse(*content, nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded()) {
    sink->OnBadRecord(pos, "malformed-json",
                      absl::InvalidArgumentError(absl::StrFormat("%s: not valid JSON", pos.ToString())));
    return absl::OkStatus();
  }
  *result = ReadJsonResult::kOk;
  return absl::OkStatus();
}

absl::Status LoadUsers(const std::string& path, const ReadOptions& options, RecordSink* sink, Context* ctx) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return absl::OkStatus();  // names fall back to ids
  json users;
  ReadJsonResult result;
  if (absl::Status s =
          ReadJsonFile(path, std::max(options.max_record_bytes, size_t{kMinMetaFileBytes}), sink, &users, &result);
      !s.ok() || result != ReadJsonResult::kOk) {
    return s;
  }
  if (!users.is_array()) {
    SourcePos pos{.file = path, .record = 0};
    sink->OnBadRecord(pos, "malformed-record",
                      absl::InvalidArgumentError(absl::StrFormat("%s: users.json is not an array", pos.ToString())));
    return absl::OkStatus();
  }
  for (const json& u : users) {
    if (!u.is_object()) continue;
    const std::string* id = GetString(u, "id");
    if (id == nullptr) continue;
    SlackUser user;
    user.handle = StringOr(u, "name");
    std::string real;
    if (auto p = u.find("profile"); p != u.end() && p->is_object()) real = StringOr(*p, "real_name");
    if (real.empty()) real = StringOr(u, "real_name");
    user.display_name = !real.empty() ? real : user.handle;
    ctx->users[*id] = std::move(user);
  }
  return absl::OkStatus();
}

absl::Status LoadChannels(const std::string& path, const ReadOptions& options, RecordSink* sink, Context* ctx) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return absl::OkStatus();
  json channels;
  ReadJsonResult result;
  if (absl::Status s =
          ReadJsonFile(path, std::max(options.max_record_bytes, size_t{kMinMetaFileBytes}), sink, &channels, &result);
      !s.ok() || result != ReadJsonResult::kOk) {
    return s;
  }
  if (!channels.is_array()) return absl::OkStatus();
  for (const json& c : channels) {
    if (!c.is_object()) continue;
    const std::string* id = GetString(c, "id");
    const std::string* name = GetString(c, "name");
    if (id != nullptr && name != nullptr) ctx->channel_names[*id] = *name;
    if (name == nullptr) continue;
    const auto general = c.find("is_general");
    const auto purpose = c.find("purpose");
    const std::string* purpose_text = purpose != c.end() && purpose->is_object() ? GetString(*purpose, "value") : nullptr;
    if ((general != c.end() && general->is_boolean() && general->get<bool>()) || AsciiLower(*name) == "random" ||
        (purpose_text != nullptr && absl::StartsWith(*purpose_text, "A place for non-work-related flimflam"))) {
      ctx->default_channels.insert(*name);
    }
  }
  return absl::OkStatus();
}

// Parses a Slack ts ("1433864707.943132") into microseconds since the epoch.
bool ParseTs(std::string_view ts, int64_t* micros) {
  if (ts.empty() || ts.size() > 32) return false;
  int64_t secs = 0;
  size_t i = 0;
  for (; i < ts.size() && ts[i] != '.'; ++i) {
    if (ts[i] < '0' || ts[i] > '9') return false;
    secs = secs * 10 + (ts[i] - '0');
    if (secs > int64_t{1} << 40) return false;
  }
  if (i == 0) return false;
  int64_t frac = 0;
  int digits = 0;
  if (i < ts.size()) {
    for (++i; i < ts.size(); ++i) {
      if (ts[i] < '0' || ts[i] > '9') return false;
      if (digits < 6) {
        frac = frac * 10 + (ts[i] - '0');
        ++digits;
      }
    }
  }
  for (; digits < 6; ++digits) frac *= 10;
  *micros = secs * 1000000 + frac;
  return true;
}

bool IsTagChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

// Replaces Slack markup with plain text; collects mentioned user ids.
std::string CleanText(std::string_view in, const Context& ctx, std::vector<std::string>* mentioned_ids) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    char c = in[i];
    if (c == '<') {
      size_t close = in.find('>', i + 1);
      size_t next_open = in.find('<', i + 1);
      if (close == std::string_view::npos || (next_open != std::string_view::npos && next_open < close)) {
        out.push_back(c);
        ++i;
        continue;
      }
      std::string_view inner = in.substr(i + 1, close - i - 1);
      std::string_view target = inner;
      std::string_view label;
      if (size_t bar = inner.find('|'); bar != std::string_view::npos) {
        target = inner.substr(0, bar);
        label = inner.substr(bar + 1);
      }
      if (std::string_view(target).starts_with("@")) {
        std::string id(target.substr(1));
        mentioned_ids->push_back(id);
        out.push_back('@');
        if (!label.empty()) {
          out.append(label.data(), label.size());
        } else if (auto it = ctx.users.find(id); it != ctx.users.end() && !it->second.handle.empty()) {
          out.append(it->second.handle);
        } else {
          out.append(id);
        }
      } else if (std::string_view(target).starts_with("#")) {
        out.push_back('#');
        std::string id(target.substr(1));
        if (!label.empty()) {
          out.append(label.data(), label.size());
        } else if (auto it = ctx.channel_names.find(id); it != ctx.channel_names.end()) {
          out.append(it->second);
        } else {
          out.append(id);
        }
      } else if (std::string_view(target).starts_with("!")) {
        if (!label.empty()) {
          out.append(label.data(), label.size());
        } else {
          std::string_view word = target.substr(1);
          word = word.substr(0, word.find('^'));
          out.push_back('@');
          out.append(word.data(), word.size());
        }
      } else {
        std::string_view shown = label.empty() ? target : label;
        out.append(shown.data(), shown.size());
      }
      i = close + 1;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  // Slack escapes only these three.
  std::string plain;
  plain.reserve(out.size());
  for (size_t j = 0; j < out.size();) {
    if (out[j] == '&') {
      std::string_view rest = std::string_view(out).substr(j);
      if (std::string_view(rest).starts_with("&amp;")) {
        plain.push_back('&');
        j += 5;
        continue;
      }
      if (std::string_view(rest).starts_with("&lt;")) {
        plain.push_back('<');
        j += 4;
        continue;
      }
      if (std::string_view(rest).starts_with("&gt;")) {
        plain.push_back('>');
        j += 4;
        continue;
      }
    }
    plain.push_back(out[j++]);
  }
  return plain;
}

// "#tag" words: '#' at the start or after a non-word character (so URL
// fragments like page#x are not tags), followed by a letter.
void AddHashtags(std::string_view text, std::vector<std::string>* topics) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '#') continue;
    if (i > 0) {
      char p = text[i - 1];
      if (IsTagChar(p) || p == '/' || p == '&' || p == '#' || p == '.') continue;
    }
    size_t j = i + 1;
    if (j >= text.size() || !absl::ascii_isalpha(static_cast<unsigned char>(text[j]))) continue;
    while (j < text.size() && IsTagChar(text[j])) ++j;
    std::string_view tag = text.substr(i + 1, j - i - 1);
    while (!tag.empty() && (tag.back() == '-' || tag.back() == '_')) tag.remove_suffix(1);
    if (tag.empty() || tag.size() > 64) continue;
    std::string t = AsciiLower(tag);
    if (std::find(topics->begin(), topics->end(), t) == topics->end()) topics->push_back(std::move(t));
    i = j - 1;
  }
}

bool IsContentSubtype(std::string_view subtype) {
  return subtype.empty() || subtype == "file_share" || subtype == "file_comment" || subtype == "thread_broadcast" ||
         subtype == "me_message";
}

bool IsBot(const json& m, std::string_view subtype) {
  if (subtype == "bot_message") return true;
  auto it = m.find("bot_id");
  // file_share messages carry "bot_id": null in old exports; only a real id counts.
  return it != m.end() && it->is_string() && !it->get_ref<const std::string&>().empty();
}

struct Conversation {
  bool active = false;
  int64_t last_micros = 0;
  std::string last_id;
  std::string root_id;
};

struct PendingMessage {
  int64_t micros;
  size_t index;
  std::string ts;
};

absl::Status ReadDayFile(const std::string& file, const std::string& channel, const Context& ctx,
                         const ReadOptions& options, RecordSink* sink, Conversation* conv) {
  json day;
  ReadJsonResult result;
  if (absl::Status s = ReadJsonFile(file, options.max_record_bytes, sink, &day, &result);
      !s.ok() || result != ReadJsonResult::kOk) {
    return s;
  }
  if (!day.is_array()) {
    SourcePos pos{.file = file, .record = 0};
    sink->OnBadRecord(pos, "malformed-record",
                      absl::InvalidArgumentError(absl::StrFormat("%s: day file is not a JSON array", pos.ToString())));
    return absl::OkStatus();
  }
  // Pick the content messages and order them by ts (exports are normally sorted).
  std::vector<PendingMessage> pending;
  pending.reserve(day.size());
  for (size_t i = 0; i < day.size(); ++i) {
    const json& m = day[i];
    SourcePos pos{.file = file, .record = static_cast<int64_t>(i)};
    if (!m.is_object()) {
      sink->OnBadRecord(
          pos, "malformed-record",
          absl::InvalidArgumentError(absl::StrFormat("%s: message is not a JSON object", pos.ToString())));
      continue;
    }
    std::string subtype;
    if (auto it = m.find("subtype"); it != m.end() && !it->is_null()) {
      if (!it->is_string()) {
        sink->OnBadRecord(pos, "bad-field",
                          absl::InvalidArgumentError(absl::StrFormat("%s: subtype is not a string", pos.ToString())));
        continue;
      }
      subtype = it->get<std::string>();
    }
    if (!IsContentSubtype(subtype) || IsBot(m, subtype)) continue;  // not content: skip silently
    auto ts_it = m.find("ts");
    if (ts_it == m.end() || ts_it->is_null()) {
      sink->OnBadRecord(pos, "missing-field",
                        absl::InvalidArgumentError(absl::StrFormat("%s: message has no ts", pos.ToString())));
      continue;
    }
    std::string ts;
    if (ts_it->is_string()) {
      ts = ts_it->get<std::string>();
    } else if (ts_it->is_number_unsigned() || ts_it->is_number_integer()) {
      ts = ts_it->dump();
    } else if (ts_it->is_number_float()) {
      ts = absl::StrFormat("%.6f", ts_it->get<double>());
    }
    int64_t micros = 0;
    if (!ParseTs(ts, &micros)) {
      sink->OnBadRecord(pos, "bad-field",
                        absl::InvalidArgumentError(absl::StrFormat("%s: bad ts %s", pos.ToString(), ts_it->dump())));
      continue;
    }
    pending.push_back({micros, i, std::move(ts)});
  }
  std::stable_sort(pending.begin(), pending.end(),
                   [](const PendingMessage& a, const PendingMessage& b) { return a.micros < b.micros; });

  const std::string channel_prefix = absl::StrFormat("%s:%s:", ctx.source, channel);
  for (const PendingMessage& p : pending) {
    const json& m = day[p.index];
    std::string subtype = StringOr(m, "subtype");
    Record r;
    r.kind = RecordKind::kChat;
    r.source = ctx.source;
    r.community = ctx.community;
    r.visibility = ctx.visibility;
    r.id = channel_prefix + p.ts;
    r.timestamp = p.micros / 1000000;

    std::string user;
    std::string raw_text = StringOr(m, "text");
    if (subtype == "file_comment") {
      if (auto c = m.find("comment"); c != m.end() && c->is_object()) {
        user = StringOr(*c, "user");
        if (const std::string* t = GetString(*c, "comment"); t != nullptr) raw_text = *t;
      }
    } else {
      user = StringOr(m, "user");
    }
    if (!user.empty()) {
      r.author_key = absl::StrFormat("slack:%s:%s", ctx.workspace, user);
      if (auto it = ctx.users.find(user); it != ctx.users.end() && !it->second.display_name.empty()) {
        r.author_name = it->second.display_name;
      } else if (std::string n = StringOr(m, "user_name"); !n.empty()) {
        r.author_name = n;
      } else if (std::string n2 = StringOr(m, "username"); !n2.empty()) {
        r.author_name = n2;
      } else {
        r.author_name = user;
      }
    }

    std::vector<std::string> mentioned;
    r.text = CleanText(raw_text, ctx, &mentioned);
    for (const std::string& id : mentioned) {
      if (id.empty() || id == user) continue;
      std::string key = absl::StrFormat("slack:%s:%s", ctx.workspace, id);
      if (std::find(r.mentions.begin(), r.mentions.end(), key) == r.mentions.end()) {
        r.mentions.push_back(std::move(key));
      }
    }
    if (!ctx.default_channels.contains(channel)) r.topics.push_back(AsciiLower(channel));
    AddHashtags(r.text, &r.topics);

    // Threads: explicit thread_ts, else inferred by time proximity.
    const std::string* thread_ts = GetString(m, "thread_ts");
    int64_t thread_micros = 0;
    if (thread_ts != nullptr && ParseTs(*thread_ts, &thread_micros)) {
      r.thread_id = channel_prefix + *thread_ts;
      if (*thread_ts != p.ts) {
        r.reply_to = r.thread_id;
      } else {
        conv->active = true;  // a thread root is also a channel-level message
        conv->root_id = r.id;
        conv->last_id = r.id;
        conv->last_micros = p.micros;
      }
    } else {
      if (conv->active && p.micros - conv->last_micros <= kConversationGapMicros) {
        r.thread_id = conv->root_id;
        r.reply_to = conv->last_id;
      } else {
        r.thread_id = r.id;
        conv->active = true;
        conv->root_id = r.id;
      }
      conv->last_id = r.id;
      conv->last_micros = p.micros;
    }
    WK_RETURN_IF_ERROR(sink->OnRecord(std::move(r)));
  }
  return absl::OkStatus();
}

std::string WorkspaceName(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  std::string name = p.filename().string();
  if (name.empty() || name == ".") {
    std::error_code ec;
    fs::path abs = fs::absolute(p, ec).lexically_normal();
    if (abs.filename().empty()) abs = abs.parent_path();
    name = abs.filename().string();
  }
  return name;
}

}  // namespace

absl::Status ReadSlackExport(const std::string& path, const ReadOptions& options, RecordSink* sink) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: not a Slack export directory", path));
  }
  Context ctx;
  ctx.workspace = WorkspaceName(path);
  ctx.source = options.source.empty() ? absl::StrFormat("slack:%s", ctx.workspace) : options.source;
  ctx.community = options.community.empty() ? ctx.workspace : options.community;
  ctx.visibility = options.visibility.empty() ? "internal" : options.visibility;
  const fs::path root(path);
  try {
    WK_RETURN_IF_ERROR(LoadUsers((root / "users.json").string(), options, sink, &ctx));
    WK_RETURN_IF_ERROR(LoadChannels((root / "channels.json").string(), options, sink, &ctx));
  } catch (const std::exception& e) {  // as above: report, keep going without names
    SourcePos pos{.file = (root / "users.json").string(), .record = 0};
    sink->OnBadRecord(pos, "malformed-record",
                      absl::InvalidArgumentError(absl::StrFormat("%s: %s", pos.ToString(), e.what())));
  }

  // Channel directories, in name order ("meetup" and "meetup-" are different channels).
  std::vector<std::string> channels;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_directory(ec2)) channels.push_back(it->path().filename().string());
  }
  if (ec) return absl::UnavailableError(absl::StrFormat("%s: cannot list: %s", path, ec.message()));
  std::sort(channels.begin(), channels.end());

  for (const std::string& channel : channels) {
    std::vector<std::string> days;
    std::error_code lec;
    for (fs::directory_iterator it(root / channel, lec), end; !lec && it != end; it.increment(lec)) {
      std::error_code ec2;
      if (!it->is_regular_file(ec2)) continue;
      std::string name = it->path().filename().string();
      if (std::string_view(StripCompressionSuffix(name)).ends_with(".json")) days.push_back(name);
    }
    if (lec) return absl::UnavailableError(absl::StrFormat("%s/%s: cannot list: %s", path, channel, lec.message()));
    std::sort(days.begin(), days.end());
    Conversation conv;
    for (const std::string& day : days) {
      const std::string file = (root / channel / day).string();
      absl::Status s;
      try {
        s = ReadDayFile(file, channel, ctx, options, sink, &conv);
      } catch (const std::exception& e) {  // nlohmann misuse on odd input; never crash on input
        SourcePos pos{.file = file, .record = 0};
        sink->OnBadRecord(pos, "malformed-record",
                          absl::InvalidArgumentError(absl::StrFormat("%s: %s", pos.ToString(), e.what())));
      }
      WK_RETURN_IF_ERROR(s);
      std::error_code sec;
      uintmax_t size = fs::file_size(file, sec);
      if (!sec) sink->OnProgress(file, size, size);
    }
  }
  return absl::OkStatus();
}

}  // namespace whoknows::indexer
