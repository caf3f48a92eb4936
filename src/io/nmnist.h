#pragma once
// N-MNIST (Orchard, Jayawant, Cohen, Thakor 2015): the MNIST digits recorded by an ATIS event
// camera moved in three saccades, the SRC paper's third benchmark. The dataset cannot be
// downloaded here; a user who has it points neurocell at its folder:
//   DIR/Train/<digit 0-9>/<any name>.bin   (60 000 files)
//   DIR/Test/<digit 0-9>/<any name>.bin    (10 000 files)
// Each file is the published binary event list: 5 bytes (40 bits) per event,
//   byte 0      x address, 0..33
//   byte 1      y address, 0..33
//   bytes 2-4   big-endian 24 bits: bit 23 the polarity (1 = ON, 0 = OFF), bits 22-0 the
//               timestamp in microseconds from the start of the recording
// Events are binned into `steps` frames over the first `duration_us` microseconds (a recording
// lasts about 300 ms): event (x, y, p, t) sets input p * 1156 + y * 34 + x of frame
// floor(t * steps / duration_us) to 1 (events at t >= duration_us are dropped), so a frame has
// 2 * 34 * 34 = 2312 binary inputs, spikes for the SRC.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace neurocell {

constexpr int64_t kNmnistSide = 34, kNmnistInputs = 2 * 34 * 34;

struct NmnistEvent {
  uint8_t x = 0, y = 0;
  bool on = false;
  uint32_t t_us = 0;
};

// The events of one file's bytes; `what` names the file in errors (a length that is not a
// multiple of 5, an address outside 0..33).
std::vector<NmnistEvent> parse_nmnist_events(const std::string& bytes, const std::string& what);

// (steps, 2312) uint8 frames of 0/1 (see above).
torch::Tensor bin_nmnist_events(const std::vector<NmnistEvent>& events, int64_t steps, int64_t duration_us);

// Frames are kept bit-packed in memory (the 60 000 training recordings at 100 frames are
// 1.7 GB packed, 14 GB as bytes): byte j of a packed frame holds inputs 8 j .. 8 j + 7, input
// 8 j + k in bit k.
constexpr int64_t kNmnistPackedBytes = kNmnistInputs / 8;  // 289
torch::Tensor pack_nmnist_frames(const torch::Tensor& frames);    // (..., 2312) 0/1 -> (..., 289) uint8
torch::Tensor unpack_nmnist_frames(const torch::Tensor& packed);  // (..., 289) uint8 -> (..., 2312) uint8 0/1

struct NmnistSplit {
  torch::Tensor packed;  // (N, steps, 289) uint8: the frames, bit-packed
  torch::Tensor labels;  // (N) int64, the digit folder of each file
};

// The files of DIR/Train (train) or DIR/Test, digit by digit in file-name order; with limit > 0
// the first `limit` files of each digit only. Throws Error naming the folder when it is missing
// or holds no .bin file, and the file when one is malformed.
NmnistSplit load_nmnist_split(const std::string& dir, bool train, int64_t steps, int64_t duration_us,
                              int64_t limit_per_digit = 0);

}  // namespace neurocell
