// Runs the battery against one broker: a first connection (reachability, server), the background checks on their own
// threads beside the others, every failure a verdict on its row, then the private queues drained.

import Foundation
import StompProto

/// How a probe runs.
public struct ProbeOptions: Sendable {
    /// Groups to run (all when empty).
    public var groups: [ProbeGroup] = []
    /// Seconds to wait for an answer the broker owes.
    public var timeout: Double = 2
    /// Seconds of silence taken as "nothing more is coming" (checks that something does NOT arrive).
    public var quiet: Double = 0.4
    /// Largest body the frame-size check tries (doubling from 64 KiB).
    public var largestFrameLimit: Int = 64 << 20
    /// Seconds the frame-size check may take in all.
    public var largestFrameBudget: Double = 8
    /// Seconds the idle-socket check waits for the broker to drop a connection that never sends CONNECT.
    public var idleWindow: Double = 12
    /// Seconds the heart-beat timing check listens.
    public var heartBeatListen: Double = 2.6
    /// Unique destination prefix (default: `stompsh-probe-RANDOM`).
    public var prefix: String?
    public init() {}
}

/// Asks a running probe to stop (Ctrl-C): checks not yet started are marked, the queues are still drained.
public final class ProbeCancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    public init() {}
    public func cancel() { lock.lock(); cancelled = true; lock.unlock() }
    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }
}

/// Probes one broker.
public final class Prober: @unchecked Sendable {
    let transport: ProbeTransport
    let target: ProbeTarget
    let options: ProbeOptions
    let displayURL: String
    let checks: [ProbeCheck]
    let cancellation: ProbeCancellation

    public init(transport: ProbeTransport, target: ProbeTarget, options: ProbeOptions, displayURL: String,
                checks: [ProbeCheck] = ProbeChecks.all, cancellation: ProbeCancellation = ProbeCancellation()) {
        self.transport = transport; self.target = target; self.options = options; self.displayURL = displayURL
        self.cancellation = cancellation
        self.checks = options.groups.isEmpty ? checks : checks.filter { options.groups.contains($0.group) }
    }

    /// Runs the selected checks; never throws: every failure is a row's verdict.
    public func run() -> ProbeReport {
        let start = ProbeClock.now()
        let prefix = options.prefix ?? "stompsh-probe-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        let registry = DestinationRegistry()

        // Reachability and the server header.
        let first = ProbeContext(transport: transport, target: target, prefix: prefix, options: options, server: nil, registry: registry)
        var server: String?
        var unreachable: String?
        switch first.connect() {
        case .connected(let c, let f):
            server = f.headers["server"]
            c.send(StompFrame(.disconnect))
        case .refused(_, let f):
            unreachable = "CONNECT refused: \(f.headers["message"] ?? "ERROR")"
        case .failed(let why):
            unreachable = why
        }
        first.closeAll()
        if let unreachable {
            let rows = checks.map {
                ProbeCheckResult(id: $0.id, group: $0.group, name: $0.title, spec: $0.spec, observed: unreachable, key: nil,
                                 verdict: .couldNotTell, evidence: first.evidence.all, timing: $0.timing)
            }
            return ProbeReport(url: displayURL, server: nil, unreachable: true, prefix: prefix,
                               seconds: ProbeClock.seconds(since: start), results: rows)
        }

        let results = ResultSlots(count: checks.count)
        let group = DispatchGroup()
        let serverName = server
        for (i, check) in checks.enumerated() where check.background {
            group.enter()
            let thread = Thread { [self] in
                results[i] = self.runOne(check, prefix: prefix, server: serverName, registry: registry)
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        for (i, check) in checks.enumerated() where !check.background {
            if cancellation.isCancelled {
                results[i] = ProbeCheckResult(id: check.id, group: check.group, name: check.title, spec: check.spec,
                                              observed: "interrupted before it ran", key: nil, verdict: .couldNotTell, timing: check.timing)
                continue
            }
            results[i] = runOne(check, prefix: prefix, server: server, registry: registry)
        }
        group.wait()
        drain(registry.all, prefix: prefix, server: server, registry: registry)
        return ProbeReport(url: displayURL, server: server, unreachable: false, prefix: prefix,
                           seconds: ProbeClock.seconds(since: start), results: results.all, queues: registry.all)
    }

    func runOne(_ check: ProbeCheck, prefix: String, server: String?, registry: DestinationRegistry) -> ProbeCheckResult {
        let ctx = ProbeContext(transport: transport, target: target, prefix: prefix, options: options, server: server, registry: registry)
        ctx.cancellation = cancellation
        let t0 = ProbeClock.now()
        let outcome: ProbeOutcome
        do {
            outcome = try check.run(ctx)
        } catch let e as ProbeInconclusive {
            outcome = ProbeOutcome(.couldNotTell, e.description)
        } catch {
            outcome = ProbeOutcome(.couldNotTell, "\(error)")
        }
        ctx.closeAll()
        return ProbeCheckResult(id: check.id, group: check.group, name: check.title, spec: check.spec,
                                observed: outcome.observed, key: outcome.key, verdict: outcome.verdict,
                                evidence: ctx.evidence.all, seconds: ProbeClock.seconds(since: t0), timing: check.timing)
    }

    /// Empties the private queues: one connection subscribes to all of them and reads until it is quiet.
    func drain(_ queues: [String], prefix: String, server: String?, registry: DestinationRegistry) {
        guard !queues.isEmpty else { return }
        let ctx = ProbeContext(transport: transport, target: target, prefix: prefix, options: options, server: server, registry: registry)
        defer { ctx.closeAll() }
        guard case .connected(let c, _) = ctx.connect() else { return }
        for q in queues {
            var h = StompHeaders([("destination", q), ("id", "drain-\(q)"), ("ack", "auto")] + ctx.declarationHeaders(q))
            h.append("receipt", "drain-\(q)")
            c.send(StompFrame(.subscribe, headers: h))
        }
        var quietUntil = ProbeClock.after(seconds: options.quiet)
        let end = ProbeClock.after(seconds: max(2, options.timeout * 2))
        while ProbeClock.now() < end {
            switch c.wait(until: quietUntil, { $0.command == .message || $0.command == .receipt }) {
            case .frame: quietUntil = ProbeClock.after(seconds: options.quiet)
            case .error, .closed, .timeout: c.send(StompFrame(.disconnect)); return
            }
        }
    }
}

/// The rows of a run, filled from several threads.
final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [ProbeCheckResult?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    subscript(i: Int) -> ProbeCheckResult? {
        get { lock.lock(); defer { lock.unlock() }; return slots[i] }
        set { lock.lock(); slots[i] = newValue; lock.unlock() }
    }
    var all: [ProbeCheckResult] { lock.lock(); defer { lock.unlock() }; return slots.map { $0! } }
}
