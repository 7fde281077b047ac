import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// `drift watch` keeps what the last record derived per drifted path (`DerivationMemo`) and
/// derives again only what changed. Random sequences of batches — code, config, data and
/// secret-bearing files added, edited, deleted and chmodded, inside and outside a directory of
/// 1,001 added files (one summary, folded and unfolded as its count crosses the threshold) — are
/// recorded twice from the same state: by a recorder that keeps its memos, as the watcher does,
/// and by a fresh one deriving everything. Journal commit and record, `state.json`, `state.log`
/// and the report must be byte for byte the same after every batch.
@Suite("drift watch: a batch derives only what changed", .serialized)
struct BatchDerivationTests {
    static let big = "packages/models/big"
    static let secretValue = "Zq8vX2mN4pL7rT1wY6kBc3Hd"

    struct Recorders {
        var memo: ScanRunner
        var fresh: ScanRunner
        var freshState: String
    }

    @Test(arguments: [11, 29, 47])
    func incrementalEqualsFromScratch(seed: UInt64) throws {
        let f = try Fixture()
        try f.bake()
        // 1,001 added data files in one directory: one summary in the state and the snapshot.
        try sh("mkdir -p \(Self.big) && for i in $(seq 1 1001); do : > \(Self.big)/f$i.bin; done",
               cwd: f.workspace)
        var memo = ScanRunner(manifestDir: ManifestDirectory(path: f.mdir), root: nil,
                              state: StateDirectory(path: f.state))
        memo.journalBlobs = JournalBlobCache()
        memo.secretVerdicts = SecretVerdicts()
        memo.stateMemo = StateMemo()
        memo.derivation = DerivationMemo()
        // A `.env` change is a value learned: both recorders must draw the same salt.
        memo.saltSource = { [UInt8](repeating: 7, count: $0) }
        let freshState = f.dir.sub("fresh-state")
        var fresh = ScanRunner(manifestDir: ManifestDirectory(path: f.mdir), root: nil,
                               state: StateDirectory(path: freshState))
        fresh.saltSource = memo.saltSource
        let r = Recorders(memo: memo, fresh: fresh, freshState: freshState)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let loaded = try memo.loadAndWalk()
        let context = loaded.context
        let first = try memo.find(loaded, now: start)
        var model = first.result
        model.contents = [:]
        // The model takes the recorded list back, as the watcher does (`Watcher.handBack`).
        model.changes = try Self.recordBoth(r, f, first, context, now: start, step: "full scan")
        var rng = SeededRNG(seed: seed)
        for step in 1...14 {
            if rng.next() % 4 == 0 {
                // An export between batches: state items change under the watcher (exported_at, ids),
                // so kept items of unchanged paths are stale and must be derived again.
                let r = try drift(["export", "--manifest", f.mdir, "--state", f.state,
                                   "--output", f.dir.sub("out\(step)")])
                #expect([0, 1].contains(r.code), "export: \(r.err)")
            }
            let touched = try Self.mutate(f, &rng, step: step)
            var scope = ScanScope()
            scope.paths = Set(touched.map { Array($0.utf8) })
            let partial = PartialScan(context: context, classifier: Classifier(policy: context.policy))
            let part = try partial.compare(&scope, cache: model.newCache, now: start) { _ in }
            model.replace(scope, with: part.result)
            // The secrets' walk: the whole tree as it is now (both recorders get the same).
            let walk = try TreeWalk.run(root: context.rootBytes, classifier: Classifier(policy: context.policy))
            let findings = ScanRunner.Findings(result: model, pip: nil, oldCache: nil, walk: walk, saveCache: false)
            let now = start.addingTimeInterval(Double(step) * 61)
            model.changes = try Self.recordBoth(r, f, findings, context, now: now, step: "step \(step): \(touched)")
            model.contents = [:]
        }
        // The memo was used: most paths' items were taken, not derived again.
        #expect(memo.derivation?.reusedItems.withLock { $0 } ?? 0 > 1_000)
    }

