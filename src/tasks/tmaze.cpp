#include "tasks/tmaze.h"

#include <string>

#include "core/error.h"

namespace neurocell {

Tmaze::Tmaze(int64_t length) : length_(length) {
  require(length >= 1 && length <= 1000000, "T-maze length must be in 1..1000000 (got " + std::to_string(length) + ")");
}

TmazeSymbol Tmaze::observation() const {
  if (position_ == 0) return goal_up_ ? TmazeSymbol::up_cue : TmazeSymbol::down_cue;
  return position_ == length_ ? TmazeSymbol::junction : TmazeSymbol::corridor;
}

TmazeSymbol Tmaze::reset(bool goal_up) {
  goal_up_ = goal_up;
  position_ = 0;
  steps_ = 0;
  over_ = false;
  return observation();
}

Tmaze::Step Tmaze::step(TmazeAction action) {
  require(!over_, "T-maze: the episode is over, call reset()");
  ++steps_;
  Step s{TmazeSymbol::corridor, 0.0, false, false};
  const bool at_junction = position_ == length_;
  if (at_junction && (action == TmazeAction::up || action == TmazeAction::down)) {
    s.terminal = true;
    s.reward = (action == TmazeAction::up) == goal_up_ ? kTmazeGoalReward : kTmazePenalty;
  } else if (action == TmazeAction::right && !at_junction) {
    ++position_;
  } else if (action == TmazeAction::left && position_ > 0) {
    --position_;
  } else {
    s.reward = kTmazePenalty;  // a wall
  }
  s.observation = observation();
  s.timed_out = !s.terminal && steps_ >= horizon();
  over_ = s.terminal || s.timed_out;
  return s;
}

}  // namespace neurocell
