@testable import DriftCore
import Foundation
import Testing

/// Not a test of its own: with `DRIFT_FP_ROOT=DIR`, lists every file under DIR a credential
/// rule fires on (rule, path), for tuning; `bench/secret_fp.py` measures the same end to end.
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
            if let (r, at) = SecretFormats.locate(bytes) {
                let lo = max(0, at - 60), hi = min(bytes.count, at + 80)
                let ctx = String(decoding: bytes[lo..<hi], as: UTF8.self).replacingOccurrences(of: "\n", with: "⏎")
                hits.append("\(r.rawValue)\t\(rel)\t\(ctx)")
            }
        }
        let out = "files \(files) hits \(hits.count)\n" + hits.joined(separator: "\n") + "\n"
        try out.write(toFile: "/tmp/fpscan/result.txt", atomically: true, encoding: .utf8)
    }
}
