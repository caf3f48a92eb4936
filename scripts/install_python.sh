#!/usr/bin/env bash
# Installs the Python package neurocell for /usr/bin/python3 (Debian's python3-torch), offline:
# `pip install --no-build-isolation .` builds the extension with the project's CMake build in
# build/ (already built by scripts/build.sh: nothing is compiled twice) and packs it with
# python/neurocell. As root it goes to /usr/local/lib/python3*/dist-packages, otherwise to the
# user's site-packages. Debian marks its Python "externally managed" (PEP 668): pip needs
# --break-system-packages to install beside apt's packages, which it leaves untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
python=/usr/bin/python3
where=(--root-user-action=ignore)
[ "$(id -u)" -eq 0 ] || where=(--user)
"$python" -m pip install --quiet --no-build-isolation --no-deps --no-index --break-system-packages \
  --disable-pip-version-check "${where[@]}" . >&2
echo "install_python.sh: $("$python" -c 'import neurocell; print("neurocell", neurocell.__version__, "at", neurocell.__path__[0])')" >&2
