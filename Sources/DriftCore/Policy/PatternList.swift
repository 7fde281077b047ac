import DriftGit
import DriftSystem
/// One gitignore-style pattern, parsed the way git's `parse_path_pattern` does.
public struct PathPattern: Sendable {
    /// The pattern as written (for messages).
    public let text: String
    /// Line in the policy file, for `file:line` errors and reports.
    public let line: Int
    let body: [UInt8]
    let negated: Bool
    let mustBeDirectory: Bool
    /// No slash inside: matched against the basename at any depth.
    let basenameOnly: Bool
    /// Cheap forms most patterns take (git has the same shortcuts): `literal` compares `body`,
    /// `suffix` (`*.log`) and `prefix` (`.env.*`, a name pattern) compare `affix`.
    enum Shape: Sendable { case literal, suffix, prefix, general }
    let shape: Shape
    /// The literal part of a `suffix` or `prefix` pattern (empty for the others).
    let affix: [UInt8]

    /// Parses `text`; throws a one-line problem for patterns git would silently never match.
    public init(_ text: String, line: Int = 0) throws {
        self.text = text
        self.line = line
        var b = Array(text.utf8)
        if b.isEmpty { throw PatternError("empty pattern") }
        if b.contains(0) { throw PatternError("pattern contains a NUL byte") }
        var neg = false
        if b.first == UInt8(ascii: "!") {
            neg = true
            b.removeFirst()
        }
        var dir = false
        if b.last == UInt8(ascii: "/") {
            dir = true
            b.removeLast()
        }
        if b.isEmpty || b == [UInt8(ascii: "/")] { throw PatternError("pattern '\(text)' matches nothing") }
        try PathPattern.validate(b, text)
        basenameOnly = !b.contains(UInt8(ascii: "/"))
        if b.first == UInt8(ascii: "/") { b.removeFirst() }
        body = b
        negated = neg
        mustBeDirectory = dir
        let special: (UInt8) -> Bool = {
            $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "\\")
        }
        if !b.contains(where: special) {
            shape = .literal
            affix = []
        } else if basenameOnly, b.first == UInt8(ascii: "*"), !b.dropFirst().contains(where: special) {
            shape = .suffix
            affix = Array(b.dropFirst())
        } else if basenameOnly, b.last == UInt8(ascii: "*"), !b.dropLast().contains(where: special) {
            // A name pattern's `*` matches any run of bytes (no `/` in a name): a prefix test.
            shape = .prefix
            affix = Array(b.dropLast())
        } else {
            shape = .general
            affix = []
        }
    }

    private static func validate(_ b: [UInt8], _ text: String) throws {
        var i = 0
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "\\"):
                if i + 1 >= b.count { throw PatternError("pattern '\(text)' ends with a lone backslash") }
                i += 2
                continue
            case UInt8(ascii: "["):
                var j = i + 1
                if j < b.count && (b[j] == UInt8(ascii: "!") || b[j] == UInt8(ascii: "^")) { j += 1 }
                if j < b.count && b[j] == UInt8(ascii: "]") { j += 1 }
                while j < b.count && b[j] != UInt8(ascii: "]") {
                    if b[j] == UInt8(ascii: "\\") { j += 1 }
                    j += 1
                }
                if j >= b.count { throw PatternError("pattern '\(text)' has an unclosed '['") }
                i = j + 1
                continue
            default:
                i += 1
            }
        }
    }

    /// Whether this pattern (ignoring its `!`) matches `path` (relative, no leading slash).
    func matches(_ path: [UInt8], isDirectory: Bool) -> Bool {
        path.withUnsafeBufferPointer { whole in
            matches(whole, name: PathPattern.name(of: whole), isDirectory: isDirectory)
        }
    }

    /// `matches` of a path whose last name (`name(of:)`) the caller found once for all patterns.
    func matches(_ whole: UnsafeBufferPointer<UInt8>, name: UnsafeBufferPointer<UInt8>, isDirectory: Bool) -> Bool {
        if mustBeDirectory && !isDirectory { return false }
        let text = basenameOnly ? name : whole
        switch shape {
        case .literal:
            return PathPattern.equal(text, body)
        case .suffix:
            // The last byte first: it tells most names apart (`.py` against `*.log`).
            guard let last = affix.last else { return true }
            return text.count >= affix.count && text[text.count - 1] == last
                && PathPattern.equal(UnsafeBufferPointer(rebasing: text[(text.count - affix.count)...]), affix)
        case .prefix:
            guard let first = affix.first else { return true }
            return text.count >= affix.count && text[0] == first
                && PathPattern.equal(UnsafeBufferPointer(rebasing: text[..<affix.count]), affix)
        case .general:
            return body.withUnsafeBufferPointer { Wildmatch.matches($0, text, pathname: !basenameOnly) }
        }
    }

    /// The path's last name: after its last `/`, or all of it.
    static func name(of whole: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard let s = whole.lastIndex(of: UInt8(ascii: "/")) else { return whole }
        return UnsafeBufferPointer(rebasing: whole[(s + 1)...])
    }

    /// Byte equality, lengths first (the walk asks this for every file and pattern).
    @inline(__always)
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: [UInt8]) -> Bool {
        a.count == b.count && b.withUnsafeBufferPointer { a.elementsEqual($0) }
    }
}

/// A problem with one pattern; the policy loader adds the file and line.
public struct PatternError: Error, Sendable {
    let problem: String
    init(_ problem: String) { self.problem = problem }
}

/// An ordered list of patterns with .gitignore semantics: the last match wins, `!`
/// re-includes, and a path below a matched directory is matched (git cannot re-include
/// a file whose parent directory is excluded, and neither can this).
public struct PatternList: Sendable {
    let patterns: [PathPattern]

    public init(_ patterns: [PathPattern]) { self.patterns = patterns }

    public var isEmpty: Bool { patterns.isEmpty }

    /// The last pattern matching exactly this path (not its parents), if any.
    func lastMatch(_ path: [UInt8], isDirectory: Bool) -> PathPattern? {
        var i = patterns.count - 1
        while i >= 0 {
            if patterns[i].matches(path, isDirectory: isDirectory) { return patterns[i] }
            i -= 1
        }
        return nil
    }

    /// Whether `path` is matched, itself or through a parent directory.
    func matches(_ path: [UInt8], isDirectory: Bool) -> Bool {
        if patterns.isEmpty { return false }
        var i = 0
        while i < path.count {
            if path[i] == UInt8(ascii: "/"), let m = lastMatch(Array(path[0..<i]), isDirectory: true), !m.negated {
                return true
            }
            i += 1
        }
        return matchesSelf(path, isDirectory: isDirectory)
    }

    /// Whether the path itself is matched, assuming no parent is (the walker checks parents).
    func matchesSelf(_ path: [UInt8], isDirectory: Bool) -> Bool {
        path.withUnsafeBufferPointer { whole in
            matchesSelf(whole, name: PathPattern.name(of: whole), isDirectory: isDirectory)
        }
    }

    /// `matchesSelf` of a path whose last name the caller found once (`PathPattern.name(of:)`).
    func matchesSelf(_ whole: UnsafeBufferPointer<UInt8>, name: UnsafeBufferPointer<UInt8>, isDirectory: Bool) -> Bool {
        var i = patterns.count - 1
        while i >= 0 {
            if patterns[i].matches(whole, name: name, isDirectory: isDirectory) { return !patterns[i].negated }
            i -= 1
        }
        return false
    }
}
