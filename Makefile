.PHONY: demo test bench bench-issue26 bench-gate bench-push bench-million bench-medium bench-unchanged bench-ledger-refs bench-watch \
	bench-fleet bench-edits bench-fsmonitor bench-floor dist
demo:
	./scripts/demo.sh
test:
	./scripts/test.sh
# One run prints every issue-26 number for both trees (bench/issue26.py: the SHA-256 floor measured
# here, first scan / floor, unchanged scan / find and git status, 10 edits, peak RSS and bytes per
# file per verb; ANCHOR=/path/to/an/older/drift runs it in the same interleaved rounds), then
# every issue-17 ratio: bake / pack-objects, unchanged scan / git status and
# find (warm, cold), then the fleet gate at 100 / 1,000 / 10,000 entries and its 10k/1k ratio,
# then issue 28's million files (bench/million.py at 200,000 and 1,000,000: scans, watch start-up,
# an edit journaled, RSS; with ANCHOR the anchor on the same trees right after, own state dirs).
MILLION = python3 bench/million.py --counts 200000,1000000 --work /tmp/drift-bench-million
bench:
	./scripts/setup.sh && swift build -c release --build-path .build-release && \
	  $(MILLION) --drift .build-release/release/drift --state-root /tmp/drift-bench-million/main && \
	  $(if $(ANCHOR),$(MILLION) --drift $(ANCHOR) --state-root /tmp/drift-bench-million/anchor &&) \
	  python3 bench/issue26.py --drift .build-release/release/drift $(if $(ANCHOR),--also base=$(ANCHOR)) && \
	  python3 bench/run.py && \
	  python3 bench/gen_fleet.py --hosts 100,1000,10000 --work /tmp/drift-bench-fleet --runs 3 \
	  --gate .build/release/drift && \
	  python3 bench/gate_history.py --drift .build/release/drift && \
	  python3 bench/fsmonitor.py --drift .build/release/drift
# The gate against 1,000 / 100,000 / 1,000,000 commits behind the base (1 and 200 entries, beside
# git rev-list) and one entry of 100,000 paths; repos cached under /tmp/drift-bench-history.
bench-gate:
	./scripts/setup.sh && swift build -c release && python3 bench/gate_history.py --drift .build/release/drift
# drift push against a remote with 20,000 refs over file://, ssh and https, beside git ls-remote.
bench-push:
	./scripts/setup.sh && swift build -c release && python3 bench/push_refs.py --drift .build/release/drift
bench-million:
	./scripts/setup.sh && swift build -c release --build-path .build-release && \
	  $(MILLION) --drift .build-release/release/drift --state-root /tmp/drift-bench-million/main
bench-medium:
	./scripts/setup.sh && python3 bench/run.py --sizes medium
bench-unchanged:
	./scripts/setup.sh && python3 bench/unchanged.py --sizes medium,large --cold
dist:
	./scripts/setup.sh && ./scripts/dist.sh
bench-ledger-refs:
	./scripts/setup.sh && python3 bench/ledger_refs.py --refs 1000,10000
# The cron scan beside a healthy drift watch (asks the watcher) vs walking, both trees.
bench-fsmonitor:
	./scripts/setup.sh && python3 bench/fsmonitor.py
# The first scan's kernel time: bench/floor_reader.c's variants side by side (docs/benchmarks.md,
# "Issue 26, round ten").
bench-floor:
	./scripts/setup.sh && python3 bench/floor_variants.py --sizes medium,large
bench-watch:
	./scripts/setup.sh && python3 bench/watch.py
# ANCHOR=/path/to/an/older/drift times it side by side; RUNS=K runs per size (median).
bench-fleet:
	./scripts/setup.sh && swift build -c release && \
	  python3 bench/gen_fleet.py --hosts 100,1000,10000 --work /tmp/drift-bench-fleet --runs $(or $(RUNS),3) \
	  --gate .build/release/drift $(if $(ANCHOR),--gate $(ANCHOR))

# Cost of change (issue 26): the scan after 10 edits over the unchanged scan, and the stat-cache
# bytes it writes (statcache.log appended vs statcache rewritten), on a 198,281-file tree.
bench-edits:
	swift build -c release && python3 bench/edits.py --drift .build/release/drift

bench-issue26:
	./scripts/setup.sh && swift build -c release --build-path .build-release && \
	  python3 bench/issue26.py --drift .build-release/release/drift $(if $(ANCHOR),--also base=$(ANCHOR))
