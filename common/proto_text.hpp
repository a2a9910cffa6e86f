// text(): a std::string as the kj::StringPtr Cap'n Proto setters take,
// without a copy. The string must outlive the call that reads it (setters
// copy into the message). Include it from .cpp files only, so no header
// drags the name into its includers. Stateless; thread-safe.
#pragma once

#include <string>

#include <kj/string.h>

namespace cadre {

inline kj::StringPtr text(const std::string& s) { return kj::StringPtr(s.c_str(), s.size()); }

}  // namespace cadre
