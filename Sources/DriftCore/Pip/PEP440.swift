import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A version as PEP 440 defines it, ordered as `packaging.version.Version` orders them:
/// epoch, release (trailing zeros ignored), then dev < pre < final < post, local last.
public struct PEP440Version: Comparable, Sendable, CustomStringConvertible {
    public let text: String
    let epoch: Int
    let release: [Int]
    let pre: (Int, Int)?   // (0 a, 1 b, 2 rc, number)
    let post: Int?
    let dev: Int?
    let local: [LocalPart]

    enum LocalPart: Comparable, Sendable {
        case alpha(String)
        case number(Int)
        // Numbers sort after strings in a local segment (PEP 440).
        static func < (a: LocalPart, b: LocalPart) -> Bool {
            switch (a, b) {
            case (.alpha(let x), .alpha(let y)): return x < y
            case (.number(let x), .number(let y)): return x < y
            case (.alpha, .number): return true
            case (.number, .alpha): return false
            }
        }
    }

    public var description: String { text }

    // A `Regex` built once; it is immutable, so sharing it between threads is safe.
    nonisolated(unsafe) private static let pattern: Regex<AnyRegexOutput>? = (try? Regex("""
        ^\\s*v?(?:(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\\.[0-9]+)*)\
        (?<pre>[-_\\.]?(?<prel>alpha|a|beta|b|preview|pre|c|rc)[-_\\.]?(?<pren>[0-9]+)?)?\
        (?<post>(?:-(?<postn1>[0-9]+))|(?:[-_\\.]?(?<postl>post|rev|r)[-_\\.]?(?<postn2>[0-9]+)?))?\
        (?<dev>[-_\\.]?(?<devl>dev)[-_\\.]?(?<devn>[0-9]+)?)?)\
        (?:\\+(?<local>[a-z0-9]+(?:[-_\\.][a-z0-9]+)*))?\\s*$
        """))?.ignoresCase()

    public init?(_ s: String) {
        guard let re = Self.pattern, let m = try? re.wholeMatch(in: s) else { return nil }
        func g(_ name: String) -> String? {
            m.output[name]?.substring.map { String($0).lowercased() }
        }
        text = s
        epoch = g("epoch").flatMap { Int($0) } ?? 0
        var rel = (g("release") ?? "0").split(separator: ".").map { Int($0) ?? 0 }
        while rel.count > 1 && rel.last == 0 { rel.removeLast() }
        release = rel
        if let l = g("prel") {
            let kind: Int
            switch l {
            case "a", "alpha": kind = 0
            case "b", "beta": kind = 1
            default: kind = 2
            }
            pre = (kind, g("pren").flatMap { Int($0) } ?? 0)
        } else {
            pre = nil
        }
        if g("post") != nil {
            post = g("postn1").flatMap { Int($0) } ?? g("postn2").flatMap { Int($0) } ?? 0
        } else {
            post = nil
        }
        dev = g("dev") != nil ? (g("devn").flatMap { Int($0) } ?? 0) : nil
        local = (g("local") ?? "").split(whereSeparator: { "-_.".contains($0) }).map { part in
            if let n = Int(part) { return .number(n) }
            return .alpha(String(part))
        }
    }

    /// The comparison key of packaging's `_cmpkey`, with ±infinity spelled out.
    private var key: (Int, [Int], (Int, Int, Int), (Int, Int), (Int, Int)) {
        // pre: no pre/post but dev → before any pre-release; no pre → after all of them.
        let preKey: (Int, Int, Int)
        if pre == nil && post == nil && dev != nil {
            preKey = (-1, 0, 0)
        } else if let p = pre {
            preKey = (0, p.0, p.1)
        } else {
            preKey = (1, 0, 0)
        }
        let postKey = post.map { (1, $0) } ?? (0, 0)
        let devKey = dev.map { (0, $0) } ?? (1, 0)
        return (epoch, release, preKey, postKey, devKey)
    }

    public static func == (a: PEP440Version, b: PEP440Version) -> Bool { !(a < b) && !(b < a) }

    public static func < (a: PEP440Version, b: PEP440Version) -> Bool {
        let x = a.key, y = b.key
        if x.0 != y.0 { return x.0 < y.0 }
        if x.1 != y.1 { return x.1.lexicographicallyPrecedes(y.1) }
        if x.2 != y.2 { return x.2 < y.2 }
        if x.3 != y.3 { return x.3 < y.3 }
        if x.4 != y.4 { return x.4 < y.4 }
        if a.local.isEmpty != b.local.isEmpty { return a.local.isEmpty }
        return a.local.lexicographicallyPrecedes(b.local)
    }
}

/// PEP 503 name normalisation: lowercase, runs of `-`, `_`, `.` become one `-`.
func normalizedDistributionName(_ s: String) -> String {
    var out = ""
    var lastSep = false
    for c in s.lowercased() {
        if c == "-" || c == "_" || c == "." {
            if !lastSep { out.append("-") }
            lastSep = true
        } else {
            out.append(c)
            lastSep = false
        }
    }
    return out
}
