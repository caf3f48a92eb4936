#include "tasks/tmaze.h"

#include <string>

#include "core/error.h"

namespace neurocell {

std::string tmaze_variant_name(TmazeVariant variant) { return variant == TmazeVariant::signal ? "signal" : "cue"; }

TmazeVariant tmaze_variant_from_name(const std::string& name) {
  if (name == "cue") return TmazeVariant::cue;
  if (name == "signal") return TmazeVariant::signal;
  throw Error("--maze must be cue (the warmup paper's T-maze) or signal (cue plus a late signal, docs/tasks.md); got '" +
              name + "'");
}

int tmaze_symbols(TmazeVariant variant) { return variant == TmazeVariant::signal ? kTmazeSymbols + 1 : kTmazeSymbols; }

Tmaze::Tmaze(int64_t length, double stochasticity, TmazeVariant variant, int64_t signal_window)
    : length_(length), stochasticity_(stochasticity), variant_(variant), signal_window_(signal_window) {
  require(length >= 1 && length <= 1000000, "T-maze length must be in 1..1000000 (got " + std::to_string(length) + ")");
  require(stochasticity >= 0.0 && stochasticity <= 1.0,
          "--stochasticity must be a probability in [0, 1] (got " + std::to_string(stochasticity) + ")");
  if (variant == TmazeVariant::signal) {
    require(signal_window >= 1, "--signal-window must be >= 1 (got " + std::to_string(signal_window) + ")");
    require(length >= signal_window + 2,
            "the signal maze needs L >= signal window + 2, so that early and late signals both exist (got L = " +
                std::to_string(length) + ", window " + std::to_string(signal_window) + ")");
  }
}

TmazeSymbol Tmaze::observation() const {
  if (position_ == 0) return goal_up_ ? TmazeSymbol::up_cue : TmazeSymbol::down_cue;
  if (signal_now_) return TmazeSymbol::signal;
  return position_ == length_ ? TmazeSymbol::junction : TmazeSymbol::corridor;
}

TmazeSymbol Tmaze::reset(bool goal_up) {
  require(variant_ == TmazeVariant::cue, "T-maze: the signal maze's reset needs the signal cell (reset(goal_up, cell))");
  return reset(goal_up, 0);
}

TmazeSymbol Tmaze::reset(bool goal_up, int64_t signal_cell) {
  if (variant_ == TmazeVariant::signal)
    require(signal_cell >= 1 && signal_cell < length_,
            "T-maze: the signal cell must be in 1..L-1 (got " + std::to_string(signal_cell) + ")");
  else
    require(signal_cell == 0, "T-maze: the cue maze has no signal cell");
  goal_up_ = goal_up;
  signal_cell_ = signal_cell;
  signal_shown_ = signal_now_ = false;
  position_ = 0;
  steps_ = 0;
  over_ = false;
  return observation();
}

int64_t Tmaze::draw_signal_cell(std::mt19937_64& random) const {
  if (variant_ != TmazeVariant::signal) return 0;
  const int64_t first_late = length_ - signal_window_;
  if (std::bernoulli_distribution(0.5)(random))
    return std::uniform_int_distribution<int64_t>(first_late, length_ - 1)(random);
  return std::uniform_int_distribution<int64_t>(1, first_late - 1)(random);
}

std::vector<int64_t> Tmaze::evaluation_signal_cells() const {
  if (variant_ != TmazeVariant::signal) return {0};
  const int64_t first_late = length_ - signal_window_;
  std::vector<int64_t> cells = {1};
  for (int64_t c : {first_late / 2, first_late - 1})
    if (c > cells.back()) cells.push_back(c);
  for (int64_t c = first_late; c < length_; ++c) cells.push_back(c);
  return cells;
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
    s.reward = (action == TmazeAction::up) == rewarded_up() ? kTmazeGoalReward : kTmazePenalty;
  } else {
    const bool wall = !((action == TmazeAction::right && !at_junction) || (action == TmazeAction::left && position_ > 0));
    if (wall) s.reward = kTmazePenalty;
    if (executed == TmazeAction::right && !at_junction) ++position_;
    else if (executed == TmazeAction::left && position_ > 0) --position_;
  }
  signal_now_ = signal_cell_ > 0 && position_ == signal_cell_ && !signal_shown_;  // the first entry only
  signal_shown_ = signal_shown_ || signal_now_;
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
