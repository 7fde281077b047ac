import DriftGit
import DriftSystem
/// Flow collections (`[a, b]`, `{k: v}`, which may span lines) and scalars. Cursors are
/// (line, column) pairs passed `inout`; nothing here moves the block cursor `li`.
extension YAMLParser {
    /// The node at (l, c) — a non-space character; `depth` is its parent's depth.
    func flowNode(_ l: inout Int, _ c: inout Int, depth: Int, inFlow: Bool) throws(YAMLError) -> YAMLNode {
        let line = l
        switch at(l, c) {
        case YAMLChar.openBracket?:
            return try flowSequence(&l, &c, depth: depth + 1)
        case YAMLChar.openBrace?:
            return try flowMapping(&l, &c, depth: depth + 1)
        case YAMLChar.doubleQuote?, YAMLChar.singleQuote?:
            let (text, end) = try quoted(l, c)
            c = end
            return .scalar(YAMLScalar(string: text, line: number(line)))
        default:
            try checkPlainStart(l, c, inFlow: inFlow)
            let end = try plainEnd(l, c, inFlow: inFlow)
            let text = plainText(l, c, end)
            c = end
            return .scalar(YAMLScalar(string: text, line: number(line)))
        }
    }

    func flowSequence(_ l: inout Int, _ c: inout Int, depth: Int) throws(YAMLError) -> YAMLNode {
        guard depth <= YAMLSubset.maxDepth else { throw tooDeep(l) }
        let open = l
        c += 1
        var items: [YAMLNode] = []
        while true {
            try skipFlowSpace(&l, &c, open: open, bracket: "[")
            if at(l, c) == YAMLChar.closeBracket {
                c += 1
                break
            }
            items.append(try flowNode(&l, &c, depth: depth, inFlow: true))
            try skipFlowSpace(&l, &c, open: open, bracket: "[")
            switch at(l, c) {
            case YAMLChar.comma?:
                c += 1
                continue
            case YAMLChar.closeBracket?:
                c += 1
            case YAMLChar.colon?:
                throw .unsupported(number(l), "'key: value' inside [ ] (write {key: value})")
            default:
                throw .syntax(number(l), "expected ',' or ']' in a [ ] list, found \(word(l, c))")
            }
            break
        }
        return .sequence(items, line: number(open))
    }

    func flowMapping(_ l: inout Int, _ c: inout Int, depth: Int) throws(YAMLError) -> YAMLNode {
        guard depth <= YAMLSubset.maxDepth else { throw tooDeep(l) }
        let open = l
        c += 1
        var pairs: [YAMLPair] = []
        var seen: [String: Int] = [:]
        while true {
            try skipFlowSpace(&l, &c, open: open, bracket: "{")
            if at(l, c) == YAMLChar.closeBrace {
                c += 1
                break
            }
            let keyLine = l
            let key: String
            switch at(l, c) {
            case YAMLChar.openBracket?, YAMLChar.openBrace?:
                throw .unsupported(number(l), "[ ] or { } as a key")
            case YAMLChar.doubleQuote?, YAMLChar.singleQuote?:
                (key, c) = try quoted(l, c)
            default:
                try checkPlainStart(l, c, inFlow: true)
                let end = try plainEnd(l, c, inFlow: true)
                key = plainText(l, c, end)
                c = end
            }
            try skipFlowSpace(&l, &c, open: open, bracket: "{")
            guard at(l, c) == YAMLChar.colon else {
                throw .syntax(number(l), "expected ':' after the key '\(key)' in { }")
            }
            c += 1
            try skipFlowSpace(&l, &c, open: open, bracket: "{")
            let value: YAMLNode
            if at(l, c) == YAMLChar.comma || at(l, c) == YAMLChar.closeBrace {
                value = .scalar(YAMLScalar(string: "", line: number(l)))
            } else {
                value = try flowNode(&l, &c, depth: depth, inFlow: true)
            }
            if let firstLine = seen[key] {
                throw .syntax(number(keyLine), "duplicate key '\(key)' (first on line \(firstLine))")
            }
            seen[key] = number(keyLine)
            pairs.append(YAMLPair(key: YAMLScalar(string: key, line: number(keyLine)), value: value))
            try skipFlowSpace(&l, &c, open: open, bracket: "{")
            switch at(l, c) {
            case YAMLChar.comma?:
                c += 1
                continue
            case YAMLChar.closeBrace?:
                c += 1
            default:
                throw .syntax(number(l), "expected ',' or '}' in a { } mapping, found \(word(l, c))")
            }
            break
        }
        return .mapping(pairs, line: number(open))
    }

