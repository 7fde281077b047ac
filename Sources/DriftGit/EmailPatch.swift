import CLibGit2
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

extension GitRepository {
    /// An mbox message of a commit that `git am` applies on its (single) parent.
    ///
    /// Written here rather than by `git_email_create_from_commit`: libgit2 1.5 puts a diffstat
    /// with raw, unquoted file names between `---` and the patch, and `git am` parses that
    /// region, so a name holding a newline and `diff --git …` could smuggle a file in. Here the
    /// stat is the one-line summary (counts only); names appear only in the patch, which
    /// quotes them (`diff --git "a/x\n…"`), and in the message, where `PathBytes.display` has.
    public func emailPatch(_ commit: ObjectID) throws -> [UInt8] {
        let c = try lookupCommit(commit)
        guard let parent = c.parentIDs.first else {
            throw DriftError(.gitFailure, path: path, "commit \(commit.hex) has no parent")
        }
        guard let sig = git_commit_author(c.pointer)?.pointee else {
            throw DriftError(.gitFailure, path: path, "commit \(commit.hex) has no author")
        }
        let name = String(cString: sig.name)
        let email = String(cString: sig.email)
        let when = Date(timeIntervalSince1970: TimeInterval(sig.when.time))
        let date = Self.rfc2822(when, offsetMinutes: Int(sig.when.offset))
        let message = c.message
        let (subject, body) = Self.split(message)
        var head = "From \(commit.hex) Mon Sep 17 00:00:00 2001\nFrom: \(name) <\(email)>\nDate: \(date)\n"
        head += "Subject: [PATCH] \(subject)\n\n"
        if !body.isEmpty { head += body + (body.hasSuffix("\n") ? "" : "\n") }
        let (patch, stat) = try diffWithStat(try treeOf(commit: parent), c.treeID)
        return Array((head + "---\n" + stat + "\n").utf8) + patch + Array("--\ndrift\n\n".utf8)
    }

    /// The patch between two trees and git's one-line `--shortstat` summary (no names).
    func diffWithStat(_ old: ObjectID, _ new: ObjectID) throws -> ([UInt8], String) {
        try withTreeDiff(old, new) { diff in
            var stats: OpaquePointer?
            try check(git_diff_get_stats(&stats, diff), "git_diff_get_stats", shown)
            defer { git_diff_stats_free(stats) }
            var sbuf = git_buf()
            try check(git_diff_stats_to_buf(&sbuf, stats, GIT_DIFF_STATS_SHORT, 0), "git_diff_stats_to_buf", shown)
            let stat = String(decoding: takeBuffer(&sbuf), as: UTF8.self)
            var buf = git_buf()
            try check(git_diff_to_buf(&buf, diff, GIT_DIFF_FORMAT_PATCH), "git_diff_to_buf", shown)
            return (takeBuffer(&buf), stat)
        }
    }

    /// The subject (first paragraph, lines joined by spaces, as git does) and the body.
    static func split(_ message: String) -> (String, String) {
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
        var i = 0
        while i < lines.count && lines[i].trimmingSpaces().isEmpty { i += 1 }
        var subject: [String] = []
        while i < lines.count && !lines[i].trimmingSpaces().isEmpty {
            subject.append(lines[i].trimmingSpaces())
            i += 1
        }
        while i < lines.count && lines[i].trimmingSpaces().isEmpty { i += 1 }
        return (subject.joined(separator: " "), lines[i...].joined(separator: "\n"))
    }

    static func rfc2822(_ d: Date, offsetMinutes: Int) -> String {
        // EEE, dd MMM yyyy HH:mm:ss Z in the C locale, by hand: DateFormatter needs ICU.
        var t = time_t(d.timeIntervalSince1970.rounded(.down)) + time_t(offsetMinutes * 60)
        var tm = tm()
        gmtime_r(&t, &tm)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let off = abs(offsetMinutes)
        let zone = (offsetMinutes < 0 ? "-" : "+") + two(Int32(off / 60)) + two(Int32(off % 60))
        return "\(days[Int(tm.tm_wday)]), \(two(tm.tm_mday)) \(months[Int(tm.tm_mon)]) \(tm.tm_year + 1900) "
            + "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)) \(zone)"
    }
}
