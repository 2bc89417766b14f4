import Foundation
import Logging
import Persistence
import PostgresClient
import Synchronization

/// The machinery behind ``JobRunner``: one dispatch loop, and child tasks for the handlers, the completer, the
/// heartbeat and the listener. Everything is structured: ``run()`` returns only after every child ended.
///
/// ```
/// run()
/// └─ background group: listener, heartbeat                 (cancelled last)
///    └─ flush group: completer                             (drains after the handlers)
///       └─ handler group: one child per running attempt     (cancelled at the shutdown timeout)
///          └─ dispatch loop: promote due jobs, claim what can start (ClaimCapacity), start handlers, wait
/// ```
///
/// The runner's own statements (dispatch loop, completer, heartbeat) run on a pool of its own
/// (``bookkeepingConnections``), never behind handlers' Units of Work on `database`'s pool. The dispatch loop runs
/// one statement at a time: promotion of due scheduled jobs (when the timer for the next
/// `run_at` fires, on a `scheduled` notification and on every poll), then a claim of up to the free capacity
/// (when woken by a notification, when capacity frees after a claim that filled its limit, and on every poll). It
/// sleeps on a ``Wakeup`` until a notification, a finished handler, the next `run_at`, the next poll or shutdown.
/// With ``JobRunnerConfiguration/exitWhenIdle``, a turn that starts with nothing running and every completion
/// written promotes and claims; when both find nothing, the loop ends as on shutdown (the handlers and the
/// completer then have nothing left, so `run()` returns at once).
final class JobRunnerCore: Sendable {
    private struct Running {
        var attempt: Int
        var control: JobControl
        /// When the attempt times out (nil: no limit).
        var deadline: ContinuousClock.Instant?
        /// Releases at shutdown so far, and the attempt limit in force (for a release of an abandoned handler).
        var releases: Int
        var maxAttempts: Int
    }

    private struct State {
        var running: [Int64: Running] = [:]
        var runningByKind: [String: Int] = [:]
        /// Running attempts of kinds that use the database.
        var runningUsingDatabase = 0
        /// What the last claim that could take database kinds brought (sizes claims: ``ClaimCapacity``).
        var mix = ClaimMix.unknown
        /// Claim as soon as capacity is free.
        var claimRequested = true
        /// Promote due scheduled jobs (and learn the next `run_at`) at the next turn.
        var promoteRequested = true
        /// The last claim filled its limit: more jobs are probably waiting. The next claim then waits until
        /// half of an idle runner's claim is free, or ``ClaimPlan/backlogWait`` after the last claim (fewer, larger
        /// claims under load).
        var backlog = false
        var lastClaim = ContinuousClock.now
        var shutdownRequested = false
        /// The drain gave up on handlers that ignored cancellation (their jobs were released).
        var abandoned = false
        /// The handler group ended (every handler returned).
        var handlersEnded = false
        /// When the next scheduled job is due (by this process's clock).
        var nextDue: ContinuousClock.Instant?
        /// The deadline the timeout watcher sleeps until (nil: it sleeps until signalled).
        var watchedDeadline: ContinuousClock.Instant?
        /// Where claims start in the claim index, and when the probe below it is due (see ``ClaimFloorTracker``).
        var floors = ClaimFloorTracker()

        /// Runs `change` on ``floors``; true when it moved the next probe earlier (then ``probeWakeup`` must be
        /// signalled).
        mutating func changeFloors(_ change: (inout ClaimFloorTracker) -> Void) -> Bool {
            let before = floors.nextProbe()
            change(&floors)
            guard let after = floors.nextProbe() else { return false }
            return before.map { after < $0 } ?? true
        }
    }

    let configuration: JobRunnerConfiguration
    private let registry: JobRegistry
    private let database: Database
    /// The runner's own connections (``bookkeepingConnections``) for its claims, promotions, completions and
    /// heartbeats, so that they never wait behind handlers' Units of Work on the pool of `database`.
    private let bookkeeping: Database
    /// Slots for jobs of kinds that use the database (``JobRunnerConfiguration/databaseConcurrency``).
    private let databaseConcurrency: Int
    /// The registered kinds as claims see them.
    private let claimKinds: [ClaimPlan.Kind]
    private let observer: any JobQueueObserver
    private let logger: Logger
    private let state = Mutex(State())
    private let wakeup = Wakeup()
    /// Wakes the timeout watcher when an attempt starts with an earlier deadline than the one it sleeps until.
    private let timeoutWakeup = Wakeup()
    /// Wakes ``probeFloor()`` when a probe became due earlier than the one it sleeps until.
    private let probeWakeup = Wakeup()
    /// Wakes ``runHandlers()`` when the handler group ended or was abandoned.
    private let handlersDone = Wakeup()
    private let completer: JobCompleter