    /// Moves past spaces, comments and line breaks inside a flow collection; throws at the
    /// end of the document, naming the line of the unclosed bracket.
    func skipFlowSpace(_ l: inout Int, _ c: inout Int, open: Int, bracket: String) throws(YAMLError) {
        while l < lines.count {
            guard let ch = at(l, c) else {
                l += 1
                c = 0
                continue
            }
            if YAMLChar.isSpace(ch) {
                c += 1
            } else if ch == YAMLChar.hash && (c == 0 || at(l, c - 1).map(YAMLChar.isSpace) == true) {
                c = lines[l].count
            } else {
                return
            }
        }
        throw .syntax(number(open), "'\(bracket)' opened on this line is never closed")
    }

    /// Refuses what cannot start a plain scalar, naming the YAML feature when there is one.
    func checkPlainStart(_ l: Int, _ c: Int, inFlow: Bool) throws(YAMLError) {
        guard let ch = at(l, c) else { throw .syntax(number(l), "missing value") }
        let next = at(l, c + 1)
        let ends = next.map { YAMLChar.isSpace($0) || (inFlow && YAMLChar.isFlowIndicator($0)) } ?? true
        switch ch {
        case YAMLChar.ampersand:
            throw .unsupported(number(l), "anchors (\(word(l, c)))")
        case YAMLChar.star:
            throw .unsupported(number(l), "aliases (\(word(l, c))); quote a value that starts with '*'")
        case YAMLChar.bang:
            throw .unsupported(number(l), "tags (\(word(l, c))); quote a value that starts with '!'")
        case YAMLChar.pipe, YAMLChar.greater:
            throw .unsupported(number(l), "block scalars ('|', '>'); write the value on one line, quoted")
        case YAMLChar.dash where ends:
            throw .syntax(number(l), "a '- ' list entry cannot start here (put it on its own line)")
        case YAMLChar.question where ends:
            throw .unsupported(number(l), "complex keys ('? ')")
        case YAMLChar.colon where ends:
            throw .syntax(number(l), "a ':' without a key")
        default:
            if YAMLChar.cannotStartPlain(ch) {
                throw .syntax(number(l), "unexpected \(word(l, c)) (quote values that start with it)")
            }
        }
    }

    /// Where a plain scalar starting at (l, c) ends: at a comment, the end of the line, or in
    /// flow at `,[]{}` and `: `. In block context `: ` inside a value is an error.
    func plainEnd(_ l: Int, _ c: Int, inFlow: Bool) throws(YAMLError) -> Int {
        var k = c
        while let ch = at(l, k) {
            if ch == YAMLChar.hash && k > c && at(l, k - 1).map(YAMLChar.isSpace) == true { break }
            if inFlow && YAMLChar.isFlowIndicator(ch) { break }
            if ch == YAMLChar.colon {
                let next = at(l, k + 1)
                let ends = next.map { YAMLChar.isSpace($0) || (inFlow && YAMLChar.isFlowIndicator($0)) } ?? true
                if ends && inFlow { break }
                if ends { throw .syntax(number(l), "a value containing ': ' must be quoted") }
            }
            k += 1
        }
        return k
    }

    /// The text of columns c..<end of line l without trailing spaces.
    func plainText(_ l: Int, _ c: Int, _ end: Int) -> String {
        var e = end
        while e > c, let ch = at(l, e - 1), YAMLChar.isSpace(ch) { e -= 1 }
        let base = lines[l].lowerBound
        return String(decoding: bytes[(base + c)..<(base + e)], as: UTF8.self)
    }

