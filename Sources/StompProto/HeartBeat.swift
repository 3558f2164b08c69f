/// A `heart-beat` header: what one side offers and wants, in milliseconds ("cx,cy").
public struct HeartBeat: Sendable, Equatable {
    /// Smallest interval at which this side can send heart-beats (0: cannot).
    public var canSend: Int
    /// Interval at which this side wants to receive them (0: does not want any).
    public var wantsReceive: Int

    public init(_ canSend: Int, _ wantsReceive: Int) {
        self.canSend = max(0, canSend)
        self.wantsReceive = max(0, wantsReceive)
    }

    /// Parses "cx,cy" (non-negative integers); nil when malformed.
    public init?(header: String) {
        let parts = header.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2,
              let cx = Int(parts[0].trimmingSpaces), let cy = Int(parts[1].trimmingSpaces),
              cx >= 0, cy >= 0 else { return nil }
        self.init(cx, cy)
    }

    /// "cx,cy".
    public var headerValue: String { "\(canSend),\(wantsReceive)" }

    /// "0,0": no heart-beats either way (also what a missing header means).
    public static let none = HeartBeat(0, 0)
}

private extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// The heart-beat intervals agreed after CONNECTED, from the client's side
/// (spec: 0 disables a direction; otherwise each direction is the max of what one offers
/// and the other wants). A server computes its side with the arguments swapped.
public struct NegotiatedHeartBeat: Sendable, Equatable {
    /// Milliseconds between our heart-beats; nil: we do not send any.
    public var sendInterval: Int?
    /// Milliseconds between the peer's heart-beats; nil: we do not expect any.
    public var receiveInterval: Int?

    public init(sendInterval: Int?, receiveInterval: Int?) {
        self.sendInterval = sendInterval
        self.receiveInterval = receiveInterval
    }

    public static func negotiate(client: HeartBeat, server: HeartBeat) -> NegotiatedHeartBeat {
        func interval(_ offer: Int, _ want: Int) -> Int? {
            offer == 0 || want == 0 ? nil : max(offer, want)
        }
        return NegotiatedHeartBeat(sendInterval: interval(client.canSend, server.wantsReceive),
                                   receiveInterval: interval(server.canSend, client.wantsReceive))
    }

    /// Neither direction.
    public static let none = NegotiatedHeartBeat(sendInterval: nil, receiveInterval: nil)
}
