/// How many jobs a runner can start now, and whether jobs that use the database may be among them. Pure: the runner
/// passes what runs; ``ClaimPlan`` and ``Admission`` decide from it.
///
/// A runner has two limits: ``concurrency`` slots for any job, and ``databaseConcurrency`` of them for jobs of kinds
/// that use the database (registered with `usesDatabase`, the default), because those borrow pooled connections
/// while they run: more of them than connections would wait for one another on the pool and time out. Jobs of kinds
/// that need no connection take only the first limit, so they can run at high concurrency.
///
/// A claim is one statement over the registered kinds in queue order, so it cannot ask for "at most d jobs of the
/// database kinds": the capacity estimates it from the mix the last claim brought that could take them
/// (``ClaimMix``: n jobs, d of them using the database; before any claim, all of them): at that mix,
/// `databaseFree × n / d` jobs carry about `databaseFree` database jobs. A queue of
/// jobs that need no connection is claimed a full `concurrency` at a time; a queue of database jobs
/// `databaseFree` at a time. A claim that brings more database jobs than are free (the mix changed) releases the
/// surplus at once (``Admission``), and the next claim is sized by the new mix.
package struct ClaimCapacity: Sendable, Equatable {
    /// The runner's slots.
    package var concurrency: Int
    /// Attempts running now, of every kind.
    package var running: Int
    /// Slots for jobs of kinds that use the database.
    package var databaseConcurrency: Int
    /// Attempts of such kinds running now.
    package var runningUsingDatabase: Int
    /// What the last claim that could take database kinds brought.
    package var mix: ClaimMix

    package init(
        concurrency: Int,
        running: Int = 0,
        databaseConcurrency: Int,
        runningUsingDatabase: Int = 0,
        mix: ClaimMix = .unknown
    ) {
        self.concurrency = concurrency
        self.running = running
        self.databaseConcurrency = databaseConcurrency
        self.runningUsingDatabase = runningUsingDatabase
        self.mix = mix
    }

    /// Free slots.
    package var free: Int { concurrency - running }
    /// Free slots for database jobs.
    package var databaseFree: Int { databaseConcurrency - runningUsingDatabase }

    /// The most jobs a claim may take now, and whether it may take the kinds that use the database.
    ///
    /// - No free slot: none.
    /// - The last claim brought no database job: every free slot; database kinds only while one of theirs is free.
    /// - Otherwise, with a free database slot: the free slots, at most `databaseFree × n / d` (the mix), database
    ///   kinds included.
    /// - Otherwise none: the jobs ahead probably need a connection, and a claim of the other kinds alone would walk
    ///   past all of them in the claim index to find the few that do not (a due poll still does, see
    ///   ``ClaimPlan``).
    package var limit: (jobs: Int, databaseKinds: Bool) {
        guard free > 0 else { return (0, false) }
        if mix.usingDatabase == 0 { return (free, databaseFree > 0) }
        guard databaseFree > 0 else { return (0, false) }
        return (min(free, databaseFree * mix.claimed / mix.usingDatabase), true)
    }

    /// ``limit``'s job count with nothing running: the size of a claim into an idle runner, the measure of the
    /// backlog rule's "half".
    package var idleLimit: Int {
        var idle = self
        idle.running = 0
        idle.runningUsingDatabase = 0
        return idle.limit.jobs
    }
}
