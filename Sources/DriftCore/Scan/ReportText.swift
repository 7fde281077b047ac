import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The human format of a scan report: grouped by class, with counts.
public enum ReportText {
    /// A report path back to its bytes, then through the one quoting function.
    static func name(_ path: String, _ pathBytes: String?) -> String {
        PathBytes.display(pathBytes.flatMap { Data(base64Encoded: $0) }.map { Array($0) } ?? Array(path.utf8))
    }

    public static func render(_ r: ScanReport, color: Bool) -> String {
        var all = ""
        render(r, color: color) { all += $0 }
        return all
    }

    /// The same text, handed to `emit` in pieces of about 64 KiB as it is made: a report of a
    /// million paths is written out, not built whole (and copied) in memory first (issue 28).
    public static func render(_ r: ScanReport, color: Bool, emit: (String) -> Void) {
        func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        var out = ""
        func flush(over limit: Int) {
            guard out.utf8.count > limit else { return }
            emit(out)
            out = ""
        }
        var times = TimestampRun()
        let head = r.hasDrift ? paint("DRIFT", "1;31") : r.complete ? paint("clean", "32") : paint("INCOMPLETE", "1;33")
        out += "\(head): \(r.root) against \(r.commit.prefix(12)) on \(r.host) at \(r.scannedAt)\n"
        // Rows are made one at a time as they are written (`ScanReport.Rows`), never all held.
        let rows = r.rows
        let suspicious = (0..<rows.count).reduce(0) { $0 + (rows.suspicious($1) ? 1 : 0) }
        if suspicious > 0 {
            let note = "suspicious names: \(suspicious) drifted path(s) hold control characters (shown quoted)"
            out += paint(note, "1;33") + "\n"
        }
        out += "checked \(r.summary.checked) entries, hashed \(r.summary.hashed), " +
            "drifted \(r.summary.drifted), pip \(r.summary.pip), errors \(r.summary.errors)\n"
        for cls in FileClass.allCases where cls != .ignore {
            // Counted, not filtered: a filtered copy of a million rows is ~350 MB.
            let count = (0..<rows.count).reduce(0) { $0 + (rows.fileClass($1) == cls ? 1 : 0) }
            if count == 0 { continue }
            out += "\n" + paint("\(cls.rawValue) (\(count))", "1") + "\n"
            for k in 0..<rows.count where rows.fileClass(k) == cls {
                let f = rows.row(k, times: &times)
                var line = "  \(f.change.rawValue.padded(to: 8)) \(name(f.path, f.pathBytes))"
                switch f.change {
                case .mode: line += "  \(f.oldMode ?? "?") -> \(f.newMode ?? "?")"
                case .type: line += "  \(f.oldType?.rawValue ?? "?") -> \(f.newType?.rawValue ?? "?")"
                default: break
                }
                if f.secret {
                    line += f.flags?.contains("secret-content") == true ? "  [secret content]" : "  [secret]"
                }
                if f.flags?.contains("suspicious-name") == true { line += "  [suspicious name: control characters]" }
                if f.flags?.contains("name-git-cannot-store") == true { line += "  [withheld: name git cannot store]" }
                if f.unstable == true { line += "  [unstable: changed while read]" }
                line += "  since \(f.firstSeen)"
                if let restarted = f.clockStarted { line += ", changed again \(restarted)" }
                if let at = f.exportIdAt ?? f.exportedAt, let id = f.exportId {
                    line += "  exported \(at) as \(id)" + (f.pushedAt.map { ", pushed \($0)" } ?? "")
                }
                if let c = f.reconciledIn { line += "; reconciled upstream in \(c.prefix(12)), waiting for redeploy" }
                if f.exportWithheld == true && f.fileClass == .code {
                    line += "; withheld from the export: reconcile by hand"
                }
                if f.overdue == true { line += " " + paint("OVERDUE", "1;31") }
                out += line + "\n"
                flush(over: 1 << 16)
            }
        }
        if !r.pip.isEmpty {
            out += "\n" + paint("pip (\(r.pip.count))", "1") + "\n"
            for p in r.pip {
                out += "  " + pipLine(p) + "\n"
            }
        }
        if !r.errors.isEmpty {
            out += "\n" + paint("errors (\(r.errors.count))", "1;33") + "\n"
            for e in r.errors {
                out += "  \(name(e.path, e.pathBytes)): \(DriftError.neutralised(e.message))\n"
                flush(over: 1 << 16)
            }
        }
        flush(over: 0)
    }

    /// `added      toml 0.10.2`, `upgraded   six 1.16.0 -> 1.17.0`, `removed    dacite 1.8.1`:
    /// words joined by single spaces, never a trailing one.
    /// How many files a `modified` or `unowned` pip line names before "and N more".
    static let pipFilesShown = 3

    /// One pip change: kind, package, version (once when it did not change, `from -> to` when
    /// it did) and, for a change no version names (`modified`, `unowned`), the files changed.
    static func pipLine(_ p: PipChange) -> String {
        // Names, versions and file names come from site-packages metadata: quoted as names.
        let q = { (t: String) in PathBytes.display(text: t) }
        var words = [p.change.rawValue.padded(to: 10), p.name.map(q) ?? "(unowned)"]
        if let from = p.from, let to = p.to, from == to {
            words.append(q(to))
        } else {
            if let from = p.from { words.append(q(from)) }
            if let to = p.to { words += ["->", q(to)] }
        }
        if !p.change.isPinnable && !p.files.isEmpty {
            let more = max(0, p.files.count - pipFilesShown) + (p.filesLeftOut ?? 0)
            words[words.count - 1] += ":"
            // A RECORD-listed file is named absolute: relative to its site-packages, as pip lists it.
            let base = p.sitePackages.hasSuffix("/") ? p.sitePackages : p.sitePackages + "/"
            let shown = p.files.prefix(pipFilesShown).map { $0.hasPrefix(base) ? String($0.dropFirst(base.count)) : $0 }
            words.append(shown.map(q).joined(separator: ", ") + (more > 0 ? " and \(more) more" : ""))
        }
        if p.allowed { words.append("[allowed]") }
        return words.joined(separator: " ")
    }
}
