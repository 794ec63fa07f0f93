// Stack Exchange data dump reader (Posts.xml, Users.xml, Comments.xml).
//
// Dumps hold `<row .../>` elements inside a wrapper element (`<posts>`,
// `<users>`, `<comments>`), one per line in the official dumps; other tools
// may spread a row over several lines, keep raw newlines inside attribute
// values, or put several rows on one line. The reader cuts the stream into
// rows itself: a row starts at `<row` and ends at the `>` of `/>` (or at
// `</row>`) outside quoted values; raw newlines inside a value are kept as
// newlines (as `&#xA;` would be). Each row is then parsed on its own as a
// complete XML document by an expat parser that is reset between rows, so a
// malformed row costs only that row: a '<' can never appear inside a
// well-formed value, so a missing quote or a cut-off row ends at the next
// `<row`. Bad rows go to sink->OnBadRecord() as "malformed-xml" with the
// file:line where the row starts and the row Id, and reading continues. The
// XML declaration, DOCTYPE and wrapper tags are skipped; a UTF-8 BOM and CRLF
// line endings are accepted. Invalid UTF-8 is replaced with U+FFFD and the
// row is kept.
//
// Posts.xml is read twice. The first pass keeps only what records need from
// other rows (question tags, the set of accepted answer ids, answer ->
// question), so nothing depends on row order (real dumps are sorted by Id, and
// questions precede their answers, but this reader does not rely on it). The
// second pass emits records. Memory: a hash entry per question/answer plus the
// raw Tags string per question, and the Users.xml Id -> DisplayName map.

#include <expat.h>

#include <climits>
#include <cstdint>
#include <cstring>
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
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "html_text.h"
#include "whoknows/base/source_pos.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/indexer/input.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/indexer/record.h"

namespace whoknows::indexer {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kProgressEvery = 1 << 20;
constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// The attributes of one <row/>. A linear scan is cheaper than hashing for the
// ~15 attributes a row has.
class Row {
 public:
  void Clear() { size_ = 0; }
  void Add(const char* name, const char* value) {
    if (size_ == attrs_.size()) attrs_.emplace_back();
    attrs_[size_].first.assign(name);
    attrs_[size_].second.assign(value);
    ++size_;
  }
  // nullptr when the attribute is absent.
  const std::string* Get(std::string_view name) const {
    for (size_t i = 0; i < size_; ++i) {
      if (attrs_[i].first == name) return &attrs_[i].second;
    }
    return nullptr;
  }
  std::string_view GetOr(std::string_view name) const {
    const std::string* v = Get(name);
    return v == nullptr ? std::string_view() : std::string_view(*v);
  }
  bool GetInt(std::string_view name, int64_t* out) const {
    const std::string* v = Get(name);
    return v != nullptr && absl::SimpleAtoi(*v, out);
  }

 private:
  std::vector<std::pair<std::string, std::string>> attrs_;  // reused across rows
  size_t size_ = 0;
};

// The value of the row's Id attribute as it appears in the raw line, for
// error messages about rows that did not parse. Empty when not visible.
std::string VisibleRowId(std::string_view line) {
  for (std::string_view key : {" Id=\"", "\tId=\"", "\nId=\""}) {
    size_t at = line.find(key);
    if (at == std::string_view::npos) continue;
    size_t start = at + key.size();
    size_t end = start;
    while (end < line.size() && end - start < 20 && (line[end] == '-' || (line[end] >= '0' && line[end] <= '9'))) {
      ++end;
    }
    if (end > start) return std::string(line.substr(start, end - start));
  }
  return "";
}

// Streams the rows of one dump file. Not thread-safe. When `sink` is null the
// reader is quiet (bad rows are skipped without a report; no progress).
class RowReader {
 public:
  RowReader(const RowReader&) = delete;
  RowReader& operator=(const RowReader&) = delete;
  ~RowReader() {
    if (parser_ != nullptr) XML_ParserFree(parser_);
  }

