/// A secret value as other bytes that carry it whole: base64 (standard and URL-safe, at each
/// of the three alignments it can have inside a longer encoded string), hex (both cases) and
/// UTF-16 (both byte orders), and a token's halves (`windows`). `b64decode("c2stbGl2ZS…")`, a
/// key saved by a UTF-16 editor, or one cut across two string literals is the key. Only values
/// of at least `minimumBytes` get encodings, so an encoded needle is at least 16 characters long
/// and does not match by chance.
enum SecretEncodings {
    static let minimumBytes = 12

    static func of(_ v: [UInt8]) -> [[UInt8]] {
        guard v.count >= minimumBytes else { return [] }
        var out: [[UInt8]] = []
        for shift in 0..<3 {
            // Whole 3-byte groups from `shift` on: the characters they encode to do not depend on
            // the bytes around the value, wherever it sits in the encoded text.
            let groups = (v.count - shift) / 3
            let std = base64(Array(v[shift..<(shift + groups * 3)]))
            out.append(std)
            out.append(std.map { $0 == 0x2B ? 0x2D : $0 == 0x2F ? 0x5F : $0 })
        }
        let lower: [UInt8] = Array("0123456789abcdef".utf8), upper: [UInt8] = Array("0123456789ABCDEF".utf8)
        out.append(v.flatMap { [lower[Int($0 >> 4)], lower[Int($0 & 0x0F)]] })
        out.append(v.flatMap { [upper[Int($0 >> 4)], upper[Int($0 & 0x0F)]] })
        if v.allSatisfy({ $0 < 0x80 }) {
            out.append(v.flatMap { [$0, 0] })
            out.append(v.flatMap { [0, $0] })
        }
        return out
    }

    /// A token-like value (24–128 bytes of `[A-Za-z0-9_+=.-]`, no URL or path) as its windows of
    /// half its length (at least 12 bytes), at every offset: a key cut in two to span two string
    /// literals keeps one piece at least half as long, which holds a window whole.
    static func windows(_ v: [UInt8]) -> [[UInt8]] {
        guard (24...128).contains(v.count), v.allSatisfy({ SecretFormats.isAlnum($0) || "_+=.-".utf8.contains($0) })
        else { return [] }
        let w = max(minimumBytes, (v.count + 1) / 2)
        return (0...(v.count - w)).map { Array(v[$0..<($0 + w)]) }
    }

    /// How a value holding a quote, a backslash or a control character is spelled inside a
    /// string literal in code: C, Python and JavaScript in double or single quotes (`\"` or
    /// `\'`, `\\`, `\n`, `\t`, `\r`, other controls `\xHH`), JSON (`\u00HH`), and a shell's double
    /// quotes (`\\`, `\"`, `\$`, `` \` ``). `"sk\tlive"` in a `.py` file is the key `sk<TAB>live`.
    static func escaped(_ v: [UInt8]) -> [[UInt8]] {
        let special: Set<UInt8> = [0x22, 0x27, 0x5C, 0x24, 0x60]
        guard v.contains(where: { $0 < 0x20 || $0 == 0x7F || special.contains($0) }) else { return [] }
        let hex = Array("0123456789abcdef".utf8)
        func spell(_ quotes: Set<UInt8>, control: (UInt8) -> [UInt8]?) -> [UInt8] {
            var out: [UInt8] = []
            for c in v {
                if quotes.contains(c) || c == 0x5C {
                    out += [0x5C, c]
                } else if let e = control(c) {
                    out += e
                } else {
                    out.append(c)
                }
            }
            return out
        }
        func named(_ c: UInt8) -> [UInt8]? {
            switch c {
            case 0x0A: return Array("\\n".utf8)
            case 0x09: return Array("\\t".utf8)
            case 0x0D: return Array("\\r".utf8)
            default: return nil
            }
        }
        let isControl = { (c: UInt8) in c < 0x20 || c == 0x7F }
        let cStyle = { (c: UInt8) -> [UInt8]? in
            named(c) ?? (isControl(c) ? Array("\\x".utf8) + [hex[Int(c >> 4)], hex[Int(c & 0x0F)]] : nil)
        }
        let json = { (c: UInt8) -> [UInt8]? in
            named(c) ?? (isControl(c) ? Array("\\u00".utf8) + [hex[Int(c >> 4)], hex[Int(c & 0x0F)]] : nil)
        }
        let forms = [spell([0x22], control: cStyle), spell([0x27], control: cStyle), spell([0x22], control: json),
                     spell([0x22, 0x24, 0x60], control: { _ in nil })]
        return Array(Set(forms.filter { $0 != v }))
    }

    static func base64(_ d: [UInt8]) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(d.count / 3 * 4)
        var i = 0
        while i + 2 < d.count {
            let n = UInt32(d[i]) << 16 | UInt32(d[i + 1]) << 8 | UInt32(d[i + 2])
            for s in [18, 12, 6, 0] { out.append(alphabet[Int((n >> UInt32(s)) & 0x3F)]) }
            i += 3
        }
        return out
    }
}

extension SecretEncodings {
    /// RFC 3986's unreserved bytes: no URL encoder escapes them (but the oldest, `~`).
    static let unreserved = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8))

    /// A value holding a byte a URL escapes, as URL encoders spell it in a query string or a form
    /// body: every byte but the unreserved (`urllib.parse.quote(v, safe="")`, upper- and lower-case
    /// hex, `~` kept or not), `/` kept (`quote`), space as `+` (`quote_plus`), `!*'()` kept
    /// (`encodeURIComponent`), and a URL's reserved characters kept (`encodeURI`).
    /// `?key=Ab3%2BCd5%2F…` in a `.py` file is the key `Ab3+Cd5/…` (found by the attack on incident
    /// 11's F2: no encoding covered it).
    static func percent(_ v: [UInt8]) -> [[UInt8]] {
        guard v.contains(where: { !unreserved.contains($0) }) else { return [] }
        let upper = Array("0123456789ABCDEF".utf8), lower = Array("0123456789abcdef".utf8)
        func spell(keep: Set<UInt8>, digits: [UInt8] = upper, space: [UInt8]? = nil) -> [UInt8] {
            var out: [UInt8] = []
            for c in v {
                if keep.contains(c) {
                    out.append(c)
                } else if c == 0x20, let space {
                    out += space
                } else {
                    out += [0x25, digits[Int(c >> 4)], digits[Int(c & 0x0F)]]
                }
            }
            return out
        }
        var tildeEscaped = unreserved
        tildeEscaped.remove(0x7E)
        let forms = [spell(keep: unreserved), spell(keep: unreserved, digits: lower), spell(keep: tildeEscaped),
                     spell(keep: unreserved.union([0x2F])), spell(keep: unreserved, space: [0x2B]),
                     spell(keep: unreserved.union(Array("!*'()".utf8))),
                     spell(keep: unreserved.union(Array(";,/?:@&=+$!*'()#".utf8)))]
        return Array(Set(forms.filter { $0 != v }))
    }
}
