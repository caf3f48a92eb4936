// neurocell._C: the library's modules and functions for Python (the package python/neurocell/
// wraps them in torch.nn.Modules). Built against Debian's LibTorch and python3-torch, which
// are the same libtorch.so: tensors cross without a copy, and the fused kernels' autograd
// nodes (hand-written backward) join Python's autograd graph as they are.
//
// Nothing here computes: every function binds one library function (src/), and every
// neurocell::Error becomes a ValueError with the library's one-line message.
#include <torch/extension.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "analysis/fixed_points.h"
#include "analysis/gates.h"
#include "analysis/vaa.h"
#include "analysis/warmup.h"
#include "bench/bench.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "io/files.h"
#include "io/ncm_export.h"
#include "kernels/fused.h"
#include "nn/cell_registry.h"
#include "nn/model.h"
#include "nn/neuromodulation.h"
#include "nn/spiking.h"
#include "ops/surrogate_relaxation.h"
#include "runs/runs.h"
#include "tasks/image_sequences.h"
#include "tasks/mnist.h"
#include "tasks/spiking.h"
#include "tasks/synthetic.h"
#include "train/multistability.h"

namespace py = pybind11;
using torch::Tensor;

namespace neurocell::python {

namespace {

using Json = nlohmann::json;

// JSON crosses as text: Python's json module on one side, nlohmann on the other.
py::object to_python(const Json& j) { return py::module_::import("json").attr("loads")(j.dump()); }
Json from_python_text(const std::string& text, const std::string& what) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    throw Error(what + " is not valid JSON: " + e.what());
  }
}

py::object optional_tensor(const Tensor& t) { return t.defined() ? py::cast(t) : py::none(); }
Tensor tensor_or_undefined(const py::object& o) { return o.is_none() ? Tensor() : o.cast<Tensor>(); }

// A Python callable sampler(n) -> inputs (T, n, I) as the analysis layer's InputSampler. The
// generator of the analysis is not passed: the callable draws from its own random state.
analysis::InputSampler python_sampler(py::function sampler) {
  return [sampler](int64_t n, torch::Generator&) {
    py::gil_scoped_acquire gil;
    return sampler(n).cast<Tensor>();
  };
}

std::vector<std::pair<std::string, Tensor>> items(const torch::OrderedDict<std::string, Tensor>& dict) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& kv : dict) out.emplace_back(kv.key(), kv.value());
  return out;
}

// (L, B, W) per-layer initial states of a stack, or none.
std::vector<RecurrentState> stack_initial(const py::object& h0, const py::object& c0, int64_t layers) {
  const Tensor h = tensor_or_undefined(h0), c = tensor_or_undefined(c0);
  if (!h.defined() && !c.defined()) return {};
  auto check = [&](const Tensor& t, const char* name) {
    require(!t.defined() || (t.dim() == 3 && t.size(0) == layers),
            std::string("initial ") + name + " must be (num_layers=" + std::to_string(layers) + ", B, width), got " +
                (t.defined() ? c10::str(t.sizes()) : std::string("none")));
  };
  check(h, "h");
  check(c, "c");
  std::vector<RecurrentState> out(layers);
  for (int64_t l = 0; l < layers; ++l) {
    if (h.defined()) out[l].h = h[l];
    if (c.defined()) out[l].c = c[l];
  }
  return out;
}

// Output of the last layer (T, B, H), h_n (L, B, H), c_n (L, B, C) or None.
py::tuple stack_result(const std::vector<SequenceOutput>& outputs) {
  std::vector<Tensor> h_n, c_n;
  for (const auto& o : outputs) {
    h_n.push_back(o.h[-1]);
    if (o.c.defined()) c_n.push_back(o.c[-1]);
  }
  return py::make_tuple(outputs.back().h, torch::stack(h_n),
                        c_n.empty() ? py::none() : py::cast(torch::stack(c_n)));
}

// The layers' initialisation options (nn/layers.h); weights_init and chrono_variant as in a
// run's config.json "model" (nn/model.h), checked by ModelConfig's rules for `cell`.
LayerInit layer_init(const std::string& cell, bool orthogonal_recurrent, int64_t chrono_max_length,
                     const std::string& weights_init, const std::string& chrono_variant) {
  ModelConfig check;
  check.cell = cell, check.orthogonal_recurrent = orthogonal_recurrent, check.chrono_max_length = chrono_max_length;
  check.weights_init = weights_init, check.chrono_variant = chrono_variant;
  check.validate();
  LayerInit init;
  init.orthogonal_recurrent = orthogonal_recurrent;
  init.chrono_max_length = chrono_max_length;
  init.keras = weights_init == "keras";
  init.chrono_authors = chrono_variant == "authors";
  return init;
}

