/// A `.env` file read the way python-dotenv (1.2) reads it: `export` prefixes, `#` comments
/// (whole-line and after a value), single- and double-quoted values spanning lines, the
/// escapes each quote style decodes, unquoted values cut at ` #`, and `${NAME}` /
/// `${NAME:-default}` expansion from earlier keys. A line python-dotenv rejects yields
/// nothing and parsing goes on at the next line, as there. Works on bytes: whitespace is
/// ASCII (plus the 0x1C–0x1F separators Python's `\s` also takes).
/// Checked against python-dotenv itself in `SecretSourceTests`.
enum DotEnv {
    struct Binding: Equatable {
        var key: [UInt8]
        /// nil for a key with no `=`.
        var value: [UInt8]?
    }

    /// Every binding in file order (a key given twice appears twice).
    static func parse(_ input: [UInt8]) -> [Binding] {
        let text = input.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(input.dropFirst(3)) : input
        var r = Reader(bytes: universalNewlines(text))
        var out: [Binding] = []
        while r.hasNext {
            if let b = r.binding() { out.append(b) }
        }
        return out
    }

    /// `dotenv_values`: the last value of each key, `${…}` expanded from earlier keys and
    /// `environment` (earlier keys win, as with python-dotenv's `override=True`).
    static func values(_ input: [UInt8], environment: [[UInt8]: [UInt8]] = [:]) -> [([UInt8], [UInt8]?)] {
        var resolved: [[UInt8]: [UInt8]?] = [:]
        var order: [[UInt8]] = []
        for b in parse(input) {
            let v = b.value.map { expand($0, known: resolved, environment: environment) }
            if resolved[b.key] == nil { order.append(b.key) }
            resolved[b.key] = .some(v)
        }
        return order.map { ($0, resolved[$0] ?? nil) }
    }

    /// POSIX-style `${NAME}` and `${NAME:-default}`; a name not known is its default or "".
    static func expand(_ v: [UInt8], known: [[UInt8]: [UInt8]?], environment: [[UInt8]: [UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        let dollar = UInt8(ascii: "$"), open = UInt8(ascii: "{"), close = UInt8(ascii: "}")
        while i < v.count {
            if v[i] == dollar, i + 1 < v.count, v[i + 1] == open,
               let end = v[(i + 2)...].firstIndex(of: close) {
                let inner = Array(v[(i + 2)..<end])
                var name = inner
                var fallback: [UInt8]?
                if let colon = inner.firstIndex(of: UInt8(ascii: ":")) {
                    // `[^}:]*` then optionally `:-default`: any other `:` is no variable at all.
                    let rest = inner[(colon + 1)...]
                    guard rest.first == UInt8(ascii: "-") else {
                        out.append(v[i])
                        i += 1
                        continue
                    }
                    name = Array(inner[..<colon])
                    fallback = Array(rest.dropFirst())
                }
                if let k = known[name] {
                    out += k ?? []
                } else if let e = environment[name] {
                    out += e
                } else {
                    out += fallback ?? []
                }
                i = end + 1
                continue
            }
            out.append(v[i])
            i += 1
        }
        return out
    }

    /// Python reads the file in text mode: `\r\n` and a lone `\r` are `\n` before parsing.
    static func universalNewlines(_ b: [UInt8]) -> [UInt8] {
        guard b.contains(0x0D) else { return b }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == 0x0D {
                out.append(0x0A)
                i += (i + 1 < b.count && b[i + 1] == 0x0A) ? 2 : 1
                continue
            }
            out.append(b[i])
            i += 1
        }
        return out
    }

    static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || (0x09...0x0D).contains(b) || (0x1C...0x1F).contains(b)
    }

    /// `[^\S\r\n]`: whitespace other than a line break.
    static func isBlank(_ b: UInt8) -> Bool { isSpace(b) && b != 0x0A && b != 0x0D }

    struct Reader {
        let bytes: [UInt8]
        var pos = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var hasNext: Bool { pos < bytes.count }

        func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

        mutating func skip(while pred: (UInt8) -> Bool) {
            while pos < bytes.count, pred(bytes[pos]) { pos += 1 }
        }

        /// One `parse_binding`: nil for a blank, comment or rejected line.
        mutating func binding() -> Binding? {
            failed = false
            let b = tryBinding()
            if failed {
                // `_rest_of_line` from where parsing stopped: up to and including one `\r` or `\n`.
                skip { $0 != 0x0A && $0 != 0x0D }
                if pos < bytes.count { pos += 1 }
                return nil
            }
            return b
        }

