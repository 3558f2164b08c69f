// What a probe learned, reduced to the few facts a client adapts to: the `--profile FILE` JSON, and its loader.

import Foundation

/// The broker quirks a client needs, as learned by `stompsh probe --profile FILE` (for brokers stompsh does not
/// recognise by their CONNECTED `server` header).
///
/// File format (JSON object, unknown keys ignored, missing keys take the defaults below):
/// `{"format": "stompsh-broker-profile/1", "server": "ActiveMQ/5.17.2", "hostIsVirtualHost": false,
///   "errorKeepsConnectionOpen": true, "tempQueueSubscribeRefused": false, "tempQueueNeedsSubscribe": true,
///   "firstHeartBeatLate": true, "repeatedHeaderFirstWins": true, "nackSupported": true, "largestFrameBytes": 67108864}`
public struct BrokerQuirksProfile: Sendable, Codable, Equatable {
    public static let format = "stompsh-broker-profile/1"
    public var format: String = BrokerQuirksProfile.format
    /// The CONNECTED `server` header the probe saw.
    public var server: String?
    /// The CONNECT `host` header names a virtual host: a literal host name is refused (send "/" or the vhost).
    public var hostIsVirtualHost: Bool = false
    /// The broker keeps the connection open after some ERROR frames (the specification says it closes).
    public var errorKeepsConnectionOpen: Bool = false
    /// SUBSCRIBE to `/temp-queue/NAME` is refused; the broker subscribes the requester itself.
    public var tempQueueSubscribeRefused: Bool = false
    /// A reply to `/temp-queue/NAME` is lost unless the requester subscribed to it first.
    public var tempQueueNeedsSubscribe: Bool = false
    /// The broker's first heart-beat arrives later than the negotiated interval (allow about twice).
    public var firstHeartBeatLate: Bool = false
    /// Of a repeated header, the first value is the one delivered first (false: the last one wins).
    public var repeatedHeaderFirstWins: Bool = true
    /// NACK is accepted (1.1+).
    public var nackSupported: Bool = true
    /// Largest SEND body known to be accepted (nil: not measured).
    public var largestFrameBytes: Int?

    public init() {}

    /// The profile a report card implies. Rows the probe could not decide leave the defaults.
    public init(report: ProbeReport) {
        server = report.server
        func row(_ id: String) -> ProbeCheckResult? {
            guard let r = report.result(id), r.verdict != .couldNotTell else { return nil }
            return r
        }
        if let r = row("connect.host-literal") { hostIsVirtualHost = r.key == "refused" }
        errorKeepsConnectionOpen = report.results.contains { $0.group == .errors && ($0.key ?? "").hasSuffix("stays open") }
        if let r = row("reply.temp-queue-subscribe") { tempQueueSubscribeRefused = r.verdict == .notSupported }
        if let without = row("reply.without-subscribe"), let with = row("reply.with-subscribe") {
            tempQueueNeedsSubscribe = without.key == "reply lost" && with.key == "reply arrives"
        }
        if let r = row("connect.heart-beat-timing") { firstHeartBeatLate = (r.key ?? "").hasPrefix("first beat late") }
        if let r = row("framing.repeated-header") { repeatedHeaderFirstWins = r.key == "first kept" || r.key == "both forwarded" }
        if let r = row("delivery.nack") { nackSupported = r.key != "refused" && r.key != "no NACK" }
        if let r = row("framing.largest-frame"), let k = r.key { largestFrameBytes = Self.bytes(fromKey: k) }
    }

    /// "largest 64 MiB" → 67108864.
    static func bytes(fromKey key: String) -> Int? {
        let parts = key.split(separator: " ")
        guard parts.count == 3, parts[0] == "largest", let n = Int(parts[1]) else { return nil }
        switch parts[2] { case "MiB": return n << 20; case "KiB": return n << 10; default: return nil }
    }

    public func jsonData() throws -> Data {
        try ProbeJSON.file(self)
    }

    /// Reads a profile file, or a whole `stompsh probe --json` card (the profile is derived from it).
    public static func load(path: String) throws -> BrokerQuirksProfile {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw BrokerProfileError(path: path, reason: "no such file") }
        guard !isDir.boolValue else { throw BrokerProfileError(path: path, reason: "is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else { throw BrokerProfileError(path: path, reason: "cannot read it") }
        return try decode(data, path: path)
    }

    public static func decode(_ data: Data, path: String = "<data>") throws -> BrokerQuirksProfile {
        guard let object = try? JSONSerialization.jsonObject(with: data), let dict = object as? [String: Any] else {
            throw BrokerProfileError(path: path, reason: "not a JSON object")
        }
        if dict["results"] != nil {
            do { return BrokerQuirksProfile(report: try ProbeReport.decode(data)) } catch {
                throw BrokerProfileError(path: path, reason: "not a stompsh probe card: \(error)")
            }
        }
        guard let f = dict["format"] as? String else {
            throw BrokerProfileError(path: path, reason: "neither a profile (no \"format\") nor a probe card (no \"results\")")
        }
        guard f == format else { throw BrokerProfileError(path: path, reason: "unknown format \"\(f)\" (expected \(format))") }
        do { return try JSONDecoder().decode(Lenient.self, from: data).profile } catch {
            throw BrokerProfileError(path: path, reason: "bad profile: \(error)")
        }
    }

    /// Decodes a profile whose keys may be missing (they keep the defaults).
    struct Lenient: Decodable {
        var profile = BrokerQuirksProfile()
        enum K: String, CodingKey {
            case server, hostIsVirtualHost, errorKeepsConnectionOpen, tempQueueSubscribeRefused, tempQueueNeedsSubscribe,
                 firstHeartBeatLate, repeatedHeaderFirstWins, nackSupported, largestFrameBytes
        }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: K.self)
            var p = BrokerQuirksProfile()
            p.server = try c.decodeIfPresent(String.self, forKey: .server)
            p.hostIsVirtualHost = try c.decodeIfPresent(Bool.self, forKey: .hostIsVirtualHost) ?? p.hostIsVirtualHost
            p.errorKeepsConnectionOpen = try c.decodeIfPresent(Bool.self, forKey: .errorKeepsConnectionOpen) ?? p.errorKeepsConnectionOpen
            p.tempQueueSubscribeRefused = try c.decodeIfPresent(Bool.self, forKey: .tempQueueSubscribeRefused) ?? p.tempQueueSubscribeRefused
            p.tempQueueNeedsSubscribe = try c.decodeIfPresent(Bool.self, forKey: .tempQueueNeedsSubscribe) ?? p.tempQueueNeedsSubscribe
            p.firstHeartBeatLate = try c.decodeIfPresent(Bool.self, forKey: .firstHeartBeatLate) ?? p.firstHeartBeatLate
            p.repeatedHeaderFirstWins = try c.decodeIfPresent(Bool.self, forKey: .repeatedHeaderFirstWins) ?? p.repeatedHeaderFirstWins
            p.nackSupported = try c.decodeIfPresent(Bool.self, forKey: .nackSupported) ?? p.nackSupported
            p.largestFrameBytes = try c.decodeIfPresent(Int.self, forKey: .largestFrameBytes)
            profile = p
        }
    }
}

/// A profile file that cannot be used; the message names the file.
public struct BrokerProfileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "broker profile '\(path)': \(reason)" }
}
