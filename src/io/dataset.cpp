#include "io/dataset.h"
#include "io/zip.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <zlib.h>

#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "io/files.h"
#include "io/npz.h"

namespace neurocell {

void DatasetConfig::validate() const {
  require(!path.empty(), "--data needs a .npz file");
  require(layout == "NTI" || layout == "TNI", "--data-layout must be NTI (inputs (N, T, I)) or TNI (inputs (T, N, I)), got '" +
                                                  layout + "'");
  require(std::isfinite(validation_fraction) && validation_fraction > 0 && validation_fraction < 1,
          "--val-fraction must be in (0, 1) (the share of the rows that validates when the file has no val_inputs)");
}

nlohmann::json to_json(const DatasetConfig& c) {
  return {{"name", "data"},
          {"path", c.path},
          {"layout", c.layout},
          {"validation_fraction", c.validation_fraction},
          {"split_seed", c.split_seed},
          {"crc32", c.crc32},
          {"bytes", c.bytes}};
}

DatasetConfig dataset_config_from_json(const nlohmann::json& j) {
  DatasetConfig c;
  try {
    c.path = j.at("path").get<std::string>();
    c.layout = j.value("layout", c.layout);
    c.validation_fraction = j.value("validation_fraction", c.validation_fraction);
    c.split_seed = j.value("split_seed", c.split_seed);
    c.crc32 = j.value("crc32", uint32_t{0});
    c.bytes = j.value("bytes", int64_t{0});
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("data config: ") + e.what());
  }
  c.validate();
  return c;
}

namespace {


struct Split {
  torch::Tensor inputs, targets;  // (N, T, I) float32; (N, K, O) float32 or (N) int64
  torch::Tensor mask;             // (N, K, O) float32 weights, or undefined

