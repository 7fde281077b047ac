import DriftGit
import DriftSystem
/// A requirements file: pins read at bake time, edits written at export time. Comments,
/// options and order are kept; only the lines of changed distributions are touched.
public enum Requirements {
    /// `name==version` pins by normalised name (other specifiers are not pins).
    public static func pins(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let (name, spec) = requirement(line) else { continue }
            if spec.hasPrefix("==") && !spec.contains(",") {
                out[name] = String(spec.dropFirst(2)).trimmingSpaces()
            }
        }
        return out
    }

    /// (normalised name, version spec) of a requirement line; nil for comments, options, URLs.
    static func requirement(_ raw: Substring) -> (String, String)? {
        var line = raw
        if let hash = line.firstRange(of: " #") ?? line.firstRange(of: "\t#") { line = line[..<hash.lowerBound] }
        let t = line.trimmingSpaces()
        guard let first = t.unicodeScalars.first,
              first.properties.isAlphabetic || ("0"..."9").contains(first) else { return nil }
        let nameEnd = t.firstIndex {
            !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".")
        } ?? t.endIndex
        let name = normalizedDistributionName(String(t[..<nameEnd]))
        var rest = t[nameEnd...]
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") { rest = rest[rest.index(after: close)...] }
        if let semi = rest.firstIndex(of: ";") { rest = rest[..<semi] }
        return (name, rest.trimmingSpaces())
    }

    /// Applies pip drift to a requirements file's text.
    static func apply(_ changes: [PipChange], to text: String) -> String {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        if lines.last == "" { lines.removeLast() }
        for c in changes where !c.allowed {
            guard let name = c.name else { continue }
            let idx = lines.firstIndex { requirement($0[...])?.0 == name }
            switch c.change {
            case .added, .upgraded, .downgraded:
                guard let v = c.to else { continue }
                // Name and version come from METADATA on the instance: text pip would read
                // as more than one line, or as an option, never becomes a pin.
                guard isPlain(name, extra: "._-"), isPlain(v, extra: ".+!_-") else {
                    lines.append("# drift: \(oneLine(name)) \(oneLine(v)) is not a plain name==version; pin it by hand")
                    continue
                }
                let pin = "\(name)==\(v)"
                if let i = idx { lines[i] = replacePin(lines[i], with: pin) } else { lines.append(pin) }
            case .removed:
                if let i = idx { lines.remove(at: i) }
            case .editable:
                let from = oneLine(c.url ?? "a local path")
                let what = "\(oneLine(name)) \(oneLine(c.to ?? ""))"
                let note = "# drift: \(what) is installed editable from \(from); pin or vendor it"
                if let i = idx { lines.insert(note, at: i) } else { lines.append(note) }
            default:
                continue
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// ASCII letters and digits plus `extra`, not starting with `-` (pip would read an option).
    static func isPlain(_ s: String, extra: String) -> Bool {
        !s.isEmpty && !s.hasPrefix("-") && s.unicodeScalars.allSatisfy { c in
            c.isASCII && (("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
                || extra.unicodeScalars.contains(c))
        }
    }

    /// Text for a comment line: every character Python's `splitlines` breaks on, and every
    /// other control character, written as `\u{…}`, so a value can never start a line.
    static func oneLine(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            let v = c.value
            let breaks = v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) || v == 0x2028 || v == 0x2029
            out += breaks ? "\\u{\(String(v, radix: 16))}" : String(c)
        }
        return out
    }

    /// Keeps a trailing comment when a pin line is rewritten.
    private static func replacePin(_ line: String, with pin: String) -> String {
        guard let r = line.firstRange(of: " #") ?? line.firstRange(of: "\t#") else { return pin }
        // Keep the comment and the exact spacing before it.
        var start = r.lowerBound
        while start > line.startIndex, line[line.index(before: start)].isWhitespace {
            start = line.index(before: start)
        }
        return pin + line[start...]
    }
}