    /// A 'single' or "double" quoted scalar starting at (l, c) and ending on the same line;
    /// returns its text and the column after the closing quote.
    func quoted(_ l: Int, _ c: Int) throws(YAMLError) -> (String, Int) {
        let quote = at(l, c)
        var out: [UInt8] = []
        var k = c + 1
        while true {
            guard let ch = at(l, k) else {
                throw .unsupported(number(l), "a quoted string that does not end on its line")
            }
            if ch == quote {
                if quote == YAMLChar.singleQuote && at(l, k + 1) == YAMLChar.singleQuote {
                    out.append(ch)
                    k += 2
                    continue
                }
                return (String(decoding: out, as: UTF8.self), k + 1)
            }
            if ch == YAMLChar.backslash && quote == YAMLChar.doubleQuote {
                k = try escape(l, k, into: &out)
            } else {
                out.append(ch)
                k += 1
            }
        }
    }

    /// Decodes the escape at (l, k) (the backslash) into `out`; returns the column after it.
    func escape(_ l: Int, _ k: Int, into out: inout [UInt8]) throws(YAMLError) -> Int {
        guard let e = at(l, k + 1) else {
            throw .unsupported(number(l), "a quoted string that does not end on its line")
        }
        var value: UInt32
        var next = k + 2
        if let v = YAMLChar.escapes[e] {
            value = v
        } else {
            let digits = e == 0x78 ? 2 : e == 0x75 ? 4 : e == 0x55 ? 8 : 0
            guard digits > 0 else {
                throw .syntax(number(l), "unknown escape \(excerpt(l, k, 2)) in a double-quoted string")
            }
            value = 0
            for i in 0..<digits {
                guard let h = at(l, next + i).flatMap(YAMLChar.hexValue) else {
                    throw .syntax(number(l), "escape \(excerpt(l, k, 2 + digits)) needs \(digits) hex digits")
                }
                value = value << 4 | h
            }
            next += digits
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw .syntax(number(l), "escape \(excerpt(l, k, next - k)) is not a Unicode character")
        }
        UTF8.encode(scalar) { out.append($0) }
        return next
    }
}

/// The ASCII bytes the YAML subset gives meaning to.
enum YAMLChar {
    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let dash = UInt8(ascii: "-")
    static let dot = UInt8(ascii: ".")
    static let colon = UInt8(ascii: ":")
    static let hash = UInt8(ascii: "#")
    static let comma = UInt8(ascii: ",")
    static let question = UInt8(ascii: "?")
    static let percent = UInt8(ascii: "%")
    static let ampersand = UInt8(ascii: "&")
    static let star = UInt8(ascii: "*")
    static let bang = UInt8(ascii: "!")
    static let pipe = UInt8(ascii: "|")
    static let greater = UInt8(ascii: ">")
    static let backslash = UInt8(ascii: "\\")
    static let doubleQuote = UInt8(ascii: "\"")
    static let singleQuote = UInt8(ascii: "'")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")

    /// YAML's one-character escapes in double quotes (`\0` … `\P`) and their code points.
    static let escapes: [UInt8: UInt32] = [
        0x30: 0, 0x61: 7, 0x62: 8, 0x74: 9, 0x09: 9, 0x6E: 10, 0x76: 11, 0x66: 12, 0x72: 13,
        0x65: 27, 0x20: 32, 0x22: 34, 0x2F: 47, 0x5C: 92, 0x4E: 0x85, 0x5F: 0xA0,
        0x4C: 0x2028, 0x50: 0x2029,
    ]

    static func isSpace(_ c: UInt8) -> Bool { c == space || c == tab }

    static func isFlowIndicator(_ c: UInt8) -> Bool {
        c == comma || c == openBracket || c == closeBracket || c == openBrace || c == closeBrace
    }

    /// YAML indicators a plain scalar may not start with (`-`, `?`, `:` only before a space).
    static func cannotStartPlain(_ c: UInt8) -> Bool {
        isFlowIndicator(c) || Array("#&*!|>'\"%@`".utf8).contains(c)
    }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
