// The last line of defence of every program's main(): an exception that
// nothing else caught ends the program with one line on stderr and exit
// status 1, never std::terminate's abort (exit 134 and a core). Errors a
// program expects are still handled where they happen, with their own
// messages and exit 2 for bad usage; this is for the ones it did not.
// Stateless; thread-safe.
#pragma once

#include <kj/exception.h>

#include <exception>
#include <functional>
#include <new>
#include <string_view>

namespace cadre {

// Prints "PROGRAM: MESSAGE" on stderr as one line and returns `status`,
// for `return print_error(...)`. Every program's errors go through it:
// they echo the values they refuse, so control characters are escaped
// (common/escape.hpp) and a hostile value can neither drive the terminal
// nor fake a second line.
int print_error(std::string_view program, std::string_view message, int status);

// "PROGRAM: unexpected error: WHAT", as print_error; never throws.
void report_uncaught(const char* program, const char* what) noexcept;

template <typename Body>
int guarded_main(const char* program, Body&& body) noexcept {
  try {
    return std::invoke(std::forward<Body>(body));
  } catch (const std::bad_alloc&) {
    report_uncaught(program, "out of memory");
  } catch (const std::exception& e) {
    report_uncaught(program, e.what());
  } catch (const kj::Exception& e) {
    report_uncaught(program, e.getDescription().cStr());
  } catch (...) {
    report_uncaught(program, "an unknown exception");
  }
  return 1;
}

}  // namespace cadre
