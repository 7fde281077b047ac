import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Helpers shared by the per-layer test targets (DriftSystemTests, DriftGitTests,
// DriftCLITests): a temp directory, a program runner with a timeout, file writers, and the
// built `drift` binary. They depend on no drift module, so a layer's tests link only its layer.

/// A test helper failed (a fixture could not be made, a command failed or timed out).
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A temp directory removed when the test ends (`defer { dir.remove() }`).
public final class TempDir {
    public let path: String

    /// `parent`: where the directory is made.
    public init(_ label: String = "drift", parent: String = "/tmp") throws {
        var template = Array("\(parent)/\(label)-test-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw TestSupportError("mkdtemp failed") }
        path = String(cString: p)
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }

    public func sub(_ name: String) -> String { path + "/" + name }
}

/// What a program run gave: its exit code (or the signal that ended it), stdout, stderr.
public struct Run {
    public var code: Int32
    public var out: String
    public var err: String
}

/// glibc functions the Glibc module hides behind _GNU_SOURCE, looked up once.
private enum GNU {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>,
                                         UnsafePointer<CChar>) -> Int32
    /// pipe2: both ends close-on-exec atomically, so no other test's child inherits them.
    static let pipe2: Pipe2 = unsafeBitCast(dlsym(nil, "pipe2"), to: Pipe2.self)
    static let addchdir: AddChdir = unsafeBitCast(dlsym(nil, "posix_spawn_file_actions_addchdir_np"),
                                                  to: AddChdir.self)
}

/// Runs a program with a timeout; the child gets no stdin, the environment of this process
/// plus a fixed git identity and `env`. posix_spawn + poll + waitpid on this thread (not
/// Foundation's `Process`, which under load could miss a child's exit).
@discardableResult
public func run(_ argv: [String], cwd: String? = nil, env: [String: String] = [:],
                timeout: TimeInterval = 120) throws -> Run {
    var e = ProcessInfo.processInfo.environment
    e["NO_COLOR"] = "1"
    e["GIT_AUTHOR_NAME"] = "Test"
    e["GIT_AUTHOR_EMAIL"] = "test@example.com"
    e["GIT_COMMITTER_NAME"] = "Test"
    e["GIT_COMMITTER_EMAIL"] = "test@example.com"
    e["DRIFT_TEST_PID1_ENVIRON"] = e["DRIFT_TEST_PID1_ENVIRON"] ?? "/nonexistent/pid1-environ"
    e["DRIFT_SUPERVISOR_CONF"] = e["DRIFT_SUPERVISOR_CONF"] ?? "/nonexistent/supervisor.conf"
    for (k, v) in env { e[k] = v }
    let path = argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/env"
    let args = argv[0].hasPrefix("/") ? argv : ["/usr/bin/env"] + argv
    var outFds: [Int32] = [-1, -1]
    var errFds: [Int32] = [-1, -1]
    guard GNU.pipe2(&outFds, O_CLOEXEC) == 0 else { throw TestSupportError("pipe2 failed") }
    guard GNU.pipe2(&errFds, O_CLOEXEC) == 0 else {
        close(outFds[0])
        close(outFds[1])
        throw TestSupportError("pipe2 failed")
    }
    var fa = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&fa)
    defer { posix_spawn_file_actions_destroy(&fa) }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&fa, outFds[1], 1)
    posix_spawn_file_actions_adddup2(&fa, errFds[1], 2)
    if let cwd { _ = GNU.addchdir(&fa, cwd) }
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attr, &none)
    var all = sigset_t()
    sigfillset(&all)
    sigdelset(&all, SIGKILL)
    sigdelset(&all, SIGSTOP)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
    let cEnv: [UnsafeMutablePointer<CChar>?] = e.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for p in cArgs { free(p) }
        for p in cEnv { free(p) }
    }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &fa, &attr, cArgs, cEnv)
    close(outFds[1])
    close(errFds[1])
    guard rc == 0 else {
        close(outFds[0])
        close(errFds[0])
        throw TestSupportError("cannot start \(path): \(String(cString: strerror(rc)))")
    }
    var collected: [Int32: [UInt8]] = [outFds[0]: [], errFds[0]: []]
    var open = [outFds[0], errFds[0]]
    let deadline = Date().addingTimeInterval(timeout)
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var timedOut = false
    while !open.isEmpty {
        let left = deadline.timeIntervalSinceNow
        if left <= 0 {
            timedOut = true
            break
        }
        var pfds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let n = poll(&pfds, nfds_t(pfds.count), Int32(min(left, 1) * 1000) + 1)
        if n < 0 && errno != EINTR { break }
        for p in pfds where p.revents != 0 {
            let got = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
            if got > 0 {
                collected[p.fd, default: []] += buffer[0..<got]
            } else if got == 0 || (errno != EINTR && errno != EAGAIN) {
                close(p.fd)
                open.removeAll { $0 == p.fd }
            }
        }
    }
    if timedOut { kill(pid, SIGKILL) }
    for fd in open { close(fd) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    if timedOut { throw TestSupportError("timed out after \(timeout)s: \(argv.joined(separator: " "))") }
    let code = status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
    return Run(code: code, out: String(decoding: collected[outFds[0]] ?? [], as: UTF8.self),
               err: String(decoding: collected[errFds[0]] ?? [], as: UTF8.self))
}

/// Runs a shell snippet, failing on a non-zero exit; returns its stdout.
@discardableResult
public func sh(_ script: String, cwd: String? = nil, env: [String: String] = [:]) throws -> String {
    let r = try run(["/bin/sh", "-c", script], cwd: cwd, env: env)
    if r.code != 0 { throw TestSupportError("sh failed (\(r.code)): \(script)\n\(r.err)") }
    return r.out
}

/// Writes a text file, making its parent directories.
public func write(_ path: String, _ content: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try content.write(toFile: path, atomically: false, encoding: .utf8)
}

/// The built `drift` executable (`$DRIFT_BIN`, else beside the test bundle, else .build/debug).
public func driftBinary() -> String {
    if let b = ProcessInfo.processInfo.environment["DRIFT_BIN"] { return b }
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("drift").path,
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent(".build/debug/drift").path,
    ]
    for c in candidates where FileManager.default.isExecutableFile(atPath: c) { return c }
    return candidates[candidates.count - 1]
}

/// Runs the built `drift` binary.
@discardableResult
public func drift(_ args: [String], cwd: String? = nil, env: [String: String] = [:],
                  timeout: TimeInterval = 120) throws -> Run {
    try run([driftBinary()] + args, cwd: cwd, env: env, timeout: timeout)
}
