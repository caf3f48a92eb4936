#include "train/drqn.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <ostream>
#include <random>
#include <sstream>

#include "analysis/warmup.h"
#include "core/error.h"
#include "core/progress.h"
#include "train/resume.h"

namespace neurocell {

namespace {

using Episode = DrqnEpisode;

// One input row of `width` = drqn_inputs(maze): [one-hot previous action, previous reward, one-hot observation].
void append_input(std::vector<float>& inputs, int64_t width, int previous_action, double previous_reward,
                  TmazeSymbol observation) {
  const size_t at = inputs.size();
  inputs.resize(at + static_cast<size_t>(width), 0.0f);
  if (previous_action >= 0) inputs[at + static_cast<size_t>(previous_action)] = 1.0f;
  inputs[at + kTmazeActions] = static_cast<float>(previous_reward);
  inputs[at + kTmazeActions + 1 + static_cast<size_t>(observation)] = 1.0f;
}

torch::Tensor last_input(const std::vector<float>& inputs, int64_t width) {
  return torch::from_blob(const_cast<float*>(inputs.data() + inputs.size() - width), {1, width}, torch::kFloat32)
      .clone();
}

// The agent's epsilon-greedy policy: the Q-network reads one input per call (its recurrent
// state lives in the closure, so the calls must come in order, one per step, as play_tmaze
// makes them); with probability epsilon the action is explore(random) instead of the greedy
// one. epsilon <= 0: greedy, no draw; epsilon >= 1: no forward pass either (its result would
// never be used).
TmazePolicy agent_policy(SequenceModel& q, double epsilon, TmazeAction (*explore)(std::mt19937_64&),
                         std::mt19937_64& random) {
  auto state = std::make_shared<std::vector<RecurrentState>>(q->initial_state(1));
  return [&q, epsilon, explore, &random, state](const std::vector<float>& history) {
    torch::NoGradGuard no_grad;
    int action = 0;
    if (epsilon < 1.0) {
      const auto values = q->step(last_input(history, q->config.input_size), *state);  // (1, actions)
      action = static_cast<int>(values.argmax(1).item<int64_t>());
    }
    if (epsilon > 0 && std::uniform_real_distribution<double>(0.0, 1.0)(random) < epsilon)
      return explore(random);
    return static_cast<TmazeAction>(action);
  };
}

// neurocell's exploration: one of the four actions, uniformly.
TmazeAction uniform_action(std::mt19937_64& random) {
  return static_cast<TmazeAction>(std::uniform_int_distribution<int>(0, kTmazeActions - 1)(random));
}

// Plays one episode; epsilon < 0 means greedy.
Episode play(SequenceModel& q, Tmaze& maze, bool goal_up, double epsilon, std::mt19937_64& random,
             TmazeAction (*explore)(std::mt19937_64&) = uniform_action) {
  return play_tmaze(maze, goal_up, agent_policy(q, epsilon, explore, random), random);
}

void copy_parameters(SequenceModel& from, SequenceModel& to) {
  torch::NoGradGuard no_grad;
  auto source = from->parameters();
  auto target = to->parameters();
  for (size_t i = 0; i < source.size(); ++i) target[i].copy_(source[i]);
}

}  // namespace

double DrqnEpisode::total_return() const {
  double total = 0;
  for (float r : rewards) total += r;
  return total;
}

DrqnEpisode play_tmaze(Tmaze& maze, bool goal_up, const TmazePolicy& policy, std::mt19937_64& random,
                       int64_t signal_cell) {
  Episode e;
  e.width = drqn_inputs(maze.variant());
  if (signal_cell < 0) signal_cell = maze.draw_signal_cell(random);  // the cue maze: 0, nothing drawn
  append_input(e.inputs, e.width, -1, 0.0, maze.reset(goal_up, signal_cell));
  while (true) {
    const TmazeAction action = policy(e.inputs);
    const auto s = maze.step(action, random);
    e.actions.push_back(static_cast<int>(action));
    e.rewards.push_back(static_cast<float>(s.reward));
    append_input(e.inputs, e.width, static_cast<int>(action), s.reward, s.observation);
    if (s.terminal || s.timed_out) {
      e.terminal = s.terminal;
      return e;
    }
  }
}

TmazeEvaluation judge_tmaze(const std::vector<const DrqnEpisode*>& episodes, int64_t length) {
  require(episodes.size() >= 2 && episodes.size() % 2 == 0, "judge_tmaze: the episodes come in (up, down) pairs");
  TmazeEvaluation result;
  bool optimal = true;
  const double n = static_cast<double>(episodes.size());
  for (const DrqnEpisode* e : episodes) {
    const double total = e->total_return();
    result.mean_return += total / n;
    result.reached_goal +=
        (e->terminal && e->rewards.back() == static_cast<float>(kTmazeGoalReward)) ? 1.0 / n : 0.0;
    // agents.py:82-95: the whole return is the goal's 4 (no wall on the way) and the path the
    // shortest one, L rights and the turn to the goal that pays.
    optimal = optimal && total == kTmazeGoalReward && e->steps() == length + 1;
  }
  result.success = result.reached_goal;
  result.optimal = optimal;
  result.steps_up = episodes[0]->steps();
  result.steps_down = episodes[1]->steps();
  result.episodes = static_cast<int64_t>(episodes.size());
  return result;
}

TransitionReplay::TransitionReplay(int64_t capacity) : capacity_(capacity) {
  require(capacity >= 1, "the transition replay needs a capacity >= 1 (got " + std::to_string(capacity) + ")");
  slots_.reserve(static_cast<size_t>(std::min<int64_t>(capacity, 1 << 20)));
}

void TransitionReplay::add(const std::shared_ptr<const DrqnEpisode>& episode) {
  for (int64_t t = 0; t < episode->steps(); ++t) {
    if (size() < capacity_) {
      slots_.push_back({episode, t});
    } else {
      slots_[static_cast<size_t>(cursor_)] = {episode, t};
      cursor_ = (cursor_ + 1) % capacity_;
    }
  }
}

DrqnTransition TransitionReplay::transition(int64_t i) const {
  const Slot& s = slot(i);
  const Episode& e = *s.episode;
  DrqnTransition t;
  t.history.assign(e.inputs.begin(), e.inputs.begin() + (s.step + 1) * e.width);
  t.next_history.assign(e.inputs.begin(), e.inputs.begin() + (s.step + 2) * e.width);
  t.action = e.actions[static_cast<size_t>(s.step)];
  t.reward = e.rewards[static_cast<size_t>(s.step)];
  t.terminal = e.terminal && s.step == e.steps() - 1;  // memory.py:95
  return t;
}

std::vector<int64_t> TransitionReplay::sample(int64_t n, std::mt19937_64& random) const {
  require(size() >= 1, "the transition replay is empty: fill it before sampling");
  std::uniform_int_distribution<int64_t> pick(0, size() - 1);
  std::vector<int64_t> picked(static_cast<size_t>(n));
  for (auto& i : picked) i = pick(random);
  return picked;
}

void TransitionReplay::restore(std::vector<Slot> slots, int64_t cursor) {
  require(static_cast<int64_t>(slots.size()) <= capacity_ && cursor >= 0 && cursor < capacity_,
          "the resume checkpoint's transition replay does not fit its capacity (corrupt file?)");
  slots_ = std::move(slots);
  cursor_ = cursor;
}

std::string drqn_protocol_name(DrqnProtocol protocol) {
  return protocol == DrqnProtocol::warmup_paper ? "warmup-paper" : "neurocell";
}

DrqnProtocol drqn_protocol_from_name(const std::string& name) {
  if (name == "neurocell") return DrqnProtocol::neurocell;
  if (name == "warmup-paper") return DrqnProtocol::warmup_paper;
  throw Error("--protocol must be neurocell or warmup-paper (got '" + name + "')");
}

analysis::InputSampler tmaze_random_inputs(int64_t length, TmazeVariant variant, int64_t signal_window) {
  Tmaze check(length, 0.0, variant, signal_window);  // validates
  return [length, variant, signal_window](int64_t n, torch::Generator& generator) {
    Tmaze maze(length, 0.0, variant, signal_window);
    const int64_t T = maze.horizon() + 1, width = drqn_inputs(variant);
    auto x = torch::zeros({T, n, width});
    auto xa = x.accessor<float, 3>();
    const auto goals = torch::randint(0, 2, {n}, generator, torch::kLong);
    const auto actions = torch::randint(0, kTmazeActions, {n, T}, generator, torch::kLong);
    // The signal maze's cells, late or early with probability 1/2 (the cue maze draws nothing more).
    torch::Tensor late, uniform;
    if (variant == TmazeVariant::signal) {
      late = torch::randint(0, 2, {n}, generator, torch::kLong);
      uniform = torch::rand({n}, generator, torch::kFloat64);
    }
    auto ga = goals.accessor<int64_t, 1>();
    auto aa = actions.accessor<int64_t, 2>();
    for (int64_t b = 0; b < n; ++b) {
      int64_t cell = 0;
      if (variant == TmazeVariant::signal) {
        const int64_t first_late = length - signal_window;
        const bool is_late = late[b].item<int64_t>() == 1;
        const int64_t lo = is_late ? first_late : 1, count = is_late ? signal_window : first_late - 1;
        cell = lo + std::min<int64_t>(count - 1, static_cast<int64_t>(uniform[b].item<double>() * count));
      }
      std::vector<float> inputs;
      append_input(inputs, width, -1, 0.0, maze.reset(ga[b] == 1, cell));
      for (int64_t t = 0; t + 1 < T; ++t) {
        const int action = static_cast<int>(aa[b][t]);
        const auto s = maze.step(static_cast<TmazeAction>(action));
        append_input(inputs, width, action, s.reward, s.observation);
        if (s.terminal || s.timed_out) break;
      }
      for (size_t k = 0; k < inputs.size(); ++k)
        xa[static_cast<int64_t>(k) / width][b][static_cast<int64_t>(k) % width] = inputs[k];
    }
    return x;
  };
}

DrqnOptions DrqnOptions::resolved() const {
  DrqnOptions r = *this;
  if (protocol == DrqnProtocol::warmup_paper) {
    if (r.episodes == 0) r.episodes = WarmupPaperDrqn::episodes;
    if (r.eval_every == 0) r.eval_every = WarmupPaperDrqn::eval_every;
    if (!r.replay_transitions) r.replay_transitions = WarmupPaperDrqn::replay_transitions;
    return r;
  }
  if (r.episodes == 0) r.episodes = 3000;
  if (r.eval_every == 0) r.eval_every = 100;
  r.batch_episodes = batch_episodes.value_or(16);
  r.replay_capacity = replay_capacity.value_or(5000);
  r.start_episodes = start_episodes.value_or(64);
  r.updates_per_episode = updates_per_episode.value_or(1);
  r.epsilon_start = epsilon_start.value_or(1.0);
  r.epsilon_end = epsilon_end.value_or(0.05);
  r.epsilon_decay = epsilon_decay.value_or(0.5);
  r.target_every = target_every.value_or(50);
  return r;
}

void DrqnOptions::validate() const {
  // An option the protocol has no use for is refused, never ignored.
  const std::string protocol_name = drqn_protocol_name(protocol);
  if (protocol == DrqnProtocol::warmup_paper) {
    const auto refuse = [](bool set, const std::string& flag, const std::string& instead) {
      require(!set, flag + " is an option of --protocol neurocell; warmup-paper " + instead);
    };
    refuse(batch_episodes.has_value(), "--batch-episodes", "samples 32 transitions per update");
    refuse(replay_capacity.has_value(), "the replay capacity in episodes", "keeps transitions (--replay-transitions)");
    refuse(start_episodes.has_value(), "start episodes", "fills the whole replay with random episodes first");
    refuse(updates_per_episode.has_value(), "updates per episode", "makes 10 per episode");
    refuse(epsilon_start.has_value() || epsilon_end.has_value(), "--epsilon", "keeps epsilon at 0.2");
    refuse(epsilon_decay.has_value(), "--epsilon-decay", "keeps epsilon at 0.2 (no decay)");
    refuse(target_every.has_value(), "--target-every", "copies the target network every 20 episodes");
  } else {
    require(!replay_transitions.has_value(),
            "--replay-transitions is an option of --protocol warmup-paper; neurocell replays whole episodes");
  }
  require(episodes >= 0, "--episodes must be >= 1 (0 = the protocol's default)");
  require(eval_every >= 0, "--eval-every must be >= 1 (0 = the protocol's default)");
  require(learning_rate > 0, "--lr must be > 0");
  require(stochasticity >= 0 && stochasticity <= 1, "--stochasticity must be a probability in [0, 1]");
  require(checkpoint_every >= 0, "--checkpoint-every must be >= 0 (0 = at every evaluation)");
  const DrqnOptions r = resolved();
  if (protocol == DrqnProtocol::warmup_paper) {
    require(*r.replay_transitions >= 1, "--replay-transitions must be >= 1 (the paper's: 8192)");
    return;
  }
  require(*r.batch_episodes >= 1 && *r.replay_capacity >= *r.batch_episodes,
          "--batch-episodes must be in 1..replay capacity");
  require(*r.start_episodes >= 1 && *r.updates_per_episode >= 0, "start episodes >= 1 and updates per episode >= 0");
  require(*r.epsilon_start >= 0 && *r.epsilon_start <= 1 && *r.epsilon_end >= 0 && *r.epsilon_end <= 1,
          "epsilon must be in [0, 1]");
  require(*r.epsilon_decay > 0 && *r.epsilon_decay <= 1, "epsilon decay fraction must be in (0, 1]");
  require(*r.target_every >= 1, "--target-every must be >= 1");
}

TmazeEvaluation evaluate_tmaze(SequenceModel& q, int64_t length, const Tmaze& like, std::mt19937_64* random) {
  Tmaze maze(length, like.stochasticity(), like.variant(), like.signal_window());
  std::mt19937_64 fixed(0);  // draws only where stochasticity > 0 and no generator is given
  std::mt19937_64& draws = random ? *random : fixed;
  std::vector<DrqnEpisode> played;
  for (int64_t cell : maze.evaluation_signal_cells())  // the cue maze: {0}
    for (bool up : {true, false})
      played.push_back(play_tmaze(maze, up, agent_policy(q, -1.0, uniform_action, draws), draws, cell));
  std::vector<const DrqnEpisode*> episodes;
  for (const auto& e : played) episodes.push_back(&e);
  return judge_tmaze(episodes, length);
}

namespace {


const Episode* as_pointer(const Episode& e) { return &e; }
const Episode* as_pointer(const std::shared_ptr<const Episode>& e) { return e.get(); }

// The replay as five tensors (inputs, actions, rewards concatenated; steps and terminal per
// episode) named prefix + "inputs" ..., for the resume checkpoint, and back.
template <class Episodes>
void save_replay(const Episodes& replay, std::map<std::string, torch::Tensor>& extra,
                 const std::string& prefix = "replay.") {
  std::vector<float> inputs, rewards;
  std::vector<int64_t> actions, steps;
  std::vector<uint8_t> terminal;
  for (const auto& item : replay) {
    const Episode& e = *as_pointer(item);
    inputs.insert(inputs.end(), e.inputs.begin(), e.inputs.end());
    rewards.insert(rewards.end(), e.rewards.begin(), e.rewards.end());
    actions.insert(actions.end(), e.actions.begin(), e.actions.end());
    steps.push_back(e.steps());
    terminal.push_back(e.terminal ? 1 : 0);
  }
  extra[prefix + "inputs"] = torch::tensor(inputs, torch::kFloat32);
  extra[prefix + "rewards"] = torch::tensor(rewards, torch::kFloat32);
  extra[prefix + "actions"] = torch::tensor(actions, torch::kInt64);
  extra[prefix + "steps"] = torch::tensor(steps, torch::kInt64);
  extra[prefix + "terminal"] = torch::tensor(std::vector<int64_t>(terminal.begin(), terminal.end()), torch::kInt64);
}

std::deque<Episode> load_replay(const std::map<std::string, torch::Tensor>& extra, int64_t width,
                                const std::string& prefix = "replay.") {
  const auto get = [&](const std::string& name) {
    const auto it = extra.find(name);
    require(it != extra.end(), "the resume checkpoint lacks '" + name + "' (not a T-maze run's?)");
    return it->second.contiguous();
  };
  const auto inputs = get(prefix + "inputs"), rewards = get(prefix + "rewards"), actions = get(prefix + "actions"),
             steps = get(prefix + "steps"), terminal = get(prefix + "terminal");
  std::deque<Episode> replay;
  int64_t step_at = 0;
  for (int64_t i = 0; i < steps.numel(); ++i) {
    const int64_t n = steps[i].item<int64_t>();
    require(n >= 0 && step_at + n <= actions.numel() && (step_at + i + n + 1) * width <= inputs.numel(),
            "the resume checkpoint's replay is inconsistent (corrupt file?)");
    Episode e;
    e.width = width;
    const float* in = inputs.data_ptr<float>() + (step_at + i) * width;
    e.inputs.assign(in, in + (n + 1) * width);
    e.actions.assign(actions.data_ptr<int64_t>() + step_at, actions.data_ptr<int64_t>() + step_at + n);
    e.rewards.assign(rewards.data_ptr<float>() + step_at, rewards.data_ptr<float>() + step_at + n);
    e.terminal = terminal[i].item<int64_t>() != 0;
    replay.push_back(std::move(e));
    step_at += n;
  }
  return replay;
}

// The transition replay: its distinct episodes (in the order the slots first name them) as
// above under "transitions.", and per slot the episode's index and the step.
void save_transitions(const TransitionReplay& replay, TrainingState& s) {
  std::map<const Episode*, int64_t> index;
  std::vector<std::shared_ptr<const Episode>> episodes;
  std::vector<int64_t> slot_episode, slot_step;
  for (int64_t i = 0; i < replay.size(); ++i) {
    const auto& slot = replay.slot(i);
    const auto [it, added] = index.emplace(slot.episode.get(), static_cast<int64_t>(episodes.size()));
    if (added) episodes.push_back(slot.episode);
    slot_episode.push_back(it->second);
    slot_step.push_back(slot.step);
  }
  save_replay(episodes, s.extra, "transitions.");
  s.extra["transitions.slot_episode"] = torch::tensor(slot_episode, torch::kInt64);
  s.extra["transitions.slot_step"] = torch::tensor(slot_step, torch::kInt64);
  s.integers["replay_cursor"] = replay.cursor();
}

void load_transitions(const TrainingState& s, int64_t width, TransitionReplay& replay) {
  auto episodes = load_replay(s.extra, width, "transitions.");
  std::vector<std::shared_ptr<const Episode>> shared;
  for (auto& e : episodes) shared.push_back(std::make_shared<const Episode>(std::move(e)));
  const auto get = [&](const std::string& name) {
    const auto it = s.extra.find(name);
    require(it != s.extra.end(), "the resume checkpoint lacks '" + name + "' (not a warmup-paper T-maze run's?)");
    return it->second.contiguous();
  };
  const auto slot_episode = get("transitions.slot_episode"), slot_step = get("transitions.slot_step");
  require(slot_episode.numel() == slot_step.numel(), "the resume checkpoint's transition replay is inconsistent");
  std::vector<TransitionReplay::Slot> slots;
  for (int64_t i = 0; i < slot_episode.numel(); ++i) {
    const int64_t e = slot_episode.data_ptr<int64_t>()[i], t = slot_step.data_ptr<int64_t>()[i];
    require(e >= 0 && e < static_cast<int64_t>(shared.size()) && t >= 0 && t < shared[static_cast<size_t>(e)]->steps(),
            "the resume checkpoint's transition replay is inconsistent (corrupt file?)");
    slots.push_back({shared[static_cast<size_t>(e)], t});
  }
  replay.restore(std::move(slots), s.integer("replay_cursor"));
}

// What both protocols' checkpoints keep beside the Q-network and Adam: the agent's generator
// (as text) and the target network's parameters.
void save_agent_extras(TrainingState& s, const std::mt19937_64& random, SequenceModel& target) {
  std::ostringstream state;
  state << random;
  s.extra["mt19937"] = text_tensor(state.str());
  const auto target_params = target->parameters();
  for (size_t i = 0; i < target_params.size(); ++i) s.extra["target." + std::to_string(i)] = target_params[i];
}

void restore_agent_extras(const TrainingState& s, std::mt19937_64& random, SequenceModel& target) {
  std::istringstream(tensor_text(s.extra.at("mt19937"))) >> random;
  torch::NoGradGuard no_grad;
  auto target_params = target->parameters();
  for (size_t i = 0; i < target_params.size(); ++i) target_params[i].copy_(s.extra.at("target." + std::to_string(i)));
}

}  // namespace

namespace {

// The start states of `picked` replayed histories, each run whole from the zero state (the
// authors' list branch of sample_hidden_states, models.py): one RecurrentState per layer, (n, H).
std::vector<RecurrentState> states_after_histories(SequenceModel& q, const TransitionReplay& replay,
                                                   const std::vector<int64_t>& picked) {
  const int64_t n = static_cast<int64_t>(picked.size());
  int64_t longest = 0;
  for (auto i : picked) longest = std::max(longest, replay.slot(i).step + 1);
  const int64_t width = q->config.input_size;
  auto x = torch::zeros({longest, n, width});  // zero-padded after each history's end
  auto lengths = torch::zeros({n}, torch::kLong);
  auto xa = x.accessor<float, 3>();
  auto la = lengths.accessor<int64_t, 1>();
  for (int64_t b = 0; b < n; ++b) {
    const auto& slot = replay.slot(picked[static_cast<size_t>(b)]);
    la[b] = slot.step + 1;
    for (int64_t t = 0; t <= slot.step; ++t)
      for (int64_t k = 0; k < width; ++k) xa[t][b][k] = slot.episode->inputs[static_cast<size_t>(t * width + k)];
  }
  return analysis::states_after_prefixes(q->stack->forward(x), lengths);
}

// reinforcement.py:78-86: VAA* (mean over layers) and VAA of 200 replayed histories, 200
// settling steps each; the constant inputs come from `generator`.
std::pair<double, double> replay_vaa(SequenceModel& q, const TransitionReplay& replay, std::mt19937_64& random,
                                     torch::Generator& generator) {
  torch::NoGradGuard no_grad;
  const auto start_star = states_after_histories(q, replay, replay.sample(WarmupPaperDrqn::vaa_samples, random));
  double star = 0;
  const auto stars = analysis::layer_vaa_star_from(q, start_star, WarmupPaperDrqn::vaa_settle_steps, generator);
  for (const auto& v : stars) star += v.item<double>() / static_cast<double>(stars.size());
  const auto start = states_after_histories(q, replay, replay.sample(WarmupPaperDrqn::vaa_samples, random));
  const auto u = torch::randn({q->config.input_size}, generator, torch::kFloat64).to(torch::kFloat32);
  const double vaa =
      analysis::vaa(analysis::join_states(analysis::settle(q, start, u, WarmupPaperDrqn::vaa_settle_steps)));
  return {star, vaa};
}

// agents.py:97-127: `rollouts` greedy episodes (the authors play them with epsilon = 0), each
// with a random cue: mean, min, median, max of the return and the mean discounted return.
nlohmann::json rollout_returns(SequenceModel& q, Tmaze& maze, int64_t rollouts, std::mt19937_64& random) {
  std::bernoulli_distribution coin(0.5);
  std::vector<double> returns;
  double discounted = 0;
  for (int64_t r = 0; r < rollouts; ++r) {
    const auto e = play(q, maze, coin(random), -1.0, random);
    returns.push_back(e.total_return());
    double g = 0, scale = 1;
    for (float reward : e.rewards) {
      g += scale * reward;
      scale *= kTmazeDiscount;
    }
    discounted += g / static_cast<double>(rollouts);
  }
  std::sort(returns.begin(), returns.end());
  double mean = 0;
  for (double v : returns) mean += v / static_cast<double>(rollouts);
  const size_t n = returns.size();
  const double median = n % 2 ? returns[n / 2] : (returns[n / 2 - 1] + returns[n / 2]) / 2;  // numpy's quantile 0.5
  return {{"mean", mean}, {"min", returns.front()}, {"median", median}, {"max", returns.back()},
          {"discounted_mean", discounted}};
}

// --protocol warmup-paper (reinforcement.py:46-114); o is resolved.
DrqnReport train_warmup_paper(SequenceModel& q, int64_t length, const DrqnOptions& o, const TrainOutput& output) {
  using P = WarmupPaperDrqn;
  std::ostream* metrics = output.metrics;
  const auto start = std::chrono::steady_clock::now();
  Tmaze maze = o.maze_of_length(length);
  const int64_t width = drqn_inputs(o.maze);
  std::mt19937_64 random(o.seed);
  std::bernoulli_distribution coin(0.5);
  // The constant inputs of the VAA measures: LibTorch's default generator, which the resume
  // checkpoint keeps (rng.default).
  torch::Generator generator = at::detail::getDefaultCPUGenerator();
  SequenceModel target(q->config);
  copy_parameters(q, target);
  target->eval();
  auto params = q->parameters();
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(o.learning_rate));
  TransitionReplay replay(*o.replay_transitions);
  DrqnReport report;
  double return_sum = 0, loss_sum = 0;
  int64_t return_count = 0, loss_count = 0, target_copied_at = -1;
  int64_t first_episode = 0;  // episodes counted from 0 as the authors do: evaluation k is at episode k * eval_every
  Checkpointer checkpoints(output, *q, optimizer, nullptr);
  if (const TrainingState* resumed = checkpoints.restore()) {
    first_episode = resumed->step;
    report.resumed_from = resumed->step;
    report.episodes_done = resumed->step;
    report.updates = resumed->integer("updates");
    report.episode_optimality = resumed->integer("episode_optimality");
    report.target_copies = resumed->integer("target_copies");
    target_copied_at = resumed->integer("target_copied_at");
    return_count = resumed->integer("return_count");
    loss_count = resumed->integer("loss_count");
    return_sum = resumed->real("return_sum");
    loss_sum = resumed->real("loss_sum");
    load_transitions(*resumed, width, replay);
    restore_agent_extras(*resumed, random, target);
  } else {
    // reinforcement.py:50-51: the replay filled to capacity by epsilon = 1 episodes (the last
    // one may wrap around and overwrite the first transitions, as the authors' ring does).
    while (!replay.full())
      replay.add(std::make_shared<const Episode>(play(q, maze, coin(random), 1.0, random, tmaze_exploration_action)));
  }
  const auto fill = [&](TrainingState& s) {
    s.integers = {{"updates", report.updates},           {"episode_optimality", report.episode_optimality},
                  {"target_copies", report.target_copies}, {"target_copied_at", target_copied_at},
                  {"return_count", return_count},         {"loss_count", loss_count}};
    s.reals = {{"return_sum", return_sum}, {"loss_sum", loss_sum}};
    save_transitions(replay, s);
    save_agent_extras(s, random, target);
  };
  training::ProgressBar progress(o.episodes, o.progress, "optimal");
  const int64_t B = P::batch_transitions;

