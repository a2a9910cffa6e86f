// cli/job_environment: sbatch's --export and --export-file, over a given
// caller environment.
#include "cli/job_environment.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cadre::cli {
namespace {

using Env = std::vector<std::string>;
using namespace std::string_literals;

const Env kCaller{"PATH=/opt/conda/bin:/usr/bin", "HOME=/home/ada", "EDITOR=vi", "SLURM_CONF=/etc/slurm.conf",
                  "PYTHONPATH=/x", "BASH_FUNC_module%%=() {  echo mod\n}"};

Env exported(const std::string& text, const Env& caller = kCaller, const Env& file = {}) {
  auto spec = parse_export(text);
  EXPECT_TRUE(spec) << text << ": " << (spec ? "" : spec.error());
  return spec ? exported_environment(*spec, caller, file) : Env{};
}

std::string error_of(const std::string& text) {
  auto spec = parse_export(text);
  EXPECT_FALSE(spec) << text << " was accepted";
  return spec ? "" : spec.error();
}

TEST(JobEnvironment, AllExportsEveryVariableInOrder) {
  EXPECT_EQ(exported("ALL"), kCaller);
}

TEST(JobEnvironment, NoneAndNilExportOnlySlurmVariables) {
  EXPECT_EQ(exported("NONE"), (Env{"SLURM_CONF=/etc/slurm.conf"}));
  EXPECT_EQ(exported("NIL"), (Env{"SLURM_CONF=/etc/slurm.conf"}));
}

TEST(JobEnvironment, NamesExportThoseVariablesAndSlurmOnes) {
  EXPECT_EQ(exported("EDITOR,ARG1=test"), (Env{"SLURM_CONF=/etc/slurm.conf", "ARG1=test", "EDITOR=vi"}));
  EXPECT_EQ(exported("MISSING"), (Env{"SLURM_CONF=/etc/slurm.conf"})) << "an unset name exports nothing";
  EXPECT_EQ(exported("EDITOR=emacs"), (Env{"SLURM_CONF=/etc/slurm.conf", "EDITOR=emacs"}))
      << "without ALL the given value is the one";
}

TEST(JobEnvironment, WithAllTheCallersValueWinsOverAGivenOne) {
  Env env = exported("ALL,EDITOR=/bin/emacs,ARG1=test");
  EXPECT_NE(std::find(env.begin(), env.end(), "EDITOR=vi"), env.end()) << "Slurm's rule: the caller's EDITOR";
  EXPECT_EQ(std::find(env.begin(), env.end(), "EDITOR=/bin/emacs"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "ARG1=test"), env.end()) << "a name the caller lacks gets the value";
  EXPECT_EQ(env.size(), kCaller.size() + 1);
}

TEST(JobEnvironment, ExportFileDefinitionsAreAddedLast) {
  auto file = parse_export_file("A=1\0B=two words\0EDITOR=nano\0"s);
  ASSERT_TRUE(file) << file.error();
  EXPECT_EQ(*file, (Env{"A=1", "B=two words", "EDITOR=nano"}));
  Env env = exported("NONE", kCaller, *file);
  EXPECT_EQ(env, (Env{"SLURM_CONF=/etc/slurm.conf", "A=1", "B=two words", "EDITOR=nano"}));
  auto multiline = parse_export_file("X=line one\nline two\0"s);
  ASSERT_TRUE(multiline);
  EXPECT_EQ(*multiline, (Env{"X=line one\nline two"})) << "NUL-separated: newlines stay in values";
  auto one = parse_export_file("Y=last\n");
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, (Env{"Y=last"})) << "a file ending in a newline, as an editor leaves it";
}

TEST(JobEnvironment, ExportFileRefusesWhatIsNotADefinition) {
  auto bad = parse_export_file("A=1\0oops\0"s);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("'oops' is not NAME=value"), std::string::npos) << bad.error();
  EXPECT_FALSE(parse_export_file("=x\0"s));
  EXPECT_FALSE(parse_export_file("B=\xff\xfe"));
}

TEST(JobEnvironment, BadExportValuesAreRefusedNamingTheWord) {
  EXPECT_NE(error_of("").find("give ALL, NONE"), std::string::npos);
  EXPECT_NE(error_of("NONE,EDITOR").find("NONE takes no variables"), std::string::npos);
  EXPECT_NE(error_of("NIL,A=1").find("NIL takes no variables"), std::string::npos);
  EXPECT_NE(error_of("ALL,1BAD").find("'1BAD' is not ALL, NONE, NIL"), std::string::npos);
  EXPECT_NE(error_of("ALL,,X").find("'' is not ALL"), std::string::npos);
  EXPECT_NE(error_of("=v").find("does not start with a variable name"), std::string::npos);
  EXPECT_NE(error_of("A B").find("is not ALL"), std::string::npos);
}

TEST(JobEnvironment, VariablesThatCannotTravelAreLeftOutAndNamed) {
  const Env caller{"GOOD=1", "BAD=\xff", "=nameless", "ALSO_GOOD=2"};
  EXPECT_EQ(exported("ALL", caller), (Env{"GOOD=1", "ALSO_GOOD=2"}));
  EXPECT_EQ(unexportable(caller), (Env{"BAD", ""}));
}

}  // namespace
}  // namespace cadre::cli
