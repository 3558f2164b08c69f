/// The STOMP client session as a pure state machine (after h11): intents in → frames to send out,
/// frames in → events out, time only through `now:` arguments. It never performs I/O.
///
/// It tracks awaited receipts (by receipt-id: purpose and, when the caller sets one, the deadline; the one
/// receipt table) apart from subscriptions (by id), messages awaiting ACK/NACK, and open transactions. A rejected intent throws `SessionError` and changes nothing,
/// so nothing must be sent.
public struct StompSession: Sendable {
    /// What `connect` sends; replaced by `connect(now:configuration:)` (each link of a failover list has its own).
    public private(set) var configuration: SessionConfiguration
    public private(set) var state: SessionState = .disconnected
    public private(set) var connectedInfo: ConnectedInfo? {
        didSet { version = connectedInfo?.version ?? .v1_0 }
    }

    /// Versions offered in the CONNECT that was sent (raw CONNECTs may differ from the configuration).
    private var offeredVersions: [StompVersion]
    /// Heart-beat offered in the CONNECT that was sent.
    private var offeredHeartBeat: HeartBeat
    /// Monotonic counter giving insertion order to the maps below.
    private var sequence = 0
    private var subscriptionMap: [String: (seq: Int, info: SubscriptionInfo)] = [:] { didSet { lastFound = nil } }
    /// The subscription the last MESSAGE named (forgotten whenever `subscriptionMap` changes): the next one
    /// naming it is matched by comparing bytes, without a String or a hash.
    private var lastFound: SubscriptionInfo? { didSet { lastFoundKey = lastFound.map { ($0.id, $0.ack) } } }
    /// `lastFound`'s id and mode, read per MESSAGE and per ACK without copying the whole info.
    private var lastFoundKey: (id: String, ack: AckMode)?
    private var receipts = ReceiptTable()
    private var transactionMap: [String: Int] = [:]
    private var pending = PendingAckStore()
    /// The last message received on an `auto` subscription, to explain a mistaken ACK.
    /// Its headers are kept (no String made per message): the id is read only to explain an ACK.
    private var lastAutoMessage: (headers: StompHeaders, subscription: String)?
    private var lastSent: StompInstant?
    private var lastReceived: StompInstant?
    /// Whether anything arrived after CONNECTED (the first deadline is one interval longer until then).
    private var heardSinceConnected = false

    public init(configuration: SessionConfiguration = SessionConfiguration()) {
        self.configuration = configuration
        self.offeredVersions = configuration.versions
        self.offeredHeartBeat = configuration.heartBeat
    }

    /// The negotiated version (1.0 before CONNECTED).
    public private(set) var version: StompVersion = .v1_0

    /// Active subscriptions, in subscribe order.
    public var subscriptions: [SubscriptionInfo] {
        subscriptionMap.values.sorted { $0.seq < $1.seq }.map(\.info)
    }

    public func subscription(id: String) -> SubscriptionInfo? { subscriptionMap[id]?.info }

    /// Messages awaiting ACK/NACK, oldest first.
    public var pendingAcks: [PendingAck] { pending.all }

    /// Number of messages awaiting ACK/NACK.
    public var pendingAckCount: Int { pending.count }

    /// The pending message with message-id `id`, else the one with ack id `id` (oldest such); the
    /// newest pending message when `id` is nil. O(1).
    public func pendingAck(for id: String?) -> PendingAck? {
        guard let id else { return pending.newest.flatMap { pending[$0] } }
        return pending.oldest(messageIDOrAckID: id).flatMap { pending[$0] }
    }

    /// Open transactions, in begin order.
    public var openTransactions: [String] {
        transactionMap.sorted { $0.value < $1.value }.map(\.key)
    }

    /// Receipt ids we wait for, in request order.
    public var awaitedReceipts: [String] {
        receipts.ids
    }

    /// Why `id` was requested, if it is awaited.
    public func receiptPurpose(_ id: String) -> ReceiptPurpose? { receipts[id]?.purpose }

