import NIOCore
import NIOPosix
import NIOSSL
import StompProto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a connection failed or ended. `description` is one line that names the cause.
public enum StompConnectionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No route, DNS failure, or the TCP connect timed out.
    case unreachable(host: String, port: Int, reason: String)
    /// The host answered but nothing listens on that port.
    case refused(host: String, port: Int)
    /// Handshake or certificate problem (verification, name mismatch, bad key file...).
    case tlsFailure(host: String, port: Int, reason: String)
    /// STOMP over WebSocket: the opening handshake failed (HTTP status, subprotocol, not HTTP at all), a
    /// WebSocket frame broke the rules, or the server closed the WebSocket (code and reason in `reason`).
    case webSocket(host: String, port: Int, reason: String)
    /// The broker answered CONNECT with an ERROR (bad login/passcode, vhost access refused).
    case authenticationFailed(message: String, login: String?)
    /// The broker refused CONNECT's `host` header (the virtual host) in every form tried: "/" (RabbitMQ's
    /// default vhost) and the URL's host name (the specification's recommendation).
    case hostRefused(message: String, tried: [String])
    /// The broker closed the connection just after an ERROR frame (within `ConnectionOptions.errorCloseGrace`).
    case brokerError(ServerError)
    /// The broker answered a request (its `receipt-id`) with an ERROR and kept the connection open.
    case rejected(ServerError)
    /// No answer within the time allowed (CONNECTED, RECEIPT, ...).
    case timeout(what: String, seconds: Double)
    /// Heart-beats were negotiated and the broker stopped sending anything.
    case peerSilent(silentForSeconds: Double, expectedEveryMilliseconds: Int)
    /// The broker closed the TCP connection; `midFrame`: in the middle of a frame.
    case closedByPeer(midFrame: Bool)
    /// The broker sent nothing for `seconds` (the stall timeout) in the middle of a frame (`pendingBytes` of it received).
    case stalledMidFrame(seconds: Double, pendingBytes: Int)
    /// The broker took none of our bytes for `seconds` (the write stall timeout) while `pendingBytes` waited to
    /// be written: it stopped reading (stuck, or flow control holding this producer).
    case writeStalled(seconds: Double, pendingBytes: Int)
    /// The broker sent bytes that are not STOMP.
    case protocolViolation(FrameDecodingError)
    /// The session refused the request (not subscribed, unknown transaction, ...); nothing was sent.
    case session(SessionError)
    /// We could not encode the frame (e.g. a header with LF in STOMP 1.0); nothing was sent.
    case encoding(FrameEncodingError)
    /// No connection (never connected, closed, or reconnecting).
    case notConnected
    /// Local configuration problem (TLS files, options).
    case configuration(String)
    /// Any other I/O error.
    case io(String)

    public var description: String {
        switch self {
        case let .unreachable(host, port, reason):
            return "cannot reach \(Self.hp(host, port)): \(reason)"
        case let .refused(host, port):
            return "connection refused by \(Self.hp(host, port)): nothing listens on port \(port)"
        case let .tlsFailure(host, port, reason):
            return "TLS with \(Self.hp(host, port)) failed: \(reason)"
        case let .webSocket(host, port, reason):
            return "WebSocket with \(Self.hp(host, port)): \(Self.oneLine(reason))"
        case let .authenticationFailed(message, login):
            let who = login.map { " as '\($0)'" } ?? " (no login given)"
            return "broker refused the connection\(who): \(Self.oneLine(message))"
        case let .hostRefused(message, tried):
            return "broker refused the virtual host (tried " + tried.map { "host:\($0)" }.joined(separator: " and ")
                + "): \(Self.oneLine(message)); name it with --vhost"
        case let .brokerError(err):
            // The ERROR frame itself was reported (printed) when it came: name it, do not repeat its body.
            return "broker closed the connection after its ERROR \"\(Self.oneLine(err.message))\""
        case let .rejected(err):
            return "broker answered with ERROR: " + Self.summary(err)
        case let .timeout(what, seconds):
            return "timed out after \(Self.secs(seconds)) waiting for \(what)"
        case let .peerSilent(silent, every):
            return "broker went silent: nothing received for \(Self.secs(silent)) (heart-beat expected every \(every) ms)"
        case let .closedByPeer(midFrame):
            return midFrame ? "broker closed the connection in the middle of a frame"
                            : "broker closed the connection"
        case let .stalledMidFrame(seconds, pending):
            return "broker stopped sending in the middle of a frame: nothing for \(Self.secs(seconds)) after \(pending) bytes of it"
        case let .writeStalled(seconds, pending):
            return "broker stopped reading: none of \(pending) bytes waiting to be written taken for \(Self.secs(seconds))"
                + " (broker stuck, or flow control holding this producer); connection closed"
        case let .protocolViolation(err):
            return "broker sent invalid STOMP: \(err)"
        case let .session(err):
            return "\(err)"
        case let .encoding(err):
            return "cannot encode frame: \(err)"
        case .notConnected:
            return "not connected"
        case let .configuration(s):
            return s
        case let .io(s):
            return Self.oneLine(s)
        }
    }

    /// Whose fault: `.local` for what we refused or could not do ourselves (nothing was sent), `.peer` for
    /// what the broker or the network did.
    public var fault: StompFault {
        switch self {
        case .session(let e): return e.fault   // a frame that makes no sense now is the peer's
        case .encoding, .configuration, .notConnected: return .local
        default: return .peer
        }
    }

    /// Whether the connection is gone when this error is reported (it failed, ended, or never was):
    /// a shell's exit status 3 ("could not connect or lost for good") derives from it; the others are 1.
    public var endsConnection: Bool {
        switch self {
        case .unreachable, .refused, .tlsFailure, .webSocket, .authenticationFailed, .hostRefused, .brokerError, .peerSilent, .closedByPeer,
             .stalledMidFrame, .writeStalled, .protocolViolation, .notConnected, .io:
            return true
        case .session(let e):
            return e.fault == .peer          // the peer broke the protocol (a second CONNECTED): the link is closed
        case .rejected, .timeout, .encoding, .configuration:
            return false
        }
    }

    /// Whether this refusal of CONNECT is about its `host` header (unknown or refused virtual host), not
    /// the credentials: Artemis says "Virtual hosting is not supported or host is unknown", RabbitMQ
    /// "Virtual host 'localhost' access denied".
    var refusesHostHeader: Bool {
        let text: String
        switch self {
        case .authenticationFailed(let message, _): text = message
        case .brokerError(let err), .rejected(let err): text = err.message + " " + err.bodyText
        default: return false
        }
        let t = text.lowercased()
        return t.contains("virtual host") || t.contains("vhost")
            || (t.contains("host") && (t.contains("unknown") || t.contains("not supported")))
    }

    /// The message of a refusal (for `.hostRefused`).
    var refusalMessage: String {
        switch self {
        case .authenticationFailed(let message, _): return message
        case .brokerError(let err), .rejected(let err): return Self.summary(err)
        default: return description
        }
    }

    /// Whether connecting again could help: not after the broker refused our login or virtual host.
    var isWorthRetrying: Bool {
        switch self {
        case .authenticationFailed, .hostRefused: return false
        default: return true
        }
    }

    /// An ERROR's message, and the first line of its body when it says more.
    static func summary(_ err: ServerError) -> String {
        var s = oneLine(err.message)
        let firstBodyLine = oneLine(String(decoding: err.body.prefix(300), as: UTF8.self))
        if !firstBodyLine.isEmpty && firstBodyLine != s { s += s.isEmpty ? firstBodyLine : " — " + firstBodyLine }
        return s
    }

    static func hp(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func secs(_ s: Double) -> String {
        if s == s.rounded() { return "\(Int(s)) s" }
        let ms = (s * 1000).rounded() / 1000
        return "\(ms) s"
    }

    /// First line, trimmed, at most 300 characters.
    static func oneLine(_ s: String) -> String {
        let line = s.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first.map(String.init) ?? ""
        let t = line.trimmingSpaces
        return t.count > 300 ? String(t.prefix(300)) + "…" : t
    }
}

