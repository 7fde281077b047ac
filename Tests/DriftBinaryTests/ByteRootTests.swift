import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Paths are bytes end to end (issue 25.6): a workspace root whose name is not UTF-8 is baked,
/// scanned, diffed and exported through the binary, given on the command line or read from the
/// manifest; SDIR, MDIR, ODIR and the gate's paths are bytes too (the pip flags, the image root
/// and path remotes: `BytePathFlagTests`), never repaired into the name of another file.
@Suite("byte paths on the command line")
struct ByteRootTests {
    /// `drift ARGS` through the shell, so arguments can hold bytes a Swift string cannot.
    static func driftSh(_ args: String, cwd: String) throws -> Run {
        try run(["/bin/sh", "-c", "ROOT=\"$(printf 'ws-\\377\\376')\"; exec '\(driftBinary())' \(args)"], cwd: cwd)
    }

    @Test("a root named 'ws-\\377\\376': manifest create, scan (--root and from the manifest), diff, export")
    func nonUTF8Root() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let cwd = f.dir.path
        try sh("mv workspace \"$(printf 'ws-\\377\\376')\"", cwd: cwd)
        let bake = try Self.driftSh("manifest create --root \"$ROOT\" --repo upstream --output mdir", cwd: cwd)
        #expect(bake.code == 0, "\(bake.err)")
        // The manifest records the root's exact bytes (percent-escaped), not a repaired name.
        let manifest = try String(contentsOfFile: f.mdir + "/manifest.txt", encoding: .utf8)
        #expect(manifest.contains("/ws-%FF%FE"), "\(manifest.prefix(400))")
        let clean = try Self.driftSh("scan --manifest mdir --state state --format json", cwd: cwd)
        #expect(clean.code == 0, "\(clean.err)")
        try sh("echo 'x = 2' >> \"$(printf 'ws-\\377\\376')/worker/util.py\"", cwd: cwd)
        for rootFlag in ["", "--root \"$ROOT\""] {
            let r = try Self.driftSh("scan --manifest mdir --state state --format json \(rootFlag)", cwd: cwd)
            #expect(r.code == 1, "\(rootFlag): \(r.err)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
            #expect(changes(report)["worker/util.py"] == "modified", "\(rootFlag)")
        }
        let diff = try Self.driftSh("diff --manifest mdir --state state --root \"$ROOT\" worker/util.py", cwd: cwd)
        #expect(diff.code == 1 && diff.out.contains("+x = 2"), "\(diff.err)")
        let export = try Self.driftSh("export --manifest mdir --state state --root \"$ROOT\" --output out", cwd: cwd)
        #expect(export.code == 0, "\(export.err)")
        try sh("git clone -q upstream check && git -C check am -q ../out/drift.patch", cwd: cwd)
        #expect(try String(contentsOfFile: cwd + "/check/worker/util.py", encoding: .utf8).hasSuffix("x = 2\n"))
        // The never-write-under-the-root check holds for the byte root too, by identity: run
        // from inside the root, a relative state dir resolves through the working directory's
        // bytes (a repaired name would miss the root and the state would land in it).
        let inside = try run(["/bin/sh", "-c", "cd \"$(printf 'ws-\\377\\376')\" && exec '\(driftBinary())' "
                              + "scan --manifest ../mdir --state drift-state"], cwd: cwd)
        #expect(inside.code == 2 && inside.err.contains("inside the scanned root"), "\(inside.err)")
        #expect(try sh("ls -a \"$(printf 'ws-\\377\\376')\"", cwd: cwd).contains("drift-state") == false)
    }

    /// `drift ARGS` through the shell with `$N` set to the name's bytes and `env` exported.
    static func driftNamed(_ name: String, _ env: String, _ args: String, cwd: String) throws -> Run {
        // `$M`: an MDIR name that is not UTF-8 (no newline: the journal's alternates file is
        // one path a line, and such an MDIR is refused by name).
        try run(["/bin/sh", "-c", "N=\"$(printf '\(name)')\"; M=\"$(printf 'md-\\377x')\"; export \(env); "
                 + "exec '\(driftBinary())' \(args)"], cwd: cwd)
    }

    /// Makes a decoy directory at the UTF-8-repaired form of a name, holding one file, and
    /// returns a check that it still holds only that file.
    static func decoy(_ repaired: String, in cwd: String) throws -> () -> Bool {
        let dir = cwd + "/" + repaired
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        try "decoy\n".write(toFile: dir + "/decoy", atomically: false, encoding: .utf8)
        return { (try? FileManager.default.contentsOfDirectory(atPath: dir)) == ["decoy"] }
    }

    @Test("SDIR named 'st-\\377\\nx' (--state, $DRIFT_STATE) works for scan, status, log, export; the decoy stays")
    func nonUTF8StateDirectory() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let cwd = f.dir.path
        try f.bake()
        let untouched = try Self.decoy("st-\u{FFFD}\nx", in: cwd)
        let sdir = Array("\(cwd)/st-".utf8) + [0xFF, 0x0A, 0x78]
        let name = "st-\\377\\nx"
        let first = try Self.driftNamed(name, "X=1", "scan --manifest mdir --state \"$N\"", cwd: cwd)
        #expect(first.code == 0, "\(first.err)")
        try sh("echo 'x = 2' >> workspace/worker/util.py", cwd: cwd)
        for (env, args, code) in [("X=1", "scan --manifest mdir --state \"$N\"", 1),
                                  ("DRIFT_STATE=\"$N\"", "scan --manifest mdir --format json", 1),
                                  ("DRIFT_STATE=\"$N\"", "status --manifest mdir", 0),
                                  ("X=1", "log --manifest mdir --state \"$N\"", 0),
                                  ("X=1", "export --manifest mdir --state \"$N\" --output out", 0)] {
            let r = try Self.driftNamed(name, env, args, cwd: cwd)
            #expect(r.code == code, "\(env) \(args): \(r.out)\(r.err)")
        }
        #expect(!FileSystem.isAbsent(sdir.appending(text: "/state.json")))
        #expect(!FileSystem.isAbsent(sdir.appending(text: "/journal.git/objects")))
        #expect(untouched(), "nothing went to the repaired name")
        // A state dir that cannot be used is named quoted, on one line, exit 2.
        try sh("printf x > \"$(printf 'sf-\\377\\nx')\"", cwd: cwd)
        let bad = try Self.driftNamed("sf-\\377\\nx", "X=1", "scan --manifest mdir --state \"$N\"", cwd: cwd)
        #expect(bad.code == 2, "\(bad.err)")
        #expect(bad.err.hasPrefix("drift: ") && bad.err.split(separator: "\n").count == 1, "\(bad.err)")
        #expect(bad.err.contains("\"sf-\\377\\nx\""), "the name is shown quoted: \(bad.err)")
    }

    /// A fixture whose upstream is named `u-\\377\\nx` and a policy `p-\\377\\nx`, with decoys
    /// under the repaired names (`u-` a directory that is no repository, `p-` a file that is no
    /// policy), baked into `md-\\377x` by those names; the checks that the decoys stay.
    static func byteNamedBake(_ f: Fixture) throws -> [() -> Bool] {
        let cwd = f.dir.path
        try f.bake()
        try sh("cp mdir/policy.yaml \"$(printf 'p-\\377\\nx')\" && mv upstream \"$(printf 'u-\\377\\nx')\"", cwd: cwd)
        let checks = try ["u-", "o-", "L-"].map { try Self.decoy($0 + "\u{FFFD}\nx", in: cwd) }
            + [try Self.decoy("md-\u{FFFD}x", in: cwd)]
        try "ignore: [unclosed\n".write(toFile: cwd + "/p-\u{FFFD}\nx", atomically: false, encoding: .utf8)
        let bake = try Self.driftNamed("\\377\\nx", "X=1", "manifest create --root workspace --repo \"u-$N\" "
                                       + "--policy \"p-$N\" --output \"$M\"", cwd: cwd)
        #expect(bake.code == 0, "\(bake.err)")
        #expect(bake.out.contains("-> \"md-\\377x\""), "MDIR shown quoted: \(bake.out)")
        return checks
    }

    @Test("MDIR, ODIR, manifest create's --repo and --policy named '…\\377\\nx' work; the decoys stay untouched")
    func nonUTF8ManifestAndOutput() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let cwd = f.dir.path
        let untouched = try Self.byteNamedBake(f)
        let n = "\\377\\nx"
        for (env, args) in [("X=1", "scan --manifest \"$M\" --state state"),
                            ("DRIFT_MANIFEST=\"$M\"", "scan --state state"),
                            ("DRIFT_MANIFEST=\"$M\"", "status --state state")] {
            let r = try Self.driftNamed(n, env, args, cwd: cwd)
            #expect(r.code == 0, "\(env) \(args): \(r.out)\(r.err)")
        }
        try sh("echo 'x = 2' >> workspace/worker/util.py", cwd: cwd)
        let export = try Self.driftNamed(n, "X=1", "export --manifest \"$M\" --state state --output \"o-$N\"",
                                         cwd: cwd)
        #expect(export.code == 0, "\(export.err)")
        #expect(export.out.contains("-> \"o-\\377\\nx\""), "ODIR shown quoted: \(export.out)")
        let odir = Array("\(cwd)/o-".utf8) + [0xFF, 0x0A, 0x78]
        #expect(!FileSystem.isAbsent(odir.appending(text: "/drift.patch")))
        #expect(untouched.allSatisfy { $0() }, "nothing went to a repaired name")
        // An MDIR that is not there is named quoted, on one line, exit 2.
        let bad = try Self.driftNamed(n, "X=1", "scan --manifest \"mf-$N\" --state state", cwd: cwd)
        #expect(bad.code == 2 && bad.err.split(separator: "\n").count == 1, "\(bad.err)")
        #expect(bad.err.contains("\"mf-\\377\\nx\""), "the name is shown quoted: \(bad.err)")
    }

    @Test("gate --repo/--ledger/--policy and prune --repo named '…\\377\\nx' read those; the report quotes the repo")
    func nonUTF8GatePaths() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let cwd = f.dir.path
        let untouched = try Self.byteNamedBake(f)
        let n = "\\377\\nx"
        try sh("echo 'x = 2' >> workspace/worker/util.py", cwd: cwd)
        let export = try Self.driftNamed(n, "X=1", "export --manifest \"$M\" --state state --output \"L-$N/e1\"",
                                         cwd: cwd)
        #expect(export.code == 0, "\(export.err)")
        // The drift is not upstream: the gate finds the entry missing (1). The decoy ledger is
        // empty (it would pass, 0) and the decoy repository is none (2).
        let gate = try Self.driftNamed(n, "X=1", "gate --repo \"u-$N\" --ledger \"L-$N\" --policy \"p-$N\" "
                                       + "--format json", cwd: cwd)
        #expect(gate.code == 1, "\(gate.out)\(gate.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(gate.out.utf8)) as? [String: Any])
        #expect(report["repo"] as? String == "\"u-\\377\\nx\"", "\(report["repo"] ?? "")")
        let prune = try Self.driftNamed(n, "X=1", "prune --repo \"u-$N\" --older-than 0 --dry-run", cwd: cwd)
        #expect(prune.code == 0, "\(prune.out)\(prune.err)")
        #expect(untouched.allSatisfy { $0() }, "nothing went to a repaired name")
        let bad = try Self.driftNamed(n, "X=1", "gate --repo \"r-$N\" --ledger-refs", cwd: cwd)
        #expect(bad.code == 2 && bad.err.split(separator: "\n").count == 1, "\(bad.err)")
        #expect(bad.err.contains("\"r-\\377\\nx\""), "the name is shown quoted: \(bad.err)")
    }

    @Test("--log, --metrics, --public-key, $DRIFT_PUBLIC_KEY, --sign-key named 'x-\\377\\n\\033' work: those files")
    func nonUTF8LogMetricsKey() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let cwd = f.dir.path
        let name: [UInt8] = [0xFF, 0x0A, 0x1B]
        let set = "N=\"$(printf '\\377\\n\\033')\"; "
        // The key is given by its bytes; a decoy under the repaired name holds another key, so a
        // repaired lookup fails verification rather than passing by luck.
        try sh(set + "openssl genpkey -algorithm ed25519 -out \"k-$N\""
               + " && openssl pkey -in \"k-$N\" -pubout -out \"p-$N\""
               + " && openssl genpkey -algorithm ed25519 -out other.pem"
               + " && openssl pkey -in other.pem -pubout -out \"$(printf 'p-\\357\\277\\275\\n\\033')\"", cwd: cwd)
        // `--sign-key` by its bytes too; openssl verifies what it signed.
        let bake = try run(["/bin/sh", "-c", set + "exec '\(driftBinary())' manifest create --root workspace "
                            + "--repo upstream --output mdir --sign-key \"k-$N\""], cwd: cwd)
        try #require(bake.code == 0, "\(bake.err)")
        let v = try run(["/bin/sh", "-c", set + "openssl pkeyutl -verify -pubin -inkey \"p-$N\" -rawin "
                         + "-in mdir/manifest.txt -sigfile mdir/manifest.sig"], cwd: cwd)
        #expect(v.code == 0, "\(v.out)\(v.err)")
        // `--credentials` by its bytes: the decoy under the repaired name is not a credential file.
        try sh(set + "echo username=u > \"c-$N\" && echo garbage > \"$(printf 'c-\\357\\277\\275\\n\\033')\"",
               cwd: cwd)
        for (env, args) in [("X=1", "scan --manifest mdir --state state --upstream upstream --credentials \"c-$N\""),
                            ("X=1", "scan --manifest mdir --state state --public-key \"p-$N\" --log \"l-$N\" "
                                + "--metrics \"m-$N\""),
                            ("DRIFT_PUBLIC_KEY=\"p-$N\"", "scan --manifest mdir --state state --log \"l-$N\""),
                            // A failed run records its failure in the same files (`FailureRecording`).
                            ("X=1", "scan --manifest nope --state state --log \"l-$N\" --metrics \"f-$N\"")] {
            let r = try run(["/bin/sh", "-c", set + "export \(env); exec '\(driftBinary())' \(args)"], cwd: cwd)
            #expect(r.code == (args.contains("nope") ? 2 : 0), "\(env) \(args): \(r.out)\(r.err)")
        }
        let names = Set(directoryEntries(cwd) ?? [])
        for prefix in ["l-", "m-", "f-", "k-"] {
            #expect(names.contains(Array(prefix.utf8) + name), "\(prefix): \(names.map(PathBytes.display))")
        }
        let log = String(decoding: try readWholeFile(Array("\(cwd)/l-".utf8) + name), as: UTF8.self)
        #expect(log.split(separator: "\n").count == 3, "two scans and one failure: \(log)")
        let metrics = String(decoding: try readWholeFile(Array("\(cwd)/m-".utf8) + name), as: UTF8.self)
        #expect(metrics.contains("drift_"), "\(metrics.prefix(200))")
        let failed = String(decoding: try readWholeFile(Array("\(cwd)/f-".utf8) + name), as: UTF8.self)
        #expect(failed.contains("drift_last_run_failed{verb=\"scan\"} 1"), "\(failed)")
        // Nothing was made under a repaired name (the decoys are the only such files).
        // (`display` quotes a byte that is not UTF-8 and keeps U+FFFD's valid bytes as they are.)
        let repaired = names.filter { PathBytes.display($0).contains("\u{FFFD}") }
        #expect(Set(repaired.map(PathBytes.display)) == Set(["p-", "c-"].map {
            PathBytes.display(Array("\($0)\u{FFFD}\n\u{1B}".utf8))
        }))
    }

    @Test("a supervisord config named '\\377\\n\\033.conf' is read: its program's secret is withheld (issue 25.6)")
    func nonUTF8SupervisorConfig() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let secret = SecretLeakTests.token("pw-sup-")
        // supervisord's `[include] files = conf.d/*.conf` reads this file; so must drift.
        try sh("mkdir conf.d && printf '[program:w]\\ncommand=python w.py\\nenvironment=DB_PASSWORD=\"%s\"\\n' "
               + "'\(secret)' > \"conf.d/$(printf '\\377\\n\\033').conf\"",
               cwd: f.dir.path)
        try sh("printf 'DB = \"%s\"\\n' '\(secret)' >> worker/main.py", cwd: f.workspace)
        let env = ["DRIFT_SUPERVISOR_CONF": f.dir.sub("conf.d")]
        let common = ["--manifest", f.mdir, "--state", f.state]
        let scan = try drift(["scan", "--format", "json"] + common, env: env)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(scan.out.utf8)) as? [String: Any])
        #expect(SecretLeakTests.flagged(report) == ["worker/main.py"], "\(scan.out)")
        let export = try drift(["export", "--output", f.dir.sub("out")] + common, env: env)
        #expect(export.code == 0, "\(export.err)")
        let patch = String(decoding: try readWholeFile(f.dir.sub("out") + "/drift.patch"), as: UTF8.self)
        #expect(!patch.contains(secret), "the secret left in the patch")
    }
}