  // `display` names the file in positions and messages.
  static absl::StatusOr<std::unique_ptr<RowReader>> Open(const std::string& path, std::string display, size_t max_bytes,
                                                         RecordSink* sink) {
    WK_ASSIGN_OR_RETURN(std::unique_ptr<InputFile> input, InputFile::Open(path));
    auto reader = std::unique_ptr<RowReader>(new RowReader(std::move(input), std::move(display), max_bytes, sink));
    reader->parser_ = XML_ParserCreate("UTF-8");
    if (reader->parser_ == nullptr) return absl::ResourceExhaustedError("cannot create an XML parser");
    return reader;
  }

  // Advances to the next well-formed row and fills *row. Returns false at the
  // end of the input; then call Finish().
  bool Next(Row* row) {
    for (;;) {
      if (pos_ >= line_.size()) {
        if (in_row_) {
          // A raw newline inside a row. In an attribute value it becomes
          // &#xA;, so it stays a newline as in dumps that write &#xA; (XML
          // would read a raw one as a space and join the lines of code
          // blocks); between attributes it is whitespace.
          if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
          pending_.append(quote_ != 0 ? "&#xA;" : "\n");
        }
        if (!NextLine()) {
          if (in_row_) {
            in_row_ = false;
            SetPos(row_line_no_, row_offset_);
            ReportBad("malformed-xml", absl::InvalidArgumentError(
                                           Message(VisibleRowId(pending_), "row not terminated at the end of the file")));
          }
          return false;
        }
        if (line_too_long_) {
          const bool row_continues = in_row_;
          SetPos(row_continues ? row_line_no_ : line_no_, row_continues ? row_offset_ : line_offset_);
          ReportBad("too-large", absl::ResourceExhaustedError(
                                     Message(VisibleRowId(row_continues ? std::string_view(pending_) : line_),
                                             absl::StrFormat("line longer than %d bytes", max_bytes_))));
          in_row_ = false;
          skip_to_lt_ = true;  // the rest of that row, up to the next element
          pos_ = line_.size();
        }
        continue;
      }
      if (!in_row_) {
        ScanOutsideRow();
        continue;
      }
      const RowScan scan = ScanRow();
      if (scan == RowScan::kMore) continue;
      SetPos(row_line_no_, row_offset_);
      if (scan == RowScan::kBroken) {
        ReportBad("malformed-xml",
                  absl::InvalidArgumentError(Message(VisibleRowId(pending_),
                                                     "row broken off by a '<' (an unescaped '<' or a missing quote)")));
        continue;
      }
      if (scan == RowScan::kTooLarge) {
        ReportBad("too-large", absl::ResourceExhaustedError(Message(
                                   VisibleRowId(pending_), absl::StrFormat("row longer than %d bytes", max_bytes_))));
        continue;
      }
      std::string error;
      if (!ParseRow(pending_, row, &error)) {
        ReportBad("malformed-xml", absl::InvalidArgumentError(Message(VisibleRowId(pending_), error)));
        continue;
      }
      return true;
    }
  }

  // After Next() returned false: OK at a clean end. A decode error after some
  // lines (a truncated .zst) is reported as a bad record and the rows read so
  // far stand; a file that yields nothing at all fails.
  absl::Status Finish() {
    if (sink_ != nullptr) sink_->OnProgress(input_->path(), input_->compressed_done(), input_->compressed_size());
    const absl::Status& s = input_->status();
    if (s.ok()) return absl::OkStatus();
    if (line_no_ == 0) return s;
    SetPos(line_no_, line_offset_);
    ReportBad("truncated-input", absl::DataLossError(absl::StrFormat("%s: %s", pos().ToString(), s.message())));
    return absl::OkStatus();
  }

