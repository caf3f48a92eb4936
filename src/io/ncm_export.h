#pragma once
// Export of a trained sequence model to the .ncm file of the dependency-free runtime
// (runtime/neurocell_runtime.h describes the format): the model's description as text, its
// parameters as float32 under their checkpoint names, a CRC-32 (framed by the runtime's own
// ncrt::write_ncm, so writer and reader share one format definition).
#include <string>

#include "nn/model.h"
#include "nn/spiking.h"

namespace neurocell {

// The file's bytes (write them with write_file_atomic). Throws Error for a tensor that is not
// finite. An SRC classifier keeps its per-neuron constants and frozen readout, stored as buffers.
std::string ncm_bytes(SequenceModel& model);
std::string ncm_bytes(SrcClassifier& model);

}  // namespace neurocell
