// The directive table against its documentation: docs/configuration.md must
// embed directives_markdown() verbatim, and each literal default in the table
// must be what a default Config holds.
//
// To refresh the document after changing the table, run the test binary with
// STELLWERK_REGENERATE_DOCS=1; it rewrites the generated part in place.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/directives.h"
#include "test_support.h"

namespace stellwerk::config {
namespace {

constexpr std::string_view kBegin = "<!-- BEGIN GENERATED: directives_markdown() -->\n";
constexpr std::string_view kEnd = "<!-- END GENERATED -->\n";

std::filesystem::path document_path() {
  // This file is tests/unit/config/docs_test.cpp; CMake compiles it by absolute path.
  return std::filesystem::path(__FILE__).parent_path() / "../../../docs/configuration.md";
}

std::string read_document() {
  std::ifstream in(document_path());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ConfigDocs, DocumentEmbedsTheGeneratedTables) {
  std::string document = read_document();
  ASSERT_FALSE(document.empty()) << "cannot read " << document_path();
  const auto begin = document.find(kBegin);
  const auto end = document.find(kEnd);
  ASSERT_NE(begin, std::string::npos) << "missing marker: " << kBegin;
  ASSERT_NE(end, std::string::npos) << "missing marker: " << kEnd;
  ASSERT_LT(begin, end);
  const auto generated_start = begin + kBegin.size();
  const std::string generated = directives_markdown();
  if (std::getenv("STELLWERK_REGENERATE_DOCS") != nullptr) {
    document.replace(generated_start, end - generated_start, generated);
    std::ofstream(document_path()) << document;
    return;
  }
  EXPECT_EQ(document.substr(generated_start, end - generated_start), generated)
      << "docs/configuration.md is stale: run test_config with STELLWERK_REGENERATE_DOCS=1";
}

TEST(ConfigDocs, EveryDirectiveIsDocumented) {
  const std::string markdown = directives_markdown();
  for (const auto& directive : directives()) {
    EXPECT_NE(markdown.find("| `" + std::string(directive.name) + "`"), std::string::npos) << directive.name;
    EXPECT_FALSE(directive.doc.empty()) << directive.name;
    EXPECT_FALSE(directive.default_text.empty()) << directive.name;
  }
}

TEST(ConfigDocs, NamesAreUniqueAndNotAlsoUnsupported) {
  std::set<std::string_view> names;
  for (const auto& directive : directives()) {
    EXPECT_TRUE(names.insert(directive.name).second) << "twice: " << directive.name;
    EXPECT_EQ(find_unsupported(directive.name), nullptr) << directive.name;
    EXPECT_EQ(find_directive(directive.name), &directive);
  }
}

TEST(ConfigDocs, RowsAreAlphabeticalWithinTheirTable) {
  std::string_view previous[2];
  for (const auto& directive : directives()) {
    auto& last = previous[directive.scope == Scope::global ? 0 : 1];
    EXPECT_LT(last, directive.name);
    last = directive.name;
  }
}

// "(...)" defaults are descriptions; the others are values, and parsing them
// must leave the configuration exactly as the defaults in config.h have it.
TEST(ConfigDocs, LiteralDefaultsMatchTheStructs) {
  for (const auto& directive : directives()) {
    if (directive.default_text.starts_with('(') || directive.name == "port") continue;
    const bool listener_key = directive.scope == Scope::listener;
    const std::string text = std::string(listener_key ? "listener 1883\n" : "") +
                             std::string(directive.name) + " " + std::string(directive.default_text);
    Config expected;
    if (listener_key) expected.listeners.push_back(ListenerConfig{});
    EXPECT_EQ(testing::parse_ok(text), expected) << text;
  }
  EXPECT_EQ(testing::parse_ok("port 1883").listeners, std::vector<ListenerConfig>{ListenerConfig{}});
}

}  // namespace
}  // namespace stellwerk::config
