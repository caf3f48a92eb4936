"""The installed package (scripts/install_python.sh, run by the README's commands) is the one
just built. Checked when NEUROCELL_CHECK_INSTALL is set, as scripts/test.sh sets it; a
developer's plain `ctest` tests the build tree only."""
import glob
import hashlib
import os
import subprocess

import pytest

from conftest import REPO


@pytest.mark.skipif(not os.environ.get("NEUROCELL_CHECK_INSTALL"), reason="scripts/test.sh checks the installed package")
def test_installed_package_is_this_build(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(["/usr/bin/python3", "-c", "import neurocell, neurocell._C as c; print(c.__file__)"],
                          capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0, f"import neurocell failed outside the build tree:\n{done.stderr}"
    installed = done.stdout.strip()
    assert not installed.startswith(str(REPO / "build")), installed
    built = glob.glob(str(REPO / "build" / "python" / "neurocell" / "_C*.so"))[0]
    digest = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
    assert digest(installed) == digest(built), f"{installed} is not the extension of this build ({built})"