  Split rows(const torch::Tensor& index) const {
    return {inputs.index_select(0, index), targets.index_select(0, index),
            mask.defined() ? mask.index_select(0, index) : torch::Tensor()};
  }
};

std::string shape_of(const torch::Tensor& t) { return c10::str(t.sizes()); }

// inputs of one split as (N, T, I) float32.
torch::Tensor split_inputs(const torch::Tensor& x, const std::string& name, const DatasetConfig& c) {
  const std::string where = "'" + c.path + "': " + name;
  require(x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kFloat64,
          where + " must be float32 or float64");
  require(x.dim() == 3, where + " must have 3 dimensions (" + (c.layout == "NTI" ? "N, T, I" : "T, N, I") +
                            " with --data-layout " + c.layout + "), got " + shape_of(x));
  auto rows = c.layout == "NTI" ? x : x.transpose(0, 1);
  require(rows.size(0) >= 1 && rows.size(1) >= 1 && rows.size(2) >= 1, where + " is empty: " + shape_of(x));
  rows = rows.to(torch::kFloat32).contiguous();
  require(torch::isfinite(rows).all().item<bool>(), where + " contains NaN or Inf values");
  return rows;
}

Split read_split(const std::map<std::string, torch::Tensor>& arrays, const std::string& prefix, bool classification,
                 const DatasetConfig& c) {
  Split s;
  s.inputs = split_inputs(arrays.at(prefix + "inputs"), prefix + "inputs", c);
  const int64_t n = s.inputs.size(0);
  const std::string key = prefix + (classification ? "labels" : "targets");
  require(arrays.count(key), "'" + c.path + "': " + prefix + "inputs has no " + key + " beside it");
  const auto& y = arrays.at(key);
  const std::string where = "'" + c.path + "': " + key;
  if (classification) {
    require(!y.is_floating_point() && y.scalar_type() != torch::kBool && y.dim() == 1,
            where + " must be integer class labels of shape (N), got " + std::string(c10::toString(y.scalar_type())) +
                " " + shape_of(y));
    s.targets = y.to(torch::kLong);
    require(s.targets.min().item<int64_t>() >= 0, where + " has negative labels: classes are 0..C-1");
  } else {
    require(y.is_floating_point() && (y.dim() == 2 || y.dim() == 3),
            where + " must be float targets of shape (N, O) or (N, K, O), got " + shape_of(y));
    s.targets = (y.dim() == 2 ? y.unsqueeze(1) : y).to(torch::kFloat32).contiguous();
    require(s.targets.size(1) >= 1 && s.targets.size(2) >= 1, where + " is empty: " + shape_of(y));
    require(torch::isfinite(s.targets).all().item<bool>(), where + " contains NaN or Inf values");
  }
  require(s.targets.size(0) == n, where + " has " + std::to_string(s.targets.size(0)) + " rows but " + prefix +
                                      "inputs has " + std::to_string(n) + " sequences");
  if (arrays.count(prefix + "mask")) {
    const auto& m = arrays.at(prefix + "mask");
    const std::string mwhere = "'" + c.path + "': " + prefix + "mask";
    require(!classification, mwhere + ": masks weight regression targets; a classification file has none");
    const auto& raw = y;  // as the file gives the targets: (N, O) or (N, K, O)
    const bool full = m.sizes() == raw.sizes();
    const bool per_step = m.dim() == raw.dim() - 1 && m.sizes() == raw.sizes().slice(0, raw.dim() - 1);
    require(full || per_step, mwhere + " must have the shape of " + key + " " + shape_of(raw) +
                                  " or that shape without its last axis, got " + shape_of(m));
    auto w = m.to(torch::kFloat32);
    if (per_step) w = w.unsqueeze(-1);                  // one weight for every output
    if (raw.dim() == 2) w = w.unsqueeze(1);             // (N, O) targets are K = 1
    s.mask = w.expand_as(s.targets).contiguous();
    require(torch::isfinite(s.mask).all().item<bool>() && s.mask.min().item<double>() >= 0,
            mwhere + " must hold finite weights >= 0");
    require(s.mask.sum().item<double>() > 0, mwhere + " weights every target 0: nothing would count");
  }
  return s;
}

class DatasetTask : public Task {
 public:
  explicit DatasetTask(const Dataset& d) : data_(d) {
    input_size = d.input_size;
    output_size = d.output_size;
    readout_steps = d.readout_steps;
    config.name = "data";
    config.length = d.length;
  }
  Batch sample(int64_t batch_size, torch::Generator& generator) const override {
    const auto index = torch::randint(data_.train_inputs.size(0), {batch_size}, generator, torch::kLong);
    return rows(data_.train_inputs, data_.train_targets, data_.train_mask, index);
  }
  // n is ignored: the splits are used whole.
  std::vector<Batch> fixed_set(int64_t n, int64_t batch_size, uint64_t seed, uint64_t stream) const override {
    if (stream != 1 && stream != 2) return Task::fixed_set(n, batch_size, seed, stream);
    const auto& x = stream == 1 ? data_.validation_inputs : data_.test_inputs;
    const auto& y = stream == 1 ? data_.validation_targets : data_.test_targets;
    const auto& m = stream == 1 ? data_.validation_mask : data_.test_mask;
    std::vector<Batch> out;
    for (int64_t b = 0; b < x.size(0); b += batch_size) {
      const auto index = torch::arange(b, std::min(b + batch_size, x.size(0)), torch::kLong);
      out.push_back(rows(x, y, m, index));
    }
    return out;
  }

 private:
  static Batch rows(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& m, const torch::Tensor& index) {
    const auto time_major = [&index](const torch::Tensor& t) { return t.index_select(0, index).transpose(0, 1).contiguous(); };
    return {time_major(x), time_major(y), m.defined() ? time_major(m) : torch::Tensor()};  // (T, B, I), (K, B, O) x2
  }
  Dataset data_;
};

}  // namespace