    /// Records `findings` with the memo-keeping recorder and, from a copy of its state dir taken
    /// just before, with a fresh one; everything either wrote must be the same bytes. Returns the
    /// recorded list (the watcher's next model).
    static func recordBoth(_ r: Recorders, _ f: Fixture, _ findings: ScanRunner.Findings,
                           _ c: ScanRunner.Context, now: Date, step: String) throws -> [FileChange] {
        try sh("rm -rf '\(r.freshState)' && if [ -d '\(f.state)' ]; then cp -a '\(f.state)' '\(r.freshState)'; "
               + "else mkdir -m 700 '\(r.freshState)'; fi")
        try StateDirectory(path: f.state).ensure()
        let a = try r.memo.record(findings, c, now: now)
        let b = try r.fresh.record(findings, c, now: now)
        let sameReport = try JSONCoding.encode(a.report) == JSONCoding.encode(b.report)
        #expect(sameReport, "report, \(step)")
        #expect(a.snapshot == b.snapshot, "snapshot commit, \(step)")
        // The fingerprint a record hands the watcher's log line is the one of what it reports.
        for o in [a, b] {
            if let fp = o.fingerprint {
                #expect(fp == (try Journal.fingerprint(o.result.changes, pip: o.pip)), "fingerprint, \(step)")
            }
        }
        #expect(a.fingerprint != nil || a.snapshot == nil, "a fingerprint for each snapshot, \(step)")
        for file in ["state.json", "state.log"] {
            let x = try? readWholeFile(Array((f.state + "/" + file).utf8))
            let y = try? readWholeFile(Array((r.freshState + "/" + file).utf8))
            let same = x == y
            #expect(same, "\(file), \(step)")
        }
        let refs = "refs/heads/journal refs/notes/drift-snapshot"
        let ga = try? sh("git --git-dir='\(f.state)/journal.git' rev-parse \(refs)")
        let gb = try? sh("git --git-dir='\(r.freshState)/journal.git' rev-parse \(refs)")
        #expect(ga == gb, "journal refs, \(step)")
        if let snap = a.snapshot {
            let note = "git --git-dir='%@/journal.git' notes --ref=drift-snapshot show \(snap.hex)"
            let na = try sh(note.replacingOccurrences(of: "%@", with: f.state))
            let nb = try sh(note.replacingOccurrences(of: "%@", with: r.freshState))
            let same = na == nb
            #expect(same, "snapshot record, \(step)")
        }
        #expect(a.result.changes.map(\.firstSeen) == b.result.changes.map(\.firstSeen), "first sightings, \(step)")
        return a.result.changes
    }

    /// One random change (sometimes two) to the workspace; returns the paths it touched.
    static func mutate(_ f: Fixture, _ rng: inout SeededRNG, step: Int) throws -> [String] {
        let w = f.workspace
        let k = Int(rng.next() % 1001) + 1
        let bigFile = "\(big)/f\(k).bin"
        let ops: [(String, String)] = [
            ("worker/main.py", "echo '# edit \(step)' >> worker/main.py"),
            ("worker/gen\(step % 3).py", "echo 'x = \(step)' > worker/gen\(step % 3).py"),
            ("worker/util.py", "rm -f worker/util.py"),
            ("worker/util.py", "echo 'def helper(x):\n    return x + \(step)' > worker/util.py"),
            ("start_remote.sh", "chmod \(step % 2 == 0 ? "-x" : "+x") start_remote.sh"),
            ("config/settings.yaml", "echo 'queue: v\(step)' > config/settings.yaml"),
            ("config/extra\(step % 2).yaml", "echo 'k: \(step)' > config/extra\(step % 2).yaml"),
            (bigFile, "echo 'shard \(step)' > \(bigFile)"),
            (bigFile, "rm -f \(bigFile)"),
            (bigFile, "touch \(bigFile) && chmod +x \(bigFile)"),
            ("\(big)/new\(step).bin", ": > \(big)/new\(step).bin"),
            ("packages/models/whisper.bin", "echo 'weights \(step)' > packages/models/whisper.bin"),
            (".env", "echo 'API_TOKEN=\(secretValue)' > .env"),
            ("worker/leak.py", "echo 'token = \"\(secretValue)\"' > worker/leak.py"),
            ("worker/leak.py", "rm -f worker/leak.py"),
        ]
        var touched: [String] = []
        for _ in 0..<(rng.next() % 3 == 0 ? 2 : 1) {
            let (path, script) = ops[Int(rng.next() % UInt64(ops.count))]
            _ = try sh(script, cwd: w)
            touched.append(path)
        }
        return touched
    }
}

/// A small deterministic generator (SplitMix64): a failing seed replays the same batches.
struct SeededRNG {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