// MARK: - Mapping NIO errors to causes

extension StompConnectionError {
    /// Classifies an error from connecting (TCP, DNS, TLS) to `url`.
    static func fromConnect(_ error: Error, url: StompURL, connectTimeout: TimeAmount) -> StompConnectionError {
        if let e = error as? StompConnectionError { return e }
        let host = url.host, port = url.port
        if let e = error as? NIOConnectionError {
            // Happy-eyeballs: DNS errors and one error per address tried.
            var refused = false
            var reasons: [String] = []
            for f in e.connectionErrors {
                if let io = f.error as? IOError, io.errnoCode == ECONNREFUSED { refused = true }
                reasons.append(describeSocketError(f.error, connectTimeout: connectTimeout))
            }
            if refused { return .refused(host: host, port: port) }
            if e.connectionErrors.isEmpty {
                if e.dnsAError != nil || e.dnsAAAAError != nil {
                    return .unreachable(host: host, port: port, reason: "cannot resolve host name '\(host)'")
                }
                return .unreachable(host: host, port: port, reason: "host name '\(host)' has no address")
            }
            return .unreachable(host: host, port: port, reason: Array(Set(reasons)).sorted().joined(separator: "; "))
        }
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED { return .refused(host: host, port: port) }
        if let ce = error as? ChannelError, case .connectTimeout = ce {
            return .unreachable(host: host, port: port,
                                reason: "no answer within \(secs(Double(connectTimeout.nanoseconds) / 1e9)) (connect timed out)")
        }
        if let tls = tlsReason(error) { return .tlsFailure(host: host, port: port, reason: tls) }
        if error is IOError || error is SocketAddressError {
            return .unreachable(host: host, port: port, reason: describeSocketError(error, connectTimeout: connectTimeout))
        }
        return .io("\(url.hostAndPort): \(error)")
    }