    /// When the caller gives up waiting for receipt `id` (nil: never, or not awaited).
    public func receiptDeadline(_ id: String) -> StompInstant? { receipts[id]?.deadline }

    /// How many timed-out receipt ids are remembered to recognise their late RECEIPT (a broker that never
    /// answers must not grow memory without bound; past it the oldest are forgotten and their RECEIPT is unknown).
    public static let expiredReceiptMemory = 4096

    /// Gives up waiting for the awaited receipt `id` at `deadline`: from then on `tick` reports
    /// `.receiptTimedOut` (once) and its RECEIPT, should it still come, is a `.lateReceipt`. Returns false
    /// (and changes nothing) when `id` is not awaited.
    @discardableResult
    public mutating func setReceiptDeadline(_ id: String, _ deadline: StompInstant) -> Bool {
        receipts.setDeadline(id, deadline)
    }

    /// Stops awaiting receipt `id` without a timeout (the frame that asked for it was never written): its
    /// RECEIPT, should it come, is one nobody awaits. Returns its purpose if it was awaited.
    @discardableResult
    public mutating func forgetReceipt(_ id: String) -> ReceiptPurpose? {
        receipts.remove(id)?.purpose
    }

    private mutating func nextSequence() -> Int {
        sequence += 1
        return sequence
    }

    // MARK: - Intents

    /// CONNECT (or STOMP). Allowed when disconnected, closed or failed (tracking starts afresh).
    public mutating func connect(now: StompInstant) throws -> StompFrame {
        try connect(now: now, configuration: configuration)
    }

    /// CONNECT with another configuration (the next URL of a failover list: its host header and credentials),
    /// which replaces `configuration`: the same session serves every connection of a client. Refused, and the
    /// configuration unchanged, while connecting or connected.
    public mutating func connect(now: StompInstant, configuration config: SessionConfiguration) throws -> StompFrame {
        switch state {
        case .connecting, .connected, .disconnecting: throw SessionError.alreadyConnected
        case .disconnected, .closed, .failed: break
        }
        configuration = config
        let modern = config.versions.contains { $0 > .v1_0 }
        var headers = StompHeaders()
        if modern { headers.append("accept-version", VersionNegotiation.acceptVersionHeader(config.versions)) }
        if let host = config.host { headers.append("host", host) }
        if let login = config.login { headers.append("login", login) }
        if let passcode = config.passcode { headers.append("passcode", passcode) }
        if modern && config.heartBeat != .none { headers.append("heart-beat", config.heartBeat.headerValue) }
        for (name, _) in config.extraConnectHeaders { headers.removeAll(name) }
        for (name, value) in config.extraConnectHeaders { headers.append(name, value) }

        clearTracking(keepSubscriptions: false)
        offeredVersions = config.versions
        offeredHeartBeat = headers["heart-beat"].flatMap(HeartBeat.init(header:)) ?? .none
        state = .connecting
        lastSent = now
        return StompFrame(config.useStompCommand && modern ? .stomp : .connect, headers: headers)
    }

    public mutating func send(destination: String, headers: StompHeaders = [:], body: [UInt8] = [],
                              receipt: String? = nil, transaction: String? = nil) throws -> StompFrame {
        try requireConnected("SEND")
        try checkTransaction(transaction)
        try checkReceipt(receipt)
        var h = StompHeaders(minimumCapacity: headers.count + 3)
        h.append("destination", destination)
        // The caller's lines, bytes copied, minus those the arguments own.
        for i in 0..<headers.count {
            if headers.nameIs(i, "destination") || (transaction != nil && headers.nameIs(i, "transaction"))
                || (receipt != nil && headers.nameIs(i, "receipt")) { continue }
            h.appendLine(i, of: headers)
        }
        if let transaction { h.append("transaction", transaction) }
        addReceipt(receipt, .send(destination: destination), to: &h)
        return StompFrame(.send, headers: h, body: body)
    }