std::unique_ptr<Task> task_from_json(const std::string& text) {
  auto config = task_config_from_json(from_python_text(text, "task config"));
  config.validate();
  return make_task(config);
}

analysis::VaaOptions vaa_options(int64_t samples, int64_t settle_steps, int64_t batches, double eps, uint64_t seed) {
  analysis::VaaOptions o;
  o.samples = samples;
  o.settle_steps = settle_steps;
  o.batches = batches;
  o.eps = eps;
  o.seed = seed;
  o.validate();
  return o;
}

void translate_errors() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Interrupted& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, e.what());  // the state is saved: neurocell.resume
    } catch (const Error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const c10::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what_without_backtrace());
    }
  });
}

}  // namespace

void bind_modules(py::module_& m) {
  using Module = torch::nn::Module;
  // The C++ module tree: the Python wrappers (neurocell/modules.py) mirror it, registering the
  // very tensors the kernels read as their parameters and buffers.
  py::class_<Module, std::shared_ptr<Module>>(m, "_Module", py::module_local())
      .def("named_parameters", [](Module& self) { return items(self.named_parameters(false)); })
      .def("named_buffers", [](Module& self) { return items(self.named_buffers(false)); })
      .def("named_children",
           [](Module& self) {
             std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
             for (const auto& kv : self.named_children()) out.emplace_back(kv.key(), kv.value());
             return out;
           })
      .def("train", [](Module& self, bool on) { self.train(on); })
      .def_property_readonly("training", [](Module& self) { return self.is_training(); })
      .def_property_readonly("type_name", [](Module& self) { return self.name(); });

  py::class_<RecurrentLayerImpl, Module, RecurrentLayer>(m, "_Layer")
      .def(
          "forward",
          [](RecurrentLayerImpl& self, const Tensor& x, const py::object& h0, const py::object& c0) {
            const auto out = self.forward(x, {tensor_or_undefined(h0), tensor_or_undefined(c0)});
            return py::make_tuple(out.h, optional_tensor(out.c));
          },
          py::arg("x"), py::arg("h0") = py::none(), py::arg("c0") = py::none())
      .def_property_readonly("cell", [](RecurrentLayerImpl& self) { return cell_kind_name(self.kind()); })
      .def_property_readonly("input_size", &RecurrentLayerImpl::input_size)
      .def_property_readonly("hidden_size", &RecurrentLayerImpl::hidden_size)
      .def_property_readonly("second_state_size", &RecurrentLayerImpl::second_state_size)
      .def("set_impl", [](RecurrentLayerImpl& self, const std::string& impl) { self.set_impl(parse_impl(impl)); });

  m.def(
      "make_layer",
      [](const std::string& cell, int64_t input_size, int64_t hidden_size, bool double_layer,
         bool orthogonal_recurrent, int64_t chrono_max_length, const std::string& weights_init,
         const std::string& chrono_variant) {
        return make_layer(parse_cell_kind(cell), input_size, hidden_size, double_layer,
                          layer_init(cell, orthogonal_recurrent, chrono_max_length, weights_init, chrono_variant));
      },
      py::arg("cell"), py::arg("input_size"), py::arg("hidden_size"), py::arg("double_layer") = false,
      py::arg("orthogonal_recurrent") = false, py::arg("chrono_max_length") = 0, py::arg("weights_init") = "torch",
      py::arg("chrono_variant") = "textbook");

  py::class_<RecurrentStackImpl, Module, std::shared_ptr<RecurrentStackImpl>>(m, "_Stack")
      .def(py::init([](const std::string& cell, int64_t input_size, int64_t hidden_size, int64_t layers,
                       bool double_layer, bool orthogonal_recurrent, int64_t chrono_max_length,
                       const std::string& weights_init, const std::string& chrono_variant) {
             require(layers >= 1, "num_layers must be >= 1 (got " + std::to_string(layers) + ")");
             return std::make_shared<RecurrentStackImpl>(
                 parse_cell_kind(cell), input_size, hidden_size, layers, double_layer,
                 layer_init(cell, orthogonal_recurrent, chrono_max_length, weights_init, chrono_variant));
           }),
           py::arg("cell"), py::arg("input_size"), py::arg("hidden_size"), py::arg("layers"),
           py::arg("double_layer") = false, py::arg("orthogonal_recurrent") = false, py::arg("chrono_max_length") = 0,
           py::arg("weights_init") = "torch", py::arg("chrono_variant") = "textbook")
      .def(
          "forward",
          [](RecurrentStackImpl& self, const Tensor& x, const py::object& h0, const py::object& c0) {
            const auto layers = static_cast<int64_t>(self.layers.size());
            return stack_result(self.forward(x, stack_initial(h0, c0, layers)));
          },
          py::arg("x"), py::arg("h0") = py::none(), py::arg("c0") = py::none())
      .def(
          "layer_outputs",
          [](RecurrentStackImpl& self, const Tensor& x) {
            std::vector<py::tuple> out;
            for (const auto& o : self.forward(x)) out.push_back(py::make_tuple(o.h, optional_tensor(o.c)));
            return out;
          },
          py::arg("x"))
      .def_property_readonly("layers", [](RecurrentStackImpl& self) { return self.layers; })
      .def("set_impl", [](RecurrentStackImpl& self, const std::string& impl) { self.set_impl(parse_impl(impl)); });

  py::class_<SequenceModelImpl, Module, std::shared_ptr<SequenceModelImpl>>(m, "_SequenceModel")
      .def(py::init([](const std::string& config) {
             auto c = model_config_from_json(from_python_text(config, "model config"));
             c.validate();
             return std::make_shared<SequenceModelImpl>(c);
           }),
           py::arg("config_json"))
      .def("forward", &SequenceModelImpl::forward, py::arg("x"), py::arg("readout_steps") = 1)
      .def("all_states", &SequenceModelImpl::all_states, py::arg("x"))
      .def_property_readonly("state_width", &SequenceModelImpl::state_width)
      .def("config_json", [](SequenceModelImpl& self) { return to_json(self.config).dump(); })
      .def_property_readonly("stack", [](SequenceModelImpl& self) { return self.stack.ptr(); })
      .def("set_impl", [](SequenceModelImpl& self, const std::string& impl) {
        self.stack->set_impl(parse_impl(impl));
        self.config.impl = impl;
      });

  py::class_<SrcLayerImpl, Module, std::shared_ptr<SrcLayerImpl>>(m, "_SrcLayer")
      .def(py::init([](int64_t input_size, int64_t hidden_size, double alpha, double rho, double r, double r_s,
                       double z_hyp, double z_dep, double bias_init, double bias_max, bool detach_recurrence,
                       bool train_bias, const std::string& arithmetic, int weight_bits) {
             require(input_size >= 1 && hidden_size >= 1, "SRC: input_size and hidden_size must be >= 1");
             require(bias_init <= bias_max, "SRC: bias_init must be <= bias_max");
             SrcCellOptions o;
             o.alpha = alpha, o.rho = rho, o.r = r, o.r_s = r_s, o.z_hyp = z_hyp, o.z_dep = z_dep;
             o.bias_init = bias_init, o.bias_max = bias_max, o.detach_recurrence = detach_recurrence;
             o.train_bias = train_bias, o.arithmetic = arithmetic, o.weight_bits = weight_bits;
             return std::make_shared<SrcLayerImpl>(input_size, hidden_size, o);
           }),
           py::arg("input_size"), py::arg("hidden_size"), py::arg("alpha"), py::arg("rho"), py::arg("r"),
           py::arg("r_s"), py::arg("z_hyp"), py::arg("z_dep"), py::arg("bias_init"), py::arg("bias_max"),
           py::arg("detach_recurrence"), py::arg("train_bias"), py::arg("arithmetic"), py::arg("weight_bits"))
      // x (T, B, I) -> spikes, i, h, h_s (T, B, H). Initial states: the layer's learned ones, or
      // (i0, h0, hs0), each (B, H).
      .def(
          "forward",
          [](SrcLayerImpl& self, const Tensor& x, const py::object& i0, const py::object& h0, const py::object& hs0) {
            SrcSequence s;
            if (i0.is_none() && h0.is_none() && hs0.is_none()) {
              s = self.forward(x);
            } else {
              require(!i0.is_none() && !h0.is_none() && !hs0.is_none(), "SRC: give all three initial states (i, h, h_s) or none");
              require(!self.options.integer(), "SRC with arithmetic='integer' starts every sequence at the design's "
                                               "rest: call it without initial states");
              require(x.dim() == 3 && x.size(2) == self.input_size,
                      "src layer: input must be (T, B, I=" + std::to_string(self.input_size) + ")");
              const Tensor i = i0.cast<Tensor>(), h = h0.cast<Tensor>(), hs = hs0.cast<Tensor>();
              for (const auto* t : {&i, &h, &hs})
                require(t->dim() == 2 && t->size(0) == x.size(1) && t->size(1) == self.hidden_size &&
                            t->scalar_type() == x.scalar_type(),
                        "SRC: initial states must be (B=" + std::to_string(x.size(1)) + ", H=" +
                            std::to_string(self.hidden_size) + ") of the input's dtype");
              s = self.impl == Impl::fused && x.device().is_cpu()
                      ? fused::src_forward(x, i, h, hs, self.weights(), self.sparse_input)
                      : reference::src_forward(x, i, h, hs, self.weights());
            }
            return py::make_tuple(s.spikes, s.i, s.h, s.h_s);
          },
          py::arg("x"), py::arg("i0") = py::none(), py::arg("h0") = py::none(), py::arg("hs0") = py::none())
      .def("clamp_bias", &SrcLayerImpl::clamp_bias)
      .def("reset_initial_states_to_rest", &SrcLayerImpl::reset_initial_states_to_rest)
      .def_readwrite("sparse_input", &SrcLayerImpl::sparse_input)
      .def_readonly("input_size", &SrcLayerImpl::input_size)
      .def_readonly("hidden_size", &SrcLayerImpl::hidden_size)
      .def("set_impl", [](SrcLayerImpl& self, const std::string& impl) { self.impl = parse_impl(impl); });

  // Neuromodulation (nn/neuromodulation.h): the modulated affine layer and the NMD network (or
  // its plain recurrent baseline) of the meta-RL agents.
  py::class_<ModulatedLinearImpl, Module, std::shared_ptr<ModulatedLinearImpl>>(m, "_ModulatedLinear")
      .def(py::init([](int64_t input_size, int64_t output_size, int64_t modulation_size, bool saturate) {
             require(input_size >= 1 && output_size >= 1 && modulation_size >= 1,
                     "ModulatedLinear: input_size, output_size and modulation_size must be >= 1");
             return std::make_shared<ModulatedLinearImpl>(input_size, output_size, modulation_size, saturate);
           }),
           py::arg("input_size"), py::arg("output_size"), py::arg("modulation_size"), py::arg("saturate"))
      .def("forward", &ModulatedLinearImpl::forward, py::arg("x"), py::arg("z"));
  py::class_<NmdNetworkImpl, Module, std::shared_ptr<NmdNetworkImpl>>(m, "_NmdNetwork")
      .def(py::init([](int64_t observation_size, int64_t feedback_size, int64_t output_size,
                       const std::string& architecture, const std::string& cell, std::vector<int64_t> recurrent_sizes,
                       std::vector<int64_t> modulator_sizes, std::vector<int64_t> main_sizes) {
             require(observation_size >= 1 && feedback_size >= 0 && output_size >= 1,
                     "NMD: observation_size and output_size must be >= 1, feedback_size >= 0");
             NmdConfig c;
             c.architecture = nmd_architecture_from_name(architecture);
             c.cell = cell;
             c.recurrent_sizes = std::move(recurrent_sizes);
             c.modulator_sizes = std::move(modulator_sizes);
             c.main_sizes = std::move(main_sizes);
             c.validate();
             return std::make_shared<NmdNetworkImpl>(c, observation_size, feedback_size, output_size);
           }),
           py::arg("observation_size"), py::arg("feedback_size"), py::arg("output_size"), py::arg("architecture"),
           py::arg("cell"), py::arg("recurrent_sizes"), py::arg("modulator_sizes"), py::arg("main_sizes"))
      .def("forward", [](NmdNetworkImpl& self, const Tensor& observation,
                         const Tensor& feedback) { return self.forward(observation, feedback).out; },
           py::arg("observation"), py::arg("feedback"))
      .def("modulation", [](NmdNetworkImpl& self, const Tensor& observation,
                            const Tensor& feedback) { return self.modulation(observation, feedback); },
           py::arg("observation"), py::arg("feedback"))
      .def("config_json", [](NmdNetworkImpl& self) { return to_json(self.config).dump(); });

  py::class_<LifLayerImpl, Module, std::shared_ptr<LifLayerImpl>>(m, "_LifLayer")
      .def(py::init([](int64_t input_size, int64_t hidden_size, double beta, double threshold, double slope) {
             require(input_size >= 1 && hidden_size >= 1, "LIF: input_size and hidden_size must be >= 1");
             require(beta >= 0 && beta <= 1, "LIF: beta must be in [0, 1]");
             require(slope > 0 && threshold > 0, "LIF: slope and threshold must be > 0");
             return std::make_shared<LifLayerImpl>(input_size, hidden_size, LifCellOptions{beta, threshold, slope});
           }),
           py::arg("input_size"), py::arg("hidden_size"), py::arg("beta"), py::arg("threshold"), py::arg("slope"))
      // x (T, B, I) -> spikes, u (T, B, H). Initial membrane: the layer's learned one, or u0 (B, H).
      .def(
          "forward",
          [](LifLayerImpl& self, const Tensor& x, const py::object& u0) {
            if (u0.is_none()) {
              const auto s = self.forward(x);
              return py::make_tuple(s.spikes, s.u);
            }
            require(x.dim() == 3 && x.size(2) == self.input_size,
                    "lif layer: input must be (T, B, I=" + std::to_string(self.input_size) + ")");
            const Tensor u = u0.cast<Tensor>();
            require(u.dim() == 2 && u.size(0) == x.size(1) && u.size(1) == self.hidden_size &&
                        u.scalar_type() == x.scalar_type(),
                    "LIF: the initial membrane must be (B=" + std::to_string(x.size(1)) + ", H=" +
                        std::to_string(self.hidden_size) + ") of the input's dtype");
            const auto s = self.impl == Impl::fused && x.device().is_cpu()
                               ? fused::lif_forward(x, u, self.weights(), self.sparse_input)
                               : reference::lif_forward(x, u, self.weights());
            return py::make_tuple(s.spikes, s.u);
          },
          py::arg("x"), py::arg("u0") = py::none())
      .def_readwrite("sparse_input", &LifLayerImpl::sparse_input)
      .def_readonly("input_size", &LifLayerImpl::input_size)
      .def_readonly("hidden_size", &LifLayerImpl::hidden_size)
      .def("set_impl", [](LifLayerImpl& self, const std::string& impl) { self.impl = parse_impl(impl); });

  py::class_<SrcClassifierImpl, Module, std::shared_ptr<SrcClassifierImpl>>(m, "_SrcClassifier")
      .def(py::init([](const std::string& config) {
             auto c = src_classifier_config_from_json(from_python_text(config, "SRC classifier config"));
             c.validate();
             return std::make_shared<SrcClassifierImpl>(c);
           }),
           py::arg("config_json"))
      .def("forward", &SrcClassifierImpl::forward, py::arg("spikes"))
      .def(
          "all_layers",
          [](SrcClassifierImpl& self, const Tensor& spikes) {
            std::vector<py::tuple> out;
            for (const auto& s : self.all_layers(spikes)) out.push_back(py::make_tuple(s.spikes, s.i, s.h, s.h_s));
            return out;
          },
          py::arg("spikes"))
      // Per layer the states named by state_names(): SRC (spikes, i, h, h_s), LIF (spikes, u).
      .def(
          "layer_states",
          [](SrcClassifierImpl& self, const Tensor& spikes) {
            std::vector<py::tuple> out;
            for (const auto& states : self.layer_states(spikes)) out.push_back(py::tuple(py::cast(states)));
            return out;
          },
          py::arg("spikes"))
      .def("state_names", &SrcClassifierImpl::state_names)
      .def("clamp_biases", &SrcClassifierImpl::clamp_biases)
      .def("config_json", [](SrcClassifierImpl& self) { return to_json(self.config).dump(); })
      .def("set_impl", [](SrcClassifierImpl& self, const std::string& impl) {
        self.set_impl(parse_impl(impl));
        self.config.impl = impl;
      });
}

