// One user program against an installed neurocell: a 1x16 nBRC on the copy task, a few Adam
// updates with the library's own model, task and checkpoint code; prints the loss before and
// after and checks that it fell and that the weights round-trip.
#include <neurocell/neurocell.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>

int main() {
  using namespace neurocell;
  torch::manual_seed(0);
  TaskConfig task_config;
  task_config.name = "copy-first-input";
  task_config.length = 10;
  const auto task = make_task(task_config);
  ModelConfig config;
  config.cell = "nbrc";
  config.input_size = task->input_size;
  config.output_size = task->output_size;
  config.hidden_size = 16;
  config.layers = 1;
  SequenceModel model(config);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-2));
  auto generator = make_generator(1, 0);
  const auto batch = task->sample(64, generator);
  auto loss_of = [&] { return torch::mse_loss(model->forward(batch.inputs, task->readout_steps), batch.targets); };
  const double before = loss_of().item<double>();
  for (int step = 0; step < 30; ++step) {
    adam.zero_grad();
    auto loss = loss_of();
    loss.backward();
    adam.step();
  }
  const double after = loss_of().item<double>();
  std::printf("library_consumer: %s (%zu cells registered), loss %.4f -> %.4f after 30 updates\n",
              config.cell.c_str(), cell_registry().size(), before, after);
  const auto path = (std::filesystem::temp_directory_path() / "neurocell_consumer.safetensors").string();
  save_weights(path, model);
  SequenceModel copy(config);
  load_weights(path, copy);
  std::filesystem::remove(path);
  torch::NoGradGuard no_grad;
  const bool same = torch::equal(copy->forward(batch.inputs, 1), model->forward(batch.inputs, 1));
  if (!(after < before) || !same) {
    std::printf("library_consumer: FAILED (loss did not fall or weights did not round-trip)\n");
    return 1;
  }
  std::printf("library_consumer: ok\n");
  return 0;
}