    init(
        configuration: JobRunnerConfiguration,
        registry: JobRegistry,
        database: Database,
        observer: any JobQueueObserver,
        logger: Logger
    ) {
        var logger = logger
        logger[metadataKey: "worker.id"] = "\(configuration.workerID)"
        logger[metadataKey: "job.queue"] = "\(configuration.queue)"
        self.configuration = configuration
        self.registry = registry
        self.database = database
        self.bookkeeping = Database(
            pool: PostgresPool(
                configuration: database.pool.configuration,
                options: .init(
                    maxConnections: Self.bookkeepingConnections, acquireTimeout: database.pool.options.acquireTimeout),
                observer: database.pool.observer,
                logger: database.logger
            ),
            observer: database.observer,
            logger: database.logger
        )
        self.databaseConcurrency = configuration.databaseConcurrency ?? database.pool.options.maxConnections
        self.claimKinds = registry.kinds.compactMap { kind in
            registry.entry(for: kind).map {
                ClaimPlan.Kind($0.kind, limit: $0.concurrency, usesDatabase: $0.usesDatabase)
            }
        }
        self.observer = observer
        self.logger = logger
        self.completer = JobCompleter(
            database: bookkeeping, configuration: configuration, observer: observer, logger: logger)
    }

    /// Connections of the runner's own pool: the dispatch loop (claims, promotions), the completer, the heartbeat
    /// and the claim floor's probe each use one at a time.
    static let bookkeepingConnections = 4

    /// Stops claiming; running jobs get ``JobRunnerConfiguration/shutdownTimeout`` to finish.
    func requestShutdown() {
        state.withLock { $0.shutdownRequested = true }
        wakeup.signal()
    }

    /// Makes sure the dispatch loop promotes scheduled jobs `delay` from now (a retry or snooze was written).
    private func arm(after delay: Duration) {
        let due = ContinuousClock.now + delay
        state.withLock { $0.nextDue = min($0.nextDue ?? due, due) }
        wakeup.signal()
    }

    /// The completer wrote everything queued: with `exitWhenIdle`, the dispatch loop checks whether the queue is idle.
    private func completionsWritten() {
        if configuration.exitWhenIdle { wakeup.signal() }
    }

    /// Runs until shutdown was requested and every running job was finished or released, or the task is cancelled;
    /// with ``JobRunnerConfiguration/exitWhenIdle``, also once the queue is idle.
    func run() async {
        observer.prepare(kinds: registry.kinds)
        observer.capacityChanged(by: configuration.concurrency)
        defer { observer.capacityChanged(by: -configuration.concurrency) }
        logger.info(
            "job runner started",
            metadata: [
                "job.concurrency": "\(configuration.concurrency)",
                "job.database_concurrency": "\(databaseConcurrency)",
                "job.kinds": "\(registry.kinds.joined(separator: ","))",
                "job.listen": "\(configuration.listen)",
            ]
        )
        await withDiscardingTaskGroup { background in
            if configuration.listen {
                background.addTask { await self.listen() }
            }
            background.addTask { await self.heartbeat() }
            background.addTask { await self.probeFloor() }
            background.addTask { await self.watchTimeouts() }
            await withDiscardingTaskGroup { flusher in
                flusher.addTask {
                    await self.completer.run(onScheduled: self.arm(after:), onIdle: self.completionsWritten)
                }
                await self.runHandlers()
                self.completer.close()
            }
            background.cancelAll()
        }
        await bookkeeping.pool.close()
        logger.info("job runner stopped")
    }

    // MARK: - Dispatch

    /// Runs the dispatch loop and the handlers' group, and returns once every handler returned, or once the drain
    /// gave up on handlers that ignore cancellation (``abandonStragglers()``), or when cancelled.
    ///
    /// The group runs in a task of its own, awaited here, because a structured scope cannot end before its children
    /// do: a handler stuck in a non-cancellable wait would otherwise hold shutdown forever. An abandoned handler
    /// keeps running detached until the process exits; nothing it reports is recorded.
    private func runHandlers() async {
        let group = Task {
            await withDiscardingTaskGroup { handlers in
                await self.dispatch(into: &handlers)
            }
            self.state.withLock { $0.handlersEnded = true }
            self.handlersDone.signal()
        }
        await withTaskCancellationHandler {
            while !Task.isCancelled, !state.withLock({ $0.handlersEnded || $0.abandoned }) {
                await handlersDone.wait(until: nil)
            }
        } onCancel: {
            group.cancel()
        }
    }