    public mutating func subscribe(destination: String, id: String, ack: AckMode = .auto,
                                   headers: StompHeaders = [:], receipt: String? = nil) throws -> StompFrame {
        try requireConnected("SUBSCRIBE")
        if subscriptionMap[id] != nil { throw SessionError.duplicateSubscription(id) }
        if ack == .clientIndividual && version == .v1_0 {
            throw SessionError.unsupportedInVersion(intent: "ack mode client-individual", version: version)
        }
        try checkReceipt(receipt)
        var h = StompHeaders()
        h.append("id", id)
        h.append("destination", destination)
        h.append("ack", ack.rawValue)
        var extra = StompHeaders()
        for (name, value) in headers where !["id", "destination", "ack", "receipt"].contains(name) {
            extra.append(name, value)
            h.append(name, value)
        }
        addReceipt(receipt, .subscribe(id: id), to: &h)
        subscriptionMap[id] = (nextSequence(), SubscriptionInfo(id: id, destination: destination, ack: ack, headers: extra))
        return StompFrame(.subscribe, headers: h)
    }

    /// Drops the subscription and its messages awaiting ACK (the broker will redeliver them).
    public mutating func unsubscribe(id: String, receipt: String? = nil) throws -> StompFrame {
        try requireConnected("UNSUBSCRIBE")
        guard subscriptionMap[id] != nil else { throw SessionError.unknownSubscription(id) }
        try checkReceipt(receipt)
        var h = StompHeaders()
        h.append("id", id)
        addReceipt(receipt, .unsubscribe(id: id), to: &h)
        removeSubscription(id)
        return StompFrame(.unsubscribe, headers: h)
    }

    /// ACK of `messageID` (its message-id or ack id), or of the newest pending message when nil.
    /// In `client` mode it also settles every earlier message of that subscription.
    public mutating func ack(messageID: String? = nil, transaction: String? = nil, receipt: String? = nil) throws -> StompFrame {
        try acknowledge(.ack, messageID: messageID, transaction: transaction, receipt: receipt)
    }

    /// NACK, like `ack` (1.1+).
    public mutating func nack(messageID: String? = nil, transaction: String? = nil, receipt: String? = nil) throws -> StompFrame {
        try acknowledge(.nack, messageID: messageID, transaction: transaction, receipt: receipt)
    }

    private mutating func acknowledge(_ command: StompCommand, messageID: String?, transaction: String?,
                                      receipt: String?) throws -> StompFrame {
        try requireConnected(command.rawValue)
        if command == .nack && version == .v1_0 {
            throw SessionError.unsupportedInVersion(intent: "NACK", version: version)
        }
        let index = try pendingIndex(messageID)
        try checkTransaction(transaction)
        try checkReceipt(receipt)
        let p = pending[index]!
        var h = StompHeaders()
        switch version {
        case .v1_2:
            h.append("id", p.ackID)
        case .v1_1:
            h.append("message-id", p.messageID)
            h.append("subscription", p.subscription)
        case .v1_0:
            h.append("message-id", p.messageID)
        }
        if let transaction { h.append("transaction", transaction) }
        addReceipt(receipt, command == .ack ? .ack(messageID: p.messageID) : .nack(messageID: p.messageID), to: &h)
        settle(index)
        return StompFrame(command, headers: h)
    }

    public mutating func begin(transaction: String, receipt: String? = nil) throws -> StompFrame {
        try requireConnected("BEGIN")
        if transactionMap[transaction] != nil { throw SessionError.duplicateTransaction(transaction) }
        try checkReceipt(receipt)
        var h: StompHeaders = ["transaction": transaction]
        addReceipt(receipt, .begin(transaction: transaction), to: &h)
        transactionMap[transaction] = nextSequence()
        return StompFrame(.begin, headers: h)
    }

    public mutating func commit(transaction: String, receipt: String? = nil) throws -> StompFrame {
        try endTransaction(.commit, transaction, receipt)
    }

    public mutating func abort(transaction: String, receipt: String? = nil) throws -> StompFrame {
        try endTransaction(.abort, transaction, receipt)
    }

