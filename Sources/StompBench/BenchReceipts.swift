/// `bench send --receipts none|each|window:W`.
public enum BenchReceipts: Equatable, Sendable, CustomStringConvertible {
    /// No receipts but on the last message (the broker confirms it took them all).
    case none
    /// One receipt per message, waited for before the next (sequential).
    case each
    /// One receipt per message, at most W outstanding.
    case window(Int)

    public init?(_ text: String) {
        switch text {
        case "none": self = .none
        case "each": self = .each
        default:
            guard text.hasPrefix("window:"), let w = Int(text.dropFirst(7)), w >= 1 else { return nil }
            self = .window(w)
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .each: return "each"
        case .window(let w): return "window:\(w)"
        }
    }
}