  // Reports the current line as bad (for rows that parsed but make no sense).
  void ReportBad(std::string_view reason, const absl::Status& status) {
    if (sink_ != nullptr) sink_->OnBadRecord(pos(), reason, status);
  }
  // "<file>:<line>: row Id=<id>: <what>".
  std::string Message(std::string_view row_id, std::string_view what) const {
    if (row_id.empty()) return absl::StrFormat("%s: %s", pos().ToString(), what);
    return absl::StrFormat("%s: row Id=%s: %s", pos().ToString(), row_id, what);
  }

  SourcePos pos() const {
    SourcePos p;
    p.file = display_;
    p.line = pos_line_;
    p.offset = static_cast<int64_t>(pos_offset_);
    return p;
  }

 private:
  RowReader(std::unique_ptr<InputFile> input, std::string display, size_t max_bytes, RecordSink* sink)
      : input_(std::move(input)), display_(std::move(display)), max_bytes_(max_bytes), sink_(sink) {}

  enum class RowScan { kMore, kComplete, kBroken, kTooLarge };

  // Reads the next line into line_ (BOM stripped, UTF-8 repaired).
  bool NextLine() {
    line_offset_ = input_->offset();
    if (!input_->ReadLine(&line_, max_bytes_, &line_too_long_)) return false;
    ++line_no_;
    pos_ = 0;
    MaybeProgress();
    if (line_no_ == 1 && std::string_view(line_).substr(0, kBom.size()) == kBom) line_.erase(0, kBom.size());
    SanitizeUtf8(&line_);  // keep the row; bad bytes become U+FFFD
    return true;
  }

  // Between rows: whitespace, the XML declaration, DOCTYPE and the wrapper
  // element are skipped; a `<row` starts a row; anything else is reported.
  void ScanOutsideRow() {
    if (in_tag_) {  // an XML declaration, DOCTYPE or wrapper tag over several lines
      size_t gt = line_.find('>', pos_);
      tag_.push_back(' ');
      tag_.append(line_, pos_, gt == std::string::npos ? std::string::npos : gt + 1 - pos_);
      if (gt == std::string::npos && tag_.size() <= kMaxTagBytes) {
        pos_ = line_.size();
        return;
      }
      in_tag_ = false;
      pos_ = gt == std::string::npos ? line_.size() : gt + 1;
      if (gt == std::string::npos || !IsStructural(tag_)) {
        SetPos(tag_line_no_, tag_offset_);
        ReportBad("malformed-xml", absl::InvalidArgumentError(Message("", "expected a <row .../> element")));
        if (gt == std::string::npos) skip_to_lt_ = true;
      }
      return;
    }
    if (skip_to_lt_) {
      size_t lt = line_.find('<', pos_);
      if (lt == std::string::npos) {
        pos_ = line_.size();
        return;
      }
      pos_ = lt;
      skip_to_lt_ = false;
    }
    while (pos_ < line_.size() && IsBlank(line_[pos_])) ++pos_;
    if (pos_ >= line_.size()) return;
    std::string_view rest = std::string_view(line_).substr(pos_);
    if (rest.substr(0, 4) == "<row" && (rest.size() == 4 || IsBlank(rest[4]) || rest[4] == '/' || rest[4] == '>')) {
      in_row_ = true;
      quote_ = 0;
      close_wait_ = false;
      pending_.assign("<row");
      row_line_no_ = line_no_;
      row_offset_ = line_offset_ + pos_;
      pos_ += 4;
      return;
    }
    if (rest.front() == '<') {
      size_t gt = rest.find('>');
      if (gt != std::string_view::npos && IsStructural(rest.substr(0, gt + 1))) {
        pos_ += gt + 1;
        return;
      }
      if (gt == std::string_view::npos && rest.find('<', 1) == std::string_view::npos) {  // continues on the next line
        in_tag_ = true;
        tag_.assign(rest);
        tag_line_no_ = line_no_;
        tag_offset_ = line_offset_ + pos_;
        pos_ = line_.size();
        return;
      }
    }
    SetPos(line_no_, line_offset_);
    ReportBad("malformed-xml",
              absl::InvalidArgumentError(Message(VisibleRowId(rest), "expected a <row .../> element")));
    size_t lt = rest.find('<', 1);
    pos_ = lt == std::string_view::npos ? line_.size() : pos_ + lt;
  }

