// FaultPoint: a testing-only seam that stops the master dead at one named
// step of a loop turn, as a SIGKILL there would.
//
// Durability tests must stop the master at an exact step (after a
// scheduling pass decided to preempt, but before that decision is
// committed; or just after the commit, before the kills go out), which a
// signal sent from outside hits only by luck. SQLite's test hooks stop a
// write at a chosen step for the same reason. The point is named by the
// environment variable CADRE_FAULT_POINT, read once at start; unset (as in
// production), every hit() is a comparison and nothing else.
//
// Not synchronised: read at start, then used by the event-loop thread.
#pragma once

#include <optional>
#include <string_view>

namespace cadre {

enum class FaultPoint {
  none,
  preempt_before_commit,  // a pass preempted a gang; its turn is not committed yet
  preempt_after_commit,   // that turn is committed; no kill or launch has gone out
};

// The point's name as CADRE_FAULT_POINT gives it ("preempt-before-commit").
std::string_view to_string(FaultPoint p);
std::optional<FaultPoint> parse_fault_point(std::string_view text);

// Reads CADRE_FAULT_POINT: none when unset or empty, and a warning in the
// log when set. An unknown name throws (a start-up failure), so a test
// with a misspelt point cannot pass without ever reaching it.
FaultPoint fault_point_from_env();

// Ends the process at once with SIGKILL, without unwinding, flushing or
// closing anything, when `armed` is `here`; returns otherwise. One line on
// stderr first says which point it was.
void hit_fault_point(FaultPoint armed, FaultPoint here);

}  // namespace cadre