    private mutating func endTransaction(_ command: StompCommand, _ tx: String, _ receipt: String?) throws -> StompFrame {
        try requireConnected(command.rawValue)
        guard transactionMap[tx] != nil else { throw SessionError.unknownTransaction(tx) }
        try checkReceipt(receipt)
        var h: StompHeaders = ["transaction": tx]
        addReceipt(receipt, command == .commit ? .commit(transaction: tx) : .abort(transaction: tx), to: &h)
        transactionMap[tx] = nil
        return StompFrame(command, headers: h)
    }

    /// DISCONNECT with a receipt; the session is closed when that RECEIPT arrives.
    public mutating func disconnect(receipt: String) throws -> StompFrame {
        try requireConnected("DISCONNECT")
        try checkReceipt(receipt)
        var h = StompHeaders()
        addReceipt(receipt, .disconnect, to: &h)
        state = .disconnecting
        return StompFrame(.disconnect, headers: h)
    }

    /// A raw frame the user typed: only tracks what it implies (a SUBSCRIBE registers the
    /// subscription, an ACK settles, a receipt header is awaited, ...). It never rejects anything:
    /// raw frames exist to test brokers with what the session would refuse.
    /// `checkRaw` of each frame in order (a written batch); the frames are read in place, not copied.
    public mutating func checkRaw(_ frames: [StompFrame]) {
        frames.withUnsafeBufferPointer { fs in
            for i in fs.indices {
                let command = fs[i].command
                if command == .send || command == .ack || command == .nack {   // as in checkRaw(_:), without a copy of the frame
                    if command != .send { settleRaw(fs[i].headers) }
                    if let r = fs[i].headers.value("receipt") { receipts.add(r, seq: nextSequence(), purpose: .raw(command)) }
                } else {
                    try? checkRaw(fs[i])
                }
            }
        }
    }

    /// `checkRaw` of a raw SEND whose `receipt` header is `receipt` (the caller made the frame and knows it):
    /// the receipt is awaited without reading the header back into a String.
    public mutating func checkRawSend(receipt: String) {
        receipts.add(receipt, seq: nextSequence(), purpose: .raw(.send))
    }

    public mutating func checkRaw(_ frame: StompFrame) throws {
        if frame.command == .send {   // the common case (batches): a SEND implies only its receipt
            if let r = frame.headers.value("receipt") { receipts.add(r, seq: nextSequence(), purpose: .raw(.send)) }
            return
        }
        let h = frame.headers
        switch frame.command {
        case .connect, .stomp:
            if state == .disconnected || state == .closed || state == .failed {
                clearTracking(keepSubscriptions: false)
                offeredVersions = h["accept-version"].map {
                    $0.split(separator: ",").compactMap { StompVersion(rawValue: String($0)) }
                } ?? [.v1_0]
                offeredHeartBeat = h["heart-beat"].flatMap(HeartBeat.init(header:)) ?? .none
                state = .connecting
            }
        case .subscribe:
            let destination = h["destination"] ?? ""
            let id = h["id"] ?? destination
            let ack = h["ack"].flatMap(AckMode.init(rawValue:)) ?? .auto
            var extra = StompHeaders()
            for (name, value) in h where !["id", "destination", "ack", "receipt"].contains(name) {
                extra.append(name, value)
            }
            let seq = subscriptionMap[id]?.seq ?? nextSequence()
            subscriptionMap[id] = (seq, SubscriptionInfo(id: id, destination: destination, ack: ack, headers: extra))
        case .unsubscribe:
            if let id = h["id"] ?? h["destination"].flatMap({ d in subscriptions.first { $0.destination == d }?.id }) {
                removeSubscription(id)
            }
        case .ack, .nack:
            settleRaw(h)
        case .begin:
            if let tx = h["transaction"], transactionMap[tx] == nil { transactionMap[tx] = nextSequence() }
        case .commit, .abort:
            if let tx = h["transaction"] { transactionMap[tx] = nil }
        case .disconnect:
            if state == .connected { state = .disconnecting }
        default:
            break
        }
        if let r = h["receipt"] {
            receipts.add(r, seq: nextSequence(), purpose: frame.command == .disconnect ? .disconnect : .raw(frame.command))
        }
    }