  // Continues the current row on line_. A row ends at the '>' of `<row .../>`
  // (or at `</row>`) outside quotes. A '<' anywhere else ends it as broken,
  // since a well-formed attribute value cannot hold one: so a missing quote or
  // a cut-off row costs only that row, and the next row starts there.
  RowScan ScanRow() {
    while (pos_ < line_.size()) {
      const char c = line_[pos_];
      if (c == '<') {
        if (close_wait_ && quote_ == 0 && std::string_view(line_).substr(pos_, 6) == "</row>") {
          pending_.append("</row>");
          pos_ += 6;
          in_row_ = false;
          return RowScan::kComplete;
        }
        in_row_ = false;
        return RowScan::kBroken;
      }
      pending_.push_back(c);
      ++pos_;
      if (quote_ != 0) {
        if (c == quote_) quote_ = 0;
      } else if (!close_wait_ && (c == '"' || c == '\'')) {
        quote_ = c;
      } else if (!close_wait_ && c == '>') {
        size_t k = pending_.size() - 1;
        while (k > 0 && IsBlank(pending_[k - 1])) --k;
        if (k > 0 && pending_[k - 1] == '/') {
          in_row_ = false;
          return RowScan::kComplete;
        }
        close_wait_ = true;  // `<row ...>`: expect `</row>`
      }
      if (pending_.size() > max_bytes_) {
        in_row_ = false;
        skip_to_lt_ = true;
        return RowScan::kTooLarge;
      }
    }
    return RowScan::kMore;
  }

  void SetPos(int64_t line, uint64_t offset) {
    pos_line_ = line;
    pos_offset_ = offset;
  }

  // `<?xml ...?>`, `<!DOCTYPE ...>`, `<posts>`, `</posts>`: lines around rows.
  static bool IsStructural(std::string_view text) {
    if (text.size() < 3 || text.front() != '<' || text.back() != '>') return false;
    if (text[1] == '?' || text[1] == '!') return true;
    std::string_view name = text.substr(text[1] == '/' ? 2 : 1);
    name.remove_suffix(1);
    if (!name.empty() && name.back() == '/') name.remove_suffix(1);
    name = Trim(name);
    if (name.empty()) return false;
    for (char c : name) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
        return false;
      }
    }
    return true;
  }

  struct ParseState {
    Row* row;
    int elements;
    bool wrong_element;
  };

  static void OnStart(void* user_data, const XML_Char* name, const XML_Char** atts) {
    auto* state = static_cast<ParseState*>(user_data);
    if (state->elements++ > 0) return;
    if (std::strcmp(name, "row") != 0) {
      state->wrong_element = true;
      return;
    }
    for (int i = 0; atts[i] != nullptr && atts[i + 1] != nullptr; i += 2) state->row->Add(atts[i], atts[i + 1]);
  }

  bool ParseRow(std::string_view text, Row* row, std::string* error) {
    if (text.size() > static_cast<size_t>(INT_MAX)) {
      *error = "row too large for the XML parser";
      return false;
    }
    row->Clear();
    ParseState state{row, 0, false};
    XML_ParserReset(parser_, "UTF-8");
    XML_SetUserData(parser_, &state);
    XML_SetStartElementHandler(parser_, &RowReader::OnStart);
    if (XML_Parse(parser_, text.data(), static_cast<int>(text.size()), XML_TRUE) == XML_STATUS_ERROR) {
      *error = absl::StrFormat("%s at column %d", XML_ErrorString(XML_GetErrorCode(parser_)),
                               static_cast<int64_t>(XML_GetCurrentColumnNumber(parser_)) + 1);
      return false;
    }
    if (state.wrong_element || state.elements != 1) {
      *error = "expected exactly one <row/> element";
      return false;
    }
    return true;
  }

  void MaybeProgress() {
    if (sink_ == nullptr) return;
    uint64_t done = input_->compressed_done();
    if (done - last_progress_ < kProgressEvery) return;
    last_progress_ = done;
    sink_->OnProgress(input_->path(), done, input_->compressed_size());
  }

  std::unique_ptr<InputFile> input_;
  std::string display_;
  size_t max_bytes_;
  RecordSink* sink_;
  XML_Parser parser_ = nullptr;
  std::string line_;  // reused buffer
  size_t pos_ = 0;    // where scanning continues in line_
  bool line_too_long_ = false;
  int64_t line_no_ = 0;
  uint64_t line_offset_ = 0;
  // The row being read, possibly over several lines.
  bool in_row_ = false;
  char quote_ = 0;           // the quote of the attribute value we are in, or 0
  bool close_wait_ = false;  // after `<row ...>`, waiting for `</row>`
  bool skip_to_lt_ = false;  // dropping the rest of a too-large row
  std::string pending_;
  // A declaration or wrapper tag over several lines.
  static constexpr size_t kMaxTagBytes = 1 << 16;
  bool in_tag_ = false;
  std::string tag_;
  int64_t tag_line_no_ = 0;
  uint64_t tag_offset_ = 0;
  int64_t row_line_no_ = 0;
  uint64_t row_offset_ = 0;
  // What pos() reports: the row's first line, or the current line.
  int64_t pos_line_ = 0;
  uint64_t pos_offset_ = 0;
  uint64_t last_progress_ = 0;
};

