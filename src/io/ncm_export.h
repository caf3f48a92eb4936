#pragma once
// Export of a trained sequence model to the .ncm file of the dependency-free runtime
// (runtime/neurocell_runtime.h describes the format): the model's description as text, its
// parameters as float32 under their checkpoint names, a CRC-32. Written atomically.
#include <string>

#include "nn/model.h"

namespace neurocell {

// The file's bytes. Throws Error for a parameter that is not finite.
std::string ncm_bytes(SequenceModel& model);
void export_ncm(SequenceModel& model, const std::string& path);

}  // namespace neurocell
