/// Protocol version negotiation: the client lists versions in `accept-version`,
/// the server answers with `version` in CONNECTED (absent means 1.0).
public enum VersionNegotiation {
    /// "1.0,1.1,1.2": the offered versions, ascending, without repeats.
    public static func acceptVersionHeader(_ offered: [StompVersion]) -> String {
        Set(offered).sorted().map(\.rawValue).joined(separator: ",")
    }

    /// The version the server chose, if it is one we offered. A missing header means 1.0 (spec).
    /// A comma-separated list (non-conforming servers) yields the highest offered version in it.
    public static func choose(offered: [StompVersion], serverVersionHeader: String?) -> StompVersion? {
        guard let header = serverVersionHeader else { return .v1_0 }
        let named = header.split(separator: ",").compactMap { StompVersion(rawValue: String($0)) }
        return named.filter { offered.contains($0) }.max()
    }

    /// Server side: the highest version both sides support. A missing header means 1.0.
    public static func serverChoice(acceptVersionHeader: String?, supported: [StompVersion] = StompVersion.allCases) -> StompVersion? {
        guard let header = acceptVersionHeader else { return supported.contains(.v1_0) ? .v1_0 : nil }
        let named = header.split(separator: ",").compactMap { StompVersion(rawValue: String($0)) }
        return named.filter { supported.contains($0) }.max()
    }
}
