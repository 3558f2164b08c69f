// A call made again and again (`rpc bench`): its request frame encoded once per STOMP version but for the
// correlation id, which each call writes into the bytes (no headers, frame or JSON built per call).
import StompProto

/// One destination, method, params and extra headers, ready to be issued many times (`RPCClient.issue(_:)`).
public final class RPCPreparedCall: @unchecked Sendable {
    public let destination: String
    public let template: RPCRequestTemplate
    /// The caller's extra headers (reply-to, correlation-id and destination are the client's and dropped).
    public let headers: StompHeaders

    // Event-loop state of the client issuing it: the encoding for the last version asked.
    private var encodedVersion: StompVersion?
    private var encoded: RPCEncodedRequest?

    public init(destination: String, template: RPCRequestTemplate, headers: StompHeaders = [:]) {
        self.destination = destination
        self.template = template
        var h = StompHeaders(minimumCapacity: headers.count)
        for (n, v) in headers.pairs where n != RPCHeader.replyTo && n != RPCHeader.correlationID && n != "destination" {
            h.append(n, v)
        }
        self.headers = h
    }

    /// The request frame for correlation id `id`, replies to `replyTo`: the one definition of a request's headers
    /// and body (the prepared bytes are cut from it).
    func frame(id: String, replyTo: String) -> StompFrame {
        var h = StompHeaders(minimumCapacity: 4 + headers.count)
        h.append("destination", destination)
        h.append(RPCHeader.replyTo, replyTo)
        h.append(RPCHeader.correlationID, id)
        h.append(RPCHeader.contentType, RPCHeader.json)
        for (n, v) in headers.pairs { h.append(n, v) }
        return StompFrame(.send, headers: h, body: template.body(id: id))
    }

    /// The prepared bytes for `encoder`'s version (made once per version), or nil when the frame must be
    /// encoded per call: a receipt asked in the headers (the session must see the frame), or an encoding the
    /// id cannot be cut out of (e.g. content-length always written).
    func encoded(by encoder: FrameEncoder, ids: CorrelationIDGenerator, replyTo: String) -> RPCEncodedRequest? {
        if encodedVersion == encoder.version { return encoded }
        encodedVersion = encoder.version
        encoded = headers.contains("receipt") ? nil
            : RPCEncodedRequest(frame: { self.frame(id: $0, replyTo: replyTo) }, encoder: encoder, ids: ids)
        return encoded
    }
}

/// A request frame's bytes but for its correlation id, which it holds twice: in the correlation-id header and
/// as the JSON-RPC id at the end of the body. A class: handed to each call with one reference, not three.
final class RPCEncodedRequest {
    /// Up to the header's id; from after it to the body's id; after the body's id (with the NUL).
    let head: [UInt8], middle: [UInt8], tail: [UInt8]

    /// Cut from the frame encoded with a stand-in id (`ids.id(0)`, never issued: counters start at 1), then
    /// checked: the bytes made for another id must equal the encoder's own for that id's frame; nil if not.
    init?(frame: (String) -> StompFrame, encoder: FrameEncoder, ids: CorrelationIDGenerator) {
        let standIn = ids.id(0)
        guard let full = try? encoder.encode(frame(standIn)) else { return nil }
        let s = Array(standIn.utf8)
        let needle = Array("\n\(RPCHeader.correlationID):".utf8) + s + [0x0A]
        guard let line = Self.firstIndex(of: needle, in: full) else { return nil }
        let h = line + needle.count - 1 - s.count
        let b = full.count - 3 - s.count   // the body ends with the id, `"}` and the NUL
        guard b >= h + s.count, Array(full[b..<(b + s.count)]) == s else { return nil }
        head = Array(full[..<h])
        middle = Array(full[(h + s.count)..<b])
        tail = Array(full[(b + s.count)...])
        let check: UInt64 = 12_345
        var mine: [UInt8] = []
        write(ids: ids, number: check, into: &mine)
        guard let theirs = try? encoder.encode(frame(ids.id(check))), mine == theirs else { return nil }
    }

    /// Appends the frame for counter `number`'s id (`ids.id(number)`).
    func write(ids: CorrelationIDGenerator, number: UInt64, into out: inout [UInt8]) {
        out.append(contentsOf: head)
        let idStart = out.count
        ids.appendID(number, to: &out)
        let idEnd = out.count
        out.append(contentsOf: middle)
        // the id again (the JSON-RPC id): room made, then copied from the header's
        let n = idEnd - idStart, copyAt = out.count
        out.append(contentsOf: repeatElement(0, count: n))
        out.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress, n > 0 else { return }
            (base + copyAt).update(from: base + idStart, count: n)
        }
        out.append(contentsOf: tail)
    }

    private static func firstIndex(of needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard needle.count <= hay.count else { return nil }
        var i = 0
        while i + needle.count <= hay.count {
            if hay[i] == needle[0], Array(hay[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }
}
