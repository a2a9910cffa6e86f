// Include this instead of <boost/asio.hpp>: Boost 1.74's asio/awaitable.hpp
// uses std::exchange without including <utility> under C++20.
#pragma once

#include <utility>

#include <boost/asio.hpp>