    /// A raw ACK/NACK: settles the newest pending message whose message-id or ack id is its `id` (else its
    /// `message-id`), looked up by the header's bytes: no String made.
    /// An ACK/NACK names its message by `id` (1.2: the ack id, unique) or by `message-id` (1.0/1.1), which a
    /// topic's message carries on every subscription that got it: then the ACK's `subscription` header, when
    /// it has one, says whose copy it settles (the newest of that subscription, as the broker reads it).
    private mutating func settleRaw(_ h: StompHeaders) {
        let byAckID = h.firstIndex("id" as StaticString)
        guard let named = byAckID ?? h.firstIndex("message-id" as StaticString) else { return }
        let subscription = byAckID == nil ? h.firstIndex("subscription" as StaticString) : nil
        let found = h.storage.withUnsafeBytes { all -> Int? in
            func bytes(_ i: Int) -> UnsafeRawBufferPointer {
                let span = h.spans[i]
                return UnsafeRawBufferPointer(rebasing: all[span.valueStart..<span.valueStart + span.valueCount])
            }
            if let subscription { return pending.newest(matchingBytes: bytes(named), subscription: bytes(subscription)) }
            return pending.newest(matchingBytes: bytes(named))
        }
        if let found { settle(found) }
    }

    // MARK: - Inbound

    /// What a decoded frame or heart-beat means. Throws `SessionError` (fault `.peer`) for a frame
    /// that makes no sense in this state.
    public mutating func receive(_ event: FrameDecoderEvent, now: StompInstant) throws -> SessionEvent {
        if lastReceived != nil { heardSinceConnected = true }
        lastReceived = now
        guard case .frame(let frame) = event else { return .heartbeat }
        let h = frame.headers
        switch frame.command {
        case .connected:
            guard state == .connecting else { throw SessionError.unexpectedFrame(.connected, state: state) }
            guard let version = VersionNegotiation.choose(offered: offeredVersions, serverVersionHeader: h["version"]) else {
                state = .failed
                throw SessionError.versionNotOffered(h["version"])
            }
            let server = version == .v1_0 ? HeartBeat.none : (h["heart-beat"].flatMap(HeartBeat.init(header:)) ?? .none)
            let info = ConnectedInfo(version: version, server: h["server"], session: h["session"],
                                     heartBeat: .negotiate(client: offeredHeartBeat, server: server), headers: h)
            connectedInfo = info
            state = .connected
            heardSinceConnected = false
            return .connected(info)

        case .message:
            switch state {
            case .disconnected, .connecting: throw SessionError.unexpectedFrame(.message, state: state)
            case .connected, .disconnecting: break
            case .closed, .failed: return .message(frame, subscription: findSubscription(h), pendingAck: nil)
            }
            let sub = findSubscription(h)
            let pendingAck = sub.flatMap { note(h, subscription: $0.id, ack: $0.ack, event: true) }
            return .message(frame, subscription: sub, pendingAck: pendingAck)

        case .receipt:
            let r = try receiptArrived(h)
            if r.late, let purpose = r.purpose { return .lateReceipt(id: r.id, for: purpose) }
            return .receipt(id: r.id, for: r.purpose)

        case .error:
            // In answer to CONNECT it is a refusal. After CONNECTED the broker may well keep the
            // connection open (RabbitMQ, ActiveMQ often do): the transport's end decides, not the frame.
            if state == .connecting { state = .failed }
            if let id = h["receipt-id"] {
                // The broker's answer to our DISCONNECT, though an ERROR: the session is over.
                if receipts.remove(id)?.purpose == .disconnect && state == .disconnecting { state = .closed }
                _ = receipts.removeExpired(id)
            }
            return .error(ServerError(frame: frame))

        default:
            throw SessionError.unexpectedFrame(frame.command, state: state)
        }
    }

