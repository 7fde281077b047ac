extension JSONCoding {
    /// Foundation's pretty printer writes an empty array as `[` newline, newline, indent `]`;
    /// people (and `diff`) read `[]`. Rewrites every `[`/`{` followed only by whitespace and
    /// its closing bracket outside strings to `[]`/`{}`; string contents are left as they are.
    static func compactEmptyContainers(_ json: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count)
        var inString = false
        var escaped = false
        var i = 0
        while i < json.count {
            let b = json[i]
            out.append(b)
            i += 1
            if inString {
                if escaped {
                    escaped = false
                } else if b == 0x5C {
                    escaped = true
                } else if b == 0x22 {
                    inString = false
                }
                continue
            }
            if b == 0x22 {
                inString = true
                continue
            }
            guard b == 0x5B || b == 0x7B else { continue }
            var j = i
            while j < json.count, [0x20, 0x0A, 0x0D, 0x09].contains(json[j]) { j += 1 }
            let close: UInt8 = b == 0x5B ? 0x5D : 0x7D
            if j < json.count, json[j] == close {
                out.append(close)
                i = j + 1
            }
        }
        return out
    }
}
