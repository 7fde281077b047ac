import DriftSystem

/// The paths a `drift.patch` would make `git am` touch, read the way git reads them: only
/// in diff headers (from `diff --git` up to the first hunk or binary patch, never in hunk
/// content), with C-quoted names (`"b/\056\056/x"`) decoded before anything is judged.
/// The patch format's reader lives here, beside its writers (`EmailPatch`, `diffTrees`).
public enum PatchPaths {
    /// Why a patch is refused.
    public enum Problem: Error, Equatable, Sendable {
        /// A path that breaks `GitNames.isSafePath`.
        case unsafe([UInt8])
        /// The headers cannot be read as git reads them (the sentence says what).
        case unreadable(String)
    }

    /// Every path named by the patch's diff headers (without `a/`/`b/`, `/dev/null` left out).
    /// Hunks are consumed by their line counts, as `git apply` does, so a traditional
    /// `--- `/`+++ ` header after a hunk (no `diff --git` line) is read as the header it is.
    static func paths(_ patch: [UInt8]) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        try forEachPath(patch) { out.append($0) }
        return out
    }

    /// `paths`, handed over one at a time in order. Lines are read in place (a slice each,
    /// not an array): a bulk entry's patch is millions of lines, most of them hunk content.
    static func forEachPath(_ patch: [UInt8], _ body: ([UInt8]) throws -> Void) throws {
        var inHeader = false
        var hunk: (old: Int, new: Int)?
        var start = patch.startIndex
        // Split on every newline, keeping empty lines and the one after a final newline.
        while start <= patch.endIndex {
            let end = patch[start...].firstIndex(of: 0x0A) ?? patch.endIndex
            let line = patch[start..<end]
            start = end + 1
            if let h = hunk {
                hunk = consume(line, h)
                continue
            }
            if line.starts(with: Header.diffGit) {
                inHeader = true
                for p in try gitLine(Array(line.dropFirst(Header.diffGit.count))) { try body(p) }
                continue
            }
            if line.starts(with: Header.hunk) {
                guard let counts = hunkCounts(line) else {
                    throw Problem.unreadable("bad hunk header \(PathBytes.display(Array(line.prefix(60))))")
                }
                inHeader = false
                hunk = counts.old == 0 && counts.new == 0 ? nil : counts
                continue
            }
            if line.starts(with: Header.binaryPatch) || line.starts(with: Header.binaryFiles) {
                inHeader = false
                continue
            }
            // `git apply` takes `--- X` followed by `+++ Y` as a patch header anywhere outside a hunk.
            let traditional = line.starts(with: Header.oldName) && end < patch.endIndex
                && patch[(end + 1)...].starts(with: Header.newName)
            if traditional { inHeader = true }
            guard inHeader else { continue }
            for (prefix, side) in Header.named where line.starts(with: prefix) {
                var token = Array(line.dropFirst(prefix.count))
                if token.last == 0x09 { token.removeLast() }
                let p = try unquote(token)
                if p == Header.devNull { continue }
                try body(side ? stripSide(p) : p)
            }
        }
    }

    /// The header lines' leading bytes, made once (not once a line).
    private enum Header {
        static let diffGit = Array("diff --git ".utf8)
        static let hunk = Array("@@ ".utf8)
        static let binaryPatch = Array("GIT binary patch".utf8)
        static let binaryFiles = Array("Binary files ".utf8)
        static let oldName = Array("--- ".utf8)
        static let newName = Array("+++ ".utf8)
        static let devNull = Array("/dev/null".utf8)
        static let bSide = Array(" b/".utf8)
        static let aSide = Array("a/".utf8)
        /// The lines naming a path, and whether the name carries an `a/`/`b/` side.
        static let named: [([UInt8], Bool)] = [
            (oldName, true), (newName, true), (Array("rename from ".utf8), false),
            (Array("rename to ".utf8), false), (Array("copy from ".utf8), false), (Array("copy to ".utf8), false),
        ]
    }

    /// One hunk line taken off the remaining counts; nil once the hunk is complete.
    private static func consume(_ line: ArraySlice<UInt8>, _ h: (old: Int, new: Int)) -> (old: Int, new: Int)? {
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
    static func hunkCounts<C: Collection<UInt8>>(_ line: C) -> (old: Int, new: Int)? {
        if let plain = plainHunkCounts(line) { return plain }
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

    /// `hunkCounts` of the one spelling git writes, `@@ -a[,b] +c[,d] @@` with single spaces and
    /// at most 9 digits a number, read from the bytes; nil for any other spelling (which the
    /// String reading judges, as before). The byte after `@@` is ASCII or none: a combining
    /// mark there would join the `@` into another Character, which the String reading refuses.
    private static func plainHunkCounts<C: Collection<UInt8>>(_ line: C) -> (old: Int, new: Int)? {
        var i = line.startIndex
        func take(_ byte: UInt8) -> Bool {
            guard i < line.endIndex, line[i] == byte else { return false }
            i = line.index(after: i)
            return true
        }
        func number() -> Int? {
            var value = 0
            var digits = 0
            while i < line.endIndex, (0x30...0x39).contains(line[i]), digits < 10 {
                value = value * 10 + Int(line[i] - 0x30)
                digits += 1
                i = line.index(after: i)
            }
            return (1...9).contains(digits) ? value : nil
        }
        func range(_ sign: UInt8) -> Int? {
            guard take(sign), number() != nil else { return nil }
            guard take(0x2C) else { return 1 }
            return number()
        }
        guard take(0x40), take(0x40), take(0x20), let old = range(0x2D), take(0x20), let new = range(0x2B),
              take(0x20), take(0x40), take(0x40) else { return nil }
        guard i == line.endIndex || line[i] < 0x80 else { return nil }
        return (old, new)
    }

    /// Throws `unsafe` for the first path that breaks the one safe-path rule the gate also
    /// applies to the entry's tree (`GitNames.isSafePath`: absolute, empty, `.`, `..`, any
    /// spelling of `.git`, a NUL).
    public static func check(_ patch: [UInt8]) throws {
        // A bulk patch names each path three times and thousands under one directory.
        var memo = SafePathMemo()
        var unsafe: [UInt8]?
        // Headers git cannot read are refused before any unsafe name: the whole patch is read.
        try forEachPath(patch) { p in
            if unsafe == nil, !memo.isSafe(p) { unsafe = p }
        }
        if let unsafe { throw Problem.unsafe(unsafe) }
    }

    /// `a/X b/X`, either side possibly quoted.
    private static func gitLine(_ rest: [UInt8]) throws -> [[UInt8]] {
        if rest.first == 0x22 {
            guard let end = closingQuote(rest) else {
                throw Problem.unreadable("unterminated quoted name in diff --git")
            }
            let first = try unquote(Array(rest[...end]))
            let tail = Array(rest[(end + 1)...].drop { $0 == 0x20 })
            return [stripSide(first), stripSide(try unquote(tail))]
        }
        if let q = rest.firstIndex(of: 0x22), q > 0, rest[q - 1] == 0x20 {
            return [stripSide(Array(rest[..<(q - 1)])), stripSide(try unquote(Array(rest[q...])))]
        }
        // Unquoted on both sides: git writes the same name twice, so split in the middle.
        let half = (rest.count - 1) / 2
        guard rest.count % 2 == 1, rest[half] == 0x20 else {
            // A rename (`git diff -M`, drift's exports) names two paths: split at the one
            // ` b/`; the `rename from`/`rename to` lines that follow name them again.
            let marks = rest.indices.filter { rest[$0...].starts(with: Header.bSide) }
            guard marks.count == 1, let m = marks.first, rest.starts(with: Header.aSide) else {
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

    private static func unquote(_ token: [UInt8]) throws -> [UInt8] {
        if token.first != 0x22 { return token }
        guard let p = PathBytes.unquoteC(token) else {
            throw Problem.unreadable("bad quoted name \(PathBytes.display(token))")
        }
        return p
    }

    private static func stripSide(_ p: [UInt8]) -> [UInt8] {
        let side = p.first == UInt8(ascii: "a") || p.first == UInt8(ascii: "b")
        return p.count >= 2 && side && p[1] == 0x2F ? Array(p.dropFirst(2)) : p
    }
}