    private func dispatch(into handlers: inout DiscardingTaskGroup) async {
        var nextPoll = ContinuousClock.now
        var failures = 0
        var orphansPossible = false
        while !Task.isCancelled, !state.withLock({ $0.shutdownRequested }) {
            let now = ContinuousClock.now
            let pollDue = now >= nextPoll
            if pollDue { nextPoll = now + configuration.pollInterval }
            var failure: RepositoryError?

            // exitWhenIdle: with nothing running and every completion written (checked in this order: a handler
            // queues its completion before it leaves `running`), this turn promotes and claims; finding nothing
            // due and nothing ready ends the runner.
            var idleCheck = false
            if configuration.exitWhenIdle, state.withLock({ $0.running.isEmpty }), completer.isIdle {
                idleCheck = true
                state.withLock { state in
                    state.promoteRequested = true
                    state.claimRequested = true
                }
            }
            var foundWork = false

            let promote = state.withLock { state -> Bool in
                guard state.promoteRequested || pollDue || state.nextDue.map({ $0 <= now }) == true else {
                    return false
                }
                state.promoteRequested = false
                state.nextDue = nil
                return true
            }
            if promote {
                switch await bookkeeping.withJobs({
                    await $0.promoteDue(limit: configuration.promotionBatchSize, queue: configuration.queue)
                }) {
                case .success(let result):
                    let now = ContinuousClock.now
                    if result.promoted > 0 { foundWork = true }
                    let wakeProbe = state.withLock { state -> Bool in
                        if let next = result.nextDue { state.nextDue = min(state.nextDue ?? now + next, now + next) }
                        if result.promoted >= configuration.promotionBatchSize { state.promoteRequested = true }
                        guard let earliest = result.earliest else { return false }
                        state.claimRequested = true
                        // Promoted rows sort by their (past) run_at: the floor comes down to where they start.
                        return state.changeFloors { $0.ready(at: earliest) }
                    }
                    if wakeProbe { probeWakeup.signal() }
                    reportProgress()
                case .failure(let error):
                    state.withLock { $0.promoteRequested = true }
                    failure = error
                }
            }

            if failure == nil, orphansPossible {
                // Running first, then unwritten: a handler queues its completion before it leaves `running`.
                let running = state.withLock { Array($0.running.keys) }
                let known = running + completer.unwrittenAttempts.map(\.id)
                switch await bookkeeping.withJobs({
                    await $0.releaseOrphans(workerID: configuration.workerID, known: known)
                }) {
                case .success(let released):
                    orphansPossible = false
                    if !released.isEmpty {
                        logger.notice(
                            "gave back jobs claimed by a statement whose answer was lost",
                            metadata: ["job.ids": "\(released)"]
                        )
                        // They are ready again below the claim floor.
                        let wakeProbe = state.withLock { state -> Bool in
                            state.claimRequested = true
                            return state.changeFloors { $0.requestProbe() }
                        }
                        if wakeProbe { probeWakeup.signal() }
                    }
                case .failure(let error):
                    failure = error
                }
            }

            if failure == nil, let (plan, floor) = claimPlan(pollDue: pollDue) {
                let claimSent = ContinuousClock.now
                let result = await bookkeeping.withJobs {
                    await $0.claim(
                        queue: configuration.queue,
                        limit: plan.limit,
                        workerID: configuration.workerID,
                        lease: configuration.lease,
                        kinds: plan.kinds,
                        from: floor.map { ($0.priority, $0.runAt) }
                    )
                }
                switch result {
                case .success(let jobs):
                    if !jobs.isEmpty { foundWork = true }
                    observer.claimed(count: jobs.count)
                    let wakeProbe = state.withLock { state -> Bool in
                        state.backlog = jobs.count >= plan.limit
                        if state.backlog { state.claimRequested = true }
                        state.mix = state.mix.after(
                            plan, claimed: jobs.count,
                            usingDatabase: jobs.count { registry.entry(for: $0.kind)?.usesDatabase ?? false })
                        return state.changeFloors { $0.claimReturned(jobs, kinds: plan.kinds, at: .now) }
                    }
                    if wakeProbe { probeWakeup.signal() }
                    for job in jobs { start(job, claimSent: claimSent, in: &handlers) }
                    reportProgress()
                case .failure(let error):
                    let wakeProbe = state.withLock { state -> Bool in
                        state.claimRequested = true
                        return state.changeFloors { $0.claimFailed() }
                    }
                    if wakeProbe { probeWakeup.signal() }
                    // The claim may have committed with its answer lost: look for orphans before claiming again.
                    orphansPossible = true
                    failure = error
                }
            }

            if let failure {
                failures += 1
                observer.databaseFailed(failure)
                if failures == 1 {
                    logger.error("cannot claim jobs; retrying with backoff", metadata: ["error": "\(failure)"])
                } else {
                    logger.debug("still cannot claim jobs", metadata: ["error": "\(failure)"])
                }
                // Notifications and finished handlers must not cut the backoff short; only shutdown does.
                let retryAt = ContinuousClock.now + Self.backoff(failures: failures, configuration: configuration)
                while ContinuousClock.now < retryAt, !Task.isCancelled, !state.withLock({ $0.shutdownRequested }) {
                    await wakeup.wait(until: retryAt)
                }
                continue
            }
            if failures > 0 {
                logger.info("claiming jobs again after database errors", metadata: ["job.failures": "\(failures)"])
                failures = 0
            }
            if idleCheck, !foundWork {
                logger.info("the queue is idle; the runner stops (exitWhenIdle)")
                break
            }

            let allWritten = configuration.exitWhenIdle && completer.isIdle
            let (busy, deadline) = state.withLock { state -> (Bool, ContinuousClock.Instant) in
                let now = ContinuousClock.now
                let busy =
                    (state.claimRequested && claimable(&state, at: now)) || state.promoteRequested
                    || state.shutdownRequested || state.nextDue.map { $0 <= now } == true
                    || (allWritten && state.running.isEmpty)
                var deadline = min(nextPoll, state.nextDue ?? nextPoll)
                if let due = ClaimPlan.backlogWaitEnds(
                    requested: state.claimRequested, capacity: capacity(state), backlog: state.backlog,
                    lastClaim: state.lastClaim)
                {
                    deadline = min(deadline, due)
                }
                return (busy, deadline)
            }
            if !busy { await wakeup.wait(until: deadline) }
        }
        await drain(&handlers)
    }

