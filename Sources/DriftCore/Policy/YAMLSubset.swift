import DriftGit
import DriftSystem
/// A bounded parser for the YAML subset policy files use (policies/README.md): comments,
/// block mappings and sequences, flow `[...]` and `{...}`, plain, 'single' and "double"
/// quoted scalars. Anchors, aliases, tags, block scalars and multiple documents are refused
/// by name. Input is capped at `maxBytes`, nesting at `maxDepth`, so recursion is bounded by
/// a constant, never by the input; every byte string parses or throws `YAMLError`.
enum YAMLSubset {
    static let maxBytes = 1 << 20
    static let maxDepth = 64

    /// The document's top-level node; nil for a document of only blanks and comments.
    static func parse(_ bytes: [UInt8]) throws(YAMLError) -> YAMLNode? {
        guard bytes.count <= maxBytes else {
            throw .syntax(1, "document larger than 1 MiB (\(bytes.count) bytes)")
        }
        var parser = try YAMLParser(bytes)
        return try parser.document()
    }
}

/// Cursor over the document's lines; the block structure lives here, flow collections and
/// scalars in YAMLFlow.swift. Columns are byte offsets (indentation is ASCII spaces).
struct YAMLParser {
    let bytes: [UInt8]
    /// Each line's bytes without its `\n` / `\r\n`.
    var lines: [Range<Int>] = []
    /// The next line block parsing looks at.
    var li = 0

    init(_ bytes: [UInt8]) throws(YAMLError) {
        self.bytes = bytes
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var start = i
        while i < bytes.count {
            let c = bytes[i]
            if c == YAMLChar.newline {
                lines.append(start..<(i > start && bytes[i - 1] == YAMLChar.cr ? i - 1 : i))
                start = i + 1
            } else if c == YAMLChar.cr {
                guard i + 1 < bytes.count, bytes[i + 1] == YAMLChar.newline else {
                    throw .syntax(lines.count + 1, "carriage return without a line feed")
                }
            } else if (c < 0x20 && c != YAMLChar.tab) || c == 0x7F {
                throw .syntax(lines.count + 1, "control character 0x\(String(c, radix: 16)) (write it as an escape "
                    + "inside double quotes)")
            }
            i += 1
        }
        if start < bytes.count { lines.append(start..<bytes.count) }
    }

    // MARK: - Line access

    /// The byte at column `c` of line `l`, nil past the end of the line.
    func at(_ l: Int, _ c: Int) -> UInt8? {
        guard l < lines.count, c >= 0 else { return nil }
        let p = lines[l].lowerBound + c
        return p < lines[l].upperBound ? bytes[p] : nil
    }

    /// 1-based line number of line index `l`.
    func number(_ l: Int) -> Int { l + 1 }

    func firstNonSpace(_ l: Int, from c: Int) -> Int {
        var k = c
        while let ch = at(l, k), YAMLChar.isSpace(ch) { k += 1 }
        return k
    }

    /// `-` followed by a space or the end of the line starts a block sequence entry.
    func isEntry(_ l: Int, _ c: Int) -> Bool {
        guard at(l, c) == YAMLChar.dash else { return false }
        guard let next = at(l, c + 1) else { return true }
        return YAMLChar.isSpace(next)
    }

    /// `---` or `...` at column 0 (document start or end).
    func isDocumentMarker(_ l: Int) -> Bool {
        guard let first = at(l, 0), first == YAMLChar.dash || first == YAMLChar.dot,
              at(l, 1) == first, at(l, 2) == first else { return false }
        guard let next = at(l, 3) else { return true }
        return YAMLChar.isSpace(next)
    }

    /// Throws unless only spaces and a comment follow column `c` on line `l`.
    func expectLineEnd(_ l: Int, _ c: Int) throws(YAMLError) {
        let k = firstNonSpace(l, from: c)
        guard let ch = at(l, k) else { return }
        if ch == YAMLChar.hash && at(l, k - 1).map(YAMLChar.isSpace) == true { return }
        if ch == YAMLChar.colon {
            throw .unsupported(number(l), "a quoted string or [ ] / { } as a key (write the key plain)")
        }
        throw .syntax(number(l), "unexpected \(word(l, k)) after the value")
    }

