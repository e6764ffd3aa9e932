#!/usr/bin/env bash
# Installs everything frontierbench needs on a fresh Debian/Ubuntu machine (or CI runner).
#   bash scripts/setup.sh          # the package, the reference suite's deps, the test deps
#   SKIP_APT=1 bash scripts/setup.sh   # without Debian packages (no browser tests then)
# CPU machines get the pinned CPU torch wheel. On a GPU machine, install your CUDA build of
# torch first (see README); pip then keeps it, because it already satisfies the pin's version.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

# Debian packages: chromium for the browser tests, shellcheck for actionlint's run: checks.
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v shellcheck >/dev/null 2>&1 || missing="$missing shellcheck"
if [ -z "${SKIP_APT:-}" ] && [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "setup: missing Debian packages:$missing (not root); the tests that need them will skip" >&2
  fi
fi

if "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '2.13.0' else 1)" 2>/dev/null; then
  echo "setup: torch $("$PYTHON" -c 'import torch; print(torch.__version__)') already installed"
else
  "$PYTHON" -m pip install -q "torch==2.13.0"
fi
"$PYTHON" -m pip install -q -e ".[suite,test,minilm]"
