// Specification of sim/trace_files and sim/text: telling formats apart and
// reading fields.
#include "sim/trace_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "sim/text.hpp"

namespace cadre::sim {
namespace {

TEST(TraceFiles, TellsFormatsFromNameAndHeader) {
  auto swf = detect_trace_format("x/KTH.swf", "    1        0 964980");
  ASSERT_TRUE(swf);
  EXPECT_EQ(*swf, TraceFormat::swf);
  auto swf_header = detect_trace_format("log.txt", "; Version: 2.2");
  ASSERT_TRUE(swf_header);
  EXPECT_EQ(*swf_header, TraceFormat::swf);
  auto openb = detect_trace_format("pods.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli,creation_time");
  ASSERT_TRUE(openb);
  EXPECT_EQ(*openb, TraceFormat::openb);
  auto philly = detect_trace_format("p.csv", "#job id,arrival time (sec),topology,shape,size,duration (sec)");
  ASSERT_TRUE(philly);
  EXPECT_EQ(*philly, TraceFormat::philly);
}

TEST(TraceFiles, AsksForFormatWhenItCannotTell) {
  auto r = detect_trace_format("jobs.csv", "id,start,end");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("--format"), std::string::npos) << r.error();
}

TEST(TraceFiles, ParsesFormatNames) {
  TraceFormat f;
  EXPECT_TRUE(parse_trace_format("philly", f));
  EXPECT_EQ(f, TraceFormat::philly);
  EXPECT_FALSE(parse_trace_format("SWF", f));
}

TEST(TraceFiles, SaysWhichFileItCannotOpen) {
  auto r = load_trace("/nonexistent/trace.swf", TraceFormat::swf);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("/nonexistent/trace.swf"), std::string::npos);
}

TEST(TraceFiles, RefusesAFifoWithoutWaitingForAWriter) {
  char dir[] = "/tmp/cadre-sim-fifo-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string fifo = std::string(dir) + "/trace.swf";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto trace = load_trace(fifo, TraceFormat::swf);
  ASSERT_FALSE(trace);
  EXPECT_NE(trace.error().find("not a regular file"), std::string::npos) << trace.error();
  EXPECT_FALSE(detect_trace_file(fifo));
  auto nodes = load_node_list(fifo);
  ASSERT_FALSE(nodes);
  EXPECT_NE(nodes.error().find(fifo), std::string::npos) << nodes.error();
  unlink(fifo.c_str());
  rmdir(dir);
}

TEST(TraceFiles, ShowsAnEmptyPathQuoted) {
  auto r = load_trace("", TraceFormat::swf);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("('')"), std::string::npos) << r.error();
}

TEST(SimText, SplitsAndTrimsFields) {
  EXPECT_EQ(split("a, b,,c ", ','), (std::vector<std::string_view>{"a", "b", "", "c"}));
  EXPECT_EQ(split_blanks("  1  -1\t3 "), (std::vector<std::string_view>{"1", "-1", "3"}));
}

TEST(SimText, ParsesWholeAndRoundedNumbers) {
  EXPECT_EQ(parse_int("-1"), -1);
  EXPECT_FALSE(parse_int("1.0"));
  EXPECT_FALSE(parse_int(""));
  EXPECT_EQ(parse_rounded("266563.0"), 266563);
  EXPECT_EQ(parse_rounded("2.5"), 3);
  EXPECT_FALSE(parse_rounded("nan"));
  EXPECT_FALSE(parse_rounded("1e300"));
}

}  // namespace
}  // namespace cadre::sim