    /// A short quotable excerpt starting at (l, c) for error messages.
    func word(_ l: Int, _ c: Int) -> String {
        guard let first = at(l, c) else { return "the end of the line" }
        var k = c + 1
        while !YAMLChar.isFlowIndicator(first), let ch = at(l, k), k - c < 40,
              !(YAMLChar.isSpace(ch) || YAMLChar.isFlowIndicator(ch)) {
            k += 1
        }
        return excerpt(l, c, k - c)
    }

    /// Up to `count` bytes of line `l` from column `c`, in single quotes.
    func excerpt(_ l: Int, _ c: Int, _ count: Int) -> String {
        let start = lines[l].lowerBound + c
        let end = min(start + count, lines[l].upperBound)
        return "'" + String(decoding: bytes[start..<end], as: UTF8.self) + "'"
    }

    /// Skips blank and comment lines; returns the indentation of line `li`, or -1 at the end
    /// of the document (or a `---` / `...` marker).
    mutating func nextLine() throws(YAMLError) -> Int {
        while li < lines.count {
            let c = firstNonSpace(li, from: 0)
            if at(li, c) == nil || at(li, c) == YAMLChar.hash {
                li += 1
                continue
            }
            if isDocumentMarker(li) { return -1 }
            var k = 0
            while at(li, k) == YAMLChar.space { k += 1 }
            if at(li, k) == YAMLChar.tab { throw .syntax(number(li), "tab used for indentation (indent with spaces)") }
            return k
        }
        return -1
    }

    // MARK: - Block structure

    mutating func document() throws(YAMLError) -> YAMLNode? {
        var indent = try nextLine()
        if li < lines.count && at(li, 0) == YAMLChar.percent {
            throw .unsupported(number(li), "directives such as \(word(li, 0))")
        }
        if indent < 0 && li < lines.count && at(li, 0) == YAMLChar.dash {
            let k = firstNonSpace(li, from: 3)
            if let ch = at(li, k), ch != YAMLChar.hash {
                throw .unsupported(number(li), "content on the '---' line (start it on the next line)")
            }
            li += 1
            indent = try nextLine()
        }
        var root: YAMLNode?
        if indent >= 0 {
            root = try blockNode(li, indent, depth: 0)
            indent = try nextLine()
        }
        guard li < lines.count else { return root }
        if !isDocumentMarker(li) { throw .syntax(number(li), "bad indentation or content after the document") }
        if at(li, 0) == YAMLChar.dot {
            li += 1
            if try nextLine() < 0 && li >= lines.count { return root }
        }
        throw .unsupported(number(li), "more than one document ('---' / '...')")
    }

    /// The node whose first character is at column `c` of line `l` (== `li`); `depth` is
    /// the depth of its parent collection.
    mutating func blockNode(_ l: Int, _ c: Int, depth: Int) throws(YAMLError) -> YAMLNode {
        if isEntry(l, c) { return try blockSequence(l, c, depth: depth + 1) }
        if try key(l, c) != nil { return try blockMapping(l, c, depth: depth + 1) }
        return try inlineValue(l, c, depth: depth)
    }

    mutating func blockSequence(_ first: Int, _ n: Int, depth: Int) throws(YAMLError) -> YAMLNode {
        guard depth <= YAMLSubset.maxDepth else { throw tooDeep(first) }
        var items: [YAMLNode] = []
        while true {
            let l = li
            let c = firstNonSpace(l, from: n + 1)
            if at(l, c) == nil || at(l, c) == YAMLChar.hash {
                li = l + 1
                let indent = try nextLine()
                if indent > n {
                    items.append(try blockNode(li, indent, depth: depth))
                } else {
                    items.append(.scalar(YAMLScalar(string: "", line: number(l))))
                }
            } else {
                let tabbed = (n + 1..<c).contains { at(l, $0) == YAMLChar.tab }
                if tabbed, isEntry(l, c) {
                    throw .syntax(number(l), "tab used for indentation (indent with spaces)")
                }
                if tabbed, try key(l, c) != nil {
                    throw .syntax(number(l), "tab used for indentation (indent with spaces)")
                }
                items.append(try blockNode(l, c, depth: depth))
            }
            let indent = try nextLine()
            if indent > n { throw .syntax(number(li), "bad indentation (multi-line values are not supported)") }
            if indent < n || !isEntry(li, n) { break }
        }
        return .sequence(items, line: number(first))
    }

