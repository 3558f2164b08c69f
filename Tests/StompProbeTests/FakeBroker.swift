// A scripted fake STOMP broker behind the ProbeTransport seam: no sockets, no clock; it answers each client frame at
// once, so the probe's verdict logic can be driven through behaviours no real broker here shows on demand.

import Foundation
@testable import StompProbe
import StompProto

/// How the fake behaves.
struct FakeBehaviour {
    /// After an ERROR the connection stays open (else it closes right after the ERROR).
    var errorStaysOpen = false
    /// Frames of these commands are answered with nothing at all (no RECEIPT, no ERROR).
    var silentFor: Set<StompCommand> = []
    /// Closes the connection (no ERROR) when it gets a frame of one of these commands.
    var closeOn: Set<StompCommand> = []
    /// Refuses SUBSCRIBE to destinations with this prefix (ERROR).
    var refusedPrefix: String?
}

/// Opens `FakeLink`s; counts them. `unreachable` makes every open fail.
final class FakeTransport: ProbeTransport, @unchecked Sendable {
    let behaviour: FakeBehaviour
    let unreachable: Bool
    private let lock = NSLock()
    private(set) var opened = 0

    init(_ behaviour: FakeBehaviour = FakeBehaviour(), unreachable: Bool = false) {
        self.behaviour = behaviour; self.unreachable = unreachable
    }

    func open(timeout: Double) throws -> ProbeLink {
        if unreachable { throw ProbeConnectError("connection refused (fake)") }
        lock.lock(); opened += 1; lock.unlock()
        return FakeLink(behaviour)
    }
}

/// One fake connection: decodes what the probe writes, queues the answers.
final class FakeLink: ProbeLink {
    let behaviour: FakeBehaviour
    var decoder = FrameDecoder(version: .v1_0)
    var encoder = FrameEncoder(version: .v1_0)
    var outbox: [[UInt8]] = []
    var closed = false
    var broken = false

    init(_ behaviour: FakeBehaviour) { self.behaviour = behaviour }

    func write(_ bytes: [UInt8]) {
        guard !closed, !broken else { return }
        decoder.append(bytes)
        while !closed {
            do {
                guard let event = try decoder.next() else { return }
                if case .frame(let f) = event { handle(f) }
            } catch {
                broken = true
                refuse(message: "malformed frame: \(error)", receipt: nil)
                if behaviour.errorStaysOpen { decoder = FrameDecoder(version: decoder.version); broken = false }
                return
            }
        }
    }

    func handle(_ f: StompFrame) {
        if behaviour.closeOn.contains(f.command) { closed = true; return }
        if behaviour.silentFor.contains(f.command) { return }
        let receipt = f.headers["receipt"]
        switch f.command {
        case .connect, .stomp:
            let v = f.headers["accept-version"]?.split(separator: ",").last.map(String.init) ?? "1.0"
            var h: StompHeaders = ["version": v, "server": "Fake/1"]
            if v != "1.0" { h.append("heart-beat", "0,0") }
            emit(StompFrame(.connected, headers: h))
            let version = StompVersion(rawValue: v) ?? .v1_0
            decoder.version = version
            encoder.version = version
        case .subscribe:
            if let p = behaviour.refusedPrefix, f.headers["destination"]?.hasPrefix(p) == true {
                refuse(message: "refused destination", receipt: receipt); return
            }
            answer(receipt)
        case .send where f.headers["destination"] == nil:
            refuse(message: "no destination", receipt: receipt)
        case .ack where f.headers["id"] == "no-such-ack":
            refuse(message: "unknown ack", receipt: receipt)
        case .disconnect:
            answer(receipt)
            closed = true
        default:
            answer(receipt)
        }
    }

    func answer(_ receipt: String?) {
        if let receipt { emit(StompFrame(.receipt, headers: ["receipt-id": receipt])) }
    }

    func refuse(message: String, receipt: String?) {
        var h: StompHeaders = ["message": message]
        if let receipt { h.append("receipt-id", receipt) }
        emit(StompFrame(.error, headers: h))
        if !behaviour.errorStaysOpen { closed = true }
    }

    func emit(_ f: StompFrame) {
        if let bytes = try? encoder.encode(f) { outbox.append(bytes) }
    }

    func read(deadline: UInt64) -> LinkRead {
        if !outbox.isEmpty { return .bytes(outbox.removeFirst(), at: ProbeClock.now()) }
        if closed { return .closed(reason: "the fake closed the connection") }
        return .timeout
    }

    func close() { closed = true; outbox.removeAll() }
}
