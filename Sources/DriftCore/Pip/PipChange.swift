/// One site-packages change (filled by the pip layer; empty until a baseline exists).
public struct PipChange: Codable, Sendable {
    public var name: String?
    var change: PipChangeKind
    public var from: String?
    public var to: String?
    public var sitePackages: String
    public var files: [String]
    /// Accepted by the policy's `pip.allow`: reported as info, not drift.
    public var allowed: Bool
    /// Where an editable, VCS or URL install came from (`direct_url.json`).
    var url: String?
    /// `state.json` only: how many of `files` were left out (it keeps the first few of a
    /// `modified` or `unowned` change, for `drift status`; none of the others').
    var filesLeftOut: Int?

    public init(name: String?, change: PipChangeKind, from: String?, to: String?, sitePackages: String, files: [String],
                allowed: Bool, url: String? = nil) {
        self.name = name
        self.change = change
        self.from = from
        self.to = to
        self.sitePackages = sitePackages
        self.files = files
        self.allowed = allowed
        self.url = url
    }

    enum CodingKeys: String, CodingKey {
        case name, change, from, to, files, allowed, url
        case filesLeftOut = "files_left_out"
        case sitePackages = "site_packages"
    }
}