  for (int64_t episode = first_episode; episode <= o.episodes; ++episode) {
    // reinforcement.py:64-89: evaluate before the episode is played (episode 0: the untrained agent).
    if (episode % o.eval_every == 0 || episode == o.episodes) {
      const auto rollouts = rollout_returns(q, maze, P::rollouts, random);
      const auto evaluation = evaluate_tmaze(q, length, maze, &random);
      if (evaluation.optimal && report.episode_optimality < 0) report.episode_optimality = episode;
      const auto [vaa_star, vaa] = replay_vaa(q, replay, random, generator);
      if (metrics)
        *metrics << nlohmann::json{{"episode", episode},
                                   {"epsilon", P::epsilon},
                                   {"train_return", return_count ? return_sum / return_count : NAN},
                                   {"loss", loss_count ? loss_sum / loss_count : NAN},
                                   {"optimal", evaluation.optimal},
                                   {"reached_goal", evaluation.reached_goal},
                                   {"greedy_success", evaluation.success},  // = reached_goal, what plot draws
                                   {"greedy_return", evaluation.mean_return},
                                   {"greedy_steps", {evaluation.steps_up, evaluation.steps_down}},
                                   {"rollout_return", rollouts},
                                   {"vaa_star", vaa_star},
                                   {"vaa", vaa},
                                   {"target_copied_at", target_copied_at},
                                   {"updates", report.updates}}
                        .dump()
                 << "\n"
                 << std::flush;
      progress.update(episode, loss_count ? loss_sum / loss_count : NAN, evaluation.optimal ? 1.0 : 0.0);
      return_sum = loss_sum = 0;
      return_count = loss_count = 0;
      if (o.stop_when_solved && evaluation.optimal) break;
    }
    // The authors play one more episode after the last evaluation; nothing they report sees it.
    if (episode == o.episodes) break;
    if (episode % P::target_every_episodes == 0) {  // reinforcement.py:101-102
      copy_parameters(q, target);
      ++report.target_copies;
      target_copied_at = episode;
    }
    const auto played = std::make_shared<const Episode>(play(q, maze, coin(random), P::epsilon, random,
                                                             tmaze_exploration_action));
    return_sum += played->total_return();
    ++return_count;
    replay.add(played);

    for (int64_t u = 0; u < P::updates_per_episode; ++u) {  // reinforcement.py:107-112, agents.py:129-153
      const auto picked = replay.sample(B, random);
      int64_t T = 0;  // rows of the longest next history
      for (auto i : picked) T = std::max(T, replay.slot(i).step + 2);
      auto x = torch::zeros({T, B, width});  // next histories x_0..x_{t+1}, zero-padded
      auto last = torch::zeros({B}, torch::kLong);  // t: the history's last step
      auto actions = torch::zeros({B, 1}, torch::kLong);
      auto rewards = torch::zeros({B});
      auto continues = torch::zeros({B});  // 1 - terminal
      auto xa = x.accessor<float, 3>();
      auto la = last.accessor<int64_t, 1>();
      auto aa = actions.accessor<int64_t, 2>();
      auto ra = rewards.accessor<float, 1>();
      auto ca = continues.accessor<float, 1>();
      for (int64_t b = 0; b < B; ++b) {
        const auto& slot = replay.slot(picked[static_cast<size_t>(b)]);
        const Episode& e = *slot.episode;
        const int64_t t = slot.step;
        for (int64_t r = 0; r <= t + 1; ++r)
          for (int64_t k = 0; k < width; ++k) xa[r][b][k] = e.inputs[static_cast<size_t>(r * width + k)];
        la[b] = t;
        aa[b][0] = e.actions[static_cast<size_t>(t)];
        ra[b] = e.rewards[static_cast<size_t>(t)];
        ca[b] = (e.terminal && t == e.steps() - 1) ? 0.0f : 1.0f;
      }
      const auto batch = torch::arange(B, torch::kLong);
      // The recurrence is causal: Q at step t of the next history is Q of the history itself.
      const auto values = q->forward(x, T);                                          // (T, B, actions)
      const auto taken = values.index({last, batch}).gather(1, actions).squeeze(1);  // (B)
      torch::Tensor targets;
      {
        torch::NoGradGuard no_grad;
        const auto next = std::get<0>(target->forward(x, T).index({last + 1, batch}).max(1));  // (B)
        targets = rewards + kTmazeDiscount * continues * next;
      }
      const auto loss = torch::mse_loss(taken, targets);  // mean over the B transitions, no clipping
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>();
      ++loss_count;
      ++report.updates;
    }
    report.episodes_done = episode + 1;
    checkpoints.after_update(episode + 1, o.episodes, (episode + 1) % o.eval_every == 0, fill);
  }
  progress.finish();
  report.final_evaluation = evaluate_tmaze(q, length, maze, &random);
  report.solved = report.final_evaluation.success == 1.0;
  report.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

// --protocol neurocell; o is resolved (every optional field set).
DrqnReport train_neurocell(SequenceModel& q, int64_t length, const DrqnOptions& o, const TrainOutput& output) {
  std::ostream* metrics = output.metrics;
  const auto start = std::chrono::steady_clock::now();
  Tmaze maze = o.maze_of_length(length);
  const int64_t width = drqn_inputs(o.maze);
  std::mt19937_64 random(o.seed);
  std::bernoulli_distribution coin(0.5);
  SequenceModel target(q->config);
  copy_parameters(q, target);
  target->eval();
  auto params = q->parameters();
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(o.learning_rate));
  std::deque<Episode> replay;
  DrqnReport report;
  double return_sum = 0, loss_sum = 0;
  int64_t return_count = 0, loss_count = 0;
  int64_t first_episode = 1;
  Checkpointer checkpoints(output, *q, optimizer, nullptr);
  if (const TrainingState* resumed = checkpoints.restore()) {
    first_episode = resumed->step + 1;
    report.resumed_from = resumed->step;
    report.updates = resumed->integer("updates");
    return_count = resumed->integer("return_count");
    loss_count = resumed->integer("loss_count");
    return_sum = resumed->real("return_sum");
    loss_sum = resumed->real("loss_sum");
    // absent from the checkpoints of runs started before the optimality criterion was logged
    if (resumed->integers.count("episode_optimality")) report.episode_optimality = resumed->integer("episode_optimality");
    replay = load_replay(resumed->extra, width);
    restore_agent_extras(*resumed, random, target);
  }
  const auto fill = [&](TrainingState& s) {
    s.integers = {{"updates", report.updates},
                  {"return_count", return_count},
                  {"loss_count", loss_count},
                  {"episode_optimality", report.episode_optimality}};
    s.reals = {{"return_sum", return_sum}, {"loss_sum", loss_sum}};
    save_replay(replay, s.extra);
    save_agent_extras(s, random, target);
  };
  training::ProgressBar progress(o.episodes, o.progress, "greedy success");

