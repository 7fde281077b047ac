import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// A temp directory removed when the test ends (`defer { dir.remove() }`).
final class TempDir {
    let path: String

    /// `parent`: where the directory is made (`/tmp`; a test that makes 100,000 directories
    /// uses a tmpfs when there is one).
    init(_ label: String = "drift", parent: String = "/tmp") throws {
        var template = Array("\(parent)/\(label)-test-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw DriftError("mkdtemp failed") }
        path = String(cString: p)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    func sub(_ name: String) -> String { path + "/" + name }
}

struct Run {
    var code: Int32
    var out: String
    var err: String
}

/// glibc functions the Glibc module hides behind _GNU_SOURCE, looked up once.
enum GNU {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>,
                                         UnsafePointer<CChar>) -> Int32
    /// pipe2: both ends close-on-exec atomically, so no other test's child inherits them.
    static let pipe2: Pipe2 = unsafeBitCast(dlsym(nil, "pipe2"), to: Pipe2.self)
    static let addchdir: AddChdir = unsafeBitCast(dlsym(nil, "posix_spawn_file_actions_addchdir_np"),
                                                  to: AddChdir.self)
}

/// Runs a program with a timeout; the child gets no stdin.
///
/// posix_spawn + poll + waitpid on this thread, not Foundation's `Process`: under load (and
/// under AddressSanitizer) `Process` could miss a child's exit when every Dispatch worker was
/// busy, leaving a zombie and a test that never returned.
@discardableResult
func run(_ argv: [String], cwd: String? = nil, env: [String: String] = [:], timeout: TimeInterval = 120) throws -> Run {
    var e = ProcessInfo.processInfo.environment
    e["NO_COLOR"] = "1"
    e["GIT_AUTHOR_NAME"] = "Test"
    e["GIT_AUTHOR_EMAIL"] = "test@example.com"
    e["GIT_COMMITTER_NAME"] = "Test"
    e["GIT_COMMITTER_EMAIL"] = "test@example.com"
    // Hermetic secret sources: no PID 1 environment or supervisord config of the test machine.
    e["DRIFT_TEST_PID1_ENVIRON"] = e["DRIFT_TEST_PID1_ENVIRON"] ?? "/nonexistent/pid1-environ"
    e["DRIFT_SUPERVISOR_CONF"] = e["DRIFT_SUPERVISOR_CONF"] ?? "/nonexistent/supervisor.conf"
    for (k, v) in env { e[k] = v }
    let path = argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/env"
    let args = argv[0].hasPrefix("/") ? argv : ["/usr/bin/env"] + argv
    var outFds: [Int32] = [-1, -1]
    var errFds: [Int32] = [-1, -1]
    guard GNU.pipe2(&outFds, O_CLOEXEC) == 0 else { throw DriftError("pipe2 failed") }
    guard GNU.pipe2(&errFds, O_CLOEXEC) == 0 else {
        close(outFds[0])
        close(outFds[1])
        throw DriftError("pipe2 failed")
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
    // The child starts with no blocked signals and default handlers, whatever this process has.
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
        throw DriftError("cannot start \(path): \(String(cString: strerror(rc)))")
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
    if timedOut { throw DriftError("timed out after \(timeout)s: \(argv.joined(separator: " "))") }
    // Like Process.terminationStatus: the exit code, or the signal that ended the child.
    let code = status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
    return Run(code: code, out: String(decoding: collected[outFds[0]] ?? [], as: UTF8.self),
               err: String(decoding: collected[errFds[0]] ?? [], as: UTF8.self))
}

/// Runs a shell snippet, failing the test on a non-zero exit.
@discardableResult
func sh(_ script: String, cwd: String? = nil, env: [String: String] = [:]) throws -> String {
    let r = try run(["/bin/sh", "-c", script], cwd: cwd, env: env)
    if r.code != 0 { throw DriftError("sh failed (\(r.code)): \(script)\n\(r.err)") }
    return r.out
}

/// The built `drift` executable.
func driftBinary() -> String {
    if let b = ProcessInfo.processInfo.environment["DRIFT_BIN"] { return b }
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("drift").path,
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent(".build/debug/drift").path,
    ]
    for c in candidates where FileManager.default.isExecutableFile(atPath: c) { return c }
    return candidates.last!
}

@discardableResult
func drift(_ args: [String], cwd: String? = nil, env: [String: String] = [:],
           timeout: TimeInterval = 120) throws -> Run {
    try run([driftBinary()] + args, cwd: cwd, env: env, timeout: timeout)
}

/// Writes a file whose name is given as raw bytes (non-UTF-8 names).
func writeFile(bytesPath: [UInt8], _ content: String, mode: mode_t = 0o644) throws {
    var z = bytesPath
    z.append(0)
    let fd = z.withUnsafeBufferPointer { b in
        b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: z.count) {
            open($0, O_WRONLY | O_CREAT | O_TRUNC, mode)
        }
    }
    guard fd >= 0 else { throw DriftError("cannot create test file: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let b = Array(content.utf8)
    _ = b.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
}

func write(_ path: String, _ content: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try content.write(toFile: path, atomically: false, encoding: .utf8)
}

/// A small upstream repository and a workspace checked out from it (no .git), the shape
/// of the worker image: code, config with a fake secret, model data, logs, pycache.
struct Fixture {
    let dir: TempDir
    var upstream: String { dir.sub("upstream") }
    var workspace: String { dir.sub("workspace") }
    var mdir: String { dir.sub("mdir") }
    var state: String { dir.sub("state") }
    static let secret = "SECRET-MARKER-7f3a9c"

    init(requirements: String = "# pins\nsix==1.16.0\n", parent: String = "/tmp") throws {
        dir = try TempDir(parent: parent)
        let u = dir.sub("upstream")
        try write(u + "/worker/main.py", "import os\n\ndef main():\n    print('worker')\n")
        try write(u + "/worker/util.py", "def helper(x):\n    return x + 1\n")
        try write(u + "/start_remote.sh", "#!/bin/sh\necho start\n")
        try write(u + "/requirements.instance.txt", requirements)
        try write(u + "/config/settings.yaml", "queue: video\n")
        try write(u + "/.env", "TOKEN=placeholder\n")
        try write(u + "/packages/models/whisper.bin", "model-bytes\n")
        try write(u + "/assets/logo.bin", "\u{0}\u{1}\u{2}binary\n")
        try sh("chmod +x start_remote.sh && ln -s worker/main.py entry.py"
               + " && git init -q -b main . && git add -A && git commit -qm base", cwd: u)
        try sh("mkdir -p '\(workspace)' && git -C '\(u)' archive HEAD | tar -x -C '\(workspace)'"
               + " && mkdir -p '\(workspace)/logs' '\(workspace)/worker/__pycache__'"
               + " && echo log > '\(workspace)/logs/w.log'"
               + " && echo pyc > '\(workspace)/worker/__pycache__/main.cpython-311.pyc'")
    }

    func bake(_ extra: [String] = []) throws {
        // A generous bound: under AddressSanitizer on a loaded 2-core machine a bake of the odd
        // trees took over 120 s (a guard against hangs, not a speed check).
        let r = try drift(["manifest", "create", "--root", workspace, "--repo", upstream, "--output", mdir] + extra,
                          timeout: 600)
        if r.code != 0 { throw DriftError("manifest create failed: \(r.err)") }
    }

    func scan(_ extra: [String] = []) throws -> (Run, [String: Any]) {
        let r = try drift(["scan", "--manifest", mdir, "--state", state, "--format", "json"] + extra)
        // A run that failed (2) or found the state busy (75) prints no report: the caller checks
        // its code and stderr. Any other output must be a JSON report — never read as empty.
        if r.out.isEmpty && ![0, 1, 3].contains(r.code) { return (r, [:]) }
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] else {
            throw DriftError("drift scan exited \(r.code) without a JSON report: \(r.out.prefix(300)) \(r.err)")
        }
        return (r, obj)
    }
}

func files(_ report: [String: Any]) -> [[String: Any]] { report["files"] as? [[String: Any]] ?? [] }

func changes(_ report: [String: Any]) -> [String: String] {
    var out: [String: String] = [:]
    for f in files(report) { out[f["path"] as? String ?? "?"] = f["change"] as? String }
    return out
}

extension DriftError {
    /// A test's own failure (a fixture step that did not work): code `internal`, never a
    /// code drift itself would give, so no test can mistake it for drift's error.
    init(_ message: String) {
        self.init(.internal, message)
    }
}
