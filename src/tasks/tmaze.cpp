#include "tasks/tmaze.h"

#include <string>

#include "core/error.h"

namespace neurocell {

Tmaze::Tmaze(int64_t length, double stochasticity) : length_(length), stochasticity_(stochasticity) {
  require(length >= 1 && length <= 1000000, "T-maze length must be in 1..1000000 (got " + std::to_string(length) + ")");
  require(stochasticity >= 0.0 && stochasticity <= 1.0,
          "--stochasticity must be a probability in [0, 1] (got " + std::to_string(stochasticity) + ")");
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
  require(stochasticity_ == 0.0, "T-maze: a maze with stochasticity > 0 needs step(action, generator)");
  return move(action, action);
}

Tmaze::Step Tmaze::step(TmazeAction action, std::mt19937_64& random) {
  TmazeAction executed = action;
  if (stochasticity_ > 0.0 && position_ < length_ && std::uniform_real_distribution<double>(0.0, 1.0)(random) < stochasticity_)
    executed = static_cast<TmazeAction>(std::uniform_int_distribution<int>(0, kTmazeActions - 1)(random));
  return move(action, executed);
}

// `action` decides the reward, `executed` the move (they differ only where lambda replaced it).
Tmaze::Step Tmaze::move(TmazeAction action, TmazeAction executed) {
  require(!over_, "T-maze: the episode is over, call reset()");
  ++steps_;
  Step s{TmazeSymbol::corridor, 0.0, false, false};
  const bool at_junction = position_ == length_;
  if (at_junction && (action == TmazeAction::up || action == TmazeAction::down)) {
    s.terminal = true;  // no replacement at the junction: executed == action
    s.reward = (action == TmazeAction::up) == goal_up_ ? kTmazeGoalReward : kTmazePenalty;
  } else {
    const bool wall = !((action == TmazeAction::right && !at_junction) || (action == TmazeAction::left && position_ > 0));
    if (wall) s.reward = kTmazePenalty;
    if (executed == TmazeAction::right && !at_junction) ++position_;
    else if (executed == TmazeAction::left && position_ > 0) --position_;
  }
  s.observation = observation();
  s.timed_out = !s.terminal && steps_ >= horizon();
  over_ = s.terminal || s.timed_out;
  return s;
}

TmazeAction tmaze_exploration_action(std::mt19937_64& random) {
  static constexpr TmazeAction kSixths[6] = {TmazeAction::right, TmazeAction::right, TmazeAction::right,
                                             TmazeAction::up, TmazeAction::left, TmazeAction::down};
  return kSixths[std::uniform_int_distribution<int>(0, 5)(random)];
}

}  // namespace neurocell
