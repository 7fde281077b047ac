import Foundation
import Testing
@testable import DriftCore
#if canImport(Glibc)
import Glibc
#endif

/// A temp directory removed when the test ends (`defer { dir.remove() }`).
final class TempDir {
    let path: String

    init(_ label: String = "drift") throws {
        var template = Array("/tmp/\(label)-test-XXXXXX".utf8CString)
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

/// Runs a program with a timeout; the child gets no stdin.
@discardableResult
func run(_ argv: [String], cwd: String? = nil, env: [String: String] = [:], timeout: TimeInterval = 120) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/env")
    p.arguments = argv[0].hasPrefix("/") ? Array(argv.dropFirst()) : argv
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    var e = ProcessInfo.processInfo.environment
    e["NO_COLOR"] = "1"
    e["GIT_AUTHOR_NAME"] = "Test"
    e["GIT_AUTHOR_EMAIL"] = "test@example.com"
    e["GIT_COMMITTER_NAME"] = "Test"
    e["GIT_COMMITTER_EMAIL"] = "test@example.com"
    for (k, v) in env { e[k] = v }
    p.environment = e
    let outPipe = Pipe(), errPipe = Pipe()
    p.standardOutput = outPipe
    p.standardError = errPipe
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let outData = LockedData(), errData = LockedData()
    let g = DispatchGroup()
    for (pipe, sink) in [(outPipe, outData), (errPipe, errData)] {
        g.enter()
        DispatchQueue.global().async {
            sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
            g.leave()
        }
    }
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    if p.isRunning {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        throw DriftError("timed out after \(timeout)s: \(argv.joined(separator: " "))")
    }
    p.waitUntilExit()
    g.wait()
    return Run(code: p.terminationStatus, out: String(decoding: outData.get(), as: UTF8.self),
               err: String(decoding: errData.get(), as: UTF8.self))
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
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
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/drift").path,
    ]
    for c in candidates where FileManager.default.isExecutableFile(atPath: c) { return c }
    return candidates.last!
}

@discardableResult
func drift(_ args: [String], cwd: String? = nil, env: [String: String] = [:], timeout: TimeInterval = 120) throws -> Run {
    try run([driftBinary()] + args, cwd: cwd, env: env, timeout: timeout)
}

/// Writes a file whose name is given as raw bytes (non-UTF-8 names).
func writeFile(bytesPath: [UInt8], _ content: String, mode: mode_t = 0o644) throws {
    var z = bytesPath
    z.append(0)
    let fd = z.withUnsafeBufferPointer { b in
        b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: z.count) { open($0, O_WRONLY | O_CREAT | O_TRUNC, mode) }
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

    init(requirements: String = "# pins\nsix==1.16.0\n") throws {
        dir = try TempDir()
        let u = dir.sub("upstream")
        try write(u + "/worker/main.py", "import os\n\ndef main():\n    print('worker')\n")
        try write(u + "/worker/util.py", "def helper(x):\n    return x + 1\n")
        try write(u + "/start_remote.sh", "#!/bin/sh\necho start\n")
        try write(u + "/requirements.instance.txt", requirements)
        try write(u + "/config/settings.yaml", "queue: video\n")
        try write(u + "/.env", "TOKEN=placeholder\n")
        try write(u + "/packages/models/whisper.bin", "model-bytes\n")
        try write(u + "/assets/logo.bin", "\u{0}\u{1}\u{2}binary\n")
        try sh("chmod +x start_remote.sh && ln -s worker/main.py entry.py && git init -q -b main . && git add -A && git commit -qm base", cwd: u)
        try sh("mkdir -p '\(workspace)' && git -C '\(u)' archive HEAD | tar -x -C '\(workspace)' && mkdir -p '\(workspace)/logs' '\(workspace)/worker/__pycache__' && echo log > '\(workspace)/logs/w.log' && echo pyc > '\(workspace)/worker/__pycache__/main.cpython-311.pyc'")
    }

    func bake(_ extra: [String] = []) throws {
        let r = try drift(["manifest", "create", "--root", workspace, "--repo", upstream, "--output", mdir] + extra)
        if r.code != 0 { throw DriftError("manifest create failed: \(r.err)") }
    }

    func scan(_ extra: [String] = []) throws -> (Run, [String: Any]) {
        let r = try drift(["scan", "--manifest", mdir, "--state", state, "--format", "json"] + extra)
        let obj = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
        return (r, obj)
    }
}

func files(_ report: [String: Any]) -> [[String: Any]] { report["files"] as? [[String: Any]] ?? [] }

func changes(_ report: [String: Any]) -> [String: String] {
    var out: [String: String] = [:]
    for f in files(report) { out[f["path"] as? String ?? "?"] = f["change"] as? String }
    return out
}
