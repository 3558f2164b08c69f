import NIOCore
#if canImport(Glibc)
import Glibc
#endif
import StompProto

/// The engine and the open connections' handlers, on the broker's one event loop: feeds the engine and
/// carries out its actions, flushing each touched connection once per event-loop pass.
final class BrokerCore {
    let engine: BrokerEngine
    let limits: StompLimits
    let log: BrokerLog?
    let eventLoop: EventLoop
    private var handlers: [ConnectionID: BrokerConnectionHandler] = [:]
    private var actions: [BrokerAction] = []
    private var busy = false
    /// Engine calls that arrived while actions were being carried out (a write changed writability, a failed
    /// write closed a channel): run right after.
    private var deferred: [(BrokerEngine, inout [BrokerAction]) -> Void] = []
    private var dirty: [BrokerConnectionHandler] = []
    private var flushScheduled = false

    init(engine: BrokerEngine, limits: StompLimits, log: BrokerLog?, eventLoop: EventLoop) {
        self.engine = engine
        self.limits = limits
        self.log = log
        self.eventLoop = eventLoop
        actions.reserveCapacity(64)
    }

    var openHandlers: [BrokerConnectionHandler] { Array(handlers.values) }

    func open(_ handler: BrokerConnectionHandler) -> ConnectionID {
        let id = engine.open()
        handlers[id] = handler
        return id
    }

    func receive(_ frame: StompFrame, from id: ConnectionID) {
        if busy {
            deferred.append { $0.receive(frame, from: id, into: &$1) }
            return
        }
        run { $0.receive(frame, from: id, into: &$1) }
    }

    func reject(_ id: ConnectionID, _ error: BrokerProtocolError) {
        perform { $0.reject(id, error, into: &$1) }
    }

    func setWritable(_ writable: Bool, for id: ConnectionID) {
        perform { $0.setWritable(writable, for: id, into: &$1) }
    }

    func closed(_ id: ConnectionID) {
        handlers.removeValue(forKey: id)
        perform { $0.closed(id, into: &$1) }
    }

    private func perform(_ body: @escaping (BrokerEngine, inout [BrokerAction]) -> Void) {
        if busy { deferred.append(body); return }
        run(body)
    }

    private func run(_ body: (BrokerEngine, inout [BrokerAction]) -> Void) {
        busy = true
        actions.removeAll(keepingCapacity: true)
        body(engine, &actions)
        apply()
        while !deferred.isEmpty {
            let next = deferred.removeFirst()
            actions.removeAll(keepingCapacity: true)
            next(engine, &actions)
            apply()
        }
        busy = false
        releaseMemoryAfterDrain()
    }

    private func apply() {
        for action in actions {
            switch action {
            case .frame(let frame, let id):
                guard let h = handlers[id] else { continue }
                h.write(frame)
                if !h.isDirty {
                    h.isDirty = true
                    dirty.append(h)
                }
            case .established(let id, let version, let heartBeat, let login):
                handlers[id]?.establish(version: version, heartBeat: heartBeat, login: login)
            case .close(let id, let reason):
                handlers[id]?.closeAfterWrites(reason: reason)
            }
        }
        if !dirty.isEmpty && !flushScheduled {
            flushScheduled = true
            eventLoop.execute { self.flushDirty() }
        }
    }

    /// One flush per touched connection per event-loop pass (after the rest of this read's frames). A
    /// connection whose socket took it all may be handed the next delivery window, in a later pass: a fast
    /// consumer drains a long queue in window-sized steps, between which the loop serves everything else
    /// (new frames, other connections, a stop).
    private func flushDirty() {
        flushScheduled = false
        let touched = dirty
        dirty.removeAll(keepingCapacity: true)
        for h in touched {
            h.isDirty = false
            if h.flush(), let id = h.connectionID { perform { $0.drained(id, into: &$1) } }
        }
    }

    /// Highest `heldBytes` since memory was last given back.
    private var heldPeak = 0

    /// After a large drain, hands freed heap pages back to the system (glibc keeps them otherwise).
    private func releaseMemoryAfterDrain() {
        let held = engine.heldBytes
        heldPeak = max(heldPeak, held)
        guard heldPeak >= 32 << 20, held <= heldPeak / 4 else { return }
        heldPeak = held
        _ = BrokerCore.mallocTrim?(0)
    }

    /// glibc's `malloc_trim` (not in the Glibc module map), looked up once; nil elsewhere.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()
}
