import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// A `drift watch` process started by a test. Call `kill()` in a `defer`: it is SIGKILLed
/// on every exit path (a process is never left behind by a failing test).
final class WatchProcess {
    let process = Process()
    let fixture: Fixture
    let outFile: String
    let errFile: String

    /// `wrapper` runs before drift (e.g. `unshare … sh -c '…; exec "$0" "$@"'`).
    init(_ f: Fixture, _ extra: [String] = [], wrapper: [String] = [], label: String = "watch") throws {
        fixture = f
        outFile = f.dir.sub("\(label).out")
        errFile = f.dir.sub("\(label).err")
        _ = FileManager.default.createFile(atPath: outFile, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile, contents: nil)
        let args = ["watch", "--manifest", f.mdir, "--state", f.state] + extra
        if wrapper.isEmpty {
            process.executableURL = URL(fileURLWithPath: driftBinary())
            process.arguments = args
        } else {
            process.executableURL = URL(fileURLWithPath: wrapper[0])
            process.arguments = Array(wrapper.dropFirst()) + [driftBinary()] + args
        }
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        process.environment = env
        process.standardOutput = FileHandle(forWritingAtPath: outFile)
        process.standardError = FileHandle(forWritingAtPath: errFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? "" }

    /// Waits until this process has finished its first scan and watches.
    func waitReady(timeout: Double = 30) throws {
        try waitUntil(timeout, "drift watch ready (stderr: \(stderr))") {
            guard process.isRunning else {
                throw DriftError("drift watch exited \(process.terminationStatus): \(stderr)")
            }
            let w = WatchStatus.read(StateDirectory(path: fixture.state))
            return w?.pid == pid && w?.phase == "watching"
        }
    }

    /// SIGTERM, then the exit status (SIGKILL after `timeout`).
    func terminate(timeout: Double = 20) -> Int32 {
        Glibc.kill(pid, SIGTERM)
        let end = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < end { usleep(10_000) }
        kill()
        return process.terminationStatus
    }

    func kill() {
        if process.isRunning {
            Glibc.kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Polls `cond` every 20 ms until it holds; throws after `timeout` seconds.
func waitUntil(_ timeout: Double, _ what: String, _ cond: () throws -> Bool) throws {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if try cond() { return }
        usleep(20_000)
    }
    if try cond() { return }
    throw DriftError("timed out after \(timeout)s waiting for \(what)")
}

/// path → change of the drift the state holds now (`state.json` with `state.log` folded in,
/// as every verb reads it).
func stateItems(_ sdir: String) -> [String: String] {
    guard let d = FileManager.default.contents(atPath: sdir + "/state.json"),
          let j = try? JSONSerialization.jsonObject(with: d) as? [String: Any], let commit = j["commit"] as? String,
          let s = try? StateDirectory(path: sdir).loadState(commit: commit) else { return [:] }
    var out: [String: String] = [:]
    for i in s.items { out[i.path] = i.change.rawValue }
    return out
}

extension Fixture {
    /// What a plain `drift scan` with a fresh state dir sees now (the oracle for the watcher).
    func oracle() throws -> [String: String] {
        let sdir = dir.sub("oracle-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: sdir) }
        let r = try drift(["scan", "--manifest", mdir, "--state", sdir, "--format", "json"])
        guard r.code == 0 || r.code == 1 else { throw DriftError("oracle scan failed (\(r.code)): \(r.err)") }
        let j = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
        return changes(j)
    }

    /// Waits until the watcher's state.json says what a fresh scan says, and returns it.
    @discardableResult
    func waitConverged(timeout: Double = 15) throws -> [String: String] {
        var want: [String: String] = [:]
        do {
            try waitUntil(timeout, "the watcher's state to match a fresh scan") {
                want = try oracle()
                return stateItems(state) == want
            }
        } catch {
            // Said with the values at the end of the wait, not at its start.
            throw DriftError("\(error) (want \(want), have \(stateItems(state)))")
        }
        return want
    }

    /// Snapshot commits of the journal, newest first.
    func snapshots() -> [String] {
        let r = try? run(["git", "--git-dir=\(state)/journal.git", "rev-list", "--first-parent", "refs/heads/journal"])
        return (r?.out ?? "").split(separator: "\n").map(String.init)
    }
}
