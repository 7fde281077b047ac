#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Helpers for paths held as raw bytes. Paths are never normalised: two names that
/// differ in any byte are two files, whatever Unicode says.
public enum PathBytes {
    /// A readable form for messages; invalid UTF-8 bytes become `\xNN`.
    public static func display(_ bytes: [UInt8]) -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        var out = ""
        var i = 0
        while i < bytes.count {
            let len = utf8SequenceLength(bytes, at: i)
            if len > 0, let s = String(validating: bytes[i..<i + len], as: UTF8.self) {
                out += s
                i += len
            } else {
                out += "\\x" + hexByte(bytes[i])
                i += 1
            }
        }
        return out
    }

    private static func utf8SequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let c = b[i]
        let len: Int
        switch c {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: len = 2
        case 0xE0...0xEF: len = 3
        case 0xF0...0xF4: len = 4
        default: return 0
        }
        return i + len <= b.count ? len : 0
    }

    /// Percent-escapes every byte outside `!`...`~` and `%` itself, so a path is one
    /// space-free, newline-free token that round-trips exactly (manifest format).
    public static func escape(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for b in bytes {
            if b > 0x20 && b < 0x7F && b != UInt8(ascii: "%") {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
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

/// Two upper-case hex digits.
private func hexByte(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}