    /// The next claim (``ClaimPlan``) and its floor (nil: from the front; see ``ClaimFloor``), or nil when no claim
    /// is due or no capacity is free.
    private func claimPlan(pollDue: Bool) -> (plan: ClaimPlan, floor: ClaimFloor?)? {
        let (next, wakeProbe) = state.withLock { state -> ((plan: ClaimPlan, floor: ClaimFloor?)?, Bool) in
            let now = ContinuousClock.now
            if pollDue { state.claimRequested = true }
            // Without LISTEN nothing reports rows below the floor: every poll probes below it.
            let wakeProbe = !configuration.listen && pollDue && state.changeFloors { $0.requestProbe() }
            guard
                let plan = ClaimPlan.next(
                    requested: state.claimRequested, pollDue: pollDue, capacity: capacity(state),
                    runningByKind: state.runningByKind, kinds: claimKinds, backlog: state.backlog,
                    lastClaim: state.lastClaim, now: now)
            else { return (nil, wakeProbe) }
            state.claimRequested = false
            state.lastClaim = now
            var floor: ClaimFloor?
            let claimWakes = state.changeFloors { floor = $0.claimSent(kinds: plan.kinds, at: now) }
            return ((plan, floor), wakeProbe || claimWakes)
        }
        if wakeProbe { probeWakeup.signal() }
        return next
    }

    /// Whether a claim may run now (``ClaimPlan/isClaimable(capacity:backlog:lastClaim:now:)``).
    private func claimable(_ state: inout State, at now: ContinuousClock.Instant = .now) -> Bool {
        ClaimPlan.isClaimable(capacity: capacity(state), backlog: state.backlog, lastClaim: state.lastClaim, now: now)
    }

    /// What the runner can start now (``ClaimCapacity``).
    private func capacity(_ state: State) -> ClaimCapacity {
        ClaimCapacity(
            concurrency: configuration.concurrency, running: state.running.count,
            databaseConcurrency: databaseConcurrency, runningUsingDatabase: state.runningUsingDatabase,
            mix: state.mix)
    }

    private func reportProgress() {
        observer.pollSucceeded(at: Date())
    }

