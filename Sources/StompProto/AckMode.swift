/// A subscription's acknowledgement mode (SUBSCRIBE `ack` header).
public enum AckMode: String, Sendable, CaseIterable {
    /// The broker considers a message acknowledged as soon as it is sent.
    case auto
    /// ACK is cumulative: it settles that message and every earlier one of the subscription.
    case client
    /// ACK settles exactly one message (1.1+).
    case clientIndividual = "client-individual"
}