Dataset load_dataset(DatasetConfig& c) {
  c.validate();
  const std::string bytes = read_file(c.path, "data file (--data)");
  const uint32_t crc = crc32_of(bytes.data(), bytes.size());
  if (c.crc32 != 0 || c.bytes != 0)
    require(crc == c.crc32 && static_cast<int64_t>(bytes.size()) == c.bytes,
            "'" + c.path + "' has changed since the run was trained (CRC-32 or size differ): restore the file or train again");
  c.crc32 = crc;
  c.bytes = static_cast<int64_t>(bytes.size());
  const auto arrays = parse_npz(bytes, "'" + c.path + "'");

  static const std::set<std::string> known = {"inputs",      "targets",     "labels",       "mask",
                                              "val_inputs",  "val_targets", "val_labels",   "val_mask",
                                              "test_inputs", "test_targets", "test_labels", "test_mask"};
  for (const auto& [name, array] : arrays)
    require(known.count(name), "'" + c.path + "': unknown array '" + name +
                                   "' (expected inputs with targets or labels, optional mask, val_* and test_*; docs/tasks.md)");
  require(arrays.count("inputs"), "'" + c.path + "' has no array 'inputs' (N, T, I)");
  const bool has_targets = arrays.count("targets") > 0, has_labels = arrays.count("labels") > 0;
  require(has_targets != has_labels, "'" + c.path + "' must hold exactly one of 'targets' (regression) and 'labels' "
                                     "(classification) beside 'inputs'");
  for (const char* prefix : {"val_", "test_"})
    require(!arrays.count(std::string(prefix) + (has_labels ? "targets" : "labels")),
            "'" + c.path + "': " + prefix + "* must be of the same problem as the training arrays (" +
                (has_labels ? "labels" : "targets") + ")");

  Dataset d;
  d.classification = has_labels;
  Split train = read_split(arrays, "", d.classification, c), validation, test;
  if (arrays.count("val_inputs")) {
    validation = read_split(arrays, "val_", d.classification, c);
  } else {
    const int64_t n = train.inputs.size(0);
    const int64_t n_val = std::max<int64_t>(1, std::llround(c.validation_fraction * static_cast<double>(n)));
    require(n - n_val >= 1, "'" + c.path + "': " + std::to_string(n) +
                                " sequences are too few to split off a validation set (give val_inputs, or more rows)");
    torch::Generator generator = make_generator(c.split_seed, 3);
    const auto order = torch::randperm(n, generator, torch::kLong);
    validation = train.rows(order.narrow(0, 0, n_val));
    train = train.rows(order.narrow(0, n_val, n - n_val));
  }
  if (arrays.count("test_inputs")) {
    test = read_split(arrays, "test_", d.classification, c);
  } else {
    test = validation;
    d.test_is_validation = true;
  }
  d.input_size = train.inputs.size(2);
  d.length = train.inputs.size(1);
  for (const auto* s : {&validation, &test})
    require(s->inputs.size(1) == d.length && s->inputs.size(2) == d.input_size,
            "'" + c.path + "': every split's sequences must have the training shape (T=" + std::to_string(d.length) +
                ", I=" + std::to_string(d.input_size) + "), got " + shape_of(s->inputs) + " (as (N, T, I))");
  if (d.classification) {
    int64_t max_label = 0;
    for (const auto* s : {&train, &validation, &test}) max_label = std::max(max_label, s->targets.max().item<int64_t>());
    d.output_size = max_label + 1;
    require(d.output_size >= 2, "'" + c.path + "': labels must name at least 2 classes (0 and 1)");
  } else {
    d.readout_steps = train.targets.size(1);
    d.output_size = train.targets.size(2);
    for (const auto* s : {&validation, &test})
      require(s->targets.size(1) == d.readout_steps && s->targets.size(2) == d.output_size,
              "'" + c.path + "': every split's targets must have the training shape (K=" +
                  std::to_string(d.readout_steps) + ", O=" + std::to_string(d.output_size) + ")");
    require(d.readout_steps <= d.length, "'" + c.path + "': targets read the last K=" + std::to_string(d.readout_steps) +
                                             " states of sequences of T=" + std::to_string(d.length));
  }
  d.train_inputs = train.inputs, d.train_targets = train.targets, d.train_mask = train.mask;
  d.validation_inputs = validation.inputs, d.validation_targets = validation.targets, d.validation_mask = validation.mask;
  d.test_inputs = test.inputs, d.test_targets = test.targets, d.test_mask = test.mask;
  return d;
}

std::unique_ptr<Task> make_dataset_task(const Dataset& dataset) {
  require(!dataset.classification, "a classification dataset trains through the classifier loop, not as a Task");
  return std::make_unique<DatasetTask>(dataset);
}

}  // namespace neurocell
