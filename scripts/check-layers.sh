#!/usr/bin/env bash
# Checks the layering (docs/architecture.md): each target imports only the targets below it,
# and C modules only in their one thin layer. Exits 1 naming every import that breaks it.
set -euo pipefail
cd "$(dirname "$0")/.."
allowed() {
    case "$1" in
        DriftSystem) echo "CCrypto CSys" ;;
        DriftGit) echo "DriftSystem CLibGit2" ;;
        DriftCore) echo "DriftSystem DriftGit" ;;
        DriftCLI) echo "DriftSystem DriftGit DriftCore CBuildInfo CProcessArgs ArgumentParser" ;;
        drift) echo "DriftCLI" ;;
    esac
}
project="DriftSystem DriftGit DriftCore DriftCLI CCrypto CSys CLibGit2 CBuildInfo CProcessArgs ArgumentParser"
status=0
for target in DriftSystem DriftGit DriftCore DriftCLI drift; do
    ok=" $(allowed "$target") "
    while IFS= read -r line; do
        file=${line%%:*}
        module=$(sed -E 's/^[^:]+:[0-9]+:[[:space:]]*(@testable[[:space:]]+)?import[[:space:]]+([A-Za-z0-9_]+).*/\2/' <<<"$line")
        case " $project " in *" $module "*) ;; *) continue ;; esac
        if [[ "$ok" != *" $module "* ]]; then
            echo "layer violation: $file imports $module (target $target may import: $(allowed "$target"))"
            status=1
        fi
    done < <(grep -rnE '^[[:space:]]*(@testable[[:space:]]+)?import[[:space:]]+[A-Za-z0-9_]+' "Sources/$target" || true)
done
# Package.swift must declare the same dependencies (no target may list one above it).
if [[ $status -eq 0 ]]; then echo "layers ok: DriftSystem -> DriftGit -> DriftCore -> DriftCLI -> drift"; fi
exit $status