    /// Starts a handler for a claimed job, or releases the job at once (its attempt given back) when ``Admission``
    /// says so (its kind at its concurrency limit, or no database slot free for a kind that uses the database: one
    /// claim can return more of them than are free) or its kind is not registered here (the claim takes only
    /// registered kinds, so only a job claimed by another path could be one).
    ///
    /// `claimSent` is when the claim statement was sent: the lease it set counts from then (self-fencing).
    private func start(_ job: ClaimedJob, claimSent: ContinuousClock.Instant, in handlers: inout DiscardingTaskGroup) {
        guard let entry = registry.entry(for: job.kind) else {
            logger.warning(
                "claimed a job of a kind this worker does not run; released untouched",
                metadata: ["job.id": "\(job.id)", "job.kind": "\(job.kind)"])
            completer.add(JobCompletion(id: job.id, attempt: job.attempt, outcome: .unclaim))
            return
        }
        let control = JobControl(
            leaseSetAt: claimSent, fenceAfter: configuration.lease - configuration.heartbeatInterval)
        let timeout = entry.timeout ?? configuration.defaultTimeout
        let deadline = timeout.map { ContinuousClock.now + $0 }
        let watched = min(deadline ?? control.fenceDeadline, control.fenceDeadline)
        let maxAttempts = job.maxAttempts ?? entry.maxAttempts ?? configuration.defaultMaxAttempts
        var rearmWatcher = false
        let admitted = state.withLock { state -> Bool in
            let admission = Admission(
                kindLimit: entry.concurrency, runningOfKind: state.runningByKind[job.kind, default: 0],
                usesDatabase: entry.usesDatabase, capacity: capacity(state))
            guard admission == .start else { return false }
            state.running[job.id] = Running(
                attempt: job.attempt, control: control, deadline: deadline, releases: job.releases,
                maxAttempts: maxAttempts)
            state.runningByKind[job.kind, default: 0] += 1
            if entry.usesDatabase { state.runningUsingDatabase += 1 }
            if state.watchedDeadline.map({ watched < $0 }) ?? true {
                state.watchedDeadline = watched
                rearmWatcher = true
            }
            return true
        }
        if rearmWatcher { timeoutWakeup.signal() }
        guard admitted else {
            completer.add(JobCompletion(id: job.id, attempt: job.attempt, outcome: .unclaim))
            return
        }
        observer.inFlightChanged(by: 1)
        observer.started(kind: job.kind, wait: job.wait)
        handlers.addTask {
            await self.execute(job, entry: entry, control: control)
        }
    }

    // MARK: - One attempt

    private func execute(_ job: ClaimedJob, entry: JobRegistry.Entry, control: JobControl) async {
        let start = ContinuousClock.now
        let (completion, outcome) = await attempt(job, entry: entry, control: control)
        let duration = ContinuousClock.now - start
        logger.log(
            level: outcome == .succeeded ? .debug : .info,
            "job finished",
            metadata: [
                "job.id": "\(job.id)", "job.kind": "\(job.kind)", "job.attempt": "\(job.attempt)",
                "job.outcome": "\(outcome?.rawValue ?? "released")",
                "duration_ms": .stringConvertible((duration.seconds * 1000 * 1000).rounded() / 1000),
            ]
        )
        // An abandoned attempt was released already; what it reports late is not recorded.
        if let completion, !state.withLock({ $0.abandoned }) { completer.add(completion) }
        if control.abortReason == .fenced { observer.fenced(kind: job.kind) }
        let wake = state.withLock { state -> Bool in
            if state.running[job.id]?.attempt == job.attempt { state.running[job.id] = nil }
            let left = state.runningByKind[job.kind, default: 1] - 1
            state.runningByKind[job.kind] = left > 0 ? left : nil
            if entry.usesDatabase { state.runningUsingDatabase -= 1 }
            if state.backlog { state.claimRequested = true }
            return (state.claimRequested && claimable(&state))
                || state.shutdownRequested || (configuration.exitWhenIdle && state.running.isEmpty)
        }
        observer.inFlightChanged(by: -1)
        if let outcome { observer.finished(kind: job.kind, outcome: outcome, duration: duration) }
        if wake { wakeup.signal() }
    }

    private func attempt(
        _ job: ClaimedJob,
        entry: JobRegistry.Entry,
        control: JobControl
    ) async -> (JobCompletion?, JobOutcome?) {
        let invocation: JobRegistry.Invocation
        do {
            invocation = try entry.prepare(job.payload)
        } catch {
            logger.error(
                "job payload does not decode; the job is dead",
                metadata: ["job.id": "\(job.id)", "job.kind": "\(job.kind)", "error": "\(error)"]
            )
            return (JobCompletion(id: job.id, attempt: job.attempt, outcome: .dead, error: "\(error)"), .dead)
        }
        let maxAttempts = job.maxAttempts ?? entry.maxAttempts ?? configuration.defaultMaxAttempts
        let context = JobContext(
            id: job.id,
            kind: job.kind,
            queue: job.queue,
            priority: job.priority,
            attempt: job.attempt,
            maxAttempts: maxAttempts,
            runAt: job.runAt,
            createdAt: job.createdAt,
            uniqueKey: job.uniqueKey,
            workerID: configuration.workerID,
            logger: logger,
            holdsLease: { control.holdsLease() }
        )
        let ending = await race(
            invocation, context: context, timeout: entry.timeout ?? configuration.defaultTimeout, control: control)
        // Cancelled from outside the control (the shutdown timeout cancels every handler): release the job.
        let releasing = Task.isCancelled && control.abortReason == nil
        return decide(
            ending, job: job, maxAttempts: maxAttempts, retry: entry.retry, releasing: releasing, context: context)
    }

