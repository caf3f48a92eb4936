// One user program against an installed neurocell: a 1x16 nBRC on the copy task, a few Adam
// updates with the library's own model, task and checkpoint code (the loss must fall and the
// weights round-trip), then a tiny run folder trained and evaluated with runs::train/eval.
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
  bool same;
  {
    torch::NoGradGuard no_grad;
    same = torch::equal(copy->forward(batch.inputs, 1), model->forward(batch.inputs, 1));
  }
  if (!(after < before) || !same) {
    std::printf("library_consumer: FAILED (loss did not fall or weights did not round-trip)\n");
    return 1;
  }
  // The same through the library's run folders: train a tiny GRU run, then evaluate it again.
  RunConfig run;
  run.model.cell = "gru";
  run.model.hidden_size = 8;
  run.model.layers = 1;
  run.task.name = "denoising";
  run.task.length = 12;
  run.train.steps = 20;
  run.train.batch_size = 16;
  run.train.eval_every = 10;
  run.train.validation_size = 32;
  run.train.test_size = 64;
  run.train.progress = false;
  const auto dir = (std::filesystem::temp_directory_path() / "neurocell_consumer_run").string();
  const auto trained = runs::train(run, dir, neurocell::ExistingRun::overwrite);
  const auto evaluated = runs::eval(dir);
  std::filesystem::remove_all(dir);
  std::printf("library_consumer: runs::train test MSE %.6f, runs::eval %.6f\n", trained.value, evaluated.value);
  if (trained.value != evaluated.value) {
    std::printf("library_consumer: FAILED (eval of the run folder differs from its training)\n");
    return 1;
  }
  std::printf("library_consumer: ok\n");
  return 0;
}
