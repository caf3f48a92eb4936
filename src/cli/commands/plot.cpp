// `neurocell plot raster|vaa|curves`: pictures drawn with gnuplot. raster: the input and every
// SRC layer's spikes over time for one test image; vaa: VAA over warmup and training from a
// run's metrics.jsonl (VAA* per layer during warmup, VAA measured before/after warmup and during
// training, next to the validation MSE); curves: the learning curves (training loss and the
// validation metric) of any runs, one line per run.
#include "cli/commands/commands.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "io/files.h"
#include "plot/gnuplot.h"
#include "runs/runs.h"
#include "tasks/mnist.h"

namespace neurocell::cli {

namespace {

struct PlotCommand {
  std::string kind, checkpoint, out_path;
  std::vector<std::string> runs;
  int64_t image_index = 0;
};

// The learning curves of run folders of any kind, from their metrics.jsonl: the validation
// records (regression, classifiers: "step"; T-maze: "episode"), warmup and VAA records skipped.
void command_plot_curves(const std::vector<std::string>& dirs, const std::string& out_path) {
  require(!dirs.empty(), "plot curves needs one or more run folders: neurocell plot curves DIR... --out curves.png");
  GnuplotFigure figure(out_path, 900, 700);
  std::ostringstream loss_plot, validation_plot;
  std::set<std::string> metrics_seen;
  for (size_t r = 0; r < dirs.size(); ++r) {
    const auto text = read_file(metrics_path(dirs[r]), "metrics file");
    std::ostringstream loss_data, validation_data;
    std::istringstream lines(text);
    std::string line;
    for (int64_t number = 1; std::getline(lines, line); ++number) {
      if (line.empty()) continue;
      try {
        const auto j = nlohmann::json::parse(line);
        if (j.contains("phase")) continue;  // warmup steps and VAA measurements
        const char* x_key = j.contains("episode") ? "episode" : "step";
        const auto x = j.at(x_key).get<int64_t>();
        for (const char* key : {"validation_mse", "validation_accuracy", "greedy_success"})
          if (j.contains(key) && j.at(key).is_number()) {
            validation_data << x << " " << j.at(key).get<double>() << "\n";
            metrics_seen.insert(key);
          }
        for (const char* key : {"train_loss", "loss"})
          if (j.contains(key) && j.at(key).is_number()) {
            loss_data << x << " " << j.at(key).get<double>() << "\n";
            break;
          }
      } catch (const nlohmann::json::exception&) {
        throw Error("metrics file '" + metrics_path(dirs[r]) + "' line " + std::to_string(number) +
                    " is not a neurocell metrics record");
      }
    }
    require(!validation_data.str().empty(), "'" + metrics_path(dirs[r]) + "' holds no validation record yet");
    std::string title = std::filesystem::path(dirs[r]).lexically_normal().filename().string();
    if (title.empty()) title = dirs[r];
    for (auto& c : title)
      if (c == '\'' || c == '_') c = '-';  // gnuplot quoting and enhanced-text subscripts
    const auto loss_file = figure.data("loss" + std::to_string(r) + ".dat", loss_data.str());
    const auto validation_file = figure.data("validation" + std::to_string(r) + ".dat", validation_data.str());
    loss_plot << (r ? ", " : "") << "'" << loss_file << "' using 1:2 with lines lw 2 title '" << title << "'";
    validation_plot << (r ? ", " : "") << "'" << validation_file << "' using 1:2 with linespoints pt 7 ps 0.6 lw 2 title '"
                    << title << "'";
  }
  std::string metric_label;
  for (const auto& m : metrics_seen) metric_label += (metric_label.empty() ? "" : " / ") + m;
  for (auto& c : metric_label)
    if (c == '_') c = ' ';
  std::ostringstream body;
  body << "set multiplot layout 2,1\nset grid\nset key outside right\n"
       << "set title 'training loss (mean since the previous validation)'\nset xlabel 'step (T-maze: episode)'\n"
       << "set ylabel 'loss'\nset logscale y\nplot " << loss_plot.str() << "\nunset logscale y\n"
       << "set title 'validation'\nset ylabel '" << metric_label << "'\nplot " << validation_plot.str()
       << "\nunset multiplot";
  figure.render(body.str());
  std::printf("wrote %s: learning curves of %zu run%s\n", out_path.c_str(), dirs.size(), dirs.size() == 1 ? "" : "s");
}

void command_plot_raster(const std::string& dir, int64_t image_index, const std::string& out_path) {
  const auto config = load_spiking_config(dir);
  require(!config.task.nmnist(), "plot raster draws a rate-coded MNIST image's spikes; '" + dir + "' is an N-MNIST run");
  GnuplotFigure figure(out_path, 900, 260 * static_cast<int>(config.model.layers + 1));
  auto model = load_src_classifier(dir, config);
  const auto test = load_mnist_split(config.task.dataset(), false);
  require(image_index >= 0 && image_index < test.labels.size(0),
          "--index must be in [0, " + std::to_string(test.labels.size(0)) + ")");
  auto generator = make_generator(config.train.seed, 2);
  torch::NoGradGuard no_grad;
  const auto input = rate_code(test.images.narrow(0, image_index, 1), config.task.coding, generator);
  const auto layers = model->layer_states(input.to(model->readout.scalar_type()));  // [0]: spikes
  const auto logits = model->forward(input.to(model->readout.scalar_type()));
  const int64_t label = test.labels[image_index].item<int64_t>(), predicted = logits.argmax(1).item<int64_t>();

  // One data block per panel: "t neuron" for every spike (input 1, SRC output > 1/2: an SRC
  // spike drives h close to +1, so the threshold separates spikes from the resting state;
  // LIF spikes are 0/1).
  std::vector<std::string> panels;
  auto add_panel = [&](const torch::Tensor& events /* (T, N) */, const std::string& title, double threshold) {
    std::ostringstream data;
    const auto hits = (events > threshold).nonzero();
    for (int64_t k = 0; k < hits.size(0); ++k) data << hits[k][0].item<int64_t>() << " " << hits[k][1].item<int64_t>() << "\n";
    // Both ranges given: a panel without any spike (an untrained layer) has no y range to
    // autoscale to, which gnuplot refuses; it is drawn empty, and says so.
    const std::string ranges = "[0:" + std::to_string(events.size(0)) + "][-0.5:" +
                               std::to_string(events.size(1)) + "-0.5]";
    const std::string head = "set title '" + title + "'; set ylabel 'neuron'; ";
    if (hits.size(0) == 0) {
      panels.push_back(head + "set label 1 'no spikes' at graph 0.5, 0.5 center; plot " + ranges +
                       " NaN notitle; unset label 1");
      return;
    }
    const auto file = figure.data("panel" + std::to_string(panels.size()) + ".dat", data.str());
    panels.push_back(head + "plot " + ranges + " '" + file + "' using 1:2 with points pt 5 ps 0.3 lc rgb 'black' notitle");
  };
  add_panel(input.select(1, 0), "input spikes (test image " + std::to_string(image_index) + ", label " +
                                    std::to_string(label) + ")", 0.5);
  for (size_t l = 0; l < layers.size(); ++l)
    add_panel(layers[l][0].select(1, 0), (model->lif() ? "LIF layer " : "SRC layer ") + std::to_string(l + 1) +
                  (l + 1 == layers.size() ? " (neuron j votes for class j mod 10; predicted " +
                                                std::to_string(predicted) + ")" : ""), 0.5);
  std::string body = "set multiplot layout " + std::to_string(panels.size()) + ",1\nset xlabel 'time step'\n";
  for (const auto& p : panels) body += p + "\n";
  figure.render(body + "unset multiplot");
  std::printf("wrote %s: spike raster of test image %lld (label %lld, predicted %lld)\n", out_path.c_str(),
              static_cast<long long>(image_index), static_cast<long long>(label), static_cast<long long>(predicted));
}

void command_plot_vaa(const std::string& dir, const std::string& out_path) {
  const auto text = read_file(metrics_path(dir), "metrics file");
  std::ostringstream warmup_data, vaa_data, validation_data;
  size_t layers = 0;
  int64_t line_number = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    ++line_number;
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
      const std::string phase = j.value("phase", std::string("train"));
      if (phase == "warmup") {
        const auto stars = j.at("vaa_star").get<std::vector<double>>();
        layers = std::max(layers, stars.size());
        warmup_data << j.at("step").get<int64_t>();
        for (double v : stars) warmup_data << " " << v;
        warmup_data << "\n";
      } else if (phase == "vaa") {
        vaa_data << j.at("step").get<int64_t>() << " " << j.at("vaa").get<double>() << "\n";
      } else {
        const auto step = j.at("step").get<int64_t>();
        validation_data << step << " " << j.at("validation_mse").get<double>() << "\n";
        if (j.contains("vaa")) vaa_data << step << " " << j.at("vaa").get<double>() << "\n";
      }
    } catch (const nlohmann::json::exception&) {
      throw Error("metrics file '" + metrics_path(dir) + "' line " + std::to_string(line_number) +
                  " is not a neurocell metrics record");
    }
  }
  require(!vaa_data.str().empty() || layers > 0,
          "'" + metrics_path(dir) + "' holds no VAA measurement: train with --warmup K, --vaa or --vaa-every N");
  const bool has_warmup = layers > 0;
  GnuplotFigure figure(out_path, 900, has_warmup ? 700 : 380);
  std::ostringstream body;
  if (has_warmup) body << "set multiplot layout 2,1\n";
  body << "set grid\nset key outside right\n";
  if (has_warmup) {
    const auto file = figure.data("warmup.dat", warmup_data.str());
    body << "set title 'warmup: VAA* of each layer (target 0.95)'\nset xlabel 'warmup step'\nset ylabel 'VAA*'\n"
         << "set yrange [0:1.05]\nplot ";
    for (size_t l = 0; l < layers; ++l)
      body << (l ? ", " : "") << "'" << file << "' using 1:" << l + 2 << " with lines lw 2 title 'layer " << l + 1
           << "'";
    body << ", 0.95 with lines dt 2 lc rgb 'gray40' title 'target'\nset autoscale y\n";
  }
  const auto vaa_file = figure.data("vaa.dat", vaa_data.str());
  const auto validation_file = figure.data("validation.dat", validation_data.str());
  body << "set title 'VAA over training (step 0: before and after warmup)'\nset xlabel 'training step'\n"
       << "set ylabel 'VAA'\nset yrange [0:1.05]\nset y2label 'validation MSE'\nset logscale y2\nset y2tics\n"
       << "plot '" << vaa_file << "' using 1:2 with linespoints pt 7 lw 2 title 'VAA', '" << validation_file
       << "' using 1:2 axes x1y2 with lines lc rgb 'gray50' title 'validation MSE'\n";
  if (has_warmup) body << "unset multiplot\n";
  figure.render(body.str());
  std::printf("wrote %s\n", out_path.c_str());
}

}  // namespace

