// The CLI's help texts (cli/help_text.cpp): the top-level usage and, by
// command name, what `cadre COMMAND --help` prints. Constants; thread-safe.
#pragma once

#include <map>
#include <string>

namespace cadre::cli {

extern const char* const kUsage;
extern const std::map<std::string, std::string> kHelp;

}  // namespace cadre::cli
