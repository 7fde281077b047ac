import ArgumentParser
import Foundation
import DriftTestSupport
import Testing
@testable import DriftCLI
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// The command line parsed in-process (`Drift.parseAsRoot`): every verb's flags land in the
/// right fields, and every bad vector is the exact one line `drift` prints (no binary started).
@Suite("CLI parsing")
struct CLIParseTests {
    /// Parses `argv` as the binary does and returns the command as `T`.
    static func parse<T: ParsableCommand>(_ argv: [String], as: T.Type) throws -> T {
        let c = try Drift.parseAsRoot(argv)
        return try #require(c as? T, "\(argv) parsed as \(type(of: c))")
    }

    @Test("scan: every flag, and its defaults")
    func scanFlags() throws {
        let s = try Self.parse(["scan", "--manifest", "M", "--public-key", "K", "--root", "R", "--state", "S",
                                "--format", "json", "--full", "--wait", "2.5", "--log", "L", "--metrics", "P",
                                "--fail-on", "overdue"], as: Drift.Scan.self)
        #expect(s.manifest.manifest == "M" && s.manifest.publicKey == "K")
        #expect(s.workspace.root == "R" && s.workspace.state == "S")
        #expect(s.format == .json && s.full && s.lockWait.wait == 2.5 && s.log == "L" && s.metrics == "P")
        #expect(s.failOn == .overdue)
        let d = try Self.parse(["scan"], as: Drift.Scan.self)
        #expect(d.format == .text && !d.full && d.lockWait.wait == 0 && d.failOn == .drift && d.log == nil)
        #expect(d.manifest.manifest == nil && d.workspace.state == nil)
        #expect(try Self.parse(["scan", "--wait", "86400"], as: Drift.Scan.self).lockWait.wait == 86_400)
    }

    @Test("export, push, diff, status, watch: every flag")
    func otherVerbs() throws {
        let e = try Self.parse(["export", "--output", "O", "--author", "A <a@b>", "--message", "M", "--from-journal",
                                "--force", "--push", "R", "--credentials", "C", "--wait", "1"], as: Drift.Export.self)
        #expect(e.output == "O" && e.author == "A <a@b>" && e.message == "M" && e.fromJournal && e.force)
        #expect(e.push == "R" && e.pushOptions.credentials == "C" && e.lockWait.wait == 1)
        let p = try Self.parse(["push", "origin", "--id", "0123", "--credentials", "C", "--state", "S"],
                               as: Drift.Push.self)
        #expect(p.remote == "origin" && p.id == "0123" && p.push.credentials == "C" && p.workspace.state == "S")
        let d = try Self.parse(["diff", "--root", "R", "a.py", "b/c.py"], as: Drift.Diff.self)
        #expect(d.paths == ["a.py", "b/c.py"] && d.workspace.root == "R")
        #expect(try Self.parse(["status", "--state", "S"], as: Drift.Status.self).workspace.state == "S")
        let w = try Self.parse(["watch", "--settle", "1s", "--rescan-every", "30m", "--log", "L", "--metrics", "P"],
                               as: Drift.Watch.self)
        #expect(w.settle == "1s" && w.rescanEvery == "30m" && w.log == "L" && w.metrics == "P")
        let wd = try Self.parse(["watch"], as: Drift.Watch.self)
        #expect(wd.settle == "200" && wd.rescanEvery == "1h")
    }

