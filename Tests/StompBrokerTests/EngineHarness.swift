import StompProto
import XCTest
@testable import StompBroker

/// Drives a `BrokerEngine` without sockets: frames in, actions out.
final class EngineHarness {
    let engine: BrokerEngine
    /// The engine's clock (milliseconds since 1970); tests move it.
    var now: Int64 = 1_700_000_000_000

    init(configuration: BrokerConfiguration = BrokerConfiguration(serverName: "test-sandbox", messageIDPrefix: "m")) {
        var clock: () -> Int64 = { 0 }
        engine = BrokerEngine(configuration: configuration, clock: { clock() })
        clock = { [unowned self] in self.now }
    }

    /// Opens a connection and CONNECTs it (asserting CONNECTED).
    func connect(_ version: StompVersion = .v1_2, heartBeat: String? = nil,
                 file: StaticString = #filePath, line: UInt = #line) -> ConnectionID {
        let id = engine.open()
        var h: StompHeaders = ["accept-version": version.rawValue, "host": "/", "login": "guest"]
        if let heartBeat { h["heart-beat"] = heartBeat }
        let out = frames(send(id, StompFrame(.connect, headers: h)), to: id)
        XCTAssertEqual(out.first?.command, .connected, "\(out)", file: file, line: line)
        return id
    }

    @discardableResult
    func send(_ id: ConnectionID, _ frame: StompFrame) -> [BrokerAction] {
        var actions: [BrokerAction] = []
        engine.receive(frame, from: id, into: &actions)
        return actions
    }

    @discardableResult
    func send(_ id: ConnectionID, _ command: StompCommand, _ headers: StompHeaders, body: String = "") -> [BrokerAction] {
        send(id, StompFrame(command, headers: headers, body: body))
    }

    func subscribe(_ id: ConnectionID, _ destination: String, id subID: String, ack: AckMode = .auto,
                   extra: StompHeaders = [:]) -> [BrokerAction] {
        var h: StompHeaders = ["destination": destination, "id": subID, "ack": ack.rawValue]
        for (n, v) in extra.pairs { h.append(n, v) }
        return send(id, .subscribe, h)
    }

    func publish(_ id: ConnectionID, _ destination: String, _ body: String, _ extra: StompHeaders = [:]) -> [BrokerAction] {
        var h: StompHeaders = ["destination": destination]
        for (n, v) in extra.pairs { h.append(n, v) }
        return send(id, .send, h, body: body)
    }

    func closed(_ id: ConnectionID) -> [BrokerAction] {
        var actions: [BrokerAction] = []
        engine.closed(id, into: &actions)
        return actions
    }

    /// The socket took what was written: the next window.
    func drained(_ id: ConnectionID) -> [BrokerAction] {
        var actions: [BrokerAction] = []
        engine.drained(id, into: &actions)
        return actions
    }

    /// What `actions` wrote plus every window after it, as a socket that reads as fast as it can would get.
    func drainAll(_ id: ConnectionID, after actions: [BrokerAction]) -> [BrokerAction] {
        var all = actions
        while true {
            let more = drained(id)
            if more.isEmpty { return all }
            all += more
        }
    }

    func setWritable(_ writable: Bool, _ id: ConnectionID) -> [BrokerAction] {
        var actions: [BrokerAction] = []
        engine.setWritable(writable, for: id, into: &actions)
        return actions
    }
}

func frames(_ actions: [BrokerAction], to id: ConnectionID? = nil) -> [StompFrame] {
    actions.compactMap {
        if case .frame(let f, let to) = $0, id == nil || to == id { return f }
        return nil
    }
}

func messages(_ actions: [BrokerAction], to id: ConnectionID? = nil) -> [StompFrame] {
    frames(actions, to: id).filter { $0.command == .message }
}

func bodies(_ actions: [BrokerAction], to id: ConnectionID? = nil) -> [String] {
    messages(actions, to: id).map { $0.bodyString ?? "" }
}

func closes(_ actions: [BrokerAction]) -> [(ConnectionID, String?)] {
    actions.compactMap {
        if case .close(let id, let reason) = $0 { return (id, reason) }
        return nil
    }
}
