// JSON Lines reader and the single-record JSON parser (also used by gRPC ingest).
//
// Schema: one JSON object per line. Empty (whitespace-only) lines are skipped.
//   {
//     "id":          string, required. Unique within the source.
//     "source":      string. Default "jsonl:<file stem>" (ReadOptions.source
//                    replaces that default), e.g. "jsonl:team-chat".
//     "kind":        "post" | "question" | "answer" | "comment" | "mail" | "chat";
//                    default "post".
//     "author":      string, required. An identity key ("mail:a@b.org",
//                    "se:<site>:<id>", "slack:<ws>:<id>", "mailname:<name>",
//                    "jsonl:...") or a bare e-mail address ("a@b.org" or
//                    "a at b.org" -> "mail:a@b.org"); any other value v becomes
//                    "<source>:user:<v>".
//     "author_name": string, display name.
//     "timestamp":   required. Seconds since the Unix epoch (number), or an
//                    ISO-8601 string: "2016-07-31T12:00:00Z", with an offset
//                    "+02:00", with fractional seconds, without a zone (UTC), a
//                    space instead of 'T', or a bare date "2016-07-31".
//     "title", "text": strings.
//     "thread":      string, id of the thread root; default: the record itself.
//     "reply_to":    string, id of the parent record.
//     "mentions":    [string], identity keys or addresses (normalised as "author").
//     "tags":        [string], topics (lower-cased).
//     "community":   string. Default ReadOptions.community, else the source.
//     "visibility":  string. Default ReadOptions.visibility, else "internal".
//     "score":       integer.
//     "accepted":    bool.
//   }
// The record id is "<source>:<id>" unless id already starts with "<source>:";
// "thread" and "reply_to" are scoped the same way. null counts as absent;
// unknown fields are ignored.
//
// Errors (each one skips the line, names file:line and reading continues):
//   "malformed-json"   the line is not valid JSON
//   "malformed-record" valid JSON but not an object
//   "missing-field"    id, author or timestamp missing (the message names it)
//   "bad-field"        a field has the wrong type or value (names it)
//   "too-large"        the line is longer than ReadOptions.max_record_bytes
// Invalid UTF-8 is replaced with U+FFFD and the record kept.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "whoknows/base/source_pos.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/indexer/aliases.h"
#include "whoknows/indexer/input.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/indexer/record.h"

