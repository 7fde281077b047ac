import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
@_exported import DriftTestSupport
#if canImport(Glibc)
import Glibc
#endif

// TempDir, Run, run, sh, write, driftBinary and drift come from DriftTestSupport, shared
// with the per-layer targets.

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
