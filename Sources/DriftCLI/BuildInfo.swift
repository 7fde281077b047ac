import CBuildInfo
import DriftGit
import DriftSystem

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

    /// The gate's documentation (docs/gate.md) at the commit this binary was built from, as
    /// `scripts/dist.sh` derived it from the repository's origin (or `$DRIFT_DOCS_URL`); nil for
    /// a development build. SARIF's `informationUri`.
    public static var docsURL: String? {
        let u = String(cString: drift_docs_url())
        return u.isEmpty ? nil : u
    }

    /// `1.5.1 (https, ssh, threads)`.
    public static var libgit2: String { GitLibrary.version }

    /// OpenSSL's own version line.
    public static var openssl: String { OpenSSLLibrary.version }

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
