#include "common/bounded_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/escape.hpp"

namespace cadre {
namespace {

// Closes the descriptor on every return path.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

std::string named(std::string_view what, const std::string& path) {
  return std::string(what) + " " + shown_path(path);
}

}  // namespace

std::string shown_path(std::string_view path) {
  bool plain = !path.empty();
  for (unsigned char c : path)
    if (c <= ' ' || c == '\'' || c >= 0x7f) plain = false;
  return plain ? std::string(path) : quoted(path, 200);
}

Status check_regular_file(const std::string& path, std::string_view what) {
  if (path.empty()) return make_error(std::string(what) + ": no file given ('')");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error("cannot read " + named(what, path) + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return make_error("cannot read " + named(what, path) + ": it is a folder, not a file");
  if (!S_ISREG(st.st_mode))
    return make_error("cannot read " + named(what, path) + ": it is not a regular file (a FIFO or a device)");
  return {};
}

Result<std::string> read_bounded_file(const std::string& path, size_t max_bytes, std::string_view what) {
  // O_NONBLOCK: opening a FIFO with no writer (or a tty, or some devices)
  // would otherwise wait forever before fstat could refuse it.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot open " + named(what, path) + ": " + std::strerror(errno));
  FdCloser closer(fd);

  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_error("cannot stat " + named(what, path) + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return make_error(named(what, path) + " is not a regular file (a FIFO, device or directory cannot be submitted)");
  if (static_cast<unsigned long long>(st.st_size) > max_bytes)
    return make_error(named(what, path) + " is " + std::to_string(st.st_size) + " bytes, over the limit of " +
                      std::to_string(max_bytes) + " bytes");

  // The size fstat gave may change under us (a file still being written):
  // read in chunks until the end or one byte past the bound, so growth is
  // noticed, and memory follows the file, not the bound.
  std::string text;
  text.reserve(static_cast<size_t>(st.st_size) + 1);
  char chunk[65536];
  size_t got = 0;
  while (got <= max_bytes) {
    const size_t want = std::min(sizeof chunk, max_bytes + 1 - got);
    ssize_t n = ::read(fd, chunk, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("cannot read " + named(what, path) + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    text.append(chunk, static_cast<size_t>(n));
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes)
    return make_error(named(what, path) + " is over the limit of " + std::to_string(max_bytes) + " bytes");

  if (auto nul = text.find('\0'); nul != std::string::npos)
    return make_error(named(what, path) + " contains a NUL byte at offset " + std::to_string(nul) +
                      ": it is binary, not a script");
  return text;
}

}  // namespace cadre
