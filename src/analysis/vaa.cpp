#include "analysis/vaa.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/progress.h"

namespace neurocell::analysis {

torch::Generator analysis_generator(uint64_t seed, uint64_t purpose) {
  // splitmix64 of (seed, purpose): well-separated streams for nearby seeds.
  uint64_t z = seed * 0x9e3779b97f4a7c15ULL + purpose * 0xbf58476d1ce4e5b9ULL + 0x4e4555524f43454cULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return at::make_generator<at::CPUGeneratorImpl>(z ^ (z >> 31));
}

namespace {

// Pairwise Euclidean distances (n, n) of the rows of x (n, S), exact zeros on the diagonal.
// The squared distances are clamped away from 0 before the square root so that autograd
// never meets sqrt'(0) (the clamp passes no gradient there, and d_ii does not need one).
torch::Tensor pairwise_distances(const torch::Tensor& x) {
  const auto diff = x.unsqueeze(0) - x.unsqueeze(1);  // (n, n, S)
  return diff.pow(2).sum(2).clamp_min(1e-30).sqrt();
}

}  // namespace

double vaa(const torch::Tensor& states, double eps) {
  require(states.dim() == 2 && states.size(0) >= 1, "VAA needs states of shape (n, S) with n >= 1");
  torch::NoGradGuard no_grad;
  const auto d = pairwise_distances(states.to(torch::kFloat64));
  const auto neighbours = (d < eps).to(torch::kFloat64).sum(1);  // includes i itself
  return (1.0 / neighbours).mean().item<double>();
}

int64_t count_attractors(const torch::Tensor& states, double eps) {
  require(states.dim() == 2, "count_attractors needs states of shape (n, S)");
  torch::NoGradGuard no_grad;
  const auto x = states.to(torch::kFloat64).contiguous();
  std::vector<torch::Tensor> representatives;
  for (int64_t i = 0; i < x.size(0); ++i) {
    bool found = false;
    for (const auto& r : representatives)
      if ((x[i] - r).norm().item<double>() < eps) {
        found = true;
        break;
      }
    if (!found) representatives.push_back(x[i]);
  }
  return static_cast<int64_t>(representatives.size());
}

torch::Tensor vaa_star(const torch::Tensor& states, double eps) {
  require(states.dim() == 2 && states.size(0) >= 1, "VAA* needs states of shape (n, S) with n >= 1");
  const auto d = pairwise_distances(torch::tanh(states));
  const auto closeness = 1 - torch::relu(d - eps) / (d + 1e-6);  // 1 within eps, about eps/d beyond
  return (1.0 / closeness.sum(1)).mean();
}

torch::Tensor join_states(const std::vector<RecurrentState>& states) {
  std::vector<torch::Tensor> parts;
  for (const auto& s : states) {
    parts.push_back(s.h);
    if (s.c.defined()) parts.push_back(s.c);
  }
  return torch::cat(parts, 1);
}

std::vector<RecurrentState> split_states(SequenceModel& model, const torch::Tensor& joint) {
  require(joint.dim() == 2 && joint.size(1) == model->state_width(),
          "joint state must be (B, " + std::to_string(model->state_width()) + ")");
  std::vector<RecurrentState> out;
  int64_t offset = 0;
  for (const auto& layer : model->stack->layers) {
    RecurrentState s;
    const int64_t H = layer->hidden_size();
    s.h = joint.narrow(1, offset, H);
    offset += H;
    if (layer->has_second_state()) {
      s.c = joint.narrow(1, offset, layer->second_state_size());
      offset += layer->second_state_size();
    }
    out.push_back(s);
  }
  return out;
}

std::vector<RecurrentState> states_after_prefixes(const std::vector<SequenceOutput>& outputs,
                                                  const torch::Tensor& prefix_lengths) {
  const auto step = (prefix_lengths - 1).to(torch::kLong);
  const auto sample = torch::arange(step.size(0), torch::kLong);
  std::vector<RecurrentState> out;
  for (const auto& o : outputs) {
    RecurrentState s;
    s.h = o.h.index({step, sample});  // (n, H): row i is h after step c_i of sample i
    if (o.c.defined()) s.c = o.c.index({step, sample});
    out.push_back(s);
  }
  return out;
}

std::vector<RecurrentState> settle(SequenceModel& model, const std::vector<RecurrentState>& start,
                                   const torch::Tensor& input, int64_t steps, int64_t chunk) {
  require(steps >= 1 && chunk >= 1, "settling needs at least one step");
  const int64_t n = start.front().h.size(0);
  auto state = start;
  const bool exact_shortcut = !torch::GradMode::is_enabled();
  int64_t done = 0;
  while (done < steps) {
    const int64_t len = std::min(chunk, steps - done);
    const auto x = input.view({1, 1, -1}).expand({len, n, input.size(0)});
    const auto outputs = model->stack->forward(x, state);
    bool unchanged = exact_shortcut && len == chunk;
    for (size_t l = 0; l < outputs.size(); ++l) {
      auto next = outputs[l].last();
      if (unchanged) unchanged = torch::equal(next.h, state[l].h) && (!next.c.defined() || torch::equal(next.c, state[l].c));
      state[l] = next;
    }
    done += len;
    // A chunk that brought every state back bit for bit: the map is deterministic and the
    // input constant, so every further whole chunk does the same. Only the remainder is left.
    if (unchanged) done = steps - (steps - done) % chunk;
  }
  return state;
}

void VaaOptions::validate() const {
  require(samples >= 2, "VAA needs at least 2 samples per batch (--vaa-samples)");
  require(settle_steps >= 1, "VAA needs at least 1 settling step (--vaa-settle)");
  require(batches >= 1, "VAA needs at least 1 batch (--vaa-batches)");
  require(eps > 0, "VAA's eps must be positive");
}

VaaResult measure_vaa(SequenceModel& model, const InputSampler& inputs, const VaaOptions& options) {
  options.validate();
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  const auto dtype = model->readout->weight.scalar_type();
  auto generator = analysis_generator(options.seed, 1);
  VaaResult result;
  training::ProgressBar bar(options.batches, options.progress, "attractors", "VAA");
  for (int64_t b = 0; b < options.batches; ++b) {
    const auto x = inputs(options.samples, generator).to(dtype);  // (T, n, I)
    require(x.dim() == 3 && x.size(2) == model->config.input_size,
            "VAA: the inputs must be (T, n, I=" + std::to_string(model->config.input_size) + ")");
    const int64_t T = x.size(0);
    const auto prefix = torch::randint(1, T + 1, {options.samples}, generator, torch::kLong);
    const int64_t longest = prefix.max().item<int64_t>();
    const auto outputs = model->stack->forward(x.narrow(0, 0, longest));
    const auto start = states_after_prefixes(outputs, prefix);
    const auto u = torch::randn({x.size(2)}, generator, torch::kFloat64).to(dtype);
    const auto final_states = join_states(settle(model, start, u, options.settle_steps));
    result.per_batch.push_back(vaa(final_states, options.eps));
    const auto attractors = static_cast<double>(count_attractors(final_states, options.eps));
    result.attractors += attractors;
    bar.update(b + 1, result.per_batch.back(), attractors);
  }
  bar.finish();
  double sum = 0;
  for (double v : result.per_batch) sum += v;
  result.vaa = sum / static_cast<double>(options.batches);
  result.attractors /= static_cast<double>(options.batches);
  model->train(was_training);
  return result;
}

}  // namespace neurocell::analysis