void bind_registry(py::module_& m) {
  // The thread-local mode of ops/surrogate_relaxation.h (neurocell.surrogate_relaxation()).
  m.def("set_surrogate_relaxation", &set_surrogate_relaxation, py::arg("enabled"),
        "Sets this thread's surrogate relaxation mode; returns the previous one.");
  m.def("surrogate_relaxation", [] { return surrogate_relaxation(); });
  m.def("cell_registry", [] {
    std::vector<py::dict> out;
    for (const auto& c : cell_registry()) {
      py::dict row;
      row["name"] = c.name;
      row["family"] = cell_family_name(c.family);
      row["description"] = c.description;
      row["input_gates"] = c.input_gates;
      row["recurrent_gates"] = c.recurrent_gates;
      row["second_state_width_of_8"] = c.second_state_width ? c.second_state_width(8) : 0;
      row["sequence_model"] = c.sequence_model();
      row["surrogate_gradient"] = c.surrogate_gradient;
      out.push_back(row);
    }
    return out;
  });
}

void bind_runs(py::module_& m) {
  m.def("detect_run_kind", [](const std::string& dir) { return run_kind_name(detect_run_kind(dir)); });
  // -> (kind, config, module): a _SequenceModel or a _SrcClassifier.
  m.def("load_model", [](const std::string& dir) {
    auto loaded = runs::load_model(dir);
    py::object module = loaded.src ? py::cast(loaded.src.ptr()) : py::cast(loaded.sequence.ptr());
    return py::make_tuple(run_kind_name(loaded.kind), to_python(loaded.config), module);
  });
  m.def(
      "save_model",
      [](const std::string& dir, const std::string& config, std::shared_ptr<SequenceModelImpl> model, bool overwrite) {
        SequenceModel holder(model);
        runs::save_model(dir, from_python_text(config, "run config"), holder, overwrite);
      },
      py::arg("dir"), py::arg("config_json"), py::arg("model"), py::arg("overwrite"));
  m.def(
      "save_model",
      [](const std::string& dir, const std::string& config, std::shared_ptr<SrcClassifierImpl> model, bool overwrite) {
        SrcClassifier holder(model);
        runs::save_model(dir, from_python_text(config, "run config"), holder, overwrite);
      },
      py::arg("dir"), py::arg("config_json"), py::arg("model"), py::arg("overwrite"));
  // -> (value, report, text). SIGINT/SIGTERM are the training's while it runs (with the GIL
  // released Python would only see them afterwards): it saves its resume state and raises
  // KeyboardInterrupt; Python's own handlers are back when it returns.
  m.def(
      "train_run",
      [](const std::string& config, const std::string& dir, const std::string& existing) {
        require(existing == "refuse" || existing == "overwrite" || existing == "resume",
                "existing must be refuse, overwrite or resume");
        const auto mode = existing == "resume"      ? ExistingRun::resume
                          : existing == "overwrite" ? ExistingRun::overwrite
                                                    : ExistingRun::refuse;
        const auto parsed = from_python_text(config, "run config");
        struct sigaction previous_int {}, previous_term {};
        clear_stop_signal();
        install_stop_handlers(&previous_int, &previous_term);
        struct Restore {
          struct sigaction *a, *b;
          ~Restore() {
            sigaction(SIGINT, a, nullptr);
            sigaction(SIGTERM, b, nullptr);
            clear_stop_signal();
          }
        } restore{&previous_int, &previous_term};
        RunResult result;
        {
          py::gil_scoped_release release;
          result = runs::train_config(parsed, dir, mode);
        }
        return py::make_tuple(result.value, to_python(result.report), result.text);
      },
      py::arg("config_json"), py::arg("dir"), py::arg("existing"));
  m.def("run_states", [](const std::string& dir, const Tensor& x) { return runs::run_states(dir, x, "x"); });
  m.def("run_predictions", [](const std::string& dir, const Tensor& x) { return runs::run_predictions(dir, x, "x"); });
  m.def(
      "export_ncm",
      [](std::shared_ptr<SequenceModelImpl> model, const std::string& path) {
        SequenceModel holder(model);
        write_file_atomic(path, ncm_bytes(holder));
      },
      py::arg("model"), py::arg("path"));
  m.def(
      "export_ncm",
      [](std::shared_ptr<SrcClassifierImpl> model, const std::string& path) {
        SrcClassifier holder(model);
        write_file_atomic(path, ncm_bytes(holder));
      },
      py::arg("model"), py::arg("path"));
}

