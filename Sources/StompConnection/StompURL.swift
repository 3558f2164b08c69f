/// One broker address: `stomp://[LOGIN[:PASSCODE]@]HOST[:PORT][/VHOST]`, `stomp+ssl://...`, or STOMP over
/// WebSocket: `ws://[LOGIN[:PASSCODE]@]HOST[:PORT]/PATH` and `wss://...` (the path, with any query, is the HTTP
/// request target; the vhost then comes from `--vhost` only).
///
/// `parseList` also accepts `failover:(URL,URL,...)` (ActiveMQ style; query parameters after the
/// closing parenthesis are ignored) and a bare `HOST[:PORT]`, which means `stomp://HOST:PORT`.
public struct StompURL: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var tls: Bool
    /// STOMP over WebSocket (`ws://`, `wss://` when `tls`): see `path`.
    public var webSocket: Bool
    /// The WebSocket endpoint's request target (`/ws`, `/stomp?token=...`); "/" for raw STOMP URLs.
    public var path: String
    public var host: String
    public var port: Int
    public var login: String?
    public var passcode: String?
    /// Virtual host, sent as the CONNECT `host` header. `nil`: the connection sends `host:/`.
    public var vhost: String?

    public static let defaultHost = "localhost"
    public static let defaultPort = 61613
    public static let defaultTLSPort = 61614
    /// `ws://` and `wss://` default to HTTP's ports, as browsers do.
    public static let defaultWebSocketPort = 80
    public static let defaultSecureWebSocketPort = 443

    public init(tls: Bool = false, host: String = StompURL.defaultHost, port: Int? = nil,
                login: String? = nil, passcode: String? = nil, vhost: String? = nil,
                webSocket: Bool = false, path: String = "/") {
        self.tls = tls
        self.webSocket = webSocket
        self.path = path.isEmpty ? "/" : path
        self.host = host
        self.port = port ?? (webSocket ? (tls ? StompURL.defaultSecureWebSocketPort : StompURL.defaultWebSocketPort)
                                       : (tls ? StompURL.defaultTLSPort : StompURL.defaultPort))
        self.login = login
        self.passcode = passcode
        self.vhost = vhost
    }

    /// `stomp://localhost:61613`
    public static let `default` = StompURL()

    /// Parses one URL (no `failover:`).
    public init(parsing string: String) throws {
        self = try StompURL.parseOne(string)
    }

    /// Parses `stomp://...`, `stomp+ssl://...`, `failover:(a,b,...)`, or a comma-separated list of them.
    /// An empty string gives `[StompURL.default]`.
    public static func parseList(_ s: String) throws -> [StompURL] {
        let text = s.trimmingSpaces
        if text.isEmpty { return [.default] }
        let lower = text.lowercased()
        if lower.hasPrefix("failover:") {
            var inner = Substring(text.dropFirst("failover:".count)).trimmingSpacesSub
            if inner.hasPrefix("(") {
                guard let close = inner.lastIndex(of: ")") else {
                    throw StompURLError(input: s, reason: "failover: missing ')'")
                }
                inner = inner[inner.index(after: inner.startIndex)..<close]
            } else if let q = inner.firstIndex(of: "?") {
                inner = inner[..<q]
            }
            let parts = inner.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
            if parts.isEmpty || parts.contains(where: { $0.isEmpty }) {
                throw StompURLError(input: s, reason: "failover: empty URL in the list")
            }
            return try parts.map { try parseOne($0) }
        }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
        if parts.contains(where: { $0.isEmpty }) {
            throw StompURLError(input: s, reason: "empty URL in the list")
        }
        return try parts.map { try parseOne($0) }
    }

    static func parseOne(_ input: String) throws -> StompURL {
        var rest = Substring(input.trimmingSpaces)
        var tls = false
        var webSocket = false
        if let r = rest.firstRange(of: "://") {
            let scheme = rest[..<r.lowerBound].lowercased()
            switch scheme {
            case "stomp", "tcp": tls = false
            case "stomp+ssl", "stomp+tls", "stomps", "ssl", "tls", "stomp+nio+ssl": tls = true
            case "ws": webSocket = true
            case "wss": webSocket = true; tls = true
            default:
                throw StompURLError(input: input, reason: "unknown scheme '\(scheme)' (use stomp://, stomp+ssl://, ws:// or wss://)")
            }
            rest = rest[r.upperBound...]
        }
        // Raw STOMP: drop a query or fragment (ActiveMQ URLs carry options there; none apply here).
        // WebSocket: the query belongs to the request target (a token, say); only a fragment goes.
        if let q = rest.firstIndex(where: { $0 == "#" || (!webSocket && $0 == "?") }) { rest = rest[..<q] }
        if webSocket, let q = rest.firstIndex(of: "?"), !rest[..<q].contains("/") {
            rest = Substring(String(rest[..<q]) + "/" + String(rest[q...]))   // ws://h:1?x → path "/?x"
        }

        var authority = rest
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        var login: String?
        var passcode: String?
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                login = try percentDecode(userinfo[..<colon], input: input)
                passcode = try percentDecode(userinfo[userinfo.index(after: colon)...], input: input)
            } else {
                login = try percentDecode(userinfo, input: input)
            }
        }
        var host: String
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw StompURLError(input: input, reason: "missing ']' after IPv6 address")
            }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw StompURLError(input: input, reason: "unexpected '\(after)' after IPv6 address")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
            if host.contains(":") {
                throw StompURLError(input: input, reason: "'\(authority)' has more than one ':' (an IPv6 address goes in brackets: [::1]:61613)")
            }
        } else {
            host = String(authority)
        }
        host = try percentDecode(Substring(host), input: input)
        if host.isEmpty { host = defaultHost }
        var port: Int?
        if let pt = portText {
            guard let p = Int(pt), (1...65535).contains(p) else {
                throw StompURLError(input: input, reason: "invalid port '\(pt)'")
            }
            port = p
        }
        if webSocket {
            for b in path.utf8 where b <= 0x20 || b == 0x7F {
                throw StompURLError(input: input, reason: "the WebSocket path holds a space or control character (percent-encode it)")
            }
            return StompURL(tls: tls, host: host, port: port, login: login, passcode: passcode, vhost: nil,
                            webSocket: true, path: "/" + path)
        }
        var vhost: String?
        if !path.isEmpty {
            // `stomp://host/` means no vhost; `stomp://host//` or `%2F` means vhost "/".
            vhost = try percentDecode(path, input: input)
            if vhost!.isEmpty { vhost = nil }
        }
        return StompURL(tls: tls, host: host, port: port, login: login, passcode: passcode, vhost: vhost)
    }

    static func percentDecode(_ s: Substring, input: String) throws -> String {
        if !s.contains("%") { return String(s) }
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.first {
            bytes = bytes.dropFirst()
            if b == UInt8(ascii: "%") {
                guard bytes.count >= 2, let hi = hexValue(bytes[bytes.startIndex]),
                      let lo = hexValue(bytes[bytes.startIndex + 1]) else {
                    throw StompURLError(input: input, reason: "bad percent-escape in '\(s)'")
                }
                out.append(hi << 4 | lo)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        guard let str = String(validating: out, as: UTF8.self) else {
            throw StompURLError(input: input, reason: "percent-escapes in '\(s)' are not UTF-8")
        }
        return str
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func percentEncode(_ s: String, keep: (UInt8) -> Bool) -> String {
        var out = ""
        for b in s.utf8 {
            if keep(b) { out.unicodeScalars.append(UnicodeScalar(b)) } else {
                out += "%" + String(b, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }

    private static func unreserved(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
    }

    /// `host:port` (IPv6 in brackets).
    public var hostAndPort: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// What a passcode shows as wherever one would be printed.
    public static let passcodeMask = "****"

    /// The URL, with the login but never the passcode (shown as `****` if present).
    public var description: String {
        var s = webSocket ? (tls ? "wss://" : "ws://") : (tls ? "stomp+ssl://" : "stomp://")
        if let login {
            s += StompURL.percentEncode(login, keep: StompURL.unreserved)
            if passcode != nil { s += ":" + StompURL.passcodeMask }
            s += "@"
        }
        s += hostAndPort
        if webSocket { return s + path }
        if let vhost { s += "/" + StompURL.percentEncode(vhost, keep: StompURL.unreserved) }
        return s
    }
}

/// A URL that could not be parsed.
public struct StompURLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var input: String
    public var reason: String
    public var description: String {
        // Never echo a passcode back: show the input with userinfo masked.
        "invalid broker URL '\(StompURLError.mask(input))': \(reason)"
    }

    /// `s` with the passcode of every `scheme://login:passcode@` masked. The userinfo ends at the last '@'
    /// before the next URL of a list, so a passcode holding '/', '?' or '@' is masked whole.
    static func mask(_ s: String) -> String {
        var out = ""
        var rest = Substring(s)
        while let r = rest.firstRange(of: "://") {
            out += rest[..<r.upperBound]
            rest = rest[r.upperBound...]
            let end = rest.firstIndex(where: { $0 == "," || $0 == ")" || $0 == " " }) ?? rest.endIndex
            let segment = rest[..<end]
            if let at = segment.lastIndex(of: "@"), let colon = segment[..<at].firstIndex(of: ":") {
                out += segment[..<colon] + ":" + StompURL.passcodeMask
                rest = rest[at...]
            }
        }
        return out + rest
    }
}

extension String {
    var trimmingSpaces: String { String(Substring(self).trimmingSpacesSub) }
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

extension Substring {
    var trimmingSpacesSub: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s = s.dropLast() }
        return s
    }
}