    @Test("manifest create and gate: every flag")
    func createAndGate() throws {
        let m = try Self.parse(["manifest", "create", "--root", "R", "--repo", "G", "--commit", "v1", "--policy", "P",
                                "--site-packages", "S1", "--site-packages", "S2", "--requirements", "Q",
                                "--output", "O", "--sign-key", "K"], as: Drift.ManifestCommand.Create.self)
        #expect(m.root == "R" && m.repo == "G" && m.commit == "v1" && m.policy == "P")
        #expect(m.sitePackages == ["S1", "S2"] && m.requirements == "Q" && m.output == "O" && m.signKey == "K")
        #expect(try Self.parse(["manifest", "create", "--root", "R", "--repo", "G", "--output", "O"],
                               as: Drift.ManifestCommand.Create.self).commit == "HEAD")
        let g = try Self.parse(["gate", "--repo", "G", "--commit", "c", "--ledger", "L", "--ledger-refs",
                                "--ledger-ref-prefix", "refs/x/", "--policy", "P", "--format", "sarif",
                                "--image-root", "I", "--workspace", "/w", "--manifest", "M", "--public-key", "K"],
                               as: Drift.Gate.self)
        #expect(g.repo == "G" && g.commit == "c" && g.ledger == "L" && g.ledgerRefs && g.ledgerRefPrefix == "refs/x/")
        #expect(g.policy == "P" && g.format == .sarif && g.imageRoot == "I" && g.workspace == "/w")
        #expect(g.manifest == "M" && g.publicKey == "K")
        #expect(try Self.parse(["gate", "--image-root", "I"], as: Drift.Gate.self).repo == nil)
        #expect(try Self.parse(["gate", "--repo", "G", "--ledger-refs"], as: Drift.Gate.self).ledger == nil)
    }

    /// The exact line the binary prints for each bad vector (`Drift.checkArguments` is what
    /// `runMain` prints, minus the exit).
    @Test("bad vectors: the exact one-line error", arguments: [
        (["scan", "--wait=-1"], "--wait must be a number of seconds from 0 to 86400"),
        (["scan", "--wait", "86400.5"], "--wait must be a number of seconds from 0 to 86400"),
        (["scan", "--wait", "1e308"], "--wait must be a number of seconds from 0 to 86400"),
        (["export", "--output", "o", "--wait", "nan"], "--wait must be a number of seconds from 0 to 86400"),
        (["scan", "--wait", "-1"], "Missing value for '--wait <S>'"),
        (["scan", "--format", "xml"], "The value 'xml' is invalid for '--format <format>'. "
            + "Please provide one of 'text' and 'json'."),
        (["scan", "--fail-on", "sometimes"], "The value 'sometimes' is invalid for '--fail-on <fail-on>'. "
            + "Please provide one of 'drift' and 'overdue'."),
        (["scan", "--wait", "soon"], "The value 'soon' is invalid for '--wait <S>'"),
        (["scan", "--zork"], "Unknown option '--zork'. Did you mean '--root'?"),
        (["scan", "--root"], "Missing value for '--root <DIR>'"),
        (["export"], "Missing expected argument '--output <ODIR>'"),
        (["push"], "Missing expected argument '<REMOTE>'"),
        (["status", "extra"], "Unexpected argument 'extra'"),
        (["manifest", "create", "--root", "r", "--repo", "g"], "Missing expected argument '--output <MDIR>'"),
        (["gate"], "give --repo with --ledger and/or --ledger-refs, or --image-root, or both"),
        (["gate", "--repo", "r"], "give --repo with --ledger and/or --ledger-refs, or --image-root, or both"),
        (["gate", "--ledger", "l"], "give --repo with --ledger and/or --ledger-refs, or --image-root, or both"),
        (["gate", "--repo", "r", "--image-root", "i"], "--repo goes with --ledger or --ledger-refs"),
        (["gate", "--repo", "r", "--ledger", "l", "--format", "yaml"], "The value 'yaml' is invalid for "
            + "'--format <format>'. Please provide one of 'text', 'json' or 'sarif'."),
        (["bogus"], "Unexpected argument 'bogus'"),
    ])
    func badVector(argv: [String], message: String) {
        #expect(Drift.checkArguments(argv) == "drift: " + message, "one drift: prefix, no ArgumentParser Error:")
    }

    /// What `checkArguments` says is what the binary prints, with exit 2 (one run ties them).
    @Test("the binary prints the same line and exits 2")
    func binaryAgrees() throws {
        for argv in [["scan", "--wait=-1"], ["gate", "--repo", "r"], ["export"]] {
            let r = try drift(argv)
            #expect(r.code == 2 && r.out.isEmpty)
            #expect(r.err == (Drift.checkArguments(argv) ?? "?") + "\n", "\(argv)")
            #expect(r.err.hasPrefix("drift: ") && !r.err.contains("Error:"), "one prefix: \(r.err)")
        }
    }

    @Test("valid vectors of every verb check clean")
    func validVectors() {
        let ok: [[String]] = [["scan"], ["watch"], ["diff"], ["status"], ["export", "--output", "o"], ["push", "r"],
                              ["manifest", "create", "--root", "r", "--repo", "g", "--output", "o"],
                              ["gate", "--repo", "r", "--ledger", "l"], ["gate", "--image-root", "i"],
                              ["scan", "--help"], ["--version"]]
        for argv in ok { #expect(Drift.checkArguments(argv) == nil, "\(argv)") }
    }

    /// `--settle`/`--rescan-every` are checked when watch starts: the same one-sentence errors.
    @Test("watch durations", arguments: [
        ("250ms", 1, 250 as Int64?), ("90s", 1, 90_000), ("1h30m", 1000, 5_400_000), ("200", 1, 200),
        ("90", 1000, 90_000), ("", 1, nil), ("1h30", 1, nil), ("5 s", 1, nil), ("3w", 1, nil),
        ("99999999999999999999", 1, nil), ("2d", 1, nil), ("1ms", 1000, nil),
    ])
    func durations(text: String, bare: Int64, ms: Int64?) {
        let got = try? DurationText.milliseconds(text, flag: "--settle", bareUnitMs: bare, min: 2, max: 86_400_000)
        #expect(got == ms, "\(text)")
        if ms == nil {
            do {
                _ = try DurationText.milliseconds(text, flag: "--settle", bareUnitMs: bare, min: 2, max: 86_400_000)
            } catch let e as DriftError {
                #expect(e.message.hasPrefix("--settle '\(text)': ") && !e.message.contains("\n"), "\(e.message)")
            } catch {
                Issue.record("\(text): \(error)")
            }
        }
        #expect(DurationText.render(5_400_000) == "90m" && DurationText.render(1500) == "1500ms")
    }
}

