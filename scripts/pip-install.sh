#!/usr/bin/env bash
# Install Python packages into a virtualenv: scripts/pip-install.sh VENV ARGS… (pip's arguments,
# e.g. -e '.[dev]').
#
# With uv when it can (a fresh base install took pip about 70 s and uv 13 s, docs/benchmarks.md),
# otherwise with pip. uv does not read pip's configuration, so a mirror set there (`pip config`,
# or PIP_INDEX_URL) is handed to it; where uv cannot be installed or cannot install (e.g. an
# intranet node set up for pip with find-links and no index), pip does it, reading its own
# configuration as always.
set -euo pipefail
venv=$1
shift
python="$venv/bin/python"
mirror=${PIP_INDEX_URL:-$("$python" -m pip config get global.index-url 2>/dev/null || true)}
if [ ! -x "$venv/bin/uv" ]; then
  "$python" -m pip install --quiet ${mirror:+--index-url "$mirror"} 'uv>=0.5,<1' >/dev/null 2>&1 \
    || echo "uv could not be installed: installing with pip" >&2
fi
if [ -x "$venv/bin/uv" ]; then
  if "$venv/bin/uv" pip install --quiet --python "$python" ${mirror:+--index-url "$mirror"} "$@"; then
    exit 0
  fi
  echo "uv could not install $*: trying pip" >&2
fi
exec "$python" -m pip install --quiet "$@"