    /// Runs the handler in this task under its ``JobControl``: an abort (timeout, cancel, lost) cancels the task,
    /// and decides the ending even when the cancelled handler still returned something.
    private func race(
        _ invocation: @escaping JobRegistry.Invocation,
        context: JobContext,
        timeout: Duration?,
        control: JobControl
    ) async -> AttemptOutcome.Ending {
        let handlerEnding = await control.run { () async -> AttemptOutcome.Ending in
            do {
                return .returned(try await invocation(context))
            } catch let error as JobError {
                return .threw(message: error.description, permanent: true)
            } catch {
                return .threw(message: Self.describe(error), permanent: false)
            }
        }
        // A handler that failed once the lease was no longer sure (it may have checked `holdsLease`) was fenced.
        if case .threw = handlerEnding, control.abortReason == nil, !control.holdsLease() { control.abort(.fenced) }
        switch control.abortReason {
        case .timedOut: return .timedOut(timeout ?? .zero)
        case .fenced: return .fenced(control.fenceAfter)
        case .cancelled: return .cancelled
        case .lost: return .lost
        case nil: return handlerEnding
        }
    }

    /// Decides the attempt's completion and outcome (``AttemptOutcome``) and logs what it notes.
    private func decide(
        _ ending: AttemptOutcome.Ending,
        job: ClaimedJob,
        maxAttempts: Int,
        retry: RetryPolicy?,
        releasing: Bool,
        context: JobContext
    ) -> (JobCompletion?, JobOutcome?) {
        var random = SystemRandomNumberGenerator()
        let decided = AttemptOutcome(
            ending, id: job.id, attempt: job.attempt, maxAttempts: maxAttempts,
            retry: retry ?? configuration.retryPolicy,
            releasing: releasing, releases: job.releases, maxReleases: configuration.maxReleases, using: &random)
        switch decided.note {
        case .failedPermanently(let message):
            context.logger.warning("job failed permanently", metadata: ["error": "\(message)"])
        case .failedOnLastAttempt(let message):
            context.logger.warning("job failed on its last attempt", metadata: ["error": "\(message)"])
        case .retrying(let message, let delay):
            context.logger.info("job failed; retrying", metadata: ["error": "\(message)", "job.retry_in": "\(delay)"])
        case .cancelledWhileRunning:
            context.logger.notice("job was cancelled while running; its handler was stopped")
        case .fenced(let after):
            context.logger.warning(
                "this worker could not renew the job's lease; its handler was stopped before the lease can lapse and another worker take the job over (self-fencing)",
                metadata: ["job.fence_after": "\(after)"]
            )
        case .lost:
            context.logger.warning("job is no longer held by this worker (lease lapsed and rescued, or cancelled)")
        case nil:
            break
        }
        return (decided.completion, decided.outcome)
    }

    // MARK: - Background children

    /// Wakes the dispatch loop on NOTIFY; after every (re)connect, claims and promotes in case notifications were
    /// missed.
    private func listen() async {
        let listener: PostgresListener
        do {
            listener = try PostgresListener(
                configuration: configuration.listenConfiguration ?? database.pool.configuration,
                channels: [JobNotification.channel],
                logger: logger
            )
        } catch {
            logger.error("cannot LISTEN; relying on polling", metadata: ["error": "\(error)"])
            return
        }
        for await event in listener.events() {
            switch event {
            case .listening:
                let wakeProbe = state.withLock { state -> Bool in
                    state.claimRequested = true
                    state.promoteRequested = true
                    return state.changeFloors { $0.requestProbe() }  // notifications may have been missed
                }
                if wakeProbe { probeWakeup.signal() }
                wakeup.signal()
            case .notification(_, let payload):
                guard let notification = JobNotification(payload: payload) else { continue }
                if let id = notification.cancel { abort(id, attempt: nil, reason: .cancelled) }
                let (wake, wakeProbe) = state.withLock { state -> (Bool, Bool) in
                    var wake = false
                    var wakeProbe = false
                    if notification.queue == configuration.queue, (notification.available ?? 0) > 0 {
                        wakeProbe = state.changeFloors { $0.notified(notification) }
                        state.claimRequested = true
                        wake = state.running.count < configuration.concurrency
                    }
                    if (notification.scheduled ?? 0) > 0 {
                        state.promoteRequested = true
                        wake = true
                    }
                    return (wake, wakeProbe)
                }
                if wakeProbe { probeWakeup.signal() }
                if wake { wakeup.signal() }
            }
        }
    }