    /// `receive` of a MESSAGE for a caller that needs no event (the client: it delivers the frame itself): the
    /// same checks, errors and bookkeeping (heard from the peer, awaiting ACK), without the subscription and
    /// pending-ack values an event would carry.
    public mutating func receiveMessage(_ frame: StompFrame, now: StompInstant) throws {
        if lastReceived != nil { heardSinceConnected = true }
        lastReceived = now
        switch state {
        case .disconnected, .connecting: throw SessionError.unexpectedFrame(.message, state: state)
        case .connected, .disconnecting: break
        case .closed, .failed: return
        }
        let h = frame.headers
        if let named = h.firstIndex("subscription" as StaticString), let last = lastFoundKey, h.valueIs(named, last.id) {
            _ = note(h, subscription: last.id, ack: last.ack, event: false)   // the usual case: no copy of the subscription's info
        } else if let sub = findSubscription(h) {
            _ = note(h, subscription: sub.id, ack: sub.ack, event: false)
        }
    }

    /// `receive` of a RECEIPT for a caller that needs no event (the client's path): the same checks, errors and
    /// bookkeeping. `purpose`: why it was awaited (nil: not awaited); `late`: its deadline had passed (the event
    /// would be `.lateReceipt`).
    public mutating func receiveReceipt(_ frame: StompFrame, now: StompInstant) throws -> (id: String, purpose: ReceiptPurpose?, late: Bool) {
        if lastReceived != nil { heardSinceConnected = true }
        lastReceived = now
        return try receiptArrived(frame.headers)
    }

    private mutating func receiptArrived(_ h: StompHeaders) throws -> (id: String, purpose: ReceiptPurpose?, late: Bool) {
        if state == .disconnected || state == .connecting { throw SessionError.unexpectedFrame(.receipt, state: state) }
        // The awaited one found by the id's bytes: no String made for it (the table's is returned).
        if let found = h.withValueBytes(for: "receipt-id", { receipts.remove(bytes: $0) }) ?? nil {
            let purpose = found.entry.purpose
            if purpose == .disconnect && state == .disconnecting { state = .closed }
            return (found.id, purpose, false)
        }
        let id = h.value("receipt-id") ?? ""
        if id.isEmpty, let purpose = receipts.remove(id)?.purpose {   // no receipt-id header: "" may be awaited
            if purpose == .disconnect && state == .disconnecting { state = .closed }
            return (id, purpose, false)
        }
        if let purpose = receipts.removeExpired(id) {
            if purpose == .disconnect && state == .disconnecting { state = .closed }
            return (id, purpose, true)
        }
        return (id, nil, false)
    }

    /// A MESSAGE of `subscription` arrived: awaits its ACK (non-auto modes), or is remembered to explain a
    /// mistaken ACK (auto). `event`: the PendingAck is wanted (Strings made), else nil is returned.
    private mutating func note(_ h: StompHeaders, subscription: String, ack: AckMode, event: Bool) -> PendingAck? {
        if ack == .auto {
            if h.contains("message-id") || h.contains("ack") { lastAutoMessage = (h, subscription) }
            return nil
        }
        let ackHeader = h.firstIndex("ack" as StaticString)
        guard let messageID = h.firstIndex("message-id" as StaticString) ?? ackHeader else { return nil }
        let ackID = version == .v1_2 ? (ackHeader ?? messageID) : messageID   // each header read once
        // the ids' bytes go to the store as they are: no String per message
        h.storage.withUnsafeBytes { all in
            let m = h.spans[messageID], a = h.spans[ackID]
            pending.append(subscription: subscription,
                           messageID: UnsafeRawBufferPointer(rebasing: all[m.valueStart..<m.valueStart + m.valueCount]),
                           ackID: UnsafeRawBufferPointer(rebasing: all[a.valueStart..<a.valueStart + a.valueCount]))
        }
        lastAutoMessage = nil
        guard event else { return nil }
        let messageIDString = h.string(h.spans[messageID].valueStart, h.spans[messageID].valueCount)
        return PendingAck(subscription: subscription, messageID: messageIDString,
                          ackID: ackID == messageID ? messageIDString : h.string(h.spans[ackID].valueStart, h.spans[ackID].valueCount))
    }

