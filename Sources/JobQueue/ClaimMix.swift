/// What the runner's last claim that could take kinds using the database brought: how many jobs, and how many of
/// them use the database. ``ClaimCapacity`` sizes the next claim by it. Pure.
package struct ClaimMix: Sendable, Equatable {
    /// Jobs claimed (at least 1).
    package var claimed: Int
    /// How many of them use the database (0 ... claimed).
    package var usingDatabase: Int

    package init(claimed: Int, usingDatabase: Int) {
        self.claimed = max(1, claimed)
        self.usingDatabase = min(max(0, usingDatabase), self.claimed)
    }

    /// Before any claim: every job is assumed to use the database, so a runner's first claim takes no more than its
    /// free database slots.
    package static let unknown = ClaimMix(claimed: 1, usingDatabase: 1)

    /// The mix after `plan` brought `claimed` jobs, `usingDatabase` of them of kinds that use the database: theirs,
    /// unless the claim could not take such kinds (it tells nothing about them) or brought nothing.
    package func after(_ plan: ClaimPlan, claimed: Int, usingDatabase: Int) -> ClaimMix {
        guard plan.databaseKinds, claimed > 0 else { return self }
        return ClaimMix(claimed: claimed, usingDatabase: usingDatabase)
    }
}