        /// A binding; nil for a comment or blank (past it) or a rejected line (`failed`, `pos`
        /// where python-dotenv's reader stops).
        private mutating func tryBinding() -> Binding? {
            skip(while: DotEnv.isSpace)
            if !hasNext { return nil }
            readExport()
            var key: [UInt8]?
            if peek() == UInt8(ascii: "#") {
                key = nil
            } else if peek() == UInt8(ascii: "'") {
                guard let close = bytes[(pos + 1)...].firstIndex(of: UInt8(ascii: "'")), close > pos + 1 else {
                    return fail()
                }
                key = Array(bytes[(pos + 1)..<close])
                pos = close + 1
            } else {
                let start = pos
                skip { $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "#") && !DotEnv.isSpace($0) }
                if pos == start { return fail() }
                key = Array(bytes[start..<pos])
            }
            skip(while: DotEnv.isBlank)
            var value: [UInt8]?
            if peek() == UInt8(ascii: "=") {
                pos += 1
                let afterEq = pos
                skip(while: DotEnv.isBlank)
                if pos > afterEq, peek() == UInt8(ascii: "#") {
                    value = []
                } else {
                    guard let v = readValue() else { return fail() }
                    value = v
                }
            }
            // `_comment`, then `_end_of_line` must match.
            let save = pos
            skip(while: DotEnv.isBlank)
            if peek() == UInt8(ascii: "#") {
                skip { $0 != 0x0A && $0 != 0x0D }
            } else {
                pos = save
            }
            skip(while: DotEnv.isBlank)
            if let c = peek() {
                if c == 0x0D {
                    pos += 1
                    if peek() == 0x0A { pos += 1 }
                } else if c == 0x0A {
                    pos += 1
                } else {
                    return fail()
                }
            }
            guard let key else { return nil }
            return Binding(key: key, value: value)
        }

        var failed = false

        private mutating func fail() -> Binding? {
            failed = true
            return nil
        }

        private mutating func readExport() {
            let word = Array("export".utf8)
            guard bytes.count - pos > word.count, Array(bytes[pos..<(pos + word.count)]) == word,
                  DotEnv.isBlank(bytes[pos + word.count]) else { return }
            pos += word.count
            skip(while: DotEnv.isBlank)
        }

        private mutating func readValue() -> [UInt8]? {
            guard let c = peek() else { return [] }
            if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                var i = pos + 1
                var raw: [UInt8] = []
                while i < bytes.count, bytes[i] != c {
                    if bytes[i] == UInt8(ascii: "\\") {
                        guard i + 1 < bytes.count else { return nil }
                        raw += [bytes[i], bytes[i + 1]]
                        i += 2
                        continue
                    }
                    raw.append(bytes[i])
                    i += 1
                }
                guard i < bytes.count else { return nil }
                pos = i + 1
                return DotEnv.decodeEscapes(raw, double: c == UInt8(ascii: "\""))
            }
            if c == 0x0A || c == 0x0D { return [] }
            let start = pos
            skip { $0 != 0x0A && $0 != 0x0D }
            var part = Array(bytes[start..<pos])
            // `re.sub(r"\s+#.*", "", part).rstrip()`
            var i = 0
            while i < part.count {
                if DotEnv.isSpace(part[i]) {
                    var j = i
                    while j < part.count, DotEnv.isSpace(part[j]) { j += 1 }
                    if j < part.count, part[j] == UInt8(ascii: "#") {
                        part.removeSubrange(i...)
                        break
                    }
                    i = j
                    continue
                }
                i += 1
            }
            while let l = part.last, DotEnv.isSpace(l) { part.removeLast() }
            return part
        }
    }

    /// python-dotenv's `decode_escapes`: in double quotes `\\ \' \" \a \b \f \n \r \t \v`,
    /// in single quotes `\\ \'`; any other backslash stays as written.
    static func decodeEscapes(_ raw: [UInt8], double: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        let map: [UInt8: UInt8] = double
            ? [0x5C: 0x5C, 0x27: 0x27, 0x22: 0x22, 0x61: 0x07, 0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A, 0x72: 0x0D,
               0x74: 0x09, 0x76: 0x0B]
            : [0x5C: 0x5C, 0x27: 0x27]
        while i < raw.count {
            if raw[i] == 0x5C, i + 1 < raw.count, let m = map[raw[i + 1]] {
                out.append(m)
                i += 2
                continue
            }
            out.append(raw[i])
            i += 1
        }
        return out
    }
}
