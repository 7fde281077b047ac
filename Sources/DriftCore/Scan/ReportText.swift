/// The human format of a scan report: grouped by class, with counts.
public enum ReportText {
    public static func render(_ r: ScanReport, color: Bool) -> String {
        func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        var out = ""
        let head = r.clean ? paint("clean", "32") : paint("DRIFT", "1;31")
        out += "\(head): \(r.root) against \(r.commit.prefix(12)) on \(r.host) at \(r.scannedAt)\n"
        out += "checked \(r.summary.checked) entries, hashed \(r.summary.hashed), drifted \(r.summary.drifted), errors \(r.summary.errors)\n"
        for cls in FileClass.allCases where cls != .ignore {
            let items = r.files.filter { $0.fileClass == cls.rawValue }
            if items.isEmpty { continue }
            out += "\n" + paint("\(cls.rawValue) (\(items.count))", "1") + "\n"
            for f in items {
                var line = "  \(f.change.padded(to: 8)) \(f.path)"
                switch f.change {
                case "mode": line += "  \(f.oldMode ?? "?") -> \(f.newMode ?? "?")"
                case "type": line += "  \(f.oldType ?? "?") -> \(f.newType ?? "?")"
                default: break
                }
                if f.secret { line += "  [secret]" }
                if f.unstable == true { line += "  [unstable: changed while read]" }
                line += "  since \(f.firstSeen)"
                if f.overdue == true { line += " " + paint("OVERDUE", "1;31") }
                out += line + "\n"
            }
        }
        if !r.pip.isEmpty {
            out += "\n" + paint("pip (\(r.pip.count))", "1") + "\n"
            for p in r.pip {
                out += "  \(p.change.padded(to: 10)) \(p.name ?? "(unowned)") \(p.from ?? "") \(p.to.map { "-> \($0)" } ?? "")\(p.allowed ? " [allowed]" : "")\n"
            }
        }
        if !r.errors.isEmpty {
            out += "\n" + paint("errors (\(r.errors.count))", "1;33") + "\n"
            for e in r.errors { out += "  \(e.path): \(e.message)\n" }
        }
        return out
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
