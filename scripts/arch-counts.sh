#!/usr/bin/env bash
# Architecture counts for docs/architecture.md, per layer target: public declarations,
# `DriftError(` constructions and how many of them carry no `DriftError.Code` (a bare
# sentence, `DriftError("…")`; issue 25's one error model wants 0), files importing Glibc, functions
# (func/init/deinit/subscript bodies, braces counted outside strings and comments) over 80
# lines, and `@unchecked Sendable`. Usage: scripts/arch-counts.sh [REV] (default: working tree).
set -euo pipefail
cd "$(dirname "$0")/.."
src=Sources
if [[ $# -gt 0 ]]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    git archive "$1" Sources | tar -x -C "$tmp"
    src=$tmp/Sources
fi
count() { { grep -rhoE "$1" --include='*.swift' "$2" 2>/dev/null || true; } | wc -l; }
# `DriftError(` constructions whose first argument is not a code (`.io`, `e.code`, `ledger:`).
uncoded() {
    find "$1" -name '*.swift' -print0 | xargs -0 -r perl -0777 -ne '
        s{//[^\n]*}{}g;
        while (/(?:^|[^.A-Za-z0-9_])DriftError\(\s*+(?!\.|(?:[a-z]\w*\.)?code\b|ledger:)/g) { $n++ }
        END { print $n // 0 }'
}
files_with() { { grep -rlE "$1" --include='*.swift' "$2" 2>/dev/null || true; } | wc -l; }
# Prints "LINES NAME FILE:LINE" for every function body longer than 80 lines.
long_functions() {
    find "$1" -name '*.swift' -print0 | xargs -0 -r perl -e '
        for my $file (@ARGV) {
            open(my $in, "<", $file) or die "$file: $!";
            my @l = <$in>;
            close $in;
            my $inmulti = 0;
            my @code;
            for (@l) {
                my $c = $_;
                if ($inmulti) { $inmulti = 0 if $c =~ /"""/; push @code, ""; next; }
                if ($c =~ /"""/ && $c !~ /""".*"""/) { $inmulti = 1; $c =~ s/""".*//; }
                $c =~ s/"(?:[^"\\]|\\.)*"/""/g;
                $c =~ s{//.*}{};
                push @code, $c;
            }
            for my $i (0 .. $#code) {
                next unless $code[$i] =~ /^\s*(?:(?:\@\w+(?:\([^)]*\))?|public|private|fileprivate|internal|open
                    |static|class|final|override|mutating|nonmutating|nonisolated|convenience|required)\s+)*
                    (func\s+[^\s(<]+|init[?!]?|deinit|subscript)/x;
                my $name = $1;
                my ($depth, $start, $end) = (0, undef, undef);
                LINE: for my $j ($i .. $#code) {
                    # A declaration without a body (a protocol requirement) ends at the next one.
                    last if !defined $start && $j > $i
                        && $code[$j] =~ /^\s*(?:\}|(?:\w+\s+)*(?:func|var|let|case)\b)/;
                    for my $ch (split //, $code[$j]) {
                        if ($ch eq "{") { $start //= $j; $depth++; }
                        elsif ($ch eq "}" && defined $start) { $depth--; if ($depth == 0) { $end = $j; last LINE; } }
                    }
                }
                next unless defined $end;
                my $n = $end - $i + 1;
                printf "%d %s %s:%d\n", $n, $name, $file, $i + 1 if $n > 80;
            }
        }'
}
printf '| target | public declarations | `DriftError(` sites | of them without a code | files importing Glibc '
printf '| functions over 80 lines | `@unchecked Sendable` |\n'
printf '|---|---|---|---|---|---|---|\n'
for target in DriftSystem DriftGit DriftCore DriftCLI drift; do
    d="$src/$target"
    [[ -d "$d" ]] || continue
    pub=$(grep -rhE '^[[:space:]]*(@[A-Za-z_]+(\([^)]*\))?[[:space:]]+)*(public|open)[[:space:]]' \
            --include='*.swift' "$d" \
        | grep -cvE '^[[:space:]]*(public|open)[[:space:]]+import' || true)
    errs=$(count '(^|[^.A-Za-z0-9_])DriftError\(' "$d")
    bare=$(uncoded "$d")
    glibc=$(files_with '^[[:space:]]*import[[:space:]]+Glibc' "$d")
    long=$(long_functions "$d" | wc -l)
    unchecked=$(count '@unchecked[[:space:]]+Sendable' "$d")
    printf '| %s | %d | %d | %d | %d | %d | %d |\n' "$target" "$pub" "$errs" "$bare" "$glibc" "$long" "$unchecked"
done
echo
echo "Functions over 80 lines (lines, name, place):"
long_functions "$src" | sort -rn | sed -E "s#$src/##; s/^/    /"
