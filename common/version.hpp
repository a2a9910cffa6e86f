// The version of this build of cadre (the project's VERSION in the top
// CMakeLists.txt, which the Debian packages carry too), for --version and
// bug reports. Constant; thread-safe.
#pragma once

namespace cadre {

// "0.1.0"
const char* version();

}  // namespace cadre
