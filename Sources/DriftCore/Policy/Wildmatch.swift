import DriftGit
import DriftSystem
/// A port of git's `wildmatch()` (the matcher behind .gitignore) over bytes.
///
/// Kept structurally close to git's C so the two agree on corner cases; the
/// policy tests compare it against `git check-ignore`.
enum Wildmatch {
    enum Result { case match, noMatch, abortAll, abortToStarStar }

    /// A byte buffer read as if NUL-terminated (git's C reads past the end as 0).
    struct Z {
        let base: UnsafeBufferPointer<UInt8>
        @inline(__always) subscript(_ i: Int) -> UInt8 { i < base.count ? base[i] : 0 }
    }

    /// Whether `text` matches `pattern`; `pathname` makes `*`/`?`/`[]` stop at `/`.
    static func matches(_ pattern: [UInt8], _ text: [UInt8], pathname: Bool) -> Bool {
        pattern.withUnsafeBufferPointer { pb in
            text.withUnsafeBufferPointer { tb in matches(pb, tb, pathname: pathname) }
        }
    }

    static func matches(_ pattern: UnsafeBufferPointer<UInt8>,
                        _ text: UnsafeBufferPointer<UInt8>,
                        pathname: Bool) -> Bool {
        dowild(Z(base: pattern), 0, Z(base: text), 0, pathname) == .match
    }

    private static let slash = UInt8(ascii: "/")