    /// The transport stopped reading from the socket for a while (back-pressure from a slow consumer) and
    /// starts again: what the peer sent meanwhile waits unread, so its silence is measured from `now`.
    public mutating func readingResumed(now: StompInstant) {
        if lastReceived != nil { lastReceived = now }
    }

    /// Call whenever bytes were written: resets our heart-beat timer.
    public mutating func didSend(now: StompInstant) {
        lastSent = now
    }

    /// What is due at `now`: receipts whose deadline passed (oldest request first; they are no longer
    /// awaited, and their RECEIPT, if it still comes, is a `.lateReceipt`), our heart-beat, and/or the peer
    /// declared silent.
    public mutating func tick(now: StompInstant) -> [TickAction] {
        guard state == .connected || state == .disconnecting, let hb = connectedInfo?.heartBeat else { return [] }
        var actions = receipts.expire(now: now, memory: Self.expiredReceiptMemory).map { TickAction.receiptTimedOut(id: $0.id, for: $0.purpose) }
        if let s = hb.sendInterval, let last = lastSent, now.nanoseconds(since: last) >= sendAfter(s) {
            actions.append(.sendHeartbeat)
        }
        if let r = hb.receiveInterval, let heard = lastReceived {
            let ago = now.nanoseconds(since: heard)
            if ago > silenceLimit(r) { actions.append(.peerSilent(lastHeardNanosecondsAgo: ago)) }
        }
        return actions
    }

    /// When `tick` next has something to do (may be ≤ now if something is already due); nil: never.
    /// O(awaited receipts) when some have a deadline.
    public func nextDeadline(now: StompInstant) -> StompInstant? {
        guard state == .connected || state == .disconnecting, let hb = connectedInfo?.heartBeat else { return nil }
        var deadline = receipts.earliestDeadline
        if let s = hb.sendInterval, let last = lastSent {
            let d = last.advanced(byNanoseconds: sendAfter(s))
            deadline = deadline.map { min($0, d) } ?? d
        }
        if let r = hb.receiveInterval, let heard = lastReceived {
            let d = heard.advanced(byNanoseconds: silenceLimit(r) &+ 1)
            deadline = deadline.map { min($0, d) } ?? d
        }
        return deadline
    }

    private static func ns(ms: Int) -> UInt64 { UInt64(ms) &* 1_000_000 }

    /// How long we may write nothing: `heartBeatSendRatio` × the negotiated send interval.
    private func sendAfter(_ sendMs: Int) -> UInt64 {
        let ratio = min(max(configuration.heartBeatSendRatio, 0.1), 1.0)
        return UInt64((Double(sendMs) * ratio * 1_000_000).rounded())
    }

    /// How long the peer may be silent (see `SessionConfiguration.heartBeatGrace`): grace × r plus a slack
    /// of at least r / 2, plus one more r before its first byte after CONNECTED. A broker that beats only
    /// when its own check (every r) finds nothing written leaves gaps of up to 2 × r, the first one
    /// included (ActiveMQ: first beat 2 × r after CONNECTED); the slack absorbs a loaded machine's delays.
    public func silenceLimit(receiveInterval receiveMs: Int) -> UInt64 { silenceLimit(receiveMs) }

    private func silenceLimit(_ receiveMs: Int) -> UInt64 {
        let r = Double(receiveMs)
        var limit = r * max(1.0, configuration.heartBeatGrace) + max(Double(configuration.heartBeatMinimumSlack), r / 2)
        if !heardSinceConnected { limit += r }
        return UInt64((limit * 1_000_000).rounded())
    }

