/// Bounds on what a peer may make the decoder buffer. Checked while bytes arrive,
/// so memory never grows past them whatever the peer sends.
public struct StompLimits: Sendable, Equatable {
    /// Longest command line, in bytes (excluding the EOL).
    public var maxCommandLength: Int
    /// Longest header line, in bytes (excluding the EOL), before unescaping.
    public var maxHeaderLineLength: Int
    /// Most header lines in one frame.
    public var maxHeaderCount: Int
    /// Largest body, in bytes (excluding the terminating NUL).
    public var maxBodySize: Int

    public init(maxCommandLength: Int = 1024, maxHeaderLineLength: Int = 64 * 1024,
                maxHeaderCount: Int = 1000, maxBodySize: Int = 64 * 1024 * 1024) {
        self.maxCommandLength = maxCommandLength
        self.maxHeaderLineLength = maxHeaderLineLength
        self.maxHeaderCount = maxHeaderCount
        self.maxBodySize = maxBodySize
    }

    /// 1 KiB command, 64 KiB header line, 1000 headers, 64 MiB body.
    public static let `default` = StompLimits()
}