    private static func isGlobSpecial(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "*") || c == UInt8(ascii: "?") || c == UInt8(ascii: "[") || c == UInt8(ascii: "\\")
    }

    private static func containsSlash(_ t: Z, from: Int) -> Bool {
        var i = from
        while t[i] != 0 {
            if t[i] == slash { return true }
            i += 1
        }
        return false
    }

    // swiftlint:disable:next cyclomatic_complexity
    private static func dowild(_ pat: Z, _ p0: Int, _ txt: Z, _ t0: Int, _ pathname: Bool) -> Result {
        var p = p0
        var t = t0
        while pat[p] != 0 {
            var pCh = pat[p]
            var tCh = txt[t]
            if tCh == 0 && pCh != UInt8(ascii: "*") { return .abortAll }
            switch pCh {
            case UInt8(ascii: "?"):
                if pathname && tCh == slash { return .noMatch }
            case UInt8(ascii: "*"):
                var matchSlash: Bool
                p += 1
                if pat[p] == UInt8(ascii: "*") {
                    let prevP = p - 2
                    while pat[p] == UInt8(ascii: "*") { p += 1 }
                    if (prevP < 0 || pat[prevP] == slash)
                        && (pat[p] == 0 || pat[p] == slash || (pat[p] == UInt8(ascii: "\\") && pat[p + 1] == slash)) {
                        if pat[p] == slash && dowild(pat, p + 1, txt, t, pathname) == .match { return .match }
                        matchSlash = true
                    } else {
                        matchSlash = !pathname
                    }
                } else {
                    matchSlash = !pathname
                }
                if pat[p] == 0 {
                    if !matchSlash && containsSlash(txt, from: t) { return .abortToStarStar }
                    return .match
                } else if !matchSlash && pat[p] == slash {
                    var s = t
                    while txt[s] != 0 && txt[s] != slash { s += 1 }
                    if txt[s] == 0 { return .noMatch }
                    t = s
                    // The slash itself is consumed by the loop's shared advance below.
                    break
                }
                while true {
                    if tCh == 0 { break }
                    if !isGlobSpecial(pat[p]) {
                        pCh = pat[p]
                        while true {
                            tCh = txt[t]
                            if tCh == 0 || (!matchSlash && tCh == slash) { break }
                            if tCh == pCh { break }
                            t += 1
                        }
                        if tCh != pCh { return .noMatch }
                    }
                    let matched = dowild(pat, p, txt, t, pathname)
                    if matched != .noMatch {
                        if !matchSlash || matched != .abortToStarStar { return matched }
                    } else if !matchSlash && tCh == slash {
                        return .abortToStarStar
                    }
                    t += 1
                    tCh = txt[t]
                }
                return .abortAll
            case UInt8(ascii: "["):
                if let failed = bracket(pat, &p, tCh, pathname) { return failed }
            case UInt8(ascii: "\\"):
                p += 1
                pCh = pat[p]
                if tCh != pCh { return .noMatch }
            default:
                if tCh != pCh { return .noMatch }
            }
            t += 1
            p += 1
        }
        return txt[t] != 0 ? .noMatch : .match
    }

    /// git's `case '['` of `dowild`: the bracket expression at `pat[p]` (its `[`) against the
    /// text byte `tCh`, with ranges, escapes and `[:class:]`es. Leaves `p` on the closing `]`.
    /// - Returns: nil when `tCh` matches, else `.noMatch` or `.abortAll` (a malformed bracket).
    private static func bracket(_ pat: Z, _ p: inout Int, _ tCh: UInt8, _ pathname: Bool) -> Result? {
        p += 1
        var pCh = pat[p]
        if pCh == UInt8(ascii: "^") { pCh = UInt8(ascii: "!") }
        let negated = pCh == UInt8(ascii: "!")
        if negated {
            p += 1
            pCh = pat[p]
        }
        var prevCh: UInt8 = 0
        var matched = false
        repeat {
            if pCh == 0 { return .abortAll }
            if pCh == UInt8(ascii: "\\") {
                p += 1
                pCh = pat[p]
                if pCh == 0 { return .abortAll }
                if tCh == pCh { matched = true }
            } else if pCh == UInt8(ascii: "-") && prevCh != 0
                        && pat[p + 1] != 0 && pat[p + 1] != UInt8(ascii: "]") {
                p += 1
                pCh = pat[p]
                if pCh == UInt8(ascii: "\\") {
                    p += 1
                    pCh = pat[p]
                    if pCh == 0 { return .abortAll }
                }
                if tCh <= pCh && tCh >= prevCh { matched = true }
                pCh = 0
            } else if pCh == UInt8(ascii: "[") && pat[p + 1] == UInt8(ascii: ":") {
                let start = p + 2
                var e = start
                while pat[e] != 0 && pat[e] != UInt8(ascii: "]") { e += 1 }
                if pat[e] == 0 { return .abortAll }
                if e - start < 1 || pat[e - 1] != UInt8(ascii: ":") {
                    // Not a class: match a literal '['.
                    pCh = UInt8(ascii: "[")
                    if tCh == pCh { matched = true }
                } else {
                    let name = String(decoding: UnsafeBufferPointer(rebasing: pat.base[start..<(e - 1)]),
                                      as: UTF8.self)
                    guard let cls = characterClass(name) else { return .abortAll }
                    if cls(tCh) { matched = true }
                    p = e
                    pCh = 0
                }
            } else if tCh == pCh {
                matched = true
            }
            prevCh = pCh
            p += 1
            pCh = pat[p]
        } while pCh != UInt8(ascii: "]")
        return matched == negated || (pathname && tCh == slash) ? .noMatch : nil
    }

    private static func characterClass(_ name: String) -> ((UInt8) -> Bool)? {
        func r(_ a: Character, _ b: Character) -> ClosedRange<UInt8> { UInt8(a.asciiValue!)...UInt8(b.asciiValue!) }
        switch name {
        case "alnum": return { r("a", "z").contains($0) || r("A", "Z").contains($0) || r("0", "9").contains($0) }
        case "alpha": return { r("a", "z").contains($0) || r("A", "Z").contains($0) }
        case "blank": return { $0 == 0x20 || $0 == 0x09 }
        case "cntrl": return { $0 < 0x20 || $0 == 0x7F }
        case "digit": return { r("0", "9").contains($0) }
        case "graph": return { $0 > 0x20 && $0 < 0x7F }
        case "lower": return { r("a", "z").contains($0) }
        case "print": return { $0 >= 0x20 && $0 < 0x7F }
        case "punct": return {
            ($0 > 0x20 && $0 < 0x7F)
                && !(r("a", "z").contains($0) || r("A", "Z").contains($0) || r("0", "9").contains($0))
        }
        case "space": return { $0 == 0x20 || (0x09...0x0D).contains($0) }
        case "upper": return { r("A", "Z").contains($0) }
        case "xdigit": return { r("0", "9").contains($0) || r("a", "f").contains($0) || r("A", "F").contains($0) }
        default: return nil
        }
    }
}