namespace whoknows::indexer {
namespace {

using json = nlohmann::json;

// A parse failure: a stable reason label plus a human message.
struct ParseError {
  std::string_view reason;
  std::string message;
};

std::string_view TrimWs(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool HasKnownPrefix(std::string_view key) {
  for (std::string_view p : {"mail:", "se:", "slack:", "mailname:", "jsonl:"}) {
    if (std::string_view(key).starts_with(p)) return true;
  }
  return false;
}

std::string Scoped(std::string_view source, std::string_view id) {
  if (std::string_view(id).starts_with(source) && id.size() > source.size() && id[source.size()] == ':') {
    return std::string(id);
  }
  return absl::StrFormat("%s:%s", source, id);
}

std::string AuthorKey(std::string_view source, std::string_view value) {
  std::string key = NormalizeIdentityKey(value);
  if (key.empty()) return key;
  if (HasKnownPrefix(key)) return key;
  if (std::string_view(key).starts_with(source) && key.size() > source.size() && key[source.size()] == ':') return key;
  return absl::StrFormat("%s:user:%s", source, key);
}

bool ParseIsoTime(std::string_view s, int64_t* out) {
  static constexpr const char* kFormats[] = {
      "%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%dT%H:%M:%E*SZ",
      "%Y-%m-%dT%H:%M:%E*S",    "%Y-%m-%d %H:%M:%E*S%Ez",
      "%Y-%m-%d %H:%M:%E*SZ",   "%Y-%m-%d %H:%M:%E*S",
      "%Y-%m-%dT%H:%M%Ez",      "%Y-%m-%dT%H:%MZ",
      "%Y-%m-%dT%H:%M",         "%Y-%m-%d",
  };
  const std::string str(s);
  for (const char* f : kFormats) {
    absl::Time t;
    std::string err;
    if (absl::ParseTime(f, str, absl::UTCTimeZone(), &t, &err)) {
      *out = absl::ToUnixSeconds(t);
      return true;
    }
  }
  return false;
}

// Optional string field: absent/null -> false; wrong type -> error.
bool OptString(const json& obj, const char* key, std::string* out, ParseError* err) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return false;
  if (!it->is_string()) {
    *err = {"bad-field", absl::StrFormat("field \"%s\" must be a string", key)};
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

bool OptStringList(const json& obj, const char* key, std::vector<std::string>* out, ParseError* err) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return false;
  if (!it->is_array()) {
    *err = {"bad-field", absl::StrFormat("field \"%s\" must be an array of strings", key)};
    return false;
  }
  for (const json& e : *it) {
    if (!e.is_string()) {
      *err = {"bad-field", absl::StrFormat("field \"%s\" must be an array of strings", key)};
      return false;
    }
    out->push_back(e.get<std::string>());
  }
  return true;
}

// Parses one record; on failure fills *err and returns false.
bool ParseRecordImpl(std::string_view line, const ReadOptions& options, std::string_view default_source, Record* r,
                     ParseError* err) {
  std::string text(line);
  SanitizeUtf8(&text);  // nlohmann rejects ill-formed UTF-8; keep the record instead
  json obj = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded()) {
    *err = {"malformed-json", "not valid JSON"};
    return false;
  }
  if (!obj.is_object()) {
    *err = {"malformed-record", "not a JSON object"};
    return false;
  }
  err->reason = {};
  auto fail = [&]() { return !err->reason.empty(); };

  std::string source(default_source);
  OptString(obj, "source", &source, err);
  if (fail()) return false;
  if (source.empty()) source = "jsonl";
  r->source = source;

  std::string id;
  if (!OptString(obj, "id", &id, err)) {
    if (!fail()) *err = {"missing-field", "missing required field \"id\""};
    return false;
  }
  if (id.empty()) {
    *err = {"bad-field", "field \"id\" is empty"};
    return false;
  }
  r->id = Scoped(source, id);

  std::string kind;
  if (OptString(obj, "kind", &kind, err)) {
    if (!ParseKindName(kind, &r->kind)) {
      *err = {"bad-field", absl::StrFormat("field \"kind\": unknown kind \"%s\"", kind)};
      return false;
    }
  }
  if (fail()) return false;

  std::string author;
  if (!OptString(obj, "author", &author, err)) {
    if (!fail()) *err = {"missing-field", "missing required field \"author\""};
    return false;
  }
  r->author_key = AuthorKey(source, author);
  if (r->author_key.empty()) {
    *err = {"bad-field", "field \"author\" is empty"};
    return false;
  }
  OptString(obj, "author_name", &r->author_name, err);
  if (fail()) return false;

  auto ts = obj.find("timestamp");
  if (ts == obj.end() || ts->is_null()) {
    *err = {"missing-field", "missing required field \"timestamp\""};
    return false;
  }
  if (ts->is_number_integer() || ts->is_number_unsigned()) {
    if (ts->is_number_unsigned() && ts->get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()}) {
      *err = {"bad-field", "field \"timestamp\" is out of range"};
      return false;
    }
    r->timestamp = ts->get<int64_t>();
  } else if (ts->is_number_float()) {
    double d = ts->get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 1e15) {
      *err = {"bad-field", "field \"timestamp\" is out of range"};
      return false;
    }
    r->timestamp = static_cast<int64_t>(std::floor(d));
  } else if (ts->is_string()) {
    if (!ParseIsoTime(ts->get_ref<const std::string&>(), &r->timestamp)) {
      *err = {"bad-field", absl::StrFormat("field \"timestamp\": cannot parse \"%s\" as ISO-8601",
                                           ts->get_ref<const std::string&>())};
      return false;
    }
  } else {
    *err = {"bad-field", "field \"timestamp\" must be a number (epoch seconds) or an ISO-8601 string"};
    return false;
  }

  OptString(obj, "title", &r->title, err);
  if (fail()) return false;
  OptString(obj, "text", &r->text, err);
  if (fail()) return false;

  std::string thread;
  if (OptString(obj, "thread", &thread, err) && !thread.empty()) {
    r->thread_id = Scoped(source, thread);
  } else {
    r->thread_id = r->id;
  }
  if (fail()) return false;
  std::string reply_to;
  if (OptString(obj, "reply_to", &reply_to, err) && !reply_to.empty()) r->reply_to = Scoped(source, reply_to);
  if (fail()) return false;