    /// The transport is gone: → failed. Returns the transactions and unacknowledged messages lost
    /// (subscriptions are kept for `resetForReconnect`).
    public mutating func connectionLost() -> LostState {
        let lost = LostState(transactions: openTransactions, unacknowledged: pending.all)
        state = .failed
        transactionMap = [:]
        pending = PendingAckStore()
        receipts.removeAll()
        lastAutoMessage = nil
        return lost
    }

    /// Back to disconnected for a new connection: returns the subscriptions to re-issue
    /// (call `subscribe` for each once connected) and what was lost.
    public mutating func resetForReconnect() -> (resubscribe: [SubscriptionInfo], lost: LostState) {
        let subs = subscriptions
        let lost = LostState(transactions: openTransactions, unacknowledged: pending.all)
        clearTracking(keepSubscriptions: false)
        state = .disconnected
        return (subs, lost)
    }

    // MARK: - Helpers

    private func requireConnected(_ intent: String) throws {
        guard state == .connected else { throw SessionError.notConnected(intent: intent) }
    }

    private func checkTransaction(_ tx: String?) throws {
        if let tx, transactionMap[tx] == nil { throw SessionError.unknownTransaction(tx) }
    }

    private func checkReceipt(_ id: String?) throws {
        if let id, receipts[id] != nil { throw SessionError.duplicateReceipt(id) }
    }

    private mutating func addReceipt(_ id: String?, _ purpose: ReceiptPurpose, to headers: inout StompHeaders) {
        guard let id else { return }
        headers.append("receipt", id)
        receipts.add(id, seq: nextSequence(), purpose: purpose)
    }

    /// Sequence number in `pending` of the message to ACK/NACK; explains why there is none.
    private func pendingIndex(_ messageID: String?) throws -> Int {
        if let id = messageID {
            if let i = pending.newest(matching: id) { return i }
            if let last = lastAutoMessage, (last.headers["message-id"] ?? last.headers["ack"]) == id {
                throw SessionError.ackNotExpected(subscription: last.subscription, mode: .auto)
            }
            throw SessionError.unknownMessage(id)
        }
        if pending.isEmpty {
            if let last = lastAutoMessage { throw SessionError.ackNotExpected(subscription: last.subscription, mode: .auto) }
            throw SessionError.nothingToAcknowledge
        }
        return pending.newest!
    }

    /// Removes `pending[index]`; in `client` mode also every earlier message of its subscription.
    private mutating func settle(_ index: Int) {
        guard let subscription = pending.subscription(index) else { return }
        // the subscription the last MESSAGE named is usually this one: no hash of its id
        let mode = lastFoundKey.flatMap { $0.id == subscription ? $0.ack : nil } ?? subscriptionMap[subscription]?.info.ack
        if mode == .client {
            pending.removeThrough(index, subscription: subscription)
        } else {
            pending.remove(index)
        }
    }

    private mutating func findSubscription(_ h: StompHeaders) -> SubscriptionInfo? {
        let named = h.firstIndex("subscription" as StaticString)
        if let named, let last = lastFound, h.valueIs(named, last.id) { return last }
        if let named {
            let id = h.string(h.spans[named].valueStart, h.spans[named].valueCount)
            let info = subscriptionMap[id]?.info
            lastFound = info
            return info
        }
        // 1.0 brokers may omit `subscription`: match by destination.
        guard let destination = h["destination"] else { return nil }
        return subscriptions.first { $0.destination == destination }
    }

    private mutating func removeSubscription(_ id: String) {
        subscriptionMap[id] = nil
        pending.removeAll { $0.subscription == id }
        if lastAutoMessage?.subscription == id { lastAutoMessage = nil }
    }

    private mutating func clearTracking(keepSubscriptions: Bool) {
        if !keepSubscriptions { subscriptionMap = [:] }
        receipts.removeAll()
        transactionMap = [:]
        pending = PendingAckStore()
        lastAutoMessage = nil
        connectedInfo = nil
        lastReceived = nil
        heardSinceConnected = false
    }
}