    /// Runs the claim floor's probes (``ClaimFloorTracker``) on the runner's own pool, beside the dispatch loop: each
    /// reads the smallest ready key below the floor and lowers the floor to it, and the dispatch loop then claims.
    /// Sleeps until the next probe is due (``probeWakeup`` wakes it when one became due earlier); after a failed
    /// probe it waits as the dispatch loop does after database errors.
    private func probeFloor() async {
        var failures = 0
        while !Task.isCancelled {
            let (floor, next) = state.withLock { state -> (ClaimFloor?, ContinuousClock.Instant?) in
                let floor = state.floors.probeSent(at: .now)
                return (floor, floor == nil ? state.floors.nextProbe() : nil)
            }
            guard let floor else {
                await probeWakeup.wait(until: next)
                continue
            }
            let result = await bookkeeping.withJobs {
                await $0.probeBelowFloor(queue: configuration.queue, floor: floor)
            }
            switch result {
            case .success(let key):
                failures = 0
                let lowered = state.withLock { state -> Bool in
                    guard state.floors.probeReturned(key, at: .now) else { return false }
                    state.claimRequested = true
                    return true
                }
                if lowered { wakeup.signal() }
            case .failure(let error):
                state.withLock { $0.floors.probeFailed(at: .now) }
                if Task.isCancelled { return }
                failures += 1
                observer.databaseFailed(error)
                if failures == 1 {
                    logger.warning(
                        "cannot probe for ready jobs below the claim floor; retrying with backoff",
                        metadata: ["error": "\(error)"])
                }
                do {
                    try await Task.sleep(for: Self.backoff(failures: failures, configuration: configuration))
                } catch { return }
            }
        }
    }

    /// Renews the leases of running and not yet written attempts; stops handlers of jobs this worker lost.
    private func heartbeat() async {
        var failing = false
        while true {
            do { try await Task.sleep(for: configuration.heartbeatInterval) } catch { return }
            let running = state.withLock { state in
                state.running.map { (id: $0.key, attempt: $0.value.attempt, control: $0.value.control) }
            }
            let attempts = running.map { (id: $0.id, attempt: $0.attempt) } + completer.unwrittenAttempts
            guard !attempts.isEmpty else { continue }
            let sent = ContinuousClock.now
            let result = await bookkeeping.withJobs {
                await $0.heartbeat(attempts, workerID: configuration.workerID, lease: configuration.lease)
            }
            switch result {
            case .success(let held):
                if failing { logger.info("lease renewals succeed again") }
                failing = false
                for entry in running {
                    if held.contains(entry.id) {
                        entry.control.leaseRenewed(sentAt: sent)
                    } else {
                        abort(entry.id, attempt: entry.attempt, reason: .lost)
                    }
                }
            case .failure(let error):
                observer.databaseFailed(error)
                if !failing {
                    logger.error(
                        "cannot renew job leases; handlers stop once their lease is no longer sure (self-fencing) and other workers take the jobs over once the leases lapse",
                        metadata: [
                            "error": "\(error)", "job.lease": "\(configuration.lease)",
                            "job.fence_after": "\(configuration.lease - configuration.heartbeatInterval)",
                        ]
                    )
                }
                failing = true
            }
        }
    }

