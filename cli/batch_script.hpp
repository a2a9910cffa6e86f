// Batch scripts for `cadre submit SCRIPT`: loading and checking the file, and
// reading its #CADRE and #SBATCH directives the way sbatch reads #SBATCH
// lines. #CADRE lines take cadre submit's own flags; #SBATCH lines take the
// sbatch options cadre can honour (see kSupportedSbatch in the .cpp), and
// any other option is an error that names it and its line. Pure apart from
// load_batch_script's file read; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace cadre::cli {

// One directive line, its options already in cadre's spelling
// ("#SBATCH -N2 --ntasks-per-node=4" -> {"--nodes", "2", "--tasks-per-node", "4"}).
struct DirectiveLine {
  int line = 0;  // 1-based line number in the script
  std::vector<std::string> args;
};

// The directives at the top of the script: lines that start exactly with
// "#CADRE" or "#SBATCH" and whitespace, up to the first line that is neither
// blank nor a comment (later directives are ignored, as sbatch ignores
// them). `script_name` prefixes errors: "job.sh line 5: ...".
Result<std::vector<DirectiveLine>> read_directives(std::string_view script_text,
                                                   std::string_view script_name = "script");

// All directive lines' arguments in order, ready to put before the command
// line's own flags (later flags override earlier ones).
Result<std::vector<std::string>> directive_args(std::string_view script_text,
                                                std::string_view script_name = "script");

// Splits a directive's options as a shell would: 'single' and "double"
// quotes, backslash escapes, and an unquoted word starting with '#' begins a
// comment that ends the line.
Result<std::vector<std::string>> split_directive(std::string_view text);

// For an sbatch option cadre knows but does not honour ("--qos", "-w"; no
// "=value"), what to do instead; "" for any other word.
std::string sbatch_instead(std::string_view option);

// Checks what sbatch checks of a script: not empty, text (no NUL bytes), Unix
// line ends, and a first line "#!interpreter".
Status check_batch_script(std::string_view script_text, std::string_view script_name);

// Reads and checks the script at `path`: a regular file of at most
// limits::kMaxScriptBytes (never a FIFO or device, which would block or
// never end).
Result<std::string> load_batch_script(const std::string& path);

}  // namespace cadre::cli