void bind_analysis(py::module_& m) {
  m.def("vaa_of_states", &analysis::vaa, py::arg("states"), py::arg("eps") = 1e-4);
  m.def("vaa_star", &analysis::vaa_star, py::arg("states"), py::arg("eps") = 1e-4);
  m.def("count_attractors", &analysis::count_attractors, py::arg("states"), py::arg("eps") = 1e-4);
  // VAA of a model on a task's inputs (the CLI's `vaa`: the same numbers for the same seed) or
  // on a sampler's.
  m.def(
      "vaa",
      [](std::shared_ptr<SequenceModelImpl> model, const std::string& task_json, const py::object& sampler,
         int64_t samples, int64_t settle_steps, int64_t batches, double eps, uint64_t seed) {
        SequenceModel holder(model);
        const auto options = vaa_options(samples, settle_steps, batches, eps, seed);
        analysis::VaaResult result;
        std::unique_ptr<Task> task;
        if (sampler.is_none()) {
          task = task_from_json(task_json);
          require(task->input_size == model->config.input_size,
                  "the task's inputs are " + std::to_string(task->input_size) + " wide, the model reads " +
                      std::to_string(model->config.input_size));
          result = analysis::measure_vaa(holder, training_inputs(*task), options);
        } else {
          result = analysis::measure_vaa(holder, python_sampler(sampler.cast<py::function>()), options);
        }
        py::dict out;
        out["vaa"] = result.vaa;
        out["attractors"] = result.attractors;
        out["per_batch"] = result.per_batch;
        return out;
      },
      py::arg("model"), py::arg("task_json"), py::arg("sampler"), py::arg("samples"), py::arg("settle_steps"),
      py::arg("batches"), py::arg("eps"), py::arg("seed"));
  // Warmup in place (the CLI's `warmup`, same numbers for the same seed): the summary of
  // run_warmup, with every step's loss and VAA* as "history".
  m.def(
      "warmup",
      [](std::shared_ptr<SequenceModelImpl> model, const std::string& task_json, const py::object& sampler,
         const std::string& options_json) {
        SequenceModel holder(model);
        auto options = analysis::warmup_options_from_json(from_python_text(options_json, "warmup options"));
        options.validate();
        require(options.steps >= 1, "warmup steps must be >= 1");
        std::unique_ptr<Task> task;
        analysis::InputSampler inputs;
        if (sampler.is_none()) {
          task = task_from_json(task_json);
          inputs = training_inputs(*task);
        } else {
          inputs = python_sampler(sampler.cast<py::function>());
        }
        holder->train();
        std::vector<analysis::WarmupStep> steps;
        {
          // The warmup runs the autograd engine, which must not hold the GIL (a Python
          // sampler takes it back for its calls).
          py::gil_scoped_release release;
          steps = analysis::warmup(holder, inputs, options);
        }
        std::vector<py::dict> history;
        for (const auto& s : steps) {
          py::dict row;
          row["step"] = s.step;
          row["settle_steps"] = s.settle_steps;
          row["loss"] = s.loss;
          row["vaa_star"] = s.vaa_star;
          row["skipped"] = s.skipped;
          history.push_back(row);
        }
        py::dict out;
        out["steps"] = static_cast<int64_t>(steps.size());
        out["partial"] = analysis::warmup_is_partial(holder);
        out["history"] = history;
        return out;
      },
      py::arg("model"), py::arg("task_json"), py::arg("sampler"), py::arg("options_json"));
  // Gate traces of a BRC / nBRC model (analysis/gates.h): per layer a_t, c_t (T, B, H).
  m.def(
      "gate_traces",
      [](std::shared_ptr<SequenceModelImpl> model, const Tensor& x) {
        SequenceModel holder(model);
        const auto gates = analysis::bistable_gates(holder, x);
        py::dict out;
        out["a"] = gates.a;
        out["c"] = gates.c;
        out["bistable_fraction"] = analysis::bistable_fraction(gates);
        return out;
      },
      py::arg("model"), py::arg("x"));
  m.def(
      "fixed_points",
      [](std::shared_ptr<SequenceModelImpl> model, const Tensor& input, int64_t starts, int64_t max_steps,
         double tolerance, double eps, uint64_t seed) {
        SequenceModel holder(model);
        analysis::FixedPointOptions o;
        o.starts = starts, o.max_steps = max_steps, o.tolerance = tolerance, o.eps = eps, o.seed = seed;
        o.validate();
        analysis::FixedPointReport report;
        {
          py::gil_scoped_release release;  // Jacobians through the autograd engine
          report = analysis::find_fixed_points(holder, input, o);
        }
        std::vector<py::dict> points;
        for (const auto& p : report.points) {
          py::dict d;
          d["state"] = torch::tensor(p.state, torch::kFloat64);
          d["basin"] = p.basin;
          d["spectral_radius"] = p.spectral_radius;
          d["stable"] = p.stable;
          points.push_back(d);
        }
        py::dict out;
        out["points"] = points;
        out["unconverged"] = report.unconverged;
        return out;
      },
      py::arg("model"), py::arg("input"), py::arg("starts"), py::arg("max_steps"), py::arg("tolerance"),
      py::arg("eps"), py::arg("seed"));
  auto unit_points = [](const std::vector<analysis::UnitFixedPoint>& points) {
    std::vector<double> u, h;
    std::vector<bool> stable;
    for (const auto& p : points) u.push_back(p.u), h.push_back(p.h), stable.push_back(p.stable);
    return py::make_tuple(torch::tensor(u, torch::kFloat64), torch::tensor(h, torch::kFloat64),
                          torch::tensor(std::vector<int64_t>(stable.begin(), stable.end())).to(torch::kBool));
  };
  m.def(
      "brc_unit_fixed_points",
      [unit_points](double a, double u_min, double u_max, int64_t n) {
        return unit_points(analysis::brc_unit_fixed_points(a, u_min, u_max, n));
      },
      py::arg("a"), py::arg("u_min"), py::arg("u_max"), py::arg("n"));
  m.def("brc_bistable_half_width", &analysis::brc_bistable_half_width, py::arg("a"));
  m.def(
      "src_unit_fixed_points",
      [unit_points](double r, double r_s, double bias, double z_hyp, double z_dep, double x_min, double x_max,
                    int64_t n) {
        return unit_points(analysis::src_unit_fixed_points(r, r_s, bias, z_hyp, z_dep, x_min, x_max, n));
      },
      py::arg("r"), py::arg("r_s"), py::arg("bias"), py::arg("z_hyp"), py::arg("z_dep"), py::arg("x_min"),
      py::arg("x_max"), py::arg("n"));
}

