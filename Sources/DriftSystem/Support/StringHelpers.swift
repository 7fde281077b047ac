/// The few string operations drift needs that only full Foundation has. They work on Unicode
/// scalars, so a `\r\n` pair is two scalars, not one Character (an escaper must see both).
extension StringProtocol {
    /// Without leading and trailing spaces and tabs (Foundation's `.whitespaces`).
    public func trimmingSpaces() -> String {
        trimming { $0.properties.isWhitespace && !Self.isNewline($0) }
    }

    /// Without leading and trailing whitespace, line breaks included.
    public func trimmingWhitespace() -> String {
        trimming { $0.properties.isWhitespace }
    }

    /// Without leading and trailing scalars from `set`.
    func trimming(of set: String) -> String {
        let scalars = Set(set.unicodeScalars)
        return trimming { scalars.contains($0) }
    }

    /// Every `target` scalar replaced by `replacement`.
    public func replacingEvery(_ target: Unicode.Scalar, with replacement: String) -> String {
        var out = String.UnicodeScalarView()
        for u in unicodeScalars {
            if u == target {
                out.append(contentsOf: replacement.unicodeScalars)
            } else {
                out.append(u)
            }
        }
        return String(out)
    }

    /// Every scalar but letters and digits as `%XX` of its UTF-8 bytes (Foundation's
    /// `addingPercentEncoding(withAllowedCharacters: .alphanumerics)`).
    public func percentEncodingNonAlphanumerics() -> String {
        let hex = Array("0123456789ABCDEF")
        var out = ""
        for u in unicodeScalars {
            if u.properties.isAlphabetic || u.properties.numericType != nil {
                out.unicodeScalars.append(u)
            } else {
                for b in String(u).utf8 {
                    out += "%" + String([hex[Int(b >> 4)], hex[Int(b & 15)]])
                }
            }
        }
        return out
    }

    /// Padded with spaces on the right to `width` characters (never truncated).
    public func padded(to width: Int) -> String {
        let n = count
        return n >= width ? String(self) : String(self) + String(repeating: " ", count: width - n)
    }

    private func trimming(_ drop: (Unicode.Scalar) -> Bool) -> String {
        let u = Array(unicodeScalars)
        var lo = 0
        var hi = u.count
        while lo < hi && drop(u[lo]) { lo += 1 }
        while hi > lo && drop(u[hi - 1]) { hi -= 1 }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: u[lo..<hi])
        return String(out)
    }

    private static func isNewline(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x0A...0x0D, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }
}

/// The last path component of a `/`-separated path (`a/b/` → `b`), as NSString spells it.
public func lastPathComponent(_ path: String) -> String {
    let parts = path.split(separator: "/")
    return parts.last.map(String.init) ?? (path.hasPrefix("/") ? "/" : "")
}

/// The path without its last component (`a/b` → `a`, `b` → ``, `/b` → `/`).
func deletingLastPathComponent(_ path: String) -> String {
    var p = Substring(path)
    while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
    guard let slash = p.lastIndex(of: "/") else { return "" }
    if slash == p.startIndex { return "/" }
    return String(p[..<slash])
}

/// An error's text for a message: a `DriftError`'s sentence, else its description
/// (`localizedDescription` is full Foundation's).
public func errorText(_ error: any Error) -> String {
    (error as? DriftError)?.message ?? String(describing: error)
}
