// Precompiled header: LibTorch's headers dominate compile time, so every target reuses one copy.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>
