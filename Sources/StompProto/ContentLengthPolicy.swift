/// When the encoder writes a `content-length` header. It is an option because ActiveMQ turns a
/// SEND with content-length into a BytesMessage, and users want to choose.
public enum ContentLengthPolicy: Sendable, Equatable {
    /// Only when the body contains NUL (an explicit header in the frame is kept and checked).
    case whenNeeded
    /// On every frame that may carry a body (SEND, MESSAGE, ERROR) and any frame with a body.
    case always
    /// Never added; a body containing NUL is then an error. An explicit header is kept and checked.
    case never
}
