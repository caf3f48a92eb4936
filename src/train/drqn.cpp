#include "train/drqn.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <deque>
#include <ostream>
#include <random>
#include <sstream>

#include "core/error.h"
#include "core/progress.h"
#include "train/resume.h"

namespace neurocell {

namespace {

// One stored episode: inputs x_0..x_n (n + 1 rows of kDrqnInputs), actions and rewards of its
// n steps, and whether it ended in a goal.
struct Episode {
  std::vector<float> inputs;
  std::vector<int64_t> actions;
  std::vector<float> rewards;
  bool terminal = false;
  int64_t steps() const { return static_cast<int64_t>(actions.size()); }
};

void append_input(std::vector<float>& inputs, int previous_action, double previous_reward, TmazeSymbol observation) {
  float row[kDrqnInputs] = {};
  if (previous_action >= 0) row[previous_action] = 1.0f;
  row[kTmazeActions] = static_cast<float>(previous_reward);
  row[kTmazeActions + 1 + static_cast<int>(observation)] = 1.0f;
  inputs.insert(inputs.end(), row, row + kDrqnInputs);
}

torch::Tensor last_input(const std::vector<float>& inputs) {
  return torch::from_blob(const_cast<float*>(inputs.data() + inputs.size() - kDrqnInputs), {1, kDrqnInputs},
                          torch::kFloat32)
      .clone();
}

// Plays one episode; epsilon < 0 means greedy. Returns the episode (inputs, actions, rewards).
Episode play(SequenceModel& q, Tmaze& maze, bool goal_up, double epsilon, std::mt19937_64& random) {
  torch::NoGradGuard no_grad;
  Episode e;
  append_input(e.inputs, -1, 0.0, maze.reset(goal_up));
  auto state = q->initial_state(1);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::uniform_int_distribution<int> any_action(0, kTmazeActions - 1);
  while (true) {
    const auto values = q->step(last_input(e.inputs), state);  // (1, actions)
    int action = static_cast<int>(values.argmax(1).item<int64_t>());
    if (epsilon > 0 && uniform(random) < epsilon) action = any_action(random);
    const auto s = maze.step(static_cast<TmazeAction>(action));
    e.actions.push_back(action);
    e.rewards.push_back(static_cast<float>(s.reward));
    append_input(e.inputs, action, s.reward, s.observation);
    if (s.terminal || s.timed_out) {
      e.terminal = s.terminal;
      return e;
    }
  }
}

void copy_parameters(SequenceModel& from, SequenceModel& to) {
  torch::NoGradGuard no_grad;
  auto source = from->parameters();
  auto target = to->parameters();
  for (size_t i = 0; i < source.size(); ++i) target[i].copy_(source[i]);
}

}  // namespace

analysis::InputSampler tmaze_random_inputs(int64_t length) {
  Tmaze check(length);  // validates
  return [length](int64_t n, torch::Generator& generator) {
    Tmaze maze(length);
    const int64_t T = maze.horizon() + 1;
    auto x = torch::zeros({T, n, kDrqnInputs});
    auto xa = x.accessor<float, 3>();
    const auto goals = torch::randint(0, 2, {n}, generator, torch::kLong);
    const auto actions = torch::randint(0, kTmazeActions, {n, T}, generator, torch::kLong);
    auto ga = goals.accessor<int64_t, 1>();
    auto aa = actions.accessor<int64_t, 2>();
    for (int64_t b = 0; b < n; ++b) {
      std::vector<float> inputs;
      append_input(inputs, -1, 0.0, maze.reset(ga[b] == 1));
      for (int64_t t = 0; t + 1 < T; ++t) {
        const int action = static_cast<int>(aa[b][t]);
        const auto s = maze.step(static_cast<TmazeAction>(action));
        append_input(inputs, action, s.reward, s.observation);
        if (s.terminal || s.timed_out) break;
      }
      for (size_t k = 0; k < inputs.size(); ++k) xa[static_cast<int64_t>(k) / kDrqnInputs][b][static_cast<int64_t>(k) % kDrqnInputs] = inputs[k];
    }
    return x;
  };
}

void DrqnOptions::validate() const {
  require(episodes >= 1, "--episodes must be >= 1");
  require(batch_episodes >= 1 && replay_capacity >= batch_episodes, "--batch-episodes must be in 1..replay capacity");
  require(start_episodes >= 1 && updates_per_episode >= 0, "start episodes >= 1 and updates per episode >= 0");
  require(learning_rate > 0, "--lr must be > 0");
  require(epsilon_start >= 0 && epsilon_start <= 1 && epsilon_end >= 0 && epsilon_end <= 1, "epsilon must be in [0, 1]");
  require(epsilon_decay > 0 && epsilon_decay <= 1, "epsilon decay fraction must be in (0, 1]");
  require(target_every >= 1 && eval_every >= 1, "--target-every and --eval-every must be >= 1");
  require(checkpoint_every >= 0, "--checkpoint-every must be >= 0 (0 = at every evaluation)");
}

TmazeEvaluation evaluate_tmaze(SequenceModel& q, int64_t length) {
  Tmaze maze(length);
  std::mt19937_64 unused(0);
  TmazeEvaluation result;
  for (bool up : {true, false}) {
    const auto e = play(q, maze, up, -1.0, unused);
    double total = 0;
    for (float r : e.rewards) total += r;
    result.mean_return += total / 2;
    result.success += (e.terminal && e.rewards.back() == static_cast<float>(kTmazeGoalReward)) ? 0.5 : 0.0;
  }
  return result;
}

namespace {

// The replay as five tensors (inputs, actions, rewards concatenated; steps and terminal per
// episode) for the resume checkpoint, and back.
void save_replay(const std::deque<Episode>& replay, std::map<std::string, torch::Tensor>& extra) {
  std::vector<float> inputs, rewards;
  std::vector<int64_t> actions, steps;
  std::vector<uint8_t> terminal;
  for (const auto& e : replay) {
    inputs.insert(inputs.end(), e.inputs.begin(), e.inputs.end());
    rewards.insert(rewards.end(), e.rewards.begin(), e.rewards.end());
    actions.insert(actions.end(), e.actions.begin(), e.actions.end());
    steps.push_back(e.steps());
    terminal.push_back(e.terminal ? 1 : 0);
  }
  extra["replay.inputs"] = torch::tensor(inputs, torch::kFloat32);
  extra["replay.rewards"] = torch::tensor(rewards, torch::kFloat32);
  extra["replay.actions"] = torch::tensor(actions, torch::kInt64);
  extra["replay.steps"] = torch::tensor(steps, torch::kInt64);
  extra["replay.terminal"] = torch::tensor(std::vector<int64_t>(terminal.begin(), terminal.end()), torch::kInt64);
}

std::deque<Episode> load_replay(const std::map<std::string, torch::Tensor>& extra) {
  const auto get = [&](const std::string& name) {
    const auto it = extra.find(name);
    require(it != extra.end(), "the resume checkpoint lacks '" + name + "' (not a T-maze run's?)");
    return it->second.contiguous();
  };
  const auto inputs = get("replay.inputs"), rewards = get("replay.rewards"), actions = get("replay.actions"),
             steps = get("replay.steps"), terminal = get("replay.terminal");
  std::deque<Episode> replay;
  int64_t step_at = 0;
  for (int64_t i = 0; i < steps.numel(); ++i) {
    const int64_t n = steps[i].item<int64_t>();
    require(n >= 0 && step_at + n <= actions.numel() && (step_at + i + n + 1) * kDrqnInputs <= inputs.numel(),
            "the resume checkpoint's replay is inconsistent (corrupt file?)");
    Episode e;
    const float* in = inputs.data_ptr<float>() + (step_at + i) * kDrqnInputs;
    e.inputs.assign(in, in + (n + 1) * kDrqnInputs);
    e.actions.assign(actions.data_ptr<int64_t>() + step_at, actions.data_ptr<int64_t>() + step_at + n);
    e.rewards.assign(rewards.data_ptr<float>() + step_at, rewards.data_ptr<float>() + step_at + n);
    e.terminal = terminal[i].item<int64_t>() != 0;
    replay.push_back(std::move(e));
    step_at += n;
  }
  return replay;
}

torch::Tensor text_tensor(const std::string& text) {
  return torch::tensor(std::vector<int64_t>(text.begin(), text.end()), torch::kInt64).to(torch::kUInt8);
}

std::string tensor_text(const torch::Tensor& t) {
  const auto bytes = t.to(torch::kUInt8).contiguous();
  return std::string(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), static_cast<size_t>(bytes.numel()));
}

}  // namespace

