// The environment a job takes from its submitter, chosen as sbatch's
// --export chooses it: ALL (the default), NONE or NIL (only SLURM_*
// variables), or a list of names and NAME=value pairs with or without ALL;
// plus --export-file's NUL-separated NAME=value definitions. Pure: the
// caller passes the environment it read. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"

namespace cadre::cli {

// A parsed --export value.
struct ExportSpec {
  bool all = true;                    // every variable of the caller
  std::vector<std::string> names;     // variables taken by name (their value at submit)
  std::vector<std::string> settings;  // NAME=value given outright
};

// Reads --export's value. Errors name the word that is wrong and say what
// is expected; NONE and NIL take no other words, as in Slurm.
Result<ExportSpec> parse_export(const std::string& text);

// The NAME=value definitions of an --export-file: NUL-separated, as
// sbatch reads them (a trailing NUL or newline ends the last one). Errors
// name the definition that is not NAME=value.
Result<std::vector<std::string>> parse_export_file(const std::string& content);

// The job's environment: from `caller` ("NAME=value" entries, in order),
// what `spec` selects, then `file` definitions. SLURM_* variables are always
// exported. With ALL, the caller's value wins over a NAME=value of the
// same name (Slurm's rule); otherwise the given value does. Later
// definitions of a name replace earlier ones.
std::vector<std::string> exported_environment(const ExportSpec& spec, const std::vector<std::string>& caller,
                                              const std::vector<std::string>& file = {});

// Variables of `caller` that cannot travel with a job (not UTF-8, or no
// name): their names, so the caller can say which were left out.
std::vector<std::string> unexportable(const std::vector<std::string>& caller);

}  // namespace cadre::cli
