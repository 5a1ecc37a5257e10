#!/usr/bin/env bash
# Install skrelrep into ./.venv from scratch, offline-safe (PyPI and Debian only).
#   bash scripts/install.sh          everything: all extras (skops and FAISS among them),
#                                    test, packaging and docs tools, data packages
#   bash scripts/install.sh demo     just what `skrelrep demo` needs (core + report)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
SECONDS=0
python="${PYTHON:-python3}"

# Debian data packages (Fashion-MNIST, fortunes, ...): only for the full install.
if [ "$what" = all ]; then
    packages="dataset-fashion-mnist fortunes fortunes-min fortunes-de fortunes-es fortunes-it sword-text-kjv diatheke"
    missing=""
    for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    if [ -n "$missing" ]; then
        sudo_cmd=""
        [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
        $sudo_cmd apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends $missing
    fi
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
pip=".venv/bin/pip"
$pip install -q --upgrade pip
if [ "$what" = demo ]; then
    $pip install -q -e ".[report]"
else
    # torch 2.13.0 first: on our CI machines that is the CPU build on local disk,
    # where a bare `torch` requirement would pull a multi-GB CUDA build.
    $pip install -q torch==2.13.0
    $pip install -q -e ".[all,test,docs]" torch==2.13.0
fi
echo "skrelrep installed in .venv ($what) in ${SECONDS} s"
