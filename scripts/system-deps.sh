#!/usr/bin/env bash
# Debian packages rongxin needs beyond Python, installed when missing (as root with apt-get).
#   scripts/system-deps.sh runtime   Pango/HarfBuzz + a CJK font (PDF reports)   — `make demo`
#   scripts/system-deps.sh test      + Chromium (browser tests), poppler-utils, PostgreSQL client,
#                                    and a Java runtime when there is none (the Spark engine)
set -euo pipefail
mode=${1:-runtime}
want=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk)
if [ "$mode" = test ]; then
  want+=(chromium poppler-utils postgresql-client)
  command -v java >/dev/null 2>&1 || want+=(default-jre-headless)
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "not a Debian system: make sure these are installed: ${want[*]}" >&2
  exit 0
fi
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
elif [ "$mode" = test ]; then
  echo "missing Debian packages: ${missing[*]} — sudo apt-get install ${missing[*]}" >&2
  exit 1
else
  echo "PDF reports need: sudo apt-get install ${missing[*]} (the rest works without them)" >&2
fi