void bind_data(py::module_& m) {
  m.def("task_names", &task_names);
  // A batch of a synthetic task from the generator (seed, stream) the trainer uses: stream 0
  // training batches, 1 validation, 2 test (tasks/synthetic.h).
  m.def(
      "sample_task",
      [](const std::string& task_json, int64_t batch, uint64_t seed, uint64_t stream) {
        require(batch >= 1, "batch must be >= 1");
        const auto task = task_from_json(task_json);
        auto generator = make_generator(seed, stream);
        const auto b = task->sample(batch, generator);
        return py::make_tuple(b.inputs, b.targets, task->readout_steps);
      },
      py::arg("task_json"), py::arg("batch"), py::arg("seed"), py::arg("stream"));
  m.def("image_dataset_names", &image_dataset_names);
  m.def(
      "load_images",
      [](const std::string& dataset, bool train, const std::string& data_dir) {
        const auto set = load_mnist_split(dataset, train, data_dir);
        return py::make_tuple(set.images, set.labels);
      },
      py::arg("dataset"), py::arg("train"), py::arg("data_dir") = "");
  m.def(
      "rate_code",
      [](const Tensor& images, int64_t prefix, int64_t steps, double gain, int64_t subsample, uint64_t seed) {
        RateCoding coding;
        coding.prefix = prefix, coding.steps = steps, coding.gain = gain, coding.subsample = subsample;
        coding.validate();
        auto generator = make_generator(seed, 0);
        return rate_code(images, coding, generator);
      },
      py::arg("images"), py::arg("prefix"), py::arg("steps"), py::arg("gain"), py::arg("subsample"), py::arg("seed"));
  // The sequence MNIST tasks (tasks/image_sequences.h): the task's config as in a run's
  // config.json "task"; images (N, 784) uint8 -> (T, N, I) float32, and the step order.
  m.def(
      "image_sequences",
      [](const Tensor& images, const std::string& task_json) {
        const auto task = image_sequence_task_from_json(nlohmann::json::parse(task_json));
        return images_to_sequences(images, task, task_permutation(task));
      },
      py::arg("images"), py::arg("task_json"));
  m.def(
      "task_permutation",
      [](const std::string& task_json) {
        return task_permutation(image_sequence_task_from_json(nlohmann::json::parse(task_json)));
      },
      py::arg("task_json"));
}

void bind_bench(py::module_& m) {
  m.def(
      "time_training_update",
      [](const std::string& config, int64_t length, int64_t batch, int64_t repetitions, int64_t warmup) {
        auto c = model_config_from_json(from_python_text(config, "model config"));
        c.validate();
        py::gil_scoped_release release;
        return time_training_update(c, length, batch, repetitions, warmup);
      },
      py::arg("config_json"), py::arg("length"), py::arg("batch"), py::arg("repetitions"), py::arg("warmup"));
}

}  // namespace neurocell::python

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "neurocell's C++ library (fused kernels, run folders, analysis) for the Python package";
  neurocell::python::translate_errors();
  // What the command line does before any training (kernels/fused.h says why), so that a
  // training update costs the same from Python; NEUROCELL_KEEP_HEAP=0 leaves glibc as it is.
  if (const char* keep = std::getenv("NEUROCELL_KEEP_HEAP"); !keep || std::string(keep) != "0")
    neurocell::fused::keep_freed_memory_in_heap();
  neurocell::python::bind_modules(m);
  neurocell::python::bind_registry(m);
  neurocell::python::bind_runs(m);
  neurocell::python::bind_analysis(m);
  neurocell::python::bind_data(m);
  neurocell::python::bind_bench(m);
}
