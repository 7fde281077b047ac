#!/usr/bin/env bash
# Prints the layer graph as the code has it: for each target, every module its sources import
# and in how many files (docs/architecture.md quotes this output; nothing is drawn by hand).
# `#if canImport` branches count both ways (Foundation and FoundationEssentials, Glibc and Darwin).
# Usage: scripts/layer-graph.sh [REV]   (default: the working tree)
set -euo pipefail
cd "$(dirname "$0")/.."
src=Sources
if [[ $# -gt 0 ]]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    git archive "$1" Sources | tar -x -C "$tmp"
    src=$tmp/Sources
fi
for target in DriftSystem DriftGit DriftCore DriftCLI drift; do
    [[ -d "$src/$target" ]] || continue
    files=$(find "$src/$target" -name '*.swift' | wc -l)
    # Import lines outside multi-line string literals (a script embedded in Swift is not Swift).
    imports=$(find "$src/$target" -name '*.swift' -print0 | xargs -0 perl -ne '
            $multi = !$multi if /"""/ && !/""".*"""/;
            print "$2\n" if !$multi && /^\s*(@\w+\s+)?import\s+(\w+)/;
            $multi = 0 if eof;' \
        | sort | uniq -c | sort -k2 | awk '{printf "%s%s (%d)", sep, $2, $1; sep=", "}')
    printf '%-12s %3d files -> %s\n' "$target" "$files" "$imports"
done