/// `ExitCodes`, the one map from typed errors and outcomes to exit codes, fed real errors.
@Suite("Exit codes")
struct ExitCodeTests {
    @Test("outcomes: clean 0, drift 1, incomplete 3; the documented status numbers")
    func outcomes() {
        #expect(ExitCodes.code(for: ScanOutcome.clean) == 0)
        #expect(ExitCodes.code(for: ScanOutcome.drift) == 1)
        #expect(ExitCodes.code(for: ScanOutcome.incomplete) == 3)
        // The numbers state.json and the --log line record are a file format: they keep their values,
        // and agree with the exit codes the CLI chooses.
        #expect([ScanOutcome.clean, .drift, .incomplete].map(\.recordedCode) == [0, 1, 3])
        for o in ScanOutcome.allCases {
            #expect(ExitCodes.code(for: o) == o.recordedCode)
            #expect(ScanOutcome(recordedCode: Int(o.recordedCode)) == o)
        }
        #expect(ScanOutcome(recordedCode: 2) == nil)
    }

    @Test("a held state lock is 75 with its sentence; DriftError, GitError, Errno are 2")
    func errors() throws {
        let dir = try TempDir("exitcodes")
        defer { dir.remove() }
        let state = StateDirectory(path: dir.sub("state"))
        try state.ensure()
        let held = try StateLock(state: state, wait: 0)
        var busy: Error?
        do { _ = try StateLock(state: state, wait: 0) } catch { busy = error }
        withExtendedLifetime(held) {}
        let b = try #require(busy as? DriftError)
        #expect(b.code == .lockBusy && b.path == state.path)
        let mapped = try #require(ExitCodes.code(for: b))
        #expect(mapped.code == 75 && mapped.line == b.message && mapped.line.contains(state.shown))

        let d = DriftError(.policyInvalid, path: "x.yaml", "3: bad\nline")
        #expect(ExitCodes.code(for: d).map { [String($0.code), $0.line] } == ["2", "x.yaml: 3: bad line"])

        // A real libgit2 failure: a revision an empty repository lacks. (A directory that is no
        // repository is a DriftError naming it, not libgit2's words.)
        var gitError: Error?
        let empty = try GitRepository(initBare: dir.sub("empty.git"))
        do { _ = try empty.resolveCommit("nosuch") } catch { gitError = error }
        let g = try #require(gitError as? GitError)
        #expect(ExitCodes.code(for: g).map { [String($0.code), $0.line] } == ["2", g.description])
        #expect(ExitCodes.code(for: Errno(ENOENT))?.code == 2)
        #expect(ExitCodes.code(for: Errno(ENOENT))?.line == "No such file or directory")
        // A file read that fails is one sentence naming the file (no ArgumentParser "Error: ").
        let read = FileReadError(Array("worker/a\nb.py".utf8), .system(call: "readlink", errno: .invalidArgument))
        #expect(ExitCodes.code(for: read)?.code == 2)
        #expect(ExitCodes.code(for: read)?.line == "\"worker/a\\nb.py\": readlink failed: Invalid argument")

        // ArgumentParser's own errors are left to it (usage text, help).
        #expect(ExitCodes.code(for: ValidationError("x")) == nil)
        #expect(ExitCodes.code(for: ExitCode(1)) == nil)
    }

    /// Every `DriftError.Code` has its exit code (the switch has no `default`, so a new code
    /// fails to compile until chosen); this pins the choices: 75 busy, 3 walk limit, else 2.
    @Test("every DriftError code maps to its exit code")
    func everyCode() throws {
        for c in DriftError.Code.allCases {
            let expected: Int32 = c == .lockBusy ? 75 : c == .walkLimit ? 3 : 2
            let mapped = try #require(ExitCodes.code(for: DriftError(c, path: [0x61, 0x0A], "why")))
            #expect(mapped.code == expected, "\(c)")
            // The one line names the file through the one quoting function.
            #expect(mapped.line == "\"a\\n\": why", "\(c)")
        }
        #expect(ExitCodes.code(for: DriftError.Code.lockBusy) == ExitCodes.busy)
        #expect(Set(DriftError.Code.allCases.map(\.rawValue)).count == DriftError.Code.allCases.count)
    }
}
