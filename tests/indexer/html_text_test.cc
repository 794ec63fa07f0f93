// html_text.h is private to the indexer (it sits beside its .cc).
#include "../../indexer/html_text.h"

#include <string>

#include "gtest/gtest.h"

namespace whoknows::indexer {
namespace {

TEST(DecodeHtmlEntitiesTest, NamedAndNumeric) {
  EXPECT_EQ(DecodeHtmlEntities("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;"), "a & b <c> \"d\" 'e'");
  EXPECT_EQ(DecodeHtmlEntities("caf&#233; &#xE9; &#XE9; &#8594;"), "caf\xC3\xA9 \xC3\xA9 \xC3\xA9 \xE2\x86\x92");
  EXPECT_EQ(DecodeHtmlEntities("&#x1F600;"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(DecodeHtmlEntities("&hellip;&mdash;&nbsp;x"), "\xE2\x80\xA6\xE2\x80\x94 x");
}

TEST(DecodeHtmlEntitiesTest, InvalidReferencesAreSafe) {
  EXPECT_EQ(DecodeHtmlEntities("&unknownentity; & &; &#; &#xZZ; AT&T"), "&unknownentity; & &; &#; &#xZZ; AT&T");
  // Surrogates, zero and out-of-range code points become U+FFFD.
  EXPECT_EQ(DecodeHtmlEntities("&#xD800;&#0;&#x110000;&#99999999999999999999;"),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(DecodeHtmlEntities("soft&shy;hyphen"), "softhyphen");
  EXPECT_EQ(DecodeHtmlEntities("trailing &amp"), "trailing &amp");
}

TEST(HtmlToTextTest, ParagraphsAndBreaks) {
  EXPECT_EQ(HtmlToText("<p>First   para.</p>\n\n<p>Second<br>line\ntwo</p>\n"), "First para.\n\nSecond\nline two");
  EXPECT_EQ(HtmlToText("<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<p>after</p>"), "one\ntwo\n\nafter");
  EXPECT_EQ(HtmlToText("<h2>Title</h2><blockquote><p>quoted</p></blockquote>end"), "Title\n\nquoted\n\nend");
}

TEST(HtmlToTextTest, InlineTagsDoNotSplitWords) {
  EXPECT_EQ(HtmlToText("<p>un<b>believ</b><em>able</em> <a href=\"http://x?a=1&amp;b=2\">link</a>.</p>"),
            "unbelievable link.");
  EXPECT_EQ(HtmlToText("<img src=\"a.png\" alt=\"a > b\">text"), "text");
}

TEST(HtmlToTextTest, PreKeepsCodeWhitespaceAndDecodesEntities) {
  std::string html =
      "<p>Code:</p>\n\n<pre><code>int main() {\n  if (a &lt; b &amp;&amp; c) return "
      "0;\n}\n</code></pre>\n\n<p>Done.</p>";
  EXPECT_EQ(HtmlToText(html), "Code:\n\nint main() {\n  if (a < b && c) return 0;\n}\n\nDone.");
  EXPECT_EQ(HtmlToText("<p>Use <code>x &gt;= 1</code> here</p>"), "Use x >= 1 here");
}

TEST(HtmlToTextTest, DropsCommentsScriptsAndStyles) {
  EXPECT_EQ(HtmlToText("a<!-- hidden <p> -->b<script>var x = '<p>';</script>c<STYLE>p{}</STYLE>d"), "abcd");
}

TEST(HtmlToTextTest, MalformedMarkupNeverFails) {
  EXPECT_EQ(HtmlToText("a < b and c<3 <"), "a < b and c<3 <");
  EXPECT_EQ(HtmlToText("text <p unterminated"), "text <p unterminated");
  EXPECT_EQ(HtmlToText("<!-- never closed"), "");
  EXPECT_EQ(HtmlToText("x<script>never closed"), "x");
  EXPECT_EQ(HtmlToText(""), "");
  EXPECT_EQ(HtmlToText("   \n  "), "");
  EXPECT_EQ(HtmlToText("</p></pre></pre>x"), "x");
}

TEST(HtmlToTextTest, CollapsesBlankLines) {
  EXPECT_EQ(HtmlToText("<p>a</p><p></p><p></p><hr><p>b</p>"), "a\n\nb");
  EXPECT_EQ(HtmlToText("a<br><br><br><br>b"), "a\n\nb");
}

}  // namespace
}  // namespace whoknows::indexer