    static func describeSocketError(_ error: Error, connectTimeout: TimeAmount) -> String {
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ENETUNREACH: return "network is unreachable"
            case EHOSTUNREACH: return "no route to host"
            case ETIMEDOUT: return "connect timed out"
            case EADDRNOTAVAIL: return "address not available"
            default: return String(cString: strerror(io.errnoCode)).lowercased()
            }
        }
        if let ce = error as? ChannelError, case .connectTimeout = ce {
            return "no answer within \(secs(Double(connectTimeout.nanoseconds) / 1e9)) (connect timed out)"
        }
        if error is SocketAddressError { return "cannot resolve host name" }
        return "\(error)"
    }

    /// A readable reason if `error` comes from TLS, else nil.
    static func tlsReason(_ error: Error) -> String? {
        if let e = error as? NIOSSLExtraError {
            switch e {
            case .failedToValidateHostname:
                return "the broker's certificate does not match the host name (\(e))"
            case .cannotUseIPAddressInSNI, .invalidSNIHostname:
                return "invalid TLS server name (\(e))"
            default:
                return "\(e)"
            }
        }
        if let e = error as? NIOSSLError {
            switch e {
            case let .handshakeFailed(b):
                let text = "\(b)"
                if text.contains("CERTIFICATE_VERIFY_FAILED") {
                    return "certificate verification failed: the broker's certificate is not signed by a trusted CA"
                        + " (use --cafile, or --insecure to skip verification)"
                }
                if text.contains("EOF during handshake") {
                    return "the broker closed the connection during the TLS handshake (a plain stomp:// port, or it refused our certificate?)"
                }
                if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") {
                    return "handshake failed: the port does not speak TLS (is it a plain stomp:// port?)"
                }
                if text.contains("ALERT_") || text.contains("alert") {
                    return "handshake refused by the broker (\(shortBoringSSL(text)))"
                }
                return "handshake failed (\(shortBoringSSL(text)))"
            case .uncleanShutdown:
                return "the broker closed the TLS connection without a TLS close"
            case .failedToLoadCertificate, .failedToLoadPrivateKey, .noSuchFilesystemObject:
                return "cannot load certificate or key (\(e))"
            default:
                return "\(e)"
            }
        }
        if let e = error as? BoringSSLError {
            return "\(shortBoringSSL("\(e)"))"
        }
        return nil
    }

    /// Pulls the reason names out of a BoringSSL error stack description.
    static func shortBoringSSL(_ s: String) -> String {
        // Error descriptions look like: sslError([Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at ...])
        var reasons: [String] = []
        var rest = Substring(s)
        while let r = rest.firstRange(of: "OPENSSL_internal:") {
            rest = rest[r.upperBound...]
            let name = rest.prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" })
            if !name.isEmpty && !reasons.contains(String(name)) { reasons.append(String(name)) }
        }
        return reasons.isEmpty ? oneLine(s) : reasons.joined(separator: ", ")
    }
}