  std::vector<std::string> mentions;
  OptStringList(obj, "mentions", &mentions, err);
  if (fail()) return false;
  for (const std::string& m : mentions) {
    std::string key = AuthorKey(source, m);
    if (!key.empty()) r->mentions.push_back(std::move(key));
  }
  std::vector<std::string> tags;
  OptStringList(obj, "tags", &tags, err);
  if (fail()) return false;
  for (const std::string& t : tags) {
    std::string tag = AsciiLower(TrimWs(t));
    if (!tag.empty()) r->topics.push_back(std::move(tag));
  }

  if (!OptString(obj, "community", &r->community, err) || r->community.empty()) {
    r->community = options.community.empty() ? source : options.community;
  }
  if (fail()) return false;
  if (!OptString(obj, "visibility", &r->visibility, err) || r->visibility.empty()) {
    r->visibility = options.visibility.empty() ? "internal" : options.visibility;
  }
  if (fail()) return false;

  if (auto sc = obj.find("score"); sc != obj.end() && !sc->is_null()) {
    bool ok = false;
    if (sc->is_number_integer()) {
      int64_t v = sc->get<int64_t>();
      ok = v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
      if (ok) r->score = static_cast<int32_t>(v);
    } else if (sc->is_number_unsigned()) {
      uint64_t v = sc->get<uint64_t>();
      ok = v <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max());
      if (ok) r->score = static_cast<int32_t>(v);
    }
    if (!ok) {
      *err = {"bad-field", "field \"score\" must be a 32-bit integer"};
      return false;
    }
  }
  if (auto ac = obj.find("accepted"); ac != obj.end() && !ac->is_null()) {
    if (!ac->is_boolean()) {
      *err = {"bad-field", "field \"accepted\" must be a bool"};
      return false;
    }
    r->accepted = ac->get<bool>();
  }
  return true;
}

bool SafeParse(std::string_view line, const ReadOptions& options, std::string_view default_source, Record* r,
               ParseError* err) {
  try {
    return ParseRecordImpl(line, options, default_source, r, err);
  } catch (const std::exception& e) {  // nlohmann type errors should be impossible; never crash on input
    *err = {"bad-field", absl::StrFormat("unexpected JSON error: %s", e.what())};
    return false;
  }
}

std::string FileStem(const std::string& path) {
  std::string name = std::filesystem::path(StripCompressionSuffix(path)).filename().string();
  for (std::string_view ext : {".jsonl", ".ndjson", ".json"}) {
    if (std::string_view(name).ends_with(ext) && name.size() > ext.size()) {
      name.resize(name.size() - ext.size());
      break;
    }
  }
  return name;
}

}  // namespace

absl::StatusOr<Record> ParseJsonRecord(std::string_view json_text, const ReadOptions& options,
                                       std::string_view default_source) {
  Record r;
  ParseError err;
  std::string source = options.source.empty() ? std::string(default_source) : options.source;
  if (!SafeParse(json_text, options, source, &r, &err)) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", err.reason, err.message));
  }
  return r;
}

absl::Status ReadJsonl(const std::string& path, const ReadOptions& options, RecordSink* sink) {
  absl::StatusOr<std::unique_ptr<InputFile>> opened = InputFile::Open(path);
  if (!opened.ok()) return opened.status();
  InputFile& in = **opened;
  const std::string source = options.source.empty() ? absl::StrFormat("jsonl:%s", FileStem(path)) : options.source;
  std::string line;
  bool too_long = false;
  int64_t line_no = 0;
  while (in.ReadLine(&line, options.max_record_bytes, &too_long)) {
    ++line_no;
    SourcePos pos{.file = path, .line = line_no};
    if (too_long) {
      sink->OnBadRecord(pos, "too-large",
                        absl::InvalidArgumentError(absl::StrFormat("%s: line longer than %d bytes", pos.ToString(),
                                                                   options.max_record_bytes)));
      continue;
    }
    if (line_no == 1 && std::string_view(line).starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    if (TrimWs(line).empty()) continue;
    Record r;
    ParseError err;
    if (!SafeParse(line, options, source, &r, &err)) {
      sink->OnBadRecord(pos, err.reason,
                        absl::InvalidArgumentError(absl::StrFormat("%s: %s", pos.ToString(), err.message)));
      continue;
    }
    WK_RETURN_IF_ERROR(sink->OnRecord(std::move(r)));
    if ((line_no & 1023) == 0) sink->OnProgress(path, in.compressed_done(), in.compressed_size());
  }
  if (!in.status().ok()) return in.status();
  sink->OnProgress(path, in.compressed_done(), in.compressed_size());
  return absl::OkStatus();
}

}  // namespace whoknows::indexer
