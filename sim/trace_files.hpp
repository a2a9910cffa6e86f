// Opens trace and node-list files and picks their reader: by --format, or
// from the file's name and first line. Only regular files are opened (a
// FIFO or a device is refused, never waited on). Thread-safe (no shared
// state).
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "sim/cluster.hpp"
#include "sim/trace.hpp"

namespace cadre::sim {

enum class TraceFormat { swf, openb, philly };

std::string_view to_string(TraceFormat f);
bool parse_trace_format(std::string_view text, TraceFormat& out);

// ".swf" names, or a first line starting with ';', are SWF; a CSV header
// with creation_time is openb; a header starting with '#' that names a
// shape is Philly. Otherwise an error that asks for --format.
Result<TraceFormat> detect_trace_format(std::string_view path, std::string_view first_line);

Result<Trace> load_trace(const std::string& path, TraceFormat format);
Result<TraceFormat> detect_trace_file(const std::string& path);

// An openb node list (header "sn,cpu_milli,...") or a Philly machine list
// (header "machineId, ..."), told apart by the header.
Result<Cluster> load_node_list(const std::string& path);

}  // namespace cadre::sim
