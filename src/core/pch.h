// Precompiled header: LibTorch's headers dominate compile time, so every target reuses one copy.
// nlohmann/json is in it too: most translation units read or write JSON, and parsing it cost
// about a fifth of a typical one (measured: 33.5 s -> 26.7 s of CPU for runs/run_folder.cpp).
#pragma once
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>
