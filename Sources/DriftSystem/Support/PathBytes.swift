#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Helpers for paths held as raw bytes. Paths are never normalised: two names that
/// differ in any byte are two files, whatever Unicode says.
public enum PathBytes {
    /// THE quoting function for every name that reaches text (terminal, patch, commit
    /// message, log, annotation, SARIF, error message): git's `core.quotePath` rule.
    ///
    /// A name with no control byte (< 0x20, 0x7F), no `"`, no `\` and only valid UTF-8 is
    /// returned as is. Otherwise the whole name is wrapped in `"…"` with C escapes (`\a \b
    /// \t \n \v \f \r \" \\`) and 3-digit octal for the other control bytes and for
    /// bytes ≥ 0x80 that are not part of valid UTF-8 or are C1 controls (other valid UTF-8
    /// stays readable). The result
    /// never holds a raw control byte, so a name can neither start a line nor hide one.
    public static func display(_ bytes: [UInt8]) -> String {
        if !needsQuoting(bytes), let s = String(validating: bytes, as: UTF8.self) { return s }
        var out: [UInt8] = [0x22]
        out.reserveCapacity(bytes.count + 8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b >= 0x80 {
                let len = utf8SequenceLength(bytes, at: i)
                if len > 0, !isC1(bytes, at: i), String(validating: bytes[i..<i + len], as: UTF8.self) != nil {
                    out += bytes[i..<i + len]
                    i += len
                } else {
                    out += octal(b)
                    i += 1
                }
                continue
            }
            switch b {
            case 0x07: out += [0x5C, UInt8(ascii: "a")]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0B: out += [0x5C, UInt8(ascii: "v")]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x00..<0x20, 0x7F: out += octal(b)
            default: out.append(b)
            }
            i += 1
        }
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }

    /// Alias of `display(_:)` (same implementation), for call sites that read better so.
    public static func quoted(_ bytes: [UInt8]) -> String { display(bytes) }

    /// `display` for text that is already a Swift string (host names, package file names).
    public static func display(text: String) -> String { display(Array(text.utf8)) }

    /// Whether the name holds a control character (< 0x20, 0x7F, or a C1 control):
    /// reported as `suspicious-name`.
    public static func isSuspicious(_ bytes: [UInt8]) -> Bool {
        bytes.indices.contains { bytes[$0] < 0x20 || bytes[$0] == 0x7F || isC1(bytes, at: $0) }
    }

    private static func needsQuoting(_ bytes: [UInt8]) -> Bool {
        bytes.indices.contains { i in
            let b = bytes[i]
            return b < 0x20 || b == 0x7F || b == 0x22 || b == 0x5C || isC1(bytes, at: i)
        }
    }

    /// U+0080…U+009F (C1 controls, `C2 80`…`C2 9F`): valid UTF-8, but some terminals take
    /// U+009B as CSI, so they are escaped like C0 controls.
    private static func isC1(_ b: [UInt8], at i: Int) -> Bool {
        b[i] == 0xC2 && i + 1 < b.count && (0x80...0x9F).contains(b[i + 1])
    }

    private static func utf8SequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let len: Int
        switch b[i] {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: len = 2
        case 0xE0...0xEF: len = 3
        case 0xF0...0xF4: len = 4
        default: return 0
        }
        return i + len <= b.count ? len : 0
    }

    private static func octal(_ b: UInt8) -> [UInt8] {
        [0x5C, 0x30 + (b >> 6), 0x30 + ((b >> 3) & 7), 0x30 + (b & 7)]
    }

    /// Inverse of git's quoting: `"…"` with C escapes back to bytes (nil when malformed);
    /// a name without the surrounding quotes is returned as is.
    public static func unquoteC<S: Collection>(_ token: S) -> [UInt8]? where S.Element == UInt8 {
        let t = Array(token)
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
            if let v = simpleEscape(e) {
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

    /// The byte a one-letter C escape (`\n`, `\"`, ...) stands for; nil for any other letter.
    /// A switch, not a dictionary literal: a gate reads a bulk patch's every quoted name.
    private static func simpleEscape(_ e: UInt8) -> UInt8? {
        switch e {
        case UInt8(ascii: "a"): 7
        case UInt8(ascii: "b"): 8
        case UInt8(ascii: "t"): 9
        case UInt8(ascii: "n"): 10
        case UInt8(ascii: "v"): 11
        case UInt8(ascii: "f"): 12
        case UInt8(ascii: "r"): 13
        case 0x22, 0x5C: e
        default: nil
        }
    }

    /// Percent-escapes every byte outside `!`...`~` and `%` itself, so a path is one
    /// space-free, newline-free token that round-trips exactly (manifest format).
    public static func escape(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        appendEscaped(bytes[...], to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `escape`'s bytes appended to `out` (the one escape rule; runs that need no escape are
    /// copied whole: a watch batch escapes every drifted path into its hashed lines).
    /// - Parameters:
    ///   - bytes: the raw name.
    ///   - out: where the escaped bytes go.
    public static func appendEscaped(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        let hex: StaticString = "0123456789ABCDEF"
        bytes.withUnsafeBufferPointer { p in
            var run = 0
            for i in p.indices {
                let b = p[i]
                if b > 0x20 && b < 0x7F && b != UInt8(ascii: "%") { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: p[run..<i]))
                out.append(UInt8(ascii: "%"))
                out.append(hex.utf8Start[Int(b >> 4)])
                out.append(hex.utf8Start[Int(b & 0xF)])
                run = i + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: p[run...]))
        }
    }

    /// Inverse of `escape`; nil when the token is not a valid escape.
    public static func unescape<S: Collection>(_ token: S) -> [UInt8]? where S.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(token.count)
        var it = token.makeIterator()
        while let b = it.next() {
            if b == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(),
                      let hv = hexValue(h), let lv = hexValue(l) else { return nil }
                out.append(hv << 4 | lv)
            } else if b > 0x20 && b < 0x7F {
                out.append(b)
            } else {
                return nil
            }
        }
        return out
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// `a` + `/` + `b`, or `b` when `a` is empty.
    public static func join(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        if a.isEmpty { return b }
        return a + [UInt8(ascii: "/")] + b
    }

    /// Byte-wise ordering, the order of every array drift writes.
    public static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        bytesLess(a, b)
    }

    /// Whether `path` is `dir` or lies below it (both relative, no trailing slash).
    public static func isWithin(_ path: [UInt8], _ dir: [UInt8]) -> Bool {
        if dir.isEmpty { return true }
        if path.count < dir.count || !path.starts(with: dir) { return false }
        return path.count == dir.count || path[dir.count] == UInt8(ascii: "/")
    }
}

extension Array where Element == UInt8 {
    /// The UTF-8 bytes of a Swift string (for literals and command-line arguments).
    init(path: String) { self = Array(path.utf8) }
}
