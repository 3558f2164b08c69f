import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the sandbox broker could not listen: the port is in use, or another socket error. A struct over a
/// private enum so that new reasons can be added without breaking callers.
public struct SandboxListenError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Reason: Sendable, Equatable { case portInUse, addressNotAvailable, other(String) }

    public let host: String
    public let port: Int
    private let reason: Reason

    private init(host: String, port: Int, reason: Reason) {
        self.host = host
        self.port = port
        self.reason = reason
    }

    /// Another program (or broker) listens on `host:port`.
    public static func portInUse(host: String, port: Int) -> SandboxListenError {
        .init(host: host, port: port, reason: .portInUse)
    }

    /// `host` is not an address of this machine.
    public static func addressNotAvailable(host: String, port: Int) -> SandboxListenError {
        .init(host: host, port: port, reason: .addressNotAvailable)
    }

    init(host: String, port: Int, cause: Error) {
        self.host = host
        self.port = port
        switch (cause as? IOError)?.errnoCode {
        case EADDRINUSE: reason = .portInUse
        case EADDRNOTAVAIL: reason = .addressNotAvailable
        default: reason = .other("\(cause)")
        }
    }

    /// Another program (or broker) listens on the port.
    public var isPortInUse: Bool {
        if case .portInUse = reason { return true }
        return false
    }

    /// One line for the user, e.g. "port 61613 is in use".
    public var description: String {
        switch reason {
        case .portInUse: return "port \(port) is in use"
        case .addressNotAvailable: return "\(host) is not an address of this machine"
        case .other(let text): return "cannot listen on \(host):\(port): \(text)"
        }
    }
}
