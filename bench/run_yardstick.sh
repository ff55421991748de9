#!/bin/sh
# The soft-min yardstick (bench/yardstick.c): builds it against the in-tree
# library and keeps its table in results/yardstick.md (JSON lines in
# results/yardstick.json).  Run on an idle machine: the table records the load
# average when it started.
set -eu
cd "$(dirname "$0")"
make -s yardstick
./yardstick "$@" > results/yardstick.md.tmp 2> results/yardstick.json.tmp
mv results/yardstick.md.tmp results/yardstick.md
mv results/yardstick.json.tmp results/yardstick.json
cat results/yardstick.md
