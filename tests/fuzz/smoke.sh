#!/bin/sh
# One fuzz smoke run, as ctest starts it:
#   smoke.sh FUZZER CORPUS_DIR ARTIFACT_DIR RUNS
# libFuzzer adds what it finds to its corpus folder, so it works on a scratch
# copy and the repository never changes. Crashing inputs are written to
# ARTIFACT_DIR (crash-*, leak-*, timeout-*, oom-*), which outlives the run.
set -eu
fuzzer=$1 corpus=$2 artifacts=$3 runs=$4
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cadre-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cp -R "$corpus/." "$scratch/"
mkdir -p "$artifacts"
"$fuzzer" -runs="$runs" -max_total_time=120 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$scratch"
