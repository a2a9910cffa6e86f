#include "sim/trace_files.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/bounded_file.hpp"
#include "sim/openb_reader.hpp"
#include "sim/philly_reader.hpp"
#include "sim/swf_reader.hpp"
#include "sim/text.hpp"

namespace cadre::sim {
namespace {

// Opens `path` for reading once it is known to be a regular file: opening a
// FIFO would wait for a writer forever. `what` names the file in errors.
Status open_regular(const std::string& path, std::string_view what, std::ifstream& in) {
  if (Status s = check_regular_file(path, what); !s) return s;
  errno = 0;
  in.open(path);
  if (!in)
    return make_error("cannot open " + std::string(what) + " " + shown_path(path) +
                      (errno != 0 ? std::string(": ") + std::strerror(errno) : std::string()));
  return {};
}

Result<std::string> first_line(const std::string& path, std::string_view what) {
  std::ifstream in;
  if (Status s = open_regular(path, what, in); !s) return make_error(s.error());
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

std::string_view to_string(TraceFormat f) {
  switch (f) {
    case TraceFormat::swf: return "swf";
    case TraceFormat::openb: return "openb";
    case TraceFormat::philly: return "philly";
  }
  return "?";
}

bool parse_trace_format(std::string_view text, TraceFormat& out) {
  for (TraceFormat f : {TraceFormat::swf, TraceFormat::openb, TraceFormat::philly})
    if (text == to_string(f)) {
      out = f;
      return true;
    }
  return false;
}

Result<TraceFormat> detect_trace_format(std::string_view path, std::string_view line) {
  line = trim(line);
  if (path.ends_with(".swf") || line.starts_with(";")) return TraceFormat::swf;
  if (line.find("creation_time") != std::string_view::npos) return TraceFormat::openb;
  if (line.starts_with("#") && line.find("shape") != std::string_view::npos) return TraceFormat::philly;
  return make_error("cannot tell the format of " + shown_path(path) +
                    " from its name or first line; pass --format swf, openb or philly");
}

Result<TraceFormat> detect_trace_file(const std::string& path) {
  auto line = first_line(path, "trace");
  if (!line) return make_error(line.error());
  return detect_trace_format(path, *line);
}

Result<Trace> load_trace(const std::string& path, TraceFormat format) {
  std::ifstream in;
  if (Status s = open_regular(path, "trace", in); !s) return make_error(s.error());
  Result<Trace> trace = [&]() -> Result<Trace> {
    switch (format) {
      case TraceFormat::swf: return read_swf(in);
      case TraceFormat::openb: return read_openb_pods(in);
      case TraceFormat::philly: return read_philly_jobs(in);
    }
    return make_error("unknown format");
  }();
  if (!trace) return make_error(shown_path(path) + ": " + trace.error());
  return trace;
}

Result<Cluster> load_node_list(const std::string& path) {
  auto line = first_line(path, "node list");
  if (!line) return make_error(line.error());
  std::ifstream in;
  if (Status s = open_regular(path, "node list", in); !s) return make_error(s.error());
  Result<Cluster> cluster = make_error("");
  if (trim(*line).starts_with("sn,")) cluster = read_openb_nodes(in);
  else if (trim(*line).starts_with("machineId")) cluster = read_philly_machines(in);
  else
    return make_error(shown_path(path) + " is neither an openb node list (header sn,cpu_milli,...) nor a Philly " +
                      "machine list (header machineId,...)");
  if (!cluster) return make_error(shown_path(path) + ": " + cluster.error());
  return cluster;
}

}  // namespace cadre::sim
