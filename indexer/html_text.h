#ifndef WHOKNOWS_INDEXER_HTML_TEXT_H_
#define WHOKNOWS_INDEXER_HTML_TEXT_H_

// HTML fragment -> plain text, for Stack Exchange post bodies (which arrive
// XML-unescaped, i.e. as real HTML such as "<p>a &amp; b</p>").
// Private to the indexer.

#include <cstdint>
#include <string>
#include <string_view>

namespace whoknows::indexer {

// Strips tags, decodes character references (named and numeric), drops the
// contents of <script>/<style> and comments, and turns block elements into
// line breaks: <br> (each), <li>, <tr>, <div> end a line; <p>, <pre>, <blockquote>,
// <h1>..<h6>, <ul>, <ol>, <table>, <hr> end a paragraph (a blank line).
// Text inside <pre> keeps its whitespace (code stays readable); elsewhere runs
// of whitespace collapse to one space. The result has no leading or trailing
// whitespace and never more than one blank line in a row.
// Never fails: malformed markup (a stray '<', an unterminated tag) is kept as
// text or dropped, never an error. Linear in the input size.
std::string HtmlToText(std::string_view html);

// Decodes HTML character references in `s`: &amp; &lt; &gt; &quot; &apos;
// &nbsp; and a few common typographic names, plus &#NNN; and &#xHH;.
// Unknown names are kept literally; invalid code points (0, surrogates,
// > U+10FFFF) become U+FFFD.
std::string DecodeHtmlEntities(std::string_view s);

// Appends the UTF-8 encoding of `cp` (U+FFFD when not a valid scalar value).
void AppendUtf8(uint32_t cp, std::string* out);

}  // namespace whoknows::indexer

#endif  // WHOKNOWS_INDEXER_HTML_TEXT_H_
