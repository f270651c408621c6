#!/bin/sh
# Environment and data set-up for the project (called by the Makefile; safe to run again).
#
#   sh snn_conversion/setup_env.sh venv            create .venv (Python 3.7) with requirements.txt, then install the
#                                                  project into it in editable mode (pyproject.toml)
#   sh snn_conversion/setup_env.sh fashion-mnist   make sure Fashion-MNIST can be found
#
# Python 3.7 is required by TensorFlow 1.15. It is looked for in this order: $PYTHON, python3.7 on
# the PATH, the newest 3.7.x installed by pyenv. $VENV overrides the environment folder (default .venv).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}

is_py37() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 7) else 1)' >/dev/null 2>&1
}

find_python37() {
    if [ -n "${PYTHON:-}" ]; then
        if is_py37 "$PYTHON"; then echo "$PYTHON"; return 0; fi
        echo "error: \$PYTHON=$PYTHON is not a working Python 3.7 (TensorFlow 1.15 needs 3.7)" >&2
        return 1
    fi
    if command -v python3.7 >/dev/null 2>&1 && is_py37 python3.7; then
        command -v python3.7; return 0
    fi
    if command -v pyenv >/dev/null 2>&1; then
        v=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.7\.[0-9]+$' | sort -t. -k3,3n | tail -n 1)
        if [ -n "$v" ] && is_py37 "$(pyenv root)/versions/$v/bin/python"; then
            echo "$(pyenv root)/versions/$v/bin/python"; return 0
        fi
    fi
    cat >&2 <<'EOF'
error: Python 3.7 not found (TensorFlow 1.15 runs only on Python 3.7).
  Install it, then run the command again, e.g. one of:
    pyenv install 3.7.17                 (https://github.com/pyenv/pyenv)
    conda create -n py37 python=3.7 && conda activate py37
    apt-get install python3.7 python3.7-venv   (distributions that still ship it)
  or point PYTHON at an existing interpreter:  PYTHON=/path/to/python3.7 make test
EOF
    return 1
}

# what a complete environment has (overridable for the set-up's own tests)
REQUIREMENTS=${REQUIREMENTS:-$ROOT/requirements.txt}
SETUP_IMPORTS=${SETUP_IMPORTS:-tensorflow, tensorlayer, numpy, scipy, matplotlib, tqdm, pytest, numba}

# the project itself (pyproject.toml) and the names it makes importable from any folder (overridable as above)
PROJECT=${PROJECT:-$ROOT}
PROJECT_IMPORTS=${PROJECT_IMPORTS:-spiking_utils snn_conversion tensorlayer_patches figs}

has_pip() {
    [ -x "$VENV/bin/python" ] && is_py37 "$VENV/bin/python" && "$VENV/bin/python" -m pip --version >/dev/null 2>&1
}

venv_complete() {
    # pip works and every pinned package is installed at its pinned version
    has_pip || return 1
    "$VENV/bin/python" -c '
import sys
import pkg_resources
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        name, version = line.split("==")
        if pkg_resources.get_distribution(name).version != version:
            sys.exit(1)
' "$REQUIREMENTS" >/dev/null 2>&1
}

install_requirements() {
    # The stamp (the requirements' sha256) is written last, for a complete environment only: a set-up
    # interrupted anywhere (a venv without pip, packages half installed) is repaired or rebuilt by the next run.
    stamp="$VENV/.requirements.sha256"
    want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && venv_complete; then
        return 0
    fi
    py=$(find_python37)
    echo "setting up $VENV with $py ($("$py" --version 2>&1))"
    if [ -e "$VENV" ] && ! has_pip; then
        echo "$VENV is incomplete (no working Python 3.7 with pip: an interrupted set-up?); building it again"
        rm -rf "$VENV"
    fi
    rm -f "$stamp"
    if [ ! -e "$VENV" ]; then
        "$py" -m venv "$VENV"
    fi
    # Closed, fully pinned set: see the comment at the top of requirements.txt for why --no-deps.
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install --no-deps -q -r "$REQUIREMENTS"
    TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/python" -c "import $SETUP_IMPORTS" \
        || { echo "error: the packages installed but do not import; see the messages above" >&2; exit 1; }
    venv_complete || { echo "error: $VENV lacks packages of $REQUIREMENTS at their pinned versions" >&2; exit 1; }
    echo "$want" > "$stamp.tmp" && mv "$stamp.tmp" "$stamp"
}

project_elsewhere() {
    # Fails when a name of $PROJECT_IMPORTS is not found by the environment's Python alone (-I leaves out the
    # working folder and $PYTHONPATH); prints the folder the project is imported from when that is not $PROJECT.
    # Found, not imported: nothing runs, TensorFlow is not loaded.
    # shellcheck disable=SC2086
    "$VENV/bin/python" -I -c '
import importlib.util
import os
import sys
specs = [importlib.util.find_spec(name) for name in sys.argv[2:]]
if not all(specs):
    sys.exit(1)
top = os.path.dirname(specs[0].origin)
if specs[0].submodule_search_locations is not None:
    top = os.path.dirname(top)
if not os.path.samefile(top, sys.argv[1]):
    print(top)
' "$PROJECT" $PROJECT_IMPORTS 2>/dev/null
}

install_project() {
    # Editable: the environment imports this checkout's files, so an edit needs no reinstall. The build
    # requirements pinned in pyproject.toml go into pip's isolated build environment, not into $VENV. A set-up
    # interrupted here leaves the project missing, and the next run installs it.
    echo "installing the project into $VENV (pip install -e $PROJECT)"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install --no-deps -q -e "$PROJECT"
    project_elsewhere >/dev/null \
        || { echo "error: the project installed but $PROJECT_IMPORTS cannot be found from outside it" >&2; exit 1; }
}

make_venv() {
    install_requirements
    if ! elsewhere=$(project_elsewhere); then
        install_project
    elif [ -n "$elsewhere" ]; then
        # an environment shared by two checkouts: left as it is (the other one's scripts may be running)
        echo "note: $VENV imports the project from $elsewhere, not from $PROJECT: scripts run with it use that" \
            "checkout's code. To switch: $VENV/bin/python -m pip install --no-deps -e $PROJECT" >&2
    fi
}

fashion_mnist() {
    if "$VENV/bin/python" -m tensorlayer_patches.datasets fashion_mnist >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing the Debian package dataset-fashion-mnist (-> /usr/share/datasets/fashion-mnist)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 \
            || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null; } || true
    fi
    if ! "$VENV/bin/python" -m tensorlayer_patches.datasets fashion_mnist; then
        cat >&2 <<'EOF'
Fashion-MNIST is needed. Either
  sudo apt-get install dataset-fashion-mnist          (Debian/Ubuntu: /usr/share/datasets/fashion-mnist)
or download the four *-ubyte.gz files into FashionMNIST/data/ with
  cd FashionMNIST && ../.venv/bin/python -m tensorlayer_patches.datasets fashion_mnist --download
or put them anywhere and set SNN_DATA_DIR to that folder.
EOF
        exit 1
    fi
}

cd "$ROOT"
if [ $# -gt 1 ]; then
    echo "error: one step at most, got $# arguments (usage: $0 [venv|fashion-mnist|find-python])" >&2
    exit 2
fi
case "${1-venv}" in
    venv) make_venv ;;
    fashion-mnist) make_venv; fashion_mnist ;;
    find-python) find_python37 ;;
    *) echo "error: unknown step '$1' (usage: $0 [venv|fashion-mnist|find-python])" >&2; exit 2 ;;
esac
