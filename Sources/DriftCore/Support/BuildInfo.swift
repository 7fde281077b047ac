import CBuildInfo
import CCrypto
import CLibGit2

/// What this binary is: drift's version, the commit it was built from, and the libgit2 and
/// OpenSSL versions actually linked in (read at run time, so a dev build linking the system's
/// shared libraries reports those).
public enum BuildInfo {
    /// drift's release version; `scripts/dist.sh` names the dist file after it.
    public static let version = "0.1.0"

    /// The full commit id `scripts/dist.sh` built from, or nil for a development build.
    public static var commit: String? {
        let c = String(cString: drift_git_commit())
        return c.isEmpty ? nil : c
    }

    /// `1.5.1 (https, ssh, threads)`.
    public static var libgit2: String {
        var major: Int32 = 0
        var minor: Int32 = 0
        var rev: Int32 = 0
        git_libgit2_version(&major, &minor, &rev)
        let f = git_libgit2_features()
        var features: [String] = []
        if f & Int32(GIT_FEATURE_HTTPS.rawValue) != 0 { features.append("https") }
        if f & Int32(GIT_FEATURE_SSH.rawValue) != 0 { features.append("ssh") }
        if f & Int32(GIT_FEATURE_THREADS.rawValue) != 0 { features.append("threads") }
        return "\(major).\(minor).\(rev) (\(features.joined(separator: ", ")))"
    }

    /// OpenSSL's own version line, e.g. `OpenSSL 3.0.19 27 Jan 2026`.
    public static var openssl: String {
        OpenSSL_version(Int32(OPENSSL_VERSION)).map { String(cString: $0) } ?? "unknown"
    }

    /// The `drift --version` text, four lines.
    public static var text: String {
        """
        drift \(version)
        commit \(commit ?? "unknown (development build)")
        libgit2 \(libgit2)
        \(openssl)
        """
    }
}
