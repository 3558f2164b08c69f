import NIOCore
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension TLSOptions {
    /// The NIOSSL client configuration: full verification against the system trust store or `caFile`,
    /// optional client certificate and key, or no verification at all when `insecure`.
    public func makeTLSConfiguration() throws -> TLSConfiguration {
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv12
        if insecure {
            config.certificateVerification = .none
        } else {
            config.certificateVerification = .fullVerification
            if let caFile {
                try Self.checkReadable(caFile, what: "CA file")
                do {
                    let certs = try NIOSSLCertificate.fromPEMFile(caFile)
                    if certs.isEmpty { throw StompConnectionError.configuration("CA file '\(caFile)' holds no PEM certificate") }
                    config.trustRoots = .certificates(certs)
                } catch let e as StompConnectionError {
                    throw e
                } catch {
                    throw StompConnectionError.configuration("cannot read CA file '\(caFile)': not a PEM certificate (\(error))")
                }
            } else {
                config.trustRoots = .default
            }
        }
        switch (certificateFile, keyFile) {
        case (nil, nil):
            break
        case let (cert?, key?):
            try Self.checkReadable(cert, what: "client certificate")
            try Self.checkReadable(key, what: "client key")
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(cert)
                if chain.isEmpty { throw StompConnectionError.configuration("client certificate '\(cert)' holds no PEM certificate") }
                config.certificateChain = chain.map { .certificate($0) }
            } catch let e as StompConnectionError {
                throw e
            } catch {
                throw StompConnectionError.configuration("cannot read client certificate '\(cert)': not a PEM certificate (\(error))")
            }
            do {
                config.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw StompConnectionError.configuration("cannot read client key '\(key)': not an unencrypted PEM private key (\(error))")
            }
        case (_?, nil):
            throw StompConnectionError.configuration("a client certificate needs its key (--key)")
        case (nil, _?):
            throw StompConnectionError.configuration("a client key needs its certificate (--cert)")
        }
        return config
    }

    /// The SNI / verification name for `host`: `serverName`, else the host unless it is an IP literal
    /// (then nil: NIOSSL checks the certificate against the peer's IP address).
    public func sniName(for host: String) -> String? {
        if let serverName { return serverName }
        return Self.isIPAddress(host) ? nil : host
    }

    static func isIPAddress(_ s: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return s.withCString { inet_pton(AF_INET, $0, &v4) == 1 || inet_pton(AF_INET6, $0, &v6) == 1 }
    }

    static func checkReadable(_ path: String, what: String) throws {
        if access(path, R_OK) != 0 {
            let reason = String(cString: strerror(errno))
            throw StompConnectionError.configuration("cannot read \(what) '\(path)': \(reason)")
        }
    }
}

/// Host-name check stricter than NIOSSL's: NIOSSL accepts a certificate whose IP-address SAN matches the
/// socket's address even when a different DNS name was asked for (so `serverName` mismatches on
/// loopback would pass). When we expect a DNS name and the certificate has SANs, one DNS SAN must match.
enum HostnameCheck {
    /// nil: the certificate has no SAN at all (NIOSSL's common-name check applies).
    static func matches(_ cert: NIOSSLCertificate, dnsName: String) -> Bool? {
        let expected = normalize(dnsName)
        var sawSAN = false
        for san in cert._subjectAlternativeNames() {
            sawSAN = true
            guard san.nameType == .dnsName else { continue }
            let pattern = normalize(String(decoding: Array(san.contents), as: UTF8.self))
            if match(pattern: pattern, host: expected) { return true }
        }
        return sawSAN ? false : nil
    }

    /// DNS names in the certificate, for the error message.
    static func dnsNames(_ cert: NIOSSLCertificate) -> [String] {
        cert._subjectAlternativeNames().filter { $0.nameType == .dnsName }
            .map { String(decoding: Array($0.contents), as: UTF8.self) }
    }

    private static func normalize(_ s: String) -> String {
        var t = s.lowercased()
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }

    /// Exact, or a leftmost `*` label matching exactly one label.
    static func match(pattern: String, host: String) -> Bool {
        if pattern == host { return true }
        guard pattern.hasPrefix("*.") else { return false }
        let suffix = pattern.dropFirst(1)   // ".example.com"
        guard host.hasSuffix(suffix) else { return false }
        let label = host.dropLast(suffix.count)
        return !label.isEmpty && !label.contains(".")
    }
}
