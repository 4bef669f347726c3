#!/bin/sh
# wrk (HTTP load generator) for bench/api_latency.py; nothing to do when it is already installed.
set -e
command -v wrk >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