  for (int64_t episode = first_episode; episode <= o.episodes; ++episode) {
    const double decay_episodes = *o.epsilon_decay * static_cast<double>(o.episodes);
    const double epsilon = *o.epsilon_end + (*o.epsilon_start - *o.epsilon_end) *
                                               std::max(0.0, 1.0 - static_cast<double>(episode - 1) / decay_episodes);
    replay.push_back(play(q, maze, coin(random), epsilon, random));
    if (static_cast<int64_t>(replay.size()) > *o.replay_capacity) replay.pop_front();
    for (float r : replay.back().rewards) return_sum += r;
    ++return_count;

    if (episode >= *o.start_episodes) {
      for (int64_t u = 0; u < *o.updates_per_episode; ++u) {
        // A batch of whole episodes, zero-padded to the longest; mask marks the real steps.
        std::uniform_int_distribution<size_t> pick(0, replay.size() - 1);
        std::vector<const Episode*> batch;
        int64_t longest = 0;
        for (int64_t b = 0; b < *o.batch_episodes; ++b) {
          batch.push_back(&replay[pick(random)]);
          longest = std::max(longest, batch.back()->steps());
        }
        const int64_t B = *o.batch_episodes, T = longest;
        auto x = torch::zeros({T + 1, B, width});
        auto actions = torch::zeros({T, B, 1}, torch::kLong);
        auto rewards = torch::zeros({T, B});
        auto mask = torch::zeros({T, B});
        auto continues = torch::zeros({T, B});  // 1 - terminal
        auto xa = x.accessor<float, 3>();
        auto aa = actions.accessor<int64_t, 3>();
        auto ra = rewards.accessor<float, 2>();
        auto ma = mask.accessor<float, 2>();
        auto ca = continues.accessor<float, 2>();
        for (int64_t b = 0; b < B; ++b) {
          const Episode& e = *batch[b];
          for (int64_t t = 0; t <= e.steps(); ++t)
            for (int64_t k = 0; k < width; ++k) xa[t][b][k] = e.inputs[t * width + k];
          for (int64_t t = 0; t < e.steps(); ++t) {
            aa[t][b][0] = e.actions[t];
            ra[t][b] = e.rewards[t];
            ma[t][b] = 1.0f;
            ca[t][b] = (e.terminal && t == e.steps() - 1) ? 0.0f : 1.0f;
          }
        }
        const auto values = q->forward(x, T + 1);  // (T + 1, B, actions)
        const auto taken = values.narrow(0, 0, T).gather(2, actions).squeeze(2);
        torch::Tensor targets;
        {
          torch::NoGradGuard no_grad;
          const auto next = std::get<0>(target->forward(x, T + 1).narrow(0, 1, T).max(2));
          targets = rewards + kTmazeDiscount * continues * next;
        }
        const auto loss = (torch::nn::functional::smooth_l1_loss(
                               taken, targets, torch::nn::functional::SmoothL1LossFuncOptions().reduction(torch::kNone)) *
                           mask)
                              .sum() /
                          mask.sum();
        optimizer.zero_grad();
        loss.backward();
        torch::nn::utils::clip_grad_norm_(params, 10.0);
        optimizer.step();
        loss_sum += loss.item<double>();
        ++loss_count;
        if (++report.updates % *o.target_every == 0) {
          copy_parameters(q, target);
          ++report.target_copies;
        }
      }
    }
    report.episodes_done = episode;

    const bool evaluate = episode % o.eval_every == 0 || episode == o.episodes;
    if (evaluate) {
      const auto evaluation = evaluate_tmaze(q, length, maze, &random);
      if (evaluation.optimal && report.episode_optimality < 0) report.episode_optimality = episode;
      if (metrics)
        *metrics << nlohmann::json{{"episode", episode},
                                   {"epsilon", epsilon},
                                   {"train_return", return_count ? return_sum / return_count : 0.0},
                                   {"loss", loss_count ? loss_sum / loss_count : NAN},
                                   {"greedy_success", evaluation.success},
                                   {"reached_goal", evaluation.reached_goal},
                                   {"optimal", evaluation.optimal},
                                   {"greedy_return", evaluation.mean_return},
                                   {"updates", report.updates}}
                        .dump()
                 << "\n"
                 << std::flush;
      progress.update(episode, loss_count ? loss_sum / loss_count : NAN, evaluation.success);
      return_sum = loss_sum = 0;
      return_count = loss_count = 0;
      if (o.stop_when_solved && evaluation.success == 1.0) break;
    }
    checkpoints.after_update(episode, o.episodes, evaluate, fill);
  }
  progress.finish();
  report.final_evaluation = evaluate_tmaze(q, length, maze, &random);
  report.solved = report.final_evaluation.success == 1.0;
  report.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace

DrqnReport train_drqn(SequenceModel& q, int64_t length, const DrqnOptions& options, const TrainOutput& output) {
  options.validate();
  require(q->config.input_size == drqn_inputs(options.maze) && q->config.output_size == kTmazeActions,
          "the Q-network must read " + std::to_string(drqn_inputs(options.maze)) + " inputs (the " +
              tmaze_variant_name(options.maze) + " maze) and give " + std::to_string(kTmazeActions) + " values");
  const DrqnOptions o = options.resolved();
  DrqnReport report = o.protocol == DrqnProtocol::warmup_paper ? train_warmup_paper(q, length, o, output)
                                                                : train_neurocell(q, length, o, output);
  report.protocol = o.protocol;
  return report;
}

}  // namespace neurocell
