#!/usr/bin/env bash
# `npm run bench:setup`: the system packages some figures compare against, from Debian's archive.
#   lua5.4  the native interpreter behind lua.vm_ratio_vs_native
set -euo pipefail
missing=()
command -v lua5.4 >/dev/null 2>&1 || missing+=(lua5.4)
if [ ${#missing[@]} -eq 0 ]; then
  echo "bench:setup: everything the benchmark needs is installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "bench:setup: needs ${missing[*]}; this system has no apt-get: install them with its package manager" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "bench:setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
