import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Operator text that goes into the export commit and its mbox (`--message`, `--author`).
///
/// `git am` reads the mbox, not the commit: a message line starting `---`, `diff -` or
/// `Index: ` ends the message and starts a patch (mailinfo's patch break), a line starting
/// `From ` can split the mbox into a second mail, and a CR or another control byte in a
/// header forges a header. Such text is refused, so the patch holds exactly drift's diff and
/// drift's trailers stay the commit's trailer block.
public enum CommitText {
    /// Throws when `--message` holds a control byte other than tab and newline, or a line
    /// that `git am`/`git mailsplit` would read as the start of a patch or of another mail.
    static func checkMessage(_ message: String) throws {
        if let bad = message.unicodeScalars.first(where: { isControl($0) && $0 != "\n" && $0 != "\t" }) {
            throw DriftError(.usage, "--message holds control character U+\(hex(bad.value)); use plain lines")
        }
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
        for (n, line) in lines.enumerated() where breaksMail(line) {
            let shown = PathBytes.display(text: String(line.prefix(40)))
            throw DriftError(.usage, "--message line \(n + 1) (\(shown)) would end the commit message in drift.patch; "
                + "indent it or reword it")
        }
    }

    /// Throws when a `--author` name or email holds a control character (CR, LF, ESC, …).
    static func checkAuthor(_ author: String) throws {
        guard author.unicodeScalars.contains(where: isControl) else { return }
        throw DriftError(.usage,
            "--author \(PathBytes.display(text: author)): a name or email may not hold control characters")
    }

    /// mailinfo's `patchbreak` (`---` then blank or end, `diff -`, `Index: `) and mailsplit's
    /// `From ` separator; the `---` rule is taken wider than git's, at no cost to honest text.
    static func breaksMail(_ line: Substring) -> Bool {
        line.hasPrefix("---") || line.hasPrefix("diff -") || line.hasPrefix("Index: ") || line.hasPrefix("From ")
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || s.value == 0x7F || (0x80...0x9F).contains(s.value)
            || s.value == 0x2028 || s.value == 0x2029
    }

    static func hex(_ v: UInt32) -> String {
        let h = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - h.count)) + h
    }
}

extension GitPerson {
    /// Parses `--author` text: `Name <email>`, no control characters.
    public static func parse(_ s: String, time: Date) throws -> GitPerson {
        guard let lt = s.firstIndex(of: "<"), let gt = s.lastIndex(of: ">"), lt < gt else {
            throw DriftError(.usage, "--author \(PathBytes.display(text: s)): expected \"Name <email>\"")
        }
        let name = s[..<lt].trimmingSpaces()
        let email = String(s[s.index(after: lt)..<gt])
        guard !name.isEmpty, !email.isEmpty, !email.contains("<"),
              !s.unicodeScalars.contains(where: CommitText.isControl) else {
            throw DriftError(.usage, "--author \(PathBytes.display(text: s)): expected \"Name <email>\"")
        }
        return GitPerson(name: name, email: email, time: time)
    }
}
