@testable import DriftGit
import DriftSystem

/// The patch reader as it was before issue 28 round 13 (main 704234f), kept verbatim but for
/// its name, the Problem type it throws (`PatchPaths.Problem`) and its unquoting (the C
/// unquoting as it was too): the oracle `PatchPathsEquivalenceTests` compares the reader with.
enum PatchPathsReference {
    typealias Problem = PatchPaths.Problem

    /// Every path named by the patch's diff headers (without `a/`/`b/`, `/dev/null` left out).
    /// Hunks are consumed by their line counts, as `git apply` does, so a traditional
    /// `--- `/`+++ ` header after a hunk (no `diff --git` line) is read as the header it is.
    static func paths(_ patch: [UInt8]) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        var inHeader = false
        var hunk: (old: Int, new: Int)?
        let lines = patch.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        for (n, line) in lines.enumerated() {
            if let h = hunk {
                hunk = consume(line, h)
                continue
            }
            if line.starts(with: Array("diff --git ".utf8)) {
                inHeader = true
                out += try gitLine(Array(line.dropFirst(11)))
                continue
            }
            if line.starts(with: Array("@@ ".utf8)) {
                guard let counts = hunkCounts(line) else {
                    throw Problem.unreadable("bad hunk header \(PathBytes.display(Array(line.prefix(60))))")
                }
                inHeader = false
                hunk = counts.old == 0 && counts.new == 0 ? nil : counts
                continue
            }
            if line.starts(with: Array("GIT binary patch".utf8)) || line.starts(with: Array("Binary files ".utf8)) {
                inHeader = false
                continue
            }
            // `git apply` takes `--- X` followed by `+++ Y` as a patch header anywhere outside a hunk.
            let traditional = line.starts(with: Array("--- ".utf8)) && n + 1 < lines.count
                && lines[n + 1].starts(with: Array("+++ ".utf8))
            if traditional { inHeader = true }
            guard inHeader else { continue }
            for prefix in ["--- ", "+++ ", "rename from ", "rename to ", "copy from ", "copy to "]
            where line.starts(with: Array(prefix.utf8)) {
                var token = Array(line.dropFirst(prefix.count))
                if token.last == 0x09 { token.removeLast() }
                let p = try unquote(token, line)
                if p == Array("/dev/null".utf8) { continue }
                out.append(prefix.hasPrefix("---") || prefix.hasPrefix("+++") ? stripSide(p) : p)
            }
        }
        return out
    }

    /// One hunk line taken off the remaining counts; nil once the hunk is complete.
    private static func consume(_ line: [UInt8], _ h: (old: Int, new: Int)) -> (old: Int, new: Int)? {
        var (old, new) = h
        switch line.first {
        case UInt8(ascii: "-"): old -= 1
        case UInt8(ascii: "+"): new -= 1
        case UInt8(ascii: "\\"): break
        default:
            old -= 1
            new -= 1
        }
        return old <= 0 && new <= 0 ? nil : (max(old, 0), max(new, 0))
    }

    /// `@@ -a[,b] +c[,d] @@`: the old and new line counts (1 when omitted).
    static func hunkCounts(_ line: [UInt8]) -> (old: Int, new: Int)? {
        let fields = String(decoding: line, as: UTF8.self).split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 4, fields[0] == "@@", fields[1].hasPrefix("-"), fields[2].hasPrefix("+"),
              fields[3].hasPrefix("@@") else { return nil }
        func count(_ f: Substring) -> Int? {
            let parts = f.dropFirst().split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count <= 2, let start = Int(parts[0]), start >= 0 else { return nil }
            guard parts.count == 2 else { return 1 }
            guard let c = Int(parts[1]), (0...Int(Int32.max)).contains(c) else { return nil }
            return c
        }
        guard let old = count(fields[1]), let new = count(fields[2]) else { return nil }
        return (old, new)
    }

    /// Throws `unsafe` for the first path that breaks the one safe-path rule the gate also
    /// applies to the entry's tree (`GitNames.isSafePath`: absolute, empty, `.`, `..`, any
    /// spelling of `.git`, a NUL).
    static func check(_ patch: [UInt8]) throws {
        for p in try paths(patch) where !GitNames.isSafePath(p) {
            throw Problem.unsafe(p)
        }
    }

    /// `a/X b/X`, either side possibly quoted.
    private static func gitLine(_ rest: [UInt8]) throws -> [[UInt8]] {
        if rest.first == 0x22 {
            guard let end = closingQuote(rest) else {
                throw Problem.unreadable("unterminated quoted name in diff --git")
            }
            let first = try unquote(Array(rest[...end]), rest)
            let tail = Array(rest[(end + 1)...].drop { $0 == 0x20 })
            return [stripSide(first), stripSide(try unquote(tail, rest))]
        }
        if let q = rest.firstIndex(of: 0x22), q > 0, rest[q - 1] == 0x20 {
            return [stripSide(Array(rest[..<(q - 1)])), stripSide(try unquote(Array(rest[q...]), rest))]
        }
        // Unquoted on both sides: git writes the same name twice, so split in the middle.
        let half = (rest.count - 1) / 2
        guard rest.count % 2 == 1, rest[half] == 0x20 else {
            // A rename (`git diff -M`, drift's exports) names two paths: split at the one
            // ` b/`; the `rename from`/`rename to` lines that follow name them again.
            let marks = rest.indices.filter { rest[$0...].starts(with: Array(" b/".utf8)) }
            guard marks.count == 1, let m = marks.first, rest.starts(with: Array("a/".utf8)) else {
                throw Problem.unreadable("diff --git line with names that differ")
            }
            return [stripSide(Array(rest[..<m])), stripSide(Array(rest[(m + 1)...]))]
        }
        return [stripSide(Array(rest[..<half])), stripSide(Array(rest[(half + 1)...]))]
    }

    private static func closingQuote(_ t: [UInt8]) -> Int? {
        var i = 1
        while i < t.count {
            if t[i] == 0x5C {
                i += 2
                continue
            }
            if t[i] == 0x22 { return i }
            i += 1
        }
        return nil
    }

    private static func unquote(_ token: [UInt8], _ line: [UInt8]) throws -> [UInt8] {
        if token.first != 0x22 { return token }
        guard let p = unquoteC(token) else {
            throw Problem.unreadable("bad quoted name \(PathBytes.display(token))")
        }
        return p
    }

    private static func stripSide(_ p: [UInt8]) -> [UInt8] {
        let side = p.first == UInt8(ascii: "a") || p.first == UInt8(ascii: "b")
        return p.count >= 2 && side && p[1] == 0x2F ? Array(p.dropFirst(2)) : p
    }

    /// `PathBytes.unquoteC` as it was (a dictionary of the one-letter escapes a backslash).
    private static func unquoteC(_ token: [UInt8]) -> [UInt8]? {
        let t = token
        guard t.count >= 2, t.first == 0x22, t.last == 0x22 else { return t }
        var out: [UInt8] = []
        var i = 1
        while i < t.count - 1 {
            let c = t[i]
            if c != 0x5C {
                if c == 0x22 { return nil }
                out.append(c)
                i += 1
                continue
            }
            guard i + 1 < t.count - 1 else { return nil }
            let e = t[i + 1]
            let simple: [UInt8: UInt8] = [UInt8(ascii: "a"): 7, UInt8(ascii: "b"): 8, UInt8(ascii: "t"): 9,
                                          UInt8(ascii: "n"): 10, UInt8(ascii: "v"): 11, UInt8(ascii: "f"): 12,
                                          UInt8(ascii: "r"): 13, 0x22: 0x22, 0x5C: 0x5C]
            if let v = simple[e] {
                out.append(v)
                i += 2
            } else if (0x30...0x33).contains(e), i + 3 < t.count - 1,
                      (0x30...0x37).contains(t[i + 2]), (0x30...0x37).contains(t[i + 3]) {
                out.append((e - 0x30) << 6 | (t[i + 2] - 0x30) << 3 | (t[i + 3] - 0x30))
                i += 4
            } else {
                return nil
            }
        }
        return out
    }
}
