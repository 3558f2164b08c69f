/// Whose fault an error is: the other side's protocol violation, or our own misuse of the API.
public enum StompFault: Sendable, Equatable {
    /// The peer sent something the protocol forbids.
    case peer
    /// We asked for something impossible or illegal (nothing was sent).
    case local
}