    /// Aborts attempts past their deadline (`.timedOut`) or past their fence deadline (`.fenced`: the lease was not
    /// renewed for the lease less one heartbeat interval). Sleeps until the earliest deadline of the running
    /// attempts (renewals move fence deadlines later; the watcher then wakes once early and recomputes); ``start``
    /// wakes it only when an attempt begins with an earlier deadline, which is rare (later attempts get later
    /// deadlines), so no per-attempt timer task exists and finished attempts cost nothing here.
    private func watchTimeouts() async {
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let (expired, next) = state.withLock {
                state -> ([(JobControl, JobControl.AbortReason)], ContinuousClock.Instant?) in
                var expired: [(JobControl, JobControl.AbortReason)] = []
                var next: ContinuousClock.Instant?
                for running in state.running.values where running.control.abortReason == nil {
                    let fence = running.control.fenceDeadline
                    if let deadline = running.deadline, deadline <= now {
                        expired.append((running.control, .timedOut))
                    } else if fence <= now {
                        expired.append((running.control, .fenced))
                    } else {
                        let deadline = min(running.deadline ?? fence, fence)
                        next = min(next ?? deadline, deadline)
                    }
                }
                state.watchedDeadline = next
                return (expired, next)
            }
            for (control, reason) in expired { control.abort(reason) }
            await timeoutWakeup.wait(until: next)
        }
    }

    private func abort(_ id: Int64, attempt: Int?, reason: JobControl.AbortReason) {
        let control = state.withLock { state -> JobControl? in
            guard let running = state.running[id], attempt == nil || running.attempt == attempt else { return nil }
            return running.control
        }
        control?.abort(reason)
    }

    // MARK: - Shutdown

    /// Waits for running jobs up to the shutdown timeout, then cancels the rest (they are released).
    private func drain(_ handlers: inout DiscardingTaskGroup) async {
        let count = state.withLock { $0.running.count }
        guard count > 0, !Task.isCancelled else { return }
        let deadline = ContinuousClock.now + configuration.shutdownTimeout
        logger.info(
            "shutting down: waiting for running jobs",
            metadata: ["job.running": "\(count)", "job.shutdown_timeout": "\(configuration.shutdownTimeout)"]
        )
        while state.withLock({ $0.running.count }) > 0, ContinuousClock.now < deadline, !Task.isCancelled {
            await wakeup.wait(until: deadline)
        }
        let left = state.withLock { $0.running.count }
        if left > 0 {
            logger.warning(
                "cancelling jobs still running at the shutdown timeout; they are released without spending an attempt",
                metadata: ["job.running": "\(left)"]
            )
            handlers.cancelAll()
            let grace = ContinuousClock.now + Self.cancellationGrace
            while state.withLock({ $0.running.count }) > 0, ContinuousClock.now < grace, !Task.isCancelled {
                await wakeup.wait(until: grace)
            }
            abandonStragglers()
        }
    }

    /// How long cancelled handlers get to return at the shutdown timeout before they are abandoned.
    static let cancellationGrace = Duration.seconds(1)

    /// Releases the jobs whose handlers ignored cancellation and lets ``runHandlers()`` return without them.
    private func abandonStragglers() {
        let stragglers = state.withLock { state -> [(id: Int64, running: Running)] in
            guard !state.running.isEmpty else { return [] }
            state.abandoned = true
            return state.running.map { ($0.key, $0.value) }
        }
        guard !stragglers.isEmpty else { return }
        logger.error(
            "handlers ignored cancellation at the shutdown timeout; their jobs are released and the handlers abandoned",
            metadata: [
                "job.ids": "\(stragglers.map(\.id))",
                "job.cancellation_grace": "\(Self.cancellationGrace)",
            ]
        )
        for (id, running) in stragglers {
            let note =
                "the handler ignored cancellation for \(Self.cancellationGrace) after the shutdown timeout and was abandoned"
            let completion: JobCompletion
            if running.releases < configuration.maxReleases {
                completion = JobCompletion(
                    id: id, attempt: running.attempt, outcome: .release, error: "released at shutdown: \(note)")
            } else {
                let message = AttemptOutcome.interruptedAtShutdown(releases: running.releases) + "; \(note)"
                completion =
                    running.attempt >= running.maxAttempts
                    ? JobCompletion(
                        id: id, attempt: running.attempt, outcome: .dead,
                        error: "\(message) (attempt \(running.attempt) of \(running.maxAttempts), none left)")
                    : JobCompletion(
                        id: id, attempt: running.attempt, outcome: .retry,
                        delay: configuration.retryPolicy.delay(afterAttempt: running.attempt), error: message)
            }
            completer.add(completion)
        }
        handlersDone.signal()
    }

    // MARK: - Helpers

    /// The wait after `failures` consecutive database errors: doubling from the base, capped.
    static func backoff(failures: Int, configuration: JobRunnerConfiguration) -> Duration {
        let factor = Double(sign: .plus, exponent: min(max(failures - 1, 0), 30), significand: 1)
        let seconds = min(configuration.databaseBackoff.seconds * factor, configuration.maxDatabaseBackoff.seconds)
        return .milliseconds(Int64(seconds * 1000))
    }

    /// A readable one-line description of a thrown error.
    static func describe(_ error: any Error) -> String {
        if error is CancellationError { return "cancelled" }
        return String(describing: error)
    }
}
