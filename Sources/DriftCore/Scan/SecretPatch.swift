extension SecretIndex {
    /// Whether a patch drift wrote (`drift.patch`, `git format-patch` text) holds a secret:
    /// each file's section is judged with its own path's scope, as the scan judged that file
    /// (a test fixture's section is not searched by the generic assignment rule); the
    /// message, a renamed file's section, and a path git had to quote are judged as code.
    func matches(patch bytes: [UInt8]) -> Bool {
        for (range, scope) in Self.patchSections(bytes)
        where SecretFormats.find(Array(bytes[range]), scope: scope) != nil {
            return true
        }
        return matchesValues(bytes)
    }

    /// The sections of a patch: up to the first `diff --git ` line, then one per file.
    static func patchSections(_ b: [UInt8]) -> [(Range<Int>, SecretScope)] {
        let header = Array("diff --git ".utf8)
        var starts: [Int] = []
        var i = 0
        while i < b.count {
            if b[i...].starts(with: header) { starts.append(i) }
            guard let nl = b[i...].firstIndex(of: 0x0A) else { break }
            i = nl + 1
        }
        var out: [(Range<Int>, SecretScope)] = [(0..<(starts.first ?? b.count), .code)]
        for (k, s) in starts.enumerated() {
            let end = k + 1 < starts.count ? starts[k + 1] : b.count
            let line = b[(s + header.count)..<(b[s...].firstIndex(of: 0x0A) ?? end)]
            out.append((s..<end, scope(ofDiffLine: Array(line))))
        }
        return out
    }

    /// `a/P b/P` with the same unquoted P: P's scope; anything else (a rename, a quoted path) is code.
    static func scope(ofDiffLine rest: [UInt8]) -> SecretScope {
        guard rest.count >= 7, (rest.count - 5) % 2 == 0 else { return .code }
        let n = (rest.count - 5) / 2
        let path = Array(rest[2..<(2 + n)])
        guard rest == Array("a/".utf8) + path + Array(" b/".utf8) + path else { return .code }
        return SecretScope(path: path)
    }
}