// Parses "2016-08-02T15:39:14.947" (UTC, optional fraction and 'Z') into
// seconds since the epoch.
bool ParseDumpTime(std::string_view s, int64_t* out) {
  if (s.size() < 19) return false;
  auto num = [&](size_t at, size_t len, int64_t* v) {
    *v = 0;
    for (size_t i = at; i < at + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      *v = *v * 10 + (s[i] - '0');
    }
    return true;
  };
  int64_t y, mo, d, h, mi, se;
  if (!num(0, 4, &y) || s[4] != '-' || !num(5, 2, &mo) || s[7] != '-' || !num(8, 2, &d) ||
      (s[10] != 'T' && s[10] != ' ') || !num(11, 2, &h) || s[13] != ':' || !num(14, 2, &mi) || s[16] != ':' ||
      !num(17, 2, &se)) {
    return false;
  }
  std::string_view rest = s.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    if (rest.empty() || rest.front() < '0' || rest.front() > '9') return false;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
  }
  if (rest == "Z") rest.remove_prefix(1);
  if (!rest.empty()) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
  const absl::CivilSecond cs(y, static_cast<int>(mo), static_cast<int>(d), static_cast<int>(h), static_cast<int>(mi),
                             static_cast<int>(se));
  if (cs.day() != d && se != 60) return false;  // e.g. Feb 30 normalized to Mar 2
  *out = absl::ToUnixSeconds(absl::FromCivil(cs, absl::UTCTimeZone()));
  return true;
}

// "<machine-learning><python>" (or the newer "|a|b|") -> {"machine-learning", "python"}.
std::vector<std::string> ParseTags(std::string_view tags) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < tags.size()) {
    while (i < tags.size() && (tags[i] == '<' || tags[i] == '>' || tags[i] == '|' || IsBlank(tags[i]))) ++i;
    size_t start = i;
    while (i < tags.size() && tags[i] != '<' && tags[i] != '>' && tags[i] != '|') ++i;
    std::string tag = AsciiLower(Trim(tags.substr(start, i - start)));
    if (tag.empty()) continue;
    bool dup = false;
    for (const std::string& t : out) dup = dup || t == tag;
    if (!dup) out.push_back(std::move(tag));
  }
  return out;
}

