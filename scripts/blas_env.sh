# Sourced by the scripts that train or test (main.sh, test.sh): on a CPU with AVX-512, asks
# OpenBLAS for its AVX-512 (SkylakeX) kernels. Debian's OpenBLAS 0.3.21 runs its Haswell (AVX2)
# kernels on AMD Zen 4/5, which have AVX-512: on this project's machine a float32 GEMM ran at
# 182 GFLOP/s with them and 243 with SkylakeX's (bench/results/cpu-float32-skylakex.txt;
# `neurocell bench` prints the core and the rate). OpenBLAS reads the variable when it loads,
# so it must be set before the program starts. A value the caller set is kept (this project's
# own machine sets Haswell, so there the scripts change nothing and the committed numbers say
# which core they used). It is only set where the CPU has every AVX-512 subset the SkylakeX
# kernels use, so that it can never select instructions the CPU lacks.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -r /proc/cpuinfo ]; then
  _flags=$(grep -m1 '^flags' /proc/cpuinfo)
  _all=1
  for _f in avx512f avx512cd avx512bw avx512dq avx512vl; do
    case " $_flags " in *" $_f "*) ;; *) _all=0 ;; esac
  done
  if [ "$_all" = 1 ]; then export OPENBLAS_CORETYPE=SkylakeX; fi
  unset _flags _all _f
fi
