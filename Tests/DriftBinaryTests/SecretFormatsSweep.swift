@testable import DriftCore
import Foundation
import Testing

/// Not a test of its own: with `DRIFT_FP_ROOT=DIR`, lists every file under DIR a credential
/// rule fires on (rule, path, the bytes around the hit) into `DRIFT_FP_OUT` (default
/// /tmp/fpscan/result.txt); `bench/secret_fp.py --rules` runs it for the hit list, and
/// measures the same trees end to end.
@Suite struct SecretFormatsSweep {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["DRIFT_FP_ROOT"] != nil, "set DRIFT_FP_ROOT to sweep"))
    func sweep() throws {
        let root = ProcessInfo.processInfo.environment["DRIFT_FP_ROOT"] ?? "/"
        let e = FileManager.default.enumerator(atPath: root)
        var files = 0
        var hits: [String] = []
        while let rel = e?.nextObject() as? String {
            let p = root + "/" + rel
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue,
                  !rel.hasSuffix(".pyc"), let d = FileManager.default.contents(atPath: p) else { continue }
            files += 1
            let bytes = Array(d)
            // Judged as the scan judges the file at this path (a test fixture's scope, `SecretScope`).
            if let (r, at) = SecretFormats.locate(bytes, scope: SecretScope(path: Array(rel.utf8))) {
                let lo = max(0, at - 60), hi = min(bytes.count, at + 80)
                let ctx = String(decoding: bytes[lo..<hi], as: UTF8.self).replacingOccurrences(of: "\n", with: "⏎")
                hits.append("\(r.rawValue)\t\(rel)\t\(ctx)")
            }
        }
        let out = "files \(files) hits \(hits.count)\n" + hits.joined(separator: "\n") + "\n"
        let dest = ProcessInfo.processInfo.environment["DRIFT_FP_OUT"] ?? "/tmp/fpscan/result.txt"
        try FileManager.default.createDirectory(atPath: (dest as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try out.write(toFile: dest, atomically: true, encoding: .utf8)
    }
}
