#!/usr/bin/env bash
# Installs everything frontierbench needs on a fresh Debian/Ubuntu machine (or CI runner).
#   bash scripts/setup.sh          # the package, the reference suite's deps, the test deps
#   SKIP_APT=1 bash scripts/setup.sh   # without Debian packages (no browser tests then)
# CPU machines get the pinned CPU torch wheel. On a GPU machine, install your CUDA build of
# torch first (see README); pip then keeps it, because it already satisfies the pin's version.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

if [ -z "${SKIP_APT:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: chromium is missing and this is not root; browser tests will be skipped" >&2
  fi
fi

if "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '2.13.0' else 1)" 2>/dev/null; then
  echo "setup: torch $("$PYTHON" -c 'import torch; print(torch.__version__)') already installed"
else
  "$PYTHON" -m pip install -q "torch==2.13.0"
fi
"$PYTHON" -m pip install -q -e ".[suite,test,minilm]"