void register_plot(CLI::App& app) {
  auto options = std::make_shared<PlotCommand>();
  auto& o = *options;
  auto* plot = app.add_subcommand("plot", "Draw a picture with gnuplot");
  plot->add_option("kind", o.kind,
                   "raster: input and SRC spikes of one test image | vaa: VAA over warmup and training | "
                   "curves: learning curves of the runs given after it")
      ->check(CLI::IsMember({"raster", "vaa", "curves"}))->required();
  plot->add_option("runs", o.runs, "curves: run folders (any kind)");
  plot->add_option("--checkpoint", o.checkpoint, "raster, vaa: the run folder (raster: an SRC run)");
  plot->add_option("--index", o.image_index, "Test image index")->capture_default_str();
  plot->add_option("--out", o.out_path, "Picture file (.png or .svg)")->required();
  plot->callback([options] {
    const auto& o = *options;
    if (o.kind == "curves") {
      require(o.checkpoint.empty(), "plot curves takes run folders after it, not --checkpoint");
      return command_plot_curves(o.runs, o.out_path);
    }
    require(o.runs.empty(), "plot " + o.kind + " reads one run: --checkpoint DIR (run folders after the kind are for curves)");
    require(!o.checkpoint.empty(), "plot " + o.kind + " needs --checkpoint DIR");
    if (o.kind == "vaa") return command_plot_vaa(o.checkpoint, o.out_path);
    command_plot_raster(o.checkpoint, o.image_index, o.out_path);
  });
}

}  // namespace neurocell::cli