// Where the files of one site are.
struct SiteFiles {
  std::string site;
  fs::path dir;
  std::string posts;
  std::string users;     // empty when absent
  std::string comments;  // empty when absent
};

// `dir/<name>`, `dir/<name>.zst` or `dir/<name>.xz`, the first that exists; "" if none.
std::string FindDumpFile(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  for (const char* suffix : {"", ".zst", ".xz"}) {
    fs::path p = dir / (name + suffix);
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return "";
}

std::string DirName(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  if (ec) abs = p;
  abs = abs.lexically_normal();
  if (abs.filename().empty()) abs = abs.parent_path();
  return abs.filename().string();
}

absl::StatusOr<SiteFiles> LocateSite(const std::string& path) {
  std::error_code ec;
  SiteFiles files;
  if (fs::is_directory(path, ec)) {
    files.dir = path;
    files.site = DirName(path);
    files.posts = FindDumpFile(files.dir, "Posts.xml");
    if (files.posts.empty()) {
      return absl::NotFoundError(absl::StrFormat("%s: no Posts.xml, Posts.xml.zst or Posts.xml.xz", path));
    }
    files.users = FindDumpFile(files.dir, "Users.xml");
    files.comments = FindDumpFile(files.dir, "Comments.xml");
    return files;
  }
  if (fs::is_regular_file(path, ec)) {
    // A single Posts.xml file: only that file is read.
    files.posts = path;
    files.dir = fs::absolute(fs::path(path), ec).lexically_normal().parent_path();
    files.site = DirName(files.dir);
    return files;
  }
  return absl::NotFoundError(absl::StrFormat("%s: no such file or directory", path));
}

// What the second pass and Comments.xml need to know about other rows.
struct PostIndex {
  absl::flat_hash_map<int64_t, int64_t> question_of;  // question/answer Id -> its question's Id
  absl::flat_hash_map<int64_t, std::string> tags;     // question Id -> raw Tags attribute
  absl::flat_hash_set<int64_t> accepted;              // every AcceptedAnswerId
  absl::flat_hash_set<int64_t> other;                 // posts of other types (wikis)
};

class SiteReader {
 public:
  SiteReader(SiteFiles files, const ReadOptions& options, RecordSink* sink)
      : files_(std::move(files)), options_(options), sink_(sink) {
    source_ = options.source.empty() ? "se:" + files_.site : options.source;
    community_ = options.community.empty() ? files_.site : options.community;
    visibility_ = options.visibility.empty() ? "public" : options.visibility;
  }

  absl::Status Run() {
    if (!files_.users.empty()) WK_RETURN_IF_ERROR(LoadUsers());
    WK_RETURN_IF_ERROR(IndexPosts());
    WK_RETURN_IF_ERROR(EmitPosts());
    if (!files_.comments.empty()) WK_RETURN_IF_ERROR(EmitComments());
    return absl::OkStatus();
  }

 private:
  std::string Display(const std::string& file) const { return files_.site + "/" + fs::path(file).filename().string(); }
  absl::StatusOr<std::unique_ptr<RowReader>> OpenRows(const std::string& file, bool quiet) {
    return RowReader::Open(file, Display(file), options_.max_record_bytes, quiet ? nullptr : sink_);
  }
  std::string PostId(int64_t id) const { return absl::StrFormat("se:%s:post:%d", files_.site, id); }

  absl::Status LoadUsers() {
    WK_ASSIGN_OR_RETURN(std::unique_ptr<RowReader> rows, OpenRows(files_.users, false));
    Row row;
    while (rows->Next(&row)) {
      int64_t id;
      const std::string* name = row.Get("DisplayName");
      if (!row.GetInt("Id", &id) || name == nullptr) continue;  // nothing to learn from it
      user_names_[id] = std::string(Trim(*name));
    }
    return rows->Finish();
  }

  // First pass: quiet, attributes only.
  absl::Status IndexPosts() {
    WK_ASSIGN_OR_RETURN(std::unique_ptr<RowReader> rows, OpenRows(files_.posts, true));
    Row row;
    while (rows->Next(&row)) {
      int64_t id, type;
      if (!row.GetInt("Id", &id) || !row.GetInt("PostTypeId", &type)) continue;
      if (type == 1) {
        index_.question_of[id] = id;
        if (const std::string* tags = row.Get("Tags")) index_.tags[id] = *tags;
        if (int64_t accepted; row.GetInt("AcceptedAnswerId", &accepted)) index_.accepted.insert(accepted);
      } else if (type == 2) {
        if (int64_t parent; row.GetInt("ParentId", &parent)) index_.question_of[id] = parent;
      } else {
        index_.other.insert(id);
      }
    }
    // Errors surface in the second pass, which reads the same bytes.
    return absl::OkStatus();
  }

  std::vector<std::string> TagsOf(int64_t question) const {
    auto it = index_.tags.find(question);
    return it == index_.tags.end() ? std::vector<std::string>() : ParseTags(it->second);
  }

  // Sets author_key/author_name from a user id attribute and a display-name
  // attribute (either may be null). Negative ids (-1 is "Community") are system
  // accounts, not people: the record keeps an empty author.
  void SetAuthor(const std::string* user_id, const std::string* display_name, Record* r) const {
    std::string_view shown = display_name == nullptr ? std::string_view() : Trim(*display_name);
    int64_t uid;
    if (user_id != nullptr && absl::SimpleAtoi(*user_id, &uid)) {
      if (uid < 0) return;
      r->author_key = absl::StrFormat("se:%s:user:%d", files_.site, uid);
      auto it = user_names_.find(uid);
      if (it != user_names_.end() && !it->second.empty()) {
        r->author_name = it->second;
      } else if (!shown.empty()) {
        r->author_name = std::string(shown);
      } else {
        r->author_name = absl::StrFormat("user %d", uid);
      }
      return;
    }
    if (!shown.empty()) {
      r->author_key = absl::StrFormat("se:%s:name:%s", files_.site, AsciiLower(shown));
      r->author_name = std::string(shown);
    }
  }

  Record NewRecord() const {
    Record r;
    r.source = source_;
    r.community = community_;
    r.visibility = visibility_;
    return r;
  }

  // Common checks for a row: Id and CreationDate. Reports and returns false
  // when the row must be skipped.
  bool IdAndTime(RowReader* rows, const Row& row, int64_t* id, int64_t* timestamp) {
    if (!row.GetInt("Id", id)) {
      rows->ReportBad("missing-id", absl::InvalidArgumentError(rows->Message("", "missing or non-numeric Id")));
      return false;
    }
    const std::string* date = row.Get("CreationDate");
    if (date == nullptr || !ParseDumpTime(*date, timestamp)) {
      rows->ReportBad("bad-date", absl::InvalidArgumentError(rows->Message(
                                      absl::StrFormat("%d", *id),
                                      date == nullptr ? std::string("missing CreationDate")
                                                      : absl::StrFormat("bad CreationDate \"%s\"", *date))));
      return false;
    }
    return true;
  }

  absl::Status EmitPosts() {
    WK_ASSIGN_OR_RETURN(std::unique_ptr<RowReader> rows, OpenRows(files_.posts, false));
    Row row;
    while (rows->Next(&row)) {
      int64_t type;
      if (!row.GetInt("PostTypeId", &type)) {
        rows->ReportBad("malformed-row", absl::InvalidArgumentError(
                                             rows->Message(row.GetOr("Id"), "missing or non-numeric PostTypeId")));
        continue;
      }
      if (type != 1 && type != 2) continue;  // tag wikis and the like: not Q&A
      int64_t id, timestamp;
      if (!IdAndTime(rows.get(), row, &id, &timestamp)) continue;
      Record r = NewRecord();
      r.id = PostId(id);
      r.timestamp = timestamp;
      if (type == 1) {
        r.kind = RecordKind::kQuestion;
        r.thread_id = r.id;
        r.title = std::string(Trim(row.GetOr("Title")));
        r.topics = ParseTags(row.GetOr("Tags"));
        if (int64_t accepted; row.GetInt("AcceptedAnswerId", &accepted)) r.accepted_answer_id = PostId(accepted);
      } else {
        int64_t parent;
        if (!row.GetInt("ParentId", &parent)) {
          rows->ReportBad("missing-parent", absl::InvalidArgumentError(
                                                rows->Message(absl::StrFormat("%d", id), "answer without ParentId")));
          continue;
        }
        r.kind = RecordKind::kAnswer;
        r.thread_id = PostId(parent);
        r.reply_to = r.thread_id;
        r.topics = TagsOf(parent);
        r.accepted = index_.accepted.contains(id);
      }
      SetAuthor(row.Get("OwnerUserId"), row.Get("OwnerDisplayName"), &r);
      r.text = HtmlToText(row.GetOr("Body"));
      if (int64_t score; row.GetInt("Score", &score) && score >= INT32_MIN && score <= INT32_MAX) {
        r.score = static_cast<int32_t>(score);
      }
      WK_RETURN_IF_ERROR(sink_->OnRecord(std::move(r)));
    }
    return rows->Finish();
  }

  absl::Status EmitComments() {
    WK_ASSIGN_OR_RETURN(std::unique_ptr<RowReader> rows, OpenRows(files_.comments, false));
    Row row;
    while (rows->Next(&row)) {
      int64_t id, timestamp, post;
      if (!IdAndTime(rows.get(), row, &id, &timestamp)) continue;
      if (!row.GetInt("PostId", &post)) {
        rows->ReportBad("missing-parent",
                        absl::InvalidArgumentError(rows->Message(absl::StrFormat("%d", id), "comment without PostId")));
        continue;
      }
      if (index_.other.contains(post)) continue;  // comment on a wiki post
      Record r = NewRecord();
      r.kind = RecordKind::kComment;
      r.id = absl::StrFormat("se:%s:comment:%d", files_.site, id);
      r.timestamp = timestamp;
      r.reply_to = PostId(post);
      // A comment on a post missing from Posts.xml (deleted) still forms a
      // thread under that post's id.
      auto q = index_.question_of.find(post);
      r.thread_id = q == index_.question_of.end() ? r.reply_to : PostId(q->second);
      if (q != index_.question_of.end()) r.topics = TagsOf(q->second);
      SetAuthor(row.Get("UserId"), row.Get("UserDisplayName"), &r);
      r.text = std::string(Trim(row.GetOr("Text")));  // comment text is plain text, not HTML
      if (int64_t score; row.GetInt("Score", &score) && score >= INT32_MIN && score <= INT32_MAX) {
        r.score = static_cast<int32_t>(score);
      }
      WK_RETURN_IF_ERROR(sink_->OnRecord(std::move(r)));
    }
    return rows->Finish();
  }

  SiteFiles files_;
  const ReadOptions& options_;
  RecordSink* sink_;
  std::string source_, community_, visibility_;
  absl::flat_hash_map<int64_t, std::string> user_names_;
  PostIndex index_;
};

}  // namespace

absl::Status ReadStackExchange(const std::string& path, const ReadOptions& options, RecordSink* sink) {
  if (sink == nullptr) return absl::InvalidArgumentError("ReadStackExchange: null sink");
  WK_ASSIGN_OR_RETURN(SiteFiles files, LocateSite(path));
  SiteReader reader(std::move(files), options, sink);
  return reader.Run();
}

}  // namespace whoknows::indexer