    mutating func blockMapping(_ first: Int, _ n: Int, depth: Int) throws(YAMLError) -> YAMLNode {
        guard depth <= YAMLSubset.maxDepth else { throw tooDeep(first) }
        var pairs: [YAMLPair] = []
        var seen: [String: Int] = [:]
        while true {
            let l = li
            guard let (k, valueColumn) = try key(l, n) else {
                if isEntry(l, n) { throw .syntax(number(l), "a '- ' list entry where a 'key:' was expected") }
                throw .syntax(number(l), "expected 'key: value', found \(word(l, n))")
            }
            if let firstLine = seen[k.string] {
                throw .syntax(number(l), "duplicate key '\(k.string)' (first on line \(firstLine))")
            }
            seen[k.string] = number(l)
            let c = firstNonSpace(l, from: valueColumn)
            let value: YAMLNode
            if at(l, c) == nil || at(l, c) == YAMLChar.hash {
                li = l + 1
                let indent = try nextLine()
                if indent > n {
                    value = try blockNode(li, indent, depth: depth)
                } else if indent == n && isEntry(li, n) {
                    value = try blockSequence(li, n, depth: depth + 1)
                } else {
                    value = .scalar(YAMLScalar(string: "", line: number(l)))
                }
            } else {
                if isEntry(l, c) { throw .syntax(number(l), "a '- ' list must start on the line after its key") }
                value = try inlineValue(l, c, depth: depth)
            }
            pairs.append(YAMLPair(key: k, value: value))
            let indent = try nextLine()
            if indent > n { throw .syntax(number(li), "bad indentation (multi-line values are not supported)") }
            if indent < n { break }
        }
        return .mapping(pairs, line: number(first))
    }

    /// The key when line `l` holds `key:` at column `c`, with the column after its colon.
    func key(_ l: Int, _ c: Int) throws(YAMLError) -> (YAMLScalar, Int)? {
        guard let first = at(l, c) else { return nil }
        var text: String
        var end: Int
        if first == YAMLChar.doubleQuote || first == YAMLChar.singleQuote {
            (text, end) = try quoted(l, c)
            end = firstNonSpace(l, from: end)
            guard at(l, end) == YAMLChar.colon else { return nil }
        } else {
            if first == YAMLChar.question, at(l, c + 1).map(YAMLChar.isSpace) ?? true {
                throw .unsupported(number(l), "complex keys ('? ')")
            }
            if YAMLChar.cannotStartPlain(first) { return nil }
            end = c
            while let ch = at(l, end) {
                if ch == YAMLChar.hash && at(l, end - 1).map(YAMLChar.isSpace) == true { return nil }
                if ch == YAMLChar.colon && (at(l, end + 1).map(YAMLChar.isSpace) ?? true) { break }
                end += 1
            }
            guard end < lines[l].count else { return nil }
            guard end > c else { throw .syntax(number(l), "a ':' without a key") }
            text = plainText(l, c, end)
        }
        guard at(l, end + 1).map(YAMLChar.isSpace) ?? true else { return nil }
        return (YAMLScalar(string: text, line: number(l)), end + 1)
    }

    /// A scalar or flow collection starting at (l, c) that ends its line; moves `li` past it.
    mutating func inlineValue(_ l: Int, _ c: Int, depth: Int) throws(YAMLError) -> YAMLNode {
        var line = l
        var column = c
        let node = try flowNode(&line, &column, depth: depth, inFlow: false)
        try expectLineEnd(line, column)
        li = line + 1
        return node
    }

    func tooDeep(_ l: Int) -> YAMLError {
        .unsupported(number(l), "nesting deeper than \(YAMLSubset.maxDepth) levels")
    }
}