DrqnReport train_drqn(SequenceModel& q, int64_t length, const DrqnOptions& o, const TrainOutput& output) {
  std::ostream* metrics = output.metrics;
  o.validate();
  require(q->config.input_size == kDrqnInputs && q->config.output_size == kTmazeActions,
          "the Q-network must read " + std::to_string(kDrqnInputs) + " inputs and give " +
              std::to_string(kTmazeActions) + " values");
  const auto start = std::chrono::steady_clock::now();
  Tmaze maze(length);
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
    replay = load_replay(resumed->extra);
    std::istringstream(tensor_text(resumed->extra.at("mt19937"))) >> random;
    torch::NoGradGuard no_grad;
    auto target_params = target->parameters();
    for (size_t i = 0; i < target_params.size(); ++i)
      target_params[i].copy_(resumed->extra.at("target." + std::to_string(i)));
  }
  const auto fill = [&](TrainingState& s) {
    s.integers = {{"updates", report.updates}, {"return_count", return_count}, {"loss_count", loss_count}};
    s.reals = {{"return_sum", return_sum}, {"loss_sum", loss_sum}};
    save_replay(replay, s.extra);
    std::ostringstream state;
    state << random;
    s.extra["mt19937"] = text_tensor(state.str());
    const auto target_params = target->parameters();
    for (size_t i = 0; i < target_params.size(); ++i) s.extra["target." + std::to_string(i)] = target_params[i];
  };
  training::ProgressBar progress(o.episodes, o.progress, "greedy success");

  for (int64_t episode = first_episode; episode <= o.episodes; ++episode) {
    const double decay_episodes = o.epsilon_decay * static_cast<double>(o.episodes);
    const double epsilon = o.epsilon_end + (o.epsilon_start - o.epsilon_end) *
                                               std::max(0.0, 1.0 - static_cast<double>(episode - 1) / decay_episodes);
    replay.push_back(play(q, maze, coin(random), epsilon, random));
    if (static_cast<int64_t>(replay.size()) > o.replay_capacity) replay.pop_front();
    for (float r : replay.back().rewards) return_sum += r;
    ++return_count;

    if (episode >= o.start_episodes) {
      for (int64_t u = 0; u < o.updates_per_episode; ++u) {
        // A batch of whole episodes, zero-padded to the longest; mask marks the real steps.
        std::uniform_int_distribution<size_t> pick(0, replay.size() - 1);
        std::vector<const Episode*> batch;
        int64_t longest = 0;
        for (int64_t b = 0; b < o.batch_episodes; ++b) {
          batch.push_back(&replay[pick(random)]);
          longest = std::max(longest, batch.back()->steps());
        }
        const int64_t B = o.batch_episodes, T = longest;
        auto x = torch::zeros({T + 1, B, kDrqnInputs});
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
            for (int64_t k = 0; k < kDrqnInputs; ++k) xa[t][b][k] = e.inputs[t * kDrqnInputs + k];
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
        if (++report.updates % o.target_every == 0) copy_parameters(q, target);
      }
    }
    report.episodes_done = episode;

    const bool evaluate = episode % o.eval_every == 0 || episode == o.episodes;
    if (evaluate) {
      const auto evaluation = evaluate_tmaze(q, length);
      if (metrics)
        *metrics << nlohmann::json{{"episode", episode},
                                   {"epsilon", epsilon},
                                   {"train_return", return_count ? return_sum / return_count : 0.0},
                                   {"loss", loss_count ? loss_sum / loss_count : NAN},
                                   {"greedy_success", evaluation.success},
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
  report.final_evaluation = evaluate_tmaze(q, length);
  report.solved = report.final_evaluation.success == 1.0;
  report.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace neurocell
