#!/bin/sh
# Runs one libFuzzer target and appends its figures to a summary file.
# Usage: run_fuzzer.sh SUMMARY FUZZER ARGS...
summary=$1; shift
name=$(basename "$1")
out=$(mktemp)
"$@" > "$out" 2>&1
rc=$?
cat "$out"
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out")
echo "$name: ${runs:-?} inputs, $( [ $rc = 0 ] && echo 'no crash' || echo "FAILED (exit $rc)")" >> "$summary"
rm -f "$out"
exit $rc
