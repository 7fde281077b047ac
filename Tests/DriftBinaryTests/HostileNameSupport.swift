import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Fixtures for the trust-boundary tests: an upstream with history that moves on, a baked
/// workspace, byte-named files, and checks on what verbs print.
struct HostileWorld {
    let dir: TempDir
    var upstream: String { dir.sub("upstream") }
    var base: String { dir.sub("ws-base") }
    var mdir: String { dir.sub("mdir") }
    var policy: String { dir.sub("policy.yaml") }

    /// Upstream with three commits (the workspace is the second), then upstream moves on.
    init() throws {
        dir = try TempDir("drift-hostile")
        let u = upstream
        try write(u + "/worker/main.py", "import os\n\ndef main():\n    print('worker')\n")
        try write(u + "/worker/util.py", "def helper(x):\n    return x + 1\n")
        try write(u + "/config/settings.yaml", "queue: video\n")
        try write(u + "/packages/models/whisper.bin", "model-bytes\n")
        try write(u + "/.env", "TOKEN=placeholder\n")
        try sh("git init -q -b main . && git add -A && git commit -qm one && echo '# two' >> worker/util.py"
               + " && git commit -qam two", cwd: u)
        try sh("mkdir -p '\(base)' && git -C '\(u)' archive HEAD | tar -x -C '\(base)'")
        try sh("echo '# three' >> worker/main.py && git commit -qam three", cwd: u)
        try write(policy, """
            schema: drift.policy/1
            ignore: ["**/__pycache__/", "*.pyc"]
            config: ["config/", ".env", ".env.*"]
            secrets: [".env", ".env.*"]
            data: ["packages/models/"]
            size_limit: 16MiB

            """)
        let r = try drift(["manifest", "create", "--root", base, "--repo", u, "--commit", "HEAD~1",
                           "--policy", policy, "--output", mdir])
        if r.code != 0 { throw DriftError("manifest create failed: \(r.err)") }
    }

    /// A fresh copy of the baked workspace with its own state dir.
    func workspace(_ name: String) throws -> (root: String, state: String) {
        let root = dir.sub("ws-" + name)
        try sh("cp -a '\(base)' '\(root)'")
        return (root, dir.sub("state-" + name))
    }

    func run(_ verb: [String], _ ws: (root: String, state: String), host: String = "host-a",
             env: [String: String] = [:]) throws -> Run {
        var e = env
        e["DRIFT_HOST"] = host
        return try drift(verb + ["--manifest", mdir, "--root", ws.root, "--state", ws.state], env: e)
    }
}

/// Creates `root/rel` (bytes), making parent directories; false when the name cannot be
/// created (a component is taken by a file already).
@discardableResult
func makeFile(root: String, _ rel: [UInt8], _ content: [UInt8]) -> Bool {
    let comps = rel.split(separator: 0x2F).map(Array.init)
    var path = Array(root.utf8)
    for c in comps.dropLast() {
        path += [0x2F] + c
        let rc = withCPath(path) { mkdir($0, 0o755) }
        if rc != 0 && errno != EEXIST { return false }
    }
    path += [0x2F] + (comps.last ?? [])
    let fd = withCPath(path) { open($0, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return content.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == content.count
}

/// The bytes of `root/rel`, nil when absent.
func readFile(root: String, _ rel: [UInt8]) -> [UInt8]? {
    let fd = withCPath(Array(root.utf8) + [0x2F] + rel) { open($0, O_RDONLY) }
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return out
}

/// Tracked paths of a clone, as bytes (`git ls-files -z`).
func trackedPaths(_ repo: String) throws -> Set<[UInt8]> {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    p.arguments = ["-C", repo, "ls-files", "-z"]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Set(Array(data).split(separator: 0, omittingEmptySubsequences: true).map(Array.init))
}

/// Lines of `text` holding a raw control character (C0 other than newline, DEL, or C1).
func rawControlLines(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
        line.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }.map { String($0).debugDescription }
}

/// Random hostile names, reproducible from a seed.
struct NameGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed | 1 }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func pick<T>(_ a: [T]) -> T { a[Int(next() % UInt64(a.count))] }

    static let fragments: [[UInt8]] = [
        "\n", "\n---\n", "---", "\ndiff --git a/worker/evil.py b/worker/evil.py\nnew file mode 100644\n",
        "--- /dev/null\n+++ b/worker/evil.py\n@@ -0,0 +1 @@\n+import os; os.system('id')\n",
        "\u{1B}[31m", "\u{1B}]0;pwned\u{07}", "::", "\n::stop-commands::tok\n", "::error::fake\n", "\nFrom ",
        "From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n", "\r", "\t", " ", "\"", "\\",
        "%", "caf\u{E9}", "\u{202E}", "\u{9B}31m", "\u{7F}",
    ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xE2, 0x82], [0x80, 0x80], [0xC0, 0xAF]]

    /// A relative path of 1–3 components built from hostile fragments and random bytes,
    /// unique through `index`; `driftIds` are spliced in as `Drift-Id:` lines.
    mutating func name(index: Int, driftIds: [String]) -> [UInt8] {
        var raw: [UInt8] = []
        for _ in 0..<(1 + Int(next() % 4)) {
            switch next() % 5 {
            case 0: raw += Array("\nDrift-Id: \(pick(driftIds))\n".utf8)
            case 1:
                for _ in 0..<(1 + Int(next() % 6)) { raw.append(UInt8(1 + next() % 255)) }
            default: raw += pick(Self.fragments)
            }
        }
        var comps = raw.split(separator: 0x2F, omittingEmptySubsequences: true).map { Array($0.prefix(120)) }
        comps = comps.prefix(3).map { c in
            let lower = String(decoding: c, as: UTF8.self).lowercased()
            if c == [0x2E] || c == [0x2E, 0x2E] || lower.hasPrefix(".git") || lower.hasPrefix(".env") {
                return [0x5F] + c
            }
            return c
        }
        if comps.isEmpty { comps = [[0x5F]] }
        comps[comps.count - 1] += Array("-\(index)".utf8)
        return comps.joined(separator: [0x2F]).map { $0 }
    }
}
