/// A STOMP protocol version. Decides header escaping, ACK headers and which commands exist.
public enum StompVersion: String, Sendable, Comparable, CaseIterable {
    case v1_0 = "1.0", v1_1 = "1.1", v1_2 = "1.2"

    public static func < (lhs: StompVersion, rhs: StompVersion) -> Bool {
        lhs.rank < rhs.rank
    }

    private var rank: Int {
        switch self {
        case .v1_0: return 0
        case .v1_1: return 1
        case .v1_2: return 2
        }
    }
}
