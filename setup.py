"""pip install --no-build-isolation . : the Python package neurocell, offline, from Debian
packages only (python3-torch, pybind11-dev, python3-setuptools, python3-wheel).

The extension neurocell._C is built by the project's own CMake build (into build/, the same
build as the command line and the tests; configured here when it is not yet), then packed with
the pure-Python modules of python/neurocell. Run with /usr/bin/python3, whose torch is the
libtorch the library links."""
import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("NEUROCELL_BUILD_DIR", os.path.join(ROOT, "build"))


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        if not os.path.exists(os.path.join(BUILD, "CMakeCache.txt")):
            subprocess.check_call(["cmake", "-S", ROOT, "-B", BUILD, "-DCMAKE_BUILD_TYPE=Release",
                                   f"-DPython_EXECUTABLE={sys.executable}"])
        subprocess.check_call(["cmake", "--build", BUILD, "--target", "neurocell_python", "-j2"])
        built = glob.glob(os.path.join(BUILD, "python", "neurocell", "_C*.so"))
        if not built:
            raise RuntimeError(f"the build did not produce neurocell/_C*.so under {BUILD}/python")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(built[0], target)


setup(
    name="neurocell",
    version="0.1.0",
    description="Neuro-inspired recurrent cells (bistable, spiking, memory units) as torch.nn modules over fused kernels",
    packages=["neurocell"],
    package_dir={"neurocell": "python/neurocell"},
    ext_modules=[Extension("neurocell._C", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    zip_safe=False,
)
