import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Issue 22, attacked: the same secret in other bytes, places and timings than the issue's
/// examples. Each carrier is withheld and the value (and its SHA-256) leaves nowhere.
@Suite("Secret attacks")
struct SecretAttackTests {
    static func random(_ n: Int) -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<n).map { _ in alphabet.randomElement() ?? "a" })
    }

    @Test("an environment key base64-, hex-, UTF-16-encoded, split across lines, in a name or a link: withheld")
    func carriers() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let key = "sk-live-" + Self.random(32)
        let bytes = Array(key.utf8)
        let w = f.workspace
        func code(_ name: String, _ body: String) throws { try write(w + "/worker/" + name, body + "\n") }
        // base64 at every alignment inside a longer encoded string, URL-safe too.
        for (i, prefix) in ["", "x", "xy"].enumerated() {
            let b64 = Data((prefix + key + "-tail").utf8).base64EncodedString()
            try code("b64_\(i).py", "import base64\nK = base64.b64decode('\(b64)')")
        }
        let url = Data(("z" + key).utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
        try code("b64url.py", "K = '\(url)'")
        try code("hex.py", "K = bytes.fromhex('\(bytes.map { String(format: "%02x", $0) }.joined())')")
        try code("hexup.py", "K = bytes.fromhex('\(bytes.map { String(format: "%02X", $0) }.joined())')")
        // A UTF-16 editor's file (BOM, little-endian).
        var utf16: [UInt8] = [0xFF, 0xFE]
        for c in "KEY = '\(key)'\n".utf8 { utf16 += [c, 0] }
        try Data(utf16).write(to: URL(fileURLWithPath: w + "/worker/utf16.py"))
        // Split across two lines (string concatenation), at an odd place.
        let cut = key.index(key.startIndex, offsetBy: 17)
        try code("split.py", "K = ('\(key[..<cut])'\n     '\(key[cut...])')")
        try sh("ln -s '../\(key)' worker/link.py && echo 'FIX = 13' >> worker/util.py", cwd: w)
        let (leaks, report) = try SecretLeakTests.runEverything(f, env: ["PAYMENTS_API_KEY": key])
        let want = Set(["b64_0", "b64_1", "b64_2", "b64url", "hex", "hexup", "utf16", "split", "link"]
            .map { "worker/\($0).py" })
        #expect(SecretLeakTests.flagged(report) == want,
                "\(SecretLeakTests.flagged(report).symmetricDifference(want))")
        leaks.expectAbsent(key, "the key")
        leaks.expectAbsent(String(key[..<cut]), "its first half")
        leaks.expectAbsent(String(key[cut...]), "its second half")
        let patch = String(decoding: try readWholeFile(f.dir.sub("out") + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+FIX = 13"), "honest code still goes")
    }

    @Test("encodings and windows of a value: base64 at three alignments, hex, UTF-16, halves of a token")
    func needles() throws {
        let key = Array("tok-" + Self.random(28))
        let k = Array(String(key).utf8)
        let enc = SecretEncodings.of(k)
        for prefix in ["", "a", "ab"] {
            let b64 = Array(Data((prefix + String(key) + "!").utf8).base64EncodedString().utf8)
            #expect(enc.contains { SecretIndex.contains(b64, $0) }, "base64 after \(prefix.count) bytes")
        }
        #expect(SecretEncodings.of(Array("short-value".utf8)).isEmpty, "11 bytes: too short to encode")
        let windows = SecretEncodings.windows(k)
        for cut in [1, 9, 16, 24, k.count - 1] {
            let left = Array(k[..<cut]), right = Array(k[cut...])
            #expect(windows.contains { SecretIndex.contains(left, $0) || SecretIndex.contains(right, $0) },
                    "a split at \(cut) keeps a window whole")
        }
        #expect(SecretEncodings.windows(Array("postgres://app:pw@db/app-and-more".utf8)).isEmpty,
                "a URL or path is not cut into windows")
    }
}
